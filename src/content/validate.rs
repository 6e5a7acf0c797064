//! Checks across files: what no single file can tell on its own.

use std::collections::HashMap;

use std::collections::BTreeMap;

use super::{Content, ContentError, FacetAnswer, Location, Scope, Slot};

/// Every problem in the content; empty when it is fit to serve.
pub fn validate(content: &Content) -> Vec<ContentError> {
    let mut errors = Vec::new();
    let mut error = |at: &Location, field: &str, message: String| {
        errors.push(ContentError { at: at.clone(), field: Some(field.to_string()), message })
    };

    let mut intent_ids: HashMap<&str, &Location> = HashMap::new();
    for intent in &content.intents {
        if !is_valid_id(&intent.id) {
            error(
                &intent.source,
                "id",
                format!("id `{}` must be lowercase letters, digits and dashes", intent.id),
            );
        }
        if let Some(first) = intent_ids.insert(&intent.id, &intent.source) {
            error(&intent.source, "id", format!("duplicate intent id `{}` (first at {first})", intent.id));
        }
    }
    let mut article_ids: HashMap<&str, &Location> = HashMap::new();
    for article in &content.articles {
        if !is_valid_id(&article.id) {
            error(
                &article.source,
                "id",
                format!("id `{}` must be lowercase letters, digits and dashes", article.id),
            );
        }
        if let Some(first) = article_ids.insert(&article.id, &article.source) {
            error(&article.source, "id", format!("duplicate article id `{}` (first at {first})", article.id));
        }
        if article.title.trim().is_empty() {
            error(&article.source, "title", "the title is empty".into());
        }
        if article.body.trim().is_empty() {
            error(&article.source, "body", format!("article `{}` has an empty body", article.id));
        }
        if !article.url.starts_with("https://") {
            error(&article.source, "url", format!("url `{}` is not an https link", article.url));
        }
        check_date(&article.last_reviewed, &article.source, &mut error);
        check_markdown(&article.body, &article.source, "body", &mut error);
    }

    let known_topic = |id: &str| intent_ids.contains_key(id) || article_ids.contains_key(id);
    let mut phrases: HashMap<String, &str> = HashMap::new();
    for intent in &content.intents {
        let has_article = article_ids.contains_key(intent.id.as_str());
        match &intent.answer {
            Some(answer) if answer.trim().is_empty() => {
                error(&intent.source, "answer", format!("intent `{}` has an empty answer", intent.id))
            }
            None if !has_article => error(
                &intent.source,
                "answer",
                format!("intent `{}` has no answer and no article with its id", intent.id),
            ),
            Some(answer) => check_markdown(answer, &intent.source, "answer", &mut error),
            None => {}
        }
        if intent.examples.is_empty() && !has_article {
            error(&intent.source, "examples", format!("intent `{}` has no examples", intent.id));
        }
        for example in &intent.examples {
            let key = example.trim().to_lowercase();
            if key.is_empty() {
                error(&intent.source, "examples", format!("intent `{}` has an empty example", intent.id));
            } else if let Some(other) = phrases.insert(key, &intent.id)
                && other != intent.id
            {
                error(
                    &intent.source,
                    "examples",
                    format!("example \"{example}\" is under both `{other}` and `{}`", intent.id),
                );
            }
        }
        for link in &intent.links {
            if !link.url.starts_with("https://") {
                error(&intent.source, "links", format!("link `{}` is not an https link", link.url));
            }
        }
        for follow_up in &intent.follow_ups {
            match (&follow_up.answer, &follow_up.goto) {
                (Some(answer), None) if !answer.trim().is_empty() => {
                    check_markdown(answer, &intent.source, "follow_ups", &mut error)
                }
                (None, Some(goto)) if known_topic(goto) => {}
                (None, Some(goto)) => {
                    error(&intent.source, "follow_ups", format!("follow-up goes to unknown topic `{goto}`"))
                }
                _ => error(
                    &intent.source,
                    "follow_ups",
                    format!("follow-up \"{}\" needs exactly one of `answer` and `goto`", follow_up.label),
                ),
            }
        }
        if intent.scope == Scope::District && intent.slot != Some(Slot::Place) {
            error(&intent.source, "slot", format!("district topic `{}` needs slot = \"place\"", intent.id));
        }
        if intent.slot.is_some() && intent.ask.as_deref().is_none_or(|a| a.trim().is_empty()) {
            error(&intent.source, "ask", format!("intent `{}` has a slot but no `ask` line", intent.id));
        }
        if let Some(date) = &intent.last_reviewed {
            check_date(date, &intent.source, &mut error);
        }
    }

    let mut places: HashMap<String, &str> = HashMap::new();
    for district in content.districts.iter().chain(&content.neighbours) {
        if let Some(date) = &district.last_reviewed {
            check_date(date, &district.source, &mut error);
        }
        if !district.website.starts_with("https://") {
            error(
                &district.source,
                "website",
                format!("website `{}` is not an https link", district.website),
            );
        }
        for place in &district.places {
            if let Some(other) = places.insert(place.trim().to_lowercase(), &district.id) {
                error(
                    &district.source,
                    "places",
                    format!("place \"{place}\" is in both `{other}` and `{}`", district.id),
                );
            }
        }
    }
    let mut facet_ids: HashMap<&str, &Location> = HashMap::new();
    for facet in &content.facets {
        if !is_valid_id(&facet.id) {
            error(
                &facet.source,
                "id",
                format!("facet id `{}` must be lowercase letters, digits and dashes", facet.id),
            );
        }
        if let Some(first) = facet_ids.insert(&facet.id, &facet.source) {
            error(&facet.source, "id", format!("duplicate facet id `{}` (first at {first})", facet.id));
        }
        if facet.examples.is_empty() {
            error(&facet.source, "examples", format!("facet `{}` has no examples", facet.id));
        }
        for example in &facet.examples {
            // A facet's phrasing names no topic: under a topic too it would teach two things.
            if let Some(topic) = phrases.get(&example.trim().to_lowercase()) {
                error(
                    &facet.source,
                    "examples",
                    format!("example \"{example}\" is under facet `{}` and `{topic}`", facet.id),
                );
            }
        }
    }
    let topic_facets = content
        .intents
        .iter()
        .map(|i| (&i.facets, &i.source))
        .chain(content.articles.iter().map(|a| (&a.facets, &a.source)));
    for (facets, at) in topic_facets {
        check_facets(facets, at, &facet_ids, &known_topic, &mut error);
    }

    let needs_districts = content.intents.iter().any(|i| i.slot == Some(Slot::Place));
    if needs_districts && content.districts.is_empty() {
        let at =
            content.intents.iter().find(|i| i.slot.is_some()).map(|i| i.source.clone()).unwrap_or_default();
        error(&at, "slot", "topics ask for a place but no [[district]] is defined".into());
    }
    if let Some(emergency) = &content.emergency {
        for pattern in &emergency.patterns {
            if let Err(e) = regex::Regex::new(pattern) {
                error(
                    &Location::default(),
                    "patterns",
                    format!("emergency pattern `{pattern}` is not a valid regex: {e}"),
                );
            }
        }
    }
    errors
}

fn check_facets(
    facets: &BTreeMap<String, FacetAnswer>,
    at: &Location,
    facet_ids: &HashMap<&str, &Location>,
    known_topic: &impl Fn(&str) -> bool,
    error: &mut impl FnMut(&Location, &str, String),
) {
    for (facet, answer) in facets {
        let field = format!("facets.{facet}");
        if !facet_ids.contains_key(facet.as_str()) {
            error(at, &field, format!("facet `{facet}` is not defined by any [[facet]]"));
        }
        match answer {
            FacetAnswer::Text(text) if text.trim().is_empty() => {
                error(at, &field, format!("facet `{facet}` has an empty answer"))
            }
            FacetAnswer::Text(text) => check_markdown(text, at, &field, error),
            FacetAnswer::Goto { goto } if !known_topic(goto) => {
                error(at, &field, format!("facet `{facet}` goes to unknown topic `{goto}`"))
            }
            FacetAnswer::Goto { .. } => {}
        }
    }
}

fn is_valid_id(id: &str) -> bool {
    !id.is_empty() && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn check_date(date: &str, at: &Location, error: &mut impl FnMut(&Location, &str, String)) {
    if chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_err() {
        error(at, "last_reviewed", format!("last_reviewed `{date}` is not a date like 2026-11-26"));
    }
}

/// Answers use only the Markdown subset the chat window draws (src/markup.rs), and links may
/// only be https, tel or mailto: the widget renders nothing else.
fn check_markdown(text: &str, at: &Location, field: &str, error: &mut impl FnMut(&Location, &str, String)) {
    for what in crate::markup::outside_subset(text) {
        error(at, field, format!("the answer uses {what}"));
    }
    for target in crate::markup::link_targets(text) {
        // `{district_url}` is filled in with a district's (https) website when answering.
        if target != "{district_url}" && !crate::markup::is_safe_link(target) {
            error(at, field, format!("link `{target}` must be https:, tel: or mailto:"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{SourceFile, from_sources};
    use std::path::PathBuf;

    fn file(name: &str, text: &str) -> SourceFile {
        SourceFile { path: PathBuf::from(name), text: text.to_string() }
    }

    fn problems(intents: &str) -> Vec<String> {
        match from_sources(&[file("a.toml", intents)], &[]) {
            Ok(_) => vec![],
            Err(e) => e.0.iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn markdown_the_chat_window_cannot_draw_is_refused_with_its_line() {
        let p =
            problems("[[intent]]\nid = \"x\"\nexamples=[\"a\"]\nanswer=\"\"\"\n## Fees\n\n1. one\n\"\"\"\n");
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p[0].starts_with("a.toml:1 (answer): the answer uses a heading"), "{p:?}");
        assert!(p[1].contains("a numbered list"), "{p:?}");
    }

    #[test]
    fn duplicate_ids_name_both_places() {
        let p = problems(
            "[[intent]]\nid = \"x\"\nexamples=[\"a\"]\nanswer=\"y\"\n\n[[intent]]\nid = \"x\"\nexamples=[\"b\"]\nanswer=\"y\"\n",
        );
        assert_eq!(p, vec!["a.toml:6 (id): duplicate intent id `x` (first at a.toml:1)"]);
    }

    #[test]
    fn one_phrase_under_two_intents() {
        let p = problems(
            "[[intent]]\nid = \"x\"\nexamples=[\"Same\"]\nanswer=\"y\"\n[[intent]]\nid = \"z\"\nexamples=[\"same\"]\nanswer=\"y\"\n",
        );
        assert!(p[0].contains("under both `x` and `z`"), "{p:?}");
    }

    #[test]
    fn empty_answer_and_insecure_links() {
        let p = problems(
            "[[intent]]\nid = \"x\"\nexamples=[\"a\"]\nanswer=\" \"\n[[intent]]\nid = \"z\"\nexamples=[\"b\"]\nanswer=\"[here](http://example.com)\"\nlinks=[{title=\"t\", url=\"http://example.com\"}]\n",
        );
        assert_eq!(p.len(), 3, "{p:?}");
        assert!(p[0].contains("empty answer"));
        assert!(p.iter().filter(|m| m.contains("http://example.com")).count() == 2);
    }

    #[test]
    fn district_topic_needs_a_place_slot_and_districts() {
        let p = problems("[[intent]]\nid = \"bins\"\nscope=\"district\"\nexamples=[\"a\"]\nanswer=\"y\"\n");
        assert!(p.iter().any(|m| m.contains("needs slot")), "{p:?}");
    }

    #[test]
    fn a_place_beyond_the_border_is_not_also_the_countys() {
        let area = |table: &str, id: &str, place: &str, reviewed: &str| {
            format!(
                "[[{table}]]\nid = \"{id}\"\nname = \"{id} Council\"\nwebsite = \"https://{id}.example\"\nplaces = [\"{place}\"]\nlast_reviewed = \"{reviewed}\"\n"
            )
        };
        let district = area("district", "north", "Royston", "2026-12-05");
        assert!(
            problems(&format!("{district}{}", area("neighbour", "cambs", "Cambridge", "2026-12-05")))
                .is_empty()
        );
        let p = problems(&format!("{district}{}", area("neighbour", "cambs", "Royston", "2026-12-05")));
        assert!(p.iter().any(|m| m.contains("\"Royston\" is in both `north` and `cambs`")), "{p:?}");
        let p = problems(&area("neighbour", "cambs", "Cambridge", "soon"));
        assert!(p.iter().any(|m| m.contains("last_reviewed")), "{p:?}");
    }

    #[test]
    fn facets_must_be_defined_and_answered() {
        let p = problems(
            "[[facet]]\nid = \"cost\"\nexamples = [\"how much is it\"]\n\n[[intent]]\nid = \"x\"\nexamples=[\"a\"]\nanswer=\"y\"\n[intent.facets]\ncost = \"Free.\"\nwait = \"A week.\"\ndeadline = { goto = \"nowhere\" }\n",
        );
        assert_eq!(p.len(), 3, "{p:?}");
        assert!(p.iter().any(|m| m.contains("`wait` is not defined")), "{p:?}");
        assert!(p.iter().any(|m| m.contains("unknown topic `nowhere`")), "{p:?}");
    }

    #[test]
    fn each_problem_names_the_field_it_concerns() {
        let intents = "[[facet]]\nid = \"cost\"\nexamples = [\"how much is it\"]\n\n[[intent]]\nid = \"x\"\n\
                       examples=[\"a\"]\nanswer=\"## Heading\"\nlinks=[{title=\"t\", url=\"http://example.com\"}]\n\
                       follow_ups=[{label=\"More\"}]\nlast_reviewed=\"soon\"\n[intent.facets]\ncost = \" \"\n";
        let errors = from_sources(&[file("a.toml", intents)], &[]).unwrap_err().0;
        let mut fields: Vec<_> =
            errors.iter().map(|e| (e.at.line, e.field.as_deref().unwrap_or("-"))).collect();
        fields.sort();
        assert_eq!(
            fields,
            [(5, "answer"), (5, "facets.cost"), (5, "follow_ups"), (5, "last_reviewed"), (5, "links")],
            "{errors:?}"
        );
    }

    #[test]
    fn valid_content_loads() {
        let p =
            problems("[[intent]]\nid = \"x\"\nexamples=[\"a\"]\nanswer=\"Call [us](tel:0300 123 4040).\"\n");
        assert!(p.is_empty(), "{p:?}");
    }
}
