//! Choosing the decline threshold on held-out phrasings of the content itself.
//!
//! A fixed threshold fits one content set and not the next. Here the content is split into
//! folds: each fold holds out one in every `folds` phrasing of each topic (questions it must
//! answer) and whole not-the-council topics (questions it has never seen and must decline).
//! The threshold chosen is the one that answers most held-out questions rightly while
//! declining most unseen ones: balanced accuracy averaged over the neighbouring thresholds,
//! and of those within a tie of the best, the lowest (the plateau's lower edge, which a few
//! new phrasings do not move, where its top wanders).
//!
//! With the sentence encoder, its share in the confidences and the cascade level (how unsure
//! the fast models must be before the encoder runs) are chosen the same way: the best share,
//! then the lowest level that gives up at most [`CASCADE_BUDGET`] of balanced accuracy, since
//! every message the encoder skips is answered several times faster.

use super::knowledge::Knowledge;
use super::matcher::{Example, MatchSettings, Matcher, OUT_OF_SCOPE};
use super::{ContentMeaning, training_examples};
use crate::content::{Content, Scope};

/// What the held-out phrasings said about the chosen threshold.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DeclineTuning {
    pub threshold: f32,
    /// The sentence encoder's share in the confidences, chosen with the threshold.
    pub encoder_share: f32,
    /// The encoder runs when the fast models' best confidence is below this.
    pub encoder_below: f32,
    /// Held-out answerable phrasings answered with their own topic.
    pub in_scope_accuracy: f64,
    /// Held-out unseen not-the-council phrasings that were declined.
    pub decline_recall: f64,
    /// Of all declines of held-out phrasings, the share that should have been declined.
    pub decline_precision: f64,
    pub held_out: usize,
}

/// One held-out phrasing's best reading: its confidence, whether its topic was right, whether
/// the best label declines, and whether it should have been declined.
#[derive(Debug, Clone, Copy)]
struct Outcome {
    confidence: f32,
    right: bool,
    declines: bool,
    should_decline: bool,
}

/// Balanced accuracies this close to the best are a tie, and the lowest threshold among them is
/// chosen: the curve is flat near its best, so an answer is not given up for nothing.
const TIE: f64 = 0.002;

/// Threshold steps (of 0.01) either side averaged when judging a threshold.
const SMOOTHING: usize = 3;

/// Shares of the sentence encoder tried, when there is one.
const ENCODER_SHARES: [f32; 5] = [0.3, 0.45, 0.6, 0.75, 0.9];

/// Cascade levels tried: the encoder runs when the fast models' best is below the level
/// (above 1, always). None below 0.6: cross-validation over single phrasings scores 0.4-0.9
/// within a third of a point of each other, but in conversations the fast models' unsure
/// readings of follow-ups and long messages need the encoder (dialogues-dev: 27 of 30 scenarios
/// at 0.5, 29 at 0.6).
const CASCADE_LEVELS: [f32; 5] = [0.6, 0.7, 0.8, 0.9, 1.01];

/// Balanced accuracy (the mean of in-scope accuracy and decline recall) a lower cascade level
/// may give up.
pub const CASCADE_BUDGET: f64 = 0.005;

/// Cross-validates the content's matcher over `folds` folds and chooses the threshold (and,
/// with the encoder, its share in the confidences).
pub fn tune_decline_threshold(
    content: &Content,
    settings: MatchSettings,
    folds: usize,
    meaning: Option<&ContentMeaning>,
) -> DeclineTuning {
    let folds = folds.max(2);
    let examples = training_examples(content);
    let elsewhere: Vec<String> =
        content.intents.iter().filter(|i| i.scope == Scope::Elsewhere).map(|i| i.id.clone()).collect();
    let combinations: Vec<(f32, f32)> = match meaning {
        Some(_) => ENCODER_SHARES.iter().flat_map(|&s| CASCADE_LEVELS.iter().map(move |&l| (s, l))).collect(),
        None => vec![(settings.encoder_share, settings.encoder_below)],
    };
    let mut outcomes: Vec<Vec<Outcome>> = vec![Vec::new(); combinations.len()];
    for fold in 0..folds {
        // Not-the-council topics are held out whole: they stand for questions nobody wrote.
        let unseen: Vec<&String> = elsewhere.iter().skip(fold).step_by(folds).collect();
        let mut train = Vec::new();
        let mut held_out: Vec<&Example> = Vec::new();
        let mut seen_per_label: std::collections::HashMap<&str, usize> = Default::default();
        for example in &examples {
            let n = seen_per_label.entry(example.label.as_str()).or_default();
            *n += 1;
            let is_unseen = unseen.contains(&&example.label);
            if is_unseen || *n % folds == fold {
                held_out.push(example);
            } else {
                train.push(example.clone());
            }
        }
        let knowledge = Knowledge::build(&content.articles).ok().filter(|_| !content.articles.is_empty());
        let declines: Vec<String> = elsewhere.iter().filter(|e| !unseen.contains(e)).cloned().collect();
        let normaliser = super::topics_normaliser(content);
        let fold_meaning = meaning.and_then(|m| m.of(&train));
        let mut matcher = Matcher::train(normaliser, &train, &declines, knowledge, fold_meaning, settings);
        matcher.know_words(super::all_place_names(content));
        for example in &held_out {
            // Each reading is made once; the combinations only blend them differently.
            let (_, fast) = matcher.fast_scores(&example.text);
            let meant = meaning
                .and_then(|m| m.embeddings.get(&example.text))
                .and_then(|embedding| matcher.meant_scores(embedding));
            let should_decline = example.label == OUT_OF_SCOPE || elsewhere.contains(&example.label);
            for (&(share, level), outcomes) in combinations.iter().zip(&mut outcomes) {
                let scores = matcher.fuse(fast.clone(), meant.as_deref(), share, level);
                let Some(best) = matcher.ranked(scores).into_iter().next() else { continue };
                outcomes.push(Outcome {
                    confidence: best.confidence,
                    right: best.id == example.label,
                    declines: matcher.is_decline_label(&best.id),
                    should_decline,
                });
            }
        }
    }
    let tunings: Vec<DeclineTuning> = combinations
        .iter()
        .zip(&outcomes)
        .map(|(&(share, level), outcomes)| DeclineTuning {
            encoder_share: share,
            encoder_below: level,
            ..choose(outcomes, settings.threshold)
        })
        .collect();
    pick(&tunings)
}

fn balanced(t: &DeclineTuning) -> f64 {
    (t.in_scope_accuracy + t.decline_recall) / 2.0
}

/// The share with the best balanced accuracy (the first on a tie), then the lowest cascade
/// level of that share within [`CASCADE_BUDGET`] of it.
fn pick(tunings: &[DeclineTuning]) -> DeclineTuning {
    let best = tunings
        .iter()
        .fold(None::<&DeclineTuning>, |best, t| match best {
            Some(b) if balanced(b) >= balanced(t) => Some(b),
            _ => Some(t),
        })
        .expect("at least one combination");
    *tunings
        .iter()
        .filter(|t| t.encoder_share == best.encoder_share && balanced(t) >= balanced(best) - CASCADE_BUDGET)
        .min_by(|a, b| a.encoder_below.total_cmp(&b.encoder_below))
        .unwrap_or(best)
}

/// The threshold with the best balanced accuracy over `outcomes`; `fallback` with none.
fn choose(outcomes: &[Outcome], fallback: f32) -> DeclineTuning {
    let answerable: Vec<&Outcome> = outcomes.iter().filter(|o| !o.should_decline).collect();
    let unanswerable: Vec<&Outcome> = outcomes.iter().filter(|o| o.should_decline).collect();
    if answerable.is_empty() || unanswerable.is_empty() {
        return DeclineTuning {
            threshold: fallback,
            encoder_share: 0.0,
            encoder_below: 0.0,
            in_scope_accuracy: 0.0,
            decline_recall: 0.0,
            decline_precision: 0.0,
            held_out: outcomes.len(),
        };
    }
    let declined = |o: &Outcome, t: f32| o.declines || o.confidence < t;
    let measure = |t: f32| {
        let answered_right = answerable.iter().filter(|o| o.right && !declined(o, t)).count();
        let declined_right = unanswerable.iter().filter(|o| declined(o, t)).count();
        let declined_wrong = answerable.iter().filter(|o| declined(o, t)).count();
        let in_scope = answered_right as f64 / answerable.len() as f64;
        let recall = declined_right as f64 / unanswerable.len() as f64;
        let precision = declined_right as f64 / (declined_right + declined_wrong).max(1) as f64;
        (in_scope, recall, precision)
    };
    let measured: Vec<(f32, (f64, f64, f64))> =
        (1..=90).map(|step| step as f32 / 100.0).map(|t| (t, measure(t))).collect();
    // Balanced accuracy is flat near its best, so the best single step moves with every few
    // phrasings added; the mean over neighbouring steps finds the middle of the plateau.
    let smoothed = |i: usize| {
        let window = &measured[i.saturating_sub(SMOOTHING)..(i + SMOOTHING + 1).min(measured.len())];
        window.iter().map(|(_, m)| m.0 + m.1).sum::<f64>() / window.len() as f64
    };
    // Within a tie of the best, the lowest threshold: the plateau's top moves with every few
    // phrasings added (0.43 to 0.48 after five), its lower edge hardly at all.
    let top = (0..measured.len()).map(smoothed).fold(f64::MIN, f64::max);
    let best = (0..measured.len())
        .find(|&i| smoothed(i) >= top - 2.0 * TIE)
        .map(|i| measured[i])
        .expect("thresholds to try");
    let (threshold, (in_scope_accuracy, decline_recall, decline_precision)) = best;
    DeclineTuning {
        encoder_share: 0.0,
        encoder_below: 0.0,
        threshold,
        in_scope_accuracy,
        decline_recall,
        decline_precision,
        held_out: outcomes.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(confidence: f32, right: bool, should_decline: bool) -> Outcome {
        Outcome { confidence, right, declines: false, should_decline }
    }

    #[test]
    fn chooses_the_threshold_that_separates_answers_from_unknowns() {
        let mut outcomes: Vec<Outcome> =
            (0..20).map(|i| outcome(0.6 + i as f32 / 100.0, true, false)).collect();
        outcomes.extend((0..20).map(|i| outcome(0.2 + i as f32 / 100.0, false, true)));
        let tuning = choose(&outcomes, 0.3);
        assert!(tuning.threshold > 0.39 && tuning.threshold <= 0.6, "{tuning:?}");
        assert_eq!(tuning.in_scope_accuracy, 1.0);
        assert_eq!(tuning.decline_recall, 1.0);
        assert_eq!(tuning.decline_precision, 1.0);
    }

    #[test]
    fn a_flat_top_gives_its_lowest_threshold() {
        // Answers from 0.50 up, 400 unknowns up to 0.30 and one at 0.46: a threshold above 0.46
        // declines one unknown more, a quarter of a point of recall, within a tie of those
        // below it. The lowest of the tie is taken, not the top of the plateau.
        let mut outcomes: Vec<Outcome> =
            (0..200).map(|i| outcome(0.5 + i as f32 / 500.0, true, false)).collect();
        outcomes.extend((0..400).map(|i| outcome(0.1 + i as f32 / 2000.0, false, true)));
        outcomes.push(outcome(0.46, false, true));
        let tuning = choose(&outcomes, 0.3);
        assert!(tuning.threshold > 0.3 && tuning.threshold < 0.42, "{tuning:?}");
        assert_eq!(tuning.in_scope_accuracy, 1.0);
    }

    fn tuning(share: f32, level: f32, in_scope: f64) -> DeclineTuning {
        DeclineTuning {
            threshold: 0.4,
            encoder_share: share,
            encoder_below: level,
            in_scope_accuracy: in_scope,
            decline_recall: 0.8,
            decline_precision: 0.8,
            held_out: 100,
        }
    }

    #[test]
    fn picks_the_lowest_cascade_level_within_budget_of_the_best_share() {
        let tunings = [
            tuning(0.3, 0.5, 0.70),
            tuning(0.3, 1.01, 0.74),
            tuning(0.6, 0.4, 0.60),
            tuning(0.6, 0.5, 0.745),
            tuning(0.6, 0.7, 0.752),
            tuning(0.6, 1.01, 0.753),
        ];
        let picked = pick(&tunings);
        assert_eq!((picked.encoder_share, picked.encoder_below), (0.6, 0.5), "{picked:?}");
    }

    #[test]
    fn without_unknowns_to_learn_from_the_fallback_stands() {
        let outcomes = vec![outcome(0.9, true, false)];
        assert_eq!(choose(&outcomes, 0.3).threshold, 0.3);
    }
}
