//! A TCP proxy that can go silent and heal, as a network partition does: while silent it
//! forwards nothing in either direction (what it read is held, not dropped) and accepts new
//! connections without ever answering them; healed, it delivers what it held, an end of
//! stream included, and forwards again.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// A TCP proxy to `upstream` on a port of its own (see the module).
pub struct SilentProxy {
    /// Where it listens, on 127.0.0.1.
    pub port: u16,
    silent: watch::Sender<bool>,
    accept: tokio::task::JoinHandle<()>,
}

impl SilentProxy {
    /// Listens and forwards to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (silent, watching) = watch::channel(false);
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let watching = watching.clone();
                tokio::spawn(async move {
                    // A connection made during the partition is accepted and never answered
                    // until it heals.
                    healed(&mut watching.clone()).await;
                    let Ok(server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    let _ = client.set_nodelay(true);
                    let _ = server.set_nodelay(true);
                    let (client_read, client_write) = client.into_split();
                    let (server_read, server_write) = server.into_split();
                    tokio::join!(
                        forward(client_read, server_write, watching.clone()),
                        forward(server_read, client_write, watching),
                    );
                });
            }
        });
        Self {
            port,
            silent,
            accept,
        }
    }

    /// Stops forwarding and answering, until [`SilentProxy::heal`].
    pub fn go_silent(&self) {
        self.silent.send_replace(true);
    }

    /// Forwards again, what it held first.
    pub fn heal(&self) {
        self.silent.send_replace(false);
    }
}

impl Drop for SilentProxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// Waits until the proxy is not silent.
async fn healed(watching: &mut watch::Receiver<bool>) {
    let _ = watching.wait_for(|silent| !silent).await;
}

/// Copies `from` to `to`, holding what it read while the proxy is silent; passes the end
/// of the stream on, once healed, as a network delivers a FIN.
async fn forward(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut watching: watch::Receiver<bool>,
) {
    let mut buf = vec![0; 64 * 1024];
    loop {
        healed(&mut watching).await;
        let n = tokio::select! {
            // An error ends the stream as its end would.
            read = from.read(&mut buf) => read.unwrap_or(0),
            // Silent while waiting: stop reading, so the peer's bytes stay unread.
            _ = watching.wait_for(|silent| *silent) => continue,
        };
        healed(&mut watching).await;
        if n == 0 || to.write_all(&buf[..n]).await.is_err() {
            let _ = to.shutdown().await;
            return;
        }
    }
}
