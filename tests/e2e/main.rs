//! End-to-end tests of the real `liftoff` binary: a server on a random port
//! with a temp SQLite file (or PostgreSQL), real clients.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod agent;
mod container;
mod harness;
mod server;
mod stress;
mod wandb_public_api;
mod wandb_sdk;
