//! The environment every job gets (spec §4.7).

use liftoff_model::spec::LaunchSpec;
use serde_json::{Map, Value, json};

/// W&B splits long JSON values into `NAME_0..n` chunks of this size.
pub const CHUNK: usize = 32_670;

/// What the agent knows besides the spec.
#[derive(Clone, Debug)]
pub struct JobIdentity<'a> {
    pub base_url: &'a str,
    pub api_key: &'a str,
    pub run_id: &'a str,
    pub entity: &'a str,
    pub project: &'a str,
    pub queue: &'a str,
    pub queue_entity: &'a str,
    pub item_id: &'a str,
    /// `entity/project/name:alias` of the job, if launched from one.
    pub job: Option<&'a str>,
    pub image: Option<&'a str>,
}

/// The variables, in a stable order.
pub fn job_env(spec: &LaunchSpec, id: &JobIdentity<'_>) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = Vec::new();
    let mut set = |k: &str, v: &str| env.push((k.to_owned(), v.to_owned()));
    set("WANDB_BASE_URL", id.base_url);
    set(
        "WANDB_API_KEY",
        spec.wandb_api_key.as_deref().unwrap_or(id.api_key),
    );
    if !id.project.is_empty() {
        set("WANDB_PROJECT", id.project);
    }
    set("WANDB_ENTITY", id.entity);
    set("WANDB_LAUNCH", "True");
    set("WANDB_RUN_ID", id.run_id);
    if let Some(image) = id.image {
        set("WANDB_DOCKER", image);
    }
    if let Some(name) = &spec.name {
        set("WANDB_NAME", name);
    }
    if let (Some(author), None) = (&spec.author, &spec.wandb_api_key) {
        set("WANDB_USERNAME", author);
    }
    if let Some(sweep) = &spec.sweep_id {
        set("WANDB_SWEEP_ID", sweep);
    }
    if spec.resume_count.unwrap_or(0) > 0 {
        set("WANDB_RESUME", "allow");
    }
    set("WANDB_LAUNCH_QUEUE_NAME", id.queue);
    set("WANDB_LAUNCH_QUEUE_ENTITY", id.queue_entity);
    set("WANDB_LAUNCH_TRACE_ID", id.item_id);
    let overrides = spec.overrides();
    if let Some(cfg) = &overrides.run_config {
        chunked(
            &mut env,
            "WANDB_CONFIG",
            &Value::Object(cfg.clone()).to_string(),
        );
    }
    if let Some(files) = &overrides.files {
        chunked(
            &mut env,
            "WANDB_LAUNCH_FILE_OVERRIDES",
            &Value::Object(files.clone()).to_string(),
        );
    }
    let mut artifacts = Map::new();
    if let Some(job) = id.job {
        artifacts.insert("_wandb_job".into(), json!(job));
    }
    if let Some(extra) = &overrides.artifacts {
        artifacts.extend(extra.clone());
    }
    if !artifacts.is_empty() {
        env.push((
            "WANDB_ARTIFACTS".into(),
            Value::Object(artifacts).to_string(),
        ));
    }
    env
}

fn chunked(env: &mut Vec<(String, String)>, name: &str, value: &str) {
    if value.len() <= CHUNK {
        env.push((name.to_owned(), value.to_owned()));
        return;
    }
    let mut start = 0;
    let mut i = 0;
    while start < value.len() {
        let mut end = (start + CHUNK).min(value.len());
        while !value.is_char_boundary(end) {
            end -= 1;
        }
        env.push((format!("{name}_{i}"), value[start..end].to_owned()));
        start = end;
        i += 1;
    }
}

/// A value safe to show in logs: API keys redacted.
pub fn redacted(env: &[(String, String)]) -> Vec<(String, String)> {
    env.iter()
        .map(|(k, v)| {
            if k.contains("API_KEY") || k.contains("TOKEN") || k.contains("SECRET") {
                (k.clone(), "<redacted>".into())
            } else {
                (k.clone(), v.clone())
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> JobIdentity<'static> {
        JobIdentity {
            base_url: "http://127.0.0.1:8080",
            api_key: "k",
            run_id: "ab12cd34",
            entity: "alice",
            project: "proj",
            queue: "default",
            queue_entity: "alice",
            item_id: "UnVuUXVldWVJdGVtOjE=",
            job: Some("alice/proj/job-x:latest"),
            image: None,
        }
    }

    #[test]
    fn sets_the_wandb_launch_environment() {
        let spec = LaunchSpec::from_value(json!({"name": "lp-run", "author": "alice", "overrides": {"run_config": {"lr": 0.1}, "artifacts": {"data": "a/b/c:v1"}}})).unwrap();
        let env = job_env(&spec, &id());
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("WANDB_RUN_ID"), Some("ab12cd34"));
        assert_eq!(get("WANDB_LAUNCH"), Some("True"));
        assert_eq!(get("WANDB_CONFIG"), Some("{\"lr\":0.1}"));
        assert_eq!(get("WANDB_NAME"), Some("lp-run"));
        assert_eq!(get("WANDB_USERNAME"), Some("alice"));
        assert_eq!(get("WANDB_LAUNCH_QUEUE_NAME"), Some("default"));
        assert_eq!(
            get("WANDB_ARTIFACTS"),
            Some("{\"_wandb_job\":\"alice/proj/job-x:latest\",\"data\":\"a/b/c:v1\"}")
        );
        assert!(get("WANDB_RESUME").is_none());
        assert!(
            redacted(&env)
                .iter()
                .any(|(k, v)| k == "WANDB_API_KEY" && v == "<redacted>")
        );
    }

    #[test]
    fn long_configs_are_chunked() {
        let big = "x".repeat(CHUNK * 2 + 10);
        let spec =
            LaunchSpec::from_value(json!({"overrides": {"run_config": {"big": big}}})).unwrap();
        let env = job_env(&spec, &id());
        let parts: Vec<&(String, String)> = env
            .iter()
            .filter(|(k, _)| k.starts_with("WANDB_CONFIG_"))
            .collect();
        assert_eq!(parts.len(), 3);
        let joined: String = parts.iter().map(|(_, v)| v.as_str()).collect();
        assert_eq!(
            joined,
            json!({"big": "x".repeat(CHUNK * 2 + 10)}).to_string()
        );
    }
}
