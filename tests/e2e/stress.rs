//! Proof under stress (`LIFTOFF_STRESS=1`, run by `cargo xtask stress`):
//! kill -9 of the server during load, and a server restart under running
//! jobs. Minutes, not seconds: not part of the default run.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use liftoff_client::ops::items::{AckRunQueueItem, PopFromRunQueue, PushToRunQueueByName};
use liftoff_client::ops::liftoff::LiftoffRunQueue;
use liftoff_client::ops::queues::CreateRunQueue;
use liftoff_model::queue::QueueAccess;
use liftoff_model::spec::LaunchSpec;
use liftoff_model::status::ItemState;
use serde_json::json;

use crate::harness::{ADMIN_KEY, AgentProcess, Server, eventually, liftoff};

fn enabled() -> bool {
    let on = std::env::var("LIFTOFF_STRESS").is_ok();
    if !on {
        eprintln!("skipped: a stress test (set LIFTOFF_STRESS=1, or run `cargo xtask stress`)");
    }
    on
}

fn spec(run: &str) -> LaunchSpec {
    LaunchSpec::from_value(json!({"docker": {"docker_image": "busybox"}, "entity": "admin", "project": "p", "run_id": run})).unwrap()
}

#[derive(Default)]
struct Ledger {
    /// run ids whose push got a success answer
    pushed: Vec<String>,
    /// run id -> successful acks
    acked: HashMap<String, u32>,
}

/// Push and pop/ack against `server` until `stop`.
async fn load(server: &Server, ledger: Arc<Mutex<Ledger>>, round: usize, per_round: usize) {
    let mut tasks = Vec::new();
    for w in 0..3 {
        let c = server.client(ADMIN_KEY);
        let ledger = ledger.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..per_round / 3 {
                let run = format!("r{round}-{w}-{i}");
                match c
                    .call(PushToRunQueueByName::new("admin", "q", spec(&run)))
                    .await
                {
                    Ok(_) => ledger.lock().unwrap().pushed.push(run),
                    Err(_) => return,
                }
            }
        }));
    }
    for _ in 0..3 {
        let c = server.client(ADMIN_KEY);
        let ledger = ledger.clone();
        tasks.push(tokio::spawn(async move { drain(&c, &ledger).await }));
    }
    for t in tasks {
        let _ = t.await;
    }
}

async fn drain(
    c: &liftoff_client::Client<liftoff_client::native::NativeTransport>,
    ledger: &Mutex<Ledger>,
) {
    loop {
        let popped = match c
            .call(PopFromRunQueue {
                entity: "admin".into(),
                project: "model-registry".into(),
                queue: "q".into(),
                agent_id: None,
            })
            .await
        {
            Ok(Some(p)) => p,
            Ok(None) => return,
            Err(_) => return,
        };
        let run = popped.run_spec["run_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if c.call(AckRunQueueItem {
            item_id: popped.item_id,
            run_id: run.clone(),
        })
        .await
        .is_ok()
        {
            *ledger.lock().unwrap().acked.entry(run).or_default() += 1;
        }
    }
}

async fn kill9_rounds(extra: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut args = vec!["--lease-secs", "2"];
    args.extend_from_slice(extra);
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let mut server = Server::start(&data, &args);
    server
        .client(ADMIN_KEY)
        .call(CreateRunQueue {
            entity: "admin".into(),
            project: "model-registry".into(),
            name: "q".into(),
            access: QueueAccess::Project,
            prioritization_mode: None,
            default_resource_config_id: None,
        })
        .await
        .unwrap();
    // Five rounds, each killed (kill -9) once 600 more pushes were
    // acknowledged, while pops and acks run too; then pushes up to 5,000.
    for round in 0..6 {
        let before = ledger.lock().unwrap().pushed.len();
        let target = if round < 5 {
            before + 600
        } else {
            5000.max(before)
        };
        let watch = {
            let ledger = ledger.clone();
            async move {
                while ledger.lock().unwrap().pushed.len() < target {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        };
        let quota = if round < 5 {
            1200
        } else {
            5000usize.saturating_sub(before) + 3
        };
        tokio::select! {
            () = load(&server, ledger.clone(), round, quota) => {},
            () = watch, if round < 5 => {},
        }
        if round < 5 {
            server.kill9();
            server = Server::start(&data, &args);
        }
    }
    // let every lease expire, then take what is left
    tokio::time::sleep(Duration::from_secs(3)).await;
    let c = server.client(ADMIN_KEY);
    drain(&c, &ledger).await;
    let ledger = std::mem::take(&mut *ledger.lock().unwrap());
    assert!(
        ledger.pushed.len() >= 5000,
        "only {} acknowledged pushes",
        ledger.pushed.len()
    );
    // What the server holds, every page of it.
    let mut stored: HashMap<String, Vec<ItemState>> = HashMap::new();
    let mut after = None;
    loop {
        let q = c
            .call(LiftoffRunQueue {
                entity: "admin".into(),
                queue: "q".into(),
                first: 1000,
                after: after.clone(),
            })
            .await
            .unwrap();
        for i in &q.items {
            let run = i
                .item
                .run_spec
                .as_ref()
                .and_then(|s| s["run_id"].as_str())
                .unwrap_or_default()
                .to_owned();
            stored.entry(run).or_default().push(i.item.state);
        }
        if !q.has_next_page {
            break;
        }
        after = q.end_cursor;
    }
    // No acknowledged push is lost (an ack whose answer the kill cut off
    // still counts: the item is claimed on the server).
    let lost: Vec<&String> = ledger
        .pushed
        .iter()
        .filter(|r| !stored.contains_key(*r))
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged pushes are not on the server: {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
    // None handed out twice: no item was acknowledged twice.
    let twice: Vec<(&String, &u32)> = ledger.acked.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "items acknowledged twice: {twice:?}");
    // Every lease is resolved: after the drain, every item is claimed.
    let unresolved: Vec<(&String, &Vec<ItemState>)> = stored
        .iter()
        .filter(|(_, s)| s.iter().any(|st| *st != ItemState::Claimed))
        .collect();
    assert!(
        unresolved.is_empty(),
        "unresolved items: {:?}",
        &unresolved[..unresolved.len().min(5)]
    );
    eprintln!(
        "kill -9 x5: {} pushes acknowledged, {} items stored, all claimed once",
        ledger.pushed.len(),
        stored.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_during_load_loses_nothing_sqlite() {
    if !enabled() {
        return;
    }
    kill9_rounds(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_during_load_loses_nothing_postgres() {
    if !enabled() {
        return;
    }
    let Some(url) = crate::harness::fresh_postgres().await else {
        eprintln!("skipped: needs LIFTOFF_TEST_POSTGRES_URL");
        return;
    };
    kill9_rounds(&["--database-url", &url]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_restart_does_not_lose_running_jobs() {
    if !enabled() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("server");
    let addr = crate::harness::free_addr();
    let mut server = Server::start(&data, &["--addr", &addr]);
    let (status, _, err) = liftoff(
        &server,
        tmp.path(),
        &["queue", "create", "default", "--resource", "local-process"],
    );
    assert!(status.success(), "{err}");
    let agent = AgentProcess::start(&server, &tmp.path().join("agent"), &["-q", "default"]);
    let (status, _, err) = liftoff(
        &server,
        tmp.path(),
        &[
            "launch",
            "-E",
            "sh -c 'sleep 4; echo survived'",
            "--queue",
            "default",
            "-p",
            "proj",
        ],
    );
    assert!(status.success(), "{err}");
    let c = server.client(ADMIN_KEY);
    eventually(Duration::from_secs(30), "the job to start", || async {
        let q = c
            .call(LiftoffRunQueue {
                entity: "admin".into(),
                queue: "default".into(),
                first: 5,
                after: None,
            })
            .await
            .ok()?;
        q.items
            .first()
            .filter(|i| i.item.state == ItemState::Claimed)
            .map(|_| ())
    })
    .await;
    server.kill9();
    tokio::time::sleep(Duration::from_secs(8)).await; // the job ends while the server is down
    let server = Server::start(&data, &["--addr", &addr]);
    let c = server.client(ADMIN_KEY);
    let item = eventually(
        Duration::from_secs(90),
        "the run to be recorded finished",
        || async {
            let q = c
                .call(LiftoffRunQueue {
                    entity: "admin".into(),
                    queue: "default".into(),
                    first: 5,
                    after: None,
                })
                .await
                .ok()?;
            q.items.into_iter().next().filter(|i| {
                i.run
                    .as_ref()
                    .is_some_and(|r| r.state == liftoff_model::RunState::Finished)
            })
        },
    )
    .await;
    assert_eq!(item.item.state, ItemState::Claimed, "not failed");
    assert!(
        item.item.warnings.is_empty() && item.item.error.is_none(),
        "nothing reported twice: {item:?}"
    );
    assert!(agent.output().contains("survived"), "{}", agent.output());
}

/// Item counts of queue `q` by stored state (`RunQueue.itemCounts`, a
/// Liftoff extension no app reads: only this test needs stored states).
struct ItemCounts;

impl liftoff_client::Operation for ItemCounts {
    type Output = HashMap<ItemState, i64>;
    const NAME: &'static str = "ItemCounts";
    fn document(&self) -> std::borrow::Cow<'static, str> {
        "query ItemCounts { project(name: \"model-registry\", entityName: \"admin\") { runQueue(name: \"q\") { itemCounts { state count } } } }".into()
    }
    fn variables(&self) -> Option<serde_json::Value> {
        Some(json!({}))
    }
    fn decode(&self, data: serde_json::Value) -> Result<Self::Output, liftoff_client::Error> {
        let counts = &data["project"]["runQueue"]["itemCounts"];
        Ok(counts
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| {
                let state = serde_json::from_value(c["state"].clone()).ok()?;
                Some((state, c["count"].as_i64()?))
            })
            .collect())
    }
}

async fn counts(server: &Server) -> HashMap<ItemState, i64> {
    server
        .client(ADMIN_KEY)
        .call(ItemCounts)
        .await
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_on_one_postgres_run_each_item_exactly_once() {
    if !enabled() {
        return;
    }
    let Some(pg) = crate::harness::fresh_postgres().await else {
        panic!("LIFTOFF_STRESS needs LIFTOFF_TEST_POSTGRES_URL (cargo xtask stress sets it)");
    };
    let items: usize = std::env::var("LIFTOFF_SCALE_ITEMS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().unwrap();
    let servers = [
        Server::start(&dir.path().join("s1"), &["--database-url", &pg]),
        Server::start(&dir.path().join("s2"), &["--database-url", &pg]),
    ];
    let (status, _, err) = liftoff(
        &servers[0],
        dir.path(),
        &["queue", "create", "q", "--resource", "local-process"],
    );
    assert!(status.success(), "{err}");
    // every job appends its number to one file (O_APPEND: whole lines)
    let marks = dir.path().join("marks");
    let started = std::time::Instant::now();
    let mut pushers = Vec::new();
    for p in 0..16 {
        let c = servers[p % 2].client(ADMIN_KEY);
        let marks = marks.clone();
        pushers.push(tokio::spawn(async move {
            for n in (p..items).step_by(16) {
                let spec = LaunchSpec::from_value(json!({
                    "entity": "admin", "project": "p",
                    "overrides": {"entry_point": ["sh", "-c", format!("echo {n} >> {}", marks.display())]},
                }))
                .unwrap();
                c.call(PushToRunQueueByName::new("admin", "q", spec))
                    .await
                    .unwrap();
            }
        }));
    }
    for p in pushers {
        p.await.unwrap();
    }
    eprintln!("pushed {items} items in {:?}", started.elapsed());
    let agents: Vec<AgentProcess> = (0..16)
        .map(|a| {
            AgentProcess::start(
                &servers[a % 2],
                &dir.path().join(format!("agent{a}")),
                &["-q", "q", "-j", "4"],
            )
        })
        .collect();
    let ran_at = std::time::Instant::now();
    let last = std::sync::atomic::AtomicUsize::new(0);
    eventually(Duration::from_secs(3600), "every item to run", || {
        let (servers, marks, last) = (&servers, &marks, &last);
        async move {
            let c = counts(&servers[1]).await;
            let claimed = c.get(&ItemState::Claimed).copied().unwrap_or(0);
            let lines = std::fs::read_to_string(marks)
                .map(|t| t.lines().count())
                .unwrap_or(0);
            let before = last.swap(lines, std::sync::atomic::Ordering::Relaxed);
            if lines / 1000 > before / 1000 {
                eprintln!("{lines} jobs ran after {:?}", ran_at.elapsed());
            }
            (claimed as usize == items && lines >= items).then_some(())
        }
    })
    .await;
    eprintln!("{items} items ran in {:?}", ran_at.elapsed());
    // let any straggler (a second run of something) show itself
    tokio::time::sleep(Duration::from_secs(3)).await;
    let text = std::fs::read_to_string(&marks).unwrap();
    let mut seen = vec![0u32; items];
    for l in text.lines() {
        seen[l.trim().parse::<usize>().unwrap()] += 1;
    }
    let twice: Vec<usize> = (0..items).filter(|&n| seen[n] > 1).collect();
    let never: Vec<usize> = (0..items).filter(|&n| seen[n] == 0).collect();
    assert!(
        twice.is_empty() && never.is_empty(),
        "ran twice: {twice:?}; never: {never:?}"
    );
    let c = counts(&servers[0]).await;
    assert_eq!(c.get(&ItemState::Failed).copied().unwrap_or(0), 0, "{c:?}");
    // both replicas handed out work
    let per_server: Vec<usize> = agents
        .iter()
        .map(|a| a.output().matches("Job ").count())
        .collect();
    let (odd, even): (Vec<_>, Vec<_>) =
        per_server.iter().enumerate().partition(|(i, _)| i % 2 == 1);
    let sum = |v: Vec<(usize, &usize)>| v.into_iter().map(|(_, n)| *n).sum::<usize>();
    let (s1, s2) = (sum(even), sum(odd));
    assert_eq!(s1 + s2, items);
    assert!(s1 > 0 && s2 > 0, "server 1 ran {s1}, server 2 ran {s2}");
    eprintln!("server 1's agents ran {s1}, server 2's ran {s2}");
}
