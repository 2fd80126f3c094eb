//! The built web app at `/`, with a single-page-app fallback to index.html.

use std::path::PathBuf;

use axum::Router;
use axum::handler::HandlerWithoutStateExt as _;
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse};
use liftoff_model::route;
use tower_http::services::ServeDir;

pub fn router(dir: Option<PathBuf>) -> Router {
    match dir.filter(|d| d.join("index.html").is_file()) {
        Some(d) => {
            let index = d.join("index.html");
            let app = move |uri: Uri| {
                let index = index.clone();
                async move {
                    // Any path gets the app (it draws its own "not found"),
                    // but only the app's pages answer 200: an API client that
                    // asks for a path we do not serve gets a 404.
                    let status = if is_app_path(uri.path()) {
                        StatusCode::OK
                    } else {
                        StatusCode::NOT_FOUND
                    };
                    match tokio::fs::read_to_string(&index).await {
                        Ok(html) => (status, Html(html)).into_response(),
                        Err(_) => (StatusCode::NOT_FOUND, Html(NOT_BUILT)).into_response(),
                    }
                }
            };
            Router::new().fallback_service(ServeDir::new(&d).fallback(app.into_service()))
        }
        None => Router::new()
            .fallback(|| async { (StatusCode::NOT_FOUND, Html(NOT_BUILT)).into_response() }),
    }
}

/// The paths the web app draws a page for (its routes, `liftoff_model::route`).
fn is_app_path(path: &str) -> bool {
    let Some((_, params)) = route::match_route(route::ROUTES, path) else {
        return false;
    };
    // A page of an entity (`/E/P`, `/E/P/jobs/...`, `/E/P/runs/R`) only for
    // what can be an entity: `/api/x`, `/files/a/runs/b` are the server's
    // paths, `/.well-known/x` no entity's.
    params.get("entity").is_none_or(|e| {
        !e.is_empty()
            && e.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            && !crate::reserved_entity_name(&e)
    })
}

const NOT_BUILT: &str = "<!doctype html><html><head><meta charset=utf-8><title>Liftoff</title></head>\
<body style=\"font-family: system-ui; max-width: 40rem; margin: 4rem auto\">\
<h1>Liftoff</h1><p>The API is running at <code>/graphql</code>, but the web app is not built.</p>\
<p>Build it with <code>cargo xtask web</code> (or run everything with <code>cargo xtask up</code>), \
or point the server at a build with <code>liftoff server --web-dir DIR</code>.</p></body></html>";

#[cfg(test)]
mod tests {
    /// The app's pages answer 200; paths an API client might ask for that
    /// are not pages answer 404.
    #[test]
    fn only_the_app_routes_are_pages() {
        for page in [
            "/",
            "/connect",
            "/launch/",
            "/launch/alice/gpu",
            "/launch/alice/gpu/agents",
            "/alice/mnist/jobs",
            "/alice/mnist/jobs/trainer/runs",
            "/alice/mnist/runs/abc123",
            "/alice/mnist",
            "/alice/mnist/runs",
        ] {
            assert!(super::is_app_path(page), "{page} is a page of the app");
        }
        for api in [
            "/api/nope",
            "/graphql/x",
            "/files/a/b",
            "/files/a/runs",
            "/files/a/runs/b",
            "/api/x/jobs/y",
            "/healthz/x",
            "/.well-known/x",
            "/launch/x",
            "/a/b/c/d/e/f",
        ] {
            assert!(!super::is_app_path(api), "{api}");
        }
    }
}
