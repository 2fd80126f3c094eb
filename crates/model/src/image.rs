//! Container image references (`busybox:1.36`, `ghcr.io/org/train@sha256:...`),
//! checked before they are sent anywhere: a bad one would otherwise reach the
//! agent and fail there, as the container engine's "invalid reference format".
//!
//! The grammar is the distribution reference one, read plainly:
//! `[host[:port]/]path[:tag][@algorithm:hex]`, where each path component is
//! lowercase letters and digits joined by `.`, `_`, `__` or `-`s, and a tag is
//! up to 128 of `[A-Za-z0-9_.-]`, not starting with `.` or `-`.

/// Why `repo` cannot be a repository built images are pushed to because
/// it names a tag (each image is tagged with a hash of its source).
pub fn repository_tag_problem(repo: &str) -> Option<String> {
    let (_, tag) = crate::job::split_image_tag(repo);
    tag.map(|tag| {
        format!(
            "may not include a tag, but ends in ':{tag}'; remove it (each image is tagged with a hash of its source)"
        )
    })
}

/// Check a repository built images are pushed to (`REGISTRY/NAME`): no tag
/// ([`repository_tag_problem`]), and a valid reference once tagged.
pub fn check_repository(repo: &str) -> Result<(), String> {
    match repository_tag_problem(repo) {
        Some(problem) => Err(problem),
        // Checked as it will be used (tagged), said as it was written.
        None => check_reference(&format!("{repo}:latest")).map_err(|e| {
            e.replacen(
                &format!("{:?}", format!("{repo}:latest")),
                &format!("{repo:?}"),
                1,
            )
        }),
    }
}

/// `image` with the registry Docker assumes spelled out: `busybox:1.36` is
/// `docker.io/library/busybox:1.36`, `wandb/job:main` is
/// `docker.io/wandb/job:main`. Podman, unlike Docker, does not assume
/// Docker Hub for a short name it has no alias for, and with no terminal to
/// ask it fails ("short-name did not resolve"); a name with a registry
/// (`ghcr.io/...`, `localhost/...`, `host:5000/...`) is kept. (For an image
/// not on the machine: a local one is run by the name it has.)
pub fn docker_hub_qualified(image: &str) -> String {
    match image.split_once('/') {
        Some((first, _)) if looks_like_host(first) => image.to_owned(),
        Some(_) => format!("docker.io/{image}"),
        None => format!("docker.io/library/{image}"),
    }
}

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
        // The algorithms engines accept, each with its exact length of lowercase hex.
        let ok = d.split_once(':').is_some_and(|(algo, hex)| {
            let len = match algo {
                "sha256" => 64,
                "sha384" => 96,
                "sha512" => 128,
                _ => return false,
            };
            hex.len() == len
                && hex
                    .chars()
                    .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
        });
        if !ok {
            return fail(
                "a digest is @sha256:<64 lowercase hex digits> (or sha384:<96>, sha512:<128>)",
            );
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
    if name.len() > 255 {
        return fail("the name (before any tag) is longer than 255 characters");
    }
    let mut parts: Vec<&str> = name.split('/').collect();
    if parts.len() > 1 && looks_like_host(parts[0]) {
        let host = parts.remove(0);
        if !host_ok(host) {
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

/// Whether the first part of a name is a registry, as Docker reads it: it
/// has a '.', a port or a capital letter, is an IPv6 address in brackets,
/// or is localhost.
fn looks_like_host(p: &str) -> bool {
    p.contains(['.', ':', '[']) || p.chars().any(|c| c.is_ascii_uppercase()) || p == "localhost"
}

/// `registry.example.com`, `localhost:5000`, `[::1]:5000`.
fn host_ok(host: &str) -> bool {
    let (domain_ok, port) = if let Some(inner) = host.strip_prefix('[') {
        let Some((addr, after)) = inner.split_once(']') else {
            return false;
        };
        let ok = addr.contains(':')
            && addr
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.');
        let port = match after {
            "" => None,
            p => match p.strip_prefix(':') {
                Some(port) => Some(port),
                None => return false,
            },
        };
        (ok, port)
    } else {
        let (domain, port) = match host.split_once(':') {
            Some((d, p)) => (d, Some(p)),
            None => (host, None),
        };
        let ok = domain.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
        (ok, port)
    };
    domain_ok && port.is_none_or(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
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
    fn short_names_are_read_as_docker_reads_them() {
        for (short, full) in [
            ("busybox:1.36", "docker.io/library/busybox:1.36"),
            (
                "wandb/job_hello_world:main",
                "docker.io/wandb/job_hello_world:main",
            ),
            ("ghcr.io/org/train:v1", "ghcr.io/org/train:v1"),
            ("localhost/liftoff-job:abc", "localhost/liftoff-job:abc"),
            ("registry:5000/team/img", "registry:5000/team/img"),
            (
                "docker.io/library/python:3.12",
                "docker.io/library/python:3.12",
            ),
            ("[::1]:5000/x", "[::1]:5000/x"),
            ("MyReg/img", "MyReg/img"),
            ("busybox@sha256:abc", "docker.io/library/busybox@sha256:abc"),
        ] {
            assert_eq!(docker_hub_qualified(short), full, "{short}");
        }
    }

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
            "docker.io/library/python:3.12",
            "registry:5000/x",
            "Myregistry/x",
            "Registry.Example.COM/x:LATEST",
            "[::1]:5000/foo",
            "[2001:db8::1]/foo:tag",
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
        let hex = "0123456789abcdef".repeat(4);
        for digest in [
            format!("sha256:{}", &hex[..32]),
            format!("sha256:{hex}00"),
            format!("sha256:{}", hex.to_uppercase()),
            format!("md5:{hex}"),
            format!("sha256+b64:{hex}"),
        ] {
            assert!(
                why(&format!("busybox@{digest}")).contains("a digest is @sha256"),
                "{digest}"
            );
        }
        assert!(why(&"a".repeat(256)).contains("longer than 255"));
        assert!(why("[::1/foo").contains("registry host"));
        assert!(why("[::1]x/foo").contains("registry host"));
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
