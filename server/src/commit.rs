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

use crate::store::{self, Store, StoreError};

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
        // A store that commits every write (PostgreSQL, which groups the writes of
        // several boards itself) has nothing to flush: no trip to the blocking pool, and
        // no flush group to count.
        if store.durable_on_write() {
            return Ok(());
        }
        let ticket = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
        let mut covered = self.covered.lock().await;
        if *covered >= ticket {
            return Ok(());
        }
        // Every ticket issued so far belongs to a write that has returned, so the flush
        // that starts now covers them all.
        let upto = self.issued.load(Ordering::SeqCst);
        store::blocking(store, |s| s.flush()).await?;
        metrics::histogram!(crate::stats::FLUSH_GROUP).record((upto - *covered) as f64);
        *covered = upto;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::{Calls, Faulty};
    use crate::store::MemStore;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn requests_made_during_a_flush_share_the_next_one() {
        let faulty = Arc::new(Faulty::new(MemStore::default()));
        let gate = faulty.hold(Calls::Flushes);
        let store: Arc<dyn Store> = faulty.clone();
        let commit = Arc::new(GroupCommit::default());

        let first = tokio::spawn({
            let (commit, store) = (commit.clone(), store.clone());
            async move { commit.durable(&store).await }
        });
        // Wait until the first flush is running (and held).
        while faulty.waiting() < 1 {
            tokio::task::yield_now().await;
        }
        let later: Vec<_> = (0..5)
            .map(|_| {
                let (commit, store) = (commit.clone(), store.clone());
                tokio::spawn(async move { commit.durable(&store).await })
            })
            .collect();
        // Every later request is queued before the gate opens.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(!first.is_finished(), "the first flush is still held");
        drop(gate);

        first.await.unwrap().unwrap();
        for request in later {
            request.await.unwrap().unwrap();
        }
        assert_eq!(faulty.flushes(), 2, "five requests, one more flush");
    }

    #[tokio::test]
    async fn a_failed_flush_is_reported_and_the_next_request_flushes_again() {
        let faulty = Arc::new(Faulty::new(MemStore::default()));
        let store: Arc<dyn Store> = faulty.clone();
        let commit = GroupCommit::default();
        faulty.fail(Calls::Flushes);
        assert!(commit.durable(&store).await.is_err());
        faulty.heal();
        commit.durable(&store).await.unwrap();
        assert_eq!(faulty.flushes(), 2);
    }
}
