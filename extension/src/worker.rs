//! The wasm side of the service worker: `chrome.storage.local` behind
//! [`Host`], `fetch` behind the client's `BrowserTransport`, and the exports
//! `static/background.js` forwards messages to.

use std::cell::RefCell;
use std::rc::Rc;

use serde_json::Value;
use time::OffsetDateTime;
use wasm_bindgen::prelude::*;

use liftoff_client::browser::BrowserTransport;

use crate::app::{App, Cache, Ctx, Host, Request};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["chrome", "storage", "local"], js_name = get, catch)]
    async fn storage_get(keys: JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_namespace = ["chrome", "storage", "local"], js_name = set, catch)]
    async fn storage_set(items: JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_namespace = ["chrome", "runtime"], js_name = openOptionsPage, catch)]
    async fn open_options_page() -> Result<JsValue, JsValue>;
}

thread_local! {
    static CACHE: Rc<Cache> = Rc::new(Cache::default());
    static TEST_ORIGINS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

fn js_error(e: JsValue) -> String {
    e.as_string()
        .or_else(|| {
            js_sys::Reflect::get(&e, &"message".into())
                .ok()
                .and_then(|m| m.as_string())
        })
        .unwrap_or_else(|| format!("{e:?}"))
}

/// `chrome.storage.local`, values as JSON.
struct Chrome;

impl Host for Chrome {
    async fn get(&self, key: &str) -> Result<Option<Value>, String> {
        let all = storage_get(JsValue::from_str(key))
            .await
            .map_err(js_error)?;
        let value = js_sys::Reflect::get(&all, &JsValue::from_str(key)).map_err(js_error)?;
        if value.is_undefined() || value.is_null() {
            return Ok(None);
        }
        let text = js_sys::JSON::stringify(&value)
            .map_err(js_error)?
            .as_string()
            .unwrap_or_default();
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| e.to_string())
    }

    async fn set(&self, key: &str, value: Value) -> Result<(), String> {
        let mut items = serde_json::Map::new();
        items.insert(key.to_owned(), value);
        let js = js_sys::JSON::parse(&Value::Object(items).to_string()).map_err(js_error)?;
        storage_set(js).await.map_err(js_error).map(drop)
    }

    async fn open_options(&self) -> Result<(), String> {
        open_options_page().await.map_err(js_error).map(drop)
    }
}

/// Origins that stand in for wandb.ai: set from `test-hosts.json`, which
/// only the browser tests' copy of the extension has.
#[wasm_bindgen]
pub fn set_test_origins(origins: Vec<String>) {
    TEST_ORIGINS.with(|t| *t.borrow_mut() = origins);
}

/// The host permission the options page requests for a server (`None`
/// for W&B's, which the manifest holds).
#[wasm_bindgen]
pub fn permission_pattern(base_url: &str) -> Option<String> {
    crate::settings::permission_pattern(base_url)
}

/// Answer one message (JSON in, JSON out). `sender_url` and `trusted`
/// come from Chrome's `MessageSender`, never from the message.
#[wasm_bindgen]
pub async fn handle(message: String, sender_url: String, trusted: bool) -> String {
    let request: Request = match serde_json::from_str(&message) {
        Ok(r) => r,
        Err(e) => {
            return serde_json::json!({ "error": format!("unknown message: {e}") }).to_string();
        }
    };
    let now = OffsetDateTime::from_unix_timestamp((js_sys::Date::now() / 1000.0) as i64)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let cache = CACHE.with(Rc::clone);
    let app = App {
        host: &Chrome,
        transport: BrowserTransport,
        cache: &cache,
        ctx: Ctx {
            sender_url,
            trusted,
            test_origins: TEST_ORIGINS.with(|t| t.borrow().clone()),
            now,
        },
    };
    app.handle(request).await.to_string()
}
