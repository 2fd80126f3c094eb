//! A job's console: every line goes to its log file (kept per item) and to
//! the agent's own output; the last lines are kept for failure reports.
//! Preparation steps (download, venv, install) are log lines everywhere and,
//! when the agent's output is a terminal, a live spinner too ([`Step`]).

use std::collections::VecDeque;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// `println!` that cannot panic: when stdout's reader has gone (`liftoff
/// agent | head`), the line is dropped and the agent goes on running its jobs.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::log::say_line(format_args!($($arg)*))
    };
}
pub(crate) use say;

/// One of the agent's own lines (not a job's output, which has its own
/// log): on stdout, and in the `--log-file` when there is one.
pub fn say_line(args: std::fmt::Arguments<'_>) {
    file_line(args);
    let _ = write_line(args);
}

/// A line for the `--log-file` only, when there is one (an error said on
/// stderr: a daemon's log tells why it quit).
pub fn file_line(args: std::fmt::Arguments<'_>) {
    if let Some(Ok(mut file)) = ALSO.get().map(Mutex::lock) {
        let now = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        // One write, so a line never interleaves with the log's others.
        let _ = file.write_all(format!("{now} {args}\n").as_bytes());
    }
}

/// The `--log-file` (`wandb launch-agent -l`), when there is one: the
/// agent's own lines go there too, with the time.
static ALSO: std::sync::OnceLock<Mutex<std::fs::File>> = std::sync::OnceLock::new();

/// Write the agent's own lines to `file` as well.
pub fn also_to(file: std::fs::File) {
    let _ = ALSO.set(Mutex::new(file));
}

/// One line on stdout, or why it could not be written.
pub fn write_line(args: std::fmt::Arguments<'_>) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_fmt(args)?;
    stdout.write_all(b"\n")
}

const TAIL_LINES: usize = 40;
const TAIL_BYTES: usize = 8 << 10;

/// Where a job's console goes live: each line, and whether it was stderr.
pub type ConsoleSink = tokio::sync::mpsc::UnboundedSender<(bool, String)>;

#[derive(Clone)]
pub struct JobLog {
    inner: Arc<Mutex<Inner>>,
    pub path: PathBuf,
    prefix: String,
    echo: bool,
    /// Where lines are also sent (the run's console on the server).
    sink: Arc<Mutex<Option<ConsoleSink>>>,
    /// Spinners for preparation steps, when the agent's output is a terminal.
    bars: Option<MultiProgress>,
    /// The step in progress (its spinner and name), which shows the job's
    /// latest line.
    step: Arc<Mutex<Option<(ProgressBar, String)>>>,
}

/// The agent's terminal, if its standard output is one: every job's steps
/// draw there together.
pub fn terminal() -> Option<MultiProgress> {
    use std::io::IsTerminal;
    static BARS: std::sync::LazyLock<Option<MultiProgress>> = std::sync::LazyLock::new(|| {
        std::io::stdout()
            .is_terminal()
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stdout()))
    });
    BARS.clone()
}

/// A preparation step in progress; [`Step::done`] logs how it ended.
pub struct Step {
    log: JobLog,
    started: Instant,
    bar: Option<ProgressBar>,
}

impl Step {
    /// Log `summary` (with the time the step took) and clear its spinner.
    pub fn done(mut self, summary: &str) {
        self.clear();
        self.log.note(&format!(
            "{summary} ({:.1} s)",
            self.started.elapsed().as_secs_f64()
        ));
    }

    fn clear(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
            if let Some(m) = &self.log.bars {
                m.remove(&bar);
            }
            self.log
                .step
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take();
        }
    }
}

impl Drop for Step {
    fn drop(&mut self) {
        // A step that failed: its error is logged by whoever saw it.
        self.clear();
    }
}

struct Inner {
    file: Option<std::fs::File>,
    tail: VecDeque<String>,
    lines: u64,
    /// Set once the job itself runs: lines before (pip, a build) are not
    /// its failure's cause.
    started: bool,
    /// The job's last line that says why it failed (`status::cause_in`).
    cause: Option<String>,
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
                started: false,
                cause: None,
            })),
            path: path.to_owned(),
            prefix: prefix.to_owned(),
            echo,
            sink: Arc::default(),
            bars: if echo { terminal() } else { None },
            step: Arc::default(),
        })
    }

    /// Draw step spinners on `bars` (tests draw on an in-memory terminal).
    pub fn with_bars(mut self, bars: Option<MultiProgress>) -> Self {
        self.bars = bars;
        self
    }

    /// Start a preparation step: a log line now and, on a terminal, a
    /// spinner with the elapsed time and the step's latest output line (cut
    /// to the terminal's width).
    pub fn step(&self, what: &str) -> Step {
        self.note(&format!("{what} ..."));
        let bar = self.bars.as_ref().map(|m| {
            let bar = m.add(ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template("{prefix} {spinner} [{elapsed}] {wide_msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_prefix(self.prefix.clone());
            bar.set_message(what.to_owned());
            bar.enable_steady_tick(Duration::from_millis(120));
            *self.step.lock().unwrap_or_else(|p| p.into_inner()) =
                Some((bar.clone(), what.to_owned()));
            bar
        });
        Step {
            log: self.clone(),
            started: Instant::now(),
            bar,
        }
    }

    /// Also send every line (job and agent notes) to `sink`.
    pub fn stream_to(&self, sink: ConsoleSink) {
        *self.sink.lock().unwrap_or_else(|p| p.into_inner()) = Some(sink);
    }

    /// Stop streaming (the receiver then sees the channel close).
    pub fn stop_streaming(&self) {
        self.sink.lock().unwrap_or_else(|p| p.into_inner()).take();
    }

    /// A line from the job (`stderr` marks it as such in the file).
    pub fn job_line(&self, line: &str, stderr: bool) {
        {
            let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
            if inner.started
                && let Some(cause) = liftoff_model::status::cause_in(line)
            {
                inner.cause = Some(cause.to_owned());
            }
        }
        self.push(
            if stderr {
                format!("ERROR {line}")
            } else {
                line.to_owned()
            },
            line,
            stderr,
        );
    }

    /// A line from the agent about the job (progress, decisions).
    pub fn note(&self, line: &str) {
        self.push(
            format!("[liftoff] {line}"),
            &format!("[liftoff] {line}"),
            false,
        );
    }

    fn push(&self, stored: String, shown: &str, stderr: bool) {
        if self.echo {
            let line = format!("{} {shown}", self.prefix);
            match &self.bars {
                // Printed above the spinners, which are drawn again below.
                Some(bars) => {
                    let _ = bars.println(&line);
                }
                // A job's output: its own log has it, not the agent's.
                None => {
                    let _ = write_line(format_args!("{line}"));
                }
            }
        }
        if let Some((bar, what)) = self.step.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            let latest: String = shown.trim().chars().take(60).collect();
            bar.set_message(format!("{what}: {latest}"));
        }
        if let Some(sink) = self.sink.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            let _ = sink.send((stderr, shown.to_owned()));
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
                // A last line longer than all of it: its end, not nothing.
                if out.is_empty() {
                    let mut from = line.len() - (TAIL_BYTES - 1);
                    while !line.is_char_boundary(from) {
                        from += 1;
                    }
                    out.push(&line[from..]);
                }
                break;
            }
            out.push(line);
        }
        out.reverse();
        out.join("\n")
    }

    /// The line of the last output that most likely says why the job
    /// failed, of those it printed since it started
    /// ([`liftoff_model::status::cause_in`]).
    pub fn cause(&self) -> Option<String> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.cause.clone()
    }

    /// The job itself runs from now on (see [`JobLog::cause`]).
    pub fn job_started(&self) {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).started = true;
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
        // A last line longer than the tail: its end is the tail.
        log.job_line(&format!("{}€ end", "x".repeat(3 * TAIL_BYTES)), false);
        let tail = log.tail();
        assert!(
            tail.len() < TAIL_BYTES && tail.ends_with("€ end"),
            "{}",
            tail.len()
        );
    }

    #[test]
    fn a_step_spins_on_a_terminal_and_leaves_log_lines() {
        use indicatif::InMemoryTerm;
        let dir = tempfile::tempdir().unwrap();
        let term = InMemoryTerm::new(10, 100);
        let bars =
            MultiProgress::with_draw_target(ProgressDrawTarget::term_like(Box::new(term.clone())));
        let log = JobLog::create(&dir.path().join("item.log"), "[r1]", true)
            .unwrap()
            .with_bars(Some(bars));
        let step = log.step("installing 3 requirements");
        log.job_line("Collecting numpy", false);
        std::thread::sleep(Duration::from_millis(300));
        let live = term.contents();
        assert!(
            live.contains("[r1] [liftoff] installing 3 requirements ..."),
            "{live}"
        );
        assert!(
            live.contains("[0s] installing 3 requirements: Collecting numpy"),
            "the spinner shows the step, its latest line and the time: {live}"
        );
        step.done("venv ready");
        let after = term.contents();
        assert!(after.contains("[r1] [liftoff] venv ready ("), "{after}");
        assert!(
            !after.contains("requirements: Collecting"),
            "the spinner is cleared: {after}"
        );
        // Without a terminal the same step is log lines only.
        let file = std::fs::read_to_string(dir.path().join("item.log")).unwrap();
        assert!(file.contains("[liftoff] installing 3 requirements ..."));
        assert!(file.contains("[liftoff] venv ready ("));
    }
}
