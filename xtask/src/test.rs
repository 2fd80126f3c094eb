//! `cargo xtask test`: every check and test suite, in order, each with a
//! header and a time, stopping at the first failure; then a summary table and
//! the closing `N passed, M failed` line CI reads.
//!
//! A new suite is one more [`Step`] in [`STEPS`] (browser suites: a
//! `tests/browser/*.test.mjs` file, picked up by [`browser_suites`]).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::postgres;
use crate::sh::{self, Counts, cargo, cmd, run, run_counted, which};
use crate::stub::{self, Stub};
use crate::tools::{self, Need, WASM_TARGET};
use crate::web;

/// The client's browser test (crates/client/tests/browser.rs), wasm32 only.
const BROWSER_TEST: [&str; 6] = [
    "--target",
    WASM_TARGET,
    "-p",
    "liftoff-client",
    "--test",
    "browser",
];

/// The native crates: every member but the web app (built for wasm32 only).
/// The extension's rules (worker, drawer, page recognition) are plain Rust
/// with native unit tests, so it is built both ways.
const NATIVE: [&str; 3] = ["--workspace", "--exclude", "liftoff-www"];

/// The browser crates and the crates they use, checked for wasm32.
const WASM_PACKAGES: [&str; 8] = [
    "-p",
    "liftoff-model",
    "-p",
    "liftoff-client",
    "-p",
    "liftoff-www",
    "-p",
    "liftoff-extension",
];

#[derive(Debug, Default)]
pub struct Options {
    /// Skip the slow steps: browsers, bundles, Debian packages.
    quick: bool,
    /// Run every step even after a failure.
    keep_going: bool,
    /// Only these steps (and `tools`).
    only: Vec<String>,
}

impl Options {
    /// Everything (what `cargo xtask stress` needs around its tests).
    pub fn full() -> Options {
        Options::default()
    }

    pub fn parse(args: &[String]) -> Result<Options> {
        let mut options = Options::default();
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--quick" => options.quick = true,
                "--keep-going" => options.keep_going = true,
                "--only" => {
                    let Some(names) = args.next() else {
                        bail!("--only needs step names")
                    };
                    options.only.extend(names.split(',').map(str::to_owned));
                }
                other => bail!(
                    "unknown option {other:?} for `cargo xtask test`\n\n{}",
                    crate::USAGE
                ),
            }
        }
        for name in &options.only {
            if !STEPS.iter().any(|s| s.name == name) {
                let names: Vec<&str> = STEPS.iter().map(|s| s.name).collect();
                bail!("no step {name:?}; steps: {}", names.join(", "));
            }
        }
        Ok(options)
    }
}

/// One step of the run.
struct Step {
    name: &'static str,
    about: &'static str,
    /// Needs browsers, bundles or Debian packages: skipped by `--quick`.
    slow: bool,
    run: fn(&Options, &mut Counts) -> Result<()>,
}

const STEPS: &[Step] = &[
    Step {
        name: "tools",
        about: "install what is missing (pinned)",
        slow: false,
        run: tools_step,
    },
    Step {
        name: "fmt",
        about: "formatting",
        slow: false,
        run: |_, _| {
            // File names only (a diff of every file can run to thousands of lines).
            run(cargo().args(["fmt", "--all", "--", "--check", "--files-with-diff"]))
                .context("the files above need `cargo fmt --all`")
        },
    },
    Step {
        name: "clippy",
        about: "lints, native, every target",
        slow: false,
        run: |_, _| {
            run(cargo()
                .arg("clippy")
                .args(NATIVE)
                .args(["--all-targets", "--", "-D", "warnings"]))
        },
    },
    Step {
        name: "clippy-wasm",
        about: "lints, wasm32 crates and the browser test",
        slow: false,
        run: clippy_wasm,
    },
    Step {
        name: "test",
        about: "native tests of every crate",
        slow: false,
        run: native_tests,
    },
    Step {
        name: "check-wasm",
        about: "model, client, www and extension build for wasm32",
        slow: false,
        run: |_, _| {
            run(cargo()
                .args(["check", "--target", WASM_TARGET])
                .args(WASM_PACKAGES))
        },
    },
    Step {
        name: "browser-client",
        about: "the browser transport in headless Chromium",
        slow: true,
        run: browser_client,
    },
    Step {
        name: "web",
        about: "the web bundle (trunk build --release)",
        slow: true,
        run: |_, _| web_step(),
    },
    Step {
        name: "extension",
        about: "the extension builds (target/extension + zip)",
        slow: true,
        run: |_, _| web::build_extension().map(drop),
    },
    Step {
        name: "browser-suites",
        about: "Playwright suites in tests/browser",
        slow: true,
        run: browser_suites,
    },
];

fn tools_step(options: &Options, _: &mut Counts) -> Result<()> {
    tools::ensure(if options.quick { Need::Rust } else { Need::All })
}

fn clippy_wasm(_: &Options, _: &mut Counts) -> Result<()> {
    let lint = ["--", "-D", "warnings"];
    run(cargo()
        .args(["clippy", "--target", WASM_TARGET])
        .args(WASM_PACKAGES)
        .args(lint))?;
    // The client's browser test only exists on wasm32.
    run(cargo().arg("clippy").args(BROWSER_TEST).args(lint))
}

/// Native tests, with a throwaway PostgreSQL for the store conformance
/// suite, the official `wandb` package for the SDK tests and podman for the
/// local-container tests (each test says when it skips for want of one).
fn native_tests(options: &Options, counts: &mut Counts) -> Result<()> {
    let env = test_env(options)?;
    let cargo = || {
        let mut c = cargo();
        c.envs(env.vars.iter().map(|(k, v)| (k, v)));
        c
    };
    if sh::read(cargo().args(["nextest", "--version"])).is_ok() {
        run_counted(
            cargo()
                .args(["nextest", "run", "--no-fail-fast"])
                .args(NATIVE),
            counts,
        )?;
        // nextest does not run doctests.
        run_counted(cargo().args(["test", "--doc"]).args(NATIVE), counts)
    } else {
        run_counted(
            cargo().args(["test", "--no-fail-fast"]).args(NATIVE),
            counts,
        )
    }
}

/// What the native and stress tests need around them.
pub struct TestEnv {
    pub vars: Vec<(String, String)>,
    /// Keeps the PostgreSQL cluster alive.
    _cluster: Option<postgres::Postgres>,
}

pub fn test_env(options: &Options) -> Result<TestEnv> {
    let (postgres_url, cluster) = postgres::for_tests()?;
    let mut vars = Vec::new();
    if let Some(url) = postgres_url {
        vars.push((postgres::URL_VAR.to_owned(), url));
        vars.push(("LIFTOFF_REQUIRE_POSTGRES".to_owned(), "1".to_owned()));
    }
    if !options.quick {
        let python = crate::python::wandb()?;
        vars.push((
            "LIFTOFF_WANDB_PYTHON".to_owned(),
            python.display().to_string(),
        ));
        vars.push(("LIFTOFF_REQUIRE_WANDB".to_owned(), "1".to_owned()));
        if let Some(podman) = crate::containers::podman_env()? {
            vars.extend(podman);
        }
    }
    Ok(TestEnv {
        vars,
        _cluster: cluster,
    })
}

/// crates/client/tests/browser.rs against [`Stub`], in Chromium through
/// chromedriver; the stub's URL reaches the test at compile time.
fn browser_client(_: &Options, counts: &mut Counts) -> Result<()> {
    let stub = Stub::start()?;
    let dead = stub::dead_url()?;
    println!("graphql stub at {} (dead url: {dead})", stub.url);
    let mut test = cargo();
    test.arg("test")
        .args(BROWSER_TEST)
        .env("LIFTOFF_TEST_GRAPHQL_URL", &stub.url)
        .env("LIFTOFF_TEST_DEAD_URL", &dead)
        .env(
            "WASM_BINDGEN_TEST_WEBDRIVER_JSON",
            sh::root().join("crates/client/webdriver.json"),
        );
    default_env(
        &mut test,
        "CHROMEDRIVER",
        which("chromedriver").unwrap_or_else(|| "/usr/bin/chromedriver".into()),
    );
    default_env(&mut test, "WASM_BINDGEN_TEST_TIMEOUT", "120");
    run_counted(&mut test, counts)?;
    if stub.posts() == 0 {
        bail!(
            "the browser test never reached the GraphQL stub at {}: did it skip?",
            stub.url
        );
    }
    println!(
        "the GraphQL stub answered {} POSTs from Chromium",
        stub.posts()
    );
    Ok(())
}

/// Set `name` for `c` unless the caller's environment already does.
fn default_env(c: &mut std::process::Command, name: &str, value: impl AsRef<std::ffi::OsStr>) {
    if std::env::var_os(name).is_none() {
        c.env(name, value);
    }
}

fn web_step() -> Result<()> {
    let dir = web::build_web()?;
    println!("{}", web::describe(&dir)?);
    Ok(())
}

/// The hook for browser and end-to-end suites: every `tests/browser/*.test.mjs`
/// runs under node's test runner (one at a time: 2 cores, one Chromium) with
/// playwright-core from the root node_modules and these variables:
/// `LIFTOFF_BIN` (the debug `liftoff` binary), `LIFTOFF_WEB_DIR`,
/// `LIFTOFF_EXTENSION_DIR`, `CHROMIUM`.
fn browser_suites(_: &Options, counts: &mut Counts) -> Result<()> {
    let dir = sh::root().join("tests/browser");
    let mut suites: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.to_string_lossy().ends_with(".test.mjs"))
                .collect()
        })
        .unwrap_or_default();
    suites.sort();
    if suites.is_empty() {
        println!(
            "no browser suites yet ({}/*.test.mjs); later issues add them",
            dir.display()
        );
        return Ok(());
    }
    // The debug `liftoff` the native tests built: building it the way they
    // do (same packages, test features) is a no-op after the test step.
    run(cargo().args(["test", "--no-run"]).args(NATIVE))?;
    let mut node = cmd("node");
    node.args(["--test", "--test-concurrency=1", "--test-reporter=tap"])
        .args(&suites)
        // runs.test.mjs runs a job that uses the official `wandb` SDK.
        .env("LIFTOFF_WANDB_PYTHON", crate::python::wandb()?)
        .env("LIFTOFF_REQUIRE_WANDB", "1")
        .env("LIFTOFF_BIN", sh::target_dir().join("debug/liftoff"))
        .env("LIFTOFF_WEB_DIR", web::web_dir())
        .env("LIFTOFF_EXTENSION_DIR", web::extension_dir());
    default_env(
        &mut node,
        "CHROMIUM",
        which("chromium").unwrap_or_else(|| "/usr/bin/chromium".into()),
    );
    run_counted(&mut node, counts)
}

enum Outcome {
    Ok,
    Failed,
    Skipped,
    NotRun,
}

/// `cargo xtask test [--quick] [--keep-going] [--only a,b]`.
pub fn run_all(options: &Options) -> Result<ExitCode> {
    let started = Instant::now();
    let mut counts = Counts::default();
    let mut results: Vec<(&Step, Outcome, f64)> = Vec::new();
    let mut failed = false;
    let selected: Vec<&Step> = STEPS
        .iter()
        .filter(|s| {
            options.only.is_empty() || s.name == "tools" || options.only.iter().any(|o| o == s.name)
        })
        .collect();
    for (i, step) in selected.iter().enumerate() {
        if failed && !options.keep_going {
            results.push((step, Outcome::NotRun, 0.0));
            continue;
        }
        if options.quick && step.slow {
            results.push((step, Outcome::Skipped, 0.0));
            continue;
        }
        println!(
            "\n==> [{}/{}] {}: {}",
            i + 1,
            selected.len(),
            step.name,
            step.about
        );
        let t = Instant::now();
        let result = (step.run)(options, &mut counts);
        let secs = t.elapsed().as_secs_f64();
        match result {
            Ok(()) => {
                println!("<== {} ok in {secs:.1} s", step.name);
                results.push((step, Outcome::Ok, secs));
            }
            Err(e) => {
                eprintln!("<== {} FAILED in {secs:.1} s: {e:#}", step.name);
                results.push((step, Outcome::Failed, secs));
                failed = true;
            }
        }
    }

    println!("\n==> summary");
    println!("  {:<16} {:<8} {:>8}", "step", "result", "seconds");
    for (step, outcome, secs) in &results {
        let (word, time) = match outcome {
            Outcome::Ok => ("ok", format!("{secs:.1}")),
            Outcome::Failed => ("FAILED", format!("{secs:.1}")),
            Outcome::Skipped => ("skipped", "-".into()),
            Outcome::NotRun => ("not run", "-".into()),
        };
        println!("  {:<16} {word:<8} {time:>8}", step.name);
    }
    let failures: Vec<&str> = results
        .iter()
        .filter(|(_, o, _)| matches!(o, Outcome::Failed))
        .map(|(s, ..)| s.name)
        .collect();
    let ok = results
        .iter()
        .filter(|(_, o, _)| matches!(o, Outcome::Ok))
        .count();
    println!(
        "  steps: {ok} ok, {} failed{}; {:.0} s in all",
        failures.len(),
        if failures.is_empty() {
            String::new()
        } else {
            format!(" ({})", failures.join(", "))
        },
        started.elapsed().as_secs_f64()
    );
    println!(
        "{} passed, {} failed, {} skipped",
        counts.passed, counts.failed, counts.skipped
    );
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
