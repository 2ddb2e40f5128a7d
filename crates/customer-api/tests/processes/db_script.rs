//! `scripts/db.sh` never fails for a port: when its preferred port is taken it starts on
//! another one outside the ephemeral range, remembers it for the next start, and its `url`
//! names the port the server has. (The checkout's own server prefers 15432; these servers
//! of the test's own are told another port to prefer, so as not to meet it.)

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::common::ports::{ephemeral_range, free_port, reservations};
use crate::common::{repo_root, url_port};

/// Runs `db.sh <command>` for the data directory `data`, letting it choose the port with
/// `preferred` tried first; returns the last line it printed (the URL, for `start` and
/// `url`).
fn db_sh_preferring(data: &Path, preferred: u16, command: &str) -> String {
    let out = Command::new(repo_root().join("scripts/db.sh"))
        .arg(command)
        .env("LOCAL_PG_DATA", data)
        .env("LOCAL_PG_PREFERRED_PORT", preferred.to_string())
        .env_remove("LOCAL_PG_PORT")
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert!(out.status.success(), "db.sh {command} failed");
    let text = String::from_utf8(out.stdout).unwrap();
    text.trim().lines().last().unwrap_or_default().to_owned()
}

fn port_of(url: &str) -> u16 {
    url_port(url).unwrap_or_else(|| panic!("no port in {url}"))
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

/// The file that reserves `port`.
fn reservation(port: u16) -> PathBuf {
    reservations().join(port.to_string())
}

#[tokio::test]
async fn with_its_ports_taken_db_sh_starts_on_a_free_one_and_remembers_it() {
    let data = PathBuf::from(format!(
        "/var/tmp/customer-api-db-sh-{}",
        std::process::id()
    ));
    let _reset = Reset(data.clone());
    let preferred = free_port();
    let _taken = occupy(preferred);
    assert!(TcpListener::bind(("127.0.0.1", preferred)).is_err());
    let db_sh = |command| db_sh_preferring(&data, preferred, command);

    let url = db_sh("start");
    let port = port_of(&url);
    let (low, high) = ephemeral_range();
    assert_ne!(port, preferred, "{url}");
    assert!(!(low..=high).contains(&port), "{port} lies in {low}-{high}");
    assert!(answers(&url).await, "{url}");
    assert_eq!(db_sh("url"), url);

    // Stopped and started again: the same port, so the URL a user saved still works.
    db_sh("stop");
    assert_eq!(db_sh("url"), url, "the remembered port");
    assert_eq!(db_sh("start"), url);
    assert!(answers(&url).await);

    // Its remembered port taken while it was stopped: yet another free one.
    db_sh("stop");
    let _remembered = occupy(port);
    let moved = db_sh("start");
    let new_port = port_of(&moved);
    assert!(![preferred, port].contains(&new_port), "{moved}");
    assert!(
        !(low..=high).contains(&new_port),
        "{new_port} lies in {low}-{high}"
    );
    assert!(answers(&moved).await, "{moved}");
    assert_eq!(db_sh("url"), moved);
}

#[tokio::test]
async fn a_free_preferred_port_is_the_one_db_sh_starts_on_and_reserves() {
    let data = PathBuf::from(format!(
        "/var/tmp/customer-api-db-sh-free-{}",
        std::process::id()
    ));
    let _reset = Reset(data.clone());
    let preferred = free_port();
    // Handed to db.sh: not held by this process any more.
    std::fs::remove_file(reservation(preferred)).unwrap();
    let url = db_sh_preferring(&data, preferred, "start");
    assert_eq!(port_of(&url), preferred, "{url}");
    assert!(answers(&url).await, "{url}");
    let holder = std::fs::read_to_string(reservation(preferred)).unwrap();
    assert_eq!(holder.trim(), data.display().to_string());
    // Stopped, it keeps the port: the tests' own search passes it by.
    db_sh_preferring(&data, preferred, "stop");
    let handed: Vec<u16> = (0..200).map(|_| free_port()).collect();
    assert!(!handed.contains(&preferred));
    db_sh_preferring(&data, preferred, "reset");
    assert!(
        !reservation(preferred).exists(),
        "a reset gives the port up"
    );
}
