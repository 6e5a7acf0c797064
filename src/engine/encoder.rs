//! The sentence encoder all-MiniLM-L6-v2 (a 6-layer BERT, 384 dimensions) on the CPU: a text
//! goes in, one L2-normalised vector comes out, the mean of the encoder's token outputs under
//! the attention mask, exactly as sentence-transformers pools it. Texts of like meaning get a
//! high cosine. The vectors match the reference (numpy over the same weights) to a cosine of
//! 0.9999999 on the fixture's 20 texts.
//!
//! - Weights: `models/all-MiniLM-L6-v2/` (made by `scripts/export-encoder.py`) stores them as
//!   f16, half the size; candle (`VarBuilder` over the safetensors bytes) checks their names and
//!   shapes and converts them to f32 on load. The dense layers multiply in bfloat16 (f32 sums)
//!   where the processor has AVX-512 BF16 ([`super::bf16`]): an 80-word message in 7 ms
//!   instead of 13 on one such processor, the vectors within a cosine of 0.99995 of the
//!   reference. Elsewhere, and with [`Precision::F32`], all arithmetic is f32: f16 products
//!   (widened to f32) measured slower (1.1-1.2 ms against 0.8-0.9 ms for one FFN product of 95
//!   tokens).
//! - Forward: written here rather than taken from `candle_transformers::models::bert`, for
//!   speed. That model gives the same vectors but took 34 ms for an 80-word message and 11 ms for
//!   an 8-word one on one core, and candle's threaded matrix products gained almost nothing on
//!   two cores: its linear layers multiply by the transposed weight, so the matrix library
//!   re-packs the whole weight on every call (over half the time for a short message), its GELU
//!   calls a scalar `erf` per value (15%), its softmax makes several passes. Here the weights are
//!   transposed once on load to `[in, out]`; query, key and value are one product (the query
//!   pre-scaled by 1/sqrt(head size)); each product goes to `gemm` (candle's own CPU matrix
//!   library, built with its AVX-512 kernels) split by output columns over rayon's threads,
//!   which on two cores beats gemm's own threading by 15-25% (and by 2x for short texts);
//!   attention runs per text and head in parallel, reading query, key and value in place and
//!   skipping padding; the element-wise steps (bias + GELU, bias + residual + layer norm,
//!   softmax) are single passes with polynomial `erf` and `exp` (errors below 5e-7), compiled
//!   also for AVX2 and AVX-512 (`multiversion`). The `unsafe` is confined to the `gemm` calls,
//!   whose slices are checked or cut to the exact span first.
//! - Tokenizer: written here: BERT's basic tokenizer (drop control characters, whitespace to
//!   spaces, spaces around CJK ideographs, NFD and drop non-spacing marks, lowercase, split on
//!   whitespace and punctuation, special tokens written in the text kept whole) and greedy
//!   longest-match WordPiece over `vocab.txt`, following the `tokenizers` crate's
//!   `BertNormalizer`, `BertPreTokenizer` and `WordPiece` step by step with the same Unicode
//!   category tables (`unicode_categories`), so the ids equal the reference tokenizer's (tested
//!   on the fixture's 31 texts). Why not the `tokenizers` crate: not its build cost (candle-core
//!   0.11 already depends on it, with `default-features = false` and `fancy-regex`), but that it
//!   normalises a whole text before truncating, where this stops at the 256th token, so a huge
//!   message costs no more than a long one; that it would want `tokenizer.json` (466 kB) or a
//!   hand-assembled pipeline besides `vocab.txt`; and that this is about 170 lines, checked
//!   against the reference ids.
//! - At most [`MAX_TOKENS`] tokens are read (with `[CLS]` and `[SEP]`), as sentence-transformers
//!   does for this model.
//! - Many texts are sorted by length and run in batches of 32 padded to their longest member;
//!   a batch gives the vectors of one text at a time.
//!
//! The engine does no I/O: [`Encoder::from_bytes`] takes the files' contents; [`Encoder::load`]
//! is the edge's (and the tests') convenience for reading a model folder.
//! Over 400 lines on purpose: the tokenizer, the weights and the forward of one model belong
//! together, and a third of the file is its tests.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use multiversion::multiversion;
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use unicode_categories::UnicodeCategories;
use unicode_normalization::UnicodeNormalization;

use super::bf16;

/// The most tokens the encoder reads of one text, `[CLS]` and `[SEP]` included.
pub const MAX_TOKENS: usize = 256;
/// Texts run through the network together.
const BATCH: usize = 32;
/// A word longer than this (in characters) is one `[UNK]`, as in BERT.
const MAX_WORD_CHARS: usize = 100;
/// BERT's special tokens, which the reference tokenizer also recognises written in a text.
const SPECIAL: [&str; 5] = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

/// The arithmetic of the dense layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// bfloat16 products (f32 sums) where the processor has AVX-512 BF16, about twice as
    /// fast; f32 elsewhere.
    Fastest,
    /// f32 throughout, the reference's arithmetic.
    F32,
}

#[derive(Debug, thiserror::Error)]
pub enum EncoderError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid encoder config.json: {0}")]
    Config(String),
    #[error("invalid encoder vocabulary: {0}")]
    Vocab(String),
    #[error("invalid encoder weights: {0}")]
    Weights(String),
}

/// The sentence encoder: the network, its tokenizer and a fingerprint of the files they came from.
pub struct Encoder {
    bert: Bert,
    tokenizer: WordPiece,
    max_tokens: usize,
    fingerprint: String,
    /// The vector of the empty text, given for a text whose forward fails (which the checks on
    /// load make all but impossible), so `embed` always returns unit vectors.
    fallback: Vec<f32>,
}

impl fmt::Debug for Encoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Encoder")
            .field("dims", &self.bert.hidden)
            .field("layers", &self.bert.layers.len())
            .field("vocabulary", &self.tokenizer.vocab.len())
            .field("max_tokens", &self.max_tokens)
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

impl Encoder {
    /// Pure: built from bytes the edge has read (the engine does no I/O): the weights
    /// (`model.safetensors`, f16 or f32), the vocabulary (`vocab.txt`) and `config.json`.
    pub fn from_bytes(weights: &[u8], vocab: &str, config: &str) -> Result<Self, EncoderError> {
        Self::from_bytes_with(weights, vocab, config, Precision::Fastest)
    }

    /// [`Encoder::from_bytes`] with the arithmetic chosen.
    pub fn from_bytes_with(
        weights: &[u8],
        vocab: &str,
        config: &str,
        precision: Precision,
    ) -> Result<Self, EncoderError> {
        let parsed: Config = serde_json::from_str(config).map_err(|e| EncoderError::Config(e.to_string()))?;
        parsed.check()?;
        let tokenizer = WordPiece::new(vocab)?;
        if tokenizer.vocab.values().any(|&id| id as usize >= parsed.vocab_size) {
            return Err(EncoderError::Vocab(format!(
                "{} pieces but config.json says vocab_size {}",
                tokenizer.vocab.len(),
                parsed.vocab_size
            )));
        }
        let weights_error = |e: candle_core::Error| EncoderError::Weights(e.to_string());
        let bert = Bert::load(weights, &parsed, precision).map_err(weights_error)?;

        let mut hash = Sha256::new();
        for part in [weights, vocab.as_bytes(), config.as_bytes()] {
            hash.update((part.len() as u64).to_le_bytes());
            hash.update(part);
        }
        // The arithmetic changes the vectors a little, so cached vectors are kept apart by it.
        let arithmetic = if bert.in_bf16() { "-bf16" } else { "" };
        let fingerprint = format!("{}{arithmetic}", hex::encode(&hash.finalize()[..8]));

        let mut encoder = Self {
            bert,
            tokenizer,
            max_tokens: MAX_TOKENS.min(parsed.max_position_embeddings),
            fingerprint,
            fallback: Vec::new(),
        };
        // One forward now, so weights that load but do not compute (NaN, say) fail here.
        let empty = encoder.tokenizer.encode("", encoder.max_tokens);
        encoder.fallback = encoder
            .bert
            .forward(&[&empty])
            .map_err(weights_error)?
            .pop()
            .flatten()
            .ok_or_else(|| EncoderError::Weights("the encoder gives no finite vector".into()))?;
        Ok(encoder)
    }

    /// Convenience for the edge and tests: reads `model.safetensors`, `vocab.txt` and
    /// `config.json` from a model folder.
    pub fn load(dir: &Path) -> Result<Self, EncoderError> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read(&path).map_err(|source| EncoderError::Read { path, source })
        };
        let text = |name: &str| {
            String::from_utf8(read(name)?).map_err(|e| EncoderError::Read {
                path: dir.join(name),
                source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            })
        };
        Self::from_bytes(&read("model.safetensors")?, &text("vocab.txt")?, &text("config.json")?)
    }

    /// L2-normalised mean-pooled embeddings, one per text, same order. Texts are sorted by
    /// length and run in batches of 32, each padded to its longest text.
    pub fn embed(&self, texts: &[&str]) -> Vec<Vec<f32>> {
        let ids: Vec<Vec<u32>> = texts.iter().map(|t| self.tokenizer.encode(t, self.max_tokens)).collect();
        let mut order: Vec<usize> = (0..ids.len()).collect();
        order.sort_by_key(|&i| ids[i].len());
        let mut out = vec![Vec::new(); ids.len()];
        for chunk in order.chunks(BATCH) {
            let batch: Vec<&[u32]> = chunk.iter().map(|&i| ids[i].as_slice()).collect();
            // The forward runs on rayon's pool, whose threads share its matrix products.
            let vectors = match rayon::scope(|_| self.bert.forward(&batch)) {
                Ok(vectors) => vectors,
                // A batch that fails is retried one text at a time, so one bad text spoils no other.
                Err(_) if batch.len() > 1 => batch
                    .iter()
                    .map(|one| self.bert.forward(&[*one]).ok().and_then(|mut v| v.pop()?))
                    .collect(),
                Err(_) => vec![None],
            };
            for (&i, vector) in chunk.iter().zip(vectors) {
                out[i] = vector.unwrap_or_else(|| self.fallback.clone());
            }
        }
        out
    }

    /// The vocabulary's whole words of two letters or more (pieces that start a word and are
    /// all letters): real English words, which spelling correction leaves alone.
    pub fn whole_words(&self) -> impl Iterator<Item = &str> {
        self.tokenizer
            .vocab
            .keys()
            .map(String::as_str)
            .filter(|piece| piece.len() >= 2 && piece.chars().all(|c| c.is_ascii_lowercase()))
    }

    /// The length of every vector (384 for all-MiniLM-L6-v2).
    pub fn dims(&self) -> usize {
        self.bert.hidden
    }

    /// A short hex hash of weights + vocab + config, for keying on-disk caches.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    #[cfg(test)]
    fn token_ids(&self, text: &str) -> Vec<u32> {
        self.tokenizer.encode(text, self.max_tokens)
    }
}

/// The fields of a BERT `config.json` that the forward uses.
#[derive(Debug, serde::Deserialize)]
struct Config {
    vocab_size: usize,
    hidden_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    intermediate_size: usize,
    hidden_act: String,
    max_position_embeddings: usize,
    type_vocab_size: usize,
    layer_norm_eps: f64,
    #[serde(default)]
    position_embedding_type: Option<String>,
}

impl Config {
    fn check(&self) -> Result<(), EncoderError> {
        let fail = |what: String| Err(EncoderError::Config(what));
        if self.hidden_size == 0 || self.num_attention_heads == 0 {
            return fail("hidden_size and num_attention_heads must be positive".into());
        }
        if !self.hidden_size.is_multiple_of(self.num_attention_heads) {
            return fail(format!(
                "{} heads do not divide hidden_size {}",
                self.num_attention_heads, self.hidden_size
            ));
        }
        if self.max_position_embeddings < 2 || self.type_vocab_size == 0 || self.intermediate_size == 0 {
            return fail("max_position_embeddings, type_vocab_size or intermediate_size too small".into());
        }
        if self.hidden_act != "gelu" {
            return fail(format!(
                "hidden_act {:?} (only \"gelu\", with erf, is implemented)",
                self.hidden_act
            ));
        }
        if self.position_embedding_type.as_deref().is_some_and(|t| t != "absolute") {
            return fail("only absolute position embeddings are implemented".into());
        }
        if !(self.layer_norm_eps.is_finite() && self.layer_norm_eps > 0.0) {
            return fail(format!("layer_norm_eps {}", self.layer_norm_eps));
        }
        Ok(())
    }
}

/// A dense layer: the weight transposed to `[in, out]` once, so every product reads it in place,
/// or packed in bfloat16 pairs where the processor multiplies those ([`bf16`]).
struct Dense {
    weight: Weight,
    bias: Vec<f32>,
    inputs: usize,
    outputs: usize,
}

enum Weight {
    /// `[inputs, outputs]`, row-major.
    F32(Vec<f32>),
    Bf16(bf16::PackedWeight),
}

impl Dense {
    fn load(
        vb: &VarBuilder,
        inputs: usize,
        outputs: usize,
        precision: Precision,
    ) -> candle_core::Result<Self> {
        let weight = vb.get((outputs, inputs), "weight")?;
        let bias = vb.get(outputs, "bias")?;
        Self::new(&weight, &bias, precision)
    }

    /// From a `[outputs, inputs]` weight (as PyTorch stores it) and its bias.
    fn new(weight: &Tensor, bias: &Tensor, precision: Precision) -> candle_core::Result<Self> {
        let (outputs, inputs) = weight.dims2()?;
        let transposed: Vec<f32> = weight.t()?.contiguous()?.flatten_all()?.to_vec1()?;
        let packed = match precision {
            Precision::Fastest => bf16::PackedWeight::pack(&transposed, inputs, outputs),
            Precision::F32 => None,
        };
        let weight = packed.map_or(Weight::F32(transposed), Weight::Bf16);
        Ok(Self { weight, bias: bias.to_vec1()?, inputs, outputs })
    }

    /// `x · weight` for `rows` rows of `x` (without the bias), on all of rayon's threads.
    fn product(&self, x: &[f32], rows: usize) -> candle_core::Result<Vec<f32>> {
        let (k, n) = (self.inputs, self.outputs);
        if x.len() != rows * k {
            candle_core::bail!("dense layer: {} values for {rows} rows of {k}", x.len());
        }
        let mut out = vec![0f32; rows * n];
        // Split the output's columns between the threads, in multiples of 64 (a bfloat16
        // panel, four vectors of f32); small products stay on this thread.
        let threads = if rows * k * n >= 1 << 18 { rayon::current_num_threads().clamp(1, 8) } else { 1 };
        let block = n.div_ceil(threads).next_multiple_of(bf16::PANEL).clamp(1, n.max(1));
        let dst = SendPtr(out.as_mut_ptr());
        let columns: Box<dyn Fn(usize) + Sync + '_> = match &self.weight {
            Weight::F32(weight) => {
                if weight.len() != k * n {
                    candle_core::bail!("dense layer: a weight of {} values for {k} × {n}", weight.len());
                }
                Box::new(move |start: usize| {
                    let width = block.min(n - start);
                    // SAFETY: `x` holds rows × k values and `weight` k × n (checked above),
                    // `out` rows × n; this call reads columns start..start + width of the
                    // weight and writes the same columns of `out`, which no other call writes;
                    // all three outlive it.
                    unsafe {
                        multiply(
                            (rows, width, k),
                            dst.get().add(start),
                            n as isize,
                            (x.as_ptr(), 1, k as isize),
                            (weight.as_ptr().add(start), 1, n as isize),
                        )
                    }
                })
            }
            Weight::Bf16(weight) => {
                let pairs = bf16::input_pairs(x);
                Box::new(move |start: usize| {
                    let panels = start / bf16::PANEL..(start + block).min(n) / bf16::PANEL;
                    // SAFETY: `pairs` holds rows × k / 2 pairs (x was checked above) and `out`
                    // rows × n; the panels lie within the weight (n is a whole number of
                    // them, block a multiple) and no other call writes their columns.
                    unsafe { bf16::product_into(&pairs, rows, weight, panels, dst.get()) }
                })
            }
        };
        if block >= n {
            columns(0);
        } else {
            rayon::scope(|scope| {
                for start in (block..n).step_by(block) {
                    let columns = &columns;
                    scope.spawn(move |_| columns(start));
                }
                columns(0);
            });
        }
        Ok(out)
    }
}

/// A pointer into the output of a product, which threads write in disjoint blocks.
#[derive(Clone, Copy)]
struct SendPtr(*mut f32);
// SAFETY: written through only by `Dense::product` and `attention`, each thread a block of the
// output that no other writes, while the buffer is alive and not otherwise borrowed.
unsafe impl Send for SendPtr {}
unsafe impl Sync for SendPtr {}

impl SendPtr {
    /// Through a method, so a closure captures the whole `SendPtr`, not its raw field.
    fn get(self) -> *mut f32 {
        self.0
    }
}

/// Layer norm's scale and shift.
struct Norm {
    gamma: Vec<f32>,
    beta: Vec<f32>,
    eps: f32,
}

impl Norm {
    fn load(vb: &VarBuilder, size: usize, eps: f64) -> candle_core::Result<Self> {
        Ok(Self {
            gamma: vb.get(size, "weight")?.to_vec1()?,
            beta: vb.get(size, "bias")?.to_vec1()?,
            eps: eps as f32,
        })
    }
}

struct Layer {
    /// Query (pre-scaled by 1/sqrt(head size)), key and value in one product.
    qkv: Dense,
    attention_out: Dense,
    attention_norm: Norm,
    intermediate: Dense,
    output: Dense,
    output_norm: Norm,
}

/// BERT's encoder stack, f32 on the CPU.
struct Bert {
    /// `[vocab, hidden]`, `[positions, hidden]`, and the first token type's row.
    words: Vec<f32>,
    positions: Vec<f32>,
    token_type: Vec<f32>,
    vocab_size: usize,
    embedding_norm: Norm,
    layers: Vec<Layer>,
    hidden: usize,
    heads: usize,
}

impl Bert {
    fn load(weights: &[u8], config: &Config, precision: Precision) -> candle_core::Result<Self> {
        let device = Device::Cpu;
        let vb = VarBuilder::from_slice_safetensors(weights, DType::F32, &device)?;
        // Saved from a `BertModel` the names have no prefix; from a task model, `bert.`.
        let vb =
            if vb.contains_tensor("bert.embeddings.word_embeddings.weight") { vb.pp("bert") } else { vb };
        let (hidden, heads, eps) = (config.hidden_size, config.num_attention_heads, config.layer_norm_eps);
        let embeddings = vb.pp("embeddings");
        let table = |name: &str, rows: usize| -> candle_core::Result<Vec<f32>> {
            embeddings.get((rows, hidden), name)?.flatten_all()?.to_vec1()
        };
        let words = table("word_embeddings.weight", config.vocab_size)?;
        let positions = table("position_embeddings.weight", config.max_position_embeddings)?;
        let token_type = table("token_type_embeddings.weight", config.type_vocab_size)?[..hidden].to_vec();
        let embedding_norm = Norm::load(&embeddings.pp("LayerNorm"), hidden, eps)?;

        let scale = 1.0 / ((hidden / heads) as f64).sqrt();
        let layers = (0..config.num_hidden_layers)
            .map(|i| {
                let vb = vb.pp(format!("encoder.layer.{i}"));
                let attention = vb.pp("attention");
                let part = |name: &str| attention.pp("self").pp(name);
                let (query, key, value) = (part("query"), part("key"), part("value"));
                let weight = Tensor::cat(
                    &[
                        (query.get((hidden, hidden), "weight")? * scale)?,
                        key.get((hidden, hidden), "weight")?,
                        value.get((hidden, hidden), "weight")?,
                    ],
                    0,
                )?;
                let bias = Tensor::cat(
                    &[
                        (query.get(hidden, "bias")? * scale)?,
                        key.get(hidden, "bias")?,
                        value.get(hidden, "bias")?,
                    ],
                    0,
                )?;
                let output = attention.pp("output");
                Ok(Layer {
                    qkv: Dense::new(&weight, &bias, precision)?,
                    attention_out: Dense::load(&output.pp("dense"), hidden, hidden, precision)?,
                    attention_norm: Norm::load(&output.pp("LayerNorm"), hidden, eps)?,
                    intermediate: Dense::load(
                        &vb.pp("intermediate").pp("dense"),
                        hidden,
                        config.intermediate_size,
                        precision,
                    )?,
                    output: Dense::load(
                        &vb.pp("output").pp("dense"),
                        config.intermediate_size,
                        hidden,
                        precision,
                    )?,
                    output_norm: Norm::load(&vb.pp("output").pp("LayerNorm"), hidden, eps)?,
                })
            })
            .collect::<candle_core::Result<Vec<_>>>()?;
        Ok(Self {
            words,
            positions,
            token_type,
            vocab_size: config.vocab_size,
            embedding_norm,
            layers,
            hidden,
            heads,
        })
    }

    /// Whether the dense layers multiply in bfloat16.
    fn in_bf16(&self) -> bool {
        self.layers.iter().any(|layer| matches!(layer.intermediate.weight, Weight::Bf16(_)))
    }

    /// One padded batch through the network, mean-pooled over each text's tokens and
    /// normalised; `None` for a text whose vector is not finite.
    fn forward(&self, batch: &[&[u32]]) -> candle_core::Result<Vec<Option<Vec<f32>>>> {
        let (rows, h) = (batch.len(), self.hidden);
        let seq = batch.iter().map(|ids| ids.len()).max().unwrap_or(0);
        if rows == 0 || seq == 0 || seq * h > self.positions.len() {
            candle_core::bail!("cannot encode {rows} texts of up to {seq} tokens");
        }
        let lengths: Vec<usize> = batch.iter().map(|ids| ids.len()).collect();
        let m = rows * seq;

        let mut hidden = vec![0f32; m * h];
        for (row, ids) in batch.iter().enumerate() {
            for (position, &id) in ids.iter().enumerate() {
                let id = id as usize;
                if id >= self.vocab_size {
                    candle_core::bail!("token id {id} outside the vocabulary");
                }
                let word = &self.words[id * h..(id + 1) * h];
                let place = &self.positions[position * h..(position + 1) * h];
                let out = &mut hidden[(row * seq + position) * h..][..h];
                for (((o, &w), &p), &t) in out.iter_mut().zip(word).zip(place).zip(&self.token_type) {
                    *o = w + p + t;
                }
            }
        }
        let norm = &self.embedding_norm;
        add_norm(&mut hidden, h, None, None, &norm.gamma, &norm.beta, norm.eps);

        for layer in &self.layers {
            let mut qkv = layer.qkv.product(&hidden, m)?;
            add_bias(&mut qkv, &layer.qkv.bias);
            let context = attention(&qkv, &lengths, seq, h, self.heads)?;

            let dense = &layer.attention_out;
            let mut attended = dense.product(&context, m)?;
            let norm = &layer.attention_norm;
            add_norm(&mut attended, h, Some(&dense.bias), Some(&hidden), &norm.gamma, &norm.beta, norm.eps);

            let mut inner = layer.intermediate.product(&attended, m)?;
            let bias = &layer.intermediate.bias;
            inner.par_chunks_mut(bias.len() * 16).for_each(|rows| bias_gelu(rows, bias));
            let dense = &layer.output;
            hidden = dense.product(&inner, m)?;
            let norm = &layer.output_norm;
            add_norm(&mut hidden, h, Some(&dense.bias), Some(&attended), &norm.gamma, &norm.beta, norm.eps);
        }

        Ok(lengths
            .iter()
            .enumerate()
            .map(|(row, &length)| {
                let mut pooled = vec![0f64; h];
                for token in hidden[row * seq * h..].chunks_exact(h).take(length) {
                    pooled.iter_mut().zip(token).for_each(|(p, &x)| *p += f64::from(x));
                }
                unit(&pooled)
            })
            .collect())
    }
}

/// Self-attention for every text and head, in parallel: softmax(q·kᵀ)·v over each text's own
/// tokens, so padding neither attends nor is attended to. `qkv` is `[texts · seq, 3 · hidden]`
/// (the query pre-scaled); the context comes back as `[texts · seq, hidden]`, 0 for padding.
fn attention(
    qkv: &[f32],
    lengths: &[usize],
    seq: usize,
    hidden: usize,
    heads: usize,
) -> candle_core::Result<Vec<f32>> {
    let (head, stride, texts) = (hidden / heads.max(1), 3 * hidden, lengths.len());
    if heads == 0 || qkv.len() != texts * seq * stride || lengths.iter().any(|&l| l > seq) {
        candle_core::bail!("attention: {} values for {texts} texts of {seq} tokens", qkv.len());
    }
    let mut context = vec![0f32; texts * seq * hidden];
    let out = SendPtr(context.as_mut_ptr());
    (0..texts * heads).into_par_iter().for_each(|task| {
        let (text, h) = (task / heads, task % heads);
        let length = lengths[text];
        if length == 0 {
            return;
        }
        // This text's and head's query, key and value: `length` rows `stride` apart.
        let base = text * seq * stride + h * head;
        let span = (length - 1) * stride + head;
        let query = &qkv[base..base + span];
        let key = &qkv[base + hidden..base + hidden + span];
        let value = &qkv[base + 2 * hidden..base + 2 * hidden + span];
        let mut scores = vec![0f32; length * length];
        // SAFETY: `query` and `key` hold `length` rows of `head` values `stride` apart (sliced
        // above to exactly that span) and `scores` length × length values.
        unsafe {
            multiply(
                (length, length, head),
                scores.as_mut_ptr(),
                length as isize,
                (query.as_ptr(), 1, stride as isize),
                (key.as_ptr(), stride as isize, 1),
            )
        }
        softmax_rows(&mut scores, length);
        // SAFETY: `value` as above; the output is rows text · seq .. + length, columns
        // h · head .. + head of `context` (rows `hidden` apart), inside it and written by
        // this task alone; `context` outlives the parallel loop.
        unsafe {
            multiply(
                (length, head, length),
                out.get().add(text * seq * hidden + h * head),
                hidden as isize,
                (scores.as_ptr(), 1, length as isize),
                (value.as_ptr(), 1, stride as isize),
            )
        }
    });
    Ok(context)
}

/// `dst = a · b` on this thread, for `(m, n, k)`: `a` is m × k and `b` k × n, each given as a
/// pointer with its column and row strides; `dst` is written in rows `dst_row` apart.
///
/// # Safety
/// Each pointer, with its strides, covers its whole matrix; `dst` is writable there and
/// nothing else reads or writes that span meanwhile.
unsafe fn multiply(
    (m, n, k): (usize, usize, usize),
    dst: *mut f32,
    dst_row: isize,
    (a, a_column, a_row): (*const f32, isize, isize),
    (b, b_column, b_row): (*const f32, isize, isize),
) {
    // SAFETY: as the caller promises; alpha 0 with `read_dst` false overwrites `dst`.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst,
            1,
            dst_row,
            false,
            a,
            a_column,
            a_row,
            b,
            b_column,
            b_row,
            0.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        )
    }
}

/// Scales a vector to length 1; `None` if it is not finite or is zero.
fn unit(v: &[f64]) -> Option<Vec<f32>> {
    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    if !norm.is_finite() || norm == 0.0 {
        return None;
    }
    Some(v.iter().map(|x| (x / norm) as f32).collect())
}

/// Adds the bias to every row.
#[multiversion(targets("x86_64+avx512f", "x86_64+avx2+fma"))]
fn add_bias(data: &mut [f32], bias: &[f32]) {
    for row in data.chunks_exact_mut(bias.len()) {
        row.iter_mut().zip(bias).for_each(|(x, &b)| *x += b);
    }
}

/// Adds the bias to every row and applies GELU (the erf form, as BERT's "gelu").
#[multiversion(targets("x86_64+avx512f", "x86_64+avx2+fma"))]
fn bias_gelu(data: &mut [f32], bias: &[f32]) {
    for row in data.chunks_exact_mut(bias.len()) {
        for (x, &b) in row.iter_mut().zip(bias) {
            let v = *x + b;
            *x = 0.5 * v * (1.0 + erf(v * std::f32::consts::FRAC_1_SQRT_2));
        }
    }
}

/// Row by row (rows of `width`): `x + bias + residual`, then layer norm with `gamma`, `beta`.
#[multiversion(targets("x86_64+avx512f", "x86_64+avx2+fma"))]
fn add_norm(
    data: &mut [f32],
    width: usize,
    bias: Option<&[f32]>,
    residual: Option<&[f32]>,
    gamma: &[f32],
    beta: &[f32],
    eps: f32,
) {
    for (index, row) in data.chunks_exact_mut(width).enumerate() {
        if let Some(bias) = bias {
            row.iter_mut().zip(bias).for_each(|(x, &b)| *x += b);
        }
        if let Some(residual) = residual {
            row.iter_mut().zip(&residual[index * width..]).for_each(|(x, &r)| *x += r);
        }
        let mean = sum(row) / width as f32;
        row.iter_mut().for_each(|x| *x -= mean);
        let variance = sum_of_squares(row) / width as f32;
        let scale = 1.0 / (variance + eps).sqrt();
        for ((x, &g), &b) in row.iter_mut().zip(gamma).zip(beta) {
            *x = *x * scale * g + b;
        }
    }
}

/// Softmax over each row (of `width` values).
#[multiversion(targets("x86_64+avx512f", "x86_64+avx2+fma"))]
fn softmax_rows(scores: &mut [f32], width: usize) {
    for row in scores.chunks_exact_mut(width.max(1)) {
        let max = max(row);
        row.iter_mut().for_each(|x| *x = exp(*x - max));
        let scale = 1.0 / sum(row);
        row.iter_mut().for_each(|x| *x *= scale);
    }
}

/// Sixteen running sums, so the loop vectorises (a single running sum is sequential).
#[inline(always)]
fn sum(xs: &[f32]) -> f32 {
    let mut lanes = [0f32; 16];
    let chunks = xs.chunks_exact(16);
    let rest: f32 = chunks.remainder().iter().sum();
    for chunk in chunks {
        lanes.iter_mut().zip(chunk).for_each(|(l, &x)| *l += x);
    }
    lanes.iter().sum::<f32>() + rest
}

#[inline(always)]
fn sum_of_squares(xs: &[f32]) -> f32 {
    let mut lanes = [0f32; 16];
    let chunks = xs.chunks_exact(16);
    let rest: f32 = chunks.remainder().iter().map(|x| x * x).sum();
    for chunk in chunks {
        lanes.iter_mut().zip(chunk).for_each(|(l, &x)| *l += x * x);
    }
    lanes.iter().sum::<f32>() + rest
}

#[inline(always)]
fn max(xs: &[f32]) -> f32 {
    let larger = |a: f32, b: f32| if b > a { b } else { a };
    let mut lanes = [f32::NEG_INFINITY; 16];
    let chunks = xs.chunks_exact(16);
    let rest = chunks.remainder().iter().fold(f32::NEG_INFINITY, |m, &x| larger(m, x));
    for chunk in chunks {
        lanes.iter_mut().zip(chunk).for_each(|(l, &x)| *l = larger(*l, x));
    }
    lanes.iter().fold(rest, |m, &x| larger(m, x))
}

/// erf for f32 as a rational polynomial on [-4, 4] (outside, erf is ±1 in f32); the
/// coefficients are Eigen's `generic_fast_erf_float`. Absolute error below 5e-7; branch-free,
/// so loops over it vectorise.
#[inline(always)]
fn erf(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = x2 * -2.726_142_3e-10 + 2.770_681_4e-8;
    p = x2 * p + -2.101_024e-6;
    p = x2 * p + -5.692_506_4e-5;
    p = x2 * p + -7.349_906_3e-4;
    p = x2 * p + -2.954_6e-3;
    p = x2 * p + -1.609_603_3e-2;
    let mut q = x2 * -1.456_607_2e-5 + -2.133_740_6e-4;
    q = x2 * q + -1.682_827e-3;
    q = x2 * q + -7.373_329e-3;
    q = x2 * q + -1.426_474e-2;
    x * p / q
}

/// e^x for x <= 0 (softmax after subtracting the maximum): 2^n * e^r with Cephes' polynomial
/// for e^r; relative error below 1e-7. Branch-free and integer casts done on bit patterns, so
/// loops over it vectorise.
#[inline(always)]
fn exp(x: f32) -> f32 {
    // Adding 1.5 * 2^23 rounds to an integer, which then sits in the low bits of the mantissa.
    const MAGIC: f32 = 12_582_912.0;
    let x = x.max(-87.0);
    let shifted = x * std::f32::consts::LOG2_E + MAGIC;
    let n = shifted - MAGIC;
    let r = x - n * 0.693_359_4 - n * -2.121_944_4e-4;
    let mut p = 1.987_569_1e-4;
    p = p * r + 1.398_2e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let er = p * r * r + r + 1.0;
    // 2^n, built from n's bits: the exponent field n + 127.
    let two_n = f32::from_bits(shifted.to_bits().wrapping_sub(MAGIC.to_bits()).wrapping_add(127) << 23);
    er * two_n
}

/// BERT's uncased tokenizer: the basic tokenizer, then WordPiece over the vocabulary.
struct WordPiece {
    vocab: HashMap<String, u32>,
    unk: u32,
    cls: u32,
    sep: u32,
    /// The special tokens' ids, in the order of [`SPECIAL`].
    special: [u32; 5],
}

impl WordPiece {
    fn new(vocab: &str) -> Result<Self, EncoderError> {
        // As the `tokenizers` crate reads vocab.txt: one piece a line, its id the line number.
        let mut pieces = HashMap::new();
        for (id, line) in vocab.lines().enumerate() {
            let id = u32::try_from(id).map_err(|_| EncoderError::Vocab("too many pieces".into()))?;
            pieces.insert(line.trim_end().to_string(), id);
        }
        let find = |piece: &str| {
            pieces.get(piece).copied().ok_or_else(|| EncoderError::Vocab(format!("no {piece} piece")))
        };
        let special =
            [find(SPECIAL[0])?, find(SPECIAL[1])?, find(SPECIAL[2])?, find(SPECIAL[3])?, find(SPECIAL[4])?];
        Ok(Self { unk: special[1], cls: special[2], sep: special[3], special, vocab: pieces })
    }

    /// `[CLS]`, the text's word pieces, `[SEP]`: at most `max_tokens` ids (and at least two).
    fn encode(&self, text: &str, max_tokens: usize) -> Vec<u32> {
        let limit = max_tokens.max(2) - 2;
        let mut ids = vec![self.cls];
        let mut rest = text;
        // The special tokens are matched in the raw text first, as the reference does.
        while ids.len() - 1 < limit && !rest.is_empty() {
            let next = SPECIAL
                .iter()
                .zip(self.special)
                .filter_map(|(token, id)| rest.find(token).map(|at| (at, token.len(), id)))
                .min_by_key(|&(at, len, _)| (at, std::cmp::Reverse(len)));
            let (plain, special) = match next {
                Some((at, len, id)) => (&rest[..at], Some((at + len, id))),
                None => (rest, None),
            };
            self.encode_plain(plain, &mut ids, limit + 1);
            match special {
                Some((end, id)) if ids.len() - 1 < limit => {
                    ids.push(id);
                    rest = &rest[end..];
                }
                _ => break,
            }
        }
        ids.push(self.sep);
        ids
    }

    /// Appends the pieces of a text without special tokens, until `ids` holds `up_to` ids.
    fn encode_plain(&self, text: &str, ids: &mut Vec<u32>, up_to: usize) {
        let mut word = String::new();
        let mut word_chars = 0;
        for c in normalised(text) {
            if ids.len() >= up_to {
                return;
            }
            if c.is_whitespace() {
                self.push_word(&word, word_chars, ids, up_to);
                word.clear();
                word_chars = 0;
            } else if c.is_ascii_punctuation() || c.is_punctuation() {
                self.push_word(&word, word_chars, ids, up_to);
                word.clear();
                word_chars = 0;
                let mut buffer = [0; 4];
                self.push_word(c.encode_utf8(&mut buffer), 1, ids, up_to);
            } else {
                // Past the longest word WordPiece reads it is one [UNK] anyway: keep only a count.
                if word_chars <= MAX_WORD_CHARS {
                    word.push(c);
                }
                word_chars += 1;
            }
        }
        self.push_word(&word, word_chars, ids, up_to);
    }

    /// Greedy longest-match WordPiece: one word's pieces, or `[UNK]` if it cannot be split.
    fn push_word(&self, word: &str, chars: usize, ids: &mut Vec<u32>, up_to: usize) {
        if word.is_empty() || ids.len() >= up_to {
            return;
        }
        if chars > MAX_WORD_CHARS {
            ids.push(self.unk);
            return;
        }
        let first = ids.len();
        let mut piece = String::with_capacity(word.len() + 2);
        let mut start = 0;
        while start < word.len() {
            let mut end = word.len();
            let found = loop {
                piece.clear();
                if start > 0 {
                    piece.push_str("##");
                }
                piece.push_str(&word[start..end]);
                if let Some(&id) = self.vocab.get(&piece) {
                    break Some(id);
                }
                match word[start..end].chars().next_back() {
                    Some(last) if end - last.len_utf8() > start => end -= last.len_utf8(),
                    _ => break None,
                }
            };
            match found {
                Some(id) => ids.push(id),
                None => {
                    ids.truncate(first);
                    ids.push(self.unk);
                    return;
                }
            }
            start = end;
        }
        // A word's pieces are cut with the rest when the text is too long.
        ids.truncate(up_to);
    }
}

/// BERT's normaliser, lazily: drop NUL, U+FFFD and control characters; whitespace to spaces;
/// spaces around CJK ideographs; NFD and drop non-spacing marks (accents); lowercase.
fn normalised(text: &str) -> impl Iterator<Item = char> + '_ {
    text.chars()
        .filter(|&c| !(c == '\0' || c == '\u{fffd}' || is_control(c)))
        .flat_map(|c| {
            if is_bert_whitespace(c) {
                [Some(' '), None, None]
            } else if is_chinese_char(c) {
                [Some(' '), Some(c), Some(' ')]
            } else {
                [Some(c), None, None]
            }
        })
        .flatten()
        .nfd()
        .filter(|c| !c.is_mark_nonspacing())
        .flat_map(char::to_lowercase)
}

fn is_bert_whitespace(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || c.is_whitespace()
}

/// Control, format and private-use characters, except the whitespace ones.
fn is_control(c: char) -> bool {
    !matches!(c, '\t' | '\n' | '\r') && c.is_other()
}

/// The CJK Unified Ideographs blocks, as BERT defines them.
fn is_chinese_char(c: char) -> bool {
    matches!(
        c as u32,
        0x4E00..=0x9FFF
            | 0x3400..=0x4DBF
            | 0x20000..=0x2A6DF
            | 0x2A700..=0x2B73F
            | 0x2B740..=0x2B81F
            | 0x2B920..=0x2CEAF
            | 0xF900..=0xFAFF
            | 0x2F800..=0x2FA1F
    )
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use super::*;

    #[derive(serde::Deserialize)]
    struct Fixture {
        max_tokens: usize,
        dims: usize,
        cases: Vec<Case>,
        token_cases: Vec<TokenCase>,
    }

    #[derive(serde::Deserialize)]
    struct TokenCase {
        text: String,
        ids: Vec<u32>,
    }

    #[derive(serde::Deserialize)]
    struct Case {
        text: String,
        ids: Vec<u32>,
        embedding: Vec<f32>,
    }

    fn root() -> &'static Path {
        Path::new(env!("CARGO_MANIFEST_DIR"))
    }

    fn encoder() -> &'static Encoder {
        static ENCODER: OnceLock<Encoder> = OnceLock::new();
        ENCODER.get_or_init(|| Encoder::load(&root().join("models/all-MiniLM-L6-v2")).expect("shipped model"))
    }

    fn fixture() -> Fixture {
        let text =
            std::fs::read_to_string(root().join("tests/fixtures/encoder-reference.json")).expect("fixture");
        serde_json::from_str(&text).expect("fixture JSON")
    }

    fn cosine(a: &[f32], b: &[f32]) -> f64 {
        let dot: f64 = a.iter().zip(b).map(|(&x, &y)| f64::from(x) * f64::from(y)).sum();
        let norm = |v: &[f32]| v.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>().sqrt();
        dot / (norm(a) * norm(b))
    }

    fn assert_unit(v: &[f32], dims: usize) {
        assert_eq!(v.len(), dims);
        assert!(v.iter().all(|x| x.is_finite()));
        let norm = v.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "norm {norm}");
    }

    #[test]
    fn is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Encoder>();
    }

    #[test]
    fn token_ids_equal_the_reference_tokenizer() {
        let fixture = fixture();
        assert_eq!(fixture.max_tokens, MAX_TOKENS);
        let cases = fixture.cases.iter().map(|c| (&c.text, &c.ids));
        for (text, ids) in cases.chain(fixture.token_cases.iter().map(|c| (&c.text, &c.ids))) {
            assert_eq!(&encoder().token_ids(text), ids, "{text:?}");
        }
    }

    /// The encoder in f32 whatever the processor, for the tests that compare arithmetic.
    fn encoder_in_f32() -> &'static Encoder {
        static ENCODER: OnceLock<Encoder> = OnceLock::new();
        ENCODER.get_or_init(|| {
            let dir = root().join("models/all-MiniLM-L6-v2");
            let read = |name: &str| std::fs::read(dir.join(name)).expect("model file");
            let text = |name: &str| String::from_utf8(read(name)).expect("utf-8");
            Encoder::from_bytes_with(
                &read("model.safetensors"),
                &text("vocab.txt"),
                &text("config.json"),
                Precision::F32,
            )
            .expect("encoder")
        })
    }

    /// Each case's cosine to the reference, or a failure naming the worst below `floor`.
    fn check_against_reference(encoder: &Encoder, floor: f64) {
        let fixture = fixture();
        assert_eq!(encoder.dims(), fixture.dims);
        let texts: Vec<&str> = fixture.cases.iter().map(|c| c.text.as_str()).collect();
        let vectors = encoder.embed(&texts);
        assert_eq!(vectors.len(), texts.len());
        for (case, vector) in fixture.cases.iter().zip(&vectors) {
            assert_unit(vector, fixture.dims);
            let similarity = cosine(vector, &case.embedding);
            if std::env::var_os("ENCODER_SHOW_COSINES").is_some() {
                eprintln!("cosine {similarity:.7} for {:?}", case.text.chars().take(40).collect::<String>());
            }
            assert!(similarity >= floor, "cosine {similarity} for {:?}", case.text);
        }
    }

    #[test]
    fn embeddings_match_the_reference() {
        // The fastest arithmetic this processor has (bfloat16 where it can) stays within the
        // goal's 0.999; f32 matches the reference's own arithmetic far closer.
        check_against_reference(encoder(), 0.999);
        check_against_reference(encoder_in_f32(), 0.99999);
    }

    #[test]
    fn bfloat16_is_chosen_where_the_processor_has_it() {
        assert_eq!(encoder().bert.in_bf16(), bf16::available());
        assert!(!encoder_in_f32().bert.in_bf16());
        assert_ne!(encoder().fingerprint() == encoder_in_f32().fingerprint(), bf16::available());
    }

    #[test]
    fn a_batch_gives_the_vectors_of_one_text_at_a_time() {
        let fixture = fixture();
        let mut texts: Vec<&str> = fixture.cases.iter().map(|c| c.text.as_str()).collect();
        // More than one batch, with lengths in no order.
        texts.extend(["bins", "", "Where do I pay a parking fine?", "council tax band"].repeat(5));
        let encoder = encoder();
        let together = encoder.embed(&texts);
        for (text, vector) in texts.iter().zip(&together) {
            let alone = encoder.embed(&[text]).remove(0);
            let similarity = cosine(vector, &alone);
            assert!(similarity >= 0.9999, "cosine {similarity} for {text:?}");
        }
    }

    #[test]
    fn odd_texts_give_unit_vectors() {
        let long = "Hertfordshire ".repeat(800);
        let one_long_word = "x".repeat(10_000);
        let emoji = "🚮🗑️👍🏽🏳️‍🌈".repeat(2_000);
        let texts = [
            "",
            " \t\n ",
            "\0\u{1}\u{7}\u{1b}[31m\u{200b}\u{feff}\u{fffd}\u{e000}",
            "🙂",
            emoji.as_str(),
            long.as_str(),
            one_long_word.as_str(),
            "[CLS] [SEP] [MASK] [PAD] [UNK] [sep] [CLS",
            "ﬁ ﬀ Ⅻ ŉ İstanbul ΣΑΣ ß",
            "!!!???...,,,",
            "a\u{301}\u{301}\u{301}\u{301}",
        ];
        let encoder = encoder();
        let vectors = encoder.embed(&texts);
        assert_eq!(vectors.len(), texts.len());
        for (text, vector) in texts.iter().zip(&vectors) {
            assert_unit(vector, encoder.dims());
            let ids = encoder.token_ids(text);
            assert!((2..=MAX_TOKENS).contains(&ids.len()), "{} ids for {text:?}", ids.len());
            assert_eq!((ids[0], ids[ids.len() - 1]), (101, 102));
        }
        assert_eq!(encoder.token_ids(""), vec![101, 102]);
        assert_eq!(encoder.token_ids(&long).len(), MAX_TOKENS);
        assert_eq!(encoder.token_ids(&one_long_word), vec![101, 100, 102]);
        assert!(encoder.embed(&[]).is_empty());
    }

    #[test]
    fn bad_files_give_errors() {
        let dir = root().join("models/all-MiniLM-L6-v2");
        let vocab = std::fs::read_to_string(dir.join("vocab.txt")).expect("vocab");
        let config = std::fs::read_to_string(dir.join("config.json")).expect("config");
        let weights = std::fs::read(dir.join("model.safetensors")).expect("weights");

        let garbage = b"not a safetensors file at all".to_vec();
        assert!(matches!(Encoder::from_bytes(&garbage, &vocab, &config), Err(EncoderError::Weights(_))));
        assert!(matches!(Encoder::from_bytes(&[], &vocab, &config), Err(EncoderError::Weights(_))));
        let truncated = &weights[..weights.len() / 2];
        assert!(matches!(Encoder::from_bytes(truncated, &vocab, &config), Err(EncoderError::Weights(_))));
        // A header that claims an enormous length.
        let mut huge = u64::MAX.to_le_bytes().to_vec();
        huge.extend_from_slice(b"{}");
        assert!(matches!(Encoder::from_bytes(&huge, &vocab, &config), Err(EncoderError::Weights(_))));
        // Weights of another shape than the config says.
        let wider = config.replace("\"hidden_size\": 384", "\"hidden_size\": 768");
        assert!(matches!(Encoder::from_bytes(&weights, &vocab, &wider), Err(EncoderError::Weights(_))));

        assert!(matches!(Encoder::from_bytes(&weights, &vocab, "{"), Err(EncoderError::Config(_))));
        let no_heads = config.replace("\"num_attention_heads\": 12", "\"num_attention_heads\": 0");
        assert!(matches!(Encoder::from_bytes(&weights, &vocab, &no_heads), Err(EncoderError::Config(_))));
        assert!(matches!(Encoder::from_bytes(&weights, "", &config), Err(EncoderError::Vocab(_))));
        let too_big = format!("{vocab}extra\n");
        assert!(matches!(Encoder::from_bytes(&weights, &too_big, &config), Err(EncoderError::Vocab(_))));
        assert!(matches!(
            Encoder::load(&root().join("models/no-such-model")),
            Err(EncoderError::Read { .. })
        ));
    }

    #[test]
    fn erf_and_exp_are_close_to_exact() {
        // erf at 0.5, 1, 2, 3 to ten places.
        for (x, want) in
            [(0.5, 0.520_499_877_8), (1.0, 0.842_700_792_9), (2.0, 0.995_322_265), (3.0, 0.999_977_909_5)]
        {
            assert!((f64::from(erf(x)) - want).abs() < 5e-7, "erf({x})");
            assert!((f64::from(erf(-x)) + want).abs() < 5e-7, "erf(-{x})");
        }
        assert_eq!(erf(0.0), 0.0);
        assert!((erf(10.0) - 1.0).abs() < 1e-6 && (erf(-10.0) + 1.0).abs() < 1e-6);
        for i in 0..=87_000 {
            let x = -(i as f32) / 1000.0;
            let (got, want) = (f64::from(exp(x)), f64::from(x).exp());
            assert!((got - want).abs() <= 1e-6 * want, "exp({x}): {got} against {want}");
        }
        assert!(exp(-1e9) >= 0.0 && exp(-1e9) < 1e-37);
    }

    #[test]
    fn the_fingerprint_follows_the_files() {
        let encoder = encoder();
        let hash = encoder.fingerprint().trim_end_matches("-bf16");
        assert_eq!(hash.len(), 16);
        assert!(hash.chars().all(|c| c.is_ascii_hexdigit()));
        let dir = root().join("models/all-MiniLM-L6-v2");
        let vocab = std::fs::read_to_string(dir.join("vocab.txt")).expect("vocab");
        let config = std::fs::read_to_string(dir.join("config.json")).expect("config");
        let weights = std::fs::read(dir.join("model.safetensors")).expect("weights");
        let other = Encoder::from_bytes(&weights, &vocab, &config.replace("0.1,", "0.2,")).expect("encoder");
        assert_ne!(other.fingerprint(), encoder.fingerprint());
        assert!(format!("{encoder:?}").contains(encoder.fingerprint()));
    }
}
