//! `liftoff job create|list|describe`, and job creation for `launch --uri`.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use liftoff_client::Client;
use liftoff_client::artifacts::NewVersion;
use liftoff_client::native::NativeTransport;
use liftoff_client::ops::artifacts::{ArtifactByID, ArtifactOfType};
use liftoff_model::job::{artifact_safe_name, image_job_name};
use liftoff_model::spec::JobRef;
use serde_json::{Value, json};

use crate::cli::JobCommand;
use crate::cmd::{conn, shlex};

/// Where a job's code comes from.
#[derive(Clone, Debug)]
pub enum JobSource {
    /// A directory of code, as [`code_dir`] checked it.
    Code(PathBuf),
    Git {
        url: String,
        commit: Option<String>,
    },
    Image(String),
}

#[derive(Clone, Debug)]
pub struct NewJob {
    pub entity: String,
    pub project: String,
    pub source: JobSource,
    pub name: Option<String>,
    pub description: Option<String>,
    pub aliases: Vec<String>,
    pub entry_point: Option<Vec<String>>,
    pub runtime: Option<String>,
    pub build_context: Option<String>,
    pub base_image: Option<String>,
    pub dockerfile: Option<String>,
    pub schema: Option<Value>,
}

/// Directories never part of a code job.
const SKIP_DIRS: &[&str] = &[
    ".git",
    "wandb",
    "__pycache__",
    ".venv",
    "venv",
    "node_modules",
    ".mypy_cache",
    ".pytest_cache",
];
const MAX_CODE_BYTES: u64 = 200 << 20;

/// Every file under `dir` (relative paths), skipping caches and VCS data.
pub fn code_files(dir: &Path) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    let mut total = 0u64;
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in
            std::fs::read_dir(&d).with_context(|| format!("cannot read {}", d.display()))?
        {
            let entry = entry?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let ft = entry.file_type()?;
            if ft.is_dir() {
                if !SKIP_DIRS.contains(&name.as_str()) {
                    stack.push(path);
                }
            } else if ft.is_file() {
                let bytes = std::fs::read(&path)?;
                total += bytes.len() as u64;
                anyhow::ensure!(
                    total <= MAX_CODE_BYTES,
                    "{} holds more than 200 MB of files; a code job should hold code (log data as artifacts)",
                    dir.display()
                );
                let rel = path
                    .strip_prefix(dir)
                    .unwrap_or(&path)
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((rel, bytes));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    anyhow::ensure!(!out.is_empty(), "{} has no files", dir.display());
    Ok(out)
}

/// A default entry point for a code directory: train.py, main.py, or its only .py file.
pub fn guess_entry_point(dir: &Path) -> anyhow::Result<Vec<String>> {
    for f in ["train.py", "main.py"] {
        if dir.join(f).is_file() {
            return Ok(vec!["python".into(), f.into()]);
        }
    }
    let py: Vec<String> = std::fs::read_dir(dir)?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".py"))
        .collect();
    match py.as_slice() {
        [one] => Ok(vec!["python".into(), one.clone()]),
        _ => anyhow::bail!(
            "cannot tell how to run {}: pass --entry-point, e.g. -E 'python train.py'",
            dir.display()
        ),
    }
}

fn python_runtime() -> String {
    std::process::Command::new("python3")
        .arg("-c")
        .arg("import sys; print(f'{sys.version_info[0]}.{sys.version_info[1]}')")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "3".into())
}

fn empty_types() -> Value {
    json!({"wb_type": "typedDict", "params": {"type_map": {}}})
}

/// What can be checked of a job before anything is sent: its code's
/// directory and build settings, a git job's entry point.
pub fn check_new_job(j: &NewJob) -> anyhow::Result<()> {
    check_name(j)?;
    match &j.source {
        JobSource::Code(dir) => check_code(j, dir).map(drop),
        JobSource::Git { .. } => {
            anyhow::ensure!(
                j.entry_point.is_some(),
                "a git job needs --entry-point, e.g. -E 'python train.py'"
            );
            Ok(())
        }
        JobSource::Image(_) => Ok(()),
    }
}

fn check_name(j: &NewJob) -> anyhow::Result<()> {
    match j
        .name
        .as_deref()
        .and_then(liftoff_model::job::job_name_problem)
    {
        Some(problem) => anyhow::bail!("job name {:?}: {problem}", j.name.as_deref().unwrap_or("")),
        None => Ok(()),
    }
}

/// A code job's directory (canonical), once its build settings name what
/// is there: one that does not would fail only when an agent builds the job.
fn check_code(j: &NewJob, dir: &Path) -> anyhow::Result<PathBuf> {
    let dir = dir
        .canonicalize()
        .with_context(|| format!("{} does not exist", dir.display()))?;
    let context = j
        .build_context
        .as_ref()
        .map_or(dir.clone(), |c| dir.join(c));
    if let Some(c) = &j.build_context {
        anyhow::ensure!(
            context.is_dir(),
            "--build-context {c:?}: there is no such directory in {}",
            dir.display()
        );
    }
    if let Some(d) = &j.dockerfile {
        anyhow::ensure!(
            context.join(d).is_file() || dir.join(d).is_file(),
            "--dockerfile {d:?}: there is no such file in {}",
            context.display()
        );
    }
    Ok(dir)
}

/// Create (or reuse) the job; answers the version made,
/// `entity/project/name:vN` (`:latest` when the server does not say).
pub async fn create_job(client: &Client<NativeTransport>, j: &NewJob) -> anyhow::Result<String> {
    check_name(j)?;
    let metadata = match &j.schema {
        Some(s) => json!({"input_schemas": {"@wandb.config": s}}),
        None => json!({"_partial": true}),
    };
    let mut aliases = j.aliases.clone();
    let runtime = j.runtime.clone().unwrap_or_else(python_runtime);
    let (name, job_json, mut files) = match &j.source {
        JobSource::Image(image) => {
            let (default_name, tag) = image_job_name(image);
            if let Some(t) = tag
                .filter(|t| liftoff_model::job::artifact_safe_name(t) == *t && !t.starts_with('v'))
            {
                aliases.push(t);
            }
            let mut source = json!({"image": image});
            if let Some(ep) = &j.entry_point {
                source["entrypoint"] = json!(ep);
            }
            let doc = json!({"_version": "v0", "source_type": "image", "source": source, "input_types": empty_types(), "output_types": empty_types(), "runtime": ""});
            (j.name.clone().unwrap_or(default_name), doc, vec![])
        }
        JobSource::Code(dir) => {
            let dir = check_code(j, dir)?;
            let entry = match &j.entry_point {
                Some(e) => e.clone(),
                None => {
                    let e = guess_entry_point(&dir)?;
                    crate::warn_line!(
                        "note: running the job with `{}` (pass --entry-point to choose)",
                        e.join(" ")
                    );
                    e
                }
            };
            let base = artifact_safe_name(
                &dir.file_name()
                    .map_or("code".into(), |n| n.to_string_lossy().into_owned()),
            );
            let code_files = code_files(&dir)?;
            // (With a build context the image's working dir may be another.)
            if let Some(warning) =
                missing_script(&entry, &code_files).filter(|_| j.build_context.is_none())
            {
                crate::warn_line!("warning: {warning}");
            }
            let code = client
                .upload_version(&NewVersion {
                    entity: j.entity.clone(),
                    project: j.project.clone(),
                    name: format!("code-{base}"),
                    type_name: "code".into(),
                    aliases: vec![],
                    description: Some("Code artifact for job".into()),
                    metadata: Some(
                        json!({"codePath": dir.display().to_string(), "entrypoint": entry.last()}),
                    ),
                    files: code_files.clone(),
                })
                .await
                .context("cannot upload the code")?;
            let mut source = json!({"artifact": format!("{}{}", liftoff_model::job::ARTIFACT_ID_PREFIX, code.id), "entrypoint": entry, "notebook": false});
            for (k, v) in [
                ("build_context", &j.build_context),
                ("dockerfile", &j.dockerfile),
                ("base_image", &j.base_image),
            ] {
                if let Some(v) = v {
                    source[k] = json!(v);
                }
            }
            let doc = json!({"_version": "v0", "source_type": "artifact", "source": source, "input_types": empty_types(), "output_types": empty_types(), "runtime": runtime});
            let reqs: Vec<(String, Vec<u8>)> = code_files
                .into_iter()
                .filter(|(n, _)| n == "requirements.txt")
                .map(|(_, b)| ("requirements.frozen.txt".to_owned(), b))
                .collect();
            (j.name.clone().unwrap_or(format!("job-{base}")), doc, reqs)
        }
        JobSource::Git { url, commit } => {
            let commit = git_source(
                url,
                commit.as_deref(),
                j.build_context.as_deref(),
                j.dockerfile.as_deref(),
            )?;
            let entry = j
                .entry_point
                .clone()
                .context("a git job needs --entry-point, e.g. -E 'python train.py'")?;
            let program = entry
                .iter()
                .find(|w| w.ends_with(".py"))
                .cloned()
                .unwrap_or_else(|| entry.join("_"));
            let mut source = json!({"git": {"remote": url, "commit": commit}, "entrypoint": entry, "notebook": false});
            for (k, v) in [
                ("build_context", &j.build_context),
                ("dockerfile", &j.dockerfile),
                ("base_image", &j.base_image),
            ] {
                if let Some(v) = v {
                    source[k] = json!(v);
                }
            }
            let version = if j.build_context.is_some() || j.dockerfile.is_some() {
                "0.17.0"
            } else {
                "v0"
            };
            let doc = json!({"_version": version, "source_type": "repo", "source": source, "input_types": empty_types(), "output_types": empty_types(), "runtime": runtime});
            (
                j.name
                    .clone()
                    .unwrap_or_else(|| artifact_safe_name(&format!("job-{url}_{program}"))),
                doc,
                vec![],
            )
        }
    };
    files.insert(
        0,
        (
            "wandb-job.json".into(),
            serde_json::to_vec_pretty(&job_json)?,
        ),
    );
    let up = client
        .upload_version(&NewVersion {
            entity: j.entity.clone(),
            project: j.project.clone(),
            name: name.clone(),
            type_name: "job".into(),
            aliases,
            description: j.description.clone(),
            metadata: Some(metadata),
            files,
        })
        .await
        .context("cannot create the job")?;
    let full = format!("{}/{}/{name}:latest", j.entity, j.project);
    // Which version this is (`name:v2`, as wandb says), when the server tells.
    let version = client
        .call(ArtifactByID { id: up.id.clone() })
        .await
        .ok()
        .and_then(|a| a.version_index);
    let shown = match version {
        Some(v) => format!("{}/{}/{name}:v{v}", j.entity, j.project),
        None => full.clone(),
    };
    if up.unchanged {
        // As on W&B, the same contents give back that version, and the
        // aliases (`latest` among them) move to it.
        crate::out!(
            "No changes to job: {shown} (the same contents as that version, which is `latest` now; an alias or input schema given here is set on it)"
        );
    } else {
        crate::out!("Created job: {shown}");
    }
    // The version made, pinned (`name:v2`): what launch pushes runs this
    // code even when a later launch moves `latest` before an agent takes it
    // (as `wandb launch --uri` pushes). `latest` only when the server did
    // not say which version it is.
    Ok(shown)
}

/// The commit a git job runs (`commit`, else the remote's HEAD), as a
/// full hash, once the repository is read (a clone without file contents):
/// a commit, build context or Dockerfile that is not there is refused here,
/// not by the agent that fetches the job, and no job version is made.
fn git_source(
    url: &str,
    commit: Option<&str>,
    build_context: Option<&str>,
    dockerfile: Option<&str>,
) -> anyhow::Result<String> {
    let tmp = tempfile::tempdir().context("cannot make a temporary directory")?;
    let repo = tmp.path().join("repo.git");
    // (At a terminal, git may ask for a private repository's credentials.)
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(tmp.path())
            .args(args)
            .output()
            .context("cannot run git (is it installed?)")
    };
    let repo_arg = repo.to_string_lossy();
    let out = git(&[
        "clone",
        "--quiet",
        "--bare",
        "--filter=blob:none",
        "--",
        url,
        &repo_arg,
    ])?;
    anyhow::ensure!(
        out.status.success(),
        "cannot read the git repository {url}: {}",
        String::from_utf8_lossy(&out.stderr).trim()
    );
    let in_repo = |args: &[&str]| {
        let mut all = vec!["--git-dir", repo_arg.as_ref()];
        all.extend_from_slice(args);
        git(&all)
    };
    let wanted = commit.unwrap_or("HEAD");
    anyhow::ensure!(
        !wanted.starts_with('-'),
        "--git-hash {wanted:?} is not a commit"
    );
    let out = in_repo(&[
        "rev-parse",
        "--verify",
        "--quiet",
        &format!("{wanted}^{{commit}}"),
    ])?;
    let sha = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    anyhow::ensure!(
        out.status.success() && !sha.is_empty(),
        "{} is not a commit of {url}{}",
        match commit {
            Some(c) => format!("--git-hash {c:?}"),
            None => "HEAD".into(),
        },
        if commit.is_some() {
            " (give a commit hash, a branch or a tag the repository has)"
        } else {
            " (it has no commits?); pass --git-hash"
        }
    );
    let kind = |path: &str| {
        in_repo(&["cat-file", "-t", &format!("{sha}:{path}")])
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    let short = &sha[..sha.len().min(12)];
    // Paths as git names them in a tree: `./sub/` is `sub`, `.` the top.
    let tree_path = |flag: &str, p: &str| -> anyhow::Result<String> {
        let parts: Vec<&str> = p
            .split('/')
            .filter(|c| !c.is_empty() && *c != ".")
            .collect();
        anyhow::ensure!(
            !parts.contains(&".."),
            "{flag} {p:?} must be a path inside the repository (no '..')"
        );
        Ok(parts.join("/"))
    };
    let context = build_context
        .map(|c| tree_path("--build-context", c))
        .transpose()?
        .unwrap_or_default();
    if let Some(c) = build_context {
        anyhow::ensure!(
            context.is_empty() || kind(&context).as_deref() == Some("tree"),
            "--build-context {c:?}: there is no such directory in {url} at {short}"
        );
    }
    if let Some(d) = dockerfile {
        let file = tree_path("--dockerfile", d)?;
        let in_context = [context.as_str(), file.as_str()]
            .into_iter()
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join("/");
        anyhow::ensure!(
            [in_context, file]
                .iter()
                .any(|p| kind(p).as_deref() == Some("blob")),
            "--dockerfile {d:?}: there is no such file in {url} at {short}"
        );
    }
    Ok(sha)
}

/// The directory a code job is made from, checked before the server is asked.
pub fn code_dir(path: &str, what: &str) -> anyhow::Result<PathBuf> {
    let dir = PathBuf::from(path);
    anyhow::ensure!(
        dir.is_dir(),
        "{what} {path:?}: {} (a code job is made from a directory of code, e.g. .)",
        if dir.exists() {
            "is not a directory"
        } else {
            "no such directory"
        }
    );
    Ok(dir)
}

pub fn project_or_default(project: Option<String>) -> String {
    project.filter(|p| !p.is_empty()).unwrap_or_else(|| {
        crate::warn_line!("note: no --project (or WANDB_PROJECT): using \"uncategorized\"");
        "uncategorized".into()
    })
}

pub async fn run(cmd: JobCommand) -> anyhow::Result<()> {
    match cmd {
        JobCommand::Create {
            kind,
            path,
            project,
            entity,
            name,
            description,
            aliases,
            entry_point,
            git_hash,
            runtime,
            build_context,
            base_image,
            dockerfile,
            schema,
            conn: c,
        } => {
            let source = match kind.as_str() {
                "code" => JobSource::Code(code_dir(&path, "PATH")?),
                "git" => JobSource::Git {
                    url: path.clone(),
                    commit: git_hash,
                },
                "image" => {
                    liftoff_model::image::check_reference(&path).map_err(anyhow::Error::msg)?;
                    // As `wandb job create` says: nothing would read them.
                    for (flag, given) in [
                        ("--base-image/-B", base_image.is_some()),
                        ("--build-context", build_context.is_some()),
                        ("--dockerfile/-D", dockerfile.is_some()),
                        ("--git-hash/-g", git_hash.is_some()),
                    ] {
                        anyhow::ensure!(
                            !given,
                            "{flag} is for code and git jobs: an image job runs its image as it is (leave {flag} out, or build the image with it first)"
                        );
                    }
                    JobSource::Image(path.clone())
                }
                other => anyhow::bail!("unknown job kind {other:?}: use code, git or image"),
            };
            let entry_point = entry_point
                .as_deref()
                .map(shlex::split)
                .transpose()
                .map_err(anyhow::Error::msg)?;
            let schema = schema
                .as_deref()
                .map(|p| {
                    let value = crate::cmd::queue::read_config(p)
                        .with_context(|| format!("--schema {}", p.display()))?;
                    // A schema the launch forms could not read would be kept
                    // and then ignored (or worse, trusted).
                    if let Some(e) = liftoff_model::schema::input_schema_problem(&value) {
                        anyhow::bail!("--schema {}: {e}", p.display());
                    }
                    anyhow::Ok(value)
                })
                .transpose()?;
            let client = conn::client(&c)?;
            let entity = conn::entity(&client, entity.as_deref()).await?;
            let project = project
                .filter(|p| !p.is_empty())
                .context("--project is required (or set WANDB_PROJECT)")?;
            create_job(
                &client,
                &NewJob {
                    entity: entity.clone(),
                    project: project.clone(),
                    source,
                    name,
                    description,
                    aliases,
                    entry_point,
                    runtime,
                    build_context,
                    base_image,
                    dockerfile,
                    schema,
                },
            )
            .await?;
            crate::out!("Jobs of {entity}/{project}: liftoff job list -e {entity} -p {project}");
            Ok(())
        }
        JobCommand::List {
            project,
            entity,
            conn: c,
        } => {
            let client = conn::client(&c)?;
            let entity = conn::entity(&client, entity.as_deref()).await?;
            let project = project
                .filter(|p| !p.is_empty())
                .context("--project is required (or set WANDB_PROJECT)")?;
            let jobs = client
                .call(ArtifactOfType {
                    entity: entity.clone(),
                    project: project.clone(),
                    type_name: "job".into(),
                })
                .await?;
            if jobs.is_empty() {
                crate::out!("No jobs in {entity}/{project}.");
            }
            for j in jobs {
                crate::out!("{}", job_line(&j));
            }
            Ok(())
        }
        JobCommand::Describe { job, conn: c } => {
            let job_ref = JobRef::parse(&job).map_err(|e| anyhow::anyhow!("{e}"))?;
            let client = conn::client(&c)?;
            let fetched = client.fetch_job(&job_ref).await.map_err(|e| match e {
                liftoff_client::Error::NotFound { .. } => anyhow::anyhow!(
                    "job {job_ref} not found (or you may not see it); the jobs there: liftoff job list -e {} -p {}",
                    job_ref.entity,
                    job_ref.project
                ),
                e => e.into(),
            })?;
            crate::out!(
                "{} (version v{}, aliases: {})",
                job_ref,
                fetched.info.version_index.unwrap_or(0),
                fetched.info.aliases.join(", ")
            );
            if let Some(d) = fetched
                .info
                .description
                .as_deref()
                .filter(|d| !d.is_empty())
            {
                crate::out!("description: {d}");
            }
            let doc = serde_json::to_value(&fetched.spec)?;
            if let Some(o) = doc.as_object() {
                for (k, v) in o.iter().filter(|(k, _)| !k.starts_with('_')) {
                    crate::out!("{k}: {}", serde_json::to_string_pretty(v)?);
                }
            }
            // What the launch forms are drawn from (`--schema`).
            if let Some(schema) = fetched
                .info
                .metadata
                .get("input_schemas")
                .and_then(|s| s.get("@wandb.config"))
            {
                crate::out!("input schema: {}", serde_json::to_string_pretty(schema)?);
            }
            Ok(())
        }
    }
}

/// A script the entry point names (`python trian.py`) that is not among the
/// job's files: said at creation, not when an agent runs it and fails.
fn missing_script(entry: &[String], files: &[(String, Vec<u8>)]) -> Option<String> {
    const SCRIPTS: [&str; 4] = [".py", ".sh", ".R", ".jl"];
    // The program's first operand: after `-c CODE` or `-m MODULE` there is
    // no script, and a word with spaces is code for a shell, not a file.
    let script = entry
        .iter()
        .skip(1)
        .take_while(|t| *t != "-c" && *t != "-m")
        .find(|t| !t.starts_with('-'))
        .filter(|t| {
            !t.starts_with('/')
                && !t.contains(char::is_whitespace)
                && SCRIPTS.iter().any(|s| t.ends_with(s))
        })?;
    let wanted = script.trim_start_matches("./");
    if files.iter().any(|(name, _)| name == wanted) {
        return None;
    }
    let near = files
        .iter()
        .map(|(name, _)| (liftoff_model::config::edit_distance(name, wanted), name))
        .filter(|(distance, _)| *distance <= 2)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name);
    Some(format!(
        "the entry point `{}` runs {script}, which is not among the job's files{}",
        entry.join(" "),
        near.map_or(String::new(), |n| format!(" (did you mean {n}?)"))
    ))
}

/// `train -- 3 versions: v2 (latest, best), v1, v0`: newest first, each
/// version by its `vN` with its other aliases.
fn job_line(job: &liftoff_client::ops::artifacts::Collection) -> String {
    let index = |a: &str| a.strip_prefix('v').and_then(|n| n.parse::<u64>().ok());
    let mut versions: Vec<(Option<u64>, String)> = job
        .versions
        .iter()
        .map(|v| {
            let n = v.aliases.iter().find_map(|a| index(a));
            let others: Vec<&str> = v
                .aliases
                .iter()
                .map(String::as_str)
                .filter(|a| index(a).is_none())
                .collect();
            let text = match (n, others.is_empty()) {
                (Some(n), true) => format!("v{n}"),
                (Some(n), false) => format!("v{n} ({})", others.join(", ")),
                // Not committed yet (no `vN`): its state says why.
                (None, true) => format!("({})", v.state.to_lowercase()),
                (None, false) => format!("{} ({})", others.join(", "), v.state.to_lowercase()),
            };
            (n, text)
        })
        .collect();
    versions.sort_by_key(|v| std::cmp::Reverse(v.0));
    let count = versions.len();
    format!(
        "{} -- {count} version{}: {}",
        job.name,
        if count == 1 { "" } else { "s" },
        versions
            .into_iter()
            .map(|(_, t)| t)
            .collect::<Vec<_>>()
            .join(", ")
    )
}

#[cfg(test)]
mod tests {
    use liftoff_client::ops::artifacts::{Collection, VersionRef};

    use super::{job_line, missing_script};

    #[test]
    fn a_script_the_entry_point_names_must_be_among_the_files() {
        let files = vec![
            ("train.py".to_owned(), vec![]),
            ("lib/util.py".to_owned(), vec![]),
        ];
        let entry = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(
            missing_script(&entry("python train.py --lr 1"), &files),
            None
        );
        assert_eq!(missing_script(&entry("python ./train.py"), &files), None);
        assert_eq!(missing_script(&entry("python lib/util.py"), &files), None);
        assert_eq!(missing_script(&entry("python -m pkg.main"), &files), None);
        assert_eq!(
            missing_script(&entry("python -m pkg --cfg x.py"), &files),
            None
        );
        let sh_c = vec![
            "sh".to_owned(),
            "-c".to_owned(),
            "python other.py".to_owned(),
        ];
        assert_eq!(missing_script(&sh_c, &files), None);
        let spaced = vec!["python".to_owned(), "my script.py".to_owned()];
        assert_eq!(missing_script(&spaced, &files), None);
        assert_eq!(
            missing_script(&entry("python trian.py"), &files).as_deref(),
            Some(
                "the entry point `python trian.py` runs trian.py, which is not among the job's files (did you mean train.py?)"
            )
        );
        assert_eq!(
            missing_script(&entry("bash run.sh"), &files).as_deref(),
            Some("the entry point `bash run.sh` runs run.sh, which is not among the job's files")
        );
    }

    #[test]
    fn a_job_line_names_each_version_with_its_aliases_newest_first() {
        let version = |aliases: &[&str]| VersionRef {
            id: String::new(),
            state: "COMMITTED".into(),
            aliases: aliases.iter().map(|a| (*a).to_owned()).collect(),
        };
        let job = Collection {
            name: "train".into(),
            versions: vec![
                version(&["v0"]),
                version(&["v-two", "v1"]),
                version(&["latest", "v2", "second"]),
            ],
        };
        assert_eq!(
            job_line(&job),
            "train -- 3 versions: v2 (latest, second), v1 (v-two), v0"
        );
        let one = Collection {
            name: "x".into(),
            versions: vec![version(&["latest", "v0"])],
        };
        assert_eq!(job_line(&one), "x -- 1 version: v0 (latest)");
        let pending = Collection {
            name: "y".into(),
            versions: vec![
                version(&["latest", "v0"]),
                VersionRef {
                    state: "PENDING".into(),
                    ..version(&[])
                },
            ],
        };
        assert_eq!(
            job_line(&pending),
            "y -- 2 versions: v0 (latest), (pending)"
        );
    }
}
