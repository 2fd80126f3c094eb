//! `cargo xtask`: Liftoff's build, dist and test orchestration, in Rust
//! (the alias lives in .cargo/config.toml). Tool pins: `tools.rs`.

mod bench;
mod containers;
mod postgres;
mod python;
mod sh;
mod stress;
mod stub;
mod test;
mod tools;
mod web;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

  up [ARGS...]      install what is missing, build the web app and `liftoff`, run `liftoff up ARGS...`
  test [OPTIONS]    every check and test suite, stopping at the first failure
      --quick         skip the slow steps (browsers, bundles, Debian packages)
      --keep-going    run every step even after a failure
      --only a,b      only these steps (tools always runs)
  web               build the web app bundle into target/www
  extension         build the unpacked extension into target/extension and target/liftoff-extension.zip
  stress            the minutes-long proofs: kill -9 under load, restarts, fuzzing (CI runs it after test)
  bench [SUITE]     build in the dist profile, run the benchmarks and print one table of figures;
                    without SUITE every suite runs and the table goes into README.md
                    (suites: server, poll, runs, agent, cli, www)
  tools             install the pinned tools that are missing (what `test` does first)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("up") => web::up(&args[1..]),
        Some("test") => {
            test::Options::parse(&args[1..]).and_then(|options| test::run_all(&options))
        }
        Some("web") => web::web(),
        Some("extension") => web::extension(),
        Some("bench") => bench::bench(&args[1..]),
        Some("stress") => stress::stress(&args[1..]),
        Some("tools") => tools::ensure(tools::Need::All).map(|()| ExitCode::SUCCESS),
        Some("help" | "-h" | "--help") => {
            println!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        Some(other) => {
            eprintln!("xtask: unknown command {other:?}\n\n{USAGE}");
            Ok(ExitCode::from(2))
        }
        None => {
            eprintln!("{USAGE}");
            Ok(ExitCode::from(2))
        }
    };
    result.unwrap_or_else(|e| {
        eprintln!("xtask: {e:#}");
        ExitCode::FAILURE
    })
}
