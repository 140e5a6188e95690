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
pub mod constructions;

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};

use crate::attribute::{join_or_resolve, Attribution, Features, MentionIndex, Resolution};
use crate::cue::CueModel;
use crate::document::Document;
use crate::error::{Error, Result};
use crate::lexicon::{contains_lower, Lexicon};
use crate::quotes::{token_text, Cue, Pattern};
use crate::record::{MentionKind, QuoteKind};
use crate::segment::{Segmented, Token, TokenKind};
use crate::speakers::{Mention, Speakers};
use crate::tagger::{Role, SpanModel, TaggedSpan};
use candidates::{
    cue_candidates, CueCandidate, DocumentIndex, FeatureContext, LinkIndex, SourceCandidate,
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
    /// Added to the score of "not a quote": chosen on held-out data for the F1 of end-to-end
    /// matches, since the fitted model trades recall for precision.
    #[serde(default)]
    pub not_a_quote_bias: f32,
    /// The bias of "not a quote" over the transformer tagger's spans (the default mode's): the
    /// linker learns from the linear tagger's spans, and on dev the transformer's call for less
    /// dropping (−0.25 against −1). Chosen on held-out data like the other.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_a_quote_bias_transformer: Option<f32>,
    /// Whether the linker reads the transformer tagger's scores at its candidates' ends: it
    /// learned from spans that came with them (the default mode's linker).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reads_tag_scores: bool,
    #[serde(skip)]
    table: Vec<f32>,
}

const SHIPPED_LINKER: &str = include_str!("../../models/linker.json");
/// The default mode's linker: it learned from the transformer tagger's spans and reads its
/// scores at the candidates' ends.
#[cfg(feature = "transformer")]
const SHIPPED_TRANSFORMER_LINKER: &str = include_str!("../../models/linker-transformer.json");

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
            not_a_quote_bias: 0.0,
            not_a_quote_bias_transformer: None,
            reads_tag_scores: false,
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

    /// This linker as it links the transformer tagger's spans: with the bias of "not a quote"
    /// chosen for them, where one was.
    pub fn for_transformer_spans(&self) -> Linker {
        let mut linker = self.clone();
        if let Some(bias) = self.not_a_quote_bias_transformer {
            linker.not_a_quote_bias = bias;
        }
        linker
    }

    /// The linker in `models/linker.json`, built into the binary and read once.
    pub fn shipped() -> Result<&'static Linker> {
        Ok(Self::shipped_shared()?)
    }

    /// [`Linker::shipped`] as a shared handle, so that the pipelines that hold it share one
    /// copy of its table.
    pub fn shipped_shared() -> Result<&'static Arc<Linker>> {
        static SHIPPED: OnceLock<std::result::Result<Arc<Linker>, String>> = OnceLock::new();
        parse_once(&SHIPPED, SHIPPED_LINKER, "models/linker.json")
    }

    /// The default mode's linker, `models/linker-transformer.json`, built into the binary and
    /// read once.
    #[cfg(feature = "transformer")]
    pub fn shipped_for_transformer() -> Result<&'static Arc<Linker>> {
        static SHIPPED: OnceLock<std::result::Result<Arc<Linker>, String>> = OnceLock::new();
        parse_once(
            &SHIPPED,
            SHIPPED_TRANSFORMER_LINKER,
            "models/linker-transformer.json",
        )
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
    pub(crate) fn best(&self, candidates: &[Vec<u64>]) -> Option<usize> {
        self.choose(candidates).map(|(index, _)| index)
    }

    /// The best-scoring candidate (the first on ties) and the model's probability of it.
    pub(crate) fn choose(&self, candidates: &[Vec<u64>]) -> Option<(usize, f32)> {
        let scores: Vec<f32> = candidates.iter().map(|keys| self.score(keys)).collect();
        best_of(&scores)
    }
}

/// The linker in `text`, parsed the first time it is asked for; `name` is its file's.
fn parse_once(
    cell: &'static OnceLock<std::result::Result<Arc<Linker>, String>>,
    text: &str,
    name: &str,
) -> Result<&'static Arc<Linker>> {
    cell.get_or_init(|| {
        serde_json::from_str::<Linker>(text)
            .map(|linker| Arc::new(Linker::prepared(linker)))
            .map_err(|error| error.to_string())
    })
    .as_ref()
    .map_err(|message| Error::model(name, message))
}

/// The index of the highest score (the first on ties) and its softmax probability: the linker
/// is multinomial logistic regression over the candidates of one decision, so that is its
/// probability of the choice, which the confidence model reads.
fn best_of(scores: &[f32]) -> Option<(usize, f32)> {
    let mut best: Option<(usize, f32)> = None;
    for (index, &score) in scores.iter().enumerate() {
        if best.is_none_or(|(_, top)| score > top) {
            best = Some((index, score));
        }
    }
    let (index, top) = best?;
    let total: f32 = scores.iter().map(|score| (score - top).exp()).sum();
    Some((index, 1.0 / total))
}

/// What finds the quotes' spans and links them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SpanChoice {
    /// The rule stages alone.
    Rules,
    /// The learned tagger and linker of `models/` ([`tag_and_link`]).
    #[default]
    Learned,
    /// A learned tagger and linker from these files (the shipped ones where `None`).
    Models {
        tagger: Option<std::path::PathBuf>,
        linker: Option<std::path::PathBuf>,
        continuations: Continuations,
    },
}

/// How a content that its attribution interrupts across a sentence end comes out. PolNeAR
/// annotates “We are close,” Kerry said. “But not yet.” as one content, and whosaid does the
/// same by default (the record lists the two pieces); split, it makes two quotes, the second
/// with no cue of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Continuations {
    /// A piece after a sentence end is a quote of its own that carries on the speaker's turn.
    SplitAtSentences,
    /// Every piece of a content is one quote, as PolNeAR annotates it, with its pieces listed.
    #[default]
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
    /// These models as they link the transformer tagger's spans (the default mode), chosen by
    /// `choice`: a linker it names, with its bias for those spans where it has one, or else the
    /// default mode's own linker.
    #[cfg(feature = "transformer")]
    pub fn for_transformer_spans(self, choice: &SpanChoice) -> Result<Self> {
        let named = matches!(
            choice,
            SpanChoice::Models {
                linker: Some(_),
                ..
            }
        );
        let linker = if named {
            Arc::new(self.linker.for_transformer_spans())
        } else {
            Arc::clone(Linker::shipped_for_transformer()?)
        };
        Ok(LearnedSpans { linker, ..self })
    }

    /// The models a [`SpanChoice`] asks for; `None` for the rules.
    pub fn from_choice(choice: &SpanChoice) -> Result<Option<Self>> {
        let shipped = || -> Result<(Arc<SpanModel>, Arc<Linker>)> {
            Ok((
                Arc::clone(SpanModel::shipped_shared()?),
                Arc::clone(Linker::shipped_shared()?),
            ))
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
                continuations,
            } => {
                let tagger = match tagger {
                    Some(path) => Arc::new(SpanModel::load(path)?),
                    None => shipped()?.0,
                };
                let linker = match linker {
                    Some(path) => Arc::new(Linker::load(path)?),
                    None => shipped()?.1,
                };
                (tagger, linker, *continuations)
            }
        };
        Ok(Some(LearnedSpans {
            tagger,
            linker,
            continuations,
        }))
    }
}

/// The learned stages as one pipeline stage, in place of the rules' attribution stage: the
/// rules still link their own quotes, whose spans are the tagger's features and the linker's
/// fallbacks; then the tagger tags, and the linker makes the attributions.
pub struct TagAndLinkStage {
    pub learned: LearnedSpans,
    /// The cue model quote finding uses, whose scores are the tagger's features.
    pub cues: Option<Arc<CueModel>>,
}

impl crate::stage::DocumentStage for TagAndLinkStage {
    fn name(&self) -> &'static str {
        "tag and link"
    }

    fn run(
        &self,
        document: &mut Document,
        clock: &crate::stage::Clock,
    ) -> std::result::Result<(), crate::stage::Halt> {
        let found = match document.found_speakers.take() {
            Some(found) => found,
            None => propose(document, clock)?,
        };
        clock.check_now()?;
        let (attributions, speakers) = match document.tagged.take() {
            Some(tagged) => {
                let proposals = crate::tagger::proposals(document);
                link_spans(document, found, &proposals, tagged, &self.learned)
            }
            None => tag_and_link(document, found, &self.learned, self.cues.as_deref()),
        };
        document.attributions = attributions;
        document.speakers = speakers;
        // Read by the linker alone; a long text's scores are worth freeing.
        document.tag_scores = None;
        clock.check_now()
    }
}

/// The rules' attribution, whose quotes are the learned stages' features and fallbacks: links
/// the document's proposed quotes and returns the speakers layer as it was before, which the
/// linker resolves its sources against.
fn propose(
    document: &mut Document,
    clock: &crate::stage::Clock,
) -> std::result::Result<Speakers, crate::stage::Halt> {
    use crate::stage::DocumentStage;
    let found = document.speakers.clone();
    crate::attribute::AttributeStage.run(document, clock)?;
    Ok(found)
}

/// The rules' attribution as a stage of its own, where a batch stage (the transformer tagger)
/// reads its quotes before [`TagAndLinkStage`] links.
pub struct ProposeStage;

impl crate::stage::DocumentStage for ProposeStage {
    fn name(&self) -> &'static str {
        "rule proposals"
    }

    fn run(
        &self,
        document: &mut Document,
        clock: &crate::stage::Clock,
    ) -> std::result::Result<(), crate::stage::Halt> {
        let found = propose(document, clock)?;
        document.found_speakers = Some(found);
        clock.check_now()
    }
}

/// The spans of a document that the linker links, sorted by start.
#[derive(Debug, Clone, Default)]
pub struct SpanSet {
    pub pieces: Vec<Range<usize>>,
    pub sources: Vec<Range<usize>>,
    pub cues: Vec<Range<usize>>,
    /// Where each cue came from: 1 the tagger, 2 the rule stages, 3 both.
    pub cue_origin: Vec<u8>,
}

impl SpanSet {
    /// The tagger's spans of a document whose tokens are `tokens` (of `text`), each content
    /// piece cut around the tagged cues inside it.
    pub fn from_tagged(spans: Vec<TaggedSpan>, tokens: &[Token], text: &str) -> Self {
        let mut set = SpanSet::from_tagged_as_they_are(spans);
        set.pieces = split_at_cues(std::mem::take(&mut set.pieces), &set.cues, tokens, text);
        set
    }

    /// The tagger's spans, sorted, with nothing cut.
    pub fn from_tagged_as_they_are(spans: Vec<TaggedSpan>) -> Self {
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
        set.cue_origin = vec![1; set.cues.len()];
        set
    }

    /// Completes each tagged source that stops inside a name the speaker stage found: "Mrs." of
    /// "Mrs. Clinton", "Ava" of "Ava DuVernay", "the nominee Hillary" of "Hillary Clinton". The
    /// tagger cuts a name short now and then, and PolNeAR's sources hardly ever do; the span
    /// then ends with the longest name that starts inside it and runs past its end, unless a
    /// cue or a content piece starts before that end: a title-case headline reads as one long
    /// name ("Chris Christie Calls Hillary Clinton…"), whose source the tagger had right.
    pub fn with_sources_completing_names(mut self, speakers: &Speakers) -> Self {
        let starts_within = |spans: &[Range<usize>], within: Range<usize>| {
            let first = spans.partition_point(|span| span.start < within.start);
            spans.get(first).is_some_and(|span| span.start < within.end)
        };
        for source in &mut self.sources {
            let longest_name_past_the_end = (source.start..source.end)
                .filter_map(|token| speakers.mention_starting_at(token))
                .map(|mention| &speakers.mentions[mention])
                .filter(|mention| {
                    mention.kind == MentionKind::Name
                        && !mention.quoted
                        && mention.tokens.end > source.end
                })
                .map(|mention| mention.tokens.end)
                .max();
            if let Some(end) = longest_name_past_the_end {
                let added = source.end..end;
                if !starts_within(&self.cues, added.clone()) && !starts_within(&self.pieces, added)
                {
                    source.end = end;
                }
            }
        }
        self.sources.sort_by_key(|span| (span.start, span.end));
        self.sources.dedup();
        self
    }

    /// Adds the rule stages' cues as candidates beside the tagger's, so that the linker can
    /// fall back on a cue the tagger missed.
    pub fn with_rule_cues(mut self, proposals: &[crate::tagger::features::Proposal]) -> Self {
        let mut cues: Vec<(Range<usize>, u8)> = self
            .cues
            .iter()
            .cloned()
            .zip(self.cue_origin.iter().copied())
            .collect();
        cues.extend(
            proposals
                .iter()
                .filter_map(|proposal| proposal.cue.clone())
                .filter(|cue| !cue.is_empty())
                .map(|cue| (cue, 2)),
        );
        cues.sort_by_key(|(cue, _)| (cue.start, cue.end));
        let mut merged: Vec<(Range<usize>, u8)> = Vec::with_capacity(cues.len());
        for (cue, origin) in cues {
            match merged.last_mut() {
                Some((last, last_origin)) if *last == cue => *last_origin |= origin,
                _ => merged.push((cue, origin)),
            }
        }
        self.cues = merged.iter().map(|(cue, _)| cue.clone()).collect();
        self.cue_origin = merged.iter().map(|(_, origin)| *origin).collect();
        self
    }
}

/// Cuts each content piece around the cues that lie strictly inside it, and drops the words
/// that join the first part to the cue ("and", a comma). In PolNeAR a content holds another
/// attribution's cue in 0.6% of cases (112 of 19,793 contents of train), so a piece across a
/// cue is nearly always two contents the tagger ran together: "“we still need to finalize a few
/// issues” and pointed to the need to separate fighters …". `pieces` and `cues` are sorted.
fn split_at_cues(
    pieces: Vec<Range<usize>>,
    cues: &[Range<usize>],
    tokens: &[Token],
    text: &str,
) -> Vec<Range<usize>> {
    let joins = |token: usize| {
        tokens.get(token).is_some_and(|token| match token.kind {
            TokenKind::Punct => true,
            TokenKind::Word => text.get(token.start..token.end).is_some_and(|word| {
                ["and", "or", "but", "nor", "yet", "then", "while"]
                    .iter()
                    .any(|join| word.eq_ignore_ascii_case(join))
            }),
            TokenKind::Number | TokenKind::OpenQuote | TokenKind::CloseQuote => false,
        })
    };
    let mut split = Vec::with_capacity(pieces.len());
    for piece in pieces {
        let first_inside = cues.partition_point(|cue| cue.start <= piece.start);
        let mut start = piece.start;
        for cue in &cues[first_inside..] {
            if cue.start >= piece.end {
                break;
            }
            if cue.start < start || cue.end >= piece.end {
                continue;
            }
            let mut end = cue.start;
            while end > start && joins(end - 1) {
                end -= 1;
            }
            if end > start {
                split.push(start..end);
            }
            start = cue.end;
        }
        if start < piece.end {
            split.push(start..piece.end);
        }
    }
    split.sort_by_key(|piece| (piece.start, piece.end));
    split.dedup();
    split
}

/// The rule stages' cue of each piece, and the rule source of each cue.
pub type RuleLinks = (Vec<Option<Range<usize>>>, Vec<Option<Range<usize>>>);

/// The rule stages' cue for each piece (of the rule quote that overlaps it most), and the rule
/// source of each cue.
pub fn rule_links(proposals: &[crate::tagger::features::Proposal], spans: &SpanSet) -> RuleLinks {
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
pub struct Linked {
    /// The tagger's pieces it is made of (none for a quote the rules alone found).
    pieces: Vec<usize>,
    /// The tokens of the content: its pieces' hull, or the rule stages' content for the same
    /// cue where the linker prefers that.
    extent: Range<usize>,
    cue: Option<Range<usize>>,
    /// The source span the linker chose.
    source: Option<Range<usize>>,
    /// Carried on from an earlier attribution (a continuation split off, or a floating quote).
    carries: Option<usize>,
    /// The linker's probability that its first piece is a quote as decided (with this cue,
    /// continuing a quote, or floating), or that a rule-built content is a quote; `None` where
    /// a construction rule decided.
    quote_probability: Option<f32>,
    /// The linker's probability of its choice of source; `None` where it made none.
    source_probability: Option<f32>,
}

/// The linker's decisions for a document's spans: the cue decision of every piece, in piece
/// order, and the source decision of every content that has a cue.
pub fn link(
    linker: &Linker,
    context: &FeatureContext,
    speakers: &Speakers,
    sources: &[Range<usize>],
) -> Decisions {
    let mut decisions = Vec::with_capacity(context.pieces.len());
    let mut cue_probabilities = Vec::with_capacity(context.pieces.len());
    // The cue of the content each piece joined, for the next piece's "continues" candidate.
    let mut owner_cues: Vec<Option<usize>> = Vec::with_capacity(context.pieces.len());
    for piece in 0..context.pieces.len() {
        let candidates = cue_candidates(context, piece);
        let owner_cue = piece
            .checked_sub(1)
            .and_then(|previous| owner_cues[previous])
            .map(|cue| &context.cues[cue]);
        let scores: Vec<f32> = candidates
            .iter()
            .map(|&(candidate, rank)| {
                let score =
                    linker.score(&context.cue_features(piece, candidate, rank, owner_cue).0);
                if candidate == CueCandidate::NotAQuote {
                    score + linker.not_a_quote_bias
                } else {
                    score
                }
            })
            .collect();
        let (decision, probability) = best_of(&scores)
            .map_or((CueCandidate::NotAQuote, 1.0), |(index, probability)| {
                (candidates[index].0, probability)
            });
        cue_probabilities.push(probability);
        owner_cues.push(match decision {
            CueCandidate::Cue(cue) => Some(cue),
            CueCandidate::Continues(previous) => owner_cues[previous],
            CueCandidate::Floating | CueCandidate::NotAQuote => None,
        });
        decisions.push(decision);
    }
    let tokens = &context.segmented.tokens;
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
        let keys = context.source_keys(&content, kind, cue, cue_index, &candidates, nearest);
        let (best, probability) = linker.choose(&keys).unwrap_or((candidates.len() - 1, 1.0));
        source_choices[piece] = Some((candidates[best].0.clone(), probability));
    }
    Decisions {
        cues: decisions,
        cue_probabilities,
        sources: source_choices,
    }
}

/// Whether a content holds no proposition: no word at all (a lone quotation mark), or one
/// function word ("that", "the", "to"), a tagged piece cut short. PolNeAR's one-word contents
/// are nouns and names ("attacked Machado").
fn holds_no_proposition(text: &str, tokens: &[Token], extent: &Range<usize>) -> bool {
    const OTHERS: [&str; 8] = ["to", "which", "what", "who", "whom", "whose", "being", "of"];
    let Some(content) = tokens.get(extent.clone()) else {
        return false;
    };
    let words = content
        .iter()
        .filter(|token| matches!(token.kind, TokenKind::Word | TokenKind::Number))
        .count();
    if words == 0 && !content.is_empty() {
        return true;
    }
    let [token] = content else {
        return false;
    };
    let lexicon = Lexicon::get();
    let word = token_text(text, token);
    crate::lexicon::with_lower(word, |lowered| {
        lexicon.determiners.contains(lowered)
            || lexicon.articles.contains(lowered)
            || OTHERS.contains(&lowered)
    })
}

/// What [`link`] decided for each piece.
#[derive(Debug, Clone)]
pub struct Decisions {
    pub cues: Vec<CueCandidate>,
    /// The linker's probability of each cue decision.
    pub cue_probabilities: Vec<f32>,
    /// The source of each piece whose decision is a cue, and the linker's probability of it.
    pub sources: Vec<Option<(SourceCandidate, f32)>>,
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
    let tagged = learned.tagger.tag_layers(&layers);
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
    let (linked, _) = link_spans_with(
        document,
        found,
        proposals,
        tagged,
        &learned.linker,
        learned.continuations,
        false,
    );
    linked
}

/// [`link_spans`] with a given linker, recording the choices of extent where `record`.
pub fn link_spans_with(
    document: &Document,
    found: Speakers,
    proposals: &[crate::tagger::features::Proposal],
    tagged: Vec<TaggedSpan>,
    linker: &Linker,
    continuations: Continuations,
    record: bool,
) -> ((Vec<Attribution>, Speakers), Records) {
    let text = document.normalised.text.as_str();
    let spans = SpanSet::from_tagged(tagged, &document.segmented.tokens, text)
        .with_rule_cues(proposals)
        .with_sources_completing_names(&found);
    let segmented = &document.segmented;
    let linking = LinkIndex::new(text, segmented, &spans, proposals);
    let index = &linking.index;
    let tag_scores = document
        .tag_scores
        .as_deref()
        .filter(|_| linker.reads_tag_scores);
    let context = linking.context(text, segmented, &spans, tag_scores);
    let decided = link(linker, &context, &found, &spans.sources);
    let mut chooser = ExtentChooser {
        linker,
        context: &context,
        proposals,
        recorded: record.then(Vec::new),
        recorded_fallbacks: record.then(Vec::new),
    };
    let linked = assemble(
        text,
        segmented,
        &spans,
        index,
        &decided,
        found,
        continuations,
        Some(&mut chooser),
    );
    let records = Records {
        extents: chooser.recorded.unwrap_or_default(),
        fallbacks: chooser.recorded_fallbacks.unwrap_or_default(),
    };
    (linked, records)
}

/// What linking records for training.
#[derive(Debug, Clone, Default)]
pub struct Records {
    pub extents: Vec<ExtentRecord>,
    pub fallbacks: Vec<FallbackRecord>,
}

/// Turns the linker's decisions into attributions, resolving sources to entities.
#[allow(clippy::too_many_arguments)]
fn assemble(
    text: &str,
    segmented: &Segmented,
    spans: &SpanSet,
    index: &DocumentIndex,
    decided: &Decisions,
    mut speakers: Speakers,
    continuations: Continuations,
    chooser: Option<&mut ExtentChooser>,
) -> (Vec<Attribution>, Speakers) {
    let decisions = &decided.cues;
    let sources = &decided.sources;
    let tokens = &segmented.tokens;
    // Group the pieces into contents.
    let mut linked: Vec<Linked> = Vec::new();
    // The content each piece went to; `usize::MAX` for a piece that is no quote.
    let mut content_of_piece: Vec<usize> = Vec::with_capacity(spans.pieces.len());
    for (piece, decision) in decisions.iter().enumerate() {
        match *decision {
            CueCandidate::NotAQuote => content_of_piece.push(usize::MAX),
            CueCandidate::Continues(previous)
                if content_of_piece
                    .get(previous)
                    .is_some_and(|&owner| owner != usize::MAX) =>
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
                        extent: spans.pieces[piece].clone(),
                        cue: None,
                        source: None,
                        carries: Some(owner),
                        quote_probability: Some(decided.cue_probabilities[piece]),
                        source_probability: None,
                    });
                } else {
                    linked[owner].pieces.push(piece);
                    linked[owner].extent.end = spans.pieces[piece].end;
                    content_of_piece.push(owner);
                }
            }
            CueCandidate::Cue(cue) => {
                content_of_piece.push(linked.len());
                let source = match &sources[piece] {
                    Some((SourceCandidate::Span { tokens, .. }, _)) => Some(tokens.clone()),
                    _ => None,
                };
                linked.push(Linked {
                    pieces: vec![piece],
                    extent: spans.pieces[piece].clone(),
                    cue: Some(spans.cues[cue].clone()),
                    source,
                    carries: None,
                    quote_probability: Some(decided.cue_probabilities[piece]),
                    source_probability: sources[piece]
                        .as_ref()
                        .map(|(_, probability)| *probability),
                });
            }
            _ => {
                content_of_piece.push(linked.len());
                linked.push(Linked {
                    pieces: vec![piece],
                    extent: spans.pieces[piece].clone(),
                    cue: None,
                    source: None,
                    carries: None,
                    quote_probability: Some(decided.cue_probabilities[piece]),
                    source_probability: None,
                });
            }
        }
    }
    // Contents that the rules' wider extent of another now holds whole: clauses of that one,
    // not quotes of their own (PolNeAR nests one content in another hardly ever).
    let mut nested = vec![false; linked.len()];
    if let Some(chooser) = chooser {
        chooser.choose_extents(&mut linked);
        let mut by_start: Vec<usize> = (0..linked.len()).collect();
        by_start.sort_by_key(|&content| {
            (
                linked[content].extent.start,
                std::cmp::Reverse(linked[content].extent.end),
            )
        });
        let mut reach = 0;
        for &content in &by_start {
            let extent = &linked[content].extent;
            if extent.end <= reach {
                nested[content] = true;
            }
            reach = reach.max(extent.end);
        }
        let fallbacks = chooser.fallbacks(&linked, &nested);
        nested.extend(fallbacks.iter().map(|_| false));
        linked.extend(fallbacks);
    }
    // A quotation may name its speaker in a sign-off or a lead-in, right at its marks: that
    // outweighs a cue the linker found farther off, which PolNeAR's running text taught it.
    for content in &mut linked {
        // A content that runs from running text into a quotation (the tagger's mixed quote
        // over a paragraph break) is read from its last opening mark on.
        let quotation = match quote_kind(tokens, &content.extent) {
            QuoteKind::Direct => content.extent.clone(),
            QuoteKind::Mixed => match content.extent.clone().rev().find(|&token| {
                tokens[token].kind == TokenKind::OpenQuote
                    && index.paragraph_of.get(token) != index.paragraph_of.get(content.extent.start)
            }) {
                Some(open) => open..content.extent.end,
                None => continue,
            },
            QuoteKind::Indirect => continue,
        };
        let paragraphs = &index.paragraph_of;
        let found = constructions::sign_off(text, tokens, &speakers, paragraphs, &quotation)
            .or_else(|| constructions::lead_in(text, tokens, &speakers, paragraphs, &quotation));
        if let Some(found) = found {
            content.extent = quotation;
            content.cue = Some(found.cue);
            content.source = Some(found.source);
            content.carries = None;
            content.quote_probability = None;
            content.source_probability = None;
        }
    }
    let mut order: Vec<usize> = (0..linked.len()).collect();
    order.sort_by_key(|&content| (linked[content].extent.start, linked[content].extent.end));
    // Quotes never overlap: where a chosen extent runs into the next content, the later one
    // goes.
    let mut reach = 0;
    for &content in &order {
        if nested[content] {
            continue;
        }
        let extent = &linked[content].extent;
        if extent.start < reach || extent.is_empty() {
            nested[content] = true;
        } else {
            reach = extent.end;
        }
    }
    let mention_index = MentionIndex::new(text, &speakers);
    let lexicon = Lexicon::get();
    let mut attributions: Vec<Attribution> = Vec::with_capacity(linked.len());
    // The attribution index of each linked content, once made.
    let mut made: Vec<Option<usize>> = vec![None; linked.len()];
    let mut last_speaker: Option<(usize, Option<usize>, usize)> = None;
    // The mentions made for source spans, so that a span that is the source of several
    // contents is one mention, not one each.
    let mut source_mentions: HashMap<Range<usize>, usize> = HashMap::new();
    let sentence_of = |token: usize| index.sentence_of.get(token).copied().unwrap_or(0);
    for number in order {
        let content = &linked[number];
        if nested[number] || holds_no_proposition(text, tokens, &content.extent) {
            continue;
        }
        let extent = content.extent.clone();
        let sentence = sentence_of(extent.start);
        let kind = quote_kind(tokens, &extent);
        let cue = content.cue.clone().map(|range| Cue {
            start: tokens[range.start].start,
            end: tokens[range.end - 1].end,
            tokens: range,
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
            quote_probability: content.quote_probability,
            source_probability: content.source_probability,
            ..Features::default()
        };
        let (mention, entity) = match (&cue, &content.source) {
            (Some(cue), Some(source)) => {
                features.speech_cue = contains_lower(
                    &lexicon.speech_verbs,
                    token_text(text, &tokens[cue.tokens.start]),
                );
                features.source_after_cue = source.start >= cue.tokens.end;
                features.cue_distance = source.start.abs_diff(cue.tokens.start);
                // The last name of a source that is "Kerry and Lavrov", looked up before the
                // source becomes a mention of its own and the longest one ending there.
                let last_name = source
                    .end
                    .checked_sub(1)
                    .and_then(|last| speakers.mention_ending_at(last))
                    .filter(|&inner| speakers.mentions[inner].tokens.start > source.start);
                let mention = *source_mentions
                    .entry(source.clone())
                    .or_insert_with(|| source_mention(text, tokens, &mut speakers, source.clone()));
                // Names joined by "and" before the cue speak together: "Kerry and Lavrov
                // agreed". After it, "and" more often joins the next clause.
                let joinable: Vec<usize> = if features.source_after_cue {
                    Vec::new()
                } else {
                    last_name.into_iter().chain([mention]).collect()
                };
                let (mention, entity, resolution) = join_or_resolve(
                    text,
                    segmented,
                    &mut speakers,
                    &mention_index,
                    &joinable,
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
        // The pieces show where the attribution interrupts the content, so they are kept only
        // where the content is their hull (not the rules' extent chosen in their place).
        let piece_spans = || content.pieces.iter().map(|&piece| &spans.pieces[piece]);
        let pieces = if content.pieces.len() > 1
            && piece_spans().map(|piece| piece.start).min() == Some(extent.start)
            && piece_spans().map(|piece| piece.end).max() == Some(extent.end)
        {
            piece_spans()
                .filter(|piece| !piece.is_empty())
                .map(|piece| (tokens[piece.start].start, tokens[piece.end - 1].end))
                .collect()
        } else {
            Vec::new()
        };
        made[number] = Some(attributions.len());
        attributions.push(Attribution {
            kind,
            start: tokens[extent.start].start,
            end: tokens[extent.end - 1].end,
            pieces,
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

/// Chooses each content's extent between the tagger's pieces and the rule stages' content for
/// the same cue: the rules draw the clause of a "said that ..." better than the tagger where
/// they find it, the tagger draws the rest (quotes of several sentences, contents before their
/// cue) better.
pub struct ExtentChooser<'a> {
    pub linker: &'a Linker,
    pub context: &'a FeatureContext<'a>,
    pub proposals: &'a [crate::tagger::features::Proposal],
    /// Where given, every choice is recorded: (the tagger's extent, the rules' extent, the
    /// features of each).
    pub recorded: Option<Vec<ExtentRecord>>,
    /// Where given, every quote the rules alone found is recorded.
    pub recorded_fallbacks: Option<Vec<FallbackRecord>>,
}

/// One quote that the rules alone found, as training reads it.
#[derive(Debug, Clone)]
pub struct FallbackRecord {
    pub content: Range<usize>,
    pub source: Option<Range<usize>>,
    pub features: [Vec<u64>; 2],
}

/// One choice of extent, as training reads it.
#[derive(Debug, Clone)]
pub struct ExtentRecord {
    pub tagged: Range<usize>,
    pub rule: Range<usize>,
    pub features: [Vec<u64>; 2],
}

impl ExtentChooser<'_> {
    /// The quotes that the rule stages found and the learned links left out (no content
    /// overlaps theirs), kept where the linker trusts them.
    fn fallbacks(&mut self, linked: &[Linked], nested: &[bool]) -> Vec<Linked> {
        let mut extents: Vec<Range<usize>> = linked
            .iter()
            .zip(nested)
            .filter(|(_, &inside)| !inside)
            .map(|(content, _)| content.extent.clone())
            .collect();
        extents.sort_by_key(|extent| (extent.start, extent.end));
        // The furthest end of the extents before each, so that an overlap is found by search.
        let mut reach = Vec::with_capacity(extents.len());
        let mut furthest = 0;
        for extent in &extents {
            furthest = furthest.max(extent.end);
            reach.push(furthest);
        }
        let overlaps = |content: &Range<usize>| {
            let before = extents.partition_point(|extent| extent.start < content.end);
            before > 0 && reach[before - 1] > content.start
        };
        let mut kept = Vec::new();
        for proposal in self.proposals {
            if proposal.content.is_empty() || overlaps(&proposal.content) {
                continue;
            }
            let features = [
                self.context.fallback_features(proposal, false).0,
                self.context.fallback_features(proposal, true).0,
            ];
            let (choice, probability) = self.linker.choose(&features).unwrap_or((0, 1.0));
            let keep = choice == 1;
            if let Some(recorded) = &mut self.recorded_fallbacks {
                recorded.push(FallbackRecord {
                    content: proposal.content.clone(),
                    source: proposal.source.clone(),
                    features: features.clone(),
                });
            }
            if keep {
                kept.push(Linked {
                    pieces: Vec::new(),
                    extent: proposal.content.clone(),
                    cue: proposal.cue.clone(),
                    source: proposal.source.clone(),
                    carries: None,
                    quote_probability: Some(probability),
                    source_probability: None,
                });
            }
        }
        kept
    }

    fn choose_extents(&mut self, linked: &mut [Linked]) {
        let mut by_cue: Vec<&crate::tagger::features::Proposal> = self
            .proposals
            .iter()
            .filter(|proposal| proposal.cue.is_some() && !proposal.content.is_empty())
            .collect();
        by_cue.sort_by_key(|proposal| proposal.cue.as_ref().map(|cue| (cue.start, cue.end)));
        for content in linked.iter_mut() {
            let Some(cue) = content.cue.as_ref() else {
                continue;
            };
            let at = by_cue.partition_point(|proposal| {
                proposal.cue.as_ref().map(|found| (found.start, found.end))
                    < Some((cue.start, cue.end))
            });
            let Some(proposal) = by_cue
                .get(at)
                .filter(|proposal| proposal.cue.as_ref() == Some(cue))
            else {
                continue;
            };
            if proposal.content == content.extent {
                continue;
            }
            let features = [
                self.context
                    .extent_features(
                        &content.extent,
                        &proposal.content,
                        cue,
                        false,
                        content.pieces.len(),
                        proposal.kind,
                    )
                    .0,
                self.context
                    .extent_features(
                        &proposal.content,
                        &content.extent,
                        cue,
                        true,
                        content.pieces.len(),
                        proposal.kind,
                    )
                    .0,
            ];
            let choice = self.linker.best(&features).unwrap_or(0);
            if let Some(recorded) = &mut self.recorded {
                recorded.push(ExtentRecord {
                    tagged: content.extent.clone(),
                    rule: proposal.content.clone(),
                    features: features.clone(),
                });
            }
            if choice == 1 {
                content.extent = proposal.content.clone();
            }
        }
    }
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
    // The index keeps the longest mention at each end, so a shorter one with exactly these
    // tokens is found at whichever end no longer mention shares.
    if let Some(mention) = [
        speakers.mention_starting_at(source.start),
        speakers.mention_ending_at(source.end - 1),
    ]
    .into_iter()
    .flatten()
    .find(|&mention| speakers.mentions[mention].tokens == source)
    {
        return mention;
    }
    // "Dean, a former Democratic National Committee chairman": a name that opens the span and
    // is set off by a comma is its head, and what follows describes it.
    let head = speakers
        .mention_starting_at(source.start)
        .filter(|&mention| {
            let found = &speakers.mentions[mention];
            found.kind == MentionKind::Name
                && found.tokens.end < source.end
                && token_text(text, &tokens[found.tokens.end]) == ","
        });
    let inner = head.or_else(|| {
        (source.start..source.end.min(source.start + 16))
            .filter_map(|token| speakers.mention_starting_at(token))
            .filter(|&mention| speakers.mentions[mention].tokens.end <= source.end)
            .max_by_key(|&mention| {
                let found = &speakers.mentions[mention];
                (found.kind == MentionKind::Name, found.tokens.len())
            })
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
