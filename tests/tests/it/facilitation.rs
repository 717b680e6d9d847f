//! The facilitator's part of a board, enforced by the server: the step, the timer,
//! follow me and the board's settings change only over a connection that presented the
//! facilitator key. Anyone else's change to them closes that connection with its own
//! code; nothing of it is stored or reaches anyone. A hand-over makes the old key
//! worthless.

use hindsight_shared::close;
use hindsight_tests::{TestServer, YClient};
use yrs::TransactionMut;

use hindsight_shared::Board;

/// The board's facilitation and settings as a client sees them.
fn settings(client: &YClient) -> (Option<u8>, bool, u32, bool, Option<String>) {
    client.edit(|b, txn| {
        (
            b.step(txn),
            b.timer(txn).is_some(),
            b.vote_budget(txn),
            b.anonymous(txn),
            b.facilitator_key_hash(txn),
        )
    })
}

type Change = fn(&Board, &mut TransactionMut);

/// Every way to change the facilitator's part.
const CHANGES: [(&str, Change); 7] = [
    ("step", |b, t| b.set_step(t, Some(4))),
    ("no step", |b, t| b.set_step(t, None)),
    ("timer", |b, t| b.start_timer(t, 0.0, 300)),
    ("no timer", |b, t| b.stop_timer(t)),
    ("anonymity", |b, t| b.set_anonymous(t, true)),
    ("vote budget", |b, t| b.set_vote_budget(t, 99)),
    ("facilitator key", |b, t| {
        b.set_facilitator_key(t, "taken0ver")
    }),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_facilitators_connection_changes_the_meeting_and_settings() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let (board, key) = server.create_facilitated("Outage").await;
    let ws = server.ws_base();

    // The facilitator sets the meeting up: a step and a timer.
    let ada = YClient::connect_facilitating(&ws, &board, &key).await;
    ada.edit(|b, t| {
        b.set_step(t, Some(2));
        b.start_timer(t, 0.0, 600);
    });
    let watcher = YClient::connect(&ws, &board).await;
    watcher
        .wait_until("the change", |b, t| b.step(t) == Some(2))
        .await;
    let before = settings(&watcher);

    for (what, change) in CHANGES {
        // Bo has the edit link but not the key; a wrong key is no better.
        for wrong in [None, Some("0123456789abcdef0123456789abcdef")] {
            let bo = match wrong {
                None => YClient::connect(&ws, &board).await,
                Some(key) => YClient::connect_facilitating(&ws, &board, key).await,
            };
            bo.edit(|b, t| b.set_title(t, "Checkout outage"));
            watcher
                .wait_until("the change", |b, t| b.title(t) == "Checkout outage")
                .await;
            bo.edit(change);
            let closed = bo.wait_closed().await;
            assert_eq!(
                closed.code,
                Some(close::FACILITATOR_ONLY),
                "{what} ({wrong:?}): {closed:?}"
            );
        }
    }
    // Nobody saw any of it, and nothing of it was stored.
    assert_eq!(settings(&watcher), before);
    let later = YClient::connect(&ws, &board).await;
    assert_eq!(settings(&later), before);
    assert!(ada.closed().is_none(), "the facilitator stays connected");

    // The facilitator may do each of them.
    ada.edit(|b, t| {
        b.set_step(t, Some(5));
        b.stop_timer(t);
        b.set_anonymous(t, true);
        b.set_vote_budget(t, 3);
    });
    watcher
        .wait_until("the change", |b, t| b.step(t) == Some(5) && b.anonymous(t))
        .await;

    // Handing over: the new key works, the old one no longer does, on a connection
    // opened before the hand-over too.
    let old = YClient::connect_facilitating(&ws, &board, &key).await;
    let new_key = "feedc0de".repeat(4);
    ada.edit(|b, t| b.set_facilitator_key(t, &new_key));
    watcher
        .wait_until("the change", |b, t| b.is_facilitator(t, &new_key))
        .await;
    old.edit(|b, t| b.set_step(t, Some(1)));
    assert_eq!(old.wait_closed().await.code, Some(close::FACILITATOR_ONLY));
    let cy = YClient::connect_facilitating(&ws, &board, &new_key).await;
    cy.edit(|b, t| b.set_step(t, Some(6)));
    watcher
        .wait_until("the change", |b, t| b.step(t) == Some(6))
        .await;

    // After a restart the guard knows the board's facilitator part from what is stored.
    drop((ada, old, cy, watcher, later));
    server.stop().await;
    let server = TestServer::start(dir.path()).await;
    let dee = YClient::connect(&server.ws_base(), &board).await;
    dee.edit(|b, t| b.set_step(t, Some(2)));
    assert_eq!(dee.wait_closed().await.code, Some(close::FACILITATOR_ONLY));
    let check = YClient::connect(&server.ws_base(), &board).await;
    assert_eq!(check.edit(|b, t| b.step(t)), Some(6));
}
