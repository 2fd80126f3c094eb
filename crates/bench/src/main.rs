//! `liftoff-bench`: measured figures, printed as Markdown rows.
//!
//! `liftoff-bench server [--postgres-url URL]`: pushes/s, push->pop->ack
//! cycles/s with 8 concurrent clients, and pop latency with 100,000 items
//! waiting, on SQLite (and PostgreSQL when a URL is given).
//! `liftoff-bench runs [--postgres-url URL]`: history ingest and chart query.
//! `liftoff-bench poll [--postgres-url URL]`: 200 long-polling agents.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use liftoff_client::native::NativeTransport;
use liftoff_client::ops::items::{AckRunQueueItem, PopFromRunQueue, PushToRunQueueByName};
use liftoff_client::ops::queues::CreateRunQueue;
use liftoff_client::{Client, Credentials};
use liftoff_model::queue::QueueAccess;
use liftoff_model::spec::LaunchSpec;
use liftoff_server::ServerConfig;
use serde_json::json;

mod poll;
mod runs;

const KEY: &str = "0123456789abcdef0123456789abcdef01234567";
const CLIENTS: usize = 8;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("server") => {
            let pg = flag(&args, "--postgres-url");
            let pending: usize = args
                .iter()
                .position(|a| a == "--pending")
                .and_then(|i| args.get(i + 1))
                .and_then(|n| n.parse().ok())
                .unwrap_or(100_000);
            println!(
                "| backend | pushes/s (8 clients) | push->pop->ack cycles/s (8 clients) | pop p50 | pop p99 | pending items |"
            );
            println!("|---|---|---|---|---|---|");
            bench_server("sqlite", None, pending).await?;
            if let Some(url) = pg {
                bench_server("postgres", Some(url), pending).await?;
            }
            Ok(())
        }
        Some("poll") => {
            println!(
                "| backend | long-polling agents | pushes | push->agent has it p50 | p99 | pop round trip p99 (item waiting) |"
            );
            println!("|---|---|---|---|---|---|");
            poll::bench_poll("sqlite", None).await?;
            if let Some(url) = flag(&args, "--postgres-url") {
                poll::bench_poll("postgres", Some(url)).await?;
            }
            Ok(())
        }
        Some("runs") => {
            println!(
                "| backend | history rows/s (10-row requests) | rows/s (1000-row requests) | rows/s (8 runs at once) | chart of 100,000 rows: first | p50 |"
            );
            println!("|---|---|---|---|---|---|");
            runs::bench_runs("sqlite", None).await?;
            if let Some(url) = flag(&args, "--postgres-url") {
                runs::bench_runs("postgres", Some(url)).await?;
            }
            Ok(())
        }
        Some("agent") => {
            let liftoff = args
                .iter()
                .position(|a| a == "--liftoff")
                .and_then(|i| args.get(i + 1))
                .cloned()
                .context("agent needs --liftoff PATH (the liftoff binary)")?;
            bench_agent(&liftoff).await
        }
        _ => anyhow::bail!(
            "usage: liftoff-bench server [--postgres-url URL] [--pending N] | runs [--postgres-url URL] | poll [--postgres-url URL] | agent --liftoff PATH"
        ),
    }
}

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

struct Running {
    url: String,
    state: Arc<liftoff_server::AppState>,
    _dir: tempfile::TempDir,
}

async fn start(database_url: Option<&str>) -> anyhow::Result<Running> {
    let dir = tempfile::tempdir()?;
    let store = liftoff_server::open_store(dir.path(), database_url).await?;
    liftoff_server::bootstrap(&*store, dir.path(), Some(KEY), 0).await?;
    let state = liftoff_server::state(store, ServerConfig::new(dir.path().join("objects"))).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(liftoff_server::serve(
        state.clone(),
        listener,
        std::future::pending(),
    ));
    Ok(Running {
        url,
        state,
        _dir: dir,
    })
}

fn client(url: &str) -> anyhow::Result<Client<NativeTransport>> {
    Ok(Client::new(
        NativeTransport::new().map_err(anyhow::Error::msg)?,
        Credentials::new(url, KEY),
    ))
}

fn spec() -> LaunchSpec {
    LaunchSpec::from_value(json!({"docker": {"docker_image": "busybox"}, "entity": "admin", "project": "bench", "overrides": {"run_config": {"lr": 0.1}}})).unwrap_or_default()
}

async fn make_queue(c: &Client<NativeTransport>, name: &str) -> anyhow::Result<()> {
    c.call(CreateRunQueue {
        entity: "admin".into(),
        project: "model-registry".into(),
        name: name.into(),
        access: QueueAccess::Project,
        prioritization_mode: None,
        default_resource_config_id: None,
    })
    .await
    .context("create queue")?;
    Ok(())
}

fn pop(queue: &str) -> PopFromRunQueue {
    PopFromRunQueue {
        entity: "admin".into(),
        project: "model-registry".into(),
        queue: queue.into(),
        agent_id: None,
    }
}

async fn bench_server(
    label: &str,
    database_url: Option<String>,
    pending: usize,
) -> anyhow::Result<()> {
    let server = start(database_url.as_deref()).await?;
    let c = client(&server.url)?;
    make_queue(&c, "push").await?;
    make_queue(&c, "cycle").await?;
    make_queue(&c, "deep").await?;

    // pushes/s
    let total = 4000;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let c = client(&server.url)?;
        tasks.push(tokio::spawn(async move {
            for _ in 0..total / CLIENTS {
                c.call(PushToRunQueueByName::new("admin", "push", spec()))
                    .await?;
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let pushes = total as f64 / started.elapsed().as_secs_f64();

    // push -> pop -> ack cycles/s
    let cycles = 2000;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..CLIENTS {
        let c = client(&server.url)?;
        tasks.push(tokio::spawn(async move {
            for i in 0..cycles / CLIENTS {
                c.call(PushToRunQueueByName::new("admin", "cycle", spec()))
                    .await?;
                if let Some(item) = c.call(pop("cycle")).await? {
                    c.call(AckRunQueueItem {
                        item_id: item.item_id,
                        run_id: format!("b{w}x{i}"),
                    })
                    .await?;
                }
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let cycles_per_s = cycles as f64 / started.elapsed().as_secs_f64();

    // pop latency with many items waiting (filled through the store: fast)
    let project = server
        .state
        .store
        .entity_by_name("admin")
        .await?
        .context("admin")?;
    let (p, _) = server
        .state
        .store
        .project_upsert(project.id, "model-registry", 0)
        .await?;
    let q = server
        .state
        .store
        .queue_get(p.id, "deep")
        .await?
        .context("queue")?;
    let text = liftoff_model::json::to_json_string(&spec());
    let fill = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let store = server.state.store.clone();
        let text = text.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..pending / 4 {
                store.item_push(q.id, &text, 2, "admin", i as i64).await?;
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    eprintln!(
        "{label}: filled {pending} items in {:.1} s",
        fill.elapsed().as_secs_f64()
    );
    let mut lat = Vec::new();
    for _ in 0..1000 {
        let t = Instant::now();
        c.call(pop("deep")).await?.context("an item")?;
        lat.push(t.elapsed());
    }
    lat.sort();
    let pct = |p: f64| -> Duration { lat[((lat.len() as f64 - 1.0) * p).round() as usize] };
    println!(
        "| {label} | {pushes:.0} | {cycles_per_s:.0} | {:.2} ms | {:.2} ms | {pending} |",
        pct(0.5).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3
    );
    Ok(())
}

/// `liftoff agent`: time from start to its first poll, idle memory, and
/// time from a push to the job's process running (median of 20).
async fn bench_agent(liftoff: &str) -> anyhow::Result<()> {
    let server = start(None).await?;
    let c = client(&server.url)?;
    make_queue(&c, "bench").await?;
    let work = tempfile::tempdir()?;
    let started = Instant::now();
    let mut agent = std::process::Command::new(liftoff)
        .args(["agent", "-q", "bench", "-e", "admin", "--work-dir"])
        .arg(work.path())
        .env("WANDB_BASE_URL", &server.url)
        .env("WANDB_API_KEY", KEY)
        .env("LIFTOFF_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .context("start the agent")?;
    // first poll: the agent is registered and has popped once (its lease-free pop waits)
    let first_poll = loop {
        let agents = c
            .call(liftoff_client::ops::liftoff::LiftoffLaunchAgents {
                entity: "admin".into(),
            })
            .await?;
        if !agents.is_empty() {
            break started.elapsed();
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(20),
            "the agent did not register"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_kb = std::fs::read_to_string(format!("/proc/{}/status", agent.id()))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse::<u64>().ok())
        })
        .unwrap_or(0);
    let marks = tempfile::tempdir()?;
    let mut latencies = Vec::new();
    for i in 0..20 {
        let mark = marks.path().join(format!("m{i}"));
        let spec = LaunchSpec::from_value(json!({
            "entity": "admin", "project": "bench", "resource": "local-process",
            "overrides": {"entry_point": ["sh", "-c", format!("date +%s%N > {}", mark.display())]}
        }))?;
        let pushed_at = std::time::SystemTime::now();
        c.call(PushToRunQueueByName::new("admin", "bench", spec))
            .await?;
        let deadline = Instant::now() + Duration::from_secs(30);
        let ns = loop {
            if let Ok(t) = std::fs::read_to_string(&mark)
                && let Ok(n) = t.trim().parse::<u128>()
            {
                break n;
            }
            anyhow::ensure!(Instant::now() < deadline, "job {i} did not start");
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        let pushed_ns = pushed_at.duration_since(std::time::UNIX_EPOCH)?.as_nanos();
        latencies.push(Duration::from_nanos(
            u64::try_from(ns.saturating_sub(pushed_ns)).unwrap_or(0),
        ));
        // let the job's run be recorded before the next push
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let _ = agent.kill();
    let _ = agent.wait();
    latencies.sort();
    let median = latencies[latencies.len() / 2];
    println!("| figure | liftoff agent | official Python agent | target |");
    println!("|---|---|---|---|");
    println!(
        "| push -> job process started (median of 20) | {:.0} ms | pending (needs run tracking, issue 6) | <= 200 ms |",
        median.as_secs_f64() * 1e3
    );
    println!(
        "| idle RSS | {:.1} MB | pending | <= 15 MB |",
        rss_kb as f64 / 1024.0
    );
    println!(
        "| start -> registered and polling | {:.0} ms | pending | - |",
        first_poll.as_secs_f64() * 1e3
    );
    Ok(())
}
