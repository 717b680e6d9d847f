//! The other nodes' writes and presence, as PostgreSQL notifications: a thread that
//! LISTENs on a connection of its own and forwards what it hears into a tokio channel.
//! Presence payloads carry the awareness message in base64; one that would not fit a
//! notification (8,000 bytes) is not sent.
//!
//! The thread owns its connection and nothing else; it stops within [`POLL`] of its
//! receiver being dropped. A connection that breaks is opened again after [`RETRY`];
//! what was written meanwhile is not reported (nor is anything that fills no
//! notification), which is why rooms also look for changes on a timer and whenever a
//! write of theirs conflicts. It must not run on an async worker (the client runs a
//! runtime of its own), hence a plain thread.

use std::time::Duration;

use base64::Engine;
use hindsight_shared::BoardId;
use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, Config};
use tokio::sync::mpsc;

use super::tls::Connector;
use crate::store::{Appended, Heard};

/// The channel writes notify.
pub const CHANNEL: &str = "hindsight_updates";
/// The channel presence goes on.
pub const PRESENCE: &str = "hindsight_presence";
/// The channel an operator's deletion or relink of a board goes on.
pub const ADMIN: &str = "hindsight_admin";
/// What [`ADMIN`] payloads say happened.
pub const DELETED: &str = "deleted";
pub const RELINKED: &str = "relinked";
/// The longest payload sent (presence, or a write's notice with its updates), under
/// PostgreSQL's 8,000 bytes.
const MAX_PAYLOAD: usize = 7_900;
/// How long the thread waits for a notification before it checks its receiver.
const POLL: Duration = Duration::from_millis(500);
/// How long it waits before opening a broken connection again.
const RETRY: Duration = Duration::from_secs(1);

/// What a write of `updates` of `board` from `first` on, by `node`, notifies: where they
/// are, and the updates themselves in base64 (comma-separated) while the payload stays
/// within a notification's limit, so that the other nodes need not read them back.
pub fn payload(board: &BoardId, first: u64, updates: &[Vec<u8>], node: u64) -> String {
    let notice = format!("{board}:{first}:{}:{node:x}", updates.len());
    let encoded_len: usize = updates.iter().map(|u| u.len().div_ceil(3) * 4 + 1).sum();
    if notice.len() + encoded_len > MAX_PAYLOAD {
        return notice;
    }
    let engine = &base64::engine::general_purpose::STANDARD;
    let encoded: Vec<String> = updates.iter().map(|u| engine.encode(u)).collect();
    format!("{notice}:{}", encoded.join(","))
}

/// Reads a payload; `None` for one this node wrote, or one it cannot read.
fn parse(payload: &str, node: u64) -> Option<Appended> {
    let mut parts = payload.split(':');
    let board: BoardId = parts.next()?.parse().ok()?;
    let first: u64 = parts.next()?.parse().ok()?;
    let count: u64 = parts.next()?.parse().ok()?;
    let writer = u64::from_str_radix(parts.next()?, 16).ok()?;
    let updates = match parts.next() {
        None => None,
        Some(data) => {
            let engine = &base64::engine::general_purpose::STANDARD;
            let updates = data
                .split(',')
                .map(|u| engine.decode(u).ok())
                .collect::<Option<Vec<_>>>()?;
            // All of them, or the payload is not one of ours.
            if updates.len() as u64 != count {
                return None;
            }
            Some(updates)
        }
    };
    (writer != node && parts.next().is_none()).then_some(Appended {
        board,
        upto: first.checked_add(count)?,
        updates,
    })
}

/// What a presence message of `board` from `node` notifies, unless it is too large.
pub fn presence_payload(board: &BoardId, node: u64, message: &[u8]) -> Option<String> {
    let encoded = base64::engine::general_purpose::STANDARD.encode(message);
    let payload = format!("{board}:{node:x}:{encoded}");
    (payload.len() <= MAX_PAYLOAD).then_some(payload)
}

/// Reads a presence payload; `None` for one this node sent, or one it cannot read.
fn parse_presence(payload: &str, node: u64) -> Option<Heard> {
    let mut parts = payload.splitn(3, ':');
    let board: BoardId = parts.next()?.parse().ok()?;
    let sender = u64::from_str_radix(parts.next()?, 16).ok()?;
    let message = base64::engine::general_purpose::STANDARD
        .decode(parts.next()?)
        .ok()?;
    (sender != node).then_some(Heard::Presence { board, message })
}

/// What an operator's change to `board` through `node` notifies: [`DELETED`] or
/// [`RELINKED`].
pub fn admin_payload(board: &BoardId, node: u64, change: &str) -> String {
    format!("{board}:{node:x}:{change}")
}

/// Reads an [`ADMIN`] payload; `None` for one this node sent, or one it cannot read.
fn parse_admin(payload: &str, node: u64) -> Option<Heard> {
    let mut parts = payload.split(':');
    let board: BoardId = parts.next()?.parse().ok()?;
    let sender = u64::from_str_radix(parts.next()?, 16).ok()?;
    let heard = match parts.next()? {
        DELETED => Heard::Deleted { board },
        RELINKED => Heard::Relinked { board },
        _ => return None,
    };
    (sender != node && parts.next().is_none()).then_some(heard)
}

/// Starts the thread; what it hears reported on the receiver.
pub fn spawn(config: Config, connector: Connector, node: u64) -> mpsc::UnboundedReceiver<Heard> {
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::Builder::new()
        .name("hindsight-listen".into())
        .spawn(move || run(&config, &connector, node, &tx))
        .expect("start the notification listener");
    rx
}

fn run(config: &Config, connector: &Connector, node: u64, tx: &mpsc::UnboundedSender<Heard>) {
    let mut heard_before = false;
    while !tx.is_closed() {
        let mut client = match connect(config, connector) {
            Ok(client) => client,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for other nodes' writes; retrying");
                std::thread::sleep(RETRY);
                continue;
            }
        };
        tracing::debug!("listening for other nodes' writes");
        // Notices sent while the connection was broken are lost for good; the rooms
        // check again what they would have told them.
        if heard_before {
            let _ = tx.send(Heard::Missed);
        }
        heard_before = true;
        while !tx.is_closed() {
            let next = client.notifications().timeout_iter(POLL).next();
            match next {
                Ok(Some(n)) => {
                    let heard = match n.channel() {
                        PRESENCE => parse_presence(n.payload(), node),
                        ADMIN => parse_admin(n.payload(), node),
                        _ => parse(n.payload(), node).map(Heard::Appended),
                    };
                    if let Some(heard) = heard {
                        let _ = tx.send(heard);
                    }
                }
                Ok(None) if !client.is_closed() => {}
                Ok(None) | Err(_) => {
                    tracing::warn!("the connection listening for other nodes' writes broke");
                    break;
                }
            }
        }
    }
}

fn connect(config: &Config, connector: &Connector) -> Result<Client, postgres::Error> {
    let mut client = connector.connect(config)?;
    client.batch_execute(&format!(
        "LISTEN {CHANNEL}; LISTEN {PRESENCE}; LISTEN {ADMIN}"
    ))?;
    Ok(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_names_the_board_and_where_its_updates_end_unless_it_is_ours() {
        let board = BoardId::from_random([7; 16]);
        let updates = vec![b"one".to_vec(), vec![0, 255, 7], b"three".to_vec()];
        let written = payload(&board, 40, &updates, 0xfeed);
        assert_eq!(
            parse(&written, 0xbeef),
            Some(Appended {
                board,
                upto: 43,
                updates: Some(updates.clone()),
            }),
            "small updates come with the notice"
        );
        let large = vec![vec![1; MAX_PAYLOAD], b"small".to_vec()];
        let notice = payload(&board, 40, &large, 0xfeed);
        assert!(
            notice.len() < 100,
            "too large to come along: {}",
            notice.len()
        );
        assert_eq!(
            parse(&notice, 0xbeef),
            Some(Appended {
                board,
                upto: 42,
                updates: None,
            })
        );
        let malformed = format!("{notice}:AAAA");
        assert_eq!(parse(&malformed, 1), None, "two updates said, one sent");
        assert_eq!(parse(&written, 0xfeed), None, "our own write");
        for wrong in [
            "",
            "x:1:1:1",
            &format!("{board}:1:1"),
            &format!("{written}:9"),
        ] {
            assert_eq!(parse(wrong, 1), None, "{wrong}");
        }
    }

    #[test]
    fn presence_travels_in_base64_unless_it_is_ours_or_too_large() {
        let board = BoardId::from_random([7; 16]);
        let sent = presence_payload(&board, 0xfeed, b"\x01\x02:state").unwrap();
        assert_eq!(
            parse_presence(&sent, 0xbeef),
            Some(Heard::Presence {
                board,
                message: b"\x01\x02:state".to_vec()
            })
        );
        assert_eq!(parse_presence(&sent, 0xfeed), None, "our own");
        assert_eq!(
            presence_payload(&board, 1, &[0; 6_000]),
            None,
            "over 7,900 bytes"
        );
    }

    #[test]
    fn an_operators_change_names_the_board_and_what_happened_unless_it_is_ours() {
        let board = BoardId::from_random([7; 16]);
        let deleted = admin_payload(&board, 0xfeed, DELETED);
        let relinked = admin_payload(&board, 0xfeed, RELINKED);
        assert_eq!(
            parse_admin(&deleted, 0xbeef),
            Some(Heard::Deleted { board })
        );
        assert_eq!(
            parse_admin(&relinked, 0xbeef),
            Some(Heard::Relinked { board })
        );
        assert_eq!(parse_admin(&relinked, 0xfeed), None, "our own");
        for wrong in [
            String::new(),
            format!("{board}:feed"),
            format!("{board}:feed:renamed"),
            format!("{deleted}:more"),
            format!("x:feed:{DELETED}"),
        ] {
            assert_eq!(parse_admin(&wrong, 1), None, "{wrong}");
        }
    }
}
