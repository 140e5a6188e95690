//! Training the span tagger: gold spans of PolNeAR aligned to the cleaned view's tokens, and a
//! linear-chain CRF (stochastic gradient on the log-likelihood) or an averaged structured
//! perceptron over paragraphs, in a seeded order, on one thread, so that the same data and
//! options always give the same model.

use std::ops::Range;

use crate::document::Document;
use crate::eval::gold::{GoldDocument, Piece};
use crate::offsets::CharIndex;
use crate::tagger::features::{token_features, Layers, TokenFeatures};
use crate::tagger::stacked::FirstPass;
use crate::tagger::{
    allowed, channel_transition_table, joint_emission, joint_label, joint_slot,
    joint_transition_table, label_parts, segments, spans_of, transition_slot, LabelSet, Role,
    SpanModel, Tag, LABELS, ROW, TAGS,
};

/// One training document: its token features, gold tags per channel, and paragraphs.
#[derive(Debug, Clone)]
pub struct SpanExample {
    pub features: TokenFeatures,
    pub gold: [Vec<Tag>; 3],
    pub segments: Vec<Range<usize>>,
}

/// Each token's extent in the original text, in code points.
pub fn token_char_spans(document: &Document) -> Vec<(usize, usize)> {
    let index = CharIndex::new(&document.text);
    document
        .segmented
        .tokens
        .iter()
        .map(|token| {
            let start = index.char_offset(document.normalised.original_start(token.start));
            let end = index.char_offset(document.normalised.original_end(token.end));
            (start, end.max(start))
        })
        .collect()
}

/// The tokens that a piece of text covers: those that overlap it.
pub fn covered_tokens(token_spans: &[(usize, usize)], piece: Piece) -> Range<usize> {
    let first = token_spans.partition_point(|&(_, end)| end <= piece.start);
    let mut last = first;
    while last < token_spans.len() && token_spans[last].0 < piece.end {
        last += 1;
    }
    first..last
}

/// The gold tags of a document in each channel: every piece of a content, and every source and
/// cue, is a span of its own.
pub fn gold_tags(document: &Document, gold: &GoldDocument) -> [Vec<Tag>; 3] {
    let token_spans = token_char_spans(document);
    let count = token_spans.len();
    let mut tags = [
        vec![Tag::Outside; count],
        vec![Tag::Outside; count],
        vec![Tag::Outside; count],
    ];
    for role in Role::ALL {
        let mut pieces: Vec<Piece> = gold
            .attributions
            .iter()
            .flat_map(|attribution| {
                let pieces = match role {
                    Role::Content => Some(&attribution.content),
                    Role::Source => attribution.source.as_ref(),
                    Role::Cue => attribution.cue.as_ref(),
                };
                pieces.into_iter().flatten().copied()
            })
            .collect();
        pieces.sort_unstable();
        pieces.dedup();
        // Touching pieces of one content ("Content" and "Content2") are one span.
        let mut merged: Vec<Piece> = Vec::new();
        for piece in pieces {
            match merged.last_mut() {
                Some(last) if piece.start <= last.end && role != Role::Content => {
                    last.end = last.end.max(piece.end);
                }
                _ => merged.push(piece),
            }
        }
        let channel = &mut tags[role.index()];
        for piece in merged {
            let tokens = covered_tokens(&token_spans, piece);
            for index in tokens.clone() {
                channel[index] = if index == tokens.start {
                    Tag::Begin
                } else {
                    Tag::Inside
                };
            }
        }
    }
    tags
}

/// [`gold_tags`] as a tagger decodes them, paragraph by paragraph: a span that runs over a
/// paragraph break starts again in the next paragraph, which is a sequence of its own.
pub fn paragraph_gold_tags(
    document: &Document,
    gold: &GoldDocument,
    segments: &[Range<usize>],
) -> [Vec<Tag>; 3] {
    let mut tags = gold_tags(document, gold);
    for channel in &mut tags {
        for segment in segments {
            if let Some(first) = channel.get_mut(segment.start) {
                if *first == Tag::Inside {
                    *first = Tag::Begin;
                }
            }
        }
    }
    tags
}

/// The training example of an analysed document and its gold.
pub fn span_example(
    document: &Document,
    layers: &Layers,
    gold: &GoldDocument,
    table_bits: u32,
) -> SpanExample {
    let segments = segments(&document.segmented);
    let gold = paragraph_gold_tags(document, gold, &segments);
    SpanExample {
        features: token_features(layers, table_bits),
        gold,
        segments,
    }
}

/// How to train the tagger.
#[derive(Debug, Clone)]
pub struct SpanTrainOptions {
    pub epochs: usize,
    pub table_bits: u32,
    pub seed: u64,
    /// Folds for a second pass ([`crate::tagger::stacked`]): it trains on first-pass tags of
    /// each training document from a first pass fitted on the other folds, as it would see
    /// them on new text. Under 2: no second pass.
    pub second_pass_folds: usize,
    /// Train a linear-chain CRF by stochastic gradient on the log-likelihood, with these
    /// learning rates for the content, source and cue channels (each decays as
    /// `rate / (1 + (epoch − 1) / 2)`); `None` trains the averaged perceptron. Either way the
    /// weights are averaged over the steps, and the model is the same kind of table.
    pub crf_rates: Option<[f32; 3]>,
    /// Channels decoded apart, or one joint label a token ([`LabelSet`]); joint labels are
    /// trained as a CRF only.
    pub labels: LabelSet,
}

impl Default for SpanTrainOptions {
    fn default() -> Self {
        SpanTrainOptions {
            epochs: 12,
            table_bits: 20,
            seed: 17,
            second_pass_folds: 0,
            crf_rates: None,
            labels: LabelSet::Channels,
        }
    }
}

/// Exact-span precision, recall and F1 of one channel.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SpanScore {
    pub true_positives: usize,
    pub predicted: usize,
    pub gold: usize,
}

impl SpanScore {
    /// Counts one document's predicted spans of a role, sorted by start, against its gold tags.
    pub fn add(&mut self, predicted: &[Range<usize>], gold_tags: &[Tag], role: Role) {
        let gold: Vec<Range<usize>> = spans_of(gold_tags, role)
            .into_iter()
            .map(|span| span.tokens)
            .collect();
        self.predicted += predicted.len();
        self.gold += gold.len();
        self.true_positives += predicted
            .iter()
            .filter(|span| {
                gold.binary_search_by_key(&span.start, |gold| gold.start)
                    .is_ok_and(|at| gold[at] == **span)
            })
            .count();
    }

    pub fn f1(&self) -> f64 {
        let total = self.predicted + self.gold;
        if total == 0 {
            0.0
        } else {
            2.0 * self.true_positives as f64 / total as f64
        }
    }
}

/// What one epoch reached on the held-out examples.
#[derive(Debug, Clone)]
pub struct EpochReport {
    pub epoch: usize,
    pub scores: [SpanScore; 3],
}

/// SplitMix64: a small seeded generator for the order of training examples, so that the order
/// never depends on anything but the seed.
pub(crate) struct SplitMix(pub(crate) u64);

impl SplitMix {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for index in (1..items.len()).rev() {
            let other = (self.next() % (index as u64 + 1)) as usize;
            items.swap(index, other);
        }
    }
}

/// The perceptron's weights, with the sums that averaging needs.
struct Averaged {
    labels: LabelSet,
    table_bits: u32,
    weights: Vec<f32>,
    transitions: Vec<f32>,
    weight_sums: Vec<f64>,
    transition_sums: Vec<f64>,
    steps: f64,
}

impl Averaged {
    fn update_weight(&mut self, slot: usize, delta: f32) {
        self.weights[slot] += delta;
        self.weight_sums[slot] += self.steps * f64::from(delta);
    }

    fn update_transition(&mut self, slot: usize, delta: f32) {
        self.transitions[slot] += delta;
        self.transition_sums[slot] += self.steps * f64::from(delta);
    }

    /// The averaged model: each weight's mean over every step so far.
    fn average(&self, provenance: &str) -> SpanModel {
        let steps = self.steps.max(1.0);
        let weights: Vec<f32> = self
            .weights
            .iter()
            .zip(&self.weight_sums)
            .map(|(weight, sum)| weight - (sum / steps) as f32)
            .collect();
        let transitions: Vec<f32> = self
            .transitions
            .iter()
            .zip(&self.transition_sums)
            .map(|(weight, sum)| weight - (sum / steps) as f32)
            .collect();
        SpanModel::from_weights_of(
            self.labels,
            self.table_bits,
            &weights,
            &transitions,
            provenance.to_string(),
        )
    }
}

/// The spans a model tags in an example.
pub fn tag_example(model: &SpanModel, example: &SpanExample) -> Vec<crate::tagger::TaggedSpan> {
    model.tag_segments(&example.features, &example.segments)
}

/// The tags a model decodes for each channel of an example, from its `emissions`, paragraph by
/// paragraph; indexed by [`Role::index`].
pub fn channel_tags(model: &SpanModel, emissions: &[f32], example: &SpanExample) -> [Vec<Tag>; 3] {
    model.decode_channels(emissions, &example.segments)
}

/// Scores a model's spans against the gold spans of `examples`.
pub fn score_examples(model: &SpanModel, examples: &[SpanExample]) -> [SpanScore; 3] {
    let mut scores = [SpanScore::default(); 3];
    for example in examples {
        let tagged = tag_example(model, example);
        for role in Role::ALL {
            let predicted: Vec<Range<usize>> = tagged
                .iter()
                .filter(|span| span.role == role)
                .map(|span| span.tokens.clone())
                .collect();
            scores[role.index()].add(&predicted, &example.gold[role.index()], role);
        }
    }
    scores
}

/// Trains the tagger: `options.epochs` passes over `train` in a seeded order, each followed by
/// a score on `held_out` where it is given; the model kept is the averaged one of the epoch
/// whose held-out F1 (summed over the channels) was best, or of the last epoch.
pub fn fit_span_model(
    train: &[&SpanExample],
    held_out: &[SpanExample],
    options: &SpanTrainOptions,
    provenance: String,
    mut report: impl FnMut(&EpochReport),
) -> SpanModel {
    let rows = 1usize << options.table_bits;
    // The perceptron decodes channels only.
    let labels = match options.crf_rates {
        Some(_) => options.labels,
        None => LabelSet::Channels,
    };
    let transitions = labels.transitions();
    let mut state = Averaged {
        labels,
        table_bits: options.table_bits,
        weights: vec![0.0; rows * ROW],
        transitions: vec![0.0; transitions],
        weight_sums: vec![0.0; rows * ROW],
        transition_sums: vec![0.0; transitions],
        steps: 1.0,
    };
    let mut random = SplitMix(options.seed);
    let mut order: Vec<usize> = (0..train.len()).collect();
    let mut best: Option<(f64, SpanModel)> = None;
    let mut predicted = Vec::new();
    let mut back = Vec::new();
    for epoch in 1..=options.epochs {
        random.shuffle(&mut order);
        for &document in &order {
            let example = train[document];
            for segment in &example.segments {
                let decay = 1.0 + 0.5 * (epoch as f32 - 1.0);
                match options.crf_rates {
                    Some(rates) => {
                        let rates = rates.map(|rate| rate / decay);
                        crf_segment(&mut state, example, segment.clone(), rates);
                        if options.labels.has_joint() {
                            joint_crf_segment(&mut state, example, segment.clone(), rates);
                        }
                    }
                    None => train_segment(
                        &mut state,
                        example,
                        segment.clone(),
                        &mut predicted,
                        &mut back,
                    ),
                }
                state.steps += 1.0;
            }
        }
        if held_out.is_empty() {
            continue;
        }
        let averaged = state.average(&provenance);
        let scores = score_examples(&averaged, held_out);
        report(&EpochReport { epoch, scores });
        let total: f64 = scores.iter().map(SpanScore::f1).sum();
        if best
            .as_ref()
            .is_none_or(|(best_total, _)| total > *best_total)
        {
            best = Some((total, averaged));
        }
    }
    match best {
        Some((_, model)) => model,
        None => state.average(&provenance),
    }
}

/// What a second pass reads of `model`'s first pass over an example.
fn first_pass_of(model: &SpanModel, example: &SpanExample) -> FirstPass {
    model.first_pass_tags(&model.emissions(&example.features), &example.segments)
}

/// The example as a second pass after `model` sees it: its features with `first`'s tags added.
fn stacked_example(example: &SpanExample, first: &FirstPass, model: &SpanModel) -> SpanExample {
    let mut features = TokenFeatures::default();
    first.stack(&example.features, 0, model.mask(), &mut features);
    SpanExample {
        features,
        gold: example.gold.clone(),
        segments: example.segments.clone(),
    }
}

/// Folds of second-pass training for the taggers that stand in for `model` on held-out folds
/// (the linker's and the confidence model's training), so that they are made as it was: with a
/// second pass where it has one. A model file does not record its folds; the measured setting
/// is used.
pub fn second_pass_folds_of(model: &SpanModel) -> usize {
    if model.second_pass().is_some() {
        SECOND_PASS_FOLDS
    } else {
        0
    }
}

/// The folds of second-pass training measured in docs/EVALUATION.md (`--second-pass-folds 4`).
pub const SECOND_PASS_FOLDS: usize = 4;

/// Which pass of a stacked tagger an epoch's report is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    First,
    Second,
}

/// Trains the tagger, with a second pass where `options.second_pass_folds` asks for one: the
/// first pass as [`fit_span_model`] trains it; then, for each fold of `train`, a first pass
/// fitted on the other folds (`options.epochs`, no held-out choice) tags the fold; the second
/// pass trains on those tags, and is scored on `held_out` as tagged by the first pass.
pub fn fit_tagger(
    train: &[&SpanExample],
    held_out: &[SpanExample],
    options: &SpanTrainOptions,
    provenance: String,
    mut report: impl FnMut(Pass, &EpochReport),
) -> SpanModel {
    let first = fit_span_model(train, held_out, options, provenance.clone(), |epoch| {
        report(Pass::First, epoch)
    });
    let folds = options.second_pass_folds;
    if folds < 2 {
        return first;
    }
    let mut first_passes: Vec<Option<FirstPass>> = vec![None; train.len()];
    for fold in 0..folds {
        let part: Vec<&SpanExample> = train
            .iter()
            .enumerate()
            .filter(|(index, _)| index % folds != fold)
            .map(|(_, example)| *example)
            .collect();
        let model = fit_span_model(&part, &[], options, String::new(), |_| {});
        for (index, example) in train.iter().enumerate() {
            if index % folds == fold {
                first_passes[index] = Some(first_pass_of(&model, example));
            }
        }
    }
    let stacked_train: Vec<SpanExample> = train
        .iter()
        .zip(&first_passes)
        .filter_map(|(example, first_pass)| {
            Some(stacked_example(example, first_pass.as_ref()?, &first))
        })
        .collect();
    let stacked_held_out: Vec<SpanExample> = held_out
        .iter()
        .map(|example| stacked_example(example, &first_pass_of(&first, example), &first))
        .collect();
    let stacked_train: Vec<&SpanExample> = stacked_train.iter().collect();
    let second = fit_span_model(
        &stacked_train,
        &stacked_held_out,
        options,
        provenance,
        |epoch| report(Pass::Second, epoch),
    );
    let table_bits = first.table_bits();
    first.with_second_pass(second).unwrap_or_else(|message| {
        // Both passes are fitted here with the same table, so this cannot happen.
        debug_assert!(false, "{message}");
        SpanModel::empty(table_bits, message)
    })
}

/// One stochastic gradient step on one paragraph of a linear-chain CRF's log-likelihood, each
/// channel apart: forward and backward over the BIO lattice give each token's tag marginals
/// and each pair's, and every weight moves by `rate × (gold count − expected count)`. Where
/// the perceptron moves only on a wrong decoding, this moves on every paragraph, by how unsure
/// the model is, which on PolNeAR learns the long content spans better.
fn crf_segment(
    state: &mut Averaged,
    example: &SpanExample,
    segment: Range<usize>,
    rates: [f32; 3],
) {
    let length = segment.len();
    if length == 0
        || Role::ALL
            .into_iter()
            .all(|role| state.labels.is_joint(role))
    {
        return;
    }
    let features = &example.features;
    let emissions = segment_emissions(state, features, segment.clone());
    let mut weight_steps: Vec<(usize, f32)> = Vec::new();
    let mut transition_steps: Vec<(usize, f32)> = Vec::new();
    for role in Role::ALL
        .into_iter()
        .filter(|&role| !state.labels.is_joint(role))
    {
        let channel = role.index();
        let rate = rates[channel];
        let emission = |offset: usize, tag: usize| emissions[offset * ROW + channel * TAGS + tag];
        let table = channel_transition_table(&state.transitions, role);
        // The gold must be a path of the lattice: an I after O, or first, is read as a B.
        let mut gold: Vec<Tag> = example.gold[channel][segment.clone()].to_vec();
        for token in 0..length {
            if gold[token] == Tag::Inside && (token == 0 || gold[token - 1] == Tag::Outside) {
                gold[token] = Tag::Begin;
            }
        }
        let lattice = Lattice::new(length, &table, emission);
        let observed = |yes: bool| f32::from(u8::from(yes));
        for (offset, token) in segment.clone().enumerate() {
            for tag in Tag::ALL {
                let gradient =
                    observed(gold[offset] == tag) - lattice.marginal(offset, tag.index());
                // Nearly sure and right: the step would be nothing but work.
                if gradient.abs() < 1e-4 {
                    continue;
                }
                let lane = channel * TAGS + tag.index();
                weight_steps.extend(
                    features
                        .of(token)
                        .iter()
                        .map(|&row| (row as usize * ROW + lane, rate * gradient)),
                );
            }
        }
        for tag in Tag::ALL {
            let gradient = observed(gold[0] == tag) - lattice.marginal(0, tag.index());
            transition_steps.push((transition_slot(role, None, tag), rate * gradient));
        }
        for offset in 1..length {
            for from in Tag::ALL {
                for to in Tag::ALL {
                    if !allowed(Some(from), to) {
                        continue;
                    }
                    let pair = lattice.pair(offset, from.index(), to.index(), &table, emission);
                    let gradient = observed(gold[offset - 1] == from && gold[offset] == to) - pair;
                    transition_steps.push((transition_slot(role, Some(from), to), rate * gradient));
                }
            }
        }
    }
    for (slot, step) in weight_steps {
        state.update_weight(slot, step);
    }
    for (slot, step) in transition_steps {
        state.update_transition(slot, step);
    }
}

/// The forward and backward log-scores of one segment's lattice of `N` labels a token, as
/// `tagger::best_path` reads a lattice: `table[from + 1][to]` scores a transition (row 0: from
/// the start; −∞ forbids it), `emission(offset, label)` a token's label. The channels' CRF
/// step reads one of three labels per channel, the joint labels' one of seven.
struct Lattice<const N: usize> {
    forward: Vec<[f32; N]>,
    backward: Vec<[f32; N]>,
    log_partition: f32,
}

impl<const N: usize> Lattice<N> {
    /// The lattice of `length` tokens (at least one).
    fn new(length: usize, table: &[[f32; N]], emission: impl Fn(usize, usize) -> f32) -> Self {
        let mut forward = vec![[0f32; N]; length];
        forward[0] = std::array::from_fn(|to| table[0][to] + emission(0, to));
        for offset in 1..length {
            for to in 0..N {
                let paths: [f32; N] =
                    std::array::from_fn(|from| forward[offset - 1][from] + table[from + 1][to]);
                forward[offset][to] = log_sum_exp(&paths) + emission(offset, to);
            }
        }
        let log_partition = log_sum_exp(&forward[length - 1]);
        let mut backward = vec![[0f32; N]; length];
        for offset in (0..length - 1).rev() {
            for from in 0..N {
                let paths: [f32; N] = std::array::from_fn(|to| {
                    table[from + 1][to] + emission(offset + 1, to) + backward[offset + 1][to]
                });
                backward[offset][from] = log_sum_exp(&paths);
            }
        }
        Lattice {
            forward,
            backward,
            log_partition,
        }
    }

    /// The probability that the token at `offset` has `label`.
    fn marginal(&self, offset: usize, label: usize) -> f32 {
        (self.forward[offset][label] + self.backward[offset][label] - self.log_partition).exp()
    }

    /// The probability that the token before `offset` has `from` and the one at `offset` has
    /// `to`; `table` and `emission` are the lattice's own.
    fn pair(
        &self,
        offset: usize,
        from: usize,
        to: usize,
        table: &[[f32; N]],
        emission: impl Fn(usize, usize) -> f32,
    ) -> f32 {
        (self.forward[offset - 1][from]
            + table[from + 1][to]
            + emission(offset, to)
            + self.backward[offset][to]
            - self.log_partition)
            .exp()
    }
}

/// [`crf_segment`] for joint labels: one lattice of [`LABELS`] labels a token instead of three
/// of three, so that the gradient reaches the transitions between roles. Each label's weights
/// move at its role's rate; the transitions into O at the smallest of the three.
fn joint_crf_segment(
    state: &mut Averaged,
    example: &SpanExample,
    segment: Range<usize>,
    rates: [f32; 3],
) {
    let length = segment.len();
    if length == 0 {
        return;
    }
    let features = &example.features;
    let emissions = segment_emissions(state, features, segment.clone());
    let table = joint_transition_table(state.labels, &state.transitions);
    let joint_offset = state.labels.joint_offset();
    let emission = |offset: usize, label: usize| joint_emission(&emissions, offset, label);
    let rate_of = |label: usize| match label_parts(label) {
        Some((role, _)) => rates[role.index()],
        None => rates.iter().copied().fold(f32::INFINITY, f32::min),
    };
    let gold = joint_gold(example, segment.clone(), state.labels);
    let lattice = Lattice::new(length, &table, emission);
    let observed = |yes: bool| f32::from(u8::from(yes));
    let mut weight_steps: Vec<(usize, f32)> = Vec::new();
    for (offset, token) in segment.clone().enumerate() {
        for label in 1..LABELS {
            let gradient = observed(gold[offset] == label) - lattice.marginal(offset, label);
            // Nearly sure and right: the step would be nothing but work.
            if gradient.abs() < 1e-4 {
                continue;
            }
            let Some((role, tag)) = label_parts(label) else {
                continue;
            };
            let lane = role.index() * TAGS + tag.index();
            let step = rate_of(label) * gradient;
            weight_steps.extend(
                features
                    .of(token)
                    .iter()
                    .map(|&row| (row as usize * ROW + lane, step)),
            );
        }
    }
    let mut transition_steps: Vec<(usize, f32)> = Vec::new();
    for (to, &start) in table[0].iter().enumerate() {
        if start == f32::NEG_INFINITY {
            continue;
        }
        let gradient = observed(gold[0] == to) - lattice.marginal(0, to);
        transition_steps.push((joint_offset + joint_slot(None, to), rate_of(to) * gradient));
    }
    for offset in 1..length {
        for from in 0..LABELS {
            for to in 0..LABELS {
                if table[from + 1][to] == f32::NEG_INFINITY {
                    continue;
                }
                let pair = lattice.pair(offset, from, to, &table, emission);
                let gradient = observed(gold[offset - 1] == from && gold[offset] == to) - pair;
                transition_steps.push((
                    joint_offset + joint_slot(Some(from), to),
                    rate_of(to) * gradient,
                ));
            }
        }
    }
    for (slot, step) in weight_steps {
        state.update_weight(slot, step);
    }
    for (slot, step) in transition_steps {
        state.update_transition(slot, step);
    }
}

/// The joint gold labels of a segment: a token's role is the first of the joint roles of
/// `labels`, in [`Role::ALL`]'s order, whose channel tags it (the channels' spans hardly ever
/// overlap), and an I that does not continue a span of its role is read as a B, so that the
/// gold is a path of the lattice.
fn joint_gold(example: &SpanExample, segment: Range<usize>, labels: LabelSet) -> Vec<usize> {
    let mut gold: Vec<usize> = segment
        .map(|token| {
            Role::ALL
                .into_iter()
                .filter(|&role| labels.is_joint(role))
                .map(|role| (role, example.gold[role.index()][token]))
                .find(|(_, tag)| *tag != Tag::Outside)
                .map_or(0, |(role, tag)| joint_label(role, tag))
        })
        .collect();
    for offset in 0..gold.len() {
        if let Some((role, Tag::Inside)) = label_parts(gold[offset]) {
            let continues = offset
                .checked_sub(1)
                .and_then(|before| label_parts(gold[before]))
                .is_some_and(|(before, _)| before == role);
            if !continues {
                gold[offset] = joint_label(role, Tag::Begin);
            }
        }
    }
    gold
}

/// The current weights' emissions of a segment's tokens, [`ROW`] a token, indexed from the
/// segment's start.
fn segment_emissions(
    state: &Averaged,
    features: &TokenFeatures,
    segment: Range<usize>,
) -> Vec<f32> {
    let mut emissions = vec![0f32; segment.len() * ROW];
    for (offset, token) in segment.enumerate() {
        let out = &mut emissions[offset * ROW..(offset + 1) * ROW];
        for &row in features.of(token) {
            let start = row as usize * ROW;
            for (total, weight) in out.iter_mut().zip(&state.weights[start..start + ROW]) {
                *total += weight;
            }
        }
    }
    emissions
}

/// `ln Σ exp(value)`, computed from the largest value so that it neither overflows nor
/// underflows; −∞ where every value is.
fn log_sum_exp(values: &[f32]) -> f32 {
    let top = values.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if top == f32::NEG_INFINITY {
        return top;
    }
    top + values
        .iter()
        .map(|value| (value - top).exp())
        .sum::<f32>()
        .ln()
}

/// One perceptron step on one paragraph: decode each channel, and where it differs from the
/// gold, move the weights toward the gold's features and away from the prediction's.
fn train_segment(
    state: &mut Averaged,
    example: &SpanExample,
    segment: Range<usize>,
    predicted: &mut Vec<Tag>,
    back: &mut Vec<[u8; TAGS]>,
) {
    if segment.is_empty() {
        return;
    }
    let features = &example.features;
    let emissions = segment_emissions(state, features, segment.clone());
    predicted.clear();
    predicted.resize(segment.len(), Tag::Outside);
    for role in Role::ALL {
        crate::tagger::viterbi(
            &emissions,
            &channel_transition_table(&state.transitions, role),
            role,
            0..segment.len(),
            predicted,
            back,
        );
        let gold = &example.gold[role.index()][segment.clone()];
        if gold == &predicted[..] {
            continue;
        }
        for (offset, token) in segment.clone().enumerate() {
            let (gold_tag, predicted_tag) = (gold[offset], predicted[offset]);
            if gold_tag != predicted_tag {
                for &row in features.of(token) {
                    let base = row as usize * ROW + role.index() * TAGS;
                    state.update_weight(base + gold_tag.index(), 1.0);
                    state.update_weight(base + predicted_tag.index(), -1.0);
                }
            }
            let previous = |tags: &[Tag]| offset.checked_sub(1).map(|before| tags[before]);
            let (gold_from, predicted_from) = (previous(gold), previous(predicted));
            if (gold_from, gold_tag) != (predicted_from, predicted_tag) {
                debug_assert!(allowed(gold_from, gold_tag) || gold_tag == Tag::Inside);
                state.update_transition(transition_slot(role, gold_from, gold_tag), 1.0);
                state.update_transition(transition_slot(role, predicted_from, predicted_tag), -1.0);
            }
        }
    }
}

/// The training examples of labelled documents, analysed by `rules` (a pipeline whose spans
/// come from the rule stages), in document order.
pub fn examples_from_gold(
    rules: &crate::pipeline::Pipeline,
    gold: &[GoldDocument],
    table_bits: u32,
) -> Vec<SpanExample> {
    use rayon::prelude::*;
    gold.par_iter()
        .map(|document| {
            let analysed = rules.analyse(&document.id, &document.text);
            let proposals = crate::tagger::proposals(&analysed);
            let layers = crate::tagger::layers(&analysed, &proposals, rules.cue_model());
            span_example(&analysed, &layers, document, table_bits)
        })
        .collect()
}

/// The rule stages alone, with no time budget: the pipeline whose layers the learned stages are
/// trained on (training must see every document whole).
pub(crate) fn rules_pipeline() -> crate::error::Result<crate::pipeline::Pipeline> {
    use crate::pipeline::{Pipeline, PipelineConfig, SpanChoice};
    Pipeline::new(PipelineConfig {
        spans: SpanChoice::Rules,
        budget: None,
        ..PipelineConfig::default()
    })
}

/// `whosaid train spans`: reads PolNeAR, trains, reports each epoch on stderr, and writes the
/// model with `command` in its provenance.
pub fn train_command(
    polnear: &std::path::Path,
    dev: Option<&std::path::Path>,
    output: &std::path::Path,
    options: &SpanTrainOptions,
    command: String,
    progress: &dyn Fn(&str),
) -> crate::error::Result<SpanModel> {
    if options.labels == LabelSet::Joint && options.crf_rates.is_none() {
        return Err(crate::error::Error::Usage(
            "joint labels are trained as a CRF: give --crf-rates".into(),
        ));
    }
    let started = std::time::Instant::now();
    let rules = crate::train::spans::rules_pipeline()?;
    let gold = crate::eval::brat::read_brat_dir(polnear)?;
    let held_out_gold = match dev {
        Some(dev) => crate::eval::brat::read_brat_dir(dev)?,
        None => Vec::new(),
    };
    let train = examples_from_gold(&rules, &gold, options.table_bits);
    let held_out = examples_from_gold(&rules, &held_out_gold, options.table_bits);
    let tokens: usize = train.iter().map(|example| example.features.len()).sum();
    progress(&format!(
        "{} training documents ({tokens} tokens), {} held out; features in {:.1} s",
        train.len(),
        held_out.len(),
        started.elapsed().as_secs_f64()
    ));
    let provenance = format!(
        "PolNeAR {} ({} documents, {tokens} tokens); {}; rebuild with: {command}",
        polnear.display(),
        gold.len(),
        match (options.crf_rates, options.labels) {
            (Some(_), LabelSet::Channels) => "linear-chain CRF, stochastic gradient, averaged",
            (Some(_), LabelSet::Joint) => {
                "linear-chain CRF over joint labels, stochastic gradient, averaged"
            }
            (Some(_), LabelSet::ContentApart) => {
                "linear-chain CRFs, content apart and source and cue over joint labels, stochastic gradient, averaged"
            }
            (None, _) => "averaged perceptron",
        }
    );
    let train: Vec<&SpanExample> = train.iter().collect();
    let model = fit_tagger(&train, &held_out, options, provenance, |pass, report| {
        let [content, source, cue] = report.scores;
        let pass = match pass {
            Pass::First => "",
            Pass::Second => "second pass, ",
        };
        progress(&format!(
            "{pass}epoch {:>2}: held-out exact span F1 content {:.1} source {:.1} cue {:.1} ({:.1} s)",
            report.epoch,
            100.0 * content.f1(),
            100.0 * source.f1(),
            100.0 * cue.f1(),
            started.elapsed().as_secs_f64()
        ));
    });
    model.save(output)?;
    progress(&format!(
        "trained the span tagger in {:.1} s; wrote {}",
        started.elapsed().as_secs_f64(),
        output.display()
    ));
    Ok(model)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::eval::gold::GoldAttribution;
    use crate::pipeline::{Pipeline, PipelineConfig, SpanChoice};

    /// The code-point piece of the first `needle` in `text`.
    pub(crate) fn piece(text: &str, needle: &str) -> Piece {
        let byte = text
            .find(needle)
            .unwrap_or_else(|| panic!("{needle:?} not in the text"));
        let start = text[..byte].chars().count();
        Piece::new(start, start + needle.chars().count())
    }

    /// A gold document from (content, source, cue) strings of a text.
    pub(crate) fn gold(
        id: &str,
        text: &str,
        attributions: &[(&str, Option<&str>, &str)],
    ) -> GoldDocument {
        GoldDocument {
            id: id.into(),
            text: text.into(),
            attributions: attributions
                .iter()
                .map(|&(content, source, cue)| GoldAttribution {
                    content: vec![piece(text, content)],
                    source: source.map(|source| vec![piece(text, source)]),
                    cue: Some(vec![piece(text, cue)]),
                })
                .collect(),
        }
    }

    pub(crate) fn rules() -> Pipeline {
        Pipeline::new(PipelineConfig {
            spans: SpanChoice::Rules,
            ..PipelineConfig::default()
        })
        .unwrap()
    }

    pub(crate) fn tiny_corpus() -> Vec<GoldDocument> {
        vec![
            gold(
                "one",
                "“Taxes will fall,” Mayor Ana Torres said on Monday. The council met later.",
                &[("“Taxes will fall,”", Some("Mayor Ana Torres"), "said")],
            ),
            gold(
                "two",
                "Officials said the bridge would reopen in May. Traffic was light.",
                &[("the bridge would reopen in May", Some("Officials"), "said")],
            ),
            gold(
                "three",
                "The plan is sound, Ms. Ávila told reporters. “We are ready.”",
                &[("The plan is sound", Some("Ms. Ávila"), "told")],
            ),
        ]
    }

    #[test]
    fn gold_spans_land_on_the_tokens_they_cover() {
        let corpus = tiny_corpus();
        let pipeline = rules();
        let document = pipeline.analyse(&corpus[2].id, &corpus[2].text);
        let tags = gold_tags(&document, &corpus[2]);
        let clean = &document.normalised.text;
        let words = |role: Role| -> Vec<String> {
            spans_of(&tags[role.index()], role)
                .into_iter()
                .map(|span| {
                    let tokens = &document.segmented.tokens;
                    clean[tokens[span.tokens.start].start..tokens[span.tokens.end - 1].end]
                        .to_string()
                })
                .collect()
        };
        assert_eq!(words(Role::Content), ["The plan is sound"]);
        assert_eq!(words(Role::Source), ["Ms. Ávila"]);
        assert_eq!(words(Role::Cue), ["told"]);
    }

    /// The tiny corpus's examples, and options that learn them. Averaging keeps the early
    /// epochs' mistakes for a while: three documents need many epochs (a real corpus has tens
    /// of thousands of paragraphs per epoch).
    fn tiny_training(second_pass_folds: usize) -> (Vec<SpanExample>, SpanTrainOptions) {
        let examples = examples_from_gold(&rules(), &tiny_corpus(), 12);
        let options = SpanTrainOptions {
            epochs: 60,
            table_bits: 12,
            seed: 5,
            second_pass_folds,
            crf_rates: None,
            labels: LabelSet::Channels,
        };
        (examples, options)
    }

    fn assert_tags_the_gold(model: &SpanModel, examples: &[SpanExample]) {
        for (role, score) in Role::ALL.iter().zip(score_examples(model, examples)) {
            assert_eq!(score.true_positives, score.gold, "{role:?}: {score:?}");
            assert_eq!(score.predicted, score.gold, "{role:?}: {score:?}");
        }
    }

    #[test]
    fn training_on_tiny_documents_learns_them_and_is_deterministic() {
        let (examples, options) = tiny_training(0);
        let train: Vec<&SpanExample> = examples.iter().collect();
        let model = fit_span_model(&train, &examples, &options, "test".into(), |_| {});
        assert_tags_the_gold(&model, &examples);
        let again = fit_span_model(&train, &examples, &options, "test".into(), |_| {});
        assert_eq!(again.to_bytes(), model.to_bytes());
    }

    #[test]
    fn a_second_pass_trains_on_other_folds_tags_and_is_deterministic() {
        let (examples, options) = tiny_training(2);
        let train: Vec<&SpanExample> = examples.iter().collect();
        let mut passes = Vec::new();
        let model = fit_tagger(&train, &examples, &options, "test".into(), |pass, _| {
            passes.push(pass)
        });
        assert!(model.second_pass().is_some());
        assert_eq!(second_pass_folds_of(&model), SECOND_PASS_FOLDS);
        assert_eq!(
            passes,
            [vec![Pass::First; 60], vec![Pass::Second; 60]].concat(),
            "each pass reports its epochs on the held-out documents"
        );
        // The stacked tagger's spans are the second pass's: on the documents it learned, the
        // gold spans.
        assert_tags_the_gold(&model, &examples);
        let again = fit_tagger(&train, &examples, &options, "test".into(), |_, _| {});
        assert_eq!(again.to_bytes(), model.to_bytes());
        let first_only = SpanTrainOptions {
            second_pass_folds: 1,
            ..options
        };
        let plain = fit_tagger(&train, &examples, &first_only, "test".into(), |_, _| {});
        assert!(plain.second_pass().is_none());
    }

    #[test]
    fn a_crf_learns_tiny_documents_and_is_deterministic() {
        let (examples, options) = tiny_training(0);
        let options = SpanTrainOptions {
            crf_rates: Some([0.5, 0.5, 0.5]),
            ..options
        };
        let train: Vec<&SpanExample> = examples.iter().collect();
        let model = fit_span_model(&train, &examples, &options, "test".into(), |_| {});
        assert_tags_the_gold(&model, &examples);
        let again = fit_span_model(&train, &examples, &options, "test".into(), |_| {});
        assert_eq!(again.to_bytes(), model.to_bytes());
        let perceptron = fit_span_model(
            &train,
            &examples,
            &SpanTrainOptions {
                crf_rates: None,
                ..options
            },
            "test".into(),
            |_| {},
        );
        assert_ne!(perceptron.to_bytes(), model.to_bytes());
    }

    #[test]
    fn joint_labels_learn_tiny_documents_and_are_deterministic() {
        let (examples, options) = tiny_training(0);
        let train: Vec<&SpanExample> = examples.iter().collect();
        let fit = |labels| {
            let options = SpanTrainOptions {
                crf_rates: Some([0.5, 0.5, 0.5]),
                labels,
                ..options.clone()
            };
            fit_span_model(&train, &examples, &options, "test".into(), |_| {})
        };
        let channels = fit(LabelSet::Channels);
        for labels in [LabelSet::Joint, LabelSet::ContentApart] {
            let model = fit(labels);
            assert_eq!(model.header.labels, labels);
            assert_tags_the_gold(&model, &examples);
            assert_eq!(fit(labels).to_bytes(), model.to_bytes(), "{labels:?}");
            assert_ne!(channels.to_bytes(), model.to_bytes(), "{labels:?}");
            let read = SpanModel::from_bytes(&model.to_bytes()).expect("reads back");
            assert_tags_the_gold(&read, &examples);
        }
        // The perceptron decodes channels whatever the options say.
        let perceptron = fit_span_model(
            &train,
            &examples,
            &SpanTrainOptions {
                labels: LabelSet::Joint,
                ..options.clone()
            },
            "test".into(),
            |_| {},
        );
        assert_eq!(perceptron.header.labels, LabelSet::Channels);
    }

    #[test]
    fn joint_gold_gives_each_token_one_role_on_a_path_of_the_lattice() {
        let example = SpanExample {
            features: TokenFeatures::default(),
            // Content B I I, then a cue that starts with I (cut at a paragraph), then a source
            // inside nothing; the content's third token is also tagged as a cue.
            gold: [
                vec![
                    Tag::Begin,
                    Tag::Inside,
                    Tag::Inside,
                    Tag::Outside,
                    Tag::Outside,
                    Tag::Outside,
                ],
                vec![
                    Tag::Outside,
                    Tag::Outside,
                    Tag::Outside,
                    Tag::Outside,
                    Tag::Outside,
                    Tag::Begin,
                ],
                vec![
                    Tag::Outside,
                    Tag::Outside,
                    Tag::Begin,
                    Tag::Inside,
                    Tag::Inside,
                    Tag::Outside,
                ],
            ],
            segments: std::iter::once(0..6).collect(),
        };
        let label = joint_label;
        assert_eq!(
            joint_gold(&example, 0..6, LabelSet::Joint),
            vec![
                label(Role::Content, Tag::Begin),
                label(Role::Content, Tag::Inside),
                label(Role::Content, Tag::Inside),
                // The cue's I after content reads as a B.
                label(Role::Cue, Tag::Begin),
                label(Role::Cue, Tag::Inside),
                label(Role::Source, Tag::Begin),
            ]
        );
        // With the content apart, the cue keeps its own extent.
        assert_eq!(
            joint_gold(&example, 0..6, LabelSet::ContentApart),
            vec![
                0,
                0,
                label(Role::Cue, Tag::Begin),
                label(Role::Cue, Tag::Inside),
                label(Role::Cue, Tag::Inside),
                label(Role::Source, Tag::Begin),
            ]
        );
    }

    #[test]
    fn joint_labels_without_crf_rates_are_refused_before_any_reading() {
        let options = SpanTrainOptions {
            labels: LabelSet::Joint,
            crf_rates: None,
            ..SpanTrainOptions::default()
        };
        let refused = train_command(
            std::path::Path::new("/no/such/polnear"),
            None,
            std::path::Path::new("/no/such/model.bin"),
            &options,
            String::new(),
            &|_| {},
        );
        assert!(
            matches!(refused, Err(crate::error::Error::Usage(ref message)) if message.contains("--crf-rates")),
            "{refused:?}"
        );
    }

    #[test]
    fn log_sum_exp_is_the_log_of_the_sum_and_stays_finite() {
        let values = [0.5f32, -1.0, 2.0];
        let direct = values.iter().map(|value| value.exp()).sum::<f32>().ln();
        assert!((log_sum_exp(&values) - direct).abs() < 1e-5);
        // Far past what exp can hold, and with a forbidden path among them.
        assert!(
            (log_sum_exp(&[1000.0, 1000.0, f32::NEG_INFINITY]) - (1000.0 + 2f32.ln())).abs() < 1e-3
        );
        assert_eq!(log_sum_exp(&[f32::NEG_INFINITY; 3]), f32::NEG_INFINITY);
    }
}
