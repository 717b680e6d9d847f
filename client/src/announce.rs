//! What a screen reader hears without looking: one polite live region for the board page.
//! Other people's notes coming and going are gathered for [`QUIET_MS`] and said as one
//! sentence ("Bo added 2 notes in Detect"); the save state only when changes are left
//! unsaved offline and when they are saved after all, never on a pause in typing.

use std::time::Duration;

use hindsight_shared::Template;
use leptos::prelude::*;

use crate::offline::save_state;
use crate::provider::Provider;
use crate::store::Store;

/// How long changes are gathered before they are said.
pub const QUIET_MS: u64 = 2000;

/// A note someone else added or removed.
#[derive(Clone, Debug, PartialEq)]
pub enum Arrival {
    Added {
        author: Option<String>,
        region: Option<String>,
    },
    Removed,
}

fn notes(n: usize) -> String {
    match n {
        1 => "a note".to_owned(),
        n => format!("{n} notes"),
    }
}

/// One sentence for what arrived, or `None` for nothing. One person adding in one region
/// is named; anything else is counted.
pub fn summary(arrivals: &[Arrival], template: &Template) -> Option<String> {
    let added: Vec<(&Option<String>, &Option<String>)> = arrivals
        .iter()
        .filter_map(|a| match a {
            Arrival::Added { author, region } => Some((author, region)),
            Arrival::Removed => None,
        })
        .collect();
    let removed = arrivals.len() - added.len();
    let region_title = |key: &Option<String>| {
        key.as_deref()
            .and_then(|k| template.region(k))
            .map(|r| r.title.clone())
    };
    let mut parts = Vec::new();
    if let Some((author, region)) = added.first() {
        let one_author = added.iter().all(|(a, _)| a == author);
        let one_region = added.iter().all(|(_, r)| r == region);
        let who = match (one_author, author) {
            (true, Some(name)) => name.clone(),
            _ => "Someone".to_owned(),
        };
        let whom = if one_author { who } else { "Others".to_owned() };
        let place = match (one_region, region_title(region)) {
            (true, Some(title)) => format!(" in {title}"),
            _ => String::new(),
        };
        parts.push(format!("{whom} added {}{place}", notes(added.len())));
    }
    if removed > 0 {
        let said = format!("{} removed", notes(removed));
        parts.push(if parts.is_empty() {
            let mut s = said;
            s[..1].make_ascii_uppercase();
            s
        } else {
            said
        });
    }
    (!parts.is_empty()).then(|| parts.join("; ") + ".")
}

/// The live region, and what feeds it.
#[component]
pub fn Announcer() -> impl IntoView {
    let store = expect_context::<Store>();
    let provider = expect_context::<Provider>();
    let said = RwSignal::new(String::new());
    let gathered = StoredValue::new(Vec::<Arrival>::new());
    let waiting = StoredValue::new(false);

    // Only what happens once the board is here is news.
    let synced = provider.synced();
    {
        let store = store.clone();
        Effect::new(move |_| {
            if synced.get() {
                store.start_announcing();
            }
        });
    }

    let arrivals = store.indexed.arrivals;
    let template = store.template;
    Effect::new(move |_| {
        let taken = arrivals.with(|a| !a.is_empty());
        if !taken {
            return;
        }
        let new = arrivals
            .try_update_untracked(std::mem::take)
            .unwrap_or_default();
        gathered.update_value(|g| g.extend(new));
        if waiting.get_value() {
            return;
        }
        waiting.set_value(true);
        set_timeout(
            move || {
                waiting.set_value(false);
                let all = gathered
                    .try_update_value(std::mem::take)
                    .unwrap_or_default();
                if let Some(text) = template.with_untracked(|t| summary(&all, t)) {
                    said.set(text);
                }
            },
            Duration::from_millis(QUIET_MS),
        );
    });

    // The save state, when it goes offline with changes unsaved, and when those are
    // saved after all. Online, every change is saved within moments of being made, so
    // saying so would speak after every pause in typing.
    let (status, pending) = (provider.status(), provider.pending());
    Effect::new(move |was: Option<&'static str>| {
        let (state, text) = status.with(|s| save_state(s, pending.get()));
        match (was, state) {
            (Some("offline"), "saved") => said.set(text),
            (Some(before), "offline") if before != "offline" => said.set(text),
            _ => {}
        }
        // "Saving…" on the way back from offline still owes the saved sentence.
        if was == Some("offline") && state == "saving" {
            "offline"
        } else {
            state
        }
    });

    view! {
        <div id="announcer" class="sr-only" role="status" aria-live="polite">
            {move || said.get()}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn added(author: &str, region: &str) -> Arrival {
        Arrival::Added {
            author: (!author.is_empty()).then(|| author.to_owned()),
            region: Some(region.to_owned()),
        }
    }

    #[test]
    fn one_person_in_one_region_is_named_others_are_counted() {
        let t = Template::postmortem();
        assert_eq!(summary(&[], t), None);
        assert_eq!(
            summary(&[added("Bo", "detect")], t).as_deref(),
            Some("Bo added a note in Detect.")
        );
        assert_eq!(
            summary(&[added("Bo", "detect"), added("Bo", "detect")], t).as_deref(),
            Some("Bo added 2 notes in Detect.")
        );
        assert_eq!(
            summary(&[added("Bo", "detect"), added("Cy", "react")], t).as_deref(),
            Some("Others added 2 notes.")
        );
        assert_eq!(
            summary(&[added("", "react")], t).as_deref(),
            Some("Someone added a note in React.")
        );
        assert_eq!(
            summary(&[Arrival::Removed, Arrival::Removed], t).as_deref(),
            Some("2 notes removed.")
        );
        assert_eq!(
            summary(&[added("Bo", "detect"), Arrival::Removed], t).as_deref(),
            Some("Bo added a note in Detect; a note removed.")
        );
        assert_eq!(
            summary(&[Arrival::Removed], t).as_deref(),
            Some("A note removed.")
        );
    }
}
