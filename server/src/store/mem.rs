//! An in-memory store for tests of the room machinery: the same contract as sled,
//! nothing on disk. Faults are injected by wrapping it in [`super::testing::Faulty`].

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use hindsight_shared::{AccessHashes, BoardId};

use super::{Links, Store, StoreError, StoredBoard};

/// Boards in a map; every call takes the one lock, so each is atomic.
#[derive(Default)]
pub struct MemStore {
    boards: Mutex<HashMap<BoardId, MemBoard>>,
}

#[derive(Default)]
struct MemBoard {
    snapshot: Vec<u8>,
    upto: u64,
    updates: BTreeMap<u64, Vec<u8>>,
    links: Option<AccessHashes>,
    versions: BTreeMap<u64, Vec<u8>>,
}

impl Store for MemStore {
    fn create(
        &self,
        board: &BoardId,
        snapshot: &[u8],
        links: Option<&AccessHashes>,
    ) -> Result<(), StoreError> {
        let mut boards = self.boards.lock().expect("store lock");
        if boards.contains_key(board) {
            return Err(StoreError::AlreadyExists);
        }
        boards.insert(
            *board,
            MemBoard {
                snapshot: snapshot.to_vec(),
                links: links.copied(),
                ..MemBoard::default()
            },
        );
        Ok(())
    }

    fn links(&self, board: &BoardId) -> Result<Links, StoreError> {
        let boards = self.boards.lock().expect("store lock");
        Ok(match boards.get(board) {
            None => Links::NoBoard,
            Some(MemBoard { links: None, .. }) => Links::Unlinked,
            Some(MemBoard {
                links: Some(links), ..
            }) => Links::Hashes(*links),
        })
    }

    fn set_links(&self, board: &BoardId, links: &AccessHashes) -> Result<bool, StoreError> {
        let mut boards = self.boards.lock().expect("store lock");
        Ok(boards
            .get_mut(board)
            .map(|b| b.links = Some(*links))
            .is_some())
    }

    fn load(&self, board: &BoardId) -> Result<Option<StoredBoard>, StoreError> {
        let boards = self.boards.lock().expect("store lock");
        Ok(boards.get(board).map(|b| StoredBoard {
            snapshot: b.snapshot.clone(),
            updates: b.updates.values().cloned().collect(),
            next_seq: b.updates.keys().last().map_or(b.upto, |s| s + 1),
        }))
    }

    fn write(
        &self,
        board: &BoardId,
        first_seq: u64,
        updates: &[Vec<u8>],
    ) -> Result<(), StoreError> {
        let mut boards = self.boards.lock().expect("store lock");
        let b = boards.entry(*board).or_default();
        for (i, u) in updates.iter().enumerate() {
            b.updates.insert(first_seq + i as u64, u.clone());
        }
        Ok(())
    }

    fn compact(&self, board: &BoardId, snapshot: &[u8], upto: u64) -> Result<(), StoreError> {
        let mut boards = self.boards.lock().expect("store lock");
        let b = boards.entry(*board).or_default();
        b.snapshot = snapshot.to_vec();
        b.upto = upto;
        b.updates = b.updates.split_off(&upto);
        Ok(())
    }

    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn list(&self) -> Result<Vec<BoardId>, StoreError> {
        let boards = self.boards.lock().expect("store lock");
        let mut ids: Vec<BoardId> = boards.keys().copied().collect();
        ids.sort_by_key(|id| *id.as_bytes());
        Ok(ids)
    }

    fn delete(&self, board: &BoardId) -> Result<bool, StoreError> {
        Ok(self
            .boards
            .lock()
            .expect("store lock")
            .remove(board)
            .is_some())
    }

    fn probe(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn data_bytes(&self) -> Result<u64, StoreError> {
        let boards = self.boards.lock().expect("store lock");
        Ok(boards
            .values()
            .map(|b| {
                b.snapshot.len()
                    + b.updates.values().map(Vec::len).sum::<usize>()
                    + b.versions.values().map(Vec::len).sum::<usize>()
            })
            .sum::<usize>() as u64)
    }

    fn keep_version(&self, board: &BoardId, at: u64, state: &[u8]) -> Result<(), StoreError> {
        let mut boards = self.boards.lock().expect("store lock");
        if let Some(b) = boards.get_mut(board) {
            b.versions.insert(at, state.to_vec());
        }
        Ok(())
    }

    fn versions(&self, board: &BoardId) -> Result<Vec<(u64, u64)>, StoreError> {
        let boards = self.boards.lock().expect("store lock");
        Ok(boards.get(board).map_or_else(Vec::new, |b| {
            b.versions
                .iter()
                .map(|(at, v)| (*at, v.len() as u64))
                .collect()
        }))
    }

    fn version(&self, board: &BoardId, at: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let boards = self.boards.lock().expect("store lock");
        Ok(boards.get(board).and_then(|b| b.versions.get(&at).cloned()))
    }

    fn forget_versions(&self, board: &BoardId, ats: &[u64]) -> Result<(), StoreError> {
        let mut boards = self.boards.lock().expect("store lock");
        if let Some(b) = boards.get_mut(board) {
            for at in ats {
                b.versions.remove(at);
            }
        }
        Ok(())
    }
}
