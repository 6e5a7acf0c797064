//! `eval --typos SEED`: the test set again as a hurried resident types it. About one word in
//! five (at least one a line) gets one slip of the kinds people make: a letter dropped, two
//! letters swapped, a neighbouring key hit instead or as well, a letter doubled. The first
//! letter is kept, as it mostly is. The same seed gives the same slips, so runs compare.

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

use super::LabelledLine;

/// Share of the words long enough to slip on that get a slip.
const SLIP_SHARE: f64 = 0.2;

/// Lines with slips; the expected answer and style stay, the style gains "+typos".
pub fn with_typos(lines: &[LabelledLine], seed: u64) -> Vec<LabelledLine> {
    let mut rng = StdRng::seed_from_u64(seed);
    lines
        .iter()
        .map(|line| LabelledLine {
            text: slip(&line.text, &mut rng),
            expected: line.expected.clone(),
            style: Some(format!("{}+typos", line.style.as_deref().unwrap_or("plain"))),
        })
        .collect()
}

fn slip(text: &str, rng: &mut StdRng) -> String {
    let mut words: Vec<String> = text.split(' ').map(str::to_string).collect();
    let slippable: Vec<usize> = (0..words.len())
        .filter(|&i| words[i].chars().filter(char::is_ascii_alphabetic).count() >= 4)
        .collect();
    let count = ((slippable.len() as f64 * SLIP_SHARE).round() as usize).max(1).min(slippable.len());
    for &i in slippable.choose_multiple(rng, count) {
        words[i] = slip_word(&words[i], rng);
    }
    words.join(" ")
}

fn slip_word(word: &str, rng: &mut StdRng) -> String {
    let mut letters: Vec<char> = word.chars().collect();
    // Letters after the first, and not punctuation around the word.
    let inner: Vec<usize> = (1..letters.len()).filter(|&i| letters[i].is_ascii_alphabetic()).collect();
    let Some(&at) = inner.choose(rng) else {
        return word.to_string();
    };
    match rng.random_range(0..5) {
        0 => {
            letters.remove(at);
        }
        1 if at + 1 < letters.len() && letters[at + 1].is_ascii_alphabetic() => letters.swap(at, at + 1),
        2 => letters[at] = neighbour(letters[at], rng),
        3 => letters.insert(at, neighbour(letters[at], rng)),
        _ => letters.insert(at, letters[at]),
    }
    letters.into_iter().collect()
}

/// A key next to `letter` on a UK QWERTY keyboard, in the same case.
fn neighbour(letter: char, rng: &mut StdRng) -> char {
    const ROWS: [&str; 3] = ["qwertyuiop", "asdfghjkl", "zxcvbnm"];
    let lower = letter.to_ascii_lowercase();
    let mut near = Vec::new();
    for (r, row) in ROWS.iter().enumerate() {
        if let Some(c) = row.find(lower) {
            let row = row.as_bytes();
            near.extend(c.checked_sub(1).map(|c| row[c] as char));
            near.extend(row.get(c + 1).map(|&b| b as char));
            for other in [r.wrapping_sub(1), r + 1] {
                near.extend(ROWS.get(other).and_then(|o| o.as_bytes().get(c)).map(|&b| b as char));
            }
        }
    }
    let chosen = near.choose(rng).copied().unwrap_or(lower);
    if letter.is_ascii_uppercase() { chosen.to_ascii_uppercase() } else { chosen }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str) -> LabelledLine {
        LabelledLine { text: text.into(), expected: "x".into(), style: None }
    }

    #[test]
    fn every_line_gets_a_slip_and_the_same_seed_the_same_ones() {
        let lines = vec![line("When is my recycling collected?"), line("How do I apply for a blue badge")];
        let first = with_typos(&lines, 1);
        assert_eq!(first.len(), 2);
        for (slipped, original) in first.iter().zip(&lines) {
            assert_ne!(slipped.text, original.text);
            assert_eq!(slipped.expected, "x");
            assert_eq!(slipped.style.as_deref(), Some("plain+typos"));
        }
        let again = with_typos(&lines, 1);
        assert_eq!(
            first.iter().map(|l| &l.text).collect::<Vec<_>>(),
            again.iter().map(|l| &l.text).collect::<Vec<_>>()
        );
    }

    #[test]
    fn short_words_and_lines_without_them_are_left_alone() {
        assert_eq!(with_typos(&[line("is it ok")], 3)[0].text, "is it ok");
    }
}
