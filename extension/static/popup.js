// The popup: who each server says you are, and the items launched from the
// extension with their status now. It renders the worker's answer only.
const $ = (sel) => document.querySelector(sel);

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v);
  }
  e.append(...children.flat().filter((c) => c !== null && c !== undefined));
  return e;
}

$("#version").textContent = `v${chrome.runtime.getManifest().version}`;
$("#options").addEventListener("click", (ev) => {
  ev.preventDefault();
  chrome.runtime.openOptionsPage();
});

// Read again while the popup is open, so statuses move as the items run;
// drawn again only when something changed (a redraw would drop the focus).
let last = null;
async function refresh() {
  const answer = await chrome.runtime.sendMessage({ kind: "popup" }).catch((e) => ({ error: String(e) }));
  const seen = JSON.stringify(answer);
  if (seen === last) return;
  last = seen;
  // The focus stays on the item it was on.
  const focused = document.activeElement?.closest("li[data-item]")?.dataset.item;
  draw(answer);
  if (focused) document.querySelector(`li[data-item="${CSS.escape(focused)}"] a`)?.focus();
}
refresh();
setInterval(refresh, 4000);

function draw(answer) {
  if (!answer?.ok) {
    $("#servers").replaceChildren(el("li", { class: "warn", text: answer?.error ?? "The extension did not answer." }));
    return;
  }
  const { servers, items } = answer.ok;
  $("#servers").replaceChildren(
    ...(servers.length
      ? servers.map((s) =>
          el("li", { "data-server": s.base_url },
            s.who
              ? el("span", {}, el("span", { class: "dot", "aria-hidden": "true" }), "Connected as ", el("strong", { text: s.who }), " on ",
                  el("a", { href: s.web_url, target: "_blank", rel: "noopener", text: s.base_url }))
              : el("span", {}, el("span", { class: "dot bad", "aria-hidden": "true" }), el("span", { text: s.error })),
          ),
        )
      : [el("li", { class: "muted" }, "No server yet: add one in the ", el("a", { href: "options.html", target: "_blank", text: "options" }), ".")]),
  );
  $("#items").replaceChildren(
    ...items.map((i) =>
      el("li", { "data-item": i.item_id },
        el("a", { class: "what", href: i.link, target: "_blank", rel: "noopener", title: i.job_path, text: i.job }),
        el("span", { class: `chip ${i.tone}`, "data-status": i.status, title: i.status_note, text: i.status }),
        el("span", { class: "where", text: [i.run && `run ${i.run}`, i.queue, `to ${i.destination}`, i.when].filter(Boolean).join(" · ") }),
        // Idle is the one status people ask about: say it where it shows.
        i.status === "Idle" ? el("span", { class: "where", text: i.status_note }) : null,
        // A failure says why on its row (the server's error, in one line).
        i.error ? el("span", { class: "error", title: i.error, text: i.error }) : null,
      ),
    ),
  );
  $("#no-items").hidden = items.length > 0;
}
