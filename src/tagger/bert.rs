//! The tagger's encoder for inference on one unpadded window: the same BERT as rust-bert's
//! `BertModel` (which training uses), from the same weights, with libtorch's fused
//! `scaled_dot_product_attention` and `gelu` in place of rust-bert's separate operations.
//!
//! A window alone needs no attention mask, and without one libtorch runs a fused attention
//! kernel. Profiled on PolNeAR dev, rust-bert's attention spent more time on its 12 × 512 × 512
//! score tensors (scaling, the mask's addition, softmax, copies) than on all the matrix
//! products together.

use std::collections::HashMap;

use tch::{Kind, Tensor};

use crate::error::{Error, Result};

/// A linear layer's weight and bias.
struct Linear {
    weight: Tensor,
    bias: Tensor,
}

impl Linear {
    fn forward(&self, input: &Tensor) -> Tensor {
        input.linear(&self.weight, Some(&self.bias))
    }
}

/// A layer norm's scale and shift.
struct Norm {
    weight: Tensor,
    bias: Tensor,
}

struct Layer {
    query: Linear,
    key: Linear,
    value: Linear,
    attention_output: Linear,
    attention_norm: Norm,
    intermediate: Linear,
    output: Linear,
    output_norm: Norm,
}

/// The encoder's weights, sharing storage with the variables they were taken from.
pub struct InferenceBert {
    word_embeddings: Tensor,
    position_embeddings: Tensor,
    token_type_embeddings: Tensor,
    embeddings_norm: Norm,
    layers: Vec<Layer>,
    heads: i64,
    norm_eps: f64,
}

impl InferenceBert {
    /// Takes the weights of a BERT of `layers` layers and `heads` attention heads from a
    /// `VarStore`'s variables, named as rust-bert names them at the store's root.
    pub fn from_variables(
        variables: &HashMap<String, Tensor>,
        layers: usize,
        heads: usize,
        norm_eps: f64,
    ) -> Result<Self> {
        let tensor = |name: &str| {
            variables
                .get(name)
                .map(Tensor::shallow_clone)
                .ok_or_else(|| Error::Internal(format!("the tagger's encoder has no {name}")))
        };
        let linear = |prefix: &str| -> Result<Linear> {
            Ok(Linear {
                weight: tensor(&format!("{prefix}.weight"))?,
                bias: tensor(&format!("{prefix}.bias"))?,
            })
        };
        let norm = |prefix: &str| -> Result<Norm> {
            Ok(Norm {
                weight: tensor(&format!("{prefix}.weight"))?,
                bias: tensor(&format!("{prefix}.bias"))?,
            })
        };
        let layers = (0..layers)
            .map(|index| {
                let at = format!("encoder.layer.{index}");
                Ok(Layer {
                    query: linear(&format!("{at}.attention.self.query"))?,
                    key: linear(&format!("{at}.attention.self.key"))?,
                    value: linear(&format!("{at}.attention.self.value"))?,
                    attention_output: linear(&format!("{at}.attention.output.dense"))?,
                    attention_norm: norm(&format!("{at}.attention.output.LayerNorm"))?,
                    intermediate: linear(&format!("{at}.intermediate.dense"))?,
                    output: linear(&format!("{at}.output.dense"))?,
                    output_norm: norm(&format!("{at}.output.LayerNorm"))?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(InferenceBert {
            word_embeddings: tensor("embeddings.word_embeddings.weight")?,
            position_embeddings: tensor("embeddings.position_embeddings.weight")?,
            token_type_embeddings: tensor("embeddings.token_type_embeddings.weight")?,
            embeddings_norm: norm("embeddings.LayerNorm")?,
            layers,
            heads: heads as i64,
            norm_eps,
        })
    }

    fn norm(&self, input: &Tensor, norm: &Norm) -> Tensor {
        let width = input.size()[2];
        input.layer_norm(
            [width],
            Some(&norm.weight),
            Some(&norm.bias),
            self.norm_eps,
            false,
        )
    }

    /// The states of one window of piece ids (`[1, width]`, with `[CLS]` and `[SEP]`): after
    /// the last layer, and after every layer (`[k - 1]` is the output of layer k) when asked.
    pub fn forward(
        &self,
        ids: &Tensor,
        every_layer: bool,
    ) -> std::result::Result<(Tensor, Option<Vec<Tensor>>), tch::TchError> {
        let _guard = tch::no_grad_guard();
        let width = ids.size()[1];
        let positions = Tensor::arange(width, (Kind::Int64, ids.device()));
        let types = ids.zeros_like();
        let lookup =
            |table: &Tensor, indices: &Tensor| Tensor::embedding(table, indices, -1, false, false);
        let embedded = lookup(&self.word_embeddings, ids)
            + lookup(&self.position_embeddings, &positions).unsqueeze(0)
            + lookup(&self.token_type_embeddings, &types);
        let mut hidden = self.norm(&embedded, &self.embeddings_norm);
        let mut every = every_layer.then(Vec::new);
        for layer in &self.layers {
            hidden = self.layer(&hidden, layer)?;
            if let Some(every) = every.as_mut() {
                every.push(hidden.shallow_clone());
            }
        }
        Ok((hidden, every))
    }

    fn layer(&self, input: &Tensor, layer: &Layer) -> std::result::Result<Tensor, tch::TchError> {
        let size = input.size();
        let (batch, width, hidden) = (size[0], size[1], size[2]);
        let split = |states: Tensor| {
            states
                .view([batch, width, self.heads, hidden / self.heads])
                .transpose(1, 2)
        };
        let query = split(layer.query.forward(input));
        let key = split(layer.key.forward(input));
        let value = split(layer.value.forward(input));
        // No position is masked; tch hands libtorch an undefined tensor for `None`, which it
        // refuses, so the mask is zeros (added to the scores), in the query's number type.
        let nothing_masked = Tensor::zeros([1, 1, 1, width], (query.kind(), query.device()));
        let (context, _) = Tensor::f_internal_scaled_dot_product_flash_attention_for_cpu(
            &query,
            &key,
            &value,
            0.0,
            false,
            Some(&nothing_masked),
            None,
        )?;
        let context = context
            .transpose(1, 2)
            .contiguous()
            .view([batch, width, hidden]);
        let attended = self.norm(
            &(layer.attention_output.forward(&context) + input),
            &layer.attention_norm,
        );
        let intermediate = layer.intermediate.forward(&attended).gelu("none");
        Ok(self.norm(
            &(layer.output.forward(&intermediate) + &attended),
            &layer.output_norm,
        ))
    }
}
