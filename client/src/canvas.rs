//! The pannable, zoomable surface: the board's regions as its template lays them out (the
//! meeting's current step highlighted, a Kanban column's count against its limit), the
//! notes on them and other people's cursors, plus the zoom controls.
//!
//! Pointer handling here is about the camera (pan, pinch), the rubber band (Shift+drag on
//! empty canvas selects the notes it touches) and our own cursor; notes handle their own
//! dragging and stop the event before it gets here.

use std::collections::HashMap;

use hindsight_shared::presence::Point;
use hindsight_shared::template::MAX_WIP_LIMIT;
use hindsight_shared::timeline::Timeline;
use hindsight_shared::timestamp::zone_label;
use hindsight_shared::{Region, Role};
use leptos::html::Div;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Element, MouseEvent, PointerEvent, WheelEvent};

use crate::camera::{wheel_factor, Camera};
use crate::context::{Identity, Mounted, Overview, Pointer, Selection, View};
use crate::dom;
use crate::note::Note;
use crate::placement::free_spot;
use crate::presence::Cursors;
use crate::selection::{span, under_band};
use crate::store::Store;

/// How much one press of a zoom button zooms.
const ZOOM_STEP: f64 = 1.25;

/// Viewport-relative position of a mouse or pointer event, given the viewport's top-left
/// corner in client coordinates.
fn local_point((left, top): (f64, f64), ev: &MouseEvent) -> (f64, f64) {
    (ev.client_x() as f64 - left, ev.client_y() as f64 - top)
}

/// Whether a pointer-down started on something that handles pointers itself.
fn on_interactive(ev: &MouseEvent) -> bool {
    ev.target()
        .and_then(|t| t.dyn_into::<Element>().ok())
        .and_then(|t| t.closest(".note, button, input, textarea").ok().flatten())
        .is_some()
}

#[component]
pub fn Canvas() -> impl IntoView {
    let store = expect_context::<Store>();
    let view_ctx = expect_context::<View>();
    let selection = expect_context::<Selection>();
    let identity = expect_context::<Identity>();
    let pointer = expect_context::<Pointer>();
    let viewport = NodeRef::<Div>::new();
    // Pointers currently held down on empty canvas, by id, at their last position.
    let pointers = StoredValue::new(HashMap::<i32, (f64, f64)>::new());
    // A rubber band being drawn: its pointer and its two corners in world coordinates.
    let band = RwSignal::new(None::<(i32, (f64, f64), (f64, f64))>);

    // The viewport's top-left corner in client coordinates. Measured when the window
    // resizes and when a pointer enters or presses, never per move: reading layout in a
    // pointermove handler would force a layout every event.
    let origin = StoredValue::new((0.0, 0.0));
    let measure = move || {
        viewport.get_untracked().map(|el| {
            let rect = el.get_bounding_client_rect();
            origin.set_value((rect.left(), rect.top()));
            let size = (el.client_width() as f64, el.client_height() as f64);
            if view_ctx.viewport.get_untracked() != size {
                view_ctx.viewport.set(size);
            }
            size
        })
    };
    let template = store.template;
    let bounds = Memo::new(move |_| template.with(|t| t.bounds()));
    let fit = move || {
        if let Some((w, h)) = measure() {
            view_ctx
                .camera
                .set(Camera::fit(bounds.get_untracked(), w, h));
        }
    };
    let _ = window_event_listener(leptos::ev::resize, move |_| {
        measure();
    });
    let zoom_by = move |factor: f64| {
        if let Some(el) = viewport.get_untracked() {
            let (cx, cy) = (
                el.client_width() as f64 / 2.0,
                el.client_height() as f64 / 2.0,
            );
            view_ctx.camera.update(|c| *c = c.zoom_at(cx, cy, factor));
        }
    };
    // Fit the board once the viewport exists, and again when the board's own layout
    // arrives (the page starts with the default one until the document is synced).
    Effect::new(move |fitted: Option<Option<hindsight_shared::Rect>>| {
        let now = bounds.get();
        viewport.get()?;
        if fitted.flatten() != Some(now) {
            fit();
        }
        Some(now)
    });

    let on_pointer_down = move |ev: PointerEvent| {
        if on_interactive(&ev) || ev.button() != 0 {
            return;
        }
        let Some(el) = viewport.get_untracked() else {
            return;
        };
        // Leave a focused note when clicking empty canvas, as people expect.
        dom::blur_active();
        let _ = el.set_pointer_capture(ev.pointer_id());
        measure();
        let p = local_point(origin.get_value(), &ev);
        if ev.shift_key() {
            let at = view_ctx.camera.get_untracked().to_world(p.0, p.1);
            band.set(Some((ev.pointer_id(), at, at)));
            return;
        }
        if selection.selected.with_untracked(|s| !s.is_empty()) {
            selection.selected.set(Default::default());
        }
        pointers.update_value(|m| {
            m.insert(ev.pointer_id(), p);
        });
    };

    let on_pointer_move = move |ev: PointerEvent| {
        let (sx, sy) = local_point(origin.get_value(), &ev);
        let (wx, wy) = view_ctx.camera.get_untracked().to_world(sx, sy);
        pointer.0.set(Some(Point {
            x: wx.round(),
            y: wy.round(),
        }));

        let id = ev.pointer_id();
        if band.with_untracked(|b| b.is_some_and(|(p, ..)| p == id)) {
            band.update(|b| {
                if let Some((_, _, end)) = b {
                    *end = (wx, wy);
                }
            });
            return;
        }
        let gesture = pointers.with_value(|m| {
            let previous = *m.get(&id)?;
            let other = m.iter().find(|(k, _)| **k != id).map(|(_, v)| *v);
            Some((previous, other, m.len()))
        });
        let Some((previous, other, count)) = gesture else {
            return;
        };
        pointers.update_value(|m| {
            m.insert(id, (sx, sy));
        });
        match (count, other) {
            (1, _) => view_ctx
                .camera
                .update(|c| *c = c.pan(sx - previous.0, sy - previous.1)),
            (2, Some(o)) => {
                let before = ((previous.0 + o.0) / 2.0, (previous.1 + o.1) / 2.0);
                let after = ((sx + o.0) / 2.0, (sy + o.1) / 2.0);
                let old_d = (previous.0 - o.0).hypot(previous.1 - o.1);
                let new_d = (sx - o.0).hypot(sy - o.1);
                let factor = if old_d > 1.0 { new_d / old_d } else { 1.0 };
                view_ctx.camera.update(|c| {
                    *c = c
                        .pan(after.0 - before.0, after.1 - before.1)
                        .zoom_at(after.0, after.1, factor)
                });
            }
            _ => {}
        }
    };

    let band_store = store.clone();
    let on_pointer_up = move |ev: PointerEvent| {
        if let Some((_, start, end)) = band.get_untracked().filter(|(p, ..)| *p == ev.pointer_id())
        {
            band.set(None);
            let picked = under_band(&band_store, &span(start, end));
            selection.selected.update(|s| s.extend(picked));
        }
        pointers.update_value(|m| {
            m.remove(&ev.pointer_id());
        });
    };

    let band_view = move || {
        band.get().map(|(_, a, b)| {
            let r = span(a, b);
            view! {
                <div
                    class="rubber-band"
                    style:left=format!("{}px", r.x)
                    style:top=format!("{}px", r.y)
                    style:width=format!("{}px", r.w)
                    style:height=format!("{}px", r.h)
                ></div>
            }
        })
    };

    let on_wheel = move |ev: WheelEvent| {
        ev.prevent_default();
        measure();
        let (sx, sy) = local_point(origin.get_value(), &ev);
        let factor = wheel_factor(ev.delta_y(), ev.delta_mode(), ev.ctrl_key());
        view_ctx.camera.update(|c| *c = c.zoom_at(sx, sy, factor));
    };

    let on_double_click = {
        let store = store.clone();
        move |ev: MouseEvent| {
            if on_interactive(&ev) || store.read_only {
                return;
            }
            let (sx, sy) = local_point(origin.get_value(), &ev);
            let (wx, wy) = view_ctx.camera.get_untracked().to_world(sx, sy);
            if template.with_untracked(|t| t.region_at(wx, wy).is_some()) {
                let id = store.create_note_at_centre(
                    wx.round(),
                    wy.round(),
                    &identity.name.get_untracked(),
                );
                selection.focus.set(Some(id));
            }
        }
    };

    let ids = store.indexed.ids;
    // Once the first notes have arrived and been drawn, the page marks it, for the
    // benchmark's time to the first painted note.
    Effect::new(move |marked: Option<bool>| {
        if marked == Some(true) {
            return true;
        }
        let arrived = ids.with(|ids| !ids.is_empty());
        if arrived {
            crate::debug::mark_first_paint();
        }
        arrived
    });
    // The overview: one class on the world, so crossing the threshold restyles the notes
    // once and zooming within either side changes nothing in them.
    let far = expect_context::<Overview>().0;
    let mounted = expect_context::<Mounted>().0;
    view! {
        <div
            class="viewport"
            node_ref=viewport
            on:pointerdown=on_pointer_down
            on:pointermove=on_pointer_move
            on:pointerup=on_pointer_up.clone()
            on:pointercancel=on_pointer_up
            on:pointerenter=move |_| {
                measure();
            }
            on:pointerleave=move |_| pointer.0.set(None)
            on:wheel=on_wheel
            on:dblclick=on_double_click
            style:background-size=move || {
                let size = 24.0 * view_ctx.camera.with(|c| c.zoom);
                format!("{size}px {size}px")
            }
            style:background-position=move || {
                view_ctx.camera.with(|c| format!("{}px {}px", c.x, c.y))
            }
        >
            <div
                class="world"
                class:far=move || far.get()
                data-notes=move || ids.with(Vec::len)
                style:transform=move || view_ctx.camera.with(|c| c.css_transform())
            >
                <For
                    each=move || template.with(|t| t.regions.iter().map(|r| r.key.clone()).collect::<Vec<_>>())
                    key=|k| k.clone()
                    let(key)
                >
                    <RegionCard key=key />
                </For>
                <For each=move || mounted.get() key=|id| id.clone() let(id)>
                    <Note id=id />
                </For>
                <Cursors />
                {band_view}
            </div>
        </div>
        <div class="zoom-controls" role="toolbar" aria-label="Zoom">
            <button class="icon-button" title="Zoom out" aria-label="Zoom out" on:click=move |_| zoom_by(1.0 / ZOOM_STEP)>
                "−"
            </button>
            <span class="zoom-level">
                {move || format!("{:.0}%", view_ctx.camera.with(|c| c.zoom) * 100.0)}
            </span>
            <button class="icon-button" title="Zoom in" aria-label="Zoom in" on:click=move |_| zoom_by(ZOOM_STEP)>
                "+"
            </button>
            <button id="fit" class="button ghost" title="Show the whole board" on:click=move |_| fit()>
                "Fit"
            </button>
        </div>
    }
}

#[component]
fn RegionCard(key: String) -> impl IntoView {
    let store = expect_context::<Store>();
    let template = store.template;
    let region = {
        let key = key.clone();
        Memo::new(move |_| template.with(|t| t.region(&key).cloned()))
    };
    move || region.get().map(|r| view! { <RegionBody region=r /> })
}

/// One region as it is drawn: header with step, title and question, the add button, and
/// what its role or limit adds (the timeline's zone and "no time yet" column, a column's
/// count against its work-in-progress limit).
#[component]
fn RegionBody(region: Region) -> impl IntoView {
    let store = expect_context::<Store>();
    let selection = expect_context::<Selection>();
    let identity = expect_context::<Identity>();
    let (meeting, settings) = (store.meeting, store.settings);
    let rect = region.rect;
    let step = region.step;
    let is_timeline = region.has_role(Role::Timeline);
    let timeline = is_timeline.then(|| {
        let untimed_left = Timeline::untimed_column_x(rect) - rect.x;
        view! {
            <span class="untimed-label" style:left=format!("{untimed_left}px")>
                "No time yet"
            </span>
        }
    });
    let zone = is_timeline.then(|| {
        view! {
            <span class="zone-label" title="Change the timezone in the facts row above">
                {move || format!("Times in {}", zone_label(settings.with(|s| s.facts.utc_offset)))}
            </span>
        }
    });
    // Work in progress: shown on every column of a board whose template sets limits.
    let uses_limits = store
        .template
        .with_untracked(|t| t.regions.iter().any(|r| r.wip_limit.is_some()));
    let wip = uses_limits.then(|| view! { <WipLimit region=region.clone() /> });
    let add = {
        let store = store.clone();
        move |_| {
            let (x, y) = free_spot(rect, &store.occupied());
            let id = store.create_note(x, y, &identity.name.get_untracked());
            selection.focus.set(Some(id));
        }
    };
    let view_ctx = expect_context::<View>();
    let go_to = move |_| {
        let (w, h) = view_ctx.viewport.get_untracked();
        view_ctx.camera.set(Camera::readable(rect, w, h));
    };
    let over = {
        let (counts, key, limit) = (store.indexed.counts, region.key.clone(), region.wip_limit);
        move || limit.is_some_and(|l| counts.with(|c| c.get(&key).copied().unwrap_or(0)) > l)
    };
    view! {
        <section
            class="region"
            class:current-step=move || meeting.with(|m| m.step == Some(step))
            class:over-limit=over
            data-region=region.key.clone()
            data-role=region.role.map(|r| r.as_str())
            data-color=region.color.as_str()
            aria-label=region.title.clone()
            style:left=format!("{}px", rect.x)
            style:top=format!("{}px", rect.y)
            style:width=format!("{}px", rect.w)
            style:height=format!("{}px", rect.h)
        >
            <header class="region-header">
                <span class="step">{region.step}</span>
                <div class="region-text">
                    <h2>
                        <button class="region-title" title="Go to this region" on:click=go_to>
                            {region.title.clone()}
                        </button>
                    </h2>
                    <p>{region.question.clone()}</p>
                </div>
                {zone}
                {wip}
                <button class="region-add" title="Add a note here" on:click=add>
                    "+ Note"
                </button>
            </header>
            {timeline}
        </section>
    }
}

/// A column's count against its limit, and the limit, which anyone who may edit can
/// change; an empty field removes it.
#[component]
fn WipLimit(region: Region) -> impl IntoView {
    let store = expect_context::<Store>();
    let counts = store.indexed.counts;
    let key = region.key.clone();
    let count = {
        let key = key.clone();
        Memo::new(move |_| counts.with(|c| c.get(&key).copied().unwrap_or(0)))
    };
    let limit = region.wip_limit;
    let label = format!("Work-in-progress limit for {}", region.title);
    let on_change = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        let parsed = value.trim().parse::<u32>().ok().filter(|l| *l >= 1);
        if value.trim().is_empty() || parsed.is_some() {
            store.set_wip_limit(&key, parsed.map(|l| l.min(MAX_WIP_LIMIT)));
        }
    };
    view! {
        <span
            class="wip"
            class:over=move || limit.is_some_and(|l| count.get() > l)
            title="Notes in this column / its work-in-progress limit"
        >
            <span class="wip-count">{count}</span>
            " / "
            <input
                class="wip-limit"
                type="number"
                min="1"
                max=MAX_WIP_LIMIT.to_string()
                placeholder="∞"
                aria-label=label
                prop:value=limit.map(|l| l.to_string()).unwrap_or_default()
                on:change=on_change
            />
        </span>
    }
}
