//! The extension service worker core (wasm).
