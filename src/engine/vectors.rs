//! Static word-piece vectors: what the matcher knows of word meaning beyond its training
//! phrases. Each piece of a sentence encoder's vocabulary has one 256-dimension vector,
//! distilled once from the encoder by `scripts/distil-vectors.py` and shipped in
//! `vectors/wordpiece-256.bin`. A message's vector is the IDF-weighted mean of its pieces'
//! vectors, so "cash" and "money" land near each other although no phrase links them, at the
//! cost of a table look-up per piece rather than a transformer per message.
//!
//! The word-piece split is BERT's (lowercase, accents stripped, greedy longest match with
//! "##" continuations), written here because it is twenty lines over words the normaliser has
//! already split, where the tokenizer crates bring a large dependency tree.

use std::collections::HashMap;
use std::sync::LazyLock;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// The shipped table, parsed once on first use.
pub static SHIPPED: LazyLock<WordPieceVectors> = LazyLock::new(|| {
    WordPieceVectors::parse(include_bytes!("../../vectors/wordpiece-256.bin"))
        .expect("the shipped word-piece vectors are well formed (a unit test checks)")
});

/// Longer words are one unknown piece, as in BERT.
const MAX_WORD_CHARS: usize = 100;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum VectorsError {
    #[error("not a word-piece vector file (bad magic)")]
    Magic,
    #[error("the file is shorter than its header says")]
    Truncated,
    #[error("the file lists {listed} pieces for {rows} rows")]
    PieceCount { listed: usize, rows: usize },
    #[error("the piece list is not UTF-8")]
    Encoding,
}

pub struct WordPieceVectors {
    dims: usize,
    scales: Vec<f32>,
    /// Row-major int8 values; row r is `values[r * dims..(r + 1) * dims]`, times `scales[r]`.
    values: &'static [u8],
    index: HashMap<&'static str, u32>,
}

impl std::fmt::Debug for WordPieceVectors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WordPieceVectors({} pieces x {} dims)", self.scales.len(), self.dims)
    }
}

impl WordPieceVectors {
    /// Reads the layout `scripts/distil-vectors.py` writes, borrowing the values in place.
    pub fn parse(bytes: &'static [u8]) -> Result<Self, VectorsError> {
        let rest = bytes.strip_prefix(b"HAV1").ok_or(VectorsError::Magic)?;
        let word = |at: usize| -> Result<usize, VectorsError> {
            let b = rest.get(at..at + 4).ok_or(VectorsError::Truncated)?;
            Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        };
        let (rows, dims) = (word(0)?, word(4)?);
        let scales_end = 8 + rows * 4;
        let values_end = scales_end + rows * dims;
        let scales = rest
            .get(8..scales_end)
            .ok_or(VectorsError::Truncated)?
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let values = rest.get(scales_end..values_end).ok_or(VectorsError::Truncated)?;
        let pieces = std::str::from_utf8(&rest[values_end..]).map_err(|_| VectorsError::Encoding)?;
        let index: HashMap<&'static str, u32> =
            pieces.split('\n').enumerate().map(|(row, piece)| (piece, row as u32)).collect();
        if index.len() != rows {
            return Err(VectorsError::PieceCount { listed: index.len(), rows });
        }
        Ok(Self { dims, scales, values, index })
    }

    pub fn dims(&self) -> usize {
        self.dims
    }

    pub fn rows(&self) -> usize {
        self.scales.len()
    }

    /// The rows of `word`'s pieces, appended to `pieces`; nothing if any part is unknown.
    pub fn pieces(&self, word: &str, pieces: &mut Vec<u32>) {
        let word: String =
            word.nfd().filter(|c| !is_combining_mark(*c)).flat_map(char::to_lowercase).collect();
        if word.chars().count() > MAX_WORD_CHARS {
            return;
        }
        let start_len = pieces.len();
        let mut start = 0;
        let mut candidate = String::new();
        while start < word.len() {
            let mut end = word.len();
            let found = loop {
                candidate.clear();
                if start > 0 {
                    candidate.push_str("##");
                }
                candidate.push_str(&word[start..end]);
                if let Some(&row) = self.index.get(candidate.as_str()) {
                    break Some(row);
                }
                match word[start..end].char_indices().next_back() {
                    Some((last, _)) if last > 0 => end = start + last,
                    _ => break None,
                }
            };
            let Some(row) = found else {
                pieces.truncate(start_len);
                return;
            };
            pieces.push(row);
            start = end;
        }
    }

    /// `target += weight * vector(row)`.
    pub fn add_row(&self, target: &mut [f32], row: u32, weight: f32) {
        let row = row as usize;
        let scale = weight * self.scales[row];
        for (t, v) in target.iter_mut().zip(&self.values[row * self.dims..(row + 1) * self.dims]) {
            *t += scale * f32::from(*v as i8);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(word: &str) -> Vec<&'static str> {
        let mut rows = Vec::new();
        SHIPPED.pieces(word, &mut rows);
        let names: HashMap<u32, &'static str> = SHIPPED.index.iter().map(|(p, r)| (*r, *p)).collect();
        rows.iter().map(|r| names[r]).collect()
    }

    #[test]
    fn shipped_table_parses() {
        assert_eq!(SHIPPED.dims(), 256);
        assert!(SHIPPED.rows() > 25_000, "{:?}", *SHIPPED);
    }

    #[test]
    fn splits_words_as_bert_does() {
        // Expected splits are the reference tokenizer's (all-MiniLM-L6-v2's tokenizer.json).
        assert_eq!(pieces("council"), ["council"]);
        assert_eq!(pieces("potholes"), ["pot", "##holes"]);
        assert_eq!(pieces("letchworth"), ["let", "##ch", "##worth"]);
        assert_eq!(pieces("hertfordshire"), ["hertfordshire"]);
        assert_eq!(pieces("Café"), ["cafe"]);
        assert_eq!(pieces("stevenage"), ["steven", "##age"]);
        assert!(pieces("東京").is_empty(), "pieces outside the shipped table are skipped");
    }

    fn cosine(a: &str, b: &str) -> f32 {
        let vector = |w: &str| {
            let mut rows = Vec::new();
            SHIPPED.pieces(w, &mut rows);
            let mut v = vec![0.0; SHIPPED.dims()];
            for r in rows {
                SHIPPED.add_row(&mut v, r, 1.0);
            }
            v
        };
        let (x, y) = (vector(a), vector(b));
        let dot: f32 = x.iter().zip(&y).map(|(p, q)| p * q).sum();
        let norm = |v: &[f32]| v.iter().map(|p| p * p).sum::<f32>().sqrt();
        dot / (norm(&x) * norm(&y))
    }

    #[test]
    fn related_words_are_nearer_than_unrelated_ones() {
        assert!(cosine("cash", "money") > cosine("cash", "library"));
        assert!(cosine("bin", "rubbish") > cosine("bin", "school"));
    }

    #[test]
    fn bad_files_are_refused() {
        assert_eq!(WordPieceVectors::parse(b"nope").unwrap_err(), VectorsError::Magic);
        assert_eq!(
            WordPieceVectors::parse(b"HAV1\x02\0\0\0\x04\0\0\0").unwrap_err(),
            VectorsError::Truncated
        );
    }
}
