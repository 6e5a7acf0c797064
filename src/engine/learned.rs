//! The weights the matcher learns, as safetensors bytes, so that a restart with unchanged
//! content loads them instead of training again (training the fast models is most of the
//! start-up time; loading is a copy). The edge keeps the bytes on disk, keyed by everything
//! the weights were learned from; this module only converts, and refuses anything that does
//! not fit.

use std::borrow::Cow;

use safetensors::{Dtype, SafeTensors, tensor::TensorView};

use super::classifier::Classifier;
use super::network::Network;

/// What one matcher learns: the linear model over n-grams, the network beside it, and the
/// regression and the network over sentence embeddings.
#[derive(Debug, Clone)]
pub struct LearnedWeights {
    pub classifier: Classifier,
    pub network: Option<Network>,
    pub semantic: Option<Classifier>,
    pub semantic_network: Option<Network>,
}

/// [`LearnedWeights`] borrowed from a trained matcher, to be written without a copy.
#[derive(Debug, Clone, Copy)]
pub struct LearnedView<'a> {
    pub classifier: &'a Classifier,
    pub network: Option<&'a Network>,
    pub semantic: Option<&'a Classifier>,
    pub semantic_network: Option<&'a Network>,
}

/// A named block of weights with its shape.
type Block<'a> = (String, Vec<usize>, &'a [f32]);

impl<'a> LearnedView<'a> {
    fn blocks(&self, prefix: &str) -> Vec<Block<'a>> {
        let mut blocks = classifier_blocks(&format!("{prefix}classifier"), self.classifier);
        if let Some(semantic) = self.semantic {
            blocks.extend(classifier_blocks(&format!("{prefix}semantic"), semantic));
        }
        if let Some(network) = self.network {
            blocks.extend(network_blocks(&format!("{prefix}network"), network));
        }
        if let Some(network) = self.semantic_network {
            blocks.extend(network_blocks(&format!("{prefix}semantic_network"), network));
        }
        blocks
    }
}

impl LearnedWeights {
    fn from_tensors(tensors: &SafeTensors, prefix: &str) -> Option<Self> {
        let read = |name: &str| read_f32(tensors, &format!("{prefix}{name}"));
        let classifier_of = |name: &str| {
            Classifier::from_parts(read(&format!("{name}.weights"))?, read(&format!("{name}.bias"))?)
        };
        let has = |name: &str| tensors.names().iter().any(|n| *n == format!("{prefix}{name}"));
        let network_of = |name: &str| match has(&format!("{name}.input")) {
            true => Network::from_parts(
                read(&format!("{name}.input"))?,
                read(&format!("{name}.hidden_bias"))?,
                read(&format!("{name}.output"))?,
                read(&format!("{name}.output_bias"))?,
            )
            .map(Some),
            false => Some(None),
        };
        let semantic = match has("semantic.weights") {
            true => Some(classifier_of("semantic")?),
            false => None,
        };
        Some(Self {
            classifier: classifier_of("classifier")?,
            network: network_of("network")?,
            semantic,
            semantic_network: network_of("semantic_network")?,
        })
    }
}

fn classifier_blocks<'a>(name: &str, classifier: &'a Classifier) -> Vec<Block<'a>> {
    let (weights, bias) = classifier.parts();
    let classes = bias.len();
    vec![
        (format!("{name}.weights"), vec![weights.len() / classes.max(1), classes], weights),
        (format!("{name}.bias"), vec![classes], bias),
    ]
}

fn network_blocks<'a>(name: &str, network: &'a Network) -> Vec<Block<'a>> {
    let (input, hidden_bias, output, output_bias) = network.parts();
    let (hidden, classes) = (hidden_bias.len(), output_bias.len());
    vec![
        (format!("{name}.input"), vec![input.len() / hidden.max(1), hidden], input),
        (format!("{name}.hidden_bias"), vec![hidden], hidden_bias),
        (format!("{name}.output"), vec![hidden, classes], output),
        (format!("{name}.output_bias"), vec![classes], output_bias),
    ]
}

/// safetensors is little-endian: on such processors the weights are written in place.
fn little_endian(values: &[f32]) -> Cow<'_, [u8]> {
    if cfg!(target_endian = "little") {
        Cow::Borrowed(bytemuck::cast_slice(values))
    } else {
        Cow::Owned(values.iter().flat_map(|v| v.to_le_bytes()).collect())
    }
}

fn read_f32(tensors: &SafeTensors, name: &str) -> Option<Vec<f32>> {
    let view = tensors.tensor(name).ok()?;
    if view.dtype() != Dtype::F32 {
        return None;
    }
    Some(view.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
}

/// The engine's matchers' weights (the topics' and, when the content has facets, the facets')
/// as one safetensors file.
pub fn to_safetensors(topics: LearnedView, facets: Option<LearnedView>) -> Vec<u8> {
    let mut blocks = topics.blocks("topics.");
    if let Some(facets) = facets {
        blocks.extend(facets.blocks("facets."));
    }
    let bytes: Vec<(String, Vec<usize>, Cow<[u8]>)> =
        blocks.into_iter().map(|(name, shape, values)| (name, shape, little_endian(values))).collect();
    let views = bytes.iter().filter_map(|(name, shape, data)| {
        TensorView::new(Dtype::F32, shape.clone(), data).ok().map(|view| (name.clone(), view))
    });
    safetensors::serialize(views, None).unwrap_or_default()
}

/// The inverse of [`to_safetensors`]; None for anything malformed. Whether the weights fit
/// the content is checked where they are used ([`super::matcher::Matcher::train_or_load`]).
pub fn from_safetensors(bytes: &[u8]) -> Option<(LearnedWeights, Option<LearnedWeights>)> {
    let tensors = SafeTensors::deserialize(bytes).ok()?;
    let topics = LearnedWeights::from_tensors(&tensors, "topics.")?;
    let facets = match tensors.names().iter().any(|n| n.starts_with("facets.")) {
        true => Some(LearnedWeights::from_tensors(&tensors, "facets.")?),
        false => None,
    };
    Some((topics, facets))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classifier(features: usize, classes: usize, seed: f32) -> Classifier {
        let weights = (0..features * classes).map(|i| i as f32 * seed).collect();
        Classifier::from_parts(weights, vec![seed; classes]).unwrap()
    }

    #[test]
    fn every_model_round_trips_exactly() {
        let network =
            Network::from_parts(vec![0.5; 6 * 4], vec![0.1; 4], vec![-0.25; 4 * 3], vec![0.0; 3]).unwrap();
        let semantic_network =
            Network::from_parts(vec![0.75; 5 * 2], vec![0.2; 2], vec![-0.5; 2 * 3], vec![0.1; 3]).unwrap();
        let topics = (classifier(6, 3, 0.5), Some(network), Some(classifier(5, 3, -1.5)));
        let facets = classifier(2, 2, 3.0);
        let view = LearnedView {
            classifier: &topics.0,
            network: topics.1.as_ref(),
            semantic: topics.2.as_ref(),
            semantic_network: Some(&semantic_network),
        };
        let facets_view =
            LearnedView { classifier: &facets, network: None, semantic: None, semantic_network: None };
        let bytes = to_safetensors(view, Some(facets_view));
        let (read_topics, read_facets) = from_safetensors(&bytes).expect("readable");
        assert_eq!(read_topics.classifier.parts(), topics.0.parts());
        assert_eq!(read_topics.network.unwrap().parts(), topics.1.as_ref().unwrap().parts());
        assert_eq!(read_topics.semantic.unwrap().parts(), topics.2.as_ref().unwrap().parts());
        assert_eq!(read_topics.semantic_network.unwrap().parts(), semantic_network.parts());
        let read_facets = read_facets.expect("facets");
        assert_eq!(read_facets.classifier.parts(), facets.parts());
        assert!(read_facets.network.is_none() && read_facets.semantic.is_none());
        assert!(read_facets.semantic_network.is_none());
    }

    #[test]
    fn blocks_of_the_wrong_size_are_refused() {
        assert!(Classifier::from_parts(vec![1.0; 7], vec![0.0; 3]).is_none());
        assert!(Network::from_parts(vec![1.0; 8], vec![0.0; 4], vec![0.0; 5], vec![0.0; 3]).is_none());
    }
}
