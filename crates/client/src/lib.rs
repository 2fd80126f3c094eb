//! `liftoff-client`: the W&B GraphQL operations Launch uses, typed.
//!
//! Sans-IO: every operation is a value that knows its byte-exact document
//! (the one the official SDK sends, so any W&B-compatible server answers),
//! its variables, and how to decode the answer into `liftoff-model` types.
//! [`Client`] sends operations through one [`Transport`]; the same code runs
//! natively (reqwest), in the browser and in an MV3 service worker (fetch).

pub mod artifacts;
pub mod auth;
mod client;
pub mod error;
pub mod graphql;
pub mod loads;
pub mod ops;
pub mod transport;
pub mod url;
pub mod view;

#[cfg(target_arch = "wasm32")]
pub mod browser;
#[cfg(not(target_arch = "wasm32"))]
pub mod native;

pub use auth::Credentials;
pub use client::Client;
pub use error::Error;
pub use graphql::Operation;
pub use transport::{HttpRequest, HttpResponse, Transport};

/// The User-Agent Liftoff sends (W&B servers gate some fields on
/// `W&B Public Client`; we say who we are after it).
pub const USER_AGENT: &str = concat!(
    "W&B Public Client (liftoff ",
    env!("CARGO_PKG_VERSION"),
    ")"
);
