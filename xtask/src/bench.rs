//! `cargo xtask bench [SUITE] [ARGS...]`: build `liftoff` and `liftoff-bench`
//! (dist profile), run the suites and print one table of their figures.
//! With no suite, every one runs and the table replaces the one between
//! README's `<!-- bench:begin -->` and `<!-- bench:end -->` markers.
//!
//! Suites print each figure as a `BENCH {json}` line (crates/bench's
//! `Figure`; tests/browser/bench.mjs prints the same shape); the `www` suite's
//! bundle sizes are measured here. The server suites also run on a throwaway
//! PostgreSQL when it is installed; `agent` and `cli` run the official
//! `wandb` package beside Liftoff.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::postgres::Postgres;
use crate::python;
use crate::sh::{self, cargo, cmd, display, human_size, read, run, which};
use crate::tools::{self, Need};
use crate::web;

const SUITES: [&str; 6] = ["server", "poll", "runs", "agent", "cli", "www"];

pub const BEGIN: &str = "<!-- bench:begin -->";
pub const END: &str = "<!-- bench:end -->";

/// The web app's wasm + JS, gzipped (bytes).
const WWW_GZIP_TARGET: u64 = 250 * 1024;

pub fn bench(args: &[String]) -> Result<ExitCode> {
    let (suites, extra) = match args.first() {
        Some(suite) if SUITES.contains(&suite.as_str()) => (vec![suite.as_str()], &args[1..]),
        Some(other) => bail!(
            "no benchmark suite {other:?}; suites: {}",
            SUITES.join(", ")
        ),
        None => (SUITES.to_vec(), args),
    };
    let all = suites.len() == SUITES.len();
    let started = std::time::Instant::now();
    // Before the suites add their own load.
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned));
    if suites.contains(&"www") {
        tools::ensure(Need::All)?;
    }
    let mut build = cargo();
    build.args(["build", "--profile", "dist", "-p", "liftoff-bench"]);
    if suites.iter().any(|s| matches!(*s, "agent" | "cli" | "www")) {
        // These time the real binary.
        build.args(["-p", "liftoff"]);
    }
    run(&mut build)?;
    let dist = sh::target_dir().join("dist");
    let liftoff = dist.join("liftoff");
    let mut rows = Vec::new();
    let mut failed = Vec::new();
    for suite in suites {
        println!("\n==> bench {suite}");
        let result = match suite {
            "www" => www(&liftoff),
            _ => bench_suite(suite, extra, &dist),
        };
        match result {
            Ok(found) => rows.extend(found),
            Err(e) if all => {
                eprintln!("xtask: bench {suite} failed: {e:#}");
                failed.push(suite);
            }
            Err(e) => return Err(e),
        }
    }
    let table = render(&rows);
    println!("\n{table}");
    if !all {
        return Ok(ExitCode::SUCCESS);
    }
    let about = format!(
        "Measured by `cargo xtask bench` on {date}, in {minutes:.0} minutes: {cores} cores \
         ({cpu}), load average {load} when it started (other builds may share the machine, so \
         the figures are pessimistic), `dist` profile, official `wandb` {wandb}.",
        date = read(cmd("date").args(["-u", "+%Y-%m-%d"])).unwrap_or_else(|_| "?".into()),
        minutes = started.elapsed().as_secs_f64() / 60.0,
        cores = std::thread::available_parallelism().map_or(0, usize::from),
        cpu = cpu_model().unwrap_or_else(|| "unknown CPU".into()),
        load = load.as_deref().unwrap_or("?"),
        wandb = python::WANDB,
    );
    let block = readme_block(&about, &table, &failed);
    let path = sh::root().join("README.md");
    let readme =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    std::fs::write(&path, splice(&readme, &block)?)
        .with_context(|| format!("writing {}", path.display()))?;
    println!("wrote the table into {}", path.display());
    if failed.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("xtask: bench suites failed: {}", failed.join(", "));
        Ok(ExitCode::FAILURE)
    }
}

/// Run `liftoff-bench SUITE`: its `BENCH` lines become rows, the rest is
/// shown as it comes.
fn bench_suite(suite: &str, extra: &[String], dist: &Path) -> Result<Vec<Row>> {
    let mut c = cmd(dist.join("liftoff-bench"));
    c.arg(suite).args(extra);
    // Keep the cluster alive while the suite runs.
    let mut _cluster = None;
    match suite {
        "server" | "poll" | "runs"
            if tools::postgres_bin_dir().is_some()
                && !extra.iter().any(|a| a == "--postgres-url") =>
        {
            let pg = Postgres::start()?;
            c.args(["--postgres-url", &pg.url]);
            _cluster = Some(pg);
        }
        "agent" | "cli" => {
            if !extra.iter().any(|a| a == "--liftoff") {
                c.arg("--liftoff").arg(dist.join("liftoff"));
            }
            if !extra.iter().any(|a| a == "--wandb-python") {
                match python::wandb() {
                    Ok(python) => {
                        c.arg("--wandb-python").arg(python);
                    }
                    // The Python column then says it was not measured.
                    Err(e) => eprintln!("xtask: no official wandb to compare with: {e:#}"),
                }
            }
        }
        _ => {}
    }
    rows_of(&mut c)
}

/// Run, forwarding stdout except the `BENCH {json}` lines, which it answers.
fn rows_of(c: &mut Command) -> Result<Vec<Row>> {
    println!("$ {}", display(c));
    let _ = std::io::stdout().flush();
    let mut child = c
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start `{}`", display(c)))?;
    let mut rows = Vec::new();
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines() {
            let line = line?;
            match line.strip_prefix("BENCH ") {
                Some(json) => {
                    let row = Row::from_json(json)?;
                    println!("  {}", row.cells().join(" | "));
                    rows.push(row);
                }
                None => println!("{line}"),
            }
        }
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("`{}` failed ({status})", display(c));
    }
    Ok(rows)
}

/// The `www` suite: the bundle's wasm + JS sizes, and the queue page's
/// render time in Chromium (tests/browser/bench.mjs).
fn www(liftoff: &Path) -> Result<Vec<Row>> {
    // Trunk rebuilds only what changed; a broken work-in-progress web app
    // leaves the last bundle, and the rows say so.
    let (dir, stale) = match web::build_web() {
        Ok(dir) => (dir, ""),
        Err(e) if web::web_dir().join("index.html").is_file() => {
            eprintln!("xtask: the web app did not build ({e:#}); measuring the last bundle");
            (web::web_dir(), " (last bundle: the build failed)")
        }
        Err(e) => return Err(e),
    };
    let (mut wasm, mut js) = (Sizes::default(), Sizes::default());
    for file in web::files(&dir)? {
        let sizes = match file.extension().and_then(|e| e.to_str()) {
            Some("wasm") => &mut wasm,
            Some("js") => &mut js,
            _ => continue,
        };
        sizes.raw += std::fs::metadata(&file)?.len();
        let gz = Command::new("gzip")
            .args(["-9", "-c"])
            .arg(&file)
            .output()
            .context("gzip")?;
        if !gz.status.success() {
            bail!("gzip -9 -c {} failed", file.display());
        }
        sizes.gzip += gz.stdout.len() as u64;
    }
    let both = |raw: bool| {
        let (w, j) = if raw {
            (wasm.raw, js.raw)
        } else {
            (wasm.gzip, js.gzip)
        };
        (
            w + j,
            format!(
                "{} (wasm {} + JS {})",
                human_size(w + j),
                human_size(w),
                human_size(j)
            ),
        )
    };
    let (_, raw) = both(true);
    let (gzip, gzip_text) = both(false);
    let mut rows = vec![
        Row::new(format!("web app: wasm + JS, raw{stale}"), raw),
        Row {
            target: Some(format!("<= {} KB", WWW_GZIP_TARGET / 1024)),
            met: Some(gzip <= WWW_GZIP_TARGET),
            ..Row::new(format!("web app: wasm + JS, gzip -9{stale}"), gzip_text)
        },
    ];
    for row in &rows {
        println!("  {}", row.cells().join(" | "));
    }
    let mut node = cmd("node");
    node.arg(sh::root().join("tests/browser/bench.mjs"))
        .env("LIFTOFF_BIN", liftoff)
        .env("LIFTOFF_WEB_DIR", &dir);
    if std::env::var_os("CHROMIUM").is_none() {
        node.env(
            "CHROMIUM",
            which("chromium").unwrap_or_else(|| "/usr/bin/chromium".into()),
        );
    }
    let page = rows_of(&mut node)?;
    if page.is_empty() {
        bail!("tests/browser/bench.mjs printed no BENCH line");
    }
    rows.extend(page.into_iter().map(|mut r| {
        r.figure.push_str(stale);
        r
    }));
    Ok(rows)
}

#[derive(Default)]
struct Sizes {
    raw: u64,
    gzip: u64,
}

fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, m)| m.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// One row of the table, as a suite reported it.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub figure: String,
    pub liftoff: String,
    /// The official agent's or CLI's figure, `-`, or why it is missing.
    pub python: String,
    /// Official / Liftoff (times, sizes) or Liftoff / official (rates).
    pub ratio: Option<f64>,
    pub target: Option<String>,
    pub met: Option<bool>,
}

impl Row {
    fn new(figure: String, liftoff: String) -> Row {
        Row {
            figure,
            liftoff,
            python: "-".into(),
            ratio: None,
            target: None,
            met: None,
        }
    }

    /// A `BENCH` line's JSON (crates/bench's `Figure::to_json`).
    pub fn from_json(json: &str) -> Result<Row> {
        let v: Value =
            serde_json::from_str(json).with_context(|| format!("a BENCH line: {json}"))?;
        let text = |key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
        Ok(Row {
            figure: text("figure").with_context(|| format!("no figure in {json}"))?,
            liftoff: text("liftoff").with_context(|| format!("no liftoff in {json}"))?,
            python: text("python").unwrap_or_else(|| "-".into()),
            ratio: v.get("ratio").and_then(Value::as_f64),
            target: text("target"),
            met: v.get("met").and_then(Value::as_bool),
        })
    }

    /// figure, Liftoff, official, ratio, target (with whether it is met).
    pub fn cells(&self) -> [String; 5] {
        let ratio = match self.ratio {
            Some(r) if r >= 10.0 => format!("{r:.0}x"),
            Some(r) => format!("{r:.1}x"),
            None => "-".into(),
        };
        let target = match (&self.target, self.met) {
            (Some(t), Some(true)) => format!("{t}: met"),
            (Some(t), Some(false)) => format!("{t}: **not met**"),
            (Some(t), None) => t.clone(),
            (None, _) => "-".into(),
        };
        [
            self.figure.clone(),
            self.liftoff.clone(),
            self.python.clone(),
            ratio,
            target,
        ]
        .map(|c| c.replace('|', "\\|").replace('\n', " "))
    }
}

/// The Markdown table of `rows`.
pub fn render(rows: &[Row]) -> String {
    let mut out = String::from(
        "| figure | Liftoff | official Python agent / CLI | ratio | target |\n|---|---|---|---|---|\n",
    );
    for row in rows {
        out.push_str(&format!("| {} |\n", row.cells().join(" | ")));
    }
    out
}

/// What goes between README's markers.
pub fn readme_block(about: &str, table: &str, failed: &[&str]) -> String {
    let mut out = format!("{about}\n\n{table}\n");
    out.push_str(
        "Ratio: the official figure divided by Liftoff's, i.e. how many times faster (or \
         smaller) Liftoff is; `-` where the official agent and CLI have no counterpart. \
         Regenerate with `cargo xtask bench`; `cargo xtask bench SUITE` prints one suite's rows \
         without touching this file.\n",
    );
    if !failed.is_empty() {
        out.push_str(&format!(
            "\n**Suites that failed in this run (their rows are missing):** {}.\n",
            failed.join(", ")
        ));
    }
    out
}

/// `readme` with everything between the markers replaced by `block`; the
/// markers and everything outside them stay as they are.
pub fn splice(readme: &str, block: &str) -> Result<String> {
    let Some(begin) = readme.find(BEGIN) else {
        bail!("README.md has no {BEGIN} marker (put it and {END} in ## Benchmarks)")
    };
    let inner = begin + BEGIN.len();
    let Some(end) = readme[inner..].find(END).map(|i| inner + i) else {
        bail!("README.md has no {END} after {BEGIN}")
    };
    if readme[end + END.len()..].contains(BEGIN) {
        bail!("README.md has more than one {BEGIN} marker");
    }
    Ok(format!(
        "{}\n{}\n{}",
        &readme[..inner],
        block.trim_end(),
        &readme[end..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUSHES: &str = r#"{"figure":"pushes/s, SQLite, 8 clients","unit":"/s","liftoff":"1,513/s","liftoff_value":1513.2,"python":"-","python_value":null,"ratio":null,"target":">= 2,000/s","met":false}"#;
    const AGENT: &str = r#"{"figure":"agent: idle RSS","unit":"MB","liftoff":"9.80 MB","liftoff_value":9.8,"python":"301 MB","python_value":301.0,"ratio":30.7,"target":"<= 15 MB","met":true}"#;
    const MISSING: &str = r#"{"figure":"CLI: `--help`","unit":"ms","liftoff":"2.10 ms","liftoff_value":2.1,"python":"not measured (no wandb venv)","python_value":null,"ratio":null,"target":null,"met":null}"#;

    #[test]
    fn bench_lines_become_rows_that_show_missed_targets() {
        let rows: Vec<Row> = [PUSHES, AGENT, MISSING]
            .iter()
            .map(|j| Row::from_json(j).unwrap())
            .collect();
        let table = render(&rows);
        let expected = "\
| figure | Liftoff | official Python agent / CLI | ratio | target |
|---|---|---|---|---|
| pushes/s, SQLite, 8 clients | 1,513/s | - | - | >= 2,000/s: **not met** |
| agent: idle RSS | 9.80 MB | 301 MB | 31x | <= 15 MB: met |
| CLI: `--help` | 2.10 ms | not measured (no wandb venv) | - | - |
";
        assert_eq!(table, expected);
        let small = Row {
            ratio: Some(1.26),
            ..Row::new("a | b".into(), "1 ms".into())
        };
        assert_eq!(small.cells()[0], "a \\| b");
        assert_eq!(small.cells()[3], "1.3x");
        assert!(Row::from_json("{}").is_err());
        assert!(Row::from_json("not json").is_err());
    }

    #[test]
    fn the_table_replaces_only_what_is_between_the_markers() {
        let readme = format!(
            "# Liftoff\n\n## Benchmarks\n\nIntro.\n\n{BEGIN}\nold table\n{END}\n\n## Other commands\n"
        );
        let once = splice(&readme, "new table\n").unwrap();
        assert_eq!(
            once,
            format!(
                "# Liftoff\n\n## Benchmarks\n\nIntro.\n\n{BEGIN}\nnew table\n{END}\n\n## Other commands\n"
            )
        );
        // Running it again gives the same file.
        assert_eq!(splice(&once, "new table").unwrap(), once);
        let block = readme_block("Measured today.", &render(&[]), &["agent"]);
        assert!(block.contains("Measured today.\n\n| figure |"));
        assert!(block.contains("failed in this run (their rows are missing):** agent."));
    }

    #[test]
    fn splice_refuses_a_readme_without_its_markers() {
        assert!(splice("# Liftoff\n", "x").is_err());
        assert!(splice(&format!("{END}\n{BEGIN}\n"), "x").is_err());
        assert!(splice(&format!("{BEGIN}\n{END}\n{BEGIN}\n{END}\n"), "x").is_err());
    }
}
