//! A TCP proxy between the service and PostgreSQL that can cut a write's answer at the one
//! moment that matters for durability: after the statement's rows and `CommandComplete`,
//! before `ReadyForQuery` (which PostgreSQL sends once the implicit transaction committed).
//!
//! It forwards the client's bytes unchanged and the server's message by message (every
//! server message is a type byte and a length; the service never asks for TLS). When armed,
//! the first `CommandComplete` of an `INSERT`, `UPDATE` or `DELETE` on a connection that
//! serves requests is forwarded and then both sockets are closed, so the client sees the
//! write's result but never its end. A connection serves requests when its startup message
//! names the service's [`APPLICATION_NAME`]: a background job's (a purge at start-up) is
//! never cut, whenever its write lands.
//!
//! [`CuttingProxy::reading_queries`] also reads the client's messages; after
//! [`CuttingProxy::hold_rollbacks`] it holds each `ROLLBACK` back for a while before
//! forwarding it: a transaction the service abandons then keeps its locks that long, as it
//! could on a busy server or behind a pooler.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use customer_api::startup::APPLICATION_NAME;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};

/// A running proxy; stops accepting when dropped (open connections end with their peers).
pub struct CuttingProxy {
    pub port: u16,
    armed: Arc<AtomicBool>,
    cuts: Arc<AtomicUsize>,
    passed: Arc<AtomicUsize>,
    holding: Arc<Holding>,
    accept: tokio::task::JoinHandle<()>,
}

/// How long the client's `ROLLBACK`s are held back (0: not at all), and how many were.
#[derive(Default)]
struct Holding {
    millis: AtomicU64,
    held: AtomicUsize,
}

impl CuttingProxy {
    /// Listens on an ephemeral port of 127.0.0.1 and forwards to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Self {
        Self::listen(upstream, false).await
    }

    /// As [`CuttingProxy::start`], reading the client's messages too, so that
    /// [`CuttingProxy::hold_rollbacks`] can hold them back.
    pub async fn reading_queries(upstream: SocketAddr) -> Self {
        Self::listen(upstream, true).await
    }

    async fn listen(upstream: SocketAddr, reading: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let armed = Arc::new(AtomicBool::new(false));
        let cuts = Arc::new(AtomicUsize::new(0));
        let passed = Arc::new(AtomicUsize::new(0));
        let holding = Arc::new(Holding::default());
        let accept = tokio::spawn({
            let (armed, cuts, holding) = (armed.clone(), cuts.clone(), holding.clone());
            let passed = passed.clone();
            async move {
                while let Ok((client, _)) = listener.accept().await {
                    let (armed, cuts) = (armed.clone(), cuts.clone());
                    let passed = passed.clone();
                    let holding = reading.then(|| holding.clone());
                    tokio::spawn(async move {
                        if let Ok(server) = TcpStream::connect(upstream).await {
                            // Messages are forwarded one by one: without this, each small
                            // write after the first waits for the peer's delayed ACK.
                            let _ = (client.set_nodelay(true), server.set_nodelay(true));
                            relay(client, server, &armed, &cuts, &passed, holding).await;
                        }
                    });
                }
            }
        });
        Self {
            port,
            armed,
            cuts,
            passed,
            holding,
            accept,
        }
    }

    /// From now on every `ROLLBACK` (a simple query) reaches the server `delay` late; only
    /// for a proxy [`CuttingProxy::reading_queries`].
    pub fn hold_rollbacks(&self, delay: Duration) {
        let millis = u64::try_from(delay.as_millis()).unwrap();
        self.holding.millis.store(millis, Ordering::SeqCst);
    }

    /// How many `ROLLBACK`s were held back so far.
    pub fn rollbacks_held(&self) -> usize {
        self.holding.held.load(Ordering::SeqCst)
    }

    /// The next write's answer, on whichever connection serves requests, is cut before
    /// `ReadyForQuery`.
    pub fn arm(&self) {
        self.armed.store(true, Ordering::SeqCst);
    }

    /// Whether a cut is still pending.
    pub fn is_armed(&self) -> bool {
        self.armed.load(Ordering::SeqCst)
    }

    /// How many answers were cut so far.
    pub fn cuts(&self) -> usize {
        self.cuts.load(Ordering::SeqCst)
    }

    /// How many writes of connections that serve no request (background jobs) went through.
    pub fn background_writes(&self) -> usize {
        self.passed.load(Ordering::SeqCst)
    }
}

impl Drop for CuttingProxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// The tag of a `CommandComplete` message body names a write.
fn is_write_tag(body: &[u8]) -> bool {
    [&b"INSERT "[..], b"UPDATE ", b"DELETE "]
        .iter()
        .any(|tag| body.starts_with(tag))
}

async fn relay(
    client: TcpStream,
    server: TcpStream,
    armed: &AtomicBool,
    cuts: &AtomicUsize,
    passed: &AtomicUsize,
    holding: Option<Arc<Holding>>,
) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let Some(startup) = forward_startup(&mut client_read, &mut server_write).await else {
        return;
    };
    let serves_requests = parameter(&startup, "application_name") == Some(APPLICATION_NAME);
    let upstream = tokio::spawn(async move {
        match holding {
            None => drop(tokio::io::copy(&mut client_read, &mut server_write).await),
            Some(holding) => forward_holding(&mut client_read, &mut server_write, &holding).await,
        }
    });
    let mut pending: Vec<u8> = Vec::new();
    let mut chunk = vec![0_u8; 64 * 1024];
    'relay: loop {
        let n = match server_read.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        pending.extend_from_slice(&chunk[..n]);
        // Forward every whole message; keep a partial one for the next read.
        while pending.len() >= 5 {
            let len = u32::from_be_bytes([pending[1], pending[2], pending[3], pending[4]]);
            let whole = 1 + len as usize;
            if pending.len() < whole {
                break;
            }
            let message: Vec<u8> = pending.drain(..whole).collect();
            if client_write.write_all(&message).await.is_err() {
                break 'relay;
            }
            let write = message[0] == b'C' && is_write_tag(&message[5..]);
            if write && !serves_requests {
                passed.fetch_add(1, Ordering::SeqCst);
            }
            let cut = write
                && serves_requests
                && armed
                    .compare_exchange(true, false, Ordering::SeqCst, Ordering::SeqCst)
                    .is_ok();
            if cut {
                let _ = client_write.flush().await;
                cuts.fetch_add(1, Ordering::SeqCst);
                break 'relay;
            }
        }
    }
    upstream.abort();
    // Dropping the halves closes both connections.
}

/// The protocol codes of the requests a client may send before its startup message; they,
/// and the startup message, have no type byte.
const SSL_REQUEST: u32 = 80_877_103;
const GSSENC_REQUEST: u32 = 80_877_104;

/// Forwards the client's messages up to its startup message, and returns that message's
/// body (after the protocol version): the session's parameters, each a name and a value
/// ended by NUL. `None` when the client went away first.
async fn forward_startup(from: &mut OwnedReadHalf, to: &mut OwnedWriteHalf) -> Option<Vec<u8>> {
    // Length, then the protocol code or version.
    loop {
        let len = from.read_u32().await.ok()?;
        let mut rest = vec![0_u8; (len as usize).saturating_sub(4)];
        from.read_exact(&mut rest).await.ok()?;
        let mut message = len.to_be_bytes().to_vec();
        message.extend_from_slice(&rest);
        to.write_all(&message).await.ok()?;
        let code = rest
            .get(..4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]));
        if !matches!(code, Some(SSL_REQUEST | GSSENC_REQUEST)) {
            return Some(rest.split_off(4.min(rest.len())));
        }
    }
}

/// The value of parameter `name` in a startup message's `parameters`.
fn parameter<'a>(parameters: &'a [u8], name: &str) -> Option<&'a str> {
    let mut fields = parameters.split(|&byte| byte == 0);
    while let Some(key) = fields.next() {
        let value = fields.next()?;
        if key == name.as_bytes() {
            return std::str::from_utf8(value).ok();
        }
    }
    None
}

/// Forwards the client's messages after its startup message one by one, each `ROLLBACK` (a
/// simple query) as late as `holding` says.
async fn forward_holding(from: &mut OwnedReadHalf, to: &mut OwnedWriteHalf, holding: &Holding) {
    // A type byte and a length each.
    loop {
        let Ok(kind) = from.read_u8().await else {
            return;
        };
        let Ok(len) = from.read_u32().await else {
            return;
        };
        let mut body = vec![0_u8; (len as usize).saturating_sub(4)];
        if from.read_exact(&mut body).await.is_err() {
            return;
        }
        let delay = holding.millis.load(Ordering::SeqCst);
        let text = String::from_utf8_lossy(&body);
        if delay > 0
            && kind == b'Q'
            && text
                .trim_start()
                .to_ascii_uppercase()
                .starts_with("ROLLBACK")
        {
            holding.held.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        let mut message = vec![kind];
        message.extend_from_slice(&len.to_be_bytes());
        message.extend_from_slice(&body);
        if to.write_all(&message).await.is_err() {
            return;
        }
    }
}
