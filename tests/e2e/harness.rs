use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use liftoff_client::native::NativeTransport;
use liftoff_client::{Client, Credentials};

pub const ADMIN_KEY: &str = "0123456789abcdef0123456789abcdef01234567";

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_liftoff")
}

/// A running `liftoff server`.
pub struct Server {
    pub child: Child,
    pub url: String,
    pub data_dir: PathBuf,
}

impl Server {
    pub fn start(data_dir: &Path, extra: &[&str]) -> Self {
        let mut command = Command::new(bin());
        command.arg("server");
        if !extra.contains(&"--addr") {
            command.args(["--addr", "127.0.0.1:0"]);
        }
        let mut child = command
            .arg("--data-dir")
            .arg(data_dir)
            .args(extra)
            .env("LIFTOFF_ADMIN_API_KEY", ADMIN_KEY)
            .env("LIFTOFF_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start liftoff server");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let url = loop {
            let line = lines
                .next()
                .expect("the server printed its URL")
                .expect("read stdout");
            if let Some(rest) = line.strip_prefix("Liftoff server on ") {
                break rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
            }
        };
        // keep draining stdout so the server never blocks on it
        std::thread::spawn(move || for _ in lines {});
        Self {
            child,
            url,
            data_dir: data_dir.to_owned(),
        }
    }

    pub fn client(&self, key: &str) -> Client<NativeTransport> {
        Client::new(
            NativeTransport::new().expect("http"),
            Credentials::new(&self.url, key),
        )
    }

    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM and wait; answers the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An admin command (`liftoff user create bob`, ...) run on `data_dir`
/// directly, as an operator does (no server needed).
pub fn admin(data_dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(bin())
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .output()
        .expect("run liftoff")
}

/// [`admin`] that must succeed; answers its last line of output (a new
/// user's API key).
pub fn admin_ok(data_dir: &Path, args: &[&str]) -> String {
    let out = admin(data_dir, args);
    assert!(
        out.status.success(),
        "liftoff {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// `127.0.0.1:PORT` with a port free a moment ago.
pub fn free_addr() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("127.0.0.1:{port}")
}

/// Run `liftoff <args>` against a server; answers (status, stdout, stderr).
pub fn liftoff(
    server: &Server,
    dir: &Path,
    args: &[&str],
) -> (std::process::ExitStatus, String, String) {
    let out = liftoff_command(server, dir, args)
        .output()
        .expect("run liftoff");
    (
        out.status,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `liftoff ARGS` in `dir`, as the admin of `server`, not yet started.
pub fn liftoff_command(server: &Server, dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(bin());
    command
        .args(args)
        .current_dir(dir)
        .env("WANDB_BASE_URL", &server.url)
        .env("WANDB_API_KEY", ADMIN_KEY)
        .env("LIFTOFF_DATA_DIR", server.data_dir.join("cli"))
        .env("LIFTOFF_AGENT_DIR", server.data_dir.join("cli-agent"))
        .env_remove("WANDB_ENTITY")
        .env_remove("WANDB_PROJECT");
    command
}

/// A running `liftoff agent`.
pub struct AgentProcess {
    pub child: Child,
    pub out: PathBuf,
}

impl AgentProcess {
    pub fn start(server: &Server, work: &Path, args: &[&str]) -> Self {
        Self::start_with_env(server, work, args, &[])
    }

    /// [`AgentProcess::start`] with extra environment variables.
    pub fn start_with_env(
        server: &Server,
        work: &Path,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Self {
        std::fs::create_dir_all(work).unwrap();
        let out = work.join("agent.out");
        let file = std::fs::File::create(&out).unwrap();
        let child = Command::new(bin())
            .arg("agent")
            .args(args)
            .arg("--work-dir")
            .arg(work)
            .env("WANDB_BASE_URL", &server.url)
            .env("WANDB_API_KEY", ADMIN_KEY)
            .env("LIFTOFF_LOG", "info")
            .env("HOME", work)
            .envs(env.iter().copied())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .expect("start the agent");
        Self { child, out }
    }

    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }

    /// The file name of the program the agent's process runs now.
    pub fn program(&self) -> String {
        std::fs::read_link(format!("/proc/{}/exe", self.child.id()))
            .ok()
            .and_then(|p| Some(p.file_name()?.to_string_lossy().into_owned()))
            .unwrap_or_default()
    }

    /// SIGTERM; answers the exit status.
    pub fn terminate(&mut self, within: Duration) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        self.wait(within)
    }

    pub fn wait(&mut self, within: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "the agent did not exit:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for AgentProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Poll `check` until it answers `Some`, or fail after `within`.
pub async fn eventually<T, F, Fut>(within: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A new empty database on the test PostgreSQL server
/// (`LIFTOFF_TEST_POSTGRES_URL`), as a URL; `None` without one.
pub async fn fresh_postgres() -> Option<String> {
    use sqlx::Connection;
    let admin = std::env::var("LIFTOFF_TEST_POSTGRES_URL").ok()?;
    let name = format!("liftoff_e2e_{}_{}", std::process::id(), rand_suffix());
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .expect("LIFTOFF_TEST_POSTGRES_URL is not reachable");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    Some(format!("{base}/{name}"))
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64 % 1_000_000_007)
        .unwrap_or(0)
}

/// The items of `queue` (entity `admin`), newest first; `None` when the
/// server does not answer.
pub async fn try_queue_items(
    server: &Server,
    queue: &str,
) -> Option<Vec<liftoff_client::ops::liftoff::ItemWithRun>> {
    server
        .client(ADMIN_KEY)
        .call(liftoff_client::ops::liftoff::LiftoffRunQueue {
            entity: "admin".into(),
            queue: queue.into(),
            first: 50,
            after: None,
        })
        .await
        .ok()
        .map(|q| q.items)
}

/// Cancel a running item (its run is asked to stop) and wait for `agent`
/// to say it stopped the job.
pub async fn stop_item(server: &Server, agent: &AgentProcess, item_id: String) {
    server
        .client(ADMIN_KEY)
        .call(liftoff_client::ops::liftoff::LiftoffCancelItem { item_id })
        .await
        .unwrap();
    eventually(
        Duration::from_secs(60),
        "the agent to stop the job",
        || async { agent.output().contains("the job was stopped").then_some(()) },
    )
    .await;
}
