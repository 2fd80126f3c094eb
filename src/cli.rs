//! The command line (clap derive). Flags follow `wandb`'s where a W&B
//! command exists.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "liftoff", version, about = "W&B Launch, rebuilt in Rust: queues, agents, jobs, a web app and a W&B-compatible server.")]
pub struct Cli {
    /// More logging (-v debug, -vv trace). `LIFTOFF_LOG` overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the W&B-compatible API server (and the web app).
    #[command(after_help = "Examples:\n  liftoff server\n  liftoff server --addr 0.0.0.0:8080 --database-url postgres://liftoff@db/liftoff\n\nOn first start the server creates the user `admin` and prints its API key once\n(also written to DATA_DIR/admin-api-key). Set LIFTOFF_ADMIN_API_KEY to choose it.")]
    Server(ServerArgs),
    /// Manage users (admin).
    #[command(subcommand)]
    User(UserCommand),
    /// Manage teams (admin).
    #[command(subcommand)]
    Team(TeamCommand),
}

#[derive(Args, Debug, Clone)]
pub struct StoreArgs {
    /// Where Liftoff keeps its SQLite database and uploaded files.
    #[arg(long, env = "LIFTOFF_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Use PostgreSQL instead of the embedded SQLite file (several servers may share it).
    #[arg(long, env = "LIFTOFF_DATABASE_URL", value_name = "URL")]
    pub database_url: Option<String>,
}

#[derive(Args, Debug)]
pub struct ServerArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "LIFTOFF_ADDR")]
    pub addr: SocketAddr,
    #[command(flatten)]
    pub store: StoreArgs,
    /// The built web app to serve at / (default: the Trunk build directory, when present).
    #[arg(long, value_name = "DIR")]
    pub web_dir: Option<PathBuf>,
    /// Extra origins allowed to call the API from a browser (the server's own
    /// origin, localhost and chrome-extension:// are always allowed).
    #[arg(long = "cors-origin", value_name = "ORIGIN")]
    pub cors_origins: Vec<String>,
    /// The URL clients reach this server at, for upload/download links
    /// (default: taken from each request's Host header).
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// Seconds a popped item stays leased to an agent before it is handed out again.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub lease_secs: u64,
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a user (and their entity); prints their API key.
    #[command(after_help = "Example:\n  liftoff user create alice")]
    Create {
        /// Lowercase letters, digits, '-' or '_'.
        name: String,
        /// Make the user an admin.
        #[arg(long)]
        admin: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum TeamCommand {
    /// Create a team entity with members.
    #[command(after_help = "Example:\n  liftoff team create ml-team --member alice --member bob")]
    Create {
        name: String,
        /// A user to add (repeatable).
        #[arg(long = "member", value_name = "USER")]
        members: Vec<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
}
