//! Sticky-note colours. The document stores the colour's name, so that every client,
//! including third-party ones, can choose how to draw it.

/// The colours a note can have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum NoteColor {
    #[default]
    Yellow,
    Orange,
    Pink,
    Purple,
    Blue,
    Green,
    Gray,
}

impl NoteColor {
    pub const ALL: [NoteColor; 7] = [
        NoteColor::Yellow,
        NoteColor::Orange,
        NoteColor::Pink,
        NoteColor::Purple,
        NoteColor::Blue,
        NoteColor::Green,
        NoteColor::Gray,
    ];

    /// The name stored in the document.
    pub fn as_str(self) -> &'static str {
        match self {
            NoteColor::Yellow => "yellow",
            NoteColor::Orange => "orange",
            NoteColor::Pink => "pink",
            NoteColor::Purple => "purple",
            NoteColor::Blue => "blue",
            NoteColor::Green => "green",
            NoteColor::Gray => "gray",
        }
    }

    /// Reads a stored name. Unknown names, perhaps from a newer or foreign client, are
    /// not an error: the note is simply drawn in the default colour.
    pub fn from_name(name: &str) -> NoteColor {
        NoteColor::ALL
            .into_iter()
            .find(|c| c.as_str() == name)
            .unwrap_or_default()
    }
}

/// In template files and exports a colour is its stored name; an unknown name there is a
/// mistake to report, unlike in a document written by another client.
impl serde::Serialize for NoteColor {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for NoteColor {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<NoteColor, D::Error> {
        let name = String::deserialize(d)?;
        NoteColor::ALL
            .into_iter()
            .find(|c| c.as_str() == name)
            .ok_or_else(|| {
                let names: Vec<_> = NoteColor::ALL.iter().map(|c| c.as_str()).collect();
                serde::de::Error::custom(format!(
                    "unknown colour {name:?}, expected one of {}",
                    names.join(", ")
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_falls_back() {
        for c in NoteColor::ALL {
            assert_eq!(NoteColor::from_name(c.as_str()), c);
        }
        assert_eq!(NoteColor::from_name("chartreuse"), NoteColor::Yellow);
    }
}
