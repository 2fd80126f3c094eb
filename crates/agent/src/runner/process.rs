//! `local-process`: run the job as a child process of the agent, in a
//! Python venv keyed by the requirements' hash (reused across jobs).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use tokio::process::{Child, Command};

use crate::log::JobLog;
use crate::runner::{JobContext, Outcome, Runner, StageError, Workload, python_command};

pub struct ProcessRunner {
    /// The interpreter used to make venvs (`python3`).
    pub python: String,
}

impl Default for ProcessRunner {
    fn default() -> Self {
        Self {
            python: "python3".into(),
        }
    }
}

#[async_trait]
impl Runner for ProcessRunner {
    fn resource(&self) -> &'static str {
        "local-process"
    }

    async fn start(&self, ctx: &JobContext) -> Result<Box<dyn Workload>, StageError> {
        if let Some(image) = &ctx.image {
            return Err(StageError::agent(format!(
                "local-process cannot run container image {image}: push it to a local-container or kubernetes queue (or, run here, pass --resource local-container)"
            )));
        }
        if ctx.entry_point.is_empty() {
            return Err(StageError::agent(
                "the job has no entry point: set one with --entry-point",
            ));
        }
        let cwd = ctx
            .source_dir
            .clone()
            .unwrap_or_else(|| ctx.work_dir.clone());
        let requirements = ctx
            .requirements
            .clone()
            .or_else(|| std::fs::read(cwd.join("requirements.txt")).ok());
        let python = match &requirements {
            Some(req) if !req.iter().all(u8::is_ascii_whitespace) => {
                ensure_venv(&ctx.cache_dir.join("venvs"), &self.python, req, &ctx.log)
                    .await?
                    .display()
                    .to_string()
            }
            _ => self.python.clone(),
        };
        let mut cmd = python_command(&ctx.entry_point, &python, &ctx.log);
        cmd.extend(ctx.args.iter().cloned());
        ctx.log.note(&format!(
            "running {} in {}",
            shell_words(&cmd),
            cwd.display()
        ));
        let mut command = Command::new(&cmd[0]);
        command
            .args(&cmd[1..])
            .current_dir(&cwd)
            .envs(ctx.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        if python != self.python {
            // The venv's bin first, as an activated venv would have it.
            if let Some(bin) = Path::new(&python).parent() {
                let path = std::env::var("PATH").unwrap_or_default();
                command
                    .env("PATH", format!("{}:{path}", bin.display()))
                    .env("VIRTUAL_ENV", bin.parent().unwrap_or(bin));
            }
        }
        command.env("PYTHONUNBUFFERED", "1");
        ctx.log.job_started();
        let (child, output) = spawn_job(command, &ctx.log)
            .map_err(|e| StageError::run(format!("cannot start {:?}: {e}", cmd[0])))?;
        Ok(Box::new(ProcessWorkload::new(
            child,
            output,
            ctx.log.clone(),
        )))
    }
}

/// Quote a command for display.
pub fn shell_words(cmd: &[String]) -> String {
    cmd.iter()
        .map(|w| {
            // Quoted unless every character means itself to a shell, so the
            // line can be pasted: `python3 -c 'print(1)'`.
            let plain = |c: char| c.is_ascii_alphanumeric() || "_-./=:,+@%".contains(c);
            if w.is_empty() || !w.chars().all(plain) {
                format!("'{}'", w.replace('\'', "'\\''"))
            } else {
                w.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Start `command` in its own process group with stdout/stderr going to `log`.
pub fn spawn_captured(command: Command, log: &JobLog) -> std::io::Result<Child> {
    let mut child = spawn_in_group(command, Stdio::piped(), Stdio::piped())?;
    if let Some(out) = child.stdout.take() {
        tokio::spawn(read_lines(out, false, log.clone()));
    }
    if let Some(err) = child.stderr.take() {
        tokio::spawn(read_lines(err, true, log.clone()));
    }
    Ok(child)
}

/// A pipe's lines into `log`, as [`Lines`] cuts them, until it closes.
async fn read_lines(mut pipe: impl tokio::io::AsyncRead + Unpin, stderr: bool, log: JobLog) {
    use tokio::io::AsyncReadExt;
    let mut lines = Lines::default();
    let mut chunk = vec![0u8; 16 << 10];
    while let Ok(n @ 1..) = pipe.read(&mut chunk).await {
        for line in lines.push(&chunk[..n]) {
            log.job_line(&line, stderr);
        }
    }
    if let Some(line) = lines.finish() {
        log.job_line(&line, stderr);
    }
}

/// Kills a process group when dropped, unless emptied first.
struct GroupGuard(Option<u32>);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if let Some(pid) = self.0 {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// The longest line kept whole; longer ones are cut into lines this long.
const MAX_LINE: usize = 64 << 10;
/// Output cut into lines, as a terminal leaves them. A carriage return that
/// does not end a line (`\r\n`) redraws it, as a progress bar does (tqdm,
/// pip): what it overwrites is dropped and the last frame stays. Without
/// this an epoch's bar was kept whole, one line of megabytes.
#[derive(Default)]
struct Lines {
    pending: Vec<u8>,
}

impl Lines {
    fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        self.pending.extend_from_slice(bytes);
        let mut out = Vec::new();
        loop {
            let Some(at) = self.pending.iter().position(|&b| b == b'\n' || b == b'\r') else {
                if self.pending.len() > MAX_LINE {
                    let cut = utf8_cut(&self.pending, MAX_LINE);
                    let line: Vec<u8> = self.pending.drain(..cut).collect();
                    out.push(String::from_utf8_lossy(&line).into_owned());
                    continue;
                }
                break;
            };
            if self.pending[at] == b'\n' {
                let line: Vec<u8> = self.pending.drain(..=at).collect();
                out.push(String::from_utf8_lossy(&line[..at]).into_owned());
                continue;
            }
            match self.pending.get(at + 1) {
                // A lone "\r" at the end: its "\n" may be in the next read.
                None => break,
                Some(b'\n') => {
                    let line: Vec<u8> = self.pending.drain(..at + 2).collect();
                    out.push(String::from_utf8_lossy(&line[..at]).into_owned());
                }
                Some(_) => {
                    self.pending.drain(..=at);
                }
            }
        }
        out
    }

    /// What is left once the output has ended.
    fn finish(self) -> Option<String> {
        let rest = String::from_utf8_lossy(&self.pending);
        let rest = rest.trim_end_matches('\r');
        // After a redraw, the line on screen is the last one.
        let rest = rest.rsplit('\r').next().unwrap_or(rest);
        (!rest.is_empty()).then(|| rest.to_owned())
    }
}

/// `at`, moved back to the start of a UTF-8 character: at most 3 bytes,
/// and never to 0 (bytes that are not UTF-8 are cut where they are).
fn utf8_cut(bytes: &[u8], at: usize) -> usize {
    let at = at.min(bytes.len());
    (at.saturating_sub(3)..=at)
        .rev()
        .find(|&i| i > 0 && (i == bytes.len() || (bytes[i] & 0xC0) != 0x80))
        .unwrap_or(at)
}

/// Start the job itself: like [`spawn_captured`], but its stdout and stderr
/// are files next to its log ([`JobOutput::paths`]) which are read into
/// `log` as they grow. Files, not pipes: a job the agent leaves running when
/// it exits (Ctrl-C twice) goes on writing there instead of meeting a closed
/// pipe (which ends most programs at their next line of output).
/// Start `command` with no stdin, its output to `stdout`/`stderr`, in its
/// own process group (stopped as a whole) and not killed when dropped.
fn spawn_in_group(mut command: Command, stdout: Stdio, stderr: Stdio) -> std::io::Result<Child> {
    command
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .kill_on_drop(false);
    #[cfg(unix)]
    command.process_group(0);
    command.spawn()
}

pub fn spawn_job(command: Command, log: &JobLog) -> std::io::Result<(Child, JobOutput)> {
    let paths = JobOutput::paths(log);
    let out = std::fs::File::create(&paths[0])?;
    let err = std::fs::File::create(&paths[1])?;
    let child = spawn_in_group(command, out.into(), err.into()).inspect_err(|_| {
        for path in &paths {
            let _ = std::fs::remove_file(path);
        }
    })?;
    let (ended, _) = tokio::sync::watch::channel(false);
    let readers = paths
        .iter()
        .zip([false, true])
        .map(|(path, stderr)| {
            tokio::spawn(follow(path.clone(), stderr, log.clone(), ended.subscribe()))
        })
        .collect();
    Ok((
        child,
        JobOutput {
            paths,
            ended,
            readers,
        },
    ))
}

/// A job's stdout and stderr files and their readers.
pub struct JobOutput {
    paths: [PathBuf; 2],
    ended: tokio::sync::watch::Sender<bool>,
    readers: Vec<tokio::task::JoinHandle<()>>,
}

impl JobOutput {
    /// `logs/RUN.stdout` and `logs/RUN.stderr` for the log `logs/RUN.log`.
    pub fn paths(log: &JobLog) -> [PathBuf; 2] {
        [
            log.path.with_extension("stdout"),
            log.path.with_extension("stderr"),
        ]
    }

    /// The job has ended: read what is left, then remove the files (their
    /// lines are in the job's log).
    async fn finish(self) {
        let _ = self.ended.send(true);
        let all = futures::future::join_all(self.readers);
        // A reader is at most one poll behind; a grandchild that still
        // writes does not hold the item up.
        let _ = tokio::time::timeout(Duration::from_secs(5), all).await;
        for path in &self.paths {
            let _ = tokio::fs::remove_file(path).await;
        }
    }
}

/// How long [`follow`] waits after reading something, and at most.
const FOLLOW_SOON: Duration = Duration::from_millis(10);
const FOLLOW_QUIET: Duration = Duration::from_millis(50);

/// Read the lines added to `path` into `log` until the job has ended and
/// everything it wrote has been read.
async fn follow(
    path: PathBuf,
    stderr: bool,
    log: JobLog,
    mut ended: tokio::sync::watch::Receiver<bool>,
) {
    use tokio::io::AsyncReadExt;
    let Ok(mut file) = tokio::fs::File::open(&path).await else {
        return;
    };
    let mut lines = Lines::default();
    let mut chunk = vec![0u8; 16 << 10];
    // The sender gone (the workload dropped unfinished, as when the agent
    // leaves): read what is there and stop.
    let mut gone = false;
    // A job that is writing is read again soon (its lines reach the log
    // within ~10 ms); a quiet one less and less often, down to 20 reads/s.
    let mut wait = FOLLOW_SOON;
    loop {
        let done = gone || *ended.borrow_and_update();
        let n = file.read(&mut chunk).await.unwrap_or(0);
        if n > 0 {
            wait = FOLLOW_SOON;
        }
        for line in lines.push(&chunk[..n]) {
            log.job_line(&line, stderr);
        }
        if n > 0 {
            continue;
        }
        if done {
            if let Some(line) = lines.finish() {
                log.job_line(&line, stderr);
            }
            return;
        }
        // Nothing new: wait a little, or for the job's end.
        if let Ok(Err(_)) = tokio::time::timeout(wait, ended.changed()).await {
            gone = true;
        }
        wait = (wait * 2).min(FOLLOW_QUIET);
    }
}

/// A child process (and its process group).
pub struct ProcessWorkload {
    child: Child,
    pid: Option<u32>,
    stopped: bool,
    log: JobLog,
    /// Its output files, until it ends.
    output: Option<JobOutput>,
}

impl ProcessWorkload {
    /// Wait at most `within` for the process to end; answers whether it did.
    pub async fn ended_within(&mut self, within: Duration) -> bool {
        tokio::time::timeout(within, self.child.wait())
            .await
            .is_ok()
    }

    pub fn new(child: Child, output: JobOutput, log: JobLog) -> Self {
        let pid = child.id();
        Self {
            child,
            pid,
            stopped: false,
            log,
            output: Some(output),
        }
    }
}

/// Send `signal` to a process group (via kill(1): no unsafe code here).
async fn signal_group(pid: u32, signal: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg("--")
        .arg(format!("-{pid}"))
        .stderr(Stdio::null())
        .status()
        .await;
}

/// Whether any process of the group is left (`kill -0`).
async fn group_alive(pid: u32) -> bool {
    Command::new("kill")
        .args(["-0", "--", &format!("-{pid}")])
        .stderr(Stdio::null())
        .status()
        .await
        .is_ok_and(|s| s.success())
}

#[async_trait]
impl Workload for ProcessWorkload {
    async fn wait(&mut self) -> Outcome {
        let status = self.child.wait().await;
        if let Some(output) = self.output.take() {
            // In a task of its own: a wait given up half-way (a stop that
            // wins the race) still reads the rest and removes the files.
            let _ = tokio::spawn(output.finish()).await;
        }
        match status {
            _ if self.stopped => Outcome::Stopped,
            Ok(s) => match s.code() {
                Some(code) => Outcome::Exited(code),
                None => {
                    #[cfg(unix)]
                    {
                        use std::os::unix::process::ExitStatusExt;
                        Outcome::Signaled(
                            s.signal()
                                .map_or("a signal".into(), crate::runner::signal_name),
                        )
                    }
                    #[cfg(not(unix))]
                    Outcome::Signaled("a signal".into())
                }
            },
            Err(e) => Outcome::Signaled(format!("wait failed: {e}")),
        }
    }

    async fn stop(&mut self, grace: Duration) {
        self.stopped = true;
        let Some(pid) = self.pid else { return };
        // SIGINT first, as Ctrl-C and the wandb SDK's own stop do: a wandb
        // run then finishes and sends what it has not sent yet (SIGTERM
        // ends Python at once, and the run's last metrics with it).
        let half = grace / 2;
        self.log.note(&format!(
            "stopping the job (SIGINT, SIGTERM after {} s, SIGKILL after {} s)",
            half.as_secs_f32(),
            grace.as_secs_f32()
        ));
        let deadline = tokio::time::Instant::now() + grace;
        signal_group(pid, "INT").await;
        if self.ended_within(half).await {
            // The leader ended: what is left of its group (a shell script's
            // background jobs, which ignore SIGINT) goes too.
            if group_alive(pid).await {
                signal_group(pid, "TERM").await;
                tokio::time::sleep(Duration::from_secs(1)).await;
                signal_group(pid, "KILL").await;
            }
            return;
        }
        signal_group(pid, "TERM").await;
        if self
            .ended_within(deadline.saturating_duration_since(tokio::time::Instant::now()))
            .await
        {
            // Background jobs that outlive a SIGTERM'd leader.
            signal_group(pid, "KILL").await;
            return;
        }
        signal_group(pid, "KILL").await;
        let _ = self.child.kill().await;
    }

    fn describe(&self) -> String {
        self.pid
            .map_or("a process".into(), |p| format!("process {p}"))
    }
}

static VENV_LOCKS: LazyLock<tokio::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>> =
    LazyLock::new(Default::default);

/// A venv with `requirements` installed: `<root>/<sha256[..16]>`, made once
/// and reused by every job with the same requirements and interpreter.
pub async fn ensure_venv(
    root: &Path,
    python: &str,
    requirements: &[u8],
    log: &JobLog,
) -> Result<PathBuf, StageError> {
    let version = Command::new(python)
        .arg("--version")
        .output()
        .await
        .map_err(|e| {
            StageError::build(format!(
                "cannot run {python}: {e}; install Python 3 or set runner.python"
            ))
        })?;
    let mut h = Sha256::new();
    h.update(&version.stdout);
    h.update(&version.stderr);
    h.update(requirements);
    let key = hex::encode(h.finalize())[..16].to_owned();
    let dir = root.join(&key);
    let python_bin = dir.join("bin").join("python");
    let lock = VENV_LOCKS
        .lock()
        .await
        .entry(key.clone())
        .or_default()
        .clone();
    let _held = lock.lock().await;
    if dir.join(".liftoff-ready").is_file() {
        log.note(&format!("reusing venv {}", dir.display()));
        return Ok(python_bin);
    }
    let _ = tokio::fs::remove_dir_all(&dir).await;
    tokio::fs::create_dir_all(root)
        .await
        .map_err(|e| StageError::build(format!("cannot create {}: {e}", root.display())))?;
    let step = log.step(&format!("creating venv {}", dir.display()));
    let mut venv = Command::new(python);
    venv.args(["-m", "venv"]).arg(&dir);
    run_step(venv, log, "python -m venv").await?;
    step.done("venv created");
    let req_file = dir.join("requirements.frozen.txt");
    tokio::fs::write(&req_file, requirements)
        .await
        .map_err(|e| StageError::build(e.to_string()))?;
    let n = String::from_utf8_lossy(requirements)
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .count();
    let step = log.step(&format!("installing {n} requirements"));
    let mut pip = Command::new(&python_bin);
    pip.args([
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
        // One line per package (no bars): the spinner shows the latest.
        "--progress-bar",
        "off",
        "-r",
    ])
    .arg(&req_file);
    run_step(pip, log, "pip install").await?;
    tokio::fs::write(dir.join(".liftoff-ready"), b"")
        .await
        .map_err(|e| StageError::build(e.to_string()))?;
    step.done("requirements installed, venv ready");
    Ok(python_bin)
}

pub async fn run_step(command: Command, log: &JobLog, what: &str) -> Result<(), StageError> {
    let child =
        spawn_captured(command, log).map_err(|e| StageError::build(format!("{what}: {e}")))?;
    // A step given up on (its job stopped while it ran) takes its
    // processes with it: a pip install or a build does not go on alone.
    let mut group = GroupGuard(child.id());
    let out = child
        .wait_with_output()
        .await
        .map_err(|e| StageError::build(format!("{what}: {e}")))?;
    group.0 = None;
    tokio::time::sleep(Duration::from_millis(50)).await;
    if out.status.success() {
        Ok(())
    } else {
        Err(StageError::build(format!(
            "{what} failed ({}):\n{}",
            out.status,
            log.tail()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::Workload;

    #[test]
    fn lines_cut_output_as_a_terminal_shows_it() {
        let mut lines = Lines::default();
        // "\r\n" ends a line, even split across reads.
        assert_eq!(lines.push(b"one\r"), Vec::<String>::new());
        assert_eq!(lines.push(b"\ntwo\n"), ["one", "two"]);
        // A progress bar's frames: the last one, when its line ends.
        assert_eq!(lines.push(b"\r  0%|\r 10%|\r 20%|"), Vec::<String>::new());
        assert_eq!(lines.push(b"\r 40%|\r100%|\n"), ["100%|"]);
        // Output that ends inside a redraw leaves the last frame.
        assert_eq!(lines.push(b"\ra\rb"), Vec::<String>::new());
        assert_eq!(lines.finish().as_deref(), Some("b"));
        // A line with no end is cut, on a character boundary, not kept whole.
        let mut lines = Lines::default();
        let long = format!("a{}", "é".repeat(MAX_LINE));
        let out = lines.push(long.as_bytes());
        assert_eq!(out.len(), 2);
        assert!(
            out.iter()
                .all(|l| l.len() <= MAX_LINE && !l.contains('\u{FFFD}'))
        );
        assert_eq!(
            lines.finish().map(|l| l.len()),
            Some(2 * MAX_LINE + 1 - out[0].len() - out[1].len())
        );
        // Bytes that are not UTF-8 at all are cut too (it once spun here).
        let mut lines = Lines::default();
        let out = lines.push(&vec![0x80; MAX_LINE + 10]);
        assert_eq!(out.len(), 1);
        assert!(lines.finish().is_some());
    }

    /// A job's output comes from its files line by line (stderr marked, a
    /// last line without a newline kept), and the files go when it ends.
    #[test]
    fn a_jobs_output_is_read_from_its_files_which_go_when_it_ends() {
        let tmp = tempfile::tempdir().unwrap();
        let log = JobLog::create(&tmp.path().join("run1.log"), "[run1]", false).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let outcome = runtime.block_on(async {
            let mut command = Command::new("sh");
            command.args([
                "-c",
                "echo one; echo two >&2; sleep 0.3; printf 'three\\r\\nfour'",
            ]);
            let (child, output) = spawn_job(command, &log).unwrap();
            let paths = JobOutput::paths(&log);
            assert!(paths.iter().all(|p| p.exists()), "{paths:?}");
            let mut workload = ProcessWorkload::new(child, output, log.clone());
            (workload.wait().await, paths)
        });
        assert_eq!(outcome.0, Outcome::Exited(0));
        let tail = log.tail();
        let lines: Vec<&str> = tail.lines().collect();
        for want in ["one", "ERROR two", "three", "four"] {
            assert!(lines.contains(&want), "{want:?} in {lines:?}");
        }
        assert!(outcome.1.iter().all(|p| !p.exists()), "{:?}", outcome.1);
        let kept = std::fs::read_to_string(tmp.path().join("run1.log")).unwrap();
        assert!(
            kept.contains("ERROR two") && kept.contains("four"),
            "{kept}"
        );
    }

    #[test]
    fn a_shown_command_can_be_pasted_into_a_shell() {
        let words = |ws: &[&str]| ws.iter().map(|w| (*w).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            shell_words(&words(&["python3", "-c", "print(1)"])),
            "python3 -c 'print(1)'"
        );
        assert_eq!(
            shell_words(&words(&["python3", "train.py", "--lr=0.1", "it's", ""])),
            r#"python3 train.py --lr=0.1 'it'\''s' ''"#
        );
        assert_eq!(
            shell_words(&words(&["echo", "a;b", "*", "~/x"])),
            "echo 'a;b' '*' '~/x'"
        );
    }
}
