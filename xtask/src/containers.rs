//! A container engine for the local-container tests: podman with the
//! settings that work on this kind of machine (runc, cgroupfs, no default
//! ulimits), and a local busybox image (nothing can be pulled here).

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::sh::{cmd, read, run, target_dir, which};

pub const IMAGE: &str = "localhost/liftoff-test-busybox:latest";

/// The environment for the podman tests, or `None` (with a note) when
/// podman cannot run containers here.
pub fn podman_env() -> Result<Option<Vec<(String, String)>>> {
    if which("podman").is_none() {
        println!("podman is not installed: the local-container tests will skip");
        return Ok(None);
    }
    let dir = target_dir().join("podman");
    std::fs::create_dir_all(&dir)?;
    let conf = dir.join("containers.conf");
    std::fs::write(
        &conf,
        "[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = \"cgroupfs\"\nruntime = \"runc\"\n",
    )?;
    let podman = || {
        let mut c = cmd("podman");
        c.env("CONTAINERS_CONF", &conf);
        c
    };
    if read(podman().args(["image", "exists", IMAGE])).is_err() {
        let tar = busybox_rootfs(&dir)?;
        run(podman().args(["import"]).arg(&tar).arg(IMAGE))
            .context("podman import of the busybox image")?;
    }
    if let Err(e) = read(podman().args(["run", "--rm", "--network", "host", IMAGE, "true"])) {
        println!("podman cannot run containers here ({e:#}): the local-container tests will skip");
        return Ok(None);
    }
    Ok(Some(vec![
        ("CONTAINERS_CONF".into(), conf.display().to_string()),
        ("LIFTOFF_PODMAN_TESTS".into(), "1".into()),
        ("LIFTOFF_TEST_IMAGE".into(), IMAGE.into()),
    ]))
}

/// A rootfs tarball with busybox-static and its applets.
fn busybox_rootfs(dir: &std::path::Path) -> Result<PathBuf> {
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .context("busybox-static is not installed")?;
    let root = dir.join("rootfs");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("bin"))?;
    std::fs::create_dir_all(root.join("tmp"))?;
    std::fs::copy(&busybox, root.join("bin/busybox"))?;
    let applets = read(cmd(&busybox).arg("--list"))?;
    for applet in applets
        .lines()
        .map(str::trim)
        .filter(|a| !a.is_empty() && *a != "busybox")
    {
        std::os::unix::fs::symlink("busybox", root.join("bin").join(applet)).ok();
    }
    let tar = dir.join("busybox-rootfs.tar");
    run(cmd("tar")
        .arg("-C")
        .arg(&root)
        .arg("-cf")
        .arg(&tar)
        .arg("."))?;
    Ok(tar)
}
