//! Who am I, what does the server support, entities and projects.

use liftoff_model::Viewer as ViewerInfo;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::Error;
use crate::graphql::{at, decode_err, nodes, string_at, vars};
use crate::ops::operation;

fn viewer_from(op: &str, v: &Value, url_hint: &str) -> Result<ViewerInfo, Error> {
    let Some(viewer) = at(v, &["viewer"]) else {
        return Err(Error::Unauthorized {
            url: url_hint.to_owned(),
        });
    };
    Ok(ViewerInfo {
        id: string_at(op, viewer, &["id"])?,
        entity: at(viewer, &["entity"])
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        username: at(viewer, &["username"])
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        email: at(viewer, &["email"])
            .and_then(Value::as_str)
            .map(str::to_owned),
        teams: nodes(viewer.get("teams"))
            .into_iter()
            .filter_map(|n| n.get("name").and_then(Value::as_str).map(str::to_owned))
            .collect(),
        admin: at(viewer, &["admin"])
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}

/// `query Viewer` (wandb-core's login check). A null viewer is a bad key.
#[derive(Clone, Debug, Default)]
pub struct Viewer;
operation!(Viewer, "Viewer", "Viewer", typed = true, output = ViewerInfo,
    vars(self) { None },
    decode(self, data) { viewer_from("Viewer", &data, "this server") });

/// `query GetViewer` (`Api.viewer`): also says whether the user is an admin.
#[derive(Clone, Debug, Default)]
pub struct GetViewer;
operation!(GetViewer, "GetViewer", "GetViewer", typed = false, output = ViewerInfo,
    vars(self) { Some(json!({})) },
    decode(self, data) { viewer_from("GetViewer", &data, "this server") });

/// `query GetDefaultEntity`: the viewer's default entity.
#[derive(Clone, Debug, Default)]
pub struct GetDefaultEntity;
operation!(GetDefaultEntity, "GetDefaultEntity", "GetDefaultEntity", typed = false, output = String,
vars(self) { Some(json!({})) },
decode(self, data) {
    at(&data, &["viewer"]).ok_or(Error::Unauthorized { url: "this server".into() })?;
    string_at("GetDefaultEntity", &data, &["viewer", "entity"])
});

/// What a server supports (`serverInfo.features`); missing means off.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerFeatures {
    pub enabled: Vec<String>,
}

impl ServerFeatures {
    pub fn has(&self, name: &str) -> bool {
        self.enabled.iter().any(|f| f == name)
    }
}

/// Liftoff's own features, advertised in `serverInfo.features`.
pub mod features {
    /// `project{launchAgents}`, `runQueue{launchAgents}`.
    pub const AGENTS: &str = "LIFTOFF_LAUNCH_AGENTS";
    /// `updateLaunchAgent(input: {stopPolling})`.
    pub const STOP_POLLING: &str = "LIFTOFF_STOP_POLLING";
    /// `popFromRunQueue(input: {waitSeconds})`.
    pub const LONG_POLL_POP: &str = "LIFTOFF_LONG_POLL_POP";
    /// `runQueue{...}` details, item priority changes and cancellation.
    pub const QUEUE_ADMIN: &str = "LIFTOFF_QUEUE_ADMIN";
    /// The agent may stream a job's console as its run's output.
    pub const RUN_CONSOLE: &str = "LIFTOFF_RUN_CONSOLE";
    /// `Run.launchItem`: the queue item that started a run.
    pub const RUN_LAUNCH_ITEM: &str = "LIFTOFF_RUN_LAUNCH_ITEM";
}

/// `query ServerFeaturesQuery`.
#[derive(Clone, Debug, Default)]
pub struct ServerFeaturesQuery;
operation!(ServerFeaturesQuery, "ServerFeaturesQuery", "ServerFeaturesQuery", typed = true, output = ServerFeatures,
vars(self) { None },
decode(self, data) {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct F { name: String, is_enabled: bool }
    let list: Vec<F> = at(&data, &["serverInfo", "features"])
        .map(|v| serde_json::from_value(v.clone()))
        .transpose()
        .map_err(|e| decode_err("ServerFeaturesQuery", e.to_string()))?
        .unwrap_or_default();
    Ok(ServerFeatures { enabled: list.into_iter().filter(|f| f.is_enabled).map(|f| f.name).collect() })
});

/// `query EntityIsTeam`.
#[derive(Clone, Debug)]
pub struct EntityIsTeam {
    pub entity: String,
}
operation!(EntityIsTeam, "EntityIsTeam", "EntityIsTeam", typed = false, output = bool,
vars(self) { vars([("entity", json!(self.entity))]) },
decode(self, data) {
    let entity = at(&data, &["entity"]).ok_or_else(|| Error::NotFound { what: format!("entity {:?}", self.entity) })?;
    Ok(entity.get("isTeam").and_then(Value::as_bool).unwrap_or(false))
});

/// A project, as `upsertModel` answers.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectInfo {
    pub id: String,
    pub name: String,
    pub entity_name: String,
}

/// `mutation CreateProject` (`upsertModel`): idempotent.
#[derive(Clone, Debug)]
pub struct CreateProject {
    pub entity: String,
    pub name: String,
}
operation!(CreateProject, "CreateProject", "CreateProject", typed = false, output = ProjectInfo,
vars(self) { vars([("input", json!({"entityName": self.entity, "name": self.name}))]) },
decode(self, data) {
    let p = at(&data, &["result", "project"]).ok_or_else(|| Error::NotFound { what: format!("entity {:?}", self.entity) })?;
    crate::graphql::from_value("CreateProject", p)
});
