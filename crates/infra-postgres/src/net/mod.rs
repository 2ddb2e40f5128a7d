//! Opening connections, with a bound on every wait the network can impose.
//!
//! `statement_timeout` is enforced by the server: across a silent network partition (packets
//! dropped, no reset: a firewall, a dead switch, a frozen VM) the server sees nothing, the
//! cancel request travels the same dead path, and a query in flight would wait until the
//! kernel gives up, about 15 minutes. So every connection this crate opens is watched by
//! the client too:
//!
//! - **A deadline on every round trip** (`watched`): while the server owes an answer (a
//!   query, a sync or the start-up was sent and its `ReadyForQuery` has not come), it must
//!   send something within the round-trip bound, else the connection fails. Every request
//!   waiting on it then fails as unavailable (503), and the pool never hands it out again
//!   (a closed connection is broken, see `crate::pool`). The bound is the statement timeout
//!   plus a margin, so a statement the server would cancel is cancelled by the server first.
//! - **TCP keepalives**, so that a connection idle in the pool whose peer is gone is found
//!   and dropped without a request paying for it, and **`TCP_USER_TIMEOUT`** at the same
//!   bound, so that data the peer never acknowledges fails the connection as well.
//! - **A connect timeout** on each address tried.
//!
//! Hosts are tried in the order the URL gives them, as libpq does; a Unix socket path is a
//! host too. TLS is not offered (`sslmode=require` fails, as it always did here).

mod watched;

use std::io;
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use diesel::ConnectionError;
use socket2::{SockRef, TcpKeepalive};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpStream, UnixStream};
use tokio_postgres::config::Host;
use tokio_postgres::{Client, Config, NoTls};
use watched::Watched;

/// How long the network may keep this process waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetBounds {
    /// Longest one address may take to accept a connection.
    pub connect: Duration,
    /// Longest the server may stay silent while it owes an answer.
    pub round_trip: Duration,
    /// Idle time before the first keepalive probe; three unanswered probes, a third of this
    /// apart, drop the connection.
    pub keepalive_idle: Duration,
}

/// Opens a client to `url` as `application_name` (unless the URL names one), watched by
/// `bounds`, with its connection driven by a task of its own; the first step of every
/// connection this crate makes.
pub(crate) async fn open_client(
    url: &str,
    application_name: &str,
    bounds: NetBounds,
) -> Result<Client, ConnectionError> {
    let mut config: Config = url
        .parse()
        .map_err(|e: tokio_postgres::Error| ConnectionError::InvalidConnectionUrl(e.to_string()))?;
    if config.get_application_name().is_none() {
        config.application_name(application_name);
    }
    let socket = open_socket(&config, bounds)
        .await
        .map_err(|e| ConnectionError::BadConnection(format!("cannot connect: {e}")))?;
    let (client, connection) = config
        .connect_raw(Watched::new(socket, bounds.round_trip), NoTls)
        .await
        .map_err(|e| ConnectionError::BadConnection(e.to_string()))?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::debug!(%error, "database connection ended");
        }
    });
    Ok(client)
}

/// The first of the URL's addresses that accepts a connection within the bound.
async fn open_socket(config: &Config, bounds: NetBounds) -> io::Result<Socket> {
    let hosts = config.get_hosts();
    let addrs = config.get_hostaddrs();
    let ports = config.get_ports();
    let mut last = io::Error::new(io::ErrorKind::InvalidInput, "the URL names no host");
    for i in 0..hosts.len().max(addrs.len()) {
        let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
        let attempt = match (addrs.get(i), hosts.get(i)) {
            (Some(ip), _) => tcp(&ip.to_string(), port, bounds).await,
            (None, Some(Host::Tcp(name))) => tcp(name, port, bounds).await,
            (None, Some(Host::Unix(dir))) => unix(dir, port, bounds.connect).await,
            (None, None) => continue,
        };
        match attempt {
            Ok(socket) => return Ok(socket),
            Err(error) => last = error,
        }
    }
    Err(last)
}

async fn tcp(host: &str, port: u16, bounds: NetBounds) -> io::Result<Socket> {
    let stream = within(bounds.connect, TcpStream::connect((host, port))).await?;
    stream.set_nodelay(true)?;
    let socket = SockRef::from(&stream);
    socket.set_tcp_keepalive(
        &TcpKeepalive::new()
            .with_time(bounds.keepalive_idle)
            .with_interval((bounds.keepalive_idle / 3).max(Duration::from_secs(1)))
            .with_retries(3),
    )?;
    socket.set_tcp_user_timeout(Some(bounds.round_trip))?;
    Ok(Socket::Tcp(stream))
}

async fn unix(dir: &Path, port: u16, bound: Duration) -> io::Result<Socket> {
    let path = dir.join(format!(".s.PGSQL.{port}"));
    Ok(Socket::Unix(
        within(bound, UnixStream::connect(path)).await?,
    ))
}

async fn within<T>(bound: Duration, work: impl Future<Output = io::Result<T>>) -> io::Result<T> {
    tokio::time::timeout(bound, work).await.unwrap_or_else(|_| {
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("no connection within {bound:?}"),
        ))
    })
}

/// A TCP or Unix socket.
#[derive(Debug)]
pub(crate) enum Socket {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl AsyncRead for Socket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Self::Unix(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Socket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Self::Unix(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(s) => Pin::new(s).poll_flush(cx),
            Self::Unix(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Self::Unix(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}
