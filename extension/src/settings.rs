//! What the options page keeps in `chrome.storage.local`: the servers
//! (base URL and API key each), which of them wandb.ai pages use, the
//! default entity and queue. Also which server a page talks to: the page
//! never chooses; its origin decides. Keys leave this module only inside
//! [`Server`] values the worker hands to the client, never in a view.

use serde::{Deserialize, Serialize};

use liftoff_client::auth::normalize_base_url;
use liftoff_client::url::{base_url_problem, is_wandb_api};
use liftoff_model::schema::Problem;

use crate::page::{Site, parse_url};

/// A server and its key.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Server {
    pub base_url: String,
    pub api_key: String,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("base_url", &self.base_url)
            .field("api_key", &key_hint(&self.api_key))
            .finish()
    }
}

impl Server {
    /// W&B's hosted API.
    pub fn is_wandb(&self) -> bool {
        is_wandb_api(&self.base_url)
    }

    /// Where people browse this server: wandb.ai for W&B's API, the server
    /// itself for Liftoff (it serves its web app at its base URL).
    pub fn web_url(&self) -> String {
        web_url(&self.base_url)
    }
}

/// Everything the options page sets.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    #[serde(default)]
    pub servers: Vec<Server>,
    /// The base URL of the server wandb.ai pages launch on.
    #[serde(default)]
    pub wandb_server: Option<String>,
    #[serde(default)]
    pub default_entity: Option<String>,
    #[serde(default)]
    pub default_queue: Option<String>,
}

fn problem(path: &str, message: impl Into<String>) -> Problem {
    Problem {
        path: path.to_owned(),
        message: message.into(),
    }
}

fn is_wandb_page(host: &str) -> bool {
    host.eq_ignore_ascii_case("wandb.ai") || host.eq_ignore_ascii_case("www.wandb.ai")
}

pub use liftoff_client::url::web_url;

/// The last four characters, for recognising a key without showing it.
pub fn key_hint(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 8 {
        "••••".to_owned()
    } else {
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("••••{tail}")
    }
}

/// The host permission a server needs (`scheme://host/*`: Chrome's match
/// patterns have no port), or `None` for W&B's, which the manifest holds.
pub fn permission_pattern(base_url: &str) -> Option<String> {
    let u = parse_url(base_url)?;
    if is_wandb_api(base_url) {
        return None;
    }
    Some(format!(
        "{}://{}/*",
        u.scheme.to_ascii_lowercase(),
        u.host()
    ))
}

/// Check what was typed for a server: an http(s) URL and a key without spaces.
pub fn check_server(base_url: &str, api_key: &str) -> Result<Server, Vec<Problem>> {
    let mut problems = Vec::new();
    let base = normalize_base_url(base_url);
    if let Some(message) = base_url_problem(base_url) {
        problems.push(problem("base_url", message));
    }
    let key = api_key.trim();
    if key.is_empty() {
        problems.push(problem(
            "api_key",
            "enter the API key (W&B: wandb.ai/authorize; Liftoff: printed by \"liftoff server\" on its first start)",
        ));
    } else if let Some(message) = liftoff_client::auth::api_key_problem(key) {
        problems.push(problem("api_key", message));
    }
    if problems.is_empty() {
        Ok(Server {
            base_url: base,
            api_key: key.to_owned(),
        })
    } else {
        Err(problems)
    }
}

/// A server as the options page and the popup show it: no key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ServerView {
    pub base_url: String,
    pub web_url: String,
    pub key_hint: String,
    /// wandb.ai pages launch here.
    pub for_wandb: bool,
    /// The host permission to request for it (none for W&B).
    pub permission: Option<String>,
}

/// The settings without keys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SettingsView {
    pub servers: Vec<ServerView>,
    pub default_entity: String,
    pub default_queue: String,
}

impl Settings {
    /// Add a server, or give a known one a new key.
    pub fn put_server(&mut self, server: Server) {
        match self
            .servers
            .iter_mut()
            .find(|s| s.base_url == server.base_url)
        {
            Some(known) => known.api_key = server.api_key,
            None => self.servers.push(server),
        }
        self.keep_a_wandb_server();
    }

    /// wandb.ai pages use a server that exists: the first, unless chosen.
    fn keep_a_wandb_server(&mut self) {
        let chosen = self.wandb_server.as_deref();
        if chosen.is_none_or(|b| self.server(b).is_none()) {
            self.wandb_server = self.servers.first().map(|s| s.base_url.clone());
        }
    }

    pub fn remove_server(&mut self, base_url: &str) {
        self.servers.retain(|s| s.base_url != base_url);
        self.keep_a_wandb_server();
    }

    /// Which server wandb.ai pages use: the chosen one, else W&B's own,
    /// else the first.
    pub fn wandb_server(&self) -> Option<&Server> {
        let chosen = self.wandb_server.as_deref();
        self.servers
            .iter()
            .find(|s| Some(s.base_url.as_str()) == chosen)
            .or_else(|| self.servers.iter().find(|s| s.is_wandb()))
            .or_else(|| self.servers.first())
    }

    pub fn server(&self, base_url: &str) -> Option<&Server> {
        self.servers.iter().find(|s| s.base_url == base_url)
    }

    /// Whose page `page_url` is. `test_wandb_origins` stand in for
    /// wandb.ai in tests (see `test_hosts.rs`); empty in a real install.
    pub fn site_of(&self, page_url: &str, test_wandb_origins: &[String]) -> Option<Site> {
        let u = parse_url(page_url)?;
        let origin = u.origin();
        if (u.scheme.eq_ignore_ascii_case("https") && is_wandb_page(u.host()))
            || test_wandb_origins.contains(&origin)
        {
            return Some(Site::Wandb);
        }
        self.servers
            .iter()
            .any(|s| !s.is_wandb() && parse_url(&s.base_url).is_some_and(|b| b.origin() == origin))
            .then_some(Site::Liftoff)
    }

    /// The server a page on `site` at `page_url` talks to.
    pub fn server_for(&self, site: Site, page_url: &str) -> Option<&Server> {
        match site {
            Site::Wandb => self.wandb_server(),
            Site::Liftoff => {
                let origin = parse_url(page_url)?.origin();
                self.servers
                    .iter()
                    .find(|s| parse_url(&s.base_url).is_some_and(|b| b.origin() == origin))
            }
        }
    }

    pub fn view(&self) -> SettingsView {
        let wandb = self.wandb_server().map(|s| s.base_url.clone());
        SettingsView {
            servers: self
                .servers
                .iter()
                .map(|s| ServerView {
                    base_url: s.base_url.clone(),
                    web_url: s.web_url(),
                    key_hint: key_hint(&s.api_key),
                    for_wandb: wandb.as_deref() == Some(s.base_url.as_str()),
                    permission: permission_pattern(&s.base_url),
                })
                .collect(),
            default_entity: self.default_entity.clone().unwrap_or_default(),
            default_queue: self.default_queue.clone().unwrap_or_default(),
        }
    }

    /// Set the defaults ("" clears one); entity and queue names have no `/`.
    pub fn set_defaults(&mut self, entity: &str, queue: &str) -> Result<(), Vec<Problem>> {
        let mut problems = Vec::new();
        for (path, text) in [("default_entity", entity), ("default_queue", queue)] {
            if text.trim().contains(['/', ' ']) {
                problems.push(problem(
                    path,
                    format!("a name has no '/' or spaces, got {text:?}"),
                ));
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let some = |t: &str| Some(t.trim().to_owned()).filter(|t| !t.is_empty());
        self.default_entity = some(entity);
        self.default_queue = some(queue);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(base: &str) -> Server {
        Server {
            base_url: base.into(),
            api_key: "0123456789abcdef0123456789abcdef01234567".into(),
        }
    }

    #[test]
    fn checking_what_was_typed() {
        const KEY: &str = "0123456789abcdef0123456789abcdef01234567";
        let s = check_server(" http://127.0.0.1:8080/ ", &format!(" {KEY} ")).unwrap();
        assert_eq!(s.base_url, "http://127.0.0.1:8080");
        assert_eq!(s.api_key, KEY);
        // A key cut short is said before any server is asked.
        let p = check_server("http://127.0.0.1:8080", "short").unwrap_err();
        assert_eq!(
            p[0].to_string(),
            "api_key: an API key is 40 characters long; this one has 5: copy it whole"
        );
        let p = check_server("127.0.0.1:8080", "a b").unwrap_err();
        let text: Vec<String> = p.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            vec![
                "base_url: must be an http(s) URL like https://api.wandb.ai or http://127.0.0.1:8080, got \"127.0.0.1:8080\"",
                "api_key: an API key has no spaces",
            ]
        );
        let p = check_server("https://x.example/api", "").unwrap_err();
        assert_eq!(p.len(), 2);
        assert!(p[0].message.contains("without a path"));
        // The GraphQL endpoint pasted for the server is taken as its address.
        let s = check_server("https://x.example/graphql", KEY).unwrap();
        assert_eq!(s.base_url, "https://x.example");
        // The address of W&B's web app gets the API's.
        let p = check_server("https://wandb.ai", KEY).unwrap_err();
        assert_eq!(
            p[0].message,
            "https://wandb.ai is W&B's web app, not its API: use https://api.wandb.ai"
        );
        assert!(check_server("https://api.wandb.ai", KEY).is_ok());
    }

    #[test]
    fn keys_never_show() {
        let s = server("http://a");
        assert_eq!(key_hint(&s.api_key), "••••4567");
        assert_eq!(key_hint("short"), "••••");
        assert!(!format!("{s:?}").contains("0123456789abcdef"));
        let mut settings = Settings::default();
        settings.put_server(s);
        let view = serde_json::to_string(&settings.view()).unwrap();
        assert!(!view.contains("0123456789abcdef"), "{view}");
    }

    #[test]
    fn which_server_a_page_uses() {
        let mut settings = Settings::default();
        assert_eq!(
            settings.site_of("https://wandb.ai/a/b/jobs", &[]),
            Some(Site::Wandb)
        );
        assert!(settings.wandb_server().is_none());
        settings.put_server(server("http://127.0.0.1:8080"));
        settings.put_server(server("https://api.wandb.ai"));
        // The first server added serves wandb.ai pages until another is chosen.
        assert_eq!(
            settings.wandb_server().map(|s| s.base_url.as_str()),
            Some("http://127.0.0.1:8080")
        );
        settings.wandb_server = Some("https://api.wandb.ai".into());
        let on_wandb = settings.server_for(Site::Wandb, "https://wandb.ai/a/b/jobs");
        assert_eq!(
            on_wandb.map(|s| s.base_url.as_str()),
            Some("https://api.wandb.ai")
        );

        let page = "http://127.0.0.1:8080/admin/proj/jobs";
        assert_eq!(settings.site_of(page, &[]), Some(Site::Liftoff));
        assert_eq!(
            settings
                .server_for(Site::Liftoff, page)
                .map(|s| s.base_url.as_str()),
            Some("http://127.0.0.1:8080")
        );
        // Another port is another origin: not this server's page.
        assert_eq!(
            settings.site_of("http://127.0.0.1:9999/admin/proj/jobs", &[]),
            None
        );
        assert_eq!(
            settings.site_of("http://127.0.0.1:9999/x", &["http://127.0.0.1:9999".into()]),
            Some(Site::Wandb)
        );
        assert_eq!(settings.site_of("http://wandb.ai/a/b/jobs", &[]), None);
        assert_eq!(settings.site_of("https://evil.example/a", &[]), None);

        settings.remove_server("https://api.wandb.ai");
        assert_eq!(
            settings.wandb_server().map(|s| s.base_url.as_str()),
            Some("http://127.0.0.1:8080")
        );
    }

    #[test]
    fn a_known_server_gets_a_new_key() {
        let mut settings = Settings::default();
        settings.put_server(server("http://a"));
        settings.put_server(Server {
            base_url: "http://a".into(),
            api_key: "new".into(),
        });
        assert_eq!(settings.servers.len(), 1);
        assert_eq!(settings.servers[0].api_key, "new");
    }

    #[test]
    fn web_urls_and_permissions() {
        assert_eq!(web_url("https://api.wandb.ai"), "https://wandb.ai");
        assert_eq!(web_url("http://127.0.0.1:8080/"), "http://127.0.0.1:8080");
        assert_eq!(permission_pattern("https://api.wandb.ai"), None);
        assert_eq!(
            permission_pattern("http://127.0.0.1:8080").as_deref(),
            Some("http://127.0.0.1/*")
        );
        assert_eq!(
            permission_pattern("HTTPS://liftoff.acme.dev").as_deref(),
            Some("https://liftoff.acme.dev/*")
        );
    }

    #[test]
    fn defaults() {
        let mut settings = Settings::default();
        settings.set_defaults(" team ", "gpu").unwrap();
        assert_eq!(settings.default_entity.as_deref(), Some("team"));
        settings.set_defaults("", "").unwrap();
        assert_eq!(settings.default_queue, None);
        let p = settings.set_defaults("a/b", "").unwrap_err();
        assert_eq!(p[0].path, "default_entity");
    }
}
