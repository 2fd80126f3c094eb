//! local-container with a real container engine (podman here). Needs
//! `LIFTOFF_PODMAN_TESTS=1` and a local image in `LIFTOFF_TEST_IMAGE`
//! (`cargo xtask test` imports a busybox image and sets both); nothing can
//! be pulled on this machine.

use std::time::Duration;

use liftoff_client::ops::liftoff::{ItemWithRun, LiftoffRunQueue};
use liftoff_model::run::RunState;

use crate::harness::{ADMIN_KEY, AgentProcess, Server, eventually, liftoff, liftoff_command};

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
    let (status, _, err) = launch_image(
        &server,
        tmp.path(),
        &image,
        "sh -c 'echo image says $QUEUE_SETTING run=$WANDB_RUN_ID'",
    );
    assert!(status.success(), "{err}");
    // a code job, built into an image on the job's base image
    let code = tmp.path().join("code");
    std::fs::create_dir_all(&code).unwrap();
    std::fs::write(code.join("run.sh"), "echo built job; cat data.txt\n").unwrap();
    std::fs::write(code.join("data.txt"), "data-from-the-code-artifact\n").unwrap();
    let (status, _, err) = launch_code(liftoff_command(&server, &code, &[]), &image, &[]);
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
    // A short name for an image on this machine runs that image (podman
    // stores `podman tag IMG short` as localhost/short); it is not read as
    // Docker Hub's, which cannot be pulled here.
    let tagged = std::process::Command::new("podman")
        .args(["tag", &image, "liftoff-short-name:1"])
        .status()
        .unwrap();
    assert!(tagged.success());
    let (status, out, err) = liftoff(
        &server,
        tmp.path(),
        &[
            "launch",
            "--docker-image",
            "liftoff-short-name:1",
            "-E",
            "echo short-name-ran",
            "-p",
            "proj",
        ],
    );
    assert!(status.success(), "{out}\n{err}");
    assert!(out.contains("short-name-ran"), "{out}");
    // The container tool's own failure, and a command the image lacks, are
    // said as such, not as the job's exit code.
    for (image, entry, said) in [
        (
            "localhost:1/nothing-here:1",
            "echo never",
            "could not start the container (exit 125",
        ),
        (
            image.as_str(),
            "no-such-command-here",
            "the container's command is not in the image (exit 127)",
        ),
    ] {
        let (status, out, err) = liftoff(
            &server,
            tmp.path(),
            &["launch", "--docker-image", image, "-E", entry, "-p", "proj"],
        );
        assert_eq!(status.code(), Some(1), "{out}\n{err}");
        assert!(err.contains(said), "{err}");
        assert!(!err.contains("the job exited with code"), "{err}");
    }
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
        let mut args = vec!["--build"];
        args.extend_from_slice(extra);
        launch_code(liftoff_command(&server, &code, &[]), &image, &args)
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

/// `liftoff launch --uri . -E 'sh run.sh' -B IMAGE -q lc -p proj EXTRA`
/// with `command` (a `liftoff` command, its environment set), in its
/// directory: answers (status, stdout, stderr).
fn launch_code(
    mut command: std::process::Command,
    image: &str,
    extra: &[&str],
) -> (std::process::ExitStatus, String, String) {
    let out = command
        .args([
            "launch",
            "--uri",
            ".",
            "-E",
            "sh run.sh",
            "-B",
            image,
            "-q",
            "lc",
            "-p",
            "proj",
        ])
        .args(extra)
        .output()
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status, text(&out.stdout), text(&out.stderr))
}

/// `liftoff launch --docker-image IMAGE -E ENTRY -q lc -p proj` in `dir`.
fn launch_image(
    server: &Server,
    dir: &std::path::Path,
    image: &str,
    entry: &str,
) -> (std::process::ExitStatus, String, String) {
    liftoff(
        server,
        dir,
        &[
            "launch",
            "--docker-image",
            image,
            "-E",
            entry,
            "-q",
            "lc",
            "-p",
            "proj",
        ],
    )
}

/// A real image registry (Debian's `docker-registry`, the CNCF
/// distribution) on a free port, its storage in `dir`.
struct Registry {
    child: std::process::Child,
    addr: String,
    /// A registries.conf letting podman push to it over plain HTTP.
    registries_conf: std::path::PathBuf,
}

impl Registry {
    async fn start(dir: &std::path::Path) -> Self {
        let addr = crate::harness::free_addr();
        std::fs::create_dir_all(dir).unwrap();
        let config = dir.join("registry.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {addr}\nlog:\n  level: warn\n",
                dir.join("data").display()
            ),
        )
        .unwrap();
        let registries_conf = dir.join("registries.conf");
        std::fs::write(
            &registries_conf,
            format!("[[registry]]\nlocation = \"{addr}\"\ninsecure = true\n"),
        )
        .unwrap();
        let child = std::process::Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect(
                "docker-registry (Debian's docker-registry package; cargo xtask test installs it)",
            );
        let registry = Self {
            child,
            addr,
            registries_conf,
        };
        eventually(
            Duration::from_secs(20),
            "the registry to listen",
            || async { registry.get("/v2/").map(|_| ()) },
        )
        .await;
        registry
    }

    /// The body of a GET, if it answered 200.
    fn get(&self, path: &str) -> Option<String> {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(&self.addr).ok()?;
        write!(s, "GET {path} HTTP/1.0\r\nHost: {}\r\n\r\n", self.addr).ok()?;
        let mut answer = String::new();
        s.read_to_string(&mut answer).ok()?;
        let (head, body) = answer.split_once("\r\n\r\n")?;
        // HTTP/1.0 or 1.1, as the server likes.
        (head.split(' ').nth(1) == Some("200")).then(|| body.to_owned())
    }

    fn tags(&self, repo: &str) -> Vec<String> {
        self.get(&format!("/v2/{repo}/tags/list"))
            .and_then(|b| serde_json::from_str::<serde_json::Value>(&b).ok())
            .and_then(|v| {
                v["tags"].as_array().map(|t| {
                    t.iter()
                        .filter_map(|t| t.as_str().map(str::to_owned))
                        .collect()
                })
            })
            .unwrap_or_default()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // The local tags of images pushed here (`127.0.0.1:PORT/...`) would
        // pile up in podman's store, one set per run.
        let listed = std::process::Command::new("podman")
            .args(["images", "--format", "{{.Repository}}:{{.Tag}}"])
            .output();
        let prefix = format!("{}/", self.addr);
        if let Ok(out) = listed {
            let tags: Vec<String> = String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter(|l| l.starts_with(&prefix))
                .map(str::to_owned)
                .collect();
            if !tags.is_empty() {
                let _ = std::process::Command::new("podman")
                    .arg("rmi")
                    .args(&tags)
                    .output();
            }
        }
    }
}

/// `builder.destination` in launch-config.yaml, as W&B's agent reads it:
/// a code job's image is pushed to that repository (a real registry here)
/// and run from there; `launch --build` pushes there too without `-rg`; a
/// job's own spec `builder` replaces the agent's, and a destination with a
/// tag fails the item with the reason, before anything is built.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn builder_destination_pushes_built_images_to_a_registry() {
    let Some(image) = image() else { return };
    let (tmp, server) = server_with_lc_queue();
    let registry = Registry::start(&tmp.path().join("registry")).await;
    let dest = format!("{}/ml/train", registry.addr);
    let conf = registry.registries_conf.to_str().unwrap();
    // The agent's and the CLI's launch-config.yaml ($HOME/.config/wandb).
    let home = tmp.path().join("agent");
    std::fs::create_dir_all(home.join(".config/wandb")).unwrap();
    std::fs::write(
        home.join(".config/wandb/launch-config.yaml"),
        format!("builder:\n  type: docker\n  destination: {dest}\n"),
    )
    .unwrap();
    let code = tmp.path().join("code");
    std::fs::create_dir_all(&code).unwrap();
    std::fs::write(code.join("run.sh"), "echo ran-from-the-registry\n").unwrap();
    let launch = |extra: &[&str]| {
        let mut command = liftoff_command(&server, &code, &[]);
        command
            .env("HOME", &home)
            .env("CONTAINERS_REGISTRIES_CONF", conf);
        launch_code(command, &image, extra)
    };
    // launch --build: built here and pushed to the destination.
    let (status, out, err) = launch(&["--build"]);
    assert!(status.success(), "{out}\n{err}");
    assert!(out.contains(&format!("pushed {dest}:")), "{out}");
    assert_eq!(registry.tags("ml/train").len(), 1);
    // Queued as code: the agent builds it, pushes it, runs it.
    let (status, out, err) = launch(&[]);
    assert!(status.success(), "{out}\n{err}");
    // A spec whose builder names a tagged destination.
    let spec = tmp.path().join("spec.json");
    std::fs::write(
        &spec,
        format!(r#"{{"builder": {{"destination": "{dest}:v1"}}}}"#),
    )
    .unwrap();
    let (status, out, err) = launch(&["--config", spec.to_str().unwrap()]);
    assert!(status.success(), "{out}\n{err}");
    let agent = AgentProcess::start_with_env(
        &server,
        &home,
        &["-q", "lc"],
        &[("CONTAINERS_REGISTRIES_CONF", conf)],
    );
    let failed = eventually(Duration::from_secs(120), "the runs to end", || async {
        let items = queued_items(&server).await;
        let ended = |s: RunState| {
            items
                .iter()
                .filter(|i| i.run.as_ref().is_some_and(|r| r.state == s))
                .count()
        };
        let failed: Vec<_> = items.iter().filter(|i| i.item.error.is_some()).collect();
        (ended(RunState::Finished) == 2 && failed.len() == 1)
            .then(|| failed[0].item.error.clone().unwrap())
    })
    .await;
    let out = agent.output();
    assert!(
        out.contains("ran-from-the-registry") && out.contains(&format!("pushed {dest}:")),
        "{out}"
    );
    // ...and runs the pushed name.
    assert!(
        out.lines()
            .any(|l| l.contains(" run --rm ") && l.contains(&format!(" {dest}:"))),
        "{out}"
    );
    assert!(
        failed.message.contains("builder.destination")
            && failed.message.contains("may not include a tag"),
        "{failed:?}"
    );
    // The image job's and the queued code job's builds: the same source,
    // so the same tag, pushed twice.
    assert_eq!(registry.tags("ml/train").len(), 1);
}

/// A stop request reaches a container as SIGINT first (as it reaches a
/// process), so a job that finishes on Ctrl-C (a wandb run) gets to.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_container_gets_sigint_first() {
    let Some(image) = image() else { return };
    let (tmp, server) = server_with_lc_queue();
    let (status, _, err) = launch_image(
        &server,
        tmp.path(),
        &image,
        // Ready when the shell has set its trap: `ready-42` is printed, not in the command line.
        "sh -c 'trap \"echo finishing-on-sigint; exit 0\" INT; echo ready-$((6*7)); while :; do sleep 0.2; done'",
    );
    assert!(status.success(), "{err}");
    let agent = AgentProcess::start(&server, &tmp.path().join("agent"), &["-q", "lc"]);
    let item = eventually(Duration::from_secs(60), "the job to start", || async {
        if !agent.output().contains("ready-42") {
            return None;
        }
        queued_items(&server)
            .await
            .first()
            .map(|i| i.item.id.clone())
    })
    .await;
    crate::harness::stop_item(&server, &agent, item).await;
    let out = agent.output();
    assert!(out.contains("finishing-on-sigint"), "{out}");
}
