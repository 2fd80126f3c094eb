//! A throwaway PostgreSQL cluster for the store conformance suite: a temp
//! directory, a free loopback port, trust auth, stopped and removed on drop.
//! Tests find it through `LIFTOFF_TEST_POSTGRES_URL`.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::sh::{is_root, run};
use crate::tools;

/// The variable the server's tests read.
pub const URL_VAR: &str = "LIFTOFF_TEST_POSTGRES_URL";

pub struct Postgres {
    pub url: String,
    bin: PathBuf,
    dir: PathBuf,
}

impl Postgres {
    /// Start one; `initdb` and `postgres` refuse to run as root, so as root
    /// the cluster belongs to the `postgres` user.
    pub fn start() -> Result<Postgres> {
        let bin = tools::postgres_bin_dir()
            .context("PostgreSQL is not installed (apt-get install postgresql)")?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let dir = std::env::temp_dir().join(format!("liftoff-pg-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let pg = Postgres {
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            bin,
            dir,
        };
        if is_root() {
            run(Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&pg.dir))?;
        }
        let data = pg.dir.join("data");
        run(pg.as_owner("initdb").arg("-D").arg(&data).args([
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
        ]))?;
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            pg.dir.display()
        );
        run(pg
            .as_owner("pg_ctl")
            .arg("-D")
            .arg(&data)
            .args(["-o", &options, "-w", "-l"])
            .arg(pg.dir.join("log"))
            .arg("start"))?;
        wait_for_port(port, Duration::from_secs(30))?;
        Ok(pg)
    }

    fn as_owner(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        let mut c = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        };
        c.current_dir(&self.dir).stdout(std::process::Stdio::null());
        c
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let _ = self
            .as_owner("pg_ctl")
            .arg("-D")
            .arg(&data)
            .args(["-m", "immediate", "stop"])
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn wait_for_port(port: u16, limit: Duration) -> Result<()> {
    let deadline = Instant::now() + limit;
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            bail!("PostgreSQL did not listen on 127.0.0.1:{port} within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

/// The URL to hand to tests: the caller's own, a fresh cluster, or none
/// (with a note) when PostgreSQL is not installed.
pub fn for_tests() -> Result<(Option<String>, Option<Postgres>)> {
    if let Ok(url) = std::env::var(URL_VAR) {
        println!("PostgreSQL: using {URL_VAR}={url}");
        return Ok((Some(url), None));
    }
    if tools::postgres_bin_dir().is_none() {
        println!("PostgreSQL: not installed; the store suite runs on SQLite only");
        return Ok((None, None));
    }
    let pg = Postgres::start()?;
    println!(
        "PostgreSQL: throwaway cluster at {} (in {})",
        pg.url,
        pg.dir.display()
    );
    Ok((Some(pg.url.clone()), Some(pg)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_throwaway_cluster_starts_answers_and_goes_away() {
        if tools::postgres_bin_dir().is_none() {
            println!("skipped: PostgreSQL is not installed");
            return;
        }
        let pg = Postgres::start().expect("cluster");
        let dir = pg.dir.clone();
        let psql = pg.bin.join("psql");
        let psql = if psql.is_file() {
            psql
        } else {
            PathBuf::from("psql")
        };
        let out = crate::sh::read(
            Command::new(psql)
                .arg(&pg.url)
                .args(["-tAc", "select 40 + 2"]),
        );
        assert_eq!(out.ok().as_deref(), Some("42"));
        drop(pg);
        assert!(!dir.exists(), "{} was not removed", dir.display());
    }
}
