//! Training the linker: the decisions of the gold attributions of PolNeAR, over candidates from
//! the gold spans and the tagger's spans together, fitted as multinomial logistic regression
//! (softmax over each decision's candidates) by AdaGrad, in a seeded order.

use std::ops::Range;

use crate::document::Document;
use crate::eval::gold::{GoldDocument, Piece};
use crate::linker::candidates::{cue_candidates, CueCandidate, LinkIndex, SourceCandidate};
use crate::linker::{quote_kind, source_candidates, Linker, SpanSet};
use crate::record::QuoteKind;
use crate::speakers::Speakers;
use crate::tagger::{segments, TaggedSpan};
use crate::train::spans::{covered_tokens, token_char_spans};

/// One decision: the features of each candidate, and which candidate the gold takes.
#[derive(Debug, Clone)]
pub struct LinkExample {
    pub candidates: Vec<Vec<u64>>,
    pub gold: usize,
}

/// A gold attribution in tokens: its content pieces (split at paragraph breaks), cue, source.
#[derive(Debug, Clone)]
pub struct GoldLinks {
    pub pieces: Vec<Range<usize>>,
    pub cue: Option<Range<usize>>,
    pub source: Option<Range<usize>>,
}

fn hull(token_spans: &[(usize, usize)], pieces: &[Piece]) -> Option<Range<usize>> {
    let first = pieces.first()?;
    let last = pieces.last()?;
    let start = covered_tokens(token_spans, *first).start;
    let end = covered_tokens(token_spans, *last).end;
    (start < end).then_some(start..end)
}

/// The gold attributions of a document in tokens.
pub fn gold_links(document: &Document, gold: &GoldDocument) -> Vec<GoldLinks> {
    let token_spans = token_char_spans(document);
    let paragraphs = segments(&document.segmented);
    let paragraph_end = |token: usize| {
        let at = paragraphs.partition_point(|segment| segment.end <= token);
        paragraphs.get(at).map_or(usize::MAX, |segment| segment.end)
    };
    gold.attributions
        .iter()
        .map(|attribution| {
            let mut pieces: Vec<Range<usize>> = Vec::new();
            for piece in &attribution.content {
                let tokens = covered_tokens(&token_spans, *piece);
                if tokens.is_empty() {
                    continue;
                }
                // A piece that runs over a paragraph break is tagged as one piece per paragraph.
                let mut start = tokens.start;
                while start < tokens.end {
                    let end = paragraph_end(start).min(tokens.end).max(start + 1);
                    pieces.push(start..end);
                    start = end;
                }
            }
            pieces.sort_by_key(|piece| (piece.start, piece.end));
            let mut merged: Vec<Range<usize>> = Vec::new();
            for piece in pieces {
                match merged.last_mut() {
                    Some(last) if piece.start < last.end => last.end = last.end.max(piece.end),
                    _ => merged.push(piece),
                }
            }
            GoldLinks {
                pieces: merged,
                cue: attribution
                    .cue
                    .as_deref()
                    .and_then(|cue| hull(&token_spans, cue)),
                source: attribution
                    .source
                    .as_deref()
                    .and_then(|source| hull(&token_spans, source)),
            }
        })
        .filter(|links| !links.pieces.is_empty())
        .collect()
}

/// The linker's training decisions of one document: the gold pieces, with cue and source
/// candidates from the gold spans and the tagger's spans together.
pub fn link_examples(
    document: &Document,
    found: &Speakers,
    proposals: &[crate::tagger::features::Proposal],
    tagged: Vec<TaggedSpan>,
    gold: &GoldDocument,
) -> (Vec<LinkExample>, Vec<LinkExample>) {
    let links = gold_links(document, gold);
    let mut spans = SpanSet::from_tagged_as_they_are(tagged);
    spans.pieces.clear();
    for link in &links {
        spans.pieces.extend(link.pieces.iter().cloned());
        spans.cues.extend(link.cue.clone());
        spans.sources.extend(link.source.clone());
    }
    for spans in [&mut spans.pieces, &mut spans.sources, &mut spans.cues] {
        spans.sort_by_key(|span| (span.start, span.end));
        spans.dedup();
    }
    spans.cue_origin = vec![1; spans.cues.len()];
    let spans = spans.with_rule_cues(proposals);
    let text = document.normalised.text.as_str();
    let segmented = &document.segmented;
    let linking = LinkIndex::new(text, segmented, &spans, proposals);
    let index = &linking.index;
    let context = linking.context(text, segmented, &spans, document.tag_scores.as_deref());
    let piece_at = |piece: &Range<usize>| {
        spans
            .pieces
            .binary_search_by_key(&(piece.start, piece.end), |span| (span.start, span.end))
            .ok()
    };
    let cue_at = |cue: &Range<usize>| {
        spans
            .cues
            .binary_search_by_key(&(cue.start, cue.end), |span| (span.start, span.end))
            .ok()
    };
    let mut cue_examples = Vec::new();
    let mut source_examples = Vec::new();
    // What the gold says for each piece: continues the piece before, or this cue.
    let mut wanted: Vec<Option<CueCandidate>> = vec![None; spans.pieces.len()];
    for link in &links {
        for (position, piece) in link.pieces.iter().enumerate() {
            let Some(at) = piece_at(piece) else { continue };
            let decision = if position == 0 {
                match link.cue.as_ref().and_then(cue_at) {
                    Some(cue) => CueCandidate::Cue(cue),
                    None => CueCandidate::Floating,
                }
            } else {
                match piece_at(&link.pieces[position - 1]) {
                    Some(previous) => CueCandidate::Continues(previous),
                    None => continue,
                }
            };
            wanted[at].get_or_insert(decision);
        }
    }
    // The gold cue of the content each piece belongs to.
    let mut owner_cues: Vec<Option<Range<usize>>> = vec![None; spans.pieces.len()];
    for link in &links {
        for piece in &link.pieces {
            if let Some(at) = piece_at(piece) {
                owner_cues[at] = owner_cues[at].take().or_else(|| link.cue.clone());
            }
        }
    }
    for (piece, decision) in wanted.iter().enumerate() {
        let Some(decision) = decision else { continue };
        let candidates = cue_candidates(&context, piece);
        let owner_cue = piece
            .checked_sub(1)
            .and_then(|previous| owner_cues[previous].as_ref());
        let gold_index = candidates
            .iter()
            .position(|(candidate, _)| candidate == decision)
            .or_else(|| {
                // A cue out of reach: the piece has no cue the linker could give it.
                matches!(decision, CueCandidate::Cue(_)).then(|| candidates.len() - 1)
            });
        let Some(gold_index) = gold_index else {
            continue;
        };
        cue_examples.push(LinkExample {
            candidates: candidates
                .iter()
                .map(|&(candidate, rank)| context.cue_features(piece, candidate, rank, owner_cue).0)
                .collect(),
            gold: gold_index,
        });
    }
    for link in &links {
        let (Some(first), Some(cue)) = (link.pieces.first(), link.cue.as_ref()) else {
            continue;
        };
        let Some(cue_index) = cue_at(cue) else {
            continue;
        };
        let kind = quote_kind(&segmented.tokens, first);
        let (candidates, nearest) =
            source_candidates(&spans.sources, found, &index.paragraph_of, cue);
        let gold_index =
            candidates
                .iter()
                .position(|(candidate, _)| match (candidate, &link.source) {
                    (SourceCandidate::Span { tokens, .. }, Some(source)) => tokens == source,
                    (SourceCandidate::Absent, None) => true,
                    _ => false,
                });
        let Some(gold_index) = gold_index else {
            continue;
        };
        source_examples.push(LinkExample {
            candidates: context.source_keys(first, kind, cue, cue_index, &candidates, nearest),
            gold: gold_index,
        });
    }
    (cue_examples, source_examples)
}

fn token_iou(a: &Range<usize>, b: &Range<usize>) -> f64 {
    let overlap = a.end.min(b.end).saturating_sub(a.start.max(b.start));
    let union = a.end.max(b.end) - a.start.min(b.start);
    if union == 0 {
        0.0
    } else {
        overlap as f64 / union as f64
    }
}

/// The index of the span in `spans` that overlaps `target` most with a token IoU of at least
/// `least`; an exact match wins.
fn best_match(spans: &[Range<usize>], target: &Range<usize>, least: f64) -> Option<usize> {
    let first = spans.partition_point(|span| span.end <= target.start);
    spans[first..]
        .iter()
        .enumerate()
        .take_while(|(_, span)| span.start < target.end)
        .map(|(offset, span)| (first + offset, token_iou(span, target)))
        .filter(|&(_, iou)| iou >= least)
        .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|(index, _)| index)
}

/// The linker's training decisions of one document over the spans a tagger found (one that did
/// not see this document): each tagged piece is matched to a gold piece (token IoU at least a
/// half) and takes that piece's decision, or "not a quote" where none matches; cues and
/// sources are the tagged ones that overlap the gold ones most.
pub fn examples_from_predictions(
    document: &Document,
    found: &Speakers,
    proposals: &[crate::tagger::features::Proposal],
    tagged: Vec<TaggedSpan>,
    gold: &GoldDocument,
) -> (Vec<LinkExample>, Vec<LinkExample>) {
    let links = gold_links(document, gold);
    let text = document.normalised.text.as_str();
    let spans =
        SpanSet::from_tagged(tagged, &document.segmented.tokens, text).with_rule_cues(proposals);
    let segmented = &document.segmented;
    let linking = LinkIndex::new(text, segmented, &spans, proposals);
    let index = &linking.index;
    let context = linking.context(text, segmented, &spans, document.tag_scores.as_deref());
    // Every gold piece, with its attribution and its place in it, sorted by start.
    let mut gold_pieces: Vec<(Range<usize>, usize, usize)> = links
        .iter()
        .enumerate()
        .flat_map(|(link, gold)| {
            gold.pieces
                .iter()
                .enumerate()
                .map(move |(position, piece)| (piece.clone(), link, position))
        })
        .collect();
    gold_pieces.sort_by_key(|(piece, _, _)| (piece.start, piece.end));
    let gold_ranges: Vec<Range<usize>> = gold_pieces
        .iter()
        .map(|(piece, _, _)| piece.clone())
        .collect();
    let matched: Vec<Option<(usize, usize)>> = spans
        .pieces
        .iter()
        .map(|piece| {
            best_match(&gold_ranges, piece, 0.5).map(|at| (gold_pieces[at].1, gold_pieces[at].2))
        })
        .collect();
    let mut cue_examples = Vec::new();
    let mut source_examples = Vec::new();
    let mut owner_cues: Vec<Option<usize>> = Vec::with_capacity(spans.pieces.len());
    for piece in 0..spans.pieces.len() {
        let candidates = cue_candidates(&context, piece);
        let has =
            |wanted: CueCandidate| candidates.iter().any(|(candidate, _)| *candidate == wanted);
        let decision = match matched[piece] {
            None => CueCandidate::NotAQuote,
            Some((link, position)) => {
                let continues = position > 0
                    && piece > 0
                    && matched[piece - 1].is_some_and(|(previous, _)| previous == link)
                    && has(CueCandidate::Continues(piece - 1));
                let cue = links[link]
                    .cue
                    .as_ref()
                    .and_then(|cue| best_match(&spans.cues, cue, 0.3))
                    .filter(|&cue| has(CueCandidate::Cue(cue)));
                if continues {
                    CueCandidate::Continues(piece - 1)
                } else if let Some(cue) = cue {
                    CueCandidate::Cue(cue)
                } else if quote_kind(&segmented.tokens, &spans.pieces[piece]) == QuoteKind::Direct {
                    // A quotation whose cue the tagger missed still carries on a turn.
                    CueCandidate::Floating
                } else {
                    // Reported speech without its cue would go to a guessed speaker.
                    CueCandidate::NotAQuote
                }
            }
        };
        let owner_cue = piece
            .checked_sub(1)
            .and_then(|previous| owner_cues[previous])
            .map(|cue| &spans.cues[cue]);
        owner_cues.push(match decision {
            CueCandidate::Cue(cue) => Some(cue),
            CueCandidate::Continues(previous) => owner_cues[previous],
            _ => None,
        });
        let Some(gold_index) = candidates
            .iter()
            .position(|(candidate, _)| *candidate == decision)
        else {
            continue;
        };
        cue_examples.push(LinkExample {
            candidates: candidates
                .iter()
                .map(|&(candidate, rank)| context.cue_features(piece, candidate, rank, owner_cue).0)
                .collect(),
            gold: gold_index,
        });
        let (CueCandidate::Cue(cue_index), Some((link, _))) = (decision, matched[piece]) else {
            continue;
        };
        let cue = &spans.cues[cue_index];
        let content = &spans.pieces[piece];
        let kind = quote_kind(&segmented.tokens, content);
        let (candidates, nearest) =
            source_candidates(&spans.sources, found, &index.paragraph_of, cue);
        let gold_source = links[link].source.as_ref();
        let gold_index = match gold_source {
            None => candidates
                .iter()
                .position(|(candidate, _)| *candidate == SourceCandidate::Absent),
            Some(source) => {
                let ranges: Vec<(usize, Range<usize>)> = candidates
                    .iter()
                    .enumerate()
                    .filter_map(|(at, (candidate, _))| match candidate {
                        SourceCandidate::Span { tokens, .. } => Some((at, tokens.clone())),
                        SourceCandidate::Absent => None,
                    })
                    .collect();
                ranges
                    .iter()
                    .find(|(_, tokens)| tokens == source)
                    .or_else(|| {
                        ranges
                            .iter()
                            .filter(|(_, tokens)| token_iou(tokens, source) >= 0.5)
                            .max_by(|a, b| {
                                token_iou(&a.1, source).total_cmp(&token_iou(&b.1, source))
                            })
                    })
                    .map(|(at, _)| *at)
            }
        };
        let Some(gold_index) = gold_index else {
            continue;
        };
        source_examples.push(LinkExample {
            candidates: context.source_keys(content, kind, cue, cue_index, &candidates, nearest),
            gold: gold_index,
        });
    }
    (cue_examples, source_examples)
}

/// How to fit the linker.
#[derive(Debug, Clone)]
pub struct LinkerTrainOptions {
    pub epochs: usize,
    /// The training documents are tagged by taggers trained on the other folds, so that the
    /// linker learns from spans as wrong as the tagger's on unseen text.
    pub folds: usize,
    /// Epochs of each fold's tagger.
    pub fold_epochs: usize,
    /// Also learn from the gold spans themselves.
    pub with_gold_spans: bool,
    pub table_bits: u32,
    pub learning_rate: f32,
    pub l2: f32,
    pub seed: u64,
    /// Also choose the bias of "not a quote" for this transformer tagger's spans, on the
    /// held-out split.
    #[cfg(feature = "transformer")]
    pub transformer_tagger: Option<std::path::PathBuf>,
    /// Learn from the spans `transformer_tagger` finds in the training documents instead of
    /// the fold taggers': the default mode's own linker.
    pub from_transformer_spans: bool,
    /// With `from_transformer_spans`, also read the tagger's scores at the candidates' ends.
    pub with_tag_scores: bool,
    /// With `from_transformer_spans`, also learn from the fold taggers' spans.
    pub also_fold_spans: bool,
}

impl Default for LinkerTrainOptions {
    fn default() -> Self {
        LinkerTrainOptions {
            epochs: 10,
            folds: 4,
            fold_epochs: 8,
            with_gold_spans: false,
            table_bits: 18,
            learning_rate: 0.1,
            l2: 1e-6,
            seed: 29,
            #[cfg(feature = "transformer")]
            transformer_tagger: None,
            from_transformer_spans: false,
            with_tag_scores: false,
            also_fold_spans: false,
        }
    }
}

impl LinkerTrainOptions {
    /// The transformer tagger whose spans the linker learns from, if it learns from one's.
    pub fn transformer_spans(&self) -> Option<&std::path::Path> {
        #[cfg(feature = "transformer")]
        if self.from_transformer_spans {
            return self.transformer_tagger.as_deref();
        }
        None
    }

    /// The options `models/linker.json` was trained with (its provenance gives the command),
    /// for the linkers that stand in for it on held-out folds.
    pub fn shipped() -> Self {
        LinkerTrainOptions {
            with_gold_spans: true,
            ..LinkerTrainOptions::default()
        }
    }
}

/// The share of decisions a linker gets right.
pub fn accuracy(linker: &Linker, examples: &[LinkExample]) -> f64 {
    if examples.is_empty() {
        return 0.0;
    }
    let right = examples
        .iter()
        .filter(|example| linker.best(&example.candidates) == Some(example.gold))
        .count();
    right as f64 / examples.len() as f64
}

/// Fits the linker on both kinds of decision together.
pub fn fit_linker(
    examples: &[LinkExample],
    options: &LinkerTrainOptions,
    provenance: String,
) -> Linker {
    let rows = 1usize << options.table_bits;
    let mask = (rows - 1) as u64;
    let mut weights = vec![0f32; rows];
    let mut squared = vec![1e-8f32; rows];
    let mut order: Vec<usize> = (0..examples.len()).collect();
    let mut random = options.seed;
    let mut scores = Vec::new();
    for _ in 0..options.epochs {
        for index in (1..order.len()).rev() {
            random = random
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let other = ((random >> 33) % (index as u64 + 1)) as usize;
            order.swap(index, other);
        }
        for &example in &order {
            let example = &examples[example];
            scores.clear();
            scores.extend(example.candidates.iter().map(|keys| {
                keys.iter()
                    .map(|&key| weights[(key & mask) as usize])
                    .sum::<f32>()
            }));
            let top = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let total: f32 = scores.iter().map(|score| (score - top).exp()).sum();
            for (candidate, keys) in example.candidates.iter().enumerate() {
                let probability = (scores[candidate] - top).exp() / total;
                let error = probability - if candidate == example.gold { 1.0 } else { 0.0 };
                if error.abs() < 1e-6 {
                    continue;
                }
                for &key in keys {
                    let slot = (key & mask) as usize;
                    let gradient = error + options.l2 * weights[slot];
                    squared[slot] += gradient * gradient;
                    weights[slot] -= options.learning_rate * gradient / squared[slot].sqrt();
                }
            }
        }
    }
    Linker::from_table(weights, options.table_bits, provenance)
}

/// A training document's tagged spans, with the tagger's token log-probabilities where the
/// linker reads them (the transformer's: [`Document::tag_scores`]).
#[derive(Debug, Clone, Default)]
pub struct Tagged {
    pub spans: Vec<TaggedSpan>,
    pub scores: Option<Vec<f32>>,
}

impl Tagged {
    /// Spans from a tagger whose scores the linker does not read.
    pub fn spans_only(spans: Vec<Vec<TaggedSpan>>) -> Vec<Tagged> {
        spans
            .into_iter()
            .map(|spans| Tagged {
                spans,
                scores: None,
            })
            .collect()
    }
}

/// What the linker reads of each analysed document: the document (with `tagged`'s scores),
/// the speakers as the speaker stage found them, and the rule proposals.
fn analyse_for_linking(
    rules: &crate::pipeline::Pipeline,
    document: &GoldDocument,
    tagged: &Tagged,
) -> (Document, Speakers, Vec<crate::tagger::features::Proposal>) {
    let mut analysed = rules.analyse(&document.id, &document.text);
    analysed.tag_scores = tagged.scores.clone();
    let found = crate::speakers::find_speakers(
        &analysed.normalised.text,
        &analysed.segmented,
        &analysed.regions,
    );
    let proposals = crate::tagger::proposals(&analysed);
    (analysed, found, proposals)
}

/// The linker's decisions of labelled documents, over the spans `tagged` gives each
/// (by its index): (cue decisions, source decisions).
pub fn examples_from_gold(
    rules: &crate::pipeline::Pipeline,
    gold: &[GoldDocument],
    tagged: &[Tagged],
    with_gold_spans: bool,
) -> (Vec<LinkExample>, Vec<LinkExample>) {
    use rayon::prelude::*;
    let per_document: Vec<(Vec<LinkExample>, Vec<LinkExample>)> = gold
        .par_iter()
        .zip(tagged)
        .map(|(document, tagged)| {
            let (analysed, found, proposals) = analyse_for_linking(rules, document, tagged);
            let (mut cues, mut sources) = examples_from_predictions(
                &analysed,
                &found,
                &proposals,
                tagged.spans.clone(),
                document,
            );
            if with_gold_spans {
                let (gold_cues, gold_sources) = link_examples(
                    &analysed,
                    &found,
                    &proposals,
                    tagged.spans.clone(),
                    document,
                );
                cues.extend(gold_cues);
                sources.extend(gold_sources);
            }
            (cues, sources)
        })
        .collect();
    let mut cue_examples = Vec::new();
    let mut source_examples = Vec::new();
    for (cues, sources) in per_document {
        cue_examples.extend(cues);
        source_examples.extend(sources);
    }
    (cue_examples, source_examples)
}

/// The choices of extent (the tagger's pieces or the rules' content) of labelled documents, as
/// `linker` links the spans that `tagged` gives each: the choices where exactly one of the two
/// is the gold content.
pub fn extent_examples(
    rules: &crate::pipeline::Pipeline,
    gold: &[GoldDocument],
    tagged: &[Tagged],
    linker: &Linker,
) -> Vec<LinkExample> {
    use rayon::prelude::*;
    let per_document: Vec<Vec<LinkExample>> = gold
        .par_iter()
        .zip(tagged)
        .map(|(document, tagged)| {
            let (analysed, found, proposals) = analyse_for_linking(rules, document, tagged);
            let gold_extents: Vec<Range<usize>> = gold_links(&analysed, document)
                .iter()
                .filter_map(|link| Some(link.pieces.first()?.start..link.pieces.last()?.end))
                .collect();
            let (_, records) = crate::linker::link_spans_with(
                &analysed,
                found,
                &proposals,
                tagged.spans.clone(),
                linker,
                crate::linker::Continuations::Joined,
                true,
            );
            let links = gold_links(&analysed, document);
            let fallbacks = records.fallbacks.into_iter().map(|record| {
                // Kept where a gold attribution has this content and source (IoU a half).
                let right = links.iter().any(|link| {
                    let (Some(first), Some(last)) = (link.pieces.first(), link.pieces.last())
                    else {
                        return false;
                    };
                    let sources_agree = match (&link.source, &record.source) {
                        (None, None) => true,
                        (Some(gold), Some(found)) => token_iou(gold, found) >= 0.5,
                        _ => false,
                    };
                    token_iou(&(first.start..last.end), &record.content) >= 0.5 && sources_agree
                });
                LinkExample {
                    candidates: record.features.to_vec(),
                    gold: usize::from(right),
                }
            });
            let extents: Vec<LinkExample> = records
                .extents
                .into_iter()
                .filter_map(|record| {
                    let tagged_right = gold_extents.contains(&record.tagged);
                    let rule_right = gold_extents.contains(&record.rule);
                    (tagged_right != rule_right).then(|| LinkExample {
                        candidates: record.features.to_vec(),
                        gold: usize::from(rule_right),
                    })
                })
                .collect();
            extents.into_iter().chain(fallbacks).collect::<Vec<_>>()
        })
        .collect();
    per_document.into_iter().flatten().collect()
}

/// The records the learned stages make of held-out documents from their tagged spans, with
/// every piece of a content kept in one quote, as PolNeAR annotates them.
fn held_out_records(
    rules: &crate::pipeline::Pipeline,
    gold: &[GoldDocument],
    tagged: &[Tagged],
    linker: &Linker,
) -> Vec<crate::record::DocumentRecord> {
    use rayon::prelude::*;
    gold.par_iter()
        .zip(tagged)
        .map(|(document, tagged)| {
            let (mut analysed, found, proposals) = analyse_for_linking(rules, document, tagged);
            let ((attributions, speakers), _) = crate::linker::link_spans_with(
                &analysed,
                found,
                &proposals,
                tagged.spans.clone(),
                linker,
                crate::linker::Continuations::Joined,
                false,
            );
            analysed.attributions = attributions;
            analysed.speakers = speakers;
            analysed.to_record()
        })
        .collect()
}

/// The bias on "not a quote" that gives `linker` the best end-to-end F1 on a held-out split,
/// whose documents' spans are `tagged`.
fn best_not_a_quote_bias(
    rules: &crate::pipeline::Pipeline,
    gold: &[GoldDocument],
    tagged: &[Tagged],
    linker: &Linker,
    progress: &dyn Fn(&str),
) -> f32 {
    let mut linker = linker.clone();
    let mut best = (f64::NEG_INFINITY, 0.0f32);
    for step in -12..=4 {
        linker.not_a_quote_bias = step as f32 * 0.25;
        let records = held_out_records(rules, gold, tagged, &linker);
        let report = crate::eval::metrics::score(gold, &records);
        let f1 = report.end_to_end.f1;
        progress(&format!(
            "  not-a-quote bias {:+.2}: end-to-end F1 {:.1}, content exact {:.1}",
            linker.not_a_quote_bias,
            100.0 * f1,
            100.0 * report.content_exact.f1
        ));
        if f1 > best.0 {
            best = (f1, linker.not_a_quote_bias);
        }
    }
    best.1
}

/// The spans the default mode's transformer tagger finds in each document, before linking,
/// with its token scores.
#[cfg(feature = "transformer")]
pub(crate) fn transformer_tagged(
    tagger: &std::path::Path,
    gold: &[GoldDocument],
) -> crate::error::Result<Vec<Tagged>> {
    use crate::pipeline::{Pipeline, PipelineConfig};
    let mut pipeline = Pipeline::new(PipelineConfig::training_with_tagger(tagger))?;
    pipeline.truncate_before("tag and link");
    let mut documents: Vec<Document> = gold
        .iter()
        .map(|document| Document::new(document.id.clone(), document.text.clone()))
        .collect();
    pipeline.run(&mut documents, None);
    Ok(documents
        .into_iter()
        .map(|document| Tagged {
            spans: document.tagged.unwrap_or_default(),
            scores: document.tag_scores,
        })
        .collect())
}

/// The spans of every training document, each tagged by a tagger trained on the other folds
/// (document `i` is in fold `i % folds`).
pub fn cross_tagged(
    examples: &[crate::train::spans::SpanExample],
    options: &LinkerTrainOptions,
    span_options: &crate::train::spans::SpanTrainOptions,
) -> Vec<Vec<TaggedSpan>> {
    use rayon::prelude::*;
    let folds = options.folds.max(2);
    let mut tagged = vec![Vec::new(); examples.len()];
    for fold in 0..folds {
        let train: Vec<&crate::train::spans::SpanExample> = examples
            .iter()
            .enumerate()
            .filter(|(index, _)| index % folds != fold)
            .map(|(_, example)| example)
            .collect();
        let options = crate::train::spans::SpanTrainOptions {
            epochs: options.fold_epochs,
            ..span_options.clone()
        };
        let model =
            crate::train::spans::fit_tagger(&train, &[], &options, String::new(), |_, _| {});
        let held: Vec<(usize, Vec<TaggedSpan>)> = examples
            .par_iter()
            .enumerate()
            .filter(|(index, _)| index % folds == fold)
            .map(|(index, example)| (index, crate::train::spans::tag_example(&model, example)))
            .collect();
        for (index, spans) in held {
            tagged[index] = spans;
        }
    }
    tagged
}

/// Fits the linker on `examples` (its cue and source decisions), then again with the choices of
/// extent, which read the linker's own links and so learn from the first fit's. Returns the
/// linker and the number of choices of extent.
fn fit_with_extents(
    rules: &crate::pipeline::Pipeline,
    gold: &[GoldDocument],
    tagged: &[Tagged],
    mut examples: Vec<LinkExample>,
    options: &LinkerTrainOptions,
    provenance: String,
) -> (Linker, usize) {
    let first = fit_linker(&examples, options, provenance.clone());
    let extents = extent_examples(rules, gold, tagged, &first);
    let extent_count = extents.len();
    examples.extend(extents);
    (fit_linker(&examples, options, provenance), extent_count)
}

/// `whosaid train linker`: reads PolNeAR, tags it fold by fold (or, for the default mode's
/// linker, with the transformer tagger and its scores), trains, reports the decisions'
/// accuracy on stderr, and writes the model with `command` in its provenance.
pub fn train_command(
    polnear: &std::path::Path,
    dev: Option<&std::path::Path>,
    span_model: Option<&std::path::Path>,
    output: &std::path::Path,
    options: &LinkerTrainOptions,
    command: String,
    progress: &dyn Fn(&str),
) -> crate::error::Result<Linker> {
    use rayon::prelude::*;
    let started = std::time::Instant::now();
    let rules = crate::train::spans::rules_pipeline()?;
    let tagger = match span_model {
        Some(path) => crate::tagger::SpanModel::load(path)?,
        None => crate::tagger::SpanModel::shipped()?.clone(),
    };
    #[cfg_attr(not(feature = "transformer"), allow(unused_mut))]
    let mut gold = crate::eval::brat::read_brat_dir(polnear)?;
    let document_count = gold.len();
    let fold_tagged = |gold: &[GoldDocument]| {
        let span_options = crate::train::spans::SpanTrainOptions {
            table_bits: tagger.table_bits(),
            second_pass_folds: crate::train::spans::second_pass_folds_of(&tagger),
            ..Default::default()
        };
        let span_examples =
            crate::train::spans::examples_from_gold(&rules, gold, span_options.table_bits);
        Tagged::spans_only(cross_tagged(&span_examples, options, &span_options))
    };
    let (tagged, tagged_by) = match options.transformer_spans() {
        #[cfg(feature = "transformer")]
        Some(transformer) => {
            let mut tagged = transformer_tagged(transformer, &gold)?;
            if !options.with_tag_scores {
                tagged.iter_mut().for_each(|tagged| tagged.scores = None);
            }
            if options.also_fold_spans {
                tagged.extend(fold_tagged(&gold));
                gold.extend(gold.clone());
                let by = format!(
                    "by the transformer tagger and, a second time, in {} folds",
                    options.folds
                );
                (tagged, by)
            } else {
                (tagged, "by the transformer tagger".to_string())
            }
        }
        _ => (fold_tagged(&gold), format!("in {} folds", options.folds)),
    };
    progress(&format!(
        "tagged {document_count} documents {tagged_by} in {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    let (cues, sources) = examples_from_gold(&rules, &gold, &tagged, options.with_gold_spans);
    let mut examples = cues.clone();
    examples.extend(sources.iter().cloned());
    let provenance = format!(
        "PolNeAR {} ({document_count} documents: {} cue and {} source decisions, over spans tagged {tagged_by}); softmax regression; rebuild with: {command}",
        polnear.display(),
        cues.len(),
        sources.len(),
    );
    let (mut linker, extent_count) =
        fit_with_extents(&rules, &gold, &tagged, examples, options, provenance);
    linker.reads_tag_scores = tagged.iter().any(|tagged| tagged.scores.is_some());
    progress(&format!("{extent_count} choices of extent"));
    progress(&format!(
        "linker on {} cue and {} source decisions, train accuracy cue {:.1}% source {:.1}%",
        cues.len(),
        sources.len(),
        100.0 * accuracy(&linker, &cues),
        100.0 * accuracy(&linker, &sources)
    ));
    if let Some(dev) = dev {
        let dev_gold = crate::eval::brat::read_brat_dir(dev)?;
        let dev_tagged = match options.transformer_spans() {
            #[cfg(feature = "transformer")]
            Some(transformer) => {
                let mut tagged = transformer_tagged(transformer, &dev_gold)?;
                if !linker.reads_tag_scores {
                    tagged.iter_mut().for_each(|tagged| tagged.scores = None);
                }
                tagged
            }
            _ => {
                let dev_examples =
                    crate::train::spans::examples_from_gold(&rules, &dev_gold, tagger.table_bits());
                Tagged::spans_only(
                    dev_examples
                        .par_iter()
                        .map(|example| crate::train::spans::tag_example(&tagger, example))
                        .collect(),
                )
            }
        };
        let (dev_cues, dev_sources) = examples_from_gold(&rules, &dev_gold, &dev_tagged, false);
        progress(&format!(
            "held-out accuracy cue {:.1}% ({} decisions) source {:.1}% ({})",
            100.0 * accuracy(&linker, &dev_cues),
            dev_cues.len(),
            100.0 * accuracy(&linker, &dev_sources),
            dev_sources.len()
        ));
        linker.not_a_quote_bias =
            best_not_a_quote_bias(&rules, &dev_gold, &dev_tagged, &linker, progress);
        #[cfg(feature = "transformer")]
        if let (Some(tagger), None) = (&options.transformer_tagger, options.transformer_spans()) {
            progress(&format!(
                "tagging {} with the transformer tagger {}",
                dev.display(),
                tagger.display()
            ));
            // The tagger's scores come along, and this linker, which learned without them,
            // does not read them.
            linker.not_a_quote_bias_transformer = Some(best_not_a_quote_bias(
                &rules,
                &dev_gold,
                &transformer_tagged(tagger, &dev_gold)?,
                &linker,
                progress,
            ));
        }
    }
    linker.save(output)?;
    progress(&format!(
        "trained the linker in {:.1} s; wrote {}",
        started.elapsed().as_secs_f64(),
        output.display()
    ));
    Ok(linker)
}

/// The attributions the learned stages make of labelled documents, each document's spans
/// tagged by a tagger that did not see it, with whether each is an end-to-end match: the
/// examples of the confidence model, which must learn how often the learned stages are right
/// on unseen text.
pub fn confidence_examples(
    rules: &crate::pipeline::Pipeline,
    gold: &[GoldDocument],
    tagged: &[Tagged],
    linker: &Linker,
    continuations: crate::linker::Continuations,
) -> Vec<(crate::attribute::Features, bool)> {
    use rayon::prelude::*;
    let per_document: Vec<Vec<(crate::attribute::Features, bool)>> = gold
        .par_iter()
        .zip(tagged)
        .map(|(document, tagged)| {
            let (mut analysed, found, proposals) = analyse_for_linking(rules, document, tagged);
            let ((attributions, speakers), _) = crate::linker::link_spans_with(
                &analysed,
                found,
                &proposals,
                tagged.spans.clone(),
                linker,
                continuations,
                false,
            );
            analysed.attributions = attributions;
            analysed.speakers = speakers;
            let labels = crate::eval::metrics::match_predictions(document, &analysed.to_record());
            analysed
                .attributions
                .iter()
                .zip(labels)
                .map(|(attribution, right)| (attribution.features, right))
                .collect()
        })
        .collect();
    per_document.into_iter().flatten().collect()
}

/// `whosaid train confidence` for the learned stages: taggers trained fold by fold as the
/// linker's are (averaged perceptrons, with the shipped tagger's table and passes), linkers
/// fitted on the other folds, and the confidence model fitted on what they make. Fold taggers
/// made as the shipped CRF is were measured (docs/EVALUATION.md, "Fast mode"): in-sample ECE
/// on dev 3.2% → 2.4%, but cross-fitted 2.22% → 2.42%, so the honest measure did not gain.
pub fn train_confidence_command(
    polnear: &std::path::Path,
    output: &std::path::Path,
    continuations: crate::linker::Continuations,
    command: String,
    progress: &dyn Fn(&str),
) -> crate::error::Result<crate::confidence::ConfidenceModel> {
    let started = std::time::Instant::now();
    let rules = crate::train::spans::rules_pipeline()?;
    let tagger = crate::tagger::SpanModel::shipped()?;
    let linker = Linker::shipped()?;
    let span_options = crate::train::spans::SpanTrainOptions {
        table_bits: tagger.table_bits(),
        second_pass_folds: crate::train::spans::second_pass_folds_of(tagger),
        ..Default::default()
    };
    let gold = crate::eval::brat::read_brat_dir(polnear)?;
    let span_examples =
        crate::train::spans::examples_from_gold(&rules, &gold, span_options.table_bits);
    // Each fold's attributions come from a linker fitted on the other folds, as the tagger's
    // spans do: a linker's decisions on its own training documents are surer than on unseen
    // text, and the confidence model reads how sure they are. Fold linkers trained otherwise
    // than the shipped one (without the gold spans, say) are less sure of their choices, and
    // the confidence model would read the shipped linker's surer probabilities as more right
    // than they are.
    let recipe = LinkerTrainOptions::shipped();
    let tagged = Tagged::spans_only(cross_tagged(&span_examples, &recipe, &span_options));
    drop(span_examples);
    let folds = recipe.folds.max(2);
    let mut examples = Vec::new();
    for fold in 0..folds {
        let part = |held: bool| -> (Vec<GoldDocument>, Vec<Tagged>) {
            gold.iter()
                .zip(&tagged)
                .enumerate()
                .filter(|(index, _)| (index % folds == fold) == held)
                .map(|(_, (document, spans))| (document.clone(), spans.clone()))
                .unzip()
        };
        let (train_gold, train_tagged) = part(false);
        let (held_gold, held_tagged) = part(true);
        let (cues, sources) =
            examples_from_gold(&rules, &train_gold, &train_tagged, recipe.with_gold_spans);
        let mut decisions = cues;
        decisions.extend(sources);
        let (mut fold_linker, _) = fit_with_extents(
            &rules,
            &train_gold,
            &train_tagged,
            decisions,
            &recipe,
            String::new(),
        );
        fold_linker.not_a_quote_bias = linker.not_a_quote_bias;
        examples.extend(confidence_examples(
            &rules,
            &held_gold,
            &held_tagged,
            &fold_linker,
            continuations,
        ));
        progress(&format!(
            "fold {} of {folds}: {} attributions ({:.1} s)",
            fold + 1,
            examples.len(),
            started.elapsed().as_secs_f64()
        ));
    }
    let trained_on = format!(
        "PolNeAR {} ({} documents), the attributions of the learned stages, each fold's spans tagged and linked by models fitted on the other {} folds",
        polnear.display(),
        gold.len(),
        folds - 1
    );
    let model = crate::confidence::ConfidenceModel::fit(
        &examples,
        crate::model_file::provenance(&trained_on, &command),
    );
    model.save(output)?;
    progress(&format!(
        "fitted the confidence model on {} attributions ({} right) in {:.1} s; wrote {}",
        examples.len(),
        examples.iter().filter(|(_, right)| *right).count(),
        started.elapsed().as_secs_f64(),
        output.display()
    ));
    Ok(model)
}
