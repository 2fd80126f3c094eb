//! Where the base URL and API key come from, as `wandb` does it:
//! `WANDB_BASE_URL` / `WANDB_API_KEY`, else the `~/.netrc` entry for the
//! API host, else the default `https://api.wandb.ai`. Pure: the caller passes
//! the environment and the netrc text.

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

    /// Resolve from explicit values, the environment and a netrc file's text.
    pub fn resolve(
        base_url: Option<&str>,
        api_key: Option<&str>,
        env: &dyn Fn(&str) -> Option<String>,
        netrc: Option<&str>,
    ) -> Result<Self, String> {
        let base = base_url
            .map(str::to_owned)
            .or_else(|| env("WANDB_BASE_URL").filter(|s| !s.is_empty()))
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        let base = normalize_base_url(&base);
        let key = api_key
            .map(str::to_owned)
            .or_else(|| env("WANDB_API_KEY").filter(|s| !s.is_empty()))
            .or_else(|| netrc.and_then(|text| netrc_password(text, &host_of(&base))));
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

/// Strip trailing slashes (the public API does).
pub fn normalize_base_url(url: &str) -> String {
    url.trim().trim_end_matches('/').to_owned()
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
        let c = Credentials::resolve(None, None, &env, Some(netrc)).unwrap();
        assert_eq!(c.base_url, "http://127.0.0.1:8080");
        assert_eq!(c.api_key, "k123");
        assert_eq!(c.authorization(), "Basic YXBpOmsxMjM=");
        assert!(!format!("{c:?}").contains("k123"));
        let none = Credentials::resolve(None, None, &|_| None, None).unwrap_err();
        assert!(none.contains("WANDB_API_KEY"), "{none}");
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
