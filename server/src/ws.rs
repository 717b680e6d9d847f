//! The WebSocket adapter: moves frames between one socket and its room. Only this module
//! touches WebSocket frames. It is generic over `Sink`/`Stream`, so it can be tested with
//! plain channels.
//!
//! The connection task stops when the peer closes, when the room drops or kicks it, or on
//! shutdown; in every case it tells the room it left, and unless the peer is already gone
//! it sends a close frame with a code from `hindsight_shared::close`. It also counts the
//! connection and its bytes for `/metrics`; the tracing span around it (board,
//! connection id) is opened by `app.rs`.

use axum::extract::ws::{CloseFrame, Message};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use hindsight_shared::close;
use tokio_util::sync::CancellationToken;

use crate::limits::TokenBucket;
use crate::rooms::{Membership, Outgoing};
use crate::stats::{self, ErrorKind};

/// Serves one joined connection until it ends.
pub async fn serve<S, R, E>(
    mut sink: S,
    mut stream: R,
    mut member: Membership,
    mut rate: TokenBucket,
    shutdown: CancellationToken,
) where
    S: Sink<Message> + Unpin,
    R: Stream<Item = Result<Message, E>> + Unpin,
{
    tracing::info!("connected");
    let counted = Counted::connection();
    let (code, reason) = run(&mut sink, &mut stream, &mut member, &mut rate, &shutdown).await;
    drop(counted);
    member.leave().await;
    match code {
        // The peer closed or vanished; there is nobody left to tell.
        None => tracing::info!("disconnected"),
        Some(code) => {
            tracing::info!(code, reason, "closing");
            close_with(&mut sink, &mut stream, code, reason).await;
        }
    }
}

/// One open connection in the connections gauge. A guard, so the gauge stays right even
/// if the task is dropped mid-way (a runtime shutting down); owned by `serve`.
struct Counted;

impl Counted {
    fn connection() -> Counted {
        metrics::gauge!(stats::CONNECTIONS).increment(1.0);
        Counted
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        metrics::gauge!(stats::CONNECTIONS).decrement(1.0);
    }
}

/// Moves frames until the connection should end; returns the close code and reason to
/// send, or `None` when the peer already went away.
async fn run<S, R, E>(
    sink: &mut S,
    stream: &mut R,
    member: &mut Membership,
    rate: &mut TokenBucket,
    shutdown: &CancellationToken,
) -> (Option<u16>, &'static str)
where
    S: Sink<Message> + Unpin,
    R: Stream<Item = Result<Message, E>> + Unpin,
{
    let (code, reason): (u16, &str) = loop {
        tokio::select! {
            _ = shutdown.cancelled() => break (close::GOING_AWAY, "server shutting down"),
            _ = member.kicked.cancelled() => break (close::TOO_SLOW, "too slow"),
            out = member.outbox.recv() => match out {
                Some(Outgoing::Frame(frame)) => {
                    metrics::counter!(stats::BYTES_OUT).increment(frame.len() as u64);
                    // A peer that stops reading must not hold this task forever.
                    let sent = tokio::select! {
                        r = sink.send(Message::Binary(frame)) => r.is_ok(),
                        _ = member.kicked.cancelled() => false,
                        _ = shutdown.cancelled() => false,
                    };
                    if !sent {
                        break (close::TOO_SLOW, "too slow");
                    }
                }
                Some(Outgoing::Close(code, reason)) => break (code, reason),
                None => break (close::GOING_AWAY, "room closed"),
            },
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Binary(frame))) => {
                    metrics::counter!(stats::BYTES_IN).increment(frame.len() as u64);
                    // Checked before the room sees it: a flood costs the room nothing.
                    if !rate.take() {
                        stats::error(ErrorKind::Limit);
                        break (close::RATE_LIMITED, "too many messages");
                    }
                    if member.send(frame).await.is_err() {
                        break (close::GOING_AWAY, "room closed");
                    }
                }
                Some(Ok(Message::Text(_))) => {
                    stats::error(ErrorKind::Protocol);
                    break (close::UNSUPPORTED_DATA, "binary frames only");
                }
                // Pings are answered by the WebSocket layer itself.
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return (None, "peer left"),
            },
        }
    };
    (Some(code), reason)
}

/// Closes the socket with a code and reason, giving up quickly on a peer that does not
/// cooperate.
///
/// After sending the close frame it reads until the peer's close reply: dropping a socket
/// whose peer has sent frames we never read makes the kernel reset the connection, and
/// the peer would then see an abnormal closure (1006) instead of our code.
pub async fn close_with<S, R, E>(sink: &mut S, stream: &mut R, code: u16, reason: &str)
where
    S: Sink<Message> + Unpin,
    R: Stream<Item = Result<Message, E>> + Unpin,
{
    let frame = Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }));
    let _ = tokio::time::timeout(CLOSE_GRACE, async {
        if sink.send(frame).await.is_ok() {
            while let Some(Ok(msg)) = stream.next().await {
                if matches!(msg, Message::Close(_)) {
                    break;
                }
            }
        }
        let _ = sink.close().await;
    })
    .await;
}

/// How long a closing handshake may take before the socket is simply dropped.
const CLOSE_GRACE: std::time::Duration = std::time::Duration::from_secs(2);
