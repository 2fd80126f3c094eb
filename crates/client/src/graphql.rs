//! The GraphQL envelope and the `Operation` trait.

use std::borrow::Cow;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::{Error, GraphqlError};

/// One GraphQL operation: its document, variables and answer decoding.
pub trait Operation {
    type Output;

    /// The operation's name in its document (`popFromRunQueue`, `Viewer`).
    const NAME: &'static str;
    /// `true` for the operations wandb-core sends typed (genqlient): those
    /// carry their name as `operationName`; everything else sends `""`.
    const TYPED: bool = false;

    /// The document, byte for byte as the official client sends it.
    fn document(&self) -> Cow<'static, str>;

    /// The variables (`None`: no `variables` key at all, as wandb-core does
    /// for operations without variables).
    fn variables(&self) -> Option<Value>;

    /// Decode `data` (the operation succeeded without `errors`).
    fn decode(&self, data: Value) -> Result<Self::Output, Error>;

    /// The request body.
    fn body(&self) -> GraphqlBody {
        GraphqlBody {
            query: self.document().into_owned(),
            variables: self.variables(),
            operation_name: if Self::TYPED {
                Self::NAME.to_owned()
            } else {
                String::new()
            },
        }
    }
}

/// `{"query", "variables", "operationName"}` in genqlient's key order.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct GraphqlBody {
    pub query: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub variables: Option<Value>,
    #[serde(rename = "operationName", default)]
    pub operation_name: String,
}

/// Turn an HTTP answer into `data`, or the error it carries.
pub fn decode_response(
    operation: &str,
    url: &str,
    status: u16,
    body: &[u8],
) -> Result<Value, Error> {
    let parsed: Option<Value> = liftoff_model::json::value_from_bytes(body).ok();
    let errors = parsed
        .as_ref()
        .and_then(|v| v.get("errors"))
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|e| GraphqlError {
                    message: e
                        .get("message")
                        .and_then(Value::as_str)
                        .unwrap_or("(no message)")
                        .to_owned(),
                    code: e
                        .pointer("/extensions/code")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                })
                .collect::<Vec<_>>()
        });
    if status == 401 || status == 403 {
        return Err(Error::Unauthorized {
            url: url.to_owned(),
        });
    }
    let graphql_errors = errors.as_ref().is_some_and(|e| !e.is_empty());
    // 404/405/501: nothing answers GraphQL there (a path too many, another
    // service, a plain file server); other codes (413, 408, ...) keep the
    // operation and status.
    if matches!(status, 404 | 405 | 501) && !graphql_errors {
        return Err(Error::NotGraphql {
            url: url.to_owned(),
            status,
            body: String::from_utf8_lossy(body).chars().take(120).collect(),
        });
    }
    if !(200..300).contains(&status) {
        let message = match &errors {
            Some(errs) if !errs.is_empty() => {
                let m: Vec<&str> = errs.iter().map(|e| e.message.as_str()).collect();
                m.join("; ")
            }
            _ => String::from_utf8_lossy(body).chars().take(300).collect(),
        };
        return Err(Error::Http {
            operation: operation.to_owned(),
            status,
            message,
        });
    }
    if let Some(errors) = errors.filter(|e| !e.is_empty()) {
        return Err(Error::Graphql {
            operation: operation.to_owned(),
            errors,
        });
    }
    match parsed {
        Some(Value::Object(mut top)) => Ok(top.remove("data").unwrap_or(Value::Null)),
        _ => Err(Error::Decode {
            operation: operation.to_owned(),
            message: format!(
                "the answer is not a GraphQL JSON object (is {url} a W&B-compatible server?): {}",
                String::from_utf8_lossy(body)
                    .chars()
                    .take(120)
                    .collect::<String>()
            ),
        }),
    }
}

/// Follow `path` through objects; `None` if any step is missing or null.
pub fn at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut cur = value;
    for key in path {
        cur = cur.get(*key)?;
    }
    (!cur.is_null()).then_some(cur)
}

/// `edges[].node` of a connection.
pub fn nodes(connection: Option<&Value>) -> Vec<&Value> {
    connection
        .and_then(|c| c.get("edges"))
        .and_then(Value::as_array)
        .map(|edges| {
            edges
                .iter()
                .filter_map(|e| e.get("node"))
                .filter(|n| !n.is_null())
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn decode_err(operation: &str, message: impl Into<String>) -> Error {
    Error::Decode {
        operation: operation.to_owned(),
        message: message.into(),
    }
}

pub(crate) fn from_value<T: serde::de::DeserializeOwned>(
    operation: &str,
    v: &Value,
) -> Result<T, Error> {
    serde_json::from_value(v.clone()).map_err(|e| decode_err(operation, e.to_string()))
}

pub(crate) fn string_at(operation: &str, v: &Value, path: &[&str]) -> Result<String, Error> {
    at(v, path)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| decode_err(operation, format!("missing {}", path.join("."))))
}

/// `{"success": true}` or `Error::Rejected`.
pub(crate) fn success(operation: &str, v: Option<&Value>, refused: &str) -> Result<(), Error> {
    match v.and_then(|p| p.get("success")).and_then(Value::as_bool) {
        Some(true) => Ok(()),
        _ => Err(Error::Rejected {
            operation: operation.to_owned(),
            message: refused.to_owned(),
        }),
    }
}

/// Build a variables object from pairs, keeping their order.
pub(crate) fn vars<const N: usize>(pairs: [(&str, Value); N]) -> Option<Value> {
    let map: Map<String, Value> = pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    Some(Value::Object(map))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_that_is_not_graphql_is_said_to_be_so_not_dumped() {
        let html = b"<!DOCTYPE HTML><html><body><h1>Error response</h1><p>Error code: 501</p></body></html>";
        for status in [404, 405, 501] {
            let e =
                decode_response("Viewer", "http://127.0.0.1:1/graphql", status, html).unwrap_err();
            assert!(matches!(e, Error::NotGraphql { .. }), "{status}: {e:?}");
        }
        // A proxy's 502 stays an HTTP error, which is retried.
        let e = decode_response("Viewer", "http://127.0.0.1:1/graphql", 502, html).unwrap_err();
        assert!(e.is_transient(), "{e:?}");
    }
}
