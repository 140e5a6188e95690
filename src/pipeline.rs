//! The document and the pipeline that fills its layers.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::attribute::{attribute, Attribution};
use crate::confidence::ConfidenceModel;
use crate::cue::CueModel;
use crate::error::Result;
use crate::normalise::{normalise, Normalised};
use crate::offsets::CharIndex;
use crate::quotes::{find_quotes, quoted_regions, CueDetector, QuotedRegion};
use crate::record::{
    DocumentRecord, EntityRecord, ErrorKind, ErrorRecord, MentionRecord, QuoteRecord, SpanRecord,
    SpeakerRecord,
};
use crate::segment::{segment, Segmented};
use crate::speakers::{find_speakers, Speakers};

/// One analysed document. It owns the original text; every layer holds offsets into its cleaned
/// view, which [`Document::span`] maps back to the original.
#[derive(Debug, Clone)]
pub struct Document {
    pub id: String,
    pub text: String,
    pub normalised: Normalised,
    pub segmented: Segmented,
    pub regions: Vec<QuotedRegion>,
    pub speakers: Speakers,
    pub attributions: Vec<Attribution>,
}

/// How to build a [`Pipeline`].
#[derive(Debug, Clone, Default)]
pub struct PipelineConfig {
    /// A confidence model to use instead of the shipped one.
    pub confidence_model: Option<PathBuf>,
    pub cues: CueChoice,
    pub spans: SpanChoice,
}

/// What finds the quotes' spans and links them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SpanChoice {
    /// The rule stages alone.
    Rules,
    /// The learned tagger and linker of `models/` ([`crate::linker::tag_and_link`]).
    #[default]
    Learned,
    /// A learned tagger and linker from these files (the shipped ones where `None`).
    Models {
        tagger: Option<PathBuf>,
        linker: Option<PathBuf>,
        /// Keep every piece of an interrupted content in one quote, as PolNeAR annotates it,
        /// instead of splitting off the pieces after a sentence end as quotes of their own.
        joined: bool,
    },
}

/// Which cue detector quote finding uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CueChoice {
    /// The learned model in `models/cue-model.json`.
    #[default]
    Shipped,
    /// A learned model from this file.
    Model(PathBuf),
    /// The hand-made word list, as before the model (for ablations).
    Listed,
}

/// The whole analysis, from text to [`DocumentRecord`].
#[derive(Debug, Clone)]
pub struct Pipeline {
    confidence: ConfidenceModel,
    /// `None` for the hand-made word list.
    cues: Option<CueModel>,
    /// `None` where the rule stages find and link the spans.
    learned: Option<crate::linker::LearnedSpans>,
}

impl Pipeline {
    pub fn new(config: PipelineConfig) -> Result<Self> {
        let confidence = match &config.confidence_model {
            Some(path) => ConfidenceModel::load(path)?,
            None => ConfidenceModel::shipped()?,
        };
        let cues = match &config.cues {
            CueChoice::Shipped => Some(CueModel::shipped()?.clone()),
            CueChoice::Model(path) => Some(CueModel::load(path)?),
            CueChoice::Listed => None,
        };
        let learned = crate::linker::LearnedSpans::from_choice(&config.spans)?;
        Ok(Pipeline {
            confidence,
            cues,
            learned,
        })
    }

    /// The learned cue model quote finding uses (`None` for the hand-made word list).
    pub fn cue_model(&self) -> Option<&CueModel> {
        self.cues.as_ref()
    }

    /// Runs every stage on one text.
    pub fn analyse(&self, id: &str, text: &str) -> Document {
        match self.run_stages(id, text, |_| Ok::<(), std::convert::Infallible>(())) {
            Ok(document) => document,
            Err(never) => match never {},
        }
    }

    /// Runs every stage on one text, giving up between stages once `deadline` has passed.
    pub fn analyse_within(
        &self,
        id: &str,
        text: &str,
        deadline: Option<Instant>,
    ) -> Result<Document, TimedOut> {
        self.run_stages(id, text, |stage| match deadline {
            Some(deadline) if Instant::now() >= deadline => Err(TimedOut { stage }),
            _ => Ok(()),
        })
    }

    /// The stages in order, with `check` called after each with the stage's name.
    fn run_stages<E>(
        &self,
        id: &str,
        text: &str,
        check: impl Fn(&'static str) -> Result<(), E>,
    ) -> Result<Document, E> {
        check("start")?;
        let normalised = normalise(text);
        check("normalise")?;
        let clean = normalised.text.as_str();
        let segmented = segment(clean);
        check("segment")?;
        let regions = quoted_regions(clean, &normalised, &segmented);
        let detector = match &self.cues {
            Some(model) => CueDetector::Learned(model),
            None => CueDetector::Listed,
        };
        let quotes = find_quotes(clean, &segmented, &regions, detector);
        check("quotes")?;
        let mut speakers = find_speakers(clean, &segmented, &regions);
        check("speakers")?;
        // The learned linker starts from the speakers as found, before the rules linked them.
        let found_speakers = self.learned.as_ref().map(|_| speakers.clone());
        let attributions = attribute(clean, &segmented, quotes, &mut speakers);
        check("attribute")?;
        let mut document = Document {
            id: id.to_string(),
            text: text.to_string(),
            normalised,
            segmented,
            regions,
            speakers,
            attributions,
        };
        if let (Some(learned), Some(found)) = (&self.learned, found_speakers) {
            let (attributions, speakers) =
                crate::linker::tag_and_link(&document, found, learned, self.cues.as_ref());
            document.attributions = attributions;
            document.speakers = speakers;
            check("learned spans")?;
        }
        for attribution in &mut document.attributions {
            attribution.confidence = self.confidence.probability(&attribution.features);
        }
        Ok(document)
    }

    /// Analyses one text into its output record.
    pub fn extract(&self, id: &str, text: &str) -> DocumentRecord {
        self.analyse(id, text).to_record()
    }

    /// Analyses many texts in parallel; the records come back in input order, with ids `0`, `1`…
    pub fn predict(&self, texts: &[&str]) -> Vec<DocumentRecord> {
        texts
            .par_iter()
            .enumerate()
            .map(|(index, text)| self.extract(&index.to_string(), text))
            .collect()
    }

    /// Analyses one text, turning a panic (a bug) into an error record so that one document
    /// never stops a batch.
    pub fn extract_guarded(&self, id: &str, text: &str) -> DocumentRecord {
        self.extract_within(id, text, None)
    }

    /// As [`Pipeline::extract_guarded`], and a document still unfinished after `budget` gets a
    /// time-out error record instead of holding up the batch.
    pub fn extract_within(&self, id: &str, text: &str, budget: Option<Duration>) -> DocumentRecord {
        let started = Instant::now();
        let deadline = budget.map(|budget| started + budget);
        let analysed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.analyse_within(id, text, deadline)
                .map(|document| document.to_record())
        }));
        match analysed {
            Ok(Ok(record)) => record,
            Ok(Err(TimedOut { stage })) => DocumentRecord::failed(
                id,
                ErrorKind::Timeout,
                format!(
                    "document {id} took longer than its budget of {:.3} s (stopped after {:.3} s, at the {stage} stage)",
                    budget.unwrap_or_default().as_secs_f64(),
                    started.elapsed().as_secs_f64()
                ),
            ),
            Err(_) => DocumentRecord::failed(
                id,
                ErrorKind::Internal,
                "the analysis failed on this document; please report it".into(),
            ),
        }
    }
}

/// A document ran past its time budget; `stage` is the last stage it finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimedOut {
    pub stage: &'static str,
}

impl DocumentRecord {
    /// The record of a document that could not be analysed.
    pub fn failed(id: &str, kind: ErrorKind, message: String) -> Self {
        DocumentRecord {
            id: id.to_string(),
            quotes: Vec::new(),
            entities: Vec::new(),
            meta: None,
            error: Some(ErrorRecord { kind, message }),
        }
    }
}

impl Document {
    /// The original-text span of a cleaned-view byte range, whitespace trimmed.
    pub fn span(&self, index: &CharIndex, clean_start: usize, clean_end: usize) -> SpanRecord {
        let mut start = self.normalised.original_start(clean_start);
        let mut end = self.normalised.original_end(clean_end).max(start);
        let slice = &self.text[start..end];
        let trimmed_start = slice.len() - slice.trim_start().len();
        start += trimmed_start;
        end -= slice.len() - slice.trim_end().len();
        end = end.max(start);
        SpanRecord {
            start: index.char_offset(start),
            end: index.char_offset(end),
            text: self.text[start..end].to_string(),
        }
    }

    /// The output record of this document.
    pub fn to_record(&self) -> DocumentRecord {
        let index = CharIndex::new(&self.text);
        // Entities are numbered by first mention, so that ids are stable and readable.
        let mut used: Vec<usize> = (0..self.speakers.entities.len())
            .filter(|&entity| !self.speakers.entities[entity].mentions.is_empty())
            .collect();
        used.sort_by_key(|&entity| {
            let first = self.speakers.entities[entity].mentions[0];
            self.speakers.mentions[first].start
        });
        let mut id_of = vec![None; self.speakers.entities.len()];
        for (number, &entity) in used.iter().enumerate() {
            id_of[entity] = Some(format!("e{}", number + 1));
        }
        let mention_span = |mention: usize| {
            let mention = &self.speakers.mentions[mention];
            self.span(&index, mention.start, mention.end)
        };
        let quotes = self
            .attributions
            .iter()
            .map(|attribution| QuoteRecord {
                kind: attribution.kind,
                content: self.span(&index, attribution.start, attribution.end),
                cue: attribution
                    .cue
                    .as_ref()
                    .map(|cue| self.span(&index, cue.start, cue.end)),
                speaker: attribution.entity.and_then(|entity| {
                    Some(SpeakerRecord {
                        name: self.speakers.entities[entity].name.clone(),
                        entity: id_of[entity].clone()?,
                        mention: attribution.mention.map(mention_span),
                    })
                }),
                confidence: attribution.confidence,
                stance: None,
                targets: None,
            })
            .collect();
        let entities = used
            .iter()
            .filter_map(|&entity| {
                let data = &self.speakers.entities[entity];
                Some(EntityRecord {
                    id: id_of[entity].clone()?,
                    name: data.name.clone(),
                    kind: data.kind,
                    title: data.title.clone(),
                    aliases: data.aliases.clone(),
                    mentions: data
                        .mentions
                        .iter()
                        .map(|&mention| {
                            let span = mention_span(mention);
                            MentionRecord {
                                start: span.start,
                                end: span.end,
                                text: span.text,
                                kind: self.speakers.mentions[mention].kind,
                            }
                        })
                        .collect(),
                })
            })
            .collect();
        DocumentRecord {
            id: self.id.clone(),
            quotes,
            entities,
            meta: None,
            error: None,
        }
    }
}
