//! Engine benchmarks: one reply (normalise, classify, search, policy) with the shipped content,
//! and a classification with a matcher trained on CLINC150 (150 intents, 15,100 phrases).
//! Besides criterion's means, prints p50/p99 over many single calls, since the target is a p99.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use herts_assistant::config::Settings;
use herts_assistant::engine::matcher::{Example, MatchSettings, Matcher};
use herts_assistant::engine::normalise::Normaliser;
use herts_assistant::engine::{Context, ConversationState};
use herts_assistant::{eval, startup};

const QUESTIONS: &[&str] = &[
    "when is my bin day in hitchin",
    "where is the nearest tip and is it open sunday",
    "how do i get a blue badge for my dad",
    "there's a massive pothole on the road outside my house",
    "can you tell me the weather tomorrow",
    "i want to talk to a real person",
];

fn clinc_matcher() -> Option<(Matcher, Vec<String>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/eval/public/clinc150");
    let train = eval::read_lines(&dir.join("train.jsonl")).ok()?;
    let test = eval::read_lines(&dir.join("test.jsonl")).ok()?;
    let examples: Vec<Example> =
        train.iter().map(|l| Example { text: l.text.clone(), label: l.expected.clone() }).collect();
    let started = Instant::now();
    let matcher = Matcher::train(
        Normaliser::new(std::iter::empty()),
        &examples,
        &[],
        None,
        None,
        MatchSettings::default(),
    );
    eprintln!(
        "CLINC150 training: {:.2} s, {} features, {:.1} MB of weights",
        started.elapsed().as_secs_f64(),
        matcher.feature_count(),
        matcher.weight_bytes() as f64 / 1e6
    );
    Some((matcher, test.into_iter().map(|l| l.text).collect()))
}

fn percentiles(name: &str, mut call: impl FnMut(usize)) {
    let mut times: Vec<Duration> = (0..20_000)
        .map(|i| {
            let started = Instant::now();
            call(i);
            started.elapsed()
        })
        .collect();
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    eprintln!("{name}: p50 {:?}, p99 {:?}, max {:?}", at(0.5), at(0.99), times[times.len() - 1]);
}

fn benches(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let settings = Settings {
        intents_dir: root.join("intents"),
        knowledge_dir: root.join("knowledge-base"),
        ..Settings::default()
    };
    let started = Instant::now();
    let engine = startup::build_engine(&settings).expect("shipped content");
    eprintln!("shipped content start-up (load + train): {:.3} s", started.elapsed().as_secs_f64());
    let state = ConversationState::default();
    let context = Context::default();
    c.bench_function("engine reply, shipped content", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            black_box(engine.reply(&state, QUESTIONS[i % QUESTIONS.len()], &context))
        })
    });
    percentiles("engine reply, shipped content", |i| {
        black_box(engine.reply(&state, QUESTIONS[i % QUESTIONS.len()], &context));
    });
    if let Some((matcher, questions)) = clinc_matcher() {
        c.bench_function("classify, CLINC150 model", |b| {
            let mut i = 0;
            b.iter(|| {
                i += 1;
                black_box(matcher.classify(&questions[i % questions.len()]))
            })
        });
        percentiles("classify, CLINC150 model", |i| {
            black_box(matcher.classify(&questions[i % questions.len()]));
        });
    }
}

criterion_group!(engine, benches);

fn main() {
    engine();
    Criterion::default().configure_from_args().final_summary();
}
