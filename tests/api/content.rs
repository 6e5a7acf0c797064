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
fn danger_described_in_everyday_words_leads_with_999() {
    let engine = herts_assistant::engine::Engine::build(shipped(), Default::default()).unwrap();
    let emergency = engine.content.emergency.clone().unwrap().message;
    let leads_with_999 = |text: &str| {
        let turn = engine.reply(&ConversationState::default(), text, &Context::default());
        turn.replies.first().is_some_and(|r| r.text == emergency)
    };
    for danger in [
        "the lamp post on our corner is sparking and theres a wire hanging down",
        "a power cable has come down in the wind and is lying across the road",
        "the socket in my kitchen is smoking and making a crackling noise",
        "whole flat stinks of gas and i dont know where the tap is",
        "there's a hissing noise from the gas meter under the stairs",
        "our co alarm is going off and my husband has a headache",
        "my dad has just collapsed in the garden",
        "my baby isn't breathing properly please help",
        "my mum isn't responding when i talk to her",
        "i think my nan is having a stroke, her face has dropped",
        "my son is fitting and it won't stop",
        "my husband cut his hand on a knife and it's bleeding everywhere",
        "my sister has taken a load of tablets",
        "i can smell burning from the plug socket",
        "i can see flames in next door's back bedroom",
        "the chip pan just caught fire",
        "water is up to our knees downstairs and my mum can't get out",
        "the car is stuck in the ford and the water is rising round it",
        "a man is dragging a girl into a van by the station",
        "someone is punching a woman at the bus stop",
        "my ex says he is going to hurt the kids",
        "my friend keeps saying she wants to hurt herself",
        "a kid has just been hit by a car outside the school",
        "a van has crashed into the front of the shop",
        "a tree has fallen onto a car on the london road",
        "some men in a lorry are tipping barrels of something toxic into the stream",
        // "chucking" is a word the content never uses: danger is read before it is put right.
        "two lads are chucking out drums of chemicals by the river",
    ] {
        assert!(leads_with_999(danger), "no 999 for: {danger}");
    }
    for ordinary in [
        "can i book a fire safety visit for my mum",
        "is my street on the flood risk map",
        "my landlord hasn't done the gas safety check",
        "street light out on the corner of our road",
        "there's a huge pothole outside the school",
        "where can i do safeguarding training for volunteers",
        "i was attacked last year and i'm still scared to go out",
        "can the fire service come and do smoke alarm fitting",
        "the street light outside where i live has been out for a week",
        "collapsed drain cover in the road outside number 12",
        "my dad had a stroke last year and needs help at home",
        "i'm throwing out some old garden chemicals, where can they go",
        "someone dumped asbestos sheets in the lay-by last week",
        "the council is not responding to my emails",
        "can't get out of my drive because of the roadworks",
        "fallen tree across the footpath in the woods",
        "i'm drowning in debt and can't pay council tax",
        "what should i do if a chip pan catches fire",
        "my smoke alarm keeps chirping",
        "my mum wants to die at home, not in a hospital",
        "i feel like i'm being robbed by these council tax bills",
        "my son keeps getting kicked out of school",
    ] {
        assert!(!leads_with_999(ordinary), "999 for an ordinary question: {ordinary}");
    }
}

/// The measuring sets are for measuring: a training phrase copied from one would make the
/// figures say the content generalises when it only remembers.
#[test]
fn no_question_of_the_measuring_sets_is_in_the_content() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let eval_dir = std::env::var_os("HA_EVAL_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("../shared/eval"));
    let Ok(entries) = std::fs::read_dir(&eval_dir) else {
        assert!(std::env::var_os("CI").is_none(), "CI needs the measuring sets at {}", eval_dir.display());
        eprintln!("skipped: no measuring sets at {}", eval_dir.display());
        return;
    };
    // Lowercase words only: punctuation and apostrophes do not make a copy original.
    let words = |text: &str| {
        text.to_lowercase()
            .replace(['\'', '\u{2019}'], "")
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut questions = std::collections::HashSet::new();
    // Besides the shared sets, the project's own sets written apart from the content.
    let own = [
        "residents.jsonl",
        "residents-second.jsonl",
        "residents-third.jsonl",
        "residents-fourth.jsonl",
        "residents-fifth.jsonl",
        "dialogues-apart.jsonl",
        "dialogues-apart-second.jsonl",
        "dialogues-apart-third.jsonl",
    ]
    .map(|name| root.join("tests/fixtures").join(name));
    for path in entries.filter_map(|e| e.ok().map(|e| e.path())).chain(own) {
        if path.extension().is_none_or(|e| e != "jsonl") {
            continue;
        }
        for line in std::fs::read_to_string(&path).unwrap().lines().filter(|l| !l.trim().is_empty()) {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            let turns = value["turns"].as_array().cloned().unwrap_or_default();
            for text in std::iter::once(&value["text"]).chain(turns.iter().map(|t| &t["text"])) {
                // Greetings and one-word places are everyone's words, not a copy.
                if let Some(text) = text.as_str().filter(|t| t.split_whitespace().count() >= 5) {
                    questions.insert(words(text));
                }
            }
        }
    }
    assert!(questions.len() > 900, "only {} questions read from {}", questions.len(), eval_dir.display());
    let content = shipped();
    let phrases = content
        .intents
        .iter()
        .flat_map(|i| i.examples.iter())
        .chain(content.articles.iter().flat_map(|a| a.questions.iter()))
        .chain(content.facets.iter().flat_map(|f| f.examples.iter()));
    let copied: Vec<&String> = phrases.filter(|p| questions.contains(&words(p))).collect();
    assert!(copied.is_empty(), "phrases copied from the measuring sets: {copied:?}");
}

#[test]
fn every_service_topic_says_how_to_apply_and_who_to_contact() {
    let content = shipped();
    for intent in content.intents.iter().filter(|i| matches!(i.scope, Scope::County | Scope::District)) {
        for facet in ["how-to-apply", "contact"] {
            assert!(
                content.facet_answer(&intent.id, facet).is_some(),
                "{} has no `{facet}` answer",
                intent.id
            );
        }
    }
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

#[test]
fn weights_learned_once_are_loaded_at_the_next_start_and_answer_the_same() {
    use herts_assistant::engine::Engine;
    let trained = Engine::build(shipped(), Default::default()).unwrap();
    assert!(!trained.weights_loaded());
    let bytes = trained.learned_weights();
    let loaded = Engine::build_or_load(shipped(), Default::default(), None, Some(&bytes)).unwrap();
    assert!(loaded.weights_loaded());
    for text in [
        "when do the bins get collected in stevenage",
        "my mum keeps falling and can't manage the stairs any more",
        "what does it cost",
        "how do I renew my passport",
    ] {
        assert_eq!(trained.explain(text), loaded.explain(text), "{text}");
    }
    // Content that changed has other features: its old weights must not be loaded.
    let mut changed = shipped();
    changed.intents[0].examples.push("a zebra crossing near the quarry".to_string());
    let retrained = Engine::build_or_load(changed, Default::default(), None, Some(&bytes)).unwrap();
    assert!(!retrained.weights_loaded());
    assert!(herts_assistant::engine::learned::from_safetensors(b"not weights").is_none());
    assert!(herts_assistant::engine::learned::from_safetensors(&bytes[..bytes.len() / 2]).is_none());
}

/// A declined question whose best council guess is at least half as sure as an answer needs
/// is offered that guess beside a person, and taking it answers that topic; a guess below
/// that, or none, leaves the plain decline. Checked over the written-apart question set with
/// the matcher's own readings, so it holds whatever the content scores.
#[test]
fn a_declined_question_offers_its_best_guess_when_it_is_near_enough() {
    use herts_assistant::engine::matcher::Decision;
    use herts_assistant::engine::{Engine, MatchKind};
    let engine = Engine::build(shipped(), Default::default()).unwrap();
    let matcher = &engine.matcher;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let lines = std::fs::read_to_string(root.join("tests/fixtures/residents.jsonl")).unwrap();
    let (mut offered, mut plain) = (0, 0);
    for line in lines.lines() {
        let text =
            serde_json::from_str::<serde_json::Value>(line).unwrap()["text"].as_str().unwrap().to_string();
        let found = matcher.classify(&text);
        if !matches!(found.decision, Decision::Decline { elsewhere: None, .. }) {
            continue;
        }
        let guess = found
            .candidates
            .iter()
            .find(|c| !matcher.is_decline_label(&c.id))
            .filter(|c| c.confidence >= matcher.settings.threshold / 2.0)
            .filter(|c| {
                engine
                    .content
                    .intent(&c.id)
                    .is_none_or(|i| matches!(i.scope, Scope::County | Scope::District))
            });
        let turn = engine.reply(&ConversationState::default(), &text, &Context::default());
        assert_eq!(turn.matched.kind, MatchKind::None, "{text}");
        let quick = &turn.replies.last().unwrap().quick_replies;
        match guess {
            Some(guess) => {
                offered += 1;
                let title = engine.title_of(&guess.id);
                assert_eq!(quick, &[title.clone(), "Talk to a person".to_string()], "{text}");
                assert!(turn.replies.last().unwrap().text.contains(&title), "{text}");
                let taken = engine.reply(&turn.state, &title, &Context::default());
                assert_eq!(taken.matched.id.as_deref(), Some(guess.id.as_str()), "{text}");
            }
            None => {
                plain += 1;
                assert_eq!(quick, &["Talk to a person".to_string()], "{text}");
            }
        }
    }
    assert!(offered > 0 && plain > 0, "both kinds of decline seen: {offered} offered, {plain} plain");
}
