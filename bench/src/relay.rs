//! The null relay: a WebSocket server that forwards every binary frame to the other
//! connections on the same path, with no CRDT, no storage and no reply to anything. It is
//! the floor the other servers are measured against: the cost of the sockets alone.
//! Runs as its own process (`hindsight-bench relay ADDR`) so it can be pinned and
//! measured like the others; it stops when killed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Bytes, Message};

/// The connections in each room (by path): id and outbox. A connection removes itself
/// when it ends; an empty room is removed with it.
type Rooms = Arc<Mutex<HashMap<String, Vec<(u64, mpsc::Sender<Bytes>)>>>>;

/// Frames a connection may fall behind before it misses some.
const OUTBOX: usize = 4096;

pub async fn serve(addr: &str) -> Result<(), String> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| format!("bind {addr}: {e}"))?;
    let rooms: Rooms = Arc::default();
    let mut next_id = 0u64;
    loop {
        let (stream, _) = listener
            .accept()
            .await
            .map_err(|e| format!("accept: {e}"))?;
        next_id += 1;
        // One task per connection; it ends when the socket closes.
        tokio::spawn(connection(stream, next_id, Arc::clone(&rooms)));
    }
}

async fn connection(stream: TcpStream, id: u64, rooms: Rooms) {
    let _ = stream.set_nodelay(true);
    let mut path = String::new();
    // The error type is tungstenite's, not ours to shrink.
    #[allow(clippy::result_large_err)]
    let callback = |request: &Request, response: Response| {
        path = request.uri().path().to_owned();
        Ok(response)
    };
    // Small buffers: the relay holds no state, so the sockets are all there is.
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let Ok(socket) =
        tokio_tungstenite::accept_hdr_async_with_config(stream, callback, Some(config)).await
    else {
        return;
    };
    let (tx, mut outbox) = mpsc::channel(OUTBOX);
    rooms
        .lock()
        .unwrap()
        .entry(path.clone())
        .or_default()
        .push((id, tx));
    let (mut sink, mut source) = socket.split();
    loop {
        tokio::select! {
            incoming = source.next() => match incoming {
                Some(Ok(Message::Binary(bytes))) => {
                    let rooms = rooms.lock().unwrap();
                    for (other, tx) in rooms.get(&path).into_iter().flatten() {
                        if *other != id {
                            // A full outbox loses the frame: the relay never waits.
                            let _ = tx.try_send(bytes.clone());
                        }
                    }
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
            Some(bytes) = outbox.recv() => {
                if sink.send(Message::Binary(bytes)).await.is_err() {
                    break;
                }
            }
        }
    }
    let mut rooms = rooms.lock().unwrap();
    if let Some(room) = rooms.get_mut(&path) {
        room.retain(|(other, _)| *other != id);
        if room.is_empty() {
            rooms.remove(&path);
        }
    }
}
