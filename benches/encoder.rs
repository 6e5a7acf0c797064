//! Sentence-encoder benchmarks (all-MiniLM-L6-v2 on candle, CPU): one short message (8 words),
//! one 80-word message, a batch of 64 short phrases. Besides criterion's means, prints p50/p99
//! over many single calls (the target is a p99), the same 64 phrases one call each, and the
//! throughput of embedding 15,000 short sentences (synthetic, 10-14 words) and, when present,
//! CLINC150's 15,100 training phrases. Threads: rayon's default (one per core), or
//! `RAYON_NUM_THREADS`. Arithmetic: the fastest the processor has (bfloat16 products with
//! AVX-512 BF16), or f32 throughout with `ENCODER_F32=1`.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use herts_assistant::engine::encoder::{Encoder, Precision};

const SHORT: &str = "when is my green bin collected in Hitchin";

const LONG: &str = "I moved into a rented flat in Stevenage last month and I still have not received a \
    council tax bill, though the last tenant left in March. I work part time and think I might qualify for a \
    single person discount or some help through the council tax reduction scheme. Could you tell me how \
    to register as the new occupier, what evidence you need from me, and whether I must pay for the \
    weeks before I told you that?";

const PHRASES: &[&str] = &[
    "bin day",
    "pay council tax",
    "report a pothole",
    "blue badge renewal",
    "library opening hours",
    "school places",
    "speak to a person",
    "recycling centre booking",
];

const WORDS: &str = "when is my bin collected how do i apply for a parking permit the library open on \
    sunday can you help me report pothole near school council tax bill pay online where nearest recycling \
    centre book appointment social care assessment mum blue badge renew road closed because of flooding in \
    st albans watford hertford please";

/// 15,000 sentences of 10 to 14 words, the same every run.
fn synthetic_sentences() -> Vec<String> {
    let words: Vec<&str> = WORDS.split_whitespace().collect();
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move |n: usize| {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        ((state >> 33) as usize) % n
    };
    (0..15_000)
        .map(|_| {
            let len = 10 + next(5);
            (0..len).map(|_| words[next(words.len())]).collect::<Vec<_>>().join(" ")
        })
        .collect()
}

fn clinc_sentences() -> Option<Vec<String>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/eval/public/clinc150/train.jsonl");
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let value: serde_json::Value = serde_json::from_str(l).ok()?;
            Some(value.get("text")?.as_str()?.to_string())
        })
        .collect()
}

fn percentiles(name: &str, runs: usize, mut call: impl FnMut()) {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            call();
            started.elapsed()
        })
        .collect();
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    eprintln!("{name}: p50 {:?}, p99 {:?}, max {:?}", at(0.5), at(0.99), times[times.len() - 1]);
}

fn throughput(name: &str, encoder: &Encoder, sentences: &[String]) {
    let texts: Vec<&str> = sentences.iter().map(String::as_str).collect();
    let words = texts.iter().map(|t| t.split_whitespace().count()).sum::<usize>() as f64 / texts.len() as f64;
    let started = Instant::now();
    let vectors = encoder.embed(&texts);
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(vectors.len(), texts.len());
    eprintln!(
        "{name}: {} sentences ({words:.1} words on average) in {seconds:.1} s, {:.0} sentences/s",
        texts.len(),
        texts.len() as f64 / seconds
    );
}

fn benches(c: &mut Criterion) {
    let started = Instant::now();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/all-MiniLM-L6-v2");
    let read = |name: &str| std::fs::read(dir.join(name)).expect("the shipped model");
    let text = |name: &str| String::from_utf8(read(name)).expect("utf-8");
    let precision =
        if std::env::var_os("ENCODER_F32").is_some() { Precision::F32 } else { Precision::Fastest };
    let encoder = Encoder::from_bytes_with(
        &read("model.safetensors"),
        &text("vocab.txt"),
        &text("config.json"),
        precision,
    )
    .expect("the shipped model");
    eprintln!(
        "encoder load (read + f16 to f32 + hash), {}: {:.3} s",
        encoder.fingerprint(),
        started.elapsed().as_secs_f64()
    );
    assert_eq!(LONG.split_whitespace().count(), 80);
    let batch: Vec<&str> = PHRASES.iter().copied().cycle().take(64).collect();

    c.bench_function("embed one message, 8 words", |b| b.iter(|| black_box(encoder.embed(&[SHORT]))));
    c.bench_function("embed one message, 80 words", |b| b.iter(|| black_box(encoder.embed(&[LONG]))));
    c.bench_function("embed 64 short phrases", |b| b.iter(|| black_box(encoder.embed(&batch))));

    percentiles("embed one message, 8 words", 2_000, || {
        black_box(encoder.embed(&[SHORT]));
    });
    percentiles("embed one message, 80 words", 1_000, || {
        black_box(encoder.embed(&[LONG]));
    });
    let started = Instant::now();
    for _ in 0..20 {
        for phrase in &batch {
            black_box(encoder.embed(&[phrase]));
        }
    }
    eprintln!("embed 64 short phrases one at a time: {:?} for the 64", started.elapsed() / 20);
    throughput("embed 15,000 synthetic sentences", &encoder, &synthetic_sentences());
    if let Some(clinc) = clinc_sentences() {
        throughput("embed CLINC150 training phrases", &encoder, &clinc);
    }
}

criterion_group!(encoder, benches);

fn main() {
    encoder();
    Criterion::default().configure_from_args().final_summary();
}
