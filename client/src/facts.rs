//! The incident facts row under the title: date, severity, customer impact and timezone,
//! editable by everyone, next to what follows from the board (time to detect and resolve,
//! how many actions still lack an owner or a date, this person's votes left) and the
//! export links. What follows from the board comes from the store's indices, so none of
//! it rereads the notes when one changes.
//!
//! The board's template decides what the row holds: the incident facts only where it
//! shows them (the postmortem), the timezone only with a timeline, the action tally only
//! with an actions region, votes only with a budget. "Save as template" downloads the
//! board's regions and settings as a template file, without its notes.

use hindsight_shared::facts::SEVERITIES;
use hindsight_shared::timeline::format_duration;
use hindsight_shared::timestamp::{zone_label, Date};
use hindsight_shared::{BoardId, Role};
use leptos::prelude::*;

use crate::field::LiveInput;
use crate::link::Link;
use crate::store::Store;

/// Board timezones offered: UTC−12:00 to UTC+14:00 in half hours, in minutes east of UTC.
fn zone_offsets() -> impl Iterator<Item = i32> {
    (-12 * 60..=14 * 60).step_by(30)
}

#[component]
pub fn FactsBar() -> impl IntoView {
    let store = expect_context::<Store>();
    let id = expect_context::<BoardId>();
    let query = expect_context::<Link>().query();
    let read_only = store.read_only;
    let settings = store.settings;
    let indexed = store.indexed;
    // One memo per fact, so a change to one never touches the field of another.
    let date = Memo::new(move |_| settings.with(|s| s.facts.date));
    let severity = Memo::new(move |_| settings.with(|s| s.facts.severity.clone()));
    let impact = Memo::new(move |_| settings.with(|s| s.facts.impact.clone().unwrap_or_default()));
    let offset = Memo::new(move |_| settings.with(|s| s.facts.utc_offset));
    let budget = Memo::new(move |_| settings.with(|s| s.vote_budget));
    let template = store.template;
    let shows_facts = Memo::new(move |_| template.with(|t| t.settings.incident_facts));
    let has_timeline = Memo::new(move |_| template.with(|t| t.with_role(Role::Timeline).is_some()));
    let has_actions = Memo::new(move |_| template.with(|t| t.with_role(Role::Actions).is_some()));
    let template_file = Memo::new(move |_| {
        template.with(|t| {
            let json = js_sys::encode_uri_component(&t.to_json());
            (
                format!("data:application/json;charset=utf-8,{json}"),
                format!("{}-template.json", t.key),
            )
        })
    });

    let durations = move || {
        indexed.durations.get().map(|d| {
            format!(
                "Time to detect {} · Time to resolve {}",
                format_duration(d.to_detect_ms),
                format_duration(d.to_resolve_ms)
            )
        })
    };
    let actions = move || indexed.actions.get();
    let votes_left = move || {
        let budget = budget.get();
        let used = indexed.votes_used.get();
        format!("{} of {budget} votes left", budget.saturating_sub(used))
    };

    let severity_options = move || {
        let current = severity.get().unwrap_or_default();
        // A severity written elsewhere (an import, another client) is kept selectable.
        let mut names: Vec<String> = SEVERITIES.iter().map(|s| s.to_string()).collect();
        if !current.is_empty() && !names.contains(&current) {
            names.push(current.clone());
        }
        std::iter::once((String::new(), "Severity".to_owned()))
            .chain(names.into_iter().map(|name| (name.clone(), name)))
            .map(|(value, label)| {
                let selected = value == current;
                view! { <option value=value selected=selected>{label}</option> }
            })
            .collect_view()
    };
    let zone_options = move || {
        let current = offset.get();
        zone_offsets()
            .map(|m| {
                view! {
                    <option value=m.to_string() selected=m == current>{zone_label(m)}</option>
                }
            })
            .collect_view()
    };

    let (s1, s2, s3, s4) = (store.clone(), store.clone(), store.clone(), store.clone());
    let commit_impact = Callback::new(move |value: String| {
        s3.write(|board, txn| board.set_impact(txn, &value));
        Ok(())
    });
    // On a phone the facts and the downloads fold away behind one button, so the notes
    // get the screen; what the board derives (actions left to settle, votes) stays. At
    // wider sizes the button is hidden and everything shows (style.css).
    let (unfolded, set_unfolded) = signal(false);
    view! {
        <div class="factsbar" class:folded=move || !unfolded.get() role="group" aria-label="Board facts">
            <button
                id="facts-toggle"
                class="facts-toggle button small"
                type="button"
                aria-expanded=move || unfolded.get().to_string()
                aria-controls="facts-incident facts-timezone facts-exports"
                on:click=move |_| set_unfolded.update(|u| *u = !*u)
            >
                {move || if unfolded.get() { "Fewer details" } else { "Date, impact, exports" }}
                <span aria-hidden="true">{move || if unfolded.get() { " ▴" } else { " ▾" }}</span>
            </button>
            <div id="facts-incident" class="fact-group" class:absent=move || !shows_facts.get()>
            <label class="fact">
                <span>"Date"</span>
                <input
                    prop:disabled=read_only
                    id="fact-date"
                    type="date"
                    prop:value=move || date.get().map(|d| d.to_string()).unwrap_or_default()
                    on:change=move |ev| {
                        let date = Date::parse(&event_target_value(&ev)).ok();
                        s1.write(|board, txn| board.set_incident_date(txn, date));
                    }
                />
            </label>
            <label class="fact">
                <span class="sr-only">"Severity"</span>
                <select
                    prop:disabled=read_only
                    id="fact-severity"
                    on:change=move |ev| {
                        let value = event_target_value(&ev);
                        s2.write(|board, txn| board.set_severity(txn, &value));
                    }
                >
                    {severity_options}
                </select>
            </label>
            <label class="fact fact-wide">
                <span>"Impact"</span>
                <LiveInput
                    id="fact-impact"
                    value=impact
                    commit=commit_impact
                    placeholder="What did customers notice?"
                    label="Customer impact"
                    maxlength=500
                    disabled=read_only
                />
            </label>
            </div>
            <div id="facts-timezone" class="fact-group" class:absent=move || !has_timeline.get()>
            <label class="fact" title="Timeline times are read and shown in this timezone">
                <span class="sr-only">"Timezone"</span>
                <select
                    prop:disabled=read_only
                    id="fact-tz"
                    on:change=move |ev| {
                        if let Ok(minutes) = event_target_value(&ev).parse::<i32>() {
                            s4.write(|board, txn| board.set_utc_offset(txn, minutes));
                        }
                    }
                >
                    {zone_options}
                </select>
            </label>
            </div>
            <div class="facts-derived">
                {move || durations().map(|d| view! { <span id="durations" class="derived">{d}</span> })}
                <Show when=move || has_actions.get()>
                    <span
                        id="action-count"
                        class="derived"
                        class:warn={move || actions().incomplete > 0}
                    >
                        {move || actions().sentence()}
                    </span>
                </Show>
                <Show when=move || { budget.get() > 0 }>
                    <span id="votes-left" class="derived">{votes_left}</span>
                </Show>
            </div>
            <div id="facts-exports" class="exports">
                <a id="export-md" class="button ghost small" href=format!("/api/boards/{id}/export.md{query}") download=format!("board-{id}.md")>
                    "Export Markdown"
                </a>
                <a id="export-json" class="button ghost small" href=format!("/api/boards/{id}/export.json{query}") download=format!("hindsight-{id}.json")>
                    "Backup JSON"
                </a>
                <a
                    id="save-template"
                    class="button ghost small"
                    title="Download this board's regions and settings, without its notes, to start other boards from"
                    href=move || template_file.get().0
                    download=move || template_file.get().1
                >
                    "Save as template"
                </a>
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_run_from_minus_twelve_to_plus_fourteen_in_half_hours() {
        let zones: Vec<i32> = zone_offsets().collect();
        assert_eq!(zones.first(), Some(&-720));
        assert_eq!(zones.last(), Some(&840));
        assert_eq!(zones.len(), 53);
        assert!(zones.contains(&0) && zones.contains(&330));
    }
}
