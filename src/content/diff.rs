//! How two sets of content files differ, for a reviewer: each changed file as line hunks, and,
//! where both sides parse, as the topics it adds, removes or changes with each changed field's
//! value before and after (a list field, such as the phrasings, as the items added and removed).
//! Pure: text in, diff out.

use std::collections::BTreeMap;

use serde::Serialize;

use super::draft::{Change, text_at};
use super::{ARTICLES_FOLDER, ContentFiles, INTENTS_FOLDER};

/// One line of a diff: `+` added, `-` removed, ` ` unchanged context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DiffLine {
    pub op: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DiffHunk {
    /// `@@ -3,7 +3,8 @@`: where the lines are in the old and the new file.
    pub header: String,
    pub lines: Vec<DiffLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FileDiff {
    pub path: String,
    pub change: Change,
    /// What changed topic by topic and field by field; empty when either side does not parse,
    /// and then the hunks alone say what changed.
    pub items: Vec<ItemDiff>,
    pub hunks: Vec<DiffHunk>,
}

/// Every file that differs between `old` and `new`: by topic and field, and as line hunks with
/// three lines of context.
pub fn diff(old: &ContentFiles, new: &ContentFiles) -> Vec<FileDiff> {
    let paths = |files: &ContentFiles| {
        let named = |folder: &str, map: &BTreeMap<String, String>| {
            map.keys().map(|name| format!("{folder}/{name}")).collect::<Vec<_>>()
        };
        let mut all = named(INTENTS_FOLDER, &files.intents);
        all.extend(named(ARTICLES_FOLDER, &files.articles));
        all
    };
    let mut all: Vec<String> = paths(old);
    all.extend(paths(new));
    all.sort();
    all.dedup();
    all.into_iter()
        .filter_map(|path| {
            let (before, after) = (text_at(old, &path), text_at(new, &path));
            let change = match (before, after) {
                (Some(b), Some(a)) if a == b => return None,
                (Some(_), Some(_)) => Change::Changed,
                (None, _) => Change::Added,
                (_, None) => Change::Removed,
            };
            let (before, after) = (before.map_or("", String::as_str), after.map_or("", String::as_str));
            Some(FileDiff {
                items: item_diffs(&path, before, after),
                hunks: hunks(before, after),
                path,
                change,
            })
        })
        .collect()
}

fn hunks(before: &str, after: &str) -> Vec<DiffHunk> {
    let diff = similar::TextDiff::from_lines(before, after);
    let mut unified = diff.unified_diff();
    unified.context_radius(3);
    unified
        .iter_hunks()
        .map(|hunk| DiffHunk {
            header: hunk.header().to_string().trim().to_string(),
            lines: hunk
                .iter_changes()
                .map(|change| DiffLine {
                    op: match change.tag() {
                        similar::ChangeTag::Insert => "+",
                        similar::ChangeTag::Delete => "-",
                        similar::ChangeTag::Equal => " ",
                    }
                    .to_string(),
                    text: change.value().trim_end_matches(['\n', '\r']).to_string(),
                })
                .collect(),
        })
        .collect()
}

/// One topic (or district, facet kind or file-wide setting) that a change adds, removes or
/// changes, with the fields that differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ItemDiff {
    /// `intent`, `article`, `district`, `facet`, or `setting` for a file-wide table
    /// (`synonyms`, `messages`, `emergency`).
    pub kind: String,
    /// The topic's id, or the setting table's name.
    pub id: String,
    pub change: Change,
    pub fields: Vec<FieldDiff>,
}

/// One field that differs. A single value gives `before` and `after` (`None` where the field is
/// absent); a list gives the items `added` and `removed`, and its whole value before and after
/// only when no item changed but their order did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldDiff {
    /// `answer`, `examples`, `links`, `facets.cost`, `body` (an article's text)...
    pub field: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

/// A field's value, as a reviewer reads it.
#[derive(Debug, Clone, PartialEq)]
enum FieldValue {
    One(String),
    List(Vec<String>),
}

type Fields = BTreeMap<String, FieldValue>;

/// The topics of one file by (kind, id), each as its fields; `None` when it does not parse.
fn items_of(path: &str, text: &str) -> Option<BTreeMap<(String, String), Fields>> {
    let mut items = BTreeMap::new();
    if path.starts_with(ARTICLES_FOLDER) {
        let rest =
            text.strip_prefix('\u{feff}').unwrap_or(text).trim_start_matches("+++").trim_start_matches('\r');
        let rest = rest.strip_prefix('\n')?;
        let close = rest.find("\n+++")?;
        let front: toml::Table = toml::from_str(&rest[..close + 1]).ok()?;
        let id = front.get("id").and_then(toml::Value::as_str).unwrap_or(path).to_string();
        let mut fields = Fields::new();
        flatten("", &toml::Value::Table(front), &mut fields);
        let body = rest[close + 4..].trim_start_matches(['\r', '\n']).trim_end();
        fields.insert("body".into(), FieldValue::One(body.to_string()));
        items.insert(("article".to_string(), id), fields);
        return Some(items);
    }
    let table: toml::Table = toml::from_str(text).ok()?;
    for (key, value) in table {
        match value {
            toml::Value::Array(tables) => {
                for (n, table) in tables.into_iter().enumerate() {
                    let id = table
                        .get("id")
                        .and_then(toml::Value::as_str)
                        .map_or_else(|| format!("#{}", n + 1), str::to_string);
                    let mut fields = Fields::new();
                    flatten("", &table, &mut fields);
                    items.insert((key.clone(), id), fields);
                }
            }
            value => {
                let mut fields = Fields::new();
                flatten("", &value, &mut fields);
                items.insert(("setting".to_string(), key), fields);
            }
        }
    }
    Some(items)
}

/// A table's fields, a nested table's as `outer.inner`; lists and single values as they read.
fn flatten(prefix: &str, value: &toml::Value, fields: &mut Fields) {
    match value {
        toml::Value::Table(table) => {
            for (key, value) in table {
                let name = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                match value {
                    toml::Value::Table(_) if !is_goto(value) => flatten(&name, value, fields),
                    toml::Value::Array(list) => {
                        fields.insert(name, FieldValue::List(list.iter().map(shown).collect()));
                    }
                    value => {
                        fields.insert(name, FieldValue::One(shown(value)));
                    }
                }
            }
        }
        value => {
            fields.insert(prefix.to_string(), FieldValue::One(shown(value)));
        }
    }
}

/// A facet answered by another topic (`{ goto = "..." }`) is one value, not a nested table.
fn is_goto(value: &toml::Value) -> bool {
    value.as_table().is_some_and(|t| t.len() == 1 && t.contains_key("goto"))
}

/// A value as a reviewer reads it: a string as itself, anything else as TOML writes it.
fn shown(value: &toml::Value) -> String {
    match value {
        toml::Value::String(text) => text.trim().to_string(),
        value => value.to_string(),
    }
}

fn item_diffs(path: &str, before: &str, after: &str) -> Vec<ItemDiff> {
    let parse = |text: &str| if text.is_empty() { Some(BTreeMap::new()) } else { items_of(path, text) };
    let (Some(old), Some(new)) = (parse(before), parse(after)) else { return Vec::new() };
    let mut keys: Vec<&(String, String)> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    let empty = Fields::new();
    keys.into_iter()
        .filter_map(|key| {
            let (was, is) = (old.get(key), new.get(key));
            let change = match (was, is) {
                (Some(a), Some(b)) if a == b => return None,
                (Some(_), Some(_)) => Change::Changed,
                (None, _) => Change::Added,
                (_, None) => Change::Removed,
            };
            let fields = field_diffs(was.unwrap_or(&empty), is.unwrap_or(&empty));
            Some(ItemDiff { kind: key.0.clone(), id: key.1.clone(), change, fields })
        })
        .collect()
}

fn field_diffs(old: &Fields, new: &Fields) -> Vec<FieldDiff> {
    let mut names: Vec<&String> = old.keys().chain(new.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter_map(|name| {
            let (was, is) = (old.get(name), new.get(name));
            if was == is {
                return None;
            }
            let one = |v: Option<&FieldValue>| match v {
                Some(FieldValue::One(text)) => Some(text.clone()),
                Some(FieldValue::List(items)) => Some(items.join("\n")),
                None => None,
            };
            let list = |v: Option<&FieldValue>| match v {
                Some(FieldValue::List(items)) => Some(items.clone()),
                _ => None,
            };
            let diff = match (list(was), list(is)) {
                (a, b) if a.is_some() || b.is_some() => {
                    let (a, b) = (a.unwrap_or_default(), b.unwrap_or_default());
                    let added: Vec<String> = b.iter().filter(|x| !a.contains(x)).cloned().collect();
                    let removed: Vec<String> = a.iter().filter(|x| !b.contains(x)).cloned().collect();
                    let reordered = added.is_empty() && removed.is_empty();
                    FieldDiff {
                        field: name.clone(),
                        before: if reordered { one(was) } else { None },
                        after: if reordered { one(is) } else { None },
                        added,
                        removed,
                    }
                }
                _ => FieldDiff {
                    field: name.clone(),
                    before: one(was),
                    after: one(is),
                    added: Vec::new(),
                    removed: Vec::new(),
                },
            };
            Some(diff)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::draft::tests::live;
    use super::*;

    #[test]
    fn a_diff_lists_changed_lines_with_context() {
        let old = live();
        let mut new = old.clone();
        new.intents.insert(
            "roads.toml".into(),
            old.intents["roads.toml"].replace("Report it online.", "Report it on the map."),
        );
        new.intents.insert("new.toml".into(), "one\n".into());
        let diff = diff(&old, &new);
        assert_eq!(diff.len(), 2);
        assert_eq!((diff[0].path.as_str(), diff[0].change), ("intents/new.toml", Change::Added));
        let roads = &diff[1];
        assert_eq!(roads.change, Change::Changed);
        assert!(roads.hunks[0].header.starts_with("@@ -"));
        let changed: Vec<_> = roads.hunks[0]
            .lines
            .iter()
            .filter(|l| l.op != " ")
            .map(|l| (l.op.as_str(), l.text.as_str()))
            .collect();
        assert_eq!(
            changed,
            [("-", "answer = \"Report it online.\""), ("+", "answer = \"Report it on the map.\"")]
        );
        assert!(roads.hunks[0].lines.iter().any(|l| l.op == " "), "context lines are kept");
    }

    #[test]
    fn a_diff_names_each_changed_field_of_each_topic() {
        let old = live();
        let mut new = old.clone();
        let roads = old.intents["roads.toml"]
            .replace("Report it online.", "Report it on the map.")
            .replace("  \"hole in the road\",\n", "  \"crater in the road\",\n")
            + "\n[intent.facets]\ncost = \"Free.\"\n\n[[intent]]\nid = \"gritting\"\nexamples = [\"icy road\"]\nanswer = \"We grit.\"\n";
        new.intents.insert("roads.toml".into(), roads);
        new.articles.insert(
            "libraries.md".into(),
            old.articles["libraries.md"].replace("lend books.", "lend books and films."),
        );
        let diff = diff(&old, &new);
        let items: Vec<_> = diff.iter().flat_map(|f| f.items.iter()).collect();
        let summary: Vec<_> = items
            .iter()
            .map(|i| {
                (
                    i.kind.as_str(),
                    i.id.as_str(),
                    i.change,
                    i.fields.iter().map(|f| f.field.as_str()).collect::<Vec<_>>(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("intent", "gritting", Change::Added, vec!["answer", "examples", "id"]),
                ("intent", "potholes", Change::Changed, vec!["answer", "examples", "facets.cost"]),
                ("article", "libraries", Change::Changed, vec!["body"]),
            ]
        );
        let potholes = &items[1].fields;
        assert_eq!(
            (potholes[0].before.as_deref(), potholes[0].after.as_deref()),
            (Some("Report it online."), Some("Report it on the map."))
        );
        assert_eq!(
            (potholes[1].added.as_slice(), potholes[1].removed.as_slice()),
            (&["crater in the road".to_string()][..], &["hole in the road".to_string()][..])
        );
        assert_eq!(
            (potholes[1].before.as_ref(), potholes[1].after.as_ref()),
            (None, None),
            "a list gives its items"
        );
        assert_eq!((potholes[2].before.as_deref(), potholes[2].after.as_deref()), (None, Some("Free.")));
        assert_eq!(items[2].fields[0].after.as_deref(), Some("Libraries lend books and films."));
    }

    #[test]
    fn a_file_that_does_not_parse_is_diffed_by_line_alone() {
        let old = live();
        let mut new = old.clone();
        new.intents.insert("roads.toml".into(), "[[intent]\nid = ".into());
        let diff = diff(&old, &new);
        assert!(diff[0].items.is_empty());
        assert!(!diff[0].hunks.is_empty());
    }

    #[test]
    fn a_removed_topic_lists_what_it_had_and_a_reordered_list_its_whole_value() {
        let old = live();
        let mut new = old.clone();
        new.intents.insert(
            "roads.toml".into(),
            old.intents["roads.toml"].replace(
                "  \"report a pothole\",\n  \"hole in the road\",",
                "  \"hole in the road\",\n  \"report a pothole\",",
            ),
        );
        let reordered = &diff(&old, &new)[0].items[0].fields[0];
        assert_eq!(reordered.field, "examples");
        assert_eq!(reordered.after.as_deref(), Some("hole in the road\nreport a pothole"));
        new.intents.remove("roads.toml");
        let removed = &diff(&old, &new)[0].items[0];
        assert_eq!(removed.change, Change::Removed);
        let examples = removed.fields.iter().find(|f| f.field == "examples").unwrap();
        assert_eq!(examples.removed, ["report a pothole", "hole in the road"]);
    }
}
