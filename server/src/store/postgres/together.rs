//! Group commit across boards: rooms' writes that come while another write is being
//! committed wait, and go together in the next transaction.
//!
//! PostgreSQL spends most of a one-row write on the transaction around it (about 135 µs
//! of its CPU per row one at a time, 58 µs per row four boards at a time, measured with
//! pgbench; BENCHMARKS.md). sled shares its flushes across boards (`commit.rs`);
//! PostgreSQL commits on every write, so the sharing happens here, before the write.
//!
//! No task of its own, as in `commit.rs`: the first writer to find nobody writing leads.
//! It takes what is queued (its own write first), stores it with one call, hands every
//! writer its result, and stops leading; a writer still queued then leads the next
//! group. Under a light load a group holds one write and nothing waits; as the load
//! grows, the writes queued behind a commit grow with it.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Condvar, Mutex, MutexGuard};

use hindsight_shared::BoardId;

use crate::store::StoreError;

/// One room's batch: updates numbered `first_seq`, `first_seq + 1`, … of `board`.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub board: BoardId,
    pub first_seq: u64,
    pub updates: Vec<Vec<u8>>,
}

/// Most writes in one group, so one transaction stays short.
pub const MOST_TOGETHER: usize = 32;

#[derive(Default)]
pub struct Together {
    state: Mutex<State>,
    /// Signalled when a group's results are in.
    done: Condvar,
}

#[derive(Default)]
struct State {
    queued: VecDeque<(u64, Batch)>,
    leading: bool,
    next_ticket: u64,
    results: HashMap<u64, Result<(), StoreError>>,
}

impl Together {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("group commit lock")
    }

    /// Stores `write` with whatever others are queued, through `store`, which returns one
    /// result per write it is given, in order.
    pub fn write(
        &self,
        write: Batch,
        store: impl Fn(&[Batch]) -> Vec<Result<(), StoreError>>,
    ) -> Result<(), StoreError> {
        let mut state = self.state();
        let ticket = state.next_ticket;
        state.next_ticket += 1;
        state.queued.push_back((ticket, write));
        loop {
            if let Some(result) = state.results.remove(&ticket) {
                return result;
            }
            if state.leading {
                state = self.done.wait(state).expect("group commit lock");
                continue;
            }
            state.leading = true;
            let (tickets, group) = take_group(&mut state.queued);
            drop(state);
            metrics::histogram!(crate::stats::WRITE_GROUP).record(group.len() as f64);
            // A panic in `store` must not leave every later writer waiting for a leader.
            let stored = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| store(&group)));
            state = self.state();
            state.leading = false;
            match stored {
                Ok(results) if results.len() == tickets.len() => {
                    state.results.extend(tickets.into_iter().zip(results));
                }
                Ok(_) | Err(_) => {
                    for ticket in tickets {
                        let failed = StoreError::backend("the group's write failed");
                        state.results.insert(ticket, Err(failed));
                    }
                }
            }
            self.done.notify_all();
        }
    }
}

/// The oldest queued writes, at most [`MOST_TOGETHER`] and one per board: a board's
/// second batch is numbered after its first, so it waits for the next group.
fn take_group(queued: &mut VecDeque<(u64, Batch)>) -> (Vec<u64>, Vec<Batch>) {
    let mut boards = HashSet::new();
    let (mut tickets, mut group) = (Vec::new(), Vec::new());
    let mut later = VecDeque::new();
    while let Some((ticket, write)) = queued.pop_front() {
        if group.len() < MOST_TOGETHER && boards.insert(write.board) {
            tickets.push(ticket);
            group.push(write);
        } else {
            later.push_back((ticket, write));
        }
    }
    *queued = later;
    (tickets, group)
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Barrier};
    use std::time::Duration;

    use super::*;

    fn write(board: u8, first_seq: u64) -> Batch {
        Batch {
            board: BoardId::from_bytes([board; 16]),
            first_seq,
            updates: vec![vec![board]],
        }
    }

    #[test]
    fn writes_queued_behind_a_group_go_together_in_the_next() {
        let together = Arc::new(Together::default());
        let groups = Arc::new(Mutex::new(Vec::<Vec<Batch>>::new()));
        let (first_in, release) = (Arc::new(Barrier::new(2)), Arc::new(Barrier::new(2)));
        let store = {
            let (groups, first_in, release) = (groups.clone(), first_in.clone(), release.clone());
            move |group: &[Batch]| {
                let first = groups.lock().unwrap().is_empty();
                groups.lock().unwrap().push(group.to_vec());
                if first {
                    // Hold the first group until the others are queued.
                    first_in.wait();
                    release.wait();
                }
                group.iter().map(|_| Ok(())).collect()
            }
        };
        let spawn = |w: Batch| {
            let (together, store) = (together.clone(), store.clone());
            std::thread::spawn(move || together.write(w, store))
        };
        let leader = spawn(write(1, 0));
        first_in.wait();
        // Board 2 twice: its second batch must wait for a group of its own.
        let others: Vec<_> = [write(2, 0), write(3, 0), write(2, 1)]
            .into_iter()
            .map(|w| {
                let handle = spawn(w);
                std::thread::sleep(Duration::from_millis(30));
                handle
            })
            .collect();
        release.wait();
        leader.join().unwrap().unwrap();
        for other in others {
            other.join().unwrap().unwrap();
        }
        let groups = groups.lock().unwrap();
        assert_eq!(
            *groups,
            [
                vec![write(1, 0)],
                vec![write(2, 0), write(3, 0)],
                vec![write(2, 1)]
            ]
        );
    }

    #[test]
    fn each_writer_gets_its_own_result_and_a_panic_fails_only_its_group() {
        let together = Together::default();
        let refuse_board_two = |group: &[Batch]| {
            group
                .iter()
                .map(|w| match w.board.as_bytes()[0] {
                    2 => Err(StoreError::Conflict(w.board)),
                    _ => Ok(()),
                })
                .collect()
        };
        assert!(together.write(write(1, 0), refuse_board_two).is_ok());
        assert!(matches!(
            together.write(write(2, 0), refuse_board_two),
            Err(StoreError::Conflict(_))
        ));
        let panics = |_: &[Batch]| -> Vec<Result<(), StoreError>> { panic!("a bug") };
        assert!(matches!(
            together.write(write(3, 0), panics),
            Err(StoreError::Backend(_))
        ));
        // Nobody is left leading.
        assert!(together.write(write(3, 0), refuse_board_two).is_ok());
    }
}
