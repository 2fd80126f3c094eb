//! A job's console: every line goes to its log file (kept per item) and to
//! the agent's own output; the last lines are kept for failure reports.

use std::collections::VecDeque;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

const TAIL_LINES: usize = 40;
const TAIL_BYTES: usize = 8 << 10;

#[derive(Clone)]
pub struct JobLog {
    inner: Arc<Mutex<Inner>>,
    pub path: PathBuf,
    prefix: String,
    echo: bool,
    /// Where lines are also sent (the run's console on the server).
    sink: Arc<Mutex<Option<tokio::sync::mpsc::UnboundedSender<String>>>>,
}

struct Inner {
    file: Option<std::fs::File>,
    tail: VecDeque<String>,
    lines: u64,
}

impl JobLog {
    pub fn create(path: &Path, prefix: &str, echo: bool) -> std::io::Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(Self {
            inner: Arc::new(Mutex::new(Inner {
                file: Some(file),
                tail: VecDeque::new(),
                lines: 0,
            })),
            path: path.to_owned(),
            prefix: prefix.to_owned(),
            echo,
            sink: Arc::default(),
        })
    }

    /// Also send every line (job and agent notes) to `sink`.
    pub fn stream_to(&self, sink: tokio::sync::mpsc::UnboundedSender<String>) {
        *self.sink.lock().unwrap_or_else(|p| p.into_inner()) = Some(sink);
    }

    /// Stop streaming (the receiver then sees the channel close).
    pub fn stop_streaming(&self) {
        self.sink.lock().unwrap_or_else(|p| p.into_inner()).take();
    }

    /// A line from the job (`stderr` marks it as such in the file).
    pub fn job_line(&self, line: &str, stderr: bool) {
        self.push(
            if stderr {
                format!("ERROR {line}")
            } else {
                line.to_owned()
            },
            line,
        );
    }

    /// A line from the agent about the job (progress, decisions).
    pub fn note(&self, line: &str) {
        self.push(format!("[liftoff] {line}"), &format!("[liftoff] {line}"));
    }

    fn push(&self, stored: String, shown: &str) {
        if self.echo {
            println!("{} {shown}", self.prefix);
        }
        if let Some(sink) = self.sink.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            let _ = sink.send(stored.clone());
        }
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(f) = inner.file.as_mut() {
            let _ = writeln!(f, "{stored}");
        }
        inner.lines += 1;
        inner.tail.push_back(stored);
        while inner.tail.len() > TAIL_LINES {
            inner.tail.pop_front();
        }
    }

    /// The last lines (at most 8 KiB).
    pub fn tail(&self) -> String {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<&str> = Vec::new();
        let mut size = 0;
        for line in inner.tail.iter().rev() {
            size += line.len() + 1;
            if size > TAIL_BYTES {
                break;
            }
            out.push(line);
        }
        out.reverse();
        out.join("\n")
    }

    pub fn line_count(&self) -> u64 {
        self.inner.lock().map(|i| i.lines).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_a_file_and_a_tail() {
        let dir = tempfile::tempdir().unwrap();
        let log = JobLog::create(&dir.path().join("x/item.log"), "[r]", false).unwrap();
        for i in 0..100 {
            log.job_line(&format!("line {i}"), i == 99);
        }
        log.note("done");
        let tail = log.tail();
        assert!(tail.ends_with("ERROR line 99\n[liftoff] done"));
        assert_eq!(tail.lines().count(), TAIL_LINES);
        let file = std::fs::read_to_string(dir.path().join("x/item.log")).unwrap();
        assert_eq!(file.lines().count(), 101);
    }
}
