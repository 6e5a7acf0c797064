//! Personal data in a resident's message, found so it can be replaced before the message is
//! stored, logged or matched: emails, UK phone numbers, payment cards, National Insurance
//! numbers, NHS numbers, dates of birth, street addresses and bank details. Pure: no I/O.
//!
//! Numbers are checked, not only shaped: cards pass Luhn, NHS numbers modulus 11, NI numbers
//! HMRC's prefix rules, phone numbers the UK numbering plan. Dates and addresses need their
//! context (a birth word before a date, a street word after a house number), so "bins on
//! 12/03/2026" and "2 bags of rubbish" stay. Postcodes and towns stay on purpose: they are what
//! the resident asks about. Published numbers (the council's own) are never redacted.
//!
//! Over 400 lines: eight finders, each with the checks that keep it precise, belong together,
//! and a fifth of the file is their tests (the measured figures come from
//! tests/fixtures/pii.jsonl).

use std::collections::HashSet;
use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

/// A kind of personal data. Declared in the order that wins when two finds cover the same span.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PiiKind {
    Email,
    Card,
    NiNumber,
    NhsNumber,
    DateOfBirth,
    BankDetails,
    Phone,
    Address,
}

impl PiiKind {
    /// What replaces the data in a stored message.
    pub fn label(self) -> &'static str {
        match self {
            PiiKind::Email => "[email]",
            PiiKind::Phone => "[phone]",
            PiiKind::Card => "[card number]",
            PiiKind::NiNumber => "[NI number]",
            PiiKind::NhsNumber => "[NHS number]",
            PiiKind::DateOfBirth => "[date of birth]",
            PiiKind::Address => "[address]",
            PiiKind::BankDetails => "[bank details]",
        }
    }
}

/// One piece of personal data: its kind and its byte range in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub kind: PiiKind,
    pub range: Range<usize>,
}

/// Finds personal data; phone numbers that are published (the council's and its partners') are
/// left alone.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// Published numbers, as national digits ("03001234040").
    allowed: HashSet<String>,
}

impl Redactor {
    /// A redactor that keeps the given published phone numbers, in any written form.
    pub fn new(allowed_numbers: impl IntoIterator<Item = impl AsRef<str>>) -> Self {
        let allowed = allowed_numbers
            .into_iter()
            .map(|n| {
                let digits: String = n.as_ref().chars().filter(char::is_ascii_digit).collect();
                national(&digits).unwrap_or(digits)
            })
            .filter(|d| !d.is_empty())
            .collect();
        Self { allowed }
    }

    /// The text with each piece of personal data replaced by its label ("[phone]"), round after
    /// round until nothing more is found, so that redacting twice changes nothing. A label can
    /// make what is next to it read as personal data: in "9434765919 ref 9434765919" the second
    /// number is a reference, but in "[NHS number] ref 9434765919" it follows "NHS" (and is the
    /// same NHS number). Every find holds a digit or an "@" and labels hold neither, so each
    /// round has fewer and the rounds end; text without personal data takes one.
    pub fn redact(&self, text: &str) -> String {
        let mut redacted = text.to_string();
        loop {
            let found = self.find(&redacted);
            if found.is_empty() {
                return redacted;
            }
            redacted = replace(&redacted, &found, |kind| kind.label());
        }
    }

    /// The text with each piece of personal data replaced by a space, for the matcher: an email
    /// address or a phone number says nothing about what the resident wants.
    pub fn blank(&self, text: &str) -> String {
        replace(text, &self.find(text), |_| " ")
    }

    /// The personal data in `text`, in order and not overlapping: where two finds overlap, the
    /// earlier start wins, then the longer.
    pub fn find(&self, text: &str) -> Vec<Found> {
        let mut found = Vec::new();
        let mut published = Vec::new();
        find_emails(text, &mut found);
        self.find_numbers(text, &mut found, &mut published);
        find_ni_numbers(text, &mut found);
        find_dates_of_birth(text, &mut found);
        find_bank_details(text, &mut found);
        find_addresses(text, &mut found);
        // A published number stays whole, whatever else its digits might look like.
        found.retain(|f| !published.iter().any(|p: &Range<usize>| overlaps(p, &f.range)));
        found.sort_by(|a, b| {
            (a.range.start, std::cmp::Reverse(a.range.end), a.kind).cmp(&(
                b.range.start,
                std::cmp::Reverse(b.range.end),
                b.kind,
            ))
        });
        let mut kept: Vec<Found> = Vec::with_capacity(found.len());
        for f in found {
            if kept.last().is_none_or(|k| f.range.start >= k.range.end) {
                kept.push(f);
            }
        }
        kept
    }

    /// Phone, card and NHS numbers: each run of digit groups ("+44 (0)7700 900123",
    /// "4111-1111-1111-1111") is read group by group, since one run may hold two numbers.
    fn find_numbers(&self, text: &str, found: &mut Vec<Found>, published: &mut Vec<Range<usize>>) {
        for run in NUMBER_RUN.find_iter(text) {
            let groups: Vec<Group> = DIGITS
                .find_iter(run.as_str())
                .map(|d| Group::new(text, run.start(), run.start() + d.start()..run.start() + d.end()))
                .collect();
            let mut i = 0;
            while i < groups.len() {
                match self.phone_at(text, &groups, i) {
                    Some((range, j, allowed)) => {
                        if allowed {
                            published.push(range);
                        } else {
                            found.push(Found { kind: PiiKind::Phone, range });
                        }
                        // The groups the number used start nothing: "+44 (0)7700" is not also
                        // "(0)7700".
                        i = j + 1;
                    }
                    None => i += 1,
                }
            }
            for i in 0..groups.len() {
                if let Some(j) = card_at(text, &groups, i) {
                    found.push(Found {
                        kind: PiiKind::Card,
                        range: groups[i].digits.start..groups[j].digits.end,
                    });
                }
                if let Some(j) = nhs_at(text, &groups, i) {
                    found.push(Found {
                        kind: PiiKind::NhsNumber,
                        range: groups[i].digits.start..groups[j].digits.end,
                    });
                }
            }
        }
    }

    /// The phone number starting at group `i`, its last group, and whether it is published.
    /// The longest reading that fits the UK numbering plan wins, except that a published reading
    /// wins over all and a reading ending in a lone digit ("0800 111 999 2 times") loses.
    fn phone_at(&self, text: &str, groups: &[Group], i: usize) -> Option<(Range<usize>, usize, bool)> {
        let first = &text[groups[i].digits.clone()];
        let plus = text[groups[i].lead..].starts_with('+');
        let international = first.starts_with("0044") || first.starts_with("44");
        if !international && (plus || !first.starts_with('0')) {
            return None;
        }
        let mut digits = String::new();
        let mut readings: Vec<(usize, String)> = Vec::new();
        for (j, group) in groups.iter().enumerate().skip(i) {
            digits.push_str(&text[group.digits.clone()]);
            if digits.len() > 14 {
                break;
            }
            // Without a "+", "44" must stand alone or be the whole number, else any number
            // starting 44 would do; an area code written apart has at least three digits.
            let shaped = if international {
                plus || j == i || first == "44" || first == "0044"
            } else {
                j == i || first.len() >= 3
            };
            let Some(home) = national(&digits) else { break };
            if shaped && fits_numbering_plan(&home) {
                readings.push((j, home));
            }
        }
        let allowed = readings.iter().rev().find(|(_, n)| self.allowed.contains(n));
        let (j, _) = allowed
            .or_else(|| readings.iter().rev().find(|(j, _)| groups[*j].digits.len() >= 2))
            .or(readings.last())?;
        let mut start = groups[i].lead;
        let range_text = &text[start..groups[*j].digits.end];
        // "(07700) 900123" loses its bracket with the number; "(01992 555555)" keeps both.
        if range_text.starts_with('(') && !range_text.contains(')') {
            start = groups[i].digits.start;
        }
        Some((start..groups[*j].digits.end, *j, allowed.is_some()))
    }
}

fn overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start < b.end && b.start < a.end
}

/// `text` with each find (in order, apart) replaced.
fn replace(text: &str, found: &[Found], with: impl Fn(PiiKind) -> &'static str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for f in found {
        out.push_str(&text[at..f.range.start]);
        out.push_str(with(f.kind));
        at = f.range.end;
    }
    out.push_str(&text[at..]);
    out
}

// ---- numbers ----

/// Digit groups joined by a space, a dash or brackets, with a leading "+" or "(": the shape of
/// any written phone, card or NHS number. A group must stand apart from letters ("SG13", "8DQ").
static NUMBER_RUN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?:\+[ \t]?|\([ \t]?)?\b\d+\b(?:(?:[ \t]?[-–][ \t]?|[ \t]?\)[ \t]?\(?|[ \t]?\([ \t]?|[ \t]{1,2})\b\d+\b)*",
    )
    .expect("valid regex")
});
static DIGITS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\d+").expect("valid regex"));

/// One group of digits in a run; `lead` includes a "+" or "(" just before it.
struct Group {
    digits: Range<usize>,
    lead: usize,
}

impl Group {
    fn new(text: &str, run_start: usize, digits: Range<usize>) -> Self {
        let before = text[run_start..digits.start].trim_end_matches([' ', '\t']);
        let lead = if before.ends_with(['(', '+']) { run_start + before.len() - 1 } else { digits.start };
        Self { digits, lead }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Separator {
    Space,
    Dash,
    Other,
}

fn separator(text: &str, groups: &[Group], j: usize) -> Separator {
    let between = &text[groups[j - 1].digits.end..groups[j].digits.start];
    if between.contains(['(', ')']) {
        Separator::Other
    } else if between.contains(['-', '–']) {
        Separator::Dash
    } else {
        Separator::Space
    }
}

/// A UK number as dialled at home: "+44 (0)7700..." and "447700..." become "07700...". None when
/// the digits start with neither 0 nor 44.
fn national(digits: &str) -> Option<String> {
    let rest = digits.strip_prefix("0044").or_else(|| digits.strip_prefix("44"));
    match rest {
        Some(rest) if rest.starts_with('0') => Some(rest.to_string()),
        Some(rest) => Some(format!("0{rest}")),
        None if digits.starts_with('0') => Some(digits.to_string()),
        None => None,
    }
}

/// Whether a national number has the length of its range: 11 digits for 01, 02, 03, 05, 07,
/// 08 and 09 numbers; 10 for some 01 areas and older 0800 and 0500 numbers.
fn fits_numbering_plan(national: &str) -> bool {
    let range = national.as_bytes().get(1).copied();
    national.starts_with('0')
        && match national.len() {
            11 => matches!(range, Some(b'1' | b'2' | b'3' | b'5' | b'7' | b'8' | b'9')),
            10 => matches!(range, Some(b'1' | b'5' | b'8')),
            _ => false,
        }
}

/// The card number starting at group `i`: 13 to 19 digits passing Luhn, written whole or in
/// groups of 3 to 6 with one kind of separator ("4111 1111 1111 1111", "3782-822463-10005").
fn card_at(text: &str, groups: &[Group], i: usize) -> Option<usize> {
    let first = &text[groups[i].digits.clone()];
    if first.starts_with('0') || text[groups[i].lead..].starts_with('+') {
        return None;
    }
    let grouped = |g: &str| (3..=6).contains(&g.len());
    let mut digits = String::new();
    let mut kind = None;
    let mut best = None;
    for j in i..groups.len() {
        let group = &text[groups[j].digits.clone()];
        if j > i {
            let sep = separator(text, groups, j);
            if sep == Separator::Other || kind.is_some_and(|k| k != sep) || !grouped(first) || !grouped(group)
            {
                break;
            }
            kind = Some(sep);
        }
        digits.push_str(group);
        if digits.len() > 19 {
            break;
        }
        if digits.len() >= 13 && luhn(&digits) {
            best = Some(j);
        }
    }
    best
}

/// The Luhn check every payment card number passes.
fn luhn(digits: &str) -> bool {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    // From the right, every second digit is doubled, less 9 when over 9.
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(k, b)| {
            let d = u32::from(b - b'0');
            if k % 2 == 1 { (d * 2) % 10 + d * 2 / 10 } else { d }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Words that make a bare 10-digit number a reference rather than an NHS number.
const REFERENCE_WORDS: &[&str] = &[
    "ref",
    "reference",
    "order",
    "case",
    "invoice",
    "application",
    "account",
    "acc",
    "claim",
    "booking",
    "tracking",
    "crime",
    "permit",
    "licence",
    "license",
    "policy",
    "customer",
    "membership",
    "transaction",
    "payment",
    "receipt",
    "ticket",
    "serial",
    "uprn",
    "council",
    "tax",
];

/// The NHS number starting at group `i`: 10 digits, whole or 3-3-4, with a valid modulus 11
/// check digit. A bare 10 digits after "reference", "order" and the like is taken for what it
/// says it is, unless "NHS" is said too.
fn nhs_at(text: &str, groups: &[Group], i: usize) -> Option<usize> {
    let group = |k: usize| &text[groups[k].digits.clone()];
    if group(i).starts_with('0') || text[groups[i].lead..].starts_with('+') {
        return None;
    }
    let (j, digits) = if group(i).len() == 10 {
        (i, group(i).to_string())
    } else if i + 2 < groups.len()
        && (group(i).len(), group(i + 1).len(), group(i + 2).len()) == (3, 3, 4)
        && separator(text, groups, i + 1) != Separator::Other
        && separator(text, groups, i + 1) == separator(text, groups, i + 2)
    {
        (i + 2, format!("{}{}{}", group(i), group(i + 1), group(i + 2)))
    } else {
        return None;
    };
    if !nhs_check(&digits) {
        return None;
    }
    if j == i {
        let before: Vec<String> =
            text[..groups[i].lead].split_whitespace().rev().take(4).map(word_key).collect();
        let says_nhs = before.iter().any(|w| w == "nhs");
        if !says_nhs && before.iter().any(|w| REFERENCE_WORDS.contains(&w.as_str())) {
            return None;
        }
    }
    Some(j)
}

/// The modulus 11 check of an NHS number: weights 10 down to 2 on the first nine digits; the
/// tenth is 11 minus the remainder (11 counts as 0; 10 means no valid number).
fn nhs_check(digits: &str) -> bool {
    let d: Vec<u32> = digits.bytes().filter(u8::is_ascii_digit).map(|b| u32::from(b - b'0')).collect();
    if d.len() != 10 {
        return false;
    }
    let sum: u32 = d[..9].iter().zip((2..=10).rev()).map(|(d, w)| d * w).sum();
    match 11 - sum % 11 {
        11 => d[9] == 0,
        10 => false,
        check => d[9] == check,
    }
}

// ---- emails and NI numbers ----

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b[A-Z0-9._%+-]+@[A-Z0-9-]+(?:\.[A-Z0-9-]+)*\.[A-Z]{2,}\b").expect("valid regex")
});

fn find_emails(text: &str, found: &mut Vec<Found>) {
    found.extend(EMAIL.find_iter(text).map(|m| Found { kind: PiiKind::Email, range: m.range() }));
}

/// Two letters, six digits however spaced or dashed, and the suffix letter.
static NI_NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b([a-z]{2})[ \t]?[-–]?[ \t]?(\d(?:[ \t]?[-–]?[ \t]?\d){5})(?:[ \t]?[-–]?[ \t]?([a-d]))?\b",
    )
    .expect("valid regex")
});
static MORE_DIGITS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[ \t]?[-–]?[ \t]?\d").expect("valid regex"));

fn find_ni_numbers(text: &str, found: &mut Vec<Found>) {
    for c in NI_NUMBER.captures_iter(text) {
        let (whole, prefix) = (c.get(0).expect("match"), &c[1]);
        if !valid_ni_prefix(prefix) || MORE_DIGITS.is_match(&text[whole.end()..]) {
            continue;
        }
        // Residents often leave the suffix off; then only the capitalised prefix ("AB123456")
        // is distinctive enough.
        if c.get(3).is_none() && prefix.chars().any(|ch| ch.is_ascii_lowercase()) {
            continue;
        }
        found.push(Found { kind: PiiKind::NiNumber, range: whole.range() });
    }
}

/// HMRC's rules: the first letter is not D, F, I, Q, U or V; the second not D, F, I, O, Q, U or
/// V; and BG, GB, KN, NK, NT, TN and ZZ are never issued.
fn valid_ni_prefix(prefix: &str) -> bool {
    let p = prefix.to_ascii_uppercase();
    let b = p.as_bytes();
    b.len() == 2
        && !b"DFIQUV".contains(&b[0])
        && !b"DFIOQUV".contains(&b[1])
        && !["BG", "GB", "KN", "NK", "NT", "TN", "ZZ"].contains(&p.as_str())
}

// ---- dates of birth ----

const MONTH: &str = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?";
const DAY: &str = r"(?:3[01]|[12]\d|0?[1-9])(?:st|nd|rd|th)?\b";
const YEAR: &str = r"(?:(?:19|20)\d{2}|'?\d{2})\b";

/// A written date in the forms residents use: 12/03/1985, 12-03-85, 12.03.1985, 1985-03-12,
/// 12 March 1985, 12th of March 1985, March 12, 1985, and March 1985.
static DATE: LazyLock<Regex> = LazyLock::new(|| {
    let numeric = r"\b(?:19|20)\d{2}[-/.]\d{1,2}[-/.]\d{1,2}\b|\b\d{1,2}[-/.]\d{1,2}[-/.](?:\d{4}|\d{2})\b|\b\d{1,2} \d{1,2} (?:19|20)\d{2}\b";
    let day_month = format!(r"\b{DAY}(?:\s+of)?[\s\-/.]*{MONTH}(?:,?[\s\-/.]*{YEAR})?");
    let month_day = format!(r"\b{MONTH}\s+(?:the\s+)?{DAY}(?:,?\s+{YEAR})?");
    let month_year = format!(r"\b{MONTH},?\s+(?:19|20)\d{{2}}\b");
    Regex::new(&format!("(?i){numeric}|{day_month}|{month_day}|{month_year}")).expect("valid regex")
});

/// Words that make a date someone's birth date; "b." only straight before the date.
static BIRTH_WORDS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i:\b(?:born|dob|date\s+of\s+birth|birth\s?date|birthday|b['’-]?day)\b|\bd\.\s?o\.\s?b\b\.?)|(?:^|[\s(])b\.",
    )
    .expect("valid regex")
});

fn find_dates_of_birth(text: &str, found: &mut Vec<Found>) {
    let context: Vec<regex::Match> = BIRTH_WORDS.find_iter(text).collect();
    if context.is_empty() {
        return;
    }
    for date in DATE.find_iter(text) {
        // A full date may sit a little further from the birth word ("born at the Lister
        // hospital on 12/03/1985"), so long as nothing joins on another clause.
        let groups: Vec<&str> =
            date.as_str().split(|c: char| !c.is_ascii_digit()).filter(|g| !g.is_empty()).collect();
        let full = groups.len() >= 3 || groups.iter().any(|g| g.len() == 4);
        let before = context.iter().filter(|c| c.end() <= date.start()).any(|c| {
            let gap = &text[c.end()..date.start()];
            if c.as_str().trim_start_matches(|ch: char| ch.is_whitespace() || ch == '(') == "b." {
                gap.trim().is_empty()
            } else {
                same_clause(gap, 4)
                    || full
                        && same_clause(gap, 7)
                        && !words(gap).any(|w| JOINING_WORDS.contains(&word_key(w).as_str()))
            }
        });
        // "12/03/1985 (my DOB)", "12 March is my birthday": right after, in the same breath.
        let after = context.iter().filter(|c| c.start() >= date.end()).any(|c| {
            let gap = &text[date.end()..c.start()];
            !gap.contains([',', '.', ';', '!', '?', '\n']) && words(gap).count() <= 3
        });
        if before || after {
            found.push(Found { kind: PiiKind::DateOfBirth, range: date.range() });
        }
    }
}

// ---- bank details ----

static SORT_CODE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b\d{2}[ \t]?[-–][ \t]?\d{2}[ \t]?[-–][ \t]?\d{2}\b|\b\d{2} \d{2} \d{2}\b|\b\d{6}\b")
        .expect("valid regex")
});
static ACCOUNT_NUMBER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b\d{8}\b|\b\d{4}[ -]\d{4}\b").expect("valid regex"));
static SORT_CODE_WORDS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\bsort[ \t-]?code\b|\bs/c\b").expect("valid regex"));
static ACCOUNT_WORDS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:account|acct|acc|a/c)\b(?:\.?\s*(?:number|num|no)\b)?\.?").expect("valid regex")
});

/// A sort code and an account number are bank details when said to be ("sort code 12-34-56",
/// "acc no 12345678") or when they stand together ("12-34-56 12345678"). A bare six digits is a
/// sort code only after the words.
fn find_bank_details(text: &str, found: &mut Vec<Found>) {
    let sort_words: Vec<Range<usize>> = SORT_CODE_WORDS.find_iter(text).map(|m| m.range()).collect();
    let account_words: Vec<Range<usize>> = ACCOUNT_WORDS.find_iter(text).map(|m| m.range()).collect();
    let said = |words: &[Range<usize>], at: usize| {
        words.iter().any(|w| w.end <= at && same_clause(&text[w.end..at], 4))
    };
    let sorts: Vec<Range<usize>> = SORT_CODE
        .find_iter(text)
        .filter(|m| m.as_str().len() > 6 || said(&sort_words, m.start()))
        .map(|m| m.range())
        .collect();
    let accounts: Vec<Range<usize>> = ACCOUNT_NUMBER.find_iter(text).map(|m| m.range()).collect();
    let together = |a: &Range<usize>, b: &Range<usize>| {
        let (first, second) = if a.start <= b.start { (a, b) } else { (b, a) };
        first.end <= second.start && same_clause(&text[first.end..second.start], 4)
    };
    for sort in &sorts {
        if said(&sort_words, sort.start) || accounts.iter().any(|a| together(sort, a)) {
            found.push(Found { kind: PiiKind::BankDetails, range: sort.clone() });
        }
    }
    for account in &accounts {
        if said(&account_words, account.start) || sorts.iter().any(|s| together(s, account)) {
            found.push(Found { kind: PiiKind::BankDetails, range: account.clone() });
        }
    }
}

// ---- street addresses ----

/// A house number ("12", "4a", "221B"), maybe after "Flat 2,", or a flat number alone.
static HOUSE_NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:(?:flat|apartment|apt|unit)\s*\d{1,3}[a-z]?\s*,?\s+)?(?:\d{1,3}[a-z]?|(?:flat|apartment|apt|unit)\s*\d{1,3}[a-z]?)\b,?[ \t]+",
    )
    .expect("valid regex")
});
static WORD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z][A-Za-z'’\-]*\.?").expect("valid regex"));

/// Street words that are seldom anything else.
const STREET_WORDS: &[&str] = &[
    "road",
    "rd",
    "street",
    "st",
    "avenue",
    "ave",
    "av",
    "lane",
    "ln",
    "crescent",
    "cres",
    "gardens",
    "gdns",
    "terrace",
    "tce",
    "mews",
    "boulevard",
    "causeway",
];
/// Street words that are everyday words too ("3 big green bins", "a 5 minute walk"): in lower
/// case they only count at the end of a phrase ("12 beech close, hatfield").
const PLAIN_STREET_WORDS: &[&str] = &[
    "close", "cl", "drive", "dr", "way", "court", "ct", "place", "pl", "grove", "hill", "walk", "rise",
    "park", "green", "row", "view", "square", "sq", "parade", "chase", "approach", "end", "croft", "meadow",
    "meadows", "orchard", "vale", "wharf",
];
/// Words that never sit between a house number and its street word: "10 minutes down the road".
const NOT_STREET_NAMES: &[&str] = &[
    "a", "an", "and", "or", "of", "on", "in", "at", "to", "into", "onto", "up", "down", "from", "by", "for",
    "with", "off", "over", "near", "past", "round", "around", "across", "along", "towards", "behind", "my",
    "your", "our", "their", "his", "her", "its", "this", "that", "these", "those", "is", "are", "was",
    "were", "be", "been", "i", "we", "you", "they", "he", "she", "it", "me", "us", "them", "than", "then",
    "so", "but", "not", "no", "each", "every", "all", "some", "any", "about", "just", "only", "also", "very",
    "too", "there", "here", "if", "as", "when", "where", "which", "who", "what", "how", "can", "could",
    "would", "should", "will", "do", "does", "did", "have", "has", "had", "get", "got", "go", "going", "per",
    "via", "the",
];
/// Units and things counted that follow a number: "2 bags", "20 minute walk", "level 2 car park".
const COUNTED: &[&str] = &[
    "minute", "minutes", "min", "mins", "hour", "hours", "hr", "hrs", "second", "seconds", "sec", "secs",
    "day", "days", "week", "weeks", "month", "months", "year", "years", "yr", "yrs", "mile", "miles",
    "metre", "metres", "meter", "meters", "km", "yard", "yards", "foot", "feet", "ft", "step", "steps",
    "time", "times", "bag", "bags", "bin", "bins", "sack", "sacks", "box", "boxes", "car", "cars", "bus",
    "buses", "van", "vans", "people", "person", "kid", "kids", "child", "children", "adult", "adults",
    "house", "houses", "home", "homes", "flats", "bed", "beds", "bedroom", "bedrooms", "storey", "storeys",
    "lane", "lanes", "way", "ways", "seat", "seats", "space", "spaces", "pound", "pounds", "quid", "pence",
    "percent", "tree", "trees", "pothole", "potholes", "light", "lights", "more", "extra", "other",
];
/// Words before a number that make it something other than a house number: "bus 301".
const NOT_HOUSE_NUMBER_AFTER: &[&str] =
    &["bus", "buses", "route", "service", "junction", "jct", "platform", "bay", "gate", "page", "level"];

fn find_addresses(text: &str, found: &mut Vec<Found>) {
    let mut at = 0;
    while let Some(number) = HOUSE_NUMBER.find_at(text, at) {
        at = number.end();
        if let Some(end) = street_after(text, number.start(), number.end()) {
            found.push(Found { kind: PiiKind::Address, range: number.start()..end });
            at = end;
        }
    }
}

/// Where the street named after a house number ends: one to four words and a street word, the
/// longest reading that passes the checks.
fn street_after(text: &str, number_start: usize, words_start: usize) -> Option<usize> {
    // Straight after "£", ":" or "." the number is a price, a time or a decimal.
    let before = &text[..number_start];
    if before.ends_with(['£', '$', '€', ':', '.'])
        || before
            .split_whitespace()
            .last()
            .is_some_and(|w| NOT_HOUSE_NUMBER_AFTER.contains(&word_key(w).as_str()))
    {
        return None;
    }
    // Up to five words after the number, separated by spaces only.
    let mut spans: Vec<Range<usize>> = Vec::new();
    let mut pos = words_start;
    while spans.len() < 5 {
        let Some(w) = WORD.find(&text[pos..]) else { break };
        spans.push(pos + w.start()..pos + w.end());
        let rest = &text[pos + w.end()..];
        let gap = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        if gap == 0 {
            break;
        }
        pos += w.end() + gap;
    }
    let keys: Vec<String> = spans.iter().map(|s| word_key(&text[s.clone()])).collect();
    (1..spans.len()).rev().find_map(|k| {
        let street = &keys[k];
        let plain = PLAIN_STREET_WORDS.contains(&street.as_str());
        if !(plain || STREET_WORDS.contains(&street.as_str())) {
            return None;
        }
        let names = &keys[..k];
        let names_ok = names
            .iter()
            .enumerate()
            .all(|(n, w)| !NOT_STREET_NAMES.contains(&w.as_str()) || (n == 0 && w == "the"))
            && !COUNTED.contains(&names[0].as_str());
        if !names_ok {
            return None;
        }
        let street_text = &text[spans[k].clone()];
        if plain && !capitalised(street_text) && !ends_phrase(&text[spans[k].end..]) {
            return None;
        }
        Some(spans[k].end)
    })
}

fn capitalised(word: &str) -> bool {
    word.chars().next().is_some_and(char::is_uppercase)
}

/// Whether a street word ends its phrase: end of text, punctuation, or a postcode after it.
fn ends_phrase(rest: &str) -> bool {
    let rest = rest.trim_start_matches([' ', '\t']);
    let next = rest.split_whitespace().next().unwrap_or("");
    rest.is_empty()
        || rest.starts_with([',', '.', ';', ':', '!', '?', ')', '\n', '\r', '-', '–'])
        || (next.len() <= 4
            && next.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && next.chars().any(|c| c.is_ascii_digit()))
}

// ---- shared ----

/// A word as compared with the word lists: lower case, without surrounding punctuation.
fn word_key(word: &str) -> String {
    word.trim_matches(|c: char| !c.is_alphanumeric() && c != '/').to_lowercase()
}

fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split_whitespace().filter(|w| w.chars().any(char::is_alphanumeric))
}

/// Words that start a new clause: what follows is about something else.
const CLAUSE_WORDS: &[&str] = &["but", "because", "so", "although", "however", "whereas", "also"];
/// Words that join on a clause of its own: "born in Hatfield and my bins were missed on ...".
const JOINING_WORDS: &[&str] = &["and", "or", "then", "which", "when", "who", "where", "while", "since"];
/// Abbreviations whose full stop does not end a sentence.
const ABBREVIATIONS: &[&str] = &["st", "rd", "no", "dr", "mr", "mrs", "ms", "nr", "approx", "ave"];

/// Whether the text between a context word and what it labels stays in one clause and within
/// `max_words` words: "DOB: 12/03/1985", "born in Watford on 12/03/1985"; not "born in Watford.
/// Bins on 12/03/2026" nor "born in Watford, bins on 12/03/2026".
fn same_clause(gap: &str, max_words: usize) -> bool {
    let gap = gap.trim_start_matches(|c: char| c.is_whitespace() || ":,.-–=#(".contains(c));
    if gap.contains([';', '!', '?', '\n', ',']) {
        return false;
    }
    let sentence_ends = gap
        .split_whitespace()
        .any(|w| w.len() > 1 && w.ends_with('.') && !ABBREVIATIONS.contains(&word_key(w).as_str()));
    let count = words(gap).count();
    !sentence_ends && count <= max_words && !words(gap).any(|w| CLAUSE_WORDS.contains(&word_key(w).as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redact(text: &str) -> String {
        Redactor::default().redact(text)
    }

    #[test]
    fn modulus_11() {
        assert!(nhs_check("9434765919"));
        assert!(nhs_check("943 476 5919"));
        assert!(!nhs_check("9434765918"));
        assert!(!nhs_check("943476591"));
        assert_eq!(redact("NHS no 943 476 5919 thanks"), "NHS no [NHS number] thanks");
        assert_eq!(redact("number 943 476 5918 thanks"), "number 943 476 5918 thanks");
    }

    #[test]
    fn luhn_check() {
        assert!(luhn("4111111111111111"));
        assert!(luhn("5555555555554444"));
        assert!(!luhn("4111111111111112"));
        assert_eq!(redact("card 4111-1111-1111-1111"), "card [card number]");
        assert_eq!(redact("ref 4111 1111 1111 1112"), "ref 4111 1111 1111 1112");
    }

    #[test]
    fn published_numbers_kept() {
        let redactor = Redactor::new(["0300 123 4040", "+44 800 111 999"]);
        assert_eq!(redactor.redact("is +44 300 123 4040 right?"), "is +44 300 123 4040 right?");
        assert_eq!(redactor.redact("ring 0800 111 999 2 times"), "ring 0800 111 999 2 times");
        assert_eq!(redactor.redact("0300 123 4040 or 07700 900123"), "0300 123 4040 or [phone]");
        assert_eq!(redact("is 0300 123 4040 right?"), "is [phone] right?");
    }

    #[test]
    fn phone_forms() {
        for phone in [
            "07700 900123",
            "07700900123",
            "(07700) 900123",
            "+44 7700 900123",
            "+44 (0)7700 900123",
            "447700900123",
            "0044 7700 900123",
            "(01992) 555555",
            "01992 555 555",
            "01992-555-555",
            "020 7946 0958",
            "0117 496 0123",
            "0300 123 4567",
            "0800 123 456",
            "0800 123 4567",
        ] {
            assert_eq!(redact(&format!("call {phone} please")), "call [phone] please", "{phone}");
        }
        for kept in ["in 2026", "SG13 8DQ", "bus 724", "£12.50", "order 123456789012", "the A414"] {
            assert_eq!(redact(kept), kept);
        }
    }

    #[test]
    fn redacting_twice_changes_nothing() {
        // A reference, until the first number's label puts "NHS" before it: it is the same number.
        assert_eq!(redact("9434765919 ref 9434765919"), "[NHS number] ref [NHS number]");
        assert_eq!(redact("ref 9434765919"), "ref 9434765919");
        for text in ["9434765919 ref 9434765919", "DOB 12/03/1985, call 07700 900123", "ref 9434765919"] {
            let once = redact(text);
            assert_eq!(redact(&once), once);
        }
    }

    #[test]
    fn dates_need_birth_context() {
        assert_eq!(redact("bin collection on 12/03/2026"), "bin collection on 12/03/2026");
        assert_eq!(redact("closed on 25 December"), "closed on 25 December");
        assert_eq!(redact("my DOB is 12/03/1985"), "my DOB is [date of birth]");
        assert_eq!(redact("born on the 12th of March 1985."), "born on the [date of birth].");
        assert_eq!(redact("born in Watford. Bins on 12/03/2026"), "born in Watford. Bins on 12/03/2026");
    }

    #[test]
    fn counted_things_are_not_addresses() {
        for kept in [
            "2 bags of garden waste",
            "3 black bins",
            "16 recycling centres",
            "the A414 road",
            "10 minutes down the road",
            "a 5 minute walk",
            "3 big green bins",
        ] {
            assert_eq!(redact(kept), kept);
        }
        assert_eq!(
            redact("I live at 12 Acacia Avenue, Hertford SG13 8DQ"),
            "I live at [address], Hertford SG13 8DQ"
        );
        assert_eq!(redact("Flat 2, 17 Station Road"), "[address]");
        assert_eq!(redact("4a high street"), "[address]");
    }

    #[test]
    fn ni_and_bank() {
        for ni in ["AB123456C", "ab 12 34 56 c", "AB 123 456 C", "AB-12-34-56-C", "AB 12 34 56"] {
            assert_eq!(redact(&format!("NI {ni} thanks")), "NI [NI number] thanks", "{ni}");
        }
        // Prefixes HMRC never issues.
        assert_eq!(redact("GB123456A"), "GB123456A");
        assert_eq!(redact("DA123456A"), "DA123456A");
        assert_eq!(
            redact("sort code 12-34-56 account 12345678"),
            "sort code [bank details] account [bank details]"
        );
        assert_eq!(redact("12-34-56 12345678"), "[bank details] [bank details]");
        assert_eq!(redact("order 12345678"), "order 12345678");
    }

    #[derive(serde::Deserialize)]
    struct Case {
        text: String,
        pii: Vec<Pii>,
    }

    #[derive(serde::Deserialize)]
    struct Pii {
        kind: String,
        value: String,
    }

    const KINDS: [(&str, PiiKind); 8] = [
        ("email", PiiKind::Email),
        ("phone", PiiKind::Phone),
        ("card", PiiKind::Card),
        ("ni", PiiKind::NiNumber),
        ("nhs", PiiKind::NhsNumber),
        ("dob", PiiKind::DateOfBirth),
        ("address", PiiKind::Address),
        ("bank", PiiKind::BankDetails),
    ];

    /// Recall per kind and false positives on the fixture of resident messages.
    #[test]
    fn fixture_recall_and_false_positives() {
        let redactor = Redactor::new([
            "0300 123 4040",
            "0300 123 4042",
            "0300 123 4043",
            "0300 123 4047",
            "0800 111 999",
            "01992 58 69 69",
        ]);
        let cases: Vec<Case> = include_str!("../../tests/fixtures/pii.jsonl")
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        let mut totals = [(0usize, 0usize); 8];
        let (mut clean, mut false_positives) = (0usize, 0usize);
        let mut misses = Vec::new();
        for case in &cases {
            let out = redactor.redact(&case.text);
            if case.pii.is_empty() {
                clean += 1;
                if out != case.text {
                    false_positives += 1;
                    misses.push(format!("false positive: {} -> {out}", case.text));
                }
            }
            for pii in &case.pii {
                assert!(case.text.contains(&pii.value), "{:?} not in {:?}", pii.value, case.text);
                let k = KINDS.iter().position(|(name, _)| *name == pii.kind).expect("known kind");
                let caught = !out.contains(&pii.value) && out.contains(KINDS[k].1.label());
                totals[k].0 += usize::from(caught);
                totals[k].1 += 1;
                if !caught {
                    misses.push(format!("missed {}: {:?} in {} -> {out}", pii.kind, pii.value, case.text));
                }
            }
        }
        println!("{:<10} {:>6} {:>6} {:>8}", "kind", "caught", "total", "recall");
        for ((name, _), (caught, total)) in KINDS.iter().zip(totals) {
            println!("{name:<10} {caught:>6} {total:>6} {:>8.3}", caught as f64 / total.max(1) as f64);
        }
        let rate = false_positives as f64 / clean.max(1) as f64;
        println!("false positives: {false_positives} of {clean} lines without personal data ({rate:.3})");
        for miss in &misses {
            println!("{miss}");
        }
        for ((name, _), (caught, total)) in KINDS.iter().zip(totals) {
            assert!(total > 0 && caught as f64 / total as f64 >= 0.99, "recall for {name}: {caught}/{total}");
        }
        assert!(clean >= 120 && rate <= 0.01, "false positives {false_positives}/{clean}");
    }
}
