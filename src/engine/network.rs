//! A small neural network over the same sparse TF-IDF features as the linear classifier: one
//! hidden layer of rectified units, then softmax. The hidden layer learns which n-grams go
//! together (a word and its misspelling, two phrasings of one request), which a linear model
//! cannot; averaged with the linear model it is measurably more accurate (BENCHMARKS.md).
//!
//! Written here for the reasons the linear classifier is: the input is sparse (a few hundred
//! of 60,000 features are non-zero), and dense-matrix crates would multiply the zeros too.
//!
//! Training is mini-batch Adam on the dense layers. The input layer is the large one
//! (features × hidden), so it keeps one second-moment estimate per feature row instead of
//! two moments per weight (row-wise adaptive steps, as sparse embedding tables are trained),
//! which keeps training memory near the size of the model itself.

use multiversion::multiversion;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use super::classifier::softmax;
use super::features::SparseVector;

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NetworkSettings {
    pub hidden: usize,
    pub epochs: usize,
    pub batch: usize,
    pub learning_rate: f32,
    /// Fraction of hidden units dropped at random in each training step.
    pub dropout: f32,
    pub seed: u64,
}

impl Default for NetworkSettings {
    fn default() -> Self {
        Self { hidden: 256, epochs: 9, batch: 64, learning_rate: 1e-3, dropout: 0.5, seed: 7 }
    }
}

const BETA1: f32 = 0.9;
const BETA2: f32 = 0.999;
const EPSILON: f32 = 1e-8;

#[derive(Debug, Clone)]
pub struct Network {
    hidden: usize,
    classes: usize,
    /// Feature-major: the weights from feature f are `input[f * hidden..(f + 1) * hidden]`.
    input: Vec<f32>,
    hidden_bias: Vec<f32>,
    /// Hidden-major: the weights from hidden unit j are `output[j * classes..(j + 1) * classes]`.
    output: Vec<f32>,
    output_bias: Vec<f32>,
}

/// Adam state for one dense parameter block.
struct Adam {
    first: Vec<f32>,
    second: Vec<f32>,
}

impl Adam {
    fn new(len: usize) -> Self {
        Self { first: vec![0.0; len], second: vec![0.0; len] }
    }

    fn step(&mut self, weights: &mut [f32], gradient: &[f32], rate: f32) {
        for (((w, g), m), v) in weights.iter_mut().zip(gradient).zip(&mut self.first).zip(&mut self.second) {
            *m = BETA1 * *m + (1.0 - BETA1) * g;
            *v = BETA2 * *v + (1.0 - BETA2) * g * g;
            *w -= rate * *m / (v.sqrt() + EPSILON);
        }
    }
}

impl Network {
    pub fn train(
        settings: &NetworkSettings,
        features: usize,
        classes: usize,
        examples: &[(SparseVector, usize)],
    ) -> Self {
        train(settings, features, classes, examples)
    }

    /// Class scores from the hidden units listed in `active` (the others are zero).
    #[inline(always)]
    fn output_layer(&self, activation: &[f32], active: &[usize], scores: &mut [f32]) {
        scores.copy_from_slice(&self.output_bias);
        for &j in active {
            add_scaled(scores, activation[j], &self.output[j * self.classes..(j + 1) * self.classes]);
        }
    }

    /// Probabilities of every class, in class order.
    pub fn probabilities(&self, x: &SparseVector) -> Vec<f32> {
        let mut activation = vec![0.0f32; self.hidden];
        hidden_layer(self, x, &mut activation);
        let active: Vec<usize> = (0..self.hidden).filter(|&j| activation[j] > 0.0).collect();
        let mut scores = vec![0.0f32; self.classes];
        self.output_layer(&activation, &active, &mut scores);
        softmax(&mut scores);
        scores
    }

    /// The input weights, hidden biases, output weights and output biases, as
    /// [`Network::from_parts`] takes them.
    pub fn parts(&self) -> (&[f32], &[f32], &[f32], &[f32]) {
        (&self.input, &self.hidden_bias, &self.output, &self.output_bias)
    }

    /// A network from weights learned before; None when the blocks' sizes disagree.
    pub fn from_parts(
        input: Vec<f32>,
        hidden_bias: Vec<f32>,
        output: Vec<f32>,
        output_bias: Vec<f32>,
    ) -> Option<Self> {
        let (hidden, classes) = (hidden_bias.len(), output_bias.len());
        let fits = hidden > 0
            && classes > 0
            && input.len().is_multiple_of(hidden)
            && output.len() == hidden * classes;
        fits.then_some(Self { hidden, classes, input, hidden_bias, output, output_bias })
    }

    /// How many features the input weights cover.
    pub fn features(&self) -> usize {
        self.input.len() / self.hidden.max(1)
    }

    pub fn classes(&self) -> usize {
        self.classes
    }

    pub fn weight_bytes(&self) -> usize {
        (self.input.len() + self.hidden_bias.len() + self.output.len() + self.output_bias.len())
            * std::mem::size_of::<f32>()
    }
}

// Compiled again for wider vector units, chosen when the process starts: training and the
// hidden layer are all `add_scaled` and `dot` over a few hundred numbers.
#[multiversion(targets("x86_64+avx512f", "x86_64+avx2+fma"))]
fn train(
    settings: &NetworkSettings,
    features: usize,
    classes: usize,
    examples: &[(SparseVector, usize)],
) -> Network {
    let hidden = settings.hidden;
    let mut rng = rand::rngs::StdRng::seed_from_u64(settings.seed);
    let mut glorot = |len: usize, fan: usize| -> Vec<f32> {
        let bound = (6.0 / fan as f32).sqrt();
        (0..len).map(|_| rng.random_range(-bound..bound)).collect()
    };
    let mut network = Network {
        hidden,
        classes,
        input: glorot(features * hidden, features + hidden),
        hidden_bias: vec![0.0; hidden],
        output: glorot(hidden * classes, classes + hidden),
        output_bias: vec![0.0; classes],
    };
    let mut output_adam = Adam::new(hidden * classes);
    let mut output_bias_adam = Adam::new(classes);
    let mut hidden_bias_adam = Adam::new(hidden);
    let mut row_second = vec![0.0f32; features];

    // Gradient buffers, reused. Input rows touched in a batch get a slot in `row_gradient`.
    let mut output_gradient = vec![0.0f32; hidden * classes];
    let mut output_bias_gradient = vec![0.0f32; classes];
    let mut hidden_bias_gradient = vec![0.0f32; hidden];
    let mut slot_of_feature = vec![u32::MAX; features];
    let mut touched: Vec<u32> = Vec::new();
    let mut row_gradient: Vec<f32> = Vec::new();

    let mut activation = vec![0.0f32; hidden];
    let mut active: Vec<usize> = Vec::with_capacity(hidden);
    let mut hidden_gradient = vec![0.0f32; hidden];
    let mut scores = vec![0.0f32; classes];
    let keep = 1.0 - settings.dropout;
    let mut order: Vec<usize> = (0..examples.len()).collect();
    let mut step = 0i32;
    let mut dropout_rng = rand::rngs::StdRng::seed_from_u64(settings.seed ^ 0x9e37_79b9);

    for _ in 0..settings.epochs {
        order.shuffle(&mut rng);
        for batch in order.chunks(settings.batch.max(1)) {
            let scale = 1.0 / batch.len() as f32;
            for &i in batch {
                let (x, label) = &examples[i];
                hidden_layer_inline(&network, x, &mut activation);
                active.clear();
                for (j, a) in activation.iter_mut().enumerate() {
                    if *a > 0.0 && dropout_rng.random::<f32>() < keep {
                        *a /= keep;
                        active.push(j);
                    } else {
                        *a = 0.0;
                    }
                }
                network.output_layer(&activation, &active, &mut scores);
                softmax(&mut scores);
                scores[*label] -= 1.0;
                scores.iter_mut().for_each(|g| *g *= scale);
                add_scaled(&mut output_bias_gradient, 1.0, &scores);
                hidden_gradient.iter_mut().for_each(|g| *g = 0.0);
                for &j in &active {
                    let row = j * classes..(j + 1) * classes;
                    add_scaled(&mut output_gradient[row.clone()], activation[j], &scores);
                    // Through the dropout scaling; the rectifier and the mask pass only `active`.
                    hidden_gradient[j] = dot(&network.output[row], &scores) / keep;
                }
                add_scaled(&mut hidden_bias_gradient, 1.0, &hidden_gradient);
                for &(f, value) in x {
                    let mut slot = slot_of_feature[f as usize];
                    if slot == u32::MAX {
                        slot = touched.len() as u32;
                        slot_of_feature[f as usize] = slot;
                        touched.push(f);
                        row_gradient.resize(touched.len() * hidden, 0.0);
                    }
                    let row = slot as usize * hidden..(slot as usize + 1) * hidden;
                    add_scaled(&mut row_gradient[row], value, &hidden_gradient);
                }
            }

            step += 1;
            let rate = settings.learning_rate * (1.0 - BETA2.powi(step)).sqrt() / (1.0 - BETA1.powi(step));
            output_adam.step(&mut network.output, &output_gradient, rate);
            output_bias_adam.step(&mut network.output_bias, &output_bias_gradient, rate);
            hidden_bias_adam.step(&mut network.hidden_bias, &hidden_bias_gradient, rate);
            let row_rate = settings.learning_rate * (1.0 - BETA2.powi(step)).sqrt();
            for (slot, &f) in touched.iter().enumerate() {
                let gradient = &row_gradient[slot * hidden..(slot + 1) * hidden];
                let mean_square = dot(gradient, gradient) / hidden as f32;
                let second = &mut row_second[f as usize];
                *second = BETA2 * *second + (1.0 - BETA2) * mean_square;
                let step_size = row_rate / (second.sqrt() + EPSILON);
                let weights = &mut network.input[f as usize * hidden..(f as usize + 1) * hidden];
                add_scaled(weights, -step_size, gradient);
                slot_of_feature[f as usize] = u32::MAX;
            }
            touched.clear();
            row_gradient.clear();
            output_gradient.iter_mut().for_each(|g| *g = 0.0);
            output_bias_gradient.iter_mut().for_each(|g| *g = 0.0);
            hidden_bias_gradient.iter_mut().for_each(|g| *g = 0.0);
        }
    }
    network
}

#[multiversion(targets("x86_64+avx512f", "x86_64+avx2+fma"))]
fn hidden_layer(network: &Network, x: &SparseVector, activation: &mut [f32]) {
    hidden_layer_inline(network, x, activation);
}

#[inline(always)]
fn hidden_layer_inline(network: &Network, x: &SparseVector, activation: &mut [f32]) {
    activation.copy_from_slice(&network.hidden_bias);
    let hidden = network.hidden;
    for &(f, value) in x {
        add_scaled(activation, value, &network.input[f as usize * hidden..(f as usize + 1) * hidden]);
    }
    activation.iter_mut().for_each(|a| *a = a.max(0.0));
}

/// `target += factor * source`, element by element (the compiler vectorises it). Always
/// inlined, so it takes the vector width of the caller's compiled version.
#[inline(always)]
fn add_scaled(target: &mut [f32], factor: f32, source: &[f32]) {
    for (t, s) in target.iter_mut().zip(source) {
        *t += factor * s;
    }
}

/// Dot product in eight independent sums, so that it vectorises (one running sum cannot,
/// as float addition is not reassociated for us).
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut sums = [0.0f32; 8];
    let (a_chunks, b_chunks) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = a_chunks.remainder().iter().zip(b_chunks.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in a_chunks.zip(b_chunks) {
        for k in 0..8 {
            sums[k] += x[k] * y[k];
        }
    }
    sums.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_a_problem_no_linear_model_can() {
        // Exclusive or: class 1 when exactly one of features 0 and 1 is present.
        let examples: Vec<(SparseVector, usize)> = (0..200)
            .map(|i| match i % 4 {
                0 => (vec![(2, 1.0)], 0),
                1 => (vec![(0, 1.0), (2, 1.0)], 1),
                2 => (vec![(1, 1.0), (2, 1.0)], 1),
                _ => (vec![(0, 1.0), (1, 1.0), (2, 1.0)], 0),
            })
            .collect();
        let settings =
            NetworkSettings { hidden: 16, epochs: 200, batch: 8, learning_rate: 1e-2, ..Default::default() };
        let network = Network::train(&settings, 3, 2, &examples);
        for (x, label) in &examples[..4] {
            let probabilities = network.probabilities(x);
            assert!(probabilities[*label] > 0.5, "{x:?}: {probabilities:?}");
        }
    }
}
