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
use bytes::Bytes;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use hindsight_shared::close;
use tokio_util::sync::CancellationToken;

use crate::limits::Rates;
use crate::rooms::{Membership, Outgoing};
use crate::stats::{self, ErrorKind};

/// Serves one joined connection until it ends.
pub async fn serve<S, R, E>(
    mut sink: S,
    mut stream: R,
    mut member: Membership,
    mut rate: Rates,
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
    rate: &mut Rates,
    shutdown: &CancellationToken,
) -> (Option<u16>, &'static str)
where
    S: Sink<Message> + Unpin,
    R: Stream<Item = Result<Message, E>> + Unpin,
{
    // Made once, not on every turn of the loop: each one made registers with its token
    // and each one dropped unregisters, under the token's lock, twice per frame.
    let kicked = member.kicked.clone();
    let (shutting_down, kicked) = (shutdown.cancelled(), kicked.cancelled());
    tokio::pin!(shutting_down, kicked);
    let (code, reason): (u16, &str) = loop {
        tokio::select! {
            _ = &mut shutting_down => break (close::GOING_AWAY, "server shutting down"),
            _ = &mut kicked => break (close::TOO_SLOW, "too slow"),
            out = member.outbox.recv() => match out {
                Some(Outgoing::Frame(frame)) => {
                    // Everything queued behind it goes out in the same write: under load a
                    // room delivers a whole batch at once, and one write per frame would
                    // cost a system call for each.
                    let mut frames = vec![frame];
                    let mut close_after = None;
                    while frames.len() < WRITE_BATCH {
                        match member.outbox.try_recv() {
                            Ok(Outgoing::Frame(frame)) => frames.push(frame),
                            Ok(Outgoing::Close(code, reason)) => {
                                close_after = Some((code, reason));
                                break;
                            }
                            Err(_) => break,
                        }
                    }
                    let len: usize = frames.iter().map(Bytes::len).sum();
                    metrics::counter!(stats::BYTES_OUT).increment(len as u64);
                    // A peer that stops reading must not hold this task forever.
                    let sent = tokio::select! {
                        r = write_all(sink, frames) => r,
                        _ = &mut kicked => false,
                        _ = &mut shutting_down => false,
                    };
                    if !sent {
                        break (close::TOO_SLOW, "too slow");
                    }
                    member.sent(len);
                    if let Some(close) = close_after {
                        break close;
                    }
                }
                Some(Outgoing::Close(code, reason)) => break (code, reason),
                None => break (close::GOING_AWAY, "room closed"),
            },
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Binary(frame))) => {
                    metrics::counter!(stats::BYTES_IN).increment(frame.len() as u64);
                    // Checked before the room sees it: a flood costs the room nothing.
                    if let Err(over) = rate.admit(&frame) {
                        stats::error(ErrorKind::Limit);
                        break (close::RATE_LIMITED, over);
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

/// Most frames taken from the outbox for one write.
const WRITE_BATCH: usize = 64;

/// Queues `frames` on the socket and flushes once; `false` if the socket failed.
async fn write_all<S>(sink: &mut S, frames: Vec<Bytes>) -> bool
where
    S: Sink<Message> + Unpin,
{
    for frame in frames {
        if sink.feed(Message::Binary(frame)).await.is_err() {
            return false;
        }
    }
    sink.flush().await.is_ok()
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

#[cfg(test)]
mod tests {
    //! `serve` between two in-memory channels, as a socket would drive it: frames from the
    //! "client" go in one channel, what the server sends comes out of the other.

    use std::sync::Arc;
    use std::time::Duration;

    use futures_channel::mpsc;
    use hindsight_shared::{protocol, Access, BoardId, Template};
    use tokio_util::task::TaskTracker;
    use yrs::sync::{Message as YMessage, SyncMessage};
    use yrs::updates::decoder::Decode;
    use yrs::updates::encoder::Encode;
    use yrs::StateVector;

    use super::*;
    use crate::boards;
    use crate::limits::TokenBucket;
    use crate::rooms::{RoomConfig, Rooms};
    use crate::store::{MemStore, Store};

    /// One connection's two ends: the client side's sender and receiver, and the task
    /// serving it, which ends when the connection does.
    struct Socket {
        to_server: mpsc::UnboundedSender<Result<Message, std::io::Error>>,
        from_server: mpsc::UnboundedReceiver<Message>,
        served: tokio::task::JoinHandle<()>,
    }

    impl Socket {
        async fn next(&mut self) -> Message {
            tokio::time::timeout(Duration::from_secs(5), self.from_server.next())
                .await
                .expect("the server answers within 5 s")
                .expect("the socket is still open")
        }

        fn send(&self, frame: Message) {
            self.to_server
                .unbounded_send(Ok(frame))
                .expect("serve reads");
        }

        /// Reads until the close frame and returns its code.
        async fn closed_with(&mut self) -> u16 {
            loop {
                if let Message::Close(frame) = self.next().await {
                    let code = frame.expect("a close code").code;
                    // The close handshake: serve waits for our reply, then ends.
                    self.send(Message::Close(None));
                    return code;
                }
            }
        }
    }

    async fn connect(rate: Rates) -> Socket {
        let store: Arc<dyn Store> = Arc::new(MemStore::default());
        let board: BoardId =
            boards::create_blank(store.as_ref(), "Incident", 1.0, Template::postmortem())
                .unwrap()
                .id;
        let rooms = Rooms::new(
            store,
            RoomConfig::default(),
            TaskTracker::new(),
            CancellationToken::new(),
        );
        let member = rooms.join(board, Access::Edit).await.unwrap();
        let (to_server, incoming) = mpsc::unbounded();
        let (outgoing, from_server) = mpsc::unbounded();
        let served = tokio::spawn(serve(
            outgoing,
            incoming,
            member,
            rate,
            CancellationToken::new(),
        ));
        Socket {
            to_server,
            from_server,
            served,
        }
    }

    fn decode(message: Message) -> YMessage {
        match message {
            Message::Binary(bytes) => YMessage::decode_v1(&bytes).expect("a y-websocket message"),
            other => panic!("expected a binary frame, got {other:?}"),
        }
    }

    fn generous() -> Rates {
        Rates {
            messages: TokenBucket::new(1000, 1000),
            presence: TokenBucket::new(1000, 1000),
        }
    }

    #[tokio::test]
    async fn frames_in_replies_out() {
        let mut socket = connect(generous()).await;
        assert!(
            matches!(
                decode(socket.next().await),
                YMessage::Sync(SyncMessage::SyncStep1(_))
            ),
            "an edit connection is greeted with sync step 1"
        );
        let hello = YMessage::Sync(SyncMessage::SyncStep1(StateVector::default())).encode_v1();
        socket.send(Message::Binary(hello.into()));
        match decode(socket.next().await) {
            YMessage::Sync(SyncMessage::SyncStep2(update)) => {
                assert!(update.len() > 2, "the board's content")
            }
            other => panic!("expected sync step 2, got {other:?}"),
        }
        socket.send(Message::Binary(protocol::track_saves().into()));
        let saved = match socket.next().await {
            Message::Binary(bytes) => protocol::read_saved(&YMessage::decode_v1(&bytes).unwrap()),
            other => panic!("{other:?}"),
        };
        assert_eq!(saved, Some(0), "nothing sent yet, nothing saved");
        // Pings are the WebSocket layer's business: nothing goes to the room.
        socket.send(Message::Ping(Vec::new().into()));
        socket.send(Message::Close(None));
        tokio::time::timeout(Duration::from_secs(5), socket.served)
            .await
            .expect("serve ends when the peer closes")
            .unwrap();
    }

    /// On a busy board, messages that come within the batch window of the previous batch
    /// are stored with one flush and reach the others together.
    #[tokio::test]
    async fn messages_within_the_batch_window_share_one_flush() {
        use hindsight_shared::{schema::new_doc, Board, NewNote};
        use yrs::Transact;

        let faulty = Arc::new(crate::store::testing::Faulty::new(MemStore::default()));
        let store: Arc<dyn Store> = faulty.clone();
        let board: BoardId =
            boards::create_blank(store.as_ref(), "Incident", 1.0, Template::postmortem())
                .unwrap()
                .id;
        let config = RoomConfig {
            batch_window: Duration::from_millis(500),
            ..RoomConfig::default()
        };
        let rooms = Rooms::new(store, config, TaskTracker::new(), CancellationToken::new());
        let writer = rooms.join(board, Access::Edit).await.unwrap();
        let mut reader = rooms.join(board, Access::Edit).await.unwrap();
        let doc = new_doc(Some(7));
        let notes = Board::new(&doc);
        let note = |n: usize| {
            let mut txn = doc.transact_mut();
            notes.add_note(
                &mut txn,
                &format!("n{n}").parse().unwrap(),
                NewNote::at(10.0, 10.0, "slow alerts").created_at(1.0),
            );
            YMessage::Sync(SyncMessage::Update(txn.encode_update_v1())).encode_v1()
        };
        let mut updates_read = 0;
        let mut read_updates = async |wanted: usize| {
            while updates_read < wanted {
                let frame = tokio::time::timeout(Duration::from_secs(5), reader.outbox.recv())
                    .await
                    .expect("the update arrives")
                    .expect("the room is open");
                if let Outgoing::Frame(bytes) = frame {
                    if let YMessage::Sync(SyncMessage::Update(_)) =
                        YMessage::decode_v1(&bytes).unwrap()
                    {
                        updates_read += 1;
                    }
                }
            }
        };

        // The first goes at once: there is no batch before it.
        writer.send(note(0).into()).await.unwrap();
        read_updates(1).await;
        let flushed = faulty.flushes();
        // Apart enough that without the window each would be a batch of its own.
        for n in 1..=5 {
            writer.send(note(n).into()).await.unwrap();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        read_updates(6).await;
        assert_eq!(faulty.flushes() - flushed, 1, "five updates, one flush");
    }

    #[tokio::test]
    async fn a_text_frame_closes_with_1003() {
        let mut socket = connect(generous()).await;
        socket.send(Message::Text("hello".into()));
        assert_eq!(socket.closed_with().await, close::UNSUPPORTED_DATA);
        socket.served.await.unwrap();
    }

    #[tokio::test]
    async fn a_malformed_frame_closes_with_1002() {
        let mut socket = connect(generous()).await;
        socket.send(Message::Binary(vec![0, 0, 200].into()));
        assert_eq!(socket.closed_with().await, close::PROTOCOL_ERROR);
        socket.served.await.unwrap();
    }

    #[tokio::test]
    async fn a_flood_of_presence_closes_with_4029_within_the_overall_rate() {
        let mut socket = connect(Rates {
            messages: TokenBucket::new(1000, 1000),
            presence: TokenBucket::new(1, 2),
        })
        .await;
        let moved = YMessage::Awareness(yrs::sync::AwarenessUpdate {
            clients: Default::default(),
        })
        .encode_v1();
        // Other messages pass; the third presence message in a row is one too many.
        let hello = YMessage::Sync(SyncMessage::SyncStep1(StateVector::default())).encode_v1();
        for _ in 0..5 {
            socket.send(Message::Binary(hello.clone().into()));
        }
        for _ in 0..3 {
            socket.send(Message::Binary(moved.clone().into()));
        }
        assert_eq!(socket.closed_with().await, close::RATE_LIMITED);
        socket.served.await.unwrap();
    }

    #[tokio::test]
    async fn a_flood_closes_with_4029() {
        let mut socket = connect(Rates {
            messages: TokenBucket::new(1, 2),
            presence: TokenBucket::new(1, 2),
        })
        .await;
        let hello = YMessage::Sync(SyncMessage::SyncStep1(StateVector::default())).encode_v1();
        for _ in 0..3 {
            socket.send(Message::Binary(hello.clone().into()));
        }
        assert_eq!(socket.closed_with().await, close::RATE_LIMITED);
        socket.served.await.unwrap();
    }
}
