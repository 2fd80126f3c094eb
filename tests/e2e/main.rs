//! End-to-end tests of the real `liftoff` binary: a server on a random port
//! with a temp SQLite file (or PostgreSQL), real clients.

mod agent;
mod container;
mod harness;
mod server;
mod wandb_sdk;
