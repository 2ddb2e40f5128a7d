//! Opening connections, with a bound on every wait the network can impose.
//!
//! `statement_timeout` is enforced by the server: across a silent network partition (packets
//! dropped, no reset: a firewall, a dead switch, a frozen VM) the server sees nothing, the
//! cancel request travels the same dead path, and a query in flight would wait until the
//! kernel gives up, about 15 minutes. So every connection this crate opens is watched by
//! the client too:
//!
//! - **A deadline on every round trip** ([`Watched`]): while the server owes an answer (a
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

use std::io;
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use diesel::ConnectionError;
use socket2::{SockRef, TcpKeepalive};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpStream, UnixStream};
use tokio::time::{Instant, Sleep};
use tokio_postgres::config::Host;
use tokio_postgres::{Client, Config, NoTls};

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

/// Opens a client to `url`, watched by `bounds`, with its connection driven by a task of its
/// own; the first step of every connection this crate makes.
pub(crate) async fn open_client(url: &str, bounds: NetBounds) -> Result<Client, ConnectionError> {
    let config: Config = url
        .parse()
        .map_err(|e: tokio_postgres::Error| ConnectionError::InvalidConnectionUrl(e.to_string()))?;
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

/// Where a reader of one direction of the protocol is: the messages are a type byte (none
/// for the client's first, the start-up message) and a length that counts itself.
#[derive(Debug)]
struct Framer {
    /// Whether the next message has a type byte.
    typed: bool,
    header: [u8; 5],
    /// Header bytes collected of the current message.
    have: usize,
    /// Body bytes of the current message still to come.
    remaining: usize,
}

impl Framer {
    fn new(typed: bool) -> Self {
        Self {
            typed,
            header: [0; 5],
            have: 0,
            remaining: 0,
        }
    }

    /// Reads `bytes` on, calling `started` with each message's type (0 for the start-up
    /// message) as its header completes.
    fn feed(&mut self, mut bytes: &[u8], mut started: impl FnMut(u8)) {
        while !bytes.is_empty() {
            if self.remaining > 0 {
                let skipped = self.remaining.min(bytes.len());
                self.remaining -= skipped;
                bytes = &bytes[skipped..];
                continue;
            }
            let size = if self.typed { 5 } else { 4 };
            let taken = (size - self.have).min(bytes.len());
            self.header[self.have..self.have + taken].copy_from_slice(&bytes[..taken]);
            self.have += taken;
            bytes = &bytes[taken..];
            if self.have == size {
                let (kind, length) = if self.typed {
                    (self.header[0], &self.header[1..5])
                } else {
                    (0, &self.header[0..4])
                };
                let length = u32::from_be_bytes([length[0], length[1], length[2], length[3]]);
                self.remaining = usize::try_from(length)
                    .unwrap_or(usize::MAX)
                    .saturating_sub(4);
                self.have = 0;
                self.typed = true;
                started(kind);
            }
        }
    }
}

/// A stream to the server that fails when the server owes an answer and stays silent for
/// longer than `bound` (see the module).
///
/// The client's messages that the server answers with `ReadyForQuery` are the start-up
/// message, a simple query (`Q`), a sync (`S`) and a function call (`F`); every
/// `ReadyForQuery` (`Z`) settles one. Any byte from the server restarts the clock, so a
/// long result streaming in is never cut.
#[derive(Debug)]
pub(crate) struct Watched<S> {
    inner: S,
    bound: Duration,
    sent: Framer,
    received: Framer,
    /// Answers owed: requests sent whose `ReadyForQuery` has not come.
    owed: u64,
    silence: Pin<Box<Sleep>>,
}

impl<S> Watched<S> {
    pub(crate) fn new(inner: S, bound: Duration) -> Self {
        Self {
            inner,
            bound,
            sent: Framer::new(false),
            received: Framer::new(true),
            owed: 0,
            silence: Box::pin(tokio::time::sleep(bound)),
        }
    }

    fn restart_clock(&mut self) {
        let bound = self.bound;
        self.silence.as_mut().reset(Instant::now() + bound);
    }

    /// `Ready` with the error once the server has owed an answer for too long; else
    /// registers the task to be woken when it will have.
    fn poll_overdue(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        if self.owed == 0 || self.silence.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        Poll::Ready(io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "the database owed an answer and sent nothing for {:?}",
                self.bound
            ),
        ))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let new = &buf.filled()[before..];
                if !new.is_empty() {
                    let mut settled = 0;
                    this.received
                        .feed(new, |kind| settled += u64::from(kind == b'Z'));
                    this.owed = this.owed.saturating_sub(settled);
                    this.restart_clock();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending => this.poll_overdue(cx).map(Err),
            failed => failed,
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = written {
            let mut requests = 0;
            this.sent.feed(&buf[..n], |kind| {
                requests += u64::from(matches!(kind, 0 | b'Q' | b'S' | b'F'));
            });
            if requests > 0 {
                if this.owed == 0 {
                    this.restart_clock();
                }
                this.owed += requests;
                // The reader may not be polled again before the bound passes (nothing
                // arrives across a partition): the clock must wake this task itself.
                if let Poll::Ready(error) = this.poll_overdue(cx) {
                    return Poll::Ready(Err(error));
                }
            }
        }
        written
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

    use super::*;

    const BOUND: Duration = Duration::from_secs(5);

    fn message(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut bytes = vec![kind];
        bytes.extend(u32::try_from(body.len() + 4).unwrap().to_be_bytes());
        bytes.extend(body);
        bytes
    }

    /// A start-up message: its length, the protocol's version and one empty setting.
    fn startup() -> Vec<u8> {
        let mut bytes = 12_u32.to_be_bytes().to_vec();
        bytes.extend([0, 3, 0, 0, b'u', 0, 0, 0]);
        bytes
    }

    fn ready() -> Vec<u8> {
        message(b'Z', b"I")
    }

    /// A watched stream whose start-up was answered, and the server's end.
    async fn started() -> (Watched<DuplexStream>, DuplexStream) {
        let (client, mut server) = tokio::io::duplex(1 << 16);
        let mut watched = Watched::new(client, BOUND);
        watched.write_all(&startup()).await.unwrap();
        server.write_all(&ready()).await.unwrap();
        let mut answer = vec![0; ready().len()];
        watched.read_exact(&mut answer).await.unwrap();
        (watched, server)
    }

    /// Whether a read is still waiting after a minute.
    async fn still_waiting(watched: &mut Watched<DuplexStream>) -> bool {
        let mut byte = [0; 1];
        tokio::time::timeout(Duration::from_secs(60), watched.read(&mut byte))
            .await
            .is_err()
    }

    #[test]
    fn the_framer_finds_each_message_however_the_bytes_are_split() {
        let mut stream = startup();
        stream.extend(message(b'P', b"SELECT 1\0\0\0"));
        stream.extend(message(b'S', b""));
        stream.extend(message(b'Q', b"BEGIN\0"));
        for chunk in [1, 2, 3, 7, stream.len()] {
            let mut framer = Framer::new(false);
            let mut kinds = Vec::new();
            for piece in stream.chunks(chunk) {
                framer.feed(piece, |kind| kinds.push(kind));
            }
            assert_eq!(kinds, vec![0, b'P', b'S', b'Q'], "chunks of {chunk}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_server_that_owes_an_answer_and_stays_silent_fails_the_stream_at_the_bound() {
        let (mut watched, mut server) = started().await;
        assert!(
            still_waiting(&mut watched).await,
            "an idle connection must not fail"
        );
        // A query answered just within the bound; then the clock stops again.
        watched
            .write_all(&message(b'Q', b"SELECT 1\0"))
            .await
            .unwrap();
        tokio::time::sleep(BOUND - Duration::from_millis(1)).await;
        server.write_all(&ready()).await.unwrap();
        let mut answer = vec![0; ready().len()];
        watched.read_exact(&mut answer).await.unwrap();
        assert!(
            still_waiting(&mut watched).await,
            "a settled connection must not fail"
        );
        // A query never answered: the read fails at the bound, not before.
        watched
            .write_all(&message(b'Q', b"SELECT 2\0"))
            .await
            .unwrap();
        let started = Instant::now();
        let mut byte = [0; 1];
        let error = watched.read(&mut byte).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert_eq!(started.elapsed(), BOUND);
    }

    #[tokio::test(start_paused = true)]
    async fn a_result_streaming_in_slowly_is_never_cut() {
        let (mut watched, mut server) = started().await;
        watched
            .write_all(&message(b'Q', b"SELECT\0"))
            .await
            .unwrap();
        let row = message(b'D', &[0; 10]);
        let reader = tokio::spawn(async move {
            let mut all = Vec::new();
            let mut buf = [0; 64];
            loop {
                let n = watched.read(&mut buf).await.unwrap();
                all.extend(&buf[..n]);
                if all.ends_with(&ready()) {
                    return all.len();
                }
            }
        });
        // Each row just within the bound of the one before.
        for _ in 0..10 {
            tokio::time::sleep(BOUND - Duration::from_millis(1)).await;
            server.write_all(&row).await.unwrap();
        }
        server.write_all(&ready()).await.unwrap();
        assert_eq!(reader.await.unwrap(), 10 * row.len() + ready().len());
    }

    #[tokio::test(start_paused = true)]
    async fn the_start_up_is_watched_too() {
        let (client, _server) = tokio::io::duplex(1 << 16);
        let mut watched = Watched::new(client, BOUND);
        watched.write_all(&startup()).await.unwrap();
        let mut byte = [0; 1];
        let error = watched.read(&mut byte).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_pipelined_behind_an_answered_one_is_still_owed() {
        let (mut watched, mut server) = started().await;
        watched.write_all(&message(b'Q', b"A\0")).await.unwrap();
        watched.write_all(&message(b'Q', b"B\0")).await.unwrap();
        server.write_all(&ready()).await.unwrap();
        let mut answer = vec![0; ready().len()];
        watched.read_exact(&mut answer).await.unwrap();
        let mut byte = [0; 1];
        let error = watched.read(&mut byte).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
    }
}
