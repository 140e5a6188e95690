//! Stance: the tone a quote takes, and its stance toward the people and organisations it names.
//!
//! The model is target-dependent sentiment as NewsMTSC defines it: given a sentence and a target
//! span in it, is the sentence negative, neutral or positive toward the target? all-MiniLM-L6-v2
//! ([`crate::encoder`]) gives each token a contextual state; [`target_features`] pools the states
//! of the target, of the words around it and of the whole sentence; a small classifier head
//! ([`StanceHead`], trained by `whosaid train stance`) maps that to calibrated probabilities.
//!
//! A quote's tone is the model's answer with the quote's content as the target, in the sentences
//! that hold it; a quote's stance toward an entity is the answer with that entity's mention (inside
//! the content) as the target, in the same encoding.

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::document::{Document, Span, StanceInput};
#[cfg(feature = "transformer")]
use crate::document::{QuoteStance, TargetStance};
use crate::error::Result;
use crate::labels::MentionKind;
pub use crate::labels::{StanceLabel, StanceScore};
use crate::model_file::{self, ModelFile};
use crate::stage::{unbounded, Check, Clock, DocumentStage, Halt, Unbounded};

/// Tokens on each side of a target whose states describe its immediate context.
pub const LOCAL_WINDOW: usize = 6;

/// The three token groups whose mean states make a target's features: the target's tokens, up
/// to [`LOCAL_WINDOW`] tokens on each side of it, and the whole sentence (special tokens
/// excepted). A group with no tokens (a target cut off by truncation) falls back to the sentence.
pub fn pooling_groups(offsets: &[Option<Range<usize>>], target: &Range<usize>) -> [Vec<usize>; 3] {
    let words = word_tokens(offsets);
    let [inside, around] = target_groups(offsets, target);
    let or_sentence = |group: Vec<usize>| {
        if group.is_empty() {
            words.clone()
        } else {
            group
        }
    };
    [or_sentence(inside), or_sentence(around), words.clone()]
}

/// The tokens that are not special tokens.
fn word_tokens(offsets: &[Option<Range<usize>>]) -> Vec<usize> {
    (0..offsets.len())
        .filter(|&token| offsets[token].is_some())
        .collect()
}

/// The target's tokens and the tokens around it, either possibly empty.
fn target_groups(offsets: &[Option<Range<usize>>], target: &Range<usize>) -> [Vec<usize>; 2] {
    let words = || (0..offsets.len()).filter(|&token| offsets[token].is_some());
    let inside: Vec<usize> = words()
        .filter(|&token| {
            offsets[token]
                .as_ref()
                .is_some_and(|range| range.start < target.end && target.start < range.end)
        })
        .collect();
    let around: Vec<usize> = match (inside.first(), inside.last()) {
        (Some(&first), Some(&last)) => words()
            .filter(|&token| {
                (token < first && token + LOCAL_WINDOW >= first)
                    || (token > last && token <= last + LOCAL_WINDOW)
            })
            .collect(),
        _ => Vec::new(),
    };
    [inside, around]
}

/// The head's input for one target: the mean states of its [`pooling_groups`], side by side.
#[cfg(feature = "transformer")]
pub fn target_features(states: &crate::encoder::TokenStates, target: &Range<usize>) -> Vec<f32> {
    WindowFeatures::new(states).target(target)
}

/// The head's inputs for the targets of one encoded text. The whole-sentence mean is computed
/// once per text rather than once per target: a text of thousands of quotes would otherwise cost
/// thousands of full passes over its states.
#[cfg(feature = "transformer")]
pub struct WindowFeatures<'a> {
    states: &'a crate::encoder::TokenStates,
    sentence: Vec<f32>,
}

#[cfg(feature = "transformer")]
impl<'a> WindowFeatures<'a> {
    pub fn new(states: &'a crate::encoder::TokenStates) -> Self {
        let sentence = states
            .mean_of(&word_tokens(&states.offsets))
            .unwrap_or_else(|| vec![0.0; states.dim]);
        WindowFeatures { states, sentence }
    }

    /// The mean states of the target's [`pooling_groups`], side by side.
    pub fn target(&self, target: &Range<usize>) -> Vec<f32> {
        let mut features = Vec::with_capacity(3 * self.states.dim);
        for group in target_groups(&self.states.offsets, target) {
            // An empty group falls back to the sentence, as in `pooling_groups`.
            match self.states.mean_of(&group) {
                Some(mean) => features.extend(mean),
                None => features.extend_from_slice(&self.sentence),
            }
        }
        features.extend_from_slice(&self.sentence);
        features
    }
}

/// The classifier head: standardised features, one hidden ReLU layer, softmax over the three
/// labels, divided by a temperature fitted for calibration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StanceHead {
    pub format: String,
    pub version: u32,
    /// What the head was trained on, and the command that rebuilds it.
    pub provenance: String,
    /// The pooled groups of encoder states the head reads, side by side.
    pub features: Vec<String>,
    pub encoder: String,
    pub feature_mean: Vec<f32>,
    pub feature_scale: Vec<f32>,
    /// `hidden × features`, row-major.
    pub hidden_weights: Vec<f32>,
    pub hidden_bias: Vec<f32>,
    /// `3 × hidden`, row-major.
    pub output_weights: Vec<f32>,
    pub output_bias: Vec<f32>,
    pub temperature: f32,
    /// Fine-tuned bias terms of the encoder (BitFit), by weight name; they replace the
    /// pretrained ones when the stance model loads. Empty for a head over the frozen encoder.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub encoder_biases: std::collections::BTreeMap<String, Vec<f32>>,
    /// The head reads the states after this many encoder layers; `None` means after the last.
    /// Fewer layers cost proportionally less time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoder_layers: Option<usize>,
    /// SHA-256 of the transformer tagger whose fine-tuned states the head reads, where it was
    /// trained on them (the default mode then encodes each text once, in the tagger); `None`
    /// for a head over the plain encoder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tagger_digest: Option<String>,
}

const SHIPPED_HEAD: &str = include_str!("../models/stance-head.json");
#[cfg(feature = "transformer")]
const SHIPPED_TAGGER_HEAD: &str = include_str!("../models/stance-head-tagger.json");

/// The head's features: the mean states of the groups of [`pooling_groups`], side by side.
pub const STANCE_FEATURES: [&str; 3] = ["target_mean", "context_mean", "sentence_mean"];

impl ModelFile for StanceHead {
    const FORMAT: &'static str = "whosaid-stance-head";
    const VERSION: u32 = 1;

    fn expected_features() -> Vec<String> {
        STANCE_FEATURES
            .iter()
            .map(|name| name.to_string())
            .collect()
    }
    crate::model_file::header_fields!();
    fn validate(&self) -> std::result::Result<(), String> {
        let features = self.feature_mean.len();
        let hidden = self.hidden_bias.len();
        let consistent = features > 0
            && hidden > 0
            && self.feature_scale.len() == features
            && self.hidden_weights.len() == hidden * features
            && self.output_weights.len() == 3 * hidden
            && self.output_bias.len() == 3
            && self.temperature > 0.0;
        consistent
            .then_some(())
            .ok_or_else(|| "the stance head's weights do not have consistent shapes".into())
    }
}

impl StanceHead {
    /// The head in `models/stance-head.json`, built into the binary.
    pub fn shipped() -> Result<Self> {
        model_file::parse(SHIPPED_HEAD, Path::new("models/stance-head.json"))
    }

    /// The head in `models/stance-head-tagger.json`, built into the binary: it reads the
    /// built-in transformer tagger's states.
    #[cfg(feature = "transformer")]
    pub fn shipped_for_tagger() -> Result<Self> {
        model_file::parse(
            SHIPPED_TAGGER_HEAD,
            Path::new("models/stance-head-tagger.json"),
        )
    }

    pub fn load(path: &Path) -> Result<Self> {
        model_file::load(path)
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        model_file::save(self, path, false)
    }

    pub fn feature_count(&self) -> usize {
        self.feature_mean.len()
    }

    /// Scores before the softmax, at temperature 1.
    pub fn logits(&self, features: &[f32]) -> [f32; 3] {
        let standardised: Vec<f32> = features
            .iter()
            .zip(&self.feature_mean)
            .zip(&self.feature_scale)
            .map(|((value, mean), scale)| (value - mean) / scale)
            .collect();
        let count = self.feature_count();
        let hidden: Vec<f32> = self
            .hidden_bias
            .iter()
            .enumerate()
            .map(|(unit, bias)| {
                let row = &self.hidden_weights[unit * count..(unit + 1) * count];
                (dot(row, &standardised) + bias).max(0.0)
            })
            .collect();
        let width = hidden.len();
        let mut logits = [0f32; 3];
        for (label, logit) in logits.iter_mut().enumerate() {
            let row = &self.output_weights[label * width..(label + 1) * width];
            *logit =
                row.iter().zip(&hidden).map(|(w, h)| w * h).sum::<f32>() + self.output_bias[label];
        }
        logits
    }

    /// Calibrated probabilities of [`StanceLabel::ALL`].
    pub fn probabilities(&self, features: &[f32]) -> [f64; 3] {
        softmax(self.logits(features), self.temperature)
    }
}

/// The dot product of two equally long vectors, summed in eight lanes so that the compiler can
/// use SIMD: the head runs once per target, and a text may hold thousands of targets.
fn dot(left: &[f32], right: &[f32]) -> f32 {
    const LANES: usize = 8;
    let mut lanes = [0f32; LANES];
    let left_chunks = left.chunks_exact(LANES);
    let right_chunks = right.chunks_exact(LANES);
    let tail: f32 = left_chunks
        .remainder()
        .iter()
        .zip(right_chunks.remainder())
        .map(|(a, b)| a * b)
        .sum();
    for (a, b) in left_chunks.zip(right_chunks) {
        for lane in 0..LANES {
            lanes[lane] += a[lane] * b[lane];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// The softmax of `logits / temperature`.
pub fn softmax(logits: [f32; 3], temperature: f32) -> [f64; 3] {
    let scaled = logits.map(|logit| f64::from(logit) / f64::from(temperature));
    let max = scaled.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let exp = scaled.map(|value| (value - max).exp());
    let total: f64 = exp.iter().sum();
    exp.map(|value| value / total)
}

/// A text and the byte ranges, within it, of the targets to score.
#[derive(Debug, Clone)]
pub struct TargetedText<'a> {
    pub text: &'a str,
    pub targets: Vec<Range<usize>>,
}

/// How to build a [`StanceModel`].
#[derive(Debug, Clone, Default)]
pub struct StanceConfig {
    #[cfg(feature = "transformer")]
    pub encoder: crate::encoder::EncoderConfig,
    /// A head to use instead of the shipped one.
    pub head: Option<PathBuf>,
    /// Copies of the encoder that run side by side, one thread each (0 counts as 1).
    pub encoder_threads: usize,
    /// The default mode's transformer tagger. Its shipped head reads the tagger's states, and
    /// so does any head trained on them (`whosaid train stance --tagger-model`); `None` for
    /// the plain encoder's head.
    #[cfg(feature = "transformer")]
    pub tagger: Option<crate::tagger::transformer::TransformerTaggerConfig>,
}

#[cfg(feature = "transformer")]
impl StanceConfig {
    /// The head this configuration names, or the shipped one for its encoder.
    pub fn load_head(&self) -> Result<StanceHead> {
        match (&self.head, &self.tagger) {
            (Some(path), _) => StanceHead::load(path),
            (None, Some(_)) => StanceHead::shipped_for_tagger(),
            (None, None) => StanceHead::shipped(),
        }
    }

    fn head_name(&self) -> PathBuf {
        match (&self.head, &self.tagger) {
            (Some(path), _) => path.clone(),
            (None, Some(_)) => "models/stance-head-tagger.json".into(),
            (None, None) => "models/stance-head.json".into(),
        }
    }

    /// Checks that a head reads the states of the tagger it will be given (`tagger_digest`:
    /// the SHA-256 of the pipeline's tagger, `None` without one).
    pub fn check_head(&self, head: &StanceHead, tagger_digest: Option<&str>) -> Result<()> {
        let problem = match (&head.tagger_digest, tagger_digest) {
            (Some(wanted), Some(have)) if wanted != have => format!(
                "the head reads the states of another transformer tagger (SHA-256 {wanted}, here {have}); train one on this tagger with whosaid train stance --tagger-model"
            ),
            (Some(_), None) => {
                "the head reads a transformer tagger's states, and this run has no transformer tagger".to_string()
            }
            _ => return Ok(()),
        };
        Err(crate::error::Error::Model {
            path: self.head_name(),
            message: problem,
        })
    }
}

/// The encoder and the head together.
#[cfg(feature = "transformer")]
pub struct StanceModel {
    encoders: crate::encoder::EncoderPool,
    head: StanceHead,
}

#[cfg(feature = "transformer")]
impl StanceModel {
    /// The head and the encoder it reads: the plain encoder, or for a head trained on a
    /// transformer tagger's states, the tagger's fine-tuned layers (to encode texts alone, as
    /// evaluation does; the pipeline reads the tagger's own pass instead).
    pub fn new(config: StanceConfig) -> Result<Self> {
        let head = config.load_head()?;
        StanceModel::with_head(config, head)
    }

    /// [`StanceModel::new`] with the head already loaded ([`StanceConfig::load_head`]).
    pub fn with_head(config: StanceConfig, head: StanceHead) -> Result<Self> {
        let mut encoder_config = config.encoder.clone();
        encoder_config.layers = head.encoder_layers;
        let encoders = match (&head.tagger_digest, &config.tagger) {
            (Some(_), Some(tagger)) => {
                let file = crate::tagger::transformer::TaggerFile::read(tagger.weights.as_deref())?;
                config.check_head(&head, Some(&file.digest()))?;
                encoder_config.model_dir = tagger.encoder_dir.clone();
                let layers = file.header.settings.layers;
                encoder_config.layers =
                    Some(head.encoder_layers.map_or(layers, |read| read.min(layers)));
                crate::encoder::EncoderPool::new(
                    encoder_config,
                    config.encoder_threads,
                    |encoder| file.load_into(encoder),
                )?
            }
            (Some(_), None) => {
                config.check_head(&head, None)?;
                return Err(crate::error::Error::Internal(
                    "a head over a tagger's states passed the check without a tagger".into(),
                ));
            }
            (None, _) => crate::encoder::EncoderPool::new(
                encoder_config,
                config.encoder_threads,
                |encoder| encoder.override_weights(&head.encoder_biases),
            )?,
        };
        let dim = encoders.first().dim();
        if head.feature_count() != 3 * dim {
            return Err(crate::error::Error::Model {
                path: config
                    .head
                    .unwrap_or_else(|| "models/stance-head.json".into()),
                message: format!(
                    "the head expects {} features, the encoder gives {}",
                    head.feature_count(),
                    3 * dim
                ),
            });
        }
        Ok(StanceModel { encoders, head })
    }

    /// The first of the encoder's copies.
    pub fn encoder(&self) -> std::sync::MutexGuard<'_, crate::encoder::Encoder> {
        self.encoders.first()
    }

    pub fn head(&self) -> &StanceHead {
        &self.head
    }

    /// The tone of each whole text.
    pub fn predict(&self, texts: &[&str]) -> Result<Vec<StanceScore>> {
        let inputs: Vec<TargetedText> = texts
            .iter()
            .map(|text| TargetedText {
                text,
                targets: vec![Range {
                    start: 0,
                    end: text.len(),
                }],
            })
            .collect();
        Ok(self
            .predict_targets(&inputs)?
            .into_iter()
            .map(|mut scores| scores.remove(0))
            .collect())
    }

    /// The stance of each text toward each of its targets. Every text is encoded once, however
    /// many targets it has.
    pub fn predict_targets(&self, inputs: &[TargetedText]) -> Result<Vec<Vec<StanceScore>>> {
        Ok(self
            .predict_probabilities(inputs)?
            .into_iter()
            .map(|targets| {
                targets
                    .into_iter()
                    .map(StanceScore::from_probabilities)
                    .collect()
            })
            .collect())
    }

    /// The probabilities of [`StanceLabel::ALL`] for each target of each text.
    pub fn predict_probabilities(&self, inputs: &[TargetedText]) -> Result<Vec<Vec<[f64; 3]>>> {
        // Quotes that share a sentence share its window: encode each distinct text once.
        let mut slot_of: std::collections::HashMap<&str, usize> = Default::default();
        let mut texts: Vec<&str> = Vec::new();
        let slots: Vec<usize> = inputs
            .iter()
            .map(|input| {
                *slot_of.entry(input.text).or_insert_with(|| {
                    texts.push(input.text);
                    texts.len() - 1
                })
            })
            .collect();
        let mut inputs_of_slot: Vec<Vec<usize>> = vec![Vec::new(); texts.len()];
        for (input, &slot) in slots.iter().enumerate() {
            inputs_of_slot[slot].push(input);
        }
        // Pooled per batch, so that a chunk's token states are never all held at once.
        let per_slot = self.encoders.encode_map(&texts, |slot, states| {
            let window = WindowFeatures::new(&states);
            inputs_of_slot[slot]
                .iter()
                .map(|&input| {
                    inputs[input]
                        .targets
                        .iter()
                        .map(|target| self.head.probabilities(&window.target(target)))
                        .collect::<Vec<[f64; 3]>>()
                })
                .collect::<Vec<_>>()
        })?;
        let mut probabilities: Vec<Vec<[f64; 3]>> = vec![Vec::new(); inputs.len()];
        for (slot, scored) in per_slot.into_iter().enumerate() {
            for (&input, targets) in inputs_of_slot[slot].iter().zip(scored) {
                probabilities[input] = targets;
            }
        }
        Ok(probabilities)
    }
}

/// Bytes of context taken on each side of a quote, at most, to find its sentence bounds.
const WINDOW_REACH: usize = 400;

/// The original-text span of each sentence of an analysed document, in order.
pub fn sentence_spans(document: &Document) -> Vec<Span> {
    document
        .segmented
        .sentences
        .iter()
        .map(|sentence| document.span(sentence.start, sentence.end))
        .collect()
}

/// The text a quote's stance is read from, since the stance model learned from whole news
/// sentences: the segmenter's sentences (`sentences`, spans of `text` in order) that hold the
/// quote's `content`.
///
/// A sentence that starts or ends more than `WINDOW_REACH` bytes from the content is cut at a
/// multiple of `WINDOW_REACH` instead, so that the many quotes of one long unpunctuated
/// sentence share a few windows: the encoder's work then grows with the text, not with the
/// number of quotes in it.
pub fn quote_window(text: &str, sentences: &[Span], content: Span) -> Span {
    let first = sentences.partition_point(|sentence| sentence.end <= content.start);
    let after_last = sentences.partition_point(|sentence| sentence.start < content.end);
    let (mut start, mut end) = if first < after_last {
        (sentences[first].start, sentences[after_last - 1].end)
    } else {
        (content.start, content.end)
    };
    if start + WINDOW_REACH < content.start {
        let floor = content.start - WINDOW_REACH;
        start = snap_to_char(
            text,
            floor.div_ceil(WINDOW_REACH) * WINDOW_REACH,
            Direction::Forward,
        );
    }
    if end > content.end + WINDOW_REACH {
        end = snap_to_char(
            text,
            (content.end + WINDOW_REACH) / WINDOW_REACH * WINDOW_REACH,
            Direction::Backward,
        );
    }
    Span::new(start.min(content.start), end.max(content.end))
}

/// How many bytes of windows, per byte of text, the quotes of a document may have the encoder
/// read before they share blocks ([`block_window`]). No PolNeAR document reaches it: the
/// windows of news add up to about two thirds of its text.
const WINDOW_AMPLIFICATION: usize = 1;

/// The fixed block of `2 × WINDOW_REACH` bytes that the content starts in.
fn block_window(text: &str, content: Span) -> Span {
    let block = 2 * WINDOW_REACH;
    let grid = content.start / block * block;
    let start = snap_to_char(text, grid, Direction::Backward);
    let end = snap_to_char(text, grid + block, Direction::Forward);
    Span::new(start.min(content.start), end.max(content.start))
}

#[derive(Clone, Copy)]
enum Direction {
    Forward,
    Backward,
}

/// `at`, or the nearest character boundary from it in `direction`.
fn snap_to_char(text: &str, mut at: usize, direction: Direction) -> usize {
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        match direction {
            Direction::Forward => at += 1,
            Direction::Backward => at -= 1,
        }
    }
    at
}

/// What the model reads for a quote's tone: the sentences around the quote (as the segmenter
/// splits `text`), with the quote's content as the target.
pub fn quote_target(text: &str, content: Range<usize>) -> TargetedText<'_> {
    let mut document = Document::new("quote", text);
    document.normalised = crate::normalise::normalise(text);
    document.segmented = crate::segment::segment(&document.normalised.text);
    let window = quote_window(
        text,
        &sentence_spans(&document),
        Span::new(content.start, content.end),
    );
    TargetedText {
        text: &text[window.range()],
        targets: vec![Range {
            start: content.start - window.start,
            end: content.end - window.start,
        }],
    }
}

/// The stance inputs of every attribution of a document: the window around its content, the
/// content as the target of its tone, and the first name-mention of each other listed entity
/// inside the content (the speaker left out).
pub fn stance_inputs(document: &Document) -> Vec<StanceInput> {
    unbounded(stance_inputs_checked(document, &Unbounded))
}

/// [`stance_inputs`], calling `check` once an attribution.
pub fn stance_inputs_checked<C: Check>(
    document: &Document,
    check: &C,
) -> Result<Vec<StanceInput>, C::Stop> {
    let text = &document.text;
    let ids = document.entity_ids();
    // (position of the mention's span, entity), by position, so that each quote finds the
    // name-mentions inside it by binary search.
    let mut named: Vec<(Span, usize)> = Vec::new();
    for entity in document.listed_entities() {
        for &mention in &document.speakers.entities[entity].mentions {
            let data = &document.speakers.mentions[mention];
            if data.kind == MentionKind::Name {
                named.push((document.span(data.start, data.end), entity));
            }
        }
    }
    named.sort_by_key(|(span, _)| span.start);
    let sentences = sentence_spans(document);
    let mut inputs = Vec::with_capacity(document.attributions.len());
    // Quotes packed closer than their windows' reach (thousands in a hundred kilobytes) would
    // have the encoder read the same text over and over. Where their windows add up to more
    // than the text, each quote reads the fixed block its content starts in instead, which the
    // quotes there share, so that the encoder reads each byte once.
    let mut windows = Vec::with_capacity(document.attributions.len());
    let mut window_bytes = 0usize;
    for attribution in &document.attributions {
        check.check()?;
        let content = document.span(attribution.start, attribution.end);
        let window = quote_window(text, &sentences, content);
        if windows.last() != Some(&window) {
            window_bytes += window.end - window.start;
        }
        windows.push(window);
    }
    let dense = window_bytes > WINDOW_AMPLIFICATION * (text.len() + 4 * WINDOW_REACH);
    for (attribution, window) in document.attributions.iter().zip(windows) {
        check.check()?;
        let content = document.span(attribution.start, attribution.end);
        let window = if dense {
            block_window(text, content)
        } else {
            window
        };
        // A block may end inside a long content: its tone is read from the part inside.
        let mut targets = vec![Span::new(content.start, content.end.min(window.end))];
        let mut entities: Vec<usize> = Vec::new();
        let speaker = attribution.entity.filter(|&entity| ids[entity].is_some());
        let first = named.partition_point(|(span, _)| span.start < content.start);
        let inside = named[first..]
            .iter()
            .take_while(|(span, _)| span.start < content.end)
            .filter(|&&(span, entity)| {
                Some(entity) != speaker
                    && span.end <= content.end.min(window.end)
                    && !span.is_empty()
            });
        for &(span, entity) in inside {
            if entities.contains(&entity) {
                continue;
            }
            targets.push(span);
            entities.push(entity);
        }
        inputs.push(StanceInput {
            window,
            targets,
            entities,
        });
    }
    Ok(inputs)
}

/// The stage before the encoder pass in the default mode: what the stance model is to read.
pub struct StanceInputStage;

impl DocumentStage for StanceInputStage {
    fn name(&self) -> &'static str {
        "stance inputs"
    }

    fn run(&self, document: &mut Document, clock: &Clock) -> std::result::Result<(), Halt> {
        document.stance_inputs = stance_inputs_checked(document, clock)?;
        Ok(())
    }
}

/// The stance stage: it reads the encoder pass's states of each attribution's window and gives
/// the quote's tone and its stance toward the entities it names.
#[cfg(feature = "transformer")]
pub struct StanceReader {
    head: StanceHead,
}

#[cfg(feature = "transformer")]
impl crate::encoder::StateReader for StanceReader {
    /// The probabilities of each target of one attribution.
    type Reading = Vec<[f64; 3]>;

    fn name(&self) -> &'static str {
        "stance"
    }

    fn windows(&self, document: &Document) -> Vec<Span> {
        document
            .stance_inputs
            .iter()
            .map(|input| input.window)
            .collect()
    }

    fn read(
        &self,
        owners: &[(&Document, usize)],
        states: &crate::encoder::TokenStates,
    ) -> Vec<Self::Reading> {
        // One pooling of the window serves every attribution that reads it.
        let window = WindowFeatures::new(states);
        owners
            .iter()
            .map(|&(document, index)| {
                read_targets(&self.head, &window, &document.stance_inputs[index])
            })
            .collect()
    }

    fn store(&self, document: &mut Document, readings: Vec<Self::Reading>) {
        store_stance(document, readings);
    }
}

/// The probabilities of each target of one attribution, from the pooled states of its window.
#[cfg(feature = "transformer")]
fn read_targets(head: &StanceHead, window: &WindowFeatures, input: &StanceInput) -> Vec<[f64; 3]> {
    input
        .targets
        .iter()
        .map(|target| {
            let relative = target.start.saturating_sub(input.window.start)
                ..target.end.saturating_sub(input.window.start);
            head.probabilities(&window.target(&relative))
        })
        .collect()
}

/// Stores each attribution's readings (the tone's, then each named entity's) as the stance
/// layer.
#[cfg(feature = "transformer")]
fn store_stance(document: &mut Document, readings: Vec<Vec<[f64; 3]>>) {
    let stance = document
        .stance_inputs
        .iter()
        .zip(readings)
        .map(|(input, probabilities)| {
            let mut scores = probabilities
                .into_iter()
                .map(StanceScore::from_probabilities);
            let tone = scores.next();
            QuoteStance {
                tone,
                targets: input
                    .entities
                    .iter()
                    .zip(input.targets.iter().skip(1))
                    .zip(scores)
                    .map(|((&entity, &mention), score)| TargetStance {
                        entity,
                        mention,
                        score,
                    })
                    .collect(),
            }
        })
        .collect();
    document.stance = Some(stance);
}

/// The stance stage of the default mode: it reads the transformer tagger's states of each
/// attribution's window, which the tagger kept ([`Document::token_states`]), so that each text
/// is encoded once; then it drops them.
#[cfg(feature = "transformer")]
pub struct TaggerStanceStage {
    head: StanceHead,
}

#[cfg(feature = "transformer")]
impl DocumentStage for TaggerStanceStage {
    fn name(&self) -> &'static str {
        "stance from the tagger's states"
    }

    fn run(&self, document: &mut Document, clock: &Clock) -> std::result::Result<(), Halt> {
        let Some(states) = document.token_states.take() else {
            // The tagger kept no states (a document it did not reach): no stance is known.
            document.stance = Some(vec![QuoteStance::default(); document.stance_inputs.len()]);
            return Ok(());
        };
        let mut readings = Vec::with_capacity(document.stance_inputs.len());
        let mut pooled: Option<(Span, crate::encoder::TokenStates)> = None;
        for input in &document.stance_inputs {
            clock.check()?;
            if pooled
                .as_ref()
                .is_none_or(|(window, _)| *window != input.window)
            {
                pooled = Some((input.window, window_states(&states, input.window)));
            }
            let window_states = &pooled.as_ref().expect("set just above").1;
            readings.push(read_targets(
                &self.head,
                &WindowFeatures::new(window_states),
                input,
            ));
        }
        store_stance(document, readings);
        Ok(())
    }
}

/// The states of the pieces inside `window`, with offsets relative to its start, as an encoder
/// gives them for the window's text alone (without the special tokens, which pooling skips).
pub fn window_states(
    states: &crate::document::states::TokenStates,
    window: Span,
) -> crate::document::states::TokenStates {
    let starts_before = |range: &Option<Range<usize>>| {
        range
            .as_ref()
            .is_none_or(|range| range.start < window.start)
    };
    let first = states.offsets.partition_point(starts_before);
    let mut offsets = Vec::new();
    let mut values = Vec::new();
    for piece in first..states.len() {
        let Some(range) = &states.offsets[piece] else {
            continue;
        };
        if range.start >= window.end {
            break;
        }
        if range.end > window.end {
            continue;
        }
        offsets.push(Some(range.start - window.start..range.end - window.start));
        values.extend_from_slice(states.row(piece));
    }
    crate::document::states::TokenStates {
        offsets,
        states: values,
        dim: states.dim,
    }
}

/// The stance stages after attribution: the stance inputs, then the stance head reading the
/// tagger's kept states (a head trained on them), or an encoder pass of its own. `head` is the
/// one `config` names ([`StanceConfig::load_head`]); `tagger_digest` the pipeline's tagger's.
#[cfg(feature = "transformer")]
pub fn stance_stages(
    config: StanceConfig,
    head: StanceHead,
    tagger_digest: Option<&str>,
) -> Result<Vec<crate::stage::Stage>> {
    use crate::stage::Stage;
    config.check_head(&head, tagger_digest)?;
    if head.tagger_digest.is_some() {
        return Ok(vec![
            Stage::Document(Box::new(StanceInputStage)),
            Stage::Document(Box::new(TaggerStanceStage { head })),
        ]);
    }
    let StanceModel { encoders, head } = StanceModel::with_head(config, head)?;
    Ok(vec![
        Stage::Document(Box::new(StanceInputStage)),
        Stage::Batch(Box::new(crate::encoder::EncoderStage::new(
            encoders,
            StanceReader { head },
        ))),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs_of(text: &str) -> Vec<StanceInput> {
        let pipeline = crate::pipeline::Pipeline::new(
            crate::pipeline::PipelineConfig::default().with_budget(None),
        )
        .expect("the shipped models load");
        stance_inputs(&pipeline.analyse("test", text))
    }

    #[test]
    fn packed_quotes_share_blocks_and_sparse_ones_keep_their_sentences() {
        // One long sentence of quotes: each quote's own window would run 400 bytes each way,
        // and together they would cover the text many times over.
        let mut packed = String::new();
        for number in 0..300 {
            packed.push_str(&format!(
                "Speaker {number} said: “we are close to a deal {number},” and "
            ));
        }
        let inputs = inputs_of(&packed);
        assert!(inputs.len() > 100, "{} quotes", inputs.len());
        for input in &inputs {
            // A block starts on the grid, or just before it where a character straddles it.
            let block = 2 * WINDOW_REACH;
            let grid = (input.window.start + 3) / block * block;
            assert!(grid >= input.window.start, "{input:?}");
        }
        let mut windows: Vec<(usize, usize)> = inputs
            .iter()
            .map(|input| (input.window.start, input.window.end))
            .collect();
        for input in &inputs {
            // A block, widened to character boundaries at both ends.
            assert!(input.window.end - input.window.start <= 2 * WINDOW_REACH + 6);
            assert!(input.window.contains(input.targets[0]), "{input:?}");
        }
        windows.sort_unstable();
        windows.dedup();
        let window_bytes: usize = windows.iter().map(|(start, end)| end - start).sum();
        assert!(
            window_bytes <= packed.len() + 2 * WINDOW_REACH,
            "{window_bytes}"
        );

        let sparse =
            "The talks went on for ten hours in Geneva on Friday. “We are close,” Kerry said. \
                      The ministers did not meet again.";
        let inputs = inputs_of(sparse);
        assert_eq!(inputs.len(), 1);
        let window = &sparse[inputs[0].window.range()];
        assert_eq!(window, "“We are close,” Kerry said.");
    }

    #[test]
    fn polarity_maps_to_labels() {
        assert_eq!(StanceLabel::from_polarity(2.0), Some(StanceLabel::Negative));
        assert_eq!(StanceLabel::from_polarity(4.0), Some(StanceLabel::Neutral));
        assert_eq!(StanceLabel::from_polarity(6.0), Some(StanceLabel::Positive));
        assert_eq!(StanceLabel::from_polarity(5.0), None);
    }

    #[test]
    fn softmax_is_a_distribution_and_temperature_flattens_it() {
        let sharp = softmax([2.0, 0.0, -1.0], 1.0);
        let flat = softmax([2.0, 0.0, -1.0], 3.0);
        assert!((sharp.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!((flat.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(sharp[0] > flat[0] && flat[0] > 1.0 / 3.0);
        let extreme = softmax([1e30, -1e30, 0.0], 1.0);
        assert!(extreme.iter().all(|p| p.is_finite()));
    }

    #[test]
    fn the_shipped_head_loads_and_gives_probabilities() {
        let head = StanceHead::shipped().expect("the shipped head parses");
        let features = vec![0.1; head.feature_count()];
        let probabilities = head.probabilities(&features);
        assert!(probabilities.iter().all(|p| (0.0..=1.0).contains(p)));
        assert!((probabilities.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    }

    #[test]
    fn the_window_is_the_sentence_around_the_quote() {
        let window_of =
            |text: &'static str, start: usize, end: usize| quote_target(text, start..end).text;
        let text = "Talks went on. “We are close,” U.S. Secretary John Kerry said. Then they left.";
        let start = text.find('“').unwrap();
        let end = text.find(",”").unwrap() + ",”".len();
        assert_eq!(
            window_of(text, start, end),
            "“We are close,” U.S. Secretary John Kerry said."
        );
        // The normaliser reads the glued, wrongly turned mark as an opening one.
        let text = "He said.”We agree.”Yet, nothing changed.";
        let start = text.find('”').unwrap();
        let end = text.find("Yet").unwrap();
        assert_eq!(window_of(text, start, end), "”We agree.”");
        let text = "no end in sight\nquote here and on";
        let start = text.find("quote").unwrap();
        assert_eq!(window_of(text, start, start + 5), "quote here and on");
        let text = "I’ll go. “Fine,” he’s said… and then?”";
        for start in 0..text.len() {
            for end in start..=text.len() {
                if text.is_char_boundary(start) && text.is_char_boundary(end) {
                    let target = quote_target(text, start..end);
                    assert!(target.text.contains(&text[start..end]));
                }
            }
        }
    }

    #[test]
    fn a_window_of_document_states_is_the_pieces_inside_it_rebased() {
        use crate::document::states::TokenStates;
        // Pieces of "Kerry said we are close." with a 2-wide state that encodes each piece's
        // start, so that the rows show which pieces were kept.
        let ranges = [0..5, 6..10, 11..13, 14..17, 18..23, 23..24];
        let states = TokenStates {
            offsets: ranges.iter().cloned().map(Some).collect(),
            states: ranges
                .iter()
                .flat_map(|range| [range.start as f32, 1.0])
                .collect(),
            dim: 2,
        };
        let window = window_states(&states, Span::new(11, 23));
        assert_eq!(
            window.offsets,
            vec![Some(0..2), Some(3..6), Some(7..12)],
            "the pieces wholly inside, offsets from the window's start"
        );
        assert_eq!(window.states, vec![11.0, 1.0, 14.0, 1.0, 18.0, 1.0]);
        // A piece that straddles the edge is left out; an empty window has no pieces.
        assert_eq!(window_states(&states, Span::new(7, 12)).len(), 0);
        assert!(window_states(&states, Span::new(30, 30)).is_empty());
    }

    #[test]
    fn quotes_in_one_long_sentence_share_a_few_bounded_windows() {
        let text = "kerry said we are close ".repeat(1000);
        let sentences = [Span::new(0, text.len())];
        let mut windows = std::collections::HashSet::new();
        for start in (0..text.len() - 10).step_by(24) {
            let window = quote_window(&text, &sentences, Span::new(start, start + 10));
            assert!(window.start <= start && start + 10 <= window.end);
            assert!(window.end - window.start <= 2 * WINDOW_REACH + 10);
            windows.insert(window);
        }
        assert!(
            windows.len() <= 2 * text.len() / WINDOW_REACH + 2,
            "{}",
            windows.len()
        );
    }

    #[test]
    fn stance_inputs_target_the_content_and_other_entities_named_in_it() {
        let text = "Kerry said the talks 😀 went well. Lavrov said the talks went well too. \
                    President Obama said Kerry and Lavrov agree on the plan.";
        let pipeline = crate::pipeline::Pipeline::new(Default::default()).unwrap();
        let document = pipeline.analyse("d", text);
        let inputs = stance_inputs(&document);
        assert_eq!(inputs.len(), 3);
        let obama = &inputs[2];
        assert_eq!(
            &text[obama.window.range()],
            "President Obama said Kerry and Lavrov agree on the plan."
        );
        assert_eq!(obama.entities.len() + 1, obama.targets.len());
        let targets: Vec<&str> = obama
            .targets
            .iter()
            .map(|span| &text[span.range()])
            .collect();
        assert_eq!(
            targets,
            ["Kerry and Lavrov agree on the plan", "Kerry", "Lavrov"]
        );
        let entities: Vec<&str> = obama
            .entities
            .iter()
            .map(|&entity| document.speakers.entities[entity].name.as_str())
            .collect();
        assert_eq!(entities, ["Kerry", "Lavrov"]);
    }

    #[test]
    fn an_inconsistent_head_is_an_error() {
        let mut head = StanceHead::shipped().expect("the shipped head parses");
        head.output_bias.pop();
        let text = serde_json::to_string(&head).unwrap();
        let error = model_file::parse::<StanceHead>(&text, Path::new("bad.json")).unwrap_err();
        assert!(error.to_string().contains("consistent shapes"), "{error}");
    }
}
