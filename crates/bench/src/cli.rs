//! `liftoff-bench cli`: wall time of the same commands with `liftoff` and
//! with the official `wandb` CLI (median of 5, after one untimed run each):
//! pushing an image job to a queue, and `--help` (start-up).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context as _, ensure};
use liftoff_client::ops::liftoff::LiftoffRunQueue;

use crate::figure::{Figure, Python};
use crate::{KEY, client, start};

const ROUNDS: usize = 5;
const QUEUE: &str = "cli";
const PUSH: [&str; 9] = [
    "launch",
    "--docker-image",
    "busybox:1.36",
    "--queue",
    QUEUE,
    "--project",
    "bench",
    "--entity",
    "admin",
];

pub async fn bench_cli(liftoff: &str, wandb_python: Option<&str>) -> anyhow::Result<Vec<Figure>> {
    let server = start(None).await?;
    let dir = tempfile::tempdir()?;
    let wandb = wandb_python.map(|p| Path::new(p).with_file_name("wandb"));
    let run = |program: &Path, args: &[&str]| -> anyhow::Result<f64> {
        let started = Instant::now();
        let out = Command::new(program)
            .args(args)
            .current_dir(dir.path())
            .env("WANDB_BASE_URL", &server.url)
            .env("WANDB_API_KEY", KEY)
            .env("WANDB_DIR", dir.path())
            .env_remove("WANDB_ENTITY")
            .env_remove("WANDB_PROJECT")
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("cannot start {}", program.display()))?;
        let ms = started.elapsed().as_secs_f64() * 1e3;
        ensure!(
            out.status.success(),
            "{} {}: {}{}",
            program.display(),
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(ms)
    };
    let median = |program: &Path, args: &[&str]| -> anyhow::Result<f64> {
        run(program, args)?;
        let mut times = (0..ROUNDS)
            .map(|_| run(program, args))
            .collect::<anyhow::Result<Vec<f64>>>()?;
        times.sort_by(f64::total_cmp);
        Ok(times[ROUNDS / 2])
    };
    let liftoff = Path::new(liftoff);
    run(
        liftoff,
        &[
            "queue",
            "create",
            QUEUE,
            "-e",
            "admin",
            "--resource",
            "local-container",
        ],
    )?;
    let ours_push = median(liftoff, &PUSH)?;
    let ours_help = median(liftoff, &["--help"])?;
    let (theirs_push, theirs_help) = match &wandb {
        Some(w) => (
            median(w, &PUSH).map_err(|e| format!("failed: {e:#}")),
            median(w, &["--help"]).map_err(|e| format!("failed: {e:#}")),
        ),
        None => {
            let why = "not measured (no wandb venv)".to_owned();
            (Err(why.clone()), Err(why))
        }
    };
    // Every timed and untimed push landed in the queue.
    let pushes = (ROUNDS + 1) * if theirs_push.is_ok() { 2 } else { 1 };
    let items = client(&server.url)?
        .call(LiftoffRunQueue {
            entity: "admin".into(),
            queue: QUEUE.into(),
            first: 100,
            after: None,
        })
        .await?
        .items
        .len();
    ensure!(
        items == pushes,
        "the queue holds {items} items after {pushes} pushes"
    );
    let py = |r: Result<f64, String>| match r {
        Ok(v) => Python::Value(v),
        Err(why) => {
            eprintln!("wandb: {why}");
            Python::Missing(why)
        }
    };
    Ok(vec![
        Figure::lower(
            format!(
                "CLI: `launch --docker-image busybox:1.36 --queue Q --project P` (push), wall time, median of {ROUNDS}"
            ),
            "ms",
            ours_push,
        )
        .python(py(theirs_push)),
        Figure::lower(
            format!("CLI: `--help` (start-up), wall time, median of {ROUNDS}"),
            "ms",
            ours_help,
        )
        .python(py(theirs_help)),
    ])
}
