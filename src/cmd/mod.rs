//! One module per subcommand.

mod admin;
mod server;

use crate::cli::Command;

pub async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Server(args) => server::run(args).await,
        Command::User(cmd) => admin::user(cmd).await,
        Command::Team(cmd) => admin::team(cmd).await,
    }
}

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}
