//! Token states: an encoder's last-layer vector for each word piece of a text, which later
//! stages read (stance reads the transformer tagger's).

use std::ops::Range;

/// An encoder's output for one text.
#[derive(Debug, Clone)]
pub struct TokenStates {
    /// Byte range in the text of each token; special tokens (`[CLS]`, `[SEP]`) have `None`.
    pub offsets: Vec<Option<Range<usize>>>,
    /// Row-major `offsets.len() × dim` last-layer states.
    pub states: Vec<f32>,
    pub dim: usize,
}

impl TokenStates {
    pub fn len(&self) -> usize {
        self.offsets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }

    pub fn row(&self, token: usize) -> &[f32] {
        &self.states[token * self.dim..(token + 1) * self.dim]
    }

    /// The mean state of some tokens, or `None` when there are none.
    pub fn mean_of(&self, tokens: &[usize]) -> Option<Vec<f32>> {
        if tokens.is_empty() {
            return None;
        }
        let mut mean = vec![0f32; self.dim];
        for &token in tokens {
            for (sum, value) in mean.iter_mut().zip(self.row(token)) {
                *sum += value;
            }
        }
        let count = tokens.len() as f32;
        mean.iter_mut().for_each(|value| *value /= count);
        Some(mean)
    }

    /// Mean pooling over every token, special ones included, then L2 normalisation: the
    /// sentence embedding of all-MiniLM-L6-v2 as sentence-transformers computes it.
    pub fn sentence_embedding(&self) -> Vec<f32> {
        let all: Vec<usize> = (0..self.len()).collect();
        let mut mean = self.mean_of(&all).unwrap_or_else(|| vec![0.0; self.dim]);
        let norm = mean.iter().map(|value| value * value).sum::<f32>().sqrt();
        if norm > 1e-12 {
            mean.iter_mut().for_each(|value| *value /= norm);
        }
        mean
    }
}
