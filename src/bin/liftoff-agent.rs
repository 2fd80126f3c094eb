//! `liftoff-agent`: `liftoff agent` alone. It links the agent and the client
//! but none of the server, so an idle agent maps a fraction of `liftoff`'s
//! code; `liftoff agent` hands over to it (see `liftoff::exec_slim_agent`).

use std::process::ExitCode;

use clap::Parser;
use liftoff::cli::AgentArgs;

#[derive(Parser, Debug)]
#[command(
    name = "liftoff-agent",
    version,
    about = "Run a launch agent: poll queues and run their jobs (like `wandb launch-agent`); the same as `liftoff agent`.",
    after_help = liftoff::cli::AGENT_EXAMPLES
)]
struct Cli {
    /// More logging (-v debug, twice for trace), as wandb launch-agent's -v. `LIFTOFF_LOG` overrides.
    #[arg(short, long, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(flatten)]
    agent: AgentArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Only the agent: `liftoff::cmd::run` would link every command.
    let log_file = cli.agent.log_file.clone();
    liftoff::main_with(
        cli.verbose,
        log_file.as_deref(),
        false,
        liftoff::cmd::agent::run(cli.agent),
    )
}
