// The extension's service worker. It loads the wasm core (extension/src,
// built by `cargo xtask extension` into pkg/) and forwards every message to
// it: the core recognises pages, builds the drawer and makes every API call
// with keys that never leave this worker. Nothing here decides anything.
import init, { handle, set_test_origins, version } from "./pkg/liftoff_extension.js";

const EXTENSION_ORIGIN = chrome.runtime.getURL("");
// W&B's hosts: its pages get the manifest's content script, its API has none.
const WANDB_PATTERNS = ["https://wandb.ai/*", "https://api.wandb.ai/*"];
const SERVER_SCRIPTS = "liftoff-servers";

// Test-only: the browser tests' copy of the extension carries a
// test-hosts.json naming fixture origins that stand in for wandb.ai.
// `cargo xtask extension` never ships one, so a real install has none.
async function testOrigins() {
  try {
    const r = await fetch(chrome.runtime.getURL("test-hosts.json"));
    const hosts = r.ok ? await r.json() : {};
    return Array.isArray(hosts.wandb) ? hosts.wandb : [];
  } catch {
    return [];
  }
}

// The content script also runs on the user's own servers once they grant
// the optional host permission for them (the options page asks).
async function syncServerScripts() {
  const { origins = [] } = await chrome.permissions.getAll();
  const matches = origins.filter((o) => !WANDB_PATTERNS.includes(o));
  const known = await chrome.scripting.getRegisteredContentScripts({ ids: [SERVER_SCRIPTS] });
  if (known.length) await chrome.scripting.unregisterContentScripts({ ids: [SERVER_SCRIPTS] });
  if (matches.length) {
    await chrome.scripting.registerContentScripts([
      { id: SERVER_SCRIPTS, matches, js: ["content.js"], runAt: "document_idle", persistAcrossSessions: true },
    ]);
  }
}
chrome.permissions.onAdded.addListener(() => syncServerScripts());
chrome.permissions.onRemoved.addListener(() => syncServerScripts());

// Keys live in chrome.storage.local: only the extension's own pages and
// this worker may read it, not content scripts (where Chrome supports it).
Promise.resolve()
  .then(() => chrome.storage.local.setAccessLevel?.({ accessLevel: "TRUSTED_CONTEXTS" }))
  .catch(() => {});

// No top-level await: Chrome rejects it in service workers. `self.liftoff.ready`
// settles once the wasm is loaded (tests await it through the worker).
self.liftoff = {
  ready: Promise.all([
    init({ module_or_path: chrome.runtime.getURL("pkg/liftoff_extension_bg.wasm") }).then(testOrigins),
    syncServerScripts().catch((e) => console.warn("Liftoff: content scripts for servers:", e)),
  ]).then(([origins]) => {
    set_test_origins(origins);
    const v = version();
    console.log(`Liftoff extension ${v}: wasm core loaded`);
    return { version: v };
  }),
};

// Listeners are registered synchronously (MV3); answers wait for the core.
chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
  if (sender.id !== chrome.runtime.id) return false;
  // The options page and the popup are trusted; content scripts are not.
  const trusted = typeof sender.url === "string" && sender.url.startsWith(EXTENSION_ORIGIN);
  self.liftoff.ready
    .then(() => handle(JSON.stringify(message), sender.url || "", trusted))
    .then(
      (answer) => sendResponse(JSON.parse(answer)),
      (e) => sendResponse({ error: `The Liftoff extension failed: ${e?.message || e}` }),
    );
  return true;
});
