//! Runs, as far as launch needs them (spec §2.5).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// A run's state, as W&B names it (lower case on the wire).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RunState {
    Pending,
    Running,
    Finished,
    Failed,
    Crashed,
    Killed,
    Preempting,
    Preempted,
    Other(String),
}

impl RunState {
    pub fn as_str(&self) -> &str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Finished => "finished",
            Self::Failed => "failed",
            Self::Crashed => "crashed",
            Self::Killed => "killed",
            Self::Preempting => "preempting",
            Self::Preempted => "preempted",
            Self::Other(s) => s,
        }
    }

    pub fn parse(s: &str) -> Self {
        match s.to_ascii_lowercase().as_str() {
            "pending" => Self::Pending,
            "running" => Self::Running,
            "finished" => Self::Finished,
            "failed" => Self::Failed,
            "crashed" => Self::Crashed,
            "killed" => Self::Killed,
            "preempting" => Self::Preempting,
            "preempted" => Self::Preempted,
            _ => Self::Other(s.to_owned()),
        }
    }

    /// The run will not change state by itself any more.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::Finished | Self::Failed | Self::Crashed | Self::Killed | Self::Preempted
        )
    }
}

impl fmt::Display for RunState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for RunState {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for RunState {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self::parse(&String::deserialize(d)?))
    }
}

/// A run (`Run` / bucket), the fields Liftoff's surfaces show.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Run {
    /// GraphQL node id (what `stopRun` takes).
    pub id: String,
    /// The run id (what `wandb.init(id=...)` and `ackRunQueueItem.runName` use).
    pub name: String,
    #[serde(default)]
    pub display_name: Option<String>,
    pub state: RunState,
    #[serde(default)]
    pub stopped: bool,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub heartbeat_at: Option<String>,
    #[serde(default)]
    pub project: Option<String>,
    #[serde(default)]
    pub entity: Option<String>,
    /// `{key: {"value": v, "desc": ...}}` as W&B stores it.
    #[serde(default)]
    pub config: Map<String, Value>,
    #[serde(default)]
    pub summary: Map<String, Value>,
    #[serde(default)]
    pub exit_code: Option<i64>,
}

impl Run {
    /// Config values without W&B's `{"value": ...}` wrapping and without `_wandb`.
    pub fn plain_config(&self) -> Map<String, Value> {
        unwrap_config(&self.config)
    }
}

/// `{k: {"value": v}}` -> `{k: v}`, dropping internal `_wandb`.
pub fn unwrap_config(config: &Map<String, Value>) -> Map<String, Value> {
    config
        .iter()
        .filter(|(k, _)| k.as_str() != "_wandb")
        .map(|(k, v)| {
            let inner = v
                .as_object()
                .and_then(|o| o.get("value"))
                .cloned()
                .unwrap_or(v.clone());
            (k.clone(), inner)
        })
        .collect()
}

/// `{k: v}` -> `{k: {"value": v}}`, the form `upsertBucket.config` takes.
pub fn wrap_config(plain: &Map<String, Value>) -> Map<String, Value> {
    plain
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::json!({ "value": v })))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn states_and_config() {
        assert_eq!(RunState::parse("FINISHED"), RunState::Finished);
        assert!(RunState::Killed.is_terminal());
        assert!(!RunState::Running.is_terminal());
        let cfg = json!({"lr": {"value": 0.1, "desc": null}, "_wandb": {"value": {}}})
            .as_object()
            .unwrap()
            .clone();
        assert_eq!(Value::Object(unwrap_config(&cfg)), json!({"lr": 0.1}));
        assert_eq!(
            Value::Object(wrap_config(&unwrap_config(&cfg))),
            json!({"lr": {"value": 0.1}})
        );
    }
}
