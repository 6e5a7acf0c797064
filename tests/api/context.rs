//! Understanding a message in the light of the conversation: follow-ups that name no topic,
//! openers that only say where the resident lives, long messages, danger in everyday words.

use crate::helpers::{StoreKind, bot_text, spawn_app};
use herts_assistant::content::{self, FacetAnswer};
use herts_assistant::engine::MatchKind;

fn facet_text(topic: &str, facet: &str) -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let content = content::load(&root.join("intents"), &root.join("knowledge-base")).unwrap();
    match content.facet_answer(topic, facet) {
        Some(FacetAnswer::Text(text)) => text.clone(),
        other => panic!("{topic} has no `{facet}` text: {other:?}"),
    }
}

#[tokio::test]
async fn a_follow_up_that_names_no_topic_is_about_the_current_topic() {
    let app = spawn_app(StoreKind::Redis).await;
    let conversation = app.start().await;
    let first = app.say(&conversation, "how would my grandad get a disabled parking badge").await;
    assert_eq!(first.matched.id.as_deref(), Some("blue-badge"));

    let cost = app.say(&conversation, "and do we have to pay anything for it?").await;
    assert_eq!(cost.matched.id.as_deref(), Some("blue-badge"));
    assert_eq!(bot_text(&cost), facet_text("blue-badge", "cost"));

    let contact = app.say(&conversation, "who could I ring about it").await;
    assert_eq!(contact.matched.id.as_deref(), Some("blue-badge"));
    assert_eq!(bot_text(&contact), facet_text("blue-badge", "contact"));
}

#[tokio::test]
async fn a_message_that_names_a_new_topic_wins_over_the_current_one() {
    let app = spawn_app(StoreKind::Memory).await;
    let conversation = app.start().await;
    let first = app.say(&conversation, "how do I sign up to be a foster carer").await;
    assert_eq!(first.matched.id.as_deref(), Some("fostering"));
    let new_topic = app.say(&conversation, "separately, there is a massive pothole on the A414").await;
    assert_eq!(new_topic.matched.id.as_deref(), Some("report-pothole"));
    // And the follow-up after it is about the new topic.
    let follow_up = app.say(&conversation, "how long till it gets fixed?").await;
    assert_eq!(follow_up.matched.id.as_deref(), Some("report-pothole"));
}

#[tokio::test]
async fn a_question_that_stands_on_its_own_moves_on_even_beside_a_related_topic() {
    let app = spawn_app(StoreKind::Memory).await;
    let conversation = app.start().await;
    let first = app.say(&conversation, "what are the opening hours of the tip in Hoddesdon").await;
    assert_eq!(first.matched.id.as_deref(), Some("recycling-centres"));
    // Waste again, but a question of its own: it points back at nothing and asks more than a
    // detail, so the tip's title beside it must not pull it back.
    let bins =
        app.say(&conversation, "my garden waste bin didn't get collected on Monday, who do I tell?").await;
    assert_eq!(bins.matched.id.as_deref(), Some("bin-collections"), "{}", bot_text(&bins));
}

#[tokio::test]
async fn read_beside_the_topic_a_vague_question_finds_the_topic_it_means() {
    let app = spawn_app(StoreKind::Memory).await;
    let conversation = app.start().await;
    let first = app
        .say(&conversation, "I'm worn out looking after my mum who has dementia, is there help for carers?")
        .await;
    assert_eq!(first.matched.id.as_deref(), Some("carers-support"));
    // Too vague to answer alone; beside carers' support it is about an assessment.
    let assessment =
        app.say(&conversation, "and who would I speak to about getting her needs assessed?").await;
    assert_eq!(assessment.matched.id.as_deref(), Some("adult-social-care"), "{}", bot_text(&assessment));
}

#[tokio::test]
async fn background_before_a_follow_up_does_not_hide_it() {
    let app = spawn_app(StoreKind::Memory).await;
    let conversation = app.start().await;
    let first = app
        .say(
            &conversation,
            "I think the man next door is taking money from his elderly mother and she looks frightened",
        )
        .await;
    assert_eq!(first.matched.id.as_deref(), Some("adult-safeguarding"));
    // The first sentence names the police (not the council's); the request is a follow-up.
    let contact = app
        .say(&conversation, "Her daughter has already called the police. Who else should I let know?")
        .await;
    assert_eq!(contact.matched.id.as_deref(), Some("adult-safeguarding"), "{}", bot_text(&contact));
    assert_eq!(bot_text(&contact), facet_text("adult-safeguarding", "contact"));
}

#[tokio::test]
async fn a_facet_another_topic_answers_moves_the_conversation_there() {
    let app = spawn_app(StoreKind::Memory).await;
    let conversation = app.start().await;
    let first = app.say(&conversation, "my father needs carers coming in to help him wash and dress").await;
    assert_eq!(first.matched.id.as_deref(), Some("adult-social-care"));
    // adult-social-care's cost facet is answered by paying-for-care.
    let cost = app.say(&conversation, "is there a charge for it?").await;
    assert_eq!(cost.matched.id.as_deref(), Some("paying-for-care"));
}

#[tokio::test]
async fn a_detail_about_a_district_service_names_the_council_given_once() {
    let app = spawn_app(StoreKind::Redis).await;
    let conversation = app.start().await;
    let first = app.say(&conversation, "we want to object to the plans for flats behind our house").await;
    assert_eq!(first.matched.id.as_deref(), Some("planning-applications"));
    let town = app.say(&conversation, "Tring").await;
    assert!(bot_text(&town).contains("Dacorum"), "{}", bot_text(&town));
    // The detail's own answer names no council; the one the resident gave is added, once.
    assert!(!facet_text("planning-applications", "how-long").contains("{district}"));
    let how_long = app.say(&conversation, "how long do they take to make their mind up?").await;
    assert_eq!(how_long.matched.id.as_deref(), Some("planning-applications"));
    let text = bot_text(&how_long);
    assert!(text.starts_with(&facet_text("planning-applications", "how-long")), "{text}");
    assert_eq!(text.matches("Dacorum").count(), 2, "named, and named in its link: {text}");
    assert!(!text.contains("Which town"), "{text}");
}

#[tokio::test]
async fn a_follow_up_with_nothing_to_follow_is_declined() {
    let app = spawn_app(StoreKind::Memory).await;
    let conversation = app.start().await;
    let turn = app.say(&conversation, "how much is it?").await;
    assert_eq!(turn.matched.kind, MatchKind::None);
}

#[tokio::test]
async fn an_opener_that_only_gives_the_town_is_acknowledged_and_remembered() {
    let app = spawn_app(StoreKind::Redis).await;
    let conversation = app.start().await;
    let opener = app.say(&conversation, "Hello, I live in Harpenden").await;
    assert_ne!(opener.matched.kind, MatchKind::None, "not declined: {}", bot_text(&opener));
    let text = bot_text(&opener);
    assert!(text.contains("Harpenden") && text.contains("St Albans"), "{text}");
    assert!(!text.contains("Sorry"), "{text}");
    // A greeting that says where it is from is greeted back, the place still remembered.
    let greeted = app.start().await;
    let hello = app.say(&greeted, "Good morning from Tring!").await;
    assert_eq!(hello.matched.id.as_deref(), Some("greeting"), "{}", bot_text(&hello));
    assert!(
        bot_text(&hello).starts_with("Hello!") && bot_text(&hello).contains("Dacorum"),
        "{}",
        bot_text(&hello)
    );
    let tip = app.say(&greeted, "who empties the bins here").await;
    assert!(
        bot_text(&tip).contains("Dacorum") && !bot_text(&tip).contains("Which town"),
        "{}",
        bot_text(&tip)
    );

    // A question that happens to name a town is not an opener.
    let other = app.start().await;
    let question = app.say(&other, "which team does hitchin town fc play next").await;
    assert_ne!(question.matched.id.as_deref(), Some("districts"), "{}", bot_text(&question));

    let bins = app.say(&conversation, "when do they empty the recycling bins").await;
    assert_eq!(bins.matched.id.as_deref(), Some("bin-collections"));
    let text = bot_text(&bins);
    assert!(text.contains("St Albans") && !text.contains("Which town"), "{text}");
}

#[tokio::test]
async fn a_long_message_is_answered_by_its_request() {
    let app = spawn_app(StoreKind::Memory).await;
    let conversation = app.start().await;
    let story = "Good morning. We moved down from Leeds in August and we are still unpacking boxes. \
                 My partner has started a new job in Stevenage and I work from home three days a week. \
                 Our daughter is nine and has been home with us since we arrived. \
                 How do we get her into a primary school near us?";
    let turn = app.say(&conversation, story).await;
    assert_eq!(turn.matched.id.as_deref(), Some("school-admissions"), "{}", bot_text(&turn));
}

#[tokio::test]
async fn danger_described_without_the_word_gets_999_first() {
    let app = spawn_app(StoreKind::Memory).await;
    let conversation = app.start().await;
    let turn = app
        .say(&conversation, "the lamp post at the end of our road is sparking and a cable is dangling")
        .await;
    let first_bot = turn.messages.iter().find(|m| m.role == herts_assistant::store::Role::Bot).unwrap();
    assert!(first_bot.text.contains("999"), "{}", first_bot.text);
}

#[tokio::test]
async fn typing_slips_are_read_as_the_words_meant() {
    let app = spawn_app(StoreKind::Memory).await;
    let conversation = app.start().await;
    // A misspelt town still makes a place-only opener, and is remembered.
    let opener = app.say(&conversation, "hi, im in Hitchn").await;
    let text = bot_text(&opener);
    assert!(text.contains("North Hertfordshire District Council"), "{text}");
    // Slips in the service's words and in the facet asked about.
    let badge = app.say(&conversation, "how do I aply for a bleu badge for my dad").await;
    assert_eq!(badge.matched.id.as_deref(), Some("blue-badge"), "{}", bot_text(&badge));
    let cost = app.say(&conversation, "and how mcuh does it cots?").await;
    assert_eq!(cost.matched.id.as_deref(), Some("blue-badge"));
    assert_eq!(bot_text(&cost), facet_text("blue-badge", "cost"));
    // The resident's own words are kept as typed in the transcript.
    let transcript: serde_json::Value = app.transcript(&conversation).await.json().await.unwrap();
    assert!(transcript.to_string().contains("how mcuh does it cots?"), "{transcript}");
}
