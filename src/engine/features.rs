//! Features: sparse TF-IDF over stemmed word n-grams and over character n-grams within words,
//! and a dense block of word meaning (the IDF-weighted mean of the message's word-piece
//! vectors). Each block is L2-normalised on its own, then weighted, so that none dominates.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

use super::normalise::Normalised;
use super::vectors::{self, WordPieceVectors};

/// Which n-grams make the features.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FeatureSettings {
    /// Word n-grams from 1 to this (on stems).
    pub max_word_ngram: usize,
    /// Character n-grams within " word " (padded), from `min_char_ngram` to `max_char_ngram`.
    pub min_char_ngram: usize,
    pub max_char_ngram: usize,
    /// Weight of the character block against the word block.
    pub char_weight: f32,
    /// Weight of the word-meaning block (shipped word-piece vectors); 0 leaves it out.
    pub meaning_weight: f32,
}

impl Default for FeatureSettings {
    fn default() -> Self {
        Self {
            max_word_ngram: 2,
            min_char_ngram: 2,
            max_char_ngram: 5,
            char_weight: 1.0,
            meaning_weight: 3.0,
        }
    }
}

/// A sparse vector: (feature index, value), indices ascending.
pub type SparseVector = Vec<(u32, f32)>;

/// Hashes n-gram strings to 64-bit keys without allocating each n-gram.
#[derive(Clone, Copy, Default)]
struct KeyHasher;

impl KeyHasher {
    fn key(self, block: u8, parts: &[&str]) -> u64 {
        // FNV-1a: fast, stable across runs and platforms (a trained model stays reproducible).
        let mut hasher = Fnv::default();
        hasher.write_u8(block);
        for part in parts {
            hasher.write(part.as_bytes());
            hasher.write_u8(0xff);
        }
        hasher.finish()
    }
}

#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        let mut hash = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        for byte in bytes {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = hash;
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// Identity hasher for keys that are already hashes.
#[derive(Clone, Copy, Default)]
pub struct PreHashed;

impl BuildHasher for PreHashed {
    type Hasher = PreHashedHasher;
    fn build_hasher(&self) -> PreHashedHasher {
        PreHashedHasher(0)
    }
}

#[derive(Default)]
pub struct PreHashedHasher(u64);

impl Hasher for PreHashedHasher {
    fn write(&mut self, _bytes: &[u8]) {
        unreachable!("only u64 keys are hashed")
    }
    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

const WORD_BLOCK: u8 = 1;
const CHAR_BLOCK: u8 = 2;

/// The n-gram keys of one text, with counts, split by block.
fn ngram_counts(settings: &FeatureSettings, text: &Normalised) -> [HashMap<u64, f32, PreHashed>; 2] {
    let hasher = KeyHasher;
    let mut words: HashMap<u64, f32, PreHashed> = HashMap::with_hasher(PreHashed);
    let stems: Vec<&str> = text.stems.iter().map(String::as_str).collect();
    for n in 1..=settings.max_word_ngram {
        for window in stems.windows(n) {
            *words.entry(hasher.key(WORD_BLOCK, window)).or_default() += 1.0;
        }
    }
    let mut chars: HashMap<u64, f32, PreHashed> = HashMap::with_hasher(PreHashed);
    let mut padded = String::new();
    for word in &text.words {
        padded.clear();
        padded.push(' ');
        padded.push_str(word);
        padded.push(' ');
        let bounds: Vec<usize> = padded.char_indices().map(|(i, _)| i).chain([padded.len()]).collect();
        let len = bounds.len() - 1;
        for n in settings.min_char_ngram..=settings.max_char_ngram {
            for start in 0..len.saturating_sub(n - 1) {
                let gram = &padded[bounds[start]..bounds[start + n]];
                *chars.entry(hasher.key(CHAR_BLOCK, &[gram])).or_default() += 1.0;
            }
        }
    }
    [words, chars]
}

/// The vocabulary and IDF weights learned from training texts.
#[derive(Debug, Clone)]
pub struct Vectoriser {
    settings: FeatureSettings,
    index: HashMap<u64, u32, PreHashed>,
    idf: Vec<f32>,
    /// Which block each feature is in: 0 words, 1 characters.
    block: Vec<u8>,
    /// The word-meaning block: the vectors, and the IDF of each word piece in training.
    meaning: Option<(&'static WordPieceVectors, Vec<f32>)>,
}

impl Vectoriser {
    /// Learns the vocabulary: every n-gram seen in training, weighted by smoothed IDF.
    pub fn fit(settings: FeatureSettings, texts: &[Normalised]) -> Self {
        let mut index: HashMap<u64, u32, PreHashed> = HashMap::with_hasher(PreHashed);
        let mut document_frequency: Vec<u32> = Vec::new();
        let mut block = Vec::new();
        for text in texts {
            for (b, counts) in ngram_counts(&settings, text).iter().enumerate() {
                for key in counts.keys() {
                    let next = index.len() as u32;
                    let slot = *index.entry(*key).or_insert(next);
                    if slot as usize == document_frequency.len() {
                        document_frequency.push(0);
                        block.push(b as u8);
                    }
                    document_frequency[slot as usize] += 1;
                }
            }
        }
        let n = texts.len() as f32;
        let smooth_idf = |df: u32| ((1.0 + n) / (1.0 + df as f32)).ln() + 1.0;
        let idf = document_frequency.iter().map(|&df| smooth_idf(df)).collect();
        let meaning = (settings.meaning_weight > 0.0).then(|| {
            let vectors: &'static WordPieceVectors = &vectors::SHIPPED;
            let mut piece_frequency = vec![0u32; vectors.rows()];
            let mut pieces = Vec::new();
            for text in texts {
                pieces.clear();
                text.words.iter().for_each(|w| vectors.pieces(w, &mut pieces));
                pieces.sort_unstable();
                pieces.dedup();
                pieces.iter().for_each(|&p| piece_frequency[p as usize] += 1);
            }
            (vectors, piece_frequency.into_iter().map(smooth_idf).collect())
        });
        Self { settings, index, idf, block, meaning }
    }

    /// The number of features: the n-grams, then the word-meaning dimensions.
    pub fn len(&self) -> usize {
        self.idf.len() + self.meaning.as_ref().map_or(0, |(v, _)| v.dims())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sublinear TF times IDF, each block L2-normalised; unknown n-grams are dropped.
    pub fn transform(&self, text: &Normalised) -> SparseVector {
        let mut vector: SparseVector = Vec::new();
        for (b, counts) in ngram_counts(&self.settings, text).iter().enumerate() {
            let start = vector.len();
            for (key, count) in counts {
                if let Some(&slot) = self.index.get(key) {
                    debug_assert_eq!(self.block[slot as usize] as usize, b);
                    vector.push((slot, (1.0 + count.ln()) * self.idf[slot as usize]));
                }
            }
            let norm = vector[start..].iter().map(|(_, v)| v * v).sum::<f32>().sqrt();
            if norm > 0.0 {
                let weight = if b == 0 { 1.0 } else { self.settings.char_weight };
                for (_, value) in &mut vector[start..] {
                    *value *= weight / norm;
                }
            }
        }
        vector.sort_unstable_by_key(|(slot, _)| *slot);
        if let Some((vectors, piece_idf)) = &self.meaning {
            let mut pieces = Vec::new();
            text.words.iter().for_each(|w| vectors.pieces(w, &mut pieces));
            let mut meaning = vec![0.0f32; vectors.dims()];
            for &piece in &pieces {
                vectors.add_row(&mut meaning, piece, piece_idf[piece as usize]);
            }
            let norm = meaning.iter().map(|v| v * v).sum::<f32>().sqrt();
            if norm > 0.0 {
                let first = self.idf.len() as u32;
                let scale = self.settings.meaning_weight / norm;
                vector.reserve_exact(meaning.len());
                vector.extend(meaning.iter().enumerate().map(|(d, v)| (first + d as u32, v * scale)));
            }
        }
        vector
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::normalise::Normaliser;

    #[test]
    fn blocks_are_unit_length_and_unknown_grams_dropped() {
        let normaliser = Normaliser::new(std::iter::empty());
        let texts: Vec<Normalised> =
            ["report a pothole", "library opening hours"].iter().map(|t| normaliser.normalise(t)).collect();
        let settings = FeatureSettings { meaning_weight: 0.0, ..FeatureSettings::default() };
        let vectoriser = Vectoriser::fit(settings, &texts);
        let vector = vectoriser.transform(&normaliser.normalise("pothole zzzz"));
        let total: f32 = vector.iter().map(|(_, v)| v * v).sum();
        assert!((total - 2.0).abs() < 1e-4, "two unit blocks, got {total}");
        assert!(vectoriser.transform(&normaliser.normalise("qqq")).is_empty());
    }

    #[test]
    fn meaning_block_follows_the_ngrams_and_carries_its_weight() {
        let normaliser = Normaliser::new(std::iter::empty());
        let texts: Vec<Normalised> =
            ["report a pothole", "library opening hours"].iter().map(|t| normaliser.normalise(t)).collect();
        let settings = FeatureSettings::default();
        let vectoriser = Vectoriser::fit(settings, &texts);
        let ngrams = Vectoriser::fit(FeatureSettings { meaning_weight: 0.0, ..settings }, &texts).len();
        assert_eq!(vectoriser.len(), ngrams + vectors::SHIPPED.dims());
        // No n-gram of "borrow" was seen in training, but its meaning is still there.
        let vector = vectoriser.transform(&normaliser.normalise("borrowing"));
        let meaning: Vec<f32> =
            vector.iter().filter(|(slot, _)| *slot as usize >= ngrams).map(|(_, v)| *v).collect();
        assert_eq!(meaning.len(), vectors::SHIPPED.dims());
        let length = meaning.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((length - settings.meaning_weight).abs() < 1e-3, "{length}");
    }
}
