//! `liftoff server`.

use std::path::PathBuf;

use anyhow::Context as _;
use liftoff_server::{
    ServerConfig, bootstrap_with_key_file, default_data_dir, open_store, serve, state,
};

use crate::cli::ServerArgs;

/// Where Trunk puts the web app (see Trunk.toml), relative to the repo.
pub fn default_web_dir() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("LIFTOFF_WEB_DIR").map(PathBuf::from),
        Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/www")),
        Some(PathBuf::from("target/www")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|d| d.join("index.html").is_file())
}

pub async fn run(args: ServerArgs) -> anyhow::Result<()> {
    // What can be refused is, before the store is made or changed: the
    // address, the upstream, the web app's directory.
    let listener = listen(args.listen_addr()).await?;
    if let Some(up) = &args.upstream {
        anyhow::ensure!(
            up.starts_with("http://") || up.starts_with("https://"),
            "--upstream {up:?}: use an http:// or https:// URL"
        );
    }
    let web_dir = web_dir(args.web_dir.as_deref())?;
    // (An upstream's users are its own: the variable is not used then.)
    let admin_key = if args.upstream.is_some() {
        None
    } else {
        admin_key_from_env()?
    };
    let data_dir = args.store.data_dir.clone().unwrap_or_else(default_data_dir);
    let store = open_store(&data_dir, args.store.database_url.as_deref()).await?;
    let _one_server = note_other_server(&data_dir, args.store.database_url.as_deref());
    let boot = if args.upstream.is_some() {
        liftoff_server::Bootstrap {
            username: String::new(),
            new_key: None,
            key_file: admin_key_file(&data_dir, args.store.database_url.as_deref()),
            env_key_unknown: false,
            admin_missing: false,
        }
    } else {
        let key_file = admin_key_file(&data_dir, args.store.database_url.as_deref());
        bootstrap_with_key_file(&*store, &key_file, admin_key.as_deref(), super::now_ms()).await?
    };
    let mut config = ServerConfig::new(data_dir.join("objects"));
    config.web_dir = web_dir;
    config.cors_origins = args.cors_origins.clone();
    config.public_url = args.public_url.clone();
    if let Some(up) = &args.upstream {
        // As the SDK takes a base URL: `https://api.wandb.ai/graphql` is fine.
        config.upstream = Some(liftoff_client::auth::normalize_base_url(up));
    }
    config.lease_ms = i64::try_from(args.lease_secs).unwrap_or(60) * 1000;
    config.agent_gone_after_ms = i64::try_from(args.agent_gone_after_secs).unwrap_or(60) * 1000;
    let web = config.web_dir.clone();
    let state = state(store.clone(), config).await?;
    let bound = listener.local_addr()?;
    let url = reachable_url(bound);
    match &args.upstream {
        Some(up) => {
            crate::note!(
                "Liftoff server on {url} (API forwarded to {}: users, queues and runs stay there; keys are passed on, not stored)",
                liftoff_client::auth::normalize_base_url(up)
            )
        }
        None => crate::note!(
            "Liftoff server on {url} (storage: {})",
            storage_label(&args, &data_dir)
        ),
    }
    if bound.ip().is_unspecified() {
        crate::note!(
            "Listening on every address of this machine ({bound}): other machines use its own address."
        );
    }
    match (&boot.new_key, &admin_key) {
        // The operator chose the key: no need to put it in a log.
        (Some(_), Some(_)) => crate::note!(
            "Created user `{}` with the API key from LIFTOFF_ADMIN_API_KEY",
            boot.username
        ),
        (Some(key), None) => {
            crate::note!("Created user `{}` with API key {key}", boot.username);
            crate::note!("(shown once; also saved to {})", boot.key_file.display());
        }
        (None, _) => {}
    }
    if boot.env_key_unknown {
        crate::warn_line!(
            "warning: {}",
            env_key_unknown(&boot, &data_dir, &args.store)
        );
    }
    match web {
        Some(dir) => crate::note!("Web app: {url}/ (from {})", dir.display()),
        None => {
            crate::note!("Web app: not built (run `cargo xtask web`); the API is at {url}/graphql")
        }
    }
    crate::note!("Point W&B tools here with: export WANDB_BASE_URL={url} WANDB_API_KEY=<key>");
    serve(state, listener, shutdown_signal()).await?;
    crate::note!("Liftoff server stopped.");
    Ok(())
}

/// Said when `LIFTOFF_ADMIN_API_KEY` is no one's key in a store that has users.
pub fn env_key_unknown(
    boot: &liftoff_server::Bootstrap,
    data_dir: &std::path::Path,
    store: &crate::cli::StoreArgs,
) -> String {
    // The admin command must open the store this server uses.
    let which = if store.database_url.is_some() {
        "--database-url URL".to_owned()
    } else {
        format!("--data-dir {}", data_dir.display())
    };
    if boot.admin_missing {
        return format!(
            "LIFTOFF_ADMIN_API_KEY is not a key of this store, which has no user `admin` (its users were made before the server first started, so none was). \
             Make an admin with `liftoff user create NAME --admin {which}` and use the key it prints."
        );
    }
    format!(
        "LIFTOFF_ADMIN_API_KEY is not a key of this store: it only chooses the admin's key when the server first starts on an empty store. \
         Use the admin's key (in {} when the server made it), or make a new one with `liftoff user create NAME --admin {which}`.",
        boot.key_file.display()
    )
}

/// The URL clients use for a listening address: one bound to every
/// address (0.0.0.0, ::) is reached here at the loopback one.
pub fn reachable_url(addr: std::net::SocketAddr) -> String {
    let ip = match addr.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    format!("http://{}", std::net::SocketAddr::new(ip, addr.port()))
}

/// Says so when another server (or `up`) already runs on this data dir's
/// SQLite store: both work, on the same queues, which is seldom meant (a
/// server forgotten on another port). Keep the answer for the server's
/// life: it holds the data dir's `server.lock`.
pub fn note_other_server(
    data_dir: &std::path::Path,
    database_url: Option<&str>,
) -> Option<std::fs::File> {
    if database_url.is_some() {
        return None;
    }
    let lock = std::fs::File::create(data_dir.join("server.lock")).ok()?;
    match lock.try_lock() {
        Ok(()) => Some(lock),
        Err(std::fs::TryLockError::WouldBlock) => {
            crate::warn_line!(
                "note: another Liftoff server runs on {} already; this one shares its store (the same users, queues and runs)",
                data_dir.display()
            );
            None
        }
        Err(_) => None,
    }
}

/// `LIFTOFF_ADMIN_API_KEY`, when set: checked before any store is made.
pub fn admin_key_from_env() -> anyhow::Result<Option<String>> {
    match std::env::var("LIFTOFF_ADMIN_API_KEY") {
        Ok(k) if !k.trim().is_empty() => {
            liftoff_server::auth::validate_key(&k)
                .map_err(|e| anyhow::anyhow!("LIFTOFF_ADMIN_API_KEY: {e}"))?;
            Ok(Some(k.trim().to_owned()))
        }
        _ => Ok(None),
    }
}

/// Where the first admin's key is saved: `admin-api-key` in the data dir,
/// or, for a `--database-url`, a file of that database's own (named by a
/// hash of its URL, password left out), so one database's key never
/// replaces another's.
pub fn admin_key_file(data_dir: &std::path::Path, database_url: Option<&str>) -> PathBuf {
    match database_url {
        None => data_dir.join("admin-api-key"),
        Some(url) => {
            // FNV-1a: stable across builds and Rust versions.
            let hash = redact(url).bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            });
            data_dir.join(format!("admin-api-key.{:08x}", hash as u32))
        }
    }
}

fn storage_label(args: &ServerArgs, data_dir: &std::path::Path) -> String {
    match &args.store.database_url {
        Some(url) if url.starts_with("sqlite:") => format!("SQLite {}", redact(url)),
        Some(url) => format!("PostgreSQL {}", redact(url)),
        None => format!("SQLite {}", data_dir.join("liftoff.db").display()),
    }
}

/// `postgres://user:secret@host/db` -> `postgres://user:***@host/db`.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    liftoff_agent::agent::interrupt_or_terminate().await;
}

/// `--web-dir` when given (it must hold the built app), else the built
/// app found next to the binary or the sources, if any.
pub fn web_dir(flag: Option<&std::path::Path>) -> anyhow::Result<Option<PathBuf>> {
    match flag {
        Some(dir) => {
            anyhow::ensure!(
                dir.join("index.html").is_file(),
                "--web-dir {}: there is no index.html there; give the directory `cargo xtask web` builds (target/www), or leave --web-dir out",
                dir.display()
            );
            Ok(Some(dir.to_owned()))
        }
        None => Ok(default_web_dir()),
    }
}

/// Listen on `addr`, saying what to do when it is taken (a port free now).
pub async fn listen(addr: std::net::SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => Ok(l),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            let free = (1..=100u16)
                .filter_map(|i| addr.port().checked_add(i))
                .find(|p| std::net::TcpListener::bind((addr.ip(), *p)).is_ok());
            let hint = match free {
                Some(p) => format!(" (another liftoff? try --port {p})"),
                None => " (another liftoff?)".to_owned(),
            };
            Err(e).with_context(|| format!("cannot listen on {addr}{hint}"))
        }
        Err(e) => Err(e).with_context(|| format!("cannot listen on {addr}")),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_unknown_admin_key_names_the_store_to_fix_it_in() {
        let dir = std::path::Path::new("/srv/liftoff");
        let boot = |admin_missing| liftoff_server::Bootstrap {
            username: "admin".into(),
            new_key: None,
            key_file: dir.join("admin-api-key"),
            env_key_unknown: true,
            admin_missing,
        };
        let sqlite = crate::cli::StoreArgs {
            data_dir: Some(dir.into()),
            database_url: None,
        };
        let pg = crate::cli::StoreArgs {
            data_dir: None,
            database_url: Some("postgres://u:secret@db/liftoff".into()),
        };
        let said = super::env_key_unknown(&boot(false), dir, &sqlite);
        assert!(
            said.contains("(in /srv/liftoff/admin-api-key when the server made it)"),
            "{said}"
        );
        assert!(
            said.ends_with("`liftoff user create NAME --admin --data-dir /srv/liftoff`."),
            "{said}"
        );
        let said = super::env_key_unknown(&boot(true), dir, &pg);
        assert!(said.contains("has no user `admin`"), "{said}");
        assert!(said.contains("--admin --database-url URL`"), "{said}");
        assert!(
            !said.contains("secret") && !said.contains("admin-api-key"),
            "{said}"
        );
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            super::redact("postgres://u:pw@h:5/db"),
            "postgres://u:***@h:5/db"
        );
        assert_eq!(super::redact("postgres://h/db"), "postgres://h/db");
    }
}
