//! The matcher: normalise, vectorise, classify, search the articles, combine, decide.
//! Over 400 lines: the scoring, the cascade and the tuning read the same label scores; about
//! a quarter of the file is tests. The next split is the encoder's part into its own module.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::classifier::{Classifier, TrainSettings};
use super::encoder::Encoder;
use super::entities::without_personal_data;
use super::features::{FeatureSettings, SparseVector, Vectoriser};
use super::knowledge::Knowledge;
use super::learned::{LearnedView, LearnedWeights};
use super::network::{Network, NetworkSettings};
use super::normalise::{Normalised, Normaliser};
use super::spelling::Spelling;

/// Bumped whenever the matching code changes what it learns from the same content, so work
/// cached under the old revision (the chosen threshold) is not reused.
pub const MATCHER_REVISION: u32 = 11;

/// In-scope accuracy the tuned threshold may give up, as a fraction.
pub const TUNE_ACCURACY_BUDGET: f32 = 0.01;

/// The label of training lines that are out of scope.
pub const OUT_OF_SCOPE: &str = "out_of_scope";

/// Words that open a request: the sentence of a long message that carries what is wanted.
const REQUEST_OPENERS: &[&str] = &[
    "how", "what", "where", "when", "who", "which", "why", "can", "could", "do", "does", "is", "are", "will",
    "would", "should", "please", "i need", "i want", "i'd like", "id like", "help",
];

/// The sentence of a long message that asks for something, when the message has background
/// around it: the last question, else the last sentence that opens like a request.
pub fn request_sentence(text: &str) -> Option<&str> {
    let sentences: Vec<&str> = text
        .split_inclusive(['.', '!', '?', '\n'])
        .map(str::trim)
        .filter(|s| s.split_whitespace().count() >= 3)
        .collect();
    if sentences.len() < 2 {
        return None;
    }
    let opens_request = |s: &&&str| {
        let lower = s.to_lowercase();
        REQUEST_OPENERS.iter().any(|w| lower.starts_with(w) && lower[w.len()..].starts_with([' ', ',', '\'']))
    };
    sentences
        .iter()
        .rev()
        .find(|s| s.ends_with('?'))
        .or_else(|| sentences.iter().rev().find(opens_request))
        .copied()
}

/// Whether a sentence opens the way a question or request does ("how", "can", "please").
pub fn opens_like_request(sentence: &str) -> bool {
    let lower = sentence.trim_start().to_lowercase();
    REQUEST_OPENERS.iter().any(|w| lower.starts_with(w) && lower[w.len()..].starts_with([' ', ',', '\'']))
}

/// `into = (1 - share) * into + share * other`, label by label.
fn blend(into: &mut [f32], other: &[f32], share: f32) {
    for (p, q) in into.iter_mut().zip(other) {
        *p = (1.0 - share) * *p + share * q;
    }
}

fn sort_candidates(candidates: &mut [Candidate]) {
    candidates.sort_by(|a, b| b.confidence.total_cmp(&a.confidence).then_with(|| a.id.cmp(&b.id)));
}

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
    /// Whether an unsure long message is read again with its request sentence counted twice.
    pub emphasise_request: bool,
    /// Share of the sentence encoder's model in the confidences, when it runs.
    pub encoder_share: f32,
    /// The encoder runs only when the fast models' best confidence is below this: a cascade
    /// that spends its time on the messages the fast models are unsure of.
    pub encoder_below: f32,
    /// Training of the softmax regression over sentence embeddings.
    pub encoder_training: TrainSettings,
    /// Share of the network over sentence embeddings beside that regression (0 trains none).
    pub encoder_network_share: f32,
    pub encoder_network: NetworkSettings,
    /// Whether typing slips are put right before matching (`spelling.rs`).
    pub correct_spelling: bool,
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
            emphasise_request: true,
            encoder_share: 0.5,
            encoder_below: 0.9,
            encoder_training: TrainSettings { epochs: 40, lambda: 1e-6, learning_rate: 1.0, seed: 7 },
            encoder_network_share: 0.5,
            encoder_network: NetworkSettings { hidden: 256, epochs: 10, ..NetworkSettings::default() },
            correct_spelling: true,
        }
    }
}

/// A not-the-council label with at least this fast confidence beside a council topic's best
/// has the encoder consulted however sure the best is.
pub const BOUNDARY_RUNNER_UP: f32 = 0.1;

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

/// The sentence encoder and the embeddings of the training examples, in example order.
pub struct Meaning {
    pub encoder: Arc<Encoder>,
    pub embeddings: Vec<Vec<f32>>,
}

/// The sentence encoder, and a softmax regression and a small network over its embeddings.
#[derive(Debug)]
struct Semantic {
    encoder: Arc<Encoder>,
    classifier: Classifier,
    /// A network of one hidden layer over the same embeddings: the regression draws straight
    /// boundaries between topics, and some topics' phrasings are not on one side of a line.
    network: Option<Network>,
    /// Every training phrasing's embedding with its label: the nearest phrasing of each label
    /// is the second opinion beside the regression.
    phrases: Vec<(Vec<f32>, usize)>,
}

impl Semantic {
    /// Each label's probability from the embedding: the regression's (blended with the
    /// network's at `network_share`), averaged with a softmax over each label's nearest
    /// phrasing (cosine, sharpened by [`NEAREST_TEMPERATURE`]).
    fn probabilities(&self, embedding: &[f32], classes: usize, network_share: f32) -> Vec<f32> {
        let features = embedding_features(embedding);
        let mut probabilities = self.classifier.probabilities(&features);
        if let Some(network) = &self.network {
            blend(&mut probabilities, &network.probabilities(&features), network_share);
        }
        let mut nearest = vec![-1.0f32; classes];
        for (phrase, label) in &self.phrases {
            let cosine: f32 = phrase.iter().zip(embedding).map(|(a, b)| a * b).sum();
            nearest[*label] = nearest[*label].max(cosine);
        }
        let top = nearest.iter().copied().fold(f32::MIN, f32::max);
        let mut weights: Vec<f32> = nearest.iter().map(|c| ((c - top) / NEAREST_TEMPERATURE).exp()).collect();
        let total: f32 = weights.iter().sum();
        weights.iter_mut().for_each(|w| *w /= total);
        blend(&mut probabilities, &weights, NEAREST_SHARE);
        probabilities
    }
}

/// How sharply the nearest phrasing's cosine separates labels.
const NEAREST_TEMPERATURE: f32 = 0.05;
/// The nearest phrasing's share in the encoder's probabilities.
const NEAREST_SHARE: f32 = 0.5;

/// An embedding as features: scaled so the regression's steps suit unit vectors.
fn embedding_features(embedding: &[f32]) -> SparseVector {
    embedding.iter().enumerate().map(|(i, v)| (i as u32, v * EMBEDDING_SCALE)).collect()
}

const EMBEDDING_SCALE: f32 = 4.0;

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
    semantic: Option<Semantic>,
    /// The training words, to put typing slips right.
    spelling: Spelling,
    /// Messages the encoder was run for, to report the cascade's share.
    encoder_runs: AtomicUsize,
    weights_loaded: bool,
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
        meaning: Option<Meaning>,
        settings: MatchSettings,
    ) -> Self {
        Self::train_or_load(normaliser, examples, declines, knowledge, meaning, settings, None)
    }

    /// [`Matcher::train`], taking `learned` weights instead of training when they fit these
    /// examples (the same features, labels and models); weights that do not fit are ignored.
    pub fn train_or_load(
        normaliser: Normaliser,
        examples: &[Example],
        declines: &[String],
        knowledge: Option<Knowledge>,
        meaning: Option<Meaning>,
        settings: MatchSettings,
        learned: Option<LearnedWeights>,
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
        let (features, classes) = (vectoriser.len(), labels.len());
        let meaning = meaning.filter(|m| m.embeddings.len() == examples.len());
        let spelling = if settings.correct_spelling {
            let known = meaning.iter().flat_map(|m| m.encoder.whole_words().map(str::to_string));
            Spelling::new(examples.iter().map(|e| e.text.as_str()), known.collect::<Vec<_>>())
        } else {
            Spelling::default()
        };
        let phrases = |meaning: &Meaning| -> Vec<(Vec<f32>, usize)> {
            meaning
                .embeddings
                .iter()
                .zip(examples)
                .map(|(e, x)| (e.clone(), label_index[x.label.as_str()]))
                .collect()
        };
        let fits = |w: &LearnedWeights| {
            let dims = meaning.as_ref().map(|m| m.encoder.dims());
            (w.classifier.features(), w.classifier.classes()) == (features, classes)
                && w.network.as_ref().map(|n| (n.features(), n.classes()))
                    == (settings.network_share > 0.0).then_some((features, classes))
                && w.semantic.as_ref().map(|c| (c.features(), c.classes())) == dims.map(|d| (d, classes))
                && w.semantic_network.as_ref().map(|n| (n.features(), n.classes()))
                    == dims.filter(|_| settings.encoder_network_share > 0.0).map(|d| (d, classes))
        };
        let learned = learned.filter(fits);
        let weights_loaded = learned.is_some();
        let (classifier, network, semantic) = match learned {
            Some(learned) => {
                let semantic_network = learned.semantic_network;
                let semantic = meaning.zip(learned.semantic).map(|(meaning, classifier)| Semantic {
                    phrases: phrases(&meaning),
                    encoder: meaning.encoder,
                    classifier,
                    network: semantic_network,
                });
                (learned.classifier, learned.network, semantic)
            }
            None => {
                // Consumed here: the texts are not needed while the models train.
                let training: Vec<_> = normalised
                    .into_iter()
                    .zip(examples)
                    .map(|(n, e)| (vectoriser.transform(&n), label_index[e.label.as_str()]))
                    .collect();
                // The models are independent: train them side by side, the network on its own core.
                std::thread::scope(|scope| {
                    let network = (settings.network_share > 0.0).then(|| {
                        scope.spawn(|| Network::train(&settings.network, features, classes, &training))
                    });
                    let classifier = Classifier::train(&settings.training, features, classes, &training);
                    let semantic = meaning.map(|meaning| {
                        let embedded: Vec<(SparseVector, usize)> = meaning
                            .embeddings
                            .iter()
                            .zip(examples)
                            .map(|(e, example)| (embedding_features(e), label_index[example.label.as_str()]))
                            .collect();
                        let dims = meaning.encoder.dims();
                        let classifier =
                            Classifier::train(&settings.encoder_training, dims, classes, &embedded);
                        let network = (settings.encoder_network_share > 0.0)
                            .then(|| Network::train(&settings.encoder_network, dims, classes, &embedded));
                        let (phrases, encoder) = (phrases(&meaning), meaning.encoder);
                        Semantic { phrases, encoder, classifier, network }
                    });
                    let network =
                        network.map(|n| n.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
                    (classifier, network, semantic)
                })
            }
        };
        let decline_labels = labels.iter().map(|l| l == OUT_OF_SCOPE || declines.contains(l)).collect();
        Self {
            normaliser,
            vectoriser,
            classifier,
            network,
            labels,
            decline_labels,
            knowledge,
            semantic,
            spelling,
            encoder_runs: AtomicUsize::new(0),
            weights_loaded,
            settings,
        }
    }

    /// Whether the weights were given (learned before) rather than trained here.
    pub fn weights_loaded(&self) -> bool {
        self.weights_loaded
    }

    /// The weights this matcher learned, to keep for the next start.
    pub fn learned(&self) -> LearnedView<'_> {
        LearnedView {
            classifier: &self.classifier,
            network: self.network.as_ref(),
            semantic: self.semantic.as_ref().map(|s| &s.classifier),
            semantic_network: self.semantic.as_ref().and_then(|s| s.network.as_ref()),
        }
    }

    /// How many messages the sentence encoder has read (the cascade runs it when unsure).
    pub fn encoder_runs(&self) -> usize {
        self.encoder_runs.load(Ordering::Relaxed)
    }

    /// Words never to be put right: names the phrasings need not use, such as every town's.
    pub fn know_words(&mut self, texts: impl IntoIterator<Item = impl AsRef<str>>) {
        self.spelling.know(texts);
    }

    /// `text` with its typing slips put right against the training words (unchanged when
    /// spelling correction is off).
    pub fn corrected<'t>(&self, text: &'t str) -> std::borrow::Cow<'t, str> {
        self.spelling.correct(text)
    }

    pub fn has_encoder(&self) -> bool {
        self.semantic.is_some()
    }

    pub fn feature_count(&self) -> usize {
        self.vectoriser.len()
    }

    pub fn weight_bytes(&self) -> usize {
        self.classifier.weight_bytes() + self.network.as_ref().map_or(0, Network::weight_bytes)
    }

    /// Confidence of every label, best first. A long message is also read through the one
    /// sentence that carries its request, so background and greetings weigh less.
    pub fn candidates(&self, text: &str) -> (Normalised, Vec<Candidate>) {
        self.candidates_given(text, None)
    }

    /// [`Matcher::candidates`] with the message's sentence embedding already known (held-out
    /// phrasings in cross-validation), so the encoder need not run again.
    pub fn candidates_given(&self, text: &str, embedding: Option<&[f32]>) -> (Normalised, Vec<Candidate>) {
        let text = &*self.corrected(text);
        let (normalised, fast) = self.fast_scores(text);
        let meant = match &self.semantic {
            Some(semantic) if self.consults_encoder(&fast, self.settings.encoder_below) => {
                let embedding = match embedding {
                    Some(known) => known.to_vec(),
                    None => {
                        self.encoder_runs.fetch_add(1, Ordering::Relaxed);
                        semantic.encoder.embed(&[&without_personal_data(text)]).pop().unwrap_or_default()
                    }
                };
                Some(semantic.probabilities(
                    &embedding,
                    self.labels.len(),
                    self.settings.encoder_network_share,
                ))
            }
            _ => None,
        };
        let scores =
            self.fuse(fast, meant.as_deref(), self.settings.encoder_share, self.settings.encoder_below);
        (normalised, self.ranked(scores))
    }

    /// The fast models' scores for a message, label by label. An unsure reading of a long
    /// message is tried again with its request sentence read twice, so its words weigh more
    /// than the background's; the surer reading is kept. Always reading it twice costs sure
    /// answers (measured on the hard question set).
    pub fn fast_scores(&self, text: &str) -> (Normalised, Vec<f32>) {
        let (normalised, scores) = self.label_scores(text);
        let best = scores.iter().copied().fold(0.0, f32::max);
        match request_sentence(text) {
            Some(ask) if self.settings.emphasise_request && best < self.settings.sure => {
                let (_, emphasised) = self.label_scores(&format!("{text}\n{ask}"));
                let emphasised_best = emphasised.iter().copied().fold(0.0, f32::max);
                (normalised, if emphasised_best > best { emphasised } else { scores })
            }
            _ => (normalised, scores),
        }
    }

    /// The encoder's scores for a known embedding, label by label; None without the encoder.
    pub fn meant_scores(&self, embedding: &[f32]) -> Option<Vec<f32>> {
        self.semantic.as_ref().map(|semantic| {
            semantic.probabilities(embedding, self.labels.len(), self.settings.encoder_network_share)
        })
    }

    /// The fast scores with the encoder's blended in at `share`, when the fast models' best
    /// is below `encoder_below` (the cascade: sure readings never pay for the encoder).
    pub fn fuse(
        &self,
        mut fast: Vec<f32>,
        meant: Option<&[f32]>,
        share: f32,
        encoder_below: f32,
    ) -> Vec<f32> {
        if let Some(meant) = meant
            && self.consults_encoder(&fast, encoder_below)
        {
            blend(&mut fast, meant, share);
        }
        fast
    }

    /// Whether the encoder is asked: when the fast models' best is below `encoder_below`, or
    /// when they lean to a council topic while a not-the-council reading runs it close enough
    /// to matter ([`BOUNDARY_RUNNER_UP`]): words shared across that boundary ("tax", "library",
    /// "tip") make the fast models sure of the wrong side, and meaning is what tells them apart.
    fn consults_encoder(&self, fast: &[f32], encoder_below: f32) -> bool {
        let Some((top, &best)) = fast.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)) else {
            return false;
        };
        if best < encoder_below {
            return true;
        }
        !self.decline_labels[top]
            && fast
                .iter()
                .zip(&self.decline_labels)
                .any(|(&p, &declines)| declines && p >= BOUNDARY_RUNNER_UP)
    }

    /// Each label's confidence, in label order: personal data is blanked out first (it never
    /// says what a resident wants), then the models' averaged probability, raised by a
    /// matching article's BM25 score (noisy-OR, so evidence from either side counts).
    fn label_scores(&self, text: &str) -> (Normalised, Vec<f32>) {
        let normalised = self.normaliser.normalise(&without_personal_data(text));
        let vector = self.vectoriser.transform(&normalised);
        let mut probabilities = self.classifier.probabilities(&vector);
        if let Some(network) = &self.network {
            blend(&mut probabilities, &network.probabilities(&vector), self.settings.network_share);
        }
        if let Some(knowledge) = &self.knowledge {
            for (id, score) in knowledge.search(&normalised.words, 3) {
                if let Some(p) = self.labels.iter().position(|l| *l == id).map(|i| &mut probabilities[i]) {
                    let q =
                        self.settings.knowledge_weight * score / (score + self.settings.knowledge_half_score);
                    *p = 1.0 - (1.0 - *p) * (1.0 - q);
                }
            }
        }
        (normalised, probabilities)
    }

    /// Scores ranked into candidates, best first.
    pub fn ranked(&self, scores: Vec<f32>) -> Vec<Candidate> {
        let mut candidates: Vec<Candidate> = scores
            .into_iter()
            .enumerate()
            .map(|(i, confidence)| Candidate { id: self.labels[i].clone(), confidence })
            .collect();
        sort_candidates(&mut candidates);
        candidates
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

    /// The words the matcher reads in a message.
    pub fn normalise(&self, text: &str) -> Normalised {
        self.normaliser.normalise(text)
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
        self.tune_given(examples, &HashMap::new())
    }

    /// Chooses the encoder's share on held-out examples: the share with the best in-scope
    /// accuracy of the top candidate, before any threshold. Returns the share chosen.
    pub fn tune_encoder_share(
        &mut self,
        examples: &[(String, String)],
        embeddings: &HashMap<String, Vec<f32>>,
        shares: &[f32],
    ) -> f32 {
        let in_scope: Vec<&(String, String)> =
            examples.iter().filter(|(_, e)| e != OUT_OF_SCOPE && !self.is_decline_label(e)).collect();
        let mut best = (self.settings.encoder_share, -1.0f32);
        for &share in shares {
            self.settings.encoder_share = share;
            let right = in_scope
                .iter()
                .filter(|(text, expected)| {
                    let embedding = embeddings.get(text).map(Vec::as_slice);
                    self.candidates_given(text, embedding).1.first().is_some_and(|c| c.id == *expected)
                })
                .count() as f32;
            if right > best.1 {
                best = (share, right);
            }
        }
        self.settings.encoder_share = best.0;
        best.0
    }

    /// [`Matcher::tune`] with the sentence embeddings of some examples already known.
    pub fn tune_given(
        &mut self,
        examples: &[(String, String)],
        embeddings: &HashMap<String, Vec<f32>>,
    ) -> f32 {
        // (confidence of the best, best is right, best is a decline label)
        let in_scope: Vec<(f32, bool, bool)> = examples
            .iter()
            .filter(|(_, expected)| expected != OUT_OF_SCOPE && !self.is_decline_label(expected))
            .filter_map(|(text, expected)| {
                let (_, candidates) = self.candidates_given(text, embeddings.get(text).map(Vec::as_slice));
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
        Matcher::train(
            Normaliser::new(std::iter::empty()),
            &examples,
            &[],
            None,
            None,
            MatchSettings::default(),
        )
    }

    #[test]
    fn a_not_the_council_runner_up_has_the_encoder_consulted_however_sure_the_best() {
        let matcher = matcher();
        let label = |id: &str| matcher.labels.iter().position(|l| l == id).unwrap();
        let mut scores = vec![0.0; matcher.labels.len()];
        scores[label("libraries")] = 0.85;
        assert!(!matcher.consults_encoder(&scores, 0.6), "sure, and nothing across the boundary");
        scores[label("potholes")] = 0.3;
        assert!(!matcher.consults_encoder(&scores, 0.6), "a council runner-up is no boundary");
        scores[label(OUT_OF_SCOPE)] = BOUNDARY_RUNNER_UP;
        assert!(matcher.consults_encoder(&scores, 0.6));
        // Led by a not-the-council reading, the fast models decline without help.
        scores.swap(label("libraries"), label(OUT_OF_SCOPE));
        assert!(!matcher.consults_encoder(&scores, 0.6));
        assert!(matcher.consults_encoder(&[0.5, 0.1, 0.0], 0.6), "unsure");
    }

    /// The network over embeddings is trained with the encoder, kept with the learned weights
    /// and loaded back to the same readings; without its share none is trained, and weights
    /// that carry one do not fit such a matcher.
    #[test]
    fn the_network_over_embeddings_is_learned_kept_and_loaded() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/all-MiniLM-L6-v2");
        let encoder = Arc::new(Encoder::load(&dir).expect("shipped model"));
        let examples = vec![
            example("renew my library books", "libraries"),
            example("can I borrow audiobooks", "libraries"),
            example("report a pothole in the road", "potholes"),
            example("there is a big hole in our street", "potholes"),
            example("what is the weather tomorrow", OUT_OF_SCOPE),
            example("tell me a joke", OUT_OF_SCOPE),
        ];
        let meaning = || {
            let texts: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
            Some(Meaning { encoder: encoder.clone(), embeddings: encoder.embed(&texts) })
        };
        let train = |settings: MatchSettings, learned: Option<LearnedWeights>| {
            let normaliser = Normaliser::new(std::iter::empty());
            Matcher::train_or_load(normaliser, &examples, &[], None, meaning(), settings, learned)
        };
        let settings = MatchSettings { encoder_below: 1.1, ..MatchSettings::default() };
        let trained = train(settings, None);
        let view = trained.learned();
        assert!(view.semantic_network.is_some(), "trained beside the regression");
        let owned = |v: LearnedView| LearnedWeights {
            classifier: v.classifier.clone(),
            network: v.network.cloned(),
            semantic: v.semantic.cloned(),
            semantic_network: v.semantic_network.cloned(),
        };
        let loaded = train(settings, Some(owned(view)));
        assert!(loaded.weights_loaded());
        let text = "my wheel went down a crater on the high street";
        let readings = |m: &Matcher| {
            m.candidates(text).1.iter().map(|c| (c.id.clone(), c.confidence)).collect::<Vec<_>>()
        };
        assert_eq!(readings(&trained), readings(&loaded));
        assert_eq!(readings(&trained)[0].0, "potholes");
        let without = MatchSettings { encoder_network_share: 0.0, ..settings };
        assert!(
            !train(without, Some(owned(trained.learned()))).weights_loaded(),
            "a network it has no use for"
        );
        assert!(train(without, None).learned().semantic_network.is_none());
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
            Matcher::train(Normaliser::new(std::iter::empty()), &examples, &[], None, None, settings)
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
    fn the_request_of_a_long_message_is_its_last_question() {
        let story = "Hi there. My mum moved in with us last spring. She can't manage the stairs. \
                     Who can come and assess her? Thanks so much for reading all this.";
        assert_eq!(request_sentence(story), Some("Who can come and assess her?"));
        let no_question = "We had a flood last night. Please tell me where to get sandbags. Thanks a lot.";
        assert_eq!(request_sentence(no_question), Some("Please tell me where to get sandbags."));
        assert_eq!(request_sentence("where is the nearest tip"), None);
        assert_eq!(request_sentence(""), None);
    }

    #[test]
    fn nothing_trained_declines_without_panicking() {
        let empty = Matcher::train(
            Normaliser::new(std::iter::empty()),
            &[],
            &[],
            None,
            None,
            MatchSettings::default(),
        );
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
