//! The official `wandb` package's public API (`wandb.Api()`) reading
//! projects, a run's artifacts, artifact types, collections and versions
//! from `liftoff server`. Needs `LIFTOFF_WANDB_PYTHON` (see wandb_sdk.rs).

use std::process::Command;

use crate::harness::{ADMIN_KEY, Server};
use crate::wandb_sdk::{python, run_ok, wandb_cli};

/// A training run that logs a dataset; wandb-core makes a job of it.
const TRAIN: &str = r#"import wandb
run = wandb.init()
run.log({"loss": 0.5})
data = wandb.Artifact("train-data", type="dataset")
with data.new_file("data.csv") as f:
    f.write("x\n1\n")
run.log_artifact(data)
run.finish()
"#;

const READ: &str = r#"
import wandb
api = wandb.Api()
AUTO = "job-https___github.com_example_train.git_train.py"

projects = {p.name: p for p in api.projects("admin")}
assert list(projects) == ["autojob"], list(projects)
p = projects["autojob"]
assert p.is_benchmark is False, p.is_benchmark
assert p.owner.username == "admin", p.owner

runs = list(api.runs("admin/autojob"))
assert len(runs) == 1, runs
run = runs[0]
logged = run.logged_artifacts()
assert [(a.name, a.type) for a in logged] == [("train-data:v0", "dataset")], list(logged)
assert len(logged) == 1, len(logged)
# wandb-core creates the run's job without naming the run, then uses it
used = list(run.used_artifacts(per_page=1))
assert [(a.name, a.type, a.aliases) for a in used] == [(AUTO + ":v0", "job", ["latest"])], used

types = sorted(t.name for t in api.artifact_types("admin/autojob"))
assert types == ["code", "dataset", "job"], types
job_type = api.artifact_type("job", "admin/autojob")
assert job_type.name == "job", job_type.name
names = [c.name for c in job_type.collections()]
assert names == ["train-job", AUTO], names
paged = api.artifact_collections("admin/autojob", "job", per_page=1)
assert [c.name for c in paged] == names, [c.name for c in paged]
assert len(paged) == 2, len(paged)

coll = api.artifact_collection("job", "admin/autojob/train-job")
got = (coll.name, coll.type, coll.description, coll.tags, coll.aliases)
assert got == ("train-job", "job", None, [], ["latest"]), got
assert coll.created_at and coll.updated_at >= coll.created_at, (coll.created_at, coll.updated_at)
assert [a.name for a in coll.artifacts()] == ["train-job:v0"]
versions = [(a.name, a.version, a.type, a.aliases) for a in api.artifacts("job", "admin/autojob/train-job")]
assert versions == [("train-job:v0", "v0", "job", ["latest"])], versions
assert api.artifact_collection("job", "admin/autojob/" + AUTO).aliases == ["latest"]
print("PUBLIC API OK")
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_public_api_reads_projects_runs_and_artifacts() {
    let Some(python) = python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"), &[]);
    // a git checkout with a remote, so that the run makes a repo job
    let code = tmp.path().join("code");
    std::fs::create_dir_all(&code).unwrap();
    std::fs::write(code.join("train.py"), TRAIN).unwrap();
    std::fs::write(code.join("requirements.txt"), "wandb\n").unwrap();
    let git = |args: &[&str]| {
        let mut c = Command::new("git");
        c.args([
            "-c",
            "user.name=liftoff",
            "-c",
            "user.email=liftoff@example.com",
        ])
        .args(args)
        .current_dir(&code);
        run_ok(&mut c, "git");
    };
    git(&["init", "-q", "."]);
    git(&[
        "remote",
        "add",
        "origin",
        "https://github.com/example/train.git",
    ]);
    git(&["add", "train.py", "requirements.txt"]);
    git(&["commit", "-q", "-m", "train"]);
    let env = |c: &mut Command| {
        c.current_dir(&code)
            .env("WANDB_BASE_URL", &server.url)
            .env("WANDB_API_KEY", ADMIN_KEY)
            .env("WANDB_DIR", tmp.path())
            .env_remove("WANDB_ENTITY")
            .env_remove("WANDB_PROJECT");
    };
    let mut train = Command::new(&python);
    env(&mut train);
    train
        .arg("train.py")
        .env("WANDB_SILENT", "true")
        .env("WANDB_DISABLE_JOB_CREATION", "false")
        .env("WANDB_PROJECT", "autojob")
        .env("WANDB_ENTITY", "admin");
    run_ok(&mut train, "train.py");
    let mut create = Command::new(wandb_cli(&python));
    env(&mut create);
    create.args([
        "job",
        "create",
        "code",
        ".",
        "-p",
        "autojob",
        "-e",
        "admin",
        "-n",
        "train-job",
        "-E",
        "python train.py",
    ]);
    let out = run_ok(&mut create, "wandb job create");
    assert!(out.contains("admin/autojob/train-job:v0"), "{out}");
    let mut read = Command::new(&python);
    env(&mut read);
    read.arg("-c").arg(READ);
    let out = run_ok(&mut read, "wandb.Api reads");
    assert!(out.contains("PUBLIC API OK"), "{out}");
}
