//! liftoff-server's integration tests: the store conformance suite (SQLite
//! always, PostgreSQL when `LIFTOFF_TEST_POSTGRES_URL` names a server), and
//! the GraphQL API through `app()`.

mod backends;
mod store;
