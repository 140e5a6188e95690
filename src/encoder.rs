//! The contextual encoder: all-MiniLM-L6-v2 (a 6-layer BERT) on libtorch through rust-bert,
//! with the `tokenizers` crate reading the model's own `tokenizer.json`, so that tokens and
//! their offsets match Python's sentence-transformers exactly.
//!
//! The encoder gives every token of a text its last-layer state. Stance pools the states of a
//! target span; [`TokenStates::sentence_embedding`] pools them all as sentence-transformers does.

use std::ops::Range;
use std::path::PathBuf;

use rust_bert::bert::{BertConfig, BertEmbeddings, BertModel};
use tch::{nn::VarStore, Device, Kind, Tensor};
use tokenizers::{Encoding, Tokenizer, TruncationParams};

use std::collections::HashMap;
use std::time::Duration;

use crate::document::{Document, Outcome, Span};
use crate::error::{Error, Result};
use crate::stage::{BatchStage, ChunkClock};

/// The folder `scripts/setup` unpacked the encoder into, as this binary was built; the
/// `WHOSAID_ENCODER` environment variable overrides it at run time.
pub fn default_model_dir() -> PathBuf {
    std::env::var_os("WHOSAID_ENCODER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("WHOSAID_DEFAULT_ENCODER")))
}

/// The encoder's config from the folder `scripts/setup` made, keeping only its first `layers`
/// transformer layers where given (the weights file keeps the rest; loading reads only the
/// layers the model has).
pub fn read_bert_config(dir: &std::path::Path, layers: Option<usize>) -> Result<BertConfig> {
    let config_path = dir.join("config.json");
    let config_text = std::fs::read_to_string(&config_path).map_err(|error| {
        Error::model(
            &config_path,
            format!("{error}; run scripts/setup to install the encoder"),
        )
    })?;
    let mut bert_config: BertConfig =
        serde_json::from_str(&config_text).map_err(|error| Error::model(&config_path, error))?;
    if let Some(layers) = layers {
        if layers == 0 || layers as i64 > bert_config.num_hidden_layers {
            return Err(Error::model(
                &config_path,
                format!(
                    "asked for {layers} layers; the model has {}",
                    bert_config.num_hidden_layers
                ),
            ));
        }
        bert_config.num_hidden_layers = layers as i64;
    }
    Ok(bert_config)
}

/// The encoder's own tokenizer, without padding or truncation.
pub fn read_tokenizer(dir: &std::path::Path) -> Result<Tokenizer> {
    let tokenizer_path = dir.join("tokenizer.json");
    let mut tokenizer = Tokenizer::from_file(&tokenizer_path)
        .map_err(|error| Error::model(&tokenizer_path, error))?;
    tokenizer.with_padding(None);
    tokenizer
        .with_truncation(None)
        .map_err(|error| Error::model(&tokenizer_path, error))?;
    Ok(tokenizer)
}

/// How to build an [`Encoder`].
#[derive(Debug, Clone)]
pub struct EncoderConfig {
    /// A folder holding `model.safetensors`, `config.json` and `tokenizer.json`.
    pub model_dir: PathBuf,
    /// Texts are cut to this many tokens, special tokens included.
    pub max_tokens: usize,
    /// Texts per forward pass. On PolNeAR's quotes 16 runs as fast as 32 (within 3%) and holds
    /// less memory; 64 and 8 were slower.
    pub batch_size: usize,
    /// Sort texts by length before batching, so that a batch pads little. Off only to measure
    /// what it saves.
    pub sort_by_length: bool,
    /// Run only the first this many transformer layers, and give the states after the last of
    /// them; `None` runs them all.
    pub layers: Option<usize>,
    pub precision: Precision,
}

/// Points every variable of `into` at the storage (and number type) of the variable of the
/// same name in `from`, so that a second model shares the first one's weights without a copy;
/// the freshly initialised values are freed. The error is the name `from` lacks.
pub fn share_weights(from: &VarStore, into: &VarStore) -> std::result::Result<(), String> {
    let weights = from.variables();
    let _guard = tch::no_grad_guard();
    for (name, mut variable) in into.variables() {
        let weight = weights.get(&name).ok_or_else(|| name.clone())?;
        variable.set_data(weight);
    }
    Ok(())
}

/// The number type the encoder's weights and activations are held in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    Float32,
    /// Half the time of `Float32` on a CPU that multiplies bfloat16 natively; the states differ
    /// from `Float32`'s by about 1% (stance labels agree on 99% of PolNeAR dev's quotes).
    BFloat16,
}

impl Precision {
    /// `BFloat16` where the CPU has bfloat16 dot products (AVX-512 BF16), `Float32` elsewhere,
    /// where libtorch would emulate bfloat16 and be slower than `Float32`.
    pub fn native() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512bf16") {
                return Precision::BFloat16;
            }
        }
        Precision::Float32
    }
}

impl Default for EncoderConfig {
    fn default() -> Self {
        EncoderConfig {
            model_dir: default_model_dir(),
            max_tokens: 256,
            batch_size: 16,
            sort_by_length: true,
            layers: None,
            precision: Precision::native(),
        }
    }
}

pub use crate::document::states::TokenStates;

/// Byte ranges of an encoding's tokens; special tokens get `None`.
pub fn token_offsets(encoding: &Encoding) -> Vec<Option<Range<usize>>> {
    encoding
        .get_offsets()
        .iter()
        .zip(encoding.get_special_tokens_mask())
        .map(|(&(from, to), &special)| (special == 0).then_some(from..to))
        .collect()
}

/// all-MiniLM-L6-v2, loaded once. It holds libtorch tensors, which are not `Sync`: give each
/// thread that encodes its own, or (as the batch runner does) encode on one thread and let
/// libtorch's own thread pool use the cores.
pub struct Encoder {
    tokenizer: Tokenizer,
    model: BertModel<BertEmbeddings>,
    // Owns the model's tensors.
    store: VarStore,
    config: EncoderConfig,
    bert_config: BertConfig,
    dim: usize,
}

impl Encoder {
    pub fn new(config: EncoderConfig) -> Result<Self> {
        let dir = &config.model_dir;
        let bert_config = read_bert_config(dir, config.layers)?;
        let tokenizer_path = dir.join("tokenizer.json");
        let mut tokenizer = read_tokenizer(dir)?;
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: config.max_tokens.max(2),
                ..Default::default()
            }))
            .map_err(|error| Error::model(&tokenizer_path, error))?;
        let mut store = VarStore::new(Device::Cpu);
        let model = BertModel::<BertEmbeddings>::new_with_optional_pooler(
            store.root(),
            &bert_config,
            false,
        );
        let weights_path = dir.join("model.safetensors");
        store
            .load(&weights_path)
            .map_err(|error| Error::model(&weights_path, error))?;
        if config.precision == Precision::BFloat16 {
            store.bfloat16();
        }
        Ok(Encoder {
            tokenizer,
            model,
            store,
            dim: bert_config.hidden_size as usize,
            bert_config,
            config,
        })
    }

    /// A second encoder over this one's weights, without a copy of them: for another thread.
    /// Changing either one's weights changes both.
    pub fn sharing_weights(&self) -> Result<Encoder> {
        let store = VarStore::new(Device::Cpu);
        let model = BertModel::<BertEmbeddings>::new_with_optional_pooler(
            store.root(),
            &self.bert_config,
            false,
        );
        share_weights(&self.store, &store).map_err(|name| {
            Error::model(
                &self.config.model_dir,
                format!("{name}: the encoder has no such weight"),
            )
        })?;
        Ok(Encoder {
            tokenizer: self.tokenizer.clone(),
            model,
            store,
            config: self.config.clone(),
            bert_config: self.bert_config.clone(),
            dim: self.dim,
        })
    }

    /// The width of a token state.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Tokenizes texts as the encoder reads them: special tokens added, cut to `max_tokens`.
    pub fn tokenize(&self, texts: &[&str]) -> Result<Vec<Encoding>> {
        use rayon::prelude::*;

        let tokenizer_path = self.config.model_dir.join("tokenizer.json");
        // In parallel: tokenizing is the encoder's one serial step otherwise.
        let tokenizer = &self.tokenizer;
        texts
            .par_iter()
            .map(|text| {
                tokenizer
                    .encode(*text, true)
                    .map_err(|error| Error::model(&tokenizer_path, error))
            })
            .collect()
    }

    /// The last-layer states of a batch of tokenized texts, `[texts, longest, dim]`, padded
    /// with zeros past each text's end. `train` turns dropout on; gradients flow to whichever
    /// weights require them unless the caller is under `no_grad`.
    pub fn forward(&self, encodings: &[&Encoding], train: bool) -> Result<Tensor> {
        let width = encodings
            .iter()
            .map(|encoding| encoding.get_ids().len())
            .max()
            .unwrap_or(0)
            .max(1);
        let mut ids = vec![0i64; encodings.len() * width];
        let mut mask = vec![0i64; encodings.len() * width];
        for (row, encoding) in encodings.iter().enumerate() {
            for (column, &id) in encoding.get_ids().iter().enumerate() {
                ids[row * width + column] = i64::from(id);
                mask[row * width + column] = 1;
            }
        }
        let shape = [encodings.len() as i64, width as i64];
        let ids = Tensor::from_slice(&ids).view(shape);
        let mask = Tensor::from_slice(&mask).view(shape);
        let types = Tensor::zeros(shape, (Kind::Int64, Device::Cpu));
        let output = self
            .model
            .forward_t(
                Some(&ids),
                Some(&mask),
                Some(&types),
                None,
                None,
                None,
                None,
                train,
            )
            .map_err(|error| Error::model(&self.config.model_dir, error))?;
        Ok(output.hidden_state)
    }

    /// Every token's state, for each text, in the order given.
    pub fn encode(&self, texts: &[&str]) -> Result<Vec<TokenStates>> {
        let encodings = self.tokenize(texts)?;
        let mut results: Vec<Option<TokenStates>> = vec![None; texts.len()];
        for batch in self.batches(&encodings) {
            for (index, states) in batch.iter().zip(self.encode_batch(&encodings, &batch)?) {
                results[*index] = Some(states);
            }
        }
        Ok(results.into_iter().flatten().collect())
    }

    /// The batches `encode` runs, as indices into `encodings`.
    pub fn batches(&self, encodings: &[Encoding]) -> Vec<Vec<usize>> {
        // Sorting by length makes each batch pad to nearly its own length, which is most of the
        // difference between a naive encoder and sentence-transformers' speed.
        let mut order: Vec<usize> = (0..encodings.len()).collect();
        if self.config.sort_by_length {
            order.sort_by_key(|&index| std::cmp::Reverse(encodings[index].get_ids().len()));
        }
        order
            .chunks(self.config.batch_size.max(1))
            .map(<[usize]>::to_vec)
            .collect()
    }

    /// The states of one batch's texts, in the batch's order.
    pub fn encode_batch(
        &self,
        encodings: &[Encoding],
        batch: &[usize],
    ) -> Result<Vec<TokenStates>> {
        let _guard = tch::no_grad_guard();
        let batch_encodings: Vec<&Encoding> =
            batch.iter().map(|&index| &encodings[index]).collect();
        let hidden = self.forward(&batch_encodings, false)?;
        let width = hidden.size()[1] as usize;
        let hidden = hidden.to_kind(Kind::Float).contiguous().view(-1);
        let hidden = Vec::<f32>::try_from(&hidden)
            .map_err(|error| Error::model(&self.config.model_dir, error))?;
        Ok(batch_encodings
            .iter()
            .enumerate()
            .map(|(row, encoding)| {
                let length = encoding.get_ids().len();
                let start = row * width * self.dim;
                TokenStates {
                    offsets: token_offsets(encoding),
                    states: hidden[start..start + length * self.dim].to_vec(),
                    dim: self.dim,
                }
            })
            .collect())
    }

    /// The store that owns the model's tensors, for loading fine-tuned weights into it.
    pub(crate) fn store(&self) -> &VarStore {
        &self.store
    }

    /// The encoder's weights by name, as the safetensors file names them.
    pub fn variables(&self) -> std::collections::HashMap<String, Tensor> {
        self.store.variables()
    }

    /// Stops gradients for every weight but those whose name `trainable` accepts.
    pub fn train_only(&mut self, trainable: impl Fn(&str) -> bool) {
        self.store.freeze();
        for (name, variable) in self.store.variables() {
            if trainable(&name) {
                let _ = variable.set_requires_grad(true);
            }
        }
    }

    /// Replaces some weights by new values (fine-tuned biases), each given flat.
    pub fn override_weights(
        &mut self,
        weights: &std::collections::BTreeMap<String, Vec<f32>>,
    ) -> Result<()> {
        let variables = self.store.variables();
        for (name, values) in weights {
            let problem = |message: String| {
                Error::model(&self.config.model_dir, format!("{name}: {message}"))
            };
            let variable = variables
                .get(name)
                .ok_or_else(|| problem("the encoder has no such weight".into()))?;
            if variable.numel() != values.len() {
                return Err(problem(format!(
                    "{} values for a weight of {}",
                    values.len(),
                    variable.numel()
                )));
            }
            let replacement = Tensor::from_slice(values).view(variable.size().as_slice());
            tch::no_grad(|| variable.shallow_clone().copy_(&replacement));
        }
        Ok(())
    }

    /// Sentence embeddings (mean pooled, L2 normalised), for each text.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        Ok(self
            .encode(texts)?
            .iter()
            .map(TokenStates::sentence_embedding)
            .collect())
    }
}

/// Encoders that run batches side by side over the same weights, one thread each with one
/// libtorch thread. Small batches split poorly across libtorch's own threads; whole batches on separate
/// threads keep every core busy. The batches are the same whatever the number of copies.
pub struct EncoderPool {
    encoders: Vec<std::sync::Mutex<Encoder>>,
}

impl EncoderPool {
    /// `copies` encoders (at least one) over one set of weights, built from `config` and then
    /// given to `prepare` (which may, for instance, override weights).
    pub fn new(
        config: EncoderConfig,
        copies: usize,
        prepare: impl Fn(&mut Encoder) -> Result<()>,
    ) -> Result<Self> {
        let mut first = Encoder::new(config)?;
        prepare(&mut first)?;
        let mut encoders = Vec::with_capacity(copies.max(1));
        for _ in 1..copies.max(1) {
            encoders.push(std::sync::Mutex::new(first.sharing_weights()?));
        }
        encoders.insert(0, std::sync::Mutex::new(first));
        Ok(EncoderPool { encoders })
    }

    /// The first copy, for what needs one encoder (its width, tokenizing).
    pub fn first(&self) -> std::sync::MutexGuard<'_, Encoder> {
        // A panic while holding the lock leaves the encoder itself intact.
        self.encoders[0]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// As [`Encoder::encode`], with the batches shared out among the copies.
    pub fn encode(&self, texts: &[&str]) -> Result<Vec<TokenStates>> {
        self.encode_map(texts, |_, states| states)
    }

    /// Encodes the texts and gives each text's states, with its index, to `map` as soon as its
    /// batch is done, so that only the batches in flight hold token states (a chunk's states
    /// all at once would take hundreds of megabytes). The results come back in text order.
    pub fn encode_map<R: Send>(
        &self,
        texts: &[&str],
        map: impl Fn(usize, TokenStates) -> R + Sync,
    ) -> Result<Vec<R>> {
        Ok(self
            .encode_map_controlled(texts, map, &EncodeAll)?
            .into_iter()
            .flatten()
            .collect())
    }

    /// [`EncoderPool::encode_map`], asking `control` before each batch which texts to keep and
    /// whether to stop, and telling it what each batch cost. A text left out, or not reached
    /// before a stop, has no result.
    pub fn encode_map_controlled<R: Send>(
        &self,
        texts: &[&str],
        map: impl Fn(usize, TokenStates) -> R + Sync,
        control: &dyn EncodeControl,
    ) -> Result<Vec<Option<R>>> {
        let (encodings, batches) = {
            let first = self.first();
            let encodings = first.tokenize(texts)?;
            let batches = first.batches(&encodings);
            (encodings, batches)
        };
        let run_batches = |encoder: &Encoder, next: &std::sync::atomic::AtomicUsize| {
            let mut done = Vec::new();
            loop {
                let at = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(batch) = batches.get(at) else {
                    break;
                };
                if control.stopped() {
                    break;
                }
                let kept: Vec<usize> = batch
                    .iter()
                    .copied()
                    .filter(|&index| control.keep(index))
                    .collect();
                if kept.is_empty() {
                    continue;
                }
                let started = std::time::Instant::now();
                let states = encoder.encode_batch(&encodings, &kept)?;
                done.extend(
                    kept.iter()
                        .zip(states)
                        .map(|(&index, states)| (index, map(index, states))),
                );
                control.encoded(&kept, started.elapsed());
            }
            Ok(done)
        };
        let next = std::sync::atomic::AtomicUsize::new(0);
        let finished: Vec<Result<Vec<(usize, R)>>> = if self.encoders.len() == 1 {
            vec![run_batches(&self.first(), &next)]
        } else {
            std::thread::scope(|scope| {
                let workers: Vec<_> = self
                    .encoders
                    .iter()
                    .map(|encoder| {
                        let (run_batches, next) = (&run_batches, &next);
                        scope.spawn(move || {
                            // Per thread: this worker's libtorch calls use one thread.
                            tch::set_num_threads(1);
                            let encoder = encoder
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner);
                            run_batches(&encoder, next)
                        })
                    })
                    .collect();
                workers
                    .into_iter()
                    .map(|worker| {
                        worker.join().unwrap_or_else(|_| {
                            Err(Error::model(
                                &self.first().config.model_dir,
                                "an encoder thread panicked",
                            ))
                        })
                    })
                    .collect()
            })
        };
        let mut results: Vec<Option<R>> = (0..texts.len()).map(|_| None).collect();
        for worker in finished {
            for (index, result) in worker? {
                results[index] = Some(result);
            }
        }
        Ok(results)
    }
}

/// What the encoder pass asks between batches: which texts to go on with, whether to stop, and
/// where to charge the time.
pub trait EncodeControl: Sync {
    /// Whether to encode text `index` (its document may have run out of time).
    fn keep(&self, index: usize) -> bool;
    /// Whether to stop before the next batch.
    fn stopped(&self) -> bool;
    /// The texts of a batch just encoded, and what the batch took.
    fn encoded(&self, indices: &[usize], elapsed: Duration);
}

/// Encodes everything, with no bounds.
struct EncodeAll;

impl EncodeControl for EncodeAll {
    fn keep(&self, _index: usize) -> bool {
        true
    }

    fn stopped(&self) -> bool {
        false
    }

    fn encoded(&self, _indices: &[usize], _elapsed: Duration) {}
}

/// A stage that reads the encoder's token states: the encoder pass hands each distinct window
/// text's states to the reader as soon as its batch is done, and drops them after, so that
/// memory holds only the batches in flight however long the chunk or the document.
pub trait StateReader: Send + Sync {
    /// What the reader keeps of one window for one document.
    type Reading: Send;
    /// The stage's name, for error messages.
    fn name(&self) -> &'static str;
    /// The spans of the document's original text to encode, each read back by its index. Equal
    /// texts, within a document or across the chunk, are encoded once.
    fn windows(&self, document: &Document) -> Vec<Span>;
    /// Reads the states of one window text for every document window that has that text, given
    /// as (document, window index); the states' offsets are relative to the window.
    fn read(&self, owners: &[(&Document, usize)], states: &TokenStates) -> Vec<Self::Reading>;
    /// Stores a document's readings, one per window in order, as its layer.
    fn store(&self, document: &mut Document, readings: Vec<Self::Reading>);
}

/// The encoder pass: a batch stage that encodes the windows its reader asks for, across a
/// whole chunk of documents, with a pool of encoder copies (see [`EncoderPool`]).
pub struct EncoderStage<R> {
    pool: EncoderPool,
    reader: R,
}

impl<R: StateReader> EncoderStage<R> {
    pub fn new(pool: EncoderPool, reader: R) -> Self {
        EncoderStage { pool, reader }
    }
}

/// Time budgets of the chunk's documents in the encoder pass: each batch's time is shared out
/// among the documents whose windows it held, and a document past its budget gets no more
/// windows encoded.
struct ChunkBudget<'a> {
    /// The documents owning each distinct window text.
    owners_of_text: &'a [Vec<usize>],
    /// Time left to each document at the start, `None` without a budget.
    remaining: Vec<Option<Duration>>,
    /// Nanoseconds each document has spent in this pass.
    spent: Vec<std::sync::atomic::AtomicU64>,
    clock: &'a ChunkClock<'a>,
}

impl ChunkBudget<'_> {
    fn spent(&self, document: usize) -> Duration {
        Duration::from_nanos(self.spent[document].load(std::sync::atomic::Ordering::Relaxed))
    }

    fn over_budget(&self, document: usize) -> bool {
        self.remaining[document].is_some_and(|remaining| self.spent(document) > remaining)
    }
}

impl EncodeControl for ChunkBudget<'_> {
    fn keep(&self, index: usize) -> bool {
        self.owners_of_text[index]
            .iter()
            .any(|&document| !self.over_budget(document))
    }

    fn stopped(&self) -> bool {
        self.clock.stopped()
    }

    fn encoded(&self, indices: &[usize], elapsed: Duration) {
        let per_text = elapsed.as_nanos() as u64 / indices.len().max(1) as u64;
        for &index in indices {
            let owners = &self.owners_of_text[index];
            let share = per_text / owners.len().max(1) as u64;
            for &document in owners {
                self.spent[document].fetch_add(share, std::sync::atomic::Ordering::Relaxed);
            }
        }
    }
}

impl<R: StateReader> BatchStage for EncoderStage<R> {
    fn name(&self) -> &'static str {
        self.reader.name()
    }

    fn run(&self, documents: &mut [&mut Document], clock: &ChunkClock) -> Result<()> {
        let windows: Vec<Vec<Span>> = documents
            .iter()
            .map(|document| self.reader.windows(document))
            .collect();
        let (mut readings, spent) = {
            let shared: Vec<&Document> = documents.iter().map(|document| &**document).collect();
            let mut slot_of: HashMap<&str, usize> = HashMap::new();
            let mut texts: Vec<&str> = Vec::new();
            let mut windows_of_text: Vec<Vec<(usize, usize)>> = Vec::new();
            for (document, spans) in windows.iter().enumerate() {
                for (window, span) in spans.iter().enumerate() {
                    let text = shared[document].text.get(span.range()).unwrap_or_default();
                    let slot = *slot_of.entry(text).or_insert_with(|| {
                        texts.push(text);
                        windows_of_text.push(Vec::new());
                        texts.len() - 1
                    });
                    windows_of_text[slot].push((document, window));
                }
            }
            let owners_of_text: Vec<Vec<usize>> = windows_of_text
                .iter()
                .map(|owners| {
                    let mut documents: Vec<usize> =
                        owners.iter().map(|&(document, _)| document).collect();
                    documents.dedup();
                    documents
                })
                .collect();
            let budget = ChunkBudget {
                owners_of_text: &owners_of_text,
                remaining: shared
                    .iter()
                    .map(|document| clock.remaining(document))
                    .collect(),
                spent: shared
                    .iter()
                    .map(|_| std::sync::atomic::AtomicU64::new(0))
                    .collect(),
                clock,
            };
            let per_text = self.pool.encode_map_controlled(
                &texts,
                |slot, states| {
                    let owners: Vec<(&Document, usize)> = windows_of_text[slot]
                        .iter()
                        .map(|&(document, window)| (shared[document], window))
                        .collect();
                    self.reader.read(&owners, &states)
                },
                &budget,
            )?;
            let mut readings: Vec<Vec<Option<R::Reading>>> = windows
                .iter()
                .map(|spans| spans.iter().map(|_| None).collect())
                .collect();
            for (slot, read) in per_text.into_iter().enumerate() {
                for (&(document, window), reading) in
                    windows_of_text[slot].iter().zip(read.into_iter().flatten())
                {
                    readings[document][window] = Some(reading);
                }
            }
            let spent: Vec<Duration> = (0..shared.len())
                .map(|document| budget.spent(document))
                .collect();
            (readings, spent)
        };
        for (index, document) in documents.iter_mut().enumerate() {
            document.spent += spent[index];
            let read: Option<Vec<R::Reading>> =
                std::mem::take(&mut readings[index]).into_iter().collect();
            match read {
                Some(read) => self.reader.store(document, read),
                None if clock.stopped() => document.outcome = Outcome::Stopped,
                None => clock.time_out(document, self.reader.name()),
            }
        }
        Ok(())
    }
}
