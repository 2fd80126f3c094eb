//! `liftoff server` as a process: crash safety, graceful shutdown, admin commands.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use liftoff_client::ops::{identity, items, queues};
use liftoff_model::queue::QueueAccess;
use liftoff_model::spec::LaunchSpec;
use serde_json::json;

use crate::harness::{ADMIN_KEY, Server, admin, admin_ok, bin};

fn spec(n: usize) -> LaunchSpec {
    LaunchSpec::from_value(json!({"docker": {"docker_image": "busybox"}, "entity": "admin", "project": "p", "run_id": format!("r{n}")})).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_push_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), &[]);
    let client = server.client(ADMIN_KEY);
    client
        .call(queues::CreateRunQueue {
            entity: "admin".into(),
            project: "model-registry".into(),
            name: "q".into(),
            access: QueueAccess::Project,
            prioritization_mode: None,
            default_resource_config_id: None,
        })
        .await
        .unwrap();
    // four pushers; the server is killed while they run
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for w in 0..4 {
        let client = server.client(ADMIN_KEY);
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            let mut ok = Vec::new();
            let mut n = w;
            while !stop.load(Ordering::SeqCst) {
                match client
                    .call(items::PushToRunQueueByName::new("admin", "q", spec(n)))
                    .await
                {
                    Ok(_) => ok.push(format!("r{n}")),
                    Err(_) => break,
                }
                n += 4;
            }
            ok
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    server.kill9();
    stop.store(true, Ordering::SeqCst);
    let mut acknowledged = Vec::new();
    for t in tasks {
        acknowledged.extend(t.await.unwrap());
    }
    assert!(
        acknowledged.len() > 50,
        "only {} pushes before the kill",
        acknowledged.len()
    );
    let server = Server::start(dir.path(), &[]);
    let client = server.client(ADMIN_KEY);
    let mut popped = std::collections::HashSet::new();
    while let Some(item) = client
        .call(items::PopFromRunQueue {
            entity: "admin".into(),
            project: "model-registry".into(),
            queue: "q".into(),
            agent_id: None,
        })
        .await
        .unwrap()
    {
        popped.insert(item.run_spec["run_id"].as_str().unwrap().to_owned());
    }
    let lost: Vec<&String> = acknowledged
        .iter()
        .filter(|r| !popped.contains(*r))
        .collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged pushes lost: {lost:?}",
        lost.len(),
        acknowledged.len()
    );
}

#[tokio::test]
async fn sigterm_stops_the_server_cleanly_and_admin_commands_work() {
    let dir = tempfile::tempdir().unwrap();
    // admin commands on the same data dir
    let out = admin(dir.path(), &["user", "create", "alice"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Before the first start: allowed, with a note on which data dir it is.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("yet: creating one"), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let alice_key = stdout.lines().last().unwrap().trim().to_owned();
    assert_eq!(alice_key.len(), 40);
    let out = admin(dir.path(), &["user", "create", "Alice!"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a valid name"));
    // A name that begins the server's (or the app's) own paths.
    let out = admin(dir.path(), &["team", "create", "launch"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("\"launch\" is reserved"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = admin(
        dir.path(),
        &[
            "team", "create", "ml", "--member", "alice", "--member", "zed",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no user named \"zed\""));
    admin_ok(dir.path(), &["team", "create", "ml", "--member", "alice"]);
    // A name that would read as a flag (`-e -x`) is refused.
    let out = Command::new(bin())
        .args(["user", "create", "--data-dir"])
        .arg(dir.path())
        .args(["--", "-x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("starting with a letter or digit"));
    // Members are added later; one not there adds no one.
    let out = admin(
        dir.path(),
        &["team", "add", "ml", "--member", "bob", "--member", "zed"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no user named \"bob\""));
    admin_ok(dir.path(), &["user", "create", "bob"]);
    let out = admin(
        dir.path(),
        &["team", "add", "ml", "--member", "bob", "--member", "alice"],
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Added bob to team `ml`."));
    let out = admin(dir.path(), &["team", "add", "ml", "--member", "bob"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("No change"));
    // A lost key: one more, and the first still works.
    let second_key = admin_ok(dir.path(), &["user", "key", "alice"]);
    assert_eq!(second_key.len(), 40);
    assert_ne!(second_key, alice_key);

    let mut server = Server::start(dir.path(), &[]);
    for key in [&alice_key, &second_key] {
        let who = server.client(key).call(identity::Viewer).await.unwrap();
        assert_eq!(who.username, "alice");
    }
    let bob = admin_ok(dir.path(), &["user", "key", "bob"]);
    let who = server.client(&bob).call(identity::Viewer).await.unwrap();
    assert_eq!(who.teams, ["ml".to_owned()]);
    let viewer = server
        .client(&alice_key)
        .call(identity::Viewer)
        .await
        .unwrap();
    assert_eq!(
        (viewer.username.as_str(), viewer.teams.as_slice()),
        ("alice", &["ml".to_owned()][..])
    );
    // the admin key came from LIFTOFF_ADMIN_API_KEY? No: alice was created first,
    // so no admin was bootstrapped and the admin key is refused.
    assert!(
        server
            .client(ADMIN_KEY)
            .call(identity::Viewer)
            .await
            .is_err()
    );
    let status = server.terminate();
    assert!(status.success(), "exit status {status:?}");
}

/// A leaked key: `user key --revoke-others` makes a new one and the old
/// ones stop working; `user list` shows who has how many keys.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_other_keys_can_be_revoked_and_users_listed() {
    let dir = tempfile::tempdir().unwrap();
    let old = admin_ok(dir.path(), &["user", "create", "carol"]);
    admin_ok(dir.path(), &["user", "key", "carol"]);
    admin_ok(dir.path(), &["user", "create", "dave", "--admin"]);
    admin_ok(dir.path(), &["team", "create", "ml", "--member", "carol"]);
    let out = admin(dir.path(), &["user", "list"]);
    let listed = String::from_utf8_lossy(&out.stdout).to_string();
    let row = |name: &str| {
        listed
            .lines()
            .find(|l| l.starts_with(name))
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .unwrap_or_else(|| panic!("{listed}"))
    };
    assert_eq!((row("carol")[1], row("carol")[2]), ("no", "2"), "{listed}");
    assert_eq!(row("carol").last(), Some(&"ml"), "{listed}");
    assert_eq!((row("dave")[1], row("dave")[2]), ("yes", "1"), "{listed}");
    let out = admin(dir.path(), &["user", "key", "carol", "--revoke-others"]);
    assert!(out.status.success());
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(said.contains("2 other key(s) revoked"), "{said}");
    let new = said.lines().last().unwrap().trim().to_owned();
    assert_eq!(new.len(), 40, "{said}");
    let out = admin(dir.path(), &["user", "list"]);
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .any(|l| l.starts_with("carol") && l.split_whitespace().nth(2) == Some("1"))
    );
    let mut server = Server::start(dir.path(), &[]);
    assert!(server.client(&old).call(identity::Viewer).await.is_err());
    let who = server.client(&new).call(identity::Viewer).await.unwrap();
    assert_eq!(who.username, "carol");
    assert!(server.terminate().success());
    // Deactivated: no key of hers works; her entity stays; a new key lets her in.
    let said = admin_ok(dir.path(), &["user", "deactivate", "carol"]);
    assert!(
        said.contains("Deactivated `carol`: 1 API key(s) revoked"),
        "{said}"
    );
    let said = admin_ok(dir.path(), &["user", "deactivate", "carol"]);
    assert!(said.contains("already deactivated"), "{said}");
    let out = admin(dir.path(), &["user", "list"]);
    let listed = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with("carol") && l.split_whitespace().nth(2) == Some("0"))
            && listed.contains("0 keys: deactivated"),
        "{listed}"
    );
    let out = admin(dir.path(), &["user", "deactivate", "nobody"]);
    assert!(!out.status.success());
    // dave is the only admin who can sign in: he stays.
    let out = admin(dir.path(), &["user", "deactivate", "dave"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("`dave` is the only admin with an API key"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut server = Server::start(dir.path(), &[]);
    assert!(server.client(&new).call(identity::Viewer).await.is_err());
    let again = admin_ok(dir.path(), &["user", "key", "carol"]);
    let who = server.client(&again).call(identity::Viewer).await.unwrap();
    assert_eq!(who.username, "carol");
    assert!(server.terminate().success());
}

#[test]
fn admin_commands_make_no_database_in_the_default_data_dir() {
    // A user made without --data-dir while the server runs on its own data
    // dir would land in a new database the server never reads.
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(bin())
        .args(["user", "create", "alice"])
        .env("HOME", home.path())
        .env_remove("XDG_DATA_HOME")
        .env_remove("LIFTOFF_DATA_DIR")
        .env_remove("LIFTOFF_DATABASE_URL")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("no Liftoff database at") && stderr.contains("--data-dir"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "no key is shown for a user not made");
    let made: Vec<_> = walk(home.path());
    assert!(made.iter().all(|p| !p.ends_with("liftoff.db")), "{made:?}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = vec![];
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(walk(&path));
        }
        found.push(path);
    }
    found
}

#[tokio::test]
async fn the_first_start_writes_the_admin_key_privately() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let key_file = dir.path().join("admin-api-key");
    let key = std::fs::read_to_string(&key_file).unwrap();
    assert_eq!(key.trim(), ADMIN_KEY);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // the key is stored hashed, never in clear
    let db = std::fs::read(dir.path().join("liftoff.db")).unwrap();
    let wal = std::fs::read(dir.path().join("liftoff.db-wal")).unwrap_or_default();
    for bytes in [db, wal] {
        assert!(
            !bytes
                .windows(ADMIN_KEY.len())
                .any(|w| w == ADMIN_KEY.as_bytes()),
            "the API key is in the database in clear"
        );
    }
    drop(server);
}

/// `liftoff login --host URL KEY` as a user with a fresh home and no
/// WANDB_* variables: stdout, stderr and the exit status.
fn as_fresh_user(home: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(bin())
        .args(args)
        .env("HOME", home)
        .env_remove("WANDB_BASE_URL")
        .env_remove("WANDB_API_KEY")
        .env_remove("WANDB_CONFIG_DIR")
        .env_remove("NETRC")
        .env_remove("WANDB_ENTITY")
        .output()
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

#[tokio::test]
async fn login_makes_its_host_the_default_as_wandb_login_does() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), &[]);
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    // A wrong key is refused and nothing is saved.
    let (ok, _, err) = as_fresh_user(&home, &["login", "--host", &server.url, "0bad"]);
    assert!(
        !ok && err.contains(&format!(
            "the server at {} refused this API key: copy it again",
            server.url
        )),
        "{err}"
    );
    assert!(
        !err.contains("WANDB_API_KEY"),
        "not advice for another path: {err}"
    );
    // A host without a scheme is refused before anything is sent or saved.
    let bare = server.url.trim_start_matches("http://");
    let (ok, _, err) = as_fresh_user(&home, &["login", "--host", bare, ADMIN_KEY]);
    assert!(
        !ok && err.contains(&format!("is not a URL (http://{bare}?)")),
        "{err}"
    );
    // So is W&B's web app address, with the API's.
    let (ok, _, err) = as_fresh_user(&home, &["login", "--host", "https://wandb.ai", ADMIN_KEY]);
    assert!(
        !ok && err.contains("is W&B's web app, not its API: use https://api.wandb.ai"),
        "{err}"
    );
    assert!(!home.join(".netrc").exists() && !home.join(".config").exists());
    let (ok, out, err) = as_fresh_user(&home, &["login", "--host", &server.url, ADMIN_KEY]);
    assert!(ok, "{err}");
    assert!(
        out.contains(&format!("Commands now use {}", server.url)),
        "{out}"
    );
    let settings = std::fs::read_to_string(home.join(".config/wandb/settings")).unwrap();
    assert_eq!(settings, format!("[default]\nbase_url = {}\n", server.url));
    // Later commands reach that server with the saved key, with no variables.
    let (ok, _, err) = as_fresh_user(&home, &["queue", "create", "cpu", "-r", "local-process"]);
    assert!(ok, "{err}");
    let (ok, out, err) = as_fresh_user(&home, &["queue", "list"]);
    assert!(ok && out.contains("cpu"), "{out}{err}");
    // Its agent column says what its figures count.
    assert!(
        out.contains("AGENTS (LIVE/ALL)") && out.contains("0/0"),
        "{out}"
    );
    // `liftoff login` with neither --host nor WANDB_BASE_URL keeps that host
    // (and takes wandb's --relogin).
    let (ok, out, err) = as_fresh_user(&home, &["login", "--relogin", ADMIN_KEY]);
    assert!(
        ok && out.contains(&format!("Logged in to {} as admin", server.url)),
        "{out}{err}"
    );
}

/// At a terminal (a pty made by util-linux's `script`, which every Debian
/// has), `liftoff login` asks for the key and does not show it as typed.
#[tokio::test]
async fn login_at_a_terminal_does_not_show_the_key() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), &[]);
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let command = format!("{} login --host {}", bin(), server.url);
    let mut child = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("HOME", &home)
        .env_remove("WANDB_BASE_URL")
        .env_remove("WANDB_API_KEY")
        .env_remove("NETRC")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("util-linux `script` (Debian's bsdutils)");
    // Typed once the prompt is up (before, the terminal would still echo it).
    let mut stdout = child.stdout.take().unwrap();
    let mut shown = Vec::new();
    let mut buf = [0u8; 256];
    while !String::from_utf8_lossy(&shown).contains("(it is not shown)") {
        let n = std::io::Read::read(&mut stdout, &mut buf).unwrap();
        assert!(n > 0, "no prompt: {}", String::from_utf8_lossy(&shown));
        shown.extend_from_slice(&buf[..n]);
    }
    // (console turns the echo off just after the prompt is written.)
    std::thread::sleep(std::time::Duration::from_millis(300));
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{ADMIN_KEY}").unwrap();
    std::io::Read::read_to_end(&mut stdout, &mut shown).unwrap();
    let status = child.wait().unwrap();
    let shown = String::from_utf8_lossy(&shown);
    assert!(status.success(), "{shown}");
    assert!(shown.contains("(it is not shown)"), "{shown}");
    assert!(shown.contains("Logged in to"), "{shown}");
    assert!(!shown.contains(ADMIN_KEY), "the key was shown: {shown}");
    let netrc = std::fs::read_to_string(home.join(".netrc")).unwrap();
    assert!(netrc.contains(ADMIN_KEY), "{netrc}");
}

#[tokio::test]
async fn an_upstream_proxy_forwards_the_api_with_the_callers_key() {
    let dir = tempfile::tempdir().unwrap();
    let upstream = Server::start(&dir.path().join("up"), &[]);
    let proxy = Server::start(&dir.path().join("proxy"), &["--upstream", &upstream.url]);
    let via_proxy = proxy.client(ADMIN_KEY);
    let viewer = via_proxy.call(identity::Viewer).await.unwrap();
    assert_eq!(viewer.username, "admin");
    // An upstream given as its GraphQL endpoint is read as its base URL.
    let endpoint = format!("{}/graphql", upstream.url);
    let proxy2 = Server::start(&dir.path().join("proxy2"), &["--upstream", &endpoint]);
    let viewer = proxy2
        .client(ADMIN_KEY)
        .call(identity::Viewer)
        .await
        .unwrap();
    assert_eq!(viewer.username, "admin");
    drop(proxy2);
    via_proxy
        .call(queues::CreateRunQueue {
            entity: "admin".into(),
            project: "model-registry".into(),
            name: "through-proxy".into(),
            access: QueueAccess::Project,
            prioritization_mode: None,
            default_resource_config_id: None,
        })
        .await
        .unwrap();
    let direct = upstream
        .client(ADMIN_KEY)
        .call(queues::ProjectRunQueues::new("admin"))
        .await
        .unwrap();
    assert_eq!(direct[0].name, "through-proxy", "the queue lives upstream");
    // a bad key is refused by the upstream, through the proxy
    let err = proxy
        .client("ffffffffffffffffffffffffffffffffffffffff")
        .call(identity::Viewer)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("refused the API key"), "{err}");
    // the proxy stores nothing
    assert!(!dir.path().join("proxy/admin-api-key").exists());
}

/// An operation the server does not implement (here one a newer SDK might
/// send) gets a GraphQL error naming the field, with HTTP 200, never a 500;
/// and the server's log says which operation it was, with its document.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unimplemented_operation_is_named_in_the_answer_and_in_the_log() {
    use liftoff_client::{Credentials, HttpRequest, Transport};
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let mut child = Command::new(bin())
        .args(["server", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .env("LIFTOFF_ADMIN_API_KEY", ADMIN_KEY)
        .env("LIFTOFF_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("the server printed its URL").unwrap();
        if let Some(rest) = line.strip_prefix("Liftoff server on ") {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let body = json!({
        "operationName": "RunTeleport",
        "query": "query RunTeleport($to: String!) { teleportRun(to: $to) { id } }",
        "variables": {"to": "mars"},
    });
    let answer = liftoff_client::native::NativeTransport::new()
        .unwrap()
        .send(HttpRequest {
            method: "POST",
            url: format!("{url}/graphql"),
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                (
                    "Authorization".into(),
                    Credentials::new(&url, ADMIN_KEY).authorization(),
                ),
            ],
            body: body.to_string().into_bytes(),
        })
        .await
        .unwrap();
    assert_eq!(answer.status, 200);
    let answer: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(
        answer["errors"][0]["message"],
        "Cannot query field \"teleportRun\" on type \"Query\"."
    );
    assert_eq!(
        answer["errors"][0]["extensions"]["code"],
        "GRAPHQL_VALIDATION_FAILED"
    );
    let logged = (0..50)
        .find_map(|_| {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if text.contains("does not implement") {
                return Some(text);
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
            None
        })
        .expect("the server logged the unknown operation");
    assert!(logged.contains("RunTeleport"), "{logged}");
    assert!(logged.contains("teleportRun"), "{logged}");
    let _ = child.kill();
    let _ = child.wait();
}

/// What `server` and `up` can refuse (a port taken, a --web-dir without
/// the app) is refused before the store is made: nothing is left behind,
/// and the next start still shows the admin's new key.
#[tokio::test]
async fn a_refused_start_makes_no_store() {
    let dir = tempfile::tempdir().unwrap();
    let taken = Server::start(&dir.path().join("taken"), &[]);
    let addr = taken.url.trim_start_matches("http://").to_owned();
    let fresh = dir.path().join("fresh");
    let fresh_arg = fresh.to_str().unwrap().to_owned();
    for args in [
        vec!["server", "--addr", &addr, "--data-dir", &fresh_arg],
        vec![
            "up",
            "--addr",
            &addr,
            "--data-dir",
            &fresh_arg,
            "--no-agent",
        ],
        vec![
            "server",
            "--addr",
            "127.0.0.1:0",
            "--data-dir",
            &fresh_arg,
            "--web-dir",
            "/nope",
        ],
    ] {
        let out = Command::new(bin())
            .args(&args)
            .env_remove("LIFTOFF_ADMIN_API_KEY")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("try --port") || err.contains("--web-dir /nope: there is no index.html"),
            "{args:?}: {err}"
        );
        assert!(!fresh.exists(), "{args:?} made {}", fresh.display());
    }
}

/// Each `--database-url` keeps its first admin's key in a file of its own
/// (two databases never share one), the banner names SQLite as SQLite, and
/// `up` says when the key it would sign its agent in with is not the store's.
#[tokio::test]
async fn each_database_keeps_its_own_admin_key() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut files = Vec::new();
    for db in ["a.db", "b.db"] {
        let url = format!("sqlite://{}", dir.path().join(db).display());
        let mut child = Command::new(bin())
            .args(["server", "--addr", "127.0.0.1:0", "--data-dir"])
            .arg(&data)
            .args(["--database-url", &url])
            .env_remove("LIFTOFF_ADMIN_API_KEY")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut said = String::new();
        for line in BufReader::new(child.stdout.take().unwrap()).lines() {
            let line = line.unwrap();
            said.push_str(&line);
            said.push('\n');
            if line.starts_with("Point W&B tools here") {
                break;
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        assert!(said.contains("(storage: SQLite sqlite://"), "{said}");
        let file = said
            .lines()
            .find_map(|l| l.strip_prefix("(shown once; also saved to "))
            .and_then(|l| l.strip_suffix(')'))
            .unwrap_or_else(|| panic!("{said}"))
            .to_owned();
        files.push(file);
    }
    assert_ne!(files[0], files[1], "two databases, two key files");
    // A key file that is not this store's: `up` says so, and where it read it.
    std::fs::write(data.join("admin-api-key"), "f".repeat(40)).unwrap();
    admin_ok(&data, &["user", "create", "bob"]);
    let out = Command::new(bin())
        .args(["up", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .env_remove("LIFTOFF_ADMIN_API_KEY")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("admin-api-key is not a key of this store"),
        "{err}"
    );
}

/// Bad start-up input is said before a store is made: an admin key that
/// cannot be one, a data dir that is a file.
#[test]
fn a_bad_admin_key_or_data_dir_is_said_before_a_store_is_made() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("fresh");
    let out = Command::new(bin())
        .args(["server", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(&fresh)
        .env("LIFTOFF_ADMIN_API_KEY", "abc")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("LIFTOFF_ADMIN_API_KEY: an API key is"),
        "{err}"
    );
    assert!(!fresh.exists());
    let file = dir.path().join("afile");
    std::fs::write(&file, "").unwrap();
    let out = Command::new(bin())
        .args(["server", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(&file)
        .env_remove("LIFTOFF_ADMIN_API_KEY")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("is a file, not a directory"), "{err}");
}

/// A second server on a data dir another one serves says so (both work on
/// the same store, which is seldom meant).
#[tokio::test]
async fn a_second_server_on_a_data_dir_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let first = Server::start(dir.path(), &[]);
    let mut second = Command::new(bin())
        .args(["server", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env_remove("LIFTOFF_ADMIN_API_KEY")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // (The note comes as soon as the store is open, long before this.)
    std::thread::sleep(std::time::Duration::from_secs(3));
    let _ = second.kill();
    let out = second.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("another Liftoff server runs on") && err.contains("shares its store"),
        "{err}"
    );
    drop(first);
}

/// SIGTERM (docker stop, systemd) stops the server within seconds even
/// while an agent's long poll holds a request open (it waited for it, up
/// to 30 s, past a supervisor's patience).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_server_during_an_agents_long_poll() {
    let tmp = tempfile::tempdir().unwrap();
    let mut server = Server::start(&tmp.path().join("server"), &[]);
    let (status, _, err) = crate::harness::liftoff(
        &server,
        tmp.path(),
        &["queue", "create", "q", "--resource", "local-process"],
    );
    assert!(status.success(), "{err}");
    let agent =
        crate::harness::AgentProcess::start(&server, &tmp.path().join("agent"), &["-q", "q"]);
    crate::harness::eventually(Duration::from_secs(30), "the agent to poll", || async {
        agent.output().contains("long poll").then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await; // a long poll under way
    let asked = std::time::Instant::now();
    let status = server.terminate();
    assert!(status.success(), "exit status {status:?}");
    assert!(
        asked.elapsed() < Duration::from_secs(6),
        "stopped after {:?}",
        asked.elapsed()
    );
}
