//! The matcher: normalise, vectorise, classify, search the articles, combine, decide.

use std::collections::HashMap;

use super::classifier::{Classifier, TrainSettings};
use super::entities::without_personal_data;
use super::features::{FeatureSettings, Vectoriser};
use super::knowledge::Knowledge;
use super::network::{Network, NetworkSettings};
use super::normalise::{Normalised, Normaliser};

/// In-scope accuracy the tuned threshold may give up, as a fraction.
pub const TUNE_ACCURACY_BUDGET: f32 = 0.01;

/// The label of training lines that are out of scope.
pub const OUT_OF_SCOPE: &str = "out_of_scope";

/// Everything the matcher learns or is told, in one place.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MatchSettings {
    /// Below this confidence the assistant declines.
    pub threshold: f32,
    /// When the best two are closer than this, and the best is below `sure`, ask "did you mean".
    pub clarify_margin: f32,
    pub sure: f32,
    /// How much an article's BM25 score can add to its confidence (noisy-OR).
    pub knowledge_weight: f32,
    /// The BM25 score that counts as half-way to certain.
    pub knowledge_half_score: f32,
    pub features: FeatureSettings,
    pub training: TrainSettings,
    /// Share of the neural network in the averaged class probabilities (0 trains none).
    pub network_share: f32,
    pub network: NetworkSettings,
}

impl Default for MatchSettings {
    fn default() -> Self {
        Self {
            threshold: 0.3,
            clarify_margin: 0.08,
            sure: 0.5,
            knowledge_weight: 0.3,
            knowledge_half_score: 12.0,
            features: FeatureSettings::default(),
            training: TrainSettings::default(),
            network_share: 0.7,
            network: NetworkSettings::default(),
        }
    }
}

/// A labelled example to learn from.
#[derive(Debug, Clone)]
pub struct Example {
    pub text: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Candidate {
    pub id: String,
    pub confidence: f32,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Decision {
    Answer {
        id: String,
        confidence: f32,
    },
    /// "Did you mean": the best candidates, best first.
    Clarify {
        ids: Vec<String>,
        confidence: f32,
    },
    /// Out of scope; `elsewhere` names a known not-the-council topic when one matched.
    Decline {
        elsewhere: Option<String>,
        confidence: f32,
    },
}

impl Decision {
    pub fn confidence(&self) -> f32 {
        match self {
            Decision::Answer { confidence, .. }
            | Decision::Clarify { confidence, .. }
            | Decision::Decline { confidence, .. } => *confidence,
        }
    }
}

/// What the matcher made of one message, with the reasons (for `ask` and the logs).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Match {
    pub normalised: String,
    pub candidates: Vec<Candidate>,
    pub decision: Decision,
}

#[derive(Debug)]
pub struct Matcher {
    normaliser: Normaliser,
    vectoriser: Vectoriser,
    classifier: Classifier,
    network: Option<Network>,
    labels: Vec<String>,
    /// Labels that mean "not ours": out_of_scope and the elsewhere topics.
    decline_labels: Vec<bool>,
    knowledge: Option<Knowledge>,
    pub settings: MatchSettings,
}

impl Matcher {
    /// Trains on `examples`. `declines` lists labels other than `out_of_scope` that mean the
    /// question is not the council's.
    pub fn train(
        normaliser: Normaliser,
        examples: &[Example],
        declines: &[String],
        knowledge: Option<Knowledge>,
        settings: MatchSettings,
    ) -> Self {
        let mut label_index: HashMap<&str, usize> = HashMap::new();
        let mut labels = Vec::new();
        for example in examples {
            label_index.entry(&example.label).or_insert_with(|| {
                labels.push(example.label.clone());
                labels.len() - 1
            });
        }
        let normalised: Vec<Normalised> = examples.iter().map(|e| normaliser.normalise(&e.text)).collect();
        let vectoriser = Vectoriser::fit(settings.features, &normalised);
        // Consumed here: the texts are not needed while the models train.
        let training: Vec<_> = normalised
            .into_iter()
            .zip(examples)
            .map(|(n, e)| (vectoriser.transform(&n), label_index[e.label.as_str()]))
            .collect();
        let (features, classes) = (vectoriser.len(), labels.len());
        // The two models are independent: train them side by side, one core each.
        let (classifier, network) = std::thread::scope(|scope| {
            let network = (settings.network_share > 0.0)
                .then(|| scope.spawn(|| Network::train(&settings.network, features, classes, &training)));
            let classifier = Classifier::train(&settings.training, features, classes, &training);
            let network = network.map(|n| n.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
            (classifier, network)
        });
        let decline_labels = labels.iter().map(|l| l == OUT_OF_SCOPE || declines.contains(l)).collect();
        Self { normaliser, vectoriser, classifier, network, labels, decline_labels, knowledge, settings }
    }

    pub fn feature_count(&self) -> usize {
        self.vectoriser.len()
    }

    pub fn weight_bytes(&self) -> usize {
        self.classifier.weight_bytes() + self.network.as_ref().map_or(0, Network::weight_bytes)
    }

    /// Confidence of every label, best first: personal data is blanked out first (it never
    /// says what a resident wants), then the classifier's probability, raised by a
    /// matching article's BM25 score (noisy-OR, so evidence from either side counts).
    pub fn candidates(&self, text: &str) -> (Normalised, Vec<Candidate>) {
        let normalised = self.normaliser.normalise(&without_personal_data(text));
        let vector = self.vectoriser.transform(&normalised);
        let mut probabilities = self.classifier.probabilities(&vector);
        if let Some(network) = &self.network {
            let share = self.settings.network_share;
            for (p, q) in probabilities.iter_mut().zip(network.probabilities(&vector)) {
                *p = (1.0 - share) * *p + share * q;
            }
        }
        let mut confidence: HashMap<&str, f32> =
            probabilities.into_iter().enumerate().map(|(i, p)| (self.labels[i].as_str(), p)).collect();
        if let Some(knowledge) = &self.knowledge {
            for (id, score) in knowledge.search(&normalised.words, 3) {
                if let Some(p) = confidence.get_mut(id.as_str()) {
                    let q =
                        self.settings.knowledge_weight * score / (score + self.settings.knowledge_half_score);
                    *p = 1.0 - (1.0 - *p) * (1.0 - q);
                }
            }
        }
        let mut candidates: Vec<Candidate> =
            confidence.into_iter().map(|(id, c)| Candidate { id: id.to_string(), confidence: c }).collect();
        candidates.sort_by(|a, b| b.confidence.total_cmp(&a.confidence).then_with(|| a.id.cmp(&b.id)));
        (normalised, candidates)
    }

    pub fn is_decline_label(&self, id: &str) -> bool {
        self.labels.iter().zip(&self.decline_labels).any(|(l, d)| *d && l == id)
    }

    pub fn decide(&self, candidates: &[Candidate]) -> Decision {
        let s = &self.settings;
        let Some(best) = candidates.first() else {
            return Decision::Decline { elsewhere: None, confidence: 0.0 };
        };
        let confidence = best.confidence;
        if self.is_decline_label(&best.id) || confidence < s.threshold {
            let elsewhere =
                (best.id != OUT_OF_SCOPE && self.is_decline_label(&best.id) && confidence >= s.threshold)
                    .then(|| best.id.clone());
            return Decision::Decline { elsewhere, confidence };
        }
        let close: Vec<String> = candidates
            .iter()
            .skip(1)
            .take(2)
            .filter(|c| !self.is_decline_label(&c.id) && confidence - c.confidence < s.clarify_margin)
            .map(|c| c.id.clone())
            .collect();
        if confidence < s.sure && !close.is_empty() {
            let ids = std::iter::once(best.id.clone()).chain(close).collect();
            return Decision::Clarify { ids, confidence };
        }
        Decision::Answer { id: best.id.clone(), confidence }
    }

    pub fn classify(&self, text: &str) -> Match {
        let (normalised, candidates) = self.candidates(text);
        let decision = self.decide(&candidates);
        Match {
            normalised: normalised.text(),
            candidates: candidates.into_iter().take(5).collect(),
            decision,
        }
    }

    /// Chooses the out-of-scope threshold on held-out examples `(text, expected label)`: the
    /// highest threshold that costs at most [`TUNE_ACCURACY_BUDGET`] of in-scope accuracy
    /// against the best the examples allow, so declines are bought with a known, small price
    /// in answers. Returns the threshold chosen.
    pub fn tune(&mut self, examples: &[(String, String)]) -> f32 {
        // (confidence of the best, best is right, best is a decline label)
        let in_scope: Vec<(f32, bool, bool)> = examples
            .iter()
            .filter(|(_, expected)| expected != OUT_OF_SCOPE && !self.is_decline_label(expected))
            .filter_map(|(text, expected)| {
                let (_, candidates) = self.candidates(text);
                let best = candidates.into_iter().next()?;
                let decline = self.is_decline_label(&best.id);
                Some((best.confidence, best.id == *expected, decline))
            })
            .collect();
        if in_scope.is_empty() {
            return self.settings.threshold;
        }
        // With nothing out of scope to learn from, declining only loses answers.
        let has_out_of_scope = examples.iter().any(|(_, e)| e == OUT_OF_SCOPE || self.is_decline_label(e));
        if !has_out_of_scope {
            self.settings.threshold = 0.0;
            return 0.0;
        }
        let accuracy = |t: f32| {
            in_scope.iter().filter(|(c, right, decline)| *right && !*decline && *c >= t).count() as f32
                / in_scope.len() as f32
        };
        let best = accuracy(0.0);
        let mut thresholds: Vec<f32> = in_scope.iter().map(|s| s.0).collect();
        thresholds.sort_by(f32::total_cmp);
        thresholds.dedup();
        let chosen = thresholds
            .into_iter()
            .take_while(|&t| accuracy(t) >= best - TUNE_ACCURACY_BUDGET)
            .last()
            .unwrap_or(0.0);
        self.settings.threshold = chosen;
        chosen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(text: &str, label: &str) -> Example {
        Example { text: text.into(), label: label.into() }
    }

    fn matcher() -> Matcher {
        let examples = vec![
            example("renew my library books", "libraries"),
            example("library opening hours", "libraries"),
            example("borrow ebooks from the library", "libraries"),
            example("report a pothole in the road", "potholes"),
            example("huge hole in the road surface", "potholes"),
            example("pothole damaged my tyre", "potholes"),
            example("what is the weather tomorrow", OUT_OF_SCOPE),
            example("tell me a joke", OUT_OF_SCOPE),
        ];
        Matcher::train(Normaliser::new(std::iter::empty()), &examples, &[], None, MatchSettings::default())
    }

    #[test]
    fn answers_declines_and_explains() {
        let matcher = matcher();
        let found = matcher.classify("when is the library open");
        assert!(matches!(found.decision, Decision::Answer { ref id, .. } if id == "libraries"), "{found:?}");
        assert_eq!(found.candidates[0].id, "libraries");
        let weather = matcher.classify("is the weather nice tomorrow");
        assert!(matches!(weather.decision, Decision::Decline { elsewhere: None, .. }), "{weather:?}");
    }

    #[test]
    fn word_meaning_reaches_words_no_phrase_has() {
        let examples = vec![
            example("i lost my money", "lost-money"),
            example("money missing from my account", "lost-money"),
            example("where did my money go", "lost-money"),
            example("borrow books from the library", "libraries"),
            example("library opening hours", "libraries"),
            example("renew a library book", "libraries"),
        ];
        let trained = |meaning_weight: f32| {
            let features = FeatureSettings { meaning_weight, ..FeatureSettings::default() };
            let settings = MatchSettings { features, ..MatchSettings::default() };
            Matcher::train(Normaliser::new(std::iter::empty()), &examples, &[], None, settings)
        };
        // Neither word of the question is in any phrase: only word meaning links them.
        let question = "cash vanished";
        let lost_money = |matcher: &Matcher| {
            let (_, candidates) = matcher.candidates(question);
            assert_eq!(candidates[0].id, "lost-money", "{candidates:?}");
            candidates[0].confidence
        };
        let (with_meaning, without) = (trained(3.0), trained(0.0));
        assert!(lost_money(&with_meaning) > 0.7);
        assert!(without.candidates(question).1[0].confidence < 0.6);
    }

    #[test]
    fn personal_data_does_not_sway_the_match() {
        let matcher = matcher();
        let plain = matcher.classify("report a pothole");
        let with_details = matcher.classify("report a pothole, jo.bloggs@example.com 07700 900123");
        assert_eq!(plain.candidates, with_details.candidates);
    }

    #[test]
    fn nothing_trained_declines_without_panicking() {
        let empty =
            Matcher::train(Normaliser::new(std::iter::empty()), &[], &[], None, MatchSettings::default());
        assert!(matches!(empty.classify("hello").decision, Decision::Decline { .. }));
    }

    #[test]
    fn tuning_needs_out_of_scope_examples_to_decline() {
        let mut matcher = matcher();
        let in_scope = vec![("library hours".to_string(), "libraries".to_string())];
        assert_eq!(matcher.tune(&in_scope), 0.0);
        let mut mixed = in_scope.clone();
        mixed.push(("pothole on my street".into(), "potholes".into()));
        mixed.push(("sing me a song".into(), OUT_OF_SCOPE.into()));
        let threshold = matcher.tune(&mixed);
        // The chosen threshold keeps every in-scope tuning question answered.
        for (text, expected) in &mixed[..2] {
            let found = matcher.classify(text);
            assert!(found.decision.confidence() >= threshold, "{text}");
            assert_eq!(&found.candidates[0].id, expected);
        }
    }
}
