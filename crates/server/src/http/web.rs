//! The built web app at `/`, with a single-page-app fallback to index.html.

use std::path::PathBuf;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse};
use tower_http::services::{ServeDir, ServeFile};

pub fn router(dir: Option<PathBuf>) -> Router {
    match dir.filter(|d| d.join("index.html").is_file()) {
        Some(d) => Router::new()
            .fallback_service(ServeDir::new(&d).fallback(ServeFile::new(d.join("index.html")))),
        None => Router::new()
            .fallback(|| async { (StatusCode::NOT_FOUND, Html(NOT_BUILT)).into_response() }),
    }
}

const NOT_BUILT: &str = "<!doctype html><html><head><meta charset=utf-8><title>Liftoff</title></head>\
<body style=\"font-family: system-ui; max-width: 40rem; margin: 4rem auto\">\
<h1>Liftoff</h1><p>The API is running at <code>/graphql</code>, but the web app is not built.</p>\
<p>Build it with <code>cargo xtask web</code> (or run everything with <code>cargo xtask up</code>), \
or point the server at a build with <code>liftoff server --web-dir DIR</code>.</p></body></html>";
