//! Finding a time inside a pasted line and rewriting it in the form `timestamp.rs` reads.
//!
//! This module only recognises where a time is and what it says; turning it into an
//! instant (the incident date, the board's offset, validation of the values) stays with
//! [`Timestamp::parse`](crate::timestamp::Timestamp::parse).

use crate::timestamp::TimeError;

/// A time as written in the paste, rewritten for `Timestamp::parse`: `2026-11-20 14:03`,
/// `14:03:22Z`, `2026-11-20 14:03:22+01:00`, `2026-11-20`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Stamp {
    pub text: String,
    /// Whether the paste gave a date; a time without one is read on the running date.
    pub dated: bool,
    /// Whether it gave a time of day, not only a date.
    pub clock: bool,
}

/// A time found at the start of a line.
pub(super) struct Found<'a> {
    pub stamp: Result<Stamp, TimeError>,
    /// What follows the time.
    pub rest: &'a str,
    /// Whether the time was in brackets, as chat logs write it (`[14:03] Ana: …`).
    pub bracketed: bool,
}

/// The time at the very start of `s`, plain (`14:03 …`) or in brackets (`[14:03] …`).
pub(super) fn leading(s: &str) -> Option<Found<'_>> {
    for (open, close) in [('[', ']'), ('(', ')')] {
        if let Some(inner) = s.strip_prefix(open) {
            let end = inner.find(close)?;
            let (stamp, rest) = scan(inner[..end].trim())?;
            return rest.trim().is_empty().then(|| Found {
                stamp,
                rest: &inner[end + close.len_utf8()..],
                bracketed: true,
            });
        }
    }
    let (stamp, rest) = scan(s)?;
    Some(Found {
        stamp,
        rest,
        bracketed: false,
    })
}

/// A cell that holds a time and nothing else.
pub(super) fn whole(s: &str) -> Option<Result<Stamp, TimeError>> {
    let (stamp, rest) = scan(s.trim())?;
    rest.trim().is_empty().then_some(stamp)
}

/// A time that ends `s`, as in a chat header (`Ana Lima  2:03 PM`, `Ana [14:03]`):
/// what comes before it, and the time.
pub(super) fn trailing(s: &str) -> Option<(&str, Result<Stamp, TimeError>)> {
    word_starts(s).find_map(|i| {
        let bracketed = s[..i].ends_with('[');
        let (stamp, rest) = scan(&s[i..])?;
        let rest = rest.trim();
        let rest = if bracketed {
            rest.strip_prefix(']')?.trim()
        } else {
            rest
        };
        let before = if bracketed { &s[..i - 1] } else { &s[..i] };
        rest.is_empty().then_some((before.trim_end(), stamp))
    })
}

/// Whether a time appears anywhere in `s`, to tell people it has to come first.
pub(super) fn anywhere(s: &str) -> bool {
    word_starts(s).any(|i| scan(&s[i..]).is_some())
}

/// Where a time could begin: a digit at the start of a word.
fn word_starts(s: &str) -> impl Iterator<Item = usize> + '_ {
    s.char_indices().filter_map(|(i, c)| {
        let starts_word = s[..i]
            .chars()
            .next_back()
            .is_none_or(|p| p.is_whitespace() || matches!(p, '[' | '(' | '@'));
        (c.is_ascii_digit() && starts_word).then_some(i)
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Meridiem {
    Am,
    Pm,
}

/// Reads a time at the start of `s`: `[date[T| ]]H:MM[:SS[.fff]] [AM|PM] [zone]` or a date
/// alone. `None` when `s` does not start with one; an error when it does but names a
/// clock that does not exist on a 12-hour dial.
fn scan(s: &str) -> Option<(Result<Stamp, TimeError>, &str)> {
    let mut c = Cursor { s, i: 0 };
    let date = c.date();
    let clock = match date {
        Some(_) => c.attempt(|c| {
            c.one_of(b"Tt ")?;
            c.clock()
        }),
        None => Some(c.clock()?),
    };
    let meridiem = clock.and_then(|_| c.meridiem());
    let zone = clock.and_then(|(_, _, sec)| c.zone(date.is_some() || sec.is_some()));
    if !c.at_boundary() {
        return None;
    }
    let mut text = date.unwrap_or_default().to_owned();
    if let Some((h, m, sec)) = clock {
        let h = match to_24h(h, meridiem) {
            Ok(h) => h,
            Err(e) => return Some((Err(e), c.rest())),
        };
        if date.is_some() {
            text.push(' ');
        }
        text.push_str(&format!("{h:02}:{m}"));
        if let Some(sec) = sec {
            text.push(':');
            text.push_str(sec);
        }
        text.push_str(&zone.unwrap_or_default());
    }
    let stamp = Stamp {
        text,
        dated: date.is_some(),
        clock: clock.is_some(),
    };
    Some((Ok(stamp), c.rest()))
}

fn to_24h(h: &str, meridiem: Option<Meridiem>) -> Result<u32, TimeError> {
    let h: u32 = h.parse().map_err(|_| TimeError::Unrecognised)?;
    match meridiem {
        None => Ok(h),
        Some(_) if !(1..=12).contains(&h) => Err(TimeError::OutOfRange),
        // Twelve o'clock belongs to the half that follows it: 12 AM is midnight.
        Some(Meridiem::Am) => Ok(h % 12),
        Some(Meridiem::Pm) => Ok(h % 12 + 12),
    }
}

struct Cursor<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> Cursor<'a> {
    fn rest(&self) -> &'a str {
        &self.s[self.i..]
    }

    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.i).copied()
    }

    /// Runs `f`, and rewinds if it does not match.
    fn attempt<T>(&mut self, f: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        let start = self.i;
        let got = f(self);
        if got.is_none() {
            self.i = start;
        }
        got
    }

    fn one_of(&mut self, bytes: &[u8]) -> Option<u8> {
        let b = self.peek().filter(|b| bytes.contains(b))?;
        self.i += 1;
        Some(b)
    }

    /// Between `min` and `max` ASCII digits, and not followed by another digit.
    fn digits(&mut self, min: usize, max: usize) -> Option<&'a str> {
        let run = self.rest().bytes().take_while(u8::is_ascii_digit).count();
        if !(min..=max).contains(&run) {
            return None;
        }
        let got = &self.s[self.i..self.i + run];
        self.i += run;
        Some(got)
    }

    /// Matches `word` without regard to case, when it ends at a word boundary.
    fn word(&mut self, word: &str) -> bool {
        let rest = self.rest();
        let matches = rest
            .get(..word.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(word))
            && !rest[word.len()..]
                .chars()
                .next()
                .is_some_and(char::is_alphanumeric);
        if matches {
            self.i += word.len();
        }
        matches
    }

    fn date(&mut self) -> Option<&'a str> {
        let start = self.i;
        self.attempt(|c| {
            c.digits(4, 4)?;
            c.one_of(b"-")?;
            c.digits(2, 2)?;
            c.one_of(b"-")?;
            c.digits(2, 2)?;
            Some(())
        })
        .map(|()| &self.s[start..self.i])
    }

    /// `H:MM`, `HH:MM:SS`, `HH:MM:SS.fff`: the hour, minute and second as written (any
    /// fraction is dropped, as `Timestamp::parse` drops it).
    fn clock(&mut self) -> Option<(&'a str, &'a str, Option<&'a str>)> {
        self.attempt(|c| {
            let h = c.digits(1, 2)?;
            c.one_of(b":")?;
            let m = c.digits(2, 2)?;
            let sec = c.attempt(|c| {
                c.one_of(b":")?;
                c.digits(2, 2)
            });
            if sec.is_some() {
                // Log lines write milliseconds with a comma as often as with a dot.
                c.attempt(|c| {
                    c.one_of(b".,")?;
                    c.digits(1, 9)
                });
            }
            Some((h, m, sec))
        })
    }

    fn meridiem(&mut self) -> Option<Meridiem> {
        self.attempt(|c| {
            c.one_of(b" ");
            for (word, m) in [
                ("a.m.", Meridiem::Am),
                ("p.m.", Meridiem::Pm),
                ("am", Meridiem::Am),
                ("pm", Meridiem::Pm),
            ] {
                // `word` refuses "a.m." followed by a letter, but the final dot is itself
                // a boundary, so check the abbreviations by hand.
                if word.ends_with('.') {
                    let rest = c.rest();
                    if rest
                        .get(..word.len())
                        .is_some_and(|w| w.eq_ignore_ascii_case(word))
                    {
                        c.i += word.len();
                        return Some(m);
                    }
                } else if c.word(word) {
                    return Some(m);
                }
            }
            None
        })
    }

    /// `Z`, ` UTC`, ` GMT`, `UTC+2`, and a numeric offset attached to the clock (`+01:00`,
    /// `-0530`). A negative one needs a date or seconds before it (`exact`), because
    /// `14:00-14:30` is a range far more often than a time in UTC-14:30.
    fn zone(&mut self, exact: bool) -> Option<String> {
        if self
            .attempt(|c| c.one_of(b"Zz").filter(|_| c.at_boundary()))
            .is_some()
        {
            return Some("Z".into());
        }
        if let Some(zone) = self.attempt(|c| {
            c.one_of(b" ");
            if !(c.word("utc") || c.word("gmt")) {
                return None;
            }
            Some(c.offset(1).unwrap_or_else(|| "Z".into()))
        }) {
            return Some(zone);
        }
        if exact || self.peek() == Some(b'+') {
            return self.offset(2);
        }
        None
    }

    /// `+HH`, `+HH:MM` or `+HHMM` (with at least `min_hour_digits` for the hour), as
    /// `+HH:MM`.
    fn offset(&mut self, min_hour_digits: usize) -> Option<String> {
        self.attempt(|c| {
            let sign = c.one_of(b"+-")? as char;
            let run = c.rest().bytes().take_while(u8::is_ascii_digit).count();
            let (h, m) = if run == 4 {
                let hm = c.digits(4, 4)?;
                (&hm[..2], &hm[2..])
            } else {
                let h = c.digits(min_hour_digits, 2)?;
                let m = c
                    .attempt(|c| {
                        c.one_of(b":")?;
                        c.digits(2, 2)
                    })
                    .unwrap_or("00");
                (h, m)
            };
            c.at_boundary().then(|| format!("{sign}{h:0>2}:{m}"))
        })
    }

    /// A time ends at whitespace, at the end, or at punctuation that separates it from
    /// the text; `14:03x` and `14:035` are not times.
    fn at_boundary(&self) -> bool {
        self.rest()
            .chars()
            .next()
            .is_none_or(|c| c.is_whitespace() || "-–—|:,;.)]>".contains(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(s: &str) -> Option<(Result<String, TimeError>, &str)> {
        scan(s).map(|(st, rest)| (st.map(|st| st.text), rest))
    }

    #[test]
    fn times_are_rewritten_for_timestamp_parse() {
        for (input, text, rest) in [
            ("14:03 Alert", "14:03", " Alert"),
            ("9:05", "09:05", ""),
            ("14:03:22.517 x", "14:03:22", " x"),
            ("14:03:22,517 x", "14:03:22", " x"),
            ("2:03 PM Ana", "14:03", " Ana"),
            ("2:03pm", "14:03", ""),
            ("12:05 a.m. x", "00:05", " x"),
            ("12:30 PM", "12:30", ""),
            ("2026-11-20 14:03 x", "2026-11-20 14:03", " x"),
            ("2026-11-20T14:03:22Z", "2026-11-20 14:03:22Z", ""),
            (
                "2026-11-20T14:03:22.5+01:00 x",
                "2026-11-20 14:03:22+01:00",
                " x",
            ),
            ("2026-11-20T14:03-0530", "2026-11-20 14:03-05:30", ""),
            ("2026-11-20 Outage", "2026-11-20", " Outage"),
            ("14:03 UTC - x", "14:03Z", " - x"),
            ("14:03 UTC+2 x", "14:03+02:00", " x"),
            ("14:03: x", "14:03", ": x"),
            ("14:03+01:00 x", "14:03+01:00", " x"),
            ("14:03:22-05:00", "14:03:22-05:00", ""),
            ("14:00-14:30 slow", "14:00", "-14:30 slow"),
        ] {
            assert_eq!(stamp(input), Some((Ok(text.into()), rest)), "{input:?}");
        }
    }

    #[test]
    fn what_is_not_a_time() {
        for input in [
            "1403",
            "14:3",
            "14:035",
            "14:03x",
            "v1.2:03",
            "2026-11-20x",
            "Ana",
        ] {
            assert_eq!(stamp(input), None, "{input:?}");
        }
        assert_eq!(stamp("13:00 PM"), Some((Err(TimeError::OutOfRange), "")));
        assert_eq!(stamp("0:30 am x"), Some((Err(TimeError::OutOfRange), " x")));
        // "am" must be a word of its own.
        assert_eq!(stamp("9:05 amazon"), Some((Ok("09:05".into()), " amazon")));
    }

    #[test]
    fn times_at_the_end_of_a_header() {
        let t = |s| trailing(s).map(|(before, st)| (before, st.unwrap().text));
        assert_eq!(t("Ana Lima  2:03 PM"), Some(("Ana Lima", "14:03".into())));
        assert_eq!(t("Ana [14:03]"), Some(("Ana", "14:03".into())));
        assert_eq!(t("14:03"), Some(("", "14:03".into())));
        assert_eq!(t("Ana 14:03 said"), None);
        assert_eq!(t("Ana14:03"), None);
        assert!(anywhere("Rollback done at 14:03"));
        assert!(!anywhere("Rollback done at v14"));
    }
}
