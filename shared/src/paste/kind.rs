//! Guessing an entry's kind from its words.
//!
//! Matching is on whole words (case and apostrophes ignored), so "page" in "pages of
//! docs" or "fixed" in "prefixed" never count; a few stems (`mitigat…`, `deploy…`) match
//! any word they begin. A keyword shortly after "not", "no", "never" and the like does not
//! count either: "no alert fired" was not a detection.
//!
//! When an entry names several kinds, a resolution wins wherever it is, because the first
//! resolved entry is what time to resolve is measured to and a status post saying so is
//! that moment; otherwise the first keyword in the text wins, since people lead with what
//! happened ("Alert fired after the deploy").

use crate::timeline::EntryKind::{self, *};

/// Keywords and the kind they suggest. A trailing `*` matches any word with that stem;
/// several words match consecutive words.
const KEYWORDS: &[(EntryKind, &str)] = &[
    (Resolved, "resolved"),
    (Resolved, "recovered"),
    (Resolved, "fixed"),
    (Resolved, "restored"),
    (Resolved, "back to normal"),
    (Resolved, "all clear"),
    (Communication, "status page"),
    (Communication, "statuspage"),
    (Communication, "announced"),
    (Communication, "announcement"),
    (Communication, "posted"),
    (Communication, "emailed"),
    (Communication, "email sent"),
    (Communication, "tweeted"),
    (Communication, "informed"),
    (Communication, "update sent"),
    (Communication, "sent an update"),
    (Action, "rolled back"),
    (Action, "rolling back"),
    (Action, "roll back"),
    (Action, "rollback*"),
    (Action, "revert*"),
    (Action, "restarted"),
    (Action, "restarting"),
    (Action, "rebooted"),
    (Action, "deploy*"),
    (Action, "redeploy*"),
    (Action, "mitigat*"),
    (Action, "failover"),
    (Action, "failed over"),
    (Action, "scaled"),
    (Action, "scaling"),
    (Reported, "report*"),
    (Reported, "customer*"),
    (Reported, "ticket*"),
    (Reported, "complain*"),
    (Detected, "alert*"),
    (Detected, "alarm*"),
    (Detected, "paged"),
    (Detected, "paging"),
    (Detected, "pager*"),
    (Detected, "page on call"),
    (Detected, "page oncall"),
    (Detected, "opsgenie"),
    (Detected, "fired"),
    (Detected, "firing"),
    (Detected, "triggered"),
    (Detected, "noticed"),
    (Detected, "detected"),
    (Detected, "spotted"),
];

/// Words that undo a keyword up to two words after them.
const NEGATIONS: &[&str] = &[
    "not", "no", "never", "without", "isnt", "wasnt", "hasnt", "havent", "hadnt", "didnt",
    "doesnt", "dont", "arent", "werent", "wont", "cant", "cannot",
];

/// The kind an entry's words suggest, if any.
pub fn guess_kind(text: &str) -> Option<EntryKind> {
    let words = &words(text);
    let found: Vec<(usize, EntryKind)> = (0..words.len())
        .filter(|&at| !negated(words, at))
        .flat_map(|at| {
            KEYWORDS
                .iter()
                .filter(move |(_, keyword)| matches_at(words, at, keyword))
                .map(move |&(kind, _)| (at, kind))
        })
        .collect();
    found
        .iter()
        .find(|(_, kind)| *kind == Resolved)
        .or(found.first())
        .map(|&(_, kind)| kind)
}

/// Lowercase words; apostrophes vanish (so "isn't" is "isnt") and every other
/// non-alphanumeric character separates words (so "on-call" is "on call").
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric() && c != '\'' && c != '’')
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric())
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
        .collect()
}

fn matches_at(words: &[String], at: usize, keyword: &str) -> bool {
    let mut words = words[at..].iter();
    keyword.split(' ').all(|part| {
        words
            .next()
            .is_some_and(|word| match part.strip_suffix('*') {
                Some(stem) => word.starts_with(stem),
                None => word == part,
            })
    })
}

fn negated(words: &[String], at: usize) -> bool {
    words[at.saturating_sub(2)..at]
        .iter()
        .any(|w| NEGATIONS.contains(&w.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_from_words() {
        for (text, kind) in [
            ("Alert fired: error rate over 5%", Some(Detected)),
            ("PagerDuty paged the on-call engineer", Some(Detected)),
            ("Ana noticed slow checkouts", Some(Detected)),
            ("Page on-call", Some(Detected)),
            ("Customer reported failed payments", Some(Reported)),
            ("Support ticket #4411 opened", Some(Reported)),
            ("Rolled back to v41", Some(Action)),
            ("Restarted the API pods", Some(Action)),
            ("Mitigation: traffic moved to eu-west", Some(Action)),
            ("Failed over to the replica", Some(Action)),
            ("Status page updated", Some(Communication)),
            ("Emailed the affected customers", Some(Communication)),
            ("Update sent to #incidents", Some(Communication)),
            ("Error rates back to normal", Some(Resolved)),
            ("All clear", Some(Resolved)),
            ("RESOLVED: HighErrorRate", Some(Resolved)),
            // The first keyword leads…
            ("Alert fired after the deploy", Some(Detected)),
            ("Deploy of v42 started; alerts expected", Some(Action)),
            // …except that a resolution wins wherever it is.
            ("Alert resolved", Some(Resolved)),
            ("Posted on the status page: resolved", Some(Resolved)),
        ] {
            assert_eq!(guess_kind(text), kind, "{text:?}");
        }
    }

    #[test]
    fn words_that_only_look_like_keywords() {
        for text in [
            "Read through pages of docs",
            "Homepage slow",
            "Prefixed the config keys",
            "Still unresolved",
            "Not resolved yet",
            "It isn't fixed",
            "No alert fired",
            "Database CPU at 90%",
            "",
        ] {
            assert_eq!(guess_kind(text), None, "{text:?}");
        }
        // A negation only reaches two words ahead.
        assert_eq!(
            guess_kind("No idea why, but the alert fired"),
            Some(Detected)
        );
        assert_eq!(guess_kind("Checked: no customer impact"), None);
    }
}
