//! The document: one text and the layers that the stages add to it, from input to output.
//!
//! A [`Document`] owns its original text. The normaliser adds a cleaned view with a map back to
//! the original; every later layer holds byte offsets into that cleaned view, and
//! [`Document::span`] maps them back to a [`Span`] of the original. Offsets become the output's
//! code points once, in [`Document::to_record`], the last step.

pub mod attribution;
pub mod normalised;
pub mod quotes;
pub mod segmented;
pub mod speakers;
pub mod states;
pub mod tagged;

use std::ops::Range;
use std::time::Duration;

use crate::labels::{ErrorKind, StanceScore};
use crate::offsets::CharIndex;
use crate::record::{
    DocumentRecord, EntityRecord, ErrorRecord, MentionRecord, QuoteRecord, SpanRecord,
    SpeakerRecord, TargetRecord,
};

use attribution::Attribution;
use normalised::Normalised;
use quotes::{Quote, QuotedRegion};
use segmented::Segmented;
use speakers::Speakers;

/// A byte range of a document's original text: the one span type inside the library. The
/// output's code-point offsets are made from it at the record edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    pub fn range(self) -> Range<usize> {
        self.start..self.end
    }

    pub fn is_empty(self) -> bool {
        self.start >= self.end
    }

    /// Whether `other` lies within this span.
    pub fn contains(self, other: Span) -> bool {
        self.start <= other.start && other.end <= self.end
    }

    /// This span in the output's terms: code points into `text`, with the text itself.
    pub fn to_record(self, text: &str, index: &CharIndex) -> SpanRecord {
        SpanRecord {
            start: index.char_offset(self.start),
            end: index.char_offset(self.end),
            text: text[self.range()].to_string(),
        }
    }
}

/// Why a document stopped before the end of the pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Still going, or finished.
    Going,
    /// It cannot be analysed (bad input, a time-out, a stage that failed on it); its record
    /// carries the error.
    Failed(ErrorRecord),
    /// The run was asked to stop while this document was in flight: it gets no record, and a
    /// resumed run analyses it again.
    Stopped,
}

/// The stance layer of one attribution.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QuoteStance {
    /// The tone of the quote.
    pub tone: Option<StanceScore>,
    /// The quote's stance toward each other entity it names.
    pub targets: Vec<TargetStance>,
}

/// A quote's stance toward one entity.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetStance {
    /// Index into [`Speakers::entities`].
    pub entity: usize,
    /// The entity's first name-mention inside the quote.
    pub mention: Span,
    pub score: StanceScore,
}

/// One analysed document. Each stage adds a layer; a layer a stage has not reached yet is empty.
#[derive(Debug, Clone)]
pub struct Document {
    pub id: String,
    /// The original text.
    pub text: String,
    /// The input record's other fields, for JSONL input.
    pub meta: Option<serde_json::Map<String, serde_json::Value>>,
    /// Whether the document is still going through the stages.
    pub outcome: Outcome,
    /// The time its stages have taken so far, against its budget.
    pub spent: Duration,
    /// The cleaned view and its map to the original ([`crate::normalise`]).
    pub normalised: Normalised,
    /// Paragraphs, sentences and tokens of the cleaned view ([`crate::segment`]).
    pub segmented: Segmented,
    /// Stretches between paired quotation marks ([`crate::quotes`]).
    pub regions: Vec<QuotedRegion>,
    /// The learned cue model's probability for each token, `None` where the token is no
    /// candidate word; empty where the hand-made list finds cues ([`crate::quotes`]). Quote
    /// finding and the span tagger both read it, so each word is scored once.
    pub cue_scores: Vec<Option<f64>>,
    /// Proposed quotes, each with its cue and where its source should be ([`crate::quotes`]).
    pub quotes: Vec<Quote>,
    /// Mentions of people and organisations, grouped into entities ([`crate::speakers`]).
    pub speakers: Speakers,
    /// Quotes with their speakers and confidence ([`crate::attribute`], [`crate::confidence`]).
    pub attributions: Vec<Attribution>,
    /// The speakers layer as the speaker stage made it, kept where the rules' attribution runs
    /// as a stage of its own and adds links before the learned linker reads it.
    pub found_speakers: Option<Speakers>,
    /// Spans a batch tagging stage found (the default mode's transformer tagger), for the
    /// linker; `None` where the linker's own tagger tags.
    pub tagged: Option<Vec<tagged::TaggedSpan>>,
    /// The transformer tagger's log-probability of each tag in each channel, for each token
    /// ([`crate::tagger::ROW`] a token), which the linker reads at its candidates' ends;
    /// `None` where no batch tagging stage ran.
    pub tag_scores: Option<Vec<f32>>,
    /// The transformer tagger's states of the word pieces, with byte offsets into the
    /// original text, kept for stance to read (the default mode encodes each text once);
    /// dropped as soon as stance has read them.
    pub token_states: Option<states::TokenStates>,
    /// What the stance stage reads for each attribution ([`crate::stance`]).
    pub stance_inputs: Vec<StanceInput>,
    /// One entry per attribution once the stance stage has run; `None` when it does not run.
    pub stance: Option<Vec<QuoteStance>>,
}

/// What the stance model reads for one attribution: a window of the original text around it,
/// the quote's content as the first target, then the first name-mention of each other entity
/// it names.
#[derive(Debug, Clone, PartialEq)]
pub struct StanceInput {
    /// The sentences around the quote, in the original text.
    pub window: Span,
    /// The content, then each entity's mention, in the original text.
    pub targets: Vec<Span>,
    /// The entity of each target after the first.
    pub entities: Vec<usize>,
}

impl Document {
    /// A document ready for the first stage.
    pub fn new(id: impl Into<String>, text: impl Into<String>) -> Self {
        Document {
            id: id.into(),
            text: text.into(),
            meta: None,
            outcome: Outcome::Going,
            spent: Duration::ZERO,
            normalised: Normalised::default(),
            segmented: Segmented::default(),
            regions: Vec::new(),
            cue_scores: Vec::new(),
            quotes: Vec::new(),
            speakers: Speakers::default(),
            attributions: Vec::new(),
            found_speakers: None,
            tagged: None,
            tag_scores: None,
            token_states: None,
            stance_inputs: Vec::new(),
            stance: None,
        }
    }

    /// A document that cannot be analysed; it goes through no stage.
    pub fn failed(id: impl Into<String>, error: ErrorRecord) -> Self {
        let mut document = Document::new(id, String::new());
        document.outcome = Outcome::Failed(error);
        document
    }

    /// Whether the stages should go on with this document.
    pub fn is_going(&self) -> bool {
        self.outcome == Outcome::Going
    }

    /// Marks the document failed, unless it already is.
    pub fn fail(&mut self, kind: ErrorKind, message: String) {
        if self.outcome == Outcome::Going {
            self.outcome = Outcome::Failed(ErrorRecord { kind, message });
        }
    }

    /// The cleaned view.
    pub fn clean(&self) -> &str {
        &self.normalised.text
    }

    /// The original-text span of a cleaned-view byte range, whitespace trimmed.
    pub fn span(&self, clean_start: usize, clean_end: usize) -> Span {
        let mut start = self.normalised.original_start(clean_start);
        let mut end = self.normalised.original_end(clean_end).max(start);
        let slice = &self.text[start..end];
        start += slice.len() - slice.trim_start().len();
        end -= slice.len() - slice.trim_end().len();
        Span::new(start, end.max(start))
    }

    /// Drops the layers that only stages read, not [`Document::to_record`]: tokens and
    /// sentences, quoted regions, proposed quotes and stance inputs.
    pub fn release_working_layers(&mut self) {
        self.segmented = Segmented::default();
        self.regions = Vec::new();
        self.cue_scores = Vec::new();
        self.quotes = Vec::new();
        self.found_speakers = None;
        self.tagged = None;
        self.token_states = None;
        self.stance_inputs = Vec::new();
    }

    /// The ids of the entities that the output lists, by entity index: entities with mentions,
    /// numbered by first mention, so that ids are stable and readable.
    pub fn entity_ids(&self) -> Vec<Option<String>> {
        let entities = &self.speakers.entities;
        let mut used: Vec<usize> = (0..entities.len())
            .filter(|&entity| !entities[entity].mentions.is_empty())
            .collect();
        used.sort_by_key(|&entity| self.speakers.mentions[entities[entity].mentions[0]].start);
        let mut ids = vec![None; entities.len()];
        for (number, &entity) in used.iter().enumerate() {
            ids[entity] = Some(format!("e{}", number + 1));
        }
        ids
    }

    /// The entities the output lists, in output order.
    pub fn listed_entities(&self) -> Vec<usize> {
        let ids = self.entity_ids();
        let mut listed: Vec<usize> = (0..ids.len())
            .filter(|&entity| ids[entity].is_some())
            .collect();
        listed.sort_by_key(|&entity| {
            self.speakers.mentions[self.speakers.entities[entity].mentions[0]].start
        });
        listed
    }

    /// The output record of this document: the last step.
    pub fn to_record(&self) -> DocumentRecord {
        if let Outcome::Failed(error) = &self.outcome {
            let mut record = DocumentRecord::failed(&self.id, error.kind, error.message.clone());
            record.meta = self.meta.clone();
            return record;
        }
        let index = CharIndex::new(&self.text);
        let record_of = |span: Span| span.to_record(&self.text, &index);
        let ids = self.entity_ids();
        let mention_span = |mention: usize| {
            let mention = &self.speakers.mentions[mention];
            self.span(mention.start, mention.end)
        };
        let quotes = self
            .attributions
            .iter()
            .enumerate()
            .map(|(number, attribution)| {
                let stance = self.stance.as_ref().and_then(|stances| stances.get(number));
                QuoteRecord {
                    kind: attribution.kind,
                    content: record_of(self.span(attribution.start, attribution.end)),
                    pieces: attribution
                        .pieces
                        .iter()
                        .map(|&(start, end)| record_of(self.span(start, end)))
                        .collect(),
                    cue: attribution
                        .cue
                        .as_ref()
                        .map(|cue| record_of(self.span(cue.start, cue.end))),
                    speaker: attribution.entity.and_then(|entity| {
                        Some(SpeakerRecord {
                            name: self.speakers.entities[entity].name.clone(),
                            entity: ids[entity].clone()?,
                            mention: attribution
                                .mention
                                .map(|mention| record_of(mention_span(mention))),
                        })
                    }),
                    confidence: attribution.confidence,
                    stance: stance.and_then(|stance| stance.tone),
                    targets: stance.map(|stance| {
                        stance
                            .targets
                            .iter()
                            .filter_map(|target| {
                                Some(TargetRecord {
                                    entity: ids[target.entity].clone()?,
                                    mention: record_of(target.mention),
                                    label: target.score.label,
                                    confidence: target.score.confidence,
                                })
                            })
                            .collect()
                    }),
                }
            })
            .collect();
        let entities = self
            .listed_entities()
            .into_iter()
            .filter_map(|entity| {
                let data = &self.speakers.entities[entity];
                Some(EntityRecord {
                    id: ids[entity].clone()?,
                    name: data.name.clone(),
                    kind: data.kind,
                    title: data.title.clone(),
                    aliases: data.aliases.clone(),
                    gender: data.gender,
                    mentions: data
                        .mentions
                        .iter()
                        .map(|&mention| {
                            let span = record_of(mention_span(mention));
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
            meta: self.meta.clone(),
            error: None,
        }
    }
}
