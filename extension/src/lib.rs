//! The extension's service-worker core (wasm). The Launch drawer, the key
//! storage and the client calls arrive in issue #6; today it reports its
//! version so the build, the loading and the zip are real.

use wasm_bindgen::prelude::*;

/// The extension's version (the crate's), as the service worker logs it.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
