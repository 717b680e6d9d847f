//! Group commit across boards: rooms write their batches to the store without waiting for
//! the disk, then ask for durability here. A flush covers every write that finished
//! before it started, so all rooms that asked while one flush was running share the next
//! one: under load, one fsync per flush period, not one per board (let alone per update).
//!
//! No task of its own: the first room to ask flushes (the leader), the others wait their
//! turn on a fair lock and find, when they get it, that a flush which started after they
//! asked has already covered them. Each request takes a ticket; a leader notes the last
//! ticket issued before its flush starts, and that flush covers every ticket up to it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::Mutex;

use crate::store::{Store, StoreError};

#[derive(Default)]
pub struct GroupCommit {
    /// Tickets issued: one per request, taken after the caller's write returned.
    issued: AtomicU64,
    /// The last ticket a successful flush covered; held by the flushing leader.
    covered: Mutex<u64>,
}

impl GroupCommit {
    /// Returns once everything this caller wrote to `store` before the call is on disk.
    pub async fn durable(&self, store: &Arc<dyn Store>) -> Result<(), StoreError> {
        let ticket = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
        let mut covered = self.covered.lock().await;
        if *covered >= ticket {
            return Ok(());
        }
        // Every ticket issued so far belongs to a write that has returned, so the flush
        // that starts now covers them all.
        let upto = self.issued.load(Ordering::SeqCst);
        let store = Arc::clone(store);
        tokio::task::spawn_blocking(move || store.flush())
            .await
            .map_err(|e| StoreError::Backend(format!("flush task failed: {e}")))??;
        metrics::histogram!(crate::stats::FLUSH_GROUP).record((upto - *covered) as f64);
        *covered = upto;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Condvar, Mutex};

    use hindsight_shared::{AccessHashes, BoardId};

    use super::*;
    use crate::store::{Links, MemStore, StoredBoard};

    /// A store whose flushes are counted and can be held at the door.
    #[derive(Default)]
    struct Door {
        inner: MemStore,
        /// (flushes started, held shut)
        state: Mutex<(usize, bool)>,
        changed: Condvar,
    }

    impl Store for Door {
        fn create(
            &self,
            b: &BoardId,
            s: &[u8],
            l: Option<&AccessHashes>,
        ) -> Result<(), StoreError> {
            self.inner.create(b, s, l)
        }
        fn load(&self, b: &BoardId) -> Result<Option<StoredBoard>, StoreError> {
            self.inner.load(b)
        }
        fn links(&self, b: &BoardId) -> Result<Links, StoreError> {
            self.inner.links(b)
        }
        fn set_links(&self, b: &BoardId, l: &AccessHashes) -> Result<bool, StoreError> {
            self.inner.set_links(b, l)
        }
        fn write(&self, b: &BoardId, first: u64, u: &[Vec<u8>]) -> Result<(), StoreError> {
            self.inner.write(b, first, u)
        }
        fn compact(&self, b: &BoardId, s: &[u8], upto: u64) -> Result<(), StoreError> {
            self.inner.compact(b, s, upto)
        }
        fn flush(&self) -> Result<(), StoreError> {
            let mut state = self.state.lock().unwrap();
            state.0 += 1;
            self.changed.notify_all();
            while state.1 {
                state = self.changed.wait(state).unwrap();
            }
            Ok(())
        }
        fn list(&self) -> Result<Vec<BoardId>, StoreError> {
            self.inner.list()
        }
        fn delete(&self, b: &BoardId) -> Result<bool, StoreError> {
            self.inner.delete(b)
        }
        fn probe(&self) -> Result<(), StoreError> {
            self.inner.probe()
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn requests_made_during_a_flush_share_the_next_one() {
        let door = Arc::new(Door::default());
        door.state.lock().unwrap().1 = true;
        let store: Arc<dyn Store> = door.clone();
        let commit = Arc::new(GroupCommit::default());

        let first = tokio::spawn({
            let (commit, store) = (commit.clone(), store.clone());
            async move { commit.durable(&store).await }
        });
        // Wait until the first flush is running (and held).
        let started = {
            let door = door.clone();
            move || door.state.lock().unwrap().0
        };
        while started() < 1 {
            tokio::task::yield_now().await;
        }
        let later: Vec<_> = (0..5)
            .map(|_| {
                let (commit, store) = (commit.clone(), store.clone());
                tokio::spawn(async move { commit.durable(&store).await })
            })
            .collect();
        // Every later request is queued before the door opens.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(!first.is_finished(), "the first flush is still held");
        door.state.lock().unwrap().1 = false;
        door.changed.notify_all();

        first.await.unwrap().unwrap();
        for request in later {
            request.await.unwrap().unwrap();
        }
        assert_eq!(started(), 2, "five requests, one more flush");
    }

    #[tokio::test]
    async fn a_failed_flush_is_reported_and_the_next_request_flushes_again() {
        let mem = Arc::new(MemStore::default());
        let store: Arc<dyn Store> = mem.clone();
        let commit = GroupCommit::default();
        mem.set_failing(true);
        assert!(commit.durable(&store).await.is_err());
        mem.set_failing(false);
        commit.durable(&store).await.unwrap();
    }
}
