// The options page: it renders what the worker answers and sends what was
// typed. The worker checks and stores it; keys never come back here (the
// list shows their last four characters).
import init, { permission_pattern } from "./pkg/liftoff_extension.js";

const $ = (sel) => document.querySelector(sel);
let loaded = false;
init({ module_or_path: "pkg/liftoff_extension_bg.wasm" }).then(() => (loaded = true));

const ask = (message) => chrome.runtime.sendMessage(message).then((a) => a ?? { error: "The extension did not answer." });

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v === true ? "" : v);
  }
  e.append(...children.flat().filter((c) => c !== null && c !== undefined));
  return e;
}

function showProblems(form, problems = []) {
  for (const p of form.querySelectorAll("[data-problem]")) {
    const mine = problems.filter((x) => x.path === p.dataset.problem);
    p.textContent = mine.map((x) => x.message).join("; ");
    form.querySelector(`[aria-describedby="${p.id}"]`)?.setAttribute("aria-invalid", mine.length ? "true" : "false");
  }
}

function say(target, text, tone) {
  target.replaceChildren(text ? el("p", { class: tone, text }) : "");
}

function render(view) {
  const body = $("#servers tbody");
  body.replaceChildren(
    ...view.servers.map((s) =>
      el("tr", { "data-server": s.base_url },
        el("td", { class: "mono", "data-label": "Base URL" }, el("a", { href: s.web_url, target: "_blank", rel: "noopener", text: s.base_url })),
        el("td", { class: "mono", "data-label": "API key", text: s.key_hint }),
        statusCell(s.base_url),
        el("td", { "data-label": "wandb.ai pages use it" }, el("input", {
          type: "radio", name: "for-wandb", checked: s.for_wandb, "aria-label": `wandb.ai pages use ${s.base_url}`,
          onchange: async () => render((await ask({ kind: "use_for_wandb", base_url: s.base_url })).ok ?? view),
        })),
        el("td", {}, el("button", {
          type: "button", class: "link", "aria-label": `Remove ${s.base_url}`, text: "Remove",
          onclick: async () => {
            const answer = await ask({ kind: "remove_server", base_url: s.base_url });
            // Host permissions are per host, not per port: keep one another server still needs.
            const left = answer.ok?.servers ?? [];
            if (s.permission && !left.some((o) => o.permission === s.permission)) {
              await chrome.permissions.remove({ origins: [s.permission] }).catch(() => {});
            }
            render(answer.ok ?? view);
            if (answer.ok) {
              // What the add form last said about it is about a server gone now.
              if ($("#add-status").textContent.includes(s.base_url)) $("#add-status").replaceChildren();
              offerUndo(s);
            }
          },
        })),
      ),
    ),
  );
  $("#servers").hidden = view.servers.length === 0;
  $("#no-servers").hidden = view.servers.length > 0;
  $("#default-entity").value = view.default_entity;
  $("#default-queue").value = view.default_queue;
}

/** Say that `removed` went, with a button that puts it back (key and all). */
function offerUndo(removed) {
  const status = $("#servers-status");
  const undo = el("button", { type: "button", class: "link", text: "Undo", onclick: async () => {
    // Its host permission may have gone with it: ask again (this click is a gesture).
    if (removed.permission) {
      const granted = await chrome.permissions.request({ origins: [removed.permission] }).catch(() => false);
      if (!granted) return say(status, `Liftoff needs access to ${removed.permission} to put ${removed.base_url} back.`, "warn");
    }
    const answer = await ask({ kind: "undo_remove" });
    if (answer.error) return say(status, answer.error, "warn");
    render(answer.ok);
    say(status, `${removed.base_url} is back.`, "ok");
    // The Undo button is gone: the focus goes to the server that came back.
    document.querySelector(`button[aria-label="Remove ${CSS.escape(removed.base_url)}"]`)?.focus();
  } });
  status.replaceChildren(el("p", { class: "ok" }, `Removed ${removed.base_url} and its key. `, undo));
  undo.focus();
}

// Each server's status, asked once per page (again after its key is saved);
// an answer that a newer question overtook is dropped.
const statuses = new Map();
let asked = 0;

function statusCell(base_url) {
  const cell = el("td", { "data-status": "checking", "data-label": "Status", text: "Checking…" });
  const known = statuses.get(base_url);
  if (known?.answer) showStatus(cell, known.answer);
  else if (!known) checkServer(base_url);
  return cell;
}

function showStatus(cell, r) {
  cell.dataset.status = r.who ? "ok" : "error";
  cell.textContent = r.who ? `Connected as ${r.who}` : r.error;
}

async function checkServer(base_url) {
  const mine = ++asked;
  statuses.set(base_url, { asked: mine });
  const answer = await ask({ kind: "server_status", base_url });
  if (statuses.get(base_url)?.asked !== mine) return;
  const r = answer.ok ?? { error: answer.error };
  statuses.set(base_url, { asked: mine, answer: r });
  const cell = [...document.querySelectorAll("#servers tr[data-server]")].find((row) => row.dataset.server === base_url)?.querySelector("[data-status]");
  if (cell) showStatus(cell, r);
}

$("#add").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = ev.currentTarget;
  const status = $("#add-status");
  const base_url = $("#base-url").value;
  // Ask for the host permission while the click still counts as a gesture.
  const pattern = loaded ? permission_pattern(base_url) : null;
  if (pattern) {
    const granted = await chrome.permissions.request({ origins: [pattern] }).catch(() => false);
    if (!granted) {
      say(status, `Liftoff needs access to ${pattern} to call this server and to add its buttons there. Nothing was saved.`, "warn");
      return;
    }
  }
  const answer = await ask({ kind: "add_server", base_url, api_key: $("#api-key").value });
  showProblems(form, answer.problems);
  if (answer.error) return say(status, answer.problems?.length ? "" : answer.error, "warn");
  // Its key may have changed: ask again (every server, as the saved address
  // is the normalized one).
  statuses.clear();
  render(answer.ok);
  $("#api-key").value = "";
  if (answer.ok.warning) say(status, answer.ok.warning, "warn");
  else say(status, answer.ok.who, "ok");
});

$("#defaults").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = ev.currentTarget;
  const answer = await ask({ kind: "save_defaults", entity: $("#default-entity").value, queue: $("#default-queue").value });
  showProblems(form, answer.problems);
  if (answer.error) return say($("#defaults-status"), answer.problems?.length ? "" : answer.error, "warn");
  render(answer.ok);
  say($("#defaults-status"), "Saved.", "ok");
});

ask({ kind: "settings" }).then((answer) => {
  if (answer.ok) render(answer.ok);
  else say($("#add-status"), answer.error, "warn");
});

// A field's problem goes as soon as the field is edited.
for (const form of [$("#add"), $("#defaults")]) {
  form.addEventListener("input", (ev) => {
    const id = ev.target.getAttribute("aria-describedby");
    if (!id) return;
    document.getElementById(id).textContent = "";
    ev.target.setAttribute("aria-invalid", "false");
  });
}
