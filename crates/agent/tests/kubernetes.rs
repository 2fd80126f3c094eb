//! The kubernetes runner.
//!
//! This machine has no Kubernetes cluster, so these tests say what they can:
//! * the manifests are snapshots (`UPDATE_EXPECT=1 cargo test -p
//!   liftoff-agent --test kubernetes` refreshes `snapshots/kubernetes_*.json`),
//!   built from the spec's fixtures as the agent builds its job context;
//! * the lifecycle (Secret, Job, polling, logs, warnings, stop) runs against
//!   a *scripted* Kubernetes API: a `tower` service that answers the calls
//!   kube-rs makes from a script of Job and pod states and records every
//!   request. It checks what the runner sends and how it reads answers, not
//!   how a real API server or kubelet behaves;
//! * `real_cluster` runs a busybox Job on the cluster of the default
//!   kubeconfig, only with `LIFTOFF_K8S_TESTS=1` (image: `LIFTOFF_K8S_IMAGE`,
//!   default `busybox:1.36`; namespace: `LIFTOFF_K8S_NAMESPACE`, default the
//!   context's). Without it, it prints that it was skipped.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use expect_test::{ExpectFile, expect_file};
use liftoff_agent::env::{JobIdentity, job_env};
use liftoff_agent::log::JobLog;
use liftoff_agent::runner::kubernetes::{KubernetesRunner, plan};
use liftoff_agent::runner::{JobContext, Outcome, Runner, Stage, Warning, Workload};
use liftoff_model::JobSpec;
use liftoff_model::spec::LaunchSpec;
use liftoff_model::template;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc::UnboundedReceiver;

const API_KEY: &str = "test-api-key-0123456789";
const AGENT: &str = "agent-7f3a";

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../spec/fixtures")
}

fn fixture(path: &str) -> Value {
    let text = std::fs::read_to_string(fixtures().join(path)).expect("fixture");
    serde_json::from_str(&text).expect("fixture JSON")
}

fn job_fixture(name: &str) -> JobSpec {
    serde_json::from_value(fixture(&format!("wandb-job/{name}.wandb-job.json"))).expect("job")
}

/// A job context as `run_job` builds it for a kubernetes queue.
fn context(
    spec: Value,
    job: Option<JobSpec>,
    dir: &Path,
) -> (JobContext, UnboundedReceiver<Warning>) {
    let spec = LaunchSpec::from_value(spec).expect("spec");
    let run_id = spec.run_id.clone().unwrap_or_else(|| "k8srun01".into());
    let image = job
        .as_ref()
        .and_then(|j| j.source.image.clone())
        .or_else(|| spec.docker_image().map(str::to_owned));
    let overrides = spec.overrides();
    let entry_point = overrides
        .entry_point
        .clone()
        .or_else(|| job.as_ref().and_then(|j| j.source.entrypoint.clone()))
        .unwrap_or_default();
    let entity = spec.entity.clone().unwrap_or_else(|| "alice".into());
    let project = spec.project.clone().unwrap_or_else(|| "proj".into());
    let env = job_env(
        &spec,
        &JobIdentity {
            base_url: "https://liftoff.example.com",
            api_key: API_KEY,
            run_id: &run_id,
            entity: &entity,
            project: &project,
            queue: "k8s-gpu",
            queue_entity: "alice",
            item_id: "UnVuUXVldWVJdGVtOjQy",
            job: spec.job.as_deref(),
            image: image.as_deref(),
        },
    );
    let (warnings, received) = tokio::sync::mpsc::unbounded_channel();
    let ctx = JobContext {
        run_id,
        item_id: "UnVuUXVldWVJdGVtOjQy".into(),
        resource_args: spec
            .resource_args_for("kubernetes")
            .cloned()
            .unwrap_or(json!({})),
        spec,
        job,
        source_dir: None,
        requirements: None,
        image,
        push_to: None,
        entry_point,
        args: overrides.args.unwrap_or_default(),
        env,
        work_dir: dir.to_owned(),
        cache_dir: dir.to_owned(),
        log: JobLog::create(&dir.join("job.log"), "[test]", false).expect("log"),
        warnings,
    };
    (ctx, received)
}

fn snapshot(spec: Value, job: Option<JobSpec>, expected: ExpectFile) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ctx, _) = context(spec, job, dir.path());
    let plan = plan(&ctx, Some(AGENT), "default").expect("plan");
    let mut out = plan.to_value();
    out["notes"] = json!(plan.notes);
    expected.assert_eq(&format!(
        "{}\n",
        serde_json::to_string_pretty(&out).expect("json")
    ));
}

fn pop_fixture_spec() -> Value {
    fixture("pop/popFromRunQueue.image-job-k8s-templated.response.json")["data"]["popFromRunQueue"]
        ["runSpec"]
        .clone()
}

#[test]
fn the_templated_queue_config_pops_as_an_image_job() {
    // The pop fixture is the kubernetes queue's config rendered with the
    // template variables' defaults.
    let queue = fixture("queue-config/kubernetes.json");
    let mut defaults = Map::new();
    for (name, var) in queue["api_call"]["template_variables"]
        .as_object()
        .expect("vars")
    {
        defaults.insert(name.clone(), var["schema"]["default"].clone());
    }
    let rendered = template::render(&queue["api_call"]["config"], &defaults);
    let spec = pop_fixture_spec();
    assert_eq!(rendered, spec["resource_args"]["kubernetes"]);
    snapshot(
        spec,
        Some(job_fixture("image-job")),
        expect_file!["snapshots/kubernetes_image_job.json"],
    );
}

#[test]
fn a_git_job_runs_on_a_base_image_with_its_overrides() {
    let spec = fixture("run-spec/git-job-kubernetes.runSpec.json");
    snapshot(
        spec,
        Some(job_fixture("git-job")),
        expect_file!["snapshots/kubernetes_git_job.json"],
    );
}

#[test]
fn a_code_job_with_its_own_base_image() {
    let spec = json!({
        "job": "alice/proj/job-notebooks:v0", "entity": "alice", "project": "proj",
        "resource": "kubernetes", "resource_args": {"kubernetes": {}},
        "overrides": {"working_dir": "notebooks"}
    });
    let job = job_fixture("git-job.notebook-with-base-image");
    snapshot(
        spec,
        Some(job),
        expect_file!["snapshots/kubernetes_base_image_job.json"],
    );
}

#[test]
fn an_empty_config_gets_w_and_b_defaults() {
    let spec = json!({
        "docker": {"docker_image": "busybox:1.36"}, "entity": "Alice_Smith", "project": "My Project",
        "resource": "kubernetes", "resource_args": {"kubernetes": {}}
    });
    snapshot(
        spec,
        None,
        expect_file!["snapshots/kubernetes_minimal.json"],
    );
}

#[test]
fn a_manifest_with_its_own_name_and_namespace() {
    let spec = json!({
        "docker": {"docker_image": "ghcr.io/acme/eval:2"}, "entity": "alice", "project": "proj",
        "run_id": "named01", "resource": "kubernetes",
        "overrides": {"entry_point": ["python", "eval.py"], "args": ["--split", "test"]},
        "resource_args": {"kubernetes": {
            "metadata": {"name": "nightly-eval", "namespace": "evals", "labels": {"team": "eval"}},
            "spec": {"template": {"spec": {"containers": [
                {"name": "main", "command": ["python", "main.py"]},
                {"name": "sidecar", "image": "busybox:1.36"}
            ]}}}
        }}
    });
    snapshot(spec, None, expect_file!["snapshots/kubernetes_named.json"]);
}

#[test]
fn other_api_versions_are_custom_objects() {
    let spec = json!({
        "docker": {"docker_image": "ghcr.io/acme/train:1.2.0"}, "entity": "alice", "project": "proj",
        "resource": "kubernetes", "overrides": {"args": ["--epochs", "3"]},
        "resource_args": {"kubernetes": {
            "apiVersion": "batch.volcano.sh/v1alpha1", "kind": "Job", "namespace": "volcano",
            "spec": {"minAvailable": 2, "tasks": [
                {"name": "master", "replicas": 1, "template": {"spec": {"containers": [{"name": "m", "image": "ghcr.io/acme/train:1.2.0"}]}}},
                {"name": "worker", "replicas": 1, "template": {"spec": {"containers": [{"name": "w", "image": "ghcr.io/acme/train:1.2.0"}]}}}
            ]}
        }}
    });
    snapshot(
        spec,
        None,
        expect_file!["snapshots/kubernetes_custom_object.json"],
    );
}

#[test]
fn unsafe_or_unsupported_manifests_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let refused = |spec: Value| {
        let (ctx, _) = context(spec, None, dir.path());
        plan(&ctx, Some(AGENT), "default").expect_err("refused")
    };
    let image = json!({"docker_image": "busybox:1.36"});
    let e = refused(json!({"docker": image, "resource_args": {"kubernetes": {
        "spec": {"template": {"spec": {"hostNetwork": true, "containers": [{}]}}}}}}));
    assert_eq!(e.stage, Stage::Agent);
    assert!(
        e.message.contains("hostNetwork is not allowed"),
        "{}",
        e.message
    );
    let e = refused(
        json!({"docker": image, "resource_args": {"kubernetes": {"apiVersion": "v1", "kind": "Pod"}}}),
    );
    assert!(
        e.message.contains("apiVersion \"v1\" is not supported"),
        "{}",
        e.message
    );
    let e = refused(
        json!({"docker": image, "resource_args": {"kubernetes": {"spec": {"template": "x"}}}}),
    );
    assert!(
        e.message
            .contains("spec.template must be a mapping, got a string"),
        "{}",
        e.message
    );
    let e =
        refused(json!({"docker": image, "additional_services": [{"config": {"kind": "Service"}}]}));
    assert!(e.message.contains("additional_services"), "{}", e.message);
    let e = refused(json!({"overrides": {"entry_point": ["echo", "hi"]}}));
    assert!(
        e.message.contains("needs an image or a job"),
        "{}",
        e.message
    );
}

// ---------------------------------------------------------------------------
// A scripted Kubernetes API.
// ---------------------------------------------------------------------------

const NS: &str = "ml-jobs";
const JOB: &str = "launch-alice-proj-x7k2p";

#[derive(Clone, Debug)]
struct Call {
    method: String,
    path: String,
    query: String,
    body: Value,
}

impl Call {
    fn line(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// What the cluster answers: each read of the Job or the pods takes the next
/// state; the last one repeats.
#[derive(Default)]
struct Script {
    job: VecDeque<Value>,
    pods: VecDeque<Vec<Value>>,
    log: String,
    /// Refuse to create the Job with this status.
    refuse_job: Option<(u16, &'static str, &'static str)>,
    /// A Secret of that name is left over from an earlier launch agent.
    stale_secret: bool,
    deleted: bool,
}

#[derive(Clone, Default)]
struct Cluster {
    calls: Arc<Mutex<Vec<Call>>>,
    script: Arc<Mutex<Script>>,
}

fn next<T: Clone + Default>(states: &mut VecDeque<T>) -> T {
    if states.len() > 1 {
        states.pop_front()
    } else {
        states.front().cloned()
    }
    .unwrap_or_default()
}

fn status(code: u16, reason: &str, message: &str) -> (u16, Value) {
    let outcome = if code < 300 { "Success" } else { "Failure" };
    (
        code,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": outcome, "message": message, "reason": reason, "code": code}),
    )
}

impl Cluster {
    fn new(script: Script) -> Self {
        Self {
            calls: Arc::default(),
            script: Arc::new(Mutex::new(script)),
        }
    }

    fn client(&self) -> kube::Client {
        let cluster = self.clone();
        let service = tower::service_fn(move |request: http::Request<kube::client::Body>| {
            let cluster = cluster.clone();
            async move {
                let (parts, body) = request.into_parts();
                let bytes = body
                    .collect_bytes()
                    .await
                    .map(|b| b.to_vec())
                    .unwrap_or_default();
                let call = Call {
                    method: parts.method.to_string(),
                    path: parts.uri.path().to_owned(),
                    query: parts.uri.query().unwrap_or_default().to_owned(),
                    body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
                };
                let (code, text) = cluster.answer(&call);
                cluster.calls.lock().expect("calls").push(call);
                let response = http::Response::builder()
                    .status(code)
                    .header("content-type", "application/json")
                    .body(kube::client::Body::from(text.into_bytes()))
                    .expect("response");
                Ok::<_, std::convert::Infallible>(response)
            }
        });
        kube::Client::new(service, "default")
    }

    fn answer(&self, call: &Call) -> (u16, String) {
        let mut script = self.script.lock().expect("script");
        let secrets = format!("/api/v1/namespaces/{NS}/secrets");
        let jobs = format!("/apis/batch/v1/namespaces/{NS}/jobs");
        let pods = format!("/api/v1/namespaces/{NS}/pods");
        let (code, body) = match (call.method.as_str(), call.path.as_str()) {
            ("POST", p) if p == secrets && script.stale_secret => status(
                409,
                "AlreadyExists",
                "secrets \"wandb-api-key-img0001a\" already exists",
            ),
            ("POST", p) if p == secrets => (201, call.body.clone()),
            ("GET", p) if p.starts_with(&secrets) && script.stale_secret => (
                200,
                json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/basic-auth",
                    "metadata": {"name": "wandb-api-key-img0001a", "labels": {"wandb.ai/created-by": "launch-agent"}},
                    "data": {"password": "b2xkLWtleQ=="}}),
            ),
            ("POST", p) if p == jobs => match script.refuse_job {
                Some((code, reason, message)) => status(code, reason, message),
                None => {
                    let mut job = call.body.clone();
                    job["metadata"]["name"] = json!(JOB);
                    (201, job)
                }
            },
            ("GET", p) if p == format!("{jobs}/{JOB}") && !script.deleted => {
                let status = next(&mut script.job);
                (
                    200,
                    json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": JOB, "namespace": NS}, "spec": {"backoffLimit": 0, "template": {}}, "status": status}),
                )
            }
            ("GET", p) if p == pods => {
                let items = next(&mut script.pods);
                (
                    200,
                    json!({"apiVersion": "v1", "kind": "PodList", "metadata": {}, "items": items}),
                )
            }
            ("GET", p) if p.starts_with(&pods) && p.ends_with("/log") => {
                return (200, script.log.clone());
            }
            ("DELETE", p) if p == format!("{jobs}/{JOB}") => {
                script.deleted = true;
                status(200, "", "")
            }
            ("DELETE", p) if p.starts_with(&secrets) => {
                script.stale_secret = false;
                status(200, "", "")
            }
            _ => status(404, "NotFound", &format!("{} not found", call.path)),
        };
        (code, body.to_string())
    }

    fn calls(&self) -> Vec<Call> {
        self.calls.lock().expect("calls").clone()
    }

    fn lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self.calls().iter().map(Call::line).collect();
        lines.dedup();
        lines
    }
}

fn pod(phase: &str, conditions: Value, container: Value) -> Value {
    let mut container_status = json!({"name": "launch0", "image": "ghcr.io/acme/train:1.2.0", "imageID": "", "ready": phase == "Running", "restartCount": 0});
    container_status["state"] = container;
    json!({
        "metadata": {"name": format!("{JOB}-abcde"), "namespace": NS, "labels": {"job-name": JOB}},
        "spec": {"containers": [{"name": "launch0", "image": "ghcr.io/acme/train:1.2.0"}]},
        "status": {"phase": phase, "conditions": conditions, "containerStatuses": [container_status]}
    })
}

fn creating() -> Value {
    pod(
        "Pending",
        json!([]),
        json!({"waiting": {"reason": "ContainerCreating"}}),
    )
}

fn running() -> Value {
    pod("Running", json!([]), json!({"running": {}}))
}

fn exited(code: i32) -> Value {
    let phase = if code == 0 { "Succeeded" } else { "Failed" };
    pod(
        phase,
        json!([]),
        json!({"terminated": {"exitCode": code, "reason": if code == 0 { "Completed" } else { "Error" }}}),
    )
}

const UNSCHEDULABLE: &str = "0/3 nodes are available: 3 Insufficient nvidia.com/gpu.";

fn unschedulable() -> Value {
    let condition = json!([{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": UNSCHEDULABLE}]);
    let mut p = pod("Pending", condition, Value::Null);
    p["status"]["containerStatuses"] = json!([]);
    p
}

/// A Job whose pod runs until it is deleted.
fn running_forever() -> Cluster {
    Cluster::new(Script {
        job: [active()].into(),
        pods: [vec![running()]].into(),
        ..Default::default()
    })
}

fn active() -> Value {
    json!({"active": 1})
}

fn complete() -> Value {
    json!({"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]})
}

fn failed() -> Value {
    json!({"failed": 1, "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]})
}

/// The templated pop fixture (an image job in namespace `ml-jobs`) started
/// on `cluster`.
async fn start(
    cluster: &Cluster,
    dir: &Path,
) -> (Box<dyn Workload>, JobContext, UnboundedReceiver<Warning>) {
    let (ctx, warnings) = context(pop_fixture_spec(), Some(job_fixture("image-job")), dir);
    let runner = KubernetesRunner::with_client(cluster.client(), Some(AGENT.into()), None)
        .with_poll_interval(Duration::from_millis(5));
    let workload = runner.start(&ctx).await.expect("the job starts");
    (workload, ctx, warnings)
}

async fn wait(workload: &mut Box<dyn Workload>) -> Outcome {
    tokio::time::timeout(Duration::from_secs(5), workload.wait())
        .await
        .expect("the job ends")
}

fn job_log(ctx: &JobContext) -> String {
    std::fs::read_to_string(&ctx.log.path).expect("job log")
}

fn secret_path() -> String {
    format!("/api/v1/namespaces/{NS}/secrets/wandb-api-key-img0001a")
}

fn assert_secret_deleted_last(cluster: &Cluster) {
    let lines = cluster.lines();
    assert_eq!(
        lines.last(),
        Some(&format!("DELETE {}", secret_path())),
        "{lines:?}"
    );
}

#[tokio::test]
async fn a_job_that_succeeds_streams_its_log_and_drops_its_secret() {
    let cluster = Cluster::new(Script {
        job: [active(), active(), complete()].into(),
        pods: [vec![creating()], vec![running()], vec![exited(0)]].into(),
        log: "epoch 1 loss 0.9\nepoch 2 loss 0.4\n".into(),
        ..Default::default()
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut workload, ctx, mut warnings) = start(&cluster, dir.path()).await;
    assert_eq!(workload.describe(), format!("Kubernetes Job {NS}/{JOB}"));
    assert_eq!(wait(&mut workload).await, Outcome::Exited(0));
    assert!(warnings.try_recv().is_err(), "no warnings");

    let jobs = format!("/apis/batch/v1/namespaces/{NS}/jobs");
    let pods = format!("/api/v1/namespaces/{NS}/pods");
    // The log is read by a task of its own, once the pod runs.
    let log_read = format!("GET {pods}/{JOB}-abcde/log");
    let lines = cluster.lines();
    assert!(lines.contains(&log_read), "{lines:?}");
    assert_eq!(
        lines
            .into_iter()
            .filter(|l| *l != log_read)
            .collect::<Vec<_>>(),
        [
            format!("POST /api/v1/namespaces/{NS}/secrets"),
            format!("POST {jobs}"),
            format!("GET {jobs}/{JOB}"),
            format!("GET {pods}"),
            format!("GET {jobs}/{JOB}"),
            format!("GET {pods}"),
            format!("GET {jobs}/{JOB}"),
            format!("GET {pods}"),
            format!("DELETE {}", secret_path()),
        ]
    );
    let calls = cluster.calls();
    let secret = &calls[0].body;
    assert_eq!(secret["type"], "kubernetes.io/basic-auth");
    assert_eq!(secret["metadata"]["name"], "wandb-api-key-img0001a");
    assert_eq!(
        secret["metadata"]["labels"]["wandb.ai/created-by"],
        "launch-agent"
    );
    assert_eq!(
        secret["data"]["password"],
        "dGVzdC1hcGkta2V5LTAxMjM0NTY3ODk="
    ); // base64 of API_KEY

    let job = &calls[1].body;
    assert!(
        !job.to_string().contains(API_KEY),
        "the key stays in the Secret"
    );
    let labels = &job["metadata"]["labels"];
    assert_eq!(
        (
            &labels["wandb.ai/run-id"],
            &labels["wandb.ai/monitor"],
            &labels["wandb.ai/agent"]
        ),
        (&json!("img0001a"), &json!("true"), &json!(AGENT))
    );
    assert_eq!(labels["team"], "vision");
    assert_eq!(job["metadata"]["generateName"], "launch-alice-proj-");
    assert!(job["metadata"].get("annotations").is_none());
    let template = &job["spec"]["template"];
    assert_eq!(
        template["metadata"]["labels"],
        json!({"app": "wandb-launch-job", "wandb.ai/monitor": "true", "wandb.ai/agent": AGENT})
    );
    let container = &template["spec"]["containers"][0];
    assert_eq!(container["image"], "ghcr.io/acme/train:1.2.0");
    assert_eq!(
        container["command"],
        json!(["python", "/app/train.py", "--fast"])
    );
    let env = container["env"].as_array().expect("env");
    let key = env
        .iter()
        .find(|e| e["name"] == "WANDB_API_KEY")
        .expect("WANDB_API_KEY");
    assert_eq!(
        key["valueFrom"]["secretKeyRef"],
        json!({"name": "wandb-api-key-img0001a", "key": "password"})
    );
    assert!(
        env.iter()
            .any(|e| e["name"] == "WANDB_RUN_ID" && e["value"] == "img0001a")
    );
    assert_eq!(env[0]["name"], "NCCL_DEBUG", "the queue's env comes first");

    let log_call = calls
        .iter()
        .find(|c| c.path.ends_with("/log"))
        .expect("log call");
    assert!(
        log_call.query.contains("follow=true") && log_call.query.contains("container=launch0"),
        "{}",
        log_call.query
    );
    let log = job_log(&ctx);
    assert!(log.contains(&format!("created Job {NS}/{JOB}")), "{log}");
    assert!(
        log.contains(&format!("pod {JOB}-abcde is running")),
        "{log}"
    );
    assert!(
        log.contains("epoch 1 loss 0.9\nepoch 2 loss 0.4\n"),
        "{log}"
    );
}

#[tokio::test]
async fn a_failed_job_ends_with_its_container_exit_code() {
    let cluster = Cluster::new(Script {
        job: [active(), failed()].into(),
        pods: [vec![running()], vec![exited(3)]].into(),
        log: "Traceback (most recent call last):\nValueError: bad lr\n".into(),
        ..Default::default()
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut workload, ctx, _) = start(&cluster, dir.path()).await;
    assert_eq!(wait(&mut workload).await, Outcome::Exited(3));
    assert!(ctx.log.tail().contains("ValueError: bad lr"));
    assert_secret_deleted_last(&cluster);
}

#[tokio::test]
async fn a_failed_job_without_pods_ends_with_code_1() {
    let cluster = Cluster::new(Script {
        job: [failed()].into(),
        ..Default::default()
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut workload, _, _) = start(&cluster, dir.path()).await;
    assert_eq!(wait(&mut workload).await, Outcome::Exited(1));
}

#[tokio::test]
async fn an_unschedulable_pod_and_a_bad_image_are_warned_about_once() {
    let image_pull = pod(
        "Pending",
        json!([]),
        json!({"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image \"ghcr.io/acme/train:1.2.0\""}}),
    );
    let cluster = Cluster::new(Script {
        job: [active(), active(), active(), active(), active(), complete()].into(),
        pods: [
            vec![unschedulable()],
            vec![unschedulable()],
            vec![unschedulable()],
            vec![image_pull.clone()],
            vec![image_pull],
            vec![exited(0)],
        ]
        .into(),
        ..Default::default()
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut workload, _, mut warnings) = start(&cluster, dir.path()).await;
    assert_eq!(wait(&mut workload).await, Outcome::Exited(0));
    let mut got = Vec::new();
    while let Ok(w) = warnings.try_recv() {
        got.push(w);
    }
    assert_eq!(
        got,
        [
            Warning {
                stage: "Kubernetes".into(),
                message: UNSCHEDULABLE.into()
            },
            Warning {
                stage: "Kubernetes".into(),
                message: format!(
                    "container launch0 of pod {JOB}-abcde is waiting: ImagePullBackOff: Back-off pulling image \"ghcr.io/acme/train:1.2.0\""
                ),
            },
        ]
    );
}

#[tokio::test]
async fn a_preempted_pod_ends_the_job_as_preempted() {
    let preempted = pod(
        "Failed",
        json!([{"type": "DisruptionTarget", "status": "True", "reason": "PreemptionByScheduler"}]),
        json!({"terminated": {"exitCode": 137, "reason": "Error"}}),
    );
    let cluster = Cluster::new(Script {
        job: [active(), failed()].into(),
        pods: [vec![running()], vec![preempted]].into(),
        ..Default::default()
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut workload, _, _) = start(&cluster, dir.path()).await;
    assert_eq!(
        wait(&mut workload).await,
        Outcome::Signaled("preemption (PreemptionByScheduler)".into())
    );
}

#[tokio::test]
async fn stop_deletes_the_job_and_the_secret() {
    let cluster = running_forever();
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut workload, _, _) = start(&cluster, dir.path()).await;
    // The agent's select! drops `wait` when a stop is requested.
    assert!(
        tokio::time::timeout(Duration::from_millis(100), workload.wait())
            .await
            .is_err(),
        "still running"
    );
    workload.stop(Duration::from_secs(10)).await;
    assert_eq!(wait(&mut workload).await, Outcome::Stopped);
    let calls = cluster.calls();
    let deletes: Vec<&Call> = calls.iter().filter(|c| c.method == "DELETE").collect();
    assert_eq!(deletes.len(), 2, "{:?}", cluster.lines());
    assert_eq!(
        deletes[0].path,
        format!("/apis/batch/v1/namespaces/{NS}/jobs/{JOB}")
    );
    assert_eq!(deletes[0].body["propagationPolicy"], "Background");
    assert_eq!(deletes[1].path, secret_path());
}

#[tokio::test]
async fn a_job_the_cluster_refuses_fails_at_run_and_leaves_no_secret() {
    let cluster = Cluster::new(Script {
        refuse_job: Some((
            403,
            "Forbidden",
            "jobs.batch is forbidden: User \"system:serviceaccount:wandb:launch\" cannot create resource \"jobs\" in API group \"batch\" in the namespace \"ml-jobs\"",
        )),
        ..Default::default()
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let (ctx, _) = context(
        pop_fixture_spec(),
        Some(job_fixture("image-job")),
        dir.path(),
    );
    let runner = KubernetesRunner::with_client(cluster.client(), Some(AGENT.into()), None);
    let e = runner.start(&ctx).await.err().expect("refused");
    assert_eq!(e.stage, Stage::Run);
    assert!(e.message.starts_with("cannot create the Kubernetes Job for run img0001a in namespace ml-jobs: 403 Forbidden: jobs.batch is forbidden"), "{}", e.message);
    assert_secret_deleted_last(&cluster);
}

#[tokio::test]
async fn a_stale_secret_of_a_launch_agent_is_replaced() {
    let cluster = Cluster::new(Script {
        stale_secret: true,
        job: [complete()].into(),
        ..Default::default()
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut workload, _, _) = start(&cluster, dir.path()).await;
    assert_eq!(wait(&mut workload).await, Outcome::Exited(0));
    let secrets = format!("/api/v1/namespaces/{NS}/secrets");
    assert_eq!(
        cluster.lines()[..5],
        [
            format!("POST {secrets}"),
            format!("GET {}", secret_path()),
            format!("DELETE {}", secret_path()),
            format!("POST {secrets}"),
            format!("POST /apis/batch/v1/namespaces/{NS}/jobs"),
        ]
    );
}

#[tokio::test]
async fn a_job_deleted_by_someone_else_fails() {
    let cluster = running_forever();
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut workload, ctx, _) = start(&cluster, dir.path()).await;
    cluster.script.lock().expect("script").deleted = true;
    assert_eq!(wait(&mut workload).await, Outcome::Exited(1));
    assert!(job_log(&ctx).contains(&format!("the Job {JOB} was deleted before it finished")));
}

/// A busybox Job on a real cluster (`LIFTOFF_K8S_TESTS=1`).
#[tokio::test]
async fn real_cluster() {
    if std::env::var("LIFTOFF_K8S_TESTS").as_deref() != Ok("1") {
        eprintln!(
            "real_cluster: skipped (no cluster here; set LIFTOFF_K8S_TESTS=1 to run a Job on the default kubeconfig's cluster)"
        );
        return;
    }
    let image = std::env::var("LIFTOFF_K8S_IMAGE").unwrap_or_else(|_| "busybox:1.36".into());
    let namespace = std::env::var("LIFTOFF_K8S_NAMESPACE").ok();
    let runner = KubernetesRunner::new(Some("liftoff-test".into()), namespace)
        .with_poll_interval(Duration::from_secs(1));
    let cases = [
        (
            "echo hello from liftoff",
            Outcome::Exited(0),
            "hello from liftoff",
        ),
        ("echo failing; exit 3", Outcome::Exited(3), "failing"),
    ];
    for (i, (script, expected, output)) in cases.into_iter().enumerate() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spec = json!({
            "docker": {"docker_image": image}, "entity": "liftoff", "project": "k8s-test",
            "run_id": format!("k8s{}x{i}", std::process::id()), "resource": "kubernetes",
            "overrides": {"entry_point": ["sh", "-c", script]}, "resource_args": {"kubernetes": {}}
        });
        let (ctx, _) = context(spec, None, dir.path());
        let mut workload = runner.start(&ctx).await.expect("the job starts");
        let outcome = tokio::time::timeout(Duration::from_secs(300), workload.wait())
            .await
            .expect("the job ends in 5 min");
        assert_eq!(outcome, expected, "{}", job_log(&ctx));
        assert!(job_log(&ctx).contains(output), "{}", job_log(&ctx));
    }
}
