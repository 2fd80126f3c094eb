//! `liftoff login`: keep a key in ~/.netrc, as `wandb login` does.

use std::io::Read as _;

use anyhow::Context as _;
use liftoff_client::auth::{
    DEFAULT_BASE_URL, host_of, netrc_with_entry, normalize_base_url, settings_base_url,
    settings_with_base_url,
};
use liftoff_client::ops::identity::Viewer;
use liftoff_client::{Client, Credentials};

use crate::cli::LoginArgs;
use crate::cmd::conn::{netrc_path, settings_path};

pub async fn run(args: LoginArgs) -> anyhow::Result<()> {
    let settings = settings_path();
    let old_settings = std::fs::read_to_string(&settings).unwrap_or_default();
    let host = args
        .host
        .as_deref()
        .map(normalize_base_url)
        .or_else(|| settings_base_url(&old_settings))
        .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
    let from = if args.host.is_some() {
        "--host or WANDB_BASE_URL".to_owned()
    } else {
        format!("base_url in {}", settings.display())
    };
    // `wandb.ai`, with a scheme or without: the web app, not the API.
    let with_scheme = if host.contains("://") {
        host.clone()
    } else {
        format!("https://{host}")
    };
    if let Some(problem) = liftoff_client::url::wandb_app_problem(&with_scheme) {
        anyhow::bail!("the server address {host:?} ({from}) {problem}");
    }
    if liftoff_client::url::parse_url(&host).is_none() {
        let hint = if host.contains("://") {
            String::new()
        } else {
            format!(" (http://{host}?)")
        };
        anyhow::bail!(
            "the server address {host:?} ({from}) is not a URL{hint}: write it like http://127.0.0.1:8080 or https://api.wandb.ai"
        );
    }
    let key = match args.key {
        Some(k) => k,
        None => {
            use std::io::IsTerminal as _;
            let stdin = std::io::stdin();
            let mut s = String::new();
            let term = console::Term::stderr();
            if stdin.is_terminal() && term.is_term() {
                // As `wandb login`: the key is not shown as it is pasted.
                crate::warn_line!(
                    "Paste the API key for {host} and press Enter (it is not shown):"
                );
                s = read_hidden(term).await?;
            } else if stdin.is_terminal() {
                crate::warn_line!("Paste the API key for {host} and press Enter:");
                stdin.read_line(&mut s)?;
            } else {
                stdin.lock().read_to_string(&mut s)?;
            }
            s
        }
    };
    let key = key.trim().to_owned();
    anyhow::ensure!(!key.is_empty(), "no API key given");
    if !args.no_verify {
        let client = Client::new(
            liftoff_client::native::NativeTransport::new().map_err(anyhow::Error::msg)?,
            Credentials::new(&host, &key),
        );
        let viewer = client.call(Viewer).await.map_err(|e| match e {
            // Not the generic advice (check WANDB_API_KEY, run login): this is login, with this key.
            liftoff_client::Error::Unauthorized { .. } => anyhow::anyhow!(
                "the server at {host} refused this API key: copy it again (on W&B from https://wandb.ai/authorize; on Liftoff the key `liftoff server` printed, or one from `liftoff user create`)"
            ),
            e => anyhow::anyhow!("{e}"),
        })?;
        crate::out!(
            "Logged in to {host} as {} (default entity {}).",
            viewer.username,
            viewer.entity
        );
    }
    let path = netrc_path();
    let old = std::fs::read_to_string(&path).unwrap_or_default();
    liftoff_server::write_private(&path, &netrc_with_entry(&old, &host_of(&host), &key))?;
    crate::out!("Saved the key in {}.", path.display());
    // As `wandb login --host`: later commands use this host.
    if let Some(dir) = settings.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(&settings, settings_with_base_url(&old_settings, &host))
        .with_context(|| format!("cannot write {}", settings.display()))?;
    crate::out!(
        "Commands now use {host} (base_url in {}).",
        settings.display()
    );
    if let Some(env) = std::env::var("WANDB_BASE_URL")
        .ok()
        .filter(|e| !e.is_empty() && normalize_base_url(e) != host)
    {
        crate::out!(
            "WANDB_BASE_URL={env} still overrides it in this shell: unset it to use {host}."
        );
    }
    Ok(())
}

/// A line read at the terminal without echo. Ctrl-C while it waits puts
/// the echo back (console turns it off for the read) before leaving, so
/// the shell is not left without it.
async fn read_hidden(term: console::Term) -> anyhow::Result<String> {
    let read = tokio::task::spawn_blocking(move || term.read_secure_line());
    tokio::select! {
        line = read => Ok(line??),
        _ = tokio::signal::ctrl_c() => {
            if let Ok(tty) = std::fs::File::open("/dev/tty") {
                let _ = std::process::Command::new("stty").arg("echo").stdin(tty).status();
            }
            eprintln!();
            std::process::exit(130);
        }
    }
}
