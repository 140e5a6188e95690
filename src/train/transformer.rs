//! Fine-tuning the transformer tagger ([`crate::tagger::transformer`]) on CPU, in Rust: tch's
//! autograd and AdamW over a `VarStore` that holds rust-bert's `BertModel` and the head.
//!
//! Every window of every training document is an example; its tokens are scored at their first
//! word piece and trained on the gold BIO tags of the three channels (cross-entropy per
//! channel). The word, position and type embeddings stay frozen, as in the encoder, so the
//! model file holds only the layers and the head. Windows are shuffled with a seeded generator
//! and batched by similar length; libtorch is seeded too, so a rerun with the same data,
//! options and thread count writes the same bytes. Held-out documents pick the epoch kept.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Instant;

use tch::{nn, nn::Module, nn::OptimizerConfig, Device, Tensor};

use crate::error::{Error, Result};
use crate::eval::gold::GoldDocument;
use crate::tagger::bert::InferenceBert;
use crate::tagger::features::EVIDENCE;
use crate::tagger::transformer::{
    decode, encoder_parts, inference_encoder, save, score_inputs, special_id, tagger_input,
    window_batch, word_pieces, TaggerHeader, TaggerInput, TaggerNet, TaggerSettings,
};
use crate::tagger::SpanModel;
use crate::tagger::{Role, Tag, ROW};
use crate::train::spans::{
    examples_from_gold, fit_span_model, paragraph_gold_tags, SpanExample, SpanScore,
    SpanTrainOptions, SplitMix,
};
use crate::train::stance::{pooled_targets, weighted_cross_entropy, TargetRow};

/// How to fine-tune the tagger.
#[derive(Debug, Clone)]
pub struct TaggerTrainOptions {
    pub settings: TaggerSettings,
    pub encoder_dir: PathBuf,
    pub epochs: usize,
    /// Windows per optimizer step.
    pub batch_size: usize,
    /// Peak learning rate of the transformer layers; the head's is `head_learning_rate`.
    pub learning_rate: f64,
    pub head_learning_rate: f64,
    /// Share of the steps over which the rate warms up from zero; it then falls linearly.
    pub warmup: f64,
    pub seed: u64,
    /// Stop after this many optimizer steps in all (a smoke test's few steps).
    pub max_steps: Option<usize>,
    /// libtorch threads; the bytes written depend on it.
    pub threads: usize,
    /// A stance objective trained beside tagging on the same encoder (multi-task), or none.
    pub stance: Option<StanceTask>,
}

/// Stance trained beside tagging: each optimizer step adds the stance loss of a batch of
/// labelled texts, read by a throw-away head from the states after `layer`, the layer whose
/// states the default mode's stance head reads. The head trained here is not kept: the shipped
/// stance head is fitted afterwards on the fine-tuned states (`whosaid train stance
/// --tagger-model`), as for a tagger trained on tagging alone, so that the two can be compared.
#[derive(Debug, Clone)]
pub struct StanceTask {
    pub texts: Vec<crate::train::stance::TuningText>,
    /// The stance loss's weight against the tagging loss.
    pub weight: f64,
    /// The stance head reads the states after this many layers.
    pub layer: usize,
    /// Texts per optimizer step.
    pub batch_size: usize,
}

impl Default for TaggerTrainOptions {
    fn default() -> Self {
        TaggerTrainOptions {
            settings: TaggerSettings::default(),
            encoder_dir: crate::encoder::default_model_dir(),
            epochs: 3,
            batch_size: 8,
            learning_rate: 1e-4,
            head_learning_rate: 1e-3,
            warmup: 0.06,
            seed: 41,
            max_steps: None,
            threads: 2,
            stance: None,
        }
    }
}

/// One window of a training document.
#[derive(Debug, Clone)]
pub struct WindowExample {
    pub ids: Vec<i64>,
    /// Position in the window (after `[CLS]`) of each scored token's first piece.
    pub positions: Vec<i64>,
    /// Row-major evidence of each scored token.
    pub evidence: Vec<f32>,
    /// Gold tag index of each scored token in each channel, row-major (three per token).
    pub labels: Vec<i64>,
}

/// A document ready for training or scoring: what the tagger reads and its gold tags.
pub struct TaggerExample {
    pub input: TaggerInput,
    pub gold: [Vec<Tag>; 3],
}

/// Where a stacked tagger's evidence from the linear tagger comes from in training.
#[derive(Clone, Copy)]
pub enum LinearEvidence<'a> {
    /// One model for every document: for held-out documents, the linear tagger in use.
    Model(&'a SpanModel),
    /// For each training document, a linear tagger fitted on the other folds, so that its
    /// probabilities are those it gives text it did not see, as in use.
    CrossFold { folds: usize },
}

/// Analyses labelled documents with the rule stages and reads them as the tagger does.
pub fn tagger_examples(
    gold: &[GoldDocument],
    settings: &TaggerSettings,
    encoder_dir: &Path,
    linear: LinearEvidence,
) -> Result<Vec<TaggerExample>> {
    use rayon::prelude::*;
    let rules = crate::train::spans::rules_pipeline()?;
    let (_, tokenizer) = encoder_parts(encoder_dir, settings.layers)?;
    let fold_models: Vec<SpanModel> = match linear {
        LinearEvidence::CrossFold { folds } if settings.stacked => {
            // As the shipped linear tagger was trained (see its provenance).
            let options = SpanTrainOptions {
                epochs: 8,
                table_bits: 16,
                seed: 17,
                second_pass_folds: 0,
                crf_rates: None,
                labels: crate::tagger::LabelSet::Channels,
            };
            let examples = examples_from_gold(&rules, gold, options.table_bits);
            let folds = folds.max(2);
            (0..folds)
                .map(|fold| {
                    let train: Vec<&SpanExample> = examples
                        .iter()
                        .enumerate()
                        .filter(|(index, _)| index % folds != fold)
                        .map(|(_, example)| example)
                        .collect();
                    fit_span_model(&train, &[], &options, String::new(), |_| {})
                })
                .collect()
        }
        _ => Vec::new(),
    };
    gold.par_iter()
        .enumerate()
        .map(|(index, document)| {
            let analysed = rules.analyse(&document.id, &document.text);
            let proposals = crate::tagger::proposals(&analysed);
            let layers = crate::tagger::layers(&analysed, &proposals, rules.cue_model());
            let model = match linear {
                LinearEvidence::Model(model) => Some(model),
                LinearEvidence::CrossFold { .. } if !fold_models.is_empty() => {
                    Some(&fold_models[index % fold_models.len()])
                }
                LinearEvidence::CrossFold { .. } => None,
            };
            let input = tagger_input(&tokenizer, encoder_dir, settings, &layers, model)?;
            let gold = paragraph_gold_tags(&analysed, document, &input.segments);
            Ok(TaggerExample { input, gold })
        })
        .collect()
}

/// The windows of a document as training examples: each scores the tokens whose first piece
/// it holds.
pub fn window_examples(example: &TaggerExample) -> Vec<WindowExample> {
    let input = &example.input;
    let width = input.evidence_width;
    input
        .windows
        .iter()
        .map(|window| {
            let mut positions = Vec::new();
            let mut evidence = Vec::new();
            let mut labels = Vec::new();
            for (token, piece) in input.first_piece.iter().enumerate() {
                let Some(piece) = *piece else { continue };
                if !window.contains(&piece) {
                    continue;
                }
                positions.push((1 + piece - window.start) as i64);
                evidence.extend_from_slice(&input.evidence[token * width..(token + 1) * width]);
                for channel in &example.gold {
                    labels.push(channel[token].index() as i64);
                }
            }
            WindowExample {
                ids: input.pieces.ids[window.clone()].to_vec(),
                positions,
                evidence,
                labels,
            }
        })
        .collect()
}

/// Variables of the throw-away stance head live under this name; they are not saved.
const STANCE_TASK: &str = "stance_task";
/// Word pieces of a stance text, `[CLS]` and `[SEP]` included, as the stance training reads it.
const STANCE_PIECES: usize = 256;

/// A stance text as the encoder reads it: its word pieces (`[CLS]` and `[SEP]` added by
/// [`window_batch`]), each position's offsets (`None` for the special tokens), and its targets.
struct StanceWindow {
    ids: Vec<i64>,
    offsets: Vec<Option<Range<usize>>>,
    targets: Vec<(Range<usize>, crate::stance::StanceLabel, f32)>,
}

/// The stance task while the tagger trains: its texts, read once, a seeded cycle through them,
/// and the head.
struct StanceObjective {
    windows: Vec<StanceWindow>,
    order: Vec<usize>,
    next: usize,
    random: SplitMix,
    norm: nn::LayerNorm,
    hidden: nn::Linear,
    output: nn::Linear,
    weight: f64,
    layer: usize,
    batch_size: usize,
}

impl StanceObjective {
    fn new(
        task: &StanceTask,
        root: &nn::Path,
        tokenizer: &tokenizers::Tokenizer,
        dim: i64,
        options: &TaggerTrainOptions,
    ) -> Result<Self> {
        if !(1..=options.settings.layers).contains(&task.layer) {
            return Err(Error::Usage(format!(
                "the stance task reads layer {}, but the tagger has layers 1 to {}",
                task.layer, options.settings.layers
            )));
        }
        let mut windows = Vec::new();
        for text in &task.texts {
            if text.targets.is_empty() {
                continue;
            }
            let pieces = word_pieces(tokenizer, &text.text, &options.encoder_dir)?;
            let kept = pieces.ids.len().min(STANCE_PIECES - 2);
            let mut offsets = Vec::with_capacity(kept + 2);
            offsets.push(None);
            offsets.extend(pieces.offsets[..kept].iter().cloned().map(Some));
            offsets.push(None);
            windows.push(StanceWindow {
                ids: pieces.ids[..kept].to_vec(),
                offsets,
                targets: text.targets.clone(),
            });
        }
        if windows.is_empty() {
            return Err(Error::Usage(
                "the stance task has no labelled targets to train on".into(),
            ));
        }
        let head = root.set_group(1) / STANCE_TASK;
        let features = 3 * dim;
        Ok(StanceObjective {
            order: (0..windows.len()).collect(),
            next: windows.len(),
            windows,
            random: SplitMix(options.seed ^ 0x5354_414e_4345),
            norm: nn::layer_norm(&head / "norm", vec![features], Default::default()),
            hidden: nn::linear(&head / "hidden", features, 64, Default::default()),
            output: nn::linear(&head / "output", 64, 3, Default::default()),
            weight: task.weight,
            layer: task.layer,
            batch_size: task.batch_size.max(1),
        })
    }

    /// The next texts of the cycle, reshuffled each time round.
    fn next_batch(&mut self) -> Vec<usize> {
        let mut batch = Vec::with_capacity(self.batch_size);
        while batch.len() < self.batch_size.min(self.windows.len()) {
            if self.next == self.order.len() {
                self.random.shuffle(&mut self.order);
                self.next = 0;
            }
            batch.push(self.order[self.next]);
            self.next += 1;
        }
        batch
    }

    /// The weighted stance loss of the next batch, through the tagger's first `layer` layers.
    fn loss(&mut self, net: &TaggerNet, cls: i64, sep: i64) -> Result<Tensor> {
        let batch = self.next_batch();
        let pieces: Vec<(&[i64], usize)> = batch
            .iter()
            .map(|&index| (&self.windows[index].ids[..], 0))
            .collect();
        let (ids, mask, _) = window_batch(&pieces, cls, sep);
        let (_, layers) = net.window_states(&ids, &mask, true)?;
        let states = layers
            .and_then(|mut layers| {
                (self.layer <= layers.len()).then(|| layers.swap_remove(self.layer - 1))
            })
            .ok_or_else(|| Error::Internal("the tagger's encoder gave no layer states".into()))?;
        let rows: Vec<TargetRow> = batch
            .iter()
            .map(|&index| {
                let window = &self.windows[index];
                (&window.offsets[..], &window.targets[..])
            })
            .collect();
        let (pooled, labels, weights) = pooled_targets(&states, &rows);
        let logits = self.output.forward(
            &self
                .hidden
                .forward(&self.norm.forward(&pooled))
                .relu()
                .dropout(0.1, true),
        );
        Ok(weighted_cross_entropy(&logits, &labels, &weights) * self.weight)
    }
}

/// The batches of one epoch: windows in a seeded order, grouped in runs of similar length so
/// that a batch pads little, and the batches themselves shuffled.
fn epoch_batches(
    windows: &[WindowExample],
    batch_size: usize,
    random: &mut SplitMix,
) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..windows.len()).collect();
    random.shuffle(&mut order);
    let pool = batch_size.max(1) * 16;
    let mut batches = Vec::new();
    for run in order.chunks_mut(pool) {
        run.sort_by_key(|&index| std::cmp::Reverse(windows[index].ids.len()));
        batches.extend(run.chunks(batch_size.max(1)).map(<[usize]>::to_vec));
    }
    random.shuffle(&mut batches);
    batches
}

/// The loss of one batch of windows.
fn batch_loss(
    net: &TaggerNet,
    windows: &[&WindowExample],
    evidence_width: usize,
    cls: i64,
    sep: i64,
) -> Result<Tensor> {
    let pieces: Vec<(&[i64], usize)> = windows.iter().map(|window| (&window.ids[..], 0)).collect();
    let (ids, mask, width) = window_batch(&pieces, cls, sep);
    let scores = net.window_scores(&ids, &mask, true)?;
    let flat = scores.view([-1, ROW as i64]);
    let mut rows = Vec::new();
    let mut evidence = Vec::new();
    let mut labels = Vec::new();
    for (row, window) in windows.iter().enumerate() {
        rows.extend(
            window
                .positions
                .iter()
                .map(|&position| row as i64 * width as i64 + position),
        );
        evidence.extend_from_slice(&window.evidence);
        labels.extend_from_slice(&window.labels);
    }
    let count = rows.len() as i64;
    let mut logits = flat.index_select(0, &Tensor::from_slice(&rows));
    if let Some(head) = &net.head_evidence {
        let evidence = Tensor::from_slice(&evidence).view([count, evidence_width as i64]);
        logits += head.forward(&evidence);
    }
    let labels = Tensor::from_slice(&labels);
    Ok(logits
        .view([count * 3, 3])
        .cross_entropy_for_logits(&labels))
}

/// Exact-span scores per channel of a network on held-out documents.
pub fn score_held_out(
    net: &TaggerNet,
    encoder: &InferenceBert,
    cls: i64,
    sep: i64,
    examples: &[TaggerExample],
) -> Result<[SpanScore; 3]> {
    let mut scores = [SpanScore::default(); 3];
    for chunk in examples.chunks(16) {
        let inputs: Vec<&TaggerInput> = chunk.iter().map(|example| &example.input).collect();
        let token_scores =
            score_inputs(&net.head(), encoder, cls, sep, &inputs, None).map_err(Error::Internal)?;
        for (example, token_scores) in chunk.iter().zip(&token_scores) {
            let predicted = decode(token_scores, &example.input.segments);
            for role in Role::ALL {
                let predicted: Vec<Range<usize>> = predicted
                    .iter()
                    .filter(|span| span.role == role)
                    .map(|span| span.tokens.clone())
                    .collect();
                scores[role.index()].add(&predicted, &example.gold[role.index()], role);
            }
        }
    }
    Ok(scores)
}

/// What one epoch of fine-tuning reports.
#[derive(Debug, Clone)]
pub struct TaggerEpoch {
    pub epoch: usize,
    pub steps: usize,
    pub mean_loss: f64,
    pub held_out: Option<[SpanScore; 3]>,
}

/// Fine-tunes a tagger on `train`, keeps the epoch that scores best on `held_out` (summed
/// exact-span F1 of the channels; the last epoch without held-out data), and writes it to
/// `output` with `provenance`.
pub fn fit_tagger(
    train: &[TaggerExample],
    held_out: &[TaggerExample],
    options: &TaggerTrainOptions,
    provenance: String,
    output: &Path,
    progress: &dyn Fn(&str),
) -> Result<Vec<TaggerEpoch>> {
    options.settings.validate().map_err(Error::Usage)?;
    tch::set_num_threads(options.threads.max(1) as i32);
    tch::manual_seed(options.seed as i64);
    let (mut bert_config, tokenizer) =
        encoder_parts(&options.encoder_dir, options.settings.layers)?;
    // The stance task reads an inner layer's states.
    bert_config.output_hidden_states = Some(options.stance.is_some());
    let cls = special_id(&tokenizer, "[CLS]", &options.encoder_dir)?;
    let sep = special_id(&tokenizer, "[SEP]", &options.encoder_dir)?;
    let mut store = nn::VarStore::new(Device::Cpu);
    let net = TaggerNet::new(&store.root(), &bert_config, &options.settings);
    let mut stance = options
        .stance
        .as_ref()
        .map(|task| {
            StanceObjective::new(
                task,
                &store.root(),
                &tokenizer,
                bert_config.hidden_size,
                options,
            )
        })
        .transpose()?;
    let base = options.encoder_dir.join("model.safetensors");
    store
        .load_partial(&base)
        .map_err(|error| Error::model(&base, error))?;
    for (name, variable) in store.variables() {
        if name.starts_with("embeddings.") {
            let _ = variable.set_requires_grad(false);
        }
    }
    let mut optimizer = nn::AdamW::default()
        .build(&store, options.learning_rate)
        .map_err(|error| Error::Internal(format!("the optimizer: {error}")))?;

    let windows: Vec<WindowExample> = train.iter().flat_map(window_examples).collect();
    let steps_per_epoch = windows.len().div_ceil(options.batch_size.max(1));
    let total_steps = options
        .max_steps
        .unwrap_or(usize::MAX)
        .min(steps_per_epoch * options.epochs)
        .max(1);
    let warmup_steps = ((total_steps as f64 * options.warmup).ceil() as usize).max(1);
    let rate = |step: usize| -> f64 {
        if step < warmup_steps {
            (step + 1) as f64 / warmup_steps as f64
        } else {
            (total_steps - step) as f64 / (total_steps - warmup_steps + 1) as f64
        }
    };
    progress(&format!(
        "{} windows from {} documents: {steps_per_epoch} steps an epoch, {total_steps} in all",
        windows.len(),
        train.len()
    ));

    let started = Instant::now();
    let mut random = SplitMix(options.seed);
    let mut step = 0;
    let mut reports = Vec::new();
    let mut best: Option<(f64, HashMap<String, Tensor>)> = None;
    for epoch in 1..=options.epochs {
        if step >= total_steps {
            break;
        }
        let mut loss_sum = 0.0;
        let mut stance_loss_sum = 0.0;
        let mut loss_count = 0usize;
        for batch in epoch_batches(&windows, options.batch_size, &mut random) {
            if step >= total_steps {
                break;
            }
            let scale = rate(step);
            optimizer.set_lr_group(0, options.learning_rate * scale);
            optimizer.set_lr_group(1, options.head_learning_rate * scale);
            let batch: Vec<&WindowExample> = batch.iter().map(|&index| &windows[index]).collect();
            let mut loss = batch_loss(&net, &batch, options.settings.evidence_width(), cls, sep)?;
            loss_sum += loss.double_value(&[]);
            if let Some(stance) = stance.as_mut() {
                let stance_loss = stance.loss(&net, cls, sep)?;
                stance_loss_sum += stance_loss.double_value(&[]);
                loss += stance_loss;
            }
            optimizer.backward_step_clip_norm(&loss, 1.0);
            loss_count += 1;
            step += 1;
            if step % 50 == 0 {
                let stance_part = if stance.is_some() {
                    format!(
                        ", weighted stance loss {:.4}",
                        stance_loss_sum / loss_count as f64
                    )
                } else {
                    String::new()
                };
                progress(&format!(
                    "epoch {epoch} step {step}/{total_steps}: loss {:.4}{stance_part} ({:.0} s)",
                    loss_sum / loss_count as f64,
                    started.elapsed().as_secs_f64()
                ));
            }
        }
        let held_out_scores = if held_out.is_empty() {
            None
        } else {
            Some(score_held_out(
                &net,
                &inference_encoder(&store, &bert_config)?,
                cls,
                sep,
                held_out,
            )?)
        };
        let report = TaggerEpoch {
            epoch,
            steps: step,
            mean_loss: loss_sum / loss_count.max(1) as f64,
            held_out: held_out_scores,
        };
        progress(&epoch_line(&report, started.elapsed().as_secs_f64()));
        let merit = held_out_scores.map_or(epoch as f64, |scores| {
            scores.iter().map(SpanScore::f1).sum::<f64>()
        });
        if best
            .as_ref()
            .is_none_or(|(best_merit, _)| merit > *best_merit)
        {
            let snapshot = store
                .variables()
                .into_iter()
                .map(|(name, tensor)| (name, tensor.detach().copy()))
                .collect();
            best = Some((merit, snapshot));
        }
        reports.push(report);
    }
    let mut weights = match best {
        Some((_, weights)) => weights,
        // No epoch ran (no windows, or no steps): the weights as they are.
        None => store.variables(),
    };
    weights.retain(|name, _| !name.starts_with(STANCE_TASK));
    let header = TaggerHeader {
        format: <TaggerHeader as crate::model_file::ModelFile>::FORMAT.to_string(),
        version: <TaggerHeader as crate::model_file::ModelFile>::VERSION,
        provenance,
        features: EVIDENCE.iter().map(|name| name.to_string()).collect(),
        settings: options.settings,
    };
    save(&weights, &header, output)?;
    Ok(reports)
}

fn epoch_line(report: &TaggerEpoch, seconds: f64) -> String {
    let held_out = report
        .held_out
        .map_or(String::new(), |[content, source, cue]| {
            format!(
                "; held-out exact span F1 content {:.1} source {:.1} cue {:.1}",
                100.0 * content.f1(),
                100.0 * source.f1(),
                100.0 * cue.f1()
            )
        });
    format!(
        "epoch {}: {} steps, mean loss {:.4}{held_out} ({seconds:.0} s)",
        report.epoch, report.steps, report.mean_loss
    )
}

/// `whosaid train tagger`: reads PolNeAR, fine-tunes, and writes the model with `command` in
/// its provenance.
pub fn train_command(
    polnear: &Path,
    dev: Option<&Path>,
    output: &Path,
    options: &TaggerTrainOptions,
    limit: Option<usize>,
    command: String,
    progress: &dyn Fn(&str),
) -> Result<Vec<TaggerEpoch>> {
    let started = Instant::now();
    let mut gold = crate::eval::brat::read_brat_dir(polnear)?;
    let mut held_out_gold = match dev {
        Some(dev) => crate::eval::brat::read_brat_dir(dev)?,
        None => Vec::new(),
    };
    if let Some(limit) = limit {
        gold.truncate(limit);
        held_out_gold.truncate(limit);
    }
    // A stacked tagger reads, on held-out text, the linear tagger in use.
    let shipped = SpanModel::shipped()?;
    let train = tagger_examples(
        &gold,
        &options.settings,
        &options.encoder_dir,
        LinearEvidence::CrossFold { folds: 4 },
    )?;
    let held_out = tagger_examples(
        &held_out_gold,
        &options.settings,
        &options.encoder_dir,
        LinearEvidence::Model(shipped),
    )?;
    let pieces: usize = train
        .iter()
        .map(|example| example.input.pieces.ids.len())
        .sum();
    progress(&format!(
        "{} training documents ({pieces} word pieces), {} held out; read in {:.1} s",
        train.len(),
        held_out.len(),
        started.elapsed().as_secs_f64()
    ));
    let provenance = crate::model_file::provenance(
        &format!(
            "PolNeAR {} ({} documents, {pieces} word pieces); all-MiniLM-L6-v2 fine-tuned, \
             {} layers, windows of {} overlapping by {}, evidence {}, stacked on the linear \
             tagger: {}{}",
            polnear.display(),
            gold.len(),
            options.settings.layers,
            options.settings.window,
            options.settings.overlap,
            if options.settings.evidence {
                "on"
            } else {
                "off"
            },
            if options.settings.stacked {
                "models/span-tagger.bin (on train, 4 folds)"
            } else {
                "no"
            },
            options
                .stance
                .as_ref()
                .map_or(String::new(), |task| format!(
                "; stance trained beside tagging (multi-task) on {} texts, read after layer {}, \
                 loss weight {}, {} texts a step",
                task.texts.len(),
                task.layer,
                task.weight,
                task.batch_size
            ))
        ),
        &command,
    );
    let reports = fit_tagger(&train, &held_out, options, provenance, output, progress)?;
    progress(&format!(
        "fine-tuned the tagger in {:.0} s; wrote {}",
        started.elapsed().as_secs_f64(),
        output.display()
    ));
    Ok(reports)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::{Pipeline, PipelineConfig};
    use crate::tagger::transformer::{owners, read_header, TransformerTaggerConfig};
    use crate::train::spans::tests::{gold, tiny_corpus};

    /// libtorch's random generator and thread count are global: tests that seed it take turns.
    static TORCH: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn torch_turn() -> std::sync::MutexGuard<'static, ()> {
        TORCH
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn digest(path: &Path) -> String {
        use sha2::Digest;
        format!("{:x}", sha2::Sha256::digest(std::fs::read(path).unwrap()))
    }

    fn five_documents() -> Vec<GoldDocument> {
        let mut corpus = tiny_corpus();
        corpus.push(gold(
            "four",
            "“The vote is close,” said Senator Lee, who leads the committee. Aides agreed.",
            &[("“The vote is close,”", Some("Senator Lee"), "said")],
        ));
        corpus.push(gold(
            "five",
            "According to the ministry, exports rose by a tenth. Analysts were surprised.",
            &[(
                "exports rose by a tenth",
                Some("the ministry"),
                "According to",
            )],
        ));
        corpus
    }

    /// One layer and small windows: the whole path in a few seconds.
    fn smoke_options() -> TaggerTrainOptions {
        TaggerTrainOptions {
            settings: TaggerSettings {
                layers: 1,
                window: 16,
                overlap: 4,
                evidence: true,
                stacked: true,
            },
            epochs: 2,
            batch_size: 4,
            max_steps: Some(3),
            threads: 1,
            ..TaggerTrainOptions::default()
        }
    }

    #[test]
    fn the_fused_inference_encoder_gives_rust_berts_states() {
        let options = smoke_options();
        if !encoder_installed(&options) {
            return;
        }
        let _turn = torch_turn();
        let (mut bert_config, tokenizer) =
            encoder_parts(&options.encoder_dir, options.settings.layers).unwrap();
        bert_config.output_hidden_states = Some(true);
        let mut store = nn::VarStore::new(Device::Cpu);
        let net = TaggerNet::new(&store.root(), &bert_config, &options.settings);
        store
            .load_partial(options.encoder_dir.join("model.safetensors"))
            .unwrap();
        let encoding = tokenizer
            .encode("“We are close,” Kerry said. Lavrov echoed that.", true)
            .unwrap();
        let ids: Vec<i64> = encoding.get_ids().iter().map(|&id| i64::from(id)).collect();
        let ids = Tensor::from_slice(&ids).view([1, -1]);
        let (expected, expected_layers) = net.window_states(&ids, &ids.ones_like(), false).unwrap();
        let encoder = inference_encoder(&store, &bert_config).unwrap();
        let (got, got_layers) = encoder.forward(&ids, true).unwrap();
        let largest = |a: &Tensor, b: &Tensor| f64::try_from((a - b).abs().max()).unwrap();
        assert!(
            largest(&expected, &got) < 1e-4,
            "{}",
            largest(&expected, &got)
        );
        let (expected_layers, got_layers) = (expected_layers.unwrap(), got_layers.unwrap());
        assert_eq!(expected_layers.len(), got_layers.len());
        for (layer, (expected, got)) in expected_layers.iter().zip(&got_layers).enumerate() {
            assert!(largest(expected, got) < 1e-4, "layer {}", layer + 1);
        }
    }

    fn encoder_installed(options: &TaggerTrainOptions) -> bool {
        let installed = options.encoder_dir.join("model.safetensors").exists();
        if !installed {
            eprintln!(
                "skipped: no encoder in {} (run scripts/setup)",
                options.encoder_dir.display()
            );
        }
        installed
    }

    /// The training examples of `corpus` as `options` read it, the linear evidence from 2 folds.
    fn smoke_examples(corpus: &[GoldDocument], options: &TaggerTrainOptions) -> Vec<TaggerExample> {
        tagger_examples(
            corpus,
            &options.settings,
            &options.encoder_dir,
            LinearEvidence::CrossFold { folds: 2 },
        )
        .unwrap()
    }

    #[test]
    fn training_runs_end_to_end_writes_the_same_bytes_again_and_its_spans_index_the_text() {
        let options = smoke_options();
        if !encoder_installed(&options) {
            return;
        }
        let _turn = torch_turn();
        let corpus = five_documents();
        let examples = smoke_examples(&corpus, &options);
        assert!(examples
            .iter()
            .any(|example| example.input.windows.len() > 1));
        let folder = tempfile::tempdir().unwrap();
        let first = folder.path().join("first.safetensors");
        let second = folder.path().join("second.safetensors");
        let provenance = crate::model_file::provenance("five documents", "a test");
        let reports = fit_tagger(
            &examples,
            &examples[..2],
            &options,
            provenance.clone(),
            &first,
            &|_| {},
        )
        .unwrap();
        assert_eq!(reports.last().unwrap().steps, 3);
        assert!(reports.iter().all(|report| report.mean_loss.is_finite()));
        fit_tagger(
            &examples,
            &examples[..2],
            &options,
            provenance,
            &second,
            &|_| {},
        )
        .unwrap();
        assert_eq!(
            digest(&first),
            digest(&second),
            "a rerun with the same seed and threads writes the same bytes"
        );

        let header = read_header(&first).unwrap();
        assert_eq!(header.settings, options.settings);
        assert!(header.provenance.contains("a test"));

        let config = TransformerTaggerConfig {
            weights: Some(first.clone()),
            precision: crate::encoder::Precision::Float32,
            ..TransformerTaggerConfig::default()
        };
        let pipeline = Pipeline::new(PipelineConfig {
            tagger: Some(config),
            ..PipelineConfig::default()
        })
        .unwrap();
        assert!(pipeline.stage_names().contains(&"transformer tagging"));
        for document in &corpus {
            let record = pipeline.analyse(&document.id, &document.text).to_record();
            assert!(record.error.is_none(), "{:?}", record.error);
            let chars: Vec<char> = document.text.chars().collect();
            for quote in &record.quotes {
                for span in std::iter::once(&quote.content)
                    .chain(&quote.cue)
                    .chain(&quote.pieces)
                {
                    let text: String = chars[span.start..span.end].iter().collect();
                    assert_eq!(text, span.text, "{}", document.id);
                }
            }
        }
    }

    fn tensor_names(path: &Path) -> Vec<String> {
        let bytes = std::fs::read(path).unwrap();
        let mut names: Vec<String> = safetensors::SafeTensors::deserialize(&bytes)
            .unwrap()
            .names()
            .into_iter()
            .cloned()
            .collect();
        names.sort();
        names
    }

    fn stance_texts() -> Vec<crate::train::stance::TuningText> {
        use crate::stance::StanceLabel;
        let text = |text: &str, target: &str, label: StanceLabel, weight: f32| {
            let start = text.find(target).unwrap();
            crate::train::stance::TuningText {
                text: text.to_string(),
                targets: vec![(start..start + target.len(), label, weight)],
            }
        };
        vec![
            text(
                "Critics praised the mayor for the plan.",
                "mayor",
                StanceLabel::Positive,
                1.0,
            ),
            text(
                "The senator attacked the deal as a fraud.",
                "deal",
                StanceLabel::Negative,
                1.0,
            ),
            text(
                "The minister will visit Paris on Monday.",
                "minister",
                StanceLabel::Neutral,
                1.0,
            ),
            text(
                "“We are close,” the envoy said.",
                "“We are close,”",
                StanceLabel::Positive,
                5.0,
            ),
        ]
    }

    #[test]
    fn the_stance_task_trains_the_shared_layers_and_its_own_head_is_not_saved() {
        let plain = smoke_options();
        if !encoder_installed(&plain) {
            return;
        }
        let _turn = torch_turn();
        let examples = smoke_examples(&five_documents(), &plain);
        let task = StanceTask {
            texts: stance_texts(),
            weight: 0.5,
            layer: 1,
            batch_size: 3,
        };
        let multi = TaggerTrainOptions {
            stance: Some(task.clone()),
            ..plain.clone()
        };
        let folder = tempfile::tempdir().unwrap();
        let path = |name: &str| folder.path().join(name);
        let provenance = crate::model_file::provenance("five documents", "a test");
        let fit = |options: &TaggerTrainOptions, output: &Path| {
            fit_tagger(&examples, &[], options, provenance.clone(), output, &|_| {})
        };
        fit(&plain, &path("plain.safetensors")).unwrap();
        let reports = fit(&multi, &path("multi.safetensors")).unwrap();
        fit(&multi, &path("again.safetensors")).unwrap();
        assert_eq!(reports.last().unwrap().steps, 3);
        assert!(reports.iter().all(|report| report.mean_loss.is_finite()));
        assert_eq!(
            tensor_names(&path("multi.safetensors")),
            tensor_names(&path("plain.safetensors")),
            "the stance task's head is not saved with the tagger"
        );
        assert_ne!(
            digest(&path("multi.safetensors")),
            digest(&path("plain.safetensors")),
            "the stance loss reaches the shared layer"
        );
        assert_eq!(
            digest(&path("multi.safetensors")),
            digest(&path("again.safetensors")),
            "a rerun with the same seed and threads writes the same bytes"
        );
        read_header(&path("multi.safetensors")).unwrap();

        let beyond = TaggerTrainOptions {
            stance: Some(StanceTask { layer: 2, ..task }),
            ..plain
        };
        let error = fit(&beyond, &path("beyond.safetensors")).unwrap_err();
        assert!(error.to_string().contains("layer 2"), "{error}");
    }

    #[test]
    fn a_file_that_is_not_a_tagger_is_refused_with_its_name() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("tagger.safetensors");
        std::fs::write(&path, b"not safetensors").unwrap();
        let error = read_header(&path).unwrap_err().to_string();
        assert!(error.contains("tagger.safetensors"), "{error}");
        let missing = folder.path().join("missing.safetensors");
        let error = read_header(&missing).unwrap_err().to_string();
        assert!(error.contains("missing.safetensors") && error.contains("train tagger"));
    }

    #[test]
    fn a_copy_of_the_shipped_tagger_shares_its_tensors_and_scores_alike() {
        let options = smoke_options();
        if !encoder_installed(&options) {
            return;
        }
        let _turn = torch_turn();
        let tagger = crate::tagger::transformer::TransformerTagger::new(TransformerTaggerConfig {
            encoder_dir: options.encoder_dir.clone(),
            ..Default::default()
        })
        .unwrap();
        let copy = tagger.sharing_weights().unwrap();
        assert!(tagger.shares_storage_with(&copy));
        let examples = tagger_examples(
            &five_documents(),
            &tagger.header.settings,
            &options.encoder_dir,
            LinearEvidence::Model(SpanModel::shipped().unwrap()),
        )
        .unwrap();
        let inputs: Vec<&TaggerInput> = examples.iter().map(|example| &example.input).collect();
        let original = tagger.scores(&inputs).unwrap();
        assert_eq!(copy.scores(&inputs).unwrap(), original);
        // And the scores are the network's, not a constant: tokens differ.
        let first = &original[0];
        assert!(first.chunks(ROW).any(|row| row != &first[..ROW]));
    }

    #[test]
    fn a_tokens_scores_come_from_its_own_window_whatever_the_batch() {
        let options = smoke_options();
        if !encoder_installed(&options) {
            return;
        }
        let _turn = torch_turn();
        tch::manual_seed(3);
        let (bert_config, tokenizer) =
            encoder_parts(&options.encoder_dir, options.settings.layers).unwrap();
        let mut store = nn::VarStore::new(Device::Cpu);
        let net = TaggerNet::new(&store.root(), &bert_config, &options.settings);
        store
            .load_partial(options.encoder_dir.join("model.safetensors"))
            .unwrap();
        let cls = special_id(&tokenizer, "[CLS]", &options.encoder_dir).unwrap();
        let sep = special_id(&tokenizer, "[SEP]", &options.encoder_dir).unwrap();
        let examples = tagger_examples(
            &five_documents(),
            &options.settings,
            &options.encoder_dir,
            LinearEvidence::Model(SpanModel::shipped().unwrap()),
        )
        .unwrap();
        let inputs: Vec<&TaggerInput> = examples.iter().map(|example| &example.input).collect();
        // All documents' windows, stitched.
        let encoder = inference_encoder(&store, &bert_config).unwrap();
        let together = score_inputs(&net.head(), &encoder, cls, sep, &inputs, None).unwrap();
        for (input, scores) in inputs.iter().zip(&together) {
            let owner = owners(input.pieces.ids.len(), &input.windows);
            // Each window as a document of its own.
            let alone: Vec<Vec<f32>> = input
                .windows
                .iter()
                .map(|window| {
                    let single = TaggerInput {
                        pieces: crate::tagger::transformer::WordPieces {
                            ids: input.pieces.ids[window.clone()].to_vec(),
                            offsets: input.pieces.offsets[window.clone()].to_vec(),
                        },
                        windows: std::iter::once(0..window.len()).collect(),
                        first_piece: input
                            .first_piece
                            .iter()
                            .map(|piece| {
                                piece
                                    .filter(|piece| window.contains(piece))
                                    .map(|piece| piece - window.start)
                            })
                            .collect(),
                        evidence: input.evidence.clone(),
                        evidence_width: input.evidence_width,
                        segments: input.segments.clone(),
                    };
                    score_inputs(&net.head(), &encoder, cls, sep, &[&single], None)
                        .unwrap()
                        .remove(0)
                })
                .collect();
            for (token, piece) in input.first_piece.iter().enumerate() {
                let Some(piece) = *piece else { continue };
                let expected = &alone[owner[piece]][token * ROW..(token + 1) * ROW];
                let got = &scores[token * ROW..(token + 1) * ROW];
                for (got, expected) in got.iter().zip(expected) {
                    assert!(
                        (got - expected).abs() < 1e-4,
                        "token {token}: {got} vs {expected}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_default_mode_s_linker_learns_from_the_transformer_s_spans_and_its_scores() {
        use crate::train::linker::{examples_from_gold, transformer_tagged, LinkExample, Tagged};
        let options = smoke_options();
        if !encoder_installed(&options) {
            return;
        }
        let _turn = torch_turn();
        let corpus = five_documents();
        let tagged =
            transformer_tagged(Path::new("models/transformer-tagger.safetensors"), &corpus)
                .unwrap();
        let rules = crate::train::spans::rules_pipeline().unwrap();
        for (document, tagged) in corpus.iter().zip(&tagged) {
            let tokens = rules
                .analyse(&document.id, &document.text)
                .segmented
                .tokens
                .len();
            let scores = tagged
                .scores
                .as_ref()
                .expect("the transformer gives scores");
            assert_eq!(scores.len(), tokens * ROW, "{}", document.id);
        }
        assert!(tagged.iter().any(|tagged| !tagged.spans.is_empty()));
        let spans_only =
            Tagged::spans_only(tagged.iter().map(|tagged| tagged.spans.clone()).collect());
        let (with_scores, _) = examples_from_gold(&rules, &corpus, &tagged, true);
        let (without, _) = examples_from_gold(&rules, &corpus, &spans_only, true);
        // The same decisions, and each cue candidate reads the tagger's scores at its ends.
        assert_eq!(with_scores.len(), without.len());
        assert!(!with_scores.is_empty());
        let keys = |examples: &[LinkExample]| -> usize {
            examples
                .iter()
                .flat_map(|example| &example.candidates)
                .map(Vec::len)
                .sum()
        };
        assert!(keys(&with_scores) > keys(&without));
    }
}
