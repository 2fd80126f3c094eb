//! `liftoff agent`: W&B's `launch-agent`, natively.

use anyhow::Context as _;
use liftoff_agent::AgentOptions;
use liftoff_model::config::{AgentConfig, ConfigOverrides, env_overrides};

use crate::cli::AgentArgs;
use crate::cmd::conn;

fn default_config_path() -> std::path::PathBuf {
    conn::dirs_home().join(".config/wandb/launch-config.yaml")
}

/// launch-config.yaml: `path` (which must exist), else the default one when
/// there is one, else the defaults. Says which file it read, and warns of
/// what it keeps but nothing reads.
pub fn file_config(path: Option<&std::path::Path>) -> anyhow::Result<AgentConfig> {
    let (path, explicit) = match path {
        Some(p) => (p.to_path_buf(), true),
        None => (default_config_path(), false),
    };
    if !explicit && !path.is_file() {
        return Ok(AgentConfig::default());
    }
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "cannot read the agent config {} ({})",
            path.display(),
            if explicit {
                "-c/--config"
            } else {
                "the default launch-config.yaml"
            }
        )
    })?;
    let config = AgentConfig::from_yaml(&text).with_context(|| format!("in {}", path.display()))?;
    crate::note!("Using the agent config in {}", path.display());
    for w in config.warnings() {
        crate::warn_line!("warning: {w}");
    }
    Ok(config)
}

pub async fn run(args: AgentArgs) -> anyhow::Result<()> {
    if let Some(url) = &args.url {
        anyhow::bail!(
            "--url is not an agent option (wandb launch-agent refuses it too): set the server with --base-url {url} or WANDB_BASE_URL={url}"
        );
    }
    let file_config = file_config(args.config.as_deref())?;
    let env: liftoff_model::config::Environment = std::env::vars().collect();
    let env_o = env_overrides(&env).map_err(|p| anyhow::anyhow!("{p}"))?;
    let flags = ConfigOverrides {
        entity: args.entity.clone(),
        queues: args.queues.clone(),
        max_jobs: args.max_jobs,
    };
    let config = file_config.with_overrides(&env_o).with_overrides(&flags);
    let client = conn::client(&args.conn)?;
    let entity = match &config.entity {
        Some(e) => e.clone(),
        None => conn::entity(&client, None).await?,
    };
    let mut config = config;
    config.entity = Some(entity.clone());
    let work_dir = work_dir(args.work_dir.clone());
    let mut opts = AgentOptions::new(entity, config, work_dir);
    opts.stop_jobs_on_exit = args.stop_jobs_on_exit;
    let summary = liftoff_agent::run(client, opts, crate::cmd::server::shutdown_signal()).await?;
    crate::note!(
        "Agent {} stopped after starting {} job(s).",
        summary.name,
        summary.jobs_started
    );
    Ok(())
}

/// Where an agent (or `liftoff launch` running a job here) keeps job logs,
/// job directories and venvs: `--work-dir` / `LIFTOFF_AGENT_DIR`, else the
/// data directory's `agent/`.
pub fn work_dir(flag: Option<std::path::PathBuf>) -> std::path::PathBuf {
    flag.unwrap_or_else(|| liftoff_server::default_data_dir().join("agent"))
}
