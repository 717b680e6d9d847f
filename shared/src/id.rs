//! Board and note identifiers, and the only place that decides what a well-formed one is.
//!
//! A board id is the capability that lets someone join a board, so it carries 128 random
//! bits and is rendered as 32 lowercase hex digits. Generating one needs an entropy source,
//! which differs between server and browser, so callers pass the random bytes in.

use std::fmt;
use std::str::FromStr;

/// Why a string is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("a board id is 32 lowercase hex digits, got {0} characters")]
    BoardLength(usize),
    #[error("a board id is 32 lowercase hex digits, found {0:?}")]
    BoardChar(char),
    #[error("a note id is 1 to 64 characters of A-Z, a-z, 0-9, '-' or '_'")]
    Note,
}

/// The id of one board: 128 random bits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BoardId([u8; 16]);

impl BoardId {
    pub const LEN: usize = 32;

    pub fn from_random(bytes: [u8; 16]) -> BoardId {
        BoardId(bytes)
    }

    /// The raw bytes, used as a compact storage key.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    pub fn from_bytes(bytes: [u8; 16]) -> BoardId {
        BoardId(bytes)
    }
}

impl FromStr for BoardId {
    type Err = IdError;

    fn from_str(s: &str) -> Result<BoardId, IdError> {
        if s.len() != Self::LEN {
            return Err(IdError::BoardLength(s.chars().count()));
        }
        let mut out = [0u8; 16];
        let digits = s.as_bytes();
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = (hex_value(digits[2 * i])? << 4) | hex_value(digits[2 * i + 1])?;
        }
        Ok(BoardId(out))
    }
}

fn hex_value(c: u8) -> Result<u8, IdError> {
    match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        // Only lowercase is accepted so that every board has exactly one spelling.
        _ => Err(IdError::BoardChar(c as char)),
    }
}

impl fmt::Display for BoardId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for BoardId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BoardId({self})")
    }
}

/// The key of one note in the board's `notes` map.
///
/// Notes are created by any client, concurrently, so ids must be unique without
/// coordination: clients use 16 random hex digits. Any short URL-safe string written by a
/// third-party client is accepted too.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct NoteId(String);

impl NoteId {
    pub const MAX_LEN: usize = 64;

    /// A fresh id from 64 random bits.
    pub fn from_random(bytes: [u8; 8]) -> NoteId {
        NoteId(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for NoteId {
    type Err = IdError;

    fn from_str(s: &str) -> Result<NoteId, IdError> {
        let ok = !s.is_empty()
            && s.len() <= Self::MAX_LEN
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(NoteId(s.to_owned()))
        } else {
            Err(IdError::Note)
        }
    }
}

impl fmt::Display for NoteId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_board(input: &str, expected: Result<(), IdError>) {
        let parsed = input.parse::<BoardId>();
        assert_eq!(parsed.clone().map(|_| ()), expected, "{input:?}");
        if let Ok(id) = parsed {
            assert_eq!(id.to_string(), input, "round trip of {input:?}");
        }
    }

    #[test]
    fn board_ids() {
        check_board("0123456789abcdef0123456789abcdef", Ok(()));
        check_board("ffffffffffffffffffffffffffffffff", Ok(()));
        check_board("", Err(IdError::BoardLength(0)));
        check_board("0123456789abcdef", Err(IdError::BoardLength(16)));
        check_board(
            "0123456789abcdef0123456789abcdef0",
            Err(IdError::BoardLength(33)),
        );
        check_board(
            "0123456789ABCDEF0123456789abcdef",
            Err(IdError::BoardChar('A')),
        );
        check_board(
            "../../../../etc/passwd//////////",
            Err(IdError::BoardChar('.')),
        );
        // Multi-byte characters must not be sliced mid-character.
        check_board(
            "é123456789abcdef0123456789abcde",
            Err(IdError::BoardChar('\u{c3}')),
        );
    }

    #[test]
    fn random_board_ids_round_trip() {
        let id = BoardId::from_random([0xab; 16]);
        assert_eq!(id.to_string(), "ab".repeat(16));
        assert_eq!(id.to_string().parse::<BoardId>(), Ok(id));
    }

    #[test]
    fn note_ids() {
        for ok in ["a", "0f3a9c", "note_1-b", &"x".repeat(64)] {
            assert!(ok.parse::<NoteId>().is_ok(), "{ok:?}");
        }
        for bad in ["", "a b", "a/b", "é", &"x".repeat(65)] {
            assert_eq!(bad.parse::<NoteId>(), Err(IdError::Note), "{bad:?}");
        }
        assert_eq!(
            NoteId::from_random([1, 2, 3, 4, 5, 6, 7, 255]).as_str(),
            "01020304050607ff"
        );
    }
}
