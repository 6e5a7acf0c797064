//! Typing slips put right before matching: "recyling", "councl", "blue bagde". A word that is
//! neither in the training phrasings nor a whole word of the encoder's vocabulary is replaced
//! by the training word closest to it (one edit for short words, two for words of eight letters
//! or more), the commonest such word when several are as close. Known words are never touched,
//! so an out-of-scope question keeps its own words and is still declined.
//!
//! The lookup is a symmetric-delete index (as SymSpell does): every training word is stored
//! under each string made by deleting up to two of its letters, so candidates for a slip are
//! found by deleting letters from it too, and only those candidates are measured with the
//! optimal-string-alignment distance (`strsim`). Written here rather than taken from a crate:
//! the spelling crates found are unmaintained or bring their own dictionaries, and what we need
//! is a dictionary of exactly the words the content uses, about 60 lines.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use regex::Regex;

/// Shorter words are left alone: too many real words lie one edit apart.
const SHORTEST: usize = 4;
/// Words this long or longer may be two edits from what was meant.
const TWO_EDITS_FROM: usize = 8;

static WORD: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[A-Za-z]+").expect("word pattern"));

#[derive(Debug, Default)]
pub struct Spelling {
    /// Training words and how often each occurs.
    counts: HashMap<String, u32>,
    /// Other words known to be real (the encoder's whole-word vocabulary).
    known: HashSet<String>,
    /// Each deletion variant -> the training words it came from.
    deletions: HashMap<String, Vec<u32>>,
    words: Vec<String>,
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
        let mut words: Vec<String> = counts.keys().filter(|w| w.len() >= SHORTEST - 1).cloned().collect();
        words.sort();
        let mut deletions: HashMap<String, Vec<u32>> = HashMap::new();
        for (index, word) in words.iter().enumerate() {
            for variant in deletions_of(word, edits_allowed(word.len() + 1)) {
                deletions.entry(variant).or_default().push(index as u32);
            }
        }
        Self { counts, known: known.into_iter().collect(), deletions, words }
    }

    /// `text` with each unknown word of [`SHORTEST`] letters or more replaced by its closest
    /// training word, when one lies within reach; borrowed when nothing changed.
    pub fn correct<'t>(&self, text: &'t str) -> Cow<'t, str> {
        if self.words.is_empty() {
            return Cow::Borrowed(text);
        }
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

    fn replacement(&self, word: &str) -> Option<&str> {
        if word.len() < SHORTEST || self.counts.contains_key(word) || self.known.contains(word) {
            return None;
        }
        let allowed = edits_allowed(word.len());
        let mut best: Option<(usize, u32, &str)> = None;
        let mut seen = HashSet::new();
        for variant in deletions_of(word, allowed) {
            for &index in self.deletions.get(&variant).into_iter().flatten() {
                if !seen.insert(index) {
                    continue;
                }
                let candidate = self.words[index as usize].as_str();
                let distance = strsim::osa_distance(word, candidate);
                if distance == 0 || distance > allowed {
                    continue;
                }
                let count = self.counts[candidate];
                let better = best.is_none_or(|(d, c, w)| {
                    (distance, std::cmp::Reverse(count), candidate) < (d, std::cmp::Reverse(c), w)
                });
                if better {
                    best = Some((distance, count, candidate));
                }
            }
        }
        best.map(|(_, _, word)| word)
    }
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
    fn an_empty_dictionary_changes_nothing() {
        let spelling = Spelling::new([], []);
        assert_eq!(spelling.correct("recyling"), "recyling");
    }
}
