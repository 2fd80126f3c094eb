use std::fmt::Debug;
use std::fs;

use expect_test::expect_file;
use liftoff_client::Operation;
use liftoff_client::graphql::decode_response;
use liftoff_client::ops::{agents, artifacts, identity, items, liftoff, queues, runs, web};
use liftoff_model::agent::AgentStatus;
use liftoff_model::queue::{
    ExternalLink, ExternalLinks, PrioritizationMode, QueueAccess, ResourceType,
};
use liftoff_model::spec::LaunchSpec;
use liftoff_model::{LAUNCH_PROJECT, Priority};
use serde_json::{Map, Value, json};

use crate::repo;

/// Where a canned answer lives: `spec/fixtures/responses/X.json` for W&B's
/// operations, `tests/it/responses/X.json` for ours.
fn answer(name: &str) -> Value {
    let spec = repo()
        .join("spec/fixtures/responses")
        .join(format!("{name}.json"));
    let ours = repo()
        .join("crates/client/tests/it/responses")
        .join(format!("{name}.json"));
    let path = if spec.exists() { spec } else { ours };
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// Snapshot an operation's request and its decoding of `response`.
fn check<O: Operation>(snapshot: &str, op: O, response: &str)
where
    O::Output: Debug,
{
    let body = op.body();
    let raw = serde_json::to_vec(&answer(response)).unwrap();
    let decoded =
        decode_response(O::NAME, "http://test", 200, &raw).and_then(|data| op.decode(data));
    let text = format!(
        "operationName: {:?}\nvariables: {}\n\ndecoded {response}:\n{decoded:#?}\n",
        body.operation_name,
        body.variables
            .as_ref()
            .map_or("(none)".to_owned(), |v| serde_json::to_string_pretty(v)
                .unwrap()),
    );
    expect_file![format!("snapshots/{snapshot}.txt")].assert_eq(&text);
}

fn wire_texts() -> Map<String, Value> {
    let text = fs::read_to_string(repo().join("spec/operations/wire-texts.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn every_wandb_document_is_byte_exact() {
    let wire = wire_texts();
    let dir = repo().join("crates/client/src/documents");
    let mut checked = 0;
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "graphql") {
            let stem = path.file_stem().unwrap().to_str().unwrap();
            let ours = fs::read_to_string(&path).unwrap();
            let theirs = wire[stem]
                .as_str()
                .unwrap_or_else(|| panic!("{stem} is not in wire-texts.json"));
            assert_eq!(ours, theirs, "{stem} differs from what wandb sends");
            checked += 1;
        }
    }
    assert!(checked >= 45, "only {checked} documents");
}

#[test]
fn push_documents_are_built_as_the_sdk_builds_them() {
    let wire = wire_texts();
    let spec = LaunchSpec::from_value(json!({"job": "alice/proj/job:latest"})).unwrap();
    let mut push = items::PushToRunQueueByName::new("alice", "gpu-queue", spec);
    assert_eq!(
        push.document(),
        wire["pushToRunQueueByName (no optional args)"]
            .as_str()
            .unwrap()
    );
    push.priority = Some(Priority::High);
    push.template_values = Some(Map::new());
    assert_eq!(
        push.document(),
        wire["pushToRunQueueByName"].as_str().unwrap()
    );
    let fallback = push.without_run_spec();
    assert_eq!(
        fallback.document(),
        wire["pushToRunQueueByName--no-runspec"].as_str().unwrap()
    );
}

#[test]
fn requests_match_the_captured_wire_variables() {
    // The wire transcripts hold what the SDK really sent: our variables for
    // the same inputs must be the same map.
    let wire_dir = repo().join("spec/fixtures/wire");
    let mut seen = std::collections::BTreeMap::new();
    for entry in fs::read_dir(&wire_dir).unwrap() {
        let text = fs::read_to_string(entry.unwrap().path()).unwrap();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let rec: Value = serde_json::from_str(line).unwrap();
            if let (Some(op), Some(vars)) =
                (rec["operation"].as_str(), rec.pointer("/body/variables"))
            {
                seen.entry(op.to_owned())
                    .or_insert_with(Vec::new)
                    .push(vars.clone());
            }
        }
    }
    let ack = items::AckRunQueueItem {
        item_id: "UnVuUXVldWVJdGVtOjMx".into(),
        run_id: "lr7x0q2a".into(),
    };
    let pop = items::PopFromRunQueue {
        entity: "alice".into(),
        project: LAUNCH_PROJECT.into(),
        queue: "default".into(),
        agent_id: Some("TGF1bmNoQWdlbnQ6MjE=".into()),
    };
    let update = agents::UpdateLaunchAgent {
        id: "TGF1bmNoQWdlbnQ6MjE=".into(),
        status: AgentStatus::Running,
    };
    let queues = queues::ProjectRunQueues::new("alice");
    for (name, vars) in [
        ("ackRunQueueItem", ack.variables()),
        ("popFromRunQueue", pop.variables()),
        ("updateLaunchAgent", update.variables()),
        ("ProjectRunQueues", queues.variables()),
    ] {
        let vars = vars.unwrap();
        let captured = seen
            .get(name)
            .unwrap_or_else(|| panic!("{name} not in transcripts"));
        assert!(
            captured.contains(&vars),
            "{name}: {vars} not among {captured:?}"
        );
    }
}

fn spec() -> LaunchSpec {
    LaunchSpec::from_value(json!({"job": "alice/proj/job-ghcr.io_acme_train:latest", "entity": "alice", "project": "proj", "docker": {}, "git": {}, "overrides": {"run_config": {"lr": 0.1}}})).unwrap()
}

#[test]
fn identity() {
    check("Viewer", identity::Viewer, "Viewer");
    check("GetViewer", identity::GetViewer, "GetViewer");
    check(
        "GetDefaultEntity",
        identity::GetDefaultEntity,
        "GetDefaultEntity",
    );
    check(
        "ServerFeaturesQuery",
        identity::ServerFeaturesQuery,
        "ServerFeaturesQuery",
    );
    check(
        "EntityIsTeam",
        identity::EntityIsTeam {
            entity: "alice".into(),
        },
        "EntityIsTeam",
    );
    check(
        "CreateProject",
        identity::CreateProject {
            entity: "alice".into(),
            name: LAUNCH_PROJECT.into(),
        },
        "CreateProject",
    );
}

#[test]
fn queues() {
    check(
        "ProjectRunQueues",
        queues::ProjectRunQueues::new("alice"),
        "ProjectRunQueues",
    );
    check(
        "CreateDefaultResourceConfig",
        queues::CreateDefaultResourceConfig {
            entity: "alice".into(),
            resource: ResourceType::Kubernetes,
            config: json!({"kind": "Job", "spec": {"template": {"spec": {"containers": [{"resources": {"limits": {"cpu": "{{cpu}}"}}}]}}}}),
            template_variables: Some(
                json!({"cpu": {"schema": {"type": "integer", "minimum": 1, "maximum": 8, "default": 2}}}),
            ),
        },
        "CreateDefaultResourceConfig",
    );
    check(
        "CreateRunQueue",
        queues::CreateRunQueue {
            entity: "alice".into(),
            project: LAUNCH_PROJECT.into(),
            name: "gpu-queue".into(),
            access: QueueAccess::Project,
            prioritization_mode: Some(PrioritizationMode::V0),
            default_resource_config_id: Some("RGVmYXVsdFJlc291cmNlQ29uZmlnOjM=".into()),
        },
        "CreateRunQueue",
    );
    check(
        "UpsertRunQueue",
        queues::UpsertRunQueue {
            entity: "alice".into(),
            project: LAUNCH_PROJECT.into(),
            name: "local-q".into(),
            resource: ResourceType::LocalContainer,
            config: json!({"env": ["A=1"]}),
            template_variables: None,
            prioritization_mode: PrioritizationMode::V0,
            external_links: Some(ExternalLinks {
                links: vec![ExternalLink {
                    label: "dashboard".into(),
                    url: "https://grafana.example.com/d/gpu".into(),
                }],
            }),
        },
        "UpsertRunQueue",
    );
    let q = |n: &str| (n.to_owned(), "alice".to_owned(), LAUNCH_PROJECT.to_owned());
    let (queue, entity, project) = q("gpu-queue");
    check(
        "GetRunQueueMetadata",
        queues::GetRunQueueMetadata {
            entity: entity.clone(),
            project: project.clone(),
            queue: queue.clone(),
        },
        "GetRunQueueMetadata",
    );
    check(
        "GetDefaultResourceConfig",
        queues::GetDefaultResourceConfig {
            entity: entity.clone(),
            id: "RGVmYXVsdFJlc291cmNlQ29uZmlnOjM=".into(),
        },
        "GetDefaultResourceConfig",
    );
    check(
        "GetRunQueueItems",
        queues::GetRunQueueItems {
            entity: entity.clone(),
            project: project.clone(),
            queue: queue.clone(),
        },
        "GetRunQueueItems",
    );
    check(
        "DeleteRunQueue",
        queues::DeleteRunQueue {
            id: "UnVuUXVldWU6NQ==".into(),
        },
        "DeleteRunQueue",
    );
    check(
        "fetchRunQueuesFromProject",
        queues::FetchRunQueueId {
            entity,
            project,
            queue,
        },
        "fetchRunQueuesFromProject",
    );
    check(
        "DeleteFromRunQueue",
        queues::DeleteFromRunQueue {
            queue_id: "UnVuUXVldWU6NQ==".into(),
            item_id: "UnVuUXVldWVJdGVtOjEx".into(),
        },
        "DeleteFromRunQueue",
    );
}

#[test]
fn items() {
    let mut push = items::PushToRunQueueByName::new("alice", "gpu-queue", spec());
    push.priority = Some(Priority::High);
    push.template_values = Some(json!({"cpu": 4}).as_object().unwrap().clone());
    check("pushToRunQueueByName", push.clone(), "pushToRunQueueByName");
    check(
        "pushToRunQueueByName.null-payload",
        push.clone(),
        "pushToRunQueueByName.null-payload",
    );
    check(
        "pushToRunQueueByName--no-runspec",
        push.without_run_spec(),
        "pushToRunQueueByName--no-runspec",
    );
    check(
        "pushToRunQueue",
        items::PushToRunQueue {
            queue_id: "UnVuUXVldWU6NQ==".into(),
            spec: spec(),
            template_values: None,
        },
        "pushToRunQueue",
    );
    check(
        "GetRunQueueItem",
        items::GetRunQueueItem {
            entity: "alice".into(),
            project: LAUNCH_PROJECT.into(),
            queue: "gpu-queue".into(),
            item_id: "UnVuUXVldWVJdGVtOjEx".into(),
        },
        "GetRunQueueItem",
    );
    let pop = items::PopFromRunQueue {
        entity: "alice".into(),
        project: LAUNCH_PROJECT.into(),
        queue: "default".into(),
        agent_id: Some("TGF1bmNoQWdlbnQ6MjE=".into()),
    };
    check("popFromRunQueue", pop.clone(), "popFromRunQueue");
    check("popFromRunQueue.empty", pop, "popFromRunQueue.empty");
    check(
        "ackRunQueueItem",
        items::AckRunQueueItem {
            item_id: "UnVuUXVldWVJdGVtOjMx".into(),
            run_id: "lr7x0q2a".into(),
        },
        "ackRunQueueItem",
    );
    check(
        "failRunQueueItem",
        items::FailRunQueueItem {
            item_id: "UnVuUXVldWVJdGVtOjMy".into(),
            message: "boom".into(),
            stage: "run".into(),
            file_paths: vec!["UnVuUXVldWVJdGVtOjMy/error/error.log".into()],
        },
        "failRunQueueItem",
    );
    check(
        "failRunQueueItem.no-files",
        items::FailRunQueueItem {
            item_id: "UnVuUXVldWVJdGVtOjMy".into(),
            message: "boom".into(),
            stage: "agent".into(),
            file_paths: vec![],
        },
        "failRunQueueItem",
    );
    check(
        "updateRunQueueItemWarning",
        items::UpdateRunQueueItemWarning {
            item_id: "UnVuUXVldWVJdGVtOjMx".into(),
            message: "Some packages were not successfully installed during the build".into(),
            stage: "build".into(),
            file_paths: vec![],
        },
        "updateRunQueueItemWarning",
    );
}

#[test]
fn agents() {
    check(
        "createLaunchAgent",
        agents::CreateLaunchAgent::new(
            "alice",
            vec!["UnVuUXVldWU6NA==".into()],
            "vm",
            json!({"max_jobs": 1, "queues": ["default"]}),
            "liftoff@0.1.0",
        ),
        "createLaunchAgent",
    );
    check(
        "LaunchAgent",
        agents::LaunchAgent {
            id: "TGF1bmNoQWdlbnQ6MjE=".into(),
        },
        "LaunchAgent",
    );
    check(
        "updateLaunchAgent",
        agents::UpdateLaunchAgent {
            id: "TGF1bmNoQWdlbnQ6MjE=".into(),
            status: AgentStatus::Polling,
        },
        "updateLaunchAgent",
    );
}

#[test]
fn runs() {
    check(
        "RunState",
        runs::RunState {
            entity: "alice".into(),
            project: "proj".into(),
            name: "lr7x0q2a".into(),
        },
        "RunState",
    );
    check(
        "RunStoppedStatus",
        runs::RunStoppedStatus {
            entity: "alice".into(),
            project: "proj".into(),
            run_id: "lr7x0q2a".into(),
        },
        "RunStoppedStatus",
    );
    check(
        "StopRun",
        runs::StopRun {
            id: "UnVuOjc3".into(),
        },
        "StopRun",
    );
    check(
        "DeleteRun",
        runs::DeleteRun {
            id: "UnVuOjc3".into(),
            delete_artifacts: false,
        },
        "DeleteRun",
    );
    check(
        "Run",
        runs::Run {
            entity: "alice".into(),
            project: "proj".into(),
            name: "o5venp50".into(),
        },
        "Run",
    );
    check(
        "GetSweepState",
        runs::GetSweepState {
            entity: "alice".into(),
            project: "proj".into(),
            sweep: "s9x8y7z6".into(),
        },
        "GetSweepState",
    );
    check(
        "UpsertSweep",
        runs::UpsertSweep {
            id: "U3dlZXA6MQ==".into(),
            state: "CANCELED".into(),
            entity: "alice".into(),
            project: "proj".into(),
        },
        "UpsertSweep",
    );
    check(
        "UpsertBucket",
        runs::UpsertBucket {
            name: "ia2lawp6".into(),
            project: "proj".into(),
            entity: "alice".into(),
            state: Some("running".into()),
            ..Default::default()
        },
        "UpsertBucket",
    );
}

#[test]
fn artifacts() {
    check(
        "ArtifactOfType",
        artifacts::ArtifactOfType {
            entity: "alice".into(),
            project: "proj".into(),
            type_name: "job".into(),
        },
        "ArtifactOfType",
    );
    check(
        "ArtifactMembershipByName",
        artifacts::ArtifactMembershipByName {
            entity: "alice".into(),
            project: "proj".into(),
            name: "job-code-train.py:latest".into(),
        },
        "ArtifactMembershipByName",
    );
    check(
        "ArtifactByID",
        artifacts::ArtifactByID {
            id: "QXJ0aWZhY3Q6MTAy".into(),
        },
        "ArtifactByID",
    );
    check(
        "FetchArtifactManifest",
        artifacts::FetchArtifactManifest {
            id: "QXJ0aWZhY3Q6MTAz".into(),
        },
        "FetchArtifactManifest",
    );
    check(
        "GetArtifactMembershipFileUrls",
        artifacts::GetArtifactMembershipFileUrls {
            entity: "alice".into(),
            project: "proj".into(),
            collection: "job-code-train.py".into(),
            alias: "v0".into(),
            cursor: None,
            per_page: 5000,
        },
        "GetArtifactMembershipFileUrls",
    );
    check(
        "ArtifactType",
        artifacts::ArtifactType {
            entity: "alice".into(),
            project: "proj".into(),
            name: "code-train-job:latest".into(),
        },
        "ArtifactType",
    );
    check(
        "CreateArtifact",
        artifacts::CreateArtifact::new(
            "alice",
            "proj",
            "code",
            "code-train-job",
            "906d3c97ca9ae7ae5a28f9fac8de972b",
            "client-1",
            "seq-1",
            &[],
            Some("Code artifact for job"),
            None,
            Some("o5venp50"),
        ),
        "CreateArtifact",
    );
    check(
        "CreateArtifactManifest",
        artifacts::CreateArtifactManifest {
            artifact_id: "QXJ0aWZhY3Q6NTAy".into(),
            name: "wandb_manifest.json".into(),
            digest: "gXub64S0C1j2urbEyZ8OiA==".into(),
            entity: "alice".into(),
            project: "proj".into(),
            run_name: "o5venp50".into(),
            include_upload: true,
        },
        "CreateArtifactManifest",
    );
    check(
        "CreateArtifactFiles",
        artifacts::CreateArtifactFiles {
            artifact_id: "QXJ0aWZhY3Q6NTAy".into(),
            manifest_id: "QXJ0aWZhY3RNYW5pZmVzdDoy".into(),
            files: vec![
                artifacts::ArtifactFileSpec {
                    name: "train.py".into(),
                    md5: "N/6Eh+q9hdkqkcYIsfYCcA==".into(),
                },
                artifacts::ArtifactFileSpec {
                    name: "requirements.txt".into(),
                    md5: "R73hNNjrAUhqbnWCs/9QSQ==".into(),
                },
            ],
        },
        "CreateArtifactFiles",
    );
    check(
        "CommitArtifact",
        artifacts::CommitArtifact {
            artifact_id: "QXJ0aWZhY3Q6NTAy".into(),
        },
        "CommitArtifact",
    );
    check(
        "UseArtifact",
        artifacts::UseArtifact {
            artifact_id: "QXJ0aWZhY3Q6NTA2".into(),
            entity: "alice".into(),
            project: "proj".into(),
            run_name: "fhzpslv6".into(),
        },
        "UseArtifact",
    );
    check(
        "CreateRunFiles",
        artifacts::CreateRunFiles {
            entity: "alice".into(),
            project: "model-registry".into(),
            run: "agent-x7k2p9".into(),
            files: vec!["UnVuUXVldWVJdGVtOjMy/error/error.log".into()],
        },
        "CreateRunFiles",
    );
}

#[test]
fn liftoff_extensions() {
    check(
        "LiftoffRunQueue",
        liftoff::LiftoffRunQueue {
            entity: "alice".into(),
            queue: "default".into(),
            first: 50,
            after: None,
        },
        "LiftoffRunQueue",
    );
    check(
        "LiftoffRunQueues",
        liftoff::LiftoffRunQueues {
            entity: "alice".into(),
        },
        "LiftoffRunQueues",
    );
    check(
        "LiftoffLaunchAgents",
        liftoff::LiftoffLaunchAgents {
            entity: "alice".into(),
        },
        "LiftoffLaunchAgents",
    );
    check(
        "LiftoffStopPolling",
        liftoff::LiftoffStopPolling {
            agent_id: "TGF1bmNoQWdlbnQ6MQ==".into(),
        },
        "LiftoffStopPolling",
    );
    check(
        "LiftoffPopWait",
        liftoff::LiftoffPopWait {
            entity: "alice".into(),
            queue: "default".into(),
            agent_id: Some("TGF1bmNoQWdlbnQ6MQ==".into()),
            wait_seconds: 20,
        },
        "LiftoffPopWait",
    );
    check(
        "LiftoffSetItemPriority",
        liftoff::LiftoffSetItemPriority {
            item_id: "UnVuUXVldWVJdGVtOjE=".into(),
            priority: Priority::Critical,
        },
        "LiftoffSetItemPriority",
    );
    check(
        "LiftoffCancelItem",
        liftoff::LiftoffCancelItem {
            item_id: "UnVuUXVldWVJdGVtOjE=".into(),
        },
        "LiftoffCancelItem",
    );
    check(
        "LiftoffRequeueItem",
        liftoff::LiftoffRequeueItem {
            item_id: "UnVuUXVldWVJdGVtOjE=".into(),
        },
        "LiftoffRequeueItem",
    );
    check(
        "LiftoffUpdateRunQueue",
        liftoff::LiftoffUpdateRunQueue {
            queue_id: "UnVuUXVldWU6MQ==".into(),
            max_retries: Some(2),
            prioritization_mode: Some(PrioritizationMode::V0),
        },
        "LiftoffUpdateRunQueue",
    );
}

#[test]
fn liftoff_web_reads() {
    let (entity, project) = ("alice".to_owned(), "mnist".to_owned());
    check(
        "LiftoffProjectRuns",
        web::LiftoffProjectRuns {
            entity: entity.clone(),
            project: project.clone(),
            first: 50,
            after: None,
        },
        "LiftoffProjectRuns",
    );
    check(
        "LiftoffProjects",
        web::LiftoffProjects {
            entity: entity.clone(),
            first: 100,
        },
        "LiftoffProjects",
    );
    check(
        "LiftoffRunPage",
        web::LiftoffRunPage {
            entity: entity.clone(),
            project: project.clone(),
            run: "ab12cd34".into(),
            launch_item: true,
        },
        "LiftoffRunPage",
    );
    check(
        "LiftoffRunHistory",
        web::LiftoffRunHistory {
            entity: entity.clone(),
            project: project.clone(),
            run: "ab12cd34".into(),
            keys: vec!["loss".into(), "_runtime".into()],
            samples: 500,
        },
        "LiftoffRunHistory",
    );
    check(
        "LiftoffRunLogLines",
        web::LiftoffRunLogLines {
            entity: entity.clone(),
            project: project.clone(),
            run: "ab12cd34".into(),
            offset: 40,
            limit: 1000,
        },
        "LiftoffRunLogLines",
    );
    check(
        "LiftoffJobs",
        web::LiftoffJobs {
            entity: entity.clone(),
            project: project.clone(),
        },
        "LiftoffJobs",
    );
    check(
        "LiftoffJob",
        web::LiftoffJob {
            entity,
            project,
            name: "job-train".into(),
        },
        "LiftoffJob",
    );
    check(
        "LiftoffArtifactFiles",
        web::LiftoffArtifactFiles {
            id: "QXJ0aWZhY3Q6Mw==".into(),
            names: Some(vec!["wandb-job.json".into()]),
            first: 10,
        },
        "LiftoffArtifactFiles",
    );
}
