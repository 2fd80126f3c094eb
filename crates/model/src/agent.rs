//! Launch agents (spec §2.4, §4).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use time::OffsetDateTime;

use crate::timefmt;

/// How often a Liftoff agent heartbeats (`updateLaunchAgent`), in seconds.
/// W&B's Python agent does it every 2nd tick, about every 20 s.
pub const HEARTBEAT_INTERVAL_SECS: i64 = 20;
/// An agent whose last heartbeat is older than this is gone (3 intervals).
pub const AGENT_GONE_AFTER_SECS: i64 = 3 * HEARTBEAT_INTERVAL_SECS;

/// What agents send as `agentStatus`, plus what a server may answer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AgentStatus {
    Polling,
    Running,
    Killed,
    /// A status string this crate does not know, kept verbatim.
    Other(String),
}

impl AgentStatus {
    pub fn as_str(&self) -> &str {
        match self {
            Self::Polling => "POLLING",
            Self::Running => "RUNNING",
            Self::Killed => "KILLED",
            Self::Other(s) => s,
        }
    }

    pub fn parse(s: &str) -> Self {
        match s.to_ascii_uppercase().as_str() {
            "POLLING" => Self::Polling,
            "RUNNING" => Self::Running,
            "KILLED" => Self::Killed,
            _ => Self::Other(s.to_owned()),
        }
    }
}

impl fmt::Display for AgentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for AgentStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for AgentStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self::parse(&String::deserialize(d)?))
    }
}

/// A launch agent (`LaunchAgent`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Agent {
    pub id: String,
    /// Server-generated, `[a-z0-9-]{1,63}`: usable as a run id and a k8s label.
    pub name: String,
    /// Queue ids.
    #[serde(default)]
    pub run_queues: Vec<String>,
    #[serde(default)]
    pub hostname: String,
    pub agent_status: AgentStatus,
    #[serde(default)]
    pub stop_polling: bool,
    #[serde(default)]
    pub heartbeat_at: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub entity_name: Option<String>,
    /// The resolved launch-config the agent registered with.
    #[serde(default)]
    pub agent_config: Option<Value>,
}

/// How an agent looks from outside, given its status and heartbeat.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Liveness {
    /// Heartbeat recent, polling for work.
    Polling,
    /// Heartbeat recent, running at least one job.
    Running,
    /// Told to stop, or reported KILLED.
    Stopped,
    /// No heartbeat for more than three intervals.
    Gone,
}

impl Liveness {
    /// An agent's liveness at `now` from its status and last heartbeat.
    pub fn of(
        status: &AgentStatus,
        heartbeat: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Self {
        if *status == AgentStatus::Killed {
            return Self::Stopped;
        }
        let fresh = heartbeat.is_some_and(|t| (now - t).whole_seconds() <= AGENT_GONE_AFTER_SECS);
        match (fresh, status) {
            (false, _) => Self::Gone,
            (true, AgentStatus::Running) => Self::Running,
            (true, _) => Self::Polling,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Polling => "Polling",
            Self::Running => "Running",
            Self::Stopped => "Stopped",
            Self::Gone => "Gone",
        }
    }
    pub fn is_alive(self) -> bool {
        matches!(self, Self::Polling | Self::Running)
    }
}

impl Agent {
    pub fn heartbeat(&self) -> Option<OffsetDateTime> {
        self.heartbeat_at.as_deref().and_then(timefmt::parse)
    }

    pub fn liveness(&self, now: OffsetDateTime) -> Liveness {
        Liveness::of(&self.agent_status, self.heartbeat(), now)
    }

    /// Alive and not told to stop polling: it takes new items (an agent told
    /// to stop runs what it has but takes nothing new).
    pub fn polls(&self, now: OffsetDateTime) -> bool {
        self.liveness(now).is_alive() && !self.stop_polling
    }

    /// `max_jobs` from the registered config (1 when absent, -1 unlimited).
    pub fn max_jobs(&self) -> i64 {
        self.agent_config
            .as_ref()
            .and_then(|c| c.get("max_jobs"))
            .and_then(Value::as_i64)
            .unwrap_or(1)
    }
}

/// Make an agent name safe as a W&B run id and a Kubernetes label value.
pub fn safe_agent_name(seed: &str) -> String {
    let mut name: String = seed
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    name.truncate(63);
    let trimmed = name.trim_matches('-');
    if trimmed.is_empty() {
        "agent".to_owned()
    } else {
        trimmed.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn agent(status: &str, heartbeat: &str) -> Agent {
        serde_json::from_value(json!({
            "id": "QWdlbnQ6MQ==", "name": "agent-x", "agentStatus": status,
            "heartbeatAt": heartbeat, "runQueues": ["UnVuUXVldWU6MQ=="], "hostname": "vm",
            "stopPolling": false, "agentConfig": {"max_jobs": 2}
        }))
        .unwrap()
    }

    #[test]
    fn liveness_depends_on_the_clock() {
        let now = timefmt::parse("2026-11-28T12:00:00Z").unwrap();
        assert_eq!(
            agent("POLLING", "2026-11-28T11:59:30").liveness(now),
            Liveness::Polling
        );
        assert_eq!(
            agent("RUNNING", "2026-11-28T11:59:30").liveness(now),
            Liveness::Running
        );
        assert_eq!(
            agent("POLLING", "2026-11-28T11:58:59").liveness(now),
            Liveness::Gone
        );
        assert_eq!(
            agent("KILLED", "2026-11-28T11:59:59").liveness(now),
            Liveness::Stopped
        );
        assert_eq!(agent("POLLING", "2026-11-28T11:59:30").max_jobs(), 2);
        assert_eq!(
            AgentStatus::parse("weird"),
            AgentStatus::Other("weird".into())
        );
    }

    #[test]
    fn safe_names() {
        assert_eq!(safe_agent_name("My Host.local_1"), "my-host-local-1");
        assert_eq!(safe_agent_name("___"), "agent");
        assert!(safe_agent_name(&"x".repeat(100)).len() <= 63);
    }
}
