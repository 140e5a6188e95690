//! Cue detection: whether a word introduces reported speech, thought or intention ("said",
//! "believes", "warned"), decided in context by logistic regression learned from PolNeAR.
//!
//! A fixed verb list cannot tell "he said" from "the said treaty", and misses the many cues an
//! annotator accepts ("backs", "vowed", "insists"). The model scores each word that was a cue
//! at least twice in training and in at least a tenth of its occurrences, from the word, its
//! ending and its neighbours.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};

use crate::document::segmented::{lower_hash_of, token_text, Token, TokenKind};
use crate::error::{Error, Result};
use crate::hash::{hash_str, mix, Fnv, KeyTable};
use crate::lexicon::{contains_lower, Lexicon};

/// The learned cue model.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CueModel {
    /// What the model was trained on, and the command that rebuilds it.
    pub provenance: String,
    /// The words, lower-cased, that may be cues at all; no other word is scored.
    pub candidates: BTreeSet<String>,
    pub weights: BTreeMap<String, f32>,
    pub bias: f32,
    /// A candidate is a cue when its probability reaches this.
    pub threshold: f32,
    /// `candidates` and `weights` again, keyed by hashes ([`crate::hash`]): the ordered maps
    /// keep the file stable and readable, and these let a lookup (once per word of every
    /// document) compute its feature's key ([`feature_key`]) instead of formatting the string.
    #[serde(skip)]
    candidate_lookup: KeyTable<()>,
    #[serde(skip)]
    weight_lookup: KeyTable<f32>,
}

/// The most feature keys [`for_each_feature_key`] gives one word (it gives at most 18).
const MAX_CUE_FEATURES: usize = 24;

const SHIPPED_MODEL: &str = include_str!("../models/cue-model.json");

impl CueModel {
    /// The model in `models/cue-model.json`, built into the binary and parsed once.
    pub fn shipped() -> Result<&'static CueModel> {
        Ok(Self::shipped_shared()?)
    }

    /// [`CueModel::shipped`] as a shared handle, for the stages that each hold the model: one
    /// copy of its tables (megabytes of strings and hashes) serves them all.
    pub fn shipped_shared() -> Result<&'static Arc<CueModel>> {
        static SHIPPED: OnceLock<std::result::Result<Arc<CueModel>, String>> = OnceLock::new();
        SHIPPED
            .get_or_init(|| {
                serde_json::from_str(SHIPPED_MODEL)
                    .map(|model| Arc::new(CueModel::prepared(model)))
                    .map_err(|error| error.to_string())
            })
            .as_ref()
            .map_err(|message| Error::model("models/cue-model.json", message))
    }

    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|error| Error::model(path, error))?;
        serde_json::from_str(&text)
            .map(CueModel::prepared)
            .map_err(|error| Error::model(path, error))
    }

    /// Fills the hashed lookups from the ordered maps.
    fn prepared(mut self) -> Self {
        self.candidate_lookup = self
            .candidates
            .iter()
            .map(|word| (hash_str(word), ()))
            .collect();
        self.weight_lookup = self
            .weights
            .iter()
            .filter_map(|(feature, &weight)| Some((feature_key(feature)?, weight)))
            .collect();
        self
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string(self).map_err(|error| Error::model(path, error))?;
        std::fs::write(path, text + "\n").map_err(|error| Error::io(path, error))
    }

    /// Whether a word may be a cue at all, before its context is looked at.
    pub fn is_candidate(&self, word: &str) -> bool {
        // ASCII lower-casing, as before the lookups were hashed.
        let mut key = Fnv::new();
        for &byte in word.as_bytes() {
            key = key.byte(byte.to_ascii_lowercase());
        }
        self.candidate_lookup.get(key.finish()).is_some()
    }

    /// The probability that the word these features (from [`cue_features`]) describe is a cue.
    pub fn probability(&self, features: &[String]) -> f64 {
        let logit = self.bias
            + features
                .iter()
                .filter_map(|feature| self.weight_lookup.get(feature_key(feature)?))
                .sum::<f32>();
        1.0 / (1.0 + (-f64::from(logit)).exp())
    }

    /// The probability that the word at `index` of the sentence `sentence` is a cue, or `None`
    /// where it is not a candidate word. The same number as [`CueModel::probability`] of its
    /// [`cue_features`], with no string built.
    pub fn score(
        &self,
        text: &str,
        tokens: &[Token],
        index: usize,
        sentence: &Sentence,
    ) -> Option<f64> {
        self.score_with(text, tokens, index, sentence, |at| {
            lower_hash_of(text, &tokens[at])
        })
    }

    /// [`CueModel::score`] with the words' lower-cased hashes read through `lower_of`.
    fn score_with(
        &self,
        text: &str,
        tokens: &[Token],
        index: usize,
        sentence: &Sentence,
        lower_of: impl Fn(usize) -> u64,
    ) -> Option<f64> {
        let token = tokens.get(index)?;
        if token.kind != TokenKind::Word || !self.is_candidate(token_text(text, token)) {
            return None;
        }
        // The keys first, then their slots asked for all at once, then the sum in the keys'
        // order: the lookups' cache misses overlap instead of coming one after another.
        let mut keys = [0u64; MAX_CUE_FEATURES];
        let mut count = 0;
        for_each_feature_key(text, tokens, index, sentence, lower_of, |key| {
            debug_assert!(
                count < MAX_CUE_FEATURES,
                "more cue features than MAX_CUE_FEATURES"
            );
            if let Some(slot) = keys.get_mut(count) {
                *slot = key;
                count += 1;
            }
        });
        let keys = &keys[..count];
        for &key in keys {
            self.weight_lookup.prefetch(key);
        }
        let mut logit = self.bias;
        for &key in keys {
            logit += self.weight_lookup.get(key).unwrap_or(0.0);
        }
        Some(1.0 / (1.0 + (-f64::from(logit)).exp()))
    }

    /// [`CueModel::score`] of every token of `segmented`, each within its sentence.
    pub fn score_all(&self, text: &str, segmented: &crate::segment::Segmented) -> Vec<Option<f64>> {
        let mut scores = vec![None; segmented.tokens.len()];
        for sentence in &segmented.sentences {
            for index in sentence.tokens.clone() {
                if let Some(slot) = scores.get_mut(index) {
                    *slot =
                        self.score_with(text, &segmented.tokens, index, &sentence.tokens, |at| {
                            segmented.lower_hash(text, at)
                        });
                }
            }
        }
        scores
    }

    /// Whether a probability from [`CueModel::score`] makes its word a cue.
    pub fn passes(&self, probability: f64) -> bool {
        probability >= f64::from(self.threshold)
    }

    /// Whether the word at `index` of the sentence `sentence` is a cue.
    pub fn is_cue(&self, text: &str, tokens: &[Token], index: usize, sentence: &Sentence) -> bool {
        self.score(text, tokens, index, sentence)
            .is_some_and(|probability| self.passes(probability))
    }
}

/// The token range of a sentence, as cue features see it.
pub type Sentence = std::ops::Range<usize>;

fn lower_word(text: &str, tokens: &[Token], index: Option<usize>, sentence: &Sentence) -> String {
    match index {
        Some(index) if sentence.contains(&index) => {
            let token = &tokens[index];
            match token.kind {
                TokenKind::OpenQuote | TokenKind::CloseQuote => "<q>".into(),
                TokenKind::Number => "<num>".into(),
                _ => token_text(text, token).to_lowercase(),
            }
        }
        _ => "<edge>".into(),
    }
}

/// The features of the word at `index`: its own form and ending, the words and word shapes two
/// to each side (a quotation mark counts as a word), whether "that" follows within four words,
/// whether the hand-made list has it, and whether it starts or ends the sentence.
pub fn cue_features(
    text: &str,
    tokens: &[Token],
    index: usize,
    sentence: &Sentence,
) -> Vec<String> {
    let at = |offset: isize| index.checked_add_signed(offset);
    let word = lower_word(text, tokens, Some(index), sentence);
    let previous = lower_word(text, tokens, at(-1), sentence);
    let next = lower_word(text, tokens, at(1), sentence);
    let ending: String = {
        let chars: Vec<char> = word.chars().collect();
        chars[chars.len().saturating_sub(3)..].iter().collect()
    };
    let that_follows = (index + 1..(index + 5).min(sentence.end))
        .any(|later| token_text(text, &tokens[later]).eq_ignore_ascii_case("that"));
    let lexicon = Lexicon::get();
    let mut features = vec![
        format!("w={word}"),
        format!("end={ending}"),
        format!("p={previous}"),
        format!("n={next}"),
        format!("n2={}", lower_word(text, tokens, at(2), sentence)),
        format!("p2={}", lower_word(text, tokens, at(-2), sentence)),
        format!("w,n={word},{next}"),
        format!("p,w={previous},{word}"),
        format!("ps={}", shape_of(text, tokens, at(-1), sentence)),
        format!("ns={}", shape_of(text, tokens, at(1), sentence)),
        format!(
            "ps,ns={},{}",
            shape_of(text, tokens, at(-1), sentence),
            shape_of(text, tokens, at(1), sentence)
        ),
        format!("w,ps={word},{}", shape_of(text, tokens, at(-1), sentence)),
        format!("w,ns={word},{}", shape_of(text, tokens, at(1), sentence)),
    ];
    if that_follows {
        features.push("that".into());
        features.push(format!("w,that={word}"));
    }
    if lexicon.cue_words.contains(word.as_str()) {
        features.push("listed".into());
    }
    if index == sentence.start {
        features.push("first".into());
    }
    if index + 2 >= sentence.end {
        features.push("last".into());
    }
    features
}

/// The hash of what [`lower_word`] writes, with a word's own lower-cased hash read through
/// `lower_of`.
fn lower_word_hash(
    tokens: &[Token],
    index: Option<usize>,
    sentence: &Sentence,
    lower_of: impl Fn(usize) -> u64,
) -> u64 {
    match index {
        Some(index) if sentence.contains(&index) => match tokens[index].kind {
            TokenKind::OpenQuote | TokenKind::CloseQuote => hash_str("<q>"),
            TokenKind::Number => hash_str("<num>"),
            _ => lower_of(index),
        },
        _ => hash_str("<edge>"),
    }
}

/// The shape of the word at `index`, or "edge" outside the sentence; a pronoun is matched
/// without lower-casing the word into a new string.
fn shape_of(
    text: &str,
    tokens: &[Token],
    index: Option<usize>,
    sentence: &Sentence,
) -> &'static str {
    let lexicon = Lexicon::get();
    let Some(index) = index.filter(|index| sentence.contains(index)) else {
        return "edge";
    };
    let token = &tokens[index];
    let word = token_text(text, token);
    match token.kind {
        TokenKind::OpenQuote | TokenKind::CloseQuote => "quote",
        TokenKind::Number => "number",
        TokenKind::Punct => "punct",
        TokenKind::Word
            if ["he", "she", "they", "i", "we", "you", "it", "who"]
                .iter()
                .any(|pronoun| word.eq_ignore_ascii_case(pronoun)) =>
        {
            "pronoun"
        }
        TokenKind::Word if contains_lower(&lexicon.titles, word) => "title",
        TokenKind::Word if word.chars().next().is_some_and(char::is_uppercase) => "capital",
        TokenKind::Word => "lower",
    }
}

/// The last three characters of the lower-cased word, streamed into `hash`.
fn ending_hash(hash: Fnv, word: &str) -> Fnv {
    if word.is_ascii() {
        let bytes = word.as_bytes();
        let mut hash = hash;
        for &byte in &bytes[bytes.len().saturating_sub(3)..] {
            hash = hash.byte(byte.to_ascii_lowercase());
        }
        return hash;
    }
    // Lower-casing can lengthen a character, so the last three lower-case characters come from
    // the last three of the word.
    let mut lowered = ['\0'; 12];
    let mut count = 0;
    let mut tail = ['\0'; 3];
    let mut kept = 0;
    for ch in word.chars().rev().take(3) {
        tail[2 - kept] = ch;
        kept += 1;
    }
    for ch in tail[3 - kept..].iter().flat_map(|ch| ch.to_lowercase()) {
        if count < lowered.len() {
            lowered[count] = ch;
            count += 1;
        }
    }
    let mut hash = hash;
    let mut buffer = [0u8; 4];
    for ch in &lowered[count.saturating_sub(3)..count] {
        hash = hash.bytes(ch.encode_utf8(&mut buffer).as_bytes());
    }
    hash
}

/// Whether the hand-made list has the word, lower-cased.
fn is_listed(word: &str) -> bool {
    contains_lower(&Lexicon::get().cue_words, word)
}

/// The templates of [`cue_features`]: a feature's key mixes its template with the hashes of
/// its parts, so that a word is hashed once for all the features it is part of, where hashing
/// each feature's whole string went over the word again for each.
#[derive(Debug, Clone, Copy)]
#[repr(u64)]
enum CueTemplate {
    Word = 1,
    Ending,
    Previous,
    Next,
    SecondNext,
    SecondPrevious,
    WordNext,
    PreviousWord,
    PreviousShape,
    NextShape,
    Shapes,
    WordPreviousShape,
    WordNextShape,
    That,
    WordThat,
    Listed,
    First,
    Last,
}

/// The key of a feature of `template` whose parts hash to `parts`.
fn template_key(template: CueTemplate, parts: &[u64]) -> u64 {
    mix(
        template as u64,
        parts.iter().fold(0, |packed, &part| mix(packed, part)),
    )
}

/// The key of a feature string of [`cue_features`], the same number that
/// [`for_each_feature_key`] gives the feature without making its string; `None` for a string
/// that `cue_features` does not make.
fn feature_key(feature: &str) -> Option<u64> {
    use CueTemplate::*;
    let one = |template, part: &str| Some(template_key(template, &[hash_str(part)]));
    let two = |template, (first, second): (&str, &str)| {
        Some(template_key(template, &[hash_str(first), hash_str(second)]))
    };
    match feature {
        "that" => return Some(template_key(That, &[])),
        "listed" => return Some(template_key(Listed, &[])),
        "first" => return Some(template_key(First, &[])),
        "last" => return Some(template_key(Last, &[])),
        _ => {}
    }
    let (name, value) = feature.split_once('=')?;
    // The word itself never holds a comma (the tokenizer splits at commas), but a neighbour
    // may be one: the pair splits at the comma on the word's side.
    match name {
        "w" => one(Word, value),
        "end" => one(Ending, value),
        "p" => one(Previous, value),
        "n" => one(Next, value),
        "n2" => one(SecondNext, value),
        "p2" => one(SecondPrevious, value),
        "w,n" => two(WordNext, value.split_once(',')?),
        "p,w" => two(PreviousWord, value.rsplit_once(',')?),
        "ps" => one(PreviousShape, value),
        "ns" => one(NextShape, value),
        "ps,ns" => two(Shapes, value.split_once(',')?),
        "w,ps" => two(WordPreviousShape, value.split_once(',')?),
        "w,ns" => two(WordNextShape, value.split_once(',')?),
        "w,that" => one(WordThat, value),
        _ => None,
    }
}

/// The key ([`feature_key`]) of every string that [`cue_features`] makes, in the same order,
/// without making them: the run-time path of the model.
fn for_each_feature_key(
    text: &str,
    tokens: &[Token],
    index: usize,
    sentence: &Sentence,
    lower_of: impl Fn(usize) -> u64,
    mut emit: impl FnMut(u64),
) {
    use CueTemplate::*;
    let at = |offset: isize| index.checked_add_signed(offset);
    let word_at = |at: Option<usize>| lower_word_hash(tokens, at, sentence, &lower_of);
    let word = word_at(Some(index));
    let previous = word_at(at(-1));
    let next = word_at(at(1));
    let word_text = token_text(text, &tokens[index]);
    emit(template_key(Word, &[word]));
    emit(template_key(
        Ending,
        &[ending_hash(Fnv::new(), word_text).finish()],
    ));
    emit(template_key(Previous, &[previous]));
    emit(template_key(Next, &[next]));
    emit(template_key(SecondNext, &[word_at(at(2))]));
    emit(template_key(SecondPrevious, &[word_at(at(-2))]));
    emit(template_key(WordNext, &[word, next]));
    emit(template_key(PreviousWord, &[previous, word]));
    let previous_shape = hash_str(shape_of(text, tokens, at(-1), sentence));
    let next_shape = hash_str(shape_of(text, tokens, at(1), sentence));
    emit(template_key(PreviousShape, &[previous_shape]));
    emit(template_key(NextShape, &[next_shape]));
    emit(template_key(Shapes, &[previous_shape, next_shape]));
    emit(template_key(WordPreviousShape, &[word, previous_shape]));
    emit(template_key(WordNextShape, &[word, next_shape]));
    let that_follows = (index + 1..(index + 5).min(sentence.end))
        .any(|later| token_text(text, &tokens[later]).eq_ignore_ascii_case("that"));
    if that_follows {
        emit(template_key(That, &[]));
        emit(template_key(WordThat, &[word]));
    }
    if is_listed(word_text) {
        emit(template_key(Listed, &[]));
    }
    if index == sentence.start {
        emit(template_key(First, &[]));
    }
    if index + 2 >= sentence.end {
        emit(template_key(Last, &[]));
    }
}

/// How to fit a [`CueModel`].
#[derive(Debug, Clone)]
pub struct CueTrainOptions {
    pub epochs: usize,
    pub learning_rate: f32,
    pub l2: f32,
    /// Features seen fewer times than this are dropped.
    pub min_count: usize,
    /// Words that were cues fewer times than this are never scored.
    pub min_cue_count: usize,
    /// Nor are words that were cues in a smaller share of their occurrences than this: they
    /// could hardly reach the threshold, and scoring "the" and "of" would cost most of the time.
    pub min_cue_rate: f64,
    pub threshold: f32,
}

impl Default for CueTrainOptions {
    fn default() -> Self {
        CueTrainOptions {
            epochs: 8,
            learning_rate: 0.2,
            l2: 1e-6,
            min_count: 3,
            min_cue_count: 2,
            min_cue_rate: 0.1,
            threshold: 0.85,
        }
    }
}

/// One training example: the word (lower-cased), its features, and whether it was a cue.
pub type CueExample = (String, Vec<String>, bool);

/// Fits the model by stochastic gradient descent in example order (no shuffling), from zero
/// weights, so that the same examples always give the same model.
pub fn fit_cue_model(
    examples: &[CueExample],
    options: &CueTrainOptions,
    provenance: String,
) -> CueModel {
    // (times a cue, times seen) per word.
    let mut cue_counts: HashMap<&str, (usize, usize)> = HashMap::new();
    for (word, _, is_cue) in examples {
        let counts = cue_counts.entry(word.as_str()).or_default();
        counts.0 += usize::from(*is_cue);
        counts.1 += 1;
    }
    let candidates: BTreeSet<String> = cue_counts
        .into_iter()
        .filter(|&(_, (cues, seen))| {
            cues >= options.min_cue_count && cues as f64 >= options.min_cue_rate * seen as f64
        })
        .map(|(word, _)| word.to_string())
        .collect();
    let kept: Vec<&CueExample> = examples
        .iter()
        .filter(|(word, _, _)| candidates.contains(word))
        .collect();
    let mut feature_counts: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, features, _) in &kept {
        for feature in features {
            *feature_counts.entry(feature.as_str()).or_default() += 1;
        }
    }
    let vocabulary: HashMap<&str, usize> = feature_counts
        .iter()
        .filter(|&(_, &count)| count >= options.min_count)
        .enumerate()
        .map(|(slot, (&feature, _))| (feature, slot))
        .collect();
    let rows: Vec<(Vec<usize>, f32)> = kept
        .iter()
        .map(|(_, features, is_cue)| {
            let mut ids: Vec<usize> = features
                .iter()
                .filter_map(|feature| vocabulary.get(feature.as_str()).copied())
                .collect();
            ids.sort_unstable();
            ids.dedup();
            (ids, if *is_cue { 1.0 } else { 0.0 })
        })
        .collect();
    let mut weights = vec![0f32; vocabulary.len()];
    // AdaGrad keeps rare features' steps large and frequent ones' small.
    let mut squared = vec![1e-8f32; vocabulary.len()];
    let mut bias = 0f32;
    let mut bias_squared = 1e-8f32;
    for _ in 0..options.epochs {
        for (ids, label) in &rows {
            let logit = bias + ids.iter().map(|&id| weights[id]).sum::<f32>();
            let error = 1.0 / (1.0 + (-logit).exp()) - label;
            bias_squared += error * error;
            bias -= options.learning_rate * error / bias_squared.sqrt();
            for &id in ids {
                let gradient = error + options.l2 * weights[id];
                squared[id] += gradient * gradient;
                weights[id] -= options.learning_rate * gradient / squared[id].sqrt();
            }
        }
    }
    let weights: BTreeMap<String, f32> = feature_counts
        .keys()
        .filter_map(|feature| {
            let weight = weights[*vocabulary.get(feature)?];
            // Rounded so that the file stays small and reads the same on every platform.
            let rounded = (weight * 1e4).round() / 1e4;
            (rounded != 0.0).then(|| (feature.to_string(), rounded))
        })
        .collect();
    CueModel {
        provenance,
        candidates,
        weights,
        bias: (bias * 1e4).round() / 1e4,
        threshold: options.threshold,
        candidate_lookup: KeyTable::default(),
        weight_lookup: KeyTable::default(),
    }
    .prepared()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::segment;

    fn examples_from(text: &str, cue_words: &[&str]) -> Vec<CueExample> {
        let segmented = segment(text);
        let mut examples = Vec::new();
        for sentence in &segmented.sentences {
            for index in sentence.tokens.clone() {
                let token = &segmented.tokens[index];
                if token.kind != TokenKind::Word {
                    continue;
                }
                let word = token_text(text, token).to_lowercase();
                let is_cue = cue_words.contains(&word.as_str())
                    && index > sentence.tokens.start
                    && !token_text(text, &segmented.tokens[index - 1]).eq_ignore_ascii_case("the");
                let features = cue_features(text, &segmented.tokens, index, &sentence.tokens);
                examples.push((word, features, is_cue));
            }
        }
        examples
    }

    #[test]
    fn the_model_learns_that_context_decides() {
        let training = "He said the plan works. The said plan failed. She said it was over. \
                        The said treaty ended. They said they agreed. The said rule stands.";
        let examples = examples_from(&training.repeat(5), &["said"]);
        let options = CueTrainOptions {
            threshold: 0.5,
            ..CueTrainOptions::default()
        };
        let model = fit_cue_model(&examples, &options, "test".into());
        assert!(model.is_candidate("said"));
        assert!(model.is_candidate("Said"));
        assert!(!model.is_candidate("plan"));
        let text = "We said it works. The said plan works.";
        let segmented = segment(text);
        let sentences: Vec<Sentence> = segmented
            .sentences
            .iter()
            .map(|sentence| sentence.tokens.clone())
            .collect();
        let said_after_pronoun = sentences[0].start + 1;
        let said_after_the = sentences[1].start + 1;
        assert_eq!(token_text(text, &segmented.tokens[said_after_the]), "said");
        assert!(model.is_cue(text, &segmented.tokens, said_after_pronoun, &sentences[0]));
        assert!(!model.is_cue(text, &segmented.tokens, said_after_the, &sentences[1]));
    }

    #[test]
    fn fitting_is_deterministic_and_the_model_round_trips() {
        let examples = examples_from(&"She said so. The said law.".repeat(4), &["said"]);
        let first = fit_cue_model(&examples, &CueTrainOptions::default(), "test".into());
        let second = fit_cue_model(&examples, &CueTrainOptions::default(), "test".into());
        assert_eq!(first.weights, second.weights);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cue.json");
        first.save(&path).unwrap();
        let loaded = CueModel::load(&path).unwrap();
        assert_eq!(loaded.weights, first.weights);
        assert_eq!(loaded.candidates, first.candidates);
    }

    #[test]
    fn features_at_the_edges_do_not_panic() {
        let text = "said";
        let segmented = segment(text);
        let features = cue_features(text, &segmented.tokens, 0, &(0..1));
        assert!(features.contains(&"p=<edge>".to_string()));
        assert!(features.contains(&"n=<edge>".to_string()));
    }

    #[test]
    fn streamed_keys_are_the_keys_of_the_string_features() {
        // Neighbours that are commas, quotation marks, numbers and sentence edges too: a
        // pair's string then holds more than the one comma that separates its parts.
        let text = "“Ärger,” SAID Ms. Müller-Lüdenscheidt; she said that İstanbul said 42 things. \
                    Yes, said Kerry, “fine,” he added, 2016, as officials argued that.";
        let segmented = segment(text);
        for sentence in &segmented.sentences {
            for index in sentence.tokens.clone() {
                if segmented.tokens[index].kind != TokenKind::Word {
                    continue;
                }
                let strings: Vec<u64> =
                    cue_features(text, &segmented.tokens, index, &sentence.tokens)
                        .iter()
                        .map(|feature| feature_key(feature).expect(feature))
                        .collect();
                let mut streamed = Vec::new();
                for_each_feature_key(
                    text,
                    &segmented.tokens,
                    index,
                    &sentence.tokens,
                    |at| segmented.lower_hash(text, at),
                    |key| streamed.push(key),
                );
                assert_eq!(streamed, strings, "token {index}");
                assert!(streamed.len() <= MAX_CUE_FEATURES, "token {index}");
            }
        }
    }

    #[test]
    fn a_word_with_every_optional_feature_fits_the_key_buffer() {
        // "said" is listed, opens its sentence, ends it but for one word, and "that" follows.
        let text = "said that";
        let segmented = segment(text);
        let sentence = &segmented.sentences[0].tokens;
        let mut count = 0;
        for_each_feature_key(
            text,
            &segmented.tokens,
            0,
            sentence,
            |at| segmented.lower_hash(text, at),
            |_| count += 1,
        );
        assert_eq!(count, 18);
        assert!(count <= MAX_CUE_FEATURES);
    }

    #[test]
    fn a_pair_splits_at_the_comma_on_the_word_s_side() {
        let key = |template, first: &str, second: &str| {
            Some(template_key(template, &[hash_str(first), hash_str(second)]))
        };
        assert_eq!(
            feature_key("p,w=,,said"),
            key(CueTemplate::PreviousWord, ",", "said")
        );
        assert_eq!(
            feature_key("w,n=said,,"),
            key(CueTemplate::WordNext, "said", ",")
        );
        assert_eq!(
            feature_key("p=="),
            Some(template_key(CueTemplate::Previous, &[hash_str("=")]))
        );
        assert_eq!(feature_key("no such feature"), None);
        assert_eq!(feature_key("x=said"), None);
        assert_eq!(feature_key("w,n=said"), None);
    }

    #[test]
    fn every_feature_of_the_shipped_model_has_a_key_of_its_own() {
        let model = CueModel::shipped().unwrap();
        let keys: std::collections::HashSet<u64> = model
            .weights
            .keys()
            .map(|feature| feature_key(feature).unwrap_or_else(|| panic!("{feature:?}")))
            .collect();
        assert_eq!(keys.len(), model.weights.len());
    }

    #[test]
    fn scores_equal_the_string_path() {
        let model = CueModel::shipped().unwrap();
        let text =
            "Kerry said that the said treaty, he insisted, was agreed, officials told reporters.";
        let segmented = segment(text);
        let sentence = &segmented.sentences[0].tokens;
        for index in sentence.clone() {
            let Some(streamed) = model.score(text, &segmented.tokens, index, sentence) else {
                continue;
            };
            let strings =
                model.probability(&cue_features(text, &segmented.tokens, index, sentence));
            assert!((streamed - strings).abs() < 1e-6, "token {index}");
        }
    }

    #[test]
    fn scoring_every_token_at_once_gives_each_token_s_own_score() {
        let model = CueModel::shipped().unwrap();
        let text =
            "Kerry said the talks went well. The said treaty, officials told reporters, holds.";
        let segmented = segment(text);
        let scores = model.score_all(text, &segmented);
        assert_eq!(scores.len(), segmented.tokens.len());
        for sentence in &segmented.sentences {
            for index in sentence.tokens.clone() {
                let own = model.score(text, &segmented.tokens, index, &sentence.tokens);
                assert_eq!(scores[index], own, "token {index}");
            }
        }
        assert!(scores.iter().any(Option::is_some) && scores.iter().any(Option::is_none));
    }

    #[test]
    fn the_shipped_model_loads() {
        let model = CueModel::shipped().unwrap();
        assert!(model.is_candidate("said"));
        assert!(model.threshold > 0.0 && model.threshold < 1.0);
    }
}
