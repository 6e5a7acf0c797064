//! The dialogue policy's handoff triggers and routing, on the shipped content, engine only.

use std::sync::LazyLock;

use herts_assistant::engine::{
    Context, ConversationState, Engine, HandoffReason, Mode, Offer, TeamStatus, Turn,
};

static ENGINE: LazyLock<Engine> = LazyLock::new(|| {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let content =
        herts_assistant::content::load(&root.join("intents"), &root.join("knowledge-base")).unwrap();
    Engine::build(content, Default::default()).unwrap()
});

fn open() -> Context {
    let mut context = Context::default();
    for (id, name) in [("customer-service", "Customer service"), ("adult-care", "Adult Care Services")] {
        context.teams.insert(id.into(), TeamStatus { name: name.into(), closed_until: None });
    }
    context
}

fn say(state: &ConversationState, text: &str, context: &Context) -> Turn {
    ENGINE.reply(state, text, context)
}

#[test]
fn a_topic_routes_the_handoff_to_its_team() {
    let turn =
        say(&ConversationState::default(), "my mum can't cope at home any more and needs carers", &open());
    assert_eq!(turn.matched.id.as_deref(), Some("adult-social-care"));
    let turn = say(&turn.state, "can I speak to a person", &open());
    let handoff = turn.handoff.expect("handed off");
    assert_eq!((handoff.team.as_str(), handoff.reason), ("adult-care", HandoffReason::Asked));
    assert_eq!(turn.state.mode, Mode::Queued);
}

#[test]
fn two_unanswered_turns_in_a_row_hand_off() {
    let first = say(&ConversationState::default(), "what's the best pizza topping", &open());
    assert!(first.handoff.is_none());
    assert_eq!(first.state.unanswered, 1);
    let second = say(&first.state, "who won the football last night", &open());
    assert_eq!(second.handoff.map(|h| h.reason), Some(HandoffReason::NotAnswered));
    // What happens next is said first: the content's own words for handing over.
    assert_eq!(second.replies[0].text, ENGINE.content.messages.handoff);
    assert_eq!(second.state.mode, Mode::Queued);
}

#[test]
fn rejecting_the_suggestions_hands_off() {
    let state = ConversationState {
        offers: vec![Offer::NoneOfThese { label: "None of these".into() }],
        ..Default::default()
    };
    let turn = say(&state, "None of these", &open());
    assert_eq!(turn.handoff.map(|h| h.reason), Some(HandoffReason::RejectedSuggestions));
}

#[test]
fn safeguarding_always_offers_a_person_after_the_numbers() {
    let turn = say(
        &ConversationState::default(),
        "I'm worried my elderly neighbour is being neglected by her son",
        &open(),
    );
    assert_eq!(turn.matched.id.as_deref(), Some("adult-safeguarding"));
    let answer = turn.replies.last().unwrap();
    assert!(answer.text.contains("999") && answer.text.contains("0300 123 4042"), "{}", answer.text);
    assert!(answer.quick_replies.iter().any(|q| q == "Talk to a person"), "{:?}", answer.quick_replies);
}

#[test]
fn a_closed_team_means_a_message_form_not_a_queue() {
    let mut closed = open();
    closed.teams.get_mut("customer-service").unwrap().closed_until = Some("tomorrow at 9am".into());
    let turn = say(&ConversationState::default(), "I want to talk to a human", &closed);
    assert!(turn.handoff.is_none());
    assert_eq!(turn.state.mode, Mode::Bot);
    let reply = &turn.replies[0];
    assert!(reply.text.contains("tomorrow at 9am"), "{}", reply.text);
    assert_eq!(reply.form.as_deref(), Some("offline_message"));
}
