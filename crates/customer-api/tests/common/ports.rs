//! Ports for the servers a test starts (PostgreSQL, replicas, PgBouncer, HAProxy, the
//! service), chosen as `scripts/ports.sh` chooses them: outside the kernel's ephemeral
//! range. A port in that range that is free when checked can be taken a moment later as
//! the local port of any outgoing connection on the machine, and the server then cannot
//! start; outside it only a listener can take it, and the check sees listeners.
//!
//! A server a test stops and starts again on its port (a crashed replica) does not listen
//! in between: each port handed out is also reserved, as `scripts/ports.sh` does, by a file
//! in its directory of reservations naming the owner, here `/proc/<pid>` of the test
//! process, so that the reservation goes stale when the process does. Ports reserved by a
//! live owner, a test's or a script's (such as a stopped PostgreSQL of `scripts/db.sh`), are
//! never handed out.

use std::collections::BTreeSet;
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// Linux's default, when `/proc` does not tell.
const DEFAULT_EPHEMERAL: (u16, u16) = (32768, 60999);

/// The kernel's ephemeral port range, from `/proc/sys/net/ipv4/ip_local_port_range`.
pub fn ephemeral_range() -> (u16, u16) {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|text| {
            let mut bounds = text.split_whitespace().map(str::parse::<u16>);
            Some((bounds.next()?.ok()?, bounds.next()?.ok()?))
        })
        .unwrap_or(DEFAULT_EPHEMERAL)
}

/// The ports to choose from: the larger gap around the ephemeral range, above 10000 (below
/// that lie the well-known servers' ports).
fn candidates((low, high): (u16, u16)) -> std::ops::RangeInclusive<u16> {
    let below = low.saturating_sub(10_000);
    let above = u16::MAX - high;
    if below >= above {
        10_000..=low - 1
    } else {
        high + 1..=u16::MAX
    }
}

/// Where reservations are kept: `scripts/ports.sh`'s `PORTS_DIR`.
pub fn reservations() -> PathBuf {
    std::env::var_os("CUSTOMER_API_PORTS_DIR")
        .map_or_else(|| PathBuf::from("/tmp/customer-api-ports"), PathBuf::from)
}

/// Reserves `port` for this process; `false` when a live owner holds it.
fn reserve(dir: &Path, port: u16) -> bool {
    let owner = format!("/proc/{}", std::process::id());
    let file = dir.join(port.to_string());
    for _ in 0..2 {
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&file)
        {
            Ok(mut f) => return writeln!(f, "{owner}").is_ok(),
            Err(_) => {
                let holder = std::fs::read_to_string(&file).unwrap_or_default();
                let holder = holder.trim();
                if holder == owner {
                    return true;
                }
                if !holder.is_empty() && Path::new(holder).exists() {
                    return false;
                }
                // Stale: its owner is gone.
                let _ = std::fs::remove_file(&file);
            }
        }
    }
    false
}

/// A port outside the ephemeral range that nobody could bind a moment ago, that no live
/// owner has reserved and that this process has not handed out before, reserved for this
/// process; the search starts at a random place, so that the tests running at the same
/// time in other processes rarely meet.
pub fn free_port() -> u16 {
    static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    let range = candidates(ephemeral_range());
    let (first, span) = (*range.start(), u32::from(range.end() - range.start()) + 1);
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |t| t.subsec_nanos())
        ^ std::process::id().rotate_left(16);
    let dir = reservations();
    if std::fs::create_dir_all(&dir).is_ok() {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o1777));
    }
    let mut handed_out = HANDED_OUT.lock().unwrap();
    (0..span)
        .map(|i| first + u16::try_from((seed + i) % span).unwrap())
        .find(|&port| {
            !handed_out.contains(&port)
                && TcpListener::bind(("127.0.0.1", port)).is_ok()
                && reserve(&dir, port)
        })
        .inspect(|&port| {
            handed_out.insert(port);
        })
        .expect("no free port outside the ephemeral range")
}

#[test]
fn ports_handed_out_lie_outside_the_ephemeral_range_and_differ() {
    let (low, high) = ephemeral_range();
    let ports: BTreeSet<u16> = (0..50).map(|_| free_port()).collect();
    assert_eq!(ports.len(), 50);
    assert!(
        ports
            .iter()
            .all(|&p| p >= 10_000 && !(low..=high).contains(&p)),
        "{ports:?}"
    );
}

#[test]
fn a_port_reserved_by_a_live_owner_is_not_handed_out_and_a_stale_one_is_taken_over() {
    let dir = std::env::temp_dir().join(format!("customer-api-ports-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("20001"), "/\n").unwrap();
    std::fs::write(dir.join("20002"), "/nonexistent/owner\n").unwrap();
    assert!(!reserve(&dir, 20001), "held by a live owner");
    assert!(reserve(&dir, 20002), "a stale reservation is taken over");
    assert!(reserve(&dir, 20002), "and is ours now");
    assert!(reserve(&dir, 20003), "a free one");
    let ours = format!("/proc/{}", std::process::id());
    assert_eq!(
        std::fs::read_to_string(dir.join("20003")).unwrap().trim(),
        ours
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_larger_gap_around_the_range_is_chosen() {
    assert_eq!(candidates((32768, 60999)), 10_000..=32767);
    assert_eq!(candidates((12000, 60999)), 61000..=u16::MAX);
}
