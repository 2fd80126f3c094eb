//! `client::Error`: what can go wrong calling a W&B-compatible server.

use serde::{Deserialize, Serialize};

/// One entry of a GraphQL `errors` array.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphqlError {
    pub message: String,
    /// `extensions.code`, when the server sets one (Liftoff always does).
    #[serde(default)]
    pub code: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// No answer: connection refused, DNS, timeout, CORS...
    #[error("cannot reach {url}: {message}")]
    Network { url: String, message: String },
    /// The key was refused (HTTP 401/403, or `viewer` is null).
    #[error(
        "the server at {url} refused the API key: check the key given (--api-key, WANDB_API_KEY or ~/.netrc) or run `liftoff login`"
    )]
    Unauthorized { url: String },
    /// A non-2xx answer.
    #[error("{operation}: HTTP {status}: {message}")]
    Http {
        operation: String,
        status: u16,
        message: String,
    },
    /// A 404 or 405 that is not GraphQL: the address is likely not a
    /// W&B-compatible server's (a path too many, another service).
    #[error(
        "{url} answered HTTP {status}{}, not GraphQL: is the server's address right? Give a W&B or Liftoff server's base URL with no path (such as http://localhost:8080 or https://api.wandb.ai)",
        body_excerpt(.body)
    )]
    NotGraphql {
        url: String,
        status: u16,
        body: String,
    },
    /// HTTP 200 with an `errors` array: the whole call failed. Errors the
    /// caller can act on (bad input, a conflict, not found, forbidden: the
    /// codes a Liftoff server sets) read as the server's words alone; any
    /// other is prefixed with the operation, which helps with a server's bug.
    #[error("{}", graphql_message(.operation, .errors))]
    Graphql {
        operation: String,
        errors: Vec<GraphqlError>,
    },
    /// The answer does not have the expected shape.
    #[error("{operation}: unexpected answer: {message}")]
    Decode { operation: String, message: String },
    /// The server answered null where something was expected.
    #[error("{what} not found or access denied")]
    NotFound { what: String },
    /// The server answered `success: false`.
    #[error("{operation} was refused: {message}")]
    Rejected { operation: String, message: String },
}

/// `extensions.code`s that mean "you asked for something wrong": the
/// message says what and how to fix it, so the operation's name adds nothing.
const USER_CODES: [&str; 4] = ["INVALID_INPUT", "CONFLICT", "NOT_FOUND", "FORBIDDEN"];

fn graphql_message(operation: &str, errors: &[GraphqlError]) -> String {
    let for_the_user = !errors.is_empty()
        && errors
            .iter()
            .all(|e| e.code.as_deref().is_some_and(|c| USER_CODES.contains(&c)));
    if for_the_user {
        join(errors)
    } else {
        format!("{operation}: {}", join(errors))
    }
}

fn body_excerpt(body: &str) -> String {
    if body.trim().is_empty() {
        String::new()
    } else {
        format!(" ({:?})", body.trim())
    }
}

fn join(errors: &[GraphqlError]) -> String {
    let msgs: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
    if msgs.len() == 1 {
        msgs[0].to_owned()
    } else {
        format!("[{}]", msgs.join("; "))
    }
}

impl Error {
    /// The first GraphQL error code, if any.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Graphql { errors, .. } => errors.iter().find_map(|e| e.code.as_deref()),
            _ => None,
        }
    }

    /// The server does not know a field this client asked for (an older or
    /// non-Liftoff server): the caller may fall back.
    pub fn is_unknown_field(&self) -> bool {
        let msgs: Vec<&str> = match self {
            Self::Graphql { errors, .. } => errors.iter().map(|e| e.message.as_str()).collect(),
            Self::Http { message, .. } => vec![message.as_str()],
            _ => vec![],
        };
        msgs.iter()
            .any(|m| m.contains("Cannot query field") || m.contains("Unknown argument"))
    }

    /// Worth retrying later (network trouble, 429, 5xx except 501).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Network { .. } => true,
            Self::Http { status, .. } => *status == 429 || (*status >= 500 && *status != 501),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graphql(codes: &[Option<&str>]) -> Error {
        Error::Graphql {
            operation: "pushToRunQueueByName".into(),
            errors: codes
                .iter()
                .enumerate()
                .map(|(i, code)| GraphqlError {
                    message: format!("problem {i}"),
                    code: code.map(str::to_owned),
                })
                .collect(),
        }
    }

    #[test]
    fn errors_the_user_can_fix_read_without_the_operation() {
        assert_eq!(graphql(&[Some("INVALID_INPUT")]).to_string(), "problem 0");
        assert_eq!(
            graphql(&[Some("CONFLICT"), Some("NOT_FOUND")]).to_string(),
            "[problem 0; problem 1]"
        );
        // A server's own failure, or an error without a code (W&B's), keeps it.
        assert_eq!(
            graphql(&[Some("INTERNAL")]).to_string(),
            "pushToRunQueueByName: problem 0"
        );
        assert_eq!(
            graphql(&[Some("FORBIDDEN"), None]).to_string(),
            "pushToRunQueueByName: [problem 0; problem 1]"
        );
    }
}
