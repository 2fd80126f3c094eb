//! Put a job's source on disk: a code artifact's files, or a git checkout.

use std::path::Path;

use liftoff_client::native::NativeTransport;
use liftoff_client::ops::artifacts::ArtifactByID;
use liftoff_client::{Client, artifacts::FetchedJob};
use liftoff_model::job::SourceType;
use tokio::process::Command;

use crate::log::JobLog;
use crate::runner::StageError;
use crate::runner::process::run_step;

/// Write files under `dir`, refusing paths that would escape it.
pub fn write_files(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<(), StageError> {
    for (name, bytes) in files {
        if !liftoff_model::artifact::is_safe_artifact_path(name) {
            return Err(StageError::agent(format!(
                "the artifact holds an unsafe path {name:?}; refusing to write it"
            )));
        }
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| {
                StageError::agent(format!("cannot create {}: {e}", parent.display()))
            })?;
        }
        std::fs::write(&path, bytes)
            .map_err(|e| StageError::agent(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(())
}

/// Materialise the source of a code or git job into `dir`, and answer the
/// directory it is built from (its `build_context`, else `dir`).
pub async fn materialize_context(
    client: &Client<NativeTransport>,
    job: &FetchedJob,
    dir: &Path,
    log: &JobLog,
) -> Result<std::path::PathBuf, StageError> {
    materialize(client, job, dir, log).await?;
    Ok(match &job.spec.source.build_context {
        Some(b) => dir.join(b),
        None => dir.to_path_buf(),
    })
}

/// Materialise the source of a code or git job into `dir`.
pub async fn materialize(
    client: &Client<NativeTransport>,
    job: &FetchedJob,
    dir: &Path,
    log: &JobLog,
) -> Result<(), StageError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| StageError::agent(format!("cannot create {}: {e}", dir.display())))?;
    match job.spec.source_type {
        SourceType::Artifact => {
            let id = job.spec.code_artifact_id().ok_or_else(|| {
                StageError::agent("the job names no code artifact (source.artifact)")
            })?;
            let step = log.step("downloading the code artifact");
            let info = client
                .call(ArtifactByID { id: id.to_owned() })
                .await
                .map_err(|e| {
                    StageError::agent(format!("cannot find the job's code artifact: {e}"))
                })?;
            if info.state == "DELETED" {
                return Err(StageError::agent(format!(
                    "the job's code artifact {} was deleted",
                    info.versioned_name()
                )));
            }
            let files = client
                .download_files(&info)
                .await
                .map_err(|e| StageError::agent(format!("cannot download the code: {e}")))?;
            let bytes: usize = files.iter().map(|(_, b)| b.len()).sum();
            let n = files.len();
            step.done(&format!(
                "downloaded {n} file{} ({bytes} bytes)",
                if n == 1 { "" } else { "s" }
            ));
            write_files(dir, &files)
        }
        SourceType::Repo => {
            let git = job
                .spec
                .source
                .git
                .as_ref()
                .ok_or_else(|| StageError::agent("the git job names no repository"))?;
            let step = log.step(&format!("cloning {} at {}", git.remote, git.commit));
            if git.commit.starts_with('-') {
                return Err(StageError::agent(format!(
                    "the git job's commit {:?} is not a commit (it starts with '-')",
                    git.commit
                )));
            }
            // No prompt for credentials (nobody answers it: the clone would
            // wait forever), and a remote is never read as an option.
            let mut clone = Command::new("git");
            clone
                .env("GIT_TERMINAL_PROMPT", "0")
                .env("GCM_INTERACTIVE", "never")
                .args(["clone", "--quiet", "--", &git.remote])
                .arg(dir);
            run_step(clone, log, "git clone")
                .await
                .map_err(|e| StageError::agent(e.message))?;
            let mut checkout = Command::new("git");
            checkout
                .arg("-C")
                .arg(dir)
                .args(["checkout", "--quiet", &git.commit]);
            run_step(checkout, log, "git checkout")
                .await
                .map_err(|e| StageError::agent(e.message))?;
            if let Some((_, patch)) = job.files.iter().find(|(n, _)| n == "diff.patch") {
                let file = dir.join(".liftoff-diff.patch");
                std::fs::write(&file, patch).map_err(|e| StageError::agent(e.to_string()))?;
                let mut apply = Command::new("git");
                apply
                    .arg("-C")
                    .arg(dir)
                    .args(["apply", ".liftoff-diff.patch"]);
                run_step(apply, log, "git apply diff.patch")
                    .await
                    .map_err(|e| StageError::agent(e.message))?;
            }
            step.done("checked out");
            Ok(())
        }
        SourceType::Image => Ok(()),
    }
}
