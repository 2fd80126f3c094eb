//! The official `wandb` package (PyPI) as a client of `liftoff server`.
//! Needs a venv with wandb: `cargo xtask test` makes one and sets
//! `LIFTOFF_WANDB_PYTHON`; without it these tests say so and pass nothing.

use std::process::Command;

use liftoff_client::ops::liftoff::LiftoffRunQueue;

use crate::harness::{ADMIN_KEY, Server};

pub(crate) fn python() -> Option<String> {
    match std::env::var("LIFTOFF_WANDB_PYTHON") {
        Ok(p) if !p.is_empty() => Some(p),
        _ => {
            if std::env::var("LIFTOFF_REQUIRE_WANDB").is_ok() {
                panic!("LIFTOFF_REQUIRE_WANDB is set but LIFTOFF_WANDB_PYTHON is not");
            }
            eprintln!(
                "skipped: set LIFTOFF_WANDB_PYTHON to a python with the wandb package (cargo xtask test does)"
            );
            None
        }
    }
}

const SCRIPT: &str = r#"
import wandb
from wandb.sdk.launch import launch_add
api = wandb.Api()
q = api.create_run_queue(name="sdk-queue", type="local-container", entity="admin", config={"env": ["A=1"]})
rq = api.run_queue("admin", "sdk-queue")
assert rq.type == "local-container", rq.type
assert rq.default_resource_config == {"resource_args": {"local-container": {"env": ["A=1"]}}}, rq.default_resource_config
queued = launch_add(docker_image="busybox:latest", queue_name="sdk-queue", project="proj", entity="admin")
assert queued.state == "pending", queued.state
print("OK", [i.state for i in rq.items])
"#;

#[tokio::test]
async fn the_official_sdk_creates_queues_and_pushes_items() {
    let Some(python) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let work = tempfile::tempdir().unwrap();
    let env = [
        ("WANDB_BASE_URL", server.url.as_str()),
        ("WANDB_API_KEY", ADMIN_KEY),
        ("WANDB_SILENT", "true"),
        ("WANDB_DIR", work.path().to_str().unwrap()),
    ];
    let out = Command::new(&python)
        .arg("-c")
        .arg(SCRIPT)
        .envs(env)
        .current_dir(work.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("OK ['pending']"));
    // `wandb launch --queue`, the official CLI
    let wandb = std::path::Path::new(&python).with_file_name("wandb");
    let out = Command::new(wandb)
        .args([
            "launch",
            "--docker-image",
            "busybox:1.36",
            "--queue",
            "sdk-queue",
            "--project",
            "proj",
            "--entity",
            "admin",
        ])
        .envs(env)
        .current_dir(work.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "wandb launch: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // liftoff's store now holds both items, merged with the queue config
    let queue = server
        .client(ADMIN_KEY)
        .call(LiftoffRunQueue {
            entity: "admin".into(),
            queue: "sdk-queue".into(),
            first: 10,
            after: None,
        })
        .await
        .unwrap();
    let images: Vec<String> = queue
        .items
        .iter()
        .map(|i| {
            i.item.run_spec.as_ref().unwrap()["docker"]["docker_image"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(images, ["busybox:1.36", "busybox:latest"]);
    for i in &queue.items {
        assert_eq!(
            i.item.run_spec.as_ref().unwrap()["resource_args"]["local-container"]["env"],
            serde_json::json!(["A=1"])
        );
    }
}

const TRAIN: &str = r#"import wandb
run = wandb.init()
run.log({"hello": "world"})
for i in range(30):
    run.log({"loss": 1.0 / (i + 1), "acc": i / 30})
# Python writes these as bare NaN and Infinity, which JSON has not.
run.log({"grad_norm": float("nan"), "scale": float("inf")})
print("training done")
run.finish()
"#;

const READ: &str = r#"
import sys, wandb
api = wandb.Api()
runs = list(api.runs("admin/proj"))
assert len(runs) == 1, runs
r = runs[0]
assert r.state == "finished", r.state
assert r.summary["loss"] == 1.0 / 30, dict(r.summary)
assert r.summary["hello"] == "world"
h = r.history(pandas=False)
assert len(h) == 32, len(h)
odd = [row for row in h if "grad_norm" in row]
assert len(odd) == 1 and odd[0]["grad_norm"] != odd[0]["grad_norm"], odd
assert odd[0]["scale"] == float("inf"), odd
loss = [row["loss"] for row in r.scan_history(keys=["loss"])]
assert len(loss) == 30 and loss[0] == 1.0, loss
out = r.file("output.log").download(replace=True, root=sys.argv[1]).read()
assert "training done" in out, out
print("READ OK", r.id)
"#;

/// A server with a local-process queue `default`, `train.py` (with
/// `wandb` as its requirement) launched to it as a code job, and an agent
/// polling it that makes its venvs from `python` (pip reuses its cache).
fn launch_on_an_agent(
    python: &str,
    train: &str,
) -> (tempfile::TempDir, Server, crate::harness::AgentProcess) {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"), &[]);
    let (status, _, err) = crate::harness::liftoff(
        &server,
        tmp.path(),
        &["queue", "create", "default", "--resource", "local-process"],
    );
    assert!(status.success(), "{err}");
    // the seed tutorial's job: train.py and its requirements
    let code = tmp.path().join("code");
    std::fs::create_dir_all(&code).unwrap();
    std::fs::write(code.join("train.py"), train).unwrap();
    std::fs::write(code.join("requirements.txt"), "wandb\n").unwrap();
    let (status, out, err) = crate::harness::liftoff(
        &server,
        &code,
        &[
            "launch",
            "--uri",
            ".",
            "--queue",
            "default",
            "--project",
            "proj",
        ],
    );
    assert!(status.success(), "{out}{err}");
    let work = tmp.path().join("agent");
    std::fs::create_dir_all(&work).unwrap();
    let cfg = work.join("launch-config.yaml");
    // A long grace: a stopped wandb run has time to send what it logged
    // on a loaded machine.
    std::fs::write(
        &cfg,
        format!("runner:\n  python: {python}\n  stop_grace_seconds: 60\n"),
    )
    .unwrap();
    let agent = crate::harness::AgentProcess::start(
        &server,
        &work,
        &["-q", "default", "-c", cfg.to_str().unwrap()],
    );
    (tmp, server, agent)
}

/// Wait (10 s at most) until `agent` has printed `line` `n` times: a job's
/// last lines reach the agent's output up to a poll after the SDK marks its
/// run finished (the agent follows the job's output files). The caller
/// asserts the count, with the output to show.
async fn lines_out(agent: &crate::harness::AgentProcess, line: &str, n: usize) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while agent.output().matches(line).count() < n && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_launched_job_logs_to_liftoff_through_the_official_sdk() {
    let Some(python) = python() else { return };
    let (tmp, server, agent) = launch_on_an_agent(&python, TRAIN);
    crate::harness::eventually(
        std::time::Duration::from_secs(300),
        "the run to finish",
        || async {
            let q = server
                .client(ADMIN_KEY)
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
                .and_then(|i| i.run.as_ref())
                .filter(|r| r.state == liftoff_model::RunState::Finished)
                .map(|_| ())
        },
    )
    .await;
    lines_out(&agent, "training done", 1).await;
    assert!(
        agent.output().contains("training done"),
        "{}",
        agent.output()
    );
    // The run's wandb read its job's wandb-job.json through the SDK's
    // `/artifacts/...` fallback (it got the web app's HTML before).
    assert!(
        !agent
            .output()
            .contains("Failed to download partial job info"),
        "{}",
        agent.output()
    );
    let out = sdk_script(
        &python,
        READ,
        &[tmp.path().join("dl").to_str().unwrap()],
        &server,
        tmp.path(),
    );
    assert!(
        out.status.success(),
        "wandb.Api reads: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("READ OK"));
}

/// `python -c SCRIPT ARGS` in `dir`, with wandb pointed at `server`.
fn sdk_script(
    python: &str,
    script: &str,
    args: &[&str],
    server: &Server,
    dir: &std::path::Path,
) -> std::process::Output {
    Command::new(python)
        .arg("-c")
        .arg(script)
        .args(args)
        .env("WANDB_BASE_URL", &server.url)
        .env("WANDB_API_KEY", ADMIN_KEY)
        .env("WANDB_SILENT", "true")
        .current_dir(dir)
        .output()
        .unwrap()
}

/// The official `wandb` CLI next to the venv's python.
pub(crate) fn wandb_cli(python: &str) -> std::path::PathBuf {
    std::path::Path::new(python).with_file_name("wandb")
}

pub(crate) fn run_ok(cmd: &mut Command, what: &str) -> String {
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{what}: {text}");
    text
}

/// Items of `queue` whose runs have finished.
async fn finished_runs(server: &Server, queue: &str) -> Vec<String> {
    let Ok(q) = server
        .client(ADMIN_KEY)
        .call(LiftoffRunQueue {
            entity: "admin".into(),
            queue: queue.into(),
            first: 20,
            after: None,
        })
        .await
    else {
        return vec![];
    };
    q.items
        .iter()
        .filter_map(|i| i.run.as_ref())
        .filter(|r| r.state == liftoff_model::RunState::Finished)
        .map(|r| r.name.clone())
        .collect()
}

/// A child killed with its process group (the official agent starts the
/// job and wandb-core under it).
struct Group(std::process::Child);

impl Drop for Group {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.0.id())])
            .status();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_cli_and_launch_agent_work_with_liftoff() {
    use std::os::unix::process::CommandExt;
    let Some(python) = python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"), &[]);
    let (status, _, err) = crate::harness::liftoff(
        &server,
        tmp.path(),
        &["queue", "create", "default", "--resource", "local-process"],
    );
    assert!(status.success(), "{err}");
    let code = tmp.path().join("code");
    std::fs::create_dir_all(&code).unwrap();
    std::fs::write(code.join("train.py"), TRAIN).unwrap();
    std::fs::write(code.join("requirements.txt"), "wandb\n").unwrap();
    let wandb = |args: &[&str]| {
        let mut c = Command::new(wandb_cli(&python));
        c.args(args)
            .current_dir(&code)
            .env("WANDB_BASE_URL", &server.url)
            .env("WANDB_API_KEY", ADMIN_KEY)
            .env("WANDB_DIR", tmp.path())
            .env_remove("WANDB_ENTITY")
            .env_remove("WANDB_PROJECT");
        c
    };
    // `wandb job create code` then `wandb launch -j`, and `wandb launch --uri .`
    let out = run_ok(
        &mut wandb(&[
            "job",
            "create",
            "code",
            ".",
            "-p",
            "proj",
            "-e",
            "admin",
            "-n",
            "train-job",
            "-E",
            "python train.py",
        ]),
        "wandb job create",
    );
    assert!(out.contains("admin/proj/train-job:v0"), "{out}");
    run_ok(
        &mut wandb(&[
            "launch",
            "-j",
            "admin/proj/train-job:latest",
            "-q",
            "default",
            "-p",
            "proj",
            "-e",
            "admin",
        ]),
        "wandb launch -j",
    );
    run_ok(
        &mut wandb(&[
            "launch",
            "--uri",
            ".",
            "-E",
            "python train.py",
            "-q",
            "default",
            "-p",
            "proj",
            "-e",
            "admin",
        ]),
        "wandb launch --uri .",
    );
    // liftoff agent runs both
    let work = tmp.path().join("agent");
    std::fs::create_dir_all(&work).unwrap();
    let cfg = work.join("launch-config.yaml");
    std::fs::write(&cfg, format!("runner:\n  python: {python}\n")).unwrap();
    let agent = crate::harness::AgentProcess::start(
        &server,
        &work,
        &["-q", "default", "-c", cfg.to_str().unwrap()],
    );
    let ran = crate::harness::eventually(
        std::time::Duration::from_secs(300),
        "liftoff agent to finish both official items",
        || async {
            let done = finished_runs(&server, "default").await;
            (done.len() == 2).then_some(done)
        },
    )
    .await;
    lines_out(&agent, "training done", 2).await;
    assert_eq!(
        agent.output().matches("training done").count(),
        2,
        "{}",
        agent.output()
    );
    drop(agent);
    // `liftoff launch` pushes; the official `wandb launch-agent` runs it
    let (status, out, err) = crate::harness::liftoff(
        &server,
        &code,
        &["launch", "--uri", ".", "--queue", "default", "-p", "proj"],
    );
    assert!(status.success(), "{out}{err}");
    let venv_bin = std::path::Path::new(&python).parent().unwrap().to_owned();
    let path = format!(
        "{}:{}",
        venv_bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let log = tmp.path().join("wandb-agent.log");
    let file = std::fs::File::create(&log).unwrap();
    let py_agent = Group(
        wandb(&["launch-agent", "-q", "default", "-e", "admin", "-j", "1"])
            .current_dir(tmp.path())
            .env("PATH", path)
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .process_group(0)
            .spawn()
            .unwrap(),
    );
    let all = crate::harness::eventually(
        std::time::Duration::from_secs(180),
        "the official agent to finish liftoff's item",
        || async {
            let done = finished_runs(&server, "default").await;
            (done.len() == 3).then_some(done)
        },
    )
    .await;
    let third = all.iter().find(|r| !ran.contains(r)).unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("training done") && text.contains(third.as_str()),
        "{text}"
    );
    drop(py_agent);
}

/// Hidden options too: every option name wandb's click commands declare
/// (its `--build`, `-rg`, `-pq`, launch-agent's `--url`) is one liftoff reads,
/// as it is typed (`-rg` is not `-r g`).
#[test]
fn liftoff_reads_every_option_name_of_wandb_launch_and_launch_agent() {
    let Some(python) = python() else { return };
    let script = "from wandb.cli.cli import cli; import json; print(json.dumps({n: [o for p in cli.commands[n].params for o in list(p.opts) + list(p.secondary_opts)] for n in ['launch', 'launch-agent']}))";
    let out = Command::new(&python).args(["-c", script]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let names: std::collections::BTreeMap<String, Vec<String>> =
        serde_json::from_slice(&out.stdout).unwrap();
    let cli = <liftoff::cli::Cli as clap::CommandFactory>::command();
    for (wandb_cmd, ours) in [("launch", "launch"), ("launch-agent", "agent")] {
        let sub = cli.find_subcommand(ours).unwrap();
        assert!(names[wandb_cmd].len() > 10, "{names:?}");
        for opt in &names[wandb_cmd] {
            let args =
                liftoff::cli_args(["liftoff", ours, opt.as_str()].into_iter().map(Into::into));
            let word = args[2].to_str().unwrap();
            let known = sub.get_arguments().chain(cli.get_arguments()).any(|a| {
                match word.strip_prefix("--") {
                    Some(long) => {
                        a.get_long() == Some(long)
                            || a.get_all_aliases().is_some_and(|al| al.contains(&long))
                    }
                    None => word.len() == 2 && a.get_short() == word.chars().nth(1),
                }
            });
            assert!(
                known,
                "liftoff {ours} does not read wandb {wandb_cmd}'s {opt} (read as {word})"
            );
        }
    }
}

/// The long options a `--help` text lists (lines that start with an option).
fn long_options(help: &str) -> std::collections::BTreeSet<String> {
    help.lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with('-'))
        .flat_map(|l| {
            l.split(|c: char| c.is_whitespace() || c == ',' || c == '=' || c == '[')
                .take_while(|w| w.starts_with('-') || w.is_empty())
                .map(|w| w.trim_end_matches('.'))
                .filter(|w| {
                    w.strip_prefix("--").is_some_and(|n| {
                        !n.is_empty() && n.chars().all(|c| c.is_ascii_lowercase() || c == '-')
                    }) && *w != "--help"
                })
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn liftoff_takes_every_flag_of_wandb_launch_and_launch_agent() {
    let Some(python) = python() else { return };
    for (wandb_cmd, ours) in [
        ("launch", &["launch", "--help"][..]),
        ("launch-agent", &["agent", "--help"][..]),
    ] {
        let theirs = Command::new(&python)
            .args([
                "-c",
                "from wandb.cli.cli import cli; cli()",
                wandb_cmd,
                "--help",
            ])
            .output()
            .unwrap();
        assert!(theirs.status.success(), "{theirs:?}");
        let theirs = long_options(&String::from_utf8_lossy(&theirs.stdout));
        assert!(
            theirs.len() > 5,
            "read no options from wandb {wandb_cmd} --help: {theirs:?}"
        );
        let mine = Command::new(crate::harness::bin())
            .args(ours)
            .output()
            .unwrap();
        let mine = long_options(&String::from_utf8_lossy(&mine.stdout));
        let missing: Vec<&String> = theirs.difference(&mine).collect();
        assert!(
            missing.is_empty(),
            "liftoff {} lacks wandb {wandb_cmd}'s {missing:?}",
            ours[0]
        );
    }
}

const LOGS_UNTIL_STOPPED: &str = r#"import time, wandb
with wandb.init() as run:
    for i in range(3000):
        run.log({"i": i})
        print(f"logged {i}", flush=True)
        time.sleep(0.1)
"#;

const LAST_LOGGED: &str = r#"
import wandb
r = list(wandb.Api().runs("admin/proj"))[0]
print("STATE", r.state)
print("LAST", max(row["i"] for row in r.scan_history(keys=["i"])))
"#;

/// A stop request ends a wandb job the way the SDK's own stop does
/// (SIGINT first), so the run sends what it logged before it ends: its
/// history reaches the last step the job printed. (With SIGTERM first,
/// Python ended at once and the last seconds of metrics were lost.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_wandb_job_keeps_every_metric_it_logged() {
    let Some(python) = python() else { return };
    let (tmp, server, agent) = launch_on_an_agent(&python, LOGS_UNTIL_STOPPED);
    let logged = |out: &str| {
        out.lines()
            .filter_map(|l| l.split("logged ").nth(1)?.trim().parse::<i64>().ok())
            .max()
    };
    let item = crate::harness::eventually(
        std::time::Duration::from_secs(300),
        "the job to log 30 steps",
        || async {
            if logged(&agent.output())? < 30 {
                return None;
            }
            let items = crate::harness::try_queue_items(&server, "default").await?;
            items.first().map(|i| i.item.id.clone())
        },
    )
    .await;
    crate::harness::stop_item(&server, &agent, item).await;
    let last = logged(&agent.output()).unwrap();
    let out = sdk_script(&python, LAST_LOGGED, &[], &server, tmp.path());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("STATE killed"), "{text}");
    // The history holds every step the job printed; the stop may land
    // between a step's `run.log` and its `print`, so one more is fine.
    let kept: i64 = text
        .lines()
        .find_map(|l| l.strip_prefix("LAST ")?.trim().parse().ok())
        .unwrap_or(-1);
    assert!(
        kept == last || kept == last + 1,
        "the job printed `logged {last}` last; the run's history: {text}"
    );
}
