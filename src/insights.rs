//! What editors learn from the counters (`store::CountStore`): per day and per topic, how many
//! questions were answered, declined, clarified or handed to a person, the feedback on
//! answers, and how many conversations were resolved without a person (containment). Pure:
//! counters in, summaries and CSV out.

use chrono::NaiveDate;
use serde::Serialize;

use crate::content::{Content, Scope};
use crate::engine::{MatchKind, Matched};
use crate::store::{DayCount, Unanswered};

/// Counter names, in the order reports show them.
pub const CONVERSATIONS: &str = "conversations";
pub const ANSWERED: &str = "answered";
pub const DECLINED: &str = "declined";
pub const CLARIFIED: &str = "clarified";
pub const HANDED_OFF: &str = "handed_off";
pub const HELPFUL: &str = "helpful";
pub const UNHELPFUL: &str = "unhelpful";

/// The topic of questions with none.
pub const NO_TOPIC: &str = "-";

/// What one reply counts as, and for which topic: a topic's answer, a decline (no topic, or a
/// not-the-council topic that says who does it), or a "did you mean". Greetings, thanks and
/// asking for a person are not questions and count as nothing here.
pub fn outcome_of(matched: &Matched, content: &Content) -> Option<(String, &'static str)> {
    let topic = matched.id.clone().unwrap_or_else(|| NO_TOPIC.to_string());
    let scope = content.intent(&topic).map(|i| i.scope);
    let what = match (matched.kind, scope) {
        (MatchKind::Intent, Some(Scope::Conversation)) => return None,
        (MatchKind::Clarify, _) => CLARIFIED,
        (MatchKind::None, _) | (MatchKind::Intent, Some(Scope::Elsewhere)) => DECLINED,
        (MatchKind::Intent | MatchKind::Article, _) => ANSWERED,
    };
    Some((topic, what))
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Tally {
    /// Conversations in which a resident asked something.
    pub conversations: u64,
    pub answered: u64,
    pub declined: u64,
    pub clarified: u64,
    pub handed_off: u64,
    pub helpful: u64,
    pub unhelpful: u64,
}

impl Tally {
    fn add(&mut self, what: &str, count: u64) {
        let field = match what {
            CONVERSATIONS => &mut self.conversations,
            ANSWERED => &mut self.answered,
            DECLINED => &mut self.declined,
            CLARIFIED => &mut self.clarified,
            HANDED_OFF => &mut self.handed_off,
            HELPFUL => &mut self.helpful,
            UNHELPFUL => &mut self.unhelpful,
            // A counter this build does not know (written by a newer one) is left out.
            _ => return,
        };
        *field += count;
    }

    fn row(&self) -> [u64; 7] {
        [
            self.conversations,
            self.answered,
            self.declined,
            self.clarified,
            self.handed_off,
            self.helpful,
            self.unhelpful,
        ]
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DayTally {
    #[schema(format = Date)]
    pub day: String,
    pub tally: Tally,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TopicTally {
    /// The topic's id, or `-` for questions with none.
    pub topic: String,
    pub title: Option<String>,
    pub tally: Tally,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Insights {
    #[schema(format = Date)]
    pub from: String,
    #[schema(format = Date)]
    pub to: String,
    pub totals: Tally,
    /// The share of conversations with a question that no person was needed for; `null`
    /// when there were none.
    pub containment: Option<f64>,
    /// Every day of the period, oldest first.
    pub by_day: Vec<DayTally>,
    /// Topics by questions asked, most first.
    pub by_topic: Vec<TopicTally>,
}

/// The `days` days up to and including `to`, oldest first.
pub fn period(to: NaiveDate, days: u32) -> Vec<NaiveDate> {
    (0..days.max(1)).rev().filter_map(|back| to.checked_sub_days(chrono::Days::new(back.into()))).collect()
}

pub fn summarise(counts: &[DayCount], days: &[NaiveDate], content: &Content) -> Insights {
    let mut totals = Tally::default();
    let mut by_day: Vec<DayTally> =
        days.iter().map(|d| DayTally { day: d.to_string(), tally: Tally::default() }).collect();
    let mut by_topic: std::collections::BTreeMap<&str, Tally> = Default::default();
    for count in counts {
        totals.add(&count.what, count.count);
        if let Some(day) = days.iter().position(|d| *d == count.day) {
            by_day[day].tally.add(&count.what, count.count);
        }
        if count.what != CONVERSATIONS {
            by_topic.entry(&count.topic).or_default().add(&count.what, count.count);
        }
    }
    let title = |topic: &str| {
        content
            .intent(topic)
            .map(|i| i.title.clone())
            .or_else(|| content.article(topic).map(|a| a.title.clone()))
    };
    let mut by_topic: Vec<TopicTally> = by_topic
        .into_iter()
        .map(|(topic, tally)| TopicTally { topic: topic.to_string(), title: title(topic), tally })
        .collect();
    let asked = |t: &Tally| t.answered + t.declined + t.clarified;
    by_topic.sort_by(|a, b| asked(&b.tally).cmp(&asked(&a.tally)).then_with(|| a.topic.cmp(&b.topic)));
    let containment = (totals.conversations > 0)
        .then(|| totals.conversations.saturating_sub(totals.handed_off) as f64 / totals.conversations as f64);
    Insights {
        from: days.first().map(ToString::to_string).unwrap_or_default(),
        to: days.last().map(ToString::to_string).unwrap_or_default(),
        totals,
        containment,
        by_day,
        by_topic,
    }
}

/// One row per day and topic, for a spreadsheet.
pub fn to_csv(counts: &[DayCount], content: &Content) -> String {
    let mut rows: std::collections::BTreeMap<(NaiveDate, &str), Tally> = Default::default();
    for count in counts {
        rows.entry((count.day, &count.topic)).or_default().add(&count.what, count.count);
    }
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header = [
        "day",
        "topic",
        "title",
        CONVERSATIONS,
        ANSWERED,
        DECLINED,
        CLARIFIED,
        HANDED_OFF,
        HELPFUL,
        UNHELPFUL,
    ];
    // Writing to memory cannot fail; a row that somehow does is left out rather than panicking.
    writer.write_record(header).ok();
    for ((day, topic), tally) in rows {
        let title = content.intent(topic).map(|i| i.title.as_str()).unwrap_or_default();
        let mut record = vec![day.to_string(), topic.to_string(), title.to_string()];
        record.extend(tally.row().iter().map(u64::to_string));
        writer.write_record(&record).ok();
    }
    String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// Unanswered questions that say much the same thing, with the topic the assistant thought
/// nearest: what editors should write next, most asked first.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct QuestionGroup {
    /// The best guess's id, `null` when there was none.
    pub best: Option<String>,
    pub title: Option<String>,
    pub count: usize,
    /// The newest question of the group.
    pub sample: String,
    /// Up to 10 of its questions, newest first (as stored: redacted).
    pub questions: Vec<String>,
}

/// Words too common to say what a question is about.
const COMMON: &[&str] = &[
    "a", "an", "the", "i", "me", "my", "we", "our", "you", "your", "it", "is", "are", "be", "to", "do",
    "doe", "can", "how", "what", "where", "when", "who", "whi", "for", "of", "in", "on", "at", "and", "or",
    "there", "get", "have", "not", "pleas", "this", "that", "with", "about", "would", "will", "if",
];

/// Groups questions with the same best guess whose content words mostly overlap (Jaccard
/// >= 0.5 with the group's first question). Greedy and in order, so the result is stable.
pub fn group_unanswered(questions: &[Unanswered], content: &Content) -> Vec<QuestionGroup> {
    // The ask, not the town: "library hours in Ware" and "in Tring" are one question.
    let normaliser = crate::engine::topics_normaliser(content);
    let words = |text: &str| -> std::collections::BTreeSet<String> {
        normaliser.normalise(text).stems.into_iter().filter(|s| !COMMON.contains(&s.as_str())).collect()
    };
    let mut groups: Vec<(std::collections::BTreeSet<String>, QuestionGroup)> = Vec::new();
    for question in questions {
        let own = words(&question.text);
        let similar = |first: &std::collections::BTreeSet<String>| {
            let union = own.union(first).count();
            union == 0 || own.intersection(first).count() * 2 >= union
        };
        match groups.iter_mut().find(|(first, g)| g.best == question.best && similar(first)) {
            Some((_, group)) => {
                group.count += 1;
                if group.questions.len() < 10 {
                    group.questions.push(question.text.clone());
                }
            }
            None => {
                let title = question.best.as_deref().and_then(|id| {
                    content
                        .intent(id)
                        .map(|i| i.title.clone())
                        .or_else(|| content.article(id).map(|a| a.title.clone()))
                });
                groups.push((
                    own,
                    QuestionGroup {
                        best: question.best.clone(),
                        title,
                        count: 1,
                        sample: question.text.clone(),
                        questions: vec![question.text.clone()],
                    },
                ));
            }
        }
    }
    let mut groups: Vec<QuestionGroup> = groups.into_iter().map(|(_, g)| g).collect();
    // Stable: equal counts keep the newest group first.
    groups.sort_by_key(|g| std::cmp::Reverse(g.count));
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::ContentFiles;

    fn content() -> Content {
        let mut files = ContentFiles::default();
        files.intents.insert(
            "a.toml".into(),
            "[[intent]]\nid = \"potholes\"\ntitle = \"Potholes, roads\"\nexamples = [\"report a pothole\", \"hole in road\"]\nanswer = \"Report it.\"\n\n[[intent]]\nid = \"elsewhere-tv\"\nscope = \"elsewhere\"\ntitle = \"TV licence\"\nexamples = [\"tv licence\", \"licence fee\"]\nanswer = \"TV Licensing does it.\"\n\n[[intent]]\nid = \"hello\"\nscope = \"conversation\"\ntitle = \"Hello\"\nexamples = [\"hello\", \"hi there\"]\nanswer = \"Hello!\"\n".into(),
        );
        files.parse().unwrap()
    }

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn count(d: &str, topic: &str, what: &str, n: u64) -> DayCount {
        DayCount { day: day(d), topic: topic.into(), what: what.into(), count: n }
    }

    #[test]
    fn a_not_the_council_topic_counts_as_declined() {
        let content = content();
        let matched = |kind, id: &str| Matched { kind, id: Some(id.into()), confidence: 0.9 };
        let answered = outcome_of(&matched(MatchKind::Intent, "potholes"), &content);
        assert_eq!(answered, Some(("potholes".into(), ANSWERED)));
        let elsewhere = outcome_of(&matched(MatchKind::Intent, "elsewhere-tv"), &content);
        assert_eq!(elsewhere, Some(("elsewhere-tv".into(), DECLINED)));
        assert_eq!(outcome_of(&Matched::none(0.1), &content), Some((NO_TOPIC.into(), DECLINED)));
        let greeting = outcome_of(&matched(MatchKind::Intent, "hello"), &content);
        assert_eq!(greeting, None, "a greeting is no question");
    }

    #[test]
    fn days_topics_and_containment_add_up() {
        let counts = [
            count("2026-12-02", NO_TOPIC, CONVERSATIONS, 4),
            count("2026-12-02", "potholes", ANSWERED, 3),
            count("2026-12-03", "potholes", HANDED_OFF, 1),
            count("2026-12-03", "potholes", UNHELPFUL, 1),
            count("2026-12-03", NO_TOPIC, DECLINED, 5),
            count("2026-11-01", "potholes", ANSWERED, 9),
        ];
        let days = period(day("2026-12-03"), 3);
        let within: Vec<DayCount> = counts.iter().filter(|c| days.contains(&c.day)).cloned().collect();
        let insights = summarise(&within, &days, &content());
        assert_eq!((insights.from.as_str(), insights.to.as_str()), ("2026-12-01", "2026-12-03"));
        assert_eq!(insights.by_day.len(), 3);
        assert_eq!(insights.by_day[1].tally.answered, 3);
        assert_eq!(insights.totals.answered, 3, "the day outside the period is not counted");
        assert_eq!(insights.containment, Some(0.75));
        assert_eq!(insights.by_topic[0].topic, NO_TOPIC, "most asked first");
        assert_eq!(insights.by_topic[1].title.as_deref(), Some("Potholes, roads"));
        assert_eq!(insights.by_topic[1].tally.unhelpful, 1);
    }

    #[test]
    fn csv_quotes_titles_with_commas() {
        let csv = to_csv(&[count("2026-12-02", "potholes", ANSWERED, 3)], &content());
        let mut lines = csv.lines();
        assert_eq!(
            lines.next(),
            Some("day,topic,title,conversations,answered,declined,clarified,handed_off,helpful,unhelpful")
        );
        assert_eq!(lines.next(), Some("2026-12-02,potholes,\"Potholes, roads\",0,3,0,0,0,0,0"));
    }

    fn unanswered(text: &str, best: Option<&str>) -> Unanswered {
        Unanswered {
            text: text.into(),
            at: "2026-12-04T09:00:00Z".into(),
            kind: "none".into(),
            best: best.map(Into::into),
            confidence: 0.2,
        }
    }

    #[test]
    fn questions_saying_the_same_thing_are_grouped_most_asked_first() {
        let questions = [
            unanswered("can I get a parking permit for my street", Some("potholes")),
            unanswered("how do I get a parking permit for my street", Some("potholes")),
            unanswered("where is the nearest swimming pool", None),
            unanswered("parking permit for my street please", Some("potholes")),
            unanswered("parking permit for my street", None),
        ];
        let groups = group_unanswered(&questions, &content());
        assert_eq!(groups.len(), 3, "{groups:?}");
        assert_eq!((groups[0].count, groups[0].best.as_deref()), (3, Some("potholes")));
        assert_eq!(groups[0].title.as_deref(), Some("Potholes, roads"));
        assert_eq!(groups[0].sample, "can I get a parking permit for my street");
        assert_eq!(groups[1].sample, "where is the nearest swimming pool", "equal counts keep their order");
        assert_eq!(groups[2].best, None, "a different best guess is another group");
    }
}
