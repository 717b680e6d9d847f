//! Pastes read line by line: one entry per timed line, or chat copy, where a header
//! (`Ana Lima  2:03 PM`) gives the author and time of the messages below it.

use super::{clock, Collector, Reject};
use crate::timestamp::{Precision, TimeError, Timestamp};

/// What one non-blank line says.
enum Line<'a> {
    /// A time first, then text; `author` only for chat lines such as `[14:03] Ana: …`.
    Timed {
        stamp: Result<clock::Stamp, TimeError>,
        author: Option<&'a str>,
        text: &'a str,
    },
    /// A time with nothing after it, alone or after a name: the header of the chat
    /// messages below it.
    Header {
        stamp: Result<clock::Stamp, TimeError>,
        author: Option<&'a str>,
    },
    Text,
}

impl Line<'_> {
    /// Whether the line is one only chat copy has: a header, or a message with a speaker.
    /// A date alone is not: documents head their day's entries with one.
    fn is_chat(&self) -> bool {
        match self {
            Line::Header { stamp, .. } => stamp.as_ref().map_or(true, |s| s.clock),
            Line::Timed { author, .. } => author.is_some(),
            Line::Text => false,
        }
    }
}

/// What the lines read so far leave open for the lines that follow.
enum Open<'a> {
    Nothing,
    /// A chat header: each line below it is a message at its time.
    Header {
        line: usize,
        source: &'a str,
        time: Timestamp,
        author: Option<&'a str>,
        messages: usize,
    },
    /// An entry that a chat line without a time continues.
    Entry(usize),
    /// A line that was not read, whose continuation cannot be read either.
    Refused(usize),
}

pub(super) fn read(input: &str, out: &mut Collector) {
    let lines: Vec<(usize, &str, Line)> = input
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty())
        .map(|(n, l)| (n, l, classify(l)))
        .collect();
    // Whether an untimed line continues the entry above depends on the paste as a whole:
    // in chat copy it is the rest of a message, anywhere else a line that lost its time.
    let chat = lines.iter().any(|(_, _, l)| l.is_chat());
    let mut open = Open::Nothing;
    for (n, source, line) in lines {
        match line {
            Line::Header { stamp, author } => {
                close(open, false, out);
                open = match out.resolve(stamp) {
                    Ok(time) => Open::Header {
                        line: n,
                        source,
                        time,
                        author,
                        messages: 0,
                    },
                    Err(e) => {
                        out.reject(n, source, Reject::Time(e));
                        Open::Refused(n)
                    }
                };
            }
            Line::Timed {
                stamp,
                author,
                text,
            } => {
                close(open, false, out);
                open = match out.resolve(stamp) {
                    Ok(time) => match out.push(n, source, time, text, author, None) {
                        Some(i) => Open::Entry(i),
                        None => Open::Refused(n),
                    },
                    Err(e) => {
                        out.reject(n, source, Reject::Time(e));
                        Open::Refused(n)
                    }
                };
            }
            Line::Text if !chat => out.reject(n, source, no_time(source)),
            Line::Text => match &mut open {
                Open::Header {
                    time,
                    author,
                    messages,
                    ..
                } => {
                    *messages += 1;
                    out.push(n, source, *time, source, *author, None);
                }
                Open::Entry(i) => out.append(*i, source),
                Open::Refused(k) => out.reject(n, source, Reject::Follows(*k)),
                Open::Nothing => out.reject(n, source, no_time(source)),
            },
        }
    }
    close(open, true, out);
}

/// A header must have had a message, or its line would vanish unread. A date alone is the
/// exception while lines follow it: it gave them their date.
fn close(open: Open, at_end: bool, out: &mut Collector) {
    if let Open::Header {
        line,
        source,
        time,
        author,
        messages: 0,
    } = open
    {
        let reason = match author {
            Some(_) => Reject::HeaderWithoutMessage,
            None if time.precision == Precision::Day && !at_end => return,
            None => Reject::TimeWithoutText,
        };
        out.reject(line, source, reason);
    }
}

/// A time later in the line is worth pointing out: the line only needs reordering.
fn no_time(source: &str) -> Reject {
    if clock::anywhere(source) {
        Reject::TimeNotFirst
    } else {
        Reject::NoTime
    }
}

fn classify(line: &str) -> Line<'_> {
    let body = strip_bullet(line);
    if let Some(found) = clock::leading(body) {
        let text = strip_separator(found.rest);
        if text.is_empty() {
            return Line::Header {
                stamp: found.stamp,
                author: None,
            };
        }
        // Brackets around a bare clock mark chat or IRC copy, which names the speaker
        // next; a log line's bracketed date-time is followed by a level or a component.
        let dated = found.stamp.as_ref().is_ok_and(|s| s.dated);
        if found.bracketed && !dated {
            if let Some((author, text)) = speaker(text) {
                return Line::Timed {
                    stamp: found.stamp,
                    author: Some(author),
                    text,
                };
            }
        }
        return Line::Timed {
            stamp: found.stamp,
            author: None,
            text,
        };
    }
    if let Some((name, stamp)) = clock::trailing(body) {
        // Slack marks integrations with "APP" after their name.
        let name = name.strip_suffix(" APP").unwrap_or(name).trim_end();
        if looks_like_name(name) {
            return Line::Header {
                stamp,
                author: Some(name),
            };
        }
    }
    Line::Text
}

/// `Ana Lima: message` or `<ana> message`.
fn speaker(text: &str) -> Option<(&str, &str)> {
    let (name, message) = match text.strip_prefix('<') {
        Some(rest) => rest.split_once('>')?,
        None => text.split_once(':')?,
    };
    let (name, message) = (name.trim(), message.trim());
    // An upper-case word before a colon is a log level (`ERROR: …`), not a person.
    let shouting = !name.chars().any(char::is_lowercase);
    (looks_like_name(name) && !shouting && !message.is_empty()).then_some((name, message))
}

/// Words that put a sentence, not a name, before a time: "Rollback done at 14:03".
const NOT_IN_NAMES: &[&str] = &[
    "a", "about", "after", "an", "and", "around", "at", "before", "by", "for", "from", "in", "is",
    "of", "on", "since", "the", "till", "to", "until", "was", "were",
];

fn looks_like_name(s: &str) -> bool {
    let words: Vec<&str> = s.split_whitespace().collect();
    (1..=4).contains(&words.len())
        && s.chars().count() <= 64
        && s.chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '@')
        && !s.contains(['|', ':', '—', '–', '"'])
        && !words
            .iter()
            .any(|w| NOT_IN_NAMES.contains(&w.to_lowercase().as_str()))
}

/// `- `, `* `, `• `, `+ `, `1. ` and `1) ` before an entry.
fn strip_bullet(line: &str) -> &str {
    for bullet in ["- ", "* ", "• ", "+ ", "– "] {
        if let Some(rest) = line.strip_prefix(bullet) {
            return rest.trim_start();
        }
    }
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    if (1..=3).contains(&digits) {
        for end in [". ", ") "] {
            if let Some(rest) = line[digits..].strip_prefix(end) {
                return rest.trim_start();
            }
        }
    }
    line
}

/// The punctuation people put between a time and its text: ` - `, ` — `, `: `, `| `.
fn strip_separator(rest: &str) -> &str {
    let rest = rest.trim();
    for sep in ['-', '–', '—', ':', '|', ',', ';', '.'] {
        if let Some(after) = rest.strip_prefix(sep) {
            if after.is_empty() || after.starts_with(char::is_whitespace) {
                return after.trim_start();
            }
        }
    }
    rest
}
