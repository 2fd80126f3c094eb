//! `liftoff-bench runs`: history rows ingested per second through
//! `file_stream` (as wandb-core sends them) and the time to answer the chart
//! query of a 100,000-row run (what the run page and `Run.history()` ask).

use std::borrow::Cow;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use liftoff_client::Error;
use liftoff_client::graphql::Operation;
use liftoff_client::ops::runs::UpsertBucket;
use serde_json::{Value, json};

use crate::figure::Figure;
use crate::{Running, client, start};

/// Rows per file_stream request in the ingest figures: wandb-core flushes
/// what accumulated since its last request, so both small and large.
const BATCHES: [usize; 2] = [10, 1000];
const CHART_ROWS: usize = 100_000;

/// `RunSampledHistory`, the public API's `Run.history()` document (the run
/// page's chart query asks the same resolver).
struct SampledHistory {
    run: String,
    keys: Vec<&'static str>,
    samples: i64,
}

impl Operation for SampledHistory {
    type Output = usize;
    const NAME: &'static str = "RunSampledHistory";

    fn document(&self) -> Cow<'static, str> {
        Cow::Borrowed(
            "query RunSampledHistory($project: String!, $entity: String!, $name: String!, $specs: [JSONString!]!) {\n  project(name: $project, entityName: $entity) {\n    run(name: $name) { sampledHistory(specs: $specs) }\n  }\n}",
        )
    }

    fn variables(&self) -> Option<Value> {
        let spec = json!({"keys": self.keys, "samples": self.samples}).to_string();
        Some(json!({"project": "bench", "entity": "admin", "name": self.run, "specs": [spec]}))
    }

    fn decode(&self, data: Value) -> Result<usize, Error> {
        Ok(data
            .pointer("/project/run/sampledHistory/0")
            .and_then(Value::as_array)
            .map_or(0, Vec::len))
    }
}

fn row(step: usize) -> String {
    let x = step as f64;
    json!({
        "_step": step,
        "_runtime": x * 0.01,
        "_timestamp": 1.8e9 + x * 0.01,
        "loss": 1.0 / (x + 1.0),
        "acc": x / (x + 10.0),
        "lr": 0.001,
        "epoch": step / 1000,
    })
    .to_string()
}

async fn new_run(server: &Running, name: &str) -> anyhow::Result<()> {
    client(&server.url)?
        .call(UpsertBucket {
            name: name.into(),
            project: "bench".into(),
            entity: "admin".into(),
            state: Some("running".into()),
            ..Default::default()
        })
        .await
        .context("create the run")?;
    Ok(())
}

/// Send `rows` history rows to `run` in requests of `batch`; answers the
/// seconds it took.
async fn ingest(url: &str, run: &str, rows: usize, batch: usize) -> anyhow::Result<f64> {
    let c = client(url)?;
    let started = Instant::now();
    let mut offset = 0;
    while offset < rows {
        let n = batch.min(rows - offset);
        let lines: Vec<String> = (offset..offset + n).map(row).collect();
        let body = json!({"files": {"wandb-history.jsonl": {"offset": offset, "content": lines}}});
        c.file_stream("admin", "bench", run, &body).await?;
        offset += n;
    }
    Ok(started.elapsed().as_secs_f64())
}

pub async fn bench_runs(label: &str, database_url: Option<String>) -> anyhow::Result<Vec<Figure>> {
    let server = start(database_url.as_deref()).await?;
    let mut cells = Vec::new();
    for batch in BATCHES {
        let rows = if batch < 100 { 5_000 } else { 50_000 };
        let run = format!("ingest{batch}");
        new_run(&server, &run).await?;
        let secs = ingest(&server.url, &run, rows, batch).await?;
        cells.push(Figure::higher(
            format!("history rows/s through file_stream, {label}, {batch}-row requests"),
            "rows/s",
            rows as f64 / secs,
        ));
    }
    // 8 runs streaming at once, 1000-row requests
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let run = format!("par{i}");
        new_run(&server, &run).await?;
        let url = server.url.clone();
        tasks.push(tokio::spawn(async move {
            ingest(&url, &run, 10_000, 1000).await
        }));
    }
    for t in tasks {
        t.await??;
    }
    cells.push(Figure::higher(
        format!("history rows/s through file_stream, {label}, 8 runs at once"),
        "rows/s",
        80_000.0 / started.elapsed().as_secs_f64(),
    ));

    // the chart of a 100,000-row run
    new_run(&server, "chart").await?;
    ingest(&server.url, "chart", CHART_ROWS, 2000).await?;
    let c = client(&server.url)?;
    let mut lat = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let n = c
            .call(SampledHistory {
                run: "chart".into(),
                keys: vec!["_step", "loss", "acc"],
                samples: 500,
            })
            .await?;
        lat.push(t.elapsed());
        anyhow::ensure!(
            (400..=501).contains(&n),
            "the chart query answered {n} rows"
        );
    }
    let first = lat[0];
    lat.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    cells.push(Figure::lower(
        format!("chart query of a 100,000-row run, {label}, first"),
        "ms",
        ms(first),
    ));
    cells.push(Figure::lower(
        format!("chart query of a 100,000-row run, {label}, p50 of 20"),
        "ms",
        ms(lat[lat.len() / 2]),
    ));
    Ok(cells)
}
