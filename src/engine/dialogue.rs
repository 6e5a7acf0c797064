//! The dialogue policy: answer, ask for the town once, clarify, decline, or hand to a person.
//! Over 400 lines: one policy, one state machine; follow-ups and openers are steps of it.

use super::entities::PlaceMatch;
use super::follow_up;
use super::matcher::Decision;
use super::state::{
    Context, ConversationState, HandoffReason, HandoffRequest, MatchKind, Matched, Mode, Offer, Reply, Turn,
};
use super::{DEFAULT_TEAM, Engine};
use crate::content::{FacetAnswer, Intent, Link, Scope, Slot};

/// The quick reply that hands to a person, offered wherever the assistant falls short.
pub const TALK_TO_PERSON: &str = "Talk to a person";
const NONE_OF_THESE: &str = "None of these";
const LEAVE_MESSAGE: &str = "Leave a message";
/// The form the widget shows for a message left out of hours.
pub const OFFLINE_FORM: &str = "offline_message";
/// The topic that means "a person, please".
const PERSON_TOPIC: &str = "talk-to-person";
/// Said after a district service's detail answer that does not name the resident's council.
const YOUR_DISTRICT: &str = "Where you live, this is {district}: see the [{district} website]({district_url}) or call {district_phone}.";

/// The facet that asks whom to contact about a topic.
const CONTACT_FACET: &str = "contact";
/// The topic about which council serves a place: what an opener that gives only a town is about.
const PLACE_TOPIC: &str = "districts";
/// The topic a greeting is counted as, also when it names the resident's town.
const GREETING_TOPIC: &str = "greeting";
/// The most words an opener that only says where the resident lives has.
const SHORT_STATEMENT_WORDS: usize = 10;
/// A declined message's best council guess is offered when it is at least this share of the
/// answering threshold (measured: see BENCHMARKS.md, "A declined question's best guess").
const GUESS_SHARE_OF_THRESHOLD: f32 = 0.5;

/// A message read against the conversation's current topic.
enum FollowUp {
    /// It asks more about the current topic.
    Topic(String),
    /// Read in context, it asks about another topic, surely enough to answer.
    Other { id: String, confidence: f32 },
}

pub struct Dialogue<'a> {
    engine: &'a Engine,
    context: &'a Context,
    state: ConversationState,
    replies: Vec<Reply>,
    handoff: Option<HandoffRequest>,
    best_candidate: Option<super::matcher::Candidate>,
}

impl<'a> Dialogue<'a> {
    pub fn new(engine: &'a Engine, state: ConversationState, context: &'a Context) -> Self {
        Self { engine, context, state, replies: Vec::new(), handoff: None, best_candidate: None }
    }

    /// Replies to `text`; `danger` says an emergency rule matched it.
    pub fn respond(mut self, text: &str, danger: bool) -> Turn {
        // A closed conversation that the resident writes to again is the assistant's again.
        if self.state.mode == Mode::Closed {
            self.state.mode = Mode::Bot;
            self.state.agent = None;
        }
        // While a person holds the conversation, or it waits for one, the assistant is silent.
        if self.state.mode != Mode::Bot {
            return self.finish(Matched::none(0.0));
        }
        if let Some(emergency) = &self.engine.content.emergency
            && danger
        {
            self.replies.push(Reply { text: emergency.message.clone(), ..Reply::default() });
        }
        let place = self.engine.gazetteer.find(text);
        if place.is_some() {
            self.state.place = place.clone();
        }
        // A place beyond the border, with none of the county's named beside it, or named as
        // someone's home where the county's is not ("Mum lives in Harlow; I'm in Ware").
        let outside = self.engine.outside.find(text).filter(|_| {
            place.is_none()
                || (self.engine.outside.names_a_home(text) && !self.engine.gazetteer.names_a_home(text))
        });
        let offers = std::mem::take(&mut self.state.offers);
        if let Some(offer) = offers.iter().find(|o| o.label().eq_ignore_ascii_case(text.trim())) {
            return self.take_offer(offer.clone());
        }
        let found = self.engine.matcher.classify(text);
        self.best_candidate = found.candidates.first().cloned();
        if let Some(pending) = self.state.pending_topic.take() {
            // The resident was asked for their town. A named place answers the waiting topic;
            // a confident new question is taken as one; anything else gets the general answer,
            // because the assistant asks only once.
            let new_question = matches!(&found.decision, Decision::Answer { id, .. } if *id != pending)
                && found.decision.confidence() >= self.engine.matcher.settings.sure;
            if place.is_some() || !new_question {
                return self.answer_topic(&pending, 1.0);
            }
        }
        match self.follow_up(text, &found) {
            Some(FollowUp::Topic(topic)) => {
                let confidence = found.decision.confidence();
                return self.answer_follow_up(&topic, text, confidence);
            }
            Some(FollowUp::Other { id, confidence }) => return self.answer_topic(&id, confidence),
            None => {}
        }
        if place.is_some() && is_short_statement(text) && self.says_only_where(&found.decision) {
            let greeted = matches!(&found.decision, Decision::Answer { id, .. } if id == GREETING_TOPIC)
                || follow_up::opens_with_greeting(text);
            return self.acknowledge_place(greeted);
        }
        match found.decision {
            Decision::Answer { id, confidence } => match outside.filter(|_| self.is_council_topic(&id)) {
                Some(area) => self.outside_county(&area, &id, confidence),
                None => self.answer_topic(&id, confidence),
            },
            Decision::Clarify { ids, confidence } => self.clarify(ids, confidence),
            Decision::Decline { elsewhere: None, confidence } => {
                let guess = self.guess_worth_offering(&found.candidates);
                self.decline(None, guess, confidence)
            }
            Decision::Decline { elsewhere, confidence } => {
                self.decline(elsewhere.as_deref(), None, confidence)
            }
        }
    }

    /// How a message relates to the conversation's current topic, when there is one.
    ///
    /// - A message that stands on its own (points back at nothing, asks more than a detail)
    ///   and names another council topic is a new question: "one more thing, when is our bin
    ///   day?" after a Blue Badge answer.
    /// - Otherwise it is read again with the topic's title beside it. When that reading says
    ///   the topic more surely than the message alone names any other, it is a follow-up ("who
    ///   could I ring about it?"). When it makes the message's own best guess sure enough to
    ///   answer, that topic is meant ("who would I speak to about getting her needs assessed?"
    ///   after carers' support is about an assessment).
    /// - A bare detail question ("how much is it?") that matches nothing on its own is a
    ///   follow-up; thanks and goodbyes never are.
    /// - In a message of several sentences, the request sentence is judged the same way, so
    ///   background ("The police are there now.") does not hide a follow-up.
    fn follow_up(&self, text: &str, found: &super::matcher::Match) -> Option<FollowUp> {
        self.state.topic.as_ref()?;
        let reading = self.follow_up_of(text, found);
        if matches!(reading, Some(FollowUp::Topic(_))) || self.names_council_topic(found) {
            return reading;
        }
        // The request sentence alone asking about the topic outweighs a guess from the whole.
        let Some(request) = super::matcher::request_sentence(text) else { return reading };
        match self.follow_up_of(request, &self.engine.matcher.classify(request)) {
            Some(FollowUp::Topic(topic)) => Some(FollowUp::Topic(topic)),
            _ => reading,
        }
    }

    fn follow_up_of(&self, text: &str, found: &super::matcher::Match) -> Option<FollowUp> {
        let topic = self.state.topic.as_ref()?;
        let matcher = &self.engine.matcher;
        let (named, named_confidence) = match &found.decision {
            Decision::Answer { id, confidence } if id != topic => (Some(id.as_str()), *confidence),
            Decision::Decline { elsewhere: Some(id), confidence } => (Some(id.as_str()), *confidence),
            _ => (None, 0.0),
        };
        // "Who should I ring to talk it through?" reads as asking for a person, but it asks
        // whom to contact about the topic: its contact answer, a person offered beside it.
        if named == Some(PERSON_TOPIC)
            && follow_up::asks_who(text)
            && self.engine.asks_a_detail(text)
            && self.engine.facet_of(text).as_deref() == Some(CONTACT_FACET)
            && self.engine.content.facet_answer(topic, CONTACT_FACET).is_some()
        {
            return Some(FollowUp::Topic(topic.clone()));
        }
        let conversational = named
            .and_then(|id| self.engine.content.intent(id))
            .is_some_and(|i| i.scope == Scope::Conversation);
        // Thanks and goodbyes end a topic, but a detail question that merely shares their
        // words ("how long does all that take" beside "that's all") is still about it.
        if conversational && named_confidence >= matcher.settings.sure && !self.engine.asks_a_detail(text) {
            return None;
        }
        if self.names_council_topic(found) && self.engine.stands_alone(text) {
            return None;
        }
        // Likewise a message that stands on its own and is surely about something not the
        // council's ("can you recommend a plumber" after potholes): the title beside it must
        // not pull it back to the topic. Surely: its not-the-council readings together, since
        // such a message often spreads over several of them (trades, chit-chat, work).
        let not_council: f32 =
            found.candidates.iter().filter(|c| matcher.is_decline_label(&c.id)).map(|c| c.confidence).sum();
        let leans_elsewhere = found.candidates.first().is_some_and(|c| matcher.is_decline_label(&c.id));
        // Unless its words are the answer's own: the answer named that other body itself.
        if leans_elsewhere
            && not_council >= matcher.settings.sure
            && self.engine.stands_alone(text)
            && !self.engine.echoes_answer(text, topic)
        {
            return None;
        }
        let beside_title = matcher.classify(&format!("{text} ({})", self.engine.title_of(topic)));
        let best_beside = beside_title.candidates.first()?;
        if best_beside.id == *topic && (named.is_none() || best_beside.confidence > named_confidence) {
            return Some(FollowUp::Topic(topic.clone()));
        }
        if !matches!(found.decision, Decision::Decline { elsewhere: None, .. }) {
            return None;
        }
        let own_guess = found.candidates.first().is_some_and(|c| c.id == best_beside.id);
        if own_guess
            && best_beside.confidence >= matcher.settings.threshold
            && self.is_council_topic(&best_beside.id)
        {
            return Some(FollowUp::Other { id: best_beside.id.clone(), confidence: best_beside.confidence });
        }
        self.engine.facet_of(text).map(|_| FollowUp::Topic(topic.clone()))
    }

    /// Whether the message alone is answered with a council topic other than the current one.
    fn names_council_topic(&self, found: &super::matcher::Match) -> bool {
        match &found.decision {
            Decision::Answer { id, .. } => self.state.topic.as_ref() != Some(id) && self.is_council_topic(id),
            _ => false,
        }
    }

    /// A county or district topic, or an article: what the council answers about.
    fn is_council_topic(&self, id: &str) -> bool {
        match self.engine.content.intent(id) {
            Some(intent) => matches!(intent.scope, Scope::County | Scope::District),
            None => self.engine.content.article(id).is_some(),
        }
    }

    /// Answers a follow-up about `topic`: the topic's answer about the detail asked, when it
    /// has one, else the topic's whole answer.
    fn answer_follow_up(mut self, topic: &str, text: &str, confidence: f32) -> Turn {
        let content = &self.engine.content;
        let facet = self.engine.facet_of(text);
        // Words the topic's answer said but the detail's answer does not ("do I have to contact
        // the DVLA separately?", read as a cost question) ask about the rest of the answer.
        let asks_beyond =
            |answer: &str| self.engine.echoes_answer(text, topic) && !self.engine.echoes(text, answer);
        let facet_answer =
            facet.as_deref().and_then(|f| content.facet_answer(topic, f)).filter(|answer| match answer {
                FacetAnswer::Text(answer) => !asks_beyond(answer),
                FacetAnswer::Goto { .. } => true,
            });
        match facet_answer {
            Some(FacetAnswer::Text(answer)) => {
                let needs_place = content.intent(topic).is_some_and(|i| i.slot == Some(Slot::Place));
                let text = match (needs_place, self.district_of_place()) {
                    (true, Some(district)) => {
                        let place = self.state.place.as_ref().map(|p| p.name.as_str());
                        let filled = fill_district(answer, place, district);
                        // The resident said where they live once; every answer about a district
                        // service then names their council, even a detail that needs no link.
                        if filled.contains(&district.name) {
                            filled
                        } else {
                            format!("{filled}\n\n{}", fill_district(YOUR_DISTRICT, place, district))
                        }
                    }
                    (true, None) => fill_any_district(answer),
                    (false, _) => answer.clone(),
                };
                let links = content.intent(topic).map(|i| i.links.clone()).unwrap_or_default();
                let mut offers = self.state.offers.clone();
                // Who to contact, with a person here one tap away: "who should I ring to talk it
                // through?" may also mean "let me talk to someone".
                if facet.as_deref() == Some(CONTACT_FACET)
                    && !offers.iter().any(|o| matches!(o, Offer::Person { .. }))
                {
                    offers.push(Offer::Person { label: TALK_TO_PERSON.into() });
                }
                self.state.offers = offers.clone();
                self.replies.push(Reply {
                    text,
                    quick_replies: offers.iter().map(|o| o.label().to_string()).collect(),
                    links,
                    answer: true,
                    form: None,
                });
                self.state.unanswered = 0;
                let kind = self.kind_of(topic);
                self.finish(Matched { kind, id: Some(topic.to_string()), confidence })
            }
            Some(FacetAnswer::Goto { goto }) => {
                let goto = goto.clone();
                self.answer_topic(&goto, confidence)
            }
            None => self.answer_topic(topic, confidence),
        }
    }

    /// Whether a message that names a place says nothing else the assistant could answer:
    /// "Hi, I live in Hitchin".
    fn says_only_where(&self, decision: &Decision) -> bool {
        match decision {
            Decision::Decline { elsewhere: None, .. } => true,
            Decision::Answer { id, .. } => self
                .engine
                .content
                .intent(id)
                .is_some_and(|i| i.scope == Scope::Conversation && id != PERSON_TOPIC),
            _ => false,
        }
    }

    /// "Thanks: Hitchin is in North Hertfordshire": the place is remembered, never declined.
    /// A greeting that says where it comes from ("Greetings from Stevenage!") is greeted back
    /// and counted as the greeting it is.
    fn acknowledge_place(mut self, greeted: bool) -> Turn {
        let (Some(place), Some(district)) = (self.state.place.clone(), self.district_of_place()) else {
            return self.decline(None, None, 0.0);
        };
        self.state.unanswered = 0;
        self.replies.push(Reply {
            text: format!(
                "{} {} is in the area of {}, so wherever your district council does the work I'll point you to {}. What would you like to know?",
                if greeted { "Hello!" } else { "Thanks." },
                place.name,
                district.name,
                district.name
            ),
            links: vec![Link { title: district.name.clone(), url: district.website.clone() }],
            ..Reply::default()
        });
        let topic = if greeted { GREETING_TOPIC } else { PLACE_TOPIC };
        let id = self.engine.content.intent(topic).map(|i| i.id.clone());
        let kind = if id.is_some() { MatchKind::Intent } else { MatchKind::None };
        self.finish(Matched { kind, id, confidence: 1.0 })
    }

    /// A council service asked about a place beyond the county's border: that place's own
    /// council runs it there, so say which, and keep the Hertfordshire answer one tap away for
    /// a resident who only mentioned the place ("my son's at college in Cambridge").
    fn outside_county(mut self, area: &PlaceMatch, id: &str, confidence: f32) -> Turn {
        let Some(council) = self.engine.content.neighbours.iter().find(|n| n.id == area.district_id) else {
            return self.answer_topic(id, confidence);
        };
        let here = format!("{} in Hertfordshire", self.engine.title_of(id));
        let offers = vec![
            Offer::Topic { label: here.clone(), topic: id.to_string() },
            Offer::Person { label: TALK_TO_PERSON.into() },
        ];
        self.replies.push(Reply {
            text: format!(
                "{} is outside Hertfordshire, so Hertfordshire County Council does not run services there: {} does, and its website has the details.\n\nIf you meant somewhere in Hertfordshire, choose \"{here}\".",
                area.name, council.name
            ),
            links: vec![Link { title: council.name.clone(), url: council.website.clone() }],
            quick_replies: offers.iter().map(|o| o.label().to_string()).collect(),
            ..Reply::default()
        });
        self.state.offers = offers;
        self.finish(Matched::none(confidence))
    }

    fn take_offer(mut self, offer: Offer) -> Turn {
        match offer {
            Offer::FollowUp { topic, index, .. } => {
                let follow_up = self
                    .engine
                    .content
                    .intent(&topic)
                    .and_then(|i| i.follow_ups.get(index))
                    .and_then(|f| f.answer.clone());
                match follow_up {
                    Some(answer) => {
                        self.replies.push(Reply { text: answer, answer: true, ..Reply::default() });
                        self.state.unanswered = 0;
                        let kind = self.kind_of(&topic);
                        self.finish(Matched { kind, id: Some(topic), confidence: 1.0 })
                    }
                    // Content changed since the offer was made: answer the topic itself.
                    None => self.answer_topic(&topic, 1.0),
                }
            }
            Offer::Topic { topic, .. } => self.answer_topic(&topic, 1.0),
            Offer::Person { .. } => self.hand_off(HandoffReason::Asked, Some(PERSON_TOPIC.to_string()), 1.0),
            Offer::NoneOfThese { .. } => self.hand_off(HandoffReason::RejectedSuggestions, None, 1.0),
            Offer::LeaveMessage { .. } => {
                self.replies.push(Reply {
                    text: "Please fill in the form: your name, how to contact you, and your question.".into(),
                    form: Some(OFFLINE_FORM.into()),
                    ..Reply::default()
                });
                self.finish(Matched::none(1.0))
            }
        }
    }

    fn answer_topic(mut self, id: &str, confidence: f32) -> Turn {
        if id == PERSON_TOPIC {
            return self.hand_off(HandoffReason::Asked, Some(id.to_string()), confidence);
        }
        let content = &self.engine.content;
        let intent = content.intent(id);
        let article = content.article(id);
        let matched = Matched { kind: self.kind_of(id), id: Some(id.to_string()), confidence };
        if intent.is_some_and(|i| i.scope == Scope::Elsewhere) {
            return self.decline(Some(id), None, confidence);
        }
        self.state.unanswered = 0;
        if self.state.topics.last().is_none_or(|last| last != id) {
            self.state.topics.push(id.to_string());
            if self.state.topics.len() > super::TOPIC_HISTORY {
                self.state.topics.remove(0);
            }
        }
        if intent.is_none_or(|i| i.scope == Scope::County || i.scope == Scope::District) {
            self.state.topic = Some(id.to_string());
        }
        if let Some(team) = intent.and_then(|i| i.team.clone()) {
            self.state.team = Some(team);
        }
        let needs_place = intent.is_some_and(|i| i.slot == Some(Slot::Place));
        if let Some(intent) = intent.filter(|_| needs_place)
            && self.state.place.is_none()
            && !self.state.asked_place
        {
            self.state.asked_place = true;
            self.state.pending_topic = Some(id.to_string());
            self.replies.push(Reply { text: intent.ask.clone().unwrap_or_default(), ..Reply::default() });
            return self.finish(matched);
        }
        let body = intent
            .and_then(|i| i.answer.clone())
            .or_else(|| article.map(|a| a.body.clone()))
            .unwrap_or_default();
        let text = match (needs_place, self.district_of_place()) {
            (true, Some(district)) => {
                fill_district(&body, self.state.place.as_ref().map(|p| p.name.as_str()), district)
            }
            (true, None) => self.all_districts_answer(intent.map_or(id, |i| i.title.as_str())),
            (false, _) => body,
        };
        let mut links: Vec<Link> = intent.map(|i| i.links.clone()).unwrap_or_default();
        if let Some(article) = article
            && !links.iter().any(|l| l.url == article.url)
        {
            links.push(Link { title: article.title.clone(), url: article.url.clone() });
        }
        if let (true, Some(district)) = (needs_place, self.district_of_place()) {
            links.insert(0, Link { title: district.name.clone(), url: district.website.clone() });
        }
        let mut offers: Vec<Offer> = Vec::new();
        if let Some(intent) = intent {
            offers.extend(follow_up_offers(intent));
            if intent.offer_person {
                offers.push(Offer::Person { label: TALK_TO_PERSON.into() });
            }
        }
        let is_answer = intent.is_none_or(|i| i.scope != Scope::Conversation);
        self.replies.push(Reply {
            text,
            quick_replies: offers.iter().map(|o| o.label().to_string()).collect(),
            links,
            answer: is_answer,
            form: None,
        });
        self.state.offers = offers;
        self.finish(matched)
    }

    fn clarify(mut self, ids: Vec<String>, confidence: f32) -> Turn {
        let content = &self.engine.content;
        let mut offers: Vec<Offer> = ids
            .iter()
            .map(|id| Offer::Topic { label: self.engine.title_of(id), topic: id.clone() })
            .collect();
        offers.push(Offer::NoneOfThese { label: NONE_OF_THESE.into() });
        self.replies.push(Reply {
            text: content.messages.clarify.clone(),
            quick_replies: offers.iter().map(|o| o.label().to_string()).collect(),
            ..Reply::default()
        });
        self.state.offers = offers;
        self.finish(Matched { kind: MatchKind::Clarify, id: ids.first().cloned(), confidence })
    }

    /// A council topic the matcher guessed but not surely enough to answer: at least half as
    /// sure as an answer needs. Declining alone would leave a resident who only put it
    /// unusually at a dead end; offering the guess costs one tap to take or ignore.
    fn guess_worth_offering(&self, candidates: &[super::matcher::Candidate]) -> Option<String> {
        let floor = self.engine.matcher.settings.threshold * GUESS_SHARE_OF_THRESHOLD;
        candidates
            .iter()
            .find(|c| !self.engine.matcher.is_decline_label(&c.id))
            .filter(|c| c.confidence >= floor && self.is_council_topic(&c.id))
            .map(|c| c.id.clone())
    }

    /// Says it cannot help: with the other body's answer when the message names one, else the
    /// general decline, offering the matcher's `guess` beside a person when there is one.
    fn decline(mut self, elsewhere: Option<&str>, guess: Option<String>, confidence: f32) -> Turn {
        self.state.unanswered += 1;
        if self.state.unanswered >= 2 {
            return self.hand_off(HandoffReason::NotAnswered, None, confidence);
        }
        let content = &self.engine.content;
        let (text, links) = match elsewhere.and_then(|id| content.intent(id)) {
            Some(intent) => (intent.answer.clone().unwrap_or_default(), intent.links.clone()),
            None => (content.messages.decline.clone(), Vec::new()),
        };
        let mut offers = vec![Offer::Person { label: TALK_TO_PERSON.into() }];
        let mut text = text;
        if let Some(topic) = guess {
            let title = self.engine.title_of(&topic);
            text = content.messages.unsure.replace("{topic}", &title);
            offers.insert(0, Offer::Topic { label: title, topic });
        }
        self.replies.push(Reply {
            text,
            quick_replies: offers.iter().map(|o| o.label().to_string()).collect(),
            links,
            answer: false,
            form: None,
        });
        self.state.offers = offers;
        self.finish(Matched::none(confidence))
    }

    /// Says what happens next, then asks the edge to queue the conversation.
    fn hand_off(mut self, reason: HandoffReason, topic: Option<String>, confidence: f32) -> Turn {
        let team = self.state.team.clone().unwrap_or_else(|| DEFAULT_TEAM.to_string());
        self.state.unanswered = 0;
        self.state.pending_topic = None;
        let closed = self
            .context
            .teams
            .get(&team)
            .and_then(|t| t.closed_until.as_ref().map(|opens| (t.name.clone(), opens.clone())));
        match closed {
            // Outside hours there is no dead end: say when the team opens, offer a message.
            Some((name, opens)) => {
                let when = if opens.is_empty() { String::new() } else { format!(" It opens {opens}.") };
                let offers = vec![Offer::LeaveMessage { label: LEAVE_MESSAGE.into() }];
                self.replies.push(Reply {
                    text: format!(
                        "Our {name} team is closed at the moment.{when} You can leave a message with your name, how to contact you and your question, and they will get back to you."
                    ),
                    quick_replies: offers.iter().map(|o| o.label().to_string()).collect(),
                    form: Some(OFFLINE_FORM.into()),
                    ..Reply::default()
                });
                self.state.offers = offers;
            }
            None => {
                self.state.mode = Mode::Queued;
                self.state.team = Some(team.clone());
                self.replies
                    .push(Reply { text: self.engine.content.messages.handoff.clone(), ..Reply::default() });
                self.handoff = Some(HandoffRequest { team, reason });
            }
        }
        let matched = match topic {
            Some(id) => Matched { kind: self.kind_of(&id), id: Some(id), confidence },
            None => Matched::none(confidence),
        };
        self.finish(matched)
    }

    fn finish(self, matched: Matched) -> Turn {
        Turn {
            replies: self.replies,
            matched,
            state: self.state,
            handoff: self.handoff,
            best_candidate: self.best_candidate,
        }
    }

    fn kind_of(&self, id: &str) -> MatchKind {
        if self.engine.content.intent(id).is_some() { MatchKind::Intent } else { MatchKind::Article }
    }

    fn district_of_place(&self) -> Option<&'a crate::content::District> {
        let place = self.state.place.as_ref()?;
        self.engine.content.districts.iter().find(|d| d.id == place.district_id)
    }

    /// The answer when the town is not known: every district, so the resident can pick.
    fn all_districts_answer(&self, title: &str) -> String {
        let mut text = format!(
            "{title} is handled by your district or borough council, not the county council. Find yours:\n\n"
        );
        for district in &self.engine.content.districts {
            text.push_str(&format!("- [{}]({})\n", district.name, district.website));
        }
        text.trim_end().to_string()
    }
}

/// A few words and no question: "Morning, I'm in Watford near the town centre", but not
/// "which team does Hitchin Town play next".
fn is_short_statement(text: &str) -> bool {
    !text.contains('?')
        && text.split_whitespace().count() <= SHORT_STATEMENT_WORDS
        && !text.split(['.', '!', ',', '\n']).any(super::matcher::opens_like_request)
}

fn follow_up_offers(intent: &Intent) -> impl Iterator<Item = Offer> + '_ {
    intent.follow_ups.iter().enumerate().map(|(index, f)| match &f.goto {
        Some(topic) if topic == PERSON_TOPIC => Offer::Person { label: f.label.clone() },
        Some(topic) => Offer::Topic { label: f.label.clone(), topic: topic.clone() },
        None => Offer::FollowUp { label: f.label.clone(), topic: intent.id.clone(), index },
    })
}

pub(super) fn fill_district(
    template: &str,
    place: Option<&str>,
    district: &crate::content::District,
) -> String {
    template
        .replace("{district}", &district.name)
        .replace("{district_url}", &district.website)
        .replace("{district_phone}", &district.phone)
        .replace("{place}", place.unwrap_or("Your area"))
}

/// A district template read without knowing the district: plain words and a finder link.
pub(super) fn fill_any_district(template: &str) -> String {
    template
        .replace("{district}", "your district or borough council")
        .replace("{district_url}", "https://www.gov.uk/find-local-council")
        .replace("{district_phone}", "your district or borough council")
        .replace("{place}", "Your area")
}
