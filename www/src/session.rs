//! The connection every page uses: base URL and API key (kept in
//! localStorage), the client built from them, who we are (`viewer`) and what
//! the server supports (`serverInfo.features`).

use crate::load::Load;
use leptos::prelude::*;
use liftoff_client::browser::BrowserTransport;
use liftoff_client::ops::identity::{ServerFeaturesQuery, Viewer as ViewerQuery};
use liftoff_client::view::Capabilities;
use liftoff_client::{Client, Credentials, Error};
use liftoff_model::Viewer;
use time::OffsetDateTime;

pub type Api = Client<BrowserTransport>;

const BASE_URL: &str = "liftoff.baseUrl";
const API_KEY: &str = "liftoff.apiKey";
const RECENT: &str = "liftoff.recentProjects";

/// Who we are on which server, and what it supports.
#[derive(Clone, Debug, PartialEq)]
pub struct ServerInfo {
    pub base_url: String,
    pub viewer: Viewer,
    pub caps: Capabilities,
}

#[derive(Clone, Copy)]
pub struct Session {
    pub creds: RwSignal<Option<Credentials>>,
    pub server: Load<Option<Result<ServerInfo, Error>>>,
    /// What Connect has just checked, taken by the next load instead of
    /// asking the server again.
    checked: StoredValue<Option<ServerInfo>>,
}

fn storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

pub fn stored(key: &str) -> Option<String> {
    storage()?
        .get_item(key)
        .ok()
        .flatten()
        .filter(|v| !v.is_empty())
}

pub fn store(key: &str, value: &str) {
    if let Some(s) = storage() {
        let _ = s.set_item(key, value);
    }
}

/// The origin the app is served from: the default base URL.
pub fn origin() -> String {
    window().location().origin().unwrap_or_default()
}

/// The current time (the model takes time as a parameter).
pub fn now() -> OffsetDateTime {
    let nanos = (js_sys::Date::now() * 1_000_000.0) as i128;
    OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

async fn load(creds: Credentials) -> Result<ServerInfo, Error> {
    let client = Client::new(BrowserTransport, creds.clone());
    let viewer = client.call(ViewerQuery).await?;
    // A server without `serverInfo.features` simply has no extensions.
    let features = client.call(ServerFeaturesQuery).await.unwrap_or_default();
    Ok(ServerInfo {
        base_url: creds.base_url,
        viewer,
        caps: Capabilities::of(&features),
    })
}

impl Session {
    /// Read the saved connection and start checking it.
    pub fn provide() -> Self {
        let saved = stored(API_KEY)
            .map(|key| Credentials::new(stored(BASE_URL).unwrap_or_else(origin), key));
        let creds = RwSignal::new(saved);
        let checked = StoredValue::new(None::<ServerInfo>);
        let server = Load::new(move || {
            let c = creds.get();
            let known = checked.try_update_value(Option::take).flatten();
            async move {
                match (c, known) {
                    (Some(c), Some(info)) if info.base_url == c.base_url => Some(Ok(info)),
                    (Some(c), _) => Some(load(c).await),
                    (None, _) => None,
                }
            }
        });
        // A key is kept once its server took it: a refused one (or one a
        // dead server could not check) is not saved over a good one.
        Effect::new(move |_| {
            if let Some(Some(Ok(info))) = server.get()
                && let Some(c) = creds.get_untracked()
                && c.base_url == info.base_url
            {
                store(BASE_URL, &c.base_url);
                store(API_KEY, &c.api_key);
            }
        });
        let session = Self {
            creds,
            server,
            checked,
        };
        provide_context(session);
        session
    }

    /// The client, when connected (tracks the connection).
    pub fn client(&self) -> Option<Api> {
        self.creds.get().map(|c| Client::new(BrowserTransport, c))
    }

    /// The server's answer, once connected and checked (tracked).
    pub fn info(&self) -> Option<ServerInfo> {
        self.server.get().flatten().and_then(Result::ok)
    }

    pub fn caps(&self) -> Capabilities {
        self.info().map(|i| i.caps).unwrap_or_default()
    }

    /// Ask a server who this key is, without using it yet.
    pub async fn check(base_url: &str, api_key: &str) -> Result<ServerInfo, Error> {
        load(Credentials::new(base_url, api_key.trim())).await
    }

    /// Use a connection [`Session::check`] found working, with its answer.
    pub fn adopt(&self, base_url: &str, api_key: &str, info: ServerInfo) {
        self.checked.set_value(Some(info));
        self.connect(base_url, api_key);
    }

    /// Use a connection (saved once the server accepts its key).
    pub fn connect(&self, base_url: &str, api_key: &str) {
        self.creds
            .set(Some(Credentials::new(base_url, api_key.trim())));
    }

    /// Drop the saved key (the base URL stays, for next time).
    pub fn forget(&self) {
        if let Some(s) = storage() {
            let _ = s.remove_item(API_KEY);
        }
        self.creds.set(None);
    }

    /// The base URL to show in the Connect form.
    pub fn base_url(&self) -> String {
        self.creds
            .get_untracked()
            .map(|c| c.base_url)
            .or_else(|| stored(BASE_URL))
            .unwrap_or_else(origin)
    }
}

pub fn use_session() -> Session {
    expect_context::<Session>()
}

/// Projects opened lately (`entity/project`), newest first.
pub fn recent_projects() -> Vec<String> {
    stored(RECENT)
        .map(|t| t.lines().map(str::to_owned).collect())
        .unwrap_or_default()
}

pub fn remember_project(entity: &str, project: &str) {
    let this = format!("{entity}/{project}");
    let mut all = recent_projects();
    all.retain(|p| p != &this);
    all.insert(0, this);
    all.truncate(6);
    store(RECENT, &all.join("\n"));
}
