//! liftoff-server's integration tests: the store conformance suite (SQLite
//! always, PostgreSQL when `LIFTOFF_TEST_POSTGRES_URL` names a server), and
//! the GraphQL API through `app()`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api;
mod artifacts;
mod backends;
mod behaviour;
mod coverage;
mod harness;
mod isolation;
mod public_api;
mod store;
