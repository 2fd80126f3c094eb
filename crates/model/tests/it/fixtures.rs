use std::fs;
use std::path::PathBuf;

use liftoff_model::config::AgentConfig;
use liftoff_model::job::{JobMetadata, JobSpec};
use liftoff_model::json::JsonString;
use liftoff_model::push::{check_job, merge_for_push};
use liftoff_model::queue::{DefaultResourceConfig, ResourceType, template_variables_from_input};
use liftoff_model::spec::LaunchSpec;
use liftoff_model::{ArtifactManifest, Priority};
use serde_json::{Map, Value, json};

pub fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../spec/fixtures")
}

fn read(rel: &str) -> String {
    fs::read_to_string(fixture_dir().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn json_file(rel: &str) -> Value {
    serde_json::from_str(&read(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn files(dir: &str, suffix: &str) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(fixture_dir().join(dir))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(suffix))
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no {suffix} files in {dir}");
    names
}

#[test]
fn every_run_spec_round_trips_and_has_one_source() {
    for name in files("run-spec", ".runSpec.json") {
        let raw = json_file(&format!("run-spec/{name}"));
        let spec = LaunchSpec::from_value(raw.clone()).unwrap();
        assert_eq!(spec.to_value(), raw, "{name}");
        spec.validate_source()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn push_variables_carry_the_spec_as_a_json_string() {
    for name in files("run-spec", ".push-variables.json") {
        let vars = json_file(&format!("run-spec/{name}"));
        let spec: JsonString<LaunchSpec> = serde_json::from_value(vars["runSpec"].clone()).unwrap();
        let decoded = json_file(&format!(
            "run-spec/{}",
            name.replace(".push-variables.json", ".runSpec.json")
        ));
        assert_eq!(spec.0.to_value(), decoded, "{name}");
        if let Some(p) = vars.get("priority") {
            assert!(Priority::from_level(p.as_i64().unwrap()).is_some());
        }
    }
}

#[test]
fn every_job_file_round_trips() {
    for name in files("wandb-job", ".wandb-job.json") {
        let text = read(&format!("wandb-job/{name}"));
        let raw: Value = serde_json::from_str(&text).unwrap();
        let job = JobSpec::from_json(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(serde_json::to_value(&job).unwrap(), raw, "{name}");
    }
    let job = JobSpec::from_json(&read(
        "wandb-job/code-artifact-job.cli-created.wandb-job.json",
    ))
    .unwrap();
    assert_eq!(job.code_artifact_id(), Some("QXJ0aWZhY3Q6NTAx"));
    assert_eq!(job.entrypoint(), ["python", "train.py"]);
    let from_run =
        JobSpec::from_json(&read("wandb-job/code-artifact-job.from-run.wandb-job.json")).unwrap();
    assert_eq!(
        from_run.input_names(),
        ["epochs", "lr", "optimizer", "layers"]
    );
}

#[test]
fn job_metadata_gives_a_config_schema() {
    for name in files("wandb-job", ".json")
        .into_iter()
        .filter(|n| n.starts_with("job-artifact-metadata"))
    {
        let raw = json_file(&format!("wandb-job/{name}"));
        let meta: JobMetadata = serde_json::from_value(raw.clone()).unwrap();
        assert_eq!(serde_json::to_value(&meta).unwrap(), raw, "{name}");
    }
    let meta: JobMetadata = serde_json::from_value(json_file(
        "wandb-job/job-artifact-metadata.cli-input-schemas.json",
    ))
    .unwrap();
    let schema = meta.config_schema().unwrap();
    let problems = schema.validate(&json!({"lr": 5, "epochs": 3, "optimizer": "adam"}));
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        text,
        [
            "lr: must be at most 1, got 5",
            "epochs: must be one of 1, 5, 10, got 3"
        ]
    );
    let partial: JobMetadata = serde_json::from_value(json_file(
        "wandb-job/job-artifact-metadata.cli-partial.json",
    ))
    .unwrap();
    assert_eq!(partial.partial, Some(true));
    assert!(partial.config_schema().is_none());
}

#[test]
fn launch_configs_match_what_the_sdk_resolves() {
    let expected = json_file("launch-config/expected.json");
    for (file, outcome) in expected.as_object().unwrap() {
        let text = read(&format!("launch-config/{file}"));
        let parsed = AgentConfig::from_yaml(&text);
        match outcome["result"].as_str().unwrap() {
            "valid" => {
                let cfg = parsed.unwrap_or_else(|e| panic!("{file}: {e}"));
                assert_eq!(
                    cfg.resolved(),
                    outcome["resolved_config_sent_as_agentConfig"],
                    "{file}"
                );
            }
            _ => {
                let err = parsed.expect_err(file).to_string();
                // The SDK names the field; so do we.
                for line in outcome["termerror_lines"].as_array().unwrap() {
                    let line = line.as_str().unwrap();
                    let field = line
                        .strip_prefix("Agent config error in field ")
                        .and_then(|r| r.split([' ', ':']).next())
                        .unwrap();
                    assert!(err.contains(&format!("field {field}")), "{file}: {err}");
                }
            }
        }
    }
}

fn queue_config(file: &str) -> DefaultResourceConfig {
    let q = json_file(&format!("queue-config/{file}"));
    let call = &q["api_call"];
    let resource: ResourceType = serde_json::from_value(call["type"].clone()).unwrap();
    DefaultResourceConfig {
        id: None,
        resource,
        config: DefaultResourceConfig::wrap(resource, call["config"].clone()),
        template_variables: template_variables_from_input(&call["template_variables"]).unwrap(),
    }
}

#[test]
fn push_renders_the_kubernetes_queue_as_the_server_does() {
    let cfg = queue_config("kubernetes.json");
    let q = json_file("queue-config/kubernetes.json");
    // The wire forms the SDK sends and reads back.
    let wrapped: JsonString<Value> =
        serde_json::from_value(q["CreateDefaultResourceConfig.variables"]["config"].clone())
            .unwrap();
    assert_eq!(wrapped.0, cfg.config);
    let served = &q["GetDefaultResourceConfig.response"]["data"]["entity"]["defaultResourceConfig"];
    assert_eq!(
        serde_json::to_value(&cfg.template_variables).unwrap(),
        served["templateVariables"]
    );

    let vars = json_file("run-spec/image-job-template-variables.push-variables.json");
    let mut spec = LaunchSpec::from_json(vars["runSpec"].as_str().unwrap()).unwrap();
    let values: Map<String, Value> =
        serde_json::from_str(vars["templateVariableValues"].as_str().unwrap()).unwrap();
    merge_for_push(&mut spec, "gpu-queue", Some(&cfg), &values).unwrap();
    let popped = json_file("pop/popFromRunQueue.image-job-k8s-templated.response.json");
    assert_eq!(
        spec.to_value(),
        popped["data"]["popFromRunQueue"]["runSpec"]
    );
    let pushed = json_file("pop/pushToRunQueueByName.image-job-k8s-templated.response.json");
    let as_string: JsonString<Value> =
        serde_json::from_value(pushed["data"]["pushToRunQueueByName"]["runSpec"].clone()).unwrap();
    assert_eq!(as_string.0, spec.to_value());
}

#[test]
fn push_merges_spec_resource_args_over_the_queue_config() {
    let cfg = DefaultResourceConfig {
        id: None,
        resource: ResourceType::LocalContainer,
        config: DefaultResourceConfig::wrap(ResourceType::LocalContainer, json!({"memory": "8g"})),
        template_variables: vec![],
    };
    let mut spec = LaunchSpec::from_value(json_file(
        "run-spec/artifact-job-local-container.runSpec.json",
    ))
    .unwrap();
    merge_for_push(&mut spec, "default", Some(&cfg), &Map::new()).unwrap();
    let popped = json_file("pop/popFromRunQueue.artifact-job-local-container.response.json");
    assert_eq!(
        spec.to_value(),
        popped["data"]["popFromRunQueue"]["runSpec"]
    );

    // A spec for another resource is refused, with the reason.
    let mut other =
        LaunchSpec::from_value(json!({"job": "a/b/c:v0", "resource": "kubernetes"})).unwrap();
    let err = merge_for_push(&mut other, "default", Some(&cfg), &Map::new()).unwrap_err();
    assert!(
        err[0]
            .message
            .contains("runs local-container jobs, but the spec asks for kubernetes")
    );
    // An image cannot run on a local-process queue: refused, not left to fail on the agent.
    let process = DefaultResourceConfig {
        id: None,
        resource: ResourceType::LocalProcess,
        config: DefaultResourceConfig::wrap(ResourceType::LocalProcess, json!({})),
        template_variables: vec![],
    };
    let mut image =
        LaunchSpec::from_value(json!({"docker": {"docker_image": "busybox:1.36"}})).unwrap();
    let err = merge_for_push(&mut image, "cpu", Some(&process), &Map::new()).unwrap_err();
    assert_eq!(err[0].path, "docker.docker_image");
    assert!(
        err[0]
            .message
            .starts_with("a local-process queue cannot run container image busybox:1.36; push it to a local-container or kubernetes queue")
    );
    let mut by_uri = LaunchSpec::from_value(json!({"image_uri": "busybox:1.36"})).unwrap();
    let err = merge_for_push(&mut by_uri, "cpu", Some(&process), &Map::new()).unwrap_err();
    assert_eq!(err[0].path, "image_uri");
    let mut command =
        LaunchSpec::from_value(json!({"overrides": {"entry_point": ["echo", "hi"]}})).unwrap();
    merge_for_push(&mut command, "cpu", Some(&process), &Map::new()).unwrap();
    // Nor an image job, once its wandb-job.json is read; code jobs may go anywhere.
    let image_job =
        JobSpec::from_json(r#"{"source_type": "image", "source": {"image": "busybox:1.36"}}"#)
            .unwrap();
    let err = check_job(
        ResourceType::LocalProcess,
        "a/p/job-busybox:latest",
        &image_job,
    )
    .unwrap_err();
    assert_eq!(err.path, "job");
    assert_eq!(
        err.message,
        "a local-process queue cannot run container image busybox:1.36 (job a/p/job-busybox:latest is an image job); push it to a local-container or kubernetes queue"
    );
    check_job(
        ResourceType::LocalContainer,
        "a/p/job-busybox:latest",
        &image_job,
    )
    .unwrap();
    let code_job = JobSpec::from_json(
        r#"{"source_type": "artifact", "source": {"artifact": "wandb-artifact://_id/QXJ0aWZhY3Q6MQ==", "entrypoint": ["python", "train.py"]}}"#,
    )
    .unwrap();
    check_job(
        ResourceType::LocalProcess,
        "a/p/job-train:latest",
        &code_job,
    )
    .unwrap();
    // Template values for a queue without variables are refused.
    let mut values = Map::new();
    values.insert("cpu".into(), json!(1));
    let mut plain = LaunchSpec::default();
    assert!(merge_for_push(&mut plain, "default", Some(&cfg), &values).is_err());
}

#[test]
fn manifests_round_trip() {
    for name in files("artifact-manifest", ".json") {
        let raw = json_file(&format!("artifact-manifest/{name}"));
        let m: ArtifactManifest = serde_json::from_value(raw.clone()).unwrap();
        assert_eq!(serde_json::to_value(&m).unwrap(), raw, "{name}");
    }
    let uploaded: ArtifactManifest = serde_json::from_value(json_file(
        "artifact-manifest/job-artifact.as-uploaded-by-wandb-core.json",
    ))
    .unwrap();
    let served = json_file("artifact-manifest/job-artifact.as-served-for-download.json");
    assert_eq!(
        serde_json::to_value(uploaded.for_download()).unwrap(),
        served
    );
}
