//! `liftoff-bench`: measured figures, each printed as a `BENCH {json}` line
//! ([`figure::Figure`]) that `cargo xtask bench` turns into one table.
//!
//! `liftoff-bench server [--postgres-url URL]`: pushes/s, push->pop->ack
//! cycles/s with 8 concurrent clients, and pop latency with 100,000 items
//! waiting, on SQLite (and PostgreSQL when a URL is given).
//! `liftoff-bench runs [--postgres-url URL]`: history ingest and chart query.
//! `liftoff-bench poll [--postgres-url URL]`: 200 long-polling agents.
//! `liftoff-bench agent --liftoff PATH [--wandb-python PATH]`: `liftoff
//! agent` against the official `wandb launch-agent`.
//! `liftoff-bench cli --liftoff PATH [--wandb-python PATH]`: `liftoff` against
//! the official `wandb` CLI.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use liftoff_client::native::NativeTransport;
use liftoff_client::ops::items::{AckRunQueueItem, PopFromRunQueue, PushToRunQueueByName};
use liftoff_client::ops::queues::CreateRunQueue;
use liftoff_client::{Client, Credentials};
use liftoff_model::queue::QueueAccess;
use liftoff_model::spec::LaunchSpec;
use liftoff_server::ServerConfig;
use serde_json::json;

mod agent;
mod cli;
mod figure;
mod poll;
mod runs;

use figure::{Figure, Target};

const KEY: &str = "0123456789abcdef0123456789abcdef01234567";
const CLIENTS: usize = 8;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let pg = flag(&args, "--postgres-url");
    let figures = match args.first().map(String::as_str) {
        Some("server") => {
            let pending: usize = flag(&args, "--pending")
                .and_then(|n| n.parse().ok())
                .unwrap_or(100_000);
            let mut figures = bench_server("SQLite", None, pending).await?;
            if let Some(url) = pg {
                figures.extend(bench_server("PostgreSQL", Some(url), pending).await?);
            }
            figures
        }
        Some("poll") => {
            let mut figures = poll::bench_poll("SQLite", None).await?;
            if let Some(url) = pg {
                figures.extend(poll::bench_poll("PostgreSQL", Some(url)).await?);
            }
            figures
        }
        Some("runs") => {
            let mut figures = runs::bench_runs("SQLite", None).await?;
            if let Some(url) = pg {
                figures.extend(runs::bench_runs("PostgreSQL", Some(url)).await?);
            }
            figures
        }
        Some("agent") => {
            let liftoff = flag(&args, "--liftoff")
                .context("agent needs --liftoff PATH (the liftoff binary)")?;
            agent::bench_agent(&liftoff, flag(&args, "--wandb-python").as_deref()).await?
        }
        Some("cli") => {
            let liftoff = flag(&args, "--liftoff")
                .context("cli needs --liftoff PATH (the liftoff binary)")?;
            cli::bench_cli(&liftoff, flag(&args, "--wandb-python").as_deref()).await?
        }
        _ => anyhow::bail!(
            "usage: liftoff-bench server [--postgres-url URL] [--pending N] | runs [--postgres-url URL] | poll [--postgres-url URL] | agent --liftoff PATH [--wandb-python PATH] | cli --liftoff PATH [--wandb-python PATH]\n\
             Each figure is printed as a `BENCH {{json}}` line (cargo xtask bench makes the table)."
        ),
    };
    for f in &figures {
        f.emit();
    }
    Ok(())
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
) -> anyhow::Result<Vec<Figure>> {
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
                store
                    .item_push(q.id, &text, None, 2, "admin", i as i64)
                    .await?;
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
    let pct = |p: f64| -> f64 {
        lat[((lat.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1e3
    };
    let waiting = figure::with_unit(pending as f64, "");
    Ok(vec![
        Figure::higher(
            format!("pushes/s, {label}, {CLIENTS} clients"),
            "/s",
            pushes,
        )
        .target(Target::AtLeast(2000.0)),
        Figure::higher(
            format!("push -> pop -> ack cycles/s, {label}, {CLIENTS} clients"),
            "/s",
            cycles_per_s,
        )
        .target(Target::AtLeast(1000.0)),
        Figure::lower(
            format!("pop p50, {label}, {waiting} items waiting"),
            "ms",
            pct(0.5),
        ),
        Figure::lower(
            format!("pop p99, {label}, {waiting} items waiting"),
            "ms",
            pct(0.99),
        )
        .target(Target::Below(10.0)),
    ])
}
