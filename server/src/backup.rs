//! The backup file: every board's whole document, in one versioned, checksummed file.
//!
//! Layout (integers big-endian):
//!
//! ```text
//! "HINDSIGHT-BACKUP\n"  magic, 17 bytes
//! u32                   format version, 2
//! per board:  b'B', board id (16 bytes),
//!             u8 1 and the link hashes (64 bytes), or u8 0 for a board without links,
//!             u64 length, that many bytes: the document as one Yjs v1 update (a
//!             compacted snapshot)
//! trailer:    b'E', u64 number of boards, SHA-256 of every byte before the digest
//! ```
//!
//! Version 1 files (no link byte or hashes) are still read; their boards come back
//! without links, to be given new ones with `hindsight boards links ID`. The hashes
//! carried over keep every existing link working after a restore.
//!
//! Writing streams; reading takes the whole file and checks all of it (checksum, layout,
//! unique ids, every document decodes) before it returns anything, so a restore either
//! has a sound backup in hand or writes nothing. No I/O here: callers own the files.

use std::collections::HashSet;
use std::io::{self, Write};

use hindsight_shared::{AccessHashes, BoardId};
use sha2::{Digest, Sha256};

use crate::room::load_doc;
use crate::store::StoredBoard;

const MAGIC: &[u8] = b"HINDSIGHT-BACKUP\n";
const VERSION: u32 = 2;
/// The format before boards had links; read, never written.
const VERSION_WITHOUT_LINKS: u32 = 1;
const BOARD: u8 = b'B';
const END: u8 = b'E';
const DIGEST_LEN: usize = 32;

/// Why a file is not a backup we can restore.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BackupError {
    #[error("not a Hindsight backup")]
    NotABackup,
    #[error(
        "backup format version {0} is not supported (this build reads versions 1 and {VERSION})"
    )]
    Version(u32),
    #[error("the backup is damaged or incomplete (checksum mismatch)")]
    Checksum,
    #[error("the backup is malformed: {0}")]
    Malformed(&'static str),
    #[error("the backup holds board {0} twice")]
    Duplicate(BoardId),
    #[error("board {0} in the backup does not load: {1}")]
    BadBoard(BoardId, String),
}

/// One board in a backup.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub id: BoardId,
    /// The hashes of the board's links, if it has any.
    pub links: Option<AccessHashes>,
    /// The whole document as one v1 update.
    pub snapshot: Vec<u8>,
}

/// Writes a backup to `out`, hashing as it goes. Nothing is valid until [`finish`].
///
/// [`finish`]: BackupWriter::finish
pub struct BackupWriter<W: Write> {
    out: W,
    hash: Sha256,
    count: u64,
}

impl<W: Write> BackupWriter<W> {
    pub fn new(out: W) -> io::Result<BackupWriter<W>> {
        let mut writer = BackupWriter {
            out,
            hash: Sha256::new(),
            count: 0,
        };
        writer.put(MAGIC)?;
        writer.put(&VERSION.to_be_bytes())?;
        Ok(writer)
    }

    pub fn add(
        &mut self,
        id: &BoardId,
        links: Option<&AccessHashes>,
        snapshot: &[u8],
    ) -> io::Result<()> {
        self.put(&[BOARD])?;
        self.put(id.as_bytes())?;
        match links {
            Some(links) => {
                self.put(&[1])?;
                self.put(&links.to_bytes())?;
            }
            None => self.put(&[0])?,
        }
        self.put(&(snapshot.len() as u64).to_be_bytes())?;
        self.put(snapshot)?;
        self.count += 1;
        Ok(())
    }

    /// Writes the trailer and returns the output and the number of boards written.
    pub fn finish(mut self) -> io::Result<(W, u64)> {
        self.put(&[END])?;
        self.put(&self.count.to_be_bytes())?;
        let digest = self.hash.finalize();
        self.out.write_all(&digest)?;
        self.out.flush()?;
        Ok((self.out, self.count))
    }

    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.hash.update(bytes);
        self.out.write_all(bytes)
    }
}

/// Reads and checks a whole backup.
pub fn read(bytes: &[u8]) -> Result<Vec<Entry>, BackupError> {
    if !bytes.starts_with(MAGIC) {
        return Err(BackupError::NotABackup);
    }
    let mut input = Reader(&bytes[MAGIC.len()..]);
    let version = input.u32().ok_or(BackupError::Malformed("no version"))?;
    if version != VERSION && version != VERSION_WITHOUT_LINKS {
        return Err(BackupError::Version(version));
    }
    // The checksum first: a damaged file is reported as such, not as whatever its
    // damage happens to look like.
    if bytes.len() < MAGIC.len() + 4 + 1 + 8 + DIGEST_LEN {
        return Err(BackupError::Checksum);
    }
    let (body, digest) = bytes.split_at(bytes.len() - DIGEST_LEN);
    if Sha256::digest(body).as_slice() != digest {
        return Err(BackupError::Checksum);
    }
    let mut input = Reader(&body[MAGIC.len() + 4..]);
    let mut entries = Vec::new();
    let mut seen = HashSet::new();
    loop {
        match input.u8().ok_or(BackupError::Malformed("truncated"))? {
            BOARD => {
                let id = input
                    .take(16)
                    .ok_or(BackupError::Malformed("truncated board id"))?;
                let id = BoardId::from_bytes(id.try_into().expect("16 bytes"));
                let links = if version == VERSION_WITHOUT_LINKS {
                    None
                } else {
                    match input.u8() {
                        Some(0) => None,
                        Some(1) => Some(
                            input
                                .take(AccessHashes::ENCODED_LEN)
                                .and_then(AccessHashes::from_bytes)
                                .ok_or(BackupError::Malformed("truncated links"))?,
                        ),
                        _ => return Err(BackupError::Malformed("bad links marker")),
                    }
                };
                let len = input
                    .u64()
                    .ok_or(BackupError::Malformed("truncated length"))?;
                let snapshot = usize::try_from(len)
                    .ok()
                    .and_then(|len| input.take(len))
                    .ok_or(BackupError::Malformed("truncated board"))?;
                if !seen.insert(id) {
                    return Err(BackupError::Duplicate(id));
                }
                entries.push(Entry {
                    id,
                    links,
                    snapshot: snapshot.to_vec(),
                });
            }
            END => {
                let count = input.u64().ok_or(BackupError::Malformed("truncated end"))?;
                if count != entries.len() as u64 || !input.0.is_empty() {
                    return Err(BackupError::Malformed("board count does not match"));
                }
                break;
            }
            _ => return Err(BackupError::Malformed("unknown record")),
        }
    }
    for entry in &entries {
        let stored = StoredBoard {
            snapshot: entry.snapshot.clone(),
            ..StoredBoard::default()
        };
        load_doc(&stored).map_err(|e| BackupError::BadBoard(entry.id, e.to_string()))?;
    }
    Ok(entries)
}

/// A cursor over bytes; every read is checked.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_be_bytes(b.try_into().expect("4 bytes")))
    }

    fn u64(&mut self) -> Option<u64> {
        self.take(8)
            .map(|b| u64::from_be_bytes(b.try_into().expect("8 bytes")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hindsight_shared::{schema, Board};
    use yrs::{ReadTxn, StateVector, Transact};

    fn doc_bytes(title: &str) -> Vec<u8> {
        let doc = schema::new_doc(None);
        Board::new(&doc).init(&mut doc.transact_mut(), title, 1.0);
        let txn = doc.transact();
        txn.encode_state_as_update_v1(&StateVector::default())
    }

    fn backup(entries: &[(BoardId, Vec<u8>)]) -> Vec<u8> {
        let entries: Vec<Entry> = entries
            .iter()
            .map(|(id, snapshot)| Entry {
                id: *id,
                links: None,
                snapshot: snapshot.clone(),
            })
            .collect();
        write(&entries)
    }

    fn write(entries: &[Entry]) -> Vec<u8> {
        let mut writer = BackupWriter::new(Vec::new()).unwrap();
        for entry in entries {
            writer
                .add(&entry.id, entry.links.as_ref(), &entry.snapshot)
                .unwrap();
        }
        writer.finish().unwrap().0
    }

    fn boards() -> Vec<(BoardId, Vec<u8>)> {
        vec![
            (BoardId::from_random([1; 16]), doc_bytes("one")),
            (BoardId::from_random([2; 16]), doc_bytes("two")),
        ]
    }

    fn linked() -> Vec<Entry> {
        let token = hindsight_shared::Token::edit_from_random([4; 16]);
        vec![
            Entry {
                id: BoardId::from_random([1; 16]),
                links: Some(AccessHashes::for_edit_token(&token)),
                snapshot: doc_bytes("one"),
            },
            Entry {
                id: BoardId::from_random([2; 16]),
                links: None,
                snapshot: doc_bytes("two"),
            },
        ]
    }

    #[test]
    fn what_is_written_reads_back() {
        let entries = linked();
        assert_eq!(read(&write(&entries)).unwrap(), entries);
        assert_eq!(read(&backup(&[])).unwrap(), []);
    }

    /// A version 1 file, as the first release wrote it: no links.
    fn version_one(entries: &[Entry]) -> Vec<u8> {
        let mut body = MAGIC.to_vec();
        body.extend_from_slice(&1u32.to_be_bytes());
        for entry in entries {
            body.push(BOARD);
            body.extend_from_slice(entry.id.as_bytes());
            body.extend_from_slice(&(entry.snapshot.len() as u64).to_be_bytes());
            body.extend_from_slice(&entry.snapshot);
        }
        body.push(END);
        body.extend_from_slice(&(entries.len() as u64).to_be_bytes());
        let digest = Sha256::digest(&body);
        body.extend_from_slice(&digest);
        body
    }

    #[test]
    fn version_one_files_restore_their_boards_without_links() {
        let entries = linked();
        let read_back = read(&version_one(&entries)).unwrap();
        assert_eq!(read_back.len(), 2);
        for (got, want) in read_back.iter().zip(entries) {
            assert_eq!((got.id, &got.snapshot), (want.id, &want.snapshot));
            assert_eq!(got.links, None);
        }
    }

    #[test]
    fn damaged_files_are_refused_with_the_reason() {
        let good = backup(&boards());
        let check = |bytes: &[u8], expected: BackupError| {
            assert_eq!(read(bytes).unwrap_err(), expected);
        };
        check(b"{\"format\":\"hindsight-board\"}", BackupError::NotABackup);
        check(&good[..good.len() - 1], BackupError::Checksum);
        check(&good[..40], BackupError::Checksum);
        for at in [MAGIC.len() + 4 + 5, good.len() / 2, good.len() - 40] {
            let mut flipped = good.clone();
            flipped[at] ^= 0x01;
            check(&flipped, BackupError::Checksum);
        }
        let mut newer = good.clone();
        newer[MAGIC.len() + 3] = 3;
        check(&newer, BackupError::Version(3));

        let id = BoardId::from_random([3; 16]);
        check(
            &backup(&[(id, doc_bytes("a")), (id, doc_bytes("b"))]),
            BackupError::Duplicate(id),
        );
        assert!(matches!(
            read(&backup(&[(id, vec![0xff; 8])])),
            Err(BackupError::BadBoard(bad, _)) if bad == id
        ));
    }
}
