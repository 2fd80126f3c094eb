//! `cargo xtask bench [server|poll|runs|agent] [ARGS...]`: build `liftoff` and
//! `liftoff-bench` (dist profile) and print the figures; with no suite, every
//! one. The server suite also runs on a throwaway PostgreSQL when installed.

use std::process::ExitCode;

use anyhow::{Result, bail};

use crate::postgres::Postgres;
use crate::sh::{self, cargo, cmd, run};
use crate::tools;

const SUITES: [&str; 4] = ["server", "poll", "runs", "agent"];

pub fn bench(args: &[String]) -> Result<ExitCode> {
    let (suites, extra) = match args.first() {
        Some(suite) if SUITES.contains(&suite.as_str()) => (vec![suite.as_str()], &args[1..]),
        Some(other) => bail!(
            "no benchmark suite {other:?}; suites: {}",
            SUITES.join(", ")
        ),
        None => (SUITES.to_vec(), args),
    };
    let mut build = cargo();
    build.args(["build", "--profile", "dist", "-p", "liftoff-bench"]);
    if suites.contains(&"agent") {
        // The agent suite times the real binary.
        build.args(["-p", "liftoff"]);
    }
    run(&mut build)?;
    let dist = sh::target_dir().join("dist");
    for suite in suites {
        println!("\n==> bench {suite}");
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
            "agent" if !extra.iter().any(|a| a == "--liftoff") => {
                c.arg("--liftoff").arg(dist.join("liftoff"));
            }
            _ => {}
        }
        run(&mut c)?;
    }
    Ok(ExitCode::SUCCESS)
}
