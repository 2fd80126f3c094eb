use crate::auth::Credentials;
use crate::error::Error;
use serde_json::Value;

use crate::graphql::{GraphqlBody, Operation, decode_response};
use crate::transport::{HttpRequest, HttpResponse, Transport};

/// A W&B-compatible server, reached through a transport.
#[derive(Clone, Debug)]
pub struct Client<T> {
    transport: T,
    credentials: Credentials,
    user_agent: String,
}

impl<T: Transport> Client<T> {
    pub fn new(transport: T, credentials: Credentials) -> Self {
        Self {
            transport,
            credentials,
            user_agent: crate::USER_AGENT.to_owned(),
        }
    }

    pub fn with_user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = ua.into();
        self
    }

    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    pub fn base_url(&self) -> &str {
        &self.credentials.base_url
    }

    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// The HTTP request an operation becomes.
    pub fn request<O: Operation>(&self, op: &O) -> HttpRequest {
        self.graphql_request(&op.body())
    }

    /// The non-generic part of [`Client::request`] (one copy in the wasm,
    /// not one per operation).
    fn graphql_request(&self, body: &GraphqlBody) -> HttpRequest {
        let body = serde_json::to_vec(body).unwrap_or_default();
        HttpRequest {
            method: "POST",
            url: self.credentials.graphql_url(),
            headers: vec![
                ("Authorization".into(), self.credentials.authorization()),
                ("Content-Type".into(), "application/json".into()),
                ("User-Agent".into(), self.user_agent.clone()),
                ("Use-Admin-Privileges".into(), "true".into()),
            ],
            body,
        }
    }

    /// Send an operation and decode its answer.
    pub async fn call<O: Operation>(&self, op: O) -> Result<O::Output, Error> {
        let data = self.exchange(O::NAME, &op.body()).await?;
        op.decode(data)
    }

    /// Send a GraphQL body and answer its `data`: everything of
    /// [`Client::call`] that does not depend on the operation's type.
    async fn exchange(&self, name: &'static str, body: &GraphqlBody) -> Result<Value, Error> {
        let request = self.graphql_request(body);
        let url = request.url.clone();
        let response = self.send(request).await?;
        decode_response(name, &url, response.status, &response.body)
    }

    /// Send one request; a transport failure names the URL.
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, Error> {
        let url = request.url.clone();
        self.transport
            .send(request)
            .await
            .map_err(|message| Error::Network { url, message })
    }

    /// Decode a raw answer (exposed for transports that do their own IO).
    pub fn finish<O: Operation>(
        op: &O,
        url: &str,
        response: &HttpResponse,
    ) -> Result<O::Output, Error> {
        let data = decode_response(O::NAME, url, response.status, &response.body)?;
        op.decode(data)
    }

    /// A plain authenticated GET (artifact downloads on this server).
    pub async fn get(&self, url: &str) -> Result<Vec<u8>, Error> {
        let mut headers = vec![("User-Agent".to_owned(), self.user_agent.clone())];
        if url.starts_with(&self.credentials.base_url) {
            headers.push(("Authorization".into(), self.credentials.authorization()));
        }
        let request = HttpRequest {
            method: "GET",
            url: url.to_owned(),
            headers,
            body: vec![],
        };
        let response = self
            .transport
            .send(request)
            .await
            .map_err(|message| Error::Network {
                url: url.to_owned(),
                message,
            })?;
        match response.status {
            200..=299 => Ok(response.body),
            401 | 403 => Err(Error::Unauthorized {
                url: url.to_owned(),
            }),
            status => Err(Error::Http {
                operation: format!("GET {url}"),
                status,
                message: String::from_utf8_lossy(&response.body)
                    .chars()
                    .take(300)
                    .collect(),
            }),
        }
    }

    /// POST a file_stream request for a run (rest.md §1); answers the
    /// server's JSON (`stopped` tells the run to stop).
    pub async fn file_stream(
        &self,
        entity: &str,
        project: &str,
        run: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, Error> {
        let url = format!(
            "{}/files/{entity}/{project}/{run}/file_stream",
            self.credentials.base_url
        );
        let request = HttpRequest {
            method: "POST",
            url: url.clone(),
            headers: vec![
                ("Authorization".into(), self.credentials.authorization()),
                ("Content-Type".into(), "application/json".into()),
                ("User-Agent".into(), self.user_agent.clone()),
            ],
            body: serde_json::to_vec(body).unwrap_or_default(),
        };
        let response = self.send(request).await?;
        match response.status {
            200..=299 => Ok(liftoff_model::json::value_from_bytes(&response.body)
                .unwrap_or(serde_json::Value::Null)),
            401 | 403 => Err(Error::Unauthorized { url }),
            status => Err(Error::Http {
                operation: "file_stream".into(),
                status,
                message: String::from_utf8_lossy(&response.body)
                    .chars()
                    .take(300)
                    .collect(),
            }),
        }
    }

    /// A raw PUT to an upload URL (no `Authorization`: the URL is signed).
    pub async fn put(
        &self,
        url: &str,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> Result<(), Error> {
        let request = HttpRequest {
            method: "PUT",
            url: url.to_owned(),
            headers,
            body,
        };
        let response = self
            .transport
            .send(request)
            .await
            .map_err(|message| Error::Network {
                url: url.to_owned(),
                message,
            })?;
        match response.status {
            200..=299 => Ok(()),
            status => Err(Error::Http {
                operation: format!("PUT {url}"),
                status,
                message: String::from_utf8_lossy(&response.body)
                    .chars()
                    .take(300)
                    .collect(),
            }),
        }
    }
}
