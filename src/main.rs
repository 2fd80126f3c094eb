//! `liftoff`: every command. Wiring only: parse the command line and run the
//! subcommand (see the library, `src/lib.rs`; `liftoff agent` hands over to
//! `liftoff-agent` when it can).

use std::process::ExitCode;

use clap::Parser;
use liftoff::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse_from(liftoff::cli_args(std::env::args_os()));
    if matches!(cli.command, Command::Agent(_)) {
        liftoff::exec_slim_agent();
    }
    let multi_thread = matches!(cli.command, Command::Server(_) | Command::Up(_));
    let log_file = match &cli.command {
        Command::Agent(a) => a.log_file.clone(),
        _ => None,
    };
    liftoff::main_with(
        cli.verbose,
        log_file.as_deref(),
        multi_thread,
        liftoff::cmd::run(cli.command),
    )
}
