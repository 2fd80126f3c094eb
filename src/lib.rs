//! The `liftoff` command line as a library, so that two binaries share it:
//! `liftoff` (every command) and `liftoff-agent` (the agent alone, which
//! links none of the server and so maps less than half the code; `liftoff agent`
//! hands over to it when it sits next to `liftoff`, see [`exec_slim_agent`]).

pub mod cli;
pub mod cmd;

use std::process::ExitCode;

/// `println!` for a command's output. When the reader has gone
/// (`liftoff job list | head -1`), the command ends there, quietly and
/// successfully, as `ls | head` does, instead of panicking. Commands that go
/// on working after they print (the server, `up`, the agent, a local
/// `launch`) use [`note!`] instead.
#[macro_export]
macro_rules! out {
    () => {
        $crate::out_line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::out_line(format_args!($($arg)*))
    };
}

/// `println!` for commands that go on working after they print: when the
/// reader has gone, the line is dropped and the work goes on (a server is
/// not stopped, nor a job left unstarted, because `| head` closed).
#[macro_export]
macro_rules! note {
    () => {
        $crate::note_line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::note_line(format_args!($($arg)*))
    };
}

#[doc(hidden)]
pub use liftoff_agent::log::say_line as note_line;

/// `eprintln!` that cannot panic: a warning or the final `error: ...` is
/// dropped when stderr has gone (`liftoff launch ... 2>&1 | head -3`), and
/// the exit code stays the command's own, not a panic's 101.
#[macro_export]
macro_rules! warn_line {
    ($($arg:tt)*) => {
        $crate::stderr_line(format_args!($($arg)*))
    };
}

#[doc(hidden)]
pub fn stderr_line(args: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{args}");
}

#[doc(hidden)]
pub fn out_line(args: std::fmt::Arguments<'_>) {
    match liftoff_agent::log::write_line(args) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => {
            warn_line!("error: cannot write the output: {e}");
            std::process::exit(2);
        }
    }
}

/// An error that means "the job failed" (exit 1) rather than "you used it wrong" (exit 2).
#[derive(Debug)]
pub struct JobFailed(pub String);

impl std::fmt::Display for JobFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for JobFailed {}

/// Run `work` to completion, print its error as `error: ...` and map it to
/// the exit code (0 ok, 1 the job failed, 2 usage or setup error). The
/// server (and `up`, which embeds it) serves many clients at once on every
/// core (`multi_thread`); the agent and the CLI wait on the network and on
/// their jobs' processes: one thread does that, in less memory.
pub fn main_with(
    verbose: u8,
    log_file: Option<&std::path::Path>,
    multi_thread: bool,
    work: impl std::future::Future<Output = anyhow::Result<()>>,
) -> ExitCode {
    if let Err(e) = init_logging(verbose, log_file) {
        warn_line!("error: {e}");
        return ExitCode::from(2);
    }
    let mut builder = if multi_thread {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            warn_line!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(work) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            liftoff_agent::log::file_line(format_args!("error: {e:#}"));
            warn_line!("error: {e:#}");
            if e.downcast_ref::<JobFailed>().is_some() {
                ExitCode::from(1)
            } else {
                ExitCode::from(2)
            }
        }
    }
}

/// The name of the agent-only binary `liftoff agent` hands over to.
pub const SLIM_AGENT: &str = "liftoff-agent";

/// `liftoff agent ARGS` becomes `liftoff-agent ARGS` (same pid, same
/// arguments, same environment) when that binary sits next to this one and
/// `LIFTOFF_AGENT_IN_PROCESS` is not set. Returns only if it did not hand
/// over (no such binary, or exec failed), after which the agent runs here.
#[cfg(unix)]
pub fn exec_slim_agent() {
    use std::os::unix::process::CommandExt as _;
    if std::env::var_os("LIFTOFF_AGENT_IN_PROCESS").is_some() {
        return;
    }
    let Some(slim) = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.join(SLIM_AGENT)))
        .filter(|p| p.is_file())
    else {
        return;
    };
    let Some(args) = agent_args(std::env::args_os().skip(1)) else {
        return;
    };
    // exec only returns on failure; the agent then runs in this process.
    let err = std::process::Command::new(&slim).args(args).exec();
    tracing::debug!(
        "cannot exec {}: {err}; running the agent in process",
        slim.display()
    );
}

#[cfg(not(unix))]
pub fn exec_slim_agent() {}

/// The command line, with `liftoff agent -v` (or `-vv`) read as
/// `--verbose` (twice), as `wandb launch-agent -v` is (`-v` cannot be a
/// global short flag: it is `launch --set-var`), and `liftoff launch`'s
/// two-letter short flags from `wandb launch` (`-rg`, `-pq`), which clap
/// would read as `-r g` and `-p q`, as their long names.
pub fn cli_args(args: impl Iterator<Item = std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let args: Vec<std::ffi::OsString> = args.collect();
    let subcommand = args
        .get(1..)
        .and_then(subcommand_index)
        .and_then(|i| args[i + 1].to_str())
        .map(str::to_owned);
    let mut out = Vec::with_capacity(args.len());
    for a in args {
        match (subcommand.as_deref(), a.to_str()) {
            (Some("agent" | "launch-agent"), Some(s))
                if s.len() > 1 && s.starts_with('-') && s[1..].bytes().all(|b| b == b'v') =>
            {
                out.extend(std::iter::repeat_n("--verbose".into(), s.len() - 1));
            }
            (Some("launch"), Some("-rg")) => out.push("--repository".into()),
            (Some("launch"), Some("-pq")) => out.push("--project-queue".into()),
            _ => out.push(a),
        }
    }
    out
}

/// Where the subcommand is in the arguments after the program's name: the
/// first word that is not a flag (the only top-level options are
/// `--verbose` flags).
fn subcommand_index(args: &[std::ffi::OsString]) -> Option<usize> {
    args.iter()
        .position(|a| !a.to_string_lossy().starts_with('-'))
}

/// The arguments of `liftoff [--verbose...] agent REST` for `liftoff-agent`:
/// the top-level flags and REST, without the word `agent`.
fn agent_args(args: impl Iterator<Item = std::ffi::OsString>) -> Option<Vec<std::ffi::OsString>> {
    let mut args: Vec<std::ffi::OsString> = args.collect();
    let i =
        subcommand_index(&args).filter(|i| args[*i] == "agent" || args[*i] == "launch-agent")?;
    args.remove(i);
    Some(args)
}

/// Logs go to stderr, or to `log_file` (appended; `-` is stdout), as
/// `wandb launch-agent -l/--log-file` sends the agent's own log.
fn init_logging(verbose: u8, log_file: Option<&std::path::Path>) -> Result<(), String> {
    use tracing_subscriber::fmt::writer::BoxMakeWriter;
    let default = match verbose {
        0 => "info,sqlx=warn,tower_http=warn",
        1 => {
            "debug,sqlx=warn,hyper=info,hyper_util=info,h2=info,rustls=info,rustls_native_certs=info,reqwest=info"
        }
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("LIFTOFF_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // Colours only on a terminal (and not with NO_COLOR): none in a file or a pipe.
    use std::io::IsTerminal as _;
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let (writer, ansi) = match log_file {
        None => (
            BoxMakeWriter::new(std::io::stderr),
            std::io::stderr().is_terminal() && !no_color,
        ),
        Some(p) if p.as_os_str() == "-" => (
            BoxMakeWriter::new(std::io::stdout),
            std::io::stdout().is_terminal() && !no_color,
        ),
        Some(p) => {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .map_err(|e| {
                    format!(
                        "--log-file {}: cannot write there ({e}); name a file in a directory that exists, or - for stdout",
                        p.display()
                    )
                })?;
            // The agent's own lines (on stdout) go in the file too.
            if let Ok(copy) = file.try_clone() {
                liftoff_agent::log::also_to(copy);
            }
            (BoxMakeWriter::new(std::sync::Mutex::new(file)), false)
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_target(false)
        .with_ansi(ansi)
        // Its own report of a failed write is an `eprintln!`, which would
        // panic on a closed stderr.
        .log_internal_errors(false)
        .init();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{agent_args, cli_args};

    fn args(s: &str) -> Option<Vec<String>> {
        agent_args(s.split_whitespace().map(Into::into)).map(|v| {
            v.into_iter()
                .map(|a| a.into_string().unwrap_or_default())
                .collect()
        })
    }

    #[test]
    fn agent_args_drop_the_subcommand_and_keep_everything_else() {
        assert_eq!(
            args("--verbose agent -q default -e agent"),
            Some(vec![
                "--verbose".into(),
                "-q".into(),
                "default".into(),
                "-e".into(),
                "agent".into()
            ])
        );
        assert_eq!(args("agent"), Some(vec![]));
        // `wandb launch-agent`'s name is an alias.
        assert_eq!(
            args("launch-agent -q q -v"),
            Some(vec!["-q".into(), "q".into(), "-v".into()])
        );
        assert_eq!(args("server --addr x"), None);
        assert_eq!(args("--verbose"), None);
    }

    #[test]
    fn only_the_agents_dash_v_means_verbose() {
        let read = |s: &str| -> Vec<String> {
            cli_args(s.split_whitespace().map(Into::into))
                .into_iter()
                .map(|a| a.into_string().unwrap_or_default())
                .collect()
        };
        assert_eq!(
            read("liftoff agent -q q -v"),
            ["liftoff", "agent", "-q", "q", "--verbose"]
        );
        assert_eq!(
            read("liftoff launch-agent -q q -v"),
            ["liftoff", "launch-agent", "-q", "q", "--verbose"]
        );
        assert_eq!(
            read("liftoff agent -vv -q q"),
            ["liftoff", "agent", "--verbose", "--verbose", "-q", "q"]
        );
        assert_eq!(
            read("liftoff launch -E true -v a=1"),
            ["liftoff", "launch", "-E", "true", "-v", "a=1"]
        );
        // wandb launch's two-letter short flags, in launch only.
        assert_eq!(
            read("liftoff launch -b -rg reg/x -pq model-registry -q q"),
            [
                "liftoff",
                "launch",
                "-b",
                "--repository",
                "reg/x",
                "--project-queue",
                "model-registry",
                "-q",
                "q"
            ]
        );
        assert_eq!(
            read("liftoff job list -rg"),
            ["liftoff", "job", "list", "-rg"]
        );
    }
}
