//! `liftoff-bench agent`: `liftoff agent` and the official `wandb
//! launch-agent`, each against its own in-process server, running the same
//! code job (`sh mark.sh`, which appends the time it started to a file).
//!
//! Figures: start -> registered, start -> first pop (an item is waiting when
//! the agent starts), idle RSS of the agent's process tree, and push -> job
//! process started (median), and a job's line -> the agent's output (the
//! job is quiet for 0.3 s, prints the time, then sleeps 0.3 s: the line of
//! a job that has been quiet, read while it runs, not at its exit). The official agent polls every 10 s when idle,
//! so its pushes are spread over that interval (an unlucky push waits ~10 s,
//! a lucky one ~0): its median is what a user waits on average.

use std::collections::HashMap;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail, ensure};
use liftoff_client::Client;
use liftoff_client::native::NativeTransport;
use liftoff_client::ops::items::PushToRunQueueByName;
use liftoff_client::ops::liftoff::{LiftoffLaunchAgents, LiftoffRunQueue};
use liftoff_model::spec::LaunchSpec;
use liftoff_model::status::ItemState;
use serde_json::json;

use crate::figure::{Figure, Python, Target};
use crate::{KEY, Running, client, start};

const LIFTOFF_ROUNDS: usize = 20;
/// The official agent needs up to ~10 s per round (its idle poll interval).
const PYTHON_ROUNDS: usize = 5;
/// W&B's `AGENT_POLLING_INTERVAL` (wandb/sdk/launch/agent/agent.py).
const PYTHON_POLL: Duration = Duration::from_secs(10);
const QUEUE: &str = "bench";

enum Agent<'a> {
    Liftoff(&'a str),
    /// The venv's python; `wandb` is beside it.
    Official(&'a str),
}

impl Agent<'_> {
    fn name(&self) -> &'static str {
        match self {
            Agent::Liftoff(_) => "liftoff agent",
            Agent::Official(_) => "wandb launch-agent",
        }
    }
}

/// What one agent measured, in ms and MB.
struct Measured {
    registered: f64,
    first_pop: f64,
    rss_mb: f64,
    push_to_start: Vec<f64>,
    /// A job's line printed -> the agent's output has it, ms.
    line_to_output: Vec<f64>,
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

impl Measured {
    fn median(&self) -> f64 {
        median(&self.push_to_start)
    }
}

pub async fn bench_agent(liftoff: &str, wandb_python: Option<&str>) -> anyhow::Result<Vec<Figure>> {
    let ours = measure(Agent::Liftoff(liftoff), liftoff, LIFTOFF_ROUNDS).await?;
    let theirs = match wandb_python {
        Some(python) => measure(Agent::Official(python), liftoff, PYTHON_ROUNDS)
            .await
            .map_err(|e| {
                eprintln!("the official agent could not be measured: {e:#}");
                format!("failed: {e}")
            }),
        None => Err("not measured (no wandb venv)".to_owned()),
    };
    let py = |pick: fn(&Measured) -> f64| match &theirs {
        Ok(m) => Python::Value(pick(m)),
        Err(why) => Python::Missing(why.clone()),
    };
    Ok(vec![
        Figure::lower(
            format!(
                "agent: push -> job process started (median; Liftoff {LIFTOFF_ROUNDS} pushes, official {PYTHON_ROUNDS} spread over its 10 s poll)"
            ),
            "ms",
            ours.median(),
        )
        .python(py(Measured::median))
        .target(Target::AtMost(200.0)),
        Figure::lower(
            "agent: idle RSS (the agent's process tree, after one job)",
            "MB",
            ours.rss_mb,
        )
        .python(py(|m| m.rss_mb))
        .target(Target::AtMost(15.0)),
        Figure::lower(
            "agent: a running job's line -> the agent's output (median)",
            "ms",
            median(&ours.line_to_output),
        )
        .python(match &theirs {
            Ok(m) if m.line_to_output.is_empty() => {
                Python::Missing("its output has none of the jobs' lines".into())
            }
            _ => py(|m| median(&m.line_to_output)),
        }),
        Figure::lower("agent: start -> registered", "ms", ours.registered)
            .python(py(|m| m.registered)),
        Figure::lower(
            "agent: start -> first pop (an item waiting)",
            "ms",
            ours.first_pop,
        )
        .python(py(|m| m.first_pop)),
    ])
}

/// Run `liftoff` against `server` (queue and job admin).
fn liftoff_cli(liftoff: &str, server: &Running, args: &[&str]) -> anyhow::Result<()> {
    let out = Command::new(liftoff)
        .args(args)
        .env("WANDB_BASE_URL", &server.url)
        .env("WANDB_API_KEY", KEY)
        .env("LIFTOFF_LOG", "warn")
        .output()
        .with_context(|| format!("cannot start {liftoff}"))?;
    ensure!(
        out.status.success(),
        "liftoff {}: {}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

/// A started agent, killed with its process group on drop.
struct Group(Child);

impl Drop for Group {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.0.id())])
            .status();
        let _ = self.0.wait();
    }
}

async fn measure(agent: Agent<'_>, liftoff: &str, rounds: usize) -> anyhow::Result<Measured> {
    let name = agent.name();
    eprintln!("{name}: {rounds} rounds");
    let server = start(None).await?;
    let dir = tempfile::tempdir()?;
    let marks = dir.path().join("marks");
    let code = dir.path().join("mark");
    std::fs::create_dir_all(&code)?;
    std::fs::write(
        code.join("mark.sh"),
        format!(
            "date +%s%N >> '{}'\nsleep 0.3\necho \"{LINE} $(date +%s%N)\"\nsleep 0.3\n",
            marks.display()
        ),
    )?;
    // Empty: the official agent copies requirements.frozen.txt, and
    // Liftoff makes no venv for no requirements.
    std::fs::write(code.join("requirements.txt"), "")?;
    liftoff_cli(
        liftoff,
        &server,
        &[
            "queue",
            "create",
            QUEUE,
            "-e",
            "admin",
            "--resource",
            "local-process",
        ],
    )?;
    let code_dir = code.display().to_string();
    liftoff_cli(
        liftoff,
        &server,
        &[
            "job",
            "create",
            "code",
            &code_dir,
            "-p",
            "bench",
            "-e",
            "admin",
            "-n",
            "mark",
            "-E",
            "sh mark.sh",
        ],
    )?;
    let c = client(&server.url)?;
    // One item waits before the agent starts: start -> first pop.
    push(&c).await?;

    let log = dir.path().join("agent.log");
    let file = std::fs::File::create(&log)?;
    let mut command = match &agent {
        Agent::Liftoff(bin) => {
            let work = dir.path().join("work");
            std::fs::create_dir_all(&work)?;
            let mut c = Command::new(bin);
            c.args([
                "agent",
                "-q",
                QUEUE,
                "-e",
                "admin",
                "-j",
                "16",
                "--work-dir",
            ])
            .arg(work)
            .env("LIFTOFF_LOG", "warn");
            c
        }
        Agent::Official(python) => {
            let bin = Path::new(python)
                .parent()
                .context("the venv's python has no directory")?;
            let path = format!(
                "{}:{}",
                bin.display(),
                std::env::var("PATH").unwrap_or_default()
            );
            let mut c = Command::new(bin.join("wandb"));
            c.args(["launch-agent", "-q", QUEUE, "-e", "admin", "-j", "16"])
                .env("PATH", path)
                .env("WANDB_DIR", dir.path())
                .env_remove("WANDB_ENTITY")
                .env_remove("WANDB_PROJECT");
            c
        }
    };
    command
        .current_dir(dir.path())
        .env("WANDB_BASE_URL", &server.url)
        .env("WANDB_API_KEY", KEY)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(file.try_clone()?)
        .process_group(0);
    let started = Instant::now();
    let mut group = Group(
        command
            .spawn()
            .with_context(|| format!("cannot start {name}"))?,
    );
    let lines = read_lines(group.0.stdout.take().context("no stdout")?, file);
    let result = rounds_of(&agent, &c, &marks, group.0.id(), started, rounds)
        .await
        .and_then(|mut m| {
            // The last job's line is out within its 0.3 s sleep.
            let deadline = Instant::now() + Duration::from_secs(5);
            while lines.lock().unwrap_or_else(|p| p.into_inner()).len() < rounds + 1
                && Instant::now() < deadline
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            m.line_to_output = lines.lock().unwrap_or_else(|p| p.into_inner()).clone();
            ensure!(
                !m.line_to_output.is_empty() || matches!(agent, Agent::Official(_)),
                "{name} printed none of its jobs' lines"
            );
            Ok(m)
        });
    drop(group);
    result.map_err(|e| {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(30).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        e.context(format!("{name}'s output ends with:\n{}", tail.join("\n")))
    })
}

async fn rounds_of(
    agent: &Agent<'_>,
    c: &Client<NativeTransport>,
    marks: &Path,
    pid: u32,
    started: Instant,
    rounds: usize,
) -> anyhow::Result<Measured> {
    let name = agent.name();
    let (mut registered, mut first_pop) = (None, None);
    while registered.is_none() || first_pop.is_none() {
        ensure!(
            started.elapsed() < Duration::from_secs(120),
            "{name} did not register and pop within 120 s"
        );
        if registered.is_none()
            && !c
                .call(LiftoffLaunchAgents {
                    entity: "admin".into(),
                })
                .await?
                .is_empty()
        {
            registered = Some(started.elapsed());
        }
        if first_pop.is_none() {
            let q = c
                .call(LiftoffRunQueue {
                    entity: "admin".into(),
                    queue: QUEUE.into(),
                    first: 10,
                    after: None,
                })
                .await?;
            if q.items.iter().any(|i| i.item.state != ItemState::Pending) {
                first_pop = Some(started.elapsed());
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    wait_for_marks(marks, 1, Duration::from_secs(120))
        .await
        .with_context(|| format!("{name}: the first job did not start"))?;
    // Idle: the job is over, nothing waits.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (rss_kb, procs) = tree_rss_kb(pid);
    eprintln!(
        "{name}: idle RSS {:.1} MB in {}",
        rss_kb as f64 / 1024.0,
        procs.join(", ")
    );
    let mut push_to_start = Vec::new();
    for i in 0..rounds {
        let pause = match agent {
            Agent::Liftoff(_) => Duration::from_millis(300),
            // Spread over the official agent's poll interval.
            Agent::Official(_) => {
                Duration::from_millis(300) + PYTHON_POLL * i as u32 / rounds as u32
            }
        };
        tokio::time::sleep(pause).await;
        let pushed = SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos();
        push(c).await?;
        let ns = wait_for_marks(marks, i + 2, Duration::from_secs(120))
            .await
            .with_context(|| format!("{name}: job {} did not start", i + 1))?;
        let ms = ns.saturating_sub(pushed) as f64 / 1e6;
        eprintln!("{name}: push {} -> job process started: {ms:.0} ms", i + 1);
        push_to_start.push(ms);
    }
    let ms = |d: Option<Duration>| d.map_or(0.0, |d| d.as_secs_f64() * 1e3);
    Ok(Measured {
        registered: ms(registered),
        first_pop: ms(first_pop),
        rss_mb: rss_kb as f64 / 1024.0,
        push_to_start,
        line_to_output: Vec::new(),
    })
}

/// What the bench's job prints, with the time (ns since the epoch).
const LINE: &str = "bench-line";

/// Copy the agent's stdout to `log`, and note how long after its job
/// printed each [`LINE`] came out (ms).
fn read_lines(
    out: std::process::ChildStdout,
    mut log: std::fs::File,
) -> std::sync::Arc<std::sync::Mutex<Vec<f64>>> {
    use std::io::{BufRead as _, Write as _};
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let into = seen.clone();
    std::thread::spawn(move || {
        // Bytes, read lossily: a line that is not UTF-8 must not stop the
        // reading (the agent would block on a full pipe).
        for line in std::io::BufReader::new(out).split(b'\n') {
            let Ok(line) = line else { break };
            let line = String::from_utf8_lossy(&line);
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            let _ = writeln!(log, "{line}");
            let printed = line
                .split_once(LINE)
                .and_then(|(_, rest)| rest.trim().parse::<u128>().ok());
            if let Some(at) = printed {
                into.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(now.saturating_sub(at) as f64 / 1e6);
            }
        }
    });
    seen
}

async fn push(c: &Client<NativeTransport>) -> anyhow::Result<()> {
    let spec = LaunchSpec::from_value(json!({
        "job": "admin/bench/mark:latest", "entity": "admin", "project": "bench",
    }))?;
    c.call(PushToRunQueueByName::new("admin", QUEUE, spec))
        .await
        .context("push")?;
    Ok(())
}

/// Wait until `marks` has `n` lines; answers the last one (ns since the epoch).
async fn wait_for_marks(marks: &Path, n: usize, within: Duration) -> anyhow::Result<u128> {
    let deadline = Instant::now() + within;
    loop {
        let text = std::fs::read_to_string(marks).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        if lines.len() >= n {
            return lines[n - 1]
                .trim()
                .parse()
                .with_context(|| format!("{} line {n}: {:?}", marks.display(), lines[n - 1]));
        }
        if Instant::now() > deadline {
            bail!("{} has {} of {n} lines", marks.display(), lines.len());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// The RSS of `pid` and every descendant (kB), and `name (MB)` of each.
fn tree_rss_kb(pid: u32) -> (u64, Vec<String>) {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(p) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if let Some(ppid) = ppid(&entry.path()) {
            children.entry(ppid).or_default().push(p);
        }
    }
    let (mut total, mut names, mut todo) = (0, Vec::new(), vec![pid]);
    while let Some(p) = todo.pop() {
        let status = std::fs::read_to_string(format!("/proc/{p}/status")).unwrap_or_default();
        let field = |key: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .map(|v| v.trim().to_owned())
        };
        let kb: u64 = field("VmRSS:")
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0);
        total += kb;
        names.push(format!(
            "{} ({:.1} MB)",
            field("Name:").unwrap_or_default(),
            kb as f64 / 1024.0
        ));
        todo.extend(children.get(&p).into_iter().flatten());
    }
    (total, names)
}

/// Field 4 of /proc/PID/stat (after the parenthesised command name).
fn ppid(proc_dir: &Path) -> Option<u32> {
    let stat = std::fs::read_to_string(proc_dir.join("stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}
