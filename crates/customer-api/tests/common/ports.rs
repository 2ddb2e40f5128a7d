//! Ports for the servers a test starts (PostgreSQL, replicas, PgBouncer, HAProxy, the
//! service), chosen as `scripts/ports.sh` chooses them: outside the kernel's ephemeral
//! range. A port in that range that is free when checked can be taken a moment later as
//! the local port of any outgoing connection on the machine, and the server then cannot
//! start; outside it only a listener can take it, and the check sees listeners.

use std::collections::BTreeSet;
use std::net::TcpListener;
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

/// A port outside the ephemeral range that nobody could bind a moment ago and that this
/// process has not handed out before, starting at a random place, so that the tests
/// running at the same time in other processes rarely meet.
pub fn free_port() -> u16 {
    static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    let range = candidates(ephemeral_range());
    let (first, span) = (*range.start(), u32::from(range.end() - range.start()) + 1);
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |t| t.subsec_nanos())
        ^ std::process::id().rotate_left(16);
    let mut handed_out = HANDED_OUT.lock().unwrap();
    (0..span)
        .map(|i| first + u16::try_from((seed + i) % span).unwrap())
        .find(|&port| !handed_out.contains(&port) && TcpListener::bind(("127.0.0.1", port)).is_ok())
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
fn the_larger_gap_around_the_range_is_chosen() {
    assert_eq!(candidates((32768, 60999)), 10_000..=32767);
    assert_eq!(candidates((12000, 60999)), 61000..=u16::MAX);
}
