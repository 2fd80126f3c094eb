//! Which page a URL shows: the web app's routes as data (`/launch/:entity/:queue`),
//! matched against a path, and the parameters of path and query string,
//! percent-decoded. The web app's router (`www/src/router.rs`) is the IO
//! around this; the server answers these paths with the app (and others
//! with 404), from the same list.

/// A page of the web app.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    Home,
    Connect,
    Launch,
    Queue,
    Jobs,
    Job,
    Run,
}

/// The web app's routes, tried in this order (`/launch/a/jobs` is a queue
/// named `jobs`).
pub const ROUTES: &[(&str, Page)] = &[
    ("/", Page::Home),
    ("/connect", Page::Connect),
    ("/launch", Page::Launch),
    ("/launch/:entity/:queue", Page::Queue),
    ("/launch/:entity/:queue/:tab", Page::Queue),
    // The project page: where wandb's "View project at" link lands.
    ("/:entity/:project", Page::Jobs),
    ("/:entity/:project/runs", Page::Jobs),
    ("/:entity/:project/jobs", Page::Jobs),
    ("/:entity/:project/jobs/:job", Page::Job),
    ("/:entity/:project/jobs/:job/:tab", Page::Job),
    ("/:entity/:project/runs/:run", Page::Run),
];

/// Named values from a path (`:entity`) or a query string (`?item=`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }

    /// `?a=1&b=x+y` (the leading `?` is optional); `+` is a space.
    pub fn from_query(search: &str) -> Self {
        let search = search.strip_prefix('?').unwrap_or(search);
        let decode = |s: &str| percent_decode(&s.replace('+', " "));
        Self(
            search
                .split('&')
                .filter(|pair| !pair.is_empty())
                .map(|pair| {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    (decode(k), decode(v))
                })
                .collect(),
        )
    }
}

/// The first route whose pattern matches `path`, with the values of its
/// `:name` segments. A trailing `/` does not matter.
pub fn match_route<P: Copy>(routes: &[(&str, P)], path: &str) -> Option<(P, Params)> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let first = |pattern: &str| {
        pattern
            .split('/')
            .find(|s| !s.is_empty())
            .map(str::to_owned)
    };
    // A first segment some route spells out (`launch`, `connect`) is that
    // route's, never an entity: `/launch/alice` is no project page.
    let reserved = segments.first().is_some_and(|seg| {
        routes
            .iter()
            .any(|(p, _)| first(p).as_deref() == Some(*seg))
    });
    routes.iter().find_map(|(pattern, page)| {
        let parts: Vec<&str> = pattern.split('/').filter(|s| !s.is_empty()).collect();
        if parts.len() != segments.len() || (reserved && parts[0].starts_with(':')) {
            return None;
        }
        let mut params = Vec::new();
        for (part, seg) in parts.iter().zip(&segments) {
            match part.strip_prefix(':') {
                Some(name) => params.push((name.to_owned(), percent_decode(seg))),
                None if part == seg => {}
                None => return None,
            }
        }
        Some((*page, Params(params)))
    })
}

/// A path of the app from its segments, each percent-encoded
/// ([`percent_encode`]): `path(&["launch", "admin", "gpu #1"])` is
/// `/launch/admin/gpu%20%231`, which [`match_route`] reads back as given.
pub fn path(segments: &[&str]) -> String {
    segments.iter().fold(String::new(), |mut out, seg| {
        out.push('/');
        out.push_str(&percent_encode(seg));
        out
    })
}

/// Where the Connect page sends the user back to (`?next=`): a path of
/// this app only (not `//host`, not another site), and not Connect itself.
pub fn return_path(next: Option<&str>) -> Option<String> {
    let next = next?;
    let on_this_site =
        next.starts_with('/') && !next.starts_with("//") && !next.contains(['\\', '\n', '\r']);
    (on_this_site && !next.starts_with("/connect")).then(|| next.to_owned())
}

/// Every byte but letters, digits and `-._~=` as `%XX`: safe in a path
/// segment and in a query value (a queue may be named `a/b #1?`; `=` is
/// kept, as base64 ids end with it and only a query's first `=` splits).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~=".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `%20` -> ` `; a stray `%` stays as it is; bytes that are not UTF-8
/// become U+FFFD. (The extension decodes wandb.ai's paths with it too.)
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_sends_back_only_to_a_page_of_this_app() {
        assert_eq!(
            return_path(Some("/launch/admin/q?item=UnVu==")).as_deref(),
            Some("/launch/admin/q?item=UnVu==")
        );
        for bad in [
            "//evil.example",
            "https://evil.example/x",
            "/\\evil",
            "/connect",
            "launch",
            "",
        ] {
            assert_eq!(return_path(Some(bad)), None, "{bad:?}");
        }
        assert_eq!(return_path(None), None);
    }

    #[test]
    fn paths_pick_the_first_matching_route() {
        assert_eq!(
            match_route(ROUTES, "/"),
            Some((Page::Home, Params::default()))
        );
        let (page, p) = match_route(ROUTES, "/launch/alice/my%20queue/").unwrap();
        assert_eq!(page, Page::Queue);
        assert_eq!(p.get("entity").as_deref(), Some("alice"));
        assert_eq!(p.get("queue").as_deref(), Some("my queue"));
        assert_eq!(p.get("tab"), None);
        let (_, p) = match_route(ROUTES, "/launch/alice/gpu/agents").unwrap();
        assert_eq!(p.get("tab").as_deref(), Some("agents"));
        // Routes are tried in order: `launch` here is a queue page's literal.
        let (page, p) = match_route(ROUTES, "/launch/alice/jobs").unwrap();
        assert_eq!(
            (page, p.get("queue").as_deref()),
            (Page::Queue, Some("jobs"))
        );
        let (page, p) = match_route(ROUTES, "/bob/mnist/jobs").unwrap();
        assert_eq!(
            (page, p.get("project").as_deref()),
            (Page::Jobs, Some("mnist"))
        );
        let (page, p) = match_route(ROUTES, "/bob/mnist/jobs/trainer/runs").unwrap();
        assert_eq!((page, p.get("tab").as_deref()), (Page::Job, Some("runs")));
        // The project page, where wandb's "View project at" link lands.
        for path in ["/bob/mnist", "/bob/mnist/runs"] {
            let (page, p) = match_route(ROUTES, path).unwrap();
            assert_eq!(
                (page, p.get("project").as_deref()),
                (Page::Jobs, Some("mnist"))
            );
        }
        assert_eq!(match_route(ROUTES, "/launch/alice"), None);
        assert_eq!(match_route(ROUTES, "/connect/x/runs"), None);
        assert_eq!(match_route(ROUTES, "/favicon.ico"), None);
        assert_eq!(match_route(ROUTES, "/a/b/c/d/e/f"), None);
    }

    #[test]
    fn paths_built_from_names_match_back_to_those_names() {
        for queue in [
            "default",
            "GPU a100 #1 ünï",
            "what?q=1",
            "a/b",
            "50%",
            "x&y+z",
            "a=b",
        ] {
            let href = path(&["launch", "admin", queue]);
            assert!(!href[1..].contains(['#', '?', ' ']), "{href}");
            let (page, params) = match_route(ROUTES, &href).unwrap();
            assert_eq!(page, Page::Queue, "{href}");
            assert_eq!(params.get("queue").as_deref(), Some(queue), "{href}");
            let query = Params::from_query(&format!("?entity={}", percent_encode(queue)));
            assert_eq!(query.get("entity").as_deref(), Some(queue));
        }
        assert_eq!(path(&["admin", "proj", "jobs"]), "/admin/proj/jobs");
    }

    #[test]
    fn query_strings_and_escapes_decode() {
        let q = Params::from_query("?item=a%2Fb&entity=x+y&flag&item=second");
        assert_eq!(q.get("item").as_deref(), Some("a/b"));
        assert_eq!(q.get("entity").as_deref(), Some("x y"));
        assert_eq!(q.get("flag").as_deref(), Some(""));
        assert_eq!(q.get("missing"), None);
        assert_eq!(Params::from_query(""), Params::default());
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%41"), "%zzA");
        assert_eq!(percent_decode("%C3%A9t%C3%A9"), "été");
        assert_eq!(percent_decode("%FF"), "\u{fffd}");
    }
}
