//! `liftoff-server`: the W&B-compatible API server.

pub mod store;
