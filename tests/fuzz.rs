//! Fuzz targets for everything that parses untrusted text: content files, residents' messages
//! (normaliser, entities, redactor), the answers' Markdown subset and the event stream's
//! `?after=`.
//! Over 400 lines: five targets, each with its own token list, mutations and the properties
//! it asserts, sharing one seed reader and one budget.
//!
//! Each target first runs its seed corpus (`tests/fuzz-corpus/<target>/`, small real inputs),
//! then inputs made by bolero for `HA_FUZZ_SECONDS` seconds (default 5; 0 runs the seeds only):
//! raw bytes as text, strings of the target's own tokens, and seeds mutated by edits the input
//! describes (insert a token, delete, duplicate, splice another seed), so that random bytes
//! still reach deep into a parser. A failure prints the input and `BOLERO_RANDOM_SEED=...`,
//! which runs it again when set. Under `cargo +nightly bolero test <target>` the same targets
//! run with libFuzzer, which drives the same decoding of bytes into text.
//!
//! Every target asserts properties, not only "no panic": see each test.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::Duration;

use herts_assistant::content::{self, Article, Content, FacetAnswer, Intent, Location, Scope, SourceFile};
use herts_assistant::engine::entities::{self, Gazetteer};
use herts_assistant::engine::normalise::Normaliser;
use herts_assistant::engine::redact::{PiiKind, Redactor};
use herts_assistant::http::wire::After;
use herts_assistant::markup;

// ---- the harness ----

/// How long each target makes inputs for: `HA_FUZZ_SECONDS`, default 5 (0: the seeds only).
fn budget() -> Duration {
    let seconds = std::env::var("HA_FUZZ_SECONDS").ok().and_then(|s| s.trim().parse::<f64>().ok());
    Duration::from_secs_f64(seconds.filter(|s| s.is_finite() && *s >= 0.0).unwrap_or(5.0))
}

/// The seed corpus of a target, sorted by file name.
fn corpus(target: &str) -> Vec<(PathBuf, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-corpus").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    let seeds: Vec<(PathBuf, String)> = files
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (path, String::from_utf8_lossy(&bytes).into_owned())
        })
        .collect();
    assert!(!seeds.is_empty(), "no seeds in {}", dir.display());
    seeds
}

/// Characters and pieces every target gets: separators, quotes, escapes, odd Unicode.
const COMMON_TOKENS: &[&str] = &[
    "\n",
    "\r\n",
    "\r",
    " ",
    "  ",
    "\t",
    "\"",
    "'",
    "`",
    "\\",
    "\0",
    "\u{feff}",
    "\u{200b}",
    "\u{a0}",
    "\u{2028}",
    "\u{301}",
    "\u{307}",
    "é",
    "İ",
    "ß",
    "ẞ",
    "Σ",
    "ς",
    "ﬁ",
    "½",
    "①",
    "Ⅻ",
    "𝟎",
    "٣",
    "०",
    "０",
    "’",
    "‘",
    "–",
    "—",
    "😀",
    "\u{10ffff}",
    "\u{fffd}",
    "[",
    "]",
    "(",
    ")",
    "{",
    "}",
    "<",
    ">",
    "&",
    "=",
    "#",
    "+",
    "-",
    "_",
    "/",
    ":",
    ";",
    "%",
    ".",
    ",",
    "@",
    "*",
    "?",
    "!",
    "£",
    "0",
    "1",
    "4",
    "7",
    "9",
    "a",
    "Z",
];

/// Makes the text a target checks from fuzzer bytes. The first byte picks how:
/// 0: the rest as text; 1: each byte names a token; 2, 3: a seed, then 4-byte edits.
fn text_from(bytes: &[u8], seeds: &[String], tokens: &[&str]) -> String {
    let Some((&mode, rest)) = bytes.split_first() else {
        return String::new();
    };
    match mode % 4 {
        0 => String::from_utf8_lossy(rest).into_owned(),
        1 => rest.iter().map(|&b| token(tokens, b)).collect(),
        _ => mutated(rest, seeds, tokens),
    }
}

/// Tokens past the target's own list come from the common list.
fn token<'a>(tokens: &[&'a str], b: u8) -> &'a str {
    let i = usize::from(b);
    if i < tokens.len() { tokens[i] } else { COMMON_TOKENS[(i - tokens.len()) % COMMON_TOKENS.len()] }
}

fn floor_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn ceil_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at += 1;
    }
    at
}

fn mutated(bytes: &[u8], seeds: &[String], tokens: &[&str]) -> String {
    let Some((&seed, edits)) = bytes.split_first() else {
        return String::new();
    };
    let mut text = seeds[usize::from(seed) % seeds.len()].clone();
    for edit in edits.chunks_exact(4) {
        let (op, arg) = (edit[0], edit[3]);
        let at =
            floor_boundary(&text, usize::from(u16::from_le_bytes([edit[1], edit[2]])) % (text.len() + 1));
        match op % 6 {
            0 => text.insert_str(at, token(tokens, arg)),
            1 => {
                let end = ceil_boundary(&text, at + usize::from(arg % 32) + 1);
                text.replace_range(at..end, "");
            }
            2 => {
                let end = ceil_boundary(&text, at + usize::from(arg) * 4);
                let piece = text[at..end].to_string();
                text.insert_str(end, &piece);
            }
            3 => {
                let other = &seeds[usize::from(arg) % seeds.len()];
                let from = floor_boundary(other, at);
                text.truncate(at);
                text.push_str(&other[from..]);
            }
            4 => text.insert(at, char::from(arg)),
            _ => {
                let end = ceil_boundary(&text, at + 1);
                text.replace_range(at..end, token(tokens, arg));
            }
        }
        if text.len() > 1 << 16 {
            break;
        }
    }
    text
}

/// Names the seed being checked when its check fails.
struct NameOnFailure<'a>(&'a Path);

impl Drop for NameOnFailure<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("failing seed: {}", self.0.display());
        }
    }
}

/// Runs `$property` on each seed of `$target`, then on inputs made from fuzzer bytes for the
/// time budget. `bolero::check!` stays in the test function so that each target has its own
/// name (and, under `cargo bolero`, its own corpus).
macro_rules! fuzz {
    ($target:literal, $tokens:expr, $property:expr) => {{
        let property = $property;
        let tokens: &[&str] = $tokens;
        let seeds: Vec<String> = corpus($target)
            .into_iter()
            .map(|(path, text)| {
                let _naming = NameOnFailure(&path);
                property(&text);
                text
            })
            .collect();
        bolero::check!().with_test_time(budget()).for_each(|bytes: &[u8]| {
            property(&text_from(bytes, &seeds, tokens));
        });
    }};
}

/// The shipped content, for the synonyms, districts and published numbers the engine uses.
static SHIPPED: LazyLock<Content> = LazyLock::new(|| {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    content::load(&root.join("intents"), &root.join("knowledge-base")).expect("the shipped content loads")
});

fn lines_in(text: &str) -> usize {
    text.matches('\n').count() + 1
}

// ---- 1. content files ----

const CONTENT_TOKENS: &[&str] = &[
    "[[intent]]\n",
    "[[district]]\n",
    "[[facet]]\n",
    "[intent.facets]\n",
    "[synonyms]\n",
    "[messages]\n",
    "[emergency]\n",
    "[facets]\n",
    "+++\n",
    "\n+++",
    "+++",
    "id = \"a\"\n",
    "id = ",
    "title = ",
    "examples = [\"x\", \"y\"]\n",
    "answer = ",
    "goto = ",
    "{ goto = \"libraries\" }",
    "{ label = \"l\", answer = \"a\" }",
    "scope = \"district\"\n",
    "slot = \"place\"\n",
    "ask = \"Where?\"\n",
    "patterns = ['(', 'a{2000}{2000}', '\\bx\\b']\n",
    "last_reviewed = \"2026-02-30\"\n",
    "\"\"\"",
    "'''",
    "\\u0000",
    "\\U0010FFFF",
    "\\uD800",
    "\\",
    "1979-05-27T07:32:00Z",
    "inf",
    "nan",
    "true",
    "0x1F",
    "1e400",
    "9223372036854775808",
    "\"Ab\" = \"c\"\n",
    "[link](javascript:x)",
];

/// Parses `text` as an intents file and checks what comes back; the error, if any.
fn check_content_file(path: &Path, text: &str) -> Result<(), content::ContentError> {
    let lines = lines_in(text);
    let parsed = content::parse_content_file(path, text);
    match &parsed {
        Ok(file) => {
            let sources = file
                .intents
                .iter()
                .map(|i| &i.source)
                .chain(file.districts.iter().map(|d| &d.source))
                .chain(file.facets.iter().map(|f| &f.source));
            for source in sources {
                assert_eq!(source.file, path);
                assert!((1..=lines).contains(&source.line), "line {} of {lines}", source.line);
            }
            for intent in &file.intents {
                if let Some(answer) = &intent.answer {
                    assert_eq!(answer, answer.trim(), "answers are trimmed");
                }
                check_facets_trimmed(&intent.facets);
            }
            for word in file.synonyms.keys() {
                assert_eq!(*word, word.to_lowercase(), "synonym keys are lowercase");
            }
        }
        Err(error) => {
            assert_eq!(error.at.file, path);
            assert!((1..=lines).contains(&error.at.line), "error line {} of {lines}: {error}", error.at.line);
            assert!(!error.message.is_empty());
        }
    }
    parsed.map(|_| ())
}

fn check_facets_trimmed(facets: &BTreeMap<String, FacetAnswer>) {
    for answer in facets.values() {
        if let FacetAnswer::Text(text) = answer {
            assert_eq!(text, text.trim(), "facet answers are trimmed");
        }
    }
}

fn check_article(path: &Path, text: &str, parsed: &Result<Article, content::ContentError>) {
    let lines = lines_in(text);
    match parsed {
        Ok(article) => {
            let unmarked = text.strip_prefix('\u{feff}').unwrap_or(text);
            assert!(unmarked.starts_with("+++\n") || unmarked.starts_with("+++\r\n"));
            assert_eq!(article.source, Location { file: path.to_path_buf(), line: 1 });
            assert_eq!(article.body, article.body.trim_end(), "the body is trimmed at the end");
            assert!(!article.body.starts_with(['\r', '\n']), "the body starts after the blank lines");
            assert!(text.contains(&article.body), "the body is the file's own text");
            check_facets_trimmed(&article.facets);
        }
        Err(error) => {
            assert_eq!(error.at.file, path);
            assert!((1..=lines).contains(&error.at.line), "error line {} of {lines}: {error}", error.at.line);
            assert!(!error.message.is_empty());
        }
    }
}

/// The content parser: an intents file and an article from any text. Properties: errors are
/// returned (with a line inside the file), never panics; what parses keeps real line numbers,
/// trimmed answers and lowercase synonym keys; an article's body is its own text, trimmed; a
/// byte-order mark changes nothing; parsing and validating together never panic and name every
/// problem.
#[test]
fn content_parser() {
    fuzz!("content", CONTENT_TOKENS, |text: &str| {
        let (toml_path, md_path) = (Path::new("intents/fuzz.toml"), Path::new("knowledge-base/fuzz.md"));
        let file = check_content_file(toml_path, text);
        let article = content::parse_article(md_path, text);
        check_article(md_path, text, &article);
        if !text.starts_with('\u{feff}') {
            let marked = content::parse_article(md_path, &format!("\u{feff}{text}"));
            assert_eq!(marked, article, "a byte-order mark changes nothing");
        }
        let source = |path: &Path| SourceFile { path: path.to_path_buf(), text: text.to_string() };
        match content::from_sources(&[source(toml_path)], &[source(md_path)]) {
            Ok(content) => {
                assert!(file.is_ok() && article.is_ok());
                assert_eq!(content.articles.len(), 1);
            }
            Err(errors) => {
                assert!(!errors.0.is_empty());
                assert!(errors.0.iter().all(|e| !e.message.is_empty()));
                if let Err(e) = &file {
                    assert!(errors.0.contains(e), "the parse error is reported");
                }
            }
        }
    });
}

// ---- 2. normaliser and entities ----

const TEXT_TOKENS: &[&str] = &[
    "can't",
    "won't",
    "n't",
    "'s",
    "'re",
    "’ll",
    "cannot",
    "center",
    "color",
    "zip",
    "tip",
    "household waste site",
    "ＨＥＬＬＯ",
    "Welwyn Garden City",
    "welwyn",
    "Bishop's Stortford",
    "bishop’s",
    "Hemel",
    "St Albans",
    "SG13 8DQ",
    "sg1 1aa",
    "AL1",
    "me@example.com",
    "a@b.co",
    "07700 900123",
    "+44 (0)7700 900123",
    "0300 123 4040",
    "12/03/2026",
    "1st jan",
    "31st December 2025",
    "today",
    "tomorrow",
    "İ",
    "ǅ",
    "ﬀ",
];

/// Lowercase words split as the normaliser documents: letters and digits only.
fn words_ok(words: &[String]) -> bool {
    words.iter().all(|w| !w.is_empty() && w.chars().all(char::is_alphanumeric) && *w == w.to_lowercase())
}

/// Place names compared as the gazetteer does: lowercase words, apostrophes dropped.
fn place_words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .replace(['\'', '\u{2019}'], "")
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// The normaliser and entity extraction, on any string. Properties: words are non-empty,
/// lowercase, letters and digits only, one stem each; synonyms are added after the resident's
/// words, never in their place; without synonyms, normalising its own output changes nothing;
/// every entity found is really in the text (postcodes upper case, places from the districts'
/// lists, named by consecutive words of the text).
#[test]
fn normaliser_and_entities() {
    let with_synonyms = Normaliser::new(&SHIPPED.synonyms);
    let plain = Normaliser::new(&BTreeMap::<String, String>::new());
    let gazetteer = Gazetteer::new(&SHIPPED.districts);
    fuzz!("normalise", TEXT_TOKENS, |text: &str| {
        let own = plain.normalise(text);
        assert!(words_ok(&own.words), "{:?}", own.words);
        assert_eq!(own.stems.len(), own.words.len());
        assert_eq!(plain.normalise(&own.text()), own, "normalising is idempotent");
        let full = with_synonyms.normalise(text);
        assert!(words_ok(&full.words), "{:?}", full.words);
        assert_eq!(full.stems.len(), full.words.len());
        assert!(full.words.starts_with(&own.words), "synonyms are added, not substituted");

        let found = entities::extract(text, &gazetteer);
        if let Some(postcode) = &found.postcode {
            assert_eq!(*postcode, postcode.to_uppercase());
            let compact: String = postcode.chars().filter(|c| !c.is_whitespace()).collect();
            let text_compact: String = text.to_uppercase().chars().filter(|c| !c.is_whitespace()).collect();
            assert!(text_compact.contains(&compact), "{postcode} in {text:?}");
        }
        for part in [&found.email, &found.phone, &found.date].into_iter().flatten() {
            assert!(text.contains(part.as_str()), "{part:?} in {text:?}");
        }
        if let Some(email) = &found.email {
            assert!(email.contains('@'));
        }
        if let Some(place) = &found.place {
            let district = SHIPPED.districts.iter().find(|d| d.id == place.district_id);
            assert!(district.is_some(), "{place:?} names a district");
            let name = place_words(&place.name);
            assert!(!name.is_empty());
            assert!(place_words(text).windows(name.len()).any(|w| w == name), "{place:?} in {text:?}");
        }
        let _ = entities::without_personal_data(text);
    });
}

// ---- 3. the redactor ----

const PII_TOKENS: &[&str] = &[
    "07700 900123",
    "07700900123",
    "+44 ",
    "+44 (0)",
    "(01992) ",
    "0044 ",
    "0300 123 4040",
    "0800 111 999",
    "4111 1111 1111 1111",
    "4111-1111-1111-1111",
    "943 476 5919",
    "9434765919",
    "AB123456C",
    "ab 12 34 56 c",
    "me@example.com",
    "x.y+z@mail.example.co.uk",
    "12/03/1985",
    "12th of March 1985",
    "March 12, 1985",
    "born ",
    "DOB: ",
    "date of birth",
    "b. ",
    "12 Acacia Avenue",
    "Flat 2, ",
    " Road",
    " close",
    "sort code ",
    "12-34-56",
    "12345678",
    "acc no ",
    "ref ",
    "NHS ",
    "[phone]",
    "[date of birth]",
    "[NHS number]",
    "[email]",
];

/// Published numbers as the engine collects them: phone numbers in the content's answers,
/// articles, facets and districts.
fn published_numbers(content: &Content) -> Vec<String> {
    let finder = Redactor::default();
    let facet_texts = |facets: &BTreeMap<String, FacetAnswer>| {
        facets
            .values()
            .filter_map(|f| match f {
                FacetAnswer::Text(text) => Some(text.clone()),
                FacetAnswer::Goto { .. } => None,
            })
            .collect::<Vec<_>>()
    };
    content
        .intents
        .iter()
        .flat_map(|i| i.answer.iter().cloned().chain(facet_texts(&i.facets)))
        .chain(
            content
                .articles
                .iter()
                .flat_map(|a| std::iter::once(a.body.clone()).chain(facet_texts(&a.facets))),
        )
        .chain(content.districts.iter().map(|d| d.phone.clone()))
        .flat_map(|text| {
            finder
                .find(&text)
                .into_iter()
                .filter(|f| f.kind == PiiKind::Phone)
                .map(|f| text[f.range].to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

fn check_redactor(redactor: &Redactor, text: &str) {
    let found = redactor.find(text);
    let mut expected = String::new();
    let mut at = 0;
    for f in &found {
        assert!(f.range.start < f.range.end && f.range.end <= text.len(), "{f:?}");
        assert!(at <= f.range.start, "finds are in order and apart: {found:?}");
        assert!(text.is_char_boundary(f.range.start) && text.is_char_boundary(f.range.end), "{f:?}");
        expected.push_str(&text[at..f.range.start]);
        expected.push_str(f.kind.label());
        at = f.range.end;
    }
    expected.push_str(&text[at..]);
    let redacted = redactor.redact(text);
    if expected != text {
        // Another round, as `redact` does until nothing more is found.
        assert_eq!(redacted, redactor.redact(&expected), "redact replaces what find finds");
    } else {
        assert_eq!(redacted, text, "nothing found, nothing changed");
    }
    let again = redactor.find(&redacted);
    assert!(
        again.is_empty(),
        "the redacted text still holds {:?} in {redacted:?}",
        again.iter().map(|f| (f.kind, &redacted[f.range.clone()])).collect::<Vec<_>>()
    );
    let _ = redactor.blank(text);
}

/// The redactor on any string. Properties: finds are in order, apart and on char boundaries;
/// `redact` replaces them by their labels (then again, while the result holds more); the
/// redacted text holds nothing the redactor would still find (so redacting twice changes
/// nothing), with the engine's published numbers and without; any list of published numbers
/// is accepted.
#[test]
fn redactor() {
    let engine = Redactor::new(published_numbers(&SHIPPED));
    let bare = Redactor::default();
    fuzz!("redact", PII_TOKENS, |text: &str| {
        check_redactor(&engine, text);
        check_redactor(&bare, text);
        let _ = Redactor::new(text.split(['\n', ','])).find(text);
    });
}

// ---- 4. the Markdown subset ----

const MARKUP_TOKENS: &[&str] = &[
    "[",
    "](",
    ")",
    "[x](",
    "https://",
    "HTTPS://",
    "http://",
    "tel:",
    "mailto:",
    "javascript:",
    "JaVaScRiPt:",
    "data:text/html,",
    "vbscript:",
    "//",
    "{district_url}",
    "<script>",
    "</script>",
    "<img src=x onerror=alert(1)>",
    "<!--",
    "-->",
    "<https://x.gov.uk>",
    "<javascript:alert>",
    "**",
    "*",
    "_",
    "~~",
    "- ",
    "1. ",
    "# ",
    "> ",
    "```",
    "    ",
    "![",
    "|",
    "---",
    "[1]: ",
    "\\",
    "\n\n",
    "&#106;avascript:",
    " https://x",
];

/// `[text](target)` links found by hand, as the subset defines them (the target has no spaces
/// and no brackets): the reference the pattern is checked against.
fn reference_links(text: &str) -> Vec<(usize, usize)> {
    let mut links = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find('[').map(|i| from + i) {
        let label_end = text[open + 1..].find([']', '\n']).map(|i| open + 1 + i);
        let Some(close) = label_end.filter(|&c| c > open + 1 && text[c..].starts_with("](")) else {
            from = open + 1;
            continue;
        };
        let start = close + 2;
        let end = text[start..].find(|c: char| c == '(' || c == ')' || c.is_whitespace()).map(|i| start + i);
        match end {
            Some(end) if end > start && text[end..].starts_with(')') => {
                links.push((start, end));
                from = end + 1;
            }
            _ => from = open + 1,
        }
    }
    links
}

fn has_safe_scheme(target: &str) -> bool {
    let lower = target.to_lowercase();
    ["https://", "tel:", "mailto:"].iter().any(|s| lower.starts_with(s))
}

fn intent_with(text: &str) -> Intent {
    Intent {
        id: "fuzz".into(),
        title: "Fuzz".into(),
        scope: Scope::County,
        examples: vec!["fuzz".into()],
        answer: Some(text.to_string()),
        links: Vec::new(),
        follow_ups: Vec::new(),
        slot: None,
        ask: None,
        team: None,
        offer_person: false,
        facets: BTreeMap::new(),
        last_reviewed: None,
        source: Location::default(),
    }
}

/// The problems `check` finds in an answer.
fn answer_problems(text: &str) -> Vec<String> {
    let content = Content { intents: vec![intent_with(text)], ..Content::default() };
    content::validate(&content).into_iter().map(|e| e.message).collect()
}

/// The Markdown subset. The server renders no Markdown (the widget draws the subset as DOM
/// nodes, never as HTML); what it promises is that `check` refuses an answer the chat window
/// cannot draw or that links anywhere but https:, tel: or mailto:. Properties: link targets are
/// slices of the text between `](` and `)`, with no space or bracket, the same ones a
/// hand-written scanner finds; `is_safe_link` holds exactly for the three schemes, whatever
/// their case; `check` names every other target and no safe one; whatever comes before it, a
/// `<script>` tag or an `<img onerror>` in an answer never passes `check`; each thing outside
/// the subset is named once.
#[test]
fn markup_subset() {
    fuzz!("markup", MARKUP_TOKENS, |text: &str| {
        let targets: Vec<&str> = markup::link_targets(text).collect();
        let spans: Vec<(usize, usize)> = targets
            .iter()
            .map(|t| {
                let start = t.as_ptr() as usize - text.as_ptr() as usize;
                assert!(start + t.len() <= text.len(), "a target is a slice of the text");
                (start, start + t.len())
            })
            .collect();
        for (&(start, end), target) in spans.iter().zip(&targets) {
            assert!(!target.is_empty());
            assert!(!target.contains(|c: char| c == '(' || c == ')' || c.is_whitespace()), "{target:?}");
            assert!(text[..start].ends_with("](") && text[end..].starts_with(')'), "{target:?}");
            assert_eq!(markup::is_safe_link(target), has_safe_scheme(target), "{target:?}");
            let lower = target.to_ascii_lowercase();
            for bad in ["javascript:", "data:", "vbscript:", "http:", "//"] {
                assert!(!(lower.starts_with(bad) && markup::is_safe_link(target)), "{target:?}");
            }
        }
        assert_eq!(spans, reference_links(text), "the links a scanner finds");

        let problems = answer_problems(text);
        for target in &targets {
            let named = problems.contains(&format!("link `{target}` must be https:, tel: or mailto:"));
            let allowed = *target == "{district_url}" || markup::is_safe_link(target);
            assert_eq!(named, !allowed, "{target:?}: {problems:?}");
        }
        let outside = markup::outside_subset(text);
        for (i, what) in outside.iter().enumerate() {
            assert!(!outside[..i].contains(what), "{what:?} is named once");
            // A blank answer is refused as empty before its Markdown is read.
            let named = problems.contains(&format!("the answer uses {what}"));
            assert!(named || text.trim().is_empty(), "{what:?}: {problems:?}");
        }

        for html in
            ["\n\n<script>alert(1)</script>\n", " <script>alert(1)</script>", " <img src=x onerror=alert(1)>"]
        {
            let answer = format!("{text}{html}");
            let problems = answer_problems(&answer);
            assert!(
                problems.iter().any(|p| p.starts_with("the answer uses ")),
                "{answer:?} passes: {problems:?}"
            );
        }
    });
}

// ---- 5. the event stream's `?after=` ----

const QUERY_TOKENS: &[&str] = &[
    "after=",
    "after",
    "&",
    "=",
    "%",
    "%3D",
    "%26",
    "%61fter",
    "+",
    "-",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999",
    "0",
    "00",
    "%30",
    "token=x",
    ";",
];

/// The query string as `application/x-www-form-urlencoded` pairs, decoded by hand: `&`
/// separates, the first `=` splits, `+` is a space, `%XX` a byte, anything else as it is.
fn reference_pairs(query: &str) -> Vec<(String, String)> {
    fn decode(part: &str) -> String {
        let bytes = part.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() && hex(bytes[i + 1]).is_some() && hex(bytes[i + 2]).is_some() => {
                    out.push((hex(bytes[i + 1]).unwrap_or(0) * 16 + hex(bytes[i + 2]).unwrap_or(0)) as u8);
                    i += 2;
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(key), decode(value))
        })
        .collect()
}

/// What `?after=` should read as: absent is 0; once, its value as a decimal u64; twice, an
/// error.
fn reference_after(query: &str) -> Option<u64> {
    let values: Vec<String> =
        reference_pairs(query).into_iter().filter(|(k, _)| k == "after").map(|(_, v)| v).collect();
    match values.as_slice() {
        [] => Some(0),
        [one] => one.parse::<u64>().ok(),
        _ => None,
    }
}

/// The `after` of a query string, read exactly as the event streams' extractor
/// (`web::Query<After>`) reads it.
fn parse_after(query: &str) -> Option<u64> {
    actix_web::web::Query::<After>::from_query(query).ok().map(|q| q.into_inner().after)
}

/// The event streams' `?after=`. Properties: no panic; the same answer as a hand-written
/// decoder of form pairs; every u64 reads back as itself (also with leading zeros, a `+`,
/// percent-encoded, beside other parameters); past u64::MAX, negative or empty is an error,
/// never a wrapped value.
#[test]
fn event_stream_after() {
    fuzz!("after", QUERY_TOKENS, |query: &str| {
        assert_eq!(parse_after(query), reference_after(query), "{query:?}");
        // The query's bytes as a number, and that number just past u64::MAX.
        let n = query.bytes().fold(0u64, |n, b| n.rotate_left(8) ^ u64::from(b));
        for valid in [n, u64::MAX - n, n >> (n % 64)] {
            assert_eq!(parse_after(&format!("after={valid}")), Some(valid));
            assert_eq!(parse_after(&format!("after=000{valid}")), Some(valid));
            assert_eq!(parse_after(&format!("after=%2B{valid}&x=1")), Some(valid));
            let encoded: String = valid.to_string().bytes().map(|b| format!("%{b:02X}")).collect();
            assert_eq!(parse_after(&format!("token=a%26after%3D1&after={encoded}")), Some(valid));
            assert_eq!(parse_after(&format!("after=-{valid}")), None);
            let over = u128::from(u64::MAX) + 1 + u128::from(valid);
            assert_eq!(parse_after(&format!("after={over}")), None, "{over} is past u64::MAX");
            assert_eq!(parse_after(&format!("after=1{valid:020}")), None);
        }
        assert_eq!(parse_after("after="), None);
    });
}
