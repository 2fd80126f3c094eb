//! Where the base URL and API key come from, as `wandb` does it: the base
//! URL from `WANDB_BASE_URL`, else `base_url` in wandb's settings file
//! (`~/.config/wandb/settings`, written by `wandb login --host` and
//! `liftoff login`), else `https://api.wandb.ai`; the key from
//! `WANDB_API_KEY`, else the `~/.netrc` entry for that host. Pure: the caller
//! passes the environment and the files' text.

use base64::Engine as _;

pub const DEFAULT_BASE_URL: &str = "https://api.wandb.ai";

/// A base URL and an API key.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub base_url: String,
    pub api_key: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key.
        f.debug_struct("Credentials")
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .finish()
    }
}

impl Credentials {
    pub fn new(base_url: impl Into<String>, api_key: impl Into<String>) -> Self {
        Self {
            base_url: normalize_base_url(&base_url.into()),
            api_key: api_key.into(),
        }
    }

    /// `Authorization: Basic base64("api:" + key)`.
    pub fn authorization(&self) -> String {
        let token =
            base64::engine::general_purpose::STANDARD.encode(format!("api:{}", self.api_key));
        format!("Basic {token}")
    }

    pub fn graphql_url(&self) -> String {
        format!("{}/graphql", self.base_url)
    }

    /// Resolve from explicit values, the environment and the text of the
    /// netrc and wandb settings files.
    pub fn resolve(
        base_url: Option<&str>,
        api_key: Option<&str>,
        env: &dyn Fn(&str) -> Option<String>,
        files: &Files<'_>,
    ) -> Result<Self, String> {
        let base = base_url
            .map(str::to_owned)
            .or_else(|| env("WANDB_BASE_URL").filter(|s| !s.is_empty()))
            .or_else(|| files.settings.and_then(settings_base_url))
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        let base = normalize_base_url(&base);
        // A path is allowed here (a server behind a prefix). The extension,
        // which matches pages by origin, refuses one, and so does the web
        // app's Connect page, where a path is a page's address pasted.
        if crate::url::parse_url(&base).is_none() {
            return Err(format!(
                "the base URL {base:?} (--base-url, WANDB_BASE_URL or the last `liftoff login --host`) is not a URL: write it like http://127.0.0.1:8080 or https://api.wandb.ai"
            ));
        }
        if let Some(problem) = crate::url::wandb_app_problem(&base) {
            return Err(format!(
                "the base URL {base:?} (--base-url, WANDB_BASE_URL or the last `liftoff login --host`) {problem}"
            ));
        }
        let key = api_key
            .map(str::to_owned)
            .or_else(|| env("WANDB_API_KEY").filter(|s| !s.is_empty()))
            .or_else(|| {
                files
                    .netrc
                    .and_then(|text| netrc_password(text, &host_of(&base)))
            });
        match key {
            Some(key) => Ok(Self {
                base_url: base,
                api_key: key.trim().to_owned(),
            }),
            None => Err(format!(
                "no API key for {base}: set WANDB_API_KEY, pass --api-key, or run `liftoff login --host {base}`"
            )),
        }
    }
}

/// The text of the files credentials come from (`None`: no such file).
#[derive(Clone, Copy, Debug, Default)]
pub struct Files<'a> {
    /// `~/.netrc` (or `$NETRC`).
    pub netrc: Option<&'a str>,
    /// wandb's settings file, `~/.config/wandb/settings` (or
    /// `$WANDB_CONFIG_DIR/settings`): INI, `base_url` in `[default]`.
    pub settings: Option<&'a str>,
}

/// The name of the INI section a settings line opens (`[default]`), if it opens one.
fn ini_section(line: &str) -> Option<&str> {
    let line = line.trim();
    line.strip_prefix('[')?.strip_suffix(']').map(str::trim)
}

/// The value of a settings line that sets `base_url` (`base_url = URL`;
/// configparser takes `:` too).
fn ini_base_url(line: &str) -> Option<&str> {
    let (key, value) = line.trim().split_once(['=', ':'])?;
    (key.trim() == "base_url").then(|| value.trim())
}

/// The `base_url` of the settings file's `[default]` section, if set.
pub fn settings_base_url(text: &str) -> Option<String> {
    let mut in_default = false;
    for line in text.lines() {
        if let Some(section) = ini_section(line) {
            in_default = section == "default";
        } else if in_default && let Some(value) = ini_base_url(line) {
            return (!value.is_empty()).then(|| normalize_base_url(value));
        }
    }
    None
}

/// The settings file's text with `base_url` in `[default]` set to `url`,
/// everything else kept (as `wandb login --host` writes it).
pub fn settings_with_base_url(text: &str, url: &str) -> String {
    let entry = format!("base_url = {url}");
    let mut out: Vec<String> = Vec::new();
    let (mut in_default, mut seen_default, mut written) = (false, false, false);
    for line in text.lines() {
        if let Some(section) = ini_section(line) {
            if in_default && !written {
                out.push(entry.clone());
                written = true;
            }
            in_default = section == "default";
            seen_default |= in_default;
        } else if in_default && ini_base_url(line).is_some() {
            if !written {
                out.push(entry.clone());
                written = true;
            }
            continue;
        }
        out.push(line.to_owned());
    }
    if in_default && !written {
        out.push(entry.clone());
        written = true;
    }
    if !seen_default || !written {
        while out.last().is_some_and(|l| l.trim().is_empty()) {
            out.pop();
        }
        if !out.is_empty() {
            out.push(String::new());
        }
        out.push("[default]".into());
        out.push(entry);
    }
    out.join("\n") + "\n"
}

/// Strip trailing slashes (the public API does), and a `/graphql` pasted
/// with the server's address.
pub fn normalize_base_url(url: &str) -> String {
    let url = url.trim().trim_end_matches('/');
    url.strip_suffix("/graphql")
        .unwrap_or(url)
        .trim_end_matches('/')
        .to_owned()
}

/// What is wrong with a typed API key, if anything, before a server is asked
/// (an empty one is the caller's to word). Servers take 16 to 128
/// characters; Liftoff's and W&B's keys are 40.
pub fn api_key_problem(key: &str) -> Option<String> {
    let k = key.trim();
    if k.is_empty() {
        return None;
    }
    if k.chars().any(char::is_whitespace) {
        return Some("an API key has no spaces".to_owned());
    }
    let n = k.chars().count();
    (n < 16).then(|| format!("an API key is 40 characters long; this one has {n}: copy it whole"))
}

/// `host[:port]` of a URL, what netrc's `machine` names.
pub fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split(['/', '?', '#'])
        .next()
        .unwrap_or(rest)
        .to_owned()
}

/// The password of `machine <host>` in netrc text (`login` is `user`/`api`).
pub fn netrc_password(text: &str, host: &str) -> Option<String> {
    let host_no_port = host.split(':').next().unwrap_or(host);
    let tokens: Vec<&str> = text.split_whitespace().collect();
    let mut i = 0;
    let mut in_machine = false;
    while i < tokens.len() {
        match tokens[i] {
            "machine" => {
                let name = tokens.get(i + 1).copied().unwrap_or_default();
                in_machine = name == host || name == host_no_port;
                i += 2;
            }
            "default" => {
                in_machine = false;
                i += 1;
            }
            "password" if in_machine => return tokens.get(i + 1).map(|s| (*s).to_owned()),
            _ => i += 1,
        }
    }
    None
}

/// Insert or replace the `machine <host>` entry of netrc text, as
/// `wandb login` writes it.
pub fn netrc_with_entry(text: &str, host: &str, key: &str) -> String {
    let mut out = Vec::new();
    let mut skipping = false;
    for line in text.lines() {
        let first = line.split_whitespace().next();
        if first == Some("machine") || first == Some("default") {
            skipping = line.split_whitespace().nth(1) == Some(host);
        }
        if !skipping {
            out.push(line.to_owned());
        }
    }
    while out.last().is_some_and(|l| l.trim().is_empty()) {
        out.pop();
    }
    out.push(format!("machine {host}\n  login user\n  password {key}"));
    out.join("\n") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_like_wandb() {
        let env = |k: &str| match k {
            "WANDB_BASE_URL" => Some("http://127.0.0.1:8080/".to_owned()),
            _ => None,
        };
        let netrc = "machine api.wandb.ai\n  login user\n  password wrong\nmachine 127.0.0.1\n  login user\n  password k123\n";
        let files = Files {
            netrc: Some(netrc),
            settings: Some("[default]\nbase_url = https://elsewhere.example\n"),
        };
        let c = Credentials::resolve(None, None, &env, &files).unwrap();
        assert_eq!(c.base_url, "http://127.0.0.1:8080");
        assert_eq!(c.api_key, "k123");
        assert_eq!(c.authorization(), "Basic YXBpOmsxMjM=");
        assert!(!format!("{c:?}").contains("k123"));
        // Without WANDB_BASE_URL, the host `login --host` saved, and its key.
        let files = Files {
            netrc: Some(netrc),
            settings: Some("[default]\nbase_url = http://127.0.0.1:8080/\n"),
        };
        let c = Credentials::resolve(None, None, &|_| None, &files).unwrap();
        assert_eq!(
            (c.base_url.as_str(), c.api_key.as_str()),
            ("http://127.0.0.1:8080", "k123")
        );
        let none = Credentials::resolve(None, None, &|_| None, &Files::default()).unwrap_err();
        assert!(none.contains("WANDB_API_KEY"), "{none}");
        let bad = Credentials::resolve(Some("notaurl"), Some("k"), &|_| None, &Files::default())
            .unwrap_err();
        assert!(bad.starts_with("the base URL \"notaurl\""), "{bad}");
        // W&B's web app is not its API: said before any request, as wandb does.
        let env = |k: &str| (k == "WANDB_BASE_URL").then(|| "https://wandb.ai/".to_owned());
        let app = Credentials::resolve(None, Some("k"), &env, &Files::default()).unwrap_err();
        assert_eq!(
            app,
            "the base URL \"https://wandb.ai\" (--base-url, WANDB_BASE_URL or the last `liftoff login --host`) is W&B's web app, not its API: use https://api.wandb.ai"
        );
        let pasted = Credentials::resolve(
            Some("http://h:1/graphql/"),
            Some("k"),
            &|_| None,
            &Files::default(),
        )
        .unwrap();
        assert_eq!(pasted.graphql_url(), "http://h:1/graphql");
    }

    #[test]
    fn settings_keep_everything_but_the_base_url() {
        assert_eq!(settings_base_url("[default]\nentity = x\n"), None);
        assert_eq!(
            settings_base_url("[other]\nbase_url = a\n[default]\nbase_url: http://h:1/\n")
                .as_deref(),
            Some("http://h:1")
        );
        assert_eq!(
            settings_with_base_url("", "http://h:1"),
            "[default]\nbase_url = http://h:1\n"
        );
        let wandb = "[default]\nentity = me\nbase_url = https://api.wandb.ai\n\n[other]\nx = 1\n";
        let updated = settings_with_base_url(wandb, "http://h:1");
        assert_eq!(
            updated,
            "[default]\nentity = me\nbase_url = http://h:1\n\n[other]\nx = 1\n"
        );
        let added =
            settings_with_base_url("[default]\nentity = me\n[other]\nx = 1\n", "http://h:1");
        assert_eq!(settings_base_url(&added).as_deref(), Some("http://h:1"));
        assert!(
            added.contains("entity = me") && added.contains("x = 1"),
            "{added}"
        );
        let no_default = settings_with_base_url("[other]\nx = 1\n", "http://h:1");
        assert_eq!(
            no_default,
            "[other]\nx = 1\n\n[default]\nbase_url = http://h:1\n"
        );
    }

    #[test]
    fn short_keys_are_refused_before_asking() {
        assert_eq!(api_key_problem(""), None);
        assert_eq!(api_key_problem(&"a".repeat(40)), None);
        assert_eq!(
            api_key_problem("short").unwrap(),
            "an API key is 40 characters long; this one has 5: copy it whole"
        );
        assert_eq!(api_key_problem("a b").unwrap(), "an API key has no spaces");
    }

    #[test]
    fn netrc_entries_are_replaced() {
        let text = "machine a\n  login user\n  password 1\nmachine b\n  login user\n  password 2\n";
        let updated = netrc_with_entry(text, "a", "9");
        assert_eq!(netrc_password(&updated, "a").as_deref(), Some("9"));
        assert_eq!(netrc_password(&updated, "b").as_deref(), Some("2"));
        assert_eq!(host_of("https://api.wandb.ai/x"), "api.wandb.ai");
    }
}
