//! One module per subcommand.

mod admin;
pub mod agent;
mod conn;
mod job;
mod launch;
mod login;
mod queue;
mod server;
mod shlex;
mod up;

use crate::cli::Command;

pub async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Server(args) => server::run(args).await,
        Command::Up(args) => up::run(args).await,
        Command::Agent(args) => agent::run(args).await,
        Command::Queue(cmd) => queue::run(cmd).await,
        Command::Launch(args) => Box::pin(launch::run(*args)).await,
        Command::Job(cmd) => job::run(cmd).await,
        Command::Login(args) => login::run(args).await,
        Command::User(cmd) => admin::user(cmd).await,
        Command::Team(cmd) => admin::team(cmd).await,
    }
}

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}
