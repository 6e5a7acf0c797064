//! The conversation engine: a pure function of (content, conversation state, message) ->
//! (replies, new state). No I/O, no clock, no store: that keeps it testable in microseconds and
//! lets any number of server instances share conversations.

pub mod bf16;
pub mod calibrate;
pub mod classifier;
mod dialogue;
pub mod encoder;
pub mod entities;
pub mod features;
pub mod follow_up;
pub mod knowledge;
pub mod learned;
pub mod matcher;
pub mod network;
pub mod normalise;
pub mod redact;
pub mod spelling;
pub mod state;
pub mod vectors;

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use regex::RegexSet;

use crate::content::{Content, FacetAnswer, Scope};
use encoder::Encoder;
use entities::Gazetteer;
use knowledge::Knowledge;
use matcher::{Decision, Example, Match, MatchSettings, Matcher, Meaning};
use normalise::Normaliser;
pub use state::{
    Context, ConversationState, HandoffReason, HandoffRequest, MatchKind, Matched, Mode, Offer, Reply,
    TOPIC_HISTORY, TeamStatus, Turn,
};

/// A topic suggested to an agent.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Suggestion {
    pub id: String,
    pub title: String,
    pub url: String,
    pub text: String,
}

/// Every place the content names, in the county and beyond its border: real words, never to
/// be "put right" into another ("Uxbridge" is not "bridge").
pub(crate) fn all_place_names(content: &Content) -> Vec<String> {
    let mut names = entities::place_names(&content.districts);
    names.extend(entities::place_names(&content.neighbours));
    names
}

/// How the topics' matcher reads words: the editors' synonyms, and no place names.
pub fn topics_normaliser(content: &Content) -> Normaliser {
    Normaliser::new(&content.synonyms).without_places(entities::place_names(&content.districts))
}

/// The phone numbers the content publishes: in answers, facet answers, articles and district
/// details.
fn published_numbers(content: &Content) -> Vec<String> {
    let facet_texts = |facets: &'_ std::collections::BTreeMap<String, crate::content::FacetAnswer>| {
        facets
            .values()
            .filter_map(|f| match f {
                crate::content::FacetAnswer::Text(text) => Some(text.clone()),
                crate::content::FacetAnswer::Goto { .. } => None,
            })
            .collect::<Vec<_>>()
    };
    let texts = content
        .intents
        .iter()
        .flat_map(|i| i.answer.iter().cloned().chain(facet_texts(&i.facets)))
        .chain(
            content
                .articles
                .iter()
                .flat_map(|a| std::iter::once(a.body.clone()).chain(facet_texts(&a.facets))),
        )
        .chain(content.districts.iter().map(|d| d.phone.clone()));
    let finder = redact::Redactor::default();
    texts
        .flat_map(|text| {
            finder
                .find(&text)
                .into_iter()
                .filter(|found| found.kind == redact::PiiKind::Phone)
                .map(|found| text[found.range].to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The confidence at which a follow-up is taken to ask about one facet rather than in general.
const FACET_SURE: f32 = 0.4;

/// The team a conversation goes to when its topic names none.
pub const DEFAULT_TEAM: &str = "customer-service";

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("cannot build the article index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("invalid emergency pattern: {0}")]
    Emergency(#[from] regex::Error),
}

#[derive(Debug)]
pub struct Engine {
    pub content: Content,
    pub matcher: Matcher,
    /// Tells which detail a follow-up asks about (cost, how long, ...); None without facets.
    facets: Option<Matcher>,
    /// The words detail questions are made of, to tell a follow-up from a new question.
    details: follow_up::DetailWords,
    gazetteer: Gazetteer,
    /// The places of the councils beyond the county's border.
    outside: Gazetteer,
    emergency: Option<RegexSet>,
    /// Takes personal data out of what residents and agents write, keeping the numbers the
    /// content itself publishes (the council's own are not a resident's personal data).
    redactor: redact::Redactor,
}

/// The sentence encoder with the embeddings of the content's phrasings, by text: given to the
/// engine by the edge, which keeps them on disk between starts.
#[derive(Debug, Clone)]
pub struct ContentMeaning {
    pub encoder: Arc<Encoder>,
    pub embeddings: HashMap<String, Vec<f32>>,
}

impl ContentMeaning {
    /// The embeddings of `examples`, in order, when every one is known.
    pub fn of(&self, examples: &[Example]) -> Option<Meaning> {
        let embeddings: Option<Vec<Vec<f32>>> =
            examples.iter().map(|e| self.embeddings.get(&e.text).cloned()).collect();
        Some(Meaning { encoder: self.encoder.clone(), embeddings: embeddings? })
    }

    /// Every text the engine needs embedded for `content`: its training phrasings.
    pub fn texts_needed(content: &Content) -> Vec<String> {
        training_examples(content).into_iter().map(|e| e.text).collect()
    }
}

impl Engine {
    /// Trains the matcher on the content's intent examples and article titles and questions.
    pub fn build(content: Content, settings: MatchSettings) -> Result<Self, EngineError> {
        Self::build_with_meaning(content, settings, None)
    }

    /// [`Engine::build`], with the sentence encoder beside the fast models when given.
    pub fn build_with_meaning(
        content: Content,
        settings: MatchSettings,
        meaning: Option<&ContentMeaning>,
    ) -> Result<Self, EngineError> {
        Self::build_or_load(content, settings, meaning, None)
    }

    /// [`Engine::build_with_meaning`], taking the weights learned by an earlier build
    /// ([`Engine::learned_weights`], as safetensors bytes) instead of training, when they fit.
    pub fn build_or_load(
        content: Content,
        settings: MatchSettings,
        meaning: Option<&ContentMeaning>,
        learned: Option<&[u8]>,
    ) -> Result<Self, EngineError> {
        let (learned_topics, learned_facets) = match learned.and_then(learned::from_safetensors) {
            Some((topics, facets)) => (Some(topics), facets),
            None => (None, None),
        };
        let examples = training_examples(&content);
        let declines: Vec<String> =
            content.intents.iter().filter(|i| i.scope == Scope::Elsewhere).map(|i| i.id.clone()).collect();
        let knowledge =
            if content.articles.is_empty() { None } else { Some(Knowledge::build(&content.articles)?) };
        let normaliser = topics_normaliser(&content);
        let meaning = meaning.and_then(|m| m.of(&examples));
        let mut matcher = Matcher::train_or_load(
            normaliser,
            &examples,
            &declines,
            knowledge,
            meaning,
            settings,
            learned_topics,
        );
        matcher.know_words(all_place_names(&content));
        let facet_examples: Vec<Example> = content
            .facets
            .iter()
            .flat_map(|f| f.examples.iter().map(|text| Example { text: text.clone(), label: f.id.clone() }))
            .collect();
        let facets = (!facet_examples.is_empty()).then(|| {
            // Slips are put right once, by the topics' matcher, whose dictionary is the content's.
            let settings = MatchSettings { network_share: 0.0, correct_spelling: false, ..settings };
            let normaliser = Normaliser::new(&content.synonyms);
            Matcher::train_or_load(normaliser, &facet_examples, &[], None, None, settings, learned_facets)
        });
        let emergency = match &content.emergency {
            Some(e) if !e.patterns.is_empty() => Some(RegexSet::new(&e.patterns)?),
            _ => None,
        };
        let details = follow_up::DetailWords::new(
            &Normaliser::new(&content.synonyms),
            content.facets.iter().flat_map(|f| f.examples.iter().map(String::as_str)),
        );
        let gazetteer = Gazetteer::new(&content.districts);
        let outside = Gazetteer::new(&content.neighbours);
        let redactor = redact::Redactor::new(published_numbers(&content));
        Ok(Self { content, matcher, facets, details, gazetteer, outside, emergency, redactor })
    }

    /// Whether the matchers' weights were loaded rather than trained.
    pub fn weights_loaded(&self) -> bool {
        self.matcher.weights_loaded() && self.facets.as_ref().is_none_or(Matcher::weights_loaded)
    }

    /// The weights the engine's matchers learned, as safetensors bytes for
    /// [`Engine::build_or_load`].
    pub fn learned_weights(&self) -> Vec<u8> {
        learned::to_safetensors(self.matcher.learned(), self.facets.as_ref().map(Matcher::learned))
    }

    /// `text` with personal data replaced by labels ("[phone]"), as it may be stored or logged.
    pub fn redact(&self, text: &str) -> String {
        self.redactor.redact(text)
    }

    /// The first message of every conversation.
    pub fn welcome(&self) -> Reply {
        Reply {
            text: self.content.messages.welcome.clone(),
            quick_replies: Vec::new(),
            links: Vec::new(),
            answer: false,
            form: None,
        }
    }

    /// What the matcher makes of a text, with its reasons (for `ask` and the editor).
    pub fn explain(&self, text: &str) -> Match {
        self.matcher.classify(text)
    }

    /// Answers one resident message. Every step reads it with its typing slips put right
    /// (a misspelt town, facet or emergency word counts as the word meant); danger is looked
    /// for in the words as written too, since putting right a word the content never uses
    /// ("chucking") can change the very word a danger rule names.
    pub fn reply(&self, state: &ConversationState, text: &str, context: &Context) -> Turn {
        let corrected = self.matcher.corrected(text);
        let changed = matches!(corrected, std::borrow::Cow::Owned(_));
        let danger = self.is_emergency(&corrected) || (changed && self.is_emergency(text));
        dialogue::Dialogue::new(self, state.clone(), context).respond(&corrected, danger)
    }

    /// A topic's title, for buttons and the agent console.
    pub fn title_of(&self, id: &str) -> String {
        let content = &self.content;
        content
            .intent(id)
            .map(|i| i.title.clone())
            .or_else(|| content.article(id).map(|a| a.title.clone()))
            .unwrap_or_else(|| id.to_string())
    }

    pub fn district_name(&self, district_id: &str) -> Option<String> {
        self.content.districts.iter().find(|d| d.id == district_id).map(|d| d.name.clone())
    }

    /// The resident's message the agent's suggestions should answer: the newest that the
    /// matcher reads as a council topic, not "can I talk to a person", "thanks" or an
    /// unanswerable aside; else the current topic's title.
    pub fn suggestion_text<'m>(
        &self,
        resident_messages: &[&'m str],
        topic: Option<&str>,
    ) -> Option<Cow<'m, str>> {
        let says_something = |text: &&&str| match self.matcher.classify(text).decision {
            Decision::Answer { id, .. } => {
                self.content.intent(&id).is_none_or(|i| i.scope != Scope::Conversation)
            }
            Decision::Clarify { .. } => true,
            Decision::Decline { .. } => false,
        };
        resident_messages
            .iter()
            .rev()
            .find(says_something)
            .map(|text| Cow::Borrowed(*text))
            .or_else(|| topic.map(|t| Cow::Owned(self.title_of(t))))
    }

    /// Topics that may answer `text`, for an agent to pass on: title, link and a short text.
    pub fn suggestions(
        &self,
        text: &str,
        place: Option<&entities::PlaceMatch>,
        limit: usize,
    ) -> Vec<Suggestion> {
        let district = place.and_then(|p| self.content.districts.iter().find(|d| d.id == p.district_id));
        let (_, candidates) = self.matcher.candidates(text);
        candidates
            .into_iter()
            .filter(|c| !self.matcher.is_decline_label(&c.id) && c.confidence >= 0.05)
            .filter_map(|c| {
                let intent = self.content.intent(&c.id);
                if intent.is_some_and(|i| i.scope == Scope::Conversation) {
                    return None;
                }
                let article = self.content.article(&c.id);
                let url = article
                    .map(|a| a.url.clone())
                    .or_else(|| intent.and_then(|i| i.links.first().map(|l| l.url.clone())))?;
                let body =
                    intent.and_then(|i| i.answer.clone()).or_else(|| article.map(|a| a.body.clone()))?;
                let first_paragraph = body.split("\n\n").next().unwrap_or_default();
                // Templates are filled as the resident would read them, never shown raw.
                let first_paragraph = match district {
                    Some(d) => dialogue::fill_district(first_paragraph, place.map(|p| p.name.as_str()), d),
                    None => dialogue::fill_any_district(first_paragraph),
                };
                Some(Suggestion { id: c.id.clone(), title: self.title_of(&c.id), url, text: first_paragraph })
            })
            .take(limit)
            .collect()
    }

    /// The detail a message asks about, when one is clear.
    fn facet_of(&self, text: &str) -> Option<String> {
        let (_, candidates) = self.facets.as_ref()?.candidates(text);
        let best = candidates.into_iter().next()?;
        (best.confidence >= FACET_SURE).then_some(best.id)
    }

    /// Whether a message asks only about a detail of something already said ("how long does
    /// that take?"): a question, none of whose words name a topic, that surely asks one of
    /// the facets. "That's really useful, ta" asks nothing.
    fn asks_a_detail(&self, text: &str) -> bool {
        follow_up::is_question(text) && !self.stands_alone(text) && self.facet_of(text).is_some()
    }

    /// Whether a message's own words are mostly ones `topic`'s answer used (its intent's answer,
    /// its article, their detail answers): it asks about what it was told.
    fn echoes_answer(&self, text: &str, topic: &str) -> bool {
        let message = self.matcher.normalise(text);
        // Most follow-ups are bare detail questions: no need to read the answer for those.
        if follow_up::own_words(&message, &self.details).len() < 2 {
            return false;
        }
        let (intent, article) = (self.content.intent(topic), self.content.article(topic));
        let answers =
            intent.and_then(|i| i.answer.as_deref()).into_iter().chain(article.map(|a| a.body.as_str()));
        let facets =
            intent.map(|i| &i.facets).into_iter().chain(article.map(|a| &a.facets)).flat_map(|f| f.values());
        let facet_answers = facets.filter_map(|facet| match facet {
            FacetAnswer::Text(text) => Some(text.as_str()),
            FacetAnswer::Goto { .. } => None,
        });
        let said = answers.chain(facet_answers).collect::<Vec<_>>().join("\n");
        follow_up::echoes_answer(&message, &self.matcher.normalise(&said), &self.details)
    }

    /// Whether a message's own words are mostly ones `said` used.
    fn echoes(&self, text: &str, said: &str) -> bool {
        follow_up::echoes_answer(&self.matcher.normalise(text), &self.matcher.normalise(said), &self.details)
    }

    /// Whether a message is a question of its own, not one that leans on the conversation.
    fn stands_alone(&self, text: &str) -> bool {
        follow_up::stands_alone(&self.matcher.normalise(text), &self.details)
    }

    fn is_emergency(&self, text: &str) -> bool {
        self.emergency.as_ref().is_some_and(|set| set.is_match(&text.to_lowercase()))
    }
}

pub(crate) fn training_examples(content: &Content) -> Vec<Example> {
    let intents = content.intents.iter().flat_map(|intent| {
        intent.examples.iter().map(|text| Example { text: text.clone(), label: intent.id.clone() })
    });
    let articles = content.articles.iter().flat_map(|article| {
        std::iter::once(&article.title)
            .chain(&article.questions)
            .map(|text| Example { text: text.clone(), label: article.id.clone() })
    });
    intents.chain(articles).collect()
}
