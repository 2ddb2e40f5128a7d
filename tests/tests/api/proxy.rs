//! A TCP proxy between the service and PostgreSQL that can cut a write's answer at the one
//! moment that matters for durability: after the statement's rows and `CommandComplete`,
//! before `ReadyForQuery` (which PostgreSQL sends once the implicit transaction committed).
//!
//! It forwards the client's bytes unchanged and the server's message by message (every
//! server message is a type byte and a length; the service never asks for TLS). When armed,
//! the first `CommandComplete` of an `INSERT`, `UPDATE` or `DELETE` is forwarded and then
//! both sockets are closed, so the client sees the write's result but never its end.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A running proxy; stops accepting when dropped (open connections end with their peers).
pub struct CuttingProxy {
    pub port: u16,
    armed: Arc<AtomicBool>,
    cuts: Arc<AtomicUsize>,
    accept: tokio::task::JoinHandle<()>,
}

impl CuttingProxy {
    /// Listens on an ephemeral port of 127.0.0.1 and forwards to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let armed = Arc::new(AtomicBool::new(false));
        let cuts = Arc::new(AtomicUsize::new(0));
        let accept = tokio::spawn({
            let (armed, cuts) = (armed.clone(), cuts.clone());
            async move {
                while let Ok((client, _)) = listener.accept().await {
                    let (armed, cuts) = (armed.clone(), cuts.clone());
                    tokio::spawn(async move {
                        if let Ok(server) = TcpStream::connect(upstream).await {
                            relay(client, server, &armed, &cuts).await;
                        }
                    });
                }
            }
        });
        Self {
            port,
            armed,
            cuts,
            accept,
        }
    }

    /// The next write's answer, on whichever connection, is cut before `ReadyForQuery`.
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

async fn relay(client: TcpStream, server: TcpStream, armed: &AtomicBool, cuts: &AtomicUsize) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let upstream = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
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
            let cut = message[0] == b'C'
                && is_write_tag(&message[5..])
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
