//! This page's board link: the `?token=` it was opened with, what it claims to grant, and
//! the links the page offers to copy. The server decides what a token grants; the page
//! only uses the claim to show read-only mode at once, even offline (see
//! `hindsight_shared::access`).

use hindsight_shared::{Access, BoardId, Token};
use leptos::prelude::window;

/// The board link this page was opened with.
#[derive(Clone, Debug)]
pub struct Link {
    id: BoardId,
    /// `None` when the URL has no well-formed token; the server then refuses the socket
    /// with a close code the page explains.
    token: Option<Token>,
}

impl Link {
    /// The link in the address bar.
    pub fn from_location(id: BoardId) -> Link {
        let search = window().location().search().unwrap_or_default();
        Link::from_search(id, &search)
    }

    fn from_search(id: BoardId, search: &str) -> Link {
        let value = search
            .trim_start_matches('?')
            .split('&')
            .find_map(|pair| pair.strip_prefix("token="));
        Link {
            id,
            token: Token::parse(value).ok(),
        }
    }

    /// Whether this page may only look. A page without a token is not read-only: it has
    /// no access at all, which the server says when it refuses the connection.
    pub fn read_only(&self) -> bool {
        self.token.as_ref().map(Token::claims) == Some(Access::Read)
    }

    /// `?token=…` to append to this board's WebSocket and API URLs.
    pub fn query(&self) -> String {
        self.token
            .as_ref()
            .map(|t| format!("?token={}", t.as_str()))
            .unwrap_or_default()
    }

    /// The edit link, if this page has it.
    pub fn edit_url(&self) -> Option<String> {
        let token = self.token.as_ref().filter(|t| t.claims() == Access::Edit)?;
        Some(self.url(token))
    }

    /// The read-only link, which every page with a token can offer.
    pub fn read_url(&self) -> Option<String> {
        Some(self.url(&self.token.as_ref()?.read_token()))
    }

    fn url(&self, token: &Token) -> String {
        let origin = window().location().origin().unwrap_or_default();
        format!("{origin}/b/{}?token={}", self.id, token.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_read_from_the_query_among_other_parameters() {
        let id = BoardId::from_random([1; 16]);
        let edit = Token::edit_from_random([2; 16]);
        let link = Link::from_search(id, &format!("?x=1&token={}&y", edit.as_str()));
        assert!(!link.read_only());
        assert_eq!(link.query(), format!("?token={}", edit.as_str()));

        let read = edit.read_token();
        let link = Link::from_search(id, &format!("?token={}", read.as_str()));
        assert!(link.read_only());
        assert_eq!(link.query(), format!("?token={}", read.as_str()));

        for search in ["", "?", "?token=", "?token=nonsense", "?tok=e-00"] {
            let link = Link::from_search(id, search);
            assert!(!link.read_only(), "{search:?}");
            assert_eq!(link.query(), "", "{search:?}");
        }
    }
}
