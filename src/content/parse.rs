//! Parsing of one content file at a time, keeping line numbers for error messages.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::{
    Article, ContentError, District, Emergency, FacetAnswer, FacetKind, FollowUp, Intent, Link, Location,
    Messages, Scope, Slot,
};

/// What one `intents/*.toml` file holds.
#[derive(Debug, Default)]
pub struct ContentFile {
    pub intents: Vec<Intent>,
    pub districts: Vec<District>,
    pub neighbours: Vec<District>,
    pub facets: Vec<FacetKind>,
    pub synonyms: BTreeMap<String, String>,
    pub messages: Option<Messages>,
    pub emergency: Option<Emergency>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    intent: Vec<Spanned<RawIntent>>,
    #[serde(default)]
    district: Vec<Spanned<RawDistrict>>,
    #[serde(default)]
    neighbour: Vec<Spanned<RawDistrict>>,
    #[serde(default)]
    facet: Vec<Spanned<RawFacet>>,
    #[serde(default)]
    synonyms: BTreeMap<String, String>,
    #[serde(default)]
    messages: Option<Messages>,
    #[serde(default)]
    emergency: Option<Emergency>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIntent {
    id: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    scope: Option<Scope>,
    #[serde(default)]
    examples: Vec<String>,
    #[serde(default)]
    answer: Option<String>,
    #[serde(default)]
    links: Vec<Link>,
    #[serde(default)]
    follow_ups: Vec<FollowUp>,
    #[serde(default)]
    slot: Option<Slot>,
    #[serde(default)]
    ask: Option<String>,
    #[serde(default)]
    team: Option<String>,
    #[serde(default)]
    offer_person: bool,
    #[serde(default)]
    facets: BTreeMap<String, FacetAnswer>,
    #[serde(default)]
    last_reviewed: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFacet {
    id: String,
    examples: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDistrict {
    id: String,
    name: String,
    website: String,
    #[serde(default)]
    phone: String,
    places: Vec<String>,
    #[serde(default)]
    last_reviewed: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    id: String,
    title: String,
    #[serde(default)]
    questions: Vec<String>,
    #[serde(default)]
    tags: Vec<String>,
    url: String,
    owner: String,
    last_reviewed: String,
    #[serde(default)]
    facets: BTreeMap<String, FacetAnswer>,
}

pub(super) fn line_of(text: &str, byte_offset: usize) -> usize {
    let end = byte_offset.min(text.len());
    text.as_bytes()[..end].iter().filter(|&&b| b == b'\n').count() + 1
}

fn toml_error(path: &Path, text: &str, line_offset: usize, error: &toml::de::Error) -> ContentError {
    let line = error.span().map_or(1, |span| line_of(text, span.start));
    ContentError {
        at: Location { file: path.to_path_buf(), line: line + line_offset },
        field: text.lines().nth(line - 1).and_then(key_of),
        message: error.message().to_string(),
    }
}

/// The key a `key = value` line sets, which is the field a parse error on that line concerns.
fn key_of(line: &str) -> Option<String> {
    let (key, _) = line.split_once('=')?;
    let key = key.trim();
    let bare = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    bare.then(|| key.to_string())
}

/// Parses one `intents/*.toml` file.
pub fn parse_content_file(path: &Path, text: &str) -> Result<ContentFile, ContentError> {
    let raw: RawFile = toml::from_str(text).map_err(|e| toml_error(path, text, 0, &e))?;
    let at = |offset: usize| Location { file: path.to_path_buf(), line: line_of(text, offset) };
    let intents = raw
        .intent
        .into_iter()
        .map(|spanned| {
            let source = at(spanned.span().start);
            let raw = spanned.into_inner();
            Intent {
                title: raw.title.unwrap_or_else(|| title_from_id(&raw.id)),
                id: raw.id,
                scope: raw.scope.unwrap_or(Scope::County),
                examples: raw.examples,
                answer: raw.answer.map(|a| a.trim().to_string()),
                links: raw.links,
                follow_ups: raw.follow_ups,
                slot: raw.slot,
                ask: raw.ask,
                team: raw.team,
                offer_person: raw.offer_person,
                facets: trimmed(raw.facets),
                last_reviewed: raw.last_reviewed,
                source,
            }
        })
        .collect();
    let area = |spanned: Spanned<RawDistrict>| {
        let source = at(spanned.span().start);
        let raw = spanned.into_inner();
        District {
            id: raw.id,
            name: raw.name,
            website: raw.website,
            phone: raw.phone,
            places: raw.places,
            last_reviewed: raw.last_reviewed,
            source,
        }
    };
    let districts = raw.district.into_iter().map(area).collect();
    let neighbours = raw.neighbour.into_iter().map(area).collect();
    let facets = raw
        .facet
        .into_iter()
        .map(|spanned| {
            let source = at(spanned.span().start);
            let raw = spanned.into_inner();
            FacetKind { id: raw.id, examples: raw.examples, source }
        })
        .collect();
    Ok(ContentFile {
        intents,
        districts,
        neighbours,
        facets,
        synonyms: raw.synonyms.into_iter().map(|(k, v)| (k.to_lowercase(), v)).collect(),
        messages: raw.messages,
        emergency: raw.emergency,
    })
}

/// Parses one `knowledge-base/*.md` article: TOML front matter between `+++` lines, then the body.
pub fn parse_article(path: &Path, text: &str) -> Result<Article, ContentError> {
    let error = |line: usize, message: &str| ContentError {
        at: Location { file: path.to_path_buf(), line },
        field: None,
        message: message.to_string(),
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let rest = text
        .strip_prefix("+++\n")
        .or_else(|| text.strip_prefix("+++\r\n"))
        .ok_or_else(|| error(1, "an article starts with a `+++` line, then TOML front matter"))?;
    let close =
        rest.find("\n+++").ok_or_else(|| error(1, "the front matter is not closed by a `+++` line"))?;
    let front = &rest[..close + 1];
    let body = rest[close + 4..].trim_start_matches(['\r', '\n']).trim_end();
    let matter: FrontMatter = toml::from_str(front).map_err(|e| toml_error(path, front, 1, &e))?;
    Ok(Article {
        id: matter.id,
        title: matter.title,
        questions: matter.questions,
        tags: matter.tags,
        url: matter.url,
        owner: matter.owner,
        last_reviewed: matter.last_reviewed,
        body: body.to_string(),
        facets: trimmed(matter.facets),
        source: Location { file: path.to_path_buf(), line: 1 },
    })
}

fn trimmed(facets: BTreeMap<String, FacetAnswer>) -> BTreeMap<String, FacetAnswer> {
    facets
        .into_iter()
        .map(|(id, answer)| match answer {
            FacetAnswer::Text(text) => (id, FacetAnswer::Text(text.trim().to_string())),
            goto => (id, goto),
        })
        .collect()
}

fn title_from_id(id: &str) -> String {
    let words = id.replace('-', " ");
    let mut chars = words.chars();
    chars.next().map_or_else(String::new, |first| first.to_uppercase().chain(chars).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intent_keeps_its_line() {
        let text = "# group\n\n[[intent]]\nid = \"a\"\nexamples = [\"x\"]\nanswer = \"y\"\n";
        let file = parse_content_file(Path::new("g.toml"), text).unwrap();
        assert_eq!(file.intents[0].source.line, 3);
        assert_eq!(file.intents[0].title, "A");
        assert_eq!(file.intents[0].scope, Scope::County);
    }

    #[test]
    fn bad_toml_names_the_line() {
        let text = "[[intent]]\nid = \"a\"\nexamples = [\"x\"\n";
        let error = parse_content_file(Path::new("g.toml"), text).unwrap_err();
        assert!(error.at.line >= 3, "{error}");
    }

    #[test]
    fn unknown_field_is_refused() {
        let text = "[[intent]]\nid = \"a\"\nanwser = \"typo\"\n";
        let error = parse_content_file(Path::new("g.toml"), text).unwrap_err();
        assert!(error.message.contains("anwser"), "{error}");
        assert_eq!(error.field.as_deref(), Some("anwser"), "the field is the key on the error's line");
        let moon = "[[intent]]\nid = \"a\"\nscope = \"moon\"\n";
        let error = parse_content_file(Path::new("g.toml"), moon).unwrap_err();
        assert_eq!((error.at.line, error.field.as_deref()), (3, Some("scope")), "{error}");
    }

    #[test]
    fn article_front_matter_and_body() {
        let text = "+++\nid = \"libraries\"\ntitle = \"Libraries\"\nurl = \"https://x\"\nowner = \"o\"\nlast_reviewed = \"2026-01-01\"\n+++\nJoin online.\n";
        let article = parse_article(Path::new("l.md"), text).unwrap();
        assert_eq!(article.id, "libraries");
        assert_eq!(article.body, "Join online.");
    }

    #[test]
    fn article_error_counts_the_opening_line() {
        let text = "+++\nid = \"x\"\ntitle = 3\n+++\nbody";
        let error = parse_article(Path::new("l.md"), text).unwrap_err();
        assert_eq!(error.at.line, 3, "{error}");
        assert_eq!(error.field.as_deref(), Some("title"));
    }
}
