//! `liftoff-agent`: the launch agent. It reaches the queue only through
//! `liftoff-client` (never the database) and runs jobs with a [`runner::Runner`].

pub mod agent;
pub mod build;
pub mod env;
pub mod log;
pub mod runner;
pub mod source;

pub use agent::{AgentOptions, Summary, run};
