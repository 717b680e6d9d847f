//! Board documents outside a live room: building a new board (blank or from a JSON
//! export) with its facilitator key, and rebuilding a stored board into a document. The
//! HTTP API and the offline admin commands both go through here, so a board made or read
//! either way is the same.
//!
//! Everything here blocks (the store does I/O); async callers use the blocking pool.

use hindsight_shared::export::{self, BoardExport, ImportError};
use hindsight_shared::{schema, AccessHashes, Board, BoardId, Template, Token};
use yrs::{Doc, ReadTxn, StateVector, Transact, TransactionMut};

use crate::room::{load_doc, LoadError};
use crate::store::{Store, StoreError};

/// Why a board could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum BoardError {
    #[error("the system has no randomness to offer: {0}")]
    Entropy(String),
    #[error("{0}")]
    Import(#[from] ImportError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("board {0}: {1}")]
    Unreadable(BoardId, LoadError),
    /// The board would be larger than a live board may grow (`--max-document-bytes`).
    #[error("the board would take {0} bytes; boards here hold at most {1}")]
    TooLarge(usize, usize),
}

/// A board that was just stored. Its edit token and facilitator key exist only here: the
/// store keeps their hashes, and the caller shows them once, to whoever made the board.
#[derive(Debug)]
pub struct NewBoard {
    pub id: BoardId,
    pub edit_token: Token,
    pub facilitator_key: String,
}

/// Stores a new, empty board titled `title`, created at `created_at` (ms since the epoch),
/// carrying the regions and settings of `template`.
pub fn create_blank(
    store: &dyn Store,
    title: &str,
    created_at: f64,
    template: &Template,
) -> Result<NewBoard, BoardError> {
    create(store, |board, txn| {
        board.create(txn, title, created_at, template);
        Ok(())
    })
}

/// Stores an export as a new board. An export that does not check out is refused whole.
/// A board from an export, refused if its document would take more than `max_bytes`
/// (an import is held to what a live board may grow to).
pub fn create_from_export(
    store: &dyn Store,
    data: &BoardExport,
    max_bytes: usize,
) -> Result<NewBoard, BoardError> {
    create_within(store, max_bytes, |board, txn| {
        Ok(export::import(board, txn, data)?)
    })
}

/// Builds a document with `fill`, gives it a facilitator key and stores it under a fresh
/// id; nothing is stored if `fill` fails.
fn create(
    store: &dyn Store,
    fill: impl FnOnce(&Board, &mut TransactionMut) -> Result<(), BoardError>,
) -> Result<NewBoard, BoardError> {
    create_within(store, usize::MAX, fill)
}

/// [`create`], refusing a document larger than `max_bytes`.
fn create_within(
    store: &dyn Store,
    max_bytes: usize,
    fill: impl FnOnce(&Board, &mut TransactionMut) -> Result<(), BoardError>,
) -> Result<NewBoard, BoardError> {
    let id = BoardId::from_random(random()?);
    let edit_token = Token::edit_from_random(random()?);
    let facilitator_key = hex(&random::<16>()?);
    let doc = schema::new_doc(None);
    let board = Board::new(&doc);
    {
        let mut txn = doc.transact_mut();
        fill(&board, &mut txn)?;
        board.set_facilitator_key(&mut txn, &facilitator_key);
    }
    let encoded = encode(&doc);
    if encoded.len() > max_bytes {
        return Err(BoardError::TooLarge(encoded.len(), max_bytes));
    }
    store.create(
        &id,
        &encoded,
        Some(&AccessHashes::for_edit_token(&edit_token)),
    )?;
    Ok(NewBoard {
        id,
        edit_token,
        facilitator_key,
    })
}

/// Gives a board a new pair of links; the old ones stop working. Returns the new edit
/// token (the read token derives from it), or `None` if there is no such board.
pub fn relink(store: &dyn Store, id: &BoardId) -> Result<Option<Token>, BoardError> {
    let edit_token = Token::edit_from_random(random()?);
    let exists = store.set_links(id, &AccessHashes::for_edit_token(&edit_token))?;
    Ok(exists.then_some(edit_token))
}

/// A stored board rebuilt into a document, or `None` if there is no such board.
pub fn read(store: &dyn Store, id: &BoardId) -> Result<Option<Doc>, BoardError> {
    let Some(stored) = store.load(id)? else {
        return Ok(None);
    };
    load_doc(&stored)
        .map(Some)
        .map_err(|e| BoardError::Unreadable(*id, e))
}

/// The whole document as one update: what a snapshot or a backup holds. Integrated
/// content only, as `Room::encode_state` explains.
pub fn encode(doc: &Doc) -> Vec<u8> {
    doc.transact().encode_diff_v1(&StateVector::default())
}

pub(crate) fn random<const N: usize>() -> Result<[u8; N], BoardError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| BoardError::Entropy(e.to_string()))?;
    Ok(bytes)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Links, MemStore};
    use hindsight_shared::Access;

    #[test]
    fn a_new_board_is_stored_with_a_key_that_only_its_hash_remembers() {
        let store = MemStore::default();
        let made = create_blank(&store, "Outage", 1.0, Template::postmortem()).unwrap();
        assert_eq!(made.facilitator_key.len(), 32);
        let doc = read(&store, &made.id).unwrap().expect("stored");
        let board = Board::new(&doc);
        let txn = doc.transact();
        assert_eq!(board.title(&txn), "Outage");
        assert!(board.is_facilitator(&txn, &made.facilitator_key));
        let Links::Hashes(links) = store.links(&made.id).unwrap() else {
            panic!("a new board has links");
        };
        assert_eq!(links.check(&made.edit_token), Some(Access::Edit));
        assert_eq!(
            links.check(&made.edit_token.read_token()),
            Some(Access::Read)
        );
        assert!(read(&store, &BoardId::from_random([9; 16]))
            .unwrap()
            .is_none());
    }

    #[test]
    fn an_export_becomes_an_identical_board_and_a_bad_one_stores_nothing() {
        let store = MemStore::default();
        let original = create_blank(&store, "Payments", 5.0, Template::postmortem()).unwrap();
        let doc = read(&store, &original.id).unwrap().unwrap();
        let data = export::export(&Board::new(&doc), &doc.transact());

        let copy = create_from_export(&store, &data, usize::MAX).unwrap();
        assert_ne!(copy.id, original.id);
        assert_ne!(copy.facilitator_key, original.facilitator_key);
        assert_ne!(
            copy.edit_token, original.edit_token,
            "a copy has its own links"
        );
        let doc = read(&store, &copy.id).unwrap().unwrap();
        assert_eq!(export::export(&Board::new(&doc), &doc.transact()), data);

        let mut bad = data;
        bad.version = 99;
        assert!(matches!(
            create_from_export(&store, &bad, usize::MAX),
            Err(BoardError::Import(_))
        ));
        assert_eq!(store.list().unwrap().len(), 2);
    }

    #[test]
    fn relinking_replaces_both_links() {
        let store = MemStore::default();
        let made = create_blank(&store, "Outage", 1.0, Template::postmortem()).unwrap();
        let new = relink(&store, &made.id).unwrap().expect("the board exists");
        let Links::Hashes(links) = store.links(&made.id).unwrap() else {
            panic!("still linked");
        };
        assert_eq!(links.check(&made.edit_token), None);
        assert_eq!(links.check(&made.edit_token.read_token()), None);
        assert_eq!(links.check(&new), Some(Access::Edit));
        assert!(relink(&store, &BoardId::from_random([3; 16]))
            .unwrap()
            .is_none());
    }
}
