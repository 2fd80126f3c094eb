//! Server addresses as people type them: split an http(s) URL into the
//! parts Liftoff uses, and say what is wrong with a base URL typed into a
//! browser (the web app's Connect page and the extension's options page,
//! which also refuse the ports browsers block). The CLI parses with the same
//! [`parse_url`] and refuses W&B's web app address too ([`wandb_app_problem`]).

use crate::auth::DEFAULT_BASE_URL;

/// The parts of an absolute http(s) URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Url<'a> {
    pub scheme: &'a str,
    /// `host[:port]`, lowercase is not enforced.
    pub authority: &'a str,
    pub path: &'a str,
}

impl Url<'_> {
    /// The host without its port.
    pub fn host(&self) -> &str {
        // `[::1]:8080` keeps its brackets.
        if let Some(end) = self.authority.find(']') {
            return &self.authority[..=end];
        }
        self.authority.split(':').next().unwrap_or(self.authority)
    }

    /// What follows the host's `:`, if anything (not yet known to be a port).
    fn port_text(&self) -> Option<&str> {
        self.authority[self.host().len()..].strip_prefix(':')
    }

    /// `scheme://host[:port]`.
    pub fn origin(&self) -> String {
        format!("{}://{}", self.scheme, self.authority)
    }
}

/// Split `scheme://authority/path?query#fragment`; `None` unless http(s).
pub fn parse_url(url: &str) -> Option<Url<'_>> {
    let (scheme, rest) = url.trim().split_once("://")?;
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return None;
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    // `user:pass@host` never names a server we talk to.
    if authority.contains('@') {
        return None;
    }
    let after = &rest[end..];
    let path_end = after.find(['?', '#']).unwrap_or(after.len());
    let url = Url {
        scheme,
        authority,
        path: &after[..path_end],
    };
    // A host (an IPv6 one in brackets), and a port that is a number if
    // there is one: `http://:8080` and `http://::1:9000` are not addresses.
    let host = url.host();
    let port_ok = match url.port_text() {
        None => authority.len() == host.len(),
        Some(p) => port_number(p).is_some(),
    };
    let host_ok = !host.is_empty() && (host.starts_with('[') || !host.contains(':'));
    (host_ok && port_ok).then_some(url)
}

/// A TCP port as a URL writes it: digits, 1 to 65535.
fn port_number(text: &str) -> Option<u16> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<u16>().ok().filter(|p| *p != 0)
}

/// Whether `base_url` is W&B's hosted API (`https://api.wandb.ai`).
pub fn is_wandb_api(base_url: &str) -> bool {
    parse_url(base_url).is_some_and(|u| u.host().eq_ignore_ascii_case("api.wandb.ai"))
}

/// Where a server's web app is: `https://api.wandb.ai` -> `https://wandb.ai`;
/// any other server (Liftoff's) serves its own at its base URL.
pub fn web_url(base_url: &str) -> String {
    if is_wandb_api(base_url) {
        "https://wandb.ai".to_owned()
    } else {
        crate::auth::normalize_base_url(base_url)
    }
}

/// `scheme://host[:port]` of a URL.
pub fn origin_of(url: &str) -> Option<String> {
    parse_url(url).map(|u| u.origin())
}

/// Said of `https://wandb.ai` typed as a server: the address people know is
/// W&B's web app; its API lives elsewhere (wandb refuses it the same way).
pub const WANDB_APP: &str = "is W&B's web app, not its API: use https://api.wandb.ai";

/// The ports browsers refuse to fetch from (the Fetch standard's "bad
/// ports"): a server there is unreachable from the web app and the extension.
const BROWSER_BLOCKED_PORTS: &[u16] = &[
    1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102,
    103, 104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465,
    512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993,
    995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668,
    6669, 6679, 6697, 10080,
];

/// The port of a parsed URL, when it names one.
fn port_of(u: &Url<'_>) -> Option<u16> {
    port_number(u.port_text()?)
}

/// `wandb.ai` or one of its hosts other than the API's (`api.` anywhere in
/// the host, as wandb's own check has it).
fn is_wandb_app(u: &Url<'_>) -> bool {
    let host = u.host().to_ascii_lowercase();
    (host == "wandb.ai" || host.ends_with(".wandb.ai")) && !host.contains("api.")
}

/// The problem of a base URL that names W&B's web app instead of its API.
pub fn wandb_app_problem(base: &str) -> Option<&'static str> {
    parse_url(base).filter(is_wandb_app).map(|_| WANDB_APP)
}

/// What is wrong with a typed base URL, if anything: it must be an http(s)
/// URL with a host and no path (a trailing `/` or `/graphql` is fine, as
/// [`crate::auth::normalize_base_url`] drops them).
pub fn base_url_problem(typed: &str) -> Option<String> {
    let base = crate::auth::normalize_base_url(typed);
    let userinfo = base.split_once("://").is_some_and(|(_, rest)| {
        rest.split(['/', '?', '#'])
            .next()
            .is_some_and(|a| a.contains('@'))
    });
    match parse_url(&base) {
        None if userinfo => Some(
            "must not hold a user name or password (user@host): the API key goes in its own field"
                .to_owned(),
        ),
        None if typed.trim().is_empty() => Some(format!(
            "enter the server's address, like {DEFAULT_BASE_URL} or http://127.0.0.1:8080"
        )),
        None if bad_port(&base).is_some() => Some(format!(
            "port {} is not a port number: use one from 1 to 65535 (Liftoff's default is 8080)",
            bad_port(&base).unwrap_or_default()
        )),
        None => Some(format!(
            "must be an http(s) URL like {DEFAULT_BASE_URL} or http://127.0.0.1:8080, got {:?}",
            typed.trim()
        )),
        Some(u) if is_wandb_app(&u) => Some(format!("{} {WANDB_APP}", u.origin())),
        Some(u) if port_of(&u).is_some_and(|p| BROWSER_BLOCKED_PORTS.contains(&p)) => {
            Some(format!(
                "port {} is one browsers refuse to connect to: run the server on another port (Liftoff's default is 8080)",
                port_of(&u).unwrap_or_default()
            ))
        }
        Some(u) if u.path.len() > 1 || base.contains(['?', '#']) => Some(format!(
            "must be the server's base URL, without a path (drop {:?})",
            &base[u.origin().len()..]
        )),
        Some(_) => None,
    }
}

/// The port of `scheme://host:port...` when it is all digits yet no port
/// number (`99999`, `0`).
fn bad_port(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let port = authority.rsplit_once(':')?.1;
    (!port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) && port_number(port).is_none())
        .then_some(port)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_origins() {
        let u = parse_url("HTTP://Example.com:8080/a/b?x=1#y").unwrap();
        assert_eq!(
            (u.scheme, u.authority, u.path),
            ("HTTP", "Example.com:8080", "/a/b")
        );
        assert_eq!(u.host(), "Example.com");
        assert_eq!(
            origin_of("http://[::1]:9000/x").as_deref(),
            Some("http://[::1]:9000")
        );
        assert_eq!(parse_url("http://[::1]:9000/").unwrap().host(), "[::1]");
        assert_eq!(
            origin_of("https://wandb.ai").as_deref(),
            Some("https://wandb.ai")
        );
        assert_eq!(origin_of("ftp://x/y"), None);
        assert_eq!(origin_of("https:///nohost"), None);
        assert_eq!(origin_of("http://user:pw@host/"), None);
    }

    #[test]
    fn a_base_url_is_an_http_url_without_a_path() {
        for ok in [
            "http://127.0.0.1:8080",
            " https://api.wandb.ai/ ",
            "http://localhost:8080/graphql",
            "http://[::1]:9000",
        ] {
            assert_eq!(base_url_problem(ok), None, "{ok}");
        }
        assert_eq!(
            base_url_problem("127.0.0.1:8080").unwrap(),
            "must be an http(s) URL like https://api.wandb.ai or http://127.0.0.1:8080, got \"127.0.0.1:8080\""
        );
        assert!(
            base_url_problem("  ")
                .unwrap()
                .starts_with("enter the server's address")
        );
        assert!(
            base_url_problem("http://")
                .unwrap()
                .starts_with("must be an http(s) URL")
        );
        assert_eq!(
            base_url_problem("http://host:8080/launch/admin").unwrap(),
            "must be the server's base URL, without a path (drop \"/launch/admin\")"
        );
        assert!(
            base_url_problem("http://host?x=1")
                .unwrap()
                .contains("drop \"?x=1\"")
        );
        for bad in [
            "http://:8080",
            "http://::1:9000",
            "http://host:80a",
            "http://host:",
        ] {
            assert!(
                base_url_problem(bad)
                    .unwrap()
                    .starts_with("must be an http(s) URL"),
                "{bad}"
            );
        }
        // W&B's web app is not its API, page address or not.
        for (app, origin) in [
            ("https://wandb.ai", "https://wandb.ai"),
            ("https://WWW.wandb.ai/", "https://WWW.wandb.ai"),
            ("https://wandb.ai/acme/proj", "https://wandb.ai"),
        ] {
            assert_eq!(
                base_url_problem(app).unwrap(),
                format!("{origin} is W&B's web app, not its API: use https://api.wandb.ai")
            );
        }
        assert_eq!(wandb_app_problem("https://api.wandb.ai"), None);
        assert_eq!(wandb_app_problem("http://127.0.0.1:8080"), None);
        assert_eq!(wandb_app_problem("https://notwandb.ai"), None);
        // A port browsers will not fetch from is refused before it is tried.
        assert_eq!(
            base_url_problem("http://127.0.0.1:9").unwrap(),
            "port 9 is one browsers refuse to connect to: run the server on another port (Liftoff's default is 8080)"
        );
        assert!(
            base_url_problem("http://h:6000/")
                .unwrap()
                .starts_with("port 6000 ")
        );
        assert_eq!(base_url_problem("http://h:8080"), None);
        // A port that is digits yet no port is named as such.
        assert_eq!(
            base_url_problem("http://127.0.0.1:99999").unwrap(),
            "port 99999 is not a port number: use one from 1 to 65535 (Liftoff's default is 8080)"
        );
        assert!(
            base_url_problem("http://host:0/")
                .unwrap()
                .starts_with("port 0 ")
        );
        assert_eq!(base_url_problem("http://host:65535"), None);
        assert!(
            base_url_problem("https://user:pw@host")
                .unwrap()
                .starts_with("must not hold a user name or password")
        );
    }
}
