//! Everything the Hindsight server and client must agree on: the shape of a board's Yrs
//! document, board templates and their regions, identifiers, presence and WebSocket close codes.
//!
//! This crate compiles for both the server and `wasm32-unknown-unknown`, so it must not
//! depend on tokio, sled, web-sys or anything else that only exists on one side, and it
//! performs no I/O.

pub mod access;
pub mod actions;
pub mod close;
pub mod export;
pub mod facilitation;
pub mod facts;
pub mod id;
pub mod layout;
pub mod palette;
pub mod paste;
pub mod presence;
pub mod protocol;
pub mod region;
pub mod schema;
pub mod template;
pub mod timeline;
pub mod timestamp;
pub mod votes;

pub use access::{Access, AccessHashes, Token, TokenError};
pub use id::{BoardId, IdError, NoteId};
pub use palette::NoteColor;
pub use region::{Rect, Region, Role};
pub use schema::{Board, NewNote, NoteData};
pub use template::{Template, TemplateError};
