//! `kubernetes`: the job becomes a Kubernetes `batch/v1` Job built from the
//! queue's `resource_args.kubernetes` the way W&B's agent builds it (spec
//! §5.3, `kubernetes_runner.py` `_inject_defaults`), with the job's API key
//! in a Secret of its own.
//!
//! What runs where:
//! * image jobs and `docker.docker_image` specs: the image on `containers[0]`;
//! * code and git jobs: no image is built (Liftoff has no image builder for
//!   clusters). Like W&B's agent without a builder, they run on a base image
//!   (the job's `base_image`, else `resource_args.kubernetes.builder.base_image`,
//!   else `python:3.12-slim` with the requirements installed at start) and an
//!   init container (`wandb/launch-agent:0.25.1`, which has `wandb` and `git`)
//!   downloads the code into an `emptyDir` mounted at `/mnt/wandb`;
//! * other `apiVersion`s (Volcano, JobSet, ...): created as custom objects
//!   (plural = lower-case kind + `s`) with env, labels and command/args
//!   overrides applied to every container. Their state is read from
//!   `status.state.phase` or `status.conditions`.
//!
//! Not supported (the job fails with a message that says so):
//! `additional_services`; registry pull secrets (`regcred-<run id>`); the
//! code PVC (`WANDB_LAUNCH_CODE_PVC_NAME`); requeueing preempted runs (a
//! preempted job ends as crashed).
//!
//! Watching polls the Job (or custom object) and its pods every
//! `poll_interval` (W&B watches; a poll per job is simpler and enough for an
//! agent running a few jobs): a pod that cannot be scheduled or pull its
//! image becomes a warning on the item; the first pod's first container's
//! log is streamed into the job's log; a Job `Complete` ends with code 0,
//! `Failed` with the container's exit code (1 when unknown); a pod disrupted
//! by preemption or eviction ends the job as killed by preemption. Stopping
//! deletes the Job (background propagation) and the Secret.

use std::collections::HashSet;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use futures::{AsyncBufReadExt as _, StreamExt as _};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Pod, Secret};
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, LogParams,
    PostParams,
};
use liftoff_model::job::SourceType;
use liftoff_model::resource_args::check_kubernetes;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;

use crate::log::JobLog;
use crate::runner::container::DEFAULT_BASE_IMAGE;
use crate::runner::{
    JobContext, Outcome, Runner, StageError, Warning, Workload, is_loopback, python_command,
};

pub const LABEL_RUN_ID: &str = "wandb.ai/run-id";
pub const LABEL_MONITOR: &str = "wandb.ai/monitor";
pub const LABEL_AGENT: &str = "wandb.ai/agent";
pub const LABEL_CREATED_BY: &str = "wandb.ai/created-by";
/// Where base-image jobs find their code.
pub const CODE_MOUNT_DIR: &str = "/mnt/wandb";
pub const CODE_VOLUME: &str = "wandb-source-code-volume";
pub const CODE_INIT_CONTAINER: &str = "wandb-source-code-init";
/// The image W&B's agent uses to fetch code (it has `wandb` and `git`).
pub const CODE_INIT_IMAGE: &str = "wandb/launch-agent:0.25.1";
/// The stage W&B gives Kubernetes warnings.
pub const WARNING_STAGE: &str = "Kubernetes";

const CONTAINER_KEYS: [&str; 3] = ["containers", "initContainers", "ephemeralContainers"];
/// Container waits that will not resolve by themselves.
const STUCK_REASONS: &[&str] = &[
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
];
const PREEMPTION_REASONS: &[&str] = &[
    "EvictionByEvictionAPI",
    "PreemptionByScheduler",
    "TerminationByKubelet",
];

/// The `securityContext` the agent puts on every container (spec §4.10).
pub fn restricted_security_context() -> Value {
    json!({
        "allowPrivilegeEscalation": false,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"}
    })
}

/// What kind of object runs the job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WorkloadKind {
    Job,
    Custom {
        group: String,
        version: String,
        kind: String,
        plural: String,
    },
}

impl WorkloadKind {
    fn api_resource(&self) -> ApiResource {
        match self {
            Self::Job => ApiResource::from_gvk_with_plural(
                &GroupVersionKind::gvk("batch", "v1", "Job"),
                "jobs",
            ),
            Self::Custom {
                group,
                version,
                kind,
                plural,
            } => ApiResource::from_gvk_with_plural(
                &GroupVersionKind::gvk(group, version, kind),
                plural,
            ),
        }
    }

    fn label(&self) -> &str {
        match self {
            Self::Job => "Job",
            Self::Custom { kind, .. } => kind,
        }
    }
}

/// Everything to create for one job, built without talking to a cluster.
#[derive(Clone, Debug)]
pub struct Plan {
    pub namespace: String,
    /// The API-key Secret, created before the workload.
    pub secret: Option<Value>,
    /// The Job or custom object.
    pub workload: Value,
    pub kind: WorkloadKind,
    /// Decisions worth a line in the job's log.
    pub notes: Vec<String>,
}

impl Plan {
    /// The namespace and manifests as one JSON value (the tests' snapshots).
    pub fn to_value(&self) -> Value {
        json!({"namespace": self.namespace, "secret": self.secret, "workload": self.workload})
    }

    fn secret_name(&self) -> Option<String> {
        self.secret
            .as_ref()
            .and_then(|s| s["metadata"]["name"].as_str())
            .map(str::to_owned)
    }
}

/// How the job's code gets into the pod.
enum Source {
    /// An image that already holds the job.
    Image(String),
    /// Code fetched by an init container into a base image.
    BaseImage {
        image: String,
        install_requirements: bool,
        fetch: String,
    },
}

/// Build the manifests for `ctx` (spec §5.3). `agent` is the agent's name
/// (`None` for `liftoff launch` without a queue); `default_namespace` is the
/// agent config's `runner.namespace`, else the kube context's namespace.
pub fn plan(
    ctx: &JobContext,
    agent: Option<&str>,
    default_namespace: &str,
) -> Result<Plan, StageError> {
    let mut args = match &ctx.resource_args {
        Value::Null => Map::new(),
        Value::Object(m) => m.clone(),
        other => {
            return Err(StageError::agent(format!(
                "resource_args.kubernetes must be a Kubernetes manifest (a mapping), got {}",
                json_kind(other)
            )));
        }
    };
    check_kubernetes(&Value::Object(args.clone())).map_err(StageError::agent)?;
    if ctx
        .spec
        .additional_services
        .as_ref()
        .is_some_and(|s| !s.is_empty())
    {
        return Err(StageError::agent(
            "the spec has additional_services, which Liftoff's kubernetes runner does not create yet; create them in the cluster yourself and remove them from the spec",
        ));
    }
    // Keys W&B reads from resource_args that are not part of the manifest.
    let builder = args.shift_remove("builder");
    let legacy_namespace = args.shift_remove("namespace");
    args.shift_remove("wait_for_ready");
    args.shift_remove("wait_timeout");
    let namespace = args
        .get("metadata")
        .and_then(|m| m.get("namespace"))
        .and_then(Value::as_str)
        .or_else(|| legacy_namespace.as_ref().and_then(Value::as_str))
        .filter(|n| !n.is_empty())
        .unwrap_or(default_namespace)
        .to_owned();
    let mut notes = Vec::new();
    let source = source(ctx, builder.as_ref(), &mut notes)?;
    let api_key = ctx.env_value("WANDB_API_KEY").filter(|k| !k.is_empty());
    let secret_name = api_key.map(|_| format!("wandb-api-key-{}", dns_label(&ctx.run_id)));
    let env = env_entries(&ctx.env, secret_name.as_deref());
    let api_version = args
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("batch/v1");
    let (mut workload, kind) = if matches!(api_version, "batch/v1" | "batch/v1beta1") {
        (job_manifest(args, ctx, &source, env)?, WorkloadKind::Job)
    } else {
        let kind = custom_kind(&args)?;
        (custom_manifest(args, ctx, env), kind)
    };
    let object = workload
        .as_object_mut()
        .ok_or_else(|| StageError::agent("resource_args.kubernetes must be a mapping"))?;
    let metadata = object_entry(object, "metadata", "metadata")?;
    let labels = object_entry(metadata, "labels", "metadata.labels")?;
    labels.insert(LABEL_RUN_ID.into(), json!(label_value(&ctx.run_id)));
    labels.insert(LABEL_MONITOR.into(), json!("true"));
    if let Some(agent) = agent {
        labels.insert(LABEL_AGENT.into(), json!(label_value(agent)));
    }
    if metadata
        .get("name")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        let entity = ctx.env_value("WANDB_ENTITY").unwrap_or_default();
        let project = ctx.env_value("WANDB_PROJECT").unwrap_or_default();
        metadata.shift_remove("name");
        metadata.insert("generateName".into(), json!(generate_name(entity, project)));
    }
    metadata.insert("namespace".into(), json!(namespace));
    let mut pod_labels = vec![(LABEL_MONITOR, "true".to_owned())];
    if let Some(agent) = agent {
        pod_labels.push((LABEL_AGENT, label_value(agent)));
    }
    if kind != WorkloadKind::Job {
        // Liftoff finds a custom object's pods by this label (a Job's pods
        // carry `job-name`).
        pod_labels.push((LABEL_RUN_ID, label_value(&ctx.run_id)));
    }
    each_pod_template(&mut workload, &mut |template| {
        let labels = template
            .entry("metadata")
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .and_then(|m| {
                m.entry("labels")
                    .or_insert_with(|| json!({}))
                    .as_object_mut()
            });
        if let Some(labels) = labels {
            for (k, v) in &pod_labels {
                labels.insert((*k).into(), json!(v));
            }
        }
    });
    if let Source::BaseImage {
        install_requirements,
        fetch,
        ..
    } = &source
    {
        let base_url = ctx.env_value("WANDB_BASE_URL").unwrap_or_default();
        // W&B uses `overrides.working_dir`; Liftoff also honours the job's
        // build context, where its local runners start the entry point.
        let sub = ctx.spec.overrides().working_dir.or_else(|| {
            ctx.job
                .as_ref()
                .and_then(|j| j.source.build_context.clone())
        });
        let working_dir = match sub.as_deref().map(|d| d.trim_matches('/')) {
            Some(d) if !d.is_empty() && d != "." => format!("{CODE_MOUNT_DIR}/{d}"),
            _ => CODE_MOUNT_DIR.to_owned(),
        };
        each_pod_spec(&mut workload, &mut |pod| {
            mount_code(pod, &working_dir, *install_requirements, fetch, base_url);
        });
    }
    each_pod_spec(&mut workload, &mut |pod| {
        for key in CONTAINER_KEYS {
            for c in containers_mut(pod, key) {
                c.insert("securityContext".into(), restricted_security_context());
            }
        }
    });
    let secret = match (secret_name, api_key) {
        (Some(name), Some(key)) => Some(json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": namespace, "labels": {LABEL_CREATED_BY: "launch-agent"}},
            "type": "kubernetes.io/basic-auth",
            "data": {"password": base64::engine::general_purpose::STANDARD.encode(key)}
        })),
        _ => None,
    };
    Ok(Plan {
        namespace,
        secret,
        workload,
        kind,
        notes,
    })
}

fn source(
    ctx: &JobContext,
    builder: Option<&Value>,
    notes: &mut Vec<String>,
) -> Result<Source, StageError> {
    if let Some(image) = &ctx.image {
        return Ok(Source::Image(image.clone()));
    }
    let Some(job) = ctx
        .job
        .as_ref()
        .filter(|j| j.source_type != SourceType::Image)
    else {
        return Err(StageError::agent(
            "a kubernetes job needs an image or a job: push an image job, a spec with docker.docker_image, or a code or git job (plain commands run on local-process queues)",
        ));
    };
    let (image, install_requirements) = match &job.source.base_image {
        Some(image) => (image.clone(), false),
        None => {
            let from_builder = builder
                .and_then(|b| b.get("base_image"))
                .and_then(Value::as_str);
            (from_builder.unwrap_or(DEFAULT_BASE_IMAGE).to_owned(), true)
        }
    };
    notes.push(format!(
        "Liftoff builds no images for kubernetes: running the {} job's code on base image {image}; init container {CODE_INIT_CONTAINER} fetches it into {CODE_MOUNT_DIR}{}",
        job.source_type.label(),
        match &ctx.push_to {
            Some(dest) => format!(" ({} {} is not used)", dest.setting, dest.repository),
            None => String::new(),
        }
    ));
    let job_artifact = ctx.spec.job.as_deref().filter(|_| install_requirements);
    let fetch = fetch_script(job, job_artifact)?;
    Ok(Source::BaseImage {
        image,
        install_requirements,
        fetch,
    })
}

/// The init container's shell script (W&B's `_build_code_fetch_script`).
fn fetch_script(
    job: &liftoff_model::JobSpec,
    job_artifact: Option<&str>,
) -> Result<String, StageError> {
    let python = |code: String| format!("python -c {}", sh_quote(&code));
    let download_job = job_artifact
        .map(|name| {
            let code = format!(
                "import wandb; wandb.Api().artifact({}).download({})",
                py_str(name),
                py_str(&format!("{CODE_MOUNT_DIR}/.job"))
            );
            format!(" && {}", python(code))
        })
        .unwrap_or_default();
    let chmod = format!(
        " && chmod -R a+w {CODE_MOUNT_DIR}/* || true && chmod -R a+w {CODE_MOUNT_DIR}/.* || true"
    );
    let fetch = match job.source_type {
        SourceType::Artifact => {
            let id = job.code_artifact_id().ok_or_else(|| {
                StageError::agent("the job names no code artifact (source.artifact)")
            })?;
            // W&B downloads by qualified name; the job holds the id, which the
            // pinned init image's `wandb` resolves with `_artifact_from_id`.
            python(format!(
                "import wandb; wandb.Api()._artifact_from_id({}).download({})",
                py_str(id),
                py_str(CODE_MOUNT_DIR)
            ))
        }
        SourceType::Repo => {
            let git = job
                .source
                .git
                .as_ref()
                .ok_or_else(|| StageError::agent("the git job names no repository"))?;
            format!(
                "git clone {} {CODE_MOUNT_DIR} && git config --global --add safe.directory {CODE_MOUNT_DIR} && cd {CODE_MOUNT_DIR} && git checkout {}",
                sh_quote(&git.remote),
                sh_quote(&git.commit)
            )
        }
        SourceType::Image => return Err(StageError::agent("an image job has no code to fetch")),
    };
    Ok(format!("{fetch}{download_job}{chmod}"))
}

/// `{"apiVersion": "batch/v1", "kind": "Job"}` updated with the user's
/// manifest, W&B's defaults filled in, the job put in the containers.
fn job_manifest(
    args: Map<String, Value>,
    ctx: &JobContext,
    source: &Source,
    env: Vec<Value>,
) -> Result<Value, StageError> {
    let mut job = Map::new();
    job.insert("apiVersion".into(), json!("batch/v1"));
    job.insert("kind".into(), json!("Job"));
    job.extend(args);
    let mut spec = object(json!({"backoffLimit": 0, "ttlSecondsAfterFinished": 60}));
    spec.extend(take_object(&mut job, "spec", "spec")?);
    let mut template = take_object(&mut spec, "template", "spec.template")?;
    let mut pod = object(json!({"restartPolicy": "Never"}));
    pod.extend(take_object(&mut template, "spec", "spec.template.spec")?);
    let mut containers = match pod.get_mut("containers").map(Value::take) {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(c)) if c.iter().all(Value::is_object) => c,
        Some(_) => {
            return Err(StageError::agent(
                "resource_args.kubernetes.spec.template.spec.containers must be a list of containers",
            ));
        }
    };
    if containers.is_empty() {
        containers.push(json!({}));
    }
    for (i, c) in containers.iter_mut().enumerate() {
        if let Some(c) = c.as_object_mut() {
            c.entry("name")
                .or_insert_with(|| json!(format!("launch{i}")));
        }
    }
    let (image, command) = match source {
        Source::Image(image) => (Some(image.as_str()), ctx.entry_point.clone()),
        Source::BaseImage { image, .. } => {
            let has_image = containers.iter().any(|c| c.get("image").is_some());
            let command = python_command(&ctx.entry_point, "python", &ctx.log);
            ((!has_image).then_some(image.as_str()), command)
        }
    };
    if let (Some(image), Some(first)) = (image, containers[0].as_object_mut()) {
        first.insert("image".into(), json!(image));
    }
    let overridden = ctx.spec.overrides().entry_point.is_some();
    for c in containers.iter_mut().filter_map(Value::as_object_mut) {
        if !ctx.args.is_empty() {
            c.insert("args".into(), json!(ctx.args));
        }
        let has_command = c
            .get("command")
            .is_some_and(|v| v.as_array().is_none_or(|a| !a.is_empty()));
        if !command.is_empty() && (!has_command || overridden) {
            c.insert("command".into(), json!(command));
        }
        append_env(c, env.iter().cloned());
    }
    pod.insert("containers".into(), Value::Array(containers));
    template.insert("spec".into(), Value::Object(pod));
    spec.insert("template".into(), Value::Object(template));
    job.insert("spec".into(), Value::Object(spec));
    Ok(Value::Object(job))
}

/// A custom object: the manifest as given, with env (`WANDB_RUN_ID` on the
/// first container only, as W&B does) and command/args overrides on every
/// container. Its images are the manifest's own (`${image_uri}` works).
fn custom_manifest(args: Map<String, Value>, ctx: &JobContext, env: Vec<Value>) -> Value {
    let mut manifest = Value::Object(args);
    let overrides = ctx.spec.overrides();
    let mut first = true;
    each_pod_spec(&mut manifest, &mut |pod| {
        for c in containers_mut(pod, "containers") {
            let entries = env
                .iter()
                .filter(|e| first || e["name"] != "WANDB_RUN_ID")
                .cloned();
            append_env(c, entries);
            first = false;
            if !ctx.args.is_empty() {
                c.insert("args".into(), json!(ctx.args));
            }
            if let Some(entry_point) = &overrides.entry_point {
                c.insert("command".into(), json!(entry_point));
            }
        }
    });
    manifest
}

fn custom_kind(args: &Map<String, Value>) -> Result<WorkloadKind, StageError> {
    let api_version = args
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let Some((group, version)) = api_version.split_once('/') else {
        return Err(StageError::agent(format!(
            "resource_args.kubernetes.apiVersion {api_version:?} is not supported: use batch/v1 (a Job) or the group/version of a custom resource"
        )));
    };
    let kind = args.get("kind").and_then(Value::as_str).filter(|k| !k.is_empty()).ok_or_else(|| {
        StageError::agent(format!(
            "resource_args.kubernetes has apiVersion {api_version} but no kind: name the custom resource's kind"
        ))
    })?;
    Ok(WorkloadKind::Custom {
        group: group.to_owned(),
        version: version.to_owned(),
        kind: kind.to_owned(),
        plural: format!("{}s", kind.to_ascii_lowercase()),
    })
}

/// Mount the code volume, add the init container that fills it (W&B's
/// `apply_code_mount_configuration_emptydir`).
fn mount_code(
    pod: &mut Map<String, Value>,
    working_dir: &str,
    install_requirements: bool,
    fetch: &str,
    base_url: &str,
) {
    push(pod, "volumes", json!({"name": CODE_VOLUME, "emptyDir": {}}));
    let mut api_key_env = None;
    for c in containers_mut(pod, "containers") {
        push(
            c,
            "volumeMounts",
            json!({"name": CODE_VOLUME, "mountPath": CODE_MOUNT_DIR}),
        );
        c.insert("workingDir".into(), json!(working_dir));
        if install_requirements {
            install_then_exec(c, working_dir);
        }
        if api_key_env.is_none() {
            let env = c.get("env").and_then(Value::as_array).into_iter().flatten();
            api_key_env = env
                .into_iter()
                .find(|e| e["name"] == "WANDB_API_KEY")
                .cloned();
        }
    }
    let mut env = vec![json!({"name": "WANDB_BASE_URL", "value": base_url})];
    env.extend(api_key_env);
    push(
        pod,
        "initContainers",
        json!({
            "name": CODE_INIT_CONTAINER,
            "image": CODE_INIT_IMAGE,
            "volumeMounts": [{"name": CODE_VOLUME, "mountPath": CODE_MOUNT_DIR}],
            "env": env,
            "command": ["/bin/sh", "-c", fetch]
        }),
    );
}

/// `/bin/sh -c "<install requirements> && exec <command> <args>"` (W&B's
/// `_set_container_command_with_dep_install`).
fn install_then_exec(c: &mut Map<String, Value>, working_dir: &str) {
    let words: Vec<String> = ["command", "args"]
        .iter()
        .filter_map(|k| c.get(*k).and_then(Value::as_array))
        .flatten()
        .filter_map(|w| w.as_str().map(sh_quote))
        .collect();
    if words.is_empty() {
        return;
    }
    let requirements = sh_quote(&format!("{working_dir}/requirements.txt"));
    let pyproject = sh_quote(&format!("{working_dir}/pyproject.toml"));
    let frozen = sh_quote(&format!("{CODE_MOUNT_DIR}/.job/requirements.frozen.txt"));
    let dir = sh_quote(working_dir);
    let install = format!(
        "if [ -f {requirements} ]; then pip install -r {requirements}; elif [ -f {pyproject} ]; then pip install {dir}; elif [ -f {frozen} ]; then pip install -r {frozen}; else echo 'No requirements file found'; fi"
    );
    c.insert("command".into(), json!(["/bin/sh", "-c"]));
    c.insert(
        "args".into(),
        json!([format!("{install} && exec {}", words.join(" "))]),
    );
}

/// Spec §4.7 as container env; the API key read from the job's Secret.
fn env_entries(env: &[(String, String)], secret: Option<&str>) -> Vec<Value> {
    env.iter()
        .map(|(k, v)| match secret {
            Some(secret) if k == "WANDB_API_KEY" => json!({
                "name": k,
                "valueFrom": {"secretKeyRef": {"name": secret, "key": "password"}}
            }),
            _ => json!({"name": k, "value": v}),
        })
        .collect()
}

fn append_env(c: &mut Map<String, Value>, entries: impl Iterator<Item = Value>) {
    let env = c.entry("env").or_insert_with(|| json!([]));
    if !env.is_array() {
        *env = json!([]);
    }
    if let Some(list) = env.as_array_mut() {
        list.extend(entries);
    }
}

/// Call `f` on every pod spec: an object holding a container list.
fn each_pod_spec(v: &mut Value, f: &mut dyn FnMut(&mut Map<String, Value>)) {
    match v {
        Value::Object(m)
            if CONTAINER_KEYS
                .iter()
                .any(|k| m.get(*k).is_some_and(Value::is_array)) =>
        {
            f(m)
        }
        Value::Object(m) => m.values_mut().for_each(|x| each_pod_spec(x, f)),
        Value::Array(a) => a.iter_mut().for_each(|x| each_pod_spec(x, f)),
        _ => {}
    }
}

/// The containers listed under `pod[key]` (`containers`, `initContainers`, ...).
fn containers_mut<'a>(
    pod: &'a mut Map<String, Value>,
    key: &str,
) -> impl Iterator<Item = &'a mut Map<String, Value>> {
    let list = pod.get_mut(key).and_then(Value::as_array_mut);
    list.into_iter().flatten().filter_map(Value::as_object_mut)
}

/// Call `f` on every pod template: an object whose `spec` holds `containers`.
fn each_pod_template(v: &mut Value, f: &mut dyn FnMut(&mut Map<String, Value>)) {
    match v {
        Value::Object(m) if m.get("spec").and_then(|s| s.get("containers")).is_some() => f(m),
        Value::Object(m) => m.values_mut().for_each(|x| each_pod_template(x, f)),
        Value::Array(a) => a.iter_mut().for_each(|x| each_pod_template(x, f)),
        _ => {}
    }
}

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Take `map[key]` as a mapping (absent or null: empty), leaving null in
/// its place so that putting it back keeps the manifest's key order.
fn take_object(
    map: &mut Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Map<String, Value>, StageError> {
    match map.get_mut(key).map(Value::take) {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m),
        Some(other) => Err(not_a_mapping(path, &other)),
    }
}

/// `map[key]` as a mapping, created when absent.
fn object_entry<'a>(
    map: &'a mut Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<&'a mut Map<String, Value>, StageError> {
    let entry = map.entry(key).or_insert_with(|| json!({}));
    if entry.is_null() {
        *entry = json!({});
    }
    let kind = json_kind(entry);
    entry.as_object_mut().ok_or_else(|| {
        StageError::agent(format!(
            "resource_args.kubernetes.{path} must be a mapping, got {kind}"
        ))
    })
}

fn not_a_mapping(path: &str, v: &Value) -> StageError {
    StageError::agent(format!(
        "resource_args.kubernetes.{path} must be a mapping, got {}",
        json_kind(v)
    ))
}

fn push(map: &mut Map<String, Value>, key: &str, item: Value) {
    let list = map.entry(key).or_insert_with(|| json!([]));
    if !list.is_array() {
        *list = json!([]);
    }
    if let Some(list) = list.as_array_mut() {
        list.push(item);
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// A DNS-1123 label: lower-case alphanumerics and `-`, at most 63 characters.
pub fn dns_label(s: &str) -> String {
    let mut out = String::new();
    for c in s.to_ascii_lowercase().chars() {
        let c = if c.is_ascii_alphanumeric() { c } else { '-' };
        if !(c == '-' && (out.is_empty() || out.ends_with('-'))) {
            out.push(c);
        }
    }
    let out: String = out.chars().take(63).collect();
    let out = out.trim_end_matches('-');
    if out.is_empty() {
        "x".into()
    } else {
        out.to_owned()
    }
}

/// `launch-<entity>-<project>-`, DNS-safe, short enough for the 5
/// characters Kubernetes appends (and for the `job-name` label).
pub fn generate_name(entity: &str, project: &str) -> String {
    let base = dns_label(&format!("launch-{entity}-{project}"));
    let base: String = base.chars().take(57).collect();
    format!("{}-", base.trim_end_matches('-'))
}

/// A label value: alphanumerics, `-`, `_`, `.`; alphanumeric at both ends;
/// at most 63 characters.
pub fn label_value(s: &str) -> String {
    let mapped: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .take(63)
        .collect();
    mapped
        .trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_owned()
}

/// Quote a word for `/bin/sh` (Python's `shlex.quote`).
pub fn sh_quote(s: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "@%+=:,./-_".contains(c);
    if !s.is_empty() && s.chars().all(safe) {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\"'\"'"))
    }
}

/// A Python string literal.
fn py_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "''".into())
}

// ---------------------------------------------------------------------------
// The runner: create the objects, then watch them.
// ---------------------------------------------------------------------------

/// Runs jobs on the cluster of the default kubeconfig (or the one the agent
/// runs in). The client is made on the first kubernetes job, so agents that
/// never get one need no cluster.
pub struct KubernetesRunner {
    agent_name: Option<String>,
    namespace: Option<String>,
    client: tokio::sync::OnceCell<kube::Client>,
    poll_interval: Duration,
}

impl KubernetesRunner {
    /// `agent_name` labels the objects (`wandb.ai/agent`); `namespace` is the
    /// agent config's `runner.namespace`.
    pub fn new(agent_name: Option<String>, namespace: Option<String>) -> Self {
        Self {
            agent_name,
            namespace,
            client: tokio::sync::OnceCell::new(),
            poll_interval: Duration::from_secs(5),
        }
    }

    /// A runner on a given client (tests use a scripted API).
    pub fn with_client(
        client: kube::Client,
        agent_name: Option<String>,
        namespace: Option<String>,
    ) -> Self {
        let runner = Self::new(agent_name, namespace);
        let _ = runner.client.set(client);
        runner
    }

    /// How often a running job's state is read.
    pub fn with_poll_interval(mut self, every: Duration) -> Self {
        self.poll_interval = every;
        self
    }

    async fn client(&self) -> Result<kube::Client, StageError> {
        self.client.get_or_try_init(connect).await.cloned()
    }
}

/// Why there is no client.
pub const NO_CLUSTER: &str = "kubernetes jobs need a cluster: no kubeconfig found (KUBECONFIG or ~/.kube/config) and not running in a cluster";

/// Whether the environment (`var`) names a cluster: a kubeconfig or the
/// in-cluster service variables.
pub fn has_cluster_config(var: &dyn Fn(&str) -> Option<std::ffi::OsString>) -> bool {
    let kubeconfig = var("KUBECONFIG").is_some_and(|v| !v.is_empty())
        || var("HOME").is_some_and(|h| {
            std::path::Path::new(&h)
                .join(".kube")
                .join("config")
                .is_file()
        });
    kubeconfig || var("KUBERNETES_SERVICE_HOST").is_some_and(|v| !v.is_empty())
}

async fn connect() -> Result<kube::Client, StageError> {
    if !has_cluster_config(&|name| std::env::var_os(name)) {
        return Err(StageError::agent(NO_CLUSTER));
    }
    kube::Client::try_default().await.map_err(|e| {
        StageError::agent(format!(
            "cannot connect to the Kubernetes cluster: {}",
            api_error(&e)
        ))
    })
}

#[async_trait]
impl Runner for KubernetesRunner {
    fn resource(&self) -> &'static str {
        "kubernetes"
    }

    async fn start(&self, ctx: &JobContext) -> Result<Box<dyn Workload>, StageError> {
        let client = self.client().await?;
        let default_namespace = self
            .namespace
            .clone()
            .unwrap_or_else(|| client.default_namespace().to_owned());
        let plan = plan(ctx, self.agent_name.as_deref(), &default_namespace)?;
        for note in &plan.notes {
            ctx.log.note(note);
        }
        if let Some(url) = ctx.env_value("WANDB_BASE_URL").filter(|u| is_loopback(u)) {
            ctx.log.note(&format!(
                "WANDB_BASE_URL is {url}: pods in a cluster usually cannot reach a loopback address; give the agent a base URL the cluster can reach"
            ));
        }
        let object: DynamicObject = serde_json::from_value(plan.workload.clone()).map_err(|e| {
            StageError::agent(format!(
                "resource_args.kubernetes is not a valid Kubernetes object: {e}"
            ))
        })?;
        let ns = plan.namespace.clone();
        let secret_name = plan.secret_name();
        if let Some(secret) = &plan.secret {
            ensure_secret(&Api::namespaced(client.clone(), &ns), secret)
                .await
                .map_err(|e| {
                    StageError::run(format!(
                        "cannot create the API-key Secret in namespace {ns}: {e}"
                    ))
                })?;
        }
        let objects: Api<DynamicObject> =
            Api::namespaced_with(client.clone(), &ns, &plan.kind.api_resource());
        let created = match objects.create(&PostParams::default(), &object).await {
            Ok(created) => created
                .metadata
                .name
                .ok_or_else(|| StageError::run("the cluster answered the create without a name")),
            Err(e) => Err(StageError::run(format!(
                "cannot create the Kubernetes {} for run {} in namespace {ns}: {}",
                plan.kind.label(),
                ctx.run_id,
                api_error(&e)
            ))),
        };
        let name = match created {
            Ok(name) => name,
            Err(e) => {
                delete_secret(&client, &ns, secret_name.as_deref(), &ctx.log).await;
                return Err(e);
            }
        };
        ctx.log
            .note(&format!("created {} {ns}/{name}", plan.kind.label()));
        let pod_selector = match plan.kind {
            WorkloadKind::Job => format!("job-name={name}"),
            WorkloadKind::Custom { .. } => format!("{LABEL_RUN_ID}={}", label_value(&ctx.run_id)),
        };
        // Its pods' log lines are the job's own from here (see JobLog::cause).
        ctx.log.job_started();
        Ok(Box::new(KubernetesWorkload {
            client,
            namespace: ns,
            name,
            kind: plan.kind,
            pod_selector,
            secret: secret_name,
            log: ctx.log.clone(),
            warnings: ctx.warnings.clone(),
            poll_interval: self.poll_interval,
            warned: HashSet::new(),
            running: HashSet::new(),
            logs: None,
            exit_code: None,
            last_error: None,
            stopped: false,
        }))
    }
}

/// `kube::Error` as a sentence: the API's own message when it sent one.
fn api_error(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => format!("{} {}: {}", s.code, s.reason, s.message)
            .trim_end_matches([' ', ':'])
            .into(),
        other => other.to_string(),
    }
}

fn api_code(e: &kube::Error) -> Option<u16> {
    match e {
        kube::Error::Api(s) => Some(s.code),
        _ => None,
    }
}

/// Create the API-key Secret; replace a stale one left by a launch agent
/// (W&B's `ensure_api_key_secret`). Transient failures are retried.
async fn ensure_secret(api: &Api<Secret>, manifest: &Value) -> Result<(), String> {
    let secret: Secret = serde_json::from_value(manifest.clone()).map_err(|e| e.to_string())?;
    let name = secret.metadata.name.clone().unwrap_or_default();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let e = match api.create(&PostParams::default(), &secret).await {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        match api_code(&e) {
            Some(409) => {
                let existing = api.get(&name).await.map_err(|e| api_error(&e))?;
                if existing.data == secret.data {
                    return Ok(());
                }
                let ours = existing
                    .metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get(LABEL_CREATED_BY))
                    .is_some_and(|v| v == "launch-agent");
                if !ours || attempt > 2 {
                    return Err(format!(
                        "a Secret {name} already exists with other data and was not made by a launch agent; delete it"
                    ));
                }
                api.delete(&name, &DeleteParams::default())
                    .await
                    .map_err(|e| api_error(&e))?;
            }
            Some(code) if code != 429 && code < 500 => return Err(api_error(&e)),
            _ if attempt >= 3 => return Err(api_error(&e)),
            _ => tokio::time::sleep(Duration::from_millis(500 << attempt)).await,
        }
    }
}

async fn delete_secret(client: &kube::Client, ns: &str, name: Option<&str>, log: &JobLog) {
    let Some(name) = name else { return };
    let api: Api<Secret> = Api::namespaced(client.clone(), ns);
    if let Err(e) = api.delete(name, &DeleteParams::default()).await
        && api_code(&e) != Some(404)
    {
        log.note(&format!(
            "cannot delete Secret {ns}/{name}: {}",
            api_error(&e)
        ));
    }
}

/// A created Job (or custom object), watched by polling.
struct KubernetesWorkload {
    client: kube::Client,
    namespace: String,
    name: String,
    kind: WorkloadKind,
    pod_selector: String,
    secret: Option<String>,
    log: JobLog,
    warnings: UnboundedSender<Warning>,
    poll_interval: Duration,
    /// Warnings already sent (keys).
    warned: HashSet<String>,
    /// Pods already reported running.
    running: HashSet<String>,
    logs: Option<JoinHandle<()>>,
    /// The last non-zero container exit code seen.
    exit_code: Option<i32>,
    last_error: Option<String>,
    stopped: bool,
}

/// How the workload object says the job ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    Succeeded,
    Failed,
    /// The object is gone before it succeeded.
    Deleted,
}

/// The end state of a Job, if it ended: the `Complete`/`Failed`
/// conditions, else W&B's counters (`succeeded >= 1`, or `failed >= 1`
/// with no retries left).
pub fn job_ended(job: &Job) -> Option<Ended> {
    let status = job.status.as_ref()?;
    for c in status
        .conditions
        .iter()
        .flatten()
        .filter(|c| c.status == "True")
    {
        match c.type_.as_str() {
            "Complete" => return Some(Ended::Succeeded),
            "Failed" => return Some(Ended::Failed),
            _ => {}
        }
    }
    let active = status.active.unwrap_or(0);
    let backoff_limit = job.spec.as_ref().and_then(|s| s.backoff_limit).unwrap_or(6);
    if status.succeeded.unwrap_or(0) >= 1 && active == 0 {
        return Some(Ended::Succeeded);
    }
    if status.failed.unwrap_or(0) > backoff_limit && active == 0 {
        return Some(Ended::Failed);
    }
    None
}

/// The end state of a custom object from `status.state.phase` or its true
/// `status.conditions` (W&B's `CRD_STATE_DICT`).
pub fn custom_ended(status: &Value) -> Option<Ended> {
    let state = |s: &str| match s.to_ascii_lowercase().as_str() {
        "succeeded" | "completed" | "complete" => Some(Ended::Succeeded),
        "failed" | "aborted" | "timeout" | "terminated" => Some(Ended::Failed),
        _ => None,
    };
    if let Some(phase) = status
        .get("state")
        .and_then(|s| s.get("phase"))
        .and_then(Value::as_str)
    {
        return state(phase);
    }
    let conditions = status.get("conditions").and_then(Value::as_array)?;
    let ended: Vec<Ended> = conditions
        .iter()
        .filter(|c| c["status"] == "True")
        .filter_map(|c| c["type"].as_str().and_then(state))
        .collect();
    [Ended::Succeeded, Ended::Failed]
        .into_iter()
        .find(|e| ended.contains(e))
}

/// What a pod says about the job.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodView {
    pub name: String,
    /// Running, or with its containers being created.
    pub running: bool,
    /// Its containers started (their logs can be read).
    pub started: bool,
    /// The first container (whose log is streamed).
    pub container: Option<String>,
    /// `(key, message)` of problems to warn about.
    pub warnings: Vec<(String, String)>,
    /// The `DisruptionTarget` reason when the pod was preempted or evicted.
    pub preempted: Option<String>,
    /// A non-zero exit code of a terminated container.
    pub exit_code: Option<i32>,
}

/// Read a pod as W&B's monitor does (`kubernetes_monitor.py`).
pub fn view_pod(pod: &Pod) -> PodView {
    let name = pod.metadata.name.clone().unwrap_or_default();
    let mut view = PodView {
        container: pod
            .spec
            .as_ref()
            .and_then(|s| s.containers.first())
            .map(|c| c.name.clone()),
        name: name.clone(),
        ..Default::default()
    };
    let Some(status) = &pod.status else {
        return view;
    };
    let phase = status.phase.as_deref().unwrap_or_default();
    view.started = matches!(phase, "Running" | "Succeeded" | "Failed");
    for c in status.conditions.iter().flatten() {
        let reason = c.reason.as_deref().unwrap_or_default();
        if c.type_ == "PodScheduled" && c.status == "False" && reason == "Unschedulable" {
            let message = c
                .message
                .clone()
                .unwrap_or_else(|| format!("pod {name} is unschedulable"));
            view.warnings
                .push((format!("unschedulable:{message}"), message));
        }
        if c.type_ == "DisruptionTarget"
            && c.status == "True"
            && PREEMPTION_REASONS.contains(&reason)
        {
            view.preempted = Some(reason.to_owned());
        }
    }
    let mut creating = false;
    for cs in status.container_statuses.iter().flatten() {
        let state = cs.state.as_ref();
        if let Some(w) = state.and_then(|s| s.waiting.as_ref()) {
            let reason = w.reason.as_deref().unwrap_or_default();
            creating |= reason == "ContainerCreating";
            if STUCK_REASONS.contains(&reason) {
                let detail = w
                    .message
                    .as_deref()
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default();
                view.warnings.push((
                    format!("{}:{reason}", cs.name),
                    format!(
                        "container {} of pod {name} is waiting: {reason}{detail}",
                        cs.name
                    ),
                ));
            }
        }
        if let Some(t) = state.and_then(|s| s.terminated.as_ref())
            && t.exit_code != 0
            && view.exit_code.is_none()
        {
            view.exit_code = Some(t.exit_code);
        }
    }
    view.running = phase == "Running" || creating;
    view
}

impl KubernetesWorkload {
    fn objects(&self) -> Api<DynamicObject> {
        Api::namespaced_with(
            self.client.clone(),
            &self.namespace,
            &self.kind.api_resource(),
        )
    }

    fn pods(&self) -> Api<Pod> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    /// Read the workload's state once.
    async fn ended(&self) -> Result<Option<Ended>, kube::Error> {
        match &self.kind {
            WorkloadKind::Job => {
                let jobs: Api<Job> = Api::namespaced(self.client.clone(), &self.namespace);
                Ok(match jobs.get_opt(&self.name).await? {
                    Some(job) => job_ended(&job),
                    None => Some(Ended::Deleted),
                })
            }
            WorkloadKind::Custom { .. } => Ok(match self.objects().get_opt(&self.name).await? {
                Some(o) => o.data.get("status").and_then(custom_ended),
                None => Some(Ended::Deleted),
            }),
        }
    }

    /// Look at the pods: warnings, progress notes, logs, exit codes.
    /// Answers the preemption reason if a pod was preempted.
    async fn observe_pods(&mut self) -> Result<Option<String>, kube::Error> {
        let pods = self
            .pods()
            .list(&ListParams::default().labels(&self.pod_selector))
            .await?;
        let mut preempted = None;
        for view in pods.items.iter().map(view_pod) {
            for (key, message) in &view.warnings {
                if self.warned.insert(format!("{}/{key}", view.name)) {
                    let warning = Warning {
                        stage: WARNING_STAGE.into(),
                        message: message.clone(),
                    };
                    let _ = self.warnings.send(warning);
                }
            }
            if view.running && self.running.insert(view.name.clone()) {
                self.log.note(&format!("pod {} is running", view.name));
            }
            if view.started && self.logs.is_none() {
                self.logs = Some(stream_logs(self.pods(), &view, self.log.clone()));
            }
            self.exit_code = view.exit_code.or(self.exit_code);
            preempted = preempted.or(view.preempted);
        }
        Ok(preempted)
    }

    async fn poll(&mut self) -> Result<Option<Outcome>, kube::Error> {
        let ended = self.ended().await?;
        // Pods are looked at for logs, warnings and preemption; a role that
        // may not list them still sees the job end.
        match self.observe_pods().await {
            Ok(Some(reason)) => {
                return Ok(Some(Outcome::Signaled(format!("preemption ({reason})"))));
            }
            Ok(None) => {}
            Err(e) if ended.is_some() => {
                tracing::warn!(job = self.name, error = %e, "cannot list the job's pods");
            }
            Err(e) => return Err(e),
        }
        Ok(match ended {
            None => None,
            Some(Ended::Succeeded) => Some(Outcome::Exited(0)),
            Some(Ended::Failed) => Some(Outcome::Exited(self.exit_code.unwrap_or(1))),
            Some(Ended::Deleted) => {
                self.log.note(&format!(
                    "the {} {} was deleted before it finished",
                    self.kind.label(),
                    self.name
                ));
                Some(Outcome::Exited(self.exit_code.unwrap_or(1)))
            }
        })
    }

    /// End the log stream (letting it drain for up to 5 s when `drain`),
    /// then delete the Secret.
    async fn release(&mut self, drain: bool) {
        if let Some(mut logs) = self.logs.take()
            && (!drain
                || tokio::time::timeout(Duration::from_secs(5), &mut logs)
                    .await
                    .is_err())
        {
            logs.abort();
        }
        delete_secret(
            &self.client,
            &self.namespace,
            self.secret.take().as_deref(),
            &self.log,
        )
        .await;
    }
}

fn stream_logs(pods: Api<Pod>, pod: &PodView, log: JobLog) -> JoinHandle<()> {
    let name = pod.name.clone();
    let params = LogParams {
        follow: true,
        container: pod.container.clone(),
        ..Default::default()
    };
    tokio::spawn(async move {
        match pods.log_stream(&name, &params).await {
            Ok(reader) => {
                let mut lines = reader.lines();
                while let Some(line) = lines.next().await {
                    match line {
                        Ok(line) => log.job_line(&line, false),
                        Err(e) => {
                            log.note(&format!("the log stream of pod {name} broke: {e}"));
                            break;
                        }
                    }
                }
            }
            Err(e) => log.note(&format!(
                "cannot read the log of pod {name}: {}",
                api_error(&e)
            )),
        }
    })
}

#[async_trait]
impl Workload for KubernetesWorkload {
    async fn wait(&mut self) -> Outcome {
        loop {
            if self.stopped {
                return Outcome::Stopped;
            }
            match self.poll().await {
                Ok(Some(outcome)) => {
                    self.release(true).await;
                    return outcome;
                }
                Ok(None) => {}
                Err(e) => {
                    let message = api_error(&e);
                    if self.last_error.as_deref() != Some(message.as_str()) {
                        self.log.note(&format!(
                            "cannot read the state of {} {}: {message} (retrying)",
                            self.kind.label(),
                            self.name
                        ));
                        self.last_error = Some(message);
                    }
                }
            }
            tokio::time::sleep(self.poll_interval).await;
        }
    }

    async fn stop(&mut self, _grace: Duration) {
        self.stopped = true;
        self.log.note(&format!(
            "deleting {} {}/{}",
            self.kind.label(),
            self.namespace,
            self.name
        ));
        if let Err(e) = self
            .objects()
            .delete(&self.name, &DeleteParams::background())
            .await
            && api_code(&e) != Some(404)
        {
            self.log
                .note(&format!("cannot delete {}: {}", self.name, api_error(&e)));
        }
        self.release(false).await;
    }

    fn describe(&self) -> String {
        format!(
            "Kubernetes {} {}/{}",
            self.kind.label(),
            self.namespace,
            self.name
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_dns_safe() {
        assert_eq!(
            generate_name("Alice_W", "My Project"),
            "launch-alice-w-my-project-"
        );
        assert!(generate_name(&"e".repeat(80), "p").len() <= 58);
        assert_eq!(dns_label("AB12_cd"), "ab12-cd");
        assert_eq!(label_value("-agent name-"), "agent-name");
        assert_eq!(sh_quote("train.py"), "train.py");
        assert_eq!(sh_quote("it's"), "'it'\"'\"'s'");
        assert!(is_loopback("http://127.0.0.1:8080") && is_loopback("http://localhost/x"));
        assert!(is_loopback("http://[::1]:8080"));
        assert!(!is_loopback("https://api.wandb.ai"));
    }

    #[test]
    fn a_cluster_is_found_from_the_environment() {
        assert!(!has_cluster_config(&|_| None));
        assert!(has_cluster_config(
            &|k| (k == "KUBERNETES_SERVICE_HOST").then(|| "10.0.0.1".into())
        ));
        assert!(has_cluster_config(
            &|k| (k == "KUBECONFIG").then(|| "/x/config".into())
        ));
        let home = tempfile::tempdir().expect("tempdir");
        let var = |k: &str| (k == "HOME").then(|| home.path().as_os_str().to_owned());
        assert!(!has_cluster_config(&var));
        std::fs::create_dir_all(home.path().join(".kube")).expect("mkdir");
        std::fs::write(home.path().join(".kube/config"), "apiVersion: v1\n").expect("write");
        assert!(has_cluster_config(&var));
    }

    #[test]
    fn custom_objects_end_by_phase_or_condition() {
        assert_eq!(
            custom_ended(&json!({"state": {"phase": "Completed"}})),
            Some(Ended::Succeeded)
        );
        assert_eq!(custom_ended(&json!({"state": {"phase": "Running"}})), None);
        let conditions = json!({"conditions": [{"type": "Failed", "status": "True"}, {"type": "Completed", "status": "False"}]});
        assert_eq!(custom_ended(&conditions), Some(Ended::Failed));
    }
}
