//! One sticky note: its text field, toolbar, selection and dragging.
//!
//! Shift-click adds or removes the note from the selection; dragging a selected note
//! moves the whole selection with it, in one transaction per write.
//!
//! The note draws what its handle's signals say (`notes.rs`), each part where it is used,
//! so a move re-runs its position and nothing else. Two local exceptions: while this
//! person drags it, the note follows the pointer at full frame rate (the document hears
//! about it at most every 40 ms), and while this person types, remote edits are merged
//! into the field without moving their caret. A note in the Rough Timeline is drawn at
//! the slot its time gives it, not at its stored position, so everyone sees one order.
//!
//! Dropping a note from elsewhere into Next Steps does not move it: the idea goes back
//! where the drag started and a new action note, linked to it, appears where it was
//! dropped (`Board::promote_to_action`).

use hindsight_shared::schema::{utf16_len, TextEdit, NOTE_MAX_SIZE, NOTE_MIN_SIZE};
use hindsight_shared::{NoteColor, NoteId, Role};
use leptos::html::Textarea;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Element, PointerEvent};

use crate::context::{Grab, Identity, Overview, Selection, Toasts, View};
use crate::dom;
use crate::note_fields::{role_fields, ActionLink, SourceLink, Votes};
use crate::note_keys::{self, OnNote};
use crate::notes::NoteHandle;
use crate::store::Store;
use crate::toast;

/// Minimum time between document writes while dragging; enough for others to see the
/// note glide, few enough updates to keep the history small.
const DRAG_WRITE_MS: f64 = 40.0;

/// Where a caret at UTF-16 offset `pos` belongs after `edit`: positions before the edit
/// stay, positions after it shift by the change in length, and positions inside text
/// that was replaced move to where the replacement starts.
pub fn shift_caret(pos: u32, edit: &TextEdit) -> u32 {
    let end = edit.index + edit.delete;
    if pos <= edit.index {
        pos
    } else if pos >= end {
        pos + utf16_len(&edit.insert) - edit.delete
    } else {
        edit.index
    }
}

#[derive(Clone)]
struct Drag {
    pointer_id: i32,
    start_x: f64,
    start_y: f64,
    /// Where the note was drawn when the drag started.
    note_x: f64,
    note_y: f64,
    /// Its stored position and region then: where an idea goes back after promotion.
    home: (f64, f64, Option<String>),
    from: Option<Role>,
    last_write: f64,
    /// Something was written during the drag, so its end must be written too.
    wrote: bool,
}

#[component]
pub fn Note(id: NoteId) -> impl IntoView {
    let store = expect_context::<Store>();
    let view_ctx = expect_context::<View>();
    let selection = expect_context::<Selection>();
    let identity = expect_context::<Identity>();
    let toasts = expect_context::<Toasts>();
    let read_only = store.read_only;
    let Some(note) = store.note(&id) else {
        return ().into_any();
    };
    let drag = StoredValue::new(None::<Drag>);
    // The other selected notes a drag carries along, at their stored positions then.
    let carried = StoredValue::new(Vec::<(NoteId, f64, f64)>::new());
    let selected = Memo::new(move |_| note.marks().selected);
    let dragged_to = RwSignal::new(None::<(f64, f64)>);
    // This person works on the note: drawn in full even in the overview.
    let editing_here = Memo::new(move |_| note.marks().editing);

    let region = Memo::new(move |_| note.with_fields(|f| f.region.clone()));
    let role = Memo::new(move |_| note.with_fields(|f| f.role));
    // Where the note is drawn when nobody here is dragging it.
    let resting = Memo::new(move |_| {
        note.slot()
            .unwrap_or_else(|| note.with_rect(|r| (r.x, r.y)))
    });

    // Takes a press as the start of a drag: from the note's own pointerdown, or from a
    // press on the overview's drawing of it, handed over once the note is mounted.
    let begin_drag = {
        let (id, history, store) = (id.clone(), store.history.clone(), store.clone());
        move |pointer_id: i32, (client_x, client_y): (f64, f64), el: Option<Element>| {
            if !selected.get_untracked() {
                selection.selected.set([id.clone()].into());
            }
            let others: Vec<_> = selection.selected.with_untracked(|s| {
                s.iter()
                    .filter(|other| **other != id)
                    .filter_map(|other| {
                        let r = store.note(other)?.drawn_rect_now();
                        Some((other.clone(), r.x, r.y))
                    })
                    .collect()
            });
            carried.set_value(others);
            if let Some(el) = el {
                let _ = el.set_pointer_capture(pointer_id);
            }
            let (note_x, note_y) = resting.get_untracked();
            let rect = note.rect_now();
            drag.set_value(Some(Drag {
                pointer_id,
                start_x: client_x,
                start_y: client_y,
                note_x,
                note_y,
                home: (rect.x, rect.y, note.fields_now().region),
                from: note.fields_now().role,
                last_write: dom::now_ms(),
                wrote: false,
            }));
            // However long it takes, a drag is one step to undo.
            history.group();
            selection.editing.set(Some(id.clone()));
            selection.moving.set(Some(id.clone()));
        }
    };

    let start_drag = {
        let (id, begin_drag) = (id.clone(), begin_drag.clone());
        move |ev: PointerEvent| {
            // A read-only page cannot move notes; the press pans the canvas instead.
            if ev.button() != 0 || read_only {
                return;
            }
            let on_control = ev
                .target()
                .and_then(|t| t.dyn_into::<Element>().ok())
                .and_then(|t| {
                    t.closest("textarea, button, input, select, .note-text")
                        .ok()
                        .flatten()
                })
                .is_some();
            // The canvas would otherwise start panning.
            ev.stop_propagation();
            if on_control {
                return;
            }
            ev.prevent_default();
            // Grabbing a note leaves any text field, so the keys act on the selection.
            dom::blur_active();
            if ev.shift_key() {
                selection.selected.update(|s| {
                    if !s.remove(&id) {
                        s.insert(id.clone());
                    }
                });
                return;
            }
            let el = ev
                .current_target()
                .and_then(|t| t.dyn_into::<Element>().ok());
            begin_drag(
                ev.pointer_id(),
                (ev.client_x() as f64, ev.client_y() as f64),
                el,
            );
        }
    };
    // A press the overview handed over: this note was drawn there and mounts for it.
    let element = NodeRef::<leptos::html::Div>::new();
    {
        let (id, grab) = (id.clone(), expect_context::<Grab>().0);
        Effect::new(move |_| {
            let Some(el) = element.get() else {
                return;
            };
            let mine = grab.with_value(|g| g.as_ref().is_some_and(|p| p.id == id));
            if let Some(press) = mine
                .then(|| grab.try_update_value(Option::take))
                .flatten()
                .flatten()
            {
                begin_drag(press.pointer_id, press.client, Some(el.into()));
            }
        });
    }

    let drag_position = move |ev: &PointerEvent| -> Option<(Drag, f64, f64)> {
        let d = drag
            .get_value()
            .filter(|d| d.pointer_id == ev.pointer_id())?;
        let zoom = view_ctx.camera.with_untracked(|c| c.zoom);
        let x = d.note_x + (ev.client_x() as f64 - d.start_x) / zoom;
        let y = d.note_y + (ev.client_y() as f64 - d.start_y) / zoom;
        Some((d, x.round(), y.round()))
    };

    // Writes where the dragged note (unless it stays put) and the carried ones are now.
    let write_drag = {
        let (id, store) = (id.clone(), store.clone());
        move |d: &Drag, x: f64, y: f64, this_too: bool| {
            let (dx, dy) = (x - d.note_x, y - d.note_y);
            carried.with_value(|others| {
                store.write(|board, txn| {
                    if this_too {
                        store.place(board, txn, &id, x, y);
                    }
                    for (other, ox, oy) in others {
                        store.place(board, txn, other, ox + dx, oy + dy);
                    }
                })
            });
        }
    };

    let move_drag = {
        let write_drag = write_drag.clone();
        move |ev: PointerEvent| {
            let Some((d, x, y)) = drag_position(&ev) else {
                return;
            };
            dragged_to.set(Some((x, y)));
            let now = dom::now_ms();
            if now - d.last_write >= DRAG_WRITE_MS {
                drag.set_value(Some(Drag {
                    last_write: now,
                    wrote: true,
                    ..d.clone()
                }));
                write_drag(&d, x, y, true);
            }
        }
    };

    let end_drag = {
        let (id, store) = (id.clone(), store.clone());
        move |ev: PointerEvent| {
            let Some((d, x, y)) = drag_position(&ev) else {
                return;
            };
            drag.set_value(None);
            let rect = note.rect_now();
            let already = note.fields_now().action_id.is_some();
            let (cx, cy) = (x + rect.w / 2.0, y + rect.h / 2.0);
            let into_actions = d.from != Some(Role::Actions)
                && store.drop_region(&id, cx, cy).is_some_and(|key| {
                    store
                        .template
                        .with_untracked(|t| t.role_of(&key) == Some(Role::Actions))
                });
            let promoted = into_actions
                && if already {
                    // One action per idea: the idea goes home instead of becoming two.
                    store.put_back(&id, &d.home);
                    toast::show(toasts, "This idea is already an action.");
                    true
                } else {
                    let name = identity.name.get_untracked();
                    store.promote(&id, (x, y), &d.home, &name).is_some()
                };
            // A click that moved nothing writes nothing, so leaves nothing to undo.
            if d.wrote || (x, y) != (d.note_x, d.note_y) {
                write_drag(&d, x, y, !promoted);
            }
            store.history.ungroup();
            dragged_to.set(None);
            selection.stop_editing(&id);
            // Dropped: from now on it grows its region like any other note.
            selection.moving.set(None);
        }
    };

    let position = move || dragged_to.get().unwrap_or_else(|| resting.get());
    // The size being dragged here by the resize handle, until it is written.
    let resized = RwSignal::new(None::<(f64, f64)>);
    let size = move || {
        resized
            .get()
            .unwrap_or_else(|| note.with_rect(|r| (r.w, r.h)))
    };
    // The note's box sits at `anchor` (left/top). While it moves (dragged here, or by
    // someone else), the box stays put and the movement is a `translate` from there: a
    // compositor update each step, where moving the box would repaint and re-layer the
    // whole board. A note at rest has no transform at all, which keeps the board's
    // layers few.
    let moving = Memo::new(move |_| dragged_to.with(Option::is_some) || note.editor().is_some());
    let anchor = Memo::new(move |kept: Option<&(f64, f64)>| {
        let moving = moving.get();
        match kept {
            Some(kept) if moving => *kept,
            _ => resting.get(),
        }
    });

    let on_delete = {
        let (id, store) = (id.clone(), store.clone());
        move |_| store.delete_note(&id)
    };

    let fields = role_fields(id.clone(), note, role);
    let source =
        Memo::new(move |_| note.with_fields(|f| f.source_id.clone().filter(|_| f.is_action())));
    let action = Memo::new(move |_| note.with_fields(|f| f.action_id.clone()));
    let author = Memo::new(move |_| {
        note.with_fields(|f| {
            f.author
                .clone()
                .filter(|_| f.source_id.is_none() || !f.is_action())
        })
    });
    let color = Memo::new(move |_| note.with_fields(|f| f.color));
    let gist = Memo::new(move |_| note.with_text(gist_of));
    // In the overview of a large board a note is drawn as its colour and first words,
    // except the ones this person works on; that content costs a fraction of a full
    // note's, to build and to draw.
    let overview = expect_context::<Overview>().0;
    let detailed = Memo::new(move |_| selected.get() || editing_here.get());
    // What a screen reader calls the note: where it is, who wrote it, its votes, its
    // first words.
    let template = store.template;
    let name = Memo::new(move |_| {
        let key = region.get().unwrap_or_default();
        let title = template.with(|t| t.region(&key).map(|r| r.title.clone()).unwrap_or_default());
        let votes: u32 = note.with_votes(|v| v.values().sum());
        crate::list::note_name(&title, author.get().as_deref(), votes, &gist.get())
    });

    // Keys on the note: arrows move it (a selection moves as a whole, see `selection`),
    // Delete deletes it and puts the focus on the next note.
    let on_key = {
        let (id, store) = (id.clone(), store.clone());
        move |ev: web_sys::KeyboardEvent| {
            let Some(action) = note_keys::keydown(&ev) else {
                return;
            };
            let alone = selection.selected.with_untracked(|s| !s.contains(&id));
            if store.read_only || !alone {
                return;
            }
            ev.prevent_default();
            ev.stop_propagation();
            match action {
                OnNote::Delete => {
                    if let Some(group) = ev
                        .current_target()
                        .and_then(|t| t.dyn_into::<Element>().ok())
                    {
                        let _ = note_keys::focus_neighbour(&group, note_keys::CANVAS_NOTES, true)
                            || note_keys::focus_neighbour(&group, note_keys::CANVAS_NOTES, false);
                    }
                    store.delete_note(&id);
                }
                OnNote::Arrow(dx, dy, far) => {
                    let step = if far {
                        crate::selection::NUDGE_FAR
                    } else {
                        crate::selection::NUDGE
                    };
                    let one = [id.clone()].into();
                    crate::selection::nudge(
                        &store,
                        &one,
                        f64::from(dx) * step,
                        f64::from(dy) * step,
                    );
                }
            }
        }
    };

    view! {
        <div
            class="note"
            node_ref=element
            class:dragging=move || dragged_to.with(Option::is_some)
            class:selected=move || selected.get()
            class:far=move || overview.get() && !detailed.get()
            class:busy=move || note.editor().is_some()
            class:action=move || role.get() == Some(Role::Actions)
            class:incomplete=move || note.with_fields(|f| f.is_action() && f.missing().is_some())
            class:promoted=move || action.with(Option::is_some)
            data-note-id=id.to_string()
            data-x=move || resting.get().0.to_string()
            data-y=move || resting.get().1.to_string()
            data-region=move || region.get().unwrap_or_default()
            data-role=move || role.get().map(|r| r.as_str())
            data-color=move || color.get().as_str()
            style:left=move || format!("{}px", anchor.get().0)
            style:top=move || format!("{}px", anchor.get().1)
            style:translate=move || {
                moving.get().then(|| {
                    let ((x, y), (ax, ay)) = (position(), anchor.get());
                    format!("{}px {}px", x - ax, y - ay)
                })
            }
            style:width=move || format!("{}px", size().0)
            style:height=move || format!("{}px", size().1)
            style:box-shadow=move || {
                note.editor().map(|c| format!("0 0 0 3px {c}, 0 10px 24px rgba(15, 23, 42, 0.18)")).unwrap_or_default()
            }
            on:pointerdown=start_drag
            on:pointermove=move_drag
            on:pointerup=end_drag.clone()
            on:pointercancel=end_drag
            on:dblclick=|ev| ev.stop_propagation()
        >
            // The element itself has as many attributes as the view library takes; the
            // note's name goes on the wrapper of its parts.
            <div
                class="note-content"
                role="group"
                tabindex="0"
                aria-label=move || name.get()
                aria-describedby="note-keys"
                on:keydown=on_key
            >
            {let id = id.clone(); move || {
                if overview.get() && !detailed.get() {
                    return view! { <div class="note-gist">{move || gist.get()}</div> }.into_any();
                }
                view! {
                    <div class="note-bar" title="Drag to move">
                        <Votes id=id.clone() note=note />
                        <button
                            class="note-delete"
                            tabindex="-1"
                            title="Delete note"
                            aria-label="Delete note"
                            on:click=on_delete.clone()
                        >
                            "×"
                        </button>
                    </div>
                    {fields.clone()}
                    <NoteText id=id.clone() note=note />
                    <div class="note-footer">
                        <div class="note-footer-left">
                            {move || source.get().map(|source| view! { <SourceLink source=source /> })}
                            {move || author.get().map(|a| view! { <span class="note-author">{a}</span> })}
                            {move || action.get().map(|action| view! { <ActionLink action=action /> })}
                        </div>
                        <ColorPicker id=id.clone() color=color />
                        <ResizeHandle id=id.clone() note=note resized=resized />
                    </div>
                }
                .into_any()
            }}
            </div>
        </div>
    }
    .into_any()
}

/// Where a resize started: the pointer, its client position and the note's size then,
/// and when the size was last written.
#[derive(Clone, Copy)]
struct Resize {
    pointer_id: i32,
    start: (f64, f64),
    size: (f64, f64),
    last_write: f64,
}

/// The corner a note is resized by. The new size shows here at once, reaches the others
/// as the drag goes (written at most every [`DRAG_WRITE_MS`]), is clamped as the schema
/// clamps it, and undoes in one step.
#[component]
fn ResizeHandle(
    id: NoteId,
    note: NoteHandle,
    resized: RwSignal<Option<(f64, f64)>>,
) -> impl IntoView {
    let store = expect_context::<Store>();
    let view_ctx = expect_context::<View>();
    let selection = expect_context::<Selection>();
    let grab = StoredValue::new(None::<Resize>);
    let size_at = move |ev: &PointerEvent| -> Option<(Resize, (f64, f64))> {
        let r = grab
            .get_value()
            .filter(|r| r.pointer_id == ev.pointer_id())?;
        let zoom = view_ctx.camera.with_untracked(|c| c.zoom);
        let clamp = |v: f64| v.round().clamp(NOTE_MIN_SIZE, NOTE_MAX_SIZE);
        let w = clamp(r.size.0 + (ev.client_x() as f64 - r.start.0) / zoom);
        let h = clamp(r.size.1 + (ev.client_y() as f64 - r.start.1) / zoom);
        Some((r, (w, h)))
    };
    let write = {
        let (store, id) = (store.clone(), id.clone());
        move |(w, h): (f64, f64)| store.write(|board, txn| board.resize_note(txn, &id, w, h))
    };
    let down = {
        let store = store.clone();
        move |ev: PointerEvent| {
            // The note's own handler would start moving it.
            ev.stop_propagation();
            if ev.button() != 0 || store.read_only {
                return;
            }
            ev.prevent_default();
            if let Some(el) = ev
                .current_target()
                .and_then(|t| t.dyn_into::<Element>().ok())
            {
                let _ = el.set_pointer_capture(ev.pointer_id());
            }
            let rect = note.rect_now();
            grab.set_value(Some(Resize {
                pointer_id: ev.pointer_id(),
                start: (ev.client_x() as f64, ev.client_y() as f64),
                size: (rect.w, rect.h),
                last_write: dom::now_ms(),
            }));
            store.history.group();
            // While it grows it pushes nothing along (see `layout`); once let go it does.
            selection.moving.set(Some(id.clone()));
        }
    };
    let moved = {
        let write = write.clone();
        move |ev: PointerEvent| {
            ev.stop_propagation();
            let Some((r, size)) = size_at(&ev) else {
                return;
            };
            resized.set(Some(size));
            let now = dom::now_ms();
            if now - r.last_write >= DRAG_WRITE_MS {
                grab.set_value(Some(Resize {
                    last_write: now,
                    ..r
                }));
                write(size);
            }
        }
    };
    let up = move |ev: PointerEvent| {
        ev.stop_propagation();
        let Some((r, size)) = size_at(&ev) else {
            return;
        };
        grab.set_value(None);
        if size != r.size {
            write(size);
        }
        store.history.ungroup();
        resized.set(None);
        selection.moving.set(None);
    };
    view! {
        <div
            class="note-resize"
            title="Drag to resize"
            aria-hidden="true"
            on:pointerdown=down
            on:pointermove=moved
            on:pointerup=up.clone()
            on:pointercancel=up
        ></div>
    }
}

/// The note's text. Shown as plain text, and turned into a text field only while this
/// person edits it: a board of thousands of notes then holds one text field, not
/// thousands, and the browser's per-frame work stays small (each text field is a
/// scrolling box of its own to lay out and composite).
///
/// Focusing the text (a click, Tab, or a new note asking for it) opens the field with the
/// caret where the click was; leaving it closes it. While it is open, remote edits are
/// merged into it around the caret.
#[component]
pub fn NoteText(id: NoteId, note: NoteHandle) -> impl IntoView {
    let store = expect_context::<Store>();
    let selection = expect_context::<Selection>();
    let read_only = store.read_only;
    let editing = RwSignal::new(false);
    // Where to put the caret when the field opens (UTF-16 offset; `None`: at the end).
    let caret = StoredValue::new(None::<u32>);
    let textarea = NodeRef::<Textarea>::new();

    // A new note (or Enter on a selected one) asks for its text to take the focus.
    Effect::new(move |_| {
        if note.marks().focus && !read_only {
            selection.focus.set(None);
            caret.set_value(None);
            editing.set(true);
        }
    });

    // The field opens focused, holding the text as it is now.
    Effect::new(move |_| {
        if let Some(el) = textarea.get() {
            el.set_value(&note.text_now());
            let at = caret
                .get_value()
                .unwrap_or_else(|| hindsight_shared::schema::utf16_len(&el.value()));
            let _ = el.focus();
            let _ = el.set_selection_range(at, at);
        }
    });

    // Remote edits reach the open field here; our own typing already matches it. One
    // pass over the text for the diff, one to set the field.
    Effect::new(move |_| {
        note.with_text(|text| {
            let Some(el) = textarea.get() else {
                return;
            };
            let old = el.value();
            let Some(edit) = TextEdit::between(&old, text) else {
                return;
            };
            let focused = document().active_element().is_some_and(|a| a == **el);
            let range = (el.selection_start(), el.selection_end());
            el.set_value(text);
            if let (true, Ok(Some(start)), Ok(Some(end))) = (focused, range.0, range.1) {
                let _ = el.set_selection_range(shift_caret(start, &edit), shift_caret(end, &edit));
            }
        })
    });

    let open = move |ev: web_sys::FocusEvent| {
        if read_only {
            return;
        }
        caret.set_value(caret_at_pointer(&ev));
        editing.set(true);
    };
    let on_input = {
        let (id, store) = (id.clone(), store.clone());
        move |ev| store.edit_text(&id, &event_target_value(&ev))
    };
    let on_focus = {
        let id = id.clone();
        move |_| selection.editing.set(Some(id.clone()))
    };
    let on_blur = move |_| {
        selection.stop_editing(&id);
        editing.set(false);
    };

    move || {
        if editing.get() {
            view! {
                <textarea
                    class="note-text"
                    tabindex="-1"
                    node_ref=textarea
                    placeholder="Write something…"
                    aria-label="Note text"
                    on:input=on_input.clone()
                    on:focus=on_focus.clone()
                    on:blur=on_blur.clone()
                ></textarea>
            }
            .into_any()
        } else {
            view! {
                <div
                    class="note-text shown"
                    tabindex="-1"
                    role="textbox"
                    aria-multiline="true"
                    aria-readonly=read_only.then_some("true")
                    aria-label="Note text"
                    data-placeholder=(!read_only).then_some("Write something…")
                    on:focus=open
                >
                    {move || note.with_text(str::to_owned)}
                </div>
            }
            .into_any()
        }
    }
}

/// The UTF-16 offset in the note's text under the pointer that focused it, if a click did.
fn caret_at_pointer(ev: &web_sys::FocusEvent) -> Option<u32> {
    let shown = ev.target()?.dyn_into::<Element>().ok()?;
    let (x, y) = POINTER.with(|p| p.get())?;
    let at = document().caret_position_from_point(x, y)?;
    let node = at.offset_node()?;
    // The shown text is one text node, so an offset in it is an offset in the text.
    (node.node_type() == web_sys::Node::TEXT_NODE && shown.contains(Some(&node)))
        .then(|| at.offset())
}

thread_local! {
    /// Where the last pointer press on the page was, in client coordinates, so that
    /// focusing a note's text by clicking it can put the caret under the pointer.
    static POINTER: std::cell::Cell<Option<(f32, f32)>> = const { std::cell::Cell::new(None) };
}

/// Remembers where pointers go down (see [`POINTER`]); call once per page.
pub fn track_presses() {
    let _ = window_event_listener(leptos::ev::pointerdown, |ev| {
        POINTER.with(|p| p.set(Some((ev.client_x() as f32, ev.client_y() as f32))));
    });
}

/// How much of a note's text the overview shows.
const GIST_CHARS: usize = 28;

/// The start of a note's text for the zoomed-out overview: its first words, on one run,
/// short enough to fit the note in large type without clipping it (a clip per note would
/// slow down every frame of a large board).
pub fn gist_of(text: &str) -> String {
    let words = text.split_whitespace();
    let mut gist = String::new();
    for word in words {
        let len = gist.chars().count();
        if len + 1 + word.chars().count() > GIST_CHARS {
            if gist.is_empty() {
                gist = word.chars().take(GIST_CHARS).collect();
            }
            gist.push('…');
            return gist;
        }
        if !gist.is_empty() {
            gist.push(' ');
        }
        gist.push_str(word);
    }
    gist
}

/// The note's colour: a swatch that opens the palette. The seven colours exist only while
/// the palette is open, so a board of thousands of notes does not carry seven buttons
/// each, and Tab does not stop at them.
#[component]
fn ColorPicker(id: NoteId, color: Memo<NoteColor>) -> impl IntoView {
    let store = expect_context::<Store>();
    let open = RwSignal::new(false);
    let palette = move || {
        open.get().then(|| {
            NoteColor::ALL
                .map(|c| {
                    let (id, store) = (id.clone(), store.clone());
                    view! {
                        <button
                            class="note-color"
                            tabindex="-1"
                            data-color=c.as_str()
                            class:selected=move || color.get() == c
                            title=format!("Make it {}", c.as_str())
                            aria-label=format!("Colour {}", c.as_str())
                            on:click=move |_| {
                                store.set_color(&id, c);
                                open.set(false);
                            }
                        ></button>
                    }
                })
                .collect_view()
        })
    };
    view! {
        <div class="note-colors" class:open=move || open.get() role="group" aria-label="Note colour">
            <button
                class="note-color-current"
                tabindex="-1"
                data-color=move || color.get().as_str()
                title="Change the colour"
                aria-label=move || format!("Colour: {}", color.get().as_str())
                aria-expanded=move || open.get().to_string()
                on:click=move |_| open.update(|o| *o = !*o)
            ></button>
            {palette}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(old: &str, new: &str, caret: u32, expected: u32) {
        let edit = TextEdit::between(old, new).expect("texts differ");
        assert_eq!(
            shift_caret(caret, &edit),
            expected,
            "{old:?} -> {new:?} at {caret}"
        );
    }

    #[test]
    fn gists_are_the_first_words_within_the_limit() {
        assert_eq!(gist_of("  Slow   alerts\n"), "Slow alerts");
        assert_eq!(
            gist_of("Alert thresholds were too high for checkout"),
            "Alert thresholds were too…"
        );
        let long_word = "x".repeat(40);
        assert_eq!(gist_of(&long_word), format!("{}…", "x".repeat(28)));
        assert_eq!(gist_of(""), "");
    }

    #[test]
    fn carets_follow_remote_edits() {
        // Typing before the caret pushes it right; after it, leaves it alone.
        check("world", "hello world", 5, 11);
        check("hello", "hello world", 3, 3);
        // A deletion before the caret pulls it left.
        check("abcdef", "aef", 5, 2);
        // A caret inside deleted text lands where the deletion happened.
        check("abcdef", "aef", 2, 1);
        // An insertion exactly at the caret stays after the caret, as in other editors.
        check("ab", "aXb", 1, 1);
        // Offsets are UTF-16: an emoji counts twice.
        check("x", "🔥x", 1, 3);
    }
}
