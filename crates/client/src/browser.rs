//! The browser transport: `fetch`, from a window or a worker (the MV3
//! service worker has no `window`, so the global scope is used).

use js_sys::{Array, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Request, RequestCredentials, RequestInit, Response};

use crate::transport::{HttpRequest, HttpResponse, Transport};

#[derive(Clone, Debug, Default)]
pub struct BrowserTransport;

fn js_err(v: JsValue) -> String {
    v.as_string()
        .or_else(|| {
            js_sys::Reflect::get(&v, &"message".into())
                .ok()
                .and_then(|m| m.as_string())
        })
        .unwrap_or_else(|| format!("{v:?}"))
}

async fn fetch(request: HttpRequest) -> Result<HttpResponse, String> {
    let headers = Headers::new().map_err(js_err)?;
    for (k, v) in &request.headers {
        // Browsers forbid setting User-Agent; skip it rather than fail.
        if k.eq_ignore_ascii_case("user-agent") {
            continue;
        }
        headers.append(k, v).map_err(js_err)?;
    }
    let init = RequestInit::new();
    init.set_method(request.method);
    // The key travels in `Authorization`; never ambient credentials. This
    // also keeps a 401's `WWW-Authenticate: Basic` from opening the
    // browser's login dialog over the web app.
    init.set_credentials(RequestCredentials::Omit);
    init.set_headers(&headers);
    if !request.body.is_empty() {
        let body = Uint8Array::from(request.body.as_slice());
        init.set_body(&body);
    }
    let req = Request::new_with_str_and_init(&request.url, &init).map_err(js_err)?;
    let global = js_sys::global();
    let promise = if let Some(window) = global.dyn_ref::<web_sys::Window>() {
        window.fetch_with_request(&req)
    } else if let Some(worker) = global.dyn_ref::<web_sys::WorkerGlobalScope>() {
        worker.fetch_with_request(&req)
    } else {
        return Err("no fetch in this JavaScript context".into());
    };
    let response: Response = JsFuture::from(promise)
        .await
        .map_err(js_err)?
        .dyn_into()
        .map_err(js_err)?;
    let status = response.status();
    let mut out_headers = Vec::new();
    if let Ok(Some(iter)) = js_sys::try_iter(&response.headers()) {
        for entry in iter.flatten() {
            let pair: Array = entry.unchecked_into();
            if let (Some(k), Some(v)) = (pair.get(0).as_string(), pair.get(1).as_string()) {
                out_headers.push((k, v));
            }
        }
    }
    let buffer = JsFuture::from(response.array_buffer().map_err(js_err)?)
        .await
        .map_err(js_err)?;
    let body = Uint8Array::new(&buffer).to_vec();
    Ok(HttpResponse {
        status,
        headers: out_headers,
        body,
    })
}

impl Transport for BrowserTransport {
    fn send(
        &self,
        request: HttpRequest,
    ) -> impl std::future::Future<Output = Result<HttpResponse, String>> {
        fetch(request)
    }
}
