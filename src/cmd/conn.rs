//! Connecting to a server as `wandb` does: WANDB_BASE_URL, else the
//! `base_url` that `liftoff login --host` (or `wandb login --host`) saved in
//! wandb's settings file; WANDB_API_KEY, else the ~/.netrc entry of the host.

use liftoff_client::auth::Files;
use liftoff_client::native::NativeTransport;
use liftoff_client::ops::identity::{GetDefaultEntity, ServerFeaturesQuery, features};
use liftoff_client::{Client, Credentials};

use crate::cli::ConnArgs;

pub fn netrc_path() -> std::path::PathBuf {
    std::env::var_os("NETRC")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| dirs_home().join(".netrc"))
}

/// wandb's settings file: `$WANDB_CONFIG_DIR/settings`, else
/// `~/.config/wandb/settings`.
pub fn settings_path() -> std::path::PathBuf {
    std::env::var_os("WANDB_CONFIG_DIR")
        .filter(|d| !d.is_empty())
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| dirs_home().join(".config/wandb"))
        .join("settings")
}

pub fn dirs_home() -> std::path::PathBuf {
    std::env::var_os("HOME")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| ".".into())
}

pub fn client(args: &ConnArgs) -> anyhow::Result<Client<NativeTransport>> {
    let netrc = std::fs::read_to_string(netrc_path()).ok();
    let settings = std::fs::read_to_string(settings_path()).ok();
    let files = Files {
        netrc: netrc.as_deref(),
        settings: settings.as_deref(),
    };
    let creds = Credentials::resolve(
        args.base_url.as_deref(),
        args.api_key.as_deref(),
        &|k| std::env::var(k).ok(),
        &files,
    )
    .map_err(anyhow::Error::msg)?;
    let transport = NativeTransport::new().map_err(anyhow::Error::msg)?;
    Ok(Client::new(transport, creds))
}

/// The entity to use: the flag, else WANDB_ENTITY, else the viewer's default.
pub async fn entity(
    client: &Client<NativeTransport>,
    flag: Option<&str>,
) -> anyhow::Result<String> {
    if let Some(e) = flag.filter(|e| !e.is_empty()) {
        return Ok(e.to_owned());
    }
    if let Ok(e) = std::env::var("WANDB_ENTITY")
        && !e.is_empty()
    {
        return Ok(e);
    }
    Ok(client.call(GetDefaultEntity).await?)
}

/// Whether the server is a Liftoff server (it advertises Liftoff's queue
/// operations); W&B's does not.
pub async fn is_liftoff(client: &Client<NativeTransport>) -> bool {
    client
        .call(ServerFeaturesQuery)
        .await
        .is_ok_and(|f| f.has(features::QUEUE_ADMIN))
}

/// Resource options (given by `flag`) that Liftoff's agent would refuse at
/// each job: refused on a Liftoff server; elsewhere another agent may run
/// them, so only said. `liftoff`: whether the server is Liftoff's, when
/// already known (else it is asked only when there is something to say).
pub async fn check_resource_options(
    client: &Client<NativeTransport>,
    liftoff: Option<bool>,
    flag: &str,
    resource: liftoff_model::ResourceType,
    options: &serde_json::Value,
) -> anyhow::Result<()> {
    if let Some(note) = liftoff_model::resource_args::ignored_note(resource, options) {
        crate::warn_line!("warning: {flag}: {note}");
    }
    let Err(e) = liftoff_model::resource_args::check_resource_args(resource, options) else {
        return Ok(());
    };
    let liftoff = match liftoff {
        Some(known) => known,
        None => is_liftoff(client).await,
    };
    anyhow::ensure!(!liftoff, "{flag}: {e}");
    crate::warn_line!("warning: {flag}: {e} (Liftoff's agent would refuse it)");
    Ok(())
}
