//! Container image references (`busybox:1.36`, `ghcr.io/org/train@sha256:...`),
//! checked before they are sent anywhere: a bad one would otherwise reach the
//! agent and fail there, as the container engine's "invalid reference format".
//!
//! The grammar is the distribution reference one, read plainly:
//! `[host[:port]/]path[:tag][@algorithm:hex]`, where each path component is
//! lowercase letters and digits joined by `.`, `_`, `__` or `-`s, and a tag is
//! up to 128 of `[A-Za-z0-9_.-]`, not starting with `.` or `-`.

/// Check an image reference; the error says what is wrong with it.
pub fn check_reference(image: &str) -> Result<(), String> {
    let fail = |why: &str| {
        Err(format!(
            "{image:?} is not a container image reference: {why}"
        ))
    };
    if image.is_empty() {
        return fail("it is empty");
    }
    if let Some(c) = image.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return fail(&format!("it contains {c:?}"));
    }
    let (rest, digest) = match image.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (image, None),
    };
    if let Some(d) = digest {
        let ok = d.split_once(':').is_some_and(|(algo, hex)| {
            !algo.is_empty()
                && algo
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+._-".contains(c))
                && hex.len() >= 32
                && hex.chars().all(|c| c.is_ascii_hexdigit())
        });
        if !ok {
            return fail("a digest is written @algorithm:hex, e.g. @sha256:<64 hex digits>");
        }
    }
    // A tag follows the last ':' that comes after the last '/' (a ':' before
    // it is a registry port).
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    if let Some(tag) = tag {
        let ok = !tag.is_empty()
            && tag.len() <= 128
            && !tag.starts_with(['.', '-'])
            && tag
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
        if !ok {
            return fail(
                "a tag is up to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'",
            );
        }
    }
    let mut parts: Vec<&str> = name.split('/').collect();
    // The first part is a registry when it looks like a host: it has a '.'
    // or a port, or is localhost.
    if parts.len() > 1 && (parts[0].contains(['.', ':']) || parts[0] == "localhost") {
        let host = parts.remove(0);
        let (domain, port) = match host.split_once(':') {
            Some((d, p)) => (d, Some(p)),
            None => (host, None),
        };
        let domain_ok = domain.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
        if !domain_ok
            || port.is_some_and(|p| p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()))
        {
            return fail(&format!("{host:?} is not a registry host[:port]"));
        }
    }
    for part in parts {
        if let Some(why) = path_component_error(part) {
            return fail(&why);
        }
    }
    Ok(())
}

/// What is wrong with one `/`-separated part of a repository path, if anything.
fn path_component_error(part: &str) -> Option<String> {
    if part.is_empty() {
        return Some("it has an empty path part (a doubled or trailing '/')".into());
    }
    if part.chars().any(|c| c.is_ascii_uppercase()) {
        return Some(format!(
            "repository names are lowercase ({part:?}); a tag may have capitals"
        ));
    }
    if let Some(c) = part
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(*c)))
    {
        return Some(format!("{c:?} cannot appear in a repository name"));
    }
    let bytes = part.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return Some(format!(
            "{part:?} must start and end with a letter or digit"
        ));
    }
    // Separators: one '.', one or two '_', or any number of '-'.
    for run in part
        .split(|c: char| c.is_ascii_alphanumeric())
        .filter(|r| !r.is_empty())
    {
        let ok = run == "." || run == "_" || run == "__" || run.chars().all(|c| c == '-');
        if !ok {
            return Some(format!(
                "{run:?} cannot separate words in a repository name"
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_engines_accept_pass() {
        for good in [
            "busybox",
            "busybox:1.36",
            "library/python:3.12-slim",
            "ghcr.io/wandb/launch-agent:latest",
            "localhost:5000/train",
            "registry.example.com:443/team/train_v2__x:V1.0",
            "python@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "python:3.12@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "my-org/my---image",
        ] {
            assert_eq!(check_reference(good), Ok(()), "{good}");
        }
    }

    #[test]
    fn bad_references_say_what_is_wrong() {
        let why = |s: &str| check_reference(s).unwrap_err();
        assert!(why("").contains("it is empty"));
        assert!(
            why("UPPER CASE:tag").contains("it contains ' '"),
            "{}",
            why("UPPER CASE:tag")
        );
        assert!(why("Busybox").contains("repository names are lowercase"));
        assert!(why("busybox:").contains("a tag is"));
        assert!(why("busybox:-x").contains("a tag is"));
        assert!(why("busybox@sha256:xyz").contains("a digest"));
        assert!(why("org//train").contains("empty path part"));
        assert!(why("train/").contains("empty path part"));
        assert!(why("-train").contains("must start and end"));
        assert!(why("a...b").contains("cannot separate"));
        assert!(why("a___b").contains("cannot separate"));
        assert!(why("my$image").contains("'$' cannot appear"));
        assert!(why("bad_host.io:port/x").contains("registry host"));
        assert!(
            why("UPPER CASE:tag")
                .starts_with("\"UPPER CASE:tag\" is not a container image reference")
        );
    }
}
