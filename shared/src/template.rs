//! Templates: what a board is made of. A template is a title, a description, settings and
//! an ordered list of regions; at creation its regions are written into the board's own
//! document, so every replica, export and third-party Yjs client reads the layout from the
//! board, and a template changed later does not move the notes of boards made from it.
//!
//! ```text
//! meta.template : Y.Map                  where the layout came from
//!   key, title, description : string
//!   incidentFacts : boolean              whether the incident facts row is shown
//! meta.layout   : Y.Array<Y.Map>         the regions, in meeting order
//!   key, title, question, color : string
//!   x, y, w, h  : number                 canvas pixels
//!   step        : number                 1-based, the facilitator's steps
//!   role        : string, optional       "summary" | "timeline" | "actions"
//!   wipLimit    : number, optional       a Kanban column's work-in-progress limit
//! ```
//!
//! A board stored without `meta.layout` (made before boards carried their layout) reads as
//! the blameless postmortem, which is what it was drawn as.
//!
//! Template files are strict: [`Template::parse`] refuses anything [`Template::validate`]
//! does not accept and names the field that is wrong. The document is read leniently like
//! every other part of it: a region that cannot be drawn is skipped.

use std::collections::HashSet;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use yrs::{Any, Array, ArrayPrelim, Map, MapPrelim, MapRef, Out, ReadTxn, TransactionMut};

use crate::palette::NoteColor;
use crate::region::{Rect, Region, Role};
use crate::schema::{number_field, string_field, Board};
use crate::votes::{DEFAULT_VOTE_BUDGET, MAX_VOTE_BUDGET};

pub const MAX_REGIONS: usize = 24;
pub const MAX_KEY_CHARS: usize = 32;
pub const MAX_TEMPLATE_TITLE_CHARS: usize = 80;
pub const MAX_REGION_TITLE_CHARS: usize = 60;
pub const MAX_QUESTION_CHARS: usize = 300;
pub const MAX_DESCRIPTION_CHARS: usize = 400;
/// Regions lie within a square canvas of this side, starting at the origin.
pub const CANVAS_SIZE: f64 = 8000.0;
/// The shortest side a region may have: room for its header and one row of notes.
pub const MIN_REGION_SIDE: f64 = 320.0;
pub const MAX_WIP_LIMIT: u32 = 999;
/// The key a template without one (a custom template) is stored under.
pub const CUSTOM_KEY: &str = "custom";

/// Settings a template gives a new board.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Settings {
    /// Votes per person on a new board.
    #[serde(default = "default_vote_budget")]
    pub vote_budget: u32,
    /// Whether the board shows the incident facts row (severity, times, durations).
    #[serde(default)]
    pub incident_facts: bool,
}

fn default_vote_budget() -> u32 {
    DEFAULT_VOTE_BUDGET
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            vote_budget: DEFAULT_VOTE_BUDGET,
            incident_facts: false,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Template {
    #[serde(default = "custom_key")]
    pub key: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub settings: Settings,
    pub regions: Vec<Region>,
}

fn custom_key() -> String {
    CUSTOM_KEY.to_owned()
}

/// Why a template was refused: the path of the wrong field (`regions[3].rect`) and what
/// is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct TemplateError {
    pub field: String,
    pub problem: String,
}

fn refuse(field: impl Into<String>, problem: impl Into<String>) -> TemplateError {
    TemplateError {
        field: field.into(),
        problem: problem.into(),
    }
}

impl Template {
    /// Reads and checks a template document (JSON).
    pub fn parse(json: &[u8]) -> Result<Template, TemplateError> {
        let de = &mut serde_json::Deserializer::from_slice(json);
        let template: Template = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let field = if path == "." { "template".into() } else { path };
            refuse(field, e.into_inner().to_string())
        })?;
        template.validate()?;
        Ok(template)
    }

    /// Every rule a template must keep to be drawn and run: sizes and lengths within
    /// limits, keys unique, regions on the canvas and apart, steps in order, each role
    /// given at most once.
    pub fn validate(&self) -> Result<(), TemplateError> {
        check_key("key", &self.key)?;
        check_text("title", &self.title, 1, MAX_TEMPLATE_TITLE_CHARS)?;
        check_text("description", &self.description, 0, MAX_DESCRIPTION_CHARS)?;
        if self.settings.vote_budget > MAX_VOTE_BUDGET {
            return Err(refuse(
                "settings.voteBudget",
                format!("at most {MAX_VOTE_BUDGET}"),
            ));
        }
        if self.regions.is_empty() {
            return Err(refuse("regions", "a template needs at least one region"));
        }
        if self.regions.len() > MAX_REGIONS {
            return Err(refuse(
                "regions",
                format!("{} regions; at most {MAX_REGIONS}", self.regions.len()),
            ));
        }
        let mut keys = HashSet::new();
        let mut roles = HashSet::new();
        let mut last_step = 0u8;
        for (i, r) in self.regions.iter().enumerate() {
            let at = |field: &str| format!("regions[{i}].{field}");
            check_key(&at("key"), &r.key)?;
            if !keys.insert(r.key.as_str()) {
                return Err(refuse(at("key"), format!("{:?} is used twice", r.key)));
            }
            check_text(&at("title"), &r.title, 1, MAX_REGION_TITLE_CHARS)?;
            check_text(&at("question"), &r.question, 0, MAX_QUESTION_CHARS)?;
            check_rect(&at("rect"), &r.rect)?;
            if let Some((j, _)) = self.regions[..i]
                .iter()
                .enumerate()
                .find(|(_, o)| o.rect.overlaps(&r.rect))
            {
                return Err(refuse(at("rect"), format!("overlaps regions[{j}]")));
            }
            // Steps start at 1 and never skip; neighbours may share one.
            if r.step == 0 || r.step < last_step || r.step > last_step + 1 {
                let expected = if last_step == 0 {
                    "1".to_owned()
                } else {
                    format!("{last_step} or {}", last_step + 1)
                };
                return Err(refuse(
                    at("step"),
                    format!("is {}, expected {expected}", r.step),
                ));
            }
            last_step = r.step;
            if let Some(role) = r.role {
                if !roles.insert(role) {
                    return Err(refuse(
                        at("role"),
                        format!("{:?} is given to two regions", role.as_str()),
                    ));
                }
            }
            if r.wip_limit.is_some_and(|l| l == 0 || l > MAX_WIP_LIMIT) {
                return Err(refuse(at("wipLimit"), format!("from 1 to {MAX_WIP_LIMIT}")));
            }
        }
        Ok(())
    }

    /// The built-in template with this key.
    pub fn builtin(key: &str) -> Option<&'static Template> {
        builtins().iter().find(|t| t.key == key)
    }

    /// The default template, and what a board without a stored layout is.
    pub fn postmortem() -> &'static Template {
        &builtins()[0]
    }

    pub fn region(&self, key: &str) -> Option<&Region> {
        self.regions.iter().find(|r| r.key == key)
    }

    /// The region that contains a canvas point, if any (gaps belong to none).
    pub fn region_at(&self, x: f64, y: f64) -> Option<&Region> {
        self.regions.iter().find(|r| r.rect.contains(x, y))
    }

    pub fn with_role(&self, role: Role) -> Option<&Region> {
        self.regions.iter().find(|r| r.has_role(role))
    }

    pub fn role_of(&self, key: &str) -> Option<Role> {
        self.region(key).and_then(|r| r.role)
    }

    /// How many steps the facilitator walks through.
    pub fn steps(&self) -> u8 {
        self.regions.iter().map(|r| r.step).max().unwrap_or(0)
    }

    /// The regions of one step (usually one).
    pub fn at_step(&self, step: u8) -> impl Iterator<Item = &Region> {
        self.regions.iter().filter(move |r| r.step == step)
    }

    /// What a board from this template is called while it has no title: "Untitled
    /// postmortem", "Untitled Kaizen report".
    pub fn untitled(&self) -> String {
        if self.key == "postmortem" {
            crate::facts::UNTITLED.to_owned()
        } else {
            format!("Untitled {}", self.title)
        }
    }

    /// The rectangle that encloses every region.
    pub fn bounds(&self) -> Rect {
        Rect::enclosing(self.regions.iter().map(|r| r.rect))
            .unwrap_or(Rect::new(0.0, 0.0, 1.0, 1.0))
    }

    /// The template a board's regions and settings make, to start other boards from
    /// (regions and prompts, never notes).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a template always serialises") + "\n"
    }
}

fn check_key(field: &str, key: &str) -> Result<(), TemplateError> {
    let well_formed = !key.is_empty()
        && key.len() <= MAX_KEY_CHARS
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if well_formed {
        Ok(())
    } else {
        Err(refuse(
            field,
            format!("{key:?} must be 1 to {MAX_KEY_CHARS} of a-z, 0-9 and -"),
        ))
    }
}

fn check_text(field: &str, text: &str, min: usize, max: usize) -> Result<(), TemplateError> {
    let chars = text.trim().chars().count();
    if chars < min {
        return Err(refuse(field, "must not be empty"));
    }
    if text.chars().count() > max {
        return Err(refuse(field, format!("longer than {max} characters")));
    }
    Ok(())
}

fn check_rect(field: &str, r: &Rect) -> Result<(), TemplateError> {
    if ![r.x, r.y, r.w, r.h].iter().all(|v| v.is_finite()) {
        return Err(refuse(field, "every value must be a finite number"));
    }
    if r.x < 0.0 || r.y < 0.0 || r.right() > CANVAS_SIZE || r.bottom() > CANVAS_SIZE {
        return Err(refuse(
            field,
            format!("must lie within 0..{CANVAS_SIZE} on both axes"),
        ));
    }
    if r.w < MIN_REGION_SIDE || r.h < MIN_REGION_SIDE {
        return Err(refuse(
            field,
            format!("sides must be at least {MIN_REGION_SIDE}"),
        ));
    }
    Ok(())
}

/// The built-in template files, the default first. Adding a file here adds it to the
/// start page, the API and the schema test.
const BUILT_IN: [&str; 11] = [
    include_str!("../templates/postmortem.json"),
    include_str!("../templates/kaizen.json"),
    include_str!("../templates/what-so-what-now-what.json"),
    include_str!("../templates/statik.json"),
    include_str!("../templates/kanban.json"),
    include_str!("../templates/festival-retro.json"),
    include_str!("../templates/year-end-retro.json"),
    include_str!("../templates/start-stop-continue.json"),
    include_str!("../templates/four-ls.json"),
    include_str!("../templates/mad-sad-glad.json"),
    include_str!("../templates/sailboat.json"),
];

/// The built-in templates in the order the start page offers them. Each file is checked
/// by the schema test, so reading them cannot fail in a build that passed it.
pub fn builtins() -> &'static [Template] {
    static PARSED: OnceLock<Vec<Template>> = OnceLock::new();
    PARSED.get_or_init(|| {
        BUILT_IN
            .iter()
            .map(|json| Template::parse(json.as_bytes()).expect("built-in templates are valid"))
            .collect()
    })
}

impl Board {
    /// The board's template: its stored layout, or the postmortem for a board stored
    /// before boards carried one.
    pub fn template<T: ReadTxn>(&self, txn: &T) -> Template {
        let Some(regions) = self.stored_regions(txn) else {
            let mut t = Template::postmortem().clone();
            t.settings.vote_budget = self.vote_budget(txn);
            return t;
        };
        let about = match self.meta.get(txn, "template") {
            Some(Out::YMap(m)) => Some(m),
            _ => None,
        };
        let field = |name: &str| {
            about
                .as_ref()
                .and_then(|m| string_field(m, txn, name))
                .unwrap_or_default()
        };
        let key = Some(field("key"))
            .filter(|k| check_key("key", k).is_ok())
            .unwrap_or_else(custom_key);
        let incident_facts = about
            .as_ref()
            .and_then(|m| match m.get(txn, "incidentFacts") {
                Some(Out::Any(Any::Bool(b))) => Some(b),
                _ => None,
            })
            .unwrap_or(false);
        Template {
            key,
            title: field("title"),
            description: field("description"),
            settings: Settings {
                vote_budget: self.vote_budget(txn),
                incident_facts,
            },
            regions,
        }
    }

    /// The key of the region under a canvas point, read straight from the stored layout:
    /// moving a note asks this on every step of a drag.
    pub fn region_key_at<T: ReadTxn>(&self, txn: &T, x: f64, y: f64) -> Option<String> {
        let Some(layout) = self.layout(txn) else {
            return Template::postmortem()
                .region_at(x, y)
                .map(|r| r.key.clone());
        };
        layout.iter(txn).find_map(|entry| {
            let Out::YMap(m) = entry else { return None };
            let rect = stored_rect(&m, txn)?;
            rect.contains(x, y)
                .then(|| string_field(&m, txn, "key"))
                .flatten()
        })
    }

    /// Writes a template's regions and settings into a new board.
    pub fn write_template(&self, txn: &mut TransactionMut, template: &Template) {
        let about = self.meta.insert(txn, "template", MapPrelim::default());
        about.insert(txn, "key", template.key.as_str());
        about.insert(txn, "title", template.title.as_str());
        about.insert(txn, "description", template.description.as_str());
        about.insert(txn, "incidentFacts", template.settings.incident_facts);
        let layout = self.meta.insert(txn, "layout", ArrayPrelim::default());
        for r in &template.regions {
            let m: MapRef = layout.push_back(txn, MapPrelim::default());
            m.insert(txn, "key", r.key.as_str());
            m.insert(txn, "title", r.title.as_str());
            m.insert(txn, "question", r.question.as_str());
            m.insert(txn, "x", r.rect.x);
            m.insert(txn, "y", r.rect.y);
            m.insert(txn, "w", r.rect.w);
            m.insert(txn, "h", r.rect.h);
            m.insert(txn, "color", r.color.as_str());
            m.insert(txn, "step", f64::from(r.step));
            if let Some(role) = r.role {
                m.insert(txn, "role", role.as_str());
            }
            if let Some(limit) = r.wip_limit {
                m.insert(txn, "wipLimit", f64::from(limit));
            }
        }
        self.set_vote_budget(txn, template.settings.vote_budget);
    }

    /// Sets or clears a region's work-in-progress limit; false if the board has no such
    /// region stored.
    pub fn set_wip_limit(&self, txn: &mut TransactionMut, key: &str, limit: Option<u32>) -> bool {
        let Some(layout) = self.layout(txn) else {
            return false;
        };
        let found = layout.iter(txn).find_map(|entry| match entry {
            Out::YMap(m) if string_field(&m, txn, "key").as_deref() == Some(key) => Some(m),
            _ => None,
        });
        let Some(region) = found else { return false };
        match limit.map(|l| l.clamp(1, MAX_WIP_LIMIT)) {
            Some(l) => {
                region.insert(txn, "wipLimit", f64::from(l));
            }
            None => {
                region.remove(txn, "wipLimit");
            }
        }
        true
    }

    fn layout<T: ReadTxn>(&self, txn: &T) -> Option<yrs::ArrayRef> {
        match self.meta.get(txn, "layout") {
            Some(Out::YArray(a)) => Some(a),
            _ => None,
        }
    }

    /// The stored regions that can be drawn; `None` when there are none.
    fn stored_regions<T: ReadTxn>(&self, txn: &T) -> Option<Vec<Region>> {
        let layout = self.layout(txn)?;
        let mut seen = HashSet::new();
        let regions: Vec<Region> = layout
            .iter(txn)
            .enumerate()
            .filter_map(|(i, entry)| {
                let Out::YMap(m) = entry else { return None };
                let key = string_field(&m, txn, "key").filter(|k| !k.is_empty())?;
                let rect = stored_rect(&m, txn)?;
                if !seen.insert(key.clone()) {
                    return None;
                }
                Some(Region {
                    title: string_field(&m, txn, "title").unwrap_or_else(|| key.clone()),
                    question: string_field(&m, txn, "question").unwrap_or_default(),
                    rect,
                    color: string_field(&m, txn, "color")
                        .map(|c| NoteColor::from_name(&c))
                        .unwrap_or_default(),
                    step: number_field(&m, txn, "step")
                        .filter(|s| *s >= 1.0)
                        .map_or(i as u8 + 1, |s| s.min(255.0) as u8),
                    role: string_field(&m, txn, "role").and_then(|r| Role::from_name(&r)),
                    wip_limit: number_field(&m, txn, "wipLimit")
                        .filter(|l| *l >= 1.0)
                        .map(|l| l.min(f64::from(MAX_WIP_LIMIT)) as u32),
                    key,
                })
            })
            .take(MAX_REGIONS)
            .collect();
        (!regions.is_empty()).then_some(regions)
    }
}

/// A stored region's rectangle, if it is one that can be drawn.
fn stored_rect<T: ReadTxn>(m: &MapRef, txn: &T) -> Option<Rect> {
    let n = |k| number_field(m, txn, k).filter(|v| v.is_finite());
    let rect = Rect::new(n("x")?, n("y")?, n("w")?, n("h")?);
    (rect.w > 0.0 && rect.h > 0.0).then_some(rect)
}

/// A region's rectangle on the postmortem, for tests that place notes.
#[cfg(test)]
pub(crate) fn rect_of(key: &str) -> Rect {
    Template::postmortem()
        .region(key)
        .unwrap_or_else(|| panic!("the postmortem has no region {key:?}"))
        .rect
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::new_doc;
    use yrs::Transact;

    #[test]
    fn every_built_in_template_validates_and_keys_are_unique() {
        let all = builtins();
        assert_eq!(all.len(), BUILT_IN.len());
        let keys: HashSet<_> = all.iter().map(|t| t.key.as_str()).collect();
        assert_eq!(keys.len(), all.len());
        for t in all {
            t.validate().unwrap_or_else(|e| panic!("{}: {e}", t.key));
            assert!(!t.description.is_empty(), "{}", t.key);
            for r in &t.regions {
                assert!(!r.question.is_empty(), "{}.{}", t.key, r.key);
                assert!(r.question.ends_with(['?', '.']), "{}.{}", t.key, r.key);
            }
            // Every file round-trips through its own serialisation.
            assert_eq!(&Template::parse(t.to_json().as_bytes()).unwrap(), t);
        }
        assert_eq!(Template::postmortem().key, "postmortem");
        assert!(Template::postmortem().settings.incident_facts);
        let kanban = Template::builtin("kanban").unwrap();
        assert!(kanban.regions.iter().any(|r| r.wip_limit.is_some()));
    }

    #[test]
    fn the_postmortem_keeps_its_eight_regions() {
        let t = Template::postmortem();
        let keys: Vec<_> = t.regions.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "summary",
                "timeline",
                "detect",
                "react",
                "quick-fix",
                "prevent",
                "other-risks",
                "actions"
            ]
        );
        assert_eq!(t.with_role(Role::Summary).unwrap().key, "summary");
        assert_eq!(t.with_role(Role::Timeline).unwrap().title, "Rough Timeline");
        assert_eq!(t.role_of("actions"), Some(Role::Actions));
        assert_eq!(t.role_of("detect"), None);
        assert_eq!(t.steps(), 8);
        assert_eq!(t.bounds(), Rect::new(0.0, 0.0, 3160.0, 2160.0));
    }

    #[test]
    fn points_map_to_regions_and_gaps_to_none() {
        for t in builtins() {
            for r in &t.regions {
                let c = r.rect;
                assert_eq!(t.region_at(c.x + c.w / 2.0, c.y + c.h / 2.0), Some(r));
                assert_eq!(t.region_at(c.x, c.y), Some(r));
            }
            let b = t.bounds();
            assert_eq!(t.region_at(-1.0, -1.0), None);
            assert_eq!(t.region_at(b.right() + 5.0, 100.0), None);
            assert_eq!(t.region_at(10.0, b.bottom()), None);
        }
        let t = Template::postmortem();
        let summary = t.region("summary").unwrap().rect;
        assert_eq!(t.region_at(summary.right() + 1.0, 10.0), None);
    }

    fn refused(mutate: impl FnOnce(&mut serde_json::Value)) -> TemplateError {
        let mut doc: serde_json::Value =
            serde_json::from_str(BUILT_IN[2]).expect("a built-in is JSON");
        mutate(&mut doc);
        Template::parse(doc.to_string().as_bytes()).expect_err("refused")
    }

    #[test]
    fn bad_templates_are_refused_naming_the_field() {
        let e = refused(|t| t["regions"][1]["rect"] = t["regions"][0]["rect"].clone());
        assert_eq!(e.field, "regions[1].rect");
        assert!(e.problem.contains("overlaps regions[0]"), "{e}");

        let e = refused(|t| {
            let one = t["regions"][0].clone();
            let many: Vec<_> = (0..25)
                .map(|i| {
                    let mut r = one.clone();
                    r["key"] = format!("r{i}").into();
                    r["step"] = (i + 1).into();
                    r["rect"] = serde_json::json!({"x": (i % 5) * 400, "y": (i / 5) * 400, "w": 360, "h": 360});
                    r
                })
                .collect();
            t["regions"] = many.into();
        });
        assert_eq!(e.field, "regions");

        let e = refused(|t| {
            t.as_object_mut().unwrap().remove("title");
        });
        assert_eq!(e.field, "template");
        assert!(e.problem.contains("title"), "{e}");

        let e = refused(|t| t["regions"][2]["role"] = "boss".into());
        assert_eq!(e.field, "regions[2].role");

        let e = refused(|t| t["regions"][0]["role"] = "actions".into());
        assert_eq!(e.field, "regions[3].role");

        let e = refused(|t| t["regions"][1]["key"] = "what".into());
        assert_eq!(e.field, "regions[1].key");

        let e = refused(|t| t["regions"][1]["step"] = 3.into());
        assert_eq!(e.field, "regions[1].step");

        let e = refused(|t| t["regions"][0]["rect"]["x"] = 7900.into());
        assert_eq!(e.field, "regions[0].rect");

        let e = refused(|t| t["regions"][0]["color"] = "chartreuse".into());
        assert_eq!(e.field, "regions[0].color");

        let e = refused(|t| t["title"] = " ".into());
        assert_eq!(e.field, "title");

        let e = refused(|t| t["regions"][0]["wipLimit"] = 0.into());
        assert_eq!(e.field, "regions[0].wipLimit");

        let e = refused(|t| t["settings"]["voteBudget"] = 51.into());
        assert_eq!(e.field, "settings.voteBudget");
    }

    #[test]
    fn a_board_reads_back_the_template_it_was_made_from() {
        for t in builtins() {
            let doc = new_doc(Some(1));
            let board = Board::new(&doc);
            board.write_template(&mut doc.transact_mut(), t);
            assert_eq!(&board.template(&doc.transact()), t);
            let first = &t.regions[0];
            let (x, y) = (first.rect.x + 1.0, first.rect.y + 1.0);
            assert_eq!(
                board.region_key_at(&doc.transact(), x, y).as_deref(),
                Some(first.key.as_str())
            );
        }
    }

    #[test]
    fn a_board_without_a_layout_is_the_postmortem() {
        let doc = new_doc(Some(1));
        let board = Board::new(&doc);
        let t = board.template(&doc.transact());
        assert_eq!(&t, Template::postmortem());
        assert_eq!(
            board.region_key_at(&doc.transact(), 10.0, 10.0).as_deref(),
            Some("summary")
        );
    }

    #[test]
    fn wip_limits_are_set_and_cleared_on_the_board() {
        let doc = new_doc(Some(1));
        let board = Board::new(&doc);
        let kanban = Template::builtin("kanban").unwrap();
        board.write_template(&mut doc.transact_mut(), kanban);
        let key = &kanban.regions[2].key;
        assert!(board.set_wip_limit(&mut doc.transact_mut(), key, Some(7)));
        assert_eq!(
            board
                .template(&doc.transact())
                .region(key)
                .unwrap()
                .wip_limit,
            Some(7)
        );
        assert!(board.set_wip_limit(&mut doc.transact_mut(), key, None));
        assert_eq!(
            board
                .template(&doc.transact())
                .region(key)
                .unwrap()
                .wip_limit,
            None
        );
        assert!(!board.set_wip_limit(&mut doc.transact_mut(), "nowhere", Some(1)));
    }
}
