//! Whether a message stands on its own or leans on what was said before. A resident who asks
//! "what does that cost?" points back at the topic; one who writes "one more thing, when is
//! our bin day?" starts a new one even though the conversation has a topic.

use std::collections::HashSet;

use super::normalise::{Normalised, Normaliser};

/// Words that point back at something already said. Possessives ("their", "his") and
/// "there" are left out: "there's a pothole on my road" points at nothing.
const POINTERS: &[&str] =
    &["it", "its", "that", "this", "these", "those", "they", "them", "he", "him", "she", "her"];

/// Words that carry no topic in any question.
const FUNCTION_WORDS: &[&str] = &[
    "a", "an", "and", "also", "am", "are", "as", "at", "be", "but", "by", "can", "could", "did", "do",
    "does", "for", "from", "have", "has", "how", "i", "if", "in", "is", "me", "my", "not", "of", "on", "or",
    "so", "the", "to", "was", "we", "what", "when", "where", "which", "who", "will", "with", "would", "you",
    "your", "our", "us", "just", "then", "ok", "okay", "right", "please", "thanks", "thank", "still",
    "again", "about", "any", "anything", "there", "their", "his", "should", "shall", "may", "might",
];

/// The words a question about a detail is made of: the facet phrasings' words plus function
/// words. A message made only of these names no topic ("how long have we got?").
#[derive(Debug)]
pub struct DetailWords {
    stems: HashSet<String>,
}

impl DetailWords {
    pub fn new<'a>(normaliser: &Normaliser, facet_phrasings: impl IntoIterator<Item = &'a str>) -> Self {
        let mut stems: HashSet<String> = HashSet::new();
        for phrasing in
            facet_phrasings.into_iter().chain(FUNCTION_WORDS.iter().copied()).chain(POINTERS.iter().copied())
        {
            stems.extend(normaliser.normalise(phrasing).stems);
        }
        Self { stems }
    }

    /// Whether every word of the message belongs to detail questions.
    pub fn only_detail(&self, message: &Normalised) -> bool {
        message.stems.iter().all(|stem| self.stems.contains(stem))
    }
}

/// Time words after which "this" or "that" points at a time, not at what was said: "this week".
const TIMES: &[&str] = &[
    "morning",
    "afternoon",
    "evening",
    "night",
    "day",
    "days",
    "week",
    "weeks",
    "weekend",
    "month",
    "months",
    "year",
    "years",
    "time",
    "summer",
    "winter",
    "spring",
    "autumn",
    "christmas",
    "term",
];

/// Whether the message points back at something already said.
pub fn points_back(message: &Normalised) -> bool {
    let words = &message.words;
    words.iter().enumerate().any(|(i, word)| {
        let names_a_time = matches!(word.as_str(), "this" | "that" | "these" | "those")
            && words.get(i + 1).is_some_and(|next| TIMES.contains(&next.as_str()));
        POINTERS.contains(&word.as_str()) && !names_a_time
    })
}

/// Words a question opens with.
const QUESTION_OPENERS: &[&str] = &[
    "how", "what", "when", "where", "who", "which", "why", "is", "are", "do", "does", "did", "can", "could",
    "will", "would", "should", "and", "so",
];

/// Whether a message is put as a question: a question mark, or a question word first.
pub fn is_question(text: &str) -> bool {
    let text = text.trim();
    text.ends_with('?') || first_word(text).is_some_and(|w| QUESTION_OPENERS.contains(&w.as_str()))
}

/// The message's first word, lowercased, apostrophes kept ("who's").
fn first_word(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_alphanumeric() && c != '\'').find(|w| !w.is_empty()).map(str::to_lowercase)
}

/// Whether the message's own words are mostly words the topic's answer used: "do I have to
/// contact the pension people and the DVLA separately?" after an answer saying that Tell Us Once
/// tells the DVLA and the Department for Work and Pensions. Such a message asks about what it was
/// told, even when its words alone point at someone else's business. Own words: those that are
/// not detail words; at least two of them echoed, and two in three.
pub fn echoes_answer(message: &Normalised, answer: &Normalised, details: &DetailWords) -> bool {
    let said: HashSet<&str> = answer.stems.iter().map(String::as_str).collect();
    let own = own_words(message, details);
    let echoed = own.iter().filter(|stem| said.contains(*stem)).count();
    echoed >= 2 && echoed * 3 >= own.len() * 2
}

/// The message's words (stems) that are not detail or function words: what it names itself.
/// Fewer than two, and it echoes nothing, so a caller need not read the answer at all.
pub fn own_words<'m>(message: &'m Normalised, details: &DetailWords) -> HashSet<&'m str> {
    message.stems.iter().map(String::as_str).filter(|stem| !details.stems.contains(*stem)).collect()
}

/// Whether a message asks who: "who should I ring about it?", "whom do I write to?".
pub fn asks_who(text: &str) -> bool {
    first_word(text).is_some_and(|w| matches!(w.as_str(), "who" | "whom" | "who's" | "whos"))
}

/// Whether a message opens with a greeting: "Greetings from Ware!", "Morning, I'm in Tring".
pub fn opens_with_greeting(text: &str) -> bool {
    let mut words =
        text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase);
    match words.next().as_deref() {
        Some("hello" | "hi" | "hiya" | "hey" | "heya" | "hullo" | "greetings" | "howdy") => true,
        Some("morning" | "afternoon" | "evening") => true,
        Some("good") => matches!(words.next().as_deref(), Some("morning" | "afternoon" | "evening" | "day")),
        _ => false,
    }
}

/// Whether a message is a question of its own: it neither points back nor only asks a detail.
pub fn stands_alone(message: &Normalised, details: &DetailWords) -> bool {
    !points_back(message) && !details.only_detail(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn details() -> (Normaliser, DetailWords) {
        let normaliser = Normaliser::new(&std::collections::BTreeMap::new());
        let details = DetailWords::new(
            &normaliser,
            ["how much does it cost", "how long does it take", "who do i call"],
        );
        (normaliser, details)
    }

    #[test]
    fn a_detail_question_does_not_stand_alone() {
        let (normaliser, details) = details();
        for text in ["How much does it cost?", "how long will that take", "who do I call?"] {
            assert!(!stands_alone(&normaliser.normalise(text), &details), "{text}");
        }
    }

    #[test]
    fn a_question_naming_something_new_stands_alone() {
        let (normaliser, details) = details();
        for text in
            ["One more thing, when is our bin day?", "My recycling box wasn't emptied, who do I call?"]
        {
            assert!(stands_alone(&normaliser.normalise(text), &details), "{text}");
        }
    }

    #[test]
    fn a_question_is_known_by_its_mark_or_its_first_word() {
        for text in ["how long does all that take", "And what does it cost", "is it free?", "the fee?"] {
            assert!(is_question(text), "{text}");
        }
        for text in ["That's really useful, ta", "thanks, that's all", "ok bye", ""] {
            assert!(!is_question(text), "{text}");
        }
    }

    #[test]
    fn a_message_echoing_the_answer_asks_about_it() {
        let (normaliser, details) = details();
        let answer = normaliser.normalise(
            "Tell Us Once tells the Department for Work and Pensions and the DVLA. You do not need to \
             contact each of them separately.",
        );
        let echoes = |text: &str| echoes_answer(&normaliser.normalise(text), &answer, &details);
        assert!(echoes("do I have to contact the pension people and the DVLA separately?"));
        assert!(!echoes("can you recommend a plumber"), "no word of it was said");
        assert!(
            !echoes("how do I renew my passport and book a driving test with the DVLA"),
            "one word in six"
        );
    }

    #[test]
    fn a_who_question_is_known_by_its_first_word() {
        for text in ["who should I ring to talk it over?", "Whom do I write to", "  who's the contact"] {
            assert!(asks_who(text), "{text}");
        }
        for text in ["can I talk to someone about it", "I don't know who to ask", ""] {
            assert!(!asks_who(text), "{text}");
        }
    }

    #[test]
    fn a_greeting_opens_the_message() {
        for text in [
            "Greetings from a rainy Ware!",
            "good morning, I live in Tring",
            "Hiya from Hemel",
            "Evening all",
        ] {
            assert!(opens_with_greeting(text), "{text}");
        }
        for text in ["good luck finding a bin day", "this evening the lights went out", "Hitchin please"] {
            assert!(!opens_with_greeting(text), "{text}");
        }
    }

    #[test]
    fn pointing_back_leans_on_the_conversation() {
        let (normaliser, _) = details();
        assert!(points_back(&normaliser.normalise("can they take away an old sofa as well?")));
        assert!(!points_back(&normaliser.normalise("There's a pothole outside my house")));
        assert!(!points_back(&normaliser.normalise("my bin was not emptied this week")));
    }
}
