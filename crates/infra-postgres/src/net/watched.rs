//! [`Watched`]: a stream to PostgreSQL that fails when the server owes an answer and stays
//! silent too long. It reads the protocol's framing of both directions (every message but
//! the client's first is a type byte and a length that counts itself) to know when an
//! answer is owed, and never changes a byte.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

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
