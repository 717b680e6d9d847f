//! The end-to-end tests, one module per subject, in one test binary: one link step and
//! one process for all of them, where a binary per file linked the server and the
//! support library seventeen times. `cargo test -p hindsight-tests --test it sync::`
//! runs one module; the helpers they share are the `hindsight_tests` library
//! (`tests/support`).

mod access;
mod anonymity;
mod browser;
mod browser_a11y;
mod browser_access;
mod browser_collab;
mod browser_layout;
mod browser_live;
mod browser_templates;
mod browser_workflow;
mod crash;
mod durability;
mod export;
mod facilitation;
mod history;
mod interop;
mod limits;
mod migrate;
mod multinode;
mod operations;
mod outage;
mod postgres_tls;
mod saved;
mod security;
mod store_postgres;
mod sync;
mod templates;
mod timeline_paste;
mod undo;
mod xss;
