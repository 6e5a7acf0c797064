//! Multi-turn behaviour through the API: ask once, remember, emergencies, handing to a person.

use crate::helpers::{StoreKind, bot_text, spawn_app};
use herts_assistant::engine::MatchKind;

#[tokio::test]
async fn asks_for_the_town_once_and_remembers_it() {
    let app = spawn_app(StoreKind::Redis).await;
    let conversation = app.start().await;

    let asked = app.say(&conversation, "when do my bins get emptied").await;
    assert_eq!(asked.matched.id.as_deref(), Some("bin-collections"));
    assert!(bot_text(&asked).contains('?'), "asks which town: {}", bot_text(&asked));

    let answered = app.say(&conversation, "Hitchin").await;
    assert_eq!(answered.matched.id.as_deref(), Some("bin-collections"));
    let text = bot_text(&answered);
    assert!(text.contains("North Hertfordshire"), "{text}");
    assert!(answered.messages[1].links.iter().any(|l| l.url.contains("north-herts")));

    // A second district topic uses the town already given: no question.
    let tax = app.say(&conversation, "how do I pay my council tax").await;
    assert_eq!(tax.matched.id.as_deref(), Some("council-tax"));
    let text = bot_text(&tax);
    assert!(text.contains("North Hertfordshire"), "{text}");
    assert!(!text.contains("Which town"), "{text}");
}

#[tokio::test]
async fn never_asks_twice_even_without_an_answer() {
    let app = spawn_app(StoreKind::Memory).await;
    let conversation = app.start().await;
    let first = app.say(&conversation, "missed bin collection").await;
    assert!(bot_text(&first).contains('?'));
    // Not a place: the general answer listing every district, and no second question.
    let second = app.say(&conversation, "i'd rather not say").await;
    let text = bot_text(&second);
    assert!(text.contains("Dacorum") && text.contains("Watford"), "{text}");
    let third = app.say(&conversation, "where do I park, parking permit").await;
    assert!(!bot_text(&third).contains("Which town"), "{}", bot_text(&third));
}

#[tokio::test]
async fn the_town_in_the_question_is_used_at_once() {
    let app = spawn_app(StoreKind::Memory).await;
    let conversation = app.start().await;
    let turn = app.say(&conversation, "planning permission for an extension in Watford").await;
    assert_eq!(turn.matched.id.as_deref(), Some("planning-applications"));
    assert!(bot_text(&turn).contains("Watford Borough Council"), "{}", bot_text(&turn));
}

#[tokio::test]
async fn a_service_asked_about_a_place_beyond_the_border_is_sent_to_its_council() {
    let app = spawn_app(StoreKind::Redis).await;
    let conversation = app.start().await;
    let turn = app.say(&conversation, "what time does the tip in Harlow open on Sunday").await;
    assert_eq!(turn.matched.kind, MatchKind::None, "not answered as the county's own");
    let reply = &turn.messages[1];
    assert!(reply.text.contains("Harlow") && reply.text.contains("Essex County Council"), "{}", reply.text);
    assert!(reply.links.iter().any(|l| l.url == "https://www.essex.gov.uk"), "{:?}", reply.links);
    // The county's own answer is one tap away, for a resident who only mentioned the place.
    let here = reply.quick_replies.iter().find(|q| q.ends_with("in Hertfordshire")).expect("offered").clone();
    let answered = app.say(&conversation, &here).await;
    assert_eq!(answered.matched.id.as_deref(), Some("recycling-centres"));

    // A county town named beside the other place keeps the question the county's.
    let other = app.start().await;
    let both = app.say(&other, "I've moved from Luton to Stevenage, how do I get a school place").await;
    assert_eq!(both.matched.id.as_deref(), Some("school-admissions"), "{}", bot_text(&both));

    // A place beyond the border named as someone's home wins over a county town named only as
    // a landmark: the service is that council's.
    let home = app.start().await;
    let turn = app
        .say(&home, "my dad lives in Enfield, a short drive from Cheshunt, how does he get a bus pass for older people")
        .await;
    assert_eq!(turn.matched.kind, MatchKind::None, "{}", bot_text(&turn));
    assert!(bot_text(&turn).contains("Enfield"), "{}", bot_text(&turn));
}

#[tokio::test]
async fn immediate_danger_leads_with_999() {
    let app = spawn_app(StoreKind::Memory).await;
    let conversation = app.start().await;
    let turn = app.say(&conversation, "a child next door is being hurt right now").await;
    let first_bot = turn.messages.iter().find(|m| m.role == herts_assistant::store::Role::Bot).unwrap();
    assert!(first_bot.text.contains("999"), "{}", first_bot.text);
}

#[tokio::test]
async fn out_of_scope_is_declined_kindly_then_offered_a_person() {
    let app = spawn_app(StoreKind::Memory).await;
    let conversation = app.start().await;
    let turn = app.say(&conversation, "how do I renew my passport").await;
    assert_eq!(turn.matched.kind, MatchKind::None);
    assert!(turn.matched.id.is_none());
    assert!(bot_text(&turn).contains("gov.uk"), "{}", bot_text(&turn));
    assert!(turn.messages[1].quick_replies.iter().any(|q| q == "Talk to a person"));
}

#[tokio::test]
async fn a_question_surely_not_the_councils_is_not_read_as_a_follow_up() {
    let app = spawn_app(StoreKind::Memory).await;
    let conversation = app.start().await;
    assert_eq!(
        app.say(&conversation, "how do I report a pothole").await.matched.id.as_deref(),
        Some("report-pothole")
    );
    // Read beside the topic's title it would lean to potholes; on its own it is plainly
    // something else, and says so.
    let turn = app.say(&conversation, "can you recommend a good plumber").await;
    assert_eq!(turn.matched.kind, MatchKind::None, "{:?}", turn.matched);
    // A bare detail question is still a follow-up.
    let turn = app.say(&conversation, "how long does it take?").await;
    assert_eq!(turn.matched.id.as_deref(), Some("report-pothole"));
}

#[tokio::test]
async fn a_question_about_what_the_answer_said_stays_on_the_topic() {
    let app = spawn_app(StoreKind::Memory).await;
    let conversation = app.start().await;
    let topic = app.say(&conversation, "my dad died last night, how do I register his death").await;
    assert_eq!(topic.matched.id.as_deref(), Some("register-death"));
    assert!(bot_text(&topic).contains("DVLA"), "the answer names the bodies Tell Us Once tells");
    // On its own this is about passports and driving licences, not the council's; but the
    // answer just named both, so it asks about that answer, and gets all of it again rather
    // than one detail.
    let turn = app.say(&conversation, "do I need to let the DVLA and the passport office know myself?").await;
    assert_eq!(turn.matched.id.as_deref(), Some("register-death"), "{:?}", turn.matched);
    assert!(bot_text(&turn).contains("Tell Us Once"), "{}", bot_text(&turn));
    // A question the answer said nothing about is still someone else's.
    let turn = app.say(&conversation, "how do I renew my passport").await;
    assert_eq!(turn.matched.kind, MatchKind::None, "{:?}", turn.matched);
}

#[tokio::test]
async fn asking_whether_to_book_is_a_detail_of_the_topic_not_library_books() {
    let app = spawn_app(StoreKind::Memory).await;
    let conversation = app.start().await;
    let topic = app.say(&conversation, "where is my nearest tip").await;
    assert_eq!(topic.matched.id.as_deref(), Some("recycling-centres"));
    // On its own "book" leans to the libraries; after the tip it asks how to go about a visit.
    let turn = app.say(&conversation, "do I need to book?").await;
    assert_eq!(turn.matched.id.as_deref(), Some("recycling-centres"), "{:?}", turn.matched);
    assert!(bot_text(&turn).contains("permit"), "the how-to-apply answer: {}", bot_text(&turn));
}

#[tokio::test]
async fn asking_about_a_waiting_list_is_a_detail_of_the_topic_not_the_nhs() {
    let app = spawn_app(StoreKind::Memory).await;
    let conversation = app.start().await;
    let topic = app.say(&conversation, "how do I apply for a blue badge").await;
    assert_eq!(topic.matched.id.as_deref(), Some("blue-badge"));
    // Alone, a waiting list is the NHS's; after the badge it asks how long the badge takes.
    let turn = app.say(&conversation, "is there a waiting list").await;
    assert_eq!(turn.matched.id.as_deref(), Some("blue-badge"), "{:?}", turn.matched);
    // Naming the hospital's waiting list is still someone else's business.
    let turn = app.say(&conversation, "how do I get on the waiting list for a hip operation").await;
    assert_eq!(turn.matched.kind, MatchKind::None, "{:?}", turn.matched);
}

#[tokio::test]
async fn asking_who_to_ring_about_the_topic_gives_its_contact_with_a_person_one_tap_away() {
    let app = spawn_app(StoreKind::Memory).await;
    let conversation = app.start().await;
    let topic = app.say(&conversation, "we have a spare room and wonder about fostering").await;
    assert_eq!(topic.matched.id.as_deref(), Some("fostering"));
    // Alone this reads as asking for a person; after the topic it asks whom to phone about it.
    let turn = app.say(&conversation, "who would I phone to talk it over with somebody?").await;
    assert_eq!(turn.matched.id.as_deref(), Some("fostering"), "{:?}", turn.matched);
    assert_eq!(turn.state, "bot", "not handed off unasked");
    let reply = turn.messages.last().unwrap();
    assert!(reply.quick_replies.iter().any(|q| q == "Talk to a person"), "{:?}", reply.quick_replies);
    // The offer hands off when taken.
    let taken = app.say(&conversation, "Talk to a person").await;
    assert_eq!(taken.state, "queued");
    // A plain request for a person after a topic still hands off at once.
    let conversation = app.start().await;
    app.say(&conversation, "we have a spare room and wonder about fostering").await;
    let asked = app.say(&conversation, "can I talk to someone about it please").await;
    assert_eq!(asked.matched.id.as_deref(), Some("talk-to-person"), "{:?}", asked.matched);
    assert_eq!(asked.state, "queued");
}

#[tokio::test]
async fn asking_who_to_write_to_is_a_detail_of_the_topic_not_a_writing_task() {
    let app = spawn_app(StoreKind::Memory).await;
    let conversation = app.start().await;
    let topic = app.say(&conversation, "I want to complain about the council").await;
    assert_eq!(topic.matched.id.as_deref(), Some("complaints"));
    // Alone, "write" leans to the writing tasks the assistant declines.
    let turn = app.say(&conversation, "who do I write to").await;
    assert_eq!(turn.matched.id.as_deref(), Some("complaints"), "{:?}", turn.matched);
    let turn = app.say(&conversation, "can you write me a poem about the council").await;
    assert_eq!(turn.matched.kind, MatchKind::None, "{:?}", turn.matched);
}

#[tokio::test]
async fn a_detail_question_sharing_a_goodbyes_words_stays_on_the_topic() {
    let app = spawn_app(StoreKind::Memory).await;
    let conversation = app.start().await;
    let topic = app.say(&conversation, "how do I get a dropped kerb for my drive").await;
    assert_eq!(topic.matched.id.as_deref(), Some("dropped-kerb"));
    // "all that" is also in "that's all": put as a question about a detail, it is not a goodbye.
    let turn = app.say(&conversation, "how long does all that take").await;
    assert_eq!(turn.matched.id.as_deref(), Some("dropped-kerb"), "{:?}", turn.matched);
    // Said as thanks, not asked, it still ends the topic.
    let turn = app.say(&conversation, "that's all, thanks").await;
    assert!(matches!(turn.matched.id.as_deref(), Some("thanks" | "goodbye")), "{:?}", turn.matched);
}

#[tokio::test]
async fn asking_for_a_person_queues_the_conversation() {
    let app = spawn_app(StoreKind::Memory).await;
    let conversation = app.start().await;
    let turn = app.say(&conversation, "can i speak to a real person please").await;
    assert_eq!(turn.matched.id.as_deref(), Some("talk-to-person"));
    assert_eq!(turn.state, "queued");
    // While queued the assistant stays silent; the message is still kept.
    let quiet = app.say(&conversation, "hello?").await;
    assert_eq!(quiet.messages.len(), 1);
    assert_eq!(quiet.state, "queued");
}

#[tokio::test]
async fn follow_up_quick_replies_answer_in_place() {
    let app = spawn_app(StoreKind::Memory).await;
    let conversation = app.start().await;
    let turn = app.say(&conversation, "I need a blue badge for my mum").await;
    assert_eq!(turn.matched.id.as_deref(), Some("blue-badge"));
    let label = turn.messages[1].quick_replies.first().expect("follow-ups offered").clone();
    let next = app.say(&conversation, &label).await;
    assert_eq!(next.matched.confidence, 1.0, "a quick reply is understood for certain");
    // The reply is the one the content gives for that quick reply: its own answer in place, or
    // the topic it goes to.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let content =
        herts_assistant::content::load(&root.join("intents"), &root.join("knowledge-base")).unwrap();
    let intent = content.intents.iter().find(|i| i.id == "blue-badge").unwrap();
    let follow_up = intent.follow_ups.iter().find(|f| f.label == label).expect("the label is a follow-up");
    match (&follow_up.answer, &follow_up.goto) {
        (Some(answer), _) => {
            assert_eq!(next.matched.id.as_deref(), Some("blue-badge"));
            assert!(bot_text(&next).contains(answer.trim()), "{}", bot_text(&next));
        }
        (None, Some(goto)) => assert_eq!(next.matched.id.as_deref(), Some(goto.as_str())),
        (None, None) => panic!("a follow-up with neither answer nor goto"),
    }
}
