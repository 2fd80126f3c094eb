//! The things people run: the web bundle (trunk), the extension (wasm-bindgen
//! + a zip) and `up`.

use std::fs::File;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use crate::sh::{self, cargo, cmd, human_size, read, run};
use crate::tools::{self, Need, WASM_TARGET};

/// Trunk's dist directory (Trunk.toml `dist`); `liftoff server --web-dir` defaults to it.
pub fn web_dir() -> PathBuf {
    sh::out_dir().join("www")
}

/// The unpacked extension, loadable with `--load-extension`.
pub fn extension_dir() -> PathBuf {
    sh::out_dir().join("extension")
}

/// The extension zip, beside the unpacked directory.
pub fn extension_zip() -> PathBuf {
    sh::out_dir().join("liftoff-extension.zip")
}

/// `trunk build --release`: the web app into [`web_dir()`].
pub fn build_web() -> Result<PathBuf> {
    // Trunk runs cargo --offline (Trunk.toml): the registry must be fetched first.
    run(cargo().arg("fetch"))?;
    run(cmd("trunk")
        .args(["build", "--release"])
        .env("TRUNK_SKIP_VERSION_CHECK", "true"))?;
    let dir = web_dir();
    if !dir.join("index.html").is_file() {
        bail!("trunk succeeded but {} has no index.html", dir.display());
    }
    let wasm = files(&dir)?
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "wasm"));
    let Some(wasm) = wasm else {
        bail!("trunk built no .wasm into {}", dir.display())
    };
    // A blank page with a "successful" build is what a wrong wasm-opt gives.
    if std::fs::metadata(&wasm)?.len() < 1024 {
        bail!("{} is suspiciously small", wasm.display());
    }
    Ok(dir)
}

/// The extension: the crate for wasm32 (release), `wasm-bindgen --target web`
/// into `pkg/`, the manifest and static files beside it, and a zip.
pub fn build_extension() -> Result<PathBuf> {
    let root = sh::root();
    run(cargo().args([
        "build",
        "--release",
        "--target",
        WASM_TARGET,
        "-p",
        "liftoff-extension",
    ]))?;
    let wasm = sh::target_dir()
        .join(WASM_TARGET)
        .join("release/liftoff_extension.wasm");
    let out = extension_dir();
    if out.exists() {
        std::fs::remove_dir_all(&out).with_context(|| format!("clearing {}", out.display()))?;
    }
    std::fs::create_dir_all(&out)?;
    run(cmd("wasm-bindgen")
        .args(["--target", "web", "--no-typescript", "--out-dir"])
        .arg(out.join("pkg"))
        .arg(&wasm))?;
    let manifest = std::fs::read_to_string(root.join("extension/manifest.json"))
        .context("reading extension/manifest.json")?;
    let version = env!("CARGO_PKG_VERSION");
    if !manifest.contains(&format!("\"version\": \"{version}\"")) {
        bail!(
            "extension/manifest.json must say \"version\": \"{version}\" (the workspace version)"
        );
    }
    std::fs::write(out.join("manifest.json"), manifest)?;
    let statics = root.join("extension/static");
    for file in files(&statics)? {
        let to = out.join(file.strip_prefix(&statics)?);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(&file, &to).with_context(|| format!("copying {}", file.display()))?;
    }
    zip_dir(&out, &extension_zip())?;
    Ok(out)
}

/// Every file under `dir`, sorted (so zips are reproducible).
pub fn files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                todo.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

fn zip_dir(dir: &Path, to: &Path) -> Result<()> {
    let mut zip = zip::ZipWriter::new(
        File::create(to).with_context(|| format!("creating {}", to.display()))?,
    );
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for file in files(dir)? {
        let name = file.strip_prefix(dir)?.to_string_lossy().replace('\\', "/");
        zip.start_file(name, options)?;
        zip.write_all(&std::fs::read(&file)?)?;
    }
    zip.finish()?;
    Ok(())
}

/// What a directory holds, for people: one line per file and a total.
pub fn describe(dir: &Path) -> Result<String> {
    let mut lines = Vec::new();
    let mut total = 0;
    for file in files(dir)? {
        let size = std::fs::metadata(&file)?.len();
        total += size;
        lines.push(format!(
            "    {:>9}  {}",
            human_size(size),
            file.strip_prefix(dir)?.display()
        ));
    }
    lines.push(format!(
        "    {:>9}  total in {}",
        human_size(total),
        dir.display()
    ));
    Ok(lines.join("\n"))
}

/// `cargo xtask web`.
pub fn web() -> Result<ExitCode> {
    tools::ensure(Need::Web)?;
    let dir = build_web()?;
    println!("\nweb bundle:\n{}", describe(&dir)?);
    Ok(ExitCode::SUCCESS)
}

/// `cargo xtask extension`.
pub fn extension() -> Result<ExitCode> {
    tools::ensure(Need::Web)?;
    let dir = build_extension()?;
    println!("\nextension (load unpacked):\n{}", describe(&dir)?);
    let zip = extension_zip();
    println!(
        "zip for the Chrome Web Store: {} ({})",
        zip.display(),
        human_size(std::fs::metadata(&zip)?.len())
    );
    Ok(ExitCode::SUCCESS)
}

/// `cargo xtask up [ARGS...]`: install what is missing, build the web app and
/// the `liftoff` binary, then become `liftoff up ARGS...`.
pub fn up(args: &[String]) -> Result<ExitCode> {
    tools::ensure(Need::Web)?;
    let web = build_web()?;
    // `dist`: optimized for speed; `release` is tuned for wasm size.
    run(cargo().args(["build", "--profile", "dist", "-p", "liftoff"]))?;
    let bin = sh::target_dir().join("dist/liftoff");
    let mut help = cmd(&bin);
    help.args(["up", "--help"]);
    let has_up = read(&mut help).is_ok_and(|out| out.contains("Usage"));
    if !has_up {
        println!("\n==> Liftoff is built, but `liftoff up` is not there yet");
        println!("  binary:     {}", bin.display());
        println!(
            "  web bundle: (served by `liftoff server --web-dir`, default this directory)\n{}",
            describe(&web)?
        );
        println!(
            "  The server, the local agent and `liftoff up` come in later issues \
             (#3 server, #4 agent and `liftoff up`); then this command starts them."
        );
        return Ok(ExitCode::SUCCESS);
    }
    let mut liftoff = cmd(&bin);
    liftoff.arg("up").args(args).env("LIFTOFF_WEB_DIR", &web);
    println!(
        "$ LIFTOFF_WEB_DIR={} {} up {}",
        web.display(),
        bin.display(),
        args.join(" ")
    );
    let err = liftoff.exec();
    Err(err).with_context(|| format!("cannot start {}", bin.display()))
}
