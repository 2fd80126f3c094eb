//! The native transport: reqwest with rustls (ring).

use std::sync::Once;
use std::time::Duration;

use crate::transport::{HttpRequest, HttpResponse, Transport};

/// Per-request timeout (`WANDB_HTTP_TIMEOUT`'s default is 20 s; long-poll
/// pops add their wait on top).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Clone, Debug)]
pub struct NativeTransport {
    client: reqwest::Client,
}

static CRYPTO: Once = Once::new();

impl NativeTransport {
    pub fn new() -> Result<Self, String> {
        Self::with_timeout(DEFAULT_TIMEOUT)
    }

    pub fn with_timeout(timeout: Duration) -> Result<Self, String> {
        CRYPTO.call_once(|| {
            // Fails only if another provider was installed first, which is fine.
            let _ = rustls::crypto::ring::default_provider().install_default();
        });
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(10))
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| format!("cannot set up HTTP: {e}"))?;
        Ok(Self { client })
    }
}

impl Transport for NativeTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, String> {
        let method =
            reqwest::Method::from_bytes(request.method.as_bytes()).map_err(|e| e.to_string())?;
        let mut builder = self.client.request(method, &request.url);
        for (k, v) in &request.headers {
            builder = builder.header(k, v);
        }
        if !request.body.is_empty() || request.method == "PUT" || request.method == "POST" {
            builder = builder.body(request.body);
        }
        let response = builder.send().await.map_err(describe)?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    v.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let body = response.bytes().await.map_err(describe)?.to_vec();
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

fn describe(e: reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut root: &dyn std::error::Error = &e;
    while let Some(s) = root.source() {
        text.push_str(": ");
        text.push_str(&s.to_string());
        root = s;
    }
    if e.is_timeout() {
        format!("timed out ({text})")
    } else if e.is_connect() {
        // The innermost cause says it plainly; reqwest's and hyper's wrappers
        // add nothing. Only a refusal or an unknown host calls for the hint.
        let refused = root
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused);
        let cause = root.to_string();
        if refused {
            "connection refused; is a server running at that address?".to_owned()
        } else if text.contains("dns error") || cause.contains("lookup address") {
            format!("{cause}; is the host name right?")
        } else if cause.contains("InvalidContentType") || cause.contains("corrupt message") {
            // TLS spoken to a server that answers plain HTTP.
            format!("{cause}; the server does not speak TLS: use http:// instead of https://")
        } else {
            cause
        }
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_refused_connection_is_said_plainly() {
        // Port 1 on loopback: nothing listens there.
        let err = NativeTransport::new()
            .unwrap()
            .send(HttpRequest {
                method: "POST",
                url: "http://127.0.0.1:1/graphql".into(),
                headers: vec![],
                body: vec![],
            })
            .await
            .unwrap_err();
        assert_eq!(
            err,
            "connection refused; is a server running at that address?"
        );
    }
}
