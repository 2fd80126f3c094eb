//! `liftoff agent` and `liftoff launch` end to end: real server, real
//! agent processes, real jobs.

use std::process::Command;
use std::time::{Duration, Instant};

use liftoff_client::ops::liftoff::{ItemWithRun, LiftoffRunQueue, LiftoffStopPolling};
use liftoff_client::ops::runs::RunState;
use liftoff_client::ops::web::LiftoffJob;
use liftoff_model::run::RunState as State;
use liftoff_model::status::ItemState;

use crate::harness::{ADMIN_KEY, AgentProcess, Server, eventually, liftoff, liftoff_command};

async fn items(server: &Server, queue: &str) -> Vec<ItemWithRun> {
    items_in(server, "admin", queue).await
}

async fn items_in(server: &Server, entity: &str, queue: &str) -> Vec<ItemWithRun> {
    server
        .client(ADMIN_KEY)
        .call(LiftoffRunQueue {
            entity: entity.into(),
            queue: queue.into(),
            first: 50,
            after: None,
        })
        .await
        .unwrap()
        .items
}

/// The run page of `admin/proj/RUN`.
async fn run_page(server: &Server, run: String) -> liftoff_client::ops::web::RunDetail {
    server
        .client(ADMIN_KEY)
        .call(liftoff_client::ops::web::LiftoffRunPage {
            entity: "admin".into(),
            project: "proj".into(),
            run,
            launch_item: false,
        })
        .await
        .unwrap()
}

/// The first item of `queue` that failed, once one has (within `within`).
async fn first_failed(server: &Server, queue: &str, within: Duration) -> ItemWithRun {
    first_failed_in(server, "admin", queue, within).await
}

async fn first_failed_in(
    server: &Server,
    entity: &str,
    queue: &str,
    within: Duration,
) -> ItemWithRun {
    eventually(within, "the item to fail", || async {
        items_in(server, entity, queue)
            .await
            .into_iter()
            .find(|i| i.item.state == ItemState::Failed)
    })
    .await
}

/// The state of run `name` in `admin/proj`.
async fn run_state(server: &Server, name: &str) -> Option<State> {
    server
        .client(ADMIN_KEY)
        .call(RunState {
            entity: "admin".into(),
            project: "proj".into(),
            name: name.to_owned(),
        })
        .await
        .ok()
}

fn queue(server: &Server, dir: &std::path::Path, name: &str) {
    let (status, _, err) = liftoff(
        server,
        dir,
        &["queue", "create", name, "--resource", "local-process"],
    );
    assert!(status.success(), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_job_runs_in_a_venv_and_its_run_finishes() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"), &[]);
    queue(&server, tmp.path(), "default");
    let code = tmp.path().join("code");
    std::fs::create_dir_all(&code).unwrap();
    std::fs::write(code.join("train.py"), "import os, sys, six\nprint('python', sys.executable)\nprint('config', os.environ.get('WANDB_CONFIG'))\n").unwrap();
    std::fs::write(code.join("requirements.txt"), "six==1.16.0\n").unwrap();
    let (status, out, err) = liftoff(
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
            "-c",
            r#"{"overrides": {"run_config": {"lr": 0.1}}}"#,
        ],
    );
    assert!(status.success(), "{out}\n{err}");
    assert!(out.contains("Created job: admin/proj/job-code:v0"), "{out}");
    let pending = items(&server, "default").await;
    assert_eq!(pending[0].item.state, ItemState::Pending);
    // As `wandb launch` does, the CLI signs the item with the caller's name.
    let author = pending[0]
        .item
        .run_spec
        .as_ref()
        .and_then(|s| s.get("author"));
    assert_eq!(author, Some(&serde_json::json!("admin")));
    // The version made is pushed, not `latest`, which a later launch moves.
    let job = pending[0].item.run_spec.as_ref().and_then(|s| s.get("job"));
    assert_eq!(job, Some(&serde_json::json!("admin/proj/job-code:v0")));
    let mut agent = AgentProcess::start(&server, &tmp.path().join("agent"), &["-q", "default"]);
    let done = eventually(Duration::from_secs(180), "the run to finish", || async {
        let list = items(&server, "default").await;
        list.into_iter()
            .find(|i| i.run.as_ref().is_some_and(|r| r.state == State::Finished))
    })
    .await;
    assert_eq!(done.item.state, ItemState::Claimed);
    // The job lists the run, though train.py never calls wandb.init.
    let job = server
        .client(ADMIN_KEY)
        .call(LiftoffJob {
            entity: "admin".into(),
            project: "proj".into(),
            name: "job-code".into(),
        })
        .await
        .unwrap();
    let run = done.run.as_ref().unwrap();
    assert_eq!(
        job.last_run().map(|r| r.run.name.as_str()),
        Some(run.name.as_str()),
        "{job:?}"
    );
    let out = agent.output();
    assert!(out.contains("config {\"lr\":0.1}"), "{out}");
    assert!(
        !out.contains('\u{1b}'),
        "no colour codes in a file: {out:?}"
    );
    assert!(out.contains("venvs/"), "the job ran in a venv: {out}");
    // a second run of the same requirements reuses the venv
    let (status, _, err) = liftoff(
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
    assert!(status.success(), "{err}");
    let finished_two = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            let list = items(&server, "default").await;
            if list
                .iter()
                .filter(|i| i.run.as_ref().is_some_and(|r| r.state == State::Finished))
                .count()
                == 2
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;
    assert!(
        finished_two.is_ok(),
        "the second run did not finish: {:?}\n{}",
        items(&server, "default").await,
        agent.output()
    );
    assert!(
        agent.output().contains("reusing venv"),
        "{}",
        agent.output()
    );
    let status = agent.terminate(Duration::from_secs(15));
    assert!(
        status.success(),
        "SIGTERM is a clean exit: {status:?}\n{}",
        agent.output()
    );
    assert!(agent.output().contains("stopping: shutdown requested"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_entry_point_fails_at_the_run_stage_with_its_stderr() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"), &[]);
    queue(&server, tmp.path(), "default");
    let _agent = AgentProcess::start(&server, &tmp.path().join("agent"), &["-q", "default"]);
    let code = tmp.path().join("code");
    std::fs::create_dir_all(&code).unwrap();
    std::fs::write(code.join("train.py"), "print('hi')\n").unwrap();
    let (status, _, err) = liftoff(
        &server,
        &code,
        &[
            "launch",
            "--uri",
            ".",
            "-E",
            "python no_such_file.py",
            "--queue",
            "default",
            "-p",
            "proj",
        ],
    );
    assert!(status.success(), "{err}");
    let failed = first_failed(&server, "default", Duration::from_secs(60)).await;
    let e = failed.item.error.unwrap();
    assert_eq!(e.stage, "run");
    assert!(e.message.contains("exited with code 2"), "{}", e.message);
    assert!(
        e.message.contains("no_such_file.py"),
        "the stderr tail is attached: {}",
        e.message
    );
    // the run reflects it too, with the exit code
    let run = failed.item.associated_run_id.clone().unwrap();
    assert_eq!(run_state(&server, &run).await, Some(State::Failed));
    let page = run_page(&server, run).await;
    assert_eq!(page.run.exit_code, Some(2));
}

/// A job as a failing wandb script ends: a traceback, then wandb marks the
/// run failed with exit code 1 (as it does for any exception, even a
/// `sys.exit(2)`) and prints its summary, then the process exits 2. The
/// item's error names the exception, not wandb's last line, and the run's
/// exit code is the process's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_jobs_error_names_its_exception_and_its_exit_code() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"), &[]);
    queue(&server, tmp.path(), "default");
    let _agent = AgentProcess::start(&server, &tmp.path().join("agent"), &["-q", "default"]);
    let code = tmp.path().join("code");
    std::fs::create_dir_all(&code).unwrap();
    std::fs::write(
        code.join("run.sh"),
        r#"echo "epoch 3: loss 0.2"
echo "Traceback (most recent call last):" >&2
echo "RuntimeError: CUDA out of memory (simulated)" >&2
curl -sf -u "api:$WANDB_API_KEY" -H 'content-type: application/json' \
  -d '{"complete": true, "exitcode": 1}' \
  "$WANDB_BASE_URL/files/$WANDB_ENTITY/$WANDB_PROJECT/$WANDB_RUN_ID/file_stream" > /dev/null || echo "curl failed"
echo "wandb: Run history:" >&2
echo "wandb: Find logs at: ./wandb/run-x/logs" >&2
exit 2
"#,
    )
    .unwrap();
    let (status, _, err) = liftoff(
        &server,
        &code,
        &[
            "launch",
            "--uri",
            ".",
            "-E",
            "sh run.sh",
            "--queue",
            "default",
            "-p",
            "proj",
        ],
    );
    assert!(status.success(), "{err}");
    let failed = first_failed(&server, "default", Duration::from_secs(60)).await;
    let e = failed.item.error.unwrap();
    assert!(
        e.message.starts_with(
            "the job exited with code 2: RuntimeError: CUDA out of memory (simulated); last output:"
        ),
        "{}",
        e.message
    );
    assert!(!e.message.contains("curl failed"), "{}", e.message);
    // `queue show --item` says the whole error (the list cuts it to a line).
    let (status, shown, err) = liftoff(
        &server,
        tmp.path(),
        &["queue", "show", "default", "--item", &failed.item.id],
    );
    assert!(status.success(), "{err}");
    for want in [
        "status:    Failed",
        "ERROR (stage run)",
        "  ERROR RuntimeError: CUDA out of memory (simulated)",
        "RUN SPEC",
        "\"resource\": \"local-process\"",
    ] {
        assert!(shown.contains(want), "{want:?} in:\n{shown}");
    }
    let (status, _, err) = liftoff(
        &server,
        tmp.path(),
        &["queue", "show", "default", "--item", "nope"],
    );
    assert!(!status.success());
    assert!(
        err.contains("no item nope in queue default of admin"),
        "{err}"
    );
    let run = failed.item.associated_run_id.clone().unwrap();
    let page = run_page(&server, run).await;
    assert_eq!(page.run.state, State::Failed);
    assert_eq!(page.run.exit_code, Some(2));
    // A module the job's Python lacks: the error says where it goes.
    std::fs::write(code.join("train.py"), "import nosuchmodule_xyz.layers\n").unwrap();
    let (status, _, err) = liftoff(
        &server,
        &code,
        &[
            "launch",
            "--uri",
            ".",
            "-E",
            "python3 train.py",
            "--queue",
            "default",
            "-p",
            "proj",
        ],
    );
    assert!(status.success(), "{err}");
    let again = eventually(
        Duration::from_secs(60),
        "the second job to fail",
        || async {
            items(&server, "default")
                .await
                .into_iter()
                .filter_map(|i| i.item.error)
                .find(|e| e.message.contains("nosuchmodule_xyz"))
        },
    )
    .await;
    assert!(
        again.message.starts_with(
            "the job exited with code 1: ModuleNotFoundError: No module named 'nosuchmodule_xyz' (if nosuchmodule_xyz is a package, list it in the job's requirements.txt"
        ),
        "{}",
        again.message
    );
    // The job's own package, out of reach of a script in a subfolder: the
    // hint says so instead of pointing at requirements.txt.
    std::fs::remove_file(code.join("train.py")).unwrap();
    std::fs::create_dir_all(code.join("mypkg_xyz")).unwrap();
    std::fs::write(code.join("mypkg_xyz/__init__.py"), "").unwrap();
    std::fs::create_dir_all(code.join("scripts")).unwrap();
    std::fs::write(code.join("scripts/train.py"), "import mypkg_xyz\n").unwrap();
    let (status, _, err) = liftoff(
        &server,
        &code,
        &[
            "launch",
            "--uri",
            ".",
            "-E",
            "python3 scripts/train.py",
            "--queue",
            "default",
            "-p",
            "proj",
        ],
    );
    assert!(status.success(), "{err}");
    let own = eventually(Duration::from_secs(60), "the third job to fail", || async {
        items(&server, "default")
            .await
            .into_iter()
            .filter_map(|i| i.item.error)
            .find(|e| e.message.contains("mypkg_xyz"))
    })
    .await;
    assert!(
        own.message.contains(
            "No module named 'mypkg_xyz' (mypkg_xyz is in the job's code but not on Python's path"
        ),
        "{}",
        own.message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_for_an_entity_the_agent_cannot_write_to_fails_before_it_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"), &[]);
    // bob runs the agent of the team ml; admin, also in ml, launches into
    // admin's own entity, where bob cannot make the run.
    let admin_cmd = |args: &[&str]| crate::harness::admin_ok(&server.data_dir, args);
    let bob_key = admin_cmd(&["user", "create", "bob"]);
    admin_cmd(&[
        "team", "create", "ml", "--member", "admin", "--member", "bob",
    ]);
    let (status, _, err) = liftoff(
        &server,
        tmp.path(),
        &[
            "queue",
            "create",
            "default",
            "-e",
            "ml",
            "--resource",
            "local-process",
        ],
    );
    assert!(status.success(), "{err}");
    let marker = tmp.path().join("ran");
    let spec = |entity: &str| {
        liftoff_model::spec::LaunchSpec::from_value(serde_json::json!({
            "entity": entity, "project": "proj", "resource": "local-process",
            "overrides": {"entry_point": ["touch", marker.to_str().unwrap()]}
        }))
        .unwrap()
    };
    let client = server.client(ADMIN_KEY);
    // An entity that is not there is refused at the push (Liftoff's server;
    // another server may take it, and the agent fails it as below).
    let refused = client
        .call(liftoff_client::ops::items::PushToRunQueueByName::new(
            "ml",
            "default",
            spec("nobody"),
        ))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains(r#"the run's entity "nobody" does not exist or is not one you belong to"#),
        "{refused}"
    );
    client
        .call(liftoff_client::ops::items::PushToRunQueueByName::new(
            "ml",
            "default",
            spec("admin"),
        ))
        .await
        .unwrap();
    let _agent = AgentProcess::start_with_env(
        &server,
        &tmp.path().join("agent"),
        &["-q", "default", "-e", "ml"],
        &[("WANDB_API_KEY", &bob_key)],
    );
    // It used to run, and its item waited as Pending for a run that never came.
    let failed = first_failed_in(&server, "ml", "default", Duration::from_secs(60)).await;
    let e = failed.item.error.unwrap();
    assert_eq!(e.stage, "agent");
    assert!(
        e.message.contains("cannot create the job's run") && e.message.contains("in admin/proj"),
        "{}",
        e.message
    );
    assert!(!marker.exists(), "the job did not run");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_killed_mid_run_ends_crashed() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"), &[]);
    queue(&server, tmp.path(), "default");
    let _agent = AgentProcess::start(&server, &tmp.path().join("agent"), &["-q", "default"]);
    // the job starts, prints, then dies by SIGKILL (as the OOM killer would)
    let (status, _, err) = liftoff(
        &server,
        tmp.path(),
        &[
            "launch",
            "-E",
            "sh -c 'echo half way; sleep 1; kill -9 $$'",
            "--queue",
            "default",
            "-p",
            "proj",
        ],
    );
    assert!(status.success(), "{err}");
    let failed = first_failed(&server, "default", Duration::from_secs(60)).await;
    let e = failed.item.error.unwrap();
    assert_eq!(e.stage, "run");
    assert!(e.message.contains("SIGKILL"), "{}", e.message);
    assert!(e.message.contains("half way"), "{}", e.message);
    let run = failed.item.associated_run_id.clone().unwrap();
    assert_eq!(run_state(&server, &run).await, Some(State::Crashed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_agents_with_one_job_each_run_two_jobs_at_once_and_stop_polling_stops_them() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"), &[]);
    queue(&server, tmp.path(), "default");
    let marks = tmp.path().join("marks");
    std::fs::create_dir_all(&marks).unwrap();
    let mut a = AgentProcess::start(
        &server,
        &tmp.path().join("a"),
        &["-q", "default", "-j", "1"],
    );
    // `liftoff agent` hands over to the agent-only binary next to it (a
    // tenth of the code mapped); LIFTOFF_AGENT_IN_PROCESS keeps it in
    // `liftoff`. Both run jobs alike.
    let mut b = AgentProcess::start_with_env(
        &server,
        &tmp.path().join("b"),
        &["-q", "default", "-j", "1"],
        &[("LIFTOFF_AGENT_IN_PROCESS", "1")],
    );
    eventually(Duration::from_secs(10), "the agents to start", || async {
        (a.program() == "liftoff-agent" && b.program() == "liftoff").then_some(())
    })
    .await;
    for n in 0..2 {
        let cmd = format!(
            "sh -c 'touch {}/start{n}; sleep 2; touch {}/end{n}'",
            marks.display(),
            marks.display()
        );
        let (status, _, err) = liftoff(
            &server,
            tmp.path(),
            &["launch", "-E", &cmd, "--queue", "default", "-p", "proj"],
        );
        assert!(status.success(), "{err}");
    }
    eventually(Duration::from_secs(30), "both jobs to end", || async {
        (marks.join("end0").exists() && marks.join("end1").exists()).then_some(())
    })
    .await;
    let t = |f: &str| {
        std::fs::metadata(marks.join(f))
            .unwrap()
            .modified()
            .unwrap()
    };
    assert!(
        t("start1") < t("end0") && t("start0") < t("end1"),
        "the two jobs overlapped"
    );
    let agents = server
        .client(ADMIN_KEY)
        .call(liftoff_client::ops::liftoff::LiftoffLaunchAgents {
            entity: "admin".into(),
        })
        .await
        .unwrap();
    assert_eq!(agents.len(), 2);
    for agent in agents {
        server
            .client(ADMIN_KEY)
            .call(LiftoffStopPolling { agent_id: agent.id })
            .await
            .unwrap();
    }
    let started = Instant::now();
    assert!(a.wait(Duration::from_secs(30)).success());
    assert!(b.wait(Duration::from_secs(30)).success());
    assert!(
        a.output()
            .contains("the server asked this agent to stop polling"),
        "{}",
        a.output()
    );
    assert!(started.elapsed() < Duration::from_secs(25));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_request_kills_the_job_and_the_run_ends_killed() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"), &[]);
    queue(&server, tmp.path(), "default");
    let _agent = AgentProcess::start(&server, &tmp.path().join("agent"), &["-q", "default"]);
    // A script with a background process, which ignores the SIGINT a stop
    // sends first: it goes when the script does.
    let pid_file = tmp.path().join("background.pid");
    let script = format!("sleep 300 & echo $! > {}; wait", pid_file.display());
    let (status, _, err) = liftoff(
        &server,
        tmp.path(),
        &[
            "launch",
            "-E",
            &format!("sh -c '{script}'"),
            "--queue",
            "default",
            "-p",
            "proj",
        ],
    );
    assert!(status.success(), "{err}");
    let running = eventually(
        Duration::from_secs(30),
        "the item to be claimed",
        || async {
            items(&server, "default")
                .await
                .into_iter()
                .find(|i| i.item.state == ItemState::Claimed)
        },
    )
    .await;
    // the run does not exist until the job reports; cancel through the item
    let run_id = running.item.associated_run_id.clone().unwrap();
    let c = server.client(ADMIN_KEY);
    c.call(liftoff_client::ops::runs::UpsertBucket {
        name: run_id.clone(),
        project: "proj".into(),
        entity: "admin".into(),
        state: Some("running".into()),
        ..Default::default()
    })
    .await
    .unwrap();
    c.call(liftoff_client::ops::liftoff::LiftoffCancelItem {
        item_id: running.item.id.clone(),
    })
    .await
    .unwrap();
    let started = Instant::now();
    eventually(Duration::from_secs(30), "the run to be killed", || async {
        (run_state(&server, &run_id).await == Some(State::Killed)).then_some(())
    })
    .await;
    assert!(started.elapsed() < Duration::from_secs(20));
    let pid = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .to_owned();
    eventually(
        Duration::from_secs(10),
        "the background process to end",
        || async {
            let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // Gone, or a zombie waiting for its new parent.
            (state.is_empty() || state.contains(") Z ")).then_some(())
        },
    )
    .await;
}

/// On a terminal (a pty from util-linux's `script`), preparation steps draw
/// a spinner with the step, its latest output line and the elapsed time; the
/// log lines are there as well.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_terminal_preparation_steps_show_spinners() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: util-linux `script` (for a pty) is not installed");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"), &[]);
    let code = tmp.path().join("code");
    std::fs::create_dir_all(&code).unwrap();
    std::fs::write(code.join("train.py"), "print('trained')\n").unwrap();
    // No requirements to fetch: the venv is made and pip runs on an empty list.
    std::fs::write(code.join("requirements.txt"), "# nothing\n").unwrap();
    let line = format!("{} launch --uri . -p proj", crate::harness::bin());
    let out = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .current_dir(&code)
        .env("WANDB_BASE_URL", &server.url)
        .env("WANDB_API_KEY", ADMIN_KEY)
        .env("LIFTOFF_DATA_DIR", tmp.path().join("cli"))
        // its own venv cache, so that the venv is made here, not reused
        .env("XDG_DATA_HOME", tmp.path().join("data"))
        .env("TERM", "xterm")
        .env_remove("WANDB_ENTITY")
        .env_remove("WANDB_PROJECT")
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{shown}");
    assert!(shown.contains("trained"), "{shown}");
    assert!(
        shown.contains("[liftoff] creating venv") && shown.contains("venv created ("),
        "the steps are logged: {shown}"
    );
    // Spinner lines: `<prefix> <spinner> [0s] creating venv ...`, drawn
    // with cursor movements a pipe would never get.
    assert!(
        shown.contains("\u{1b}[")
            && shown.contains("[0s] downloading the code artifact")
            && shown.contains("[0s] creating venv"),
        "a spinner was drawn: {shown:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn launch_without_a_queue_runs_here_and_exits_with_the_job() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"), &[]);
    let (status, out, err) = liftoff(
        &server,
        tmp.path(),
        &[
            "launch",
            "-E",
            "sh -c 'echo direct-run-output'",
            "-p",
            "proj",
        ],
    );
    assert!(status.success(), "{out}\n{err}");
    assert!(
        out.contains("direct-run-output") && out.contains("finished"),
        "{out}"
    );
    // A Dockerfile given for a run here as a process is said to be unused.
    let code = tmp.path().join("code");
    std::fs::create_dir_all(&code).unwrap();
    std::fs::write(code.join("Dockerfile.wandb"), "FROM busybox\n").unwrap();
    std::fs::write(code.join("job.py"), "print('job-ran')\n").unwrap();
    let (status, out, err) = liftoff(
        &server,
        &code,
        &[
            "launch",
            "--uri",
            ".",
            "--dockerfile",
            "Dockerfile.wandb",
            "-E",
            "python3 job.py",
            "-p",
            "proj",
        ],
    );
    assert!(status.success(), "{out}\n{err}");
    assert!(out.contains("job-ran"), "{out}");
    assert!(
        err.contains("warning: --dockerfile is for a container build"),
        "{err}"
    );
    // --async (wandb launch's flag): return now, the run goes on in the background.
    let (status, out, err) = liftoff(
        &server,
        tmp.path(),
        &[
            "launch",
            "--async",
            "-E",
            "sh -c 'sleep 1; echo async-output'",
            "-p",
            "proj",
        ],
    );
    assert!(status.success(), "{out}\n{err}");
    let log = out
        .split("its output goes to ")
        .nth(1)
        .map(|p| p.trim().to_owned())
        .unwrap_or_else(|| panic!("no log path in {out:?}"));
    assert!(
        !std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("async-output"),
        "launch --async waited for the job"
    );
    let read = || std::fs::read_to_string(&log).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !read().contains(" finished: ") {
        assert!(
            Instant::now() < deadline,
            "the background run did not finish:\n{}",
            read()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(read().contains("async-output"), "{}", read());
    // It says where the run's page is.
    assert!(
        read().contains(&format!("{}/admin/proj/runs/", server.url)),
        "{}",
        read()
    );
    // It ran the spec built here, saved next to its log.
    let spec = std::fs::read_to_string(log.replace(".log", ".spec.json")).unwrap();
    assert!(spec.contains("async-output"), "{spec}");
    // A launch with nothing to run is refused here, not in a log file.
    let (status, out, err) = liftoff(&server, tmp.path(), &["launch", "--async", "-p", "proj"]);
    assert_eq!(status.code(), Some(2), "{out}\n{err}");
    assert!(!out.contains("background"), "{out}");
    let (status, _, err) = liftoff(
        &server,
        tmp.path(),
        &["launch", "--async", "--queue", "default", "-E", "true"],
    );
    assert_eq!(status.code(), Some(2));
    assert!(err.contains("'--async' cannot be used with"), "{err}");
    let (status, _, err) = liftoff(
        &server,
        tmp.path(),
        &["launch", "-E", "sh -c 'exit 4'", "-p", "proj"],
    );
    assert_eq!(status.code(), Some(1), "a failed job exits 1: {err}");
    assert!(err.contains("exited with code 4"), "{err}");
    let (status, _, err) = liftoff(
        &server,
        tmp.path(),
        &["launch", "--priority", "urgent", "-E", "true"],
    );
    assert_eq!(status.code(), Some(2), "usage errors exit 2");
    assert!(
        err.contains("--priority: unknown priority \"urgent\""),
        "{err}"
    );
    // `-l FILE` (wandb launch-agent's flag) takes the agent's own log off
    // stderr; `-v` is launch-agent's --verbose.
    let log = tmp.path().join("agent.log");
    let log_arg = log.to_str().unwrap();
    let (status, _, err) = liftoff(
        &server,
        tmp.path(),
        &["agent", "-q", "nope", "-v", "-l", log_arg],
    );
    assert_eq!(status.code(), Some(2));
    assert!(
        err.contains("queue(s) nope not found in entity \"admin\""),
        "{err}"
    );
    assert!(!err.contains("DEBUG"), "{err}");
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("DEBUG"), "{logged}");
    let (status, _, err) = liftoff(
        &server,
        tmp.path(),
        &["agent", "-q", "nope", "-l", "/no-such-dir/agent.log"],
    );
    assert_eq!(status.code(), Some(2));
    assert!(
        err.contains("--log-file /no-such-dir/agent.log: cannot write there"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_agent_is_noticed_its_item_fails_and_its_run_crashes() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(
        &tmp.path().join("server"),
        &["--agent-gone-after-secs", "3"],
    );
    queue(&server, tmp.path(), "default");
    let work = tmp.path().join("agent");
    std::fs::create_dir_all(&work).unwrap();
    let mut agent = {
        // heartbeats every second, so three missed ones take 3 s
        let out = std::fs::File::create(work.join("agent.out")).unwrap();
        let child = std::process::Command::new(crate::harness::bin())
            .args(["agent", "-q", "default", "--work-dir"])
            .arg(&work)
            .env("WANDB_BASE_URL", &server.url)
            .env("WANDB_API_KEY", ADMIN_KEY)
            .env("LIFTOFF_AGENT_HEARTBEAT_SECS", "1")
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap();
        AgentProcess {
            child,
            out: work.join("agent.out"),
        }
    };
    let (status, _, err) = liftoff(
        &server,
        tmp.path(),
        &[
            "launch",
            "-E",
            "sleep 120",
            "--queue",
            "default",
            "-p",
            "proj",
        ],
    );
    assert!(status.success(), "{err}");
    let claimed = eventually(
        Duration::from_secs(30),
        "the item to be claimed",
        || async {
            items(&server, "default")
                .await
                .into_iter()
                .find(|i| i.item.state == ItemState::Claimed && i.run.is_some())
        },
    )
    .await;
    let _ = agent.child.kill(); // kill -9
    let killed_at = Instant::now();
    let failed = first_failed(&server, "default", Duration::from_secs(20)).await;
    assert_eq!(failed.item.id, claimed.item.id);
    let e = failed.item.error.unwrap();
    assert_eq!(e.stage, "agent");
    assert!(
        e.message.contains("stopped sending heartbeats") && e.message.contains("marked crashed"),
        "{}",
        e.message
    );
    assert_eq!(failed.run.unwrap().state, State::Crashed);
    assert!(
        killed_at.elapsed() < Duration::from_secs(10),
        "noticed after {:?}",
        killed_at.elapsed()
    );
    // the orphaned job is ours to clean up
    if let Some(pid) = agent
        .output()
        .lines()
        .find_map(|l| l.split("started process ").nth(1))
        .map(|p| p.trim().to_owned())
    {
        let _ = std::process::Command::new("kill")
            .args(["-9", &pid])
            .status();
    }
    // a restarted agent (same work dir) runs the next item, not the failed one
    let restarted = AgentProcess::start(&server, &work, &["-q", "default"]);
    let (status, _, err) = liftoff(
        &server,
        tmp.path(),
        &["launch", "-E", "true", "--queue", "default", "-p", "proj"],
    );
    assert!(status.success(), "{err}");
    let next = eventually(
        Duration::from_secs(60),
        "the next item to finish",
        || async {
            items(&server, "default").await.into_iter().find(|i| {
                i.item.id != claimed.item.id
                    && i.run.as_ref().is_some_and(|r| r.state == State::Finished)
            })
        },
    )
    .await;
    let out = restarted.output();
    assert_eq!(out.matches("Job ").count(), 1, "{out}");
    assert!(
        out.contains(next.item.associated_run_id.as_deref().unwrap()),
        "{out}"
    );
    let again = items(&server, "default").await;
    let first = again.iter().find(|i| i.item.id == claimed.item.id).unwrap();
    assert_eq!(first.item.state, ItemState::Failed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unacknowledged_lease_goes_back_to_pending_and_runs_once() {
    use liftoff_client::ops::items::PopFromRunQueue;
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"), &["--lease-secs", "2"]);
    queue(&server, tmp.path(), "default");
    let marks = tmp.path().join("marks");
    let job = format!("sh -c 'echo $WANDB_RUN_ID >> {}'", marks.display());
    let (status, _, err) = liftoff(
        &server,
        tmp.path(),
        &["launch", "-E", &job, "--queue", "default", "-p", "proj"],
    );
    assert!(status.success(), "{err}");
    // an agent that pops and dies before acknowledging
    server
        .client(ADMIN_KEY)
        .call(PopFromRunQueue {
            entity: "admin".into(),
            project: "model-registry".into(),
            queue: "default".into(),
            agent_id: None,
        })
        .await
        .unwrap()
        .expect("the item");
    let leased_at = Instant::now();
    assert_eq!(
        items(&server, "default").await[0].item.state,
        ItemState::Leased
    );
    eventually(Duration::from_secs(10), "the lease to lapse", || async {
        (items(&server, "default").await[0].item.state == ItemState::Pending).then_some(())
    })
    .await;
    let lapsed = leased_at.elapsed();
    assert!(
        lapsed >= Duration::from_millis(1500) && lapsed < Duration::from_secs(5),
        "the 2 s lease lapsed after {lapsed:?}"
    );
    let _agent = AgentProcess::start(&server, &tmp.path().join("agent"), &["-q", "default"]);
    eventually(Duration::from_secs(60), "the item to run", || async {
        items(&server, "default")
            .await
            .into_iter()
            .find(|i| i.run.as_ref().is_some_and(|r| r.state == State::Finished))
    })
    .await;
    // run exactly once, even after another lease period
    tokio::time::sleep(Duration::from_secs(3)).await;
    let ran = std::fs::read_to_string(&marks).unwrap();
    assert_eq!(ran.lines().count(), 1, "{ran}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_show_says_what_each_item_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"), &[]);
    // (A container queue: a local-process one refuses images.)
    let (status, _, err) = liftoff(
        &server,
        tmp.path(),
        &[
            "queue",
            "create",
            "default",
            "--resource",
            "local-container",
        ],
    );
    assert!(status.success(), "{err}");
    for args in [
        &["--docker-image", "busybox:1.36"][..],
        &["--entry-point", "echo hi", "--project", "proj"][..],
    ] {
        let mut launch = vec!["launch", "--queue", "default"];
        launch.extend_from_slice(args);
        let (status, out, err) = liftoff(&server, tmp.path(), &launch);
        assert!(status.success(), "{out}\n{err}");
    }
    let (status, out, err) = liftoff(&server, tmp.path(), &["queue", "show", "default"]);
    assert!(status.success(), "{err}");
    // No agent polls: both wait as Idle, newest first, each with its source.
    let rows: Vec<_> = out
        .lines()
        .skip_while(|l| !l.starts_with("ITEM "))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(rows.len(), 2, "{out}");
    // Each row starts with its item's id (for `liftoff queue cancel ITEM`).
    assert!(
        rows.iter()
            .all(|r| r.starts_with("UnVuUXVldWVJdGVt")
                && r.split_whitespace().nth(1) == Some("Idle")),
        "{out}"
    );
    assert!(
        rows.iter().any(|r| r.ends_with("image busybox:1.36")),
        "{out}"
    );
    assert!(rows.iter().any(|r| r.ends_with("command echo hi")), "{out}");
    // Their places in line, and why the next one waits.
    let mut places: Vec<_> = rows
        .iter()
        .filter_map(|r| r.split_whitespace().nth(2))
        .collect();
    places.sort_unstable();
    assert_eq!(places, ["1", "2"], "{out}");
    assert!(
        out.contains("The next item (# 1) waits: no agent is polling this queue."),
        "{out}"
    );
    assert!(out.contains("first in, first out (no priorities)"), "{out}");
    // The queue has no priorities: no level is shown ("medium" meant nothing).
    assert!(
        rows.iter()
            .all(|r| r.split_whitespace().nth(3) == Some("-")),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_to_a_reader_that_went_away_ends_quietly() {
    // `liftoff queue show Q | head -1`: the reader leaves before the output
    // is written. The command stops there, exit 0, as `ls | head` would.
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"), &[]);
    queue(&server, tmp.path(), "default");
    ends_quietly_with_stdout_closed(liftoff_command(
        &server,
        tmp.path(),
        &["queue", "show", "default"],
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_during_a_launch_here_stops_the_job_and_says_why() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"), &[]);
    let out_path = tmp.path().join("launch.out");
    let out = std::fs::File::create(&out_path).unwrap();
    let mut child = liftoff_command(
        &server,
        tmp.path(),
        &["launch", "-E", "sleep 60", "-p", "proj"],
    )
    .stdout(out.try_clone().unwrap())
    .stderr(out)
    .spawn()
    .unwrap();
    let read = || std::fs::read_to_string(&out_path).unwrap_or_default();
    eventually(Duration::from_secs(60), "the job to start", || async {
        read().contains("started process").then_some(())
    })
    .await;
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let status = child.wait().unwrap();
    let said = read();
    assert!(!status.success(), "{said}");
    assert!(
        said.contains("the launch was interrupted (Ctrl-C)"),
        "{said}"
    );
    assert!(!said.contains("the agent is stopping"), "{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_stderr_keeps_the_commands_own_exit_code() {
    // `liftoff ... 2>&1 | head -0`: warnings, logs and the final error all
    // meet a closed pipe. The exit code stays the command's (2), not a
    // panic's (101).
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"), &[]);
    for args in [
        &[
            "launch",
            "--job",
            "admin/proj/nojob",
            "--queue",
            "nope",
            "-g",
            "x",
        ][..],
        &["agent", "-q", "nope", "-v"][..],
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let status = liftoff_command(&server, tmp.path(), args)
            .stdout(writer.try_clone().unwrap())
            .stderr(writer)
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(2), "{args:?}");
    }
}

/// Run `command` with its stdout a pipe nobody reads (`| head` after it
/// left): it must neither panic nor fail.
fn ends_quietly_with_stdout_closed(mut command: Command) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = command.stdout(writer).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(out.status.code(), Some(0), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn launching_a_job_that_is_not_there_or_a_bad_image_pushes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"), &[]);
    queue(&server, tmp.path(), "default");
    // (`wandb launch` pushes first and looks the job up after.)
    let (status, out, err) = liftoff(
        &server,
        tmp.path(),
        &[
            "launch",
            "--job",
            "admin/proj/nojob:latest",
            "--queue",
            "default",
        ],
    );
    assert_eq!(status.code(), Some(2), "{out}\n{err}");
    assert!(
        err.contains("job admin/proj/nojob:latest not found, so nothing was pushed")
            && err.contains("liftoff job list -e admin -p proj"),
        "{err}"
    );
    // `project/name` is read in the launch entity, as wandb reads it.
    let (status, out, err) = liftoff(
        &server,
        tmp.path(),
        &["launch", "--job", "proj/nojob", "--queue", "default"],
    );
    assert_eq!(status.code(), Some(2), "{out}\n{err}");
    assert!(
        err.contains("job admin/proj/nojob not found, so nothing was pushed"),
        "{err}"
    );
    // Nor an image the container engine would refuse.
    let (status, _, err) = liftoff(
        &server,
        tmp.path(),
        &[
            "launch",
            "--docker-image",
            "Busybox:1.36",
            "--queue",
            "default",
        ],
    );
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(
        err.contains(r#"--docker-image: "Busybox:1.36" is not a container image reference: repository names are lowercase"#),
        "{err}"
    );
    // A good image replaces the config's bad one, so only it is checked; the
    // server then refuses an image for a local-process queue at the push.
    let (status, _, err) = liftoff(
        &server,
        tmp.path(),
        &[
            "launch",
            "-c",
            r#"{"docker": {"docker_image": "Bad:1"}}"#,
            "--docker-image",
            "busybox:1.36",
            "--queue",
            "default",
        ],
    );
    assert_ne!(status.code(), Some(0), "{err}");
    assert!(
        !err.contains("Bad:1")
            && err.contains(
                r#"cannot push to queue "default": docker.docker_image: a local-process queue cannot run container image busybox:1.36"#
            ),
        "{err}"
    );
    // Nor an image job: the server reads the job's wandb-job.json at the push.
    let (status, _, err) = image_job(&server, tmp.path(), "echo hi", &[]);
    assert!(status.success(), "{err}");
    let (status, _, err) = liftoff(
        &server,
        tmp.path(),
        &[
            "launch",
            "--job",
            "admin/proj/img:latest",
            "--queue",
            "default",
        ],
    );
    assert_eq!(status.code(), Some(2), "{err}");
    // The server's words, without the operation's name in front.
    assert!(!err.contains("pushToRunQueueByName"), "{err}");
    assert!(
        err.contains(
            r#"cannot push to queue "default": job: a local-process queue cannot run container image busybox:1.36 (job admin/proj/img:latest is an image job)"#
        ),
        "{err}"
    );
    assert!(items(&server, "default").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_hints_quote_a_name_the_shell_would_split() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"), &[]);
    let (status, out, err) = liftoff(
        &server,
        tmp.path(),
        &["queue", "create", "my q", "--resource", "local-process"],
    );
    assert!(status.success(), "{err}");
    assert!(
        out.contains("Start an agent for it: liftoff agent -q 'my q' -e admin"),
        "{out}"
    );
    let (_, out, _) = liftoff(&server, tmp.path(), &["queue", "show", "my q"]);
    assert!(
        out.contains("none. Start one with: liftoff agent -q 'my q' -e admin"),
        "{out}"
    );
    // An entity that is not there (or not yours) is said so, with yours.
    let (status, _, err) = liftoff(
        &server,
        tmp.path(),
        &["queue", "show", "my q", "-e", "nosuch"],
    );
    assert!(!status.success());
    assert!(
        err.contains("entity \"nosuch\" does not exist or is not yours (yours: admin)"),
        "{err}"
    );
    // A queue only W&B's agent runs is given W&B's agent, not one that refuses it.
    let (status, out, err) = liftoff(
        &server,
        tmp.path(),
        &["queue", "create", "sm", "--resource", "sagemaker"],
    );
    assert!(status.success(), "{err}");
    assert!(
        out.contains("Start one for it: wandb launch-agent -q sm -e admin")
            && !out.contains("liftoff agent"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_launch_runs_its_job_though_the_reader_went_away() {
    // `liftoff launch -E ... | head -1`: the output is dropped, the job still runs.
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"), &[]);
    let marker = tmp.path().join("ran");
    let command = format!("sh -c 'echo ran > {}'", marker.display());
    ends_quietly_with_stdout_closed(liftoff_command(
        &server,
        tmp.path(),
        &["launch", "--project", "proj", "--entry-point", &command],
    ));
    assert_eq!(std::fs::read_to_string(&marker).unwrap(), "ran\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_run_here_as_a_process_says_how_to_run_it() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"), &[]);
    let (status, out, err) = liftoff(
        &server,
        tmp.path(),
        &[
            "launch",
            "--docker-image",
            "busybox:1.36",
            "-E",
            "echo hi",
            "--resource",
            "local-process",
            "-p",
            "proj",
        ],
    );
    assert!(!status.success(), "{out}\n{err}");
    assert!(
        err.contains("local-process cannot run container image busybox:1.36")
            && err.contains("pass --resource local-container"),
        "{out}\n{err}"
    );
}

/// Bad `--config` input is refused before any call (the server here is not
/// even running), saying which key or field and what to do.
#[test]
fn launch_names_what_is_wrong_in_its_config() {
    let tmp = tempfile::tempdir().unwrap();
    let refused_with = |extra: &[&str]| {
        let out = Command::new(crate::harness::bin())
            .args(["launch", "-E", "echo hi", "--queue", "default"])
            .args(extra)
            .current_dir(tmp.path())
            .env("WANDB_BASE_URL", "http://127.0.0.1:1")
            .env("WANDB_API_KEY", ADMIN_KEY)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let refused = |config: &str| {
        let out = Command::new(crate::harness::bin())
            .args([
                "launch", "-E", "echo hi", "--queue", "default", "-c", config,
            ])
            .current_dir(tmp.path())
            .env("WANDB_BASE_URL", "http://127.0.0.1:1")
            .env("WANDB_API_KEY", ADMIN_KEY)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{config}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let err = refused(r#"{"overides": {"run_config": {"lr": 1}}}"#);
    assert!(
        err.contains("unknown key `overides` in the launch spec; did you mean `overrides`?"),
        "{err}"
    );
    let err = refused(r#"{"overrides": {"args": "--lr 1"}}"#);
    assert!(
        err.contains("`overrides.args` in the run spec has the wrong type"),
        "{err}"
    );
    let err = refused(r#"{"project": "bad/project"}"#);
    assert!(
        err.contains(r#"--config: project name "bad/project" may not contain '/'"#),
        "{err}"
    );
    let err = refused("no-such-spec.json");
    assert!(
        err.contains(r#"--config "no-such-spec.json": no such file"#),
        "{err}"
    );
    assert!(!err.contains("cannot reach"), "{err}");
    let out = Command::new(crate::harness::bin())
        .args([
            "launch",
            "-E",
            "echo hi",
            "-q",
            "default",
            "--project-queue",
            "foo",
        ])
        .env("WANDB_BASE_URL", "http://127.0.0.1:1")
        .env("WANDB_API_KEY", ADMIN_KEY)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(r#"--project-queue "foo": queues live in project "model-registry""#),
        "{err}"
    );
    // --build (wandb's hidden -b) and its repository (-rg).
    for (extra, want) in [
        (
            &["-j", "a/p/j", "-b", "-r", "local-process"][..],
            "--build makes an image, which local-process cannot run",
        ),
        (&["-b"][..], "--build builds a job's image: pass --uri PATH"),
        (
            &["-j", "a/p/j", "-b", "-rg", "Bad Repo"][..],
            r#"--repository "Bad Repo": "#,
        ),
        (
            &["-b", "-d", "busybox"][..],
            "'--build' cannot be used with '--docker-image <IMAGE>'",
        ),
        (
            &["-j", "a/p/j", "-rg", "reg.io/x"][..],
            "the following required arguments were not provided:\n  --build",
        ),
        // Said before the server is asked (it is not there: port 1).
        (
            &["--uri", "./no-such-dir"][..],
            r#"--uri "./no-such-dir": no such directory"#,
        ),
    ] {
        let err = refused_with(extra);
        assert!(err.contains(want), "{extra:?}: {err}");
    }
    let out = Command::new(crate::harness::bin())
        .args(["launch", "-j", "a/p/j", "-b"])
        .env("WANDB_BASE_URL", "http://127.0.0.1:1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the following required arguments were not provided:\n  --queue"),
        "{err}"
    );
    let err = refused_with(&["-e", "admin", "-R", r#"{"local-process": "x"}"#]);
    assert!(
        err.contains("--resource-args: the args of local-process must be a mapping"),
        "{err}"
    );
    // Build settings naming what is not in the code are refused before the
    // job is made (they failed only when an agent built it).
    std::fs::write(tmp.path().join("train.py"), "print(1)\n").unwrap();
    for (flag, value, want) in [
        (
            "--build-context",
            "jobs/nope",
            r#"--build-context "jobs/nope": there is no such directory"#,
        ),
        (
            "--dockerfile",
            "nope.Dockerfile",
            r#"--dockerfile "nope.Dockerfile": there is no such file"#,
        ),
    ] {
        let out = Command::new(crate::harness::bin())
            .args([
                "launch",
                "-u",
                ".",
                "-E",
                "python train.py",
                "-e",
                "admin",
                "-q",
                "default",
                flag,
                value,
            ])
            .current_dir(tmp.path())
            .env("WANDB_BASE_URL", "http://127.0.0.1:1")
            .env("WANDB_API_KEY", ADMIN_KEY)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_with_a_work_dir_it_cannot_write_refuses_to_start() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"), &[]);
    queue(&server, tmp.path(), "default");
    let file = tmp.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let bad = file.join("work");
    // (Its config's unknown `environment:` key is warned about, not refused.)
    let config = tmp.path().join("launch-config.yaml");
    std::fs::write(&config, "environment: {type: azure, regoin: x}\n").unwrap();
    let out = liftoff_command(
        &server,
        tmp.path(),
        &[
            "agent",
            "-q",
            "default",
            "--config",
            config.to_str().unwrap(),
            "--work-dir",
            bad.to_str().unwrap(),
        ],
    )
    .output()
    .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains(&format!(
            "cannot use {} as the agent's work dir",
            bad.display()
        )),
        "{err}"
    );
    assert!(
        err.contains("warning: field environment.regoin (value: x): unknown key `regoin`; did you mean `region`?"),
        "{err}"
    );
}

/// wandb launch-agent's hidden `-u/--url` is refused, as wandb refuses it,
/// but saying where the server is set.
#[test]
fn an_agent_given_a_url_says_where_the_server_is_set() {
    let out = Command::new(crate::harness::bin())
        .args(["agent", "-q", "default", "-u", "http://example.test"])
        .env("WANDB_BASE_URL", "http://127.0.0.1:1")
        .env("WANDB_API_KEY", ADMIN_KEY)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--url is not an agent option")
            && err.contains("--base-url http://example.test"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entity_that_is_not_there_is_named_not_its_launch_project() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"), &[]);
    for args in [
        &["queue", "list", "-e", "nobody"][..],
        &["agent", "-q", "default", "-e", "nobody"][..],
    ] {
        let (status, out, err) = liftoff(&server, tmp.path(), args);
        assert_eq!(status.code(), Some(2), "{args:?}: {out}{err}");
        // ... and the entities the key can use, the likely fix.
        assert!(
            err.contains(r#"entity "nobody" not found or access denied"#)
                && !err.contains("model-registry")
                && err.contains("admin"),
            "{args:?}: {err}"
        );
    }
}

/// `launch --build` looks at its queue before a build that may take
/// minutes: one that is not there, or that runs local-process jobs (which
/// cannot run an image), is refused with nothing built or queued.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn launch_build_checks_its_queue_before_building() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"), &[]);
    queue(&server, tmp.path(), "default");
    std::fs::write(tmp.path().join("train.py"), "print(1)\n").unwrap();
    // `launch -u . --build -q QUEUE`, with HOME set when given.
    let build_to = |queue: &str, home: Option<&std::path::Path>| {
        let mut command = liftoff_command(
            &server,
            tmp.path(),
            &[
                "launch",
                "-u",
                ".",
                "-E",
                "python train.py",
                "-p",
                "proj",
                "--build",
                "-q",
                queue,
            ],
        );
        if let Some(home) = home {
            command.env("HOME", home);
        }
        let out = command.output().unwrap();
        (
            out.status,
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    for (queue, want) in [
        (
            "default",
            "--build makes an image, but queue default runs local-process jobs",
        ),
        ("nope", r#"queue "nope" in entity "admin" not found"#),
    ] {
        let (status, out, err) = build_to(queue, None);
        assert_eq!(status.code(), Some(2), "{out}{err}");
        assert!(err.contains(want), "{err}");
        assert!(!out.contains("[build]"), "{out}");
    }
    let (_, out, _) = liftoff(&server, tmp.path(), &["queue", "show", "default"]);
    assert!(
        out.contains("ITEMS\nnone. Push one with: liftoff launch"),
        "{out}"
    );
    // It builds with the engine launch-config.yaml names, as the agent would
    // (docker here, which this machine must not have for the build to fail).
    let has_docker = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("docker").is_file()));
    if has_docker {
        eprintln!("skipped the container_cli check: docker is installed");
        return;
    }
    let (status, _, err) = liftoff(
        &server,
        tmp.path(),
        &["queue", "create", "lc", "--resource", "local-container"],
    );
    assert!(status.success(), "{err}");
    let home = tmp.path().join("home");
    std::fs::create_dir_all(home.join(".config/wandb")).unwrap();
    std::fs::write(
        home.join(".config/wandb/launch-config.yaml"),
        "runner: {container_cli: docker}\n",
    )
    .unwrap();
    let (status, stdout, err) = build_to("lc", Some(&home));
    assert_eq!(status.code(), Some(2), "{status:?} {stdout}{err}");
    assert!(
        stdout.contains("Using the agent config in"),
        "{stdout}{err}"
    );
    assert!(
        err.contains("--build: docker build") && err.contains("nothing was pushed"),
        "{err}"
    );
    let (_, out, _) = liftoff(&server, tmp.path(), &["queue", "show", "lc"]);
    assert!(out.contains("ITEMS\nnone."), "{out}");
}

/// A job's description (`job create -d`, which describes the version, as
/// wandb does) is what `job describe` and the web app's job list show.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jobs_description_is_shown_with_it() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"), &[]);
    let (status, _, err) = image_job(
        &server,
        tmp.path(),
        "echo hi",
        &["-d", "Says hi from busybox"],
    );
    assert!(status.success(), "{err}");
    let (status, out, err) = liftoff(&server, tmp.path(), &["job", "describe", "admin/proj/img"]);
    assert!(status.success(), "{err}");
    assert!(out.contains("description: Says hi from busybox"), "{out}");
    let jobs = server
        .client(ADMIN_KEY)
        .call(liftoff_client::ops::web::LiftoffJobs {
            entity: "admin".into(),
            project: "proj".into(),
        })
        .await
        .unwrap();
    assert_eq!(jobs[0].description.as_deref(), Some("Says hi from busybox"));
    // Each creation says which version it made, as wandb does (`name:v1`).
    let create = |entry: &str| image_job(&server, tmp.path(), entry, &[]);
    let (status, out, err) = create("echo bye");
    assert!(status.success(), "{err}");
    assert!(out.contains("Created job: admin/proj/img:v1"), "{out}");
    let (status, out, err) = create("echo bye");
    assert!(status.success(), "{err}");
    assert!(
        out.contains(
            "No changes to job: admin/proj/img:v1 (the same contents as that version, which is `latest` now; an alias or input schema given here is set on it)"
        ),
        "{out}"
    );
    // v0's contents again: v0 is `latest` again, as the message says.
    let (status, out, err) = image_job(
        &server,
        tmp.path(),
        "echo hi",
        &["-d", "Says hi from busybox"],
    );
    assert!(status.success(), "{err}");
    assert!(
        out.contains("No changes to job: admin/proj/img:v0"),
        "{out}"
    );
    let (_, out, _) = liftoff(&server, tmp.path(), &["job", "list", "-p", "proj"]);
    assert!(out.contains("v1, v0 (1.36, latest)"), "{out}");
    // A schema given with the same contents is set on that version; made
    // again without one, the version keeps it.
    let schema = tmp.path().join("schema.json");
    std::fs::write(
        &schema,
        r#"{"type": "object", "properties": {"lr": {"type": "number"}}}"#,
    )
    .unwrap();
    let with_schema = [
        "-d",
        "Says hi from busybox",
        "--schema",
        schema.to_str().unwrap(),
    ];
    let (status, _, err) = image_job(&server, tmp.path(), "echo hi", &with_schema);
    assert!(status.success(), "{err}");
    for extra in [&with_schema[..], &["-d", "Says hi from busybox"][..]] {
        if extra.len() == 2 {
            let (status, _, err) = image_job(&server, tmp.path(), "echo hi", extra);
            assert!(status.success(), "{err}");
        }
        let (_, out, _) = liftoff(
            &server,
            tmp.path(),
            &["job", "describe", "admin/proj/img:v0"],
        );
        assert!(
            out.contains("input schema: {") && out.contains("\"lr\""),
            "{out}"
        );
    }
}

/// `liftoff job create image busybox:1.36 -p proj -n img -E ENTRY EXTRA...`.
fn image_job(
    server: &Server,
    dir: &std::path::Path,
    entry: &str,
    extra: &[&str],
) -> (std::process::ExitStatus, String, String) {
    let mut args = vec![
        "job",
        "create",
        "image",
        "busybox:1.36",
        "-p",
        "proj",
        "-n",
        "img",
        "-E",
        entry,
    ];
    args.extend_from_slice(extra);
    liftoff(server, dir, &args)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_uri_launch_the_queue_would_refuse_makes_no_job_version() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"), &[]);
    queue(&server, tmp.path(), "default");
    let code = tmp.path().join("code");
    std::fs::create_dir_all(&code).unwrap();
    std::fs::write(code.join("train.py"), "print(1)\n").unwrap();
    let launch = |extra: &[&str]| {
        let mut args = vec![
            "launch",
            "--uri",
            ".",
            "-p",
            "proj",
            "-E",
            "python train.py",
        ];
        args.extend_from_slice(extra);
        liftoff(&server, &code, &args)
    };
    let jobs = || liftoff(&server, &code, &["job", "list", "-p", "proj"]).1;
    // Each refusal comes before the job is made: `latest` never moves to
    // code that was not launched.
    for (extra, said) in [
        (&["-q", "defualt"][..], "known queues: default"),
        (
            &["-q", "default", "-P", "high"][..],
            "does not use priorities",
        ),
        (
            &["-q", "default", "-v", "cpu=4"][..],
            "is not a template variable",
        ),
        // The spec's template_variables are the push's, as in wandb's launch_add.
        (
            &[
                "-q",
                "default",
                "-c",
                r#"{"template_variables": {"cpu": 4}}"#,
            ][..],
            "is not a template variable",
        ),
        (
            &["-q", "default", "--resource", "local-container"][..],
            "runs local-process jobs",
        ),
    ] {
        let (status, out, err) = launch(extra);
        assert_eq!(status.code(), Some(2), "{extra:?}: {out}\n{err}");
        assert!(
            err.contains(said) && err.contains("Nothing was made or pushed"),
            "{extra:?}: {err}"
        );
        assert!(!out.contains("Created job"), "{extra:?}: {out}");
        assert!(!jobs().contains("job-code"), "{extra:?}: a job was made");
    }
    let (status, out, err) = launch(&["-q", "default"]);
    assert!(status.success(), "{out}\n{err}");
    assert!(out.contains("Created job: admin/proj/job-code:v0"), "{out}");
    assert_eq!(items(&server, "default").await.len(), 1);
}

/// Stopped twice (Ctrl-C, then a SIGTERM as a supervisor sends): the agent
/// leaves its job running, and says on the item (and the terminal) that
/// nothing reports the job's end any more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_that_leaves_its_jobs_running_says_so_on_their_items() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"), &[]);
    queue(&server, tmp.path(), "default");
    // With -l (wandb launch-agent's --log-file), what the agent says is in the file too.
    let log = tmp.path().join("agent.log");
    let mut agent = AgentProcess::start(
        &server,
        &tmp.path().join("agent"),
        &["-q", "default", "-l", log.to_str().unwrap()],
    );
    // The job writes after the agent has gone: it goes on (its output is a
    // file, not the agent's pipe) and that output is kept.
    let marker = tmp.path().join("job-went-on");
    let entry = format!(
        "sh -c 'echo before; sleep 8; echo after the agent; touch {}; sleep 20'",
        marker.display()
    );
    let (status, _, err) = liftoff(
        &server,
        tmp.path(),
        &["launch", "-E", &entry, "-q", "default", "-p", "proj"],
    );
    assert!(status.success(), "{err}");
    let claimed = eventually(Duration::from_secs(30), "the job to start", || async {
        items(&server, "default")
            .await
            .into_iter()
            .find(|i| i.item.state == ItemState::Claimed && i.run.is_some())
    })
    .await;
    let signal = |name: &str, pid: u32| {
        Command::new("kill")
            .args([&format!("-{name}"), &pid.to_string()])
            .status()
            .unwrap();
    };
    signal("INT", agent.child.id());
    eventually(
        Duration::from_secs(20),
        "the agent to wait for its job",
        || async {
            agent
                .output()
                .contains("Ctrl-C or SIGTERM again to leave them running")
                .then_some(())
        },
    )
    .await;
    signal("TERM", agent.child.id());
    let exit = agent.wait(Duration::from_secs(20));
    assert!(exit.success(), "{}", agent.output());
    assert!(
        agent
            .output()
            .contains("Leaving 1 job(s) running without this agent. Nothing reports their end"),
        "{}",
        agent.output()
    );
    let item = items(&server, "default")
        .await
        .into_iter()
        .find(|i| i.item.id == claimed.item.id)
        .unwrap();
    assert!(
        item.item.warnings.iter().any(|w| w.stage == "agent"
            && w.message
                .contains("exited and left this job running (stopped twice)")),
        "{:?}",
        item.item.warnings
    );
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("polling default") && logged.contains("Leaving 1 job(s) running"),
        "{logged}"
    );
    eventually(
        Duration::from_secs(30),
        "the job left running to go on writing",
        || async { marker.exists().then_some(()) },
    )
    .await;
    let run = claimed.run.as_ref().unwrap();
    let output = tmp
        .path()
        .join("agent")
        .join("logs")
        .join(format!("{}.stdout", run.name));
    let written = std::fs::read_to_string(&output).unwrap_or_default();
    assert!(
        written.contains("after the agent"),
        "{output:?}: {written:?}"
    );
    // The job left running is ours to end.
    if let Some(pid) = agent
        .output()
        .lines()
        .find_map(|l| l.split("started process ").nth(1))
        .map(|p| p.trim().to_owned())
    {
        let _ = Command::new("kill").args(["-9", &pid]).status();
    }
}

/// A queue whose items this agent could only fail is refused at start, and
/// its item stays queued for an agent that can run it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_refuses_queues_it_cannot_run_before_taking_their_items() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"), &[]);
    for (name, resource) in [("sm", "sagemaker"), ("k8s", "kubernetes")] {
        let (status, _, err) = liftoff(
            &server,
            tmp.path(),
            &["queue", "create", name, "--resource", resource],
        );
        assert!(status.success(), "{err}");
    }
    let (status, _, err) = liftoff(
        &server,
        tmp.path(),
        &["launch", "-d", "busybox:1.36", "-q", "sm", "-p", "proj"],
    );
    assert!(status.success(), "{err}");
    for (queue, said) in [
        (
            "sm",
            "queue sm runs sagemaker jobs, which this agent cannot run",
        ),
        (
            "k8s",
            "queue k8s runs kubernetes jobs, which need a cluster: no kubeconfig found",
        ),
    ] {
        // A HOME with no ~/.kube, and no KUBECONFIG.
        let mut agent = AgentProcess::start_with_env(
            &server,
            &tmp.path().join(format!("agent-{queue}")),
            &["-q", queue],
            &[("KUBECONFIG", ""), ("KUBERNETES_SERVICE_HOST", "")],
        );
        let exit = agent.wait(Duration::from_secs(20));
        assert!(!exit.success());
        assert!(agent.output().contains(said), "{}", agent.output());
    }
    let list = items(&server, "sm").await;
    assert_eq!(list.len(), 1);
    assert_eq!(
        list[0].item.state,
        ItemState::Pending,
        "the item was not taken"
    );
}

/// Resource options the agent would refuse at each job are refused where
/// they are given: `queue create --config` and `launch --resource-args`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resource_options_the_agent_would_refuse_are_refused_up_front() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"), &[]);
    queue(&server, tmp.path(), "default");
    let (status, _, err) = liftoff(
        &server,
        tmp.path(),
        &[
            "queue",
            "create",
            "boxes",
            "--resource",
            "local-container",
            "-c",
            r#"{"memroy": "2g"}"#,
        ],
    );
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(
        err.contains("--config: Unsupported resource_args.local-container option 'memroy' (did you mean 'memory'?)"),
        "{err}"
    );
    let (_, out, _) = liftoff(&server, tmp.path(), &["queue", "list"]);
    assert!(!out.contains("boxes"), "no queue was made: {out}");
    for (args, said) in [
        (
            r#"{"local-container": {"memroy": "2g"}}"#,
            "--resource-args: Unsupported resource_args.local-container option 'memroy'",
        ),
        // Inline YAML is read as wandb's -R reads a YAML file.
        (
            "local-container: {memroy: 2g}",
            "--resource-args: Unsupported resource_args.local-container option 'memroy'",
        ),
        (
            r#"{"local-contaner": {"memory": "2g"}}"#,
            r#"--resource-args: unknown resource "local-contaner""#,
        ),
        // A launch spec given to -R: pointed at -c.
        (
            r#"{"resource_args": {"local-container": {"memory": "2g"}}}"#,
            "--resource-args: this is a launch spec (it has a `resource_args` key): pass it with -c",
        ),
    ] {
        let (status, _, err) = liftoff(
            &server,
            tmp.path(),
            &[
                "launch", "-E", "true", "-q", "default", "-p", "proj", "-R", args,
            ],
        );
        assert_eq!(status.code(), Some(2), "{err}");
        assert!(err.contains(said), "{err}");
    }
    // The same options from -c are said to come from it.
    let (status, _, err) = liftoff(
        &server,
        tmp.path(),
        &[
            "launch",
            "-E",
            "true",
            "-q",
            "default",
            "-p",
            "proj",
            "-c",
            r#"{"resource_args": {"local-container": {"memroy": "2g"}}}"#,
        ],
    );
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(
        err.contains("--config (its resource_args): Unsupported resource_args.local-container option 'memroy'"),
        "{err}"
    );
    assert!(
        items(&server, "default").await.is_empty(),
        "nothing was pushed"
    );
    // A push's own setting written into the spec is pointed at its flag.
    let (status, _, err) = liftoff(
        &server,
        tmp.path(),
        &[
            "launch",
            "-E",
            "true",
            "-q",
            "default",
            "-p",
            "proj",
            "-c",
            r#"{"queue": "other"}"#,
        ],
    );
    assert!(status.success(), "{err}");
    assert!(
        err.contains("warning: --config: `queue` is not part of a launch spec and chooses nothing here: use --queue"),
        "{err}"
    );
}

/// A job that is not there is said as a job not found, before anything is
/// run or made for it, and as a usage error (exit 2), not a job's failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_job_is_said_before_anything_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"), &[]);
    let (status, out, err) = liftoff(&server, tmp.path(), &["launch", "-j", "admin/proj/nope"]);
    assert_eq!(status.code(), Some(2), "{out}{err}");
    assert!(
        err.contains("job admin/proj/nope not found, so nothing was run"),
        "{err}"
    );
    assert!(
        !err.contains("Running here") && !out.contains("Running here"),
        "{out}{err}"
    );
    let (status, _, err) = liftoff(&server, tmp.path(), &["job", "describe", "admin/proj/nope"]);
    assert!(!status.success());
    assert!(
        err.contains("job admin/proj/nope:latest not found (or you may not see it)"),
        "{err}"
    );
    // A name that cannot be a job's (a URL's `..`) is refused.
    let (status, _, err) = liftoff(
        &server,
        tmp.path(),
        &[
            "job",
            "create",
            "image",
            "busybox:1.36",
            "-p",
            "proj",
            "-n",
            "..",
        ],
    );
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(err.contains("a job's name cannot start with '.'"), "{err}");
    // A schema the launch forms could not read is refused, and no job made.
    let schema = tmp.path().join("schema.json");
    std::fs::write(&schema, r#"{"type": "array"}"#).unwrap();
    let (status, _, err) = liftoff(
        &server,
        tmp.path(),
        &[
            "job",
            "create",
            "image",
            "busybox:1.36",
            "-p",
            "proj",
            "-n",
            "img",
            "--schema",
            schema.to_str().unwrap(),
        ],
    );
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(err.contains("its type must be object"), "{err}");
    let (_, out, _) = liftoff(&server, tmp.path(), &["job", "list", "-p", "proj"]);
    assert!(!out.contains("img"), "{out}");
}

/// The queue page's item actions from the CLI: `queue show` lists each
/// item's id; `queue priority`, `queue update`, `queue cancel` and
/// `queue requeue` act on them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_are_reprioritized_cancelled_and_requeued_from_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"), &[]);
    queue(&server, tmp.path(), "default");
    let cli = |args: &[&str]| liftoff(&server, tmp.path(), args);
    let (status, _, err) = cli(&["launch", "-E", "true", "-q", "default", "-p", "proj"]);
    assert!(status.success(), "{err}");
    let id = items(&server, "default").await[0].item.id.clone();
    let (_, shown, _) = cli(&["queue", "show", "default"]);
    assert!(
        shown
            .lines()
            .any(|l| l.starts_with(&format!("{id} ")) && l.contains("Idle")),
        "{shown}"
    );
    // No priorities on this queue yet: said, with the command that turns them on.
    let (status, out, err) = cli(&["queue", "priority", "high", &id]);
    assert!(!status.success(), "{out}");
    assert!(
        err.contains("liftoff queue update default -e admin --prioritization on"),
        "{err}"
    );
    let (status, out, err) = cli(&["queue", "update", "default", "--prioritization", "on"]);
    assert!(status.success(), "{err}");
    assert!(out.contains("prioritized"), "{out}");
    let (status, out, err) = cli(&["queue", "priority", "high", &id]);
    assert!(status.success(), "{err}");
    assert!(out.contains(&format!("Item {id}: priority high.")), "{out}");
    assert_eq!(
        items(&server, "default").await[0].item.priority,
        liftoff_model::Priority::High
    );
    // One bad id among good ones: each is tried, each said, and it fails.
    let (status, out, err) = cli(&["queue", "cancel", "nope", &id]);
    assert!(!status.success());
    assert!(out.contains(&format!("Item {id}: cancelled.")), "{out}");
    assert!(
        err.contains("Item nope:") && err.contains("1 of 2 item(s) failed"),
        "{err}"
    );
    assert!(items(&server, "default").await.is_empty());
    // An ended item is pushed again as a new one.
    let (status, _, err) = cli(&["launch", "-E", "true", "-q", "default", "-p", "proj"]);
    assert!(status.success(), "{err}");
    let mut agent = AgentProcess::start(&server, &tmp.path().join("agent"), &["-q", "default"]);
    let done = eventually(Duration::from_secs(60), "the run to finish", || async {
        items(&server, "default")
            .await
            .into_iter()
            .find(|i| i.run.as_ref().is_some_and(|r| r.state == State::Finished))
    })
    .await;
    agent.terminate(Duration::from_secs(20));
    let (status, out, err) = cli(&["queue", "requeue", &done.item.id]);
    assert!(status.success(), "{err}");
    assert!(out.contains("pushed again as item"), "{out}");
    assert_eq!(items(&server, "default").await.len(), 2);
}

/// `-j` that would run nothing is refused by `agent` and `up` alike.
#[test]
fn max_jobs_that_would_run_nothing_is_refused() {
    for args in [
        &["agent", "-q", "default", "-j", "0"][..],
        &["agent", "-q", "default", "-j", "-5"][..],
        &["up", "-j", "0"][..],
    ] {
        // (Were it not refused, `up` would start: on a port and data dir of its own.)
        let home = tempfile::tempdir().unwrap();
        let out = Command::new(crate::harness::bin())
            .args(args)
            .env("HOME", home.path())
            .env("LIFTOFF_DATA_DIR", home.path().join("data"))
            .env("LIFTOFF_ADDR", "127.0.0.1:0")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("use a positive number, or -1 for unlimited"),
            "{args:?}: {err}"
        );
    }
}

/// A launch-config.yaml python that is not here is said at start, not
/// as each local-process job's failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_python_that_is_not_here_is_said_at_start() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"), &[]);
    queue(&server, tmp.path(), "default");
    let config = tmp.path().join("launch-config.yaml");
    std::fs::write(&config, "runner:\n  python: /no/such/python\n").unwrap();
    let log = tmp.path().join("agent.log");
    let mut agent = AgentProcess::start(
        &server,
        &tmp.path().join("agent"),
        &[
            "-q",
            "default",
            "-c",
            config.to_str().unwrap(),
            "-l",
            log.to_str().unwrap(),
        ],
    );
    let exit = agent.wait(Duration::from_secs(20));
    assert_eq!(exit.code(), Some(2), "{}", agent.output());
    // A daemon's log file says why it quit, too.
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        logged.contains("error: ") && logged.contains("/no/such/python"),
        "{logged:?}"
    );
    assert!(
        agent
            .output()
            .contains(r#"runner.python "/no/such/python" (launch-config.yaml) is not a program"#),
        "{}",
        agent.output()
    );
}

/// A run is pending while its agent prepares the job, and running once the
/// job's process starts, for a job that never calls `wandb.init` too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_is_running_once_its_process_starts() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"), &[]);
    queue(&server, tmp.path(), "default");
    let _agent = AgentProcess::start(&server, &tmp.path().join("agent"), &["-q", "default"]);
    let (status, _, err) = liftoff(
        &server,
        tmp.path(),
        &["launch", "-E", "sleep 6", "-q", "default", "-p", "proj"],
    );
    assert!(status.success(), "{err}");
    let run = eventually(Duration::from_secs(60), "the item's run", || async {
        items(&server, "default")
            .await
            .into_iter()
            .find_map(|i| i.item.associated_run_id)
    })
    .await;
    eventually(Duration::from_secs(30), "the run to be running", || async {
        (run_state(&server, &run).await == Some(State::Running)).then_some(())
    })
    .await;
    eventually(Duration::from_secs(30), "the run to finish", || async {
        (run_state(&server, &run).await == Some(State::Finished)).then_some(())
    })
    .await;
}

/// A queue deleted under a polling agent: every pop fails, and the agent
/// waits longer and longer between rounds instead of asking again at once
/// (it sent hundreds of pops a second before).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_whose_pops_all_fail_backs_off() {
    use liftoff_client::ops::queues::{DeleteRunQueue, FetchRunQueueId};
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"), &[]);
    queue(&server, tmp.path(), "doomed");
    let work = tmp.path().join("agent");
    let agent = AgentProcess::start(&server, &work, &["-q", "doomed"]);
    eventually(Duration::from_secs(30), "the agent to poll", || async {
        agent.output().contains("polling").then_some(())
    })
    .await;
    let client = server.client(ADMIN_KEY);
    let id = client
        .call(FetchRunQueueId {
            entity: "admin".into(),
            project: "model-registry".into(),
            queue: "doomed".into(),
        })
        .await
        .unwrap();
    client.call(DeleteRunQueue { id }).await.unwrap();
    // (The long poll under way ends first.)
    eventually(Duration::from_secs(30), "a pop to fail", || async {
        agent.output().contains("pop failed").then_some(())
    })
    .await;
    // 1 + 2 + 4 s of waits fit in 8 s: at most a handful of failed rounds.
    tokio::time::sleep(Duration::from_secs(8)).await;
    let out = agent.output();
    let failed = out.matches("pop failed").count();
    assert!(
        (2..=6).contains(&failed),
        "{failed} failed pops in 8 s:\n{out}"
    );
}

/// A run stopped while its agent still sets the job up (here a venv that
/// takes minutes to make) ends killed at once, and the setup's processes
/// go with it: it used to finish the setup, start the job, then stop it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_stopped_during_its_setup_ends_with_the_setup() {
    use std::os::unix::fs::PermissionsExt as _;
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"), &[]);
    queue(&server, tmp.path(), "default");
    // A python whose `-m venv` hangs, saying its pid.
    let pid_file = tmp.path().join("venv.pid");
    let python = tmp.path().join("slow-python");
    std::fs::write(
        &python,
        format!(
            "#!/bin/sh\nif [ \"$1\" = -m ]; then echo $$ > {}; exec sleep 300; fi\nexec python3 \"$@\"\n",
            pid_file.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&python, std::fs::Permissions::from_mode(0o755)).unwrap();
    let config = tmp.path().join("launch-config.yaml");
    std::fs::write(
        &config,
        format!("runner:\n  python: {}\n", python.display()),
    )
    .unwrap();
    let code = tmp.path().join("code");
    std::fs::create_dir_all(&code).unwrap();
    std::fs::write(code.join("train.py"), "print('never')\n").unwrap();
    std::fs::write(code.join("requirements.txt"), "six==1.16.0\n").unwrap();
    let (status, out, err) = liftoff(
        &server,
        &code,
        &["launch", "--uri", ".", "-q", "default", "-p", "proj"],
    );
    assert!(status.success(), "{out}\n{err}");
    let agent = AgentProcess::start(
        &server,
        &tmp.path().join("agent"),
        &["-q", "default", "-c", config.to_str().unwrap()],
    );
    let pid = eventually(Duration::from_secs(60), "the venv to be made", || async {
        std::fs::read_to_string(&pid_file)
            .ok()
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty())
    })
    .await;
    let item = items(&server, "default").await.remove(0);
    let run = item.item.associated_run_id.clone().expect("acked");
    let (status, out, err) = liftoff(&server, tmp.path(), &["queue", "cancel", &item.item.id]);
    assert!(status.success(), "{out}\n{err}");
    eventually(Duration::from_secs(20), "the run to end killed", || async {
        (run_state(&server, &run).await == Some(State::Killed)).then_some(())
    })
    .await;
    eventually(
        Duration::from_secs(10),
        "the venv's process to go",
        || async { (!std::path::Path::new(&format!("/proc/{pid}")).exists()).then_some(()) },
    )
    .await;
    assert!(!agent.output().contains("never"), "{}", agent.output());
}

/// A git job: made from a repository's commit (read when the job is made:
/// a commit or a build context the repository does not have is refused,
/// with no job version left), then cloned by the agent at that commit and
/// run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_git_job_runs_the_commit_it_was_made_from() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"), &[]);
    queue(&server, tmp.path(), "default");
    let repo = tmp.path().join("repo");
    std::fs::create_dir_all(repo.join("sub")).unwrap();
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .current_dir(&repo)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    git(&["init", "-q"]);
    // The job lives in sub/, its build context (where it runs).
    std::fs::write(
        repo.join("sub/train.py"),
        "import sys\nopen(sys.argv[1], 'w').write(open('VERSION').read())\n",
    )
    .unwrap();
    std::fs::write(repo.join("README"), "x\n").unwrap();
    std::fs::write(repo.join("sub/VERSION"), "one\n").unwrap();
    git(&["add", "."]);
    git(&["commit", "-qm", "one"]);
    let first = git(&["rev-parse", "HEAD"]);
    std::fs::write(repo.join("sub/VERSION"), "two\n").unwrap();
    git(&["commit", "-qam", "two"]);
    let url = format!("file://{}", repo.display());
    let marker = tmp.path().join("ran");
    let entry = format!("python3 train.py {}", marker.display());
    let launch = |extra: &[&str]| {
        let mut args = vec![
            "launch", "--uri", &url, "-E", &entry, "-q", "default", "-p", "proj",
        ];
        args.extend_from_slice(extra);
        liftoff(&server, tmp.path(), &args)
    };
    for (extra, said) in [
        (
            &["-g", "deadbeef"][..],
            "--git-hash \"deadbeef\" is not a commit of",
        ),
        (
            &["--build-context", "nothere"][..],
            "--build-context \"nothere\": there is no such directory in",
        ),
    ] {
        let (status, out, err) = launch(extra);
        assert!(!status.success(), "{out}");
        assert!(err.contains(said), "{err}");
    }
    let (_, listed, _) = liftoff(&server, tmp.path(), &["job", "list", "-p", "proj"]);
    assert!(
        !listed.contains("job-"),
        "no job version was made: {listed}"
    );
    // The first commit (short), with a build context it has.
    let (status, out, err) = launch(&["-g", &first[..10], "--build-context", "./sub/"]);
    assert!(status.success(), "{out}\n{err}");
    let _agent = AgentProcess::start(&server, &tmp.path().join("agent"), &["-q", "default"]);
    eventually(Duration::from_secs(90), "the git job to run", || async {
        if let Some(e) = items(&server, "default")
            .await
            .into_iter()
            .find_map(|i| i.item.error)
        {
            panic!("the git job failed: {e:?}");
        }
        std::fs::read_to_string(&marker).ok()
    })
    .await;
    assert_eq!(std::fs::read_to_string(&marker).unwrap(), "one\n");
}
