//! Running commands: where, with which PATH, echoed, and counting the tests
//! they report.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, bail};

/// The repository root (xtask lives one level below it).
pub fn root() -> PathBuf {
    let xtask = Path::new(env!("CARGO_MANIFEST_DIR"));
    xtask.parent().unwrap_or(xtask).to_path_buf()
}

/// Cargo's target directory: `$CARGO_TARGET_DIR` (relative to the root) or `target/`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => root().join(dir),
        _ => root().join("target"),
    }
}

/// Where the bundles land (`target/www`, `target/extension`): always the
/// repository's own `target/`, whatever `CARGO_TARGET_DIR` says.
pub fn out_dir() -> PathBuf {
    root().join("target")
}

/// `$CARGO_HOME/bin`, where `cargo install` puts tools.
pub fn cargo_bin() -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cargo")
        });
    home.join("bin")
}

/// The PATH every command gets: the pinned npm tools first (so npm
/// binaryen's wasm-opt wins over any other), then cargo-installed tools.
pub fn path() -> OsString {
    let mut dirs = vec![root().join("node_modules/.bin"), cargo_bin()];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).unwrap_or_default()
}

/// Find a program on [`path()`].
pub fn which(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&path())
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// A command run from the root with [`path()`].
pub fn cmd(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut c = Command::new(program);
    c.current_dir(root()).env("PATH", path());
    c
}

/// The cargo that runs us (same toolchain), or `cargo`.
pub fn cargo() -> Command {
    cmd(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// How a command reads when echoed.
pub fn display(c: &Command) -> String {
    let mut words = vec![c.get_program().to_string_lossy().into_owned()];
    if words[0].ends_with("/cargo") {
        words[0] = "cargo".into();
    }
    words.extend(c.get_args().map(|a| a.to_string_lossy().into_owned()));
    words.join(" ")
}

fn echo(c: &Command) {
    let envs: Vec<String> = c
        .get_envs()
        .filter(|(k, _)| *k != "PATH")
        .filter_map(|(k, v)| Some(format!("{}={}", k.to_string_lossy(), v?.to_string_lossy())))
        .collect();
    let prefix = if envs.is_empty() {
        String::new()
    } else {
        format!("{} ", envs.join(" "))
    };
    println!("$ {prefix}{}", display(c));
    let _ = std::io::stdout().flush();
}

/// Run, inheriting stdio; fail unless it exits 0.
pub fn run(c: &mut Command) -> Result<()> {
    echo(c);
    let status = c
        .status()
        .with_context(|| format!("cannot start `{}`", display(c)))?;
    if !status.success() {
        bail!("`{}` failed ({status})", display(c));
    }
    Ok(())
}

/// Run quietly and return stdout (trimmed); fail unless it exits 0.
pub fn read(c: &mut Command) -> Result<String> {
    let out = c
        .stderr(Stdio::null())
        .output()
        .with_context(|| format!("cannot start `{}`", display(c)))?;
    if !out.status.success() {
        bail!("`{}` failed ({})", display(c), out.status);
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Are we root (apt-get without sudo; PostgreSQL must run as another user)?
pub fn is_root() -> bool {
    read(Command::new("id").arg("-u")).is_ok_and(|uid| uid == "0")
}

/// Tests counted from the runners' own summary lines.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub passed: u64,
    pub failed: u64,
    pub skipped: u64,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, other: Self) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.skipped += other.skipped;
    }
}

impl Counts {
    /// Read one output line. Understood: libtest and wasm-bindgen-test
    /// (`test result: ok. 3 passed; 0 failed; 1 ignored; ...`), nextest
    /// (`Summary [ 1.2s] 4 tests run: 3 passed, 1 failed, 0 skipped`), node's
    /// test runner (`# pass 3`, `# fail 0`, `# skipped 1`) and the plain
    /// closing line (`browser: 3 passed, 0 failed`).
    pub fn scan(line: &str) -> Option<Counts> {
        let line = strip_ansi(line);
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("# ").or_else(|| line.strip_prefix("ℹ ")) {
            let (word, n) = rest.split_once(' ')?;
            let n: u64 = n.trim().parse().ok()?;
            return match word {
                "pass" => Some(Counts {
                    passed: n,
                    ..Counts::default()
                }),
                "fail" => Some(Counts {
                    failed: n,
                    ..Counts::default()
                }),
                "skipped" | "todo" => Some(Counts {
                    skipped: n,
                    ..Counts::default()
                }),
                _ => None,
            };
        }
        let plain = {
            let body = match line.split_once(": ") {
                Some((word, body)) if !word.contains(' ') => body,
                _ => line,
            };
            body.starts_with(|c: char| c.is_ascii_digit()) && body.contains(" passed, ")
        };
        if !(line.contains("test result:") || line.starts_with("Summary [") || plain) {
            return None;
        }
        let words: Vec<&str> = line
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        let mut counts = Counts::default();
        for pair in words.windows(2) {
            let Ok(n) = pair[0].parse::<u64>() else {
                continue;
            };
            match pair[1] {
                "passed" => counts.passed += n,
                "failed" => counts.failed += n,
                "ignored" | "skipped" => counts.skipped += n,
                _ => {}
            }
        }
        Some(counts)
    }
}

fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ params final-byte.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Run, forwarding stdout and stderr line by line while adding the test
/// counts they report to `counts`; fail unless it exits 0.
pub fn run_counted(c: &mut Command, counts: &mut Counts) -> Result<()> {
    echo(c);
    let mut child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start `{}`", display(c)))?;
    let seen = Arc::new(Mutex::new(Counts::default()));
    let out = forward(child.stdout.take(), false, &seen);
    let err = forward(child.stderr.take(), true, &seen);
    let status = child.wait()?;
    let _ = (out.join(), err.join());
    if let Ok(seen) = seen.lock() {
        *counts += *seen;
    }
    let _ = std::io::stdout().flush();
    if !status.success() {
        bail!("`{}` failed ({status})", display(c));
    }
    Ok(())
}

/// Copy a child's stream to ours line by line, counting tests on the way.
fn forward<R: Read + Send + 'static>(
    stream: Option<R>,
    to_stderr: bool,
    seen: &Arc<Mutex<Counts>>,
) -> std::thread::JoinHandle<()> {
    let seen = Arc::clone(seen);
    std::thread::spawn(move || {
        let Some(stream) = stream else { return };
        let mut reader = BufReader::new(stream);
        let mut buf = Vec::new();
        while matches!(reader.read_until(b'\n', &mut buf), Ok(n) if n > 0) {
            let line = String::from_utf8_lossy(&buf);
            if to_stderr {
                eprint!("{line}");
            } else {
                print!("{line}");
            }
            if let (Some(found), Ok(mut seen)) = (Counts::scan(&line), seen.lock()) {
                *seen += found;
            }
            buf.clear();
        }
    })
}

/// A size for people: `86.1 KB`.
pub fn human_size(bytes: u64) -> String {
    if bytes < 1024 {
        format!("{bytes} B")
    } else if bytes < 1024 * 1024 {
        format!("{:.1} KB", bytes as f64 / 1024.0)
    } else {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    }
}

#[cfg(test)]
mod tests {
    use super::Counts;

    fn c(passed: u64, failed: u64, skipped: u64) -> Option<Counts> {
        Some(Counts {
            passed,
            failed,
            skipped,
        })
    }

    #[test]
    fn reads_every_runner_summary() {
        let libtest = "test result: ok. 12 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s";
        assert_eq!(Counts::scan(libtest), c(12, 0, 1));
        let failed =
            "test result: FAILED. 3 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out";
        assert_eq!(Counts::scan(failed), c(3, 2, 0));
        let nextest = "     Summary [   1.234s] 150 tests run: 148 passed, 2 failed, 3 skipped";
        assert_eq!(Counts::scan(nextest), c(148, 2, 3));
        let colored =
            "\u{1b}[32;1m     Summary\u{1b}[0m [   0.5s] 4 tests run: 4 passed, 0 skipped";
        assert_eq!(Counts::scan(colored), c(4, 0, 0));
        assert_eq!(Counts::scan("# pass 7"), c(7, 0, 0));
        assert_eq!(Counts::scan("# fail 1"), c(0, 1, 0));
        assert_eq!(Counts::scan("browser: 3 passed, 1 failed"), c(3, 1, 0));
        assert_eq!(Counts::scan("3 passed, 0 failed, 2 skipped"), c(3, 0, 2));
    }

    #[test]
    fn ignores_everything_else() {
        for line in [
            "test ops::tests::passed ... ok",
            "running 12 tests",
            "        PASS [   0.003s] liftoff-model spec::tests::round_trip",
            "# Subtest: 3 passed, 2 failed",
            "   Compiling liftoff-model v0.1.0",
        ] {
            assert_eq!(Counts::scan(line), None, "{line}");
        }
    }
}
