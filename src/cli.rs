//! The command line (clap derive). Flags follow `wandb`'s where a W&B
//! command exists.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// `liftoff agent --help`'s examples (also `liftoff-agent --help`'s).
pub const AGENT_EXAMPLES: &str = "Examples:\n  liftoff agent -q default\n  liftoff agent -q gpu -q cpu -e ml-team -j 4\n  liftoff agent -c ~/.config/wandb/launch-config.yaml\n\nThe API key and server come from WANDB_API_KEY / WANDB_BASE_URL or ~/.netrc (`liftoff login`).";

#[derive(Parser, Debug)]
#[command(
    name = "liftoff",
    version,
    about = "W&B Launch, rebuilt in Rust: queues, agents, jobs, a web app and a W&B-compatible server."
)]
pub struct Cli {
    /// More logging (--verbose debug, twice for trace; `agent -v`, `-vv` as `wandb launch-agent`). `LIFTOFF_LOG` overrides.
    #[arg(long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run everything on this machine: the server, the web app and a local agent.
    #[command(
        after_help = "Example:\n  liftoff up            # then open the printed URL and paste the printed key\n\nThe agent polls the queue `default` (created as a local-process queue) of the admin entity."
    )]
    Up(UpArgs),
    /// Run the W&B-compatible API server (and the web app).
    #[command(
        after_help = "Examples:\n  liftoff server\n  liftoff server --addr 0.0.0.0:8080 --database-url postgres://liftoff@db/liftoff\n\nOn first start the server creates the user `admin` and prints its API key once\n(also written to DATA_DIR/admin-api-key; with --database-url, to DATA_DIR/admin-api-key.HASH,\none file per database). Set LIFTOFF_ADMIN_API_KEY to choose it."
    )]
    Server(ServerArgs),
    /// Run a launch agent: poll queues and run their jobs (like `wandb launch-agent`).
    #[command(after_help = AGENT_EXAMPLES, visible_alias = "launch-agent")]
    Agent(AgentArgs),
    /// Launch a job: push it to a queue, or run it here (like `wandb launch`).
    #[command(
        after_help = "Examples:\n  liftoff launch --uri . --entry-point 'python train.py' --queue default\n  liftoff launch --job alice/proj/job-train:latest --queue gpu --priority high --set-var gpus=2\n  liftoff launch --docker-image busybox:1.36 --entry-point 'echo hi' --queue cpu --project proj\n  liftoff launch --entry-point 'python -c \"print(1)\"' --resource local-process   # runs here, now"
    )]
    Launch(Box<LaunchArgs>),
    /// Create, list and describe jobs (like `wandb job`).
    #[command(subcommand)]
    Job(JobCommand),
    /// Manage queues.
    #[command(subcommand)]
    Queue(QueueCommand),
    /// Save an API key for a server in ~/.netrc and use that server from now on (like `wandb login`).
    #[command(
        after_help = "Examples:\n  liftoff login --host http://127.0.0.1:8080\n  echo $KEY | liftoff login --host https://api.wandb.ai"
    )]
    Login(LoginArgs),
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
    #[arg(long, default_value = "127.0.0.1:8080", env = "LIFTOFF_ADDR", value_parser = socket_addr)]
    pub addr: SocketAddr,
    /// Port to listen on, on the host of --addr (as `wandb server start -p`).
    #[arg(short, long, value_parser = clap::value_parser!(u16).range(1..))]
    pub port: Option<u16>,
    #[command(flatten)]
    pub store: StoreArgs,
    /// The built web app to serve at / (default: LIFTOFF_WEB_DIR, else the Trunk build directory, when present).
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
    /// Forward the API to this W&B-compatible server (e.g. https://api.wandb.ai)
    /// with each user's own key, and serve only the web app from here.
    #[arg(long, value_name = "URL")]
    pub upstream: Option<String>,
    /// Seconds a popped item stays leased to an agent before it is handed out again.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub lease_secs: u64,
    /// Seconds without a heartbeat after which an agent is gone: its claimed
    /// items fail and their runs are marked crashed (3 heartbeats of 20 s).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub agent_gone_after_secs: u64,
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a user (and their entity); prints their API key.
    #[command(
        after_help = "Example:\n  liftoff user create alice --data-dir ~/.local/share/liftoff   # the data dir of the server"
    )]
    Create {
        /// Lowercase letters, digits, '-' or '_'.
        name: String,
        /// Make the user an admin.
        #[arg(long)]
        admin: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// One more API key for a user (who lost theirs); prints it. Their other keys still work,
    /// unless --revoke-others.
    #[command(
        after_help = "Examples:\n  liftoff user key alice --data-dir ~/.local/share/liftoff\n  liftoff user key alice --revoke-others --data-dir ~/.local/share/liftoff   # a leaked key"
    )]
    Key {
        /// The user to make a new API key for.
        name: String,
        /// Revoke every other key of the user (a running server stops taking them within 30 s).
        #[arg(long)]
        revoke_others: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Deactivate a user: revoke every API key of theirs (a running server stops taking them
    /// within 30 s). Their runs, jobs and queues are kept; `user key NAME` gives them a key again.
    #[command(
        after_help = "Example:\n  liftoff user deactivate alice --data-dir ~/.local/share/liftoff"
    )]
    Deactivate {
        /// The user to deactivate.
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List the users: admin or not, how many API keys, teams.
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum TeamCommand {
    /// Create a team entity with members.
    #[command(
        after_help = "Example:\n  liftoff team create ml-team --member alice --member bob --data-dir ~/.local/share/liftoff"
    )]
    Create {
        /// The team's name (an entity of its own).
        name: String,
        /// A user to add (repeatable).
        #[arg(long = "member", value_name = "USER")]
        members: Vec<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Add users to a team.
    #[command(
        after_help = "Example:\n  liftoff team add ml-team --member carol --data-dir ~/.local/share/liftoff"
    )]
    Add {
        /// The team to add members to.
        name: String,
        /// A user to add (repeatable).
        #[arg(long = "member", value_name = "USER", required = true)]
        members: Vec<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Which server, with which key (W&B's variables).
#[derive(Args, Debug, Clone)]
pub struct ConnArgs {
    /// The server (default: WANDB_BASE_URL, else the `liftoff login` host, else https://api.wandb.ai).
    #[arg(long, env = "WANDB_BASE_URL", value_name = "URL", global = true)]
    pub base_url: Option<String>,
    /// The API key (default: WANDB_API_KEY, else ~/.netrc).
    #[arg(
        long,
        env = "WANDB_API_KEY",
        value_name = "KEY",
        global = true,
        hide_env_values = true
    )]
    pub api_key: Option<String>,
}

#[derive(Args, Debug)]
pub struct AgentArgs {
    /// A queue to poll (repeatable); W&B's -q/--queue.
    #[arg(short, long = "queue", value_name = "QUEUE", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub queues: Vec<String>,
    /// The entity whose queues to poll (default: WANDB_ENTITY, the config file, or your default entity).
    #[arg(short, long, value_name = "ENTITY")]
    pub entity: Option<String>,
    /// Jobs to run at once; -1 for unlimited (default: WANDB_LAUNCH_MAX_JOBS, the config file, or 1).
    #[arg(short = 'j', long, value_name = "N", allow_negative_numbers = true, value_parser = parse_max_jobs)]
    pub max_jobs: Option<i64>,
    /// launch-config.yaml (default: ~/.config/wandb/launch-config.yaml when it exists).
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// When the agent stops, stop its running jobs too (default: let them finish).
    #[arg(long)]
    pub stop_jobs_on_exit: bool,
    /// Where the agent keeps job logs, job directories and venvs.
    #[arg(long, env = "LIFTOFF_AGENT_DIR", value_name = "DIR")]
    pub work_dir: Option<PathBuf>,
    /// Where the agent's own log goes (appended; `-` for stdout; default: stderr), as wandb launch-agent's -l.
    #[arg(short = 'l', long, value_name = "FILE")]
    pub log_file: Option<PathBuf>,
    /// wandb launch-agent's hidden `-u/--url`, which wandb refuses too: the
    /// server is --base-url (or WANDB_BASE_URL).
    #[arg(short = 'u', long = "url", hide = true, value_name = "URL")]
    pub url: Option<String>,
    #[command(flatten)]
    pub conn: ConnArgs,
}

#[derive(Subcommand, Debug)]
pub enum QueueCommand {
    /// Create a queue (and its default resource config).
    #[command(
        after_help = "Examples:\n  liftoff queue create default --resource local-process\n  liftoff queue create gpu -e ml-team --resource kubernetes --config k8s.yaml --prioritization\n  liftoff queue create cpu --resource local-container --config cfg.json --template-variable 'cpus={\"type\":\"integer\",\"minimum\":1,\"maximum\":8,\"default\":2}'"
    )]
    Create {
        /// The queue's name (1 to 64 characters, no '/'; spaces and '#' are fine).
        name: String,
        /// The entity that owns the queue (default: WANDB_ENTITY, else your default entity).
        #[arg(short, long)]
        entity: Option<String>,
        /// local-process, local-container, kubernetes, sagemaker or gcp-vertex.
        #[arg(short, long)]
        resource: String,
        /// The resource config (the `resource_args` for the resource): a YAML or JSON file, or a JSON object.
        #[arg(short, long, value_name = "FILE|JSON")]
        config: Option<String>,
        /// Serve higher priorities first.
        #[arg(long)]
        prioritization: bool,
        /// NAME=JSON_SCHEMA for a {{NAME}} in the config (repeatable).
        #[arg(long = "template-variable", value_name = "NAME=SCHEMA")]
        template_variables: Vec<String>,
        /// Push a failed run again up to N times (a Liftoff server setting; 0: never).
        #[arg(long, default_value_t = 0, allow_negative_numbers = true, value_parser = clap::value_parser!(i64).range(0..=10))]
        max_retries: i64,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// List queues.
    List {
        /// Whose queues (default: WANDB_ENTITY, else your default entity).
        #[arg(short, long)]
        entity: Option<String>,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// A queue's items (with their status) and agents; with --item, one item in full.
    Show {
        /// The queue to show.
        name: String,
        /// The entity that owns the queue (default: WANDB_ENTITY, else your default entity).
        #[arg(short, long)]
        entity: Option<String>,
        /// One item in full (its id, as the ITEM column lists it): its whole
        /// error and warnings, template values and run spec.
        #[arg(long, value_name = "ITEM")]
        item: Option<String>,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// Change a queue's settings: prioritization, retries of failed runs (a Liftoff server).
    #[command(
        after_help = "Example:\n  liftoff queue update gpu --prioritization on --max-retries 2"
    )]
    Update {
        /// The queue to change.
        name: String,
        /// The entity that owns the queue (default: WANDB_ENTITY, else your default entity).
        #[arg(short, long)]
        entity: Option<String>,
        /// Serve higher priorities first (on), or first in, first out (off).
        #[arg(long, value_name = "on|off", hide_possible_values = true, value_parser = clap::builder::BoolishValueParser::new())]
        prioritization: Option<bool>,
        /// Push a failed run again up to N times (0: never).
        #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = clap::value_parser!(i64).range(0..=10))]
        max_retries: Option<i64>,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// Cancel items: a waiting one leaves its queue, a running one has its run stopped (a Liftoff server).
    #[command(
        after_help = "ITEM is an item's id, as `liftoff launch` prints it and `liftoff queue show` lists it.\nExample:\n  liftoff queue cancel UnVuUXVldWVJdGVtOjE2"
    )]
    Cancel {
        /// Items' ids, as `liftoff launch` prints them and `liftoff queue show` lists them.
        #[arg(required = true, value_name = "ITEM")]
        items: Vec<String>,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// Push ended items again, each as a new item with the same spec (a Liftoff server).
    Requeue {
        /// Items' ids, as `liftoff launch` prints them and `liftoff queue show` lists them.
        #[arg(required = true, value_name = "ITEM")]
        items: Vec<String>,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// Change waiting items' priority: critical, high, medium or low (a Liftoff server).
    #[command(after_help = "Example:\n  liftoff queue priority high UnVuUXVldWVJdGVtOjE2")]
    Priority {
        /// critical, high, medium or low (or 0 to 3).
        priority: String,
        /// Items' ids, as `liftoff launch` prints them and `liftoff queue show` lists them.
        #[arg(required = true, value_name = "ITEM")]
        items: Vec<String>,
        #[command(flatten)]
        conn: ConnArgs,
    },
}

#[derive(Args, Debug)]
pub struct LaunchArgs {
    /// A local directory (logged as a code job) or a git URL (a git job).
    #[arg(short, long, value_name = "PATH_OR_URL", conflicts_with_all = ["job", "docker_image"])]
    pub uri: Option<String>,
    /// A job: entity/project/name[:alias].
    #[arg(short, long, value_name = "JOB", conflicts_with = "docker_image")]
    pub job: Option<String>,
    /// The command (shell words), e.g. 'python train.py --epochs 3'.
    #[arg(short = 'E', long, value_name = "COMMAND")]
    pub entry_point: Option<String>,
    /// The commit of a git --uri (default: the remote's HEAD).
    #[arg(
        short = 'g',
        long = "git-hash",
        visible_alias = "git-version",
        value_name = "SHA"
    )]
    pub git_hash: Option<String>,
    /// The build context inside the source (with --uri).
    #[arg(long, value_name = "DIR")]
    pub build_context: Option<String>,
    /// The name of the job created from --uri.
    #[arg(short = 'J', long, value_name = "NAME")]
    pub job_name: Option<String>,
    /// The run's display name.
    #[arg(long, env = "WANDB_NAME")]
    pub name: Option<String>,
    /// The entity to launch in (default: your default entity).
    #[arg(short, long, env = "WANDB_ENTITY")]
    pub entity: Option<String>,
    /// The project the run goes to (and a --uri job; default: the job's, else uncategorized).
    #[arg(short, long, env = "WANDB_PROJECT")]
    pub project: Option<String>,
    /// local-process, local-container, kubernetes, ... (default: the queue's; run here: local-container for an image, else local-process).
    #[arg(short, long)]
    pub resource: Option<String>,
    /// A container image to run.
    #[arg(short, long, value_name = "IMAGE")]
    pub docker_image: Option<String>,
    /// Base image for a job built from --uri (not with --docker-image, which is already an image).
    #[arg(
        short = 'B',
        long,
        value_name = "IMAGE",
        conflicts_with = "docker_image"
    )]
    pub base_image: Option<String>,
    /// A JSON/YAML file or inline JSON: the base launch spec (overrides, resource_args, ...).
    #[arg(short, long, value_name = "FILE_OR_JSON")]
    pub config: Option<String>,
    /// KEY=VALUE for a queue template variable (repeatable; needs --queue).
    #[arg(short = 'v', long = "set-var", value_name = "KEY=VALUE")]
    pub set_var: Vec<String>,
    /// Push to this queue (bare --queue means `default`); without it, run here now.
    #[arg(short, long, num_args = 0..=1, default_missing_value = "default", value_name = "QUEUE", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub queue: Option<String>,
    /// Run here in the background: return at once, the job's output going to a log file (not with --queue, whose agent runs it).
    #[arg(long = "async", conflicts_with = "queue")]
    pub in_background: bool,
    /// Where a job run here keeps its directory and log (as the agent's --work-dir; unused with --queue).
    #[arg(long, env = "LIFTOFF_AGENT_DIR", value_name = "DIR")]
    pub work_dir: Option<PathBuf>,
    /// A JSON/YAML file or inline JSON: resource_args, e.g. '{"local-container": {"memory": "2g"}}'.
    #[arg(short = 'R', long, value_name = "FILE_OR_JSON")]
    pub resource_args: Option<String>,
    /// A Dockerfile inside the source (overrides.dockerfile).
    #[arg(short = 'D', long, value_name = "PATH")]
    pub dockerfile: Option<String>,
    /// critical, high, medium or low (needs --queue).
    #[arg(short = 'P', long)]
    pub priority: Option<String>,
    /// The project holding the queue.
    #[arg(long, default_value = "model-registry", hide = true)]
    pub project_queue: String,
    /// Build the job's image here (with docker or podman) and push an image
    /// job made from it instead (needs --queue; the image runs on
    /// local-container and kubernetes queues).
    #[arg(short = 'b', long, requires = "queue", conflicts_with = "docker_image")]
    pub build: bool,
    /// With --build: push the image to this repository (`registry/name`;
    /// `-rg`), so that agents on other machines can pull it. Default:
    /// launch-config.yaml's builder.destination; without either the image
    /// stays on this machine.
    #[arg(long, value_name = "REPOSITORY", requires = "build")]
    pub repository: Option<String>,
    #[command(flatten)]
    pub conn: ConnArgs,
}

#[derive(Subcommand, Debug)]
// Parsed once per process; boxing the variant would only add noise.
#[allow(clippy::large_enum_variant)]
pub enum JobCommand {
    /// Create a job from code, a git repository or an image.
    #[command(
        after_help = "Examples:\n  liftoff job create code . -p proj -E 'python train.py'\n  liftoff job create git https://github.com/acme/train.git -p proj -E 'python train.py' -g 1f2e3d4\n  liftoff job create image busybox:1.36 -p proj -E 'echo hi'"
    )]
    Create {
        /// code, git or image.
        kind: String,
        /// A directory (code), a repository URL (git) or an image (image).
        path: String,
        /// The project the job belongs to.
        #[arg(short, long, env = "WANDB_PROJECT")]
        project: Option<String>,
        /// The entity the job belongs to (default: your default entity).
        #[arg(short, long, env = "WANDB_ENTITY")]
        entity: Option<String>,
        /// The job's name (default: job- and the directory, repository or image name).
        #[arg(short, long)]
        name: Option<String>,
        /// What the job does, shown with it.
        #[arg(short, long)]
        description: Option<String>,
        /// An alias for the new version (repeatable; `latest` is always added).
        #[arg(short, long = "alias")]
        aliases: Vec<String>,
        /// The command that runs it (shell words), e.g. 'python train.py'.
        #[arg(short = 'E', long, value_name = "COMMAND")]
        entry_point: Option<String>,
        /// The commit of a git job (default: the remote's HEAD).
        #[arg(short = 'g', long = "git-hash", value_name = "SHA")]
        git_hash: Option<String>,
        /// Python version the job needs (3.N).
        #[arg(short, long, value_parser = python_version)]
        runtime: Option<String>,
        /// The build context, a directory inside the source.
        #[arg(short = 'b', long, value_name = "DIR")]
        build_context: Option<String>,
        /// The image to build the job's image on (code and git jobs; not with --dockerfile).
        #[arg(short = 'B', long, value_name = "IMAGE", conflicts_with = "dockerfile")]
        base_image: Option<String>,
        /// The Dockerfile to build the job's image with, inside the build context.
        #[arg(short = 'D', long, value_name = "FILE")]
        dockerfile: Option<String>,
        /// A JSON/YAML schema of the job's config (input_schemas["@wandb.config"]).
        #[arg(long, value_name = "FILE")]
        schema: Option<PathBuf>,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// List the jobs of a project.
    List {
        /// The project whose jobs to list.
        #[arg(short, long, env = "WANDB_PROJECT")]
        project: Option<String>,
        /// The entity of the project (default: your default entity).
        #[arg(short, long, env = "WANDB_ENTITY")]
        entity: Option<String>,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// Describe a job: entity/project/name[:alias].
    Describe {
        /// The job: entity/project/name[:alias] (alias default: latest).
        job: String,
        #[command(flatten)]
        conn: ConnArgs,
    },
}

#[derive(Args, Debug)]
pub struct LoginArgs {
    /// The server (default: WANDB_BASE_URL, else the host of the last login, else https://api.wandb.ai).
    #[arg(long, env = "WANDB_BASE_URL")]
    pub host: Option<String>,
    /// The key (default: read from stdin).
    pub key: Option<String>,
    /// Do not check the key against the server.
    #[arg(long)]
    pub no_verify: bool,
    /// Accepted as `wandb login --relogin` is: `liftoff login` always takes the new key.
    #[arg(long)]
    pub relogin: bool,
}

/// `127.0.0.1:8080`, `[::1]:8080` or `localhost:8080` (a name is looked up).
fn socket_addr(text: &str) -> Result<SocketAddr, String> {
    use std::net::ToSocketAddrs as _;
    let bad = || {
        format!(
            "expected HOST:PORT like 127.0.0.1:8080, 0.0.0.0:8080 or localhost:8080, got {text:?}{}",
            if text.parse::<u16>().is_ok() {
                format!(" (for a port alone: --port {text})")
            } else {
                String::new()
            }
        )
    };
    if let Ok(addr) = text.parse() {
        return Ok(addr);
    }
    text.to_socket_addrs()
        .map_err(|_| bad())?
        .next()
        .ok_or_else(bad)
}

/// `3.11`: a Python version as a job's runtime names it.
fn python_version(text: &str) -> Result<String, String> {
    let ok = text.split_once('.').is_some_and(|(major, minor)| {
        major == "3" && !minor.is_empty() && minor.chars().all(|c| c.is_ascii_digit())
    });
    if ok {
        Ok(text.to_owned())
    } else {
        Err(format!("expected a Python version like 3.11, got {text:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::{Cli, Command};
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }

    #[test]
    fn flags_that_cannot_go_together_are_refused() {
        use clap::Parser;
        let parse = |args: &[&str]| {
            super::Cli::try_parse_from(args)
                .map(|_| ())
                .map_err(|e| e.to_string())
        };
        let err = parse(&["liftoff", "launch", "-d", "busybox", "-B", "python:3.11"]).unwrap_err();
        assert!(
            err.contains("'--docker-image <IMAGE>' cannot be used with '--base-image <IMAGE>'"),
            "{err}"
        );
        let err = parse(&[
            "liftoff",
            "job",
            "create",
            "code",
            ".",
            "-B",
            "python:3.11",
            "-D",
            "Dockerfile",
        ])
        .unwrap_err();
        assert!(err.contains("cannot be used with"), "{err}");
        for args in [
            &["liftoff", "launch", "-E", "x", "-q", ""][..],
            &["liftoff", "agent", "-q", ""][..],
        ] {
            let err = parse(args).unwrap_err();
            assert!(err.contains("a value is required for '--queue"), "{err}");
        }
        assert!(parse(&["liftoff", "server", "--addr", "localhost:8080"]).is_ok());
        let err = parse(&["liftoff", "server", "--addr", "8080"]).unwrap_err();
        assert!(err.contains("expected HOST:PORT like"), "{err}");
        assert!(err.contains("(for a port alone: --port 8080)"), "{err}");
        let err = parse(&["liftoff", "server", "--port", "0"]).unwrap_err();
        assert!(err.contains("--port"), "{err}");
        for cmd in ["server", "up"] {
            let Ok(Cli { command, .. }) =
                Cli::try_parse_from(["liftoff", cmd, "--addr", "0.0.0.0:8080", "-p", "9000"])
            else {
                panic!("{cmd} -p 9000 parses");
            };
            let addr = match command {
                Command::Server(a) => a.listen_addr(),
                Command::Up(a) => a.listen_addr(),
                _ => unreachable!(),
            };
            assert_eq!(addr.to_string(), "0.0.0.0:9000");
        }
        let err = parse(&["liftoff", "job", "create", "code", ".", "-r", "abc"]).unwrap_err();
        assert!(
            err.contains("expected a Python version like 3.11, got \"abc\""),
            "{err}"
        );
        assert!(parse(&["liftoff", "job", "create", "code", ".", "-r", "3.11"]).is_ok());
    }
}

#[derive(Args, Debug)]
pub struct UpArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "LIFTOFF_ADDR", value_parser = socket_addr)]
    pub addr: SocketAddr,
    /// Port to listen on, on the host of --addr.
    #[arg(short, long, value_parser = clap::value_parser!(u16).range(1..))]
    pub port: Option<u16>,
    #[command(flatten)]
    pub store: StoreArgs,
    /// The built web app (default: LIFTOFF_WEB_DIR, else the Trunk build directory, when present).
    #[arg(long, value_name = "DIR")]
    pub web_dir: Option<PathBuf>,
    /// Jobs the local agent runs at once.
    #[arg(short = 'j', long, default_value_t = 2, allow_negative_numbers = true, value_parser = parse_max_jobs)]
    pub max_jobs: i64,
    /// Do not start the local agent.
    #[arg(long)]
    pub no_agent: bool,
}

/// `--addr`, with `--port` in place of its port when given.
fn with_port(addr: SocketAddr, port: Option<u16>) -> SocketAddr {
    let mut addr = addr;
    if let Some(p) = port {
        addr.set_port(p);
    }
    addr
}

impl ServerArgs {
    pub fn listen_addr(&self) -> SocketAddr {
        with_port(self.addr, self.port)
    }
}

impl UpArgs {
    pub fn listen_addr(&self) -> SocketAddr {
        with_port(self.addr, self.port)
    }
}

/// `-j`: jobs at once, a positive number or -1 for unlimited (0 would run
/// nothing, and other negatives mean nothing).
fn parse_max_jobs(text: &str) -> Result<i64, String> {
    match text.trim().parse::<i64>() {
        Ok(n) if n >= 1 || n == -1 => Ok(n),
        Ok(0) => Err(
            "0 jobs at once would run nothing: use a positive number, or -1 for unlimited".into(),
        ),
        _ => Err("use a positive number, or -1 for unlimited".into()),
    }
}
