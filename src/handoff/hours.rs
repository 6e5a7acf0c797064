//! Teams' opening hours, with England's bank holidays and the council's own closures. Pure:
//! the caller passes the time.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Weekday};
use chrono_tz::Europe::London;
use serde::{Deserialize, Serialize};

/// A team that takes handed-off conversations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Team {
    pub id: String,
    pub name: String,
    /// Opening hours by weekday (`mon` .. `sun`), e.g. `"09:00-17:00"`, or `"00:00-24:00"` for
    /// the whole day; a missing day is closed.
    #[serde(default)]
    pub hours: std::collections::BTreeMap<String, String>,
}

/// The default teams: the council's contact centre and its two specialist lines.
pub fn default_teams() -> Vec<Team> {
    let weekdays = |open: &str| {
        ["mon", "tue", "wed", "thu", "fri"].iter().map(|d| (d.to_string(), open.to_string())).collect()
    };
    vec![
        Team {
            id: "customer-service".into(),
            name: "Customer service".into(),
            hours: weekdays("09:00-17:00"),
        },
        Team { id: "adult-care".into(), name: "Adult Care Services".into(), hours: weekdays("08:30-17:00") },
        Team { id: "children".into(), name: "Children's Services".into(), hours: weekdays("09:00-17:00") },
    ]
}

/// England and Wales bank holidays, as published for 2026-2027, and 2028 by the usual rules
/// (substitute days included; check against gov.uk/bank-holidays when 2028 is published,
/// review by 2027-06-30: a one-off holiday may be added). Extend in configuration for later
/// years; `check` fails when none is listed 12 months ahead.
pub fn default_bank_holidays() -> Vec<NaiveDate> {
    [
        "2026-01-01",
        "2026-04-03",
        "2026-04-06",
        "2026-05-04",
        "2026-05-25",
        "2026-08-31",
        "2026-12-25",
        "2026-12-28",
        "2027-01-01",
        "2027-03-26",
        "2027-03-29",
        "2027-05-03",
        "2027-05-31",
        "2027-08-30",
        "2027-12-27",
        "2027-12-28",
        "2028-01-03",
        "2028-04-14",
        "2028-04-17",
        "2028-05-01",
        "2028-05-29",
        "2028-08-28",
        "2028-12-25",
        "2028-12-26",
    ]
    .iter()
    .filter_map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
    .collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Availability {
    Open,
    /// Closed now; opens at this local time (None if no opening is known in the next weeks).
    Closed {
        opens: Option<NaiveDateTime>,
    },
}

impl Availability {
    pub fn is_open(&self) -> bool {
        matches!(self, Availability::Open)
    }
}

/// When a team is open, given closed dates (bank holidays and closures).
#[derive(Debug, Clone)]
pub struct Calendar {
    closed_dates: Vec<NaiveDate>,
    always_open: bool,
}

fn day_key(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "mon",
        Weekday::Tue => "tue",
        Weekday::Wed => "wed",
        Weekday::Thu => "thu",
        Weekday::Fri => "fri",
        Weekday::Sat => "sat",
        Weekday::Sun => "sun",
    }
}

/// One day's opening hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub opens: NaiveTime,
    /// None: open until midnight ("24:00", which a time of day cannot hold).
    pub closes: Option<NaiveTime>,
}

impl Span {
    fn contains(&self, time: NaiveTime) -> bool {
        time >= self.opens && self.closes.is_none_or(|closes| time < closes)
    }
}

/// Parses "09:00-17:00"; "24:00" closes at midnight.
pub fn parse_span(span: &str) -> Option<Span> {
    let (open, close) = span.split_once('-')?;
    let opens = NaiveTime::parse_from_str(open.trim(), "%H:%M").ok()?;
    if close.trim() == "24:00" {
        return Some(Span { opens, closes: None });
    }
    let closes = NaiveTime::parse_from_str(close.trim(), "%H:%M").ok()?;
    (opens < closes).then_some(Span { opens, closes: Some(closes) })
}

impl Calendar {
    pub fn new(closed_dates: Vec<NaiveDate>, always_open: bool) -> Self {
        Self { closed_dates, always_open }
    }

    fn span_on(&self, team: &Team, date: NaiveDate) -> Option<Span> {
        if self.closed_dates.contains(&date) {
            return None;
        }
        team.hours.get(day_key(date.weekday())).and_then(|s| parse_span(s))
    }

    /// Whether `team` is open at `now` (UK local time is what the hours mean).
    pub fn availability<Tz: TimeZone>(&self, team: &Team, now: &chrono::DateTime<Tz>) -> Availability {
        if self.always_open {
            return Availability::Open;
        }
        let local = now.with_timezone(&London).naive_local();
        if let Some(span) = self.span_on(team, local.date())
            && span.contains(local.time())
        {
            return Availability::Open;
        }
        for days_ahead in 0..21 {
            let date = local.date() + Duration::days(days_ahead);
            if let Some(span) = self.span_on(team, date) {
                let opens = date.and_time(span.opens);
                if opens > local {
                    return Availability::Closed { opens: Some(opens) };
                }
            }
        }
        Availability::Closed { opens: None }
    }
}

/// "today at 9am", "tomorrow at 8:30am", "Tuesday 29 December at 9am".
pub fn describe_opening(opens: NaiveDateTime, now_local: NaiveDateTime) -> String {
    let time = if opens.format("%M").to_string() == "00" {
        opens.format("%-I%P").to_string()
    } else {
        opens.format("%-I:%M%P").to_string()
    };
    let days = (opens.date() - now_local.date()).num_days();
    let day = match days {
        0 => "today".to_string(),
        1 => "tomorrow".to_string(),
        2..=6 => opens.format("%A").to_string(),
        _ => opens.format("%A %-d %B").to_string(),
    };
    format!("{day} at {time}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> chrono::DateTime<chrono_tz::Tz> {
        London.from_local_datetime(&NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()).unwrap()
    }

    fn calendar() -> Calendar {
        Calendar::new(default_bank_holidays(), false)
    }

    fn team() -> Team {
        default_teams().remove(0)
    }

    #[test]
    fn open_in_hours_closed_outside() {
        assert!(calendar().availability(&team(), &at("2026-11-26 10:00")).is_open()); // Thursday
        let evening = calendar().availability(&team(), &at("2026-11-26 17:00"));
        assert_eq!(evening, Availability::Closed { opens: Some(at("2026-11-27 09:00").naive_local()) });
    }

    #[test]
    fn weekend_opens_on_monday() {
        let saturday = calendar().availability(&team(), &at("2026-11-28 11:00"));
        assert_eq!(saturday, Availability::Closed { opens: Some(at("2026-11-30 09:00").naive_local()) });
    }

    #[test]
    fn bank_holidays_and_closures_are_skipped() {
        // Christmas Day 2026 is a Friday and Boxing Day's substitute is Monday 28th.
        let christmas_eve_evening = calendar().availability(&team(), &at("2026-12-24 18:00"));
        assert_eq!(
            christmas_eve_evening,
            Availability::Closed { opens: Some(at("2026-12-29 09:00").naive_local()) }
        );
        let mut closed = default_bank_holidays();
        closed.push(NaiveDate::from_ymd_opt(2026, 12, 29).unwrap());
        let with_closure = Calendar::new(closed, false).availability(&team(), &at("2026-12-24 18:00"));
        assert_eq!(with_closure, Availability::Closed { opens: Some(at("2026-12-30 09:00").naive_local()) });
    }

    #[test]
    fn hours_are_uk_local_across_clock_changes() {
        // 08:30 UTC in July is 09:30 in London: open.
        let utc = chrono::Utc.with_ymd_and_hms(2026, 7, 2, 8, 30, 0).unwrap();
        assert!(calendar().availability(&team(), &utc).is_open());
    }

    #[test]
    fn describes_openings_plainly() {
        let now = at("2026-11-26 17:30").naive_local();
        assert_eq!(describe_opening(at("2026-11-27 09:00").naive_local(), now), "tomorrow at 9am");
        assert_eq!(describe_opening(at("2026-11-30 08:30").naive_local(), now), "Monday at 8:30am");
        assert_eq!(describe_opening(at("2026-12-29 09:00").naive_local(), now), "Tuesday 29 December at 9am");
    }

    #[test]
    fn spans_must_make_sense() {
        assert!(parse_span("09:00-17:00").is_some());
        assert!(parse_span("17:00-09:00").is_none());
        assert!(parse_span("nine to five").is_none());
        assert!(parse_span("24:00-09:00").is_none());
    }

    #[test]
    fn a_span_to_24_00_is_open_until_midnight() {
        let all_day = Team {
            id: "all-day".into(),
            name: "All day".into(),
            hours: [("sat".to_string(), "00:00-24:00".to_string())].into_iter().collect(),
        };
        // Saturday 5 December 2026: open at midnight and in its last second; closed on Sunday.
        assert!(calendar().availability(&all_day, &at("2026-12-05 00:00")).is_open());
        let last_second = London.with_ymd_and_hms(2026, 12, 5, 23, 59, 59).unwrap();
        assert!(calendar().availability(&all_day, &last_second).is_open());
        assert!(!calendar().availability(&all_day, &at("2026-12-06 00:00")).is_open());
    }
}
