//! `liftoff server --upstream URL`: serve the web app and forward every API
//! call to another W&B-compatible server (wandb.ai, or another Liftoff)
//! with the caller's own credentials. Nothing is stored here.

use std::sync::{Arc, Once};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;

#[derive(Clone)]
struct Upstream {
    base: Arc<str>,
    client: reqwest::Client,
}

static CRYPTO: Once = Once::new();

/// Headers passed through to the upstream (never cookies).
const FORWARDED: &[header::HeaderName] = &[
    header::AUTHORIZATION,
    header::CONTENT_TYPE,
    header::ACCEPT,
    header::USER_AGENT,
];

pub fn router(base: &str) -> anyhow::Result<Router> {
    CRYPTO.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()?;
    let up = Upstream {
        base: base.trim_end_matches('/').into(),
        client,
    };
    Ok(Router::new()
        .route("/graphql", any(forward))
        .route("/files/{*rest}", any(forward))
        .route("/healthz", any(|| async { "ok" }))
        .with_state(up))
}

async fn forward(
    State(up): State<Upstream>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let url = format!("{}{path}", up.base);
    let Ok(m) = reqwest::Method::from_bytes(method.as_str().as_bytes()) else {
        return (StatusCode::METHOD_NOT_ALLOWED, "unsupported method").into_response();
    };
    let mut req = up.client.request(m, &url).body(body.to_vec());
    for name in FORWARDED {
        if let Some(v) = headers.get(name).and_then(|v| v.to_str().ok()) {
            req = req.header(name.as_str(), v);
        }
    }
    match req.send().await {
        Ok(resp) => {
            let status =
                StatusCode::from_u16(resp.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
            let ctype = resp
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            match resp.bytes().await {
                Ok(b) => {
                    let mut r = Response::new(Body::from(b));
                    *r.status_mut() = status;
                    if let Some(c) = ctype.and_then(|c| c.parse().ok()) {
                        r.headers_mut().insert(header::CONTENT_TYPE, c);
                    }
                    r
                }
                Err(e) => bad_gateway(&up.base, &e.to_string()),
            }
        }
        Err(e) => bad_gateway(&up.base, &e.to_string()),
    }
}

fn bad_gateway(base: &str, e: &str) -> Response {
    let body = serde_json::json!({"errors": [{"message": format!("cannot reach the upstream server {base}: {e}"), "extensions": {"code": "UPSTREAM_UNREACHABLE"}}]});
    (StatusCode::BAD_GATEWAY, axum::Json(body)).into_response()
}
