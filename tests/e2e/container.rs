//! local-container with a real container engine (podman here). Needs
//! `LIFTOFF_PODMAN_TESTS=1` and a local image in `LIFTOFF_TEST_IMAGE`
//! (`cargo xtask test` imports a busybox image and sets both); nothing can
//! be pulled on this machine.

use std::time::Duration;

use liftoff_client::ops::liftoff::{ItemWithRun, LiftoffRunQueue};
use liftoff_model::run::RunState;

use crate::harness::{ADMIN_KEY, AgentProcess, Server, eventually, liftoff};

fn image() -> Option<String> {
    if std::env::var("LIFTOFF_PODMAN_TESTS").is_err() {
        eprintln!(
            "skipped: set LIFTOFF_PODMAN_TESTS=1 and LIFTOFF_TEST_IMAGE (cargo xtask test does)"
        );
        return None;
    }
    Some(std::env::var("LIFTOFF_TEST_IMAGE").unwrap_or_else(|_| "localhost/bb:latest".into()))
}

/// A server with a local-container queue `lc`.
fn server_with_lc_queue() -> (tempfile::TempDir, Server) {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"), &[]);
    let (status, _, err) = liftoff(
        &server,
        tmp.path(),
        &["queue", "create", "lc", "--resource", "local-container"],
    );
    assert!(status.success(), "{err}");
    (tmp, server)
}

/// The items of queue `lc`, newest first.
async fn queued_items(server: &Server) -> Vec<ItemWithRun> {
    server
        .client(ADMIN_KEY)
        .call(LiftoffRunQueue {
            entity: "admin".into(),
            queue: "lc".into(),
            first: 50,
            after: None,
        })
        .await
        .unwrap()
        .items
}

async fn finished_runs(server: &Server) -> usize {
    queued_items(server)
        .await
        .iter()
        .filter(|i| {
            i.run
                .as_ref()
                .is_some_and(|r| r.state == RunState::Finished)
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn image_and_code_jobs_run_in_containers() {
    let Some(image) = image() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"), &[]);
    let cfg = tmp.path().join("lc.yaml");
    std::fs::write(&cfg, "env: [QUEUE_SETTING=from-queue]\n").unwrap();
    let (status, _, err) = liftoff(
        &server,
        tmp.path(),
        &[
            "queue",
            "create",
            "lc",
            "--resource",
            "local-container",
            "--config",
            cfg.to_str().unwrap(),
        ],
    );
    assert!(status.success(), "{err}");
    let agent = AgentProcess::start(&server, &tmp.path().join("agent"), &["-q", "lc", "-j", "2"]);
    // an image job, with the queue's docker flags
    let (status, _, err) = liftoff(
        &server,
        tmp.path(),
        &[
            "launch",
            "--docker-image",
            &image,
            "-E",
            "sh -c 'echo image says $QUEUE_SETTING run=$WANDB_RUN_ID'",
            "--queue",
            "lc",
            "-p",
            "proj",
        ],
    );
    assert!(status.success(), "{err}");
    // a code job, built into an image on the job's base image
    let code = tmp.path().join("code");
    std::fs::create_dir_all(&code).unwrap();
    std::fs::write(code.join("run.sh"), "echo built job; cat data.txt\n").unwrap();
    std::fs::write(code.join("data.txt"), "data-from-the-code-artifact\n").unwrap();
    let (status, _, err) = liftoff(
        &server,
        &code,
        &[
            "launch",
            "--uri",
            ".",
            "-E",
            "sh run.sh",
            "-B",
            &image,
            "--queue",
            "lc",
            "-p",
            "proj",
        ],
    );
    assert!(status.success(), "{err}");
    eventually(
        Duration::from_secs(120),
        "both container runs to finish",
        || async { (finished_runs(&server).await == 2).then_some(()) },
    )
    .await;
    let out = agent.output();
    assert!(out.contains("image says from-queue run="), "{out}");
    assert!(out.contains("data-from-the-code-artifact"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_launched_here_runs_in_a_container() {
    let Some(image) = image() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"), &[]);
    // No --queue, no --resource: an image runs as local-container (a
    // process could not run it).
    let (status, out, err) = liftoff(
        &server,
        tmp.path(),
        &[
            "launch",
            "--docker-image",
            &image,
            "-E",
            "echo ran-here-in-a-container",
            "-p",
            "proj",
        ],
    );
    assert!(status.success(), "{out}\n{err}");
    assert!(
        out.contains("Running here with local-container (no --queue).")
            && out.contains("ran-here-in-a-container"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_cli_pushes_what_liftoff_agent_runs() {
    let Some(image) = image() else { return };
    let Ok(python) = std::env::var("LIFTOFF_WANDB_PYTHON") else {
        eprintln!("skipped: needs LIFTOFF_WANDB_PYTHON too");
        return;
    };
    let (tmp, server) = server_with_lc_queue();
    let agent = AgentProcess::start(&server, &tmp.path().join("agent"), &["-q", "lc"]);
    let wandb = std::path::Path::new(&python).with_file_name("wandb");
    let out = std::process::Command::new(wandb)
        .args([
            "launch",
            "--docker-image",
            &image,
            "--queue",
            "lc",
            "--project",
            "proj",
            "--entity",
            "admin",
            "-E",
            "echo pushed-by-wandb-cli",
        ])
        .env("WANDB_BASE_URL", &server.url)
        .env("WANDB_API_KEY", ADMIN_KEY)
        .env("WANDB_DIR", tmp.path())
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eventually(Duration::from_secs(60), "the run to finish", || async {
        (finished_runs(&server).await == 1).then_some(())
    })
    .await;
    assert!(
        agent.output().contains("pushed-by-wandb-cli"),
        "{}",
        agent.output()
    );
}

/// `launch --build` (wandb's hidden `-b`): the code job's image is built
/// here, an image job of it is logged and queued, and the agent runs that
/// image as it is. A repository that cannot take the image fails the
/// launch, and nothing is queued.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn launch_build_queues_an_image_job_built_here() {
    let Some(image) = image() else { return };
    let (tmp, server) = server_with_lc_queue();
    let code = tmp.path().join("code");
    std::fs::create_dir_all(&code).unwrap();
    std::fs::write(
        code.join("run.sh"),
        "echo from the built image; cat data.txt\n",
    )
    .unwrap();
    std::fs::write(code.join("data.txt"), "data-baked-into-the-image\n").unwrap();
    let launch = |extra: &[&str]| {
        let mut args = vec![
            "launch",
            "--uri",
            ".",
            "-E",
            "sh run.sh",
            "-B",
            &image,
            "--build",
            "--queue",
            "lc",
            "-p",
            "proj",
        ];
        args.extend_from_slice(extra);
        liftoff(&server, &code, &args)
    };
    let (status, out, err) = launch(&[]);
    assert!(status.success(), "{out}\n{err}");
    assert!(
        out.contains("[build]") && out.contains("Launching image job admin/proj/job-localhost_"),
        "{out}"
    );
    let items = queued_items(&server).await;
    assert_eq!(items.len(), 1);
    let job = items[0].item.run_spec.as_ref().unwrap()["job"].clone();
    assert!(
        job.as_str()
            .unwrap()
            .starts_with("admin/proj/job-localhost_"),
        "{job}"
    );
    // A repository that is not there: the push fails, nothing is queued.
    let (status, out, err) = launch(&["-rg", "127.0.0.1:1/nope"]);
    assert!(!status.success(), "{out}");
    assert!(
        err.contains("--build:") && err.contains("push") && err.contains("nothing was pushed"),
        "{err}"
    );
    assert_eq!(queued_items(&server).await.len(), 1);
    // A job with an input schema (--job this time): its image job keeps
    // the schema, so the launch drawer still offers a form.
    let schema = tmp.path().join("schema.json");
    std::fs::write(
        &schema,
        r#"{"type": "object", "properties": {"lr": {"type": "number"}}}"#,
    )
    .unwrap();
    let (status, _, err) = liftoff(
        &server,
        &code,
        &[
            "job",
            "create",
            "code",
            ".",
            "-p",
            "proj",
            "-n",
            "with-schema",
            "-E",
            "sh run.sh",
            "-B",
            &image,
            "--schema",
            schema.to_str().unwrap(),
        ],
    );
    assert!(status.success(), "{err}");
    let (status, out, err) = liftoff(
        &server,
        &code,
        &[
            "launch",
            "-j",
            "admin/proj/with-schema",
            "-b",
            "-q",
            "lc",
            "-p",
            "proj",
        ],
    );
    assert!(status.success(), "{out}\n{err}");
    let items = queued_items(&server).await;
    let job = items[0].item.run_spec.as_ref().unwrap()["job"]
        .as_str()
        .unwrap()
        .to_owned();
    let fetched = server
        .client(ADMIN_KEY)
        .fetch_job(&liftoff_model::spec::JobRef::parse(&job).unwrap())
        .await
        .unwrap();
    assert_eq!(
        fetched
            .spec
            .source
            .image
            .as_deref()
            .map(|i| i.starts_with("localhost/admin-proj-with-schema:")),
        Some(true)
    );
    assert_eq!(
        fetched.info.metadata["input_schemas"]["@wandb.config"]["properties"]["lr"]["type"],
        "number"
    );
    let agent = AgentProcess::start(&server, &tmp.path().join("agent"), &["-q", "lc"]);
    eventually(Duration::from_secs(90), "both runs to finish", || async {
        (finished_runs(&server).await == 2).then_some(())
    })
    .await;
    let out = agent.output();
    assert!(
        out.contains("data-baked-into-the-image") && !out.contains("building localhost/"),
        "{out}"
    );
}
