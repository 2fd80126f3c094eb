//! Queues (run queues) and their default resource configs (spec §2.2, §3.3).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::json::JsonString;
use crate::schema::JsonSchema;

/// `RunQueueAccessType`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum QueueAccess {
    #[default]
    Project,
    User,
}

/// `RunQueuePrioritizationMode`: `V0` serves lower priority numbers first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PrioritizationMode {
    #[default]
    #[serde(rename = "DISABLED")]
    Disabled,
    V0,
}

impl PrioritizationMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disabled => "DISABLED",
            Self::V0 => "V0",
        }
    }
    pub fn enabled(self) -> bool {
        self == Self::V0
    }
}

/// Where a queue's jobs run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ResourceType {
    LocalProcess,
    LocalContainer,
    Kubernetes,
    Sagemaker,
    GcpVertex,
}

impl ResourceType {
    pub const ALL: [ResourceType; 5] = [
        Self::LocalProcess,
        Self::LocalContainer,
        Self::Kubernetes,
        Self::Sagemaker,
        Self::GcpVertex,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::LocalProcess => "local-process",
            Self::LocalContainer => "local-container",
            Self::Kubernetes => "kubernetes",
            Self::Sagemaker => "sagemaker",
            Self::GcpVertex => "gcp-vertex",
        }
    }

    /// Whether its runner can run a container image (every one but local-process).
    pub fn runs_images(self) -> bool {
        self != Self::LocalProcess
    }

    /// Whether Liftoff's own agent runs it (SageMaker and Vertex need W&B's).
    pub fn liftoff_agent_runs(self) -> bool {
        matches!(
            self,
            Self::LocalProcess | Self::LocalContainer | Self::Kubernetes
        )
    }

    /// What to know about who runs this queue's items, when it is not
    /// any agent: said where the queue is made and where an agent is added.
    pub fn agent_note(self) -> Option<String> {
        (!self.liftoff_agent_runs()).then(|| {
            format!(
                "{} jobs are run by W&B's agent (wandb launch-agent, with its {} setup); Liftoff's agent runs local-process, local-container and kubernetes, and fails items here.",
                self.label(),
                self.as_str()
            )
        })
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::LocalProcess => "Local process",
            Self::LocalContainer => "Local container",
            Self::Kubernetes => "Kubernetes",
            Self::Sagemaker => "Amazon SageMaker",
            Self::GcpVertex => "GCP Vertex",
        }
    }
}

impl fmt::Display for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown resource {0:?}: use one of local-process, local-container, kubernetes, sagemaker, gcp-vertex{hint}",
    hint = resource_hint(.0)
)]
pub struct ParseResourceError(pub String);

fn resource_hint(name: &str) -> String {
    resource_meant(name).map_or_else(String::new, |meant| format!(" (for {name:?}, use {meant})"))
}

/// The resource meant by a name W&B's UI or other tools use for it, or a
/// small typo of one.
pub fn resource_meant(name: &str) -> Option<&'static str> {
    let meant = match name.trim().to_ascii_lowercase().as_str() {
        "docker" | "podman" | "container" | "local-docker" => "local-container",
        "process" | "local_process" | "localprocess" => "local-process",
        "k8s" | "kube" => "kubernetes",
        "vertex-ai" | "gcp_vertex" | "vertexai" => "gcp-vertex",
        "aws-sagemaker" | "sage-maker" => "sagemaker",
        typed => {
            let names = ResourceType::ALL.map(ResourceType::as_str);
            return crate::config::closest(typed, &names);
        }
    };
    Some(meant)
}

impl FromStr for ResourceType {
    type Err = ParseResourceError;
    /// Accepts the W&B names and the agent's aliases (`vertex`, `local`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "local-process" => Ok(Self::LocalProcess),
            "local-container" | "local" => Ok(Self::LocalContainer),
            "kubernetes" => Ok(Self::Kubernetes),
            "sagemaker" => Ok(Self::Sagemaker),
            "gcp-vertex" | "vertex" => Ok(Self::GcpVertex),
            _ => Err(ParseResourceError(s.to_owned())),
        }
    }
}

impl Serialize for ResourceType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ResourceType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A queue's template variable: `{{name}}` in its config, typed by `schema`.
/// On the wire (`templateVariables { name schema }`) `schema` is a compact
/// JSON string.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TemplateVariable {
    pub name: String,
    pub schema: JsonString<JsonSchema>,
}

impl TemplateVariable {
    pub fn new(name: impl Into<String>, schema: JsonSchema) -> Self {
        Self {
            name: name.into(),
            schema: JsonString(schema),
        }
    }
    pub fn schema(&self) -> &JsonSchema {
        &self.schema.0
    }
}

/// Template variables as the SDK sends them when creating a queue:
/// `{"cpu": {"schema": {...}}}` (a JSONString input).
pub fn template_variables_from_input(input: &Value) -> Result<Vec<TemplateVariable>, String> {
    let Some(map) = input.as_object() else {
        return Err(
            "template variables must be an object like {\"cpu\": {\"schema\": {...}}}".into(),
        );
    };
    map.iter()
        .map(|(name, def)| {
            let schema = def.get("schema").ok_or_else(|| {
                format!("template variable {name:?} has no \"schema\": write {{\"{name}\": {{\"schema\": {{\"type\": \"string\"}}}}}}")
            })?;
            let schema: JsonSchema = serde_json::from_value(schema.clone())
                .map_err(|e| format!("template variable {name:?} has an invalid schema: {e}"))?;
            Ok(TemplateVariable::new(name.clone(), schema))
        })
        .collect()
}

/// The input form of a list of template variables.
pub fn template_variables_to_input(vars: &[TemplateVariable]) -> Value {
    let map: Map<String, Value> = vars
        .iter()
        .map(|v| {
            let schema = serde_json::to_value(v.schema()).unwrap_or(Value::Null);
            (v.name.clone(), serde_json::json!({ "schema": schema }))
        })
        .collect();
    Value::Object(map)
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalLink {
    pub label: String,
    pub url: String,
}

/// `{"links": [{"label", "url"}]}`, the form of `RunQueue.externalLinks`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalLinks {
    #[serde(default)]
    pub links: Vec<ExternalLink>,
}

/// A default resource config (`DefaultResourceConfig`): the base of every
/// item's `resource_args`, rendered with template variables at push time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DefaultResourceConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub resource: ResourceType,
    /// `{"resource_args": {<resource>: {...}}}`.
    pub config: Value,
    #[serde(rename = "templateVariables", default)]
    pub template_variables: Vec<TemplateVariable>,
}

impl DefaultResourceConfig {
    /// Wrap a bare resource config as `{"resource_args": {<resource>: cfg}}`.
    pub fn wrap(resource: ResourceType, config: Value) -> Value {
        serde_json::json!({ "resource_args": { resource.as_str(): config } })
    }

    /// The config for this resource (`config.resource_args[<resource>]`).
    pub fn resource_args(&self) -> Option<&Value> {
        self.config
            .get("resource_args")
            .and_then(|r| r.get(self.resource.as_str()))
    }
}

/// A run queue as Liftoff's surfaces see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Queue {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub entity_name: String,
    #[serde(default)]
    pub access: QueueAccess,
    #[serde(default)]
    pub prioritization_mode: PrioritizationMode,
    #[serde(default)]
    pub created_by: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default, rename = "defaultResourceConfigID")]
    pub default_resource_config_id: Option<String>,
    #[serde(default)]
    pub default_resource_config: Option<DefaultResourceConfig>,
    #[serde(default)]
    pub external_links: ExternalLinks,
}

impl Queue {
    pub fn resource(&self) -> Option<ResourceType> {
        self.default_resource_config.as_ref().map(|c| c.resource)
    }
    pub fn template_variables(&self) -> &[TemplateVariable] {
        self.default_resource_config
            .as_ref()
            .map_or(&[], |c| &c.template_variables)
    }
}

/// Queue names: 1-64 characters (the SDK's check), no control characters,
/// no `/` (it would break `entity/queue` references).
pub fn validate_queue_name(name: &str) -> Result<(), String> {
    let len = name.chars().count();
    if len == 0 {
        return Err("a queue needs a name (1 to 64 characters)".into());
    }
    if len > 64 {
        return Err(format!("queue name must be 1 to 64 characters, got {len}"));
    }
    if name.trim() != name {
        return Err("queue name must not start or end with spaces".into());
    }
    if name.chars().any(|c| c.is_control() || c == '/') {
        return Err(format!(
            "queue name {name:?} may not contain '/' or control characters"
        ));
    }
    // A browser reads `/launch/e/..` as `/launch`: no link could reach it.
    if name == "." || name == ".." {
        return Err(format!(
            "queue name {name:?} cannot be a path of its own: give it a name"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_queue_name_a_link_could_not_reach_is_refused() {
        for bad in [".", "..", "", " q", "a/b"] {
            assert!(validate_queue_name(bad).is_err(), "{bad:?}");
        }
        for good in ["default", "gpu #1?", "...", ".hidden", "a.b"] {
            assert!(validate_queue_name(good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn sagemaker_and_vertex_say_whose_agent_runs_them() {
        let runs: Vec<&str> = ResourceType::ALL
            .into_iter()
            .filter(|r| r.liftoff_agent_runs())
            .map(ResourceType::as_str)
            .collect();
        assert_eq!(runs, ["local-process", "local-container", "kubernetes"]);
        assert_eq!(ResourceType::Kubernetes.agent_note(), None);
        let note = ResourceType::Sagemaker.agent_note().unwrap();
        assert!(
            note.starts_with("Amazon SageMaker jobs are run by W&B's agent (wandb launch-agent"),
            "{note}"
        );
    }

    #[test]
    fn template_variables_wire_forms() {
        let input = json!({"cpu": {"schema": {"type": "integer", "minimum": 1, "maximum": 8, "default": 2}}});
        let vars = template_variables_from_input(&input).unwrap();
        assert_eq!(vars[0].name, "cpu");
        // output form: schema as a compact JSON string
        assert_eq!(
            serde_json::to_value(&vars[0]).unwrap(),
            json!({"name": "cpu", "schema": "{\"type\":\"integer\",\"minimum\":1,\"maximum\":8,\"default\":2}"})
        );
        assert_eq!(
            template_variables_to_input(&vars)["cpu"]["schema"]["default"],
            json!(2)
        );
        let err = template_variables_from_input(&json!({"cpu": {"type": "integer"}})).unwrap_err();
        assert!(err.contains("has no \"schema\""), "{err}");
    }

    #[test]
    fn resources_and_names() {
        assert_eq!(
            "vertex".parse::<ResourceType>(),
            Ok(ResourceType::GcpVertex)
        );
        assert!(
            "slurm"
                .parse::<ResourceType>()
                .unwrap_err()
                .to_string()
                .contains("local-process")
        );
        // W&B's UI calls local-container "Docker".
        assert_eq!(
            "docker".parse::<ResourceType>().unwrap_err().to_string(),
            "unknown resource \"docker\": use one of local-process, local-container, kubernetes, sagemaker, gcp-vertex (for \"docker\", use local-container)"
        );
        // A typo is said with the name meant.
        assert!(
            "local-contaner"
                .parse::<ResourceType>()
                .unwrap_err()
                .to_string()
                .ends_with("(for \"local-contaner\", use local-container)")
        );
        assert!(
            !"slurm"
                .parse::<ResourceType>()
                .unwrap_err()
                .to_string()
                .contains("(for")
        );
        assert!(validate_queue_name("").is_err());
        assert!(validate_queue_name(&"q".repeat(65)).is_err());
        assert!(validate_queue_name("gpu/a").is_err());
        assert!(validate_queue_name("gpu-queue").is_ok());
    }
}
