//! `liftoff-bench poll`: 200 agents long-polling one queue on one server
//! while items arrive at a steady rate. Figures: the time from a push to an
//! agent holding the item (p50, p99) and the round trip of pops that found
//! an item waiting.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use liftoff_client::ops::items::{AckRunQueueItem, PushToRunQueueByName};
use liftoff_client::ops::liftoff::LiftoffPopWait;
use liftoff_model::spec::LaunchSpec;
use serde_json::json;

use crate::figure::{Figure, Target};
use crate::{client, make_queue, start};

const AGENTS: usize = 200;
const ITEMS: usize = 2000;
const PUSHES_PER_SECOND: u64 = 200;

pub async fn bench_poll(label: &str, database_url: Option<String>) -> anyhow::Result<Vec<Figure>> {
    let server = start(database_url.as_deref()).await?;
    let c = client(&server.url)?;
    make_queue(&c, "poll").await?;
    let epoch = Instant::now();
    let taken = Arc::new(AtomicUsize::new(0));
    let mut agents = Vec::new();
    for a in 0..AGENTS {
        let c = client(&server.url)?;
        let taken = taken.clone();
        agents.push(tokio::spawn(async move {
            let mut handoff = Vec::new();
            while taken.load(Ordering::Relaxed) < ITEMS {
                let asked = Instant::now();
                let popped = c
                    .call(LiftoffPopWait {
                        entity: "admin".into(),
                        queue: "poll".into(),
                        agent_id: None,
                        wait_seconds: 2,
                    })
                    .await?;
                let Some(item) = popped else { continue };
                let now = epoch.elapsed();
                taken.fetch_add(1, Ordering::Relaxed);
                // the push's start time rides in the spec
                let pushed = item.run_spec["run_id"]
                    .as_str()
                    .and_then(|s| s.strip_prefix('t'))
                    .and_then(|n| n.parse::<u64>().ok())
                    .unwrap_or(0);
                handoff.push((
                    now.saturating_sub(Duration::from_micros(pushed)),
                    asked.elapsed(),
                ));
                c.call(AckRunQueueItem {
                    item_id: item.item_id,
                    run_id: format!("a{a}x{}", handoff.len()),
                })
                .await?;
            }
            anyhow::Ok(handoff)
        }));
    }
    // let every agent get its long poll in
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / PUSHES_PER_SECOND));
    for _ in 0..ITEMS {
        tick.tick().await;
        let at = epoch.elapsed().as_micros();
        let spec = LaunchSpec::from_value(json!({
            "docker": {"docker_image": "busybox"}, "entity": "admin", "project": "bench",
            "run_id": format!("t{at}"),
        }))?;
        c.call(PushToRunQueueByName::new("admin", "poll", spec))
            .await?;
    }
    let mut handoffs = Vec::new();
    let mut round_trips = Vec::new();
    for a in agents {
        for (h, rt) in a.await?? {
            handoffs.push(h);
            round_trips.push(rt);
        }
    }
    anyhow::ensure!(
        handoffs.len() == ITEMS,
        "{} items were taken, {ITEMS} pushed",
        handoffs.len()
    );
    let ms = |v: &mut Vec<Duration>, p: f64| {
        v.sort();
        v[((v.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1e3
    };
    // pops that found an item already waiting (no long wait in them)
    let mut quick: Vec<Duration> = round_trips
        .iter()
        .zip(&handoffs)
        .filter(|(rt, h)| rt <= h)
        .map(|(rt, _)| *rt)
        .collect();
    if quick.is_empty() {
        quick.push(Duration::ZERO);
    }
    let setting = format!("{label}, {AGENTS} long-polling agents, {PUSHES_PER_SECOND} pushes/s");
    Ok(vec![
        Figure::lower(
            format!("push -> an agent has it, p50, {setting}"),
            "ms",
            ms(&mut handoffs, 0.5),
        ),
        Figure::lower(
            format!("push -> an agent has it, p99, {setting}"),
            "ms",
            ms(&mut handoffs, 0.99),
        ),
        Figure::lower(
            format!("pop round trip p99 (item waiting), {setting}"),
            "ms",
            ms(&mut quick, 0.99),
        )
        .target(Target::Below(50.0)),
    ])
}
