//! HTTP: `/graphql`, signed file uploads and downloads, the web app.

mod file_stream;
mod files;
mod upstream;
mod web;

pub use file_stream::AGENT_CONSOLE;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde_json::json;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::access::Caller;
use crate::auth;
use crate::graphql::{self, LiftoffSchema};
use crate::state::AppState;

#[derive(Clone)]
pub struct Http {
    pub state: Arc<AppState>,
    pub schema: LiftoffSchema,
}

/// The whole server as a router. Does no IO until it is served.
pub fn router(state: Arc<AppState>) -> Router {
    if let Some(base) = state.config.upstream.clone() {
        match upstream::router(&base) {
            Ok(api) => {
                return api
                    .merge(web::router(state.config.web_dir.clone()))
                    .layer(cors(&state.config.cors_origins));
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot set up the upstream proxy; answering locally")
            }
        }
    }
    let schema = graphql::schema(state.clone());
    let http = Http {
        state: state.clone(),
        schema,
    };
    let api = Router::new()
        .route("/graphql", post(graphql_post).get(graphql_get))
        .route(
            "/files/{entity}/{project}/{run}/file_stream",
            post(file_stream::post).get(|| async {
                (
                    StatusCode::METHOD_NOT_ALLOWED,
                    Json(json!({"error": "send file_stream requests with POST (a JSON body of files)"})),
                )
            }),
        )
        // (Both take the same bodies: wandb splits file_stream requests at
        // about 10 MiB, past axum's default 2 MB.)
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .route(
            "/files/upload/{token}",
            put(files::upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/files/download/{token}/{*name}", get(files::download))
        .route("/artifacts/{entity}/{md5}", get(files::by_digest_v1))
        .route("/artifactsV2/{*rest}", get(files::by_digest_v2))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(http);
    let web = web::router(state.config.web_dir.clone());
    api.merge(web).layer(cors(&state.config.cors_origins))
}

fn cors(extra: &[String]) -> CorsLayer {
    let extra: Vec<String> = extra.to_vec();
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin: &HeaderValue, _| {
            let o = origin.to_str().unwrap_or_default();
            o.starts_with("chrome-extension://")
                || o.starts_with("http://localhost:")
                || o.starts_with("http://127.0.0.1:")
                || o == "http://localhost"
                || extra.iter().any(|e| e == o || e == "*")
        }))
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::OPTIONS])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            "use-admin-privileges".parse().unwrap_or(header::ACCEPT),
            "x-wandb-username".parse().unwrap_or(header::ACCEPT),
            "x-wandb-user-email".parse().unwrap_or(header::ACCEPT),
        ])
        .max_age(std::time::Duration::from_secs(600))
}

/// The URL the client used to reach us (for links we hand back).
pub fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(u) = &state.config.public_url {
        return u.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let proto = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("http");
    format!("{proto}://{host}")
}

fn unauthorized(message: &str) -> Response {
    let body = json!({"errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]});
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Basic realm=\"liftoff\"")],
        Json(body),
    )
        .into_response()
}

/// Authenticate a request's API key.
pub async fn caller(state: &AppState, headers: &HeaderMap) -> Result<Caller, Response> {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Err(unauthorized(
            "no API key: send `Authorization: Basic base64(api:<key>)` (set WANDB_API_KEY or run `liftoff login`)",
        ));
    };
    let Some(key) = auth::key_from_header(value) else {
        return Err(unauthorized(
            "the Authorization header must be Basic base64(api:<key>) or Bearer <key>",
        ));
    };
    match state.user_for_key(&key).await {
        Ok(Some(user)) => Ok(Caller {
            user,
            base_url: base_url(state, headers),
        }),
        Ok(None) => Err(unauthorized(
            "this API key is not valid on this server: check WANDB_API_KEY, or ask an admin for a key (`liftoff user create`)",
        )),
        Err(e) => {
            tracing::error!(error = %e, "key lookup failed");
            Err((StatusCode::SERVICE_UNAVAILABLE, Json(json!({"errors": [{"message": "the database is unavailable; retry shortly", "extensions": {"code": "UNAVAILABLE"}}]}))).into_response())
        }
    }
}

/// Why a request body was not read: too large (with the limit), or cut off.
pub(crate) fn unread_body(e: &axum::extract::rejection::BytesRejection, max: usize) -> String {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        let limit = if max >= 1 << 20 {
            format!("{} MB", max >> 20)
        } else {
            format!("{} KB", (max >> 10).max(1))
        };
        format!(
            "the request body is larger than this server takes ({limit} at most); send less at once"
        )
    } else {
        format!("the request body could not be read: {}", e.body_text())
    }
}

async fn graphql_post(
    State(http): State<Http>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let caller = match caller(&http.state, &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    // Too large (or cut off): said as GraphQL errors are, with the limit.
    let body = match body {
        Ok(b) => b,
        Err(e) => {
            let message = unread_body(&e, http.state.config.max_body_bytes);
            return (e.status(), Json(graphql::bad_request(&message))).into_response();
        }
    };
    match graphql::execute(&http.schema, caller, &body).await {
        // A busy database: a status wandb's client retries, after a second.
        Ok(v) if has_code(&v, crate::error::UNAVAILABLE) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "1")],
            Json(v),
        )
            .into_response(),
        Ok(v) => Json(v).into_response(),
        Err(v) => (StatusCode::BAD_REQUEST, Json(v)).into_response(),
    }
}

/// Whether a GraphQL response has an error with this `code` extension.
fn has_code(response: &serde_json::Value, code: &str) -> bool {
    response
        .get("errors")
        .and_then(serde_json::Value::as_array)
        .is_some_and(|errors| {
            errors.iter().any(|e| {
                e.pointer("/extensions/code")
                    .and_then(serde_json::Value::as_str)
                    == Some(code)
            })
        })
}

async fn graphql_get() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        Json(graphql::bad_request(
            "send GraphQL requests with POST /graphql",
        )),
    )
        .into_response()
}
