//! The official `wandb` package (PyPI) as a client of `liftoff server`.
//! Needs a venv with wandb: `cargo xtask test` makes one and sets
//! `LIFTOFF_WANDB_PYTHON`; without it these tests say so and pass nothing.

use std::process::Command;

use liftoff_client::ops::liftoff::LiftoffRunQueue;

use crate::harness::{ADMIN_KEY, Server};

fn python() -> Option<String> {
    match std::env::var("LIFTOFF_WANDB_PYTHON") {
        Ok(p) if !p.is_empty() => Some(p),
        _ => {
            if std::env::var("LIFTOFF_REQUIRE_WANDB").is_ok() {
                panic!("LIFTOFF_REQUIRE_WANDB is set but LIFTOFF_WANDB_PYTHON is not");
            }
            eprintln!("skipped: set LIFTOFF_WANDB_PYTHON to a python with the wandb package (cargo xtask test does)");
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
    let env = [("WANDB_BASE_URL", server.url.as_str()), ("WANDB_API_KEY", ADMIN_KEY), ("WANDB_SILENT", "true"), ("WANDB_DIR", work.path().to_str().unwrap())];
    let out = Command::new(&python).arg("-c").arg(SCRIPT).envs(env).current_dir(work.path()).output().unwrap();
    assert!(out.status.success(), "python: {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("OK ['pending']"));
    // `wandb launch --queue`, the official CLI
    let wandb = std::path::Path::new(&python).with_file_name("wandb");
    let out = Command::new(wandb)
        .args(["launch", "--docker-image", "busybox:1.36", "--queue", "sdk-queue", "--project", "proj", "--entity", "admin"])
        .envs(env)
        .current_dir(work.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "wandb launch: {}", String::from_utf8_lossy(&out.stderr));
    // liftoff's store now holds both items, merged with the queue config
    let queue = server.client(ADMIN_KEY).call(LiftoffRunQueue { entity: "admin".into(), queue: "sdk-queue".into(), first: 10, after: None }).await.unwrap();
    let images: Vec<String> = queue.items.iter().map(|i| i.item.run_spec.as_ref().unwrap()["docker"]["docker_image"].as_str().unwrap().to_owned()).collect();
    assert_eq!(images, ["busybox:1.36", "busybox:latest"]);
    for i in &queue.items {
        assert_eq!(i.item.run_spec.as_ref().unwrap()["resource_args"]["local-container"]["env"], serde_json::json!(["A=1"]));
    }
}
