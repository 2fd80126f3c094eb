//! Python venvs the tests use: the official `wandb` package (the reference
//! client) and `schemathesis` (the fuzzer), pinned, made once and reused.
//! They live in the target dir, so CI's shared target dir caches them.

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::sh::{cmd, read, run, target_dir};

/// The `wandb` version the spec's captures come from.
pub const WANDB: &str = "0.31.0";
pub const SCHEMATHESIS: &str = "4.32.5";

/// A venv at `target/<name>` with `package==version`; answers its python.
fn venv(name: &str, package: &str, version: &str, import: &str) -> Result<PathBuf> {
    let dir = target_dir().join(name);
    let python = dir.join("bin/python");
    let probe =
        format!("import {import} as m, importlib.metadata as md; print(md.version('{package}'))");
    if python.is_file()
        && read(cmd(&python).args(["-c", &probe])).is_ok_and(|v| v.trim() == version)
    {
        return Ok(python);
    }
    println!(
        "creating {} with {package}=={version} (pip, from PyPI)",
        dir.display()
    );
    let _ = std::fs::remove_dir_all(&dir);
    run(cmd("python3").args(["-m", "venv"]).arg(&dir))
        .context("python3 -m venv (install python3-venv)")?;
    run(cmd(&python).args([
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "-q",
        &format!("{package}=={version}"),
    ]))
    .with_context(|| format!("pip install {package}=={version}"))?;
    Ok(python)
}

/// The official SDK, for the tests that use it as a client and a job library.
pub fn wandb() -> Result<PathBuf> {
    venv("wandb-venv", "wandb", WANDB, "wandb")
}

pub fn schemathesis() -> Result<PathBuf> {
    venv(
        "schemathesis-venv",
        "schemathesis",
        SCHEMATHESIS,
        "schemathesis",
    )
}
