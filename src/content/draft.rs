//! An editor's draft: their own changes over the published content, kept per editor in the
//! store. It holds only the files they changed, so a draft stays small and is always read
//! over whatever is live now; each changed file remembers the fingerprint of the live file it
//! started from, so a draft whose file someone else has since published is flagged as a
//! conflict instead of silently undoing their change. Also here, all pure: adding a phrasing
//! to a topic without disturbing the file's layout (toml_edit keeps comments and formatting),
//! and the topic list the editor page shows.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::diff::diff;
use super::review::REVIEW_EVERY_MONTHS;
use super::{ARTICLES_FOLDER, Content, ContentFiles, INTENTS_FOLDER, Scope};

/// The largest content file an editor may save.
pub const FILE_BYTES_MAX: usize = 512 * 1024;
/// The most a draft's changed files may hold together.
pub const DRAFT_BYTES_MAX: usize = 4 * 1024 * 1024;

/// One changed file in a draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftFile {
    /// The new text; `None` when the draft removes the file.
    pub text: Option<String>,
    /// SHA-256 of the live file when the editor first changed it; `None` when it was not live.
    pub based_on: Option<String>,
}

/// An editor's changes, by path (`intents/waste.toml`, `knowledge-base/libraries.md`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    pub files: BTreeMap<String, DraftFile>,
}

/// How a draft's file differs from what is live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Added,
    Changed,
    Removed,
}

/// One file the draft changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FileChange {
    pub path: String,
    pub change: Change,
    /// The live file has changed since the editor began: publishing the draft would undo
    /// someone else's change. Revert the file and make the change again.
    pub conflict: bool,
}

/// Why a path cannot name a content file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadPath(pub String);

/// The path of a content file from its folder and name: `intents/*.toml` or
/// `knowledge-base/*.md`, the name of lower-case letters, digits, `-` and `_`.
pub fn file_path(folder: &str, name: &str) -> Result<String, BadPath> {
    let extension = match folder {
        INTENTS_FOLDER => ".toml",
        ARTICLES_FOLDER => ".md",
        _ => return Err(BadPath(format!("The folder must be {INTENTS_FOLDER} or {ARTICLES_FOLDER}."))),
    };
    let stem = name.strip_suffix(extension).unwrap_or("");
    let plain = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_';
    if stem.is_empty() || stem.len() > 80 || !stem.chars().all(plain) {
        return Err(BadPath(format!(
            "A file in {folder} is named with lower-case letters, digits, - and _, ending {extension}."
        )));
    }
    Ok(format!("{folder}/{name}"))
}

/// The text of the file at `path` in `files`.
pub fn text_at<'a>(files: &'a ContentFiles, path: &str) -> Option<&'a String> {
    let (folder, name) = path.split_once('/')?;
    match folder {
        INTENTS_FOLDER => files.intents.get(name),
        ARTICLES_FOLDER => files.articles.get(name),
        _ => None,
    }
}

fn fingerprint(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

impl Draft {
    /// The live files with this draft's changes made.
    pub fn apply(&self, live: &ContentFiles) -> ContentFiles {
        let mut files = live.clone();
        for (path, change) in &self.files {
            let Some((folder, name)) = path.split_once('/') else { continue };
            let folder = if folder == INTENTS_FOLDER { &mut files.intents } else { &mut files.articles };
            match &change.text {
                Some(text) => folder.insert(name.to_string(), text.clone()),
                None => folder.remove(name),
            };
        }
        files
    }

    /// Sets the draft's file at `path` (a checked path) to `text`, or removes it with `None`.
    /// A file made equal to what is live leaves the draft.
    pub fn set(&mut self, live: &ContentFiles, path: &str, text: Option<String>) {
        let live_text = text_at(live, path);
        if live_text == text.as_ref() {
            self.files.remove(path);
            return;
        }
        let based_on = match self.files.get(path) {
            Some(earlier) => earlier.based_on.clone(),
            None => live_text.map(|t| fingerprint(t)),
        };
        self.files.insert(path.to_string(), DraftFile { text, based_on });
    }

    /// The draft that makes `live` into `wanted` (folders imported as a draft).
    pub fn between(live: &ContentFiles, wanted: &ContentFiles) -> Self {
        let mut draft = Self::default();
        for file in diff(live, wanted) {
            draft.set(live, &file.path, text_at(wanted, &file.path).cloned());
        }
        draft
    }

    /// The bytes the changed files hold.
    pub fn bytes(&self) -> usize {
        self.files.values().filter_map(|f| f.text.as_ref()).map(String::len).sum()
    }

    /// What the draft changes against `live`, by path.
    pub fn changes(&self, live: &ContentFiles) -> Vec<FileChange> {
        self.files
            .iter()
            // A file someone has since published exactly as drafted is no change.
            .filter(|(path, file)| text_at(live, path) != file.text.as_ref())
            .map(|(path, file)| {
                let live_text = text_at(live, path);
                let change = match (&file.text, live_text) {
                    (None, _) => Change::Removed,
                    (Some(_), None) => Change::Added,
                    (Some(_), Some(_)) => Change::Changed,
                };
                let conflict = live_text.map(|t| fingerprint(t)) != file.based_on;
                FileChange { path: path.clone(), change, conflict }
            })
            .collect()
    }
}

/// Why a phrasing could not be added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhrasingError {
    NoSuchTopic,
    /// The topic's file does not parse as it stands: fix it first.
    Unreadable(String),
}

/// Adds `phrasing` to the training phrasings of `topic` (an intent's `examples` or an
/// article's `questions`), keeping the rest of its file as written. Returns the path and the
/// file's new text; a phrasing the topic already has changes nothing.
pub fn add_phrasing(
    files: &ContentFiles,
    content: &Content,
    topic: &str,
    phrasing: &str,
) -> Result<(String, String), PhrasingError> {
    if let Some(intent) = content.intent(topic) {
        let path = intent.source.file.to_string_lossy().into_owned();
        let text = text_at(files, &path).ok_or(PhrasingError::NoSuchTopic)?;
        let mut document: toml_edit::DocumentMut =
            text.parse().map_err(|e: toml_edit::TomlError| PhrasingError::Unreadable(e.to_string()))?;
        let intents = document
            .get_mut("intent")
            .and_then(|item| item.as_array_of_tables_mut())
            .ok_or(PhrasingError::NoSuchTopic)?;
        let table = intents
            .iter_mut()
            .find(|t| t.get("id").and_then(|v| v.as_str()) == Some(topic))
            .ok_or(PhrasingError::NoSuchTopic)?;
        push_phrasing(table, "examples", phrasing);
        return Ok((path, document.to_string()));
    }
    let article = content.article(topic).ok_or(PhrasingError::NoSuchTopic)?;
    let path = article.source.file.to_string_lossy().into_owned();
    let text = text_at(files, &path).ok_or(PhrasingError::NoSuchTopic)?;
    // An article is `+++`, TOML front matter, `+++`, then the Markdown body.
    let unreadable =
        || PhrasingError::Unreadable("The article's front matter is not between +++ lines.".into());
    let rest = text.strip_prefix("+++").ok_or_else(unreadable)?;
    let end = rest.find("\n+++").ok_or_else(unreadable)?;
    let mut front: toml_edit::DocumentMut =
        rest[..end].parse().map_err(|e: toml_edit::TomlError| PhrasingError::Unreadable(e.to_string()))?;
    push_phrasing(front.as_table_mut(), "questions", phrasing);
    Ok((path, format!("+++{front}{}", &rest[end..])))
}

/// Appends to the array `key` of `table`, one item a line like the rest, unless it is there.
fn push_phrasing(table: &mut toml_edit::Table, key: &str, phrasing: &str) {
    if !table.contains_key(key) {
        table.insert(key, toml_edit::value(toml_edit::Array::new()));
    }
    let Some(array) = table.get_mut(key).and_then(|item| item.as_array_mut()) else { return };
    if array.iter().any(|v| v.as_str() == Some(phrasing)) {
        return;
    }
    let mut value = toml_edit::Value::from(phrasing);
    value.decor_mut().set_prefix("\n  ");
    array.push_formatted(value);
    array.set_trailing("\n");
    array.set_trailing_comma(true);
}

/// A topic or article as the editor page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TopicSummary {
    /// `intent` or `article`.
    pub kind: String,
    pub id: String,
    pub title: String,
    /// `county`, `district`, `conversation` or `elsewhere`; articles are the county's.
    pub scope: String,
    pub path: String,
    pub line: usize,
    #[schema(format = Date)]
    pub last_reviewed: Option<String>,
    /// When its next review falls due.
    #[schema(format = Date)]
    pub due: Option<String>,
    pub overdue: bool,
}

/// Every topic and article, in file order.
pub fn topics(content: &Content, today: NaiveDate) -> Vec<TopicSummary> {
    let scope_name = |scope: Scope| match scope {
        Scope::County => "county",
        Scope::District => "district",
        Scope::Conversation => "conversation",
        Scope::Elsewhere => "elsewhere",
    };
    let due_of = |last: Option<&str>| {
        let last = NaiveDate::parse_from_str(last?, "%Y-%m-%d").ok()?;
        last.checked_add_months(chrono::Months::new(REVIEW_EVERY_MONTHS))
    };
    let summary =
        |kind: &str, id: &str, title: &str, scope: &str, source: &super::Location, last: Option<&str>| {
            let due = due_of(last);
            TopicSummary {
                kind: kind.to_string(),
                id: id.to_string(),
                title: title.to_string(),
                scope: scope.to_string(),
                path: source.file.to_string_lossy().into_owned(),
                line: source.line,
                last_reviewed: last.map(str::to_string),
                due: due.map(|d| d.to_string()),
                overdue: due.is_some_and(|d| d < today),
            }
        };
    let intents = content.intents.iter().map(|i| {
        summary("intent", &i.id, &i.title, scope_name(i.scope), &i.source, i.last_reviewed.as_deref())
    });
    let articles = content
        .articles
        .iter()
        .map(|a| summary("article", &a.id, &a.title, "county", &a.source, Some(a.last_reviewed.as_str())));
    intents.chain(articles).collect()
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// One intents file and one article, shared with the diff's tests.
    pub(in crate::content) fn live() -> ContentFiles {
        let intent = "# Roads.\n\n[[intent]]\nid = \"potholes\"\ntitle = \"Potholes\"\nscope = \"county\"\n\
                      examples = [\n  \"report a pothole\",\n  \"hole in the road\",\n]\n\
                      answer = \"Report it online.\"\n";
        let article = "+++\nid = \"libraries\"\ntitle = \"Libraries\"\nquestions = [\n  \"library hours\",\n]\n\
                       tags = []\nurl = \"https://www.hertfordshire.gov.uk/libraries\"\nowner = \"Libraries\"\n\
                       last_reviewed = \"2026-01-02\"\n+++\nLibraries lend books.\n";
        ContentFiles {
            intents: [("roads.toml".to_string(), intent.to_string())].into(),
            articles: [("libraries.md".to_string(), article.to_string())].into(),
        }
    }

    #[test]
    fn file_paths_are_only_content_files_with_plain_names() {
        assert_eq!(file_path("intents", "roads.toml").unwrap(), "intents/roads.toml");
        assert_eq!(file_path("knowledge-base", "blue-badge.md").unwrap(), "knowledge-base/blue-badge.md");
        for (folder, name) in [
            ("intents", "../etc.toml"),
            ("intents", "roads.md"),
            ("intents", ".toml"),
            ("src", "main.rs"),
            ("intents", "Roads.toml"),
            ("knowledge-base", "a b.md"),
        ] {
            assert!(file_path(folder, name).is_err(), "{folder}/{name}");
        }
    }

    #[test]
    fn a_draft_changes_adds_and_removes_files_over_what_is_live() {
        let live = live();
        let mut draft = Draft::default();
        draft.set(&live, "intents/roads.toml", Some("changed".into()));
        draft.set(&live, "intents/new.toml", Some("new".into()));
        draft.set(&live, "knowledge-base/libraries.md", None);
        let files = draft.apply(&live);
        assert_eq!(files.intents["roads.toml"], "changed");
        assert_eq!(files.intents["new.toml"], "new");
        assert!(files.articles.is_empty());
        let kinds: Vec<_> =
            draft.changes(&live).into_iter().map(|c| (c.path, c.change, c.conflict)).collect();
        assert_eq!(
            kinds,
            [
                ("intents/new.toml".to_string(), Change::Added, false),
                ("intents/roads.toml".to_string(), Change::Changed, false),
                ("knowledge-base/libraries.md".to_string(), Change::Removed, false),
            ]
        );
        assert_eq!(Draft::between(&live, &files).apply(&live), files, "the draft between two sets of files");
        // Set back to what is live, a file leaves the draft.
        draft.set(&live, "intents/roads.toml", Some(live.intents["roads.toml"].clone()));
        assert!(!draft.files.contains_key("intents/roads.toml"));
    }

    #[test]
    fn a_file_published_by_someone_else_since_is_a_conflict() {
        let mut live = live();
        let mut draft = Draft::default();
        draft.set(&live, "intents/roads.toml", Some("mine".into()));
        draft.set(&live, "intents/roads.toml", Some("mine, again".into()));
        assert!(!draft.changes(&live)[0].conflict, "editing twice is no conflict");
        live.intents.insert("roads.toml".into(), "theirs".into());
        assert!(draft.changes(&live)[0].conflict);
        let mut added = Draft::default();
        added.set(&live, "intents/new.toml", Some("mine".into()));
        live.intents.insert("new.toml".into(), "theirs too".into());
        assert!(added.changes(&live)[0].conflict, "a file someone else added since");
    }

    #[test]
    fn a_phrasing_is_added_to_an_intent_or_an_article_keeping_the_file_as_written() {
        let files = live();
        let content = files.parse().expect("the test content is valid");
        let (path, text) = add_phrasing(&files, &content, "potholes", "a crater on our road").unwrap();
        assert_eq!(path, "intents/roads.toml");
        assert!(text.starts_with("# Roads.\n"), "comments are kept: {text}");
        assert!(text.contains("  \"hole in the road\",\n  \"a crater on our road\",\n]"), "{text}");
        let mut changed = files.clone();
        changed.intents.insert("roads.toml".into(), text.clone());
        let reparsed = changed.parse().expect("still valid");
        assert!(reparsed.intent("potholes").unwrap().examples.contains(&"a crater on our road".to_string()));
        // Adding it again changes nothing.
        assert_eq!(add_phrasing(&changed, &reparsed, "potholes", "a crater on our road").unwrap().1, text);

        let (path, text) = add_phrasing(&files, &content, "libraries", "is the library open late").unwrap();
        assert_eq!(path, "knowledge-base/libraries.md");
        assert!(text.ends_with("+++\nLibraries lend books.\n"), "{text}");
        changed.articles.insert("libraries.md".into(), text);
        let reparsed = changed.parse().expect("still valid");
        assert!(
            reparsed.article("libraries").unwrap().questions.contains(&"is the library open late".into())
        );

        assert_eq!(add_phrasing(&files, &content, "nothing", "x"), Err(PhrasingError::NoSuchTopic));
    }

    #[test]
    fn topics_say_when_their_review_falls_due() {
        let content = live().parse().unwrap();
        let today = NaiveDate::from_ymd_opt(2027, 2, 1).unwrap();
        let listed = topics(&content, today);
        let library = listed.iter().find(|t| t.id == "libraries").unwrap();
        assert_eq!(library.due.as_deref(), Some("2027-01-02"));
        assert!(library.overdue);
        let potholes = listed.iter().find(|t| t.id == "potholes").unwrap();
        assert_eq!((potholes.scope.as_str(), potholes.path.as_str()), ("county", "intents/roads.toml"));
        assert!(!potholes.overdue && potholes.due.is_none());
    }
}
