pub mod connect;
pub mod job;
pub mod jobs;
pub mod launch;
pub mod not_found;
pub mod queue;
pub mod run;
