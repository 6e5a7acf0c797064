//! The conversation engine: a pure function of (content, conversation state, message) ->
//! (replies, new state). No I/O, no clock, no store: that keeps it testable in microseconds and
//! lets any number of server instances share conversations.

pub mod classifier;
mod dialogue;
pub mod entities;
pub mod features;
pub mod knowledge;
pub mod matcher;
pub mod normalise;
pub mod state;

use regex::RegexSet;

use crate::content::{Content, Scope};
use entities::Gazetteer;
use knowledge::Knowledge;
use matcher::{Example, Match, MatchSettings, Matcher};
use normalise::Normaliser;
pub use state::{
    ConversationState, HandoffReason, HandoffRequest, MatchKind, Matched, Mode, Offer, Reply, Turn,
};

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
    gazetteer: Gazetteer,
    emergency: Option<RegexSet>,
}

impl Engine {
    /// Trains the matcher on the content's intent examples and article titles and questions.
    pub fn build(content: Content, settings: MatchSettings) -> Result<Self, EngineError> {
        let examples = training_examples(&content);
        let declines: Vec<String> = content
            .intents
            .iter()
            .filter(|i| i.scope == Scope::Elsewhere)
            .map(|i| i.id.clone())
            .collect();
        let knowledge = if content.articles.is_empty() {
            None
        } else {
            Some(Knowledge::build(&content.articles)?)
        };
        let normaliser = Normaliser::new(&content.synonyms);
        let matcher = Matcher::train(normaliser, &examples, &declines, knowledge, settings);
        let emergency = match &content.emergency {
            Some(e) if !e.patterns.is_empty() => Some(RegexSet::new(&e.patterns)?),
            _ => None,
        };
        let gazetteer = Gazetteer::new(&content.districts);
        Ok(Self {
            content,
            matcher,
            gazetteer,
            emergency,
        })
    }

    /// The first message of every conversation.
    pub fn welcome(&self) -> Reply {
        Reply {
            text: self.content.messages.welcome.clone(),
            quick_replies: Vec::new(),
            links: Vec::new(),
            answer: false,
        }
    }

    /// What the matcher makes of a text, with its reasons (for `ask` and the editor).
    pub fn explain(&self, text: &str) -> Match {
        self.matcher.classify(text)
    }

    /// Answers one resident message.
    pub fn reply(&self, state: &ConversationState, text: &str) -> Turn {
        dialogue::Dialogue::new(self, state.clone()).respond(text)
    }

    pub fn gazetteer(&self) -> &Gazetteer {
        &self.gazetteer
    }

    fn is_emergency(&self, text: &str) -> bool {
        self.emergency
            .as_ref()
            .is_some_and(|set| set.is_match(&text.to_lowercase()))
    }
}

fn training_examples(content: &Content) -> Vec<Example> {
    let intents = content.intents.iter().flat_map(|intent| {
        intent.examples.iter().map(|text| Example {
            text: text.clone(),
            label: intent.id.clone(),
        })
    });
    let articles = content.articles.iter().flat_map(|article| {
        std::iter::once(&article.title)
            .chain(&article.questions)
            .map(|text| Example {
                text: text.clone(),
                label: article.id.clone(),
            })
    });
    intents.chain(articles).collect()
}
