//! `cargo xtask stress`: the proofs that take minutes (CI runs them after
//! `test`): kill -9 of the server under load on SQLite and PostgreSQL, a
//! server restart under running jobs, two replicas with 16 agents on one
//! PostgreSQL, schemathesis fuzzing /graphql, and the cargo-fuzz targets of
//! liftoff-model for a bounded time.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::sh::{self, Counts, cargo, cmd, run, run_counted};
use crate::test::{Options, test_env};
use crate::tools::{self, Need};

/// Fuzz cases per GraphQL operation (about 40 operations: 1,000+ cases).
const EXAMPLES_PER_OPERATION: &str = "30";

pub fn stress(args: &[String]) -> Result<ExitCode> {
    if let Some(a) = args.first() {
        bail!("`cargo xtask stress` takes no arguments (got {a:?})");
    }
    let started = Instant::now();
    tools::ensure(Need::All)?;
    let env = test_env(&Options::full())?;
    let mut counts = Counts::default();
    let mut failed = Vec::new();

    println!("\n==> stress: kill -9 under load, restarts (tests/e2e/stress.rs)");
    let mut c = cargo();
    c.args([
        "test",
        "-p",
        "liftoff",
        "--test",
        "e2e",
        "stress::",
        "--",
        "--test-threads=1",
    ])
    .env("LIFTOFF_STRESS", "1")
    .envs(env.vars.iter().map(|(k, v)| (k, v)));
    if let Err(e) = run_counted(&mut c, &mut counts) {
        eprintln!("{e:#}");
        failed.push("e2e stress");
    }

    println!("\n==> stress: schemathesis against /graphql");
    match fuzz_graphql(&mut counts) {
        Ok(()) => {}
        Err(e) => {
            eprintln!("{e:#}");
            failed.push("schemathesis");
        }
    }

    println!("\n==> stress: cargo-fuzz targets of liftoff-model (fuzz/)");
    if let Err(e) = fuzz_model(&mut counts) {
        eprintln!("{e:#}");
        failed.push("cargo-fuzz");
    }

    println!(
        "\n==> stress summary: {:.0} s",
        started.elapsed().as_secs_f64()
    );
    if !failed.is_empty() {
        println!("  failed: {}", failed.join(", "));
    }
    println!(
        "{} passed, {} failed, {} skipped",
        counts.passed, counts.failed, counts.skipped
    );
    Ok(if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Start a server and let schemathesis throw generated GraphQL at it: no
/// 5xx, no INTERNAL error, no hang (tests/fuzz/liftoff_hooks.py).
fn fuzz_graphql(counts: &mut Counts) -> Result<()> {
    let python = crate::python::schemathesis()?;
    let st = python.with_file_name("st");
    run(cargo().args(["build", "-p", "liftoff"]))?;
    let data = tempdir()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let key = "0123456789abcdef0123456789abcdef01234567";
    let mut server = cmd(sh::target_dir().join("debug/liftoff"))
        .args([
            "server",
            "--addr",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(&data)
        .env("LIFTOFF_ADMIN_API_KEY", key)
        .env("LIFTOFF_LOG", "error")
        .stdout(std::process::Stdio::null())
        .spawn()
        .context("start liftoff server")?;
    let url = format!("http://127.0.0.1:{port}/graphql");
    let auth = format!("Authorization: Basic {}", base64(&format!("api:{key}")));
    let out = cmd(&st)
        .args([
            "run",
            &url,
            "-H",
            &auth,
            "--checks",
            "liftoff_never_fails_internally",
            "--exclude-checks",
            "not_a_server_error",
        ])
        .args([
            "--max-examples",
            EXAMPLES_PER_OPERATION,
            "-w",
            "2",
            "--phases",
            "fuzzing",
            "--wait-for-schema",
            "30",
        ])
        .env("SCHEMATHESIS_HOOKS", "liftoff_hooks")
        .env("PYTHONPATH", sh::root().join("tests/fuzz"))
        .output()
        .context("run schemathesis")?;
    let alive = server.try_wait()?.is_none();
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&data);
    let text = String::from_utf8_lossy(&out.stdout);
    let tail: Vec<&str> = text
        .lines()
        .rev()
        .take(12)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    println!("{}", tail.join("\n"));
    // "1110 generated, 1110 passed" (or "... N found M unique failures")
    let generated = text
        .lines()
        .find_map(|l| {
            l.trim()
                .split_once(" generated")
                .and_then(|(n, _)| n.trim().parse::<u64>().ok())
        })
        .unwrap_or(0);
    if !alive {
        counts.failed += 1;
        bail!("the server died during fuzzing");
    }
    if !out.status.success() {
        counts.failed += 1;
        bail!("schemathesis found failures (exit {})", out.status);
    }
    if generated < 1000 {
        counts.failed += 1;
        bail!("schemathesis ran only {generated} cases");
    }
    counts.passed += generated;
    println!(
        "schemathesis: {generated} generated cases, no 5xx, no INTERNAL error; the server stayed up"
    );
    Ok(())
}

/// Each fuzz target, with its fixtures as seeds, for a bounded time.
const FUZZ_TARGETS: [(&str, &str); 6] = [
    ("run_spec", "run-spec"),
    ("launch_config", "launch-config"),
    ("job_spec", "wandb-job"),
    ("queue_push", "queue-config"),
    ("names", "run-spec"),
    ("config_yaml", "launch-config"),
];
const FUZZ_SECONDS: u32 = 30;

fn fuzz_model(counts: &mut Counts) -> Result<()> {
    let root = sh::root();
    let target_dir = sh::target_dir().join("fuzz");
    if !tools::cargo_fuzz()? {
        // the same checks over the fixtures, on stable
        let mut c = cargo();
        c.args(["test", "--manifest-path"])
            .arg(root.join("fuzz/Cargo.toml"))
            .arg("--target-dir")
            .arg(&target_dir);
        return run_counted(&mut c, counts);
    }
    for (target, seeds) in FUZZ_TARGETS {
        let corpus = target_dir.join("corpus").join(target);
        std::fs::create_dir_all(&corpus)?;
        let mut c = cmd("cargo");
        c.current_dir(&root)
            .args(["+nightly", "fuzz", "run", "--target-dir"])
            .arg(target_dir.join("nightly"))
            .arg(target)
            .arg(&corpus)
            .arg(root.join("spec/fixtures").join(seeds))
            .args([
                "--",
                &format!("-max_total_time={FUZZ_SECONDS}"),
                "-timeout=10",
                "-rss_limit_mb=2048",
                "-max_len=65536",
                "-print_final_stats=1",
            ]);
        let out = c.output().context("run cargo fuzz")?;
        let err = String::from_utf8_lossy(&out.stderr);
        let runs = err
            .lines()
            .find_map(|l| l.strip_prefix("stat::number_of_executed_units:"))
            .map(|n| n.trim().to_owned())
            .unwrap_or_else(|| "?".into());
        if out.status.success() {
            counts.passed += 1;
            println!("  ok  {target}: {runs} inputs in {FUZZ_SECONDS} s, no crash");
        } else {
            counts.failed += 1;
            let tail: Vec<&str> = err.lines().rev().take(40).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            bail!(
                "fuzz target {target} failed ({}):\n{}\nreproduce: cargo +nightly fuzz run {target} <the crash file above>",
                out.status,
                tail.join("\n")
            );
        }
    }
    Ok(())
}

fn tempdir() -> Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("liftoff-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn base64(s: &str) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = s.as_bytes();
    let mut out = String::new();
    for chunk in b.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_of_credentials() {
        assert_eq!(super::base64("api:k123"), "YXBpOmsxMjM=");
        assert_eq!(super::base64("ab"), "YWI=");
    }
}
