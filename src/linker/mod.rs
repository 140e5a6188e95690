//! The learned linker of fast mode, and [`tag_and_link`], the seam where the learned spans
//! replace the rule-built quotes.
//!
//! The tagger ([`crate::tagger`]) finds content pieces, sources and cues. The linker ranks, for
//! each piece, its candidate cues (or "continues the piece before", or "no cue"), and for each
//! content with a cue, its candidate sources (tagged spans, the speaker stage's mentions, or
//! "not in the text"), with two linear models over hashed features ([`candidates`]), trained
//! by `whosaid train linker` as multinomial logistic regression. The source mention resolves
//! to its entity through the speaker stage's resolution (pronouns to the speaker before, names
//! to their entity).

pub mod candidates;
pub mod train;

use std::ops::Range;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};

use crate::attribute::{resolve, Attribution, Features, MentionIndex, Resolution};
use crate::cue::CueModel;
use crate::error::{Error, Result};
use crate::lexicon::{contains_lower, Lexicon};
use crate::pipeline::{Document, SpanChoice};
use crate::quotes::{token_text, Cue, Pattern};
use crate::record::{MentionKind, QuoteKind};
use crate::segment::{Segmented, Token, TokenKind};
use crate::speakers::{Mention, Speakers};
use crate::tagger::{Role, SpanModel, TaggedSpan};
use candidates::{
    cue_candidates, CueCandidate, DocumentIndex, FeatureContext, SourceCandidate,
    CANDIDATES_PER_SIDE, SOURCE_WINDOW,
};

/// How many sentences a quote with no cue may stand after its speaker's previous quote.
const FLOATING_SENTENCES: usize = 4;

/// The linker's two linear models, over one hashed weight table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Linker {
    /// What the model was trained on, and the command that rebuilds it.
    pub provenance: String,
    pub table_bits: u32,
    /// The non-zero weights, as (slot, weight).
    pub weights: Vec<(u32, f32)>,
    #[serde(skip)]
    table: Vec<f32>,
}

const SHIPPED_LINKER: &str = include_str!("../../models/linker.json");

impl Linker {
    pub fn from_table(table: Vec<f32>, table_bits: u32, provenance: String) -> Self {
        let weights = table
            .iter()
            .enumerate()
            .filter_map(|(slot, &weight)| {
                // Rounded so that the file stays small and reads the same everywhere.
                let rounded = (weight * 1e4).round() / 1e4;
                (rounded != 0.0).then_some((slot as u32, rounded))
            })
            .collect();
        Linker {
            provenance,
            table_bits,
            weights,
            table: Vec::new(),
        }
        .prepared()
    }

    fn prepared(mut self) -> Self {
        let rows = 1usize << self.table_bits.min(24);
        self.table = vec![0.0; rows];
        for &(slot, weight) in &self.weights {
            if let Some(entry) = self.table.get_mut(slot as usize) {
                *entry = weight;
            }
        }
        self
    }

    /// The linker in `models/linker.json`, built into the binary and read once.
    pub fn shipped() -> Result<&'static Linker> {
        static SHIPPED: OnceLock<std::result::Result<Linker, String>> = OnceLock::new();
        SHIPPED
            .get_or_init(|| {
                serde_json::from_str::<Linker>(SHIPPED_LINKER)
                    .map(Linker::prepared)
                    .map_err(|error| error.to_string())
            })
            .as_ref()
            .map_err(|message| Error::model("models/linker.json", message))
    }

    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|error| Error::io(path, error))?;
        serde_json::from_str::<Linker>(&text)
            .map(Linker::prepared)
            .map_err(|error| Error::model(path, error))
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string(self).map_err(|error| Error::model(path, error))?;
        std::fs::write(path, text + "\n").map_err(|error| Error::io(path, error))
    }

    fn mask(&self) -> u64 {
        (1u64 << self.table_bits) - 1
    }

    /// The score of a candidate with these features.
    pub fn score(&self, keys: &[u64]) -> f32 {
        let mask = self.mask();
        keys.iter()
            .map(|&key| {
                self.table
                    .get((key & mask) as usize)
                    .copied()
                    .unwrap_or(0.0)
            })
            .sum()
    }

    /// The index of the best-scoring candidate, the first on ties.
    fn best(&self, candidates: &[Vec<u64>]) -> Option<usize> {
        let mut best: Option<(usize, f32)> = None;
        for (index, keys) in candidates.iter().enumerate() {
            let score = self.score(keys);
            if best.is_none_or(|(_, top)| score > top) {
                best = Some((index, score));
            }
        }
        best.map(|(index, _)| index)
    }
}

/// How a content that its attribution interrupts across a sentence end comes out: PolNeAR
/// annotates “We are close,” Kerry said. “But not yet.” as one content, whosaid's records (and
/// its seed gold) as two quotes, the second with no cue of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Continuations {
    /// A piece after a sentence end is a quote of its own that carries on the speaker's turn.
    #[default]
    SplitAtSentences,
    /// Every piece of a content is one quote, as PolNeAR annotates it.
    Joined,
}

/// The learned tagger and linker, as the pipeline holds them.
#[derive(Debug, Clone)]
pub struct LearnedSpans {
    pub tagger: Arc<SpanModel>,
    pub linker: Arc<Linker>,
    pub continuations: Continuations,
}

impl LearnedSpans {
    /// The models a [`SpanChoice`] asks for; `None` for the rules.
    pub fn from_choice(choice: &SpanChoice) -> Result<Option<Self>> {
        static SHIPPED: OnceLock<(Arc<SpanModel>, Arc<Linker>)> = OnceLock::new();
        let shipped = || -> Result<(Arc<SpanModel>, Arc<Linker>)> {
            if let Some(models) = SHIPPED.get() {
                return Ok(models.clone());
            }
            let models = (
                Arc::new(SpanModel::shipped()?.clone()),
                Arc::new(Linker::shipped()?.clone()),
            );
            Ok(SHIPPED.get_or_init(|| models).clone())
        };
        let (tagger, linker, continuations) = match choice {
            SpanChoice::Rules => return Ok(None),
            SpanChoice::Learned => {
                let (tagger, linker) = shipped()?;
                (tagger, linker, Continuations::default())
            }
            SpanChoice::Models {
                tagger,
                linker,
                joined,
            } => {
                let tagger = match tagger {
                    Some(path) => Arc::new(SpanModel::load(path)?),
                    None => shipped()?.0,
                };
                let linker = match linker {
                    Some(path) => Arc::new(Linker::load(path)?),
                    None => shipped()?.1,
                };
                let continuations = if *joined {
                    Continuations::Joined
                } else {
                    Continuations::SplitAtSentences
                };
                (tagger, linker, continuations)
            }
        };
        Ok(Some(LearnedSpans {
            tagger,
            linker,
            continuations,
        }))
    }
}

/// The spans of a document that the linker links, sorted by start.
#[derive(Debug, Clone, Default)]
pub struct SpanSet {
    pub pieces: Vec<Range<usize>>,
    pub sources: Vec<Range<usize>>,
    pub cues: Vec<Range<usize>>,
}

impl SpanSet {
    pub fn from_tagged(spans: Vec<TaggedSpan>) -> Self {
        let mut set = SpanSet::default();
        for span in spans {
            if span.tokens.is_empty() {
                continue;
            }
            match span.role {
                Role::Content => set.pieces.push(span.tokens),
                Role::Source => set.sources.push(span.tokens),
                Role::Cue => set.cues.push(span.tokens),
            }
        }
        for spans in [&mut set.pieces, &mut set.sources, &mut set.cues] {
            spans.sort_by_key(|span| (span.start, span.end));
            spans.dedup();
        }
        set
    }
}

/// The rule stages' cue for each piece (of the rule quote that overlaps it most), and the rule
/// source of each cue.
pub fn rule_links(
    proposals: &[crate::tagger::features::Proposal],
    spans: &SpanSet,
) -> (Vec<Option<Range<usize>>>, Vec<Option<Range<usize>>>) {
    let mut by_start: Vec<&crate::tagger::features::Proposal> = proposals.iter().collect();
    by_start.sort_by_key(|proposal| proposal.content.start);
    let rule_cue = spans
        .pieces
        .iter()
        .map(|piece| {
            let after = by_start.partition_point(|proposal| proposal.content.start < piece.end);
            by_start[..after]
                .iter()
                .rev()
                .take(4)
                .filter(|proposal| proposal.content.end > piece.start)
                .max_by_key(|proposal| {
                    proposal.content.end.min(piece.end) - proposal.content.start.max(piece.start)
                })
                .and_then(|proposal| proposal.cue.clone())
        })
        .collect();
    let mut by_cue: Vec<(&Range<usize>, &Range<usize>)> = proposals
        .iter()
        .filter_map(|proposal| Some((proposal.cue.as_ref()?, proposal.source.as_ref()?)))
        .collect();
    by_cue.sort_by_key(|(cue, _)| (cue.start, cue.end));
    let rule_source = spans
        .cues
        .iter()
        .map(|cue| {
            let at = by_cue.partition_point(|(rule_cue, _)| {
                (rule_cue.start, rule_cue.end) < (cue.start, cue.end)
            });
            by_cue
                .get(at)
                .filter(|(rule_cue, _)| *rule_cue == cue)
                .map(|(_, source)| (*source).clone())
        })
        .collect();
    (rule_cue, rule_source)
}

/// The source candidates of a cue: the tagged source spans and the speaker stage's mentions
/// within [`SOURCE_WINDOW`] tokens of it, the nearest few on each side, and "absent". Returns
/// each with its rank on its side, and the distance of the nearest.
pub fn source_candidates(
    sources: &[Range<usize>],
    speakers: &Speakers,
    paragraph_of: &[usize],
    cue: &Range<usize>,
) -> (Vec<(SourceCandidate, usize)>, Option<usize>) {
    let paragraph = |token: usize| paragraph_of.get(token).copied().unwrap_or(usize::MAX);
    let cue_paragraph = paragraph(cue.start);
    let window = cue.start.saturating_sub(SOURCE_WINDOW)..cue.end + SOURCE_WINDOW;
    let mut spans: Vec<(Range<usize>, bool)> = Vec::new();
    let first = sources.partition_point(|span| span.end <= window.start);
    for span in &sources[first..] {
        if span.start >= window.end {
            break;
        }
        spans.push((span.clone(), true));
    }
    // The speaker stage's mentions are sorted by start.
    let first_mention = speakers
        .mentions
        .partition_point(|mention| mention.tokens.start < window.start);
    for mention in &speakers.mentions[first_mention..] {
        if mention.tokens.start >= window.end {
            break;
        }
        if mention.quoted {
            continue;
        }
        spans.push((mention.tokens.clone(), false));
    }
    spans.retain(|(span, _)| {
        (span.end <= cue.start || span.start >= cue.end) && paragraph(span.start) == cue_paragraph
    });
    spans.sort_by_key(|(span, tagged)| (span.start, span.end, !tagged));
    spans.dedup_by(|later, earlier| later.0 == earlier.0);
    let kind_of = |span: &Range<usize>| -> Option<MentionKind> {
        let exact = speakers
            .mention_starting_at(span.start)
            .filter(|&mention| speakers.mentions[mention].tokens == *span)
            .map(|mention| speakers.mentions[mention].kind);
        exact.or_else(|| {
            (span.start..span.end.min(span.start + 12))
                .filter_map(|token| speakers.mention_starting_at(token))
                .map(|mention| &speakers.mentions[mention])
                .filter(|mention| mention.tokens.end <= span.end)
                .max_by_key(|mention| mention.tokens.len())
                .map(|mention| mention.kind)
        })
    };
    let distance = |span: &Range<usize>| {
        if span.end <= cue.start {
            cue.start - span.end
        } else {
            span.start - cue.end
        }
    };
    let mut before: Vec<&(Range<usize>, bool)> = spans
        .iter()
        .filter(|(span, _)| span.end <= cue.start)
        .collect();
    let mut after: Vec<&(Range<usize>, bool)> = spans
        .iter()
        .filter(|(span, _)| span.start >= cue.end)
        .collect();
    before.sort_by_key(|(span, _)| (distance(span), span.start));
    after.sort_by_key(|(span, _)| (distance(span), span.start));
    let nearest = spans.iter().map(|(span, _)| distance(span)).min();
    let mut candidates = Vec::new();
    for side in [before, after] {
        for (rank, (span, tagged)) in side.into_iter().take(CANDIDATES_PER_SIDE).enumerate() {
            candidates.push((
                SourceCandidate::Span {
                    tokens: span.clone(),
                    tagged: *tagged,
                    mention_kind: kind_of(span),
                },
                rank,
            ));
        }
    }
    candidates.push((SourceCandidate::Absent, 0));
    (candidates, nearest)
}

/// The kind of a content: direct where quotation marks open and close it, mixed where it holds
/// a mark, indirect otherwise.
pub fn quote_kind(tokens: &[Token], content: &Range<usize>) -> QuoteKind {
    let slice = &tokens[content.start.min(tokens.len())..content.end.min(tokens.len())];
    let is_mark =
        |token: &Token| matches!(token.kind, TokenKind::OpenQuote | TokenKind::CloseQuote);
    let opens = slice
        .first()
        .is_some_and(|token| token.kind == TokenKind::OpenQuote);
    let closes = slice
        .last()
        .is_some_and(|token| token.kind == TokenKind::CloseQuote);
    if opens && closes {
        QuoteKind::Direct
    } else if slice.iter().any(is_mark) {
        QuoteKind::Mixed
    } else {
        QuoteKind::Indirect
    }
}

/// One content as the linker assembles it.
#[derive(Debug, Clone)]
struct Linked {
    pieces: Vec<usize>,
    cue: Option<usize>,
    /// Carried on from an earlier attribution (a continuation split off, or a floating quote).
    carries: Option<usize>,
}

/// The linker's decisions for a document's spans: the cue decision of every piece, in piece
/// order, and the source decision of every content that has a cue.
pub fn link(
    linker: &Linker,
    context: &FeatureContext,
    speakers: &Speakers,
    sources: &[Range<usize>],
) -> (Vec<CueCandidate>, Vec<Option<SourceCandidate>>) {
    let mut decisions = Vec::with_capacity(context.pieces.len());
    // The cue of the content each piece joined, for the next piece's "continues" candidate.
    let mut owner_cues: Vec<Option<usize>> = Vec::with_capacity(context.pieces.len());
    for piece in 0..context.pieces.len() {
        let candidates = cue_candidates(context, piece);
        let owner_cue = piece
            .checked_sub(1)
            .and_then(|previous| owner_cues[previous])
            .map(|cue| &context.cues[cue]);
        let keys: Vec<Vec<u64>> = candidates
            .iter()
            .map(|&(candidate, rank)| context.cue_features(piece, candidate, rank, owner_cue).0)
            .collect();
        let best = linker.best(&keys).unwrap_or(candidates.len() - 1);
        let decision = candidates[best].0;
        owner_cues.push(match decision {
            CueCandidate::Cue(cue) => Some(cue),
            CueCandidate::Continues(previous) => owner_cues[previous],
            CueCandidate::Floating | CueCandidate::NotAQuote => None,
        });
        decisions.push(decision);
    }
    let tokens = context.tokens;
    let mut source_choices = vec![None; context.pieces.len()];
    for (piece, decision) in decisions.iter().enumerate() {
        let CueCandidate::Cue(cue_index) = *decision else {
            continue;
        };
        let cue = &context.cues[cue_index];
        let content = context.pieces[piece].clone();
        let kind = quote_kind(tokens, &content);
        let (candidates, nearest) =
            source_candidates(sources, speakers, &context.index.paragraph_of, cue);
        let keys: Vec<Vec<u64>> = candidates
            .iter()
            .map(|(candidate, rank)| {
                context
                    .source_features(&content, kind, cue, cue_index, candidate, *rank, nearest)
                    .0
            })
            .collect();
        let best = linker.best(&keys).unwrap_or(candidates.len() - 1);
        source_choices[piece] = Some(candidates[best].0.clone());
    }
    (decisions, source_choices)
}

/// The learned stages, from the rule layers to attributions: tags the content pieces, sources
/// and cues of `document` (whose attributions are the rule stages' proposals, read as
/// features), links them, and resolves each source to its entity in `found`, the speakers
/// layer as the speaker stage made it. Returns the attributions and that layer with the source
/// mentions and entities they refer to. Linear in the document's length.
pub fn tag_and_link(
    document: &Document,
    found: Speakers,
    learned: &LearnedSpans,
    cues: Option<&CueModel>,
) -> (Vec<Attribution>, Speakers) {
    let proposals = crate::tagger::proposals(document);
    let layers = crate::tagger::layers(document, &proposals, cues);
    let features = crate::tagger::features::token_features(&layers, learned.tagger.table_bits());
    let tagged = learned.tagger.tag(&features, &document.segmented);
    link_spans(document, found, &proposals, tagged, learned)
}

/// The linking half of [`tag_and_link`], over spans found by any means.
pub fn link_spans(
    document: &Document,
    found: Speakers,
    proposals: &[crate::tagger::features::Proposal],
    tagged: Vec<TaggedSpan>,
    learned: &LearnedSpans,
) -> (Vec<Attribution>, Speakers) {
    let spans = SpanSet::from_tagged(tagged);
    let text = document.normalised.text.as_str();
    let segmented = &document.segmented;
    let index = DocumentIndex::new(text, segmented, &spans.pieces, &spans.cues, &spans.sources);
    let (rule_cue, rule_source) = rule_links(proposals, &spans);
    let context = FeatureContext {
        text,
        tokens: &segmented.tokens,
        index: &index,
        pieces: &spans.pieces,
        cues: &spans.cues,
        rule_cue: &rule_cue,
        rule_source: &rule_source,
    };
    let (decisions, sources) = link(&learned.linker, &context, &found, &spans.sources);
    assemble(
        text,
        segmented,
        &spans,
        &index,
        &decisions,
        &sources,
        found,
        learned.continuations,
    )
}

/// Turns the linker's decisions into attributions, resolving sources to entities.
#[allow(clippy::too_many_arguments)]
fn assemble(
    text: &str,
    segmented: &Segmented,
    spans: &SpanSet,
    index: &DocumentIndex,
    decisions: &[CueCandidate],
    sources: &[Option<SourceCandidate>],
    mut speakers: Speakers,
    continuations: Continuations,
) -> (Vec<Attribution>, Speakers) {
    let tokens = &segmented.tokens;
    // Group the pieces into contents.
    let mut linked: Vec<Linked> = Vec::new();
    // The content each piece went to; `usize::MAX` for a piece that is no quote.
    let mut content_of_piece: Vec<usize> = Vec::with_capacity(spans.pieces.len());
    for (piece, decision) in decisions.iter().enumerate() {
        match *decision {
            CueCandidate::NotAQuote => content_of_piece.push(usize::MAX),
            CueCandidate::Continues(previous)
                if content_of_piece.get(previous).is_some_and(|&owner| owner != usize::MAX) =>
            {
                let owner = content_of_piece[previous];
                let split = continuations == Continuations::SplitAtSentences && {
                    let last = *linked[owner].pieces.last().unwrap_or(&previous);
                    let gap = spans.pieces[last].end..spans.pieces[piece].start;
                    index
                        .sentence_of
                        .get(spans.pieces[last].end.saturating_sub(1))
                        != index.sentence_of.get(spans.pieces[piece].start)
                        && !gap.is_empty()
                };
                if split {
                    content_of_piece.push(linked.len());
                    linked.push(Linked {
                        pieces: vec![piece],
                        cue: None,
                        carries: Some(owner),
                    });
                } else {
                    linked[owner].pieces.push(piece);
                    content_of_piece.push(owner);
                }
            }
            CueCandidate::Cue(cue) => {
                content_of_piece.push(linked.len());
                linked.push(Linked {
                    pieces: vec![piece],
                    cue: Some(cue),
                    carries: None,
                });
            }
            _ => {
                content_of_piece.push(linked.len());
                linked.push(Linked {
                    pieces: vec![piece],
                    cue: None,
                    carries: None,
                });
            }
        }
    }
    let mention_index = MentionIndex::new(text, &speakers);
    let lexicon = Lexicon::get();
    let mut attributions: Vec<Attribution> = Vec::with_capacity(linked.len());
    // The attribution index of each linked content, once made.
    let mut made: Vec<Option<usize>> = vec![None; linked.len()];
    let mut last_speaker: Option<(usize, Option<usize>, usize)> = None;
    let sentence_of = |token: usize| index.sentence_of.get(token).copied().unwrap_or(0);
    for (number, content) in linked.iter().enumerate() {
        let first_piece = content.pieces[0];
        let last_piece = *content.pieces.last().unwrap_or(&first_piece);
        let extent = spans.pieces[first_piece].start..spans.pieces[last_piece].end;
        let sentence = sentence_of(extent.start);
        let kind = quote_kind(tokens, &extent);
        let cue = content.cue.map(|cue| {
            let range = spans.cues[cue].clone();
            Cue {
                start: tokens[range.start].start,
                end: tokens[range.end - 1].end,
                tokens: range,
            }
        });
        let mut features = Features {
            quote_kind: Some(kind),
            content_words: tokens[extent.clone()]
                .iter()
                .filter(|token| matches!(token.kind, TokenKind::Word | TokenKind::Number))
                .count(),
            starts_with_that: tokens
                .get(extent.start)
                .is_some_and(|token| token_text(text, token) == "that"),
            cues_in_sentence: 0,
            ..Features::default()
        };
        let (mention, entity) = match (&cue, &sources[first_piece]) {
            (Some(cue), Some(SourceCandidate::Span { tokens: source, .. })) => {
                features.speech_cue = contains_lower(
                    &lexicon.speech_verbs,
                    token_text(text, &tokens[cue.tokens.start]),
                );
                features.source_after_cue = source.start >= cue.tokens.end;
                features.cue_distance = source.start.abs_diff(cue.tokens.start);
                let mention = source_mention(text, tokens, &mut speakers, source.clone());
                let (entity, resolution) = resolve(
                    text,
                    segmented,
                    &mut speakers,
                    &mention_index,
                    mention,
                    sentence,
                    last_speaker,
                );
                features.resolution = resolution;
                (Some(mention), entity)
            }
            (Some(cue), _) => {
                features.speech_cue = contains_lower(
                    &lexicon.speech_verbs,
                    token_text(text, &tokens[cue.tokens.start]),
                );
                (None, None)
            }
            (None, _) => {
                // Carried on from the attribution it continues, or from the speaker before.
                let carried = content.carries.and_then(|owner| made[owner]).map(|owner| {
                    let owner = &attributions[owner];
                    (owner.entity, owner.mention, sentence_of(extent.start))
                });
                let previous = last_speaker.filter(|&(_, _, spoke_in)| {
                    sentence.saturating_sub(spoke_in) <= FLOATING_SENTENCES
                });
                match (carried, previous) {
                    (Some((entity, mention, _)), _) if entity.is_some() => {
                        features.resolution = Resolution::PreviousSpeaker;
                        (mention, entity)
                    }
                    (_, Some((entity, mention, spoke_in))) => {
                        features.resolution = Resolution::PreviousSpeaker;
                        features.sentences_since_speaker = sentence.saturating_sub(spoke_in);
                        (mention, Some(entity))
                    }
                    _ => (None, None),
                }
            }
        };
        let according = cue.as_ref().is_some_and(|cue| {
            token_text(text, &tokens[cue.tokens.start]).eq_ignore_ascii_case("according")
        });
        features.pattern = Some(pattern(kind, cue.as_ref(), &extent, according));
        features.mention_kind = mention.map(|mention| speakers.mentions[mention].kind);
        features.named_entity = entity.is_some_and(|entity| {
            speakers.entities[entity]
                .mentions
                .iter()
                .any(|&mention| speakers.mentions[mention].kind == MentionKind::Name)
        });
        if let Some(entity) = entity {
            last_speaker = Some((entity, mention, sentence));
        }
        made[number] = Some(attributions.len());
        attributions.push(Attribution {
            kind,
            start: tokens[extent.start].start,
            end: tokens[extent.end - 1].end,
            cue,
            pattern: features.pattern.unwrap_or(Pattern::DirectFloating),
            mention,
            entity,
            features,
            confidence: 0.0,
        });
    }
    let mut per_sentence: std::collections::HashMap<usize, usize> =
        std::collections::HashMap::new();
    for attribution in &attributions {
        if let Some(cue) = &attribution.cue {
            *per_sentence
                .entry(sentence_of(cue.tokens.start))
                .or_default() += 1;
        }
    }
    for attribution in &mut attributions {
        let first = tokens.partition_point(|token| token.start < attribution.start);
        attribution.features.cues_in_sentence =
            per_sentence.get(&sentence_of(first)).copied().unwrap_or(0);
    }
    attributions.sort_by_key(|attribution| (attribution.start, attribution.end));
    (attributions, speakers)
}

/// The construction of a learned attribution, for the confidence model.
fn pattern(kind: QuoteKind, cue: Option<&Cue>, extent: &Range<usize>, according: bool) -> Pattern {
    match cue {
        None => Pattern::DirectFloating,
        Some(_) if according => Pattern::AccordingTo,
        Some(cue) => {
            let after = cue.tokens.start >= extent.end;
            match (kind, after) {
                (QuoteKind::Direct, true) => Pattern::DirectCueAfter,
                (QuoteKind::Direct, false) => Pattern::DirectCueBefore,
                (_, true) => Pattern::IndirectCueAfter,
                (_, false) => Pattern::IndirectCueBefore,
            }
        }
    }
}

/// The speaker mention for a source span: the mention with exactly these tokens, or a new one
/// over them that takes the kind and entity of the longest mention inside (a name with its
/// apposition, "Stein spokeswoman Melezia Figueroa"), or a new nominal mention.
fn source_mention(
    text: &str,
    tokens: &[Token],
    speakers: &mut Speakers,
    source: Range<usize>,
) -> usize {
    if let Some(mention) = speakers
        .mention_starting_at(source.start)
        .filter(|&mention| speakers.mentions[mention].tokens == source)
    {
        return mention;
    }
    let inner = (source.start..source.end.min(source.start + 16))
        .filter_map(|token| speakers.mention_starting_at(token))
        .filter(|&mention| speakers.mentions[mention].tokens.end <= source.end)
        .max_by_key(|&mention| {
            let found = &speakers.mentions[mention];
            (found.kind == MentionKind::Name, found.tokens.len())
        });
    let start = tokens[source.start].start;
    let end = tokens[source.end - 1].end;
    let mention = match inner {
        Some(inner) => {
            let inner_mention = speakers.mentions[inner].clone();
            Mention {
                tokens: source.clone(),
                start,
                end,
                entity: None,
                quoted: false,
                ..inner_mention
            }
        }
        None => {
            let capitalised = text[start..end]
                .chars()
                .next()
                .is_some_and(char::is_uppercase);
            Mention {
                tokens: source.clone(),
                start,
                end,
                kind: MentionKind::Nominal,
                name_tokens: source.clone(),
                kind_hint: None,
                pronoun: None,
                entity: None,
                quoted: false,
            }
            .with_capital_hint(capitalised)
        }
    };
    let inner_entity = inner.and_then(|inner| speakers.mentions[inner].entity);
    let added = speakers.add_mention(mention);
    if let Some(entity) = inner_entity {
        speakers.link(added, entity);
    }
    added
}

trait CapitalHint {
    fn with_capital_hint(self, capitalised: bool) -> Self;
}

impl CapitalHint for Mention {
    /// A capitalised span with no known mention inside is most often an organisation's name.
    fn with_capital_hint(mut self, capitalised: bool) -> Self {
        if capitalised {
            self.kind = MentionKind::Name;
        }
        self
    }
}

#[cfg(test)]
mod tests;
