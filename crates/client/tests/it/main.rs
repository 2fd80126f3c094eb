//! Every operation: its document is byte-exact, its request is snapshotted,
//! and it decodes the answer the official client accepts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod errors;
mod snapshots;

use std::path::PathBuf;
use std::sync::Mutex;

use liftoff_client::{HttpRequest, HttpResponse, Transport};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A transport that records requests and answers from a script.
#[derive(Default)]
pub struct Scripted {
    pub answers: Mutex<Vec<HttpResponse>>,
    pub requests: Mutex<Vec<HttpRequest>>,
}

impl Scripted {
    pub fn answering(status: u16, body: &str) -> Self {
        let s = Self::default();
        s.answers.lock().unwrap().push(HttpResponse {
            status,
            headers: vec![],
            body: body.as_bytes().to_vec(),
        });
        s
    }
}

impl Transport for Scripted {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, String> {
        self.requests.lock().unwrap().push(request);
        let mut answers = self.answers.lock().unwrap();
        if answers.is_empty() {
            Err("connection refused".into())
        } else {
            Ok(answers.remove(0))
        }
    }
}
