//! Typing slips put right before matching: "recyling", "councl", "blue bagde". A word that is
//! neither in the training phrasings nor a whole word of the encoder's vocabulary is replaced
//! by the training word closest to it (one edit for short words, two for words of eight letters
//! or more), preferring one the slip only drops a letter of, then the commonest. A word of the
//! phrasings that is itself a slip of a real word ("complant", written so the content covers
//! typed messages) is put right like any slip, never offered as a correction. Known words, and
//! regular inflections of them, are never touched,
//! so an out-of-scope question keeps its own words and is still declined. Without a vocabulary
//! of real words (no encoder) only shorthand is spelt out: the content's words alone would
//! "correct" everyday words that are not slips ("lying" to "dying").
//!
//! Text-speak ("r u open", "gr8", "pls") is spelt out first from a fixed list of common UK
//! shorthand, so the fast models and the encoder both read the words meant.
//!
//! The lookup is a symmetric-delete index (as SymSpell does): every training word is stored
//! under each string made by deleting up to two of its letters, so candidates for a slip are
//! found by deleting letters from it too, and only those candidates are measured with the
//! optimal-string-alignment distance (`strsim`). Written here rather than taken from a crate:
//! the spelling crates found are unmaintained or bring their own dictionaries, and what we need
//! is a dictionary of exactly the words the content uses, about 60 lines.
//! Over 400 lines on purpose: a fifth is the shorthand table and a third the tests.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use regex::Regex;

/// Shorter words are left alone: too many real words lie one edit apart.
const SHORTEST: usize = 4;
/// Words this long or longer may be two edits from what was meant.
const TWO_EDITS_FROM: usize = 8;

static WORD: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[A-Za-z0-9]+").expect("word pattern"));

/// Common shorthand in typed messages and what it stands for. Only whole words are read, and a
/// word the training phrasings use as it is keeps its own meaning.
const SHORTHAND: &[(&str, &str)] = &[
    ("u", "you"),
    ("ur", "your"),
    ("yr", "your"),
    ("r", "are"),
    ("n", "and"),
    ("y", "why"),
    ("k", "ok"),
    ("pls", "please"),
    ("plz", "please"),
    ("thx", "thanks"),
    ("ty", "thank you"),
    ("gr8", "great"),
    ("b4", "before"),
    ("2day", "today"),
    ("2moro", "tomorrow"),
    ("tmrw", "tomorrow"),
    ("tmr", "tomorrow"),
    ("2nite", "tonight"),
    ("l8r", "later"),
    ("m8", "mate"),
    ("wot", "what"),
    ("wat", "what"),
    ("wen", "when"),
    ("cos", "because"),
    ("coz", "because"),
    ("cuz", "because"),
    ("bc", "because"),
    ("abt", "about"),
    ("ppl", "people"),
    ("sumthing", "something"),
    ("sum1", "someone"),
    ("some1", "someone"),
    ("any1", "anyone"),
    ("no1", "no one"),
    ("every1", "everyone"),
    ("dunno", "do not know"),
    ("wanna", "want to"),
    ("gonna", "going to"),
    ("gotta", "have to"),
    ("hafta", "have to"),
    ("kinda", "kind of"),
    ("ya", "you"),
    ("yeh", "yes"),
    ("yep", "yes"),
    ("nope", "no"),
    ("tho", "though"),
    ("thru", "through"),
    ("nite", "night"),
    ("msg", "message"),
    ("appt", "appointment"),
    ("govt", "government"),
    ("hv", "have"),
    ("hw", "how"),
    ("wud", "would"),
    ("cud", "could"),
    ("shud", "should"),
    ("wiv", "with"),
    ("nxt", "next"),
    ("cld", "could"),
    ("wld", "would"),
    ("shld", "should"),
    ("bday", "birthday"),
    ("asap", "as soon as possible"),
    ("atm", "at the moment"),
    ("btw", "by the way"),
    ("idk", "I do not know"),
    ("imo", "in my opinion"),
    ("fyi", "for your information"),
    ("ofc", "of course"),
    ("prob", "probably"),
    ("probs", "probably"),
    ("defo", "definitely"),
    ("def", "definitely"),
    ("diff", "different"),
    ("wk", "week"),
    ("yrs", "years"),
    ("mins", "minutes"),
    ("hrs", "hours"),
    ("txt", "text"),
    ("num", "number"),
    ("ph", "phone"),
];

#[derive(Debug, Default)]
pub struct Spelling {
    /// Training words and how often each occurs.
    counts: HashMap<String, u32>,
    /// Other words known to be real (the encoder's whole-word vocabulary).
    known: HashSet<String>,
    /// Each deletion variant -> the training words it came from.
    deletions: HashMap<String, Vec<u32>>,
    words: Vec<String>,
    /// Training words that are themselves slips of a real training word ("complant" in a
    /// phrasing written with typing slips): put right like any slip, never a correction.
    slips: HashSet<String>,
}

impl Spelling {
    /// The dictionary of `texts`' words; `known` are further real words never corrected.
    pub fn new<'a>(
        texts: impl IntoIterator<Item = &'a str>,
        known: impl IntoIterator<Item = String>,
    ) -> Self {
        let mut counts: HashMap<String, u32> = HashMap::new();
        for text in texts {
            for word in WORD.find_iter(text) {
                *counts.entry(word.as_str().to_lowercase()).or_default() += 1;
            }
        }
        let known: HashSet<String> = known.into_iter().collect();
        let mut words: Vec<String> = match known.is_empty() {
            true => Vec::new(),
            false => counts.keys().filter(|w| w.len() >= SHORTEST - 1).cloned().collect(),
        };
        words.sort();
        let mut deletions: HashMap<String, Vec<u32>> = HashMap::new();
        for (index, word) in words.iter().enumerate() {
            for variant in deletions_of(word, edits_allowed(word.len() + 1)) {
                deletions.entry(variant).or_default().push(index as u32);
            }
        }
        let mut spelling = Self { counts, known, deletions, words, slips: HashSet::new() };
        spelling.slips = spelling
            .words
            .iter()
            .filter(|word| spelling.counts[word.as_str()] <= 2 && !spelling.is_real(word))
            .filter(|word| {
                spelling
                    .closest(word, |candidate, count| {
                        count >= spelling.counts[word.as_str()]
                            && spelling.is_real(candidate)
                            && slipped_from(word, candidate)
                    })
                    .is_some()
            })
            .cloned()
            .collect();
        spelling
    }

    /// Adds words known to be real (place names the phrasings never use), never corrected.
    pub fn know(&mut self, texts: impl IntoIterator<Item = impl AsRef<str>>) {
        for text in texts {
            self.known.extend(WORD.find_iter(text.as_ref()).map(|w| w.as_str().to_lowercase()));
        }
    }

    /// `text` with each unknown word of [`SHORTEST`] letters or more replaced by its closest
    /// training word, when one lies within reach; borrowed when nothing changed.
    pub fn correct<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let mut corrected = String::new();
        let mut copied = 0;
        for found in WORD.find_iter(text) {
            let word = found.as_str().to_lowercase();
            if let Some(replacement) = self.replacement(&word) {
                corrected.push_str(&text[copied..found.start()]);
                corrected.push_str(replacement);
                copied = found.end();
            }
        }
        if copied == 0 {
            return Cow::Borrowed(text);
        }
        corrected.push_str(&text[copied..]);
        Cow::Owned(corrected)
    }

    /// A real word: a training word, a known word, or a regular inflection of one ("enforces",
    /// "trimming", "babies"): the encoder's vocabulary holds few inflected forms, and putting
    /// one right would change a real word into another ("enforces" into "forces").
    fn is_known(&self, word: &str) -> bool {
        let real = |stem: &str| {
            stem.len() >= 3
                && (self.known.contains(stem)
                    || (self.counts.contains_key(stem) && !self.slips.contains(stem)))
        };
        self.known.contains(word) || stems(word).any(|stem| real(&stem))
    }

    /// A known real word (not merely a training word) or a regular inflection of one.
    fn is_real(&self, word: &str) -> bool {
        self.known.contains(word) || stems(word).any(|stem| stem.len() >= 3 && self.known.contains(&stem))
    }

    fn replacement(&self, word: &str) -> Option<&str> {
        if self.counts.contains_key(word) && !self.slips.contains(word) {
            return None;
        }
        if let Some((_, meant)) = SHORTHAND.iter().find(|(short, _)| *short == word) {
            return Some(meant);
        }
        if word.len() < SHORTEST
            || self.words.is_empty()
            || self.is_known(word)
            || word.bytes().any(|b| b.is_ascii_digit())
        {
            return None;
        }
        self.closest(word, |candidate, _| !self.slips.contains(candidate))
    }

    /// The training word closest to `word` among those `allowed` takes (with their counts):
    /// fewest edits, then one that `word` misses a letter of ("flod" is "flood" more likely
    /// than "food": dropped letters are the commonest slip), then the commonest.
    fn closest(&self, word: &str, allowed: impl Fn(&str, u32) -> bool) -> Option<&str> {
        let edits = edits_allowed(word.len());
        // Compared in order: edits, not a dropped letter, rarer, then alphabetically.
        let mut best: Option<(usize, bool, std::cmp::Reverse<u32>, &str)> = None;
        let mut seen = HashSet::new();
        for variant in deletions_of(word, edits) {
            for &index in self.deletions.get(&variant).into_iter().flatten() {
                if !seen.insert(index) {
                    continue;
                }
                let candidate = self.words[index as usize].as_str();
                let distance = strsim::osa_distance(word, candidate);
                let count = self.counts[candidate];
                if distance == 0 || distance > edits || !allowed(candidate, count) {
                    continue;
                }
                let key = (distance, !is_subsequence(word, candidate), std::cmp::Reverse(count), candidate);
                if best.is_none_or(|best| key < best) {
                    best = Some(key);
                }
            }
        }
        best.map(|(.., word)| word)
    }
}

/// Whether `typed` is `meant` with letters dropped, added or swapped: the slips that make a
/// word of the phrasings a misspelling. A changed letter is not one of them: "stile" is not
/// "still" mistyped, and many real words lie one changed letter apart.
fn slipped_from(typed: &str, meant: &str) -> bool {
    let letters = |word: &str| {
        let mut letters: Vec<char> = word.chars().collect();
        letters.sort_unstable();
        letters
    };
    is_subsequence(typed, meant) || is_subsequence(meant, typed) || letters(typed) == letters(meant)
}

/// Whether `short`'s letters all appear in `long`, in order.
fn is_subsequence(short: &str, long: &str) -> bool {
    let mut letters = long.chars();
    short.chars().all(|c| letters.any(|l| l == c))
}

/// The words `word` may be a regular English inflection of: "enforces" -> "enforce",
/// "boxes" -> "box", "babies" -> "baby", "stopped" -> "stop", "making" -> "make",
/// "quickly" -> "quick". Only whole suffixes: "collectd" is no inflection of "collect".
fn stems(word: &str) -> impl Iterator<Item = String> + '_ {
    let undoubled = |stem: &str| {
        let bytes = stem.as_bytes();
        (bytes.len() >= 2 && bytes[bytes.len() - 1] == bytes[bytes.len() - 2])
            .then(|| stem[..stem.len() - 1].to_string())
    };
    let mut found = Vec::new();
    for suffix in ["s", "es", "ed", "ing", "ly", "er", "ers", "est"] {
        if let Some(stem) = word.strip_suffix(suffix) {
            found.push(stem.to_string());
            if matches!(suffix, "ed" | "ing" | "er" | "ers" | "est") {
                // A dropped "e" ("make" -> "making") or a doubled consonant ("stop" -> "stopped").
                found.push(format!("{stem}e"));
                found.extend(undoubled(stem));
            }
        }
    }
    for (suffix, ending) in [("ies", "y"), ("ied", "y"), ("ier", "y"), ("iest", "y"), ("ily", "y")] {
        if let Some(stem) = word.strip_suffix(suffix) {
            found.push(format!("{stem}{ending}"));
        }
    }
    found.into_iter()
}

fn edits_allowed(length: usize) -> usize {
    if length >= TWO_EDITS_FROM { 2 } else { 1 }
}

/// `word` itself and every string made by deleting up to `edits` of its letters.
fn deletions_of(word: &str, edits: usize) -> HashSet<String> {
    let mut all = HashSet::from([word.to_string()]);
    let mut frontier = vec![word.to_string()];
    for _ in 0..edits {
        let mut next = Vec::new();
        for text in &frontier {
            for (at, letter) in text.char_indices() {
                let mut shorter = text.clone();
                shorter.replace_range(at..at + letter.len_utf8(), "");
                if all.insert(shorter.clone()) {
                    next.push(shorter);
                }
            }
        }
        frontier = next;
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spelling() -> Spelling {
        Spelling::new(
            [
                "When is my recycling collected?",
                "Apply for a blue badge",
                "Council tax bands",
                "recycling centre",
            ],
            ["weather".to_string()],
        )
    }

    #[test]
    fn slips_become_the_training_word() {
        let spelling = spelling();
        assert_eq!(spelling.correct("when is my recyling collectd"), "when is my recycling collected");
        assert_eq!(spelling.correct("a bleu bagde please"), "a blue badge please");
        assert_eq!(spelling.correct("Councl Tax"), "council Tax");
        // Two edits in a long word.
        assert_eq!(spelling.correct("recylcing"), "recycling");
    }

    #[test]
    fn known_words_and_short_words_are_left_alone() {
        let spelling = spelling();
        assert!(matches!(spelling.correct("what is the weather"), Cow::Borrowed(_)));
        assert!(matches!(spelling.correct("tex"), Cow::Borrowed(_)));
        assert!(matches!(spelling.correct("nothing like any word"), Cow::Borrowed(_)));
    }

    #[test]
    fn inflections_of_real_words_are_real_words() {
        let spelling = Spelling::new(
            ["forces the door", "where do i report it", "trimmed hedge", "baby", "stopping"],
            ["enforce", "trim", "baby", "stop", "make", "quick", "box"].map(String::from),
        );
        for word in [
            "enforces",
            "enforced",
            "enforcing",
            "trimming",
            "babies",
            "stopped",
            "making",
            "quickly",
            "boxes",
        ] {
            assert!(matches!(spelling.correct(word), Cow::Borrowed(_)), "{word} was put right");
        }
        // A slip that only looks like a suffix is still put right.
        assert_eq!(spelling.correct("reportd"), "report");
        assert_eq!(spelling.correct("forcs"), "forces");
    }

    #[test]
    fn a_dropped_letter_is_the_likelier_slip() {
        let spelling = Spelling::new(
            ["food bank", "food parcels", "flood risk"],
            ["food", "flood", "risk"].map(String::from),
        );
        // "food" is commoner and as near, but "flod" lacks a letter of "flood".
        assert_eq!(spelling.correct("flod"), "flood");
        assert_eq!(spelling.correct("fodo"), "food");
    }

    #[test]
    fn slips_written_in_the_phrasings_are_put_right_too() {
        let spelling = Spelling::new(
            ["make a complaint", "complaint form", "complant about staff", "a stile", "still open"],
            ["make", "complaint", "form", "about", "staff", "still", "open"].map(String::from),
        );
        assert_eq!(spelling.correct("my complant"), "my complaint");
        assert_eq!(spelling.correct("complaints"), "complaints");
        // One changed letter makes another word, not a slip: "stile" stays.
        assert!(matches!(spelling.correct("a stile"), Cow::Borrowed(_)));
        // A word of the phrasings with no real word in reach stays a word of its own.
        let names = Spelling::new(["borrowbox app", "borrowbox"], ["app".to_string()]);
        assert!(matches!(names.correct("borrowbox"), Cow::Borrowed(_)));
    }

    #[test]
    fn names_made_known_are_never_put_right() {
        let mut spelling = spelling();
        assert_eq!(spelling.correct("bins in Recyling"), "bins in recycling");
        spelling.know(["Great Recyling Green"]);
        assert!(matches!(spelling.correct("bins in Recyling"), Cow::Borrowed(_)));
    }

    #[test]
    fn without_real_words_to_compare_only_shorthand_is_spelt_out() {
        let spelling = Spelling::new(["is the tip open"], []);
        assert_eq!(spelling.correct("r u open 2day, the tpi"), "are you open today, the tpi");
    }

    #[test]
    fn shorthand_is_spelt_out_unless_the_content_uses_it() {
        let spelling = Spelling::new(["u turn on the ring road"], ["road".to_string()]);
        assert_eq!(spelling.correct("is it ok 2 do a u turn thx"), "is it ok 2 do a u turn thanks");
    }
}
