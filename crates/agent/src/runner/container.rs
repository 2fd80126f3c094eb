//! `local-container`: `docker run` (or `podman run`) with the queue's
//! `resource_args["local-container"]` mapped to flags as W&B does (spec
//! §5.2). Image jobs run as given; code and git jobs are built into an
//! image first (the job's `Dockerfile.wandb`, or a generated Dockerfile).

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use liftoff_model::JobSpec;
use liftoff_model::image::docker_hub_qualified;
use liftoff_model::job::REQUIREMENTS_FILE;
use liftoff_model::resource_args::docker_flags;
use sha2::{Digest, Sha256};
use tokio::process::Command;

use crate::log::JobLog;
use crate::runner::process::{ProcessWorkload, run_step, shell_words, spawn_job};
use crate::runner::{JobContext, Outcome, Runner, StageError, Workload};

/// The default base image of generated Dockerfiles (W&B's).
pub const DEFAULT_BASE_IMAGE: &str = "python:3.12-slim";

pub struct ContainerRunner {
    /// `docker` or `podman`.
    pub cli: String,
    /// Base image for code/git jobs without their own.
    pub base_image: String,
}

impl ContainerRunner {
    /// `docker` or `podman`, from config or whichever works here (a docker
    /// client without a daemon does not count).
    pub async fn detect(configured: Option<&str>) -> Result<Self, String> {
        let cli = match configured {
            Some(c) => c.to_owned(),
            None => {
                let installed: Vec<&str> = ["docker", "podman"]
                    .into_iter()
                    .filter(|c| which(c))
                    .collect();
                let mut working = None;
                for c in &installed {
                    if engine_works(c).await {
                        working = Some(*c);
                        break;
                    }
                }
                match working {
                    Some(c) => c.to_owned(),
                    None if installed.is_empty() => {
                        return Err("local-container needs docker or podman on PATH (or set runner.container_cli in launch-config.yaml)".into());
                    }
                    None => {
                        return Err(format!(
                            "local-container needs a working container engine: {} installed but `info` fails (is the daemon running?)",
                            installed.join(" and ")
                        ));
                    }
                }
            }
        };
        Ok(Self {
            cli,
            base_image: DEFAULT_BASE_IMAGE.into(),
        })
    }

    fn is_podman(&self) -> bool {
        Path::new(&self.cli)
            .file_name()
            .is_some_and(|n| n.to_string_lossy().contains("podman"))
    }

    /// Build a code or git job's image (its Dockerfile, or one made for it),
    /// named for the job and tagged with a hash of the Dockerfile and the
    /// code, so an unchanged job is built once.
    pub async fn build(&self, b: &BuildSpec<'_>) -> Result<String, StageError> {
        if let Some(req) = b.requirements {
            std::fs::write(b.source.join(REQUIREMENTS_FILE), req)
                .map_err(|e| StageError::build(e.to_string()))?;
        }
        let dockerfile = match b
            .job
            .and_then(|j| j.source.dockerfile.clone())
            .or_else(|| b.dockerfile.clone())
        {
            Some(f) => std::fs::read_to_string(b.source.join(&f))
                .map_err(|e| StageError::build(format!("cannot read the job's {f}: {e}")))?,
            None if b.source.join("Dockerfile.wandb").is_file() => {
                std::fs::read_to_string(b.source.join("Dockerfile.wandb"))
                    .map_err(|e| StageError::build(e.to_string()))?
            }
            None => generated_dockerfile(b, &self.base_image),
        };
        // Reading the whole build context is blocking work: off the runtime.
        let source = b.source.to_path_buf();
        let (digest, dockerfile) = tokio::task::spawn_blocking(move || {
            let mut h = Sha256::new();
            h.update(dockerfile.as_bytes());
            hash_dir(&mut h, &source);
            (h.finalize(), dockerfile)
        })
        .await
        .map_err(|e| StageError::build(format!("cannot hash the build context: {e}")))?;
        let tag = &hex::encode(digest)[..8];
        let name = b.job_name.map_or("liftoff-job".into(), |j| {
            docker_safe(j.split(':').next().unwrap_or(j))
        });
        let image = format!("localhost/{name}:{tag}");
        if self.image_exists(&image).await {
            b.log.note(&format!("image {image} already built"));
            return Ok(image);
        }
        let file = b.work_dir.join("Dockerfile.liftoff");
        std::fs::write(&file, &dockerfile).map_err(|e| StageError::build(e.to_string()))?;
        let step = b.log.step(&format!("building {image}"));
        let mut cmd = Command::new(&self.cli);
        cmd.arg("build");
        if self.is_podman() {
            cmd.args(["--isolation", "chroot"]);
        }
        cmd.arg("-t").arg(&image).arg("-f").arg(&file).arg(b.source);
        run_step(cmd, b.log, &format!("{} build", self.cli)).await?;
        step.done(&format!("built {image}"));
        Ok(image)
    }

    /// Tag a built image into `repository` (same tag) and push it there.
    pub async fn push(
        &self,
        image: &str,
        repository: &str,
        log: &JobLog,
    ) -> Result<String, StageError> {
        let tag = liftoff_model::job::split_image_tag(image)
            .1
            .unwrap_or("latest");
        let target = format!("{}:{tag}", repository.trim_end_matches('/'));
        let mut cmd = Command::new(&self.cli);
        cmd.args(["tag", image, &target]);
        run_step(cmd, log, &format!("{} tag", self.cli)).await?;
        let step = log.step(&format!("pushing {target}"));
        let mut cmd = Command::new(&self.cli);
        cmd.args(["push", &target]);
        run_step(cmd, log, &format!("{} push", self.cli)).await?;
        step.done(&format!("pushed {target}"));
        Ok(target)
    }

    async fn image_exists(&self, image: &str) -> bool {
        Command::new(&self.cli)
            .args(["image", "inspect", image])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .await
            .is_ok_and(|s| s.success())
    }
}

/// Whether `CLI info` succeeds; a daemon that does not answer in 30 s
/// counts as not working (and does not hold up the agent's heartbeats).
async fn engine_works(cli: &str) -> bool {
    let mut cmd = Command::new(cli);
    cmd.arg("info")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    matches!(
        tokio::time::timeout(std::time::Duration::from_secs(30), cmd.status()).await,
        Ok(Ok(s)) if s.success()
    )
}

fn which(program: &str) -> bool {
    super::on_path(program, std::path::Path::is_file)
}

fn docker_safe(s: &str) -> String {
    let t: String = s
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    t.trim_matches('-').chars().take(100).collect()
}

fn hash_dir(h: &mut Sha256, dir: &Path) {
    let mut entries: Vec<_> = walk(dir);
    entries.sort();
    for p in entries {
        h.update(
            p.strip_prefix(dir)
                .unwrap_or(&p)
                .to_string_lossy()
                .as_bytes(),
        );
        if let Ok(bytes) = std::fs::read(&p) {
            h.update(&bytes);
        }
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n != ".git") {
                    out.extend(walk(&p));
                }
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// What an image is built from: a code or git job's source on disk.
pub struct BuildSpec<'a> {
    /// `wandb-job.json` of the job (its Dockerfile, base image).
    pub job: Option<&'a JobSpec>,
    /// `entity/project/name:alias`, which names the image.
    pub job_name: Option<&'a str>,
    /// `overrides.dockerfile`, when the job names none.
    pub dockerfile: Option<String>,
    /// The image's entry point.
    pub entry_point: &'a [String],
    /// The build context.
    pub source: &'a Path,
    /// The job's frozen requirements, written into the context as
    /// `requirements.frozen.txt` (the Dockerfile installs them).
    pub requirements: Option<&'a [u8]>,
    /// Where the Dockerfile used is written.
    pub work_dir: &'a Path,
    pub log: &'a JobLog,
}

impl<'a> BuildSpec<'a> {
    /// A queued or direct job's build: its source, in its own work dir.
    pub fn of(ctx: &'a JobContext, source: &'a Path) -> Self {
        Self {
            job: ctx.job.as_ref(),
            job_name: ctx.spec.job.as_deref(),
            dockerfile: ctx.spec.overrides().dockerfile,
            entry_point: &ctx.entry_point,
            source,
            requirements: ctx.requirements.as_deref(),
            work_dir: &ctx.work_dir,
            log: &ctx.log,
        }
    }
}

/// The Python image of the job's `runtime` (`3.11` -> `python:3.11-slim`),
/// as wandb builds: the code runs on the Python it was made with.
fn python_image(runtime: &str) -> Option<String> {
    let mut parts = runtime.trim().split('.');
    let (major, minor) = (parts.next()?, parts.next()?);
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (digits(major) && digits(minor)).then(|| format!("python:{major}.{minor}-slim"))
}

/// A Dockerfile for a code or git job: the code in `/home/launch`, its
/// requirements installed (when it has some), the job's entry point.
pub fn generated_dockerfile(b: &BuildSpec<'_>, default_base: &str) -> String {
    let base = b
        .job
        .and_then(|j| j.source.base_image.clone())
        .or_else(|| b.job.and_then(|j| python_image(j.runtime.as_deref()?)))
        .unwrap_or_else(|| default_base.to_owned());
    let entry = serde_json::to_string(b.entry_point).unwrap_or_else(|_| "[]".into());
    let install = [REQUIREMENTS_FILE, "requirements.txt"]
        .into_iter()
        .find(|f| b.source.join(f).is_file())
        .map(|f| format!("RUN python -m pip install --no-cache-dir -r {f}\n"))
        .unwrap_or_default();
    format!("FROM {base}\nWORKDIR /home/launch\nCOPY . /home/launch\n{install}ENTRYPOINT {entry}\n")
}

#[async_trait]
impl Runner for ContainerRunner {
    fn resource(&self) -> &'static str {
        "local-container"
    }

    async fn start(&self, ctx: &JobContext) -> Result<Box<dyn Workload>, StageError> {
        let (image, built) = match (&ctx.image, &ctx.source_dir) {
            (Some(image), _) => {
                // A short name podman has no image for is read as docker
                // reads it (podman would refuse it, with no terminal to ask
                // which registry); one it has (`podman build -t trainer`,
                // stored as localhost/trainer) runs as it is.
                let image = if self.is_podman() && !self.image_exists(image).await {
                    docker_hub_qualified(image)
                } else {
                    image.clone()
                };
                (image, false)
            }
            (None, Some(src)) => {
                let dest = ctx.push_to.as_ref().map(|p| p.checked()).transpose()?;
                let image = self.build(&BuildSpec::of(ctx, src)).await?;
                let image = match dest {
                    Some(dest) => self.push(&image, dest, &ctx.log).await?,
                    None => image,
                };
                (image, true)
            }
            (None, None) => {
                return Err(StageError::agent(
                    "a local-container job needs an image or code: this spec has neither",
                ));
            }
        };
        let name = format!("liftoff-{}", ctx.run_id.to_ascii_lowercase());
        let mut args: Vec<String> =
            vec!["run".into(), "--rm".into(), "--name".into(), name.clone()];
        // The host's network only when the server is on the host's loopback
        // (W&B's agent does the same): otherwise the container's own, so
        // jobs do not share ports or reach the host's local services.
        if ctx
            .env_value("WANDB_BASE_URL")
            .is_none_or(crate::runner::is_loopback)
        {
            args.extend(["--network".into(), "host".into()]);
        }
        for (k, v) in &ctx.env {
            args.push("-e".into());
            args.push(format!("{k}={v}"));
        }
        args.extend(docker_flags(&ctx.resource_args));
        // An image job's entry point comes from the job (W&B: overrides only
        // apply through a built image); a built image has it baked in.
        let mut tail: Vec<String> = Vec::new();
        if !built && !ctx.entry_point.is_empty() {
            args.push("--entrypoint".into());
            args.push(ctx.entry_point[0].clone());
            tail.extend(ctx.entry_point[1..].iter().cloned());
        }
        args.push(image.clone());
        args.extend(tail);
        args.extend(ctx.args.iter().cloned());
        let shown: Vec<String> = args
            .iter()
            .map(|a| {
                if a.starts_with("WANDB_API_KEY=") {
                    "WANDB_API_KEY=<redacted>".into()
                } else {
                    a.clone()
                }
            })
            .collect();
        ctx.log
            .note(&format!("{} {}", self.cli, shell_words(&shown)));
        let mut cmd = Command::new(&self.cli);
        cmd.args(&args);
        ctx.log.job_started();
        let (child, output) = spawn_job(cmd, &ctx.log)
            .map_err(|e| StageError::run(format!("cannot run {}: {e}", self.cli)))?;
        Ok(Box::new(ContainerWorkload {
            inner: ProcessWorkload::new(child, output, ctx.log.clone()),
            cli: self.cli.clone(),
            name,
            log: ctx.log.clone(),
        }))
    }
}

struct ContainerWorkload {
    inner: ProcessWorkload,
    cli: String,
    name: String,
    log: JobLog,
}

#[async_trait]
impl Workload for ContainerWorkload {
    async fn wait(&mut self) -> Outcome {
        // the container CLI reports a signal inside as 128 + its number
        match self.inner.wait().await {
            Outcome::Exited(code) if (129..=128 + 31).contains(&code) => {
                Outcome::Signaled(crate::runner::signal_name(code - 128))
            }
            other => other,
        }
    }

    async fn stop(&mut self, grace: Duration) {
        // As a process is stopped: SIGINT first (a wandb run finishes and
        // sends what it logged), then `stop` (SIGTERM, SIGKILL).
        let half = grace / 2;
        self.log.note(&format!(
            "stopping container {} (SIGINT, then {} stop after {} s)",
            self.name,
            self.cli,
            half.as_secs_f32()
        ));
        let quiet = |args: &[&str]| {
            let mut cmd = Command::new(&self.cli);
            cmd.args(args)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null());
            cmd
        };
        let _ = quiet(&["kill", "--signal", "INT", &self.name])
            .status()
            .await;
        if self.inner.ended_within(half).await {
            return;
        }
        let secs = (grace - half).as_secs().max(1).to_string();
        let _ = quiet(&["stop", "-t", &secs, &self.name]).status().await;
        self.inner.stop(Duration::from_secs(2)).await;
    }

    fn describe(&self) -> String {
        // `run` pulls a missing image before the container starts: a pull
        // that fails is the 125 `exit_problem` explains.
        format!(
            "{} run for container {} (the image is pulled first if it is not here)",
            self.cli, self.name
        )
    }

    fn exit_problem(&self, code: i32) -> Option<String> {
        container_exit_problem(&self.cli, code)
    }
}

/// Docker's and podman's own exit codes for `run`: 125 is the tool's
/// failure (the container never ran), 126 and 127 the command's.
fn container_exit_problem(cli: &str, code: i32) -> Option<String> {
    match code {
        125 => Some(format!(
            "{cli} could not start the container (exit 125, {cli}'s own: an image it cannot pull, or a flag from resource_args it refuses)"
        )),
        126 => Some(
            "the container's command could not be invoked (exit 126: not executable, or the container runtime refused it)"
                .into(),
        ),
        127 => Some("the container's command is not in the image (exit 127)".into()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::python_image;
    use crate::runner::is_loopback;

    #[test]
    fn only_a_server_on_loopback_puts_a_job_on_the_hosts_network() {
        for url in [
            "http://localhost:8080",
            "http://127.0.0.1:8080/",
            "https://user:pw@127.0.0.2",
            "http://[::1]:8080",
            "http://app.localhost",
            "http://0.0.0.0:8080",
        ] {
            assert!(is_loopback(url), "{url}");
        }
        for url in [
            "https://api.wandb.ai",
            "http://10.0.0.5:8080",
            "http://[fe80::1]:80",
            "http://localhost.example.com",
        ] {
            assert!(!is_loopback(url), "{url}");
        }
    }

    #[test]
    fn a_jobs_runtime_names_its_python_image() {
        assert_eq!(python_image("3.11").as_deref(), Some("python:3.11-slim"));
        assert_eq!(python_image(" 3.9 ").as_deref(), Some("python:3.9-slim"));
        assert_eq!(python_image("3.11.4").as_deref(), Some("python:3.11-slim"));
        for not in ["3", "", "cpython", "3.x"] {
            assert_eq!(python_image(not), None, "{not:?}");
        }
    }
}
