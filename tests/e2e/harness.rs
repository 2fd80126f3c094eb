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
        let mut child = Command::new(bin())
            .args(["server", "--addr", "127.0.0.1:0", "--data-dir"])
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
            let line = lines.next().expect("the server printed its URL").expect("read stdout");
            if let Some(rest) = line.strip_prefix("Liftoff server on ") {
                break rest.split_whitespace().next().unwrap_or_default().to_owned();
            }
        };
        // keep draining stdout so the server never blocks on it
        std::thread::spawn(move || for _ in lines {});
        Self { child, url, data_dir: data_dir.to_owned() }
    }

    pub fn client(&self, key: &str) -> Client<NativeTransport> {
        Client::new(NativeTransport::new().expect("http"), Credentials::new(&self.url, key))
    }

    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM and wait; answers the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "the server did not stop on SIGTERM");
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
