//! The pannable, zoomable surface: the board's regions as its layout draws them (grown to
//! their notes; the meeting's current step highlighted, the timeline's axis, a Kanban
//! column's count against its limit), the notes on them and other people's cursors, plus
//! the zoom controls.
//!
//! Pointer handling here is about the camera (pan, pinch), the rubber band (Shift+drag on
//! empty canvas selects the notes it touches) and our own cursor; notes handle their own
//! dragging and stop the event before it gets here.

use std::collections::HashMap;

use hindsight_shared::presence::Point;
use hindsight_shared::schema::NOTE_WIDTH;
use hindsight_shared::template::MAX_WIP_LIMIT;
use hindsight_shared::timeline::{format_duration, Axis};
use hindsight_shared::timestamp::{zone_label, Precision, Timestamp};
use hindsight_shared::{Region, Role};
use leptos::html::Div;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Element, MouseEvent, PointerEvent, WheelEvent};

use crate::camera::{wheel_factor, Camera};
use crate::context::{
    Grab, Identity, Mounted, Overview, Pointer, Press, Selection, TimelineImportOpen, View,
};
use crate::dom;
use crate::note::Note;
use crate::overview::{self, OverviewCanvas};
use crate::placement::free_spot;
use crate::presence::Cursors;
use crate::selection::{span, under_band};
use crate::store::Store;

/// How much one press of a zoom button zooms.
const ZOOM_STEP: f64 = 1.25;

/// Narrower than this (CSS px), Fit shows the current region rather than the board.
const SMALL_SCREEN: f64 = 700.0;

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
    let layout = store.indexed.layout;
    let bounds = Memo::new(move |_| template.with(|t| t.bounds()));
    // Fit shows the whole board; on a small screen, where the whole board would be too
    // small to read, it shows the current region instead: the facilitator's step, else
    // the region at the centre of the view, else the first.
    let meeting = store.meeting;
    // The camera the last fit set, to tell whether anyone has moved the view since.
    let fitted_camera = StoredValue::new(None::<Camera>);
    let fit = move || {
        if let Some((w, h)) = measure() {
            let camera = if w < SMALL_SCREEN {
                let current = view_ctx.camera.get_untracked().to_world(w / 2.0, h / 2.0);
                let key = meeting
                    .with_untracked(|m| m.step)
                    .and_then(|step| {
                        template.with_untracked(|t| t.at_step(step).next().map(|r| r.key.clone()))
                    })
                    .or_else(|| {
                        layout.with_untracked(|l| {
                            l.region_at(current.0, current.1).map(|p| p.key.clone())
                        })
                    })
                    .or_else(|| {
                        template.with_untracked(|t| t.regions.first().map(|r| r.key.clone()))
                    });
                let rect = key.and_then(|k| layout.with_untracked(|l| l.rect(&k)));
                match rect {
                    Some(rect) => Camera::readable(rect, w, h),
                    None => Camera::fit(layout.with_untracked(|l| l.bounds()), w, h),
                }
            } else {
                // An open facilitator panel sits over the canvas's left edge: the board is
                // fitted beside it, so the panel covers none of it.
                let left =
                    dom::open_panel_right().map_or(0.0, |right| right - origin.get_value().0 + 8.0);
                Camera::fit_beside(layout.with_untracked(|l| l.bounds()), left, w, h)
            };
            view_ctx.camera.set(camera);
            fitted_camera.set_value(Some(camera));
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
    // Fit the board once the viewport exists, and again whenever the board's extent
    // changes (its own template arriving after the default one, regions growing as a
    // large board loads) while nobody has moved the view since the last fit. A view
    // someone panned or zoomed is theirs: growth never moves it.
    let extent = Memo::new(move |_| (bounds.get(), layout.with(|l| l.bounds())));
    Effect::new(
        move |fitted: Option<Option<(hindsight_shared::Rect, hindsight_shared::Rect)>>| {
            let now = extent.get();
            viewport.get()?;
            let untouched = fitted_camera
                .get_value()
                .is_none_or(|c| c == view_ctx.camera.get_untracked());
            if fitted.flatten() != Some(now) && untouched {
                fit();
            }
            Some(now)
        },
    );

    let far = expect_context::<Overview>().0;
    let mounted = expect_context::<Mounted>().0;
    let grab = expect_context::<Grab>().0;
    let (hit_store, read_only) = (store.clone(), store.read_only);
    let on_pointer_down = move |ev: PointerEvent| {
        if on_interactive(&ev) || ev.button() != 0 {
            return;
        }
        let Some(el) = viewport.get_untracked() else {
            return;
        };
        // Leave a focused note when clicking empty canvas, as people expect.
        dom::blur_active();
        measure();
        let p = local_point(origin.get_value(), &ev);
        // A note the overview draws: pressed as if it were an element (see `overview.rs`).
        if far.get_untracked() && !read_only {
            let (wx, wy) = view_ctx.camera.get_untracked().to_world(p.0, p.1);
            let hit = mounted.with_untracked(|m| overview::note_at(&hit_store, m, wx, wy));
            if let Some(id) = hit {
                ev.prevent_default();
                if ev.shift_key() {
                    selection.selected.update(|s| {
                        if !s.remove(&id) {
                            s.insert(id);
                        }
                    });
                    return;
                }
                selection.selected.set([id.clone()].into());
                grab.set_value(Some(Press {
                    id,
                    pointer_id: ev.pointer_id(),
                    client: (ev.client_x() as f64, ev.client_y() as f64),
                }));
                return;
            }
        }
        let _ = el.set_pointer_capture(ev.pointer_id());
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

    // The view follows the keyboard: whatever takes the focus inside the board (a note's
    // text or control, a region's button) is brought into view, with a margin.
    let follow_focus = move |ev: web_sys::FocusEvent| {
        let (Some(el), Some(vp)) = (
            ev.target().and_then(|t| t.dyn_into::<Element>().ok()),
            viewport.get_untracked(),
        ) else {
            return;
        };
        let (r, v) = (el.get_bounding_client_rect(), vp.get_bounding_client_rect());
        let shift = |lo: f64, hi: f64, view_lo: f64, view_hi: f64| {
            if lo < view_lo + FOCUS_MARGIN {
                view_lo + FOCUS_MARGIN - lo
            } else if hi > view_hi - FOCUS_MARGIN {
                (view_hi - FOCUS_MARGIN - hi).max(view_lo + FOCUS_MARGIN - lo)
            } else {
                0.0
            }
        };
        let dx = shift(r.left(), r.right(), v.left(), v.right());
        let dy = shift(r.top(), r.bottom(), v.top(), v.bottom());
        if dx != 0.0 || dy != 0.0 {
            view_ctx.camera.update(|c| {
                c.x += dx;
                c.y += dy;
            });
        }
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
            if layout.with_untracked(|l| l.region_at(wx, wy).is_some()) {
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
    view! {
        <div
            class="viewport"
            node_ref=viewport
            on:focusin=follow_focus
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
                <OverviewCanvas />
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
            <select
                id="go-to-region"
                class="go-to-region"
                aria-label="Go to region"
                on:change=move |ev| {
                    let key = event_target_value(&ev);
                    let rect = layout.with_untracked(|l| l.rect(&key));
                    if let (Some(rect), Some((w, h))) = (rect, measure()) {
                        view_ctx.camera.set(Camera::readable(rect, w, h));
                    }
                    if let Some(select) = ev
                        .target()
                        .and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok())
                    {
                        select.set_value("");
                    }
                }
            >
                <option value="" selected=true>"Go to…"</option>
                {move || template.with(|t| {
                    t.regions
                        .iter()
                        .map(|r| view! { <option value=r.key.clone()>{r.title.clone()}</option> })
                        .collect_view()
                })}
            </select>
        </div>
    }
}

/// Room kept between something focused and the edge of the view, in CSS px.
const FOCUS_MARGIN: f64 = 48.0;

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
/// what its role or limit adds (the timeline's axis, a column's count against its
/// work-in-progress limit). Drawn where the board's layout puts it, grown to its notes.
#[component]
fn RegionBody(region: Region) -> impl IntoView {
    let store = expect_context::<Store>();
    let selection = expect_context::<Selection>();
    let identity = expect_context::<Identity>();
    let (meeting, settings) = (store.meeting, store.settings);
    let rect = {
        let (layout, key, own) = (store.indexed.layout, region.key.clone(), region.rect);
        Memo::new(move |_| layout.with(|l| l.rect(&key)).unwrap_or(own))
    };
    let step = region.step;
    let is_timeline = region.has_role(Role::Timeline);
    let timeline = is_timeline.then(|| view! { <TimelineAxis frame=region.rect /> });
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
        let (store, key) = (store.clone(), region.key.clone());
        move |_| {
            let (x, y) = free_spot(rect.get_untracked(), &store.occupied_in(&key));
            let id = store.create_note_in(&key, x, y, &identity.name.get_untracked());
            selection.focus.set(Some(id));
        }
    };
    // The timeline takes whole incident logs too, unless the page cannot edit.
    let import = (is_timeline && !store.read_only).then(|| {
        let open = expect_context::<TimelineImportOpen>().0;
        view! {
            <button id="import-timeline" class="region-tool" title="Paste or choose an incident log" on:click=move |_| open.set(true)>
                "Import…"
            </button>
        }
    });
    let view_ctx = expect_context::<View>();
    let go_to = move |_| {
        let (w, h) = view_ctx.viewport.get_untracked();
        view_ctx
            .camera
            .set(Camera::readable(rect.get_untracked(), w, h));
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
            style:left=move || format!("{}px", rect.get().x)
            style:top=move || format!("{}px", rect.get().y)
            style:width=move || format!("{}px", rect.get().w)
            style:height=move || format!("{}px", rect.get().h)
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
                {import}
                <button
                    class="region-add"
                    title="Add a note here"
                    aria-label=format!("Add a note to {}", region.title)
                    on:click=add
                >
                    "+ Note"
                </button>
            </header>
            {timeline}
        </section>
    }
}

/// The timeline's axis inside its region: lane names, time labels, squeezed pauses and
/// the spans of time to detect and to resolve. Positions come from the axis in the
/// region's own frame (`frame`, where its template puts it), so they are drawn relative
/// to the region wherever it has moved.
#[component]
fn TimelineAxis(frame: hindsight_shared::Rect) -> impl IntoView {
    let store = expect_context::<Store>();
    let (axis, settings, durations) = (store.indexed.axis, store.settings, store.indexed.durations);
    let left = move |x: f64| format!("{}px", x - frame.x);
    let top = move |y: f64| format!("{}px", y - frame.y);
    let row = move |r: u8| top(Axis::row_y(frame, r));
    view! {
        <div class="axis" aria-hidden="true">
            {move || axis.with(|a| {
                let ctx = settings.with(|s| s.time);
                let lanes = a.lanes.iter().map(|lane| view! {
                    <span class="lane-label" data-lane=lane.kind.as_str() style:top=top(lane.y)>
                        {lane.kind.label()}
                    </span>
                    <span class="lane-rule" style:top=top(lane.y + lane.h - 8.0)></span>
                }).collect_view();
                let ticks = a.ticks.iter().map(|t| {
                    let label = Timestamp { utc_ms: t.utc_ms, precision: Precision::Minute }.display(ctx);
                    view! { <span class="tick" style:left=left(t.x) style:top=row(0)>{label}</span> }
                }).collect_view();
                let gaps = a.gaps.iter().map(|g| view! {
                    <span class="gap" style:left=left(g.x) style:top=row(1) title="A pause drawn shorter than it was">
                        {format!("⋯ {} ⋯", format_duration(g.ms))}
                    </span>
                }).collect_view();
                let d = durations.get();
                let m = a.markers;
                let span = |class: &'static str, from: Option<f64>, to: Option<f64>, ms: Option<i64>, what: &'static str, r: u8| {
                    let (from, to, ms) = (from?, to?, ms?);
                    Some(view! {
                        <span class=format!("span {class}") style:left=left(from) style:width=format!("{}px", (to - from).max(0.0) + NOTE_WIDTH) style:top=row(r)>
                            {format!("{what} {}", format_duration(ms))}
                        </span>
                    })
                };
                view! {
                    {lanes}
                    {ticks}
                    {gaps}
                    {span("to-detect", m.start, m.detected, d.map(|d| d.to_detect_ms), "Time to detect", 2)}
                    {span("to-resolve", m.detected, m.resolved, d.map(|d| d.to_resolve_ms), "Time to resolve", 3)}
                }
            })}
        </div>
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
