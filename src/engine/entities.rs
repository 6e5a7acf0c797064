//! Details found in a message: UK postcodes, emails, phone numbers, dates and Hertfordshire
//! places. Also the redaction of personal data before anything is stored or logged.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;

use super::redact::Redactor;
use crate::content::District;

static POSTCODE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b([A-Z]{1,2}[0-9][A-Z0-9]?)\s*([0-9][A-Z]{2})\b").expect("valid regex")
});
static EMAIL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b[A-Z0-9._%+-]+@[A-Z0-9.-]+\.[A-Z]{2,}\b").expect("valid regex"));
// UK numbers: 01/02/03/07/08 plus 9 or 10 more digits, or +44, with spaces or dashes.
static PHONE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:\+44\s?\(?0?\)?|\b0)(?:[\s-]?\d){9,10}\b").expect("valid regex"));
static DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{1,2}(st|nd|rd|th)?\s+(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*(\s+\d{4})?|today|tomorrow|yesterday)\b")
        .expect("valid regex")
});

/// What the entity finder found in one message.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Entities {
    pub postcode: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub date: Option<String>,
    /// A Hertfordshire place and the id of its district.
    pub place: Option<PlaceMatch>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PlaceMatch {
    pub name: String,
    pub district_id: String,
}

/// Finds Hertfordshire places by their words, longest name first ("Welwyn Garden City" before
/// "Welwyn").
#[derive(Debug, Default)]
pub struct Gazetteer {
    /// First word -> (all words, display name, district id), longest first.
    by_first_word: HashMap<String, Vec<(Vec<String>, String, String)>>,
}

impl Gazetteer {
    pub fn new(districts: &[District]) -> Self {
        let mut by_first_word: HashMap<String, Vec<(Vec<String>, String, String)>> = HashMap::new();
        for district in districts {
            for name in district_place_names(district) {
                let words = place_words(&name);
                if let Some(first) = words.first().cloned() {
                    let entries = by_first_word.entry(first).or_default();
                    if !entries.iter().any(|(w, _, _)| *w == words) {
                        entries.push((words, name, district.id.clone()));
                    }
                }
            }
        }
        for entries in by_first_word.values_mut() {
            entries.sort_by_key(|(words, _, _)| std::cmp::Reverse(words.len()));
        }
        Self { by_first_word }
    }

    /// The first place named in `text`.
    pub fn find(&self, text: &str) -> Option<PlaceMatch> {
        self.places_in(&place_words(text)).next().map(|(_, _, place)| place)
    }

    /// Whether `text` names one of these places as someone's home: "my mum lives in Harlow",
    /// "based in Enfield", "a Barnet resident", not a place merely passed through or left
    /// ("I've moved from Luton").
    pub fn names_a_home(&self, text: &str) -> bool {
        const HOME_BEFORE: [&str; 7] = ["live", "lives", "living", "lived", "based", "resident", "reside"];
        const HOME_AFTER: [&str; 3] = ["resident", "residents", "based"];
        // Words that may stand between "lives" and the place: "lives on her own in Ware".
        const BETWEEN: [&str; 12] =
            ["in", "on", "at", "her", "his", "their", "own", "alone", "by", "herself", "himself", "still"];
        let words = place_words(text);
        self.places_in(&words).any(|(start, end, _)| {
            let before = &words[start.saturating_sub(3)..start];
            let after = &words[end..(end + 2).min(words.len())];
            // The nearest home word up to six words back, with only small words after it.
            let from = start.saturating_sub(6);
            let home_further = words[from..start]
                .iter()
                .rposition(|w| HOME_BEFORE.contains(&w.as_str()))
                .is_some_and(|i| words[from + i + 1..start].iter().all(|w| BETWEEN.contains(&w.as_str())));
            before.iter().any(|w| HOME_BEFORE.contains(&w.as_str()))
                || home_further
                || after.iter().any(|w| HOME_AFTER.contains(&w.as_str()))
        })
    }

    /// Each place named in `words`, with the span of words it takes, first to last.
    fn places_in<'w>(&'w self, words: &'w [String]) -> impl Iterator<Item = (usize, usize, PlaceMatch)> + 'w {
        (0..words.len()).filter_map(move |start| {
            self.by_first_word.get(&words[start])?.iter().find_map(|(name_words, name, district)| {
                words[start..].starts_with(name_words).then(|| {
                    (
                        start,
                        start + name_words.len(),
                        PlaceMatch { name: name.clone(), district_id: district.clone() },
                    )
                })
            })
        })
    }
}

/// Every place name the content knows: each district's towns and villages and the district's
/// own short name ("St Albans City and District" for "St Albans City and District Council").
pub fn place_names(districts: &[District]) -> Vec<String> {
    districts.iter().flat_map(district_place_names).collect()
}

fn district_place_names(district: &District) -> impl Iterator<Item = String> + '_ {
    let short =
        district.name.trim_end_matches(" Council").trim_end_matches(" Borough").trim_end_matches(" District");
    district.places.iter().cloned().chain(std::iter::once(short.to_string()))
}

/// Place names compare on lowercase words with apostrophes dropped ("Bishop's" = "bishops").
fn place_words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .replace(['\'', '\u{2019}'], "")
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

pub fn extract(text: &str, gazetteer: &Gazetteer) -> Entities {
    let first = |re: &Regex| re.find(text).map(|m| m.as_str().to_string());
    Entities {
        postcode: POSTCODE.captures(text).map(|c| format!("{} {}", &c[1], &c[2]).to_uppercase()),
        email: first(&EMAIL),
        phone: first(&PHONE),
        date: first(&DATE),
        place: gazetteer.find(text),
    }
}

/// The redactor behind [`without_personal_data`]. What is stored is redacted by the engine's
/// own redactor, which also keeps the content's published numbers.
static REDACTOR: LazyLock<Redactor> = LazyLock::new(Redactor::default);

/// The text with personal data blanked out, for the matcher: an email address or a phone
/// number says nothing about what the resident wants, and its pieces would only add noise.
pub fn without_personal_data(text: &str) -> String {
    REDACTOR.blank(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::Location;

    fn gazetteer() -> Gazetteer {
        Gazetteer::new(&[
            District {
                id: "welwyn-hatfield".into(),
                name: "Welwyn Hatfield Borough Council".into(),
                website: "https://www.welhat.gov.uk".into(),
                phone: String::new(),
                places: vec!["Welwyn Garden City".into(), "Hatfield".into()],
                last_reviewed: None,
                source: Location::default(),
            },
            District {
                id: "east-herts".into(),
                name: "East Hertfordshire District Council".into(),
                website: "https://www.eastherts.gov.uk".into(),
                phone: String::new(),
                places: vec!["Bishop's Stortford".into(), "Welwyn".into()],
                last_reviewed: None,
                source: Location::default(),
            },
        ])
    }

    #[test]
    fn longest_place_name_wins() {
        let found = gazetteer().find("bins in welwyn garden city please").unwrap();
        assert_eq!(
            (found.name.as_str(), found.district_id.as_str()),
            ("Welwyn Garden City", "welwyn-hatfield")
        );
        assert_eq!(gazetteer().find("I live in Welwyn").unwrap().district_id, "east-herts");
    }

    #[test]
    fn a_place_named_as_a_home() {
        let places = gazetteer();
        assert!(places.names_a_home("my nan lives in Hatfield and needs help"));
        assert!(places.names_a_home("mum lives on her own in Hatfield since dad died"));
        assert!(!places.names_a_home("mum lives near the station, the one on the way to Hatfield"));
        assert!(places.names_a_home("we're based in Welwyn Garden City"));
        assert!(places.names_a_home("Hatfield resident, question about roads"));
        assert!(!places.names_a_home("I'm driving over from Hatfield later"));
        assert!(!places.names_a_home("we moved from Hatfield last year and I live in London now"));
    }

    #[test]
    fn apostrophes_and_district_names() {
        assert_eq!(gazetteer().find("bishops stortford").unwrap().district_id, "east-herts");
        assert_eq!(gazetteer().find("Welwyn Hatfield bins").unwrap().district_id, "welwyn-hatfield");
        assert!(gazetteer().find("london").is_none());
    }

    #[test]
    fn finds_details() {
        let e = extract("I'm at sg13 8dq, call 07700 900123 or a@b.com on 12/03/2026", &gazetteer());
        assert_eq!(e.postcode.as_deref(), Some("SG13 8DQ"));
        assert_eq!(e.phone.as_deref(), Some("07700 900123"));
        assert_eq!(e.email.as_deref(), Some("a@b.com"));
        assert_eq!(e.date.as_deref(), Some("12/03/2026"));
    }

    #[test]
    fn redacts_personal_data() {
        let text =
            "me@example.com, 07700 900123, +44 1992 555 555, 4111 1111 1111 1111, JG 12 34 56 C, SG13 8DQ";
        assert_eq!(REDACTOR.redact(text), "[email], [phone], [phone], [card number], [NI number], SG13 8DQ");
        assert_eq!(
            without_personal_data(text).split_whitespace().collect::<Vec<_>>(),
            [",", ",", ",", ",", ",", "SG13", "8DQ"]
        );
    }
}
