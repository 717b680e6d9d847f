//! The overview of a large board, zoomed out below a readable size: the notes nobody
//! works on are drawn on one canvas instead of being an element each.
//!
//! At Fit every note of a board is in view, and thousands of elements cost the browser
//! style, paint and layer work on every frame in which anything on the page moves, however
//! little the page itself does (BENCHMARKS.md, P6). One canvas is one element.
//!
//! - The canvas lies in the world layer, over the notes' extent, between the regions and
//!   the mounted notes, so panning and zooming move it with the regions and never redraw
//!   it. Its resolution follows the zoom ([`resolution`]): drawn again, once the view
//!   settles, when zooming in would blur it or zooming out leaves it needlessly large.
//! - It draws every note that is not mounted (`cull.rs` mounts the ones people work on:
//!   selected or edited here, edited or dragged by someone else), in the board's order,
//!   as its colour and the start of its text ([`gist_of`]).
//! - Redrawing is incremental: the store says which notes' drawing changed
//!   (`ModelSignals::repaint`); their old and new rectangles are cleared and whatever
//!   overlaps them drawn again. Many changes at once (a region moving its notes) redraw
//!   everything. At most one redraw per frame, before it.
//! - A full redraw draws every note's shape at once and their words over the next
//!   frames (for [`WORDS_MS`] each, in the board's order, so what overlaps ends right):
//!   a board of thousands of notes is on screen a frame after it arrives, and the page
//!   answers input while the words fill in.
//! - The context's fill and stroke are set only when they change ([`Pen`]): each setting
//!   crosses into JavaScript as a string the canvas parses again.
//! - A press on a drawn note is hit-tested by the canvas view ([`note_at`]): the note is
//!   selected, mounted, and takes the press over as its drag (`Grab`).

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use hindsight_shared::{NoteColor, NoteId, Rect};
use leptos::html::Canvas;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::CanvasRenderingContext2d;

use crate::camera::FAR_ZOOM;
use crate::context::{Mounted, Overview};
use crate::note::gist_of;
use crate::notes::NoteHandle;
use crate::store::Store;

/// The most pixels the canvas may hold (about 64 MB): a board grown very large is drawn
/// at a lower resolution rather than not at all.
const MAX_PIXELS: f64 = 16_000_000.0;
/// More changed notes than this in one frame redraw the whole canvas.
const FULL_REDRAW: usize = 400;
/// After a full redraw, how long each frame spends giving notes their words, in ms.
const WORDS_MS: f64 = 6.0;
/// How many notes get their words between two looks at the clock.
const WORDS_BETWEEN_CHECKS: usize = 32;
/// The overview's type, as `.note-gist` sets it for a mounted note.
const GIST_FONT: &str = "600 26px system-ui, -apple-system, \"Segoe UI\", Roboto, sans-serif";
const GIST_SIZE: f64 = 26.0;
const GIST_LINE: f64 = 28.6;
const GIST_PAD: (f64, f64) = (14.0, 12.0);
/// How long the zoom must stand still before the canvas is drawn at a new resolution.
const SETTLE_MS: u64 = 150;
/// Room around a note's rectangle cleared with it, in world units: at least its outline,
/// which is one canvas pixel wide whatever the resolution.
const BLEED: f64 = 4.0;

/// The fill a note is drawn in, as the stylesheet's `.note[data-color]` says.
pub fn fill(color: NoteColor) -> &'static str {
    match color {
        NoteColor::Yellow => "#fff3a3",
        NoteColor::Orange => "#ffd8a8",
        NoteColor::Pink => "#ffc9de",
        NoteColor::Purple => "#e5dbff",
        NoteColor::Blue => "#cfe8ff",
        NoteColor::Green => "#d3f9d8",
        NoteColor::Gray => "#e9ecef",
    }
}

/// The note drawn on top at world point `(x, y)`, among those the canvas draws (not
/// `mounted`): the last in the board's order, as on screen.
pub fn note_at(store: &Store, mounted: &[NoteId], x: f64, y: f64) -> Option<NoteId> {
    let mounted: HashSet<&NoteId> = mounted.iter().collect();
    store.indexed.ids.with_untracked(|ids| {
        ids.iter()
            .rev()
            .filter(|id| !mounted.contains(id))
            .find(|id| {
                store
                    .note(id)
                    .is_some_and(|n| n.drawn_rect_now().contains(x, y))
            })
            .cloned()
    })
}

/// The canvas pixels per world unit for a view at `zoom` on a screen of `ratio` device
/// pixels per CSS pixel, over `area` square world units: a quarter more than the view
/// shows, so a little zooming in keeps it sharp, never more than the overview's largest
/// zoom shows, and within [`MAX_PIXELS`]. Rendering fewer pixels than that is what keeps
/// the first frame of a large board quick: the browser scales the whole canvas on every
/// frame it composes.
pub fn resolution(zoom: f64, ratio: f64, area: f64) -> f64 {
    let wanted = (zoom * 1.25).min(FAR_ZOOM) * ratio;
    wanted.min((MAX_PIXELS / area.max(1.0)).sqrt())
}

/// Whether a canvas drawn at `scale` should be drawn again for a view at `zoom`: it
/// would blur, or it holds more than twice the pixels the view needs.
pub fn rescale(scale: f64, zoom: f64, ratio: f64, area: f64) -> bool {
    let wanted = resolution(zoom, ratio, area);
    let blurs = scale < (zoom * ratio).min(wanted) * 0.999;
    blurs || scale > wanted * 1.5
}

fn grown(r: &Rect, by: f64) -> Rect {
    Rect::new(r.x - by, r.y - by, r.w + 2.0 * by, r.h + 2.0 * by)
}

fn within(inner: &Rect, outer: &Rect) -> bool {
    inner.x >= outer.x
        && inner.y >= outer.y
        && inner.right() <= outer.right()
        && inner.bottom() <= outer.bottom()
}

/// Breaks `text` into lines no wider than `width`, given each word's width and a space's.
/// A word wider than a line gets a line of its own (drawn squeezed to fit).
pub fn wrap(text: &str, width: f64, space: f64, word_width: impl Fn(&str) -> f64) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    let mut used = 0.0;
    for word in text.split_whitespace() {
        let w = word_width(word);
        if !line.is_empty() && used + space + w > width {
            lines.push(std::mem::take(&mut line));
            used = 0.0;
        }
        if !line.is_empty() {
            line.push(' ');
            used += space;
        }
        line.push_str(word);
        used += w;
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// What the canvas has drawn, and what it needs to draw again.
struct Painter {
    ctx: CanvasRenderingContext2d,
    canvas: web_sys::HtmlCanvasElement,
    /// The world rectangle the canvas covers, and its pixels per world unit.
    area: Rect,
    scale: f64,
    /// Each drawn note's rectangle: what to clear when it changes.
    drawn: HashMap<NoteId, Rect>,
    /// Notes left to their elements, not drawn here.
    mounted: HashSet<NoteId>,
    /// Each note's gist and width, and its lines.
    lines: HashMap<NoteId, (String, f64, Vec<String>)>,
    /// Word widths in the overview's type, measured once each.
    widths: HashMap<String, f64>,
    /// Notes drawn without their words by the last full redraw, in the board's order.
    wordless: std::collections::VecDeque<NoteId>,
    pen: Pen,
}

/// The styles last set on the canvas's context, so that a run of notes of one colour sets
/// it once. Forgotten whenever the context's state is reset (resized, restored).
#[derive(Default)]
struct Pen {
    fill: Option<&'static str>,
    stroke: Option<(&'static str, f64)>,
}

impl Pen {
    fn fill(&mut self, ctx: &CanvasRenderingContext2d, style: &'static str) {
        if self.fill != Some(style) {
            ctx.set_fill_style_str(style);
            self.fill = Some(style);
        }
    }

    fn stroke(&mut self, ctx: &CanvasRenderingContext2d, style: &'static str, width: f64) {
        if self.stroke != Some((style, width)) {
            ctx.set_stroke_style_str(style);
            ctx.set_line_width(width);
            self.stroke = Some((style, width));
        }
    }

    fn forget(&mut self) {
        *self = Pen::default();
    }
}

impl Painter {
    fn new(canvas: web_sys::HtmlCanvasElement) -> Option<Painter> {
        let ctx = canvas
            .get_context("2d")
            .ok()
            .flatten()?
            .dyn_into::<CanvasRenderingContext2d>()
            .ok()?;
        Some(Painter {
            ctx,
            canvas,
            area: Rect::new(0.0, 0.0, 0.0, 0.0),
            scale: 1.0,
            drawn: HashMap::new(),
            mounted: HashSet::new(),
            lines: HashMap::new(),
            widths: HashMap::new(),
            wordless: Default::default(),
            pen: Pen::default(),
        })
    }

    /// Draws everything again, over the extent of `board` and every drawn note.
    fn full(&mut self, store: &Store, board: Rect, zoom: f64) {
        let notes = self.drawable(store);
        let extent = Rect::enclosing(notes.iter().map(|(_, _, r)| *r))
            .map_or(board, |notes| board.union(&notes));
        let area = grown(&extent, 40.0);
        let ratio = leptos::prelude::window().device_pixel_ratio().max(1.0);
        let scale = resolution(zoom, ratio, area.w * area.h);
        let (pw, ph) = (
            (area.w * scale).ceil() as u32,
            (area.h * scale).ceil() as u32,
        );
        if self.canvas.width() != pw || self.canvas.height() != ph {
            self.canvas.set_width(pw);
            self.canvas.set_height(ph);
            self.pen.forget();
        }
        let style = web_sys::HtmlElement::style(&self.canvas);
        let _ = style.set_property("left", &format!("{}px", area.x));
        let _ = style.set_property("top", &format!("{}px", area.y));
        let _ = style.set_property("width", &format!("{}px", pw as f64 / scale));
        let _ = style.set_property("height", &format!("{}px", ph as f64 / scale));
        self.area = area;
        self.scale = scale;
        self.world_transform();
        self.ctx.clear_rect(area.x, area.y, area.w, area.h);
        self.drawn.clear();
        self.wordless.clear();
        for (id, note, rect) in notes {
            self.shape(&id, note, rect);
            self.wordless.push_back(id);
        }
    }

    /// Draws the next notes left without words by the last full redraw, whole, in
    /// order, for this frame's share of time. Returns whether any are left.
    fn words(&mut self, store: &Store) -> bool {
        // Setting the font parses it: not on the frames of a drag, which have no words.
        if self.wordless.is_empty() {
            return false;
        }
        self.world_transform();
        self.ctx.set_font(GIST_FONT);
        let until = crate::dom::now_ms() + WORDS_MS;
        for done in 1.. {
            if done % WORDS_BETWEEN_CHECKS == 0 && crate::dom::now_ms() > until {
                break;
            }
            let Some(id) = self.wordless.pop_front() else {
                break;
            };
            // Gone, mounted or redrawn since: nothing to add.
            let Some(rect) = self.drawn.get(&id).copied() else {
                continue;
            };
            if let Some(note) = store.note(&id) {
                self.paint(&id, note, rect);
            }
        }
        !self.wordless.is_empty()
    }

    /// Clears and redraws what the notes in `dirty` covered and cover now. Returns false
    /// when a note now lies outside the canvas, which only a full redraw can take in.
    fn partial(&mut self, store: &Store, dirty: &HashSet<NoteId>) -> bool {
        let bleed = BLEED.max(2.0 / self.scale);
        let mut rects = Vec::new();
        for id in dirty {
            if let Some(old) = self.drawn.remove(id) {
                rects.push(grown(&old, bleed));
            }
            if self.mounted.contains(id) {
                continue;
            }
            let Some(note) = store.note(id) else {
                self.lines.remove(id);
                continue;
            };
            {
                let now = note.drawn_rect_now();
                if !within(&grown(&now, bleed), &self.area) {
                    return false;
                }
                rects.push(grown(&now, bleed));
            }
        }
        let Some(bounds) = Rect::enclosing(rects.iter().copied()) else {
            return true;
        };
        self.world_transform();
        self.ctx.save();
        self.ctx.begin_path();
        for r in &rects {
            self.ctx.rect(r.x, r.y, r.w, r.h);
        }
        self.ctx.clip();
        self.ctx.clear_rect(bounds.x, bounds.y, bounds.w, bounds.h);
        self.ctx.set_font(GIST_FONT);
        for (id, note, rect) in self.drawable(store) {
            if rects.iter().any(|r| r.overlaps(&rect)) {
                self.paint(&id, note, rect);
            }
        }
        self.ctx.restore();
        self.pen.forget();
        true
    }

    /// The notes drawn here, in the board's order, with where they are drawn.
    fn drawable(&self, store: &Store) -> Vec<(NoteId, NoteHandle, Rect)> {
        store.indexed.ids.with_untracked(|ids| {
            ids.iter()
                .filter(|id| !self.mounted.contains(*id))
                .filter_map(|id| {
                    let note = store.note(id)?;
                    Some((id.clone(), note, note.drawn_rect_now()))
                })
                .collect()
        })
    }

    fn world_transform(&self) {
        let s = self.scale;
        let _ = self
            .ctx
            .set_transform(s, 0.0, 0.0, s, -self.area.x * s, -self.area.y * s);
    }

    /// Draws one note as the overview shows it: [`shape`](Painter::shape) and words.
    fn paint(&mut self, id: &NoteId, note: NoteHandle, r: Rect) {
        self.shape(id, note, r);
        self.gist(id, note, r);
    }

    /// A note's colour, outline, and a ring if it is an action still missing its owner
    /// or date.
    fn shape(&mut self, id: &NoteId, note: NoteHandle, r: Rect) {
        let (color, incomplete) = note.with_fields_now(|f| {
            // A promoted idea is drawn grey, as `.note.promoted` is.
            let color = if f.action_id.is_some() {
                "#f1f3f5"
            } else {
                fill(f.color)
            };
            (color, f.is_action() && f.missing().is_some())
        });
        let ctx = &self.ctx;
        self.pen.fill(ctx, color);
        ctx.fill_rect(r.x, r.y, r.w, r.h);
        self.pen
            .stroke(ctx, "rgba(15, 23, 42, 0.22)", 1.0 / self.scale);
        ctx.stroke_rect(r.x, r.y, r.w, r.h);
        if incomplete {
            self.pen.stroke(ctx, "#ef4444", 6.0);
            ctx.stroke_rect(r.x + 3.0, r.y + 3.0, r.w - 6.0, r.h - 6.0);
        }
        self.drawn.insert(id.clone(), r);
    }

    /// The first words of a note's text, wrapped in its width.
    fn gist(&mut self, id: &NoteId, note: NoteHandle, r: Rect) {
        let width = r.w - 2.0 * GIST_PAD.0;
        let rows = ((r.h - GIST_PAD.1) / GIST_LINE).floor().max(0.0) as usize;
        if width <= 0.0 || rows == 0 {
            return;
        }
        let gist = note.with_text_now(gist_of);
        let fresh = self
            .lines
            .get(id)
            .is_none_or(|(g, w, _)| *g != gist || *w != width);
        if fresh {
            let ctx = &self.ctx;
            let widths = &mut self.widths;
            let mut measure = |word: &str| -> f64 {
                if let Some(w) = widths.get(word) {
                    return *w;
                }
                let w = ctx.measure_text(word).map_or(0.0, |m| m.width());
                widths.insert(word.to_owned(), w);
                w
            };
            let space = measure(" ");
            let mut measured: HashMap<&str, f64> = HashMap::new();
            for word in gist.split_whitespace() {
                measured.insert(word, measure(word));
            }
            let lines = wrap(&gist, width, space, |w| measured[w]);
            self.lines.insert(id.clone(), (gist, width, lines));
        }
        self.pen.fill(&self.ctx, "#1f2328");
        let ctx = &self.ctx;
        if let Some((_, _, lines)) = self.lines.get(id) {
            for (i, line) in lines.iter().take(rows).enumerate() {
                let baseline = r.y + GIST_PAD.1 + GIST_SIZE * 0.9 + i as f64 * GIST_LINE;
                let _ = ctx.fill_text_with_max_width(line, r.x + GIST_PAD.0, baseline, width);
            }
        }
    }
}

/// The canvas's painter and what waits for the next frame.
struct Frames {
    painter: RefCell<Option<Painter>>,
    /// Notes changed since the last redraw, and whether everything must be drawn again.
    pending: RefCell<(HashSet<NoteId>, bool)>,
    scheduled: RefCell<bool>,
    store: Store,
    layout: RwSignal<hindsight_shared::layout::BoardLayout>,
    camera: RwSignal<crate::camera::Camera>,
}

impl Frames {
    /// Draws what is pending before the next frame, unless that is already asked for.
    fn schedule(frames: &Rc<Frames>) {
        if frames.scheduled.replace(true) {
            return;
        }
        let frames = frames.clone();
        request_animation_frame(move || frames.frame());
    }

    fn frame(self: Rc<Self>) {
        self.scheduled.replace(false);
        let (dirty, full) = std::mem::take(&mut *self.pending.borrow_mut());
        let more = {
            let mut painter = self.painter.borrow_mut();
            let Some(painter) = painter.as_mut() else {
                return;
            };
            let store = &self.store;
            if full || dirty.len() > FULL_REDRAW || !painter.partial(store, &dirty) {
                let zoom = self.camera.with_untracked(|c| c.zoom);
                painter.full(store, self.layout.with_untracked(|l| l.bounds()), zoom);
                true
            } else {
                painter.words(store)
            }
        };
        if more {
            Frames::schedule(&self);
        }
    }
}

/// The canvas the overview draws on; present always, shown only in the overview.
#[component]
pub fn OverviewCanvas() -> impl IntoView {
    let store = expect_context::<Store>();
    let far = expect_context::<Overview>().0;
    let mounted = expect_context::<Mounted>().0;
    let layout = store.indexed.layout;
    let repaint = store.indexed.repaint;
    let canvas = NodeRef::<Canvas>::new();
    let view_ctx = expect_context::<crate::context::View>();

    let frames = Rc::new(Frames {
        painter: RefCell::new(None),
        pending: RefCell::default(),
        scheduled: RefCell::new(false),
        store: store.clone(),
        layout,
        camera: view_ctx.camera,
    });
    // A new zoom, once it settles, may want the canvas at another resolution.
    let zoom = Memo::new(move |_| view_ctx.camera.with(|c| c.zoom));
    let settling = StoredValue::new(0u32);
    {
        let frames = frames.clone();
        Effect::new(move |_| {
            let zoom = zoom.get();
            settling.update_value(|g| *g = g.wrapping_add(1));
            let mine = settling.get_value();
            let frames = frames.clone();
            set_timeout(
                move || {
                    if settling.get_value() != mine {
                        return;
                    }
                    let ratio = leptos::prelude::window().device_pixel_ratio().max(1.0);
                    let stale = frames
                        .painter
                        .borrow()
                        .as_ref()
                        .is_some_and(|p| rescale(p.scale, zoom, ratio, p.area.w * p.area.h));
                    if stale {
                        frames.pending.borrow_mut().1 = true;
                        Frames::schedule(&frames);
                    }
                },
                std::time::Duration::from_millis(SETTLE_MS),
            );
        });
    }

    Effect::new(move |_| {
        let on = far.get();
        // Taken whether or not the overview is on, so the list never grows unread.
        repaint.track();
        let changed = repaint
            .try_update_untracked(std::mem::take)
            .unwrap_or_default();
        if !on {
            // Out of the overview the canvas holds no pixels.
            if let Some(p) = frames.painter.borrow_mut().take() {
                p.canvas.set_width(0);
                p.canvas.set_height(0);
            }
            return;
        }
        let Some(el) = canvas.get() else {
            return;
        };
        let now: HashSet<NoteId> = mounted.with(|m| m.iter().cloned().collect());
        {
            let mut slot = frames.painter.borrow_mut();
            let mut pending = frames.pending.borrow_mut();
            if slot.is_none() {
                *slot = Painter::new(el);
                pending.1 = true;
            }
            if let Some(p) = slot.as_mut() {
                // Notes entering or leaving the elements are drawn or cleared here.
                pending
                    .0
                    .extend(now.symmetric_difference(&p.mounted).cloned());
                p.mounted = now;
            }
            pending.0.extend(changed);
        }
        Frames::schedule(&frames);
    });

    if crate::debug::enabled() {
        expose_geometry(store.clone(), mounted);
    }

    view! {
        <canvas
            class="overview"
            node_ref=canvas
            role="img"
            aria-label="The board's notes, drawn small: zoom in to read and edit them"
            style:display=move || if far.get() { "block" } else { "none" }
        ></canvas>
    }
}

/// For tests and benchmarks (any `debug=` flag): `window.__hindsightNoteRects()` lists
/// every note as drawn on screen now, on the canvas or as an element, bottom first, as
/// `{id, x, y, left, top, width, height}` (world position; client rectangle).
fn expose_geometry(store: Store, mounted: RwSignal<Vec<NoteId>>) {
    use wasm_bindgen::closure::Closure;
    let view_ctx = expect_context::<crate::context::View>();
    let list = Closure::<dyn Fn() -> js_sys::Array>::new(move || {
        let out = js_sys::Array::new();
        let origin = leptos::prelude::document()
            .query_selector(".viewport")
            .ok()
            .flatten()
            .map(|v| v.get_bounding_client_rect())
            .map_or((0.0, 0.0), |r| (r.left(), r.top()));
        let camera = view_ctx.camera.get_untracked();
        let on_top: Vec<NoteId> = mounted.get_untracked();
        let below: Vec<NoteId> = store.indexed.ids.with_untracked(|ids| {
            ids.iter()
                .filter(|id| !on_top.contains(id))
                .cloned()
                .collect()
        });
        for id in below.iter().chain(on_top.iter()) {
            let Some(note) = store.note(id) else {
                continue;
            };
            let r = note.drawn_rect_now();
            let (sx, sy) = (r.x * camera.zoom + camera.x, r.y * camera.zoom + camera.y);
            let entry = js_sys::Object::new();
            let set = |k: &str, v: wasm_bindgen::JsValue| {
                let _ = js_sys::Reflect::set(&entry, &k.into(), &v);
            };
            set("id", id.as_str().into());
            set("x", r.x.into());
            set("y", r.y.into());
            set("left", (origin.0 + sx).into());
            set("top", (origin.1 + sy).into());
            set("width", (r.w * camera.zoom).into());
            set("height", (r.h * camera.zoom).into());
            out.push(&entry);
        }
        out
    });
    let _ = js_sys::Reflect::set(
        &leptos::prelude::window(),
        &"__hindsightNoteRects".into(),
        list.as_ref(),
    );
    list.forget();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_break_between_words_within_the_width() {
        let width = |w: &str| w.len() as f64 * 10.0;
        assert_eq!(
            wrap("Slow alerts because thresholds", 120.0, 5.0, width),
            ["Slow alerts", "because", "thresholds"]
        );
        // A word wider than a line has a line of its own.
        assert_eq!(
            wrap("a incomprehensibilities b", 60.0, 5.0, width),
            ["a", "incomprehensibilities", "b"]
        );
        assert!(wrap("   ", 100.0, 5.0, width).is_empty());
    }

    #[test]
    fn the_canvas_is_as_sharp_as_the_view_and_no_sharper() {
        let area = 6000.0 * 4000.0;
        // At Fit of a large board (20 %), a quarter more than the view shows.
        assert!((resolution(0.2, 1.0, area) - 0.25).abs() < 1e-9);
        // Never more than the overview's largest zoom shows; twice that on a retina screen.
        assert!((resolution(0.44, 1.0, area) - FAR_ZOOM).abs() < 1e-9);
        let small = 3000.0 * 2000.0;
        assert!((resolution(0.44, 2.0, small) - 2.0 * FAR_ZOOM).abs() < 1e-9);
        // A board grown very large is drawn within the pixel budget.
        let huge = 80_000.0 * 40_000.0;
        assert!(resolution(0.44, 2.0, huge).powi(2) * huge <= MAX_PIXELS * 1.0001);
        // Zooming in past the headroom, or far out, draws again; a little does not.
        let drawn = resolution(0.2, 1.0, area);
        assert!(!rescale(drawn, 0.22, 1.0, area));
        assert!(rescale(drawn, 0.3, 1.0, area));
        assert!(rescale(drawn, 0.1, 1.0, area));
    }

    #[test]
    fn every_colour_is_drawn_as_the_stylesheet_draws_it() {
        let css = include_str!("../../assets/style.css");
        for color in NoteColor::ALL {
            let rule = format!(
                ".note[data-color=\"{}\"] {{ --note-bg: {}; }}",
                color.as_str(),
                fill(color)
            );
            assert!(css.contains(&rule), "the stylesheet lacks {rule}");
        }
    }
}
