//! The Hindsight page: picks a page from the URL path and mounts it.
//!
//! There are only two real routes, `/` and `/b/{board id}`, so the path is matched here
//! by hand; every page load is a full navigation.

mod announce;
mod board;
mod camera;
mod canvas;
mod context;
mod cull;
mod debug;
mod dom;
mod facilitation;
mod facts;
mod field;
mod follow;
mod history;
mod indices;
mod link;
mod list;
mod name;
mod navigate;
mod note;
mod note_fields;
mod note_keys;
mod notes;
mod offline;
mod overview;
mod placement;
mod presence;
mod provider;
mod selection;
mod start;
mod store;
mod sync;
mod timeline_import;
mod toast;
mod versions;

use hindsight_shared::{close, BoardId};
use leptos::prelude::*;

use crate::board::BoardPage;
use crate::start::{NotFound, StartPage};

#[derive(Debug, PartialEq)]
enum Route {
    Start,
    Board(BoardId),
    BadBoard,
    NotFound,
}

fn route(path: &str) -> Route {
    let path = path.trim_end_matches('/');
    if path.is_empty() {
        return Route::Start;
    }
    match path.strip_prefix("/b/") {
        Some(id) => id.parse().map_or(Route::BadBoard, Route::Board),
        None => Route::NotFound,
    }
}

fn main() {
    console_error_panic_hook::set_once();
    let path = window().location().pathname().unwrap_or_default();
    mount_to_body(move || match route(&path) {
        Route::Start => view! { <StartPage /> }.into_any(),
        Route::Board(id) => view! { <BoardPage id=id /> }.into_any(),
        Route::BadBoard => {
            view! { <NotFound message=close::describe(close::INVALID_BOARD_ID) /> }.into_any()
        }
        Route::NotFound => view! { <NotFound message="This page does not exist." /> }.into_any(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_route_to_pages() {
        let id = "0123456789abcdef0123456789abcdef";
        assert_eq!(route("/"), Route::Start);
        assert_eq!(route(""), Route::Start);
        assert_eq!(
            route(&format!("/b/{id}")),
            Route::Board(id.parse().unwrap())
        );
        assert_eq!(
            route(&format!("/b/{id}/")),
            Route::Board(id.parse().unwrap())
        );
        assert_eq!(route("/b/nope"), Route::BadBoard);
        assert_eq!(route("/b/"), Route::NotFound);
        assert_eq!(route("/elsewhere"), Route::NotFound);
    }
}
