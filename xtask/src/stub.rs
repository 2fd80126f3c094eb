//! A tiny GraphQL endpoint for the browser transport test
//! (crates/client/tests/browser.rs): answers `query Viewer` over real HTTP,
//! with CORS, on 127.0.0.1 and a free port. Test-only; std only.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};

/// The only Authorization the stub accepts: `Basic base64("api:liftoff-browser-test")`.
pub const AUTHORIZATION: &str = "Basic YXBpOmxpZnRvZmYtYnJvd3Nlci10ZXN0";

const CORS: &str = "Access-Control-Allow-Origin: *\r\n\
                    Access-Control-Allow-Methods: POST, GET, OPTIONS\r\n\
                    Access-Control-Allow-Headers: Authorization, Content-Type, Use-Admin-Privileges, User-Agent\r\n\
                    Access-Control-Max-Age: 600\r\n";

/// A running stub; it lives until xtask exits.
pub struct Stub {
    /// `http://127.0.0.1:PORT/graphql`.
    pub url: String,
    posts: Arc<AtomicUsize>,
}

impl Stub {
    pub fn start() -> Result<Stub> {
        let listener = TcpListener::bind("127.0.0.1:0").context("binding the GraphQL stub")?;
        let url = format!("http://{}/graphql", listener.local_addr()?);
        let posts = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&posts);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let counter = Arc::clone(&counter);
                std::thread::spawn(move || {
                    if let Err(e) = serve(stream, &counter) {
                        eprintln!("graphql stub: {e:#}");
                    }
                });
            }
        });
        Ok(Stub { url, posts })
    }

    /// How many POSTs reached the stub (so a silently skipped test shows).
    pub fn posts(&self) -> usize {
        self.posts.load(Ordering::SeqCst)
    }
}

/// A URL on 127.0.0.1 where nothing listens (a port just freed).
pub fn dead_url() -> Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    drop(listener);
    Ok(format!("http://{addr}/graphql"))
}

struct Request {
    method: String,
    path: String,
    authorization: Option<String>,
    body: Vec<u8>,
}

fn read_request(stream: &TcpStream) -> Result<Request> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut words = line.split_whitespace();
    let method = words.next().unwrap_or_default().to_owned();
    let path = words.next().unwrap_or_default().to_owned();
    let (mut length, mut authorization) = (0usize, None);
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            let value = value.trim().to_owned();
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = value.parse().context("Content-Length")?,
                "authorization" => authorization = Some(value),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length.min(1 << 20)];
    reader.read_exact(&mut body)?;
    Ok(Request {
        method,
        path,
        authorization,
        body,
    })
}

fn serve(mut stream: TcpStream, posts: &AtomicUsize) -> Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let request = read_request(&stream)?;
    let (status, body) = answer(&request);
    if request.method == "POST" {
        posts.fetch_add(1, Ordering::SeqCst);
    }
    let head = format!(
        "HTTP/1.1 {status}\r\n{CORS}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    stream.flush()?;
    Ok(())
}

fn answer(request: &Request) -> (&'static str, String) {
    let error = |message: &str| format!(r#"{{"errors":[{{"message":"{message}"}}]}}"#);
    match (request.method.as_str(), request.path.as_str()) {
        ("OPTIONS", _) => ("204 No Content", String::new()),
        ("POST", "/graphql") => {
            let Some(authorization) = request
                .authorization
                .as_deref()
                .filter(|a| *a == AUTHORIZATION)
            else {
                return ("401 Unauthorized", error("invalid API key"));
            };
            let body = String::from_utf8_lossy(&request.body);
            if !body.contains(r#""operationName":"Viewer""#) || !body.contains("query Viewer") {
                return (
                    "400 Bad Request",
                    error("the stub answers only `query Viewer`"),
                );
            }
            // The email echoes the Authorization header, so the test sees what arrived.
            let viewer = format!(
                r#"{{"data":{{"viewer":{{"id":"VXNlcjox","entity":"liftoff-ci","username":"browser-test","email":"{authorization}","flags":null,"teams":{{"edges":[{{"node":{{"name":"liftoff-team"}}}}]}}}}}}}}"#
            );
            ("200 OK", viewer)
        }
        _ => ("404 Not Found", error("not found")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(url: &str, raw: &str) -> String {
        let addr = url
            .trim_start_matches("http://")
            .trim_end_matches("/graphql");
        let mut stream = TcpStream::connect(addr).expect("connect");
        stream.write_all(raw.as_bytes()).expect("write");
        let mut out = String::new();
        stream.read_to_string(&mut out).expect("read");
        out
    }

    fn post(url: &str, authorization: &str, body: &str) -> String {
        exchange(
            url,
            &format!(
                "POST /graphql HTTP/1.1\r\nHost: x\r\n{authorization}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            ),
        )
    }

    #[test]
    fn answers_preflight_viewer_and_refuses_a_bad_key() {
        let stub = Stub::start().expect("stub");
        let preflight = exchange(&stub.url, "OPTIONS /graphql HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(preflight.starts_with("HTTP/1.1 204"), "{preflight}");
        assert!(preflight.contains(
            "Access-Control-Allow-Headers: Authorization, Content-Type, Use-Admin-Privileges"
        ));

        let viewer = r#"{"query":"query Viewer { viewer { id } }","operationName":"Viewer"}"#;
        let ok = post(
            &stub.url,
            &format!("Authorization: {AUTHORIZATION}\r\n"),
            viewer,
        );
        assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
        assert!(
            ok.contains(r#""entity":"liftoff-ci""#) && ok.contains(AUTHORIZATION),
            "{ok}"
        );
        assert!(ok.contains("Access-Control-Allow-Origin: *"));

        let refused = post(&stub.url, "Authorization: Basic bm9wZQ==\r\n", viewer);
        assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
        let other = post(
            &stub.url,
            &format!("Authorization: {AUTHORIZATION}\r\n"),
            "{}",
        );
        assert!(other.starts_with("HTTP/1.1 400"), "{other}");
        assert_eq!(stub.posts(), 3);
    }

    #[test]
    fn a_dead_url_refuses_connections() {
        let url = dead_url().expect("port");
        let addr = url
            .trim_start_matches("http://")
            .trim_end_matches("/graphql");
        assert!(TcpStream::connect(addr).is_err());
    }
}
