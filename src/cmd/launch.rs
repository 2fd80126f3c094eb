//! `liftoff launch`: `wandb launch`'s flags; push to a queue, or run here.

use anyhow::Context as _;
use liftoff_agent::AgentOptions;
use liftoff_agent::runner::Outcome;
use liftoff_client::native::NativeTransport;
use liftoff_client::ops::artifacts::ArtifactMembershipByName;
use liftoff_client::ops::identity::Viewer;
use liftoff_client::ops::items::PushToRunQueueByName;
use liftoff_client::{Client, Error as ClientError};
use liftoff_model::config::AgentConfig;
use liftoff_model::push::merge_for_push;
use liftoff_model::spec::LaunchSpec;
use liftoff_model::template::summarize;
use liftoff_model::{Priority, ResourceType};
use serde_json::{Map, Value, json};

use crate::JobFailed;
use crate::cli::LaunchArgs;
use crate::cmd::job::{JobSource, NewJob, check_new_job, code_dir, create_job, project_or_default};
use crate::cmd::queue::{file_or_json, is_not_found, with_known_queues};
use crate::cmd::{conn, shlex};

const SPEC_EXAMPLE: &str = r#"'{"overrides": {"run_config": {"lr": 0.1}}}'"#;
const RESOURCE_ARGS_EXAMPLE: &str = r#"'{"local-container": {"env": ["LR=0.1"]}}'"#;
const SPEC_YAML_EXAMPLE: &str = "'overrides: {run_config: {lr: 0.1}}'";
const RESOURCE_ARGS_YAML_EXAMPLE: &str = "'local-container: {memory: 2g}'";

/// `--async`: `liftoff launch --config SPEC` with the spec built here
/// (everything checked, a `--uri` job already created), in its own process
/// group (a Ctrl-C here does not stop it), with this connection, its output
/// in a log file next to the spec.
fn run_in_background(
    client: &liftoff_client::Client<liftoff_client::native::NativeTransport>,
    spec: &LaunchSpec,
    work_dir: &std::path::Path,
) -> anyhow::Result<()> {
    let dir = work_dir.join("logs");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    let base = dir.join(format!("launch-{stamp}-{}", std::process::id()));
    let (spec_path, log_path) = (base.with_extension("spec.json"), base.with_extension("log"));
    let create = |p: &std::path::Path| {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(p)
            .with_context(|| format!("cannot create {}", p.display()))
    };
    serde_json::to_writer_pretty(create(&spec_path)?, &spec.to_value())?;
    let log = create(&log_path)?;
    let exe = std::env::current_exe()
        .context("cannot find the liftoff binary to run in the background")?;
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("launch")
        .arg("--config")
        .arg(&spec_path)
        .env("WANDB_BASE_URL", client.base_url())
        .env("WANDB_API_KEY", &client.credentials().api_key)
        .env("LIFTOFF_AGENT_DIR", work_dir)
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone().context("cannot share the log file")?)
        .stderr(log);
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let child = cmd.spawn().context("cannot start the background launch")?;
    crate::note!(
        "Running in the background (pid {}); its output goes to {}",
        child.id(),
        log_path.display()
    );
    Ok(())
}

fn looks_like_git(uri: &str) -> bool {
    uri.starts_with("git@")
        || uri.starts_with("file://")
        || uri.starts_with("ssh://")
        || uri.ends_with(".git")
        || ((uri.starts_with("https://") || uri.starts_with("http://"))
            && !std::path::Path::new(uri).exists())
}

pub async fn run(a: LaunchArgs) -> anyhow::Result<()> {
    // Validate everything local before talking to the server.
    let base = match &a.config {
        Some(c) => file_or_json(c, "--config", SPEC_EXAMPLE, SPEC_YAML_EXAMPLE)?,
        None => json!({}),
    };
    let entry_point = a
        .entry_point
        .as_deref()
        .map(shlex::split)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--entry-point: {e}"))?;
    let priority = a
        .priority
        .as_deref()
        .map(str::parse::<Priority>)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--priority: {e}"))?;
    anyhow::ensure!(
        a.project_queue == liftoff_model::LAUNCH_PROJECT,
        "--project-queue {:?}: queues live in project {:?} (as on W&B); leave --project-queue out",
        a.project_queue,
        liftoff_model::LAUNCH_PROJECT
    );
    if a.uri.is_none() {
        // They shape the job made from --uri; a --job or an image has its own.
        for (flag, given) in [
            ("--base-image", a.base_image.is_some()),
            ("--git-hash (-g, --git-version)", a.git_hash.is_some()),
            ("--build-context", a.build_context.is_some()),
            ("--job-name", a.job_name.is_some()),
        ] {
            if given {
                crate::warn_line!(
                    "warning: {flag} is used only with --uri (to make the job); it is ignored here"
                );
            }
        }
    }
    if a.queue.is_none() {
        anyhow::ensure!(priority.is_none(), "--priority needs --queue");
        anyhow::ensure!(a.set_var.is_empty(), "--set-var needs --queue");
    }
    let mut template_values = Map::new();
    for kv in &a.set_var {
        let (k, v) = kv
            .split_once('=')
            .with_context(|| format!("--set-var {kv:?}: write KEY=VALUE"))?;
        template_values.insert(k.trim().to_owned(), Value::String(v.to_owned()));
    }
    if let Some(r) = &a.resource {
        r.parse::<liftoff_model::ResourceType>()
            .map_err(|e| anyhow::anyhow!("--resource: {e}"))?;
    }
    let mut spec = LaunchSpec::from_value(base).map_err(|e| anyhow::anyhow!("--config: {e}"))?;
    // A typo would be pushed and ignored, losing what it was meant to set.
    if let Some((key, meant)) = spec.likely_typos().into_iter().next() {
        anyhow::bail!("--config: unknown key `{key}` in the launch spec; did you mean `{meant}`?");
    }
    // Other keys pass as they are (W&B may add some), but a setting put
    // at the top (`memory: 2g`) would be ignored: said.
    let unknown = spec.unread_keys();
    if !unknown.is_empty() {
        crate::warn_line!(
            "warning: --config: `{}` is not a launch spec key and will be ignored by the agent (the keys are job, overrides, resource_args, docker, entity, project...; a resource's settings go under resource_args or in --resource-args)",
            unknown.join("`, `")
        );
    }
    // As wandb's launch_add: the spec's template_variables are the push's,
    // under those of --set-var.
    if let Some(from_spec) = spec.template_variables.take() {
        for (k, v) in from_spec {
            template_values.entry(k).or_insert(v);
        }
    }
    // What belongs to the push, not the spec: kept in the spec as given,
    // but it does not choose anything.
    for (key, flag) in [
        ("queue", "--queue"),
        ("queue_name", "--queue"),
        ("priority", "--priority"),
        ("project_queue", "--project-queue"),
    ] {
        if spec.extra.contains_key(key) {
            crate::warn_line!(
                "warning: --config: `{key}` is not part of a launch spec and chooses nothing here: use {flag}"
            );
        }
    }
    // The image is checked here, before any call: a bad one would fail on the
    // agent. `--docker-image` replaces the config's, so only it is checked then.
    let image = match a.docker_image.as_deref() {
        Some(image) => Some(("--docker-image", image)),
        None => spec.docker_image().map(|image| ("--config", image)),
    };
    if let Some((flag, image)) = image {
        liftoff_model::image::check_reference(image).map_err(|e| anyhow::anyhow!("{flag}: {e}"))?;
    }

    if let Some(r) = &a.resource_args {
        spec.resource_args = Some(resource_args(r, a.resource.as_deref())?);
    }
    if a.build {
        anyhow::ensure!(
            a.uri.is_some() || a.job.is_some() || spec.job.is_some(),
            "--build builds a job's image: pass --uri PATH (with --entry-point) or --job"
        );
        anyhow::ensure!(
            a.resource.as_deref().or(spec.resource()) != Some("local-process"),
            "--build makes an image, which local-process cannot run: use --resource local-container or kubernetes, or leave --build out"
        );
    }
    if let Some(repo) = &a.repository {
        liftoff_model::image::check_repository(repo)
            .map_err(|e| anyhow::anyhow!("--repository {repo:?}: {e}"))?;
    }

    for (flag, project) in [("--project", &a.project), ("--config", &spec.project)] {
        if let Some(problem) = project
            .as_deref()
            .filter(|p| !p.is_empty())
            .and_then(liftoff_model::spec::project_name_problem)
        {
            anyhow::bail!("{flag}: {problem}");
        }
    }

    // A local --uri is checked before the server is asked.
    let code = a
        .uri
        .as_deref()
        .filter(|u| !looks_like_git(u))
        .map(|u| code_dir(u, "--uri"))
        .transpose()?;
    let client = conn::client(&a.conn)?;
    let entity = conn::entity(&client, a.entity.as_deref().or(spec.entity.as_deref())).await?;
    let project = a
        .project
        .clone()
        .or_else(|| spec.project.clone())
        .filter(|p| !p.is_empty());
    let liftoff = conn::is_liftoff(&client).await;
    // --resource-args replaces the spec's; without it they are -c's.
    let from = if a.resource_args.is_some() {
        "--resource-args"
    } else {
        "--config (its resource_args)"
    };
    for (resource, options) in spec.resource_args.iter().flatten() {
        if let Ok(r) = resource.parse::<liftoff_model::ResourceType>() {
            conn::check_resource_options(&client, Some(liftoff), from, r, options).await?;
        }
    }
    // The job a --uri makes, checked before anything is asked of the server.
    let new_job = match &a.uri {
        Some(uri) => {
            let job = NewJob {
                entity: entity.clone(),
                project: project_or_default(project.clone()),
                source: match code {
                    Some(dir) => JobSource::Code(dir),
                    None => JobSource::Git {
                        url: uri.clone(),
                        commit: a.git_hash.clone(),
                    },
                },
                name: a.job_name.clone(),
                description: None,
                aliases: vec![],
                entry_point: entry_point.clone(),
                runtime: None,
                build_context: a.build_context.clone(),
                base_image: a.base_image.clone(),
                dockerfile: a.dockerfile.clone(),
                schema: None,
            };
            check_new_job(&job)?;
            Some(job)
        }
        None => None,
    };
    // Everything the push would refuse is asked before a --uri job is made
    // or an image built: a refused launch leaves no new job version behind.
    let queue_entity = spec.queue_entity.clone().unwrap_or_else(|| entity.clone());
    if let Some(queue) = &a.queue
        && (a.uri.is_some() || a.build)
    {
        let check = Preflight {
            entity: &queue_entity,
            project: &a.project_queue,
            queue,
            priority,
            template_values: &template_values,
            build: a.build,
            resource: a.resource.as_deref(),
            liftoff,
        };
        check.run(&client, &spec).await?;
    }
    if let Some(new_job) = &new_job {
        spec.job = Some(create_job(&client, new_job).await?);
        spec.project = Some(new_job.project.clone());
    } else if let Some(job) = &a.job {
        // `project/name[:alias]` is a job of the launch entity, as wandb reads it.
        let job = if job.matches('/').count() == 1 {
            format!("{entity}/{job}")
        } else {
            job.clone()
        };
        liftoff_model::spec::JobRef::parse(&job).map_err(|e| anyhow::anyhow!("--job: {e}"))?;
        spec.job = Some(job);
    }
    if let Some(image) = &a.docker_image {
        spec.docker
            .get_or_insert_with(Default::default)
            .docker_image = Some(image.clone());
    }
    spec.entity = Some(entity.clone());
    if spec.project.is_none() {
        spec.project = project.or_else(|| {
            spec.job
                .as_deref()
                .and_then(|j| liftoff_model::spec::JobRef::parse(j).ok())
                .map(|j| j.project)
        });
    }
    // An image or a command with no project: said, as for --uri (the run
    // would land in "uncategorized" all the same).
    if spec.project.is_none() && spec.job.is_none() {
        spec.project = Some(project_or_default(None));
    }
    if let Some(n) = &a.name {
        spec.name = Some(n.clone());
    }
    if let Some(r) = &a.resource {
        spec.resource = Some(Some(r.clone()));
    }
    let mut overrides = spec.overrides();
    if let (Some(ep), None) = (&entry_point, &a.uri) {
        overrides.entry_point = Some(ep.clone());
    }
    if let Some(d) = &a.dockerfile {
        overrides.dockerfile = Some(d.clone());
    }
    spec.overrides = Some(overrides);
    spec.docker.get_or_insert_with(Default::default);
    spec.git.get_or_insert_with(Default::default);
    spec.validate_source()
        .map_err(|e| anyhow::anyhow!("{e}: use --uri, --job, --docker-image, or --entry-point"))?;

    match &a.queue {
        Some(queue) => {
            if let (Some(job), None) = (spec.job.as_deref(), &a.uri) {
                job_exists(&client, job, "pushed").await?;
            }
            if a.build {
                build_image_job(&client, &a, &mut spec).await?;
            }
            // As `wandb launch`: the item's author is the caller (shown on the queue page).
            if spec.author.is_none() {
                let viewer = client.call(Viewer).await?;
                spec.author = Some(viewer.username).filter(|u| !u.is_empty());
            }
            let mut push = PushToRunQueueByName::new(queue_entity.clone(), queue.clone(), spec);
            push.project = a.project_queue.clone();
            push.priority = priority;
            push.template_values = (!template_values.is_empty()).then_some(template_values);
            let pushed = client.call(push).await?;
            crate::note!(
                "Pushed item {} to queue {queue} in {queue_entity}.",
                pushed.item_id
            );
            if let Some(merged) = pushed.run_spec {
                crate::note!(
                    "Launch spec (as the queue will run it):\n{}",
                    serde_json::to_string_pretty(&merged.to_value())?
                );
            }
            // W&B's queue pages are by queue id: its Launch page lists them.
            let web = liftoff_client::url::web_url(client.base_url());
            let page = if liftoff_client::url::is_wandb_api(client.base_url()) {
                format!("{web}/launch")
            } else {
                format!(
                    "{web}{}",
                    liftoff_model::route::path(&["launch", &queue_entity, queue])
                )
            };
            crate::note!("Watch it: liftoff queue show {queue} -e {queue_entity}   (or {page})");
            Ok(())
        }
        None => {
            // Run here: an image needs a container engine; the rest runs as a process.
            let fallback = if spec.docker_image().is_some() {
                "local-container"
            } else {
                "local-process"
            };
            let resource = spec.resource().unwrap_or(fallback).to_owned();
            spec.resource = Some(Some(resource.clone()));
            if resource == "local-process" && a.dockerfile.is_some() {
                crate::warn_line!(
                    "warning: --dockerfile is for a container build, which a local-process run does not make: it runs the code as a process here (pass --resource local-container to build the image and run it)"
                );
            }
            // Before a run is made for it.
            if let (Some(job), None) = (spec.job.as_deref(), &a.uri) {
                job_exists(&client, job, "run").await?;
            }
            let work_dir = crate::cmd::agent::work_dir(a.work_dir.clone());
            // Where its run's page is (the project may come from the job).
            let run_pages = spec.project.clone().map(|p| {
                format!(
                    "{}{}/",
                    liftoff_client::url::web_url(client.base_url()),
                    liftoff_model::route::path(&[&entity, &p, "runs"])
                )
            });
            if a.in_background {
                return run_in_background(&client, &spec, &work_dir);
            }
            let mut opts = AgentOptions::new(
                entity.clone(),
                AgentConfig {
                    entity: Some(entity),
                    ..Default::default()
                },
                work_dir,
            );
            opts.echo_jobs = true;
            crate::note!("Running here with {resource} (no --queue).");
            let (run_id, result) = liftoff_agent::agent::run_direct(client, opts, spec).await;
            match result {
                Ok(Outcome::Exited(0)) => {
                    match run_pages {
                        Some(pages) => crate::note!("Run {run_id} finished: {pages}{run_id}"),
                        None => crate::note!("Run {run_id} finished."),
                    }
                    Ok(())
                }
                Ok(Outcome::Exited(code)) => Err(JobFailed(format!(
                    "run {run_id} failed: the job exited with code {code}"
                ))
                .into()),
                Ok(Outcome::Signaled(s)) => {
                    Err(JobFailed(format!("run {run_id} crashed: killed by {s}")).into())
                }
                Ok(Outcome::Stopped) => Err(JobFailed(format!("run {run_id} was stopped")).into()),
                Err(e) => Err(JobFailed(format!(
                    "run {run_id} failed ({}): {}",
                    e.stage.as_str(),
                    without_echoed_output(&e.message)
                ))
                .into()),
            }
        }
    }
}

/// A failure's message without the output it quotes, which a run here has
/// just printed: its first line, saying the output is above.
fn without_echoed_output(message: &str) -> String {
    let head = message
        .split_once("; last output:")
        .map_or(message, |(head, _)| head);
    let first = head
        .lines()
        .next()
        .unwrap_or_default()
        .trim_end_matches(':');
    if first.len() < message.trim_end().len() {
        format!("{first} (its output is above)")
    } else {
        first.to_owned()
    }
}

/// `--resource-args`, read and shaped: keyed by resource (the bare args of
/// `--resource`), each a mapping of options.
fn resource_args(text: &str, resource: Option<&str>) -> anyhow::Result<Map<String, Value>> {
    let mut args = file_or_json(
        text,
        "--resource-args",
        RESOURCE_ARGS_EXAMPLE,
        RESOURCE_ARGS_YAML_EXAMPLE,
    )?;
    let keyed = args.as_object().is_some_and(|o| {
        o.keys()
            .all(|k| k.parse::<liftoff_model::ResourceType>().is_ok())
    });
    if !keyed {
        // A key that is a resource misspelled (every value a mapping):
        // said as such, not as args missing their resource.
        if let Some(o) = args
            .as_object()
            .filter(|o| o.values().all(Value::is_object))
            && let Some(typo) = o.keys().find(|k| {
                k.parse::<liftoff_model::ResourceType>().is_err()
                    && liftoff_model::queue::resource_meant(k).is_some()
            })
            && let Err(e) = typo.parse::<liftoff_model::ResourceType>()
        {
            anyhow::bail!("--resource-args: {e}");
        }
        // A launch spec given where its resource_args go.
        anyhow::ensure!(
            args.get("resource_args").is_none(),
            "--resource-args: this is a launch spec (it has a `resource_args` key): pass it with -c, or give --resource-args what is under that key"
        );
        let resource = resource.context("--resource-args must be keyed by resource ({\"local-container\": {...}}), or pass --resource")?;
        args = json!({ resource: args });
    }
    let Value::Object(args) = args else {
        anyhow::bail!("--resource-args must be a mapping");
    };
    // Each resource's args are a mapping of its options.
    if let Some((resource, bad)) = args.iter().find(|(_, v)| !v.is_object()) {
        anyhow::bail!(
            "--resource-args: the args of {resource} must be a mapping of options like {{\"memory\": \"2g\"}}, got {bad}"
        );
    }
    Ok(args)
}

/// What the push will check of the queue, asked first when something is
/// made before the push (a `--uri` job, a `--build` image): the queue is
/// there, takes the priority and the template values, and (for `--build`)
/// runs images.
struct Preflight<'a> {
    entity: &'a str,
    project: &'a str,
    queue: &'a str,
    priority: Option<Priority>,
    template_values: &'a Map<String, Value>,
    build: bool,
    /// `--resource`, not yet in the spec.
    resource: Option<&'a str>,
    /// A Liftoff server: its push rules are the model's, so all of them
    /// are checked; elsewhere only that the queue is there.
    liftoff: bool,
}

impl Preflight<'_> {
    async fn run(&self, client: &Client<NativeTransport>, spec: &LaunchSpec) -> anyhow::Result<()> {
        let queue = self.queue;
        // The queue's config, when it can be read (else not checked).
        let (meta, config) =
            match liftoff_client::loads::queue_config(client, self.entity, self.project, queue)
                .await
            {
                Ok(read) => read,
                Err(e) if is_not_found(&e) => {
                    let said = with_known_queues(client, self.entity, e).await;
                    anyhow::bail!("{said}. Nothing was made or pushed");
                }
                // Not checked (the push will say).
                Err(e) => {
                    tracing::debug!(error = %e, "cannot read the queue before the push");
                    return Ok(());
                }
            };
        if self.build
            && config
                .as_ref()
                .is_some_and(|c| c.resource == ResourceType::LocalProcess)
        {
            anyhow::bail!(
                "--build makes an image, but queue {queue} runs local-process jobs, which cannot run one: push to a local-container or kubernetes queue, or leave --build out"
            );
        }
        if !self.liftoff || (meta.default_resource_config_id.is_some() && config.is_none()) {
            return Ok(());
        }
        if self.priority.is_some_and(|p| p != Priority::Medium)
            && !meta.prioritization_mode.unwrap_or_default().enabled()
        {
            anyhow::bail!(
                "--priority: queue {queue:?} does not use priorities (prioritization is DISABLED); leave --priority out, or turn prioritization on (`liftoff queue update {queue} -e {} --prioritization on`, or its Config tab in the web app). Nothing was made or pushed",
                self.entity
            );
        }
        let mut merged = spec.clone();
        if let Some(r) = self.resource {
            merged.resource = Some(Some(r.to_owned()));
        }
        if let Err(problems) =
            merge_for_push(&mut merged, queue, config.as_ref(), self.template_values)
        {
            anyhow::bail!(
                "cannot push to queue {queue:?}: {}. Nothing was made or pushed",
                summarize(&problems)
            );
        }
        Ok(())
    }
}

/// `--build`: build the spec's job into an image here (pushed to
/// `--repository` when given), log an image job of it, and launch that.
async fn build_image_job(
    client: &Client<NativeTransport>,
    a: &LaunchArgs,
    spec: &mut LaunchSpec,
) -> anyhow::Result<()> {
    let name = spec.job.clone().context("--build needs a job")?;
    let job = liftoff_model::spec::JobRef::parse(&name).map_err(|e| anyhow::anyhow!("job: {e}"))?;
    let mut overrides = spec.overrides();
    // As the agent would build it: launch-config.yaml's runner.container_cli,
    // and its builder.destination unless --repository names one.
    let config = crate::cmd::agent::file_config(None)?;
    let repository = match &a.repository {
        Some(repo) => Some(repo.clone()),
        None => liftoff_agent::agent::image_destination(&config, spec)
            .map(|p| p.checked().map(str::to_owned))
            .transpose()
            .map_err(|e| anyhow::anyhow!("--build: {}", e.message))?,
    };
    let request = liftoff_agent::build::BuildRequest {
        job: job.clone(),
        dockerfile: overrides.dockerfile.clone(),
        entry_point: overrides.entry_point.clone(),
        repository,
        container_cli: config.runner_str("container_cli").map(str::to_owned),
        work_dir: crate::cmd::agent::work_dir(a.work_dir.clone()),
    };
    crate::note!("Building the image of {name} here (--build).");
    let built = liftoff_agent::build::build_job_image(client, &request)
        .await
        .map_err(|e| {
            // A failed command's output was printed as it ran; its first
            // line says which.
            let mut lines = e.message.lines();
            let first = lines.next().unwrap_or_default().trim_end_matches(':');
            let above = if lines.next().is_some() {
                " (its output is above)"
            } else {
                ""
            };
            // The job made from --uri stays (its version is the build's
            // input, as a job a queue would build).
            let kept = if a.uri.is_some() {
                format!(" (the job {name} made from --uri is kept: `liftoff launch --job {name} --build ...` tries again without making another)")
            } else {
                String::new()
            };
            anyhow::anyhow!("--build: {first}{above}; nothing was pushed or queued{kept}")
        })?;
    let image_job = create_job(
        client,
        &NewJob {
            entity: job.entity.clone(),
            project: job.project.clone(),
            source: JobSource::Image(built.image.clone()),
            name: None,
            description: Some(format!("{name}, built by liftoff launch --build")),
            aliases: vec![],
            entry_point: Some(built.entry_point).filter(|e| !e.is_empty()),
            runtime: None,
            build_context: None,
            base_image: None,
            dockerfile: None,
            schema: built.schema,
        },
    )
    .await?;
    crate::note!("Launching image job {image_job} ({}).", built.image);
    if request.repository.is_none() {
        crate::note!(
            "The image is on this machine only: agents elsewhere cannot pull it (pass --repository REGISTRY/NAME, or set builder.destination in launch-config.yaml, to push it)."
        );
    }
    // The Dockerfile is in the image now.
    overrides.dockerfile = None;
    spec.overrides = Some(overrides);
    spec.job = Some(image_job);
    Ok(())
}

/// Refuse to push (or run here) a job that is not there, or not a job;
/// `not_done` says what was not done ("pushed", "run"). (`wandb launch
/// --job J --queue Q` pushes first and looks the job up after, so a
/// misspelt job leaves an item that fails on the agent.) A lookup that
/// fails otherwise is not a refusal: the push or the run says it.
async fn job_exists(
    client: &Client<NativeTransport>,
    job: &str,
    not_done: &str,
) -> anyhow::Result<()> {
    let r = liftoff_model::spec::JobRef::parse(job).map_err(|e| anyhow::anyhow!("job: {e}"))?;
    let found = client
        .call(ArtifactMembershipByName {
            entity: r.entity.clone(),
            project: r.project.clone(),
            name: r.name_with_alias(),
        })
        .await;
    match found {
        Ok(info) if info.type_name == "job" => Ok(()),
        Ok(info) => anyhow::bail!(
            "{job} is a {:?} artifact, not a job; nothing was {not_done}",
            info.type_name
        ),
        Err(ClientError::NotFound { .. }) => anyhow::bail!(
            "job {job} not found, so nothing was {not_done}; see the jobs of {}/{} with `liftoff job list -e {} -p {}`",
            r.entity,
            r.project,
            r.entity,
            r.project
        ),
        // Not checked: what comes next (the push, the run) says it.
        Err(e) => {
            tracing::debug!(error = %e, "cannot look the job up");
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::looks_like_git;

    #[test]
    fn a_failure_said_after_its_output_does_not_repeat_it() {
        use super::without_echoed_output as cut;
        assert_eq!(
            cut(
                "the job exited with code 1: ValueError: x; last output:\nTraceback\nValueError: x"
            ),
            "the job exited with code 1: ValueError: x (its output is above)"
        );
        assert_eq!(
            cut("pip install failed (exit status: 1):\nERROR: no such package"),
            "pip install failed (exit status: 1) (its output is above)"
        );
        assert_eq!(
            cut("cannot run podman: not found"),
            "cannot run podman: not found"
        );
    }

    #[test]
    fn a_uri_is_a_repository_or_a_directory() {
        for git in [
            "git@github.com:wandb/launch-jobs.git",
            "https://github.com/wandb/launch-jobs",
            "file:///srv/repos/launch-jobs",
            "ssh://git@host/repo",
            "../repo.git",
        ] {
            assert!(looks_like_git(git), "{git}");
        }
        for dir in [".", "code", "/tmp/train"] {
            assert!(!looks_like_git(dir), "{dir}");
        }
    }
}
