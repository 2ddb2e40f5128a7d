//! A small cluster on 127.0.0.1 for tests: a streaming replica of a [`PrivatePostgres`],
//! PgBouncer in front of a server, HAProxy in front of services. Each is started by the
//! test that uses it and stopped when dropped (by its pid, or `pg_ctl stop` for the
//! replica), panics included; its files live in a directory of its own under `/var/tmp`,
//! deleted with it.
//!
//! When the tests run as root, PostgreSQL's tools and PgBouncer (which both refuse root)
//! run as the unprivileged user `scripts/db.sh` runs the server as: the owner of the
//! primary's data directory for the replica, `LOCAL_PG_OS_USER`, `postgres` or
//! `customer-api-pg` for PgBouncer. They are started with that uid and gid set directly
//! (not through `runuser`, which forks and waits: killing its pid would leave the real
//! process running).

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::{PrivatePostgres, free_port};

/// How long any process here may take to become ready.
const READY_LIMIT: Duration = Duration::from_secs(60);

const PGBOUNCER: &str = "/usr/sbin/pgbouncer";
const HAPROXY: &str = "/usr/sbin/haproxy";

// ---------------------------------------------------------------------------------------
// SQL through psql

/// Runs `sql` (one or more statements, one implicit transaction) with `psql` against
/// `url`; returns its unaligned, tuples-only output, trimmed. Panics when psql fails.
pub fn psql(url: &str, sql: &str) -> String {
    try_psql(url, sql).unwrap_or_else(|e| panic!("psql -d {url} -c {sql:?} failed: {e}"))
}

/// As [`psql`], the error (psql's stderr) instead of a panic.
pub fn try_psql(url: &str, sql: &str) -> Result<String, String> {
    let out = Command::new(psql_path())
        .args([
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-tA",
            "-d",
            url,
            "-c",
            sql,
        ])
        .env("PGCONNECT_TIMEOUT", "5")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", psql_path().display()))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}

/// The server's current WAL write position (`pg_current_wal_lsn()`), on a primary.
pub fn current_lsn(url: &str) -> String {
    psql(url, "select pg_current_wal_lsn()")
}

/// The port of a `postgres://` URL (5432 when it names none).
pub fn url_port(url: &str) -> u16 {
    let (_, rest) = url.split_once("://").expect("a URL with a scheme");
    let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    match host_port.rsplit_once(':') {
        Some((_, port)) if !host_port.ends_with(']') => port
            .parse()
            .unwrap_or_else(|e| panic!("the port of {url}: {e}")),
        _ => 5432,
    }
}

/// `url` with its host and port replaced by `host_port`; user, database and parameters kept.
pub fn with_host_port(url: &str, host_port: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let user = authority
        .rsplit_once('@')
        .map(|(user, _)| format!("{user}@"))
        .unwrap_or_default();
    format!("{scheme}://{user}{host_port}{tail}")
}

/// The database name of a `postgres://` URL.
fn url_database(url: &str) -> &str {
    let (_, rest) = url.split_once("://").expect("a URL with a scheme");
    let path = rest.find('/').map_or("", |i| &rest[i + 1..]);
    let name = path.split('?').next().unwrap_or_default();
    if name.is_empty() { "postgres" } else { name }
}

// ---------------------------------------------------------------------------------------
// Users, binaries, polling

/// An unprivileged OS user to run a program as (the tests run as root).
#[derive(Clone, Copy, Debug)]
struct OsUser {
    uid: u32,
    gid: u32,
}

impl OsUser {
    fn named(name: &str) -> Self {
        let id = |flag: &str| -> Option<u32> {
            let out = Command::new("id").args([flag, name]).output().ok()?;
            if !out.status.success() {
                return None;
            }
            String::from_utf8_lossy(&out.stdout).trim().parse().ok()
        };
        match (id("-u"), id("-g")) {
            (Some(uid), Some(gid)) if uid != 0 => Self { uid, gid },
            _ => panic!(
                "the OS user {name} does not exist or is root; scripts/db.sh creates it on its \
                 first start as root (or set LOCAL_PG_OS_USER to an unprivileged user)"
            ),
        }
    }

    /// Gives `path` to this user.
    fn own(self, path: &Path) {
        std::os::unix::fs::chown(path, Some(self.uid), Some(self.gid))
            .unwrap_or_else(|e| panic!("chown {}: {e}", path.display()));
    }

    fn apply(user: Option<Self>, cmd: &mut Command) {
        if let Some(user) = user {
            cmd.uid(user.uid).gid(user.gid);
        }
    }
}

fn is_root() -> bool {
    static ROOT: OnceLock<bool> = OnceLock::new();
    *ROOT.get_or_init(|| {
        let out = Command::new("id").arg("-u").output().expect("run id -u");
        String::from_utf8_lossy(&out.stdout).trim() == "0"
    })
}

/// The user `scripts/db.sh` runs a new server as when invoked as root; `None` when not root.
fn db_sh_user() -> Option<OsUser> {
    if !is_root() {
        return None;
    }
    let name = std::env::var("LOCAL_PG_OS_USER")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| {
            let postgres = Command::new("id")
                .arg("postgres")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if postgres {
                "postgres"
            } else {
                "customer-api-pg"
            }
            .to_owned()
        });
    Some(OsUser::named(&name))
}

/// The directory holding PostgreSQL's programs, found as `scripts/db.sh` finds it:
/// `LOCAL_PG_BIN`, else `/usr/lib/postgresql/<version>/bin` for the wanted version, else
/// the newest `/usr/lib/postgresql/*/bin`, else the directory of `pg_ctl` on `PATH`.
fn pg_bin(version: Option<&str>) -> PathBuf {
    let is_server_bin = |d: &Path| {
        ["postgres", "initdb", "pg_ctl"]
            .iter()
            .all(|p| d.join(p).is_file())
    };
    if let Some(dir) = std::env::var_os("LOCAL_PG_BIN").filter(|d| !d.is_empty()) {
        return dir.into();
    }
    if let Some(version) = version {
        let dir = PathBuf::from(format!("/usr/lib/postgresql/{version}/bin"));
        if is_server_bin(&dir) {
            return dir;
        }
    }
    let mut installed: Vec<(Vec<u32>, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let key = name
                .split('.')
                .map(|part| part.parse().ok())
                .collect::<Option<Vec<u32>>>()?;
            let dir = entry.path().join("bin");
            is_server_bin(&dir).then_some((key, dir))
        })
        .collect();
    installed.sort();
    if let Some((_, dir)) = installed.pop() {
        return dir;
    }
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|d| d.join("pg_ctl"))
        .find(|p| p.is_file())
        .and_then(|p| fs::canonicalize(p).ok())
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .filter(|d| is_server_bin(d))
        .expect("no PostgreSQL programs found (scripts/db.sh start installs them)")
}

fn psql_path() -> &'static Path {
    static PSQL: OnceLock<PathBuf> = OnceLock::new();
    PSQL.get_or_init(|| {
        let psql = pg_bin(None).join("psql");
        if psql.is_file() { psql } else { "psql".into() }
    })
}

/// Calls `ready` every 50 ms until it is true; panics with `what` after [`READY_LIMIT`].
fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + READY_LIMIT;
    while !ready() {
        assert!(
            Instant::now() < deadline,
            "{what}: not within {READY_LIMIT:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn accepts(port: u16) -> bool {
    TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(1)).is_ok()
}

/// A fresh, empty directory `/var/tmp/customer-api-<kind>-<pid>-<port>` with `mode`.
fn fresh_dir(kind: &str, port: u16, mode: u32) -> PathBuf {
    let dir = PathBuf::from(format!(
        "/var/tmp/customer-api-{kind}-{}-{port}",
        std::process::id()
    ));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
    fs::set_permissions(&dir, fs::Permissions::from_mode(mode)).unwrap();
    dir
}

fn write_file(path: &Path, text: &str) {
    fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    fs::set_permissions(path, fs::Permissions::from_mode(0o644)).unwrap();
}

fn tail(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

/// Waits until a child listens on `port`; panics with its log if it exits first.
fn wait_listening(child: &mut Child, port: u16, name: &str, log: &Path) {
    wait_until(&format!("{name} listening on 127.0.0.1:{port}"), || {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("{name} exited with {status}; its log:\n{}", tail(log));
        }
        accepts(port)
    });
}

fn stop_child(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

// ---------------------------------------------------------------------------------------
// Replica

/// A PostgreSQL streaming replica (hot standby) of a [`PrivatePostgres`], made with
/// `pg_basebackup -R -X stream`, on a port of its own. Stopped (immediate) and deleted when
/// dropped.
#[derive(Debug)]
pub struct Replica {
    /// Holds `data/` (the data directory), `postgresql.log` and the Unix socket.
    dir: PathBuf,
    bin: PathBuf,
    user: Option<OsUser>,
    /// `postgres://postgres@127.0.0.1:PORT/<the primary's database>`.
    pub url: String,
}

impl Replica {
    /// Copies `primary` and starts the copy as its replica; returns once it accepts
    /// connections in recovery.
    pub fn start(primary: &PrivatePostgres) -> Self {
        let version = fs::read_to_string(primary.data.join("PG_VERSION"))
            .ok()
            .map(|v| v.trim().to_owned());
        // As scripts/db.sh does when root: run as the owner of the primary's data.
        let user = if is_root() {
            let meta = fs::metadata(&primary.data)
                .unwrap_or_else(|e| panic!("the primary's data {}: {e}", primary.data.display()));
            (meta.uid() != 0).then_some(OsUser {
                uid: meta.uid(),
                gid: meta.gid(),
            })
        } else {
            None
        };
        let bin = pg_bin(version.as_deref());
        let port = free_port();
        let replica = Self {
            dir: fresh_dir("replica", port, 0o700),
            bin,
            user,
            url: format!(
                "postgres://postgres@127.0.0.1:{port}/{}",
                url_database(&primary.url)
            ),
        };
        if let Some(user) = user {
            user.own(&replica.dir);
        }
        replica.run(
            "pg_basebackup",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &primary.port.to_string(),
                "-U",
                "postgres",
                "-D",
                &replica.data().display().to_string(),
                "-R",
                "-X",
                "stream",
                // The default "spread" checkpoint makes the copy wait for minutes.
                "--checkpoint=fast",
                "--no-sync",
            ],
        );
        replica.start_server();
        replica
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn log(&self) -> PathBuf {
        self.dir.join("postgresql.log")
    }

    fn port(&self) -> u16 {
        url_port(&self.url)
    }

    /// One of PostgreSQL's programs, as the server's user, from `/`.
    fn pg(&self, program: &str) -> Command {
        let mut cmd = Command::new(self.bin.join(program));
        cmd.current_dir("/").stdin(Stdio::null());
        OsUser::apply(self.user, &mut cmd);
        cmd
    }

    fn run(&self, program: &str, args: &[&str]) -> Output {
        let out = self
            .pg(program)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
        assert!(
            out.status.success(),
            "{program} {args:?} failed ({}):\n{}{}\nlast lines of {}:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.log().display(),
            tail(&self.log()),
        );
        out
    }

    fn start_server(&self) {
        let options = format!(
            "-p {} -h 127.0.0.1 -k '{}'",
            self.port(),
            self.dir.display()
        );
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data().display().to_string(),
                "-l",
                &self.log().display().to_string(),
                "-o",
                &options,
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
        wait_until("the replica accepting connections in recovery", || {
            try_psql(&self.url, "select pg_is_in_recovery()").is_ok_and(|r| r == "t")
        });
    }

    /// Runs `sql` on the replica (see [`psql`]).
    pub fn psql(&self, sql: &str) -> String {
        psql(&self.url, sql)
    }

    /// Pauses WAL replay (`pg_wal_replay_pause()`); returns once it is paused. WAL keeps
    /// arriving ([`Replica::receive_lsn`] moves on), [`Replica::replay_lsn`] stays.
    pub fn pause_replay(&self) {
        self.psql("select pg_wal_replay_pause()");
        wait_until("replay paused", || {
            self.psql("select pg_get_wal_replay_pause_state()") == "paused"
        });
    }

    /// Resumes WAL replay (`pg_wal_replay_resume()`).
    pub fn resume_replay(&self) {
        self.psql("select pg_wal_replay_resume()");
    }

    /// The last WAL position replayed (`pg_last_wal_replay_lsn()`), e.g. `0/3016000`.
    pub fn replay_lsn(&self) -> String {
        self.psql("select pg_last_wal_replay_lsn()")
    }

    /// The last WAL position received and flushed (`pg_last_wal_receive_lsn()`).
    pub fn receive_lsn(&self) -> String {
        self.psql("select pg_last_wal_receive_lsn()")
    }

    /// Waits until WAL up to `lsn` has been received (whether replayed or not).
    pub fn wait_received(&self, lsn: &str) {
        wait_until(&format!("the replica receiving {lsn}"), || {
            self.psql(&format!("select pg_last_wal_receive_lsn() >= '{lsn}'")) == "t"
        });
    }

    /// Waits until WAL up to `lsn` has been replayed (its changes are visible).
    pub fn wait_replayed(&self, lsn: &str) {
        wait_until(&format!("the replica replaying {lsn}"), || {
            self.psql(&format!("select pg_last_wal_replay_lsn() >= '{lsn}'")) == "t"
        });
    }

    /// Waits until everything the primary has written so far is replayed here.
    pub fn catch_up(&self, primary: &PrivatePostgres) {
        self.wait_replayed(&current_lsn(&primary.url));
    }

    /// Immediate shutdown (`pg_ctl stop -m immediate`): no checkpoint, as in a crash.
    pub fn crash(&self) {
        let data = self.data().display().to_string();
        self.run("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]);
    }

    /// Starts it again after [`Replica::crash`]; returns once it accepts connections.
    pub fn resume(&self) {
        self.start_server();
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        if self.data().join("postmaster.pid").exists() {
            let _ = self
                .pg("pg_ctl")
                .arg("-D")
                .arg(self.data())
                .args(["-m", "immediate", "-w", "-t", "60", "stop"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

// ---------------------------------------------------------------------------------------
// PgBouncer

/// `/usr/sbin/pgbouncer` with trust authentication in front of every database of one
/// upstream server, in transaction pooling mode unless started with another. Killed (by
/// pid) and its files deleted when dropped.
///
/// Transaction pooling: a session's `SET`s, advisory locks, `LISTEN` and (PgBouncer 1.18,
/// no `max_prepared_statements`) named prepared statements do not survive its transaction.
/// tokio-postgres' `query` prepares a named statement, then executes it in a second
/// exchange, so use `simple_query` (or `query_typed`) through it; diesel-async prepares
/// named statements too, so the service fails through it ("prepared statement \"s28\" does
/// not exist"): use `start_with(port, "session")` for the service. The startup parameters
/// `extra_float_digits` (sent by JDBC, asyncpg) and `options` (`PGOPTIONS`, `?options=`)
/// are accepted and dropped: `options` set through it are silently not applied.
#[derive(Debug)]
pub struct PgBouncer {
    child: Child,
    dir: PathBuf,
    pub port: u16,
}

impl PgBouncer {
    /// Starts it on a free port in front of the server on `127.0.0.1:upstream_port`, in
    /// transaction pooling mode; returns once it accepts connections.
    pub fn start(upstream_port: u16) -> Self {
        Self::start_with(upstream_port, "transaction")
    }

    /// As [`PgBouncer::start`] with another `pool_mode` (`session`, `transaction`,
    /// `statement`).
    pub fn start_with(upstream_port: u16, pool_mode: &str) -> Self {
        // PgBouncer refuses to run as root.
        let user = db_sh_user();
        let port = free_port();
        let dir = fresh_dir("pgbouncer", port, 0o755);
        let auth_file = dir.join("userlist.txt");
        write_file(&auth_file, "\"postgres\" \"\"\n");
        let ini = dir.join("pgbouncer.ini");
        write_file(
            &ini,
            &format!(
                "[databases]\n\
                 * = host=127.0.0.1 port={upstream_port}\n\
                 \n\
                 [pgbouncer]\n\
                 listen_addr = 127.0.0.1\n\
                 listen_port = {port}\n\
                 unix_socket_dir =\n\
                 auth_type = trust\n\
                 auth_file = {auth_file}\n\
                 pool_mode = {pool_mode}\n\
                 max_client_conn = 500\n\
                 default_pool_size = 20\n\
                 ignore_startup_parameters = extra_float_digits,options\n\
                 server_login_retry = 1\n",
                auth_file = auth_file.display(),
            ),
        );
        let log_path = dir.join("pgbouncer.log");
        let log = fs::File::create(&log_path).unwrap();
        let mut cmd = Command::new(PGBOUNCER);
        cmd.arg(&ini)
            .current_dir("/")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        OsUser::apply(user, &mut cmd);
        let child = cmd.spawn().unwrap_or_else(|e| {
            let _ = fs::remove_dir_all(&dir);
            panic!("cannot run {PGBOUNCER} ({e}); install it: scripts/ensure-tools.sh pgbouncer")
        });
        let mut bouncer = Self { child, dir, port };
        wait_listening(&mut bouncer.child, port, "pgbouncer", &log_path);
        bouncer
    }

    /// `database_url` with its host and port replaced by this PgBouncer's.
    pub fn url_for(&self, database_url: &str) -> String {
        with_host_port(database_url, &format!("127.0.0.1:{}", self.port))
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        stop_child(&mut self.child);
        let _ = fs::remove_dir_all(&self.dir);
    }
}

// ---------------------------------------------------------------------------------------
// HAProxy

/// The name of backend `i` in HAProxy's configuration, its stats and the `X-Served-By`
/// header it adds to each answer.
pub fn haproxy_server_name(i: usize) -> String {
    format!("s{i}")
}

/// `/usr/sbin/haproxy` balancing HTTP round robin over services, with health checks on
/// `GET /health` every 500 ms (down after 2 failures, up after 1 success) and a request
/// whose connection is refused retried (twice) on another backend. A request already in
/// flight on a backend that dies still fails. Each answer says which backend served it in
/// `X-Served-By` (`s0`, `s1`, ... in the order given). Killed (by pid) when dropped.
#[derive(Debug)]
pub struct HaProxy {
    child: Child,
    dir: PathBuf,
    /// `http://127.0.0.1:PORT`
    pub base: String,
}

impl HaProxy {
    /// Balances over `services` and waits until it sees every one of them up.
    pub fn in_front_of(services: &[super::Service]) -> Self {
        let backends: Vec<String> = services
            .iter()
            .map(|s| s.base.trim_start_matches("http://").to_owned())
            .collect();
        let haproxy = Self::start(&backends);
        haproxy.ready(services.len());
        haproxy
    }

    /// Starts it in front of `backends` (`"127.0.0.1:PORT"` each); returns once it listens,
    /// which may be before its first health checks: see [`HaProxy::ready`].
    pub fn start(backends: &[String]) -> Self {
        let port = free_port();
        let dir = fresh_dir("haproxy", port, 0o755);
        let socket = dir.join("haproxy.sock");
        let servers: String = backends
            .iter()
            .enumerate()
            .map(|(i, b)| format!("    server {} {b} check\n", haproxy_server_name(i)))
            .collect();
        let cfg = dir.join("haproxy.cfg");
        write_file(
            &cfg,
            &format!(
                "global\n\
                 \x20   maxconn 1000\n\
                 \x20   stats socket {socket} mode 600 level admin\n\
                 \n\
                 defaults\n\
                 \x20   mode http\n\
                 \x20   timeout connect 1s\n\
                 \x20   timeout client 30s\n\
                 \x20   timeout server 30s\n\
                 \x20   retries 2\n\
                 \x20   option redispatch\n\
                 \n\
                 frontend services_in\n\
                 \x20   bind 127.0.0.1:{port}\n\
                 \x20   default_backend services\n\
                 \n\
                 backend services\n\
                 \x20   balance roundrobin\n\
                 \x20   option httpchk GET /health\n\
                 \x20   default-server inter 500ms fall 2 rise 1\n\
                 \x20   http-response set-header X-Served-By %s\n\
                 {servers}",
                socket = socket.display(),
            ),
        );
        let log_path = dir.join("haproxy.log");
        let log = fs::File::create(&log_path).unwrap();
        let child = Command::new(HAPROXY)
            .arg("-f")
            .arg(&cfg)
            .arg("-db")
            .current_dir("/")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                let _ = fs::remove_dir_all(&dir);
                panic!("cannot run {HAPROXY} ({e}); install it: scripts/ensure-tools.sh haproxy")
            });
        let mut proxy = Self {
            child,
            dir,
            base: format!("http://127.0.0.1:{port}"),
        };
        wait_listening(&mut proxy.child, port, "haproxy", &log_path);
        wait_until("haproxy's stats socket", || {
            UnixStream::connect(&socket).is_ok()
        });
        proxy
    }

    /// Each backend as HAProxy sees it now (from `show stat` on its stats socket).
    pub fn backends(&self) -> Vec<Backend> {
        let csv = self.stats_csv();
        let mut lines = csv.lines();
        let header: Vec<&str> = lines
            .next()
            .unwrap_or_default()
            .trim_start_matches("# ")
            .split(',')
            .collect();
        let column = |name: &str| {
            header
                .iter()
                .position(|c| *c == name)
                .unwrap_or_else(|| panic!("no column {name} in haproxy's stats: {csv}"))
        };
        let (px, sv, status, check) = (
            column("pxname"),
            column("svname"),
            column("status"),
            column("check_status"),
        );
        lines
            .map(|line| line.split(',').collect::<Vec<_>>())
            .filter(|row| {
                row.get(px) == Some(&"services")
                    && !matches!(row.get(sv), Some(&"FRONTEND" | &"BACKEND") | None)
            })
            .map(|row| {
                let field = |i: usize| row.get(i).copied().unwrap_or_default().to_owned();
                Backend {
                    name: field(sv),
                    status: field(status),
                    check_status: field(check),
                }
            })
            .collect()
    }

    /// Waits until at least `n` backends are [up](Backend::is_up); panics after a minute.
    pub fn ready(&self, n: usize) {
        wait_until(&format!("haproxy seeing {n} backends up"), || {
            self.backends().iter().filter(|b| b.is_up()).count() >= n
        });
    }

    /// Waits until all but at most `n` backends are [down](Backend::is_down), taken out of
    /// the rotation by their failed health checks; panics after a minute.
    pub fn down_to(&self, n: usize) {
        wait_until(&format!("haproxy taking out all but {n} backends"), || {
            self.backends().iter().filter(|b| !b.is_down()).count() <= n
        });
    }

    /// `show stat` on its stats socket: CSV, a header line first.
    fn stats_csv(&self) -> String {
        let mut socket =
            UnixStream::connect(self.dir.join("haproxy.sock")).expect("haproxy's stats socket");
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        socket.write_all(b"show stat\n").unwrap();
        let mut csv = String::new();
        socket.read_to_string(&mut csv).unwrap();
        csv
    }
}

/// One backend server in HAProxy's statistics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Backend {
    /// `s0`, `s1`, ...: see [`haproxy_server_name`].
    pub name: String,
    /// `UP`, `UP 1/2` (up, failing checks), `DOWN`, `DOWN 1/1` (down, passing checks), ...
    pub status: String,
    /// The last health check: `L7OK` (passed), `L4CON` (refused), `INI` (none yet), ...
    pub check_status: String,
}

impl Backend {
    /// Up, and its last health check passed: a server is `UP` from the start, before any
    /// check, so `UP` alone does not tell that it answers.
    pub fn is_up(&self) -> bool {
        self.status == "UP" && self.check_status == "L7OK"
    }

    /// Out of the rotation (down or in maintenance).
    pub fn is_down(&self) -> bool {
        self.status.starts_with("DOWN") || self.status.starts_with("MAINT")
    }
}

impl Drop for HaProxy {
    fn drop(&mut self) {
        stop_child(&mut self.child);
        let _ = fs::remove_dir_all(&self.dir);
    }
}
