//! What goes over a benchmark WebSocket: where a room is (`Room`), and how a y-websocket
//! message is framed for each server family. Hocuspocus prefixes every message with the
//! document name and wants an auth message first; everyone else speaks plain y-websocket.
//! Nothing here measures anything.

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use yrs::sync::{Message, SyncMessage};
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::StateVector;

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;
pub type Sink = SplitSink<Socket, WsMessage>;
pub type Stream = SplitStream<Socket>;

/// How a server frames y-websocket messages.
#[derive(Clone, Debug, PartialEq)]
pub enum Framing {
    /// One y-websocket message per binary frame.
    Plain,
    /// Hocuspocus: `varString(document) + message`, after an auth message.
    Hocuspocus { document: String },
}

/// One room (board, document) on one server: where to connect and how to frame.
#[derive(Clone, Debug)]
pub struct Room {
    pub url: String,
    pub framing: Framing,
    /// The same room on every node of a deployment of several (`url` is the first's);
    /// empty for one server.
    pub nodes: Vec<String>,
}

/// Hocuspocus message type of an auth message, and the auth sub-type of a token.
const HOCUSPOCUS_AUTH: u64 = 2;
const HOCUSPOCUS_TOKEN: u64 = 0;

impl Room {
    /// How many nodes serve the room.
    pub fn node_count(&self) -> usize {
        self.nodes.len().max(1)
    }

    /// The room as client number `client` reaches it: clients take the nodes in turn,
    /// as a round-robin load balancer would hand them out.
    pub fn on_node(&self, client: usize) -> Room {
        let mut room = self.clone();
        if let Some(url) = self.nodes.get(client % self.node_count()) {
            room.url = url.clone();
        }
        room
    }

    /// Wraps a y-websocket message for this room's server.
    pub fn frame(&self, message: &[u8]) -> Vec<u8> {
        match &self.framing {
            Framing::Plain => message.to_vec(),
            Framing::Hocuspocus { document } => {
                let mut out = Vec::with_capacity(document.len() + message.len() + 4);
                write_var_string(&mut out, document);
                out.extend_from_slice(message);
                out
            }
        }
    }

    /// The y-websocket message inside a frame from this room's server, or `None` for a
    /// frame of another document.
    pub fn unframe<'a>(&self, frame: &'a [u8]) -> Option<&'a [u8]> {
        match &self.framing {
            Framing::Plain => Some(frame),
            Framing::Hocuspocus { document } => {
                let (name, rest) = read_var_string(frame)?;
                (name == document.as_bytes()).then_some(rest)
            }
        }
    }

    /// Opens a socket and sends what a client sends first: the auth message (Hocuspocus)
    /// and sync step 1 with an empty state vector.
    pub async fn connect(&self) -> Result<(Sink, Stream), String> {
        tokio::time::timeout(PATIENCE, self.open())
            .await
            .map_err(|_| format!("{} did not accept within 30 s", self.url))?
    }

    async fn open(&self) -> Result<(Sink, Stream), String> {
        // Nagle off, as browsers and Node's `ws` do, so small frames leave at once.
        let (socket, _) =
            tokio_tungstenite::connect_async_with_config(self.url.as_str(), None, true)
                .await
                .map_err(|e| format!("connect {}: {e}", self.url))?;
        let (mut sink, stream) = socket.split();
        if let Framing::Hocuspocus { .. } = self.framing {
            let mut auth = Vec::new();
            write_var_uint(&mut auth, HOCUSPOCUS_AUTH);
            write_var_uint(&mut auth, HOCUSPOCUS_TOKEN);
            write_var_string(&mut auth, "bench");
            sink.send(WsMessage::Binary(self.frame(&auth).into()))
                .await
                .map_err(|e| format!("send auth: {e}"))?;
        }
        let hello = Message::Sync(SyncMessage::SyncStep1(StateVector::default())).encode_v1();
        sink.send(WsMessage::Binary(self.frame(&hello).into()))
            .await
            .map_err(|e| format!("send sync step 1: {e}"))?;
        Ok((sink, stream))
    }
}

/// What a benchmark client cares about in a server message.
pub enum Incoming {
    Step1,
    Step2(Vec<u8>),
    Update(Vec<u8>),
    Other,
}

/// Decodes a y-websocket message; anything unexpected is `Other`.
pub fn decode(message: &[u8]) -> Incoming {
    match Message::decode_v1(message) {
        Ok(Message::Sync(SyncMessage::SyncStep1(_))) => Incoming::Step1,
        Ok(Message::Sync(SyncMessage::SyncStep2(u))) => Incoming::Step2(u),
        Ok(Message::Sync(SyncMessage::Update(u))) => Incoming::Update(u),
        _ => Incoming::Other,
    }
}

/// A sync update message carrying `update`.
pub fn update_message(update: Vec<u8>) -> Vec<u8> {
    Message::Sync(SyncMessage::Update(update)).encode_v1()
}

/// How long a server may take to accept a connection or answer sync step 1.
const PATIENCE: std::time::Duration = std::time::Duration::from_secs(30);

/// Reads frames until a sync step 2 arrives, answering the server's sync step 1 with an
/// empty step 2 (we start empty). Returns the step 2's update; gives up after 30 s.
pub async fn wait_step2(
    room: &Room,
    sink: &mut Sink,
    stream: &mut Stream,
) -> Result<Vec<u8>, String> {
    tokio::time::timeout(PATIENCE, step2(room, sink, stream))
        .await
        .map_err(|_| format!("no sync step 2 from {} within 30 s", room.url))?
}

async fn step2(room: &Room, sink: &mut Sink, stream: &mut Stream) -> Result<Vec<u8>, String> {
    while let Some(frame) = stream.next().await {
        let bytes = match frame.map_err(|e| format!("read: {e}"))? {
            WsMessage::Binary(b) => b,
            WsMessage::Close(c) => return Err(format!("closed before sync step 2: {c:?}")),
            _ => continue,
        };
        let Some(message) = room.unframe(&bytes) else {
            continue;
        };
        match decode(message) {
            Incoming::Step2(update) => return Ok(update),
            Incoming::Step1 => {
                let empty = Message::Sync(SyncMessage::SyncStep2(yrs::Update::new().encode_v1()))
                    .encode_v1();
                sink.send(WsMessage::Binary(room.frame(&empty).into()))
                    .await
                    .map_err(|e| format!("send sync step 2: {e}"))?;
            }
            _ => {}
        }
    }
    Err("connection ended before sync step 2".into())
}

fn write_var_uint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn write_var_string(out: &mut Vec<u8>, s: &str) {
    write_var_uint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

fn read_var_uint(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let mut n = 0u64;
    for (i, b) in bytes.iter().enumerate().take(10) {
        n |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((n, &bytes[i + 1..]));
        }
    }
    None
}

fn read_var_string(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let (len, rest) = read_var_uint(bytes)?;
    let len = usize::try_from(len).ok()?;
    (rest.len() >= len).then(|| rest.split_at(len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hocuspocus_frames_carry_the_document_name() {
        let room = Room {
            nodes: Vec::new(),
            url: String::new(),
            framing: Framing::Hocuspocus {
                document: "board-7".into(),
            },
        };
        let framed = room.frame(&[0, 2, 1, 9]);
        assert_eq!(framed[0], 7);
        assert_eq!(&framed[1..8], b"board-7");
        assert_eq!(room.unframe(&framed), Some(&[0u8, 2, 1, 9][..]));
        let other = Room {
            nodes: Vec::new(),
            url: String::new(),
            framing: Framing::Hocuspocus {
                document: "board-8".into(),
            },
        };
        assert_eq!(other.unframe(&framed), None);
    }

    #[test]
    fn var_uints_round_trip() {
        for n in [0u64, 1, 127, 128, 300, 1 << 40] {
            let mut out = Vec::new();
            write_var_uint(&mut out, n);
            assert_eq!(read_var_uint(&out), Some((n, &[][..])));
        }
    }
}
