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
    /// The database is busy or out of reach for now: answered with HTTP 503
    /// and `Retry-After`, which wandb's client retries (it never retries a
    /// 200, so one busy moment would fail the agent's ack or the run).
    Unavailable(String),
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
            Self::Unavailable(_) => UNAVAILABLE,
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
            Self::Unavailable(_) => {
                "the server's database is busy or out of reach; try again shortly".to_owned()
            }
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
            crate::store::Error::Db(db) if transient(&db) => {
                tracing::warn!(error = %db, "database busy or unreachable");
                Self::Unavailable(db.to_string())
            }
            other => {
                tracing::error!(error = %other, "store error");
                Self::Internal(other.to_string())
            }
        }
    }
}

/// The `code` of [`ApiError::Unavailable`].
pub const UNAVAILABLE: &str = "UNAVAILABLE";

/// A database error that passes: no connection free in time, the
/// connection lost, SQLite busy or locked, a PostgreSQL serialization
/// failure, deadlock, shutdown or connection error.
fn transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => true,
        sqlx::Error::Database(d) => {
            let code = d.code().unwrap_or_default();
            // SQLite: 5 SQLITE_BUSY, 6 SQLITE_LOCKED (and their extended
            // codes, whose low byte they are); PostgreSQL: SQLSTATE classes
            // 08 (connection), 40001, 40P01, 57P0x.
            // (SQLite's codes are at most 4 digits; a PostgreSQL SQLSTATE is
            // always 5 characters, some all digits, as 42501.)
            let sqlite =
                code.len() < 5 && code.parse::<i64>().is_ok_and(|n| matches!(n & 0xff, 5 | 6));
            sqlite
                || code.starts_with("08")
                || code == "40001"
                || code == "40P01"
                || code.starts_with("57P0")
        }
        _ => false,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_database_is_unavailable_and_a_broken_one_internal() {
        let api = |e: sqlx::Error| ApiError::from(crate::store::Error::Db(e));
        assert_eq!(api(sqlx::Error::PoolTimedOut).code(), UNAVAILABLE);
        assert_eq!(
            api(sqlx::Error::Io(std::io::ErrorKind::ConnectionReset.into())).code(),
            UNAVAILABLE
        );
        assert_eq!(api(sqlx::Error::RowNotFound).code(), "INTERNAL");
        assert_eq!(
            api(sqlx::Error::PoolTimedOut).message(),
            "the server's database is busy or out of reach; try again shortly"
        );
    }
}
