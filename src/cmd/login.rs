//! `liftoff login`: keep a key in ~/.netrc, as `wandb login` does.

use std::io::Read as _;

use liftoff_client::auth::{DEFAULT_BASE_URL, host_of, netrc_with_entry, normalize_base_url};
use liftoff_client::ops::identity::Viewer;
use liftoff_client::{Client, Credentials};

use crate::cli::LoginArgs;
use crate::cmd::conn::netrc_path;

pub async fn run(args: LoginArgs) -> anyhow::Result<()> {
    let host = normalize_base_url(args.host.as_deref().unwrap_or(DEFAULT_BASE_URL));
    let key = match args.key {
        Some(k) => k,
        None => {
            eprintln!("Paste the API key for {host} and press Enter:");
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s)?;
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
        let viewer = client
            .call(Viewer)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
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
    if std::env::var("WANDB_BASE_URL").ok().as_deref() != Some(host.as_str())
        && host != DEFAULT_BASE_URL
    {
        crate::out!("Use this server with: export WANDB_BASE_URL={host}");
    }
    Ok(())
}
