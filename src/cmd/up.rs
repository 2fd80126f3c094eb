//! `liftoff up`: the server, the web app and one local-process agent on the
//! `default` queue, in one process.

use anyhow::Context as _;
use liftoff_agent::AgentOptions;
use liftoff_client::native::NativeTransport;
use liftoff_client::ops::queues::{CreateDefaultResourceConfig, CreateRunQueue, ProjectRunQueues};
use liftoff_client::{Client, Credentials};
use liftoff_model::LAUNCH_PROJECT;
use liftoff_model::config::AgentConfig;
use liftoff_model::queue::{QueueAccess, ResourceType};
use liftoff_server::{
    ServerConfig, bootstrap_with_key_file, default_data_dir, open_store, serve, state,
};
use serde_json::json;

use crate::cli::UpArgs;
use crate::cmd::server::shutdown_signal;

pub async fn run(args: UpArgs) -> anyhow::Result<()> {
    // Refused before the store is made or changed.
    let listener = super::server::listen(args.listen_addr()).await?;
    let web_dir = super::server::web_dir(args.web_dir.as_deref())?;
    let env_key = super::server::admin_key_from_env()?;
    let data_dir = args.store.data_dir.clone().unwrap_or_else(default_data_dir);
    let store = open_store(&data_dir, args.store.database_url.as_deref()).await?;
    let _one_server =
        super::server::note_other_server(&data_dir, args.store.database_url.as_deref());

    let key_file = super::server::admin_key_file(&data_dir, args.store.database_url.as_deref());
    let boot =
        bootstrap_with_key_file(&*store, &key_file, env_key.as_deref(), super::now_ms()).await?;
    // `up` signs its agent in with this key: an unknown one would fail later, less clearly.
    anyhow::ensure!(
        !boot.env_key_unknown,
        "{}",
        super::server::env_key_unknown(&boot, &data_dir, &args.store)
    );
    // Where the key was read from, when it was (for the message below). A
    // --database-url store made before its key had a file of its own has
    // it in the data dir's admin-api-key.
    let key_path = if boot.key_file.exists() {
        boot.key_file.clone()
    } else {
        Some(data_dir.join("admin-api-key"))
            .filter(|old| args.store.database_url.is_some() && old.is_file())
            .unwrap_or_else(|| boot.key_file.clone())
    };
    let (key, from_file) = match (boot.new_key.clone(), env_key) {
        (Some(k), _) | (None, Some(k)) => (k, false),
        (None, None) => {
            let key = std::fs::read_to_string(&key_path)
                .map(|k| k.trim().to_owned())
                .with_context(|| {
                    format!(
                        "cannot read the admin key from {} (set LIFTOFF_ADMIN_API_KEY)",
                        key_path.display()
                    )
                })?;
            (key, true)
        }
    };
    // The agent signs in with it: one that is not this store's (a file
    // edited, or left by another database) is said now, with where it came from.
    if from_file
        && store
            .user_by_key_hash(&liftoff_server::auth::hash_key(&key))
            .await?
            .is_none()
    {
        anyhow::bail!(
            "the admin key in {} is not a key of this store: set LIFTOFF_ADMIN_API_KEY to one that is, or make one with `liftoff user create NAME --admin {}` and put it there",
            key_path.display(),
            match &args.store.database_url {
                Some(_) => "--database-url URL".to_owned(),
                None => format!("--data-dir {}", data_dir.display()),
            }
        );
    }
    let mut config = ServerConfig::new(data_dir.join("objects"));
    config.web_dir = web_dir;
    let web = config.web_dir.clone();
    let state = state(store, config).await?;
    let url = super::server::reachable_url(listener.local_addr()?);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut server_stop = stop_rx.clone();
    let server = tokio::spawn(serve(state, listener, async move {
        let _ = server_stop.wait_for(|s| *s).await;
    }));

    let client = Client::new(
        NativeTransport::new().map_err(anyhow::Error::msg)?,
        Credentials::new(&url, &key),
    );
    ensure_default_queue(&client).await?;
    crate::note!();
    crate::note!("  Liftoff is up: {url}/");
    crate::note!("  API key (user admin): {key}");
    match &web {
        Some(_) => crate::note!("  Open the URL and paste the key to sign in."),
        None => crate::note!(
            "  (the web app is not built: `cargo xtask web`; the API works at {url}/graphql)"
        ),
    }
    crate::note!("  CLI: export WANDB_BASE_URL={url} WANDB_API_KEY={key}");
    crate::note!("       liftoff launch --uri . --entry-point 'python train.py' --queue default");
    crate::note!();
    let result = if args.no_agent {
        shutdown_signal().await;
        Ok(())
    } else {
        let agent_config = AgentConfig {
            entity: Some("admin".into()),
            queues: vec!["default".into()],
            max_jobs: Some(args.max_jobs),
            ..Default::default()
        };
        let opts = AgentOptions::new("admin".into(), agent_config, data_dir.join("agent"));
        liftoff_agent::run(client, opts, shutdown_signal())
            .await
            .map(|_| ())
    };
    let _ = stop_tx.send(true);
    server.await.context("the server task failed")??;
    crate::note!("Liftoff stopped.");
    result
}

async fn ensure_default_queue(client: &Client<NativeTransport>) -> anyhow::Result<()> {
    let queues = client.call(ProjectRunQueues::new("admin")).await?;
    if queues.iter().any(|q| q.name == "default") {
        return Ok(());
    }
    let config_id = client
        .call(CreateDefaultResourceConfig {
            entity: "admin".into(),
            resource: ResourceType::LocalProcess,
            config: json!({}),
            template_variables: None,
        })
        .await?;
    client
        .call(CreateRunQueue {
            entity: "admin".into(),
            project: LAUNCH_PROJECT.into(),
            name: "default".into(),
            access: QueueAccess::Project,
            prioritization_mode: None,
            default_resource_config_id: Some(config_id),
        })
        .await?;
    crate::note!("Created the queue `default` (local-process) for user admin.");
    Ok(())
}
