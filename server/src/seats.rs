//! Seats: a board's connections counted on every node together, when several nodes share
//! one database (`Store::budgets`). Behind a load balancer each node would otherwise
//! admit `--max-board-connections` of its own, and a board's every update fans out to
//! all of them on every node.
//!
//! A connection takes its board's seat before it joins the room and holds it as long as
//! its [`Seat`] lives (in its `Membership`); dropping it gives the seat back. Giving back
//! and renewing happen on one task of the node's (`keep`), off every connection's path:
//! a release the database refused is tried again at the next renewal, and renewing takes
//! back any of this node's seats that expired while it could not reach the database.
//! A single node counts in its room alone (`rooms.rs`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use hindsight_shared::BoardId;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::store::{self, Store, StoreError, SEAT_EXPIRES};

/// This node's seats on the boards of a shared store.
pub struct Seats {
    store: Arc<dyn Store>,
    /// The seats taken and not given back, by connection: what a renewal renews.
    held: Mutex<HashMap<u64, BoardId>>,
    released: mpsc::UnboundedSender<u64>,
}

/// One connection's seat on its board, given back when dropped.
pub struct Seat {
    conn: u64,
    seats: Arc<Seats>,
}

impl Drop for Seat {
    fn drop(&mut self) {
        self.seats.held().remove(&self.conn);
        // After shutdown nobody gives it back here; the seat expires instead.
        let _ = self.seats.released.send(self.conn);
    }
}

impl Seats {
    /// The node's seats if `store` counts budgets for several nodes, with the task that
    /// renews them and gives them back (and gives back what is left at shutdown).
    pub fn start(
        store: &Arc<dyn Store>,
        tracker: &TaskTracker,
        shutdown: CancellationToken,
    ) -> Option<Arc<Seats>> {
        store.budgets()?;
        let (released, rx) = mpsc::unbounded_channel();
        let seats = Arc::new(Seats {
            store: Arc::clone(store),
            held: Mutex::default(),
            released,
        });
        tracker.spawn(keep(Arc::clone(&seats), rx, shutdown));
        Some(seats)
    }

    /// A seat on `board` for connection `conn`, or `None` if `max` are taken on all
    /// nodes together.
    pub async fn take(
        self: &Arc<Self>,
        board: BoardId,
        conn: u64,
        max: usize,
    ) -> Result<Option<Seat>, StoreError> {
        let taken = store::on_budgets(&self.store, move |b| b.take_seat(&board, conn, max)).await?;
        if taken == Some(false) {
            return Ok(None);
        }
        self.held().insert(conn, board);
        Ok(Some(Seat {
            conn,
            seats: Arc::clone(self),
        }))
    }

    fn held(&self) -> std::sync::MutexGuard<'_, HashMap<u64, BoardId>> {
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Gives seats back as they are released, and renews the held ones every third of
/// [`SEAT_EXPIRES`], until shutdown.
async fn keep(
    seats: Arc<Seats>,
    mut released: mpsc::UnboundedReceiver<u64>,
    shutdown: CancellationToken,
) {
    let mut renew = tokio::time::interval(SEAT_EXPIRES / 3);
    renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Released and not yet given back (the database refused): tried again.
    let mut pending: Vec<u64> = Vec::new();
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            conn = released.recv() => match conn {
                Some(conn) => pending.push(conn),
                None => break,
            },
            _ = renew.tick() => {
                let held: Vec<(u64, BoardId)> =
                    seats.held().iter().map(|(&c, &b)| (c, b)).collect();
                let renewed = store::on_budgets(&seats.store, move |b| b.renew(&held)).await;
                if let Err(e) = renewed {
                    tracing::warn!(error = %e, "could not renew this node's seats on boards");
                }
            }
        }
        while let Ok(conn) = released.try_recv() {
            pending.push(conn);
        }
        if !pending.is_empty() && give_back(&seats, &pending).await {
            pending.clear();
        }
    }
    // Everything left: the connections end with the server.
    while let Ok(conn) = released.try_recv() {
        pending.push(conn);
    }
    pending.extend(seats.held().keys());
    if !pending.is_empty() {
        give_back(&seats, &pending).await;
    }
}

/// Whether the seats of `conns` were given back.
async fn give_back(seats: &Seats, conns: &[u64]) -> bool {
    let conns = conns.to_vec();
    let count = conns.len();
    let given = store::on_budgets(&seats.store, move |b| b.release_seats(&conns)).await;
    match given {
        Ok(_) => true,
        Err(e) => {
            tracing::warn!(seats = count, error = %e, "could not give back seats on boards; trying again");
            false
        }
    }
}
