//! The default mode's span tagger: all-MiniLM-L6-v2, fine-tuned to tag every token B, I or O in
//! the three channels (content, source, cue), with a linear head that also reads the rule
//! stages' evidence for the token ([`super::features::token_evidence`]).
//!
//! A text longer than one window is read in windows of at most [`TaggerSettings::window`]
//! word pieces (special tokens included) that overlap by [`TaggerSettings::overlap`]; a piece's
//! scores come from the window where it lies farthest from an edge, so every piece but those
//! near the text's own ends sees at least half an overlap of context on each side. A whisaid
//! token is scored at its first word piece, and each channel is decoded under the BIO
//! constraint paragraph by paragraph, as the linear tagger does; the spans then index the
//! cleaned view's tokens, which the pipeline maps back to the original text.
//!
//! The model file is a safetensors file holding, in fp16, only the weights that fine-tuning
//! changed (the transformer layers and the head); the embeddings are read from the encoder
//! that `scripts/setup` installs. Its metadata holds a header ([`TaggerHeader`]) that the
//! common model-file checks read: format, version, provenance and evidence names.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use rust_bert::bert::{BertConfig, BertEmbeddings, BertModel};
use serde::{Deserialize, Serialize};
use tch::{nn, nn::Module, Device, Kind, Tensor};
use tokenizers::Tokenizer;

use super::bert::InferenceBert;
use super::features::{token_evidence, Layers, EVIDENCE};
use super::{
    channel_transition_table, segments, spans_of, viterbi, Role, Tag, TaggedSpan, ROW, TAGS,
    TRANSITIONS,
};
use crate::encoder::Precision;
use crate::error::{Error, Result};
use crate::model_file::ModelFile;
use crate::segment::Segmented;

/// The safetensors metadata key that holds the header.
const HEADER_KEY: &str = "whosaid";

/// Where the head's weights live in the variable store.
const HEAD_STATES: &str = "tagger_head_states";
const HEAD_EVIDENCE: &str = "tagger_head_evidence";

/// What a tagger file says about itself and how it reads text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaggerHeader {
    pub format: String,
    pub version: u32,
    pub provenance: String,
    /// The evidence columns this build computes ([`EVIDENCE`]).
    pub features: Vec<String>,
    pub settings: TaggerSettings,
}

/// The shape of a tagger: what training chose and inference must repeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaggerSettings {
    /// Transformer layers kept of the encoder's six.
    pub layers: usize,
    /// Word pieces per window, `[CLS]` and `[SEP]` included; at most 512.
    pub window: usize,
    /// Word pieces that neighbouring windows share.
    pub overlap: usize,
    /// Whether the head reads the rule stages' evidence.
    pub evidence: bool,
    /// Whether the head also reads fast mode's linear tagger: the probability of each tag in
    /// each channel, so that the transformer learns where the linear tagger goes wrong.
    #[serde(default)]
    pub stacked: bool,
}

impl Default for TaggerSettings {
    fn default() -> Self {
        TaggerSettings {
            layers: 3,
            window: 512,
            overlap: 64,
            evidence: true,
            stacked: false,
        }
    }
}

impl TaggerSettings {
    /// Checks what windowing needs: room for content, and an overlap under half a window.
    pub fn validate(&self) -> std::result::Result<(), String> {
        if !(1..=6).contains(&self.layers) {
            return Err(format!("{} layers; the encoder has 1 to 6", self.layers));
        }
        if !(16..=512).contains(&self.window) {
            return Err(format!("windows of {} pieces; 16 to 512 fit", self.window));
        }
        if self.overlap * 2 > self.window - 2 {
            return Err(format!(
                "an overlap of {} in windows of {}: at most half a window",
                self.overlap, self.window
            ));
        }
        Ok(())
    }

    /// Columns of evidence per token the head reads: the rules' ([`EVIDENCE`]), then the
    /// linear tagger's tag probabilities.
    pub fn evidence_width(&self) -> usize {
        let rules = if self.evidence { EVIDENCE.len() } else { 0 };
        rules + if self.stacked { ROW } else { 0 }
    }

    /// Word pieces of text per window, the two special tokens left out.
    pub fn content_length(&self) -> usize {
        self.window - 2
    }
}

impl ModelFile for TaggerHeader {
    const FORMAT: &'static str = "whosaid-transformer-tagger";
    const VERSION: u32 = 1;

    fn expected_features() -> Vec<String> {
        EVIDENCE.iter().map(|name| name.to_string()).collect()
    }

    crate::model_file::header_fields!();

    fn validate(&self) -> std::result::Result<(), String> {
        self.settings.validate()
    }
}

/// The windows over `count` word pieces: at most `length` each, each starting `length −
/// overlap` after the one before, the last ending at the text's end. Linear in `count`.
pub fn windows(count: usize, length: usize, overlap: usize) -> Vec<Range<usize>> {
    let length = length.max(1);
    let stride = length.saturating_sub(overlap).max(1);
    let mut windows = Vec::with_capacity(count / stride + 1);
    let mut start = 0;
    loop {
        let end = (start + length).min(count);
        windows.push(start..end);
        if end >= count {
            break;
        }
        start += stride;
    }
    if count == 0 {
        windows.clear();
    }
    windows
}

/// For each word piece, the window whose nearer edge is farthest from it; ties go to the
/// earlier window. Windows come from [`windows`], so a piece lies in at most two of them.
pub fn owners(count: usize, windows: &[Range<usize>]) -> Vec<usize> {
    let mut owner = vec![0usize; count];
    let mut best: Vec<Option<usize>> = vec![None; count];
    for (index, window) in windows.iter().enumerate() {
        for piece in window.clone() {
            let margin = (piece - window.start).min(window.end - 1 - piece);
            if best[piece].is_none_or(|best| margin > best) {
                best[piece] = Some(margin);
                owner[piece] = index;
            }
        }
    }
    owner
}

/// The first word piece of each token (`None` for a token the tokenizer dropped, such as a
/// control character), given both as byte ranges of the same text, sorted by start.
pub fn first_pieces(tokens: &[Range<usize>], pieces: &[Range<usize>]) -> Vec<Option<usize>> {
    let mut first = vec![None; tokens.len()];
    let mut token = 0;
    for (index, piece) in pieces.iter().enumerate() {
        while token < tokens.len() && tokens[token].end <= piece.start {
            token += 1;
        }
        if token == tokens.len() {
            break;
        }
        if tokens[token].start < piece.end && first[token].is_none() {
            first[token] = Some(index);
        }
    }
    first
}

/// The word pieces of a text: ids and byte ranges, without special tokens.
#[derive(Debug, Clone, Default)]
pub struct WordPieces {
    pub ids: Vec<i64>,
    pub offsets: Vec<Range<usize>>,
}

/// What the tagger reads of one document: its tokens' first pieces and their evidence.
#[derive(Debug, Clone)]
pub struct TaggerInput {
    pub pieces: WordPieces,
    pub windows: Vec<Range<usize>>,
    pub first_piece: Vec<Option<usize>>,
    /// Row-major, `evidence_width` per token.
    pub evidence: Vec<f32>,
    pub evidence_width: usize,
    pub segments: Vec<Range<usize>>,
}

impl TaggerInput {
    pub fn token_count(&self) -> usize {
        self.first_piece.len()
    }
}

/// The network: the encoder's first layers, and a linear head over each piece's state plus,
/// where the settings ask, the token's evidence. The head is two linear maps whose sum is the
/// head, so that inference can score a window's states without holding them past the window.
pub struct TaggerNet {
    pub bert: BertModel<BertEmbeddings>,
    pub head_states: nn::Linear,
    pub head_evidence: Option<nn::Linear>,
}

impl TaggerNet {
    pub fn new(root: &nn::Path, bert_config: &BertConfig, settings: &TaggerSettings) -> Self {
        let bert = BertModel::<BertEmbeddings>::new_with_optional_pooler(root, bert_config, false);
        // The head learns from scratch, at its own rate: optimizer group 1.
        let head = root.set_group(1);
        let head_states = nn::linear(
            &head / HEAD_STATES,
            bert_config.hidden_size,
            ROW as i64,
            Default::default(),
        );
        let head_evidence = (settings.evidence_width() > 0).then(|| {
            nn::linear(
                &head / HEAD_EVIDENCE,
                settings.evidence_width() as i64,
                ROW as i64,
                nn::LinearConfig {
                    bias: false,
                    ..Default::default()
                },
            )
        });
        TaggerNet {
            bert,
            head_states,
            head_evidence,
        }
    }

    /// The head, over the same tensors, for inference.
    pub fn head(&self) -> TaggerHead {
        let share = |linear: &nn::Linear| nn::Linear {
            ws: linear.ws.shallow_clone(),
            bs: linear.bs.as_ref().map(Tensor::shallow_clone),
        };
        TaggerHead {
            states: share(&self.head_states),
            evidence: self.head_evidence.as_ref().map(share),
        }
    }

    /// The head's scores from the states of a batch of windows, `[windows, width, ROW]`.
    pub fn window_scores(&self, ids: &Tensor, mask: &Tensor, train: bool) -> Result<Tensor> {
        let (states, _) = self.window_states(ids, mask, train)?;
        Ok(self.head_states.forward(&states))
    }

    /// The encoder's states of a batch of windows, `[windows, width, hidden]`: after the last
    /// layer, and after each layer where the network was built to give them.
    pub fn window_states(
        &self,
        ids: &Tensor,
        mask: &Tensor,
        train: bool,
    ) -> Result<(Tensor, Option<Vec<Tensor>>)> {
        let types = ids.zeros_like();
        let output = self
            .bert
            .forward_t(
                Some(ids),
                Some(mask),
                Some(&types),
                None,
                None,
                None,
                None,
                train,
            )
            .map_err(|error| Error::Internal(format!("the tagger's encoder: {error}")))?;
        Ok((output.hidden_state, output.all_hidden_states))
    }
}

/// Builds the padded `[windows, width]` ids and mask of some windows, with `[CLS]` and `[SEP]`.
pub fn window_batch(windows: &[(&[i64], usize)], cls: i64, sep: i64) -> (Tensor, Tensor, usize) {
    let width = windows
        .iter()
        .map(|(ids, _)| ids.len() + 2)
        .max()
        .unwrap_or(2);
    let mut ids = vec![0i64; windows.len() * width];
    let mut mask = vec![0i64; windows.len() * width];
    for (row, (pieces, _)) in windows.iter().enumerate() {
        let at = row * width;
        ids[at] = cls;
        ids[at + 1..at + 1 + pieces.len()].copy_from_slice(pieces);
        ids[at + 1 + pieces.len()] = sep;
        mask[at..at + pieces.len() + 2]
            .iter_mut()
            .for_each(|m| *m = 1);
    }
    let shape = [windows.len() as i64, width as i64];
    (
        Tensor::from_slice(&ids).view(shape),
        Tensor::from_slice(&mask).view(shape),
        width,
    )
}

/// One document's word-piece states, `pieces × hidden`, row-major.
pub type PieceStates = Vec<f32>;

/// How to build a [`TransformerTagger`].
#[derive(Debug, Clone)]
pub struct TransformerTaggerConfig {
    /// The encoder `scripts/setup` installed: its embeddings, tokenizer and config.
    pub encoder_dir: PathBuf,
    /// A file of fine-tuned weights and header; `None` for the one built into whosaid.
    pub weights: Option<PathBuf>,
    pub precision: Precision,
    /// Copies of the network over one set of weights, each on a thread of its own with one
    /// libtorch thread (see [`TaggerPool`]); at least one.
    pub copies: usize,
    /// Keep each document's piece states after this many of the encoder's layers (at most all
    /// of them), for stance to read ([`crate::document::Document::token_states`]); `None`
    /// keeps none.
    pub keep_states_after: Option<usize>,
}

/// The shipped tagger, built into the binary like every other model.
const SHIPPED_TAGGER: &[u8] = include_bytes!("../../models/transformer-tagger.safetensors");
const SHIPPED_NAME: &str = "models/transformer-tagger.safetensors";

impl Default for TransformerTaggerConfig {
    fn default() -> Self {
        TransformerTaggerConfig {
            encoder_dir: crate::encoder::default_model_dir(),
            weights: None,
            precision: Precision::native(),
            copies: std::thread::available_parallelism().map_or(1, usize::from),
            keep_states_after: None,
        }
    }
}

/// The bytes of a tagger (the built-in one where `path` is `None`), and the name its errors
/// give it.
fn tagger_bytes(path: Option<&Path>) -> Result<(std::borrow::Cow<'static, [u8]>, PathBuf)> {
    match path {
        None => Ok((SHIPPED_TAGGER.into(), PathBuf::from(SHIPPED_NAME))),
        Some(path) => {
            let bytes = std::fs::read(path).map_err(|error| {
                Error::model(
                    path,
                    format!(
                        "cannot read the transformer tagger: {error}; train it with `whosaid train tagger`"
                    ),
                )
            })?;
            Ok((bytes.into(), path.to_path_buf()))
        }
    }
}

/// Reads the header in a tagger file's metadata, with the common model-file checks.
pub fn read_header(path: &Path) -> Result<TaggerHeader> {
    Ok(TaggerFile::read(Some(path))?.header)
}

/// The header in a tagger's metadata, with the common model-file checks; `path` names it in
/// errors.
pub fn parse_header(bytes: &[u8], path: &Path) -> Result<TaggerHeader> {
    let (_, metadata) = safetensors::SafeTensors::read_metadata(bytes)
        .map_err(|error| Error::model(path, format!("not a safetensors file: {error:?}")))?;
    let json = metadata
        .metadata()
        .as_ref()
        .and_then(|metadata| metadata.get(HEADER_KEY))
        .ok_or_else(|| Error::model(path, "its metadata holds no whosaid header"))?;
    crate::model_file::parse::<TaggerHeader>(json, path)
}

/// Copies the weights a tagger file holds into the variables of the same names, converting
/// their number type; returns the names of the variables it holds no weight for.
fn load_weights(store: &nn::VarStore, bytes: &[u8], path: &Path) -> Result<Vec<String>> {
    let tensors = safetensors::SafeTensors::deserialize(bytes)
        .map_err(|error| Error::model(path, format!("not a safetensors file: {error:?}")))?;
    let mut missing = Vec::new();
    for (name, variable) in store.variables() {
        let Ok(view) = tensors.tensor(&name) else {
            missing.push(name);
            continue;
        };
        let kind = match view.dtype() {
            safetensors::Dtype::F16 => Kind::Half,
            safetensors::Dtype::F32 => Kind::Float,
            other => {
                return Err(Error::model(
                    path,
                    format!("{name} is {other:?}, not f16 or f32"),
                ))
            }
        };
        let shape: Vec<i64> = view.shape().iter().map(|&size| size as i64).collect();
        if shape != variable.size() {
            return Err(Error::model(
                path,
                format!(
                    "{name} has shape {shape:?}; the tagger's is {:?}",
                    variable.size()
                ),
            ));
        }
        let weight = Tensor::f_from_data_size(view.data(), &shape, kind)
            .map_err(|error| Error::model(path, format!("{name}: {error}")))?;
        tch::no_grad(|| variable.shallow_clone().copy_(&weight));
    }
    Ok(missing)
}

/// SHA-256 of a tagger's file, in hex.
pub fn file_digest(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(bytes))
}

/// A tagger's file, read once: its bytes, the name its errors give, and its header.
pub struct TaggerFile {
    bytes: std::borrow::Cow<'static, [u8]>,
    pub name: PathBuf,
    pub header: TaggerHeader,
}

impl TaggerFile {
    /// Reads the tagger at `path` (the built-in one where `path` is `None`) and checks its
    /// header.
    pub fn read(path: Option<&Path>) -> Result<Self> {
        let (bytes, name) = tagger_bytes(path)?;
        let header = parse_header(&bytes, &name)?;
        Ok(TaggerFile {
            bytes,
            name,
            header,
        })
    }

    /// The SHA-256 of the file, in hex: what a stance head that reads its states names.
    pub fn digest(&self) -> String {
        file_digest(&self.bytes)
    }

    /// Puts the fine-tuned weights into an encoder of the tagger's layers, so that it gives the
    /// states the tagger's head reads.
    pub fn load_into(&self, encoder: &crate::encoder::Encoder) -> Result<()> {
        load_weights(encoder.store(), &self.bytes, &self.name).map(|_| ())
    }

    /// An encoder that gives the tagger's states: the tagger's layers of the encoder in
    /// `config` (or the first `config.layers` of them), with its fine-tuned weights. With all
    /// its layers, the states its head reads.
    pub fn encoder(
        &self,
        mut config: crate::encoder::EncoderConfig,
    ) -> Result<crate::encoder::Encoder> {
        let layers = self.header.settings.layers;
        config.layers = Some(config.layers.map_or(layers, |asked| asked.min(layers)));
        let encoder = crate::encoder::Encoder::new(config)?;
        self.load_into(&encoder)?;
        Ok(encoder)
    }
}

/// Reads the encoder's config, with its first `layers` layers, and its tokenizer from the
/// folder `scripts/setup` made.
pub fn encoder_parts(dir: &Path, layers: usize) -> Result<(BertConfig, Tokenizer)> {
    Ok((
        crate::encoder::read_bert_config(dir, Some(layers))?,
        crate::encoder::read_tokenizer(dir)?,
    ))
}

/// The id of a special token.
pub fn special_id(tokenizer: &Tokenizer, token: &str, dir: &Path) -> Result<i64> {
    tokenizer
        .token_to_id(token)
        .map(i64::from)
        .ok_or_else(|| Error::model(dir.join("tokenizer.json"), format!("no {token} token")))
}

/// Splits a text into word pieces; linear in its length.
pub fn word_pieces(tokenizer: &Tokenizer, text: &str, dir: &Path) -> Result<WordPieces> {
    let encoding = tokenizer
        .encode(text, false)
        .map_err(|error| Error::model(dir.join("tokenizer.json"), error))?;
    Ok(WordPieces {
        ids: encoding.get_ids().iter().map(|&id| i64::from(id)).collect(),
        offsets: encoding
            .get_offsets()
            .iter()
            .map(|&(start, end)| start..end)
            .collect(),
    })
}

/// Everything the tagger reads of an analysed document.
pub fn tagger_input(
    tokenizer: &Tokenizer,
    encoder_dir: &Path,
    settings: &TaggerSettings,
    layers: &Layers,
    linear: Option<&super::SpanModel>,
) -> Result<TaggerInput> {
    let pieces = word_pieces(tokenizer, layers.text, encoder_dir)?;
    let windows = windows(
        pieces.ids.len(),
        settings.content_length(),
        settings.overlap,
    );
    let token_ranges = token_ranges(layers.segmented);
    let first_piece = first_pieces(&token_ranges, &pieces.offsets);
    let count = token_ranges.len();
    let width = settings.evidence_width();
    let rules = settings.evidence.then(|| token_evidence(layers));
    let linear = match (settings.stacked, linear) {
        (false, _) => None,
        (true, Some(model)) => Some(linear_probabilities(model, layers)),
        (true, None) => {
            return Err(Error::Internal(
                "a stacked tagger needs the linear tagger's model".into(),
            ))
        }
    };
    let mut evidence = Vec::with_capacity(count * width);
    for token in 0..count {
        if let Some(rules) = &rules {
            evidence
                .extend_from_slice(&rules[token * EVIDENCE.len()..(token + 1) * EVIDENCE.len()]);
        }
        if let Some(linear) = &linear {
            evidence.extend_from_slice(&linear[token * ROW..(token + 1) * ROW]);
        }
    }
    Ok(TaggerInput {
        pieces,
        windows,
        first_piece,
        evidence,
        evidence_width: width,
        segments: segments(layers.segmented),
    })
}

/// The linear tagger's probability of each tag in each channel, [`ROW`] per token: its
/// emissions (O scoring zero) through a softmax per channel.
pub fn linear_probabilities(model: &super::SpanModel, layers: &Layers) -> Vec<f32> {
    let features = super::features::token_features(layers, model.table_bits());
    let mut emissions = model.emissions(&features);
    for row in emissions.chunks_exact_mut(ROW) {
        log_softmax_channels(row);
        row.iter_mut().for_each(|value| *value = value.exp());
    }
    emissions
}

/// The fine-tuned tagger, loaded.
pub struct TransformerTagger {
    pub header: TaggerHeader,
    /// SHA-256 of the tagger's file, in hex: what a stance head that reads its states names.
    pub digest: String,
    head: TaggerHead,
    /// The network's encoder for inference, over the same weights.
    encoder: InferenceBert,
    tokenizer: Tokenizer,
    config: TransformerTaggerConfig,
    /// The encoder's shape, for copies over the same weights.
    bert_config: BertConfig,
    cls: i64,
    sep: i64,
    /// The tagger's file, as errors name it.
    path: PathBuf,
    /// The network's tensors by name, which copies share (`sharing_weights`).
    variables: HashMap<String, Tensor>,
}

impl TransformerTagger {
    pub fn new(config: TransformerTaggerConfig) -> Result<Self> {
        let file = TaggerFile::read(config.weights.as_deref())?;
        let digest = file.digest();
        let settings = file.header.settings;
        let (mut bert_config, tokenizer) = encoder_parts(&config.encoder_dir, settings.layers)?;
        // An inner layer's states come only with every layer's.
        bert_config.output_hidden_states = Some(
            config
                .keep_states_after
                .is_some_and(|layer| layer < settings.layers),
        );
        let mut store = nn::VarStore::new(Device::Cpu);
        let net = TaggerNet::new(&store.root(), &bert_config, &settings);
        let base = config.encoder_dir.join("model.safetensors");
        store
            .load_partial(&base)
            .map_err(|error| Error::model(&base, error))?;
        let missing = load_weights(&store, &file.bytes, &file.name)?;
        let TaggerFile {
            name: path, header, ..
        } = file;
        if let Some(name) = missing.iter().find(|name| !name.starts_with("embeddings.")) {
            return Err(Error::model(
                &path,
                format!("holds no {name}; it does not match its own header"),
            ));
        }
        // The encoder's file may hold another number type than the tagger's.
        match config.precision {
            Precision::BFloat16 => store.bfloat16(),
            Precision::Float32 => store.float(),
        }
        // After the conversion, which gives the variables new storage. The network itself is
        // not kept: inference reads its tensors through the encoder and the head.
        drop(net);
        let variables = store.variables();
        let encoder = inference_encoder_of(&variables, &bert_config)?;
        let head = TaggerHead::from_variables(&variables)?;
        let cls = special_id(&tokenizer, "[CLS]", &config.encoder_dir)?;
        let sep = special_id(&tokenizer, "[SEP]", &config.encoder_dir)?;
        Ok(TransformerTagger {
            header,
            digest,
            head,
            encoder,
            tokenizer,
            path,
            config,
            bert_config,
            cls,
            sep,
            variables,
        })
    }

    /// Another tagger over this one's weights (the same storage, not a copy), for another
    /// thread.
    pub fn sharing_weights(&self) -> Result<Self> {
        let variables: HashMap<String, Tensor> = self
            .variables
            .iter()
            .map(|(name, tensor)| (name.clone(), tensor.shallow_clone()))
            .collect();
        Ok(TransformerTagger {
            header: self.header.clone(),
            digest: self.digest.clone(),
            head: TaggerHead::from_variables(&variables)?,
            encoder: inference_encoder_of(&variables, &self.bert_config)?,
            tokenizer: self.tokenizer.clone(),
            path: self.path.clone(),
            config: self.config.clone(),
            bert_config: self.bert_config.clone(),
            cls: self.cls,
            sep: self.sep,
            variables,
        })
    }

    /// Whether `other` reads the same tensors as this tagger (a copy from
    /// [`Self::sharing_weights`]), not copies of them.
    #[cfg(test)]
    pub(crate) fn shares_storage_with(&self, other: &TransformerTagger) -> bool {
        self.variables.len() == other.variables.len()
            && self.variables.iter().all(|(name, tensor)| {
                other
                    .variables
                    .get(name)
                    .is_some_and(|theirs| theirs.data_ptr() == tensor.data_ptr())
            })
    }

    /// The layer after which the configuration keeps piece states, if it does.
    fn kept_layer(&self) -> Option<usize> {
        self.config
            .keep_states_after
            .map(|layer| layer.clamp(1, self.header.settings.layers))
    }

    pub fn settings(&self) -> TaggerSettings {
        self.header.settings
    }

    /// What the tagger reads of an analysed document.
    /// `linear` is fast mode's tagger, which a stacked tagger reads.
    pub fn input(&self, layers: &Layers, linear: Option<&super::SpanModel>) -> Result<TaggerInput> {
        tagger_input(
            &self.tokenizer,
            &self.config.encoder_dir,
            &self.header.settings,
            layers,
            linear,
        )
    }

    /// Each token's log-probabilities ([`ROW`] per token: three tags in each channel), for
    /// some documents' inputs.
    pub fn scores(&self, inputs: &[&TaggerInput]) -> Result<Vec<Vec<f32>>> {
        score_inputs(&self.head, &self.encoder, self.cls, self.sep, inputs, None)
            .map_err(|error| Error::model(&self.path, error))
    }

    /// The spans of each document, decoded from [`Self::scores`].
    pub fn tag(&self, inputs: &[&TaggerInput]) -> Result<Vec<Vec<TaggedSpan>>> {
        Ok(self.tag_keeping_states(inputs)?.0)
    }

    /// [`Self::tag`], and where the configuration asks for them
    /// ([`TransformerTaggerConfig::keep_states_after`]), each document's piece states
    /// (`pieces × hidden`, row-major, each piece's from the window it is farthest from an edge
    /// in), for readers of the same encoding; empty otherwise.
    pub fn tag_keeping_states(
        &self,
        inputs: &[&TaggerInput],
    ) -> Result<(Vec<Vec<TaggedSpan>>, Vec<PieceStates>)> {
        let mut states = Vec::new();
        let layer = self.kept_layer();
        let scores = score_inputs(
            &self.head,
            &self.encoder,
            self.cls,
            self.sep,
            inputs,
            layer.map(|layer| (&mut states, layer)),
        )
        .map_err(|error| Error::model(&self.path, error))?;
        Ok((decode_inputs(&scores, inputs), states))
    }

    /// The width of the encoder's states.
    pub fn hidden_size(&self) -> usize {
        self.head.states.ws.size()[1] as usize
    }
}

/// Copies of a tagger over one set of weights that run windows side by side, each copy on a
/// thread of its own with one libtorch thread. Whole windows on separate threads keep the cores
/// busier than one window's matrices split across libtorch's threads, and every window gets
/// the same arithmetic whatever the number of copies, so the output does not depend on it.
pub struct TaggerPool {
    taggers: Vec<std::sync::Mutex<TransformerTagger>>,
}

impl TaggerPool {
    /// `config.copies` taggers (at least one) over the weights `config` names.
    pub fn new(config: TransformerTaggerConfig) -> Result<Self> {
        let copies = config.copies.max(1);
        let first = TransformerTagger::new(config)?;
        let mut taggers = Vec::with_capacity(copies);
        for _ in 1..copies {
            taggers.push(std::sync::Mutex::new(first.sharing_weights()?));
        }
        taggers.insert(0, std::sync::Mutex::new(first));
        Ok(TaggerPool { taggers })
    }

    /// The first copy, for what needs one tagger (its header, digest, width).
    pub fn first(&self) -> std::sync::MutexGuard<'_, TransformerTagger> {
        // A panic while holding the lock leaves the tagger itself intact.
        self.taggers[0]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// As [`TransformerTagger::tag_keeping_states`], with the windows shared out among the
    /// copies, but each document's token scores in place of its spans: the spans are
    /// [`decode_inputs`] of them, and the linker reads the scores too.
    pub fn score_keeping_states(
        &self,
        inputs: &[&TaggerInput],
    ) -> Result<(Vec<Vec<f32>>, Vec<PieceStates>)> {
        let jobs = window_jobs(inputs);
        let (head, layer, path) = {
            let first = self.first();
            let head = first
                .head
                .head_terms()
                .map_err(|error| Error::model(&first.path, error))?;
            (head, first.kept_layer(), first.path.clone())
        };
        // Longest windows first: the copies then end the group on short windows, and the one
        // that finishes first waits for a short window, not for a long one begun last.
        let mut order: Vec<usize> = (0..jobs.len()).collect();
        order.sort_by_key(|&at| {
            let (document, window) = jobs[at];
            std::cmp::Reverse(inputs[document].windows[window].len())
        });
        let next = std::sync::atomic::AtomicUsize::new(0);
        let run_windows = |tagger: &TransformerTagger| {
            let mut done = Vec::new();
            loop {
                let taken = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(&at) = order.get(taken) else {
                    break;
                };
                let (document, window) = jobs[at];
                let range = inputs[document].windows[window].clone();
                let output = tagger.head.score_window(
                    &tagger.encoder,
                    &inputs[document].pieces.ids[range],
                    tagger.cls,
                    tagger.sep,
                    layer,
                )?;
                done.push((at, output));
            }
            Ok::<_, String>(done)
        };
        let finished: Vec<std::result::Result<Vec<(usize, WindowOutput)>, String>> =
            std::thread::scope(|scope| {
                let workers: Vec<_> = self
                    .taggers
                    .iter()
                    .map(|tagger| {
                        let run_windows = &run_windows;
                        scope.spawn(move || {
                            // Per thread: this worker's libtorch calls use one thread.
                            tch::set_num_threads(1);
                            let tagger = tagger
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner);
                            run_windows(&tagger)
                        })
                    })
                    .collect();
                workers
                    .into_iter()
                    .map(|worker| {
                        worker
                            .join()
                            .unwrap_or_else(|_| Err("a tagger thread panicked".to_string()))
                    })
                    .collect()
            });
        let mut outputs: Vec<Option<WindowOutput>> = jobs.iter().map(|_| None).collect();
        for worker in finished {
            for (at, output) in worker.map_err(|error| Error::model(&path, error))? {
                outputs[at] = Some(output);
            }
        }
        let outputs = outputs
            .into_iter()
            .map(|output| output.ok_or_else(|| Error::model(&path, "a window was not scored")))
            .collect::<Result<Vec<_>>>()?;
        let mut states = Vec::new();
        let scores = stitch(&head, inputs, &jobs, outputs, layer.map(|_| &mut states));
        Ok((scores, states))
    }
}

/// The encoder of a network built at `store`'s root, for inference ([`InferenceBert`]), over
/// the store's weights as they are now.
pub fn inference_encoder(store: &nn::VarStore, bert_config: &BertConfig) -> Result<InferenceBert> {
    inference_encoder_of(&store.variables(), bert_config)
}

/// [`inference_encoder`] over a network's variables by name.
fn inference_encoder_of(
    variables: &HashMap<String, Tensor>,
    bert_config: &BertConfig,
) -> Result<InferenceBert> {
    InferenceBert::from_variables(
        variables,
        bert_config.num_hidden_layers as usize,
        bert_config.num_attention_heads as usize,
        // rust-bert's BERT normalises with this epsilon whatever the config says.
        1e-12,
    )
}

/// One window's outputs from the network: the head's scores of its pieces ([`ROW`] each, in
/// piece order, `[CLS]` and `[SEP]` left out) and, where asked, their states after a layer
/// (`pieces × hidden`).
pub struct WindowOutput {
    pub scores: Vec<f32>,
    pub states: Option<Vec<f32>>,
}

/// The tagger's head for inference: its linear layers over the encoder's states and over the
/// rule stages' evidence. Inference needs no more of the network than this and the
/// [`InferenceBert`], so copies of a loaded tagger share both without building a network,
/// whose construction fills every weight with random numbers first.
pub struct TaggerHead {
    states: nn::Linear,
    evidence: Option<nn::Linear>,
}

impl TaggerHead {
    /// Takes the head's weights from a network's variables, as [`TaggerNet`] names them.
    fn from_variables(variables: &HashMap<String, Tensor>) -> Result<Self> {
        let weight = |layer: &str| {
            variables
                .get(&format!("{layer}.weight"))
                .map(Tensor::shallow_clone)
                .ok_or_else(|| Error::Internal(format!("the tagger has no {layer}.weight")))
        };
        Ok(TaggerHead {
            states: nn::Linear {
                ws: weight(HEAD_STATES)?,
                bs: variables
                    .get(&format!("{HEAD_STATES}.bias"))
                    .map(Tensor::shallow_clone),
            },
            evidence: variables
                .get(&format!("{HEAD_EVIDENCE}.weight"))
                .map(|ws| nn::Linear {
                    ws: ws.shallow_clone(),
                    bs: None,
                }),
        })
    }

    /// The outputs of one window of word pieces, by itself. `keep_layer` asks for the states
    /// after that many layers (after the last where the network gives no inner states).
    ///
    /// Windows are not batched: padding, and even a batch's size, change the kernels libtorch
    /// picks and with them the last bits of every state, so a document's spans, confidences
    /// and stance would depend on which documents share its chunk (a Spark partition, a Python
    /// call). One window at a time was also faster and smaller on PolNeAR dev (30.7 s and 479
    /// MiB against 32.4 s and 640 MiB for batches of up to 8 windows of one length).
    pub fn score_window(
        &self,
        encoder: &InferenceBert,
        pieces: &[i64],
        cls: i64,
        sep: i64,
        keep_layer: Option<usize>,
    ) -> std::result::Result<WindowOutput, String> {
        let _guard = tch::no_grad_guard();
        let (ids, _, _) = window_batch(&[(pieces, 0)], cls, sep);
        let (last, inner) = encoder
            .forward(&ids, keep_layer.is_some())
            .map_err(|error| error.to_string())?;
        // Position 0 holds [CLS]; the pieces follow it.
        let pieces_of = |tensor: &Tensor| {
            let rows = tensor
                .narrow(1, 1, pieces.len() as i64)
                .to_kind(Kind::Float)
                .contiguous()
                .view(-1);
            Vec::<f32>::try_from(&rows).map_err(|error| error.to_string())
        };
        let scores = pieces_of(&self.states.forward(&last))?;
        let states = match keep_layer {
            // `all_hidden_states[k - 1]` is the output of layer k.
            Some(layer) => Some(pieces_of(match &inner {
                Some(layers) if (1..layers.len()).contains(&layer) => &layers[layer - 1],
                _ => &last,
            })?),
            None => None,
        };
        Ok(WindowOutput { scores, states })
    }

    /// What stitching needs of the head besides the windows' outputs.
    fn head_terms(&self) -> std::result::Result<HeadTerms, String> {
        let evidence_weights = match &self.evidence {
            Some(linear) => {
                Vec::<f32>::try_from(linear.ws.to_kind(Kind::Float).contiguous().view(-1))
                    .map_err(|error| error.to_string())?
            }
            None => Vec::new(),
        };
        let bias = match &self.states.bs {
            Some(bias) => Some(
                Vec::<f32>::try_from(bias.to_kind(Kind::Float))
                    .map_err(|error| error.to_string())?,
            ),
            None => None,
        };
        Ok(HeadTerms {
            evidence_weights,
            bias,
            hidden: self.states.ws.size()[1] as usize,
        })
    }
}

/// The head's weights over the rule stages' evidence (`ROW × evidence width`, empty without
/// evidence), its bias, and the encoder's width.
struct HeadTerms {
    evidence_weights: Vec<f32>,
    bias: Option<Vec<f32>>,
    hidden: usize,
}

/// Every window of some documents' inputs, as (document, window), in order.
fn window_jobs(inputs: &[&TaggerInput]) -> Vec<(usize, usize)> {
    inputs
        .iter()
        .enumerate()
        .flat_map(|(document, input)| (0..input.windows.len()).map(move |w| (document, w)))
        .collect()
}

/// Each token's log-probabilities ([`ROW`] per token: three tags in each channel), for some
/// documents' inputs, from a network on this thread; every window goes through the encoder once,
/// by itself ([`TaggerHead::score_window`]). With `piece_states`, each document's piece states
/// after a layer too.
pub fn score_inputs(
    head: &TaggerHead,
    encoder: &InferenceBert,
    cls: i64,
    sep: i64,
    inputs: &[&TaggerInput],
    piece_states: Option<(&mut Vec<Vec<f32>>, usize)>,
) -> std::result::Result<Vec<Vec<f32>>, String> {
    let keep_layer = piece_states.as_ref().map(|(_, layer)| *layer);
    let jobs = window_jobs(inputs);
    let outputs = jobs
        .iter()
        .map(|&(document, window)| {
            let range = inputs[document].windows[window].clone();
            head.score_window(
                encoder,
                &inputs[document].pieces.ids[range],
                cls,
                sep,
                keep_layer,
            )
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(stitch(
        &head.head_terms()?,
        inputs,
        &jobs,
        outputs,
        piece_states.map(|(states, _)| states),
    ))
}

/// Each document's token log-probabilities from its windows' outputs: a token's scores come
/// from the window that owns its first piece (where the piece is farthest from an edge), plus
/// its evidence; a token without a piece scores its evidence and the bias.
fn stitch(
    head: &HeadTerms,
    inputs: &[&TaggerInput],
    jobs: &[(usize, usize)],
    outputs: Vec<WindowOutput>,
    piece_states: Option<&mut Vec<Vec<f32>>>,
) -> Vec<Vec<f32>> {
    let hidden = head.hidden;
    let mut scores: Vec<Vec<f32>> = inputs
        .iter()
        .map(|input| super::filled(0f32, input.token_count() * ROW))
        .collect();
    let owners_of: Vec<Vec<usize>> = inputs
        .iter()
        .map(|input| owners(input.pieces.ids.len(), &input.windows))
        .collect();
    if let Some(bias) = &head.bias {
        for (input, scores) in inputs.iter().zip(&mut scores) {
            for (token, piece) in input.first_piece.iter().enumerate() {
                if piece.is_none() {
                    scores[token * ROW..(token + 1) * ROW].copy_from_slice(bias);
                }
            }
        }
    }
    let mut states: Option<Vec<Vec<f32>>> = piece_states.as_ref().map(|_| {
        inputs
            .iter()
            .map(|input| super::filled(0f32, input.pieces.ids.len() * hidden))
            .collect()
    });
    for (&(document, window), output) in jobs.iter().zip(outputs) {
        let input = inputs[document];
        let range = input.windows[window].clone();
        let owner = &owners_of[document];
        for (token, piece) in input.first_piece.iter().enumerate() {
            let Some(piece) = *piece else { continue };
            if owner[piece] == window {
                let at = (piece - range.start) * ROW;
                scores[document][token * ROW..(token + 1) * ROW]
                    .copy_from_slice(&output.scores[at..at + ROW]);
            }
        }
        if let (Some(states), Some(window_states)) = (states.as_mut(), &output.states) {
            for piece in range.clone() {
                if owner[piece] == window {
                    let at = (piece - range.start) * hidden;
                    states[document][piece * hidden..(piece + 1) * hidden]
                        .copy_from_slice(&window_states[at..at + hidden]);
                }
            }
        }
    }
    for (input, scores) in inputs.iter().zip(&mut scores) {
        for (token, row) in scores.chunks_exact_mut(ROW).enumerate() {
            if !head.evidence_weights.is_empty() {
                let width = input.evidence_width;
                let evidence = &input.evidence[token * width..(token + 1) * width];
                for (output, weights) in row
                    .iter_mut()
                    .zip(head.evidence_weights.chunks_exact(width))
                {
                    *output += weights
                        .iter()
                        .zip(evidence)
                        .map(|(w, e)| w * e)
                        .sum::<f32>();
                }
            }
            log_softmax_channels(row);
        }
    }
    if let (Some(target), Some(states)) = (piece_states, states) {
        *target = states;
    }
    scores
}

/// Each document's spans, decoded from its token scores ([`decode`]).
pub fn decode_inputs(scores: &[Vec<f32>], inputs: &[&TaggerInput]) -> Vec<Vec<TaggedSpan>> {
    scores
        .iter()
        .zip(inputs)
        .map(|(scores, input)| decode(scores, &input.segments))
        .collect()
}

/// Turns each channel's three scores into log-probabilities.
pub fn log_softmax_channels(row: &mut [f32]) {
    for channel in row.chunks_exact_mut(TAGS) {
        let top = channel.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let total: f32 = channel.iter().map(|score| (score - top).exp()).sum();
        let log_total = top + total.ln();
        channel.iter_mut().for_each(|score| *score -= log_total);
    }
}

/// The spans of every channel under the BIO constraint, paragraph by paragraph, from
/// per-token log-probabilities ([`ROW`] per token).
pub fn decode(scores: &[f32], segments: &[Range<usize>]) -> Vec<TaggedSpan> {
    let count = scores.len() / ROW;
    let transitions = vec![0f32; 3 * TRANSITIONS];
    let mut tags = vec![Tag::Outside; count];
    let mut back = Vec::new();
    let mut spans = Vec::new();
    for role in Role::ALL {
        tags.iter_mut().for_each(|tag| *tag = Tag::Outside);
        let table = channel_transition_table(&transitions, role);
        for segment in segments {
            if segment.end <= count {
                viterbi(scores, &table, role, segment.clone(), &mut tags, &mut back);
            }
        }
        spans.extend(spans_of(&tags, role));
    }
    spans
}

/// Writes the tagger's changed weights (everything but the embeddings) in fp16, with its
/// header in the metadata.
pub fn save(variables: &HashMap<String, Tensor>, header: &TaggerHeader, path: &Path) -> Result<()> {
    let mut named: Vec<(String, Tensor)> = variables
        .iter()
        .filter(|(name, _)| !name.starts_with("embeddings."))
        .map(|(name, tensor)| (name.clone(), tensor.to_kind(Kind::Half).contiguous()))
        .collect();
    named.sort_by(|left, right| left.0.cmp(&right.0));
    let header_json = serde_json::to_string(header).map_err(|error| Error::model(path, error))?;
    let metadata: HashMap<String, String> = [(HEADER_KEY.to_string(), header_json)].into();
    let mut buffers: Vec<(String, Vec<u8>, Vec<usize>)> = Vec::with_capacity(named.len());
    for (name, tensor) in &named {
        let shape: Vec<usize> = tensor.size().iter().map(|&size| size as usize).collect();
        let mut bytes = vec![0u8; tensor.numel() * 2];
        tensor
            .f_copy_data_u8(&mut bytes, tensor.numel())
            .map_err(|error| Error::model(path, error))?;
        buffers.push((name.clone(), bytes, shape));
    }
    let views: Vec<(String, safetensors::tensor::TensorView)> = buffers
        .iter()
        .map(|(name, bytes, shape)| {
            safetensors::tensor::TensorView::new(safetensors::Dtype::F16, shape.clone(), bytes)
                .map(|view| (name.clone(), view))
                .map_err(|error| Error::model(path, format!("{name}: {error:?}")))
        })
        .collect::<Result<_>>()?;
    safetensors::tensor::serialize_to_file(views, &Some(metadata), path)
        .map_err(|error| Error::model(path, format!("{error:?}")))
}

/// The token ranges of a segmentation, as [`first_pieces`] reads them.
pub fn token_ranges(segmented: &Segmented) -> Vec<Range<usize>> {
    segmented
        .tokens
        .iter()
        .map(|token| token.start..token.end)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cover_every_piece_and_overlap_as_asked() {
        for count in [0, 1, 5, 10, 11, 100, 257, 1000] {
            let windows = windows(count, 10, 4);
            let mut covered = vec![0; count];
            for window in &windows {
                assert!(window.len() <= 10);
                covered[window.clone()].iter_mut().for_each(|c| *c += 1);
            }
            assert!(
                covered.iter().all(|&c| (1..=2).contains(&c)),
                "{count}: {covered:?}"
            );
            for pair in windows.windows(2) {
                assert_eq!(pair[0].end - pair[1].start, 4, "{count}: {windows:?}");
            }
        }
    }

    #[test]
    fn a_piece_belongs_to_the_window_where_it_is_farthest_from_an_edge() {
        let windows = windows(30, 10, 4);
        let owner = owners(30, &windows);
        for (piece, &window) in owner.iter().enumerate() {
            let margin = |w: &Range<usize>| (piece - w.start).min(w.end - 1 - piece);
            let chosen = margin(&windows[window]);
            for other in windows.iter().filter(|w| w.contains(&piece)) {
                assert!(margin(other) <= chosen, "piece {piece}");
            }
        }
        // Every owned piece has at least half the overlap of context on each side, except
        // near the text's ends.
        for (piece, &window) in owner.iter().enumerate().skip(2).take(30 - 4) {
            let w = &windows[window];
            assert!(
                piece - w.start >= 1 && w.end - 1 - piece >= 1,
                "piece {piece}"
            );
        }
    }

    #[test]
    fn tokens_map_to_their_first_piece() {
        // "unhappily said" → un ##happ ##ily said
        let tokens = [0..9, 10..14, 15..15];
        let pieces = [0..2, 2..6, 6..9, 10..14];
        assert_eq!(first_pieces(&tokens, &pieces), vec![Some(0), Some(3), None]);
    }

    #[test]
    fn decoding_follows_the_scores_under_the_bio_constraint() {
        let mut scores = Vec::new();
        // content: B I I O ; others O
        for tag in [Tag::Begin, Tag::Inside, Tag::Inside, Tag::Outside] {
            let mut row = [0f32; ROW];
            for channel in 0..3 {
                let best = if channel == 0 { tag } else { Tag::Outside };
                row[channel * TAGS + best.index()] = 5.0;
            }
            // Where Inside is likeliest, Begin comes next: a span cut by a paragraph break
            // opens again.
            if tag == Tag::Inside {
                row[Tag::Begin.index()] = 3.0;
            }
            log_softmax_channels(&mut row);
            scores.extend(row);
        }
        // One paragraph of four tokens.
        let paragraph: Vec<Range<usize>> = std::iter::once(0..4).collect();
        let spans = decode(&scores, &paragraph);
        assert_eq!(
            spans,
            vec![TaggedSpan {
                role: Role::Content,
                tokens: 0..3
            }]
        );
        // Split into two paragraphs, the second span must begin again.
        let spans = decode(&scores, &[0..2, 2..4]);
        assert_eq!(spans.len(), 2);
        assert_eq!(spans[1].tokens, 2..3);
    }
}
