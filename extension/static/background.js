// The extension's service worker: it only loads the wasm core (extension/src,
// built by `cargo xtask extension` into pkg/) and, later, forwards events to it.
import init, { version } from "./pkg/liftoff_extension.js";

// No top-level await: Chrome rejects it in service workers. `self.liftoff.ready`
// settles once the wasm is loaded (tests await it through the worker).
self.liftoff = {
  ready: init({ module_or_path: chrome.runtime.getURL("pkg/liftoff_extension_bg.wasm") }).then(() => {
    const v = version();
    console.log(`Liftoff extension ${v}: wasm core loaded`);
    return { version: v };
  }),
};
