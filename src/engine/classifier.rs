//! A multinomial logistic regression over sparse TF-IDF features, trained by stochastic
//! gradient descent. Written here rather than taken from a crate because it is the core of the
//! matcher, it is small, and the crates on offer are dense-matrix libraries that would make
//! 150-class training over 100,000 sparse features far slower and larger.

use multiversion::multiversion;
use rand::SeedableRng;
use rand::seq::SliceRandom;

use super::features::SparseVector;

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainSettings {
    pub epochs: usize,
    /// L2 regularisation strength per example.
    pub lambda: f32,
    /// Initial learning rate; it decays as 1 / (1 + rate * lambda * t).
    pub learning_rate: f32,
    /// Seed of the shuffle, so a model is reproducible.
    pub seed: u64,
}

impl Default for TrainSettings {
    fn default() -> Self {
        Self { epochs: 12, lambda: 3e-6, learning_rate: 0.5, seed: 7 }
    }
}

/// Class probabilities for one text, as (class index, probability), best first.
pub type Ranking = Vec<(usize, f32)>;

#[derive(Debug, Clone)]
pub struct Classifier {
    classes: usize,
    /// Feature-major: the weights of feature f are `weights[f * classes..(f + 1) * classes]`.
    weights: Vec<f32>,
    bias: Vec<f32>,
}

impl Classifier {
    pub fn train(
        settings: &TrainSettings,
        features: usize,
        classes: usize,
        examples: &[(SparseVector, usize)],
    ) -> Self {
        train(settings, features, classes, examples)
    }

    /// Probabilities of every class, in class order.
    pub fn probabilities(&self, x: &SparseVector) -> Vec<f32> {
        let mut scores = self.bias.clone();
        for &(f, value) in x {
            let row = &self.weights[f as usize * self.classes..(f as usize + 1) * self.classes];
            for (s, w) in scores.iter_mut().zip(row) {
                *s += value * w;
            }
        }
        softmax(&mut scores);
        scores
    }

    /// Probabilities of every class, best first.
    pub fn rank(&self, x: &SparseVector) -> Ranking {
        let mut ranking: Ranking = self.probabilities(x).into_iter().enumerate().collect();
        ranking.sort_unstable_by(|a, b| b.1.total_cmp(&a.1));
        ranking
    }

    /// The weights (feature-major) and the biases, as [`Classifier::from_parts`] takes them.
    pub fn parts(&self) -> (&[f32], &[f32]) {
        (&self.weights, &self.bias)
    }

    /// A classifier from weights learned before; None unless the weights hold a whole row of
    /// one weight a class for every feature.
    pub fn from_parts(weights: Vec<f32>, bias: Vec<f32>) -> Option<Self> {
        let classes = bias.len();
        (classes > 0 && weights.len().is_multiple_of(classes)).then_some(Self { classes, weights, bias })
    }

    /// How many features the weights cover.
    pub fn features(&self) -> usize {
        self.weights.len() / self.classes.max(1)
    }

    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Memory held by the weights, for the figures in BENCHMARKS.md.
    pub fn weight_bytes(&self) -> usize {
        (self.weights.len() + self.bias.len()) * std::mem::size_of::<f32>()
    }
}

// Compiled again for wider vector units, chosen when the process starts (see network.rs).
#[multiversion(targets("x86_64+avx512f", "x86_64+avx2+fma"))]
fn train(
    settings: &TrainSettings,
    features: usize,
    classes: usize,
    examples: &[(SparseVector, usize)],
) -> Classifier {
    let mut weights = vec![0.0f32; features * classes];
    let mut bias = vec![0.0f32; classes];
    // Regularisation as one shared scale (Bottou's trick): weights = scale * stored.
    let mut scale = 1.0f32;
    let mut order: Vec<usize> = (0..examples.len()).collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(settings.seed);
    let mut scores = vec![0.0f32; classes];
    let mut t = 0.0f32;
    for _ in 0..settings.epochs {
        order.shuffle(&mut rng);
        for &i in &order {
            let (x, label) = &examples[i];
            let rate = settings.learning_rate / (1.0 + settings.learning_rate * settings.lambda * t);
            t += 1.0;
            scores.copy_from_slice(&bias);
            for &(f, value) in x {
                let row = &weights[f as usize * classes..(f as usize + 1) * classes];
                let v = value * scale;
                for (s, w) in scores.iter_mut().zip(row) {
                    *s += v * w;
                }
            }
            softmax(&mut scores);
            scores[*label] -= 1.0; // now the gradient of the loss wrt the scores
            scale *= 1.0 - rate * settings.lambda;
            if scale < 1e-6 {
                weights.iter_mut().for_each(|w| *w *= scale);
                scale = 1.0;
            }
            for &(f, value) in x {
                let row = &mut weights[f as usize * classes..(f as usize + 1) * classes];
                let step = rate * value / scale;
                for (w, g) in row.iter_mut().zip(&scores) {
                    *w -= step * g;
                }
            }
            for (b, g) in bias.iter_mut().zip(&scores) {
                *b -= rate * g;
            }
        }
    }
    weights.iter_mut().for_each(|w| *w *= scale);
    Classifier { classes, weights, bias }
}

pub(super) fn softmax(scores: &mut [f32]) {
    let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for s in scores.iter_mut() {
        *s = (*s - max).exp();
        sum += *s;
    }
    for s in scores.iter_mut() {
        *s /= sum;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_a_separable_problem() {
        let examples: Vec<(SparseVector, usize)> = (0..30)
            .map(|i| {
                let class = i % 3;
                (vec![(class as u32, 1.0), (3, 0.5)], class)
            })
            .collect();
        let model = Classifier::train(&TrainSettings::default(), 4, 3, &examples);
        for class in 0..3 {
            let ranking = model.rank(&vec![(class as u32, 1.0)]);
            assert_eq!(ranking[0].0, class);
            assert!(ranking[0].1 > 0.8, "{ranking:?}");
        }
        let total: f32 = model.rank(&vec![(3, 1.0)]).iter().map(|(_, p)| p).sum();
        assert!((total - 1.0).abs() < 1e-5);
    }
}
