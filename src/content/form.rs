//! An intent as a form of fields, for the editors' page: read from its intents file, and
//! written back into that file in place. Only the fields that changed are rewritten, so the
//! comments, the other topics and the layout of everything else stay as the editor wrote them
//! (toml_edit keeps them). Pure: text in, text out. Over 400 lines because a third is its
//! tests, each a file written and read back.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::parse::line_of;
use super::{ContentFiles, FacetAnswer, FollowUp, INTENTS_FOLDER, Link};

/// The scopes an intent may have, as written in its file.
pub const SCOPES: [&str; 4] = ["county", "district", "conversation", "elsewhere"];

/// Every field of an intent, as the form shows it. A text left empty or a list left empty is
/// not written to the file (and means the content's default: no answer of its own, no slot).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntentForm {
    pub id: String,
    #[serde(default)]
    pub title: String,
    /// `county`, `district`, `conversation` or `elsewhere`; empty means `county`.
    #[serde(default)]
    pub scope: String,
    /// The phrasings it is matched on.
    #[serde(default)]
    pub examples: Vec<String>,
    /// Empty when the answer is the knowledge-base article with the same id.
    #[serde(default)]
    pub answer: String,
    #[serde(default)]
    pub links: Vec<FormLink>,
    #[serde(default)]
    pub follow_ups: Vec<FormFollowUp>,
    /// Short answers about one detail (cost, how long...), by facet id.
    #[serde(default)]
    pub facets: Vec<FormFacet>,
    /// `place` when the answer needs the resident's town; empty otherwise.
    #[serde(default)]
    pub slot: String,
    /// The question asked for the slot.
    #[serde(default)]
    pub ask: String,
    /// The contact-centre team a handoff from this topic goes to.
    #[serde(default)]
    pub team: String,
    #[serde(default)]
    pub offer_person: bool,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    pub last_reviewed: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FormLink {
    pub title: String,
    pub url: String,
}

/// A quick reply: answered in place (`answer`) or as another topic (`goto`), exactly one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FormFollowUp {
    pub label: String,
    #[serde(default)]
    pub answer: String,
    #[serde(default)]
    pub goto: String,
}

/// A facet's answer: said in place (`answer`) or answered by another topic (`goto`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FormFacet {
    pub facet: String,
    #[serde(default)]
    pub answer: String,
    #[serde(default)]
    pub goto: String,
}

/// Why a form could not be read or written, with the field it concerns where there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormError {
    NoSuchIntent,
    /// The file does not parse as it stands: fix it as text first.
    Unreadable(String),
    Invalid {
        field: String,
        message: String,
    },
}

/// An intent's place: its file and the line of its `[[intent]]` header (where the content's
/// problems about it are reported).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntentPlace {
    pub path: String,
    pub line: usize,
}

/// The intent file as stored, with the fields' TOML shapes.
#[derive(Deserialize)]
struct StoredFile {
    #[serde(default)]
    intent: Vec<Spanned<StoredIntent>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct StoredIntent {
    id: String,
    title: Option<String>,
    scope: Option<String>,
    examples: Vec<String>,
    answer: Option<String>,
    links: Vec<Link>,
    follow_ups: Vec<FollowUp>,
    facets: BTreeMap<String, FacetAnswer>,
    slot: Option<String>,
    ask: Option<String>,
    team: Option<String>,
    offer_person: bool,
    last_reviewed: Option<String>,
}

impl From<StoredIntent> for IntentForm {
    fn from(s: StoredIntent) -> Self {
        Self {
            id: s.id,
            title: s.title.unwrap_or_default(),
            scope: s.scope.unwrap_or_default(),
            examples: s.examples,
            answer: s.answer.unwrap_or_default().trim().to_string(),
            links: s.links.into_iter().map(|l| FormLink { title: l.title, url: l.url }).collect(),
            follow_ups: s
                .follow_ups
                .into_iter()
                .map(|f| FormFollowUp {
                    label: f.label,
                    answer: f.answer.unwrap_or_default(),
                    goto: f.goto.unwrap_or_default(),
                })
                .collect(),
            facets: s
                .facets
                .into_iter()
                .map(|(facet, answer)| match answer {
                    FacetAnswer::Text(text) => {
                        FormFacet { facet, answer: text.trim().to_string(), goto: String::new() }
                    }
                    FacetAnswer::Goto { goto } => FormFacet { facet, answer: String::new(), goto },
                })
                .collect(),
            slot: s.slot.unwrap_or_default(),
            ask: s.ask.unwrap_or_default(),
            team: s.team.unwrap_or_default(),
            offer_person: s.offer_person,
            last_reviewed: s.last_reviewed.unwrap_or_default(),
        }
    }
}

fn stored(text: &str) -> Result<StoredFile, FormError> {
    toml::from_str(text).map_err(|e: toml::de::Error| FormError::Unreadable(e.message().to_string()))
}

/// Where the intent `id` is among `files`' intents files, and its fields.
pub fn find_intent(files: &ContentFiles, id: &str) -> Result<(IntentPlace, IntentForm), FormError> {
    for (name, text) in &files.intents {
        // A file that does not parse cannot hold a form; another file may still hold the id.
        let Ok(file) = stored(text) else { continue };
        if let Some(found) = file.intent.into_iter().find(|i| i.get_ref().id == id) {
            let line = line_of(text, found.span().start);
            let place = IntentPlace { path: format!("{INTENTS_FOLDER}/{name}"), line };
            return Ok((place, found.into_inner().into()));
        }
    }
    Err(FormError::NoSuchIntent)
}

/// The fields of intent `id` in `text`.
pub fn read_intent(text: &str, id: &str) -> Result<(usize, IntentForm), FormError> {
    let file = stored(text)?;
    let found = file.intent.into_iter().find(|i| i.get_ref().id == id).ok_or(FormError::NoSuchIntent)?;
    Ok((line_of(text, found.span().start), found.into_inner().into()))
}

/// `text` with the intent `id` set to `form` (or `form` added as a new intent when `id` is
/// `None`). Returns the new text and the line of the intent's header in it.
pub fn write_intent(text: &str, id: Option<&str>, form: &IntentForm) -> Result<(String, usize), FormError> {
    check(form)?;
    let before = match id {
        Some(id) => read_intent(text, id)?.1,
        None => IntentForm::default(),
    };
    let mut document: toml_edit::DocumentMut =
        text.parse().map_err(|e: toml_edit::TomlError| FormError::Unreadable(e.message().to_string()))?;
    if !document.contains_key("intent") {
        document.insert("intent", toml_edit::Item::ArrayOfTables(toml_edit::ArrayOfTables::new()));
    }
    let intents = document
        .get_mut("intent")
        .and_then(toml_edit::Item::as_array_of_tables_mut)
        .ok_or_else(|| FormError::Unreadable("`intent` is not a list of [[intent]] tables".into()))?;
    let table = match id {
        Some(id) => intents
            .iter_mut()
            .find(|t| t.get("id").and_then(|v| v.as_str()) == Some(id))
            .ok_or(FormError::NoSuchIntent)?,
        None => {
            intents.push(toml_edit::Table::new());
            let count = intents.len();
            intents.get_mut(count - 1).ok_or(FormError::NoSuchIntent)?
        }
    };
    apply(table, &before, form);
    let text = document.to_string();
    let line = read_intent(&text, &form.id)?.0;
    Ok((text, line))
}

/// What the file's parser would refuse with a line but no field, refused here beside the field.
fn check(form: &IntentForm) -> Result<(), FormError> {
    let invalid = |field: &str, message: &str| {
        Err(FormError::Invalid { field: field.to_string(), message: message.to_string() })
    };
    if form.id.trim().is_empty() {
        return invalid("id", "Give the topic an id: lowercase letters, digits and dashes.");
    }
    if !form.scope.is_empty() && !SCOPES.contains(&form.scope.as_str()) {
        return invalid("scope", "The scope is one of county, district, conversation or elsewhere.");
    }
    if !form.slot.is_empty() && form.slot != "place" {
        return invalid("slot", "The only detail a topic can ask for is the resident's place.");
    }
    for link in &form.links {
        if link.title.trim().is_empty() || link.url.trim().is_empty() {
            return invalid("links", "Each link needs both its words and its address.");
        }
    }
    for follow_up in &form.follow_ups {
        if follow_up.label.trim().is_empty() {
            return invalid("follow_ups", "Each follow-up needs the words of its button.");
        }
    }
    let mut seen = Vec::new();
    for facet in &form.facets {
        if facet.facet.trim().is_empty() {
            return invalid("facets", "Choose which detail each facet answer is about.");
        }
        if seen.contains(&facet.facet) {
            return invalid(&format!("facets.{}", facet.facet), "This detail is answered twice.");
        }
        seen.push(facet.facet.clone());
    }
    Ok(())
}

/// Rewrites in `table` only the fields where `form` differs from `before`.
fn apply(table: &mut toml_edit::Table, before: &IntentForm, form: &IntentForm) {
    let text = |s: &str| (!s.trim().is_empty()).then(|| string_value(s.trim()));
    if before.id != form.id {
        set(table, "id", text(&form.id));
    }
    if before.title != form.title {
        set(table, "title", text(&form.title));
    }
    if before.scope != form.scope {
        set(table, "scope", text(&form.scope));
    }
    if before.examples != form.examples {
        let items =
            form.examples.iter().map(|e| e.trim()).filter(|e| !e.is_empty()).map(toml_edit::Value::from);
        set(table, "examples", listed(items));
    }
    if before.answer != form.answer {
        set(table, "answer", text(&form.answer));
    }
    if before.links != form.links {
        let items = form.links.iter().map(|l| inline(&[("title", &l.title), ("url", &l.url)]));
        set(table, "links", listed(items));
    }
    if before.follow_ups != form.follow_ups {
        let items = form.follow_ups.iter().map(|f| {
            let reply = if f.goto.trim().is_empty() { ("answer", &f.answer) } else { ("goto", &f.goto) };
            inline(&[("label", &f.label), reply])
        });
        set(table, "follow_ups", listed(items));
    }
    if before.slot != form.slot {
        set(table, "slot", text(&form.slot));
    }
    if before.ask != form.ask {
        set(table, "ask", text(&form.ask));
    }
    if before.team != form.team {
        set(table, "team", text(&form.team));
    }
    if before.offer_person != form.offer_person {
        set(table, "offer_person", form.offer_person.then(|| toml_edit::Value::from(true)));
    }
    if before.last_reviewed != form.last_reviewed {
        set(table, "last_reviewed", text(&form.last_reviewed));
    }
    if before.facets != form.facets {
        set_facets(table, &form.facets);
    }
}

/// Sets `key` to `value` where it stands (a new key goes last), or removes it for `None`.
fn set(table: &mut toml_edit::Table, key: &str, value: Option<toml_edit::Value>) {
    match (value, table.get_mut(key)) {
        (None, _) => {
            table.remove(key);
        }
        (Some(value), Some(item)) if item.is_value() => {
            let decor = item.as_value().map(|v| v.decor().clone());
            let mut value = value;
            if let Some(decor) = decor {
                *value.decor_mut() = decor;
            }
            *item = toml_edit::Item::Value(value);
        }
        (Some(value), _) => {
            table.insert(key, toml_edit::Item::Value(value));
        }
    }
}

/// A string as the shipped files write it: an answer of several lines between `"""` lines.
fn string_value(text: &str) -> toml_edit::Value {
    if !text.contains('\n') {
        return toml_edit::Value::from(text);
    }
    // A basic multi-line string: escape what it must escape, keep the lines as lines.
    let escaped = text.replace('\\', "\\\\").replace("\"\"\"", "\"\"\\\"").replace('\r', "");
    let repr = format!("\"\"\"\n{escaped}\n\"\"\"");
    repr.parse::<toml_edit::Value>().unwrap_or_else(|_| toml_edit::Value::from(text))
}

/// A list written one item a line, as the shipped files are; `None` when empty.
fn listed(items: impl Iterator<Item = toml_edit::Value>) -> Option<toml_edit::Value> {
    let mut array = toml_edit::Array::new();
    for mut item in items {
        item.decor_mut().set_prefix("\n  ");
        array.push_formatted(item);
    }
    if array.is_empty() {
        return None;
    }
    array.set_trailing("\n");
    array.set_trailing_comma(true);
    Some(toml_edit::Value::Array(array))
}

/// `{ key = "value", ... }`, leaving out empty values.
fn inline(pairs: &[(&str, &String)]) -> toml_edit::Value {
    let mut table = toml_edit::InlineTable::new();
    for (key, value) in pairs {
        if !value.trim().is_empty() {
            table.insert(*key, toml_edit::Value::from(value.trim()));
        }
    }
    table.fmt();
    toml_edit::Value::InlineTable(table)
}

/// The `[intent.facets]` table: one line a facet, an answer or `{ goto = "..." }`.
fn set_facets(table: &mut toml_edit::Table, facets: &[FormFacet]) {
    if facets.is_empty() {
        table.remove("facets");
        return;
    }
    if !table.get("facets").is_some_and(toml_edit::Item::is_table) {
        table.remove("facets");
        table.insert("facets", toml_edit::Item::Table(toml_edit::Table::new()));
    }
    let Some(facets_table) = table.get_mut("facets").and_then(toml_edit::Item::as_table_mut) else { return };
    facets_table.clear();
    for facet in facets {
        let value = if facet.goto.trim().is_empty() {
            string_value(facet.answer.trim())
        } else {
            inline(&[("goto", &facet.goto)])
        };
        facets_table.insert(facet.facet.trim(), toml_edit::Item::Value(value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROADS: &str = "# Roads.\n\n[[intent]]\nid = \"potholes\"\ntitle = \"Potholes\"\nscope = \"county\"\n\
        # The phrasings.\nexamples = [\n  \"report a pothole\",\n  \"hole in the road\",\n]\n\
        answer = \"Report it online.\"\nlast_reviewed = \"2026-01-02\"\n\n[intent.facets]\ncost = \"Free.\"\n\n\
        [[intent]]\nid = \"gritting\"\nexamples = [\"icy road\"]\nanswer = \"We grit.\"\n";

    #[test]
    fn an_intent_reads_as_its_fields_with_its_line() {
        let (line, form) = read_intent(ROADS, "potholes").unwrap();
        assert_eq!(line, 3);
        assert_eq!(form.examples, ["report a pothole", "hole in the road"]);
        assert_eq!(
            form.facets,
            [FormFacet { facet: "cost".into(), answer: "Free.".into(), goto: String::new() }]
        );
        assert_eq!(read_intent(ROADS, "gritting").unwrap().0, 18);
        assert_eq!(read_intent(ROADS, "nothing"), Err(FormError::NoSuchIntent));
    }

    #[test]
    fn only_changed_fields_are_rewritten_and_the_rest_of_the_file_is_kept() {
        let (_, mut form) = read_intent(ROADS, "potholes").unwrap();
        form.examples.push("crater in the road".into());
        form.answer = "Report it online.\n\nIf it is dangerous, call us.".into();
        form.links.push(FormLink { title: "Report it".into(), url: "https://example.org/r".into() });
        form.facets.push(FormFacet {
            facet: "how-long".into(),
            answer: String::new(),
            goto: "gritting".into(),
        });
        form.title.clear();
        let (text, line) = write_intent(ROADS, Some("potholes"), &form).unwrap();
        assert_eq!(line, 3);
        assert!(
            text.starts_with(
                "# Roads.\n\n[[intent]]\nid = \"potholes\"\nscope = \"county\"\n# The phrasings.\n"
            ),
            "{text}"
        );
        assert!(text.contains("  \"hole in the road\",\n  \"crater in the road\",\n]\n"), "{text}");
        assert!(
            text.contains("answer = \"\"\"\nReport it online.\n\nIf it is dangerous, call us.\n\"\"\"\n"),
            "{text}"
        );
        assert!(
            text.contains("links = [\n  { title = \"Report it\", url = \"https://example.org/r\" },\n]\n"),
            "{text}"
        );
        assert!(
            text.contains("[intent.facets]\ncost = \"Free.\"\nhow-long = { goto = \"gritting\" }\n"),
            "{text}"
        );
        assert!(
            text.ends_with(
                "[[intent]]\nid = \"gritting\"\nexamples = [\"icy road\"]\nanswer = \"We grit.\"\n"
            ),
            "{text}"
        );
        assert_eq!(read_intent(&text, "potholes").unwrap().1, form, "what is written reads back the same");
        let facets = "[[facet]]\nid = \"cost\"\nexamples = [\"how much\"]\n\n[[facet]]\nid = \"how-long\"\nexamples = [\"how long\"]\n";
        let files = ContentFiles {
            intents: [("roads.toml".to_string(), text), ("facets.toml".to_string(), facets.to_string())]
                .into(),
            articles: BTreeMap::new(),
        };
        files.parse().expect("the written file is valid content");
    }

    #[test]
    fn a_new_intent_is_added_and_an_unchanged_form_changes_nothing() {
        let (_, same) = read_intent(ROADS, "potholes").unwrap();
        assert_eq!(write_intent(ROADS, Some("potholes"), &same).unwrap().0, ROADS);
        let new = IntentForm {
            id: "verges".into(),
            examples: vec!["grass verge overgrown".into()],
            answer: "We cut verges twice a year.".into(),
            offer_person: true,
            ..IntentForm::default()
        };
        let (text, line) = write_intent(ROADS, None, &new).unwrap();
        assert_eq!(read_intent(&text, "verges").unwrap(), (line, new));
        assert!(text.starts_with(ROADS.trim_end()), "{text}");
    }

    #[test]
    fn what_the_file_could_not_hold_is_refused_beside_its_field() {
        let form = |f: fn(&mut IntentForm)| {
            let mut form = read_intent(ROADS, "potholes").unwrap().1;
            f(&mut form);
            match write_intent(ROADS, Some("potholes"), &form) {
                Err(FormError::Invalid { field, .. }) => field,
                other => panic!("expected a refusal, got {other:?}"),
            }
        };
        assert_eq!(form(|f| f.scope = "regional".into()), "scope");
        assert_eq!(form(|f| f.slot = "postcode".into()), "slot");
        assert_eq!(form(|f| f.id = " ".into()), "id");
        assert_eq!(form(|f| f.links.push(FormLink { title: "x".into(), url: String::new() })), "links");
        assert_eq!(
            form(|f| f.facets.push(FormFacet {
                facet: "cost".into(),
                answer: "Again.".into(),
                goto: String::new()
            })),
            "facets.cost"
        );
        assert!(matches!(
            write_intent("[[intent]\n", Some("x"), &IntentForm::default()),
            Err(FormError::Invalid { .. })
        ));
        let mut broken = read_intent(ROADS, "potholes").unwrap().1;
        broken.id = "potholes".into();
        assert!(matches!(
            write_intent("[[intent]\n", Some("potholes"), &broken),
            Err(FormError::Unreadable(_))
        ));
    }

    #[test]
    fn an_intent_is_found_across_files() {
        let files = ContentFiles {
            intents: [
                ("a.toml".to_string(), "not toml [".to_string()),
                ("roads.toml".to_string(), ROADS.to_string()),
            ]
            .into(),
            articles: BTreeMap::new(),
        };
        let (place, form) = find_intent(&files, "gritting").unwrap();
        assert_eq!(place, IntentPlace { path: "intents/roads.toml".into(), line: 18 });
        assert_eq!(form.answer, "We grit.");
        assert_eq!(find_intent(&files, "nope"), Err(FormError::NoSuchIntent));
    }
}
