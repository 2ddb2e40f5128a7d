//! Support for tests that run the real `customer-api` binary as child processes, and (for
//! the chaos tests) a private PostgreSQL server they may stop and start.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of this module"
)]

use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub mod cluster;
pub mod ports;
pub mod redis;

pub use ports::free_port;

/// The workspace root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A PostgreSQL server of the test's own, run through `scripts/db.sh` with a private data
/// directory and the port db.sh finds free (outside the ephemeral range, another one when
/// it is taken at start); reset (stopped and deleted) when dropped.
pub struct PrivatePostgres {
    data: PathBuf,
    port: u16,
    pub url: String,
}

impl PrivatePostgres {
    /// Creates and starts a fresh server.
    pub fn start() -> Self {
        static STARTED: AtomicUsize = AtomicUsize::new(0);
        let data = PathBuf::from(format!(
            "/var/tmp/customer-api-chaos-{}-{}",
            std::process::id(),
            STARTED.fetch_add(1, Ordering::Relaxed)
        ));
        let mut server = Self {
            data,
            port: 0,
            url: String::new(),
        };
        server.url = server.db_sh("start", "fast");
        server.port =
            url_port(&server.url).unwrap_or_else(|| panic!("db.sh start printed {:?}", server.url));
        server
    }

    fn db_sh(&self, command: &str, stop_mode: &str) -> String {
        let mut db_sh = Command::new(repo_root().join("scripts/db.sh"));
        db_sh
            .arg(command)
            .env("LOCAL_PG_DATA", &self.data)
            .env("LOCAL_PG_STOP_MODE", stop_mode)
            .env_remove("LOCAL_PG_PORT")
            .stderr(Stdio::inherit());
        if self.port != 0 {
            // Once started, always the same port: the service under test knows that one.
            db_sh.env("LOCAL_PG_PORT", self.port.to_string());
        }
        let out = db_sh.output().unwrap();
        assert!(out.status.success(), "db.sh {command} failed");
        String::from_utf8(out.stdout)
            .unwrap()
            .trim()
            .lines()
            .last()
            .unwrap_or_default()
            .to_owned()
    }

    /// Starts it again after a stop.
    pub fn resume(&self) {
        self.db_sh("start", "fast");
    }

    /// Immediate shutdown: connections are cut, nothing is flushed gracefully.
    pub fn crash(&self) {
        self.db_sh("stop", "immediate");
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = Command::new(repo_root().join("scripts/db.sh"))
            .arg("reset")
            .env("LOCAL_PG_DATA", &self.data)
            .env("LOCAL_PG_STOP_MODE", "immediate")
            .status();
    }
}

/// The port of a `postgres://user@host:port/db` URL.
pub fn url_port(url: &str) -> Option<u16> {
    let authority = url.strip_prefix("postgres://")?.split('/').next()?;
    authority.rsplit_once(':')?.1.parse().ok()
}

/// A running `customer-api serve` process.
pub struct Service {
    child: Child,
    pub base: String,
}

impl Service {
    /// Starts the binary with the `test` settings against `database_url` and waits until it
    /// answers HTTP (whatever `/health` says).
    pub async fn start(database_url: &str, extra_env: &[(&str, &str)]) -> Self {
        Self::launch(database_url, extra_env, Stdio::null()).await
    }

    /// As [`Service::start`], with every log line written to `log`.
    pub async fn start_logging_to(
        database_url: &str,
        extra_env: &[(&str, &str)],
        log: &std::path::Path,
    ) -> Self {
        Self::launch(
            database_url,
            extra_env,
            std::fs::File::create(log).unwrap().into(),
        )
        .await
    }

    /// `logs` receives the service's log lines (its stdout).
    async fn launch(database_url: &str, extra_env: &[(&str, &str)], logs: Stdio) -> Self {
        let port = free_port();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_customer-api"));
        cmd.arg("serve")
            .env("APP_ENV", "test")
            .env("APP_CONFIG_DIR", repo_root().join("config"))
            .env("APP__DATABASE__URL", database_url)
            .env("APP__SERVER__PORT", port.to_string())
            .env_remove("DATABASE_URL")
            .stdout(logs)
            .stderr(Stdio::inherit());
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let mut service = Self {
            child: cmd.spawn().unwrap(),
            base: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while client
            .get(format!("{}/health", service.base))
            .send()
            .await
            .is_err()
        {
            assert!(
                Instant::now() < deadline,
                "the service did not start listening"
            );
            if let Some(status) = service.child.try_wait().unwrap() {
                panic!("the service exited before it listened on {port}: {status}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        service
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit.
    pub async fn wait(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the service did not exit within {limit:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `/health`'s status code, or `None` when the request fails.
    pub async fn health(&self, client: &reqwest::Client) -> Option<u16> {
        client
            .get(format!("{}/health", self.base))
            .send()
            .await
            .ok()
            .map(|r| r.status().as_u16())
    }

    /// Creates a customer; returns the status and body, or `None` when no answer came.
    pub async fn create(
        &self,
        client: &reqwest::Client,
        first: &str,
        email: &str,
    ) -> Option<(u16, Value)> {
        let res = client
            .post(format!("{}/api/v1/customers/", self.base))
            .json(&json!({"first_name": first, "last_name": "Doe", "email": email}))
            .send()
            .await
            .ok()?;
        let status = res.status().as_u16();
        let body = res.json().await.unwrap_or(Value::Null);
        Some((status, body))
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The value of one `series` (name and labels, as `/metrics` writes them) of the service at
/// `base`; 0 when it has none yet.
pub async fn metric(client: &reqwest::Client, base: &str, series: &str) -> u64 {
    let text = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    series_value(&text, series).unwrap_or(0)
}

/// As [`metric`], as a float, and `None` when the service cannot be read (it may be down)
/// or has no such series yet.
pub async fn metric_value(client: &reqwest::Client, base: &str, series: &str) -> Option<f64> {
    let response = client.get(format!("{base}/metrics")).send().await.ok()?;
    series_value(&response.text().await.ok()?, series)
}

/// The value of `series` in a `/metrics` text.
fn series_value<T: std::str::FromStr>(text: &str, series: &str) -> Option<T> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
}

/// Polls `check` until it is true or `limit` passes.
pub async fn eventually(limit: Duration, mut check: impl AsyncFnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}
