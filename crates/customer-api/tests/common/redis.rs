//! A `redis-server` of the test's own: a free port from [`super::ports`], no persistence
//! (no RDB snapshot, no append-only file), a directory of its own under `/var/tmp`, killed
//! by pid. Never the system's Redis on 6379. Installed first (Debian's `redis-server`,
//! through `scripts/ensure-tools.sh`) when missing.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::ports::free_port;

/// How long a start may take before the test fails.
const START_LIMIT: Duration = Duration::from_secs(20);

/// A running (or killed, to be restarted) `redis-server`.
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
    /// `redis://127.0.0.1:PORT/`
    pub url: String,
}

fn ensure_installed() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        let status = Command::new(root.join("scripts/ensure-tools.sh"))
            .arg("redis-server")
            .status()
            .expect("scripts/ensure-tools.sh runs");
        assert!(
            status.success(),
            "scripts/ensure-tools.sh redis-server failed"
        );
    });
}

impl RedisServer {
    /// Starts one and waits until it accepts connections.
    pub fn start() -> Self {
        ensure_installed();
        let port = free_port();
        let dir = PathBuf::from(format!(
            "/var/tmp/customer-api-redis-{}-{port}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let mut server = Self {
            child: None,
            port,
            dir,
            url: format!("redis://127.0.0.1:{port}/"),
        };
        server.restart();
        server
    }

    /// Starts it again on the same port (after [`RedisServer::kill`]), empty.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "redis-server is running");
        let port = self.port.to_string();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port,
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .arg("--dir")
            .arg(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        let deadline = Instant::now() + START_LIMIT;
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().unwrap()) {
                panic!("redis-server on {port} exited at start: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "redis-server did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL, and waits until it is gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
