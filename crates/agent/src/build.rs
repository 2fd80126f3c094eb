//! `liftoff launch --build`: a code or git job's image built here, as the
//! local-container runner builds it, and pushed to a repository when one is
//! given, so that it can be launched as an image job.

use std::path::PathBuf;

use liftoff_client::Client;
use liftoff_client::native::NativeTransport;
use liftoff_model::spec::JobRef;

use crate::agent::new_run_id;
use crate::log::JobLog;
use crate::runner::StageError;
use crate::runner::container::{BuildSpec, ContainerRunner};
use crate::source::materialize_context;

/// What to build.
pub struct BuildRequest {
    /// A code or git job.
    pub job: JobRef,
    /// `--dockerfile`, when the job names none.
    pub dockerfile: Option<String>,
    /// `--entry-point`, else the job's.
    pub entry_point: Option<Vec<String>>,
    /// Where to push the image (`registry/repo`, tagged as built).
    pub repository: Option<String>,
    /// `docker` or `podman` (else whichever works here).
    pub container_cli: Option<String>,
    /// The agent work dir: the source is put under `jobs/` (and removed
    /// after), the build's log under `logs/`.
    pub work_dir: PathBuf,
}

/// A built image.
#[derive(Debug)]
pub struct Built {
    /// Local (`localhost/name:hash`), or in the repository when pushed.
    pub image: String,
    /// The command the image runs.
    pub entry_point: Vec<String>,
    /// The job's declared config schema (`input_schemas["@wandb.config"]`),
    /// for the image job, so its launch form stays a form.
    pub schema: Option<serde_json::Value>,
}

/// Build (and push) the image of `r.job`, printing the build's output.
pub async fn build_job_image(
    client: &Client<NativeTransport>,
    r: &BuildRequest,
) -> Result<Built, StageError> {
    let runner = ContainerRunner::detect(r.container_cli.as_deref())
        .await
        .map_err(StageError::build)?;
    let id = format!("build-{}", new_run_id());
    let dir = r.work_dir.join("jobs").join(&id);
    std::fs::create_dir_all(&dir)
        .map_err(|e| StageError::agent(format!("cannot create {}: {e}", dir.display())))?;
    let log_path = r.work_dir.join("logs").join(format!("{id}.log"));
    let log = JobLog::create(&log_path, "[build]", true)
        .map_err(|e| StageError::agent(format!("cannot create {}: {e}", log_path.display())))?;
    let result = async {
        let job = &r.job;
        log.note(&format!("fetching job {job} ..."));
        let fetched = client
            .fetch_job(job)
            .await
            .map_err(|e| StageError::agent(format!("cannot fetch job {job}: {e}")))?;
        if let Some(image) = &fetched.spec.source.image {
            return Err(StageError::build(format!(
                "job {job} is an image job ({image}), so there is nothing to build: launch it without --build"
            )));
        }
        let source = materialize_context(client, &fetched, &dir.join("code"), &log).await?;
        let entry_point = r
            .entry_point
            .clone()
            .or_else(|| fetched.spec.source.entrypoint.clone())
            .unwrap_or_default();
        let job_name = job.to_string();
        let image = runner
            .build(&BuildSpec {
                job: Some(&fetched.spec),
                job_name: Some(&job_name),
                dockerfile: r.dockerfile.clone(),
                entry_point: &entry_point,
                source: &source,
                requirements: fetched.requirements(),
                work_dir: &dir,
                log: &log,
            })
            .await?;
        let image = match &r.repository {
            Some(repo) => runner.push(&image, repo, &log).await?,
            None => image,
        };
        let schema = fetched
            .info
            .metadata
            .get("input_schemas")
            .and_then(|s| s.get("@wandb.config"))
            .cloned();
        Ok(Built {
            image,
            entry_point,
            schema,
        })
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}
