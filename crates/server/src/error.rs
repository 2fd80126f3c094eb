//! `ApiError`: every error a client can see, with a stable `code` extension.
//! Internal errors are logged once and answered without details.

use async_graphql::ErrorExtensions as _;

/// Deliberately not `Display`: it converts into a GraphQL error with its
/// `code` (async-graphql's blanket conversion of `Display` types would drop
/// it). Use [`ApiError::message`] for text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    NotFound(String),
    Invalid(String),
    Conflict(String),
    Forbidden(String),
    Unauthenticated(String),
    /// Logged where it happened; the client sees no details.
    Internal(String),
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "NOT_FOUND",
            Self::Invalid(_) => "INVALID_INPUT",
            Self::Conflict(_) => "CONFLICT",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::Internal(_) => "INTERNAL",
        }
    }

    /// What the client is told.
    pub fn message(&self) -> String {
        match self {
            Self::NotFound(m)
            | Self::Invalid(m)
            | Self::Conflict(m)
            | Self::Forbidden(m)
            | Self::Unauthenticated(m) => m.clone(),
            Self::Internal(_) => "internal error; the server log has the details".to_owned(),
        }
    }

    pub fn invalid(msg: impl Into<String>) -> Self {
        Self::Invalid(msg.into())
    }

    pub fn not_found(msg: impl Into<String>) -> Self {
        Self::NotFound(msg.into())
    }
}

impl From<crate::store::Error> for ApiError {
    fn from(e: crate::store::Error) -> Self {
        match e {
            crate::store::Error::Conflict(what) => Self::Conflict(format!("{what} already exists")),
            other => {
                tracing::error!(error = %other, "store error");
                Self::Internal(other.to_string())
            }
        }
    }
}

impl From<std::io::Error> for ApiError {
    fn from(e: std::io::Error) -> Self {
        tracing::error!(error = %e, "storage IO error");
        Self::Internal(e.to_string())
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(e: ApiError) -> Self {
        let code = e.code();
        async_graphql::Error::new(e.message()).extend_with(|_, ext| ext.set("code", code))
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
