//! What is due for review: content whose `last_reviewed` is a year old or more (the facts in
//! it may have changed), and whether the bank holidays, which decide when teams are open, are
//! listed far enough ahead. Pure: the caller says what day it is.

use chrono::{Months, NaiveDate};
use serde::Serialize;

use super::Content;

/// Content is reviewed at least once a year.
pub const REVIEW_EVERY_MONTHS: u32 = 12;
/// Listed as "due soon" this many days before its review falls due.
pub const DUE_SOON_DAYS: u64 = 30;
/// Bank holidays must be listed at least this far ahead.
pub const BANK_HOLIDAYS_AHEAD_MONTHS: u32 = 12;

/// One topic or article and when its review falls due.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ReviewItem {
    /// `intent`, `article` or `council` (a district's or a neighbouring council's details).
    pub kind: String,
    pub id: String,
    pub title: String,
    #[schema(format = Date)]
    pub last_reviewed: String,
    #[schema(format = Date)]
    pub due: String,
    /// Where it is defined: `file:line`.
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ReviewReport {
    /// Due before today, oldest first.
    pub overdue: Vec<ReviewItem>,
    /// Falling due within 30 days.
    pub due_soon: Vec<ReviewItem>,
    /// The last bank holiday listed.
    #[schema(format = Date)]
    pub bank_holidays_until: Option<String>,
    /// False when no bank holiday is listed 12 months or more ahead: add the next year's.
    pub bank_holidays_listed_far_enough: bool,
}

pub fn review(content: &Content, bank_holidays: &[NaiveDate], today: NaiveDate) -> ReviewReport {
    let reviewed =
        content
            .intents
            .iter()
            .filter_map(|i| Some(("intent", &i.id, &i.title, i.last_reviewed.as_deref()?, &i.source)))
            .chain(
                content
                    .articles
                    .iter()
                    .map(|a| ("article", &a.id, &a.title, a.last_reviewed.as_str(), &a.source)),
            )
            .chain(
                content.districts.iter().chain(&content.neighbours).filter_map(|d| {
                    Some(("council", &d.id, &d.name, d.last_reviewed.as_deref()?, &d.source))
                }),
            );
    let soon = today + chrono::Days::new(DUE_SOON_DAYS);
    let mut overdue = Vec::new();
    let mut due_soon = Vec::new();
    for (kind, id, title, last, source) in reviewed {
        // Dates are validated on load; one that is not a date has nothing to report here.
        let Ok(last_date) = NaiveDate::parse_from_str(last, "%Y-%m-%d") else { continue };
        let Some(due) = last_date.checked_add_months(Months::new(REVIEW_EVERY_MONTHS)) else { continue };
        let item = || ReviewItem {
            kind: kind.into(),
            id: id.clone(),
            title: title.clone(),
            last_reviewed: last.into(),
            due: due.to_string(),
            source: source.to_string(),
        };
        if due < today {
            overdue.push(item());
        } else if due <= soon {
            due_soon.push(item());
        }
    }
    overdue.sort_by(|a, b| (&a.due, &a.id).cmp(&(&b.due, &b.id)));
    due_soon.sort_by(|a, b| (&a.due, &a.id).cmp(&(&b.due, &b.id)));
    let last_holiday = bank_holidays.iter().max();
    let needed = today.checked_add_months(Months::new(BANK_HOLIDAYS_AHEAD_MONTHS));
    ReviewReport {
        overdue,
        due_soon,
        bank_holidays_until: last_holiday.map(ToString::to_string),
        bank_holidays_listed_far_enough: matches!((last_holiday, needed), (Some(last), Some(needed)) if *last >= needed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::ContentFiles;

    fn content() -> Content {
        let mut files = ContentFiles::default();
        let intent = |id: &str, reviewed: &str| {
            format!(
                "[[intent]]\nid = \"{id}\"\ntitle = \"{id}\"\nexamples = [\"{id} question one\", \"{id} question two\"]\nanswer = \"A.\"\nlast_reviewed = \"{reviewed}\"\n"
            )
        };
        files.intents.insert(
            "a.toml".into(),
            [intent("old", "2025-10-01"), intent("soon", "2025-12-20"), intent("fresh", "2026-11-01")]
                .concat(),
        );
        files.parse().unwrap()
    }

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_year_old_review_is_overdue_and_one_due_within_a_month_is_listed_as_soon() {
        let report = review(&content(), &[day("2027-12-28")], day("2026-12-04"));
        assert_eq!(report.overdue.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), ["old"]);
        assert_eq!(report.overdue[0].due, "2026-10-01");
        assert!(report.overdue[0].source.starts_with("intents/a.toml:"), "{}", report.overdue[0].source);
        assert_eq!(report.due_soon.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), ["soon"]);
        assert!(report.bank_holidays_listed_far_enough);
    }

    #[test]
    fn bank_holidays_must_reach_a_year_ahead() {
        let holidays = [day("2027-12-28")];
        assert!(review(&content(), &holidays, day("2026-12-28")).bank_holidays_listed_far_enough);
        assert!(!review(&content(), &holidays, day("2026-12-29")).bank_holidays_listed_far_enough);
        assert!(!review(&content(), &[], day("2026-12-04")).bank_holidays_listed_far_enough);
    }
}
