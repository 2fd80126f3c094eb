//! What each fuzz target checks. Every parser must answer `Ok` or a
//! readable error for any input (a panic is a finding), and what it accepts
//! must survive a round trip.

use liftoff_model::config::AgentConfig;
use liftoff_model::job::{JobMetadata, JobSpec, artifact_safe_name, split_image_tag};
use liftoff_model::macros::{MacroContext, expand};
use liftoff_model::push::merge_for_push;
use liftoff_model::queue::{DefaultResourceConfig, validate_queue_name};
use liftoff_model::queue_draft::{ConfigFormat, parse_config};
use liftoff_model::resource_args::{check_kubernetes, check_local_container};
use liftoff_model::spec::{JobRef, LaunchSpec};
use liftoff_model::template::{placeholders, validate_definitions};
use serde_json::{Map, Value};

fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// A run spec as pushed: parse, check its source, round-trip it.
pub fn run_spec(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let Ok(spec) = LaunchSpec::from_json(text) else {
        return;
    };
    let _ = spec.validate_source();
    let _ = spec.command();
    let _ = spec.docker_image();
    let value = spec.to_value();
    let again = LaunchSpec::from_value(value.clone())
        .unwrap_or_else(|e| panic!("an accepted spec does not parse again: {e}\n{value}"));
    assert_eq!(again.to_value(), value, "the round trip changed the spec");
    for resource in ["local-container", "kubernetes"] {
        if let Some(args) = spec.resource_args_for(resource) {
            let _ = check_local_container(args);
            let _ = check_kubernetes(args);
        }
    }
    let ctx = MacroContext {
        run_id: Some("abc".into()),
        ..Default::default()
    };
    let _ = expand(&value, &ctx);
}

/// `launch-config.yaml` text.
pub fn launch_config(data: &[u8]) {
    let Some(text) = text(data) else { return };
    if let Ok(cfg) = AgentConfig::from_yaml(text) {
        let resolved = cfg.resolved();
        AgentConfig::from_value(&resolved)
            .unwrap_or_else(|e| panic!("a resolved config is refused: {e}\n{resolved}"));
    }
}

/// A queue config typed as YAML (the web app's editor): what is read is
/// printed back as YAML that reads as the same value.
pub fn config_yaml(data: &[u8]) {
    let Some(text) = text(data) else { return };
    if let Ok(value) = liftoff_model::yaml::from_str(text) {
        let printed = liftoff_model::yaml::to_string(&value);
        let again = liftoff_model::yaml::from_str(&printed)
            .unwrap_or_else(|e| panic!("printed YAML does not read: {e}\n{printed}"));
        assert_eq!(again, value, "the round trip changed the value\n{printed}");
    }
    let _ = parse_config(text, ConfigFormat::Yaml);
}

/// `wandb-job.json` and a job artifact's metadata.
pub fn job_spec(data: &[u8]) {
    let Some(text) = text(data) else { return };
    if let Ok(job) = JobSpec::from_json(text) {
        let _ = job.entrypoint();
        let _ = job.input_names();
        let _ = job.code_artifact_id();
        let again = JobSpec::from_json(&job.to_json_pretty())
            .unwrap_or_else(|e| panic!("an accepted job does not parse again: {e}"));
        assert_eq!(again, job, "the round trip changed the job");
    }
    if let Ok(meta) = serde_json::from_str::<JobMetadata>(text) {
        let _ = meta.config_schema();
    }
}

/// A push against a queue with a templated config: JSON
/// `{"queue": DefaultResourceConfig, "spec": runSpec, "values": {...}}`.
pub fn queue_push(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let Ok(Value::Object(input)) = serde_json::from_str::<Value>(text) else {
        return;
    };
    let queue: Option<DefaultResourceConfig> = input
        .get("queue")
        .and_then(|q| serde_json::from_value(q.clone()).ok());
    if let Some(q) = &queue {
        let _ = placeholders(&q.config);
        let _ = validate_definitions(&q.config, &q.template_variables);
    }
    let Some(Ok(mut spec)) = input.get("spec").cloned().map(LaunchSpec::from_value) else {
        return;
    };
    let values: Map<String, Value> = input
        .get("values")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if merge_for_push(&mut spec, "q", queue.as_ref(), &values).is_ok() {
        // what a push stores must read back
        let value = spec.to_value();
        LaunchSpec::from_value(value.clone())
            .unwrap_or_else(|e| panic!("a merged spec does not parse again: {e}\n{value}"));
    }
}

/// Names users type: job references, queue names, images, artifact names,
/// timestamps.
pub fn names(data: &[u8]) {
    let Some(text) = text(data) else { return };
    if let Ok(job) = JobRef::parse(text) {
        let shown = format!("{}/{}/{}:{}", job.entity, job.project, job.name, job.alias);
        assert_eq!(JobRef::parse(&shown).ok(), Some(job), "{shown}");
    }
    let _ = validate_queue_name(text);
    let safe = artifact_safe_name(text);
    assert_eq!(
        artifact_safe_name(&safe),
        safe,
        "artifact_safe_name is not stable"
    );
    let _ = split_image_tag(text);
    let _ = liftoff_model::timefmt::parse(text);
    let _ = liftoff_model::agent::AgentStatus::parse(text);
    let _ = liftoff_model::run::RunState::parse(text);
}

#[cfg(test)]
mod tests {
    //! The fixtures through every target (a stable smoke test of the checks).
    use std::path::Path;

    fn each(dir: &str, f: fn(&[u8])) -> usize {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../spec/fixtures")
            .join(dir);
        let mut n = 0;
        for e in std::fs::read_dir(dir).unwrap() {
            f(&std::fs::read(e.unwrap().path()).unwrap());
            n += 1;
        }
        n
    }

    #[test]
    fn fixtures_pass_every_check() {
        assert!(each("run-spec", super::run_spec) > 5);
        assert!(each("launch-config", super::launch_config) > 5);
        assert!(each("launch-config", super::config_yaml) > 5);
        assert!(each("wandb-job", super::job_spec) > 5);
        assert!(each("queue-config", super::queue_push) > 2);
        super::names(b"alice/proj/job-train:v3");
    }
}
