//! The browser transport, in a real headless Chromium: a GraphQL POST with
//! `fetch`, across origins (CORS preflight included), decoded into model types.
//!
//! `cargo xtask test` starts a stub GraphQL endpoint (xtask/src/stub.rs) and
//! hands its URL to this file at compile time:
//!
//! ```text
//! LIFTOFF_TEST_GRAPHQL_URL=http://127.0.0.1:PORT/graphql
//! LIFTOFF_TEST_DEAD_URL=http://127.0.0.1:PORT2/graphql   (nothing listens there)
//! CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown -p liftoff-client --test browser
//! ```
//!
//! Without `LIFTOFF_TEST_GRAPHQL_URL` the endpoint tests skip with a note.
#![cfg(target_arch = "wasm32")]

use liftoff_client::browser::BrowserTransport;
use liftoff_client::ops::identity::Viewer;
use liftoff_client::{Client, Credentials, Error, Transport};
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// The key the stub accepts; it answers 401 to any other.
const KEY: &str = "liftoff-browser-test";
/// `Basic base64("api:" + KEY)`, what the stub must have received.
const AUTHORIZATION: &str = "Basic YXBpOmxpZnRvZmYtYnJvd3Nlci10ZXN0";

const GRAPHQL_URL: Option<&str> = option_env!("LIFTOFF_TEST_GRAPHQL_URL");
/// A port nothing listens on; the fallback is one browsers refuse outright.
const DEAD_URL: &str = match option_env!("LIFTOFF_TEST_DEAD_URL") {
    Some(url) => url,
    None => "http://127.0.0.1:9/graphql",
};

/// The base URL (without `/graphql`) of the stub, or `None` to skip.
fn stub_base() -> Option<String> {
    match GRAPHQL_URL {
        Some(url) => Some(url.trim_end_matches("/graphql").to_owned()),
        None => {
            console_log!(
                "skipped: LIFTOFF_TEST_GRAPHQL_URL was not set at compile time (run `cargo xtask test`)"
            );
            None
        }
    }
}

fn client(base: &str, key: &str) -> Client<BrowserTransport> {
    Client::new(BrowserTransport, Credentials::new(base, key))
}

#[wasm_bindgen_test]
async fn viewer_round_trips_through_fetch() {
    let Some(base) = stub_base() else { return };
    let viewer = client(&base, KEY)
        .call(Viewer)
        .await
        .expect("Viewer through the browser transport");
    assert_eq!(viewer.entity, "liftoff-ci");
    assert_eq!(viewer.username, "browser-test");
    assert_eq!(viewer.teams, vec!["liftoff-team".to_owned()]);
    // The stub echoes the Authorization header it received as the email.
    assert_eq!(
        viewer.email.as_deref(),
        Some(AUTHORIZATION),
        "the server saw our Basic auth"
    );
}

#[wasm_bindgen_test]
async fn raw_fetch_reads_status_and_headers() {
    let Some(base) = stub_base() else { return };
    let c = client(&base, KEY);
    let response = c.transport().send(c.request(&Viewer)).await.expect("fetch");
    assert_eq!(response.status, 200);
    let content_type = response
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"));
    assert_eq!(
        content_type.map(|(_, v)| v.as_str()),
        Some("application/json")
    );
    let body: serde_json::Value = serde_json::from_slice(&response.body).expect("JSON body");
    assert_eq!(body["data"]["viewer"]["entity"], "liftoff-ci");
}

#[wasm_bindgen_test]
async fn a_wrong_key_is_unauthorized() {
    let Some(base) = stub_base() else { return };
    match client(&base, "not-the-key").call(Viewer).await {
        Err(Error::Unauthorized { url }) => assert_eq!(url, format!("{base}/graphql")),
        other => panic!("expected Error::Unauthorized, got {other:?}"),
    }
}

#[wasm_bindgen_test]
async fn a_dead_url_is_a_network_error() {
    let base = DEAD_URL.trim_end_matches("/graphql");
    match client(base, KEY).call(Viewer).await {
        Err(Error::Network { url, message }) => {
            assert_eq!(url, DEAD_URL);
            assert!(!message.is_empty());
        }
        other => panic!("expected Error::Network, got {other:?}"),
    }
}
