//! "Import timeline…": paste an incident log (chat copy, an alerting tool's export, a
//! status page history, CSV) or choose a file, check what was read in a preview table,
//! untick what does not belong, and add the rest as timeline entries in one undo step.
//! Reading is `hindsight_shared::paste` (the same parser as the API's timeline paste);
//! lines it cannot read are listed, never dropped silently.

use std::collections::BTreeSet;

use hindsight_shared::paste::{self, Parsed};
use hindsight_shared::{NoteId, Role};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::context::Toasts;
use crate::dom;
use crate::start::chosen_file_text;
use crate::store::Store;
use crate::toast;

/// The dialog, shown while `open` holds.
#[component]
pub fn TimelineImport(open: RwSignal<bool>) -> impl IntoView {
    let store = expect_context::<Store>();
    let toasts = expect_context::<Toasts>();
    let text = RwSignal::new(String::new());
    // Lines of the preview the person unticked (by line number).
    let unticked = RwSignal::new(BTreeSet::<usize>::new());
    let settings = store.settings;
    let parsed = Memo::new(move |_| {
        let ctx = settings.with(|s| s.time);
        text.with(|t| paste::parse(t, ctx))
    });
    let chosen = Memo::new(move |_| {
        let skip = unticked.get();
        parsed.with(|p: &Parsed| p.entries.iter().filter(|e| !skip.contains(&e.line)).count())
    });
    // The dialog takes the focus when it opens, so a paste goes straight in.
    let field = NodeRef::<leptos::html::Textarea>::new();
    Effect::new(move |_| {
        if let Some(el) = field.get() {
            let _ = el.focus();
        }
    });
    let close = move || {
        open.set(false);
        text.set(String::new());
        unticked.set(BTreeSet::new());
    };
    let import = {
        let store = store.clone();
        move |_| {
            let skip = unticked.get_untracked();
            let entries: Vec<paste::Entry> = parsed.with_untracked(|p| {
                p.entries
                    .iter()
                    .filter(|e| !skip.contains(&e.line))
                    .cloned()
                    .collect()
            });
            let Some(timeline) = store
                .template
                .with_untracked(|t| t.with_role(Role::Timeline).cloned())
            else {
                return;
            };
            let ids: Vec<NoteId> = entries
                .iter()
                .map(|_| NoteId::from_random(dom::random_bytes()))
                .collect();
            let anonymous = settings.with_untracked(|s| s.anonymous);
            // One write: one step to undo, one update for everyone.
            store.write(|board, txn| {
                paste::add_entries(
                    board,
                    txn,
                    &timeline,
                    &entries,
                    &ids,
                    anonymous,
                    dom::now_ms(),
                )
            });
            toast::show(
                toasts,
                format!(
                    "Added {} timeline {}.",
                    entries.len(),
                    if entries.len() == 1 {
                        "entry"
                    } else {
                        "entries"
                    }
                ),
            );
            close();
        }
    };
    let on_file = move |ev: leptos::ev::Event| {
        spawn_local(async move {
            match chosen_file_text(ev).await {
                Ok(contents) => text.set(contents),
                Err(message) => toast::show(toasts, message),
            }
        });
    };

    let rows = move || {
        let ctx = settings.with(|s| s.time);
        parsed.with(|p| {
            p.entries
                .iter()
                .map(|e| {
                    let line = e.line;
                    view! {
                        <tr data-line=line.to_string()>
                            <td>
                                <input
                                    type="checkbox"
                                    aria-label=format!("Import line {line}")
                                    prop:checked=move || !unticked.with(|u| u.contains(&line))
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        unticked.update(|u| {
                                            if on {
                                                u.remove(&line);
                                            } else {
                                                u.insert(line);
                                            }
                                        });
                                    }
                                />
                            </td>
                            <td class="paste-time">{e.time.display(ctx)}</td>
                            <td class="paste-kind">{e.kind.map(|k| k.label()).unwrap_or("—")}</td>
                            <td class="paste-text">{e.text.clone()}</td>
                        </tr>
                    }
                })
                .collect_view()
        })
    };
    let unreadable = move || {
        parsed.with(|p| {
            (!p.unparsed.is_empty()).then(|| {
                let items = p
                    .unparsed
                    .iter()
                    .map(|u| view! { <li>{format!("Line {}: {} — {}", u.line, u.text, u.reason)}</li> })
                    .collect_view();
                view! {
                    <div class="paste-unread" role="status">
                        <h3>{format!("{} line(s) could not be read and will not be added", p.unparsed.len())}</h3>
                        <ul>{items}</ul>
                    </div>
                }
            })
        })
    };

    view! {
        <Show when=move || open.get()>
            <div class="modal-backdrop" on:keydown=move |ev| {
                if ev.key() == "Escape" {
                    close();
                }
                crate::dom::trap_tab_here(&ev);
            }>
                <div class="modal wide" role="dialog" aria-modal="true" aria-labelledby="paste-title">
                    <crate::dom::FocusReturn />
                    <h2 id="paste-title">"Import timeline"</h2>
                    <p>
                        "Paste lines from a chat channel, an alerting tool or a status page "
                        "(\"14:03 Alert fired\", ISO 8601 times, chat headers like \"Ada  2:03 PM\", "
                        "CSV with a time column), or choose a file. Times without a date use the "
                        "incident date in the facts row."
                    </p>
                    <textarea
                        id="timeline-paste"
                        node_ref=field
                        rows="7"
                        aria-label="Pasted timeline"
                        placeholder="2026-11-20 14:03 Alert fired on checkout latency"
                        prop:value=move || text.get()
                        on:input=move |ev| {
                            unticked.set(BTreeSet::new());
                            text.set(event_target_value(&ev));
                        }
                    ></textarea>
                    <label class="button ghost small paste-file">
                        "Choose a file…"
                        <input type="file" accept=".txt,.csv,.log,text/plain,text/csv" on:change=on_file />
                    </label>
                    <Show when=move || parsed.with(|p| !p.entries.is_empty())>
                        <table class="paste-preview">
                            <thead>
                                <tr><th></th><th>"Time"</th><th>"Kind"</th><th>"Entry"</th></tr>
                            </thead>
                            <tbody>{rows}</tbody>
                        </table>
                    </Show>
                    {unreadable}
                    <div class="modal-actions">
                        <button class="button ghost" on:click=move |_| close()>"Cancel"</button>
                        <button
                            id="timeline-import"
                            class="button primary"
                            disabled=move || chosen.get() == 0
                            on:click=import.clone()
                        >
                            {move || match chosen.get() {
                                0 => "Add entries".to_owned(),
                                1 => "Add 1 entry".to_owned(),
                                n => format!("Add {n} entries"),
                            }}
                        </button>
                    </div>
                </div>
            </div>
        </Show>
    }
}
