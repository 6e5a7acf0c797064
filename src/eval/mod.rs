//! `eval`: measures answer quality on a labelled question set, either with the shipped content
//! or with a matcher trained on any public intent data set (`--train`).
//! Over 400 lines: single-question and multi-turn scoring share the readers and the report;
//! the next split is the dialogue scenarios into their own module.

mod typos;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use std::sync::Arc;

use crate::engine::encoder::Encoder;
use crate::engine::matcher::{Decision, Example, MatchSettings, Matcher, Meaning, OUT_OF_SCOPE};
use crate::engine::normalise::Normaliser;
use crate::engine::{Context, ConversationState, Engine, MatchKind, Matched};
pub use typos::with_typos;

/// One labelled line: test files say `expected`, training files say `intent`.
#[derive(Debug, Clone, Deserialize)]
pub struct LabelledLine {
    pub text: String,
    #[serde(alias = "intent")]
    pub expected: String,
    /// How the question is written (plain, indirect, long, informal, near-miss), when known.
    #[serde(default)]
    pub style: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("cannot read {0}: {1}")]
    Read(String, std::io::Error),
    #[error("{0}:{1}: not a labelled line: {2}")]
    Line(String, usize, serde_json::Error),
    #[error("{0} has no lines")]
    Empty(String),
}

pub fn read_lines(path: &Path) -> Result<Vec<LabelledLine>, EvalError> {
    read_json_lines(path)
}

pub fn read_scenarios(path: &Path) -> Result<Vec<Scenario>, EvalError> {
    read_json_lines(path)
}

/// One JSON value a non-blank line; an error names the file and line.
fn read_json_lines<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Vec<T>, EvalError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| EvalError::Read(name.clone(), e))?;
    let lines: Vec<T> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| serde_json::from_str(l).map_err(|e| EvalError::Line(name.clone(), n + 1, e)))
        .collect::<Result<_, _>>()?;
    if lines.is_empty() {
        return Err(EvalError::Empty(name));
    }
    Ok(lines)
}

/// The figures `eval --json` prints; the first five are the contract's.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub in_scope_accuracy: f64,
    pub oos_recall: f64,
    pub oos_precision: f64,
    pub clarify_rate: f64,
    pub macro_f1: f64,
    pub questions: usize,
    pub in_scope: usize,
    pub out_of_scope: usize,
    pub threshold: f32,
    /// The sentence encoder's share in the confidences when it runs (0 without it).
    pub encoder_share: f32,
    /// The share of test questions the cascade ran the encoder for.
    pub encoder_share_of_messages: f64,
    pub train_seconds: f64,
    pub mean_reply_micros: f64,
    /// Expected calibration error of the top candidate's confidence: how far "right 80% of
    /// the time at confidence 0.8" is from true, averaged over ten bins.
    pub calibration_error: f64,
    pub per_id_f1: BTreeMap<String, f64>,
    /// Share answered rightly (or rightly declined), by the lines' `style`.
    pub accuracy_by_style: BTreeMap<String, f64>,
    /// Every question answered wrongly: (text, expected, matched or out_of_scope, confidence).
    pub misses: Vec<(String, String, String, f32)>,
    /// (expected, predicted, count), most frequent first.
    pub worst_confusions: Vec<(String, String, usize)>,
}

/// Scores predictions against expectations. `predicted` is the matched id, or `out_of_scope`
/// when the assistant declined.
pub fn score(expected_and_matched: &[(String, Matched)]) -> Report {
    let is_oos = |label: &str| label == OUT_OF_SCOPE;
    let predicted: Vec<(String, String)> = expected_and_matched
        .iter()
        .map(|(expected, matched)| {
            let label = match (matched.kind, &matched.id) {
                (MatchKind::None, _) | (_, None) => OUT_OF_SCOPE.to_string(),
                (_, Some(id)) => id.clone(),
            };
            (expected.clone(), label)
        })
        .collect();
    let in_scope = predicted.iter().filter(|(e, _)| !is_oos(e)).count();
    let out_of_scope = predicted.len() - in_scope;
    let right_in_scope = predicted.iter().filter(|(e, p)| !is_oos(e) && e == p).count();
    let declined = predicted.iter().filter(|(_, p)| is_oos(p)).count();
    let right_declines = predicted.iter().filter(|(e, p)| is_oos(e) && is_oos(p)).count();
    let clarified = expected_and_matched.iter().filter(|(_, m)| m.kind == MatchKind::Clarify).count();
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };

    let labels: BTreeSet<&str> = predicted.iter().map(|(e, _)| e.as_str()).collect();
    let mut per_id_f1 = BTreeMap::new();
    for label in &labels {
        let tp = predicted.iter().filter(|(e, p)| e == label && p == label).count();
        let fp = predicted.iter().filter(|(e, p)| e != label && p == label).count();
        let fn_ = predicted.iter().filter(|(e, p)| e == label && p != label).count();
        let f1 = ratio(2 * tp, 2 * tp + fp + fn_);
        per_id_f1.insert(label.to_string(), f1);
    }
    let macro_f1 = per_id_f1.values().sum::<f64>() / per_id_f1.len().max(1) as f64;
    let mut confusions: HashMap<(String, String), usize> = HashMap::new();
    for (e, p) in predicted.iter().filter(|(e, p)| e != p) {
        *confusions.entry((e.clone(), p.clone())).or_default() += 1;
    }
    let mut worst_confusions: Vec<(String, String, usize)> =
        confusions.into_iter().map(|((e, p), n)| (e, p, n)).collect();
    worst_confusions.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)).then_with(|| a.1.cmp(&b.1)));
    worst_confusions.truncate(15);
    Report {
        in_scope_accuracy: ratio(right_in_scope, in_scope),
        oos_recall: ratio(right_declines, out_of_scope),
        oos_precision: ratio(right_declines, declined),
        clarify_rate: ratio(clarified, predicted.len()),
        macro_f1,
        questions: predicted.len(),
        in_scope,
        out_of_scope,
        threshold: 0.0,
        encoder_share: 0.0,
        encoder_share_of_messages: 0.0,
        train_seconds: 0.0,
        mean_reply_micros: 0.0,
        calibration_error: 0.0,
        accuracy_by_style: BTreeMap::new(),
        misses: Vec::new(),
        per_id_f1,
        worst_confusions,
    }
}

fn misses(lines: &[LabelledLine], results: &[(String, Matched)]) -> Vec<(String, String, String, f32)> {
    lines
        .iter()
        .zip(results)
        .filter_map(|(line, (expected, matched))| {
            let got = match (matched.kind, &matched.id) {
                (MatchKind::None, _) | (_, None) => OUT_OF_SCOPE.to_string(),
                (_, Some(id)) => id.clone(),
            };
            (got != *expected).then(|| (line.text.clone(), expected.clone(), got, matched.confidence))
        })
        .collect()
}

/// The share of lines answered rightly, by style: the matched id is the expected one, or an
/// out-of-scope line was declined.
fn accuracy_by_style(lines: &[LabelledLine], results: &[(String, Matched)]) -> BTreeMap<String, f64> {
    let mut counts: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (line, (expected, matched)) in lines.iter().zip(results) {
        let Some(style) = &line.style else { continue };
        let right = match (matched.kind, &matched.id) {
            (MatchKind::None, _) | (_, None) => expected == OUT_OF_SCOPE,
            (_, Some(id)) => id == expected,
        };
        let entry = counts.entry(style.clone()).or_default();
        entry.0 += usize::from(right);
        entry.1 += 1;
    }
    counts.into_iter().map(|(style, (right, total))| (style, right as f64 / total as f64)).collect()
}

/// Expected calibration error over ten equal-width confidence bins, from
/// (top confidence, top candidate was right) pairs.
pub fn calibration_error(outcomes: &[(f32, bool)]) -> f64 {
    const BINS: usize = 10;
    let mut bins = [(0usize, 0.0f64, 0usize); BINS]; // (count, sum of confidence, right)
    for &(confidence, right) in outcomes {
        let bin = ((confidence.clamp(0.0, 1.0) * BINS as f32) as usize).min(BINS - 1);
        bins[bin].0 += 1;
        bins[bin].1 += f64::from(confidence);
        bins[bin].2 += usize::from(right);
    }
    let total = outcomes.len().max(1) as f64;
    bins.iter()
        .filter(|(count, _, _)| *count > 0)
        .map(|&(_, confidence, right)| (right as f64 - confidence).abs() / total)
        .sum()
}

/// Whether the matcher's top candidate for each question was right, with its confidence. An
/// out-of-scope question is rightly topped by any label that declines.
fn top_outcomes(matcher: &Matcher, lines: &[LabelledLine]) -> Vec<(f32, bool)> {
    lines
        .iter()
        .filter_map(|l| {
            let (_, candidates) = matcher.candidates(&l.text);
            let top = candidates.into_iter().next()?;
            let right =
                top.id == l.expected || (l.expected == OUT_OF_SCOPE && matcher.is_decline_label(&top.id));
            Some((top.confidence, right))
        })
        .collect()
}

/// What the contract's `matched` says for a bare matcher decision (no content to answer with).
pub fn matched_of(decision: &Decision) -> Matched {
    match decision {
        Decision::Answer { id, confidence } => {
            Matched { kind: MatchKind::Intent, id: Some(id.clone()), confidence: *confidence }
        }
        Decision::Clarify { ids, confidence } => {
            Matched { kind: MatchKind::Clarify, id: ids.first().cloned(), confidence: *confidence }
        }
        Decision::Decline { confidence, .. } => Matched::none(*confidence),
    }
}

fn tuning_pairs(lines: &[LabelledLine]) -> Vec<(String, String)> {
    lines.iter().map(|l| (l.text.clone(), l.expected.clone())).collect()
}

/// Shares of the sentence encoder tried on the tuning file.
const ENCODER_SHARES: [f32; 6] = [0.0, 0.2, 0.35, 0.5, 0.65, 0.8];

/// Trains a bare matcher on public intent data (with the sentence encoder when given), tunes
/// it, and scores it.
pub fn run_trained(
    train: &[LabelledLine],
    tune: Option<&[LabelledLine]>,
    test: &[LabelledLine],
    settings: MatchSettings,
    encoder: Option<Arc<Encoder>>,
) -> Report {
    let started = Instant::now();
    let examples: Vec<Example> =
        train.iter().map(|l| Example { text: l.text.clone(), label: l.expected.clone() }).collect();
    let meaning = encoder.as_ref().map(|encoder| {
        let texts: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
        Meaning { encoder: encoder.clone(), embeddings: encoder.embed(&texts) }
    });
    let mut matcher =
        Matcher::train(Normaliser::new(std::iter::empty()), &examples, &[], None, meaning, settings);
    let train_seconds = started.elapsed().as_secs_f64();
    if let Some(tune) = tune {
        let pairs = tuning_pairs(tune);
        let embeddings: HashMap<String, Vec<f32>> = match &encoder {
            Some(encoder) => {
                let texts: Vec<&str> = tune.iter().map(|l| l.text.as_str()).collect();
                texts.iter().map(|t| t.to_string()).zip(encoder.embed(&texts)).collect()
            }
            None => HashMap::new(),
        };
        if encoder.is_some() {
            matcher.tune_encoder_share(&pairs, &embeddings, &ENCODER_SHARES);
        }
        matcher.tune_given(&pairs, &embeddings);
    }
    let runs_before = matcher.encoder_runs();
    let started = Instant::now();
    let results: Vec<(String, Matched)> =
        test.iter().map(|l| (l.expected.clone(), matched_of(&matcher.classify(&l.text).decision))).collect();
    let mean_reply_micros = started.elapsed().as_secs_f64() * 1e6 / test.len() as f64;
    let encoder_share_of_messages = (matcher.encoder_runs() - runs_before) as f64 / test.len() as f64;
    let calibration_error = calibration_error(&top_outcomes(&matcher, test));
    Report {
        threshold: matcher.settings.threshold,
        encoder_share: matcher.settings.encoder_share,
        encoder_share_of_messages,
        accuracy_by_style: accuracy_by_style(test, &results),
        misses: misses(test, &results),
        train_seconds,
        mean_reply_micros,
        calibration_error,
        ..score(&results)
    }
}

/// Scores the shipped content: each question starts a fresh conversation, through the whole
/// dialogue policy, exactly as the API would answer it.
pub fn run_content(mut engine: Engine, tune: Option<&[LabelledLine]>, test: &[LabelledLine]) -> Report {
    if let Some(tune) = tune {
        engine.matcher.tune(&tuning_pairs(tune));
    }
    let fresh = ConversationState::default();
    let runs_before = engine.matcher.encoder_runs();
    let started = Instant::now();
    let results: Vec<(String, Matched)> = test
        .iter()
        .map(|l| (l.expected.clone(), engine.reply(&fresh, &l.text, &Context::default()).matched))
        .collect();
    let mean_reply_micros = started.elapsed().as_secs_f64() * 1e6 / test.len() as f64;
    let runs = engine.matcher.encoder_runs() - runs_before;
    let calibration_error = calibration_error(&top_outcomes(&engine.matcher, test));
    Report {
        threshold: engine.matcher.settings.threshold,
        encoder_share: engine.matcher.settings.encoder_share,
        encoder_share_of_messages: runs as f64 / test.len() as f64,
        accuracy_by_style: accuracy_by_style(test, &results),
        misses: misses(test, &results),
        mean_reply_micros,
        calibration_error,
        ..score(&results)
    }
}

/// One multi-turn scenario of `eval --dialogues`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    pub turns: Vec<ScenarioTurn>,
}

/// One resident message and what the reply to it must be; every key but `text` is optional.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioTurn {
    pub text: String,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub kind: Option<MatchKind>,
    /// Text the assistant's messages must contain (case-insensitive).
    #[serde(default)]
    pub require: Vec<String>,
    /// Text they must not contain.
    #[serde(default)]
    pub forbid: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DialogueFailure {
    pub scenario: String,
    /// 1-based.
    pub turn: usize,
    pub why: String,
}

/// The figures `eval --dialogues --json` prints.
#[derive(Debug, Clone, Serialize)]
pub struct DialogueReport {
    pub scenarios: usize,
    pub scenarios_passed: usize,
    pub turns: usize,
    pub turns_passed: usize,
    pub failures: Vec<DialogueFailure>,
}

/// Runs each scenario in a fresh conversation through the whole engine and dialogue policy,
/// exactly as the API would, with every team open.
pub fn run_dialogues(engine: &Engine, scenarios: &[Scenario]) -> DialogueReport {
    let mut report = DialogueReport {
        scenarios: scenarios.len(),
        scenarios_passed: 0,
        turns: 0,
        turns_passed: 0,
        failures: vec![],
    };
    for scenario in scenarios {
        let mut state = ConversationState::default();
        let mut passed = true;
        for (n, expected) in scenario.turns.iter().enumerate() {
            let turn = engine.reply(&state, &expected.text, &Context::default());
            report.turns += 1;
            match turn_failure(expected, &turn) {
                None => report.turns_passed += 1,
                Some(why) => {
                    passed = false;
                    report.failures.push(DialogueFailure {
                        scenario: scenario.name.clone(),
                        turn: n + 1,
                        why,
                    });
                }
            }
            state = turn.state;
        }
        report.scenarios_passed += usize::from(passed);
    }
    report
}

/// Why a reply does not meet its turn's expectations, or None when it does.
fn turn_failure(expected: &ScenarioTurn, turn: &crate::engine::Turn) -> Option<String> {
    let matched = &turn.matched;
    let mut problems = Vec::new();
    if let Some(id) = &expected.id
        && matched.id.as_deref() != Some(id.as_str())
    {
        problems.push(format!("expected {id}, matched {}", matched.id.as_deref().unwrap_or("nothing")));
    }
    if let Some(kind) = expected.kind
        && matched.kind != kind
    {
        problems.push(format!("expected kind {kind:?}, got {:?}", matched.kind));
    }
    // The assistant's messages as a resident sees them: text and links.
    let said: String = turn
        .replies
        .iter()
        .flat_map(|r| {
            std::iter::once(r.text.as_str())
                .chain(r.links.iter().flat_map(|l| [l.title.as_str(), l.url.as_str()]))
        })
        .collect::<Vec<_>>()
        .join("\n")
        .to_lowercase();
    for needed in &expected.require {
        if !said.contains(&needed.to_lowercase()) {
            problems.push(format!("reply lacks \"{needed}\""));
        }
    }
    for banned in &expected.forbid {
        if said.contains(&banned.to_lowercase()) {
            problems.push(format!("reply contains \"{banned}\""));
        }
    }
    (!problems.is_empty()).then(|| problems.join("; "))
}

pub fn print_dialogue_report(report: &DialogueReport) {
    println!("scenarios passed     {} of {}", report.scenarios_passed, report.scenarios);
    println!("turns passed         {} of {}", report.turns_passed, report.turns);
    if !report.failures.is_empty() {
        println!("\nfailures (scenario, turn: why):");
        for failure in &report.failures {
            println!("  {}, turn {}: {}", failure.scenario, failure.turn, failure.why);
        }
    }
}

pub fn print_report(report: &Report) {
    let pct = |x: f64| format!("{:.1}%", x * 100.0);
    println!(
        "questions            {} ({} in scope, {} out of scope)",
        report.questions, report.in_scope, report.out_of_scope
    );
    println!("in-scope accuracy    {}", pct(report.in_scope_accuracy));
    println!("out-of-scope recall  {}", pct(report.oos_recall));
    println!("out-of-scope prec.   {}", pct(report.oos_precision));
    println!("clarify rate         {}", pct(report.clarify_rate));
    println!("macro F1             {:.3}", report.macro_f1);
    println!("threshold            {:.3}", report.threshold);
    if report.encoder_share > 0.0 {
        println!(
            "encoder              share {:.2}, ran for {} of questions",
            report.encoder_share,
            pct(report.encoder_share_of_messages)
        );
    }
    if report.train_seconds > 0.0 {
        println!("training             {:.2} s", report.train_seconds);
    }
    println!("mean reply           {:.1} µs", report.mean_reply_micros);
    println!(
        "calibration error    {:.3} (top confidence against accuracy, 10 bins)",
        report.calibration_error
    );
    if !report.accuracy_by_style.is_empty() {
        println!("\nright by style:");
        for (style, accuracy) in &report.accuracy_by_style {
            println!("  {:>6}  {style}", pct(*accuracy));
        }
    }
    let mut weakest: Vec<(&String, &f64)> = report.per_id_f1.iter().collect();
    weakest.sort_by(|a, b| a.1.total_cmp(b.1));
    println!("\nweakest ids (F1):");
    for (id, f1) in weakest.iter().take(10) {
        println!("  {f1:.2}  {id}");
    }
    println!("\nworst confusions (expected -> matched, count):");
    for (expected, predicted, count) in &report.worst_confusions {
        println!("  {count:>3}  {expected} -> {predicted}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(kind: MatchKind, id: Option<&str>) -> Matched {
        Matched { kind, id: id.map(str::to_string), confidence: 0.5 }
    }

    #[test]
    fn scores_as_the_contract_says() {
        let results = vec![
            ("a".to_string(), m(MatchKind::Intent, Some("a"))),
            ("a".to_string(), m(MatchKind::Clarify, Some("a"))),
            ("b".to_string(), m(MatchKind::Intent, Some("a"))),
            ("b".to_string(), m(MatchKind::None, None)),
            (OUT_OF_SCOPE.to_string(), m(MatchKind::None, None)),
            (OUT_OF_SCOPE.to_string(), m(MatchKind::Intent, Some("b"))),
        ];
        let report = score(&results);
        assert_eq!(report.in_scope_accuracy, 0.5);
        assert_eq!(report.oos_recall, 0.5);
        assert_eq!(report.oos_precision, 0.5);
        assert!((report.clarify_rate - 1.0 / 6.0).abs() < 1e-9);
        assert_eq!(report.worst_confusions[0].2, 1);
    }

    #[test]
    fn calibration_error_is_the_gap_between_confidence_and_accuracy() {
        // Confidence 0.9, right 9 times in 10: calibrated.
        let calibrated: Vec<(f32, bool)> = (0..10).map(|i| (0.9, i < 9)).collect();
        assert!(calibration_error(&calibrated) < 1e-6);
        // Confidence 0.9, right half the time: 0.4 too sure.
        let overconfident: Vec<(f32, bool)> = (0..10).map(|i| (0.9, i < 5)).collect();
        assert!((calibration_error(&overconfident) - 0.4).abs() < 1e-6);
        assert_eq!(calibration_error(&[]), 0.0);
    }
}
