//! Board links: who may change a board and who may only look.
//!
//! Each board has two capabilities, carried by a link's `?token=` query parameter:
//!
//! ```text
//! edit token   e-<32 lowercase hex>   128 random bits; may change the board
//! read token   r-<32 lowercase hex>   derived from the edit token; may only look
//! ```
//!
//! The read token is a one-way function of the edit token, so whoever holds the edit
//! link can always offer the read-only one (the page computes it), and nobody can go the
//! other way. The server keeps only the SHA-256 of each token ([`AccessHashes`]), so its
//! database does not hold working links.
//!
//! The prefix says which kind a token claims to be, so a page knows at once (even
//! offline) whether to offer editing. Only the server's check grants anything: a read
//! token relabelled `e-` matches neither hash.

use std::fmt;

use sha2::{Digest, Sha256};

/// What a link lets its holder do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Edit,
    Read,
}

/// Why a `token` parameter is not a well-formed token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("a board link needs its token (?token=…)")]
    Missing,
    #[error("a token is `e-` or `r-` followed by 32 lowercase hex digits")]
    Malformed,
}

const EDIT_PREFIX: &str = "e-";
const READ_PREFIX: &str = "r-";
const DIGITS: usize = 32;
/// Domain separation, so a read token can never equal a hash used anywhere else.
const READ_DERIVATION: &[u8] = b"hindsight read token\0";

/// A well-formed token: its text and the access it claims.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    text: String,
    claims: Access,
}

impl Token {
    /// A new edit token from 16 random bytes.
    pub fn edit_from_random(bytes: [u8; 16]) -> Token {
        Token {
            text: format!("{EDIT_PREFIX}{}", hex(&bytes)),
            claims: Access::Edit,
        }
    }

    /// Parses a `token` query value; `None` (no parameter) is [`TokenError::Missing`].
    pub fn parse(value: Option<&str>) -> Result<Token, TokenError> {
        let value = value.ok_or(TokenError::Missing)?;
        let (claims, digits) = if let Some(d) = value.strip_prefix(EDIT_PREFIX) {
            (Access::Edit, d)
        } else if let Some(d) = value.strip_prefix(READ_PREFIX) {
            (Access::Read, d)
        } else {
            return Err(TokenError::Malformed);
        };
        let lower_hex = |c: u8| c.is_ascii_digit() || (b'a'..=b'f').contains(&c);
        if digits.len() != DIGITS || !digits.bytes().all(lower_hex) {
            return Err(TokenError::Malformed);
        }
        Ok(Token {
            text: value.to_owned(),
            claims,
        })
    }

    /// What the token says it grants; the server's [`AccessHashes::check`] decides.
    pub fn claims(&self) -> Access {
        self.claims
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The read token belonging to this edit token; a read token is its own.
    pub fn read_token(&self) -> Token {
        match self.claims {
            Access::Read => self.clone(),
            Access::Edit => {
                let mut hasher = Sha256::new();
                hasher.update(READ_DERIVATION);
                hasher.update(self.text.as_bytes());
                let digest = hasher.finalize();
                Token {
                    text: format!("{READ_PREFIX}{}", hex(&digest[..DIGITS / 2])),
                    claims: Access::Read,
                }
            }
        }
    }

    fn hash(&self) -> [u8; 32] {
        Sha256::digest(self.text.as_bytes()).into()
    }
}

/// Tokens are secrets: debug output never shows one.
impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token({:?}, ..)", self.claims)
    }
}

/// What the server stores about a board's links: the SHA-256 of each token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccessHashes {
    edit: [u8; 32],
    read: [u8; 32],
}

impl AccessHashes {
    pub const ENCODED_LEN: usize = 64;

    /// The hashes for an edit token and the read token derived from it.
    pub fn for_edit_token(edit: &Token) -> AccessHashes {
        AccessHashes {
            edit: edit.hash(),
            read: edit.read_token().hash(),
        }
    }

    /// What `token` grants on this board, if anything. Compares in constant time, so
    /// response timing says nothing about how close a guess was.
    pub fn check(&self, token: &Token) -> Option<Access> {
        let hash = token.hash();
        if constant_time_eq(&hash, &self.edit) {
            Some(Access::Edit)
        } else if constant_time_eq(&hash, &self.read) {
            Some(Access::Read)
        } else {
            None
        }
    }

    pub fn to_bytes(&self) -> [u8; Self::ENCODED_LEN] {
        let mut bytes = [0u8; Self::ENCODED_LEN];
        bytes[..32].copy_from_slice(&self.edit);
        bytes[32..].copy_from_slice(&self.read);
        bytes
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<AccessHashes> {
        if bytes.len() != Self::ENCODED_LEN {
            return None;
        }
        Some(AccessHashes {
            edit: bytes[..32].try_into().ok()?,
            read: bytes[32..].try_into().ok()?,
        })
    }
}

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit() -> Token {
        Token::edit_from_random([0x5a; 16])
    }

    #[test]
    fn tokens_parse_only_in_their_exact_form() {
        let token = edit();
        assert_eq!(token.as_str(), format!("e-{}", "5a".repeat(16)));
        assert_eq!(Token::parse(Some(token.as_str())), Ok(token.clone()));
        let read = token.read_token();
        assert!(read.as_str().starts_with("r-"));
        assert_eq!(
            Token::parse(Some(read.as_str())).unwrap().claims(),
            Access::Read
        );

        assert_eq!(Token::parse(None), Err(TokenError::Missing));
        let digits = "5a".repeat(16);
        for bad in [
            String::new(),
            digits.clone(),
            format!("x-{digits}"),
            format!("e-{}", &digits[1..]),
            format!("e-{digits}0"),
            format!("e-{}", digits.to_uppercase()),
            format!("e-{}g", &digits[1..]),
            format!("E-{digits}"),
            format!("e-{}/..", &digits[4..]),
        ] {
            assert_eq!(
                Token::parse(Some(&bad)),
                Err(TokenError::Malformed),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn each_token_grants_exactly_its_access() {
        let token = edit();
        let hashes = AccessHashes::for_edit_token(&token);
        assert_eq!(hashes.check(&token), Some(Access::Edit));
        assert_eq!(hashes.check(&token.read_token()), Some(Access::Read));
        // Relabelling a read token as an edit token grants nothing.
        let relabelled = format!("e-{}", &token.read_token().as_str()[2..]);
        assert_eq!(
            hashes.check(&Token::parse(Some(&relabelled)).unwrap()),
            None
        );
        // Another board's tokens grant nothing here.
        let other = Token::edit_from_random([7; 16]);
        assert_eq!(hashes.check(&other), None);
        assert_eq!(hashes.check(&other.read_token()), None);
    }

    #[test]
    fn the_read_token_is_stable_and_its_own_read_token() {
        let read = edit().read_token();
        assert_eq!(read, edit().read_token());
        assert_eq!(read.read_token(), read);
        assert_ne!(read.as_str()[2..], edit().as_str()[2..]);
    }

    #[test]
    fn hashes_round_trip_and_refuse_other_lengths() {
        let hashes = AccessHashes::for_edit_token(&edit());
        assert_eq!(AccessHashes::from_bytes(&hashes.to_bytes()), Some(hashes));
        assert_eq!(AccessHashes::from_bytes(&[0; 63]), None);
        assert_eq!(AccessHashes::from_bytes(&[0; 65]), None);
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let token = edit();
        assert!(!format!("{token:?}").contains(&token.as_str()[2..]));
    }
}
