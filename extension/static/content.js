// Liftoff's content script, thin on purpose: it asks the service worker what
// this page is and what to show (the worker's Rust core recognises URLs,
// builds the Launch drawer, checks input with the web app's rules and makes
// every API call with a key this script never sees), then draws buttons,
// status chips and the drawer inside shadow roots the page's styles cannot
// reach. It follows single-page navigation (history changes and DOM
// mutations), injects once per target, removes what it added when the page
// changes, and falls back to a floating button when the page's DOM has no
// place for one. It never changes the page's own elements.
(() => {
  if (globalThis.__liftoffContent) return;
  globalThis.__liftoffContent = true;

  const STYLE = `
    :host { all: initial; }
    * { box-sizing: border-box; font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; }
    .inline { display: inline-flex; align-items: center; gap: 6px; margin: 0 8px; vertical-align: middle; }
    .btn { font: 600 13px/1 system-ui, sans-serif; padding: 6px 10px; border-radius: 6px; cursor: pointer;
           border: 1px solid #1b1d23; background: #1b1d23; color: #fff; display: inline-flex; align-items: center; gap: 6px; }
    .btn:hover { background: #3d4250; }
    .btn:focus-visible, a:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible, button:focus-visible
      { outline: 2px solid #2f6fdb; outline-offset: 2px; }
    .btn.secondary { background: #fff; color: #1b1d23; border-color: #d2d5dc; }
    .btn[disabled], .btn[aria-disabled="true"] { opacity: .6; cursor: progress; }
    .mark { width: 8px; height: 8px; border-radius: 50%; background: #ffbe0b; box-shadow: 0 0 0 2px rgb(255 190 11 / 30%); }
    .floating { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; display: flex; flex-direction: column; align-items: flex-end; gap: 8px; }
    .floating .btn { box-shadow: 0 4px 14px rgb(0 0 0 / 25%); font-size: 14px; padding: 9px 14px; }
    .chip { font: 600 11px/1 system-ui, sans-serif; padding: 4px 8px; border-radius: 999px; text-decoration: none; white-space: nowrap; }
    .chip.active { background: #e8f0fd; color: #2f6fdb; }
    .chip.done { background: #e4f5ea; color: #1d8a4e; }
    .chip.failed { background: #fdecea; color: #c8372d; }
    .panel { background: #fff; color: #1b1d23; border: 1px solid #e3e5ea; border-radius: 10px; box-shadow: 0 8px 30px rgb(0 0 0 / 18%);
             padding: 12px 14px; width: 340px; font-size: 13px; }
    .panel h3 { margin: 0 0 8px; font-size: 13px; }
    .panel[hidden] { display: none; }
    .panel .error { display: block; color: #c8372d; font-size: 12px; overflow-wrap: anywhere; }
    .panel ul { list-style: none; margin: 0; padding: 0; }
    .panel li { display: flex; justify-content: space-between; align-items: flex-start; gap: 8px; padding: 5px 0; border-top: 1px solid #f0f1f4; }
    .panel li .chip { flex: none; }
    .muted { color: #6b7080; }
    .scrim { position: fixed; inset: 0; background: rgb(16 24 40 / 35%); z-index: 2147483600; }
    .drawer { position: fixed; top: 0; right: 0; bottom: 0; width: min(520px, 100vw); background: #fff; color: #1b1d23;
              z-index: 2147483601; display: flex; flex-direction: column; box-shadow: -8px 0 30px rgb(0 0 0 / 18%); font-size: 14px; line-height: 1.45; }
    .drawer > header { display: flex; align-items: flex-start; justify-content: space-between; gap: 12px; padding: 14px 20px 10px; border-bottom: 1px solid #e3e5ea; }
    .drawer h2 { margin: 0; font-size: 17px; }
    .fields { display: flex; flex-direction: column; gap: 10px; }
    .drawer .who { margin: 2px 0 0; font-size: 12px; color: #6b7080; }
    .drawer .close { border: 0; background: none; font-size: 22px; line-height: 1; cursor: pointer; color: #3d4250; padding: 2px 6px; border-radius: 6px; }
    .body { padding: 14px 20px 28px; overflow-y: auto; flex: 1; }
    form { display: flex; flex-direction: column; gap: 12px; }
    .field { display: flex; flex-direction: column; gap: 4px; }
    .row { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
    label, legend { font-weight: 600; font-size: 13px; color: #3d4250; }
    .hint { font-weight: 400; color: #6b7080; margin-left: 6px; font-size: 12px; }
    .req { color: #c8372d; margin-left: 2px; }
    input[type=text], select, textarea { font: 14px system-ui, sans-serif; padding: 7px 9px; border: 1px solid #d2d5dc; border-radius: 6px; background: #fff; color: #1b1d23; width: 100%; }
    textarea { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; font-size: 13px; }
    select[disabled] { background: #f6f7f9; color: #6b7080; }
    input[aria-invalid=true], select[aria-invalid=true], textarea[aria-invalid=true] { border-color: #c8372d; background: #fffafa; }
    fieldset { border: 1px solid #e3e5ea; border-radius: 8px; padding: 10px 12px 12px; margin: 0; display: flex; flex-direction: column; gap: 10px; }
    .note { margin: 0; font-size: 12px; color: #6b7080; }
    .note:empty { display: none; }
    .check { display: inline-flex; gap: 6px; align-items: center; font-weight: 400; }
    .error { color: #c8372d; font-size: 12px; margin: 0; min-height: 0; }
    .error:empty { display: none; }
    .notice { background: #fff4dc; border: 1px solid #f5d9a0; color: #6b3d00; border-radius: 8px; padding: 8px 10px; margin: 0; font-size: 13px; }
    .draft-note { margin: 0; font-size: 13px; color: #3d4250; }
    .link { border: 0; background: none; padding: 0; color: #2453c4; text-decoration: underline; cursor: pointer; font: inherit; }
    .alert { background: #fdecea; border: 1px solid #f3c2bd; color: #7d1d16; border-radius: 8px; padding: 10px 12px; margin: 0; font-size: 13px; }
    .diff { border: 1px solid #e3e5ea; border-radius: 8px; padding: 8px 12px; }
    .diff h3 { margin: 0 0 6px; font-size: 13px; }
    .diff ul { margin: 0; padding: 0; list-style: none; font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; font-size: 12px; }
    .diff li { padding: 2px 0; }
    .diff del { color: #c8372d; background: #fdecea; text-decoration: line-through; padding: 0 3px; border-radius: 3px; }
    .diff ins { color: #1d8a4e; background: #e4f5ea; text-decoration: none; padding: 0 3px; border-radius: 3px; }
    .actions { display: flex; justify-content: flex-end; gap: 8px; padding: 10px 0 14px; position: sticky; bottom: -28px; background: #fff;
               border-top: 1px solid #e3e5ea; }
    .loading { color: #6b7080; padding: 20px 0; }
    .toast { position: fixed; right: 20px; bottom: 20px; left: auto; max-width: calc(100vw - 40px); z-index: 2147483602; background: #1b1d23; color: #fff; border-radius: 8px;
             padding: 10px 14px; box-shadow: 0 8px 30px rgb(0 0 0 / 25%); font-size: 13px; display: flex; gap: 12px; align-items: center; }
    .toast a { color: #ffbe0b; }
    .toast button { background: none; border: 0; color: #d9dbe1; cursor: pointer; font-size: 16px; }
  `;

  // ---- talking to the worker ------------------------------------------------

  async function ask(message) {
    try {
      const answer = await chrome.runtime.sendMessage(message);
      return answer ?? { error: "The Liftoff extension did not answer." };
    } catch (e) {
      return { error: `The Liftoff extension is not reachable (${e.message}): reload the page.` };
    }
  }

  // ---- DOM helpers ------------------------------------------------------------

  function h(tag, attrs = {}, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else if (k === "text") el.textContent = v;
      else el.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c);
    return el;
  }

  let sheet = null;
  /** A host element with an open shadow root styled by STYLE (the page's CSS cannot reach in). */
  function shadowHost(tag = "span") {
    const host = document.createElement(tag);
    host.setAttribute("data-liftoff", "");
    const root = host.attachShadow({ mode: "open" });
    try {
      sheet ??= new CSSStyleSheet();
      if (!sheet.cssRules.length) sheet.replaceSync(STYLE);
      root.adoptedStyleSheets = [sheet];
    } catch {
      root.append(h("style", { text: STYLE }));
    }
    return { host, root };
  }

  const isOurs = (el) => !!el.closest?.("[data-liftoff]");

  // ---- what is on the page ------------------------------------------------------

  let current = null; // the page's path when last recognised
  let page = null; // the worker's answer: { kind, entity, project, ... }
  let site = null; // "wandb" or "liftoff"
  // Liftoff's own pages have their own Launch buttons: ours are named apart.
  const named = (label) => (site === "liftoff" ? `${label} with the extension` : label);
  const added = new Map(); // key -> { host, root, anchor, target, chip }
  const classified = new WeakMap(); // <a> -> job target or null
  let floating = null;

  function removeAll() {
    for (const { host } of added.values()) host.remove();
    added.clear();
    floating?.host.remove();
    floating = null;
  }

  function chipFor(root, item) {
    root.querySelector(".chip")?.remove();
    if (!item) return;
    const chip = h("a", {
      class: `chip ${item.tone}`,
      href: item.link,
      target: "_blank",
      rel: "noopener",
      title: `${item.job} on ${item.queue}, launched ${item.when}: ${item.status}, ${item.error || item.status_note}`,
      "data-status": item.status,
      "data-item": item.item_id,
      text: item.status,
    });
    root.querySelector(".inline, .floating")?.append(chip);
  }

  /** One inline button after `anchor`, or none when there is nowhere to put it. */
  function inlineButton(key, anchor, label, text, target) {
    const known = added.get(key);
    if (known && known.host.isConnected && known.anchor?.isConnected) return known;
    known?.host.remove();
    if (!anchor?.parentNode) return null;
    const { host, root } = shadowHost();
    const button = h("button", { class: "btn", type: "button", "aria-label": named(label), onclick: () => openDrawer(target, button) },
      h("span", { class: "mark" }), text);
    root.append(h("span", { class: "inline" }, button));
    try {
      anchor.insertAdjacentElement("afterend", host);
    } catch {
      return null;
    }
    const entry = { host, root, anchor, target, key };
    added.set(key, entry);
    return entry;
  }

  /** The floating fallback: bottom right, above the page. */
  function floatingButton(label, target) {
    if (floating?.host.isConnected && floating.label === label) return floating;
    floating?.host.remove();
    const { host, root } = shadowHost("div");
    const button = h("button", { class: "btn", type: "button", "aria-label": named(label), onclick: () => openDrawer(target, button) }, h("span", { class: "mark" }), label);
    root.append(h("div", { class: "floating" }, button));
    (document.body || document.documentElement).append(host);
    floating = { host, root, label, target };
    return floating;
  }

  function dropFloating() {
    floating?.host.remove();
    floating = null;
  }

  /** A heading to put a page-level button after: the first visible h1 that is not ours. */
  function heading() {
    return [...document.querySelectorAll("h1")].find((el) => !isOurs(el) && el.getClientRects().length > 0) || null;
  }

  function pageButton(label, text, target) {
    const entry = inlineButton("page", heading(), label, text, target);
    if (entry) dropFloating();
    else floatingButton(label, target);
  }

  async function jobButtons() {
    const anchors = [...document.querySelectorAll("a[href]")].filter((a) => !isOurs(a));
    const fresh = anchors.filter((a) => !classified.has(a));
    if (fresh.length) {
      const answer = await ask({ kind: "links", url: location.href, hrefs: fresh.map((a) => a.href) });
      const targets = answer.ok?.targets || [];
      fresh.forEach((a, i) => classified.set(a, targets[i] || null));
    }
    const byJob = new Map();
    for (const a of anchors) {
      const t = classified.get(a);
      if (!t || !a.isConnected) continue;
      const key = `job:${t.entity}/${t.project}/${t.job}`;
      if (!byJob.has(key)) byJob.set(key, { anchor: a, target: t });
    }
    for (const [key, entry] of added) {
      if (!byJob.has(key)) {
        entry.host.remove();
        added.delete(key);
      }
    }
    for (const [key, { anchor, target }] of byJob) {
      inlineButton(key, anchor, `Launch ${target.job}`, "Launch", { mode: "job", entity: target.entity, project: target.project, job: target.job, version: null });
    }
    if (byJob.size === 0) floatingButton("Launch a job", { mode: "project", entity: page.entity, project: page.project });
    else dropFloating();
  }

  // The Launch page's list of items launched from here: a button that
  // opens it, so it never covers the page's own table unasked (open or
  // closed, as last left, from page to page).
  let panelOpen = false;

  async function recentPanel() {
    if (floating?.label === "recent" && floating.host.isConnected) return;
    const answer = await ask({ kind: "recent", url: location.href });
    floating?.host.remove();
    const { host, root } = shadowHost("div");
    const items = answer.ok?.items || [];
    const list = items.length
      ? h("ul", {}, items.map((i) => h("li", {},
          h("span", {}, i.job, h("span", { class: "muted" }, ` · ${i.queue} · ${i.when}`),
            i.error ? h("span", { class: "error", title: i.error, text: i.error }) : null),
          h("a", { class: `chip ${i.tone}`, href: i.link, target: "_blank", rel: "noopener", "data-status": i.status, text: i.status }))))
      : h("p", { class: "muted", text: answer.error || "Nothing launched from the extension yet." });
    const panel = h("section", { class: "panel", id: "lf-recent", "aria-label": "Launched from the extension", hidden: !panelOpen },
      h("h3", { text: "Launched from the extension" }), list);
    const toggle = h("button", {
      class: "btn secondary", type: "button", "aria-controls": "lf-recent", "aria-expanded": String(panelOpen),
      text: items.length ? `Launched from the extension (${items.length})` : "Launched from the extension",
    });
    toggle.addEventListener("click", () => {
      panelOpen = !panelOpen;
      panel.hidden = !panelOpen;
      toggle.setAttribute("aria-expanded", String(panelOpen));
    });
    root.append(h("div", { class: "floating" }, panel, toggle));
    (document.body || document.documentElement).append(host);
    floating = { host, root, label: "recent" };
  }

  async function reconcile() {
    switch (page.kind) {
      case "jobs":
        await jobButtons();
        break;
      case "job":
        pageButton(`Launch ${page.job}`, "Launch", { mode: "job", entity: page.entity, project: page.project, job: page.job, version: page.version, choose: false });
        break;
      case "run":
        pageButton("Relaunch with edits", "Relaunch with edits", { mode: "run", entity: page.entity, project: page.project, run: page.run });
        break;
      case "sweep":
        pageButton("Launch a job", "Launch a job", { mode: "project", entity: page.entity, project: page.project });
        break;
      case "launch":
        await recentPanel();
        break;
    }
  }

  // ---- chips: items launched from here, by job ------------------------------------

  let lastChips = 0;
  async function refreshChips(force = false) {
    const jobs = [...added.values()].filter((e) => e.target.mode === "job").map((e) => `${e.target.entity}/${e.target.project}/${e.target.job}`);
    if (!jobs.length || document.visibilityState !== "visible") return;
    if (!force && Date.now() - lastChips < 4000) return;
    lastChips = Date.now();
    const answer = await ask({ kind: "chips", url: location.href, jobs });
    for (const { job_path, item } of answer.ok?.chips || []) {
      for (const e of added.values()) {
        if (e.target.mode === "job" && `${e.target.entity}/${e.target.project}/${e.target.job}` === job_path) chipFor(e.root, item);
      }
    }
  }
  setInterval(() => refreshChips(false), 5000);

  // ---- following the single-page app ----------------------------------------------

  let running = false;
  let pending = false;
  async function sync() {
    if (running) {
      pending = true;
      return;
    }
    running = true;
    try {
      do {
        pending = false;
        const here = location.origin + location.pathname;
        if (here !== current) {
          current = here;
          removeAll();
          closeDrawer();
          const answer = await ask({ kind: "page", url: location.href });
          if (location.origin + location.pathname !== here) {
            pending = true;
            continue;
          }
          site = answer.ok?.site ?? null;
          page = site ? answer.ok.page : null;
          if (page?.kind === "other") page = null;
        }
        if (page) {
          await reconcile();
          await refreshChips(false);
        }
      } while (pending);
    } catch (e) {
      // Never break the page: whatever went wrong stays in the console.
      console.debug("Liftoff:", e);
    } finally {
      running = false;
    }
  }

  let timer = null;
  function soon() {
    clearTimeout(timer);
    timer = setTimeout(sync, 120);
  }
  new MutationObserver((records) => {
    // Our own shadow hosts coming and going are not the page changing.
    if (records.every((r) => [...r.addedNodes, ...r.removedNodes].every((n) => n.nodeType === 1 && n.hasAttribute?.("data-liftoff")))) return;
    soon();
  }).observe(document.documentElement, { childList: true, subtree: true });
  addEventListener("popstate", soon);
  addEventListener("hashchange", soon);
  globalThis.navigation?.addEventListener?.("navigatesuccess", soon);
  // pushState without any DOM change is rare, but a cheap check covers it.
  setInterval(() => {
    if (location.origin + location.pathname !== current) soon();
  }, 1000);

  // ---- the drawer ------------------------------------------------------------------

  let drawer = null; // { host, root, model, target, opener, ... }
  // What was typed in a drawer closed without launching, by what it was
  // opened for (a job, a run), for as long as this page lives: reopened, the
  // drawer goes on from it, as the web app's drawers do. Cancel drops it.
  const drafts = new Map();
  // By what it launches, wherever the drawer was opened from (a list, the job's page).
  const draftKey = (t) => `${t.mode}:${t.entity}/${t.project}/${t.mode === "run" ? t.run : t.job ?? ""}`;

  /** `drop` (launched, or Cancel): what was typed is done with, not kept. */
  function closeDrawer(drop = false) {
    if (!drawer) return;
    const { host, opener, target, dirty, collect } = drawer;
    drawer = null;
    if (drop === true) drafts.delete(draftKey(target));
    else if (dirty && collect) drafts.set(draftKey(target), collect());
    host.remove();
    if (opener?.isConnected) opener.focus();
  }

  // The drawer is modal: Escape closes it, and Tab goes round its own
  // controls instead of into the page behind.
  addEventListener(
    "keydown",
    (ev) => {
      if (!drawer) return;
      if (ev.key === "Escape") {
        ev.stopPropagation();
        closeDrawer();
      } else if (ev.key === "Tab") {
        const focusable = [...drawer.root.querySelectorAll("button, a[href], input, select, textarea")]
          .filter((el) => !el.disabled && el.getClientRects().length > 0 && !el.closest(".scrim"));
        if (!focusable.length) return;
        const first = focusable[0];
        const last = focusable[focusable.length - 1];
        const active = drawer.root.activeElement;
        const wrapTo = !active ? first : ev.shiftKey && active === first ? last : !ev.shiftKey && active === last ? first : null;
        if (wrapTo) {
          ev.preventDefault();
          ev.stopPropagation();
          wrapTo.focus();
        }
      }
    },
    true,
  );

  /** `carried`: the queue and texts of a drawer reopened for another job. */
  async function openDrawer(target, opener, carried = null) {
    closeDrawer();
    const kept = carried ? null : drafts.get(draftKey(target));
    carried = carried ?? (kept ? { queue: kept.queue, kept: kept.texts } : {});
    const { host, root } = shadowHost("div");
    const body = h("div", { class: "body" }, h("p", { class: "loading", role: "status", text: "Loading the job and your queues…" }));
    const title = h("h2", { id: "lf-title", text: target.mode === "run" ? "Relaunch with edits" : "Launch" });
    const who = h("p", { class: "who" });
    const aside = h("aside", { class: "drawer", role: "dialog", "aria-modal": "true", "aria-labelledby": "lf-title" },
      h("header", {}, h("div", {}, title, who), h("button", { class: "close", type: "button", "aria-label": "Close", onclick: closeDrawer, text: "×" })),
      body);
    root.append(h("div", { class: "scrim", onclick: closeDrawer }), aside);
    (document.body || document.documentElement).append(host);
    drawer = { host, root, target, opener, body, title, who };
    // A toast from the last launch would sit over this drawer's fields.
    for (const t of toasts.splice(0)) t();
    root.querySelector(".close").focus();
    const mine = drawer;
    const answer = await ask({ kind: "drawer", url: location.href, target, queue: carried.queue ?? null, kept: carried.kept ?? [] });
    if (drawer !== mine) return;
    if (answer.error) {
      // Who asked where: a job that is "not found" may be another user's or on another server.
      if (answer.who) who.textContent = `as ${answer.who}`;
      // The options button only where the options can fix it (a key, an address).
      body.replaceChildren(h("div", { class: "alert", role: "alert", "data-testid": "drawer-error" }, answer.error),
        h("div", { class: "actions" },
          answer.in_options ? h("button", { class: "btn secondary", type: "button", onclick: () => ask({ kind: "open_options" }), text: "Open the extension's options" }) : null,
          h("button", { class: "btn secondary", type: "button", onclick: closeDrawer, text: "Close" })));
      return;
    }
    renderForm(answer.ok, kept);
  }

  function fieldId(prefix, path) {
    return `${prefix}-${path.replace(/\./g, "-")}`;
  }

  function fieldInputs(fields, prefix, values) {
    return fields.map((f) => {
      const id = fieldId(prefix, f.path);
      const value = values.get(f.path) ?? "";
      let control;
      const common = { id, "data-path": f.path, "data-group": prefix, "aria-describedby": `${id}-error` };
      if (f.control === "select") {
        control = h("select", common, f.choices.map((c) => h("option", { value: c.value, selected: c.value === value, text: c.label })));
      } else if (f.control === "json") {
        control = h("textarea", { ...common, rows: 2, placeholder: f.placeholder, spellcheck: "false" });
        control.value = value;
      } else {
        control = h("input", { ...common, type: "text", placeholder: f.placeholder, inputmode: f.numeric ? "decimal" : null, autocomplete: "off" });
        control.value = value;
      }
      return h("div", { class: "field" },
        h("label", { for: id }, f.label, f.required ? h("span", { class: "req", title: "required", text: "*" }) : null, f.hint ? h("span", { class: "hint", text: f.hint }) : null),
        control,
        f.description ? h("p", { class: "note", text: f.description }) : null,
        h("p", { class: "error", id: `${id}-error`, "data-problem": `${prefix}.${f.path}` }));
    });
  }

  function select(id, choices, value, attrs = {}) {
    return h("select", { id, ...attrs }, choices.map((c) => h("option", { value: c.value, selected: c.value === value, text: c.label })));
  }

  /** `kept`: what was typed when this drawer was last closed unlaunched. */
  function renderForm(model, kept) {
    const d = drawer;
    d.model = model;
    d.title.textContent = model.title;
    d.who.textContent = `as ${model.who}`;
    const texts = new Map(model.inputs.texts);
    const vars = new Map();
    d.state = { useJson: model.inputs.use_json, texts, vars, inputs: model.inputs };
    if (kept) {
      for (const [path, value] of kept.template_values) vars.set(path, value);
      d.state.useJson = kept.use_json;
      d.state.jsonText = kept.json_text;
    }

    const overrides = h("fieldset", { "data-testid": "overrides" });
    const variables = h("div");
    const diff = h("div", { "data-testid": "diff" });
    const alert = h("div", { role: "alert" });
    const submit = h("button", { class: "btn", type: "submit", text: "Launch now", disabled: model.queues.length === 0 });
    const priorityNote = h("p", { class: "note", id: "launch-priority-note" });

    const queueSelect = select("launch-queue", model.queues.map((q) => ({ value: q.key, label: q.label })), model.queue, { "aria-describedby": "launch-queue-error" });
    const priority = select("launch-priority", model.priorities, "", { "aria-describedby": "launch-priority-error" });
    const version = select("launch-version", model.versions, model.version, { "aria-describedby": "launch-version-error" });
    const entity = h("input", { id: "launch-entity", type: "text", autocomplete: "off", "aria-describedby": "launch-entity-error" });
    entity.value = model.entity;
    const project = h("input", { id: "launch-project", type: "text", autocomplete: "off", "aria-describedby": "launch-project-error" });
    project.value = model.project;

    function drawOverrides() {
      const st = d.state;
      const json = st.useJson || st.inputs.fields.length === 0;
      const editor = h("textarea", { id: "launch-config", rows: 8, spellcheck: "false", placeholder: '{"lr": 0.01}', "aria-describedby": "launch-config-error" });
      editor.value = st.jsonText ?? st.inputs.json_text;
      // (replaceChildren would write a null as the text "null".)
      const parts = [
        h("legend", { text: "Overrides" }),
        h("p", { class: "note", text: st.inputs.note }),
        st.inputs.fields.length
          ? h("label", { class: "check" }, h("input", { id: "launch-use-json", type: "checkbox", checked: json, onchange: switchMode }), "Edit as JSON")
          : null,
        json
          ? h("div", { class: "field" }, h("label", { for: "launch-config", text: "Config (JSON)" }), editor, h("p", { class: "error", id: "launch-config-error", "data-problem": "config", "data-prefix": "config" }))
          : h("div", { class: "fields" }, fieldInputs(st.inputs.fields, "config", st.texts)),
      ];
      overrides.replaceChildren(...parts.filter(Boolean));
    }

    // The values typed go across (the worker applies the web app's rules);
    // a switch back to the form that would lose a key is refused, saying why.
    async function switchMode(ev) {
      const st = d.state;
      // (An event from a shadow tree loses its target once dispatched.)
      const box = ev.target;
      const toJson = box.checked;
      const answer = await ask({ kind: "switch", url: location.href, input: collect(), to_json: toJson });
      if (drawer !== d) return;
      if (answer.error) {
        box.checked = !toJson;
        alert.replaceChildren(h("p", { class: "alert", text: answer.error }));
        return;
      }
      const r = answer.ok;
      if (r.problems) {
        // Kept (checks of the form would clear it) until the JSON is edited.
        box.checked = true;
        st.switchProblems = r.problems;
        showProblems([]);
        return;
      }
      if (toJson) st.jsonText = r.json_text;
      else st.texts = new Map(r.texts);
      st.useJson = toJson;
      drawOverrides();
      changed();
      d.root.getElementById(toJson ? "launch-config" : "launch-use-json")?.focus();
    }

    function drawVariables() {
      const q = model.queues.find((x) => x.key === queueSelect.value);
      priority.disabled = !q?.prioritized;
      priority.title = q?.priority_note || "";
      // Said in words too: a tooltip never reaches keyboard or touch users.
      priorityNote.textContent = q && !q.prioritized ? q.priority_note || "" : "";
      if (!q?.prioritized) priority.value = "";
      variables.replaceChildren(
        q?.variables.length ? h("fieldset", {}, h("legend", { text: "Template variables" }), fieldInputs(q.variables, "template", vars)) : "",
      );
    }

    function collect() {
      const st = d.state;
      for (const el of d.root.querySelectorAll("[data-group=config]")) st.texts.set(el.dataset.path, el.value);
      for (const el of d.root.querySelectorAll("[data-group=template]")) vars.set(el.dataset.path, el.value);
      const editor = d.root.getElementById("launch-config");
      if (editor) st.jsonText = editor.value;
      const q = model.queues.find((x) => x.key === queueSelect.value);
      return {
        job: d.job,
        version: version.value,
        use_json: st.useJson || st.inputs.fields.length === 0,
        texts: [...st.texts],
        json_text: st.jsonText ?? st.inputs.json_text,
        queue: queueSelect.value,
        priority: priority.disabled ? "" : priority.value,
        template_values: (q?.variables || []).map((v) => [v.path, vars.get(v.path) ?? ""]),
        entity: entity.value,
        project: project.value,
      };
    }

    // A field's problem shows once it was edited, or after a Launch now
    // that found problems: not a red "is required" on a field not yet reached.
    const touched = new Set();
    let submitted = false;
    function touch(ev) {
      const id = ev.target.getAttribute?.("aria-describedby");
      const el = id && d.root.getElementById(id);
      if (el?.dataset.problem) touched.add(el.dataset.problem);
    }

    function showProblems(found) {
      const problems = found.concat(d.state.switchProblems || []);
      for (const el of d.root.querySelectorAll("[data-problem]")) {
        const path = el.dataset.problem;
        // Touched: this field, or one under it (a form field's value carried
        // into the JSON editor); the job's own problem (no field) always.
        const prefix = el.dataset.prefix ? `${el.dataset.prefix}.` : null;
        const shown = submitted || path === "job" || [...touched].some((t) => t === path || (prefix && t.startsWith(prefix)))
          || (d.state.switchProblems || []).some((p) => p.path === path);
        const mine = !shown ? [] : problems.filter((p) => p.path === path || (el.dataset.prefix && p.path.startsWith(`${el.dataset.prefix}.`)));
        el.textContent = mine.map((p) => (p.path === path ? p.message : `${p.path}: ${p.message}`)).join("; ");
        const control = d.root.querySelector(`[aria-describedby="${el.id}"]`);
        if (control) control.setAttribute("aria-invalid", mine.length ? "true" : "false");
      }
    }

    function showDiff(changes) {
      if (!model.base) return diff.replaceChildren();
      const head = h("h3", { text: `Changes from run ${model.base.title}` });
      diff.replaceChildren(h("section", { class: "diff", "aria-label": "Changes from the run" }, head,
        changes.length
          ? h("ul", {}, changes.map((c) => h("li", { "data-path": c.path }, `${c.path}: `,
              c.before !== null ? h("del", { text: c.before }) : h("span", { class: "muted", text: "(not set)" }), " → ",
              c.after !== null ? h("ins", { text: c.after }) : h("span", { class: "muted", text: "(job default)" }))))
          : h("p", { class: "note", text: "No changes yet: edit the config above." })));
    }

    let checkTimer = null;
    let checkSeq = 0;
    function changed() {
      clearTimeout(checkTimer);
      checkTimer = setTimeout(async () => {
        const seq = ++checkSeq;
        const answer = await ask({ kind: "check", url: location.href, input: collect(), base: model.base?.config ?? null });
        if (drawer !== d || seq !== checkSeq || !answer.ok) return;
        for (const o of queueSelect.options) o.textContent = answer.ok.queue_labels?.[o.value] ?? o.textContent;
        showProblems(answer.ok.problems);
        showDiff(answer.ok.diff);
      }, 200);
    }

    async function reloadInputs() {
      collect();
      const answer = await ask({ kind: "inputs", url: location.href, job: d.job, version: version.value, base: model.base?.config ?? null, kept: [...d.state.texts] });
      if (drawer !== d) return;
      if (answer.error) {
        alert.replaceChildren(h("p", { class: "alert", text: answer.error }));
        return;
      }
      d.state.inputs = answer.ok;
      d.state.texts = new Map(answer.ok.texts);
      d.state.jsonText = undefined;
      drawOverrides();
      changed();
    }

    async function chooseJob(ev) {
      const path = ev.target.value;
      const [e, p, name] = path.split("/");
      const target = d.target.mode === "run" ? { ...d.target, job: path } : { mode: "job", entity: e, project: p, job: name, version: null, choose: true };
      const opener = d.opener;
      const typed = collect();
      await openDrawer(target, opener, { queue: typed.queue, kept: typed.texts });
    }

    d.job = model.job;
    d.collect = collect;
    function startOver() {
      drafts.delete(draftKey(d.target));
      d.dirty = false;
      openDrawer(d.target, d.opener, {});
    }
    const form = h("form", { novalidate: true, onsubmit: async (ev) => {
      ev.preventDefault();
      // Busy, not disabled: a disabled button would drop the focus.
      if (submit.getAttribute("aria-disabled") === "true") return;
      alert.replaceChildren();
      submit.setAttribute("aria-disabled", "true");
      submit.textContent = "Launching…";
      const answer = await ask({ kind: "launch", url: location.href, input: collect(), base: model.base?.config ?? null });
      if (drawer !== d) return;
      submit.removeAttribute("aria-disabled");
      submit.disabled = model.queues.length === 0;
      submit.textContent = "Launch now";
      if (answer.error) {
        // Said where it is seen, with the focus on it.
        const said = h("p", { class: "alert", tabindex: "-1", "data-testid": "launch-error", text: answer.error });
        alert.replaceChildren(said);
        said.scrollIntoView({ block: "nearest" });
        said.focus();
        return;
      }
      if (answer.ok.problems.length) {
        submitted = true;
        showProblems(answer.ok.problems);
        d.root.querySelector("[aria-invalid=true]")?.focus();
        return;
      }
      closeDrawer(true);
      toast(answer.ok.message, answer.ok.launched);
      for (const e of added.values()) {
        if (e.target.mode === "job" && `${e.target.entity}/${e.target.project}/${e.target.job}` === answer.ok.launched.job_path) chipFor(e.root, answer.ok.launched);
      }
      refreshChips(true);
    } },
      kept ? h("p", { class: "draft-note", "data-testid": "draft-note" }, "Going on from what you typed before. ",
        h("button", { type: "button", class: "link", onclick: startOver, text: "Start over" })) : null,
      model.notice ? h("p", { class: "notice", role: "note", text: model.notice }) : null,
      model.jobs.length
        ? h("div", { class: "field" }, h("label", { for: "launch-job", text: "Job" }), select("launch-job", model.jobs, model.job, { onchange: chooseJob }))
        : null,
      h("div", { class: "field" }, h("label", { for: "launch-version", text: "Job version" }), version,
        h("p", { class: "error", id: "launch-version-error", "data-problem": "version" }), h("p", { class: "error", "data-problem": "job" })),
      overrides,
      h("div", { class: "field" }, h("label", { for: "launch-queue", text: "Queue" }), queueSelect,
        model.no_queues ? h("p", { class: "note", text: model.no_queues }) : null,
        h("p", { class: "error", id: "launch-queue-error", "data-problem": "queue" })),
      h("div", { class: "field" }, h("label", { for: "launch-priority", text: "Priority" }), priority, priorityNote,
        h("p", { class: "error", id: "launch-priority-error", "data-problem": "priority" })),
      variables,
      h("div", { class: "row" },
        h("div", { class: "field" }, h("label", { for: "launch-entity", text: "Destination entity" }), entity),
        h("div", { class: "field" }, h("label", { for: "launch-project", text: "Destination project" }), project)),
      h("p", { class: "error", id: "launch-entity-error", "data-problem": "entity" }),
      h("p", { class: "error", id: "launch-project-error", "data-problem": "project" }),
      diff,
      alert,
      h("div", { class: "actions" }, h("button", { class: "btn secondary", type: "button", onclick: () => closeDrawer(true), text: "Cancel" }), submit),
    );
    form.addEventListener("input", (ev) => {
      d.dirty = true;
      touch(ev);
      if (ev.target.id === "launch-config") d.state.switchProblems = [];
      changed();
    });
    form.addEventListener("change", (ev) => {
      d.dirty = true;
      touch(ev);
      if (ev.target === queueSelect) drawVariables();
      if (ev.target === version) return reloadInputs();
      if (ev.target.id !== "launch-job") changed();
    });
    drawOverrides();
    drawVariables();
    d.body.replaceChildren(form);
    if (kept) {
      // The draft stays kept until the drawer is launched or started over.
      d.dirty = true;
      entity.value = kept.entity;
      project.value = kept.project;
      if (!priority.disabled) priority.value = kept.priority;
      if (kept.version !== model.version && [...version.options].some((o) => o.value === kept.version)) {
        version.value = kept.version;
        // The other version's fields, then the JSON that was typed for it.
        reloadInputs().then(() => {
          if (drawer !== d) return;
          d.state.useJson = kept.use_json;
          d.state.jsonText = kept.json_text;
          drawOverrides();
          changed();
        });
      } else changed();
    } else if (model.base) changed();
    (d.root.querySelector("#launch-job") || version).focus();
  }

  const toasts = []; // how to close each toast shown

  function toast(message, item) {
    const { host, root } = shadowHost("div");
    const close = () => host.remove();
    toasts.push(close);
    root.append(h("div", { class: "toast", role: "status", "data-testid": "toast" }, h("span", { text: message }),
      h("a", { href: item.link, target: "_blank", rel: "noopener", text: "View the item" }),
      h("button", { type: "button", "aria-label": "Dismiss", onclick: close, text: "×" })));
    (document.body || document.documentElement).append(host);
    // It stays while the pointer or the keyboard focus is on it.
    let timer = setTimeout(close, 8000);
    const hold = () => clearTimeout(timer);
    const release = () => {
      clearTimeout(timer);
      timer = setTimeout(close, 4000);
    };
    host.addEventListener("mouseenter", hold);
    host.addEventListener("focusin", hold);
    host.addEventListener("mouseleave", release);
    host.addEventListener("focusout", release);
  }

  sync();
})();
