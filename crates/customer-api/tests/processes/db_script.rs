//! `scripts/db.sh` never fails for a port: when its preferred port is taken it starts on
//! another one outside the ephemeral range, remembers it for the next start, and its `url`
//! names the port the server has.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::common::ports::ephemeral_range;
use crate::common::repo_root;

/// The port `scripts/db.sh` tries first.
const PREFERRED_PORT: u16 = 15432;

/// Runs `db.sh <command>` for the data directory `data`, letting it choose the port;
/// returns the last line it printed (the URL, for `start` and `url`).
fn db_sh(data: &Path, command: &str) -> String {
    let out = Command::new(repo_root().join("scripts/db.sh"))
        .arg(command)
        .env("LOCAL_PG_DATA", data)
        .env_remove("LOCAL_PG_PORT")
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert!(out.status.success(), "db.sh {command} failed");
    let text = String::from_utf8(out.stdout).unwrap();
    text.trim().lines().last().unwrap_or_default().to_owned()
}

fn port_of(url: &str) -> u16 {
    let authority = url
        .strip_prefix("postgres://")
        .unwrap()
        .split('/')
        .next()
        .unwrap();
    authority.rsplit_once(':').unwrap().1.parse().unwrap()
}

async fn answers(url: &str) -> bool {
    match tokio_postgres::connect(url, tokio_postgres::NoTls).await {
        Ok((client, connection)) => {
            let driver = tokio::spawn(connection);
            let ok = client.simple_query("SELECT 1").await.is_ok();
            driver.abort();
            ok
        }
        Err(_) => false,
    }
}

/// Binds `port` on 127.0.0.1 unless something holds it already (then it is taken anyway).
fn occupy(port: u16) -> Option<TcpListener> {
    TcpListener::bind(("127.0.0.1", port)).ok()
}

/// Resets the server of its data directory when the test ends, passed or failed.
struct Reset(PathBuf);

impl Drop for Reset {
    fn drop(&mut self) {
        let _ = Command::new(repo_root().join("scripts/db.sh"))
            .arg("reset")
            .env("LOCAL_PG_DATA", &self.0)
            .env("LOCAL_PG_STOP_MODE", "immediate")
            .status();
    }
}

#[tokio::test]
async fn with_its_ports_taken_db_sh_starts_on_a_free_one_and_remembers_it() {
    let data = PathBuf::from(format!(
        "/var/tmp/customer-api-db-sh-{}",
        std::process::id()
    ));
    let _reset = Reset(data.clone());
    let _preferred = occupy(PREFERRED_PORT);
    assert!(TcpListener::bind(("127.0.0.1", PREFERRED_PORT)).is_err());

    let url = db_sh(&data, "start");
    let port = port_of(&url);
    let (low, high) = ephemeral_range();
    assert_ne!(port, PREFERRED_PORT, "{url}");
    assert!(!(low..=high).contains(&port), "{port} lies in {low}-{high}");
    assert!(answers(&url).await, "{url}");
    assert_eq!(db_sh(&data, "url"), url);

    // Stopped and started again: the same port, so the URL a user saved still works.
    db_sh(&data, "stop");
    assert_eq!(db_sh(&data, "url"), url, "the remembered port");
    assert_eq!(db_sh(&data, "start"), url);
    assert!(answers(&url).await);

    // Its remembered port taken while it was stopped: yet another free one.
    db_sh(&data, "stop");
    let _remembered = occupy(port);
    let moved = db_sh(&data, "start");
    let new_port = port_of(&moved);
    assert!(![PREFERRED_PORT, port].contains(&new_port), "{moved}");
    assert!(
        !(low..=high).contains(&new_port),
        "{new_port} lies in {low}-{high}"
    );
    assert!(answers(&moved).await, "{moved}");
    assert_eq!(db_sh(&data, "url"), moved);
}
