//! `liftoff`: the one binary. Wiring only: parse the command line, run the
//! subcommand, print errors as `error: ...` and map them to exit codes
//! (0 ok, 1 the job failed, 2 usage or setup error).

mod cli;
mod cmd;

use std::process::ExitCode;

use clap::Parser;

/// An error that means "the job failed" (exit 1) rather than "you used it wrong" (exit 2).
#[derive(Debug)]
pub struct JobFailed(pub String);

impl std::fmt::Display for JobFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for JobFailed {}

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    init_logging(cli.verbose);
    // The server (and `up`, which embeds it) serves many clients at once on
    // every core. The agent and the CLI wait on the network and on their
    // jobs' processes: one thread does that, in less memory.
    let mut builder = match cli.command {
        cli::Command::Server(_) | cli::Command::Up(_) => {
            tokio::runtime::Builder::new_multi_thread()
        }
        _ => tokio::runtime::Builder::new_current_thread(),
    };
    let runtime = match builder.enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(cmd::run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            if e.downcast_ref::<JobFailed>().is_some() {
                ExitCode::from(1)
            } else {
                ExitCode::from(2)
            }
        }
    }
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "info,sqlx=warn,tower_http=warn",
        1 => "debug,sqlx=warn,hyper=info",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("LIFTOFF_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}
