//! The transformer tagger as a pipeline stage: a batch stage between the rule stages, which
//! its head reads as evidence, and the linker, which links its spans.
//!
//! The stage reads each going document's layers in parallel (word pieces, evidence), then runs
//! the windows of a few documents at a time through the network's copies, side by side, so
//! that a stop request is seen between groups and only one group's window scores are held at
//! once. Each document is charged its share of the time by its number of windows.

use std::time::{Duration, Instant};

use rayon::prelude::*;
use tokenizers::Tokenizer;

use super::transformer::{
    decode_inputs, encoder_parts, tagger_input, TaggerInput, TaggerPool, TaggerSettings,
    TransformerTaggerConfig,
};
use crate::cue::CueModel;
use crate::document::states::TokenStates;
use crate::document::Document;
use crate::error::Result;
use crate::stage::{BatchStage, ChunkClock};

/// Documents whose windows go through the network together.
const DOCUMENTS_PER_GROUP: usize = 8;

pub struct TransformerTagStage {
    taggers: TaggerPool,
    /// A copy of the tagger's tokenizer, so that reading documents runs in parallel.
    tokenizer: Tokenizer,
    settings: TaggerSettings,
    encoder_dir: std::path::PathBuf,
    /// The cue model quote finding uses, whose levels are part of the evidence.
    cues: Option<std::sync::Arc<CueModel>>,
    /// Fast mode's linear tagger, which a stacked tagger reads.
    linear: Option<std::sync::Arc<crate::tagger::SpanModel>>,
    /// Whether each document keeps its piece states for stance to read.
    keep_states: bool,
}

impl TransformerTagStage {
    pub fn new(
        config: TransformerTaggerConfig,
        cues: Option<std::sync::Arc<CueModel>>,
        linear: Option<std::sync::Arc<crate::tagger::SpanModel>>,
    ) -> Result<Self> {
        let encoder_dir = config.encoder_dir.clone();
        let keep_states = config.keep_states_after.is_some();
        let taggers = TaggerPool::new(config)?;
        let settings = taggers.first().settings();
        let (_, tokenizer) = encoder_parts(&encoder_dir, settings.layers)?;
        Ok(TransformerTagStage {
            taggers,
            tokenizer,
            settings,
            encoder_dir,
            cues,
            linear,
            keep_states,
        })
    }

    /// SHA-256 of the tagger's file: what a stance head that reads its states names.
    pub fn digest(&self) -> String {
        self.taggers.first().digest.clone()
    }

    fn input(&self, document: &Document) -> Result<TaggerInput> {
        let proposals = crate::tagger::proposals(document);
        let layers = crate::tagger::layers(document, &proposals, self.cues.as_deref());
        tagger_input(
            &self.tokenizer,
            &self.encoder_dir,
            &self.settings,
            &layers,
            self.linear.as_deref(),
        )
    }
}

impl BatchStage for TransformerTagStage {
    fn name(&self) -> &'static str {
        "transformer tagging"
    }

    fn run(&self, documents: &mut [&mut Document], clock: &ChunkClock) -> Result<()> {
        let started = Instant::now();
        let inputs: Vec<TaggerInput> = documents
            .par_iter()
            .map(|document| self.input(document))
            .collect::<Result<_>>()?;
        let reading = started.elapsed();
        let total_windows: usize = inputs.iter().map(|input| input.windows.len()).sum();
        let hidden = self.taggers.first().hidden_size();
        let starts: Vec<usize> = (0..documents.len()).step_by(DOCUMENTS_PER_GROUP).collect();
        for start in starts {
            if clock.stopped() {
                break;
            }
            let end = (start + DOCUMENTS_PER_GROUP).min(documents.len());
            let group_started = Instant::now();
            let group: Vec<&TaggerInput> = inputs[start..end].iter().collect();
            let (scores, mut states) = self.taggers.score_keeping_states(&group)?;
            let tagged = decode_inputs(&scores, &group);
            let elapsed = group_started.elapsed();
            let group_windows: usize = group.iter().map(|input| input.windows.len()).sum();
            states.resize_with(group.len(), Vec::new);
            for ((((document, spans), scores), input), states) in documents[start..end]
                .iter_mut()
                .zip(tagged)
                .zip(scores)
                .zip(&group)
                .zip(states)
            {
                let share = share_of(elapsed, input.windows.len(), group_windows)
                    + share_of(reading, input.windows.len(), total_windows);
                document.spent += share;
                document.tagged = Some(spans);
                document.tag_scores = Some(scores);
                if self.keep_states {
                    document.token_states = Some(original_states(document, input, states, hidden));
                }
                if clock.remaining(document) == Some(Duration::ZERO) {
                    clock.time_out(document, self.name());
                }
            }
        }
        Ok(())
    }
}

/// A document's piece states with each piece's offsets in its original text.
fn original_states(
    document: &Document,
    input: &TaggerInput,
    states: Vec<f32>,
    dim: usize,
) -> TokenStates {
    TokenStates {
        offsets: input
            .pieces
            .offsets
            .iter()
            .map(|range| Some(document.span(range.start, range.end).range()))
            .collect(),
        states,
        dim,
    }
}

/// `part` of `whole` windows' share of `time`.
fn share_of(time: Duration, part: usize, whole: usize) -> Duration {
    if whole == 0 {
        return Duration::ZERO;
    }
    time.mul_f64(part as f64 / whole as f64)
}
