//! Content: intents, articles, districts, synonyms and assistant messages, loaded from
//! `intents/` and `knowledge-base/` and validated. Pure data in, typed data out: the only I/O
//! here is reading the two folders, kept in [`load`] so that everything else can be tested on
//! strings.

pub mod diff;
pub mod draft;
mod files;
pub mod form;
mod parse;
pub mod review;
mod validate;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

pub use files::{ARTICLES_FOLDER, ContentFiles, INTENTS_FOLDER};
pub use parse::{parse_article, parse_content_file};
pub use validate::validate;

/// Where a topic's work is done, which decides how the assistant answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// A Hertfordshire County Council service.
    County,
    /// Done by the ten district and borough councils: the answer needs the resident's place.
    District,
    /// Greeting, thanks, goodbye and the like.
    Conversation,
    /// Not the council's business at all: the answer says who does it; reported as declined.
    Elsewhere,
}

/// A kind of detail residents ask about almost any topic ("how much is it?", "how long does it
/// take?"), with phrasings that name no topic, so the matcher can tell the detail asked.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FacetKind {
    pub id: String,
    pub examples: Vec<String>,
    pub source: Location,
}

/// A topic's answer about one facet: said in place, or answered by another topic.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(untagged)]
pub enum FacetAnswer {
    Text(String),
    Goto { goto: String },
}

/// A quick reply offered under an answer.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct FollowUp {
    pub label: String,
    /// Answered in place.
    #[serde(default)]
    pub answer: Option<String>,
    /// Or answered as another topic.
    #[serde(default)]
    pub goto: Option<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Link {
    pub title: String,
    pub url: String,
}

/// The one kind of detail a topic can need today: the resident's town, which names the district.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Slot {
    Place,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Intent {
    pub id: String,
    pub title: String,
    pub scope: Scope,
    pub examples: Vec<String>,
    pub answer: Option<String>,
    pub links: Vec<Link>,
    pub follow_ups: Vec<FollowUp>,
    pub slot: Option<Slot>,
    pub ask: Option<String>,
    pub team: Option<String>,
    pub offer_person: bool,
    /// Short answers about one detail of the topic, by facet id.
    pub facets: BTreeMap<String, FacetAnswer>,
    pub last_reviewed: Option<String>,
    /// Where it was defined, for error messages.
    pub source: Location,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Article {
    pub id: String,
    pub title: String,
    pub questions: Vec<String>,
    pub tags: Vec<String>,
    pub url: String,
    pub owner: String,
    pub last_reviewed: String,
    pub body: String,
    /// Short answers about one detail of the topic, by facet id.
    pub facets: BTreeMap<String, FacetAnswer>,
    pub source: Location,
}

/// A council area and the places in it: one of Hertfordshire's districts, or (as a
/// neighbour) a council beyond the county's border whose residents may ask here.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct District {
    pub id: String,
    pub name: String,
    pub website: String,
    pub phone: String,
    pub places: Vec<String>,
    pub last_reviewed: Option<String>,
    pub source: Location,
}

#[derive(Debug, Clone, PartialEq, Default, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Messages {
    #[serde(default = "defaults::welcome")]
    pub welcome: String,
    #[serde(default = "defaults::decline")]
    pub decline: String,
    #[serde(default = "defaults::clarify")]
    pub clarify: String,
    /// A declined question whose best guess is offered; `{topic}` is the guess's title.
    #[serde(default = "defaults::unsure")]
    pub unsure: String,
    #[serde(default = "defaults::handoff")]
    pub handoff: String,
}

#[derive(Debug, Clone, PartialEq, Default, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Emergency {
    pub message: String,
    pub patterns: Vec<String>,
}

/// A position in a content file, 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Location {
    pub file: PathBuf,
    pub line: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// Everything the assistant knows, validated.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Content {
    pub intents: Vec<Intent>,
    pub articles: Vec<Article>,
    pub districts: Vec<District>,
    /// Councils beyond the county's border (`[[neighbour]]`): a question about one of their
    /// places is theirs to answer, whatever service it names.
    pub neighbours: Vec<District>,
    /// The details residents ask about topics, for follow-up questions.
    pub facets: Vec<FacetKind>,
    /// Resident word or phrase -> the phrase the content uses.
    pub synonyms: BTreeMap<String, String>,
    pub messages: Messages,
    pub emergency: Option<Emergency>,
}

/// One problem found in the content, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentError {
    pub at: Location,
    /// The field the problem concerns (`answer`, `examples`, `facets.cost`), where one does:
    /// the editors' page shows it beside that field.
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for ContentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{} ({field}): {}", self.at, self.message),
            None => write!(f, "{}: {}", self.at, self.message),
        }
    }
}

/// All the problems found, so an editor sees every one in a single run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentErrors(pub Vec<ContentError>);

impl fmt::Display for ContentErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} problem(s) in the content:", self.0.len())?;
        for error in &self.0 {
            writeln!(f, "  {error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ContentErrors {}

impl Content {
    pub fn intent(&self, id: &str) -> Option<&Intent> {
        self.intents.iter().find(|i| i.id == id)
    }

    pub fn article(&self, id: &str) -> Option<&Article> {
        self.articles.iter().find(|a| a.id == id)
    }

    /// A topic's answer about one facet: the intent's, else the article's.
    pub fn facet_answer(&self, topic: &str, facet: &str) -> Option<&FacetAnswer> {
        self.intent(topic)
            .and_then(|i| i.facets.get(facet))
            .or_else(|| self.article(topic).and_then(|a| a.facets.get(facet)))
    }
}

/// A content file read into memory: its path and text.
pub struct SourceFile {
    pub path: PathBuf,
    pub text: String,
}

/// Reads every `*.toml` in `intents_dir` and `*.md` in `articles_dir`, sorted by name so that
/// a load is repeatable.
pub fn read_dirs(
    intents_dir: &Path,
    articles_dir: &Path,
) -> Result<(Vec<SourceFile>, Vec<SourceFile>), ContentErrors> {
    Ok((read_dir(intents_dir, "toml")?, read_dir(articles_dir, "md")?))
}

fn read_dir(dir: &Path, extension: &str) -> Result<Vec<SourceFile>, ContentErrors> {
    let io_error = |path: &Path, e: std::io::Error| {
        ContentErrors(vec![ContentError {
            at: Location { file: path.to_path_buf(), line: 0 },
            field: None,
            message: format!("cannot read: {e}"),
        }])
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| io_error(dir, e))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == extension))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).map_err(|e| io_error(&path, e))?;
            Ok(SourceFile { path, text })
        })
        .collect()
}

/// Parses and validates content held in memory.
pub fn from_sources(
    intent_files: &[SourceFile],
    article_files: &[SourceFile],
) -> Result<Content, ContentErrors> {
    let mut content = Content::default();
    let mut errors = Vec::new();
    let mut saw_messages = false;
    for file in intent_files {
        match parse_content_file(&file.path, &file.text) {
            Ok(parsed) => {
                content.intents.extend(parsed.intents);
                content.districts.extend(parsed.districts);
                content.neighbours.extend(parsed.neighbours);
                content.facets.extend(parsed.facets);
                for (word, meaning) in parsed.synonyms {
                    content.synonyms.insert(word, meaning);
                }
                if let Some(messages) = parsed.messages {
                    content.messages = messages;
                    saw_messages = true;
                }
                if parsed.emergency.is_some() {
                    content.emergency = parsed.emergency;
                }
            }
            Err(e) => errors.push(e),
        }
    }
    if !saw_messages {
        content.messages = Messages {
            welcome: defaults::welcome(),
            decline: defaults::decline(),
            clarify: defaults::clarify(),
            unsure: defaults::unsure(),
            handoff: defaults::handoff(),
        };
    }
    for file in article_files {
        match parse_article(&file.path, &file.text) {
            Ok(article) => content.articles.push(article),
            Err(e) => errors.push(e),
        }
    }
    errors.extend(validate(&content));
    if errors.is_empty() { Ok(content) } else { Err(ContentErrors(errors)) }
}

/// Reads and validates the content folders.
pub fn load(intents_dir: &Path, articles_dir: &Path) -> Result<Content, ContentErrors> {
    let (intent_files, article_files) = read_dirs(intents_dir, articles_dir)?;
    from_sources(&intent_files, &article_files)
}

mod defaults {
    pub fn welcome() -> String {
        "Hello, I'm Hertfordshire County Council's automated assistant. Ask me about council services. You can ask for a person at any time.".into()
    }
    pub fn decline() -> String {
        "Sorry, I can't help with that. For national services, try www.gov.uk. I can pass you to a person at the council if you like.".into()
    }
    pub fn clarify() -> String {
        "I'm not sure I understood. Did you mean:".into()
    }
    pub fn unsure() -> String {
        "I'm not sure I have understood. Were you asking about {topic}? If not, try asking another way, or talk to a person.".into()
    }
    pub fn handoff() -> String {
        "I'll pass you to a member of our contact centre team.".into()
    }
}
