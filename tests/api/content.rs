//! The shipped Hertfordshire content: the whole catalogue, enough phrasing, the gazetteer,
//! review dates, and the emergency rule.

use herts_assistant::content::{self, Scope};
use herts_assistant::engine::{Context, ConversationState};

/// The topic ids residents' questions are scored against: a contract, never renamed.
const CATALOGUE: &[&str] = &[
    "recycling-centres",
    "bin-collections",
    "fly-tipping",
    "report-pothole",
    "street-lights",
    "gritting",
    "dropped-kerb",
    "roadworks",
    "parking",
    "blue-badge",
    "bus-pass-older",
    "bus-pass-disabled",
    "young-persons-travel",
    "school-transport",
    "school-admissions",
    "school-term-dates",
    "school-closures",
    "free-school-meals",
    "send-support",
    "childcare-funding",
    "adult-learning",
    "adult-social-care",
    "carers-support",
    "paying-for-care",
    "children-safeguarding",
    "adult-safeguarding",
    "fostering",
    "adoption",
    "stop-smoking",
    "libraries",
    "register-birth",
    "register-death",
    "marriage-civil-partnership",
    "citizenship-ceremony",
    "certificates",
    "archives",
    "rights-of-way",
    "flooding",
    "fire-safety-visit",
    "trading-standards",
    "council-tax",
    "planning-applications",
    "cost-of-living-support",
    "jobs",
    "complaints",
    "councillors",
    "foi-request",
    "payments",
    "contact-us",
    "districts",
    "talk-to-person",
    "greeting",
    "thanks",
    "goodbye",
    "capabilities",
];

fn shipped() -> content::Content {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    content::load(&root.join("intents"), &root.join("knowledge-base")).expect("the shipped content is valid")
}

#[test]
fn every_catalogue_topic_is_present_with_varied_phrasing() {
    let content = shipped();
    for id in CATALOGUE {
        let intent = content.intent(id);
        assert!(intent.is_some() || content.article(id).is_some(), "{id} is missing");
        let examples =
            intent.map_or(0, |i| i.examples.len()) + content.article(id).map_or(0, |a| a.questions.len());
        assert!(examples >= 15, "{id} has only {examples} training phrases");
    }
}

#[test]
fn facts_that_change_carry_a_review_date() {
    let content = shipped();
    for intent in &content.intents {
        if matches!(intent.scope, Scope::County | Scope::District) && intent.answer.is_some() {
            assert!(intent.last_reviewed.is_some(), "{} has no last_reviewed", intent.id);
        }
    }
    // Articles cannot load without one; links are all https (checked at load).
    assert!(content.articles.iter().all(|a| !a.last_reviewed.is_empty()));
}

#[test]
fn the_gazetteer_covers_hertfordshire() {
    let content = shipped();
    assert_eq!(content.districts.len(), 10);
    let places: usize = content.districts.iter().map(|d| d.places.len()).sum();
    assert!(places >= 150, "only {places} places");
    assert!(content.districts.iter().all(|d| d.website.starts_with("https://")));
}

#[test]
fn immediate_danger_leads_with_999_and_ordinary_questions_do_not() {
    let engine = herts_assistant::engine::Engine::build(shipped(), Default::default()).unwrap();
    let first_reply = |text: &str| {
        engine.reply(&ConversationState::default(), text, &Context::default()).replies[0].text.clone()
    };
    for danger in [
        "my neighbour is hitting his kids right now",
        "there's a fire in the flat next door",
        "water is pouring into my house from the flood",
        "i can smell gas in the kitchen",
        "my friend says she is going to kill herself tonight",
    ] {
        assert!(first_reply(danger).contains("999"), "{danger}: {}", first_reply(danger));
    }
    for ordinary in [
        "can I book a fire safety visit",
        "is my street at risk of flooding",
        "how do I become a foster carer",
        "when is my bin collected",
    ] {
        let turn = engine.reply(&ConversationState::default(), ordinary, &Context::default());
        let emergency = &engine.content.emergency.as_ref().unwrap().message;
        assert!(turn.replies.iter().all(|r| &r.text != emergency), "{ordinary} got the emergency line");
    }
}
