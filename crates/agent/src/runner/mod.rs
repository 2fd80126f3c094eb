//! Runners: how an agent executes a job. One trait, one implementation per
//! resource (local-process, local-container, kubernetes).

pub mod container;
pub mod kubernetes;
pub mod process;

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use liftoff_model::JobSpec;
use liftoff_model::spec::LaunchSpec;
use serde_json::Value;

use crate::log::JobLog;

/// Where a failure happened, as W&B's `failRunQueueItem.stage` says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Agent,
    Build,
    Run,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Agent => "agent",
            Self::Build => "build",
            Self::Run => "run",
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct StageError {
    pub stage: Stage,
    pub message: String,
}

impl StageError {
    pub fn agent(m: impl Into<String>) -> Self {
        Self {
            stage: Stage::Agent,
            message: m.into(),
        }
    }
    pub fn build(m: impl Into<String>) -> Self {
        Self {
            stage: Stage::Build,
            message: m.into(),
        }
    }
    pub fn run(m: impl Into<String>) -> Self {
        Self {
            stage: Stage::Run,
            message: m.into(),
        }
    }
}

/// Everything a runner needs for one job.
pub struct JobContext {
    pub run_id: String,
    pub item_id: String,
    pub spec: LaunchSpec,
    /// `wandb-job.json` of the job, when launched from one.
    pub job: Option<JobSpec>,
    /// The job's source on disk (code and git jobs).
    pub source_dir: Option<PathBuf>,
    /// `requirements.frozen.txt` of the job, if any.
    pub requirements: Option<Vec<u8>>,
    /// The image to run (image jobs and `docker.docker_image` specs).
    pub image: Option<String>,
    /// Where an image built for the job is pushed (`builder.destination`);
    /// none: it stays on this machine.
    pub push_to: Option<crate::agent::PushTarget>,
    /// The command: the override entry point, else the job's.
    pub entry_point: Vec<String>,
    /// `overrides.args`.
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    /// `resource_args[<resource>]`, macros expanded.
    pub resource_args: Value,
    /// A directory of the job's own (cleared when it ends).
    pub work_dir: PathBuf,
    /// Shared caches (venvs, images).
    pub cache_dir: PathBuf,
    pub log: JobLog,
    /// Problems worth telling the user while the job runs (a pod that
    /// cannot be scheduled): the agent posts them on the item
    /// (`updateRunQueueItemWarning`) and in the job's log.
    pub warnings: tokio::sync::mpsc::UnboundedSender<Warning>,
}

impl JobContext {
    /// The value the job's environment gives `name`.
    pub fn env_value(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Whether a URL's host is this machine (`localhost`, `*.localhost`,
/// `127.0.0.0/8`, `::1`, and `0.0.0.0` or `::` as a listen address names
/// it): what a container reaches only on the host's network, and a pod in
/// a cluster not at all.
pub(crate) fn is_loopback(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or(v6)
    } else {
        authority.split(':').next().unwrap_or(authority)
    };
    let host = host.to_ascii_lowercase();
    host == "localhost"
        || host.ends_with(".localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback() || ip.is_unspecified())
}

/// A warning about a running job, as `updateRunQueueItemWarning` takes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// W&B's stage name, e.g. `Kubernetes`.
    pub stage: String,
    pub message: String,
}

/// How a job ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Exited(i32),
    /// Killed by a signal the agent did not send.
    Signaled(String),
    /// Stopped by the agent (a stop request or shutdown).
    Stopped,
}

/// Whether a directory on PATH holds `program` such that `found` says so
/// of its path.
pub(crate) fn on_path(program: &str, found: impl Fn(&std::path::Path) -> bool) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| found(&dir.join(program))))
}

/// `SIGKILL (signal 9)`: a signal as people know it.
pub fn signal_name(n: i32) -> String {
    let name = match n {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        _ => return format!("signal {n}"),
    };
    format!("{name} (signal {n})")
}

/// A started job.
#[async_trait]
pub trait Workload: Send {
    /// Resolves when the job ends.
    async fn wait(&mut self) -> Outcome;
    /// Ask the job to end: SIGINT (as Ctrl-C, and as the wandb SDK stops a
    /// run), SIGTERM after half of `grace`, SIGKILL after `grace`.
    async fn stop(&mut self, grace: Duration);
    /// A short description (pid, container name, Job name).
    fn describe(&self) -> String;
    /// What an exit code says that is not the job's own doing (the
    /// container tool's 125: it could not start the container at all).
    fn exit_problem(&self, _code: i32) -> Option<String> {
        None
    }
}

#[async_trait]
pub trait Runner: Send + Sync {
    fn resource(&self) -> &'static str;
    /// Build what is needed and start the job.
    async fn start(&self, ctx: &JobContext) -> Result<Box<dyn Workload>, StageError>;
}

/// The command to run: `python*` is mapped to `python` (the venv's or the
/// system's), repairing names like `pythonCPython 3.11` that wandb-core 0.31
/// writes (with a note in the job's log).
pub fn python_command(cmd: &[String], python: &str, log: &JobLog) -> Vec<String> {
    let mut out = cmd.to_vec();
    if let Some(first) = out.first_mut() {
        let is_python = first == "python"
            || first == "python3"
            || (first.starts_with("python")
                && first[6..].chars().all(|c| c.is_ascii_digit() || c == '.'));
        let broken = first.starts_with("python") && !is_python && first.contains(' ');
        if broken {
            log.note(&format!("the job's entry point names the interpreter {first:?}, which is not a program; running it with {python}"));
        }
        if is_python || broken {
            *first = python.to_owned();
        }
    }
    out
}
