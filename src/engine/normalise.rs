//! Text normalisation shared by training and matching, so both see the same words: Unicode
//! folding, case, contractions, UK spelling, editors' synonyms and stemming.

use std::collections::HashMap;

use rust_stemmers::{Algorithm, Stemmer};
use unicode_normalization::UnicodeNormalization;

/// A message reduced to the words the matcher compares.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Normalised {
    /// Lowercase words after contractions, spelling and synonyms (synonyms are added, not
    /// substituted, so the resident's own word still counts).
    pub words: Vec<String>,
    /// The same words, stemmed.
    pub stems: Vec<String>,
}

impl Normalised {
    pub fn text(&self) -> String {
        self.words.join(" ")
    }
}

/// US spellings residents type, mapped to the UK spelling the content uses.
const UK_SPELLINGS: &[(&str, &str)] = &[
    ("color", "colour"),
    ("center", "centre"),
    ("centers", "centres"),
    ("license", "licence"),
    ("organize", "organise"),
    ("organization", "organisation"),
    ("neighbor", "neighbour"),
    ("neighbors", "neighbours"),
    ("neighborhood", "neighbourhood"),
    ("favor", "favour"),
    ("honor", "honour"),
    ("labor", "labour"),
    ("theater", "theatre"),
    ("program", "programme"),
    ("enrollment", "enrolment"),
    ("enroll", "enrol"),
    ("curb", "kerb"),
    ("tire", "tyre"),
    ("tires", "tyres"),
    ("gray", "grey"),
    ("aluminum", "aluminium"),
    ("apologize", "apologise"),
    ("recognize", "recognise"),
    ("realize", "realise"),
    ("catalog", "catalogue"),
    ("defense", "defence"),
    ("offense", "offence"),
    ("pediatric", "paediatric"),
    ("trash", "rubbish"),
    ("garbage", "rubbish"),
    ("cellphone", "mobile"),
    ("zip", "postcode"),
];

/// Contractions, checked before punctuation is removed.
const CONTRACTIONS: &[(&str, &str)] = &[
    ("can't", "can not"),
    ("won't", "will not"),
    ("shan't", "shall not"),
    ("n't", " not"),
    ("'re", " are"),
    ("'m", " am"),
    ("'ve", " have"),
    ("'ll", " will"),
    ("'d", " would"),
    ("'s", ""),
];

/// A synonym phrase and what it means, both as words.
type SynonymEntry = (Vec<String>, Vec<String>);

pub struct Normaliser {
    stemmer: Stemmer,
    spellings: HashMap<&'static str, &'static str>,
    /// First word of a synonym phrase -> (the phrase's words, the meaning's words).
    synonyms: HashMap<String, Vec<SynonymEntry>>,
    /// First word of a place name -> the names' words, longest first.
    places: HashMap<String, Vec<Vec<String>>>,
}

impl std::fmt::Debug for Normaliser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Normaliser").field("synonyms", &self.synonyms.len()).finish()
    }
}

impl Normaliser {
    pub fn new<'a>(synonyms: impl IntoIterator<Item = (&'a String, &'a String)>) -> Self {
        let mut table: HashMap<String, Vec<SynonymEntry>> = HashMap::new();
        for (phrase, meaning) in synonyms {
            let phrase_words = split_words(&fold(phrase));
            let meaning_words = split_words(&fold(meaning));
            if let Some(first) = phrase_words.first() {
                table.entry(first.clone()).or_default().push((phrase_words, meaning_words));
            }
        }
        // Longest phrase first, so "household waste site" wins over "household".
        for entries in table.values_mut() {
            entries.sort_by_key(|(phrase, _)| std::cmp::Reverse(phrase.len()));
        }
        Self {
            stemmer: Stemmer::create(Algorithm::English),
            spellings: UK_SPELLINGS.iter().copied().collect(),
            synonyms: table,
            places: HashMap::new(),
        }
    }

    /// Place names to leave out of the words: which town a resident lives in says nothing about
    /// what they want (every topic's phrasings name towns), and the town is read separately
    /// by the dialogue. Left in, a town's words pull a message towards whichever topics'
    /// phrasings happened to name it.
    pub fn without_places<S: AsRef<str>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        for name in names {
            let words = split_words(&fold(name.as_ref()));
            if let Some(first) = words.first().cloned() {
                let entries = self.places.entry(first).or_default();
                if !entries.contains(&words) {
                    entries.push(words);
                }
            }
        }
        for entries in self.places.values_mut() {
            entries.sort_by_key(|words| std::cmp::Reverse(words.len()));
        }
        self
    }

    pub fn normalise(&self, text: &str) -> Normalised {
        let folded = fold(text);
        let words: Vec<String> = split_words(&folded)
            .into_iter()
            .flat_map(expand_cannot)
            .map(|w| self.spellings.get(w.as_str()).map_or(w, |uk| (*uk).to_string()))
            .collect();
        let words = self.drop_places(words);
        let words = self.add_synonyms(words);
        let stems = words.iter().map(|w| self.stemmer.stem(w).into_owned()).collect();
        Normalised { words, stems }
    }

    fn drop_places(&self, words: Vec<String>) -> Vec<String> {
        if self.places.is_empty() {
            return words;
        }
        let mut kept = Vec::with_capacity(words.len());
        let mut at = 0;
        while at < words.len() {
            let place = self
                .places
                .get(&words[at])
                .and_then(|names| names.iter().find(|name| words[at..].starts_with(name)));
            match place {
                Some(name) => at += name.len(),
                None => {
                    kept.push(words[at].clone());
                    at += 1;
                }
            }
        }
        kept
    }

    fn add_synonyms(&self, words: Vec<String>) -> Vec<String> {
        if self.synonyms.is_empty() {
            return words;
        }
        let mut added = Vec::new();
        for start in 0..words.len() {
            let Some(candidates) = self.synonyms.get(&words[start]) else {
                continue;
            };
            if let Some((_, meaning)) =
                candidates.iter().find(|(phrase, _)| words[start..].starts_with(phrase))
            {
                added.extend(meaning.iter().cloned());
            }
        }
        let mut words = words;
        words.extend(added);
        words
    }
}

/// Unicode compatibility folding, lowercase, typographic apostrophes, contractions.
fn fold(text: &str) -> String {
    let mut folded: String = text.nfkc().flat_map(char::to_lowercase).collect();
    folded = folded.replace(['\u{2019}', '\u{2018}', '`'], "'");
    for (from, to) in CONTRACTIONS {
        if folded.contains(from) {
            folded = folded.replace(from, to);
        }
    }
    folded
}

/// "cannot" is two words. Done on whole words after splitting, not on the text, so "cannot"
/// inside a longer word stays whole and normalising twice gives what normalising once did.
fn expand_cannot(word: String) -> Vec<String> {
    if word == "cannot" { vec!["can".to_string(), "not".to_string()] } else { vec![word] }
}

/// Letters and digits make words; everything else separates them.
fn split_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normaliser() -> Normaliser {
        let synonyms: Vec<(String, String)> = vec![
            ("tip".into(), "recycling centre".into()),
            ("household waste site".into(), "recycling centre".into()),
        ];
        Normaliser::new(synonyms.iter().map(|(a, b)| (a, b)))
    }

    #[test]
    fn case_punctuation_and_contractions() {
        let n = normaliser().normalise("I CAN'T find the Library’s hours!!");
        assert_eq!(n.text(), "i can not find the library hours");
    }

    #[test]
    fn cannot_is_split_only_as_a_whole_word() {
        let n = normaliser();
        assert_eq!(n.normalise("I cannot log in").text(), "i can not log in");
        let inside = n.normalise("pcannott welwyn0cannot");
        assert_eq!(inside.text(), "pcannott welwyn0cannot");
        assert_eq!(n.normalise(&inside.text()), inside, "normalising twice changes nothing");
    }

    #[test]
    fn us_spelling_becomes_uk() {
        assert_eq!(normaliser().normalise("recycling center").text(), "recycling centre");
    }

    #[test]
    fn synonyms_are_added_longest_first() {
        assert_eq!(normaliser().normalise("is the tip open").text(), "is the tip open recycling centre");
        assert_eq!(
            normaliser().normalise("household waste site").text(),
            "household waste site recycling centre"
        );
    }

    #[test]
    fn place_names_are_left_out_as_whole_names() {
        let n = normaliser().without_places(["Welwyn Garden City", "Welwyn", "Bishop's Stortford", "Ware"]);
        assert_eq!(
            n.normalise("is the tip in Welwyn Garden City open").text(),
            "is the tip in open recycling centre"
        );
        assert_eq!(
            n.normalise("garden waste in Welwyn").text(),
            "garden waste in",
            "only the whole name goes"
        );
        assert_eq!(n.normalise("Bishop’s Stortford library").text(), "library");
        assert_eq!(n.normalise("what software do you use").text(), "what software do you use");
        assert_eq!(n.normalise("Watford library").text(), "watford library", "only the places given");
    }

    #[test]
    fn stems_fold_word_forms() {
        let n = normaliser().normalise("collections collected");
        assert_eq!(n.stems[0], n.stems[1]);
    }

    #[test]
    fn unicode_is_folded() {
        assert_eq!(normaliser().normalise("ＨＥＬＬＯ café").text(), "hello café");
    }
}
