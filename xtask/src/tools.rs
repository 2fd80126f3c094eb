//! Every tool Liftoff builds or tests with, pinned in one place and installed
//! only when missing. Nothing is downloaded from anywhere but crates.io, npm
//! and Debian's archive.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::sh::{self, cargo, cmd, is_root, read, run, which};

/// Trunk, built from crates.io (0.22 needs a newer rustc).
pub const TRUNK: &str = "0.21.14";
/// cargo-fuzz, for the fuzz targets in fuzz/ (`cargo xtask stress`).
pub const CARGO_FUZZ: &str = "0.13.2";
/// The rustup target of the web app, the extension and the browser tests.
pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// Debian packages: (program that proves it is installed, package, why).
const DEBIAN: &[(&str, &str, &str)] = &[
    (
        "node",
        "nodejs",
        "runs wasm-opt (npm binaryen) and the Playwright suites",
    ),
    (
        "npm",
        "npm",
        "installs the pinned node tools from package-lock.json",
    ),
    ("chromium", "chromium", "the browser of every browser test"),
    (
        "chromedriver",
        "chromium-driver",
        "drives Chromium for wasm-bindgen-test",
    ),
    ("xvfb-run", "xvfb", "a display for headful extension tests"),
    (
        "postgresql",
        "postgresql",
        "the store conformance suite on PostgreSQL",
    ),
    ("podman", "podman", "the local-container runner's tests"),
    ("runc", "runc", "the OCI runtime podman works with here"),
    (
        "docker-registry",
        "docker-registry",
        "an image registry for the builder.destination push test",
    ),
    (
        "busybox",
        "busybox-static",
        "a tiny rootfs for container test images",
    ),
    (
        "python3",
        "python3-venv",
        "venvs for the official wandb SDK (the reference client) and for jobs",
    ),
    ("git", "git", "git jobs"),
];

/// Which tools a command needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Need {
    /// The wasm32 target (checks and clippy).
    Rust,
    /// + wasm-bindgen-cli, trunk and the npm tools (bundles).
    Web,
    /// + Debian's browser, database and container packages (every test).
    All,
}

/// Install what `need` requires and is missing; print one line per tool.
pub fn ensure(need: Need) -> Result<()> {
    match need {
        Need::All => debian(DEBIAN)?,
        // node and npm only.
        Need::Web => debian(&DEBIAN[..2])?,
        Need::Rust => {}
    }
    wasm_target()?;
    if need >= Need::Web {
        wasm_bindgen()?;
        trunk()?;
        npm()?;
    }
    Ok(())
}

fn ok(tool: &str, why: &str) {
    println!("  ok  {tool:<36} {why}");
}

fn installing(tool: &str, why: &str) {
    println!("  ->  installing {tool}: {why}");
}

fn wasm_target() -> Result<()> {
    let why = "compiles the web app, the extension and the browser tests";
    let libdir =
        read(Command::new("rustc").args(["--print", "target-libdir", "--target", WASM_TARGET]))
            .map(PathBuf::from)
            .ok();
    if libdir.is_some_and(|dir| dir.is_dir()) {
        ok(&format!("rust target {WASM_TARGET}"), why);
        return Ok(());
    }
    installing(&format!("rust target {WASM_TARGET}"), why);
    run(cmd("rustup").args(["target", "add", WASM_TARGET]))
}

/// The exact `wasm-bindgen` version in Cargo.lock: the CLI must equal it.
pub fn wasm_bindgen_version() -> Result<String> {
    let lock =
        std::fs::read_to_string(sh::root().join("Cargo.lock")).context("reading Cargo.lock")?;
    lock_version(&lock, "wasm-bindgen").context("Cargo.lock has no wasm-bindgen package")
}

fn lock_version(lock: &str, package: &str) -> Option<String> {
    let needle = format!("name = \"{package}\"\n");
    let at = lock.find(&format!("[[package]]\n{needle}"))?;
    let rest = &lock[at..];
    let line = rest.lines().find(|l| l.starts_with("version = "))?;
    Some(
        line.trim_start_matches("version = ")
            .trim_matches('"')
            .to_owned(),
    )
}

/// `PROGRAM --version` prints exactly `expected` (as its first line)?
fn has_version(program: &str, expected: &str) -> bool {
    which(program)
        .and_then(|path| read(Command::new(path).arg("--version")).ok())
        .is_some_and(|out| out.lines().next() == Some(expected))
}

fn wasm_bindgen() -> Result<()> {
    let version = wasm_bindgen_version()?;
    let why = "generates the JS glue; its test runner drives the wasm browser tests";
    let tool = format!("wasm-bindgen-cli {version}");
    let current = format!("wasm-bindgen {version}");
    if has_version("wasm-bindgen", &current) && which("wasm-bindgen-test-runner").is_some() {
        ok(&tool, why);
        return Ok(());
    }
    if wait_for_install("wasm-bindgen-cli") && has_version("wasm-bindgen", &current) {
        ok(&tool, why);
        return Ok(());
    }
    installing(
        &tool,
        &format!("{why} (must equal Cargo.lock's wasm-bindgen; ~4 min)"),
    );
    // Not --locked: one of its locked dependencies is gone from crates.io.
    run(cargo().args([
        "install",
        "wasm-bindgen-cli",
        "--version",
        &format!("={version}"),
    ]))
}

fn trunk() -> Result<()> {
    let why = "builds the web app (www/index.html -> target/www)";
    let tool = format!("trunk {TRUNK}");
    if has_version("trunk", &tool) {
        ok(&tool, why);
        return Ok(());
    }
    if wait_for_install("trunk") && has_version("trunk", &tool) {
        ok(&tool, why);
        return Ok(());
    }
    installing(&tool, &format!("{why} (~11 min, 2 GB of RAM)"));
    run(cargo().args(["install", "--locked", "trunk", "--version", TRUNK]))
}

/// cargo-fuzz and a nightly toolchain for it. `Ok(false)` (and why) when
/// there is no nightly toolchain: libFuzzer's instrumentation needs one.
pub fn cargo_fuzz() -> Result<bool> {
    let why = "runs the fuzz targets in fuzz/ (libFuzzer)";
    let tool = format!("cargo-fuzz {CARGO_FUZZ}");
    let nightly = Command::new("rustup")
        .args(["run", "nightly", "rustc", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !nightly {
        println!(
            "  --  {tool}: no nightly toolchain (`rustup toolchain install nightly`); the fuzz targets run only over the fixtures"
        );
        return Ok(false);
    }
    let current = || {
        read(Command::new("cargo").args(["fuzz", "--version"])).is_ok_and(|out| out.trim() == tool)
    };
    if current() || (wait_for_install("cargo-fuzz") && current()) {
        ok(&tool, why);
        return Ok(true);
    }
    installing(&tool, &format!("{why} (~3 min)"));
    run(cargo().args(["install", "--locked", "cargo-fuzz", "--version", CARGO_FUZZ]))?;
    Ok(true)
}

/// If a `cargo install CRATE` is already running (another xtask, a setup
/// script), wait for it instead of starting a second one. `true` if we waited.
fn wait_for_install(krate: &str) -> bool {
    let mut waited = false;
    while let Some(pid) = running_install(krate) {
        if !waited {
            println!(
                "  ..  `cargo install {krate}` is already running (pid {pid}); waiting for it"
            );
        }
        waited = true;
        std::thread::sleep(Duration::from_secs(5));
    }
    waited
}

fn running_install(krate: &str) -> Option<u32> {
    let me = std::process::id();
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
            let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
            let is_cargo = args.first().is_some_and(|a| a.ends_with(b"cargo"));
            let installs =
                args.contains(&b"install".as_slice()) && args.contains(&krate.as_bytes());
            (pid != me && is_cargo && installs).then_some(pid)
        })
}

/// `npm ci` from the committed package-lock.json when node_modules is missing
/// or was installed from another lock.
fn npm() -> Result<()> {
    let root = sh::root();
    let lock =
        std::fs::read(root.join("package-lock.json")).context("reading package-lock.json")?;
    let stamp = root.join("node_modules/.liftoff-package-lock.json");
    let why = "wasm-opt (binaryen 132) for trunk, playwright-core for browser suites";
    let fresh = std::fs::read(&stamp).is_ok_and(|old| old == lock);
    if fresh && root.join("node_modules/.bin/wasm-opt").is_file() {
        ok("npm packages (package-lock.json)", why);
        return Ok(());
    }
    installing("npm packages (package-lock.json)", why);
    run(cmd("npm").args(["ci", "--no-audit", "--no-fund", "--ignore-scripts"]))?;
    std::fs::write(&stamp, lock).context("writing the npm stamp")?;
    Ok(())
}

/// PostgreSQL's server programs (`initdb`, `pg_ctl`, `postgres`): Debian keeps
/// them off PATH, in `/usr/lib/postgresql/<major>/bin`. The newest major wins.
pub fn postgres_bin_dir() -> Option<PathBuf> {
    let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin): &(u32, PathBuf)| bin.join("initdb").is_file())
        .collect();
    dirs.sort();
    dirs.pop().map(|(_, bin)| bin)
}

fn debian_present(program: &str) -> bool {
    match program {
        "postgresql" => postgres_bin_dir().is_some(),
        program => which(program).is_some(),
    }
}

/// Install the packages of `wanted` whose program is missing, in one go.
fn debian(wanted: &[(&str, &str, &str)]) -> Result<()> {
    let mut missing = Vec::new();
    for (program, package, why) in wanted {
        if debian_present(program) {
            ok(&format!("debian {package}"), why);
        } else {
            installing(&format!("debian {package}"), why);
            missing.push(*package);
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    let packages = missing;
    let apt = |args: &[&str]| -> Result<()> {
        let mut c = if is_root() {
            cmd("apt-get")
        } else if which("sudo").is_some() {
            let mut c = cmd("sudo");
            c.args(["-E", "apt-get"]);
            c
        } else {
            bail!(
                "installing {} needs root: run `apt-get install -y {}`",
                packages.join(" "),
                packages.join(" ")
            );
        };
        run(c.env("DEBIAN_FRONTEND", "noninteractive").args(args))
    };
    apt(&["update"])?;
    let mut install = vec!["install", "-y"];
    install.extend(&packages);
    apt(&install)
}

#[cfg(test)]
mod tests {
    use super::lock_version;

    #[test]
    fn reads_a_version_from_cargo_lock() {
        let lock = "[[package]]\nname = \"wasm-bindgen-futures\"\nversion = \"0.4.1\"\n\n\
                    [[package]]\nname = \"wasm-bindgen\"\nversion = \"0.2.130\"\nsource = \"registry\"\n";
        assert_eq!(
            lock_version(lock, "wasm-bindgen").as_deref(),
            Some("0.2.130")
        );
        assert_eq!(lock_version(lock, "trunk"), None);
    }

    #[test]
    fn the_real_lock_pins_wasm_bindgen() {
        let version = super::wasm_bindgen_version();
        assert!(
            version.as_deref().is_ok_and(|v| v.starts_with("0.2.")),
            "{version:?}"
        );
    }
}
