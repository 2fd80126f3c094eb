//! The extension's core, run by its service worker (wasm): it recognises
//! pages from their URLs, builds the Launch drawer, checks what was typed
//! with the web app's rules, and makes every API call with the key of the
//! server the page's origin maps to. The content script, the popup and the
//! options page are thin JS that render its answers (`static/`).
//!
//! Everything but `worker` is pure or generic over IO and is tested natively.

pub mod app;
pub mod drawer;
pub mod loads;
pub mod page;
pub mod recent;
pub mod settings;

#[cfg(target_arch = "wasm32")]
mod worker;

use wasm_bindgen::prelude::*;

/// The extension's version (the crate's), as the service worker logs it.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
