//! Launch agent registration and heartbeats (spec §2.4).

use liftoff_model::agent::AgentStatus;
use liftoff_model::{Agent, LAUNCH_PROJECT};
use serde_json::{Value, json};

use crate::error::Error;
use crate::graphql::{at, from_value, string_at, success, vars};
use crate::ops::operation;

/// `mutation createLaunchAgent`: answers the new agent's id.
#[derive(Clone, Debug)]
pub struct CreateLaunchAgent {
    pub entity: String,
    pub project: String,
    pub queue_ids: Vec<String>,
    pub hostname: String,
    /// The resolved config (sent as a JSON string).
    pub agent_config: Value,
    pub version: String,
}
impl CreateLaunchAgent {
    pub fn new(
        entity: impl Into<String>,
        queue_ids: Vec<String>,
        hostname: impl Into<String>,
        agent_config: Value,
        version: impl Into<String>,
    ) -> Self {
        Self {
            entity: entity.into(),
            project: LAUNCH_PROJECT.into(),
            queue_ids,
            hostname: hostname.into(),
            agent_config,
            version: version.into(),
        }
    }
}
operation!(CreateLaunchAgent, "createLaunchAgent", "createLaunchAgent", typed = false, output = String,
    vars(self) {
        vars([
            ("entity", json!(self.entity)),
            ("project", json!(self.project)),
            ("queues", json!(self.queue_ids)),
            ("hostname", json!(self.hostname)),
            ("agentConfig", json!(self.agent_config.to_string())),
            ("version", json!(self.version)),
        ])
    },
    decode(self, data) { string_at("createLaunchAgent", &data, &["createLaunchAgent", "launchAgentId"]) });

/// `query LaunchAgent`: read every tick for `stopPolling`.
#[derive(Clone, Debug)]
pub struct LaunchAgent {
    pub id: String,
}
operation!(LaunchAgent, "LaunchAgent", "LaunchAgent", typed = false, output = Agent,
vars(self) { vars([("agentId", json!(self.id))]) },
decode(self, data) {
    let a = at(&data, &["launchAgent"]).ok_or_else(|| Error::NotFound { what: format!("launch agent {}", self.id) })?;
    from_value("LaunchAgent", a)
});

/// `mutation updateLaunchAgent`: status and heartbeat.
#[derive(Clone, Debug)]
pub struct UpdateLaunchAgent {
    pub id: String,
    pub status: AgentStatus,
}
operation!(UpdateLaunchAgent, "updateLaunchAgent", "updateLaunchAgent", typed = false, output = (),
    vars(self) { vars([("agentId", json!(self.id)), ("agentStatus", json!(self.status.as_str()))]) },
    decode(self, data) { success("updateLaunchAgent", data.get("updateLaunchAgent"), "the agent status was not updated") });
