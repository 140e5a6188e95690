//! The learned span tagger of fast mode: a linear-chain model, trained as a CRF (or as an
//! averaged structured perceptron), that tags every token B, I or O in each of three channels,
//! one per role of an attribution: its content, its source and its cue. The channels are
//! decoded apart, so a source may lie inside the content that it interrupts ("“We are close,”
//! Kerry said, “but not yet”"), as PolNeAR annotates it.
//!
//! Features are hashed into a fixed table ([`features`]); Viterbi decoding under the BIO
//! constraint (I only after B or I) runs over each paragraph in O(tokens × 3²) per channel. The
//! content channel tags the contiguous pieces of a content; the linker ([`crate::linker`])
//! joins pieces and finds each content's cue and source.

#[cfg(feature = "transformer")]
pub mod bert;
pub mod features;
pub mod stacked;
#[cfg(feature = "transformer")]
pub mod transformer;
#[cfg(feature = "transformer")]
pub mod transformer_stage;

use std::cell::Cell;
use std::ops::Range;
use std::path::Path;
use std::sync::OnceLock;
use std::thread::LocalKey;

use serde::{Deserialize, Serialize};

pub use crate::document::tagged::{Role, TaggedSpan};
use crate::error::{Error, Result};
use crate::segment::Segmented;
use features::TokenFeatures;

/// A token's tag in one channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Tag {
    #[default]
    Outside,
    Begin,
    Inside,
}

impl Tag {
    pub const ALL: [Tag; 3] = [Tag::Outside, Tag::Begin, Tag::Inside];

    pub fn index(self) -> usize {
        self as usize
    }
}

/// Tags per channel.
pub const TAGS: usize = 3;
/// Weights per row of the table: one per tag of every channel.
pub const ROW: usize = 3 * TAGS;
/// Transition weights per channel: from the start or a tag, to a tag.
pub(crate) const TRANSITIONS: usize = (TAGS + 1) * TAGS;

/// The transition from `from` (`None`: the start of a paragraph) to `to` is allowed.
pub fn allowed(from: Option<Tag>, to: Tag) -> bool {
    !(to == Tag::Inside && matches!(from, None | Some(Tag::Outside)))
}

pub(crate) fn transition_slot(role: Role, from: Option<Tag>, to: Tag) -> usize {
    let from = from.map_or(0, |tag| tag.index() + 1);
    role.index() * TRANSITIONS + from * TAGS + to.index()
}

/// How a model's tags are decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LabelSet {
    /// Three channels of B/I/O, one per role, each decoded apart: spans of different roles may
    /// overlap.
    #[default]
    Channels,
    /// One label a token out of [`LABELS`] (O, or B or I of a role), decoded together: the
    /// transitions between roles are learned (a content's end, then a cue, then its source),
    /// and a token has one role at most. PolNeAR's roles hardly ever overlap (0.03% of its
    /// train contents' characters lie in two spans), so the joint labels lose next to nothing
    /// of its gold.
    Joint,
    /// The content channel decoded apart, as in [`LabelSet::Channels`], and the source and the
    /// cue together, as in [`LabelSet::Joint`]: a cue and its source next to each other
    /// ("said Kerry") are learned as a sequence, and a content may still hold either.
    ContentApart,
}

impl LabelSet {
    /// The number of transition weights a model of this label set has: the channels' (where
    /// any is decoded apart), then the joint labels' (where any role is decoded jointly).
    pub fn transitions(self) -> usize {
        match self {
            LabelSet::Channels => 3 * TRANSITIONS,
            LabelSet::Joint => JOINT_TRANSITIONS,
            LabelSet::ContentApart => 3 * TRANSITIONS + JOINT_TRANSITIONS,
        }
    }

    /// Whether `role` is decoded in the joint labels rather than in a channel of its own.
    pub fn is_joint(self, role: Role) -> bool {
        match self {
            LabelSet::Channels => false,
            LabelSet::Joint => true,
            LabelSet::ContentApart => role != Role::Content,
        }
    }

    /// Where the joint labels' transitions start among a model's transitions.
    pub(crate) fn joint_offset(self) -> usize {
        match self {
            LabelSet::Joint => 0,
            LabelSet::Channels | LabelSet::ContentApart => 3 * TRANSITIONS,
        }
    }

    /// Whether any role is decoded in the joint labels.
    pub(crate) fn has_joint(self) -> bool {
        Role::ALL.into_iter().any(|role| self.is_joint(role))
    }

    fn is_channels(&self) -> bool {
        *self == LabelSet::Channels
    }
}

/// The joint labels: O, then B and I of each role in [`Role::ALL`]'s order.
pub const LABELS: usize = 1 + 2 * 3;
/// Joint transition weights: from the start or a label, to a label.
pub(crate) const JOINT_TRANSITIONS: usize = (LABELS + 1) * LABELS;

/// The joint label of a role's tag; O of any role is label 0.
pub(crate) fn joint_label(role: Role, tag: Tag) -> usize {
    match tag {
        Tag::Outside => 0,
        Tag::Begin => 1 + 2 * role.index(),
        Tag::Inside => 2 + 2 * role.index(),
    }
}

/// The role and tag of a joint label; `None` for O.
pub(crate) fn label_parts(label: usize) -> Option<(Role, Tag)> {
    let role = *Role::ALL.get(label.checked_sub(1)? / 2)?;
    let tag = if (label - 1).is_multiple_of(2) {
        Tag::Begin
    } else {
        Tag::Inside
    };
    Some((role, tag))
}

/// The joint transition from `from` (`None`: the start of a paragraph) to `to` is allowed: an I
/// only continues a span of its own role.
pub(crate) fn joint_allowed(from: Option<usize>, to: usize) -> bool {
    match label_parts(to) {
        Some((role, Tag::Inside)) => from
            .and_then(label_parts)
            .is_some_and(|(before, _)| before == role),
        _ => true,
    }
}

pub(crate) fn joint_slot(from: Option<usize>, to: usize) -> usize {
    from.map_or(0, |label| label + 1) * LABELS + to
}

/// The joint transitions of a model of `labels` (whose transitions are `transitions`) as a
/// table, row `from + 1` (row 0: the start), with the forbidden ones, and those into the labels
/// of roles decoded apart, at −∞.
pub(crate) fn joint_transition_table(
    labels: LabelSet,
    transitions: &[f32],
) -> [[f32; LABELS]; LABELS + 1] {
    let transitions = &transitions[labels.joint_offset()..];
    std::array::from_fn(|row| {
        let from = row.checked_sub(1);
        std::array::from_fn(|to| {
            let decoded_here = label_parts(to).is_none_or(|(role, _)| labels.is_joint(role));
            if decoded_here && joint_allowed(from, to) {
                transitions[joint_slot(from, to)]
            } else {
                f32::NEG_INFINITY
            }
        })
    })
}

/// A token's score of a joint label, read from the channels' emissions ([`ROW`] a token): B or
/// I of the label's role, zero for O (every O weight of a joint model is zero).
pub(crate) fn joint_emission(emissions: &[f32], token: usize, label: usize) -> f32 {
    match label_parts(label) {
        None => 0.0,
        Some((role, tag)) => emissions[token * ROW + role.index() * TAGS + tag.index()],
    }
}

/// The trained tagger.
///
/// Only differences between a token's tags matter to decoding, so each channel's O weight is
/// folded into its B and I weights (B − O, I − O) and O scores zero: a row holds six weights,
/// stored as 16-bit integers times a scale in eight lanes, so that a row is one aligned
/// 16-byte load and the whole table of 2^16 rows fits in a megabyte.
#[derive(Debug, Clone)]
pub struct SpanModel {
    pub header: ModelHeader,
    table: Vec<PackedRow>,
    transitions: Vec<f32>,
    /// The second pass, which also reads this model's tags ([`stacked`]); where there is one,
    /// its spans are the tagger's.
    second: Option<Box<SpanModel>>,
}

/// One row of the table: B and I of each channel, then two unused lanes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[repr(C, align(16))]
struct PackedRow([i16; 8]);

/// What a model file says about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelHeader {
    /// What the model was trained on, and the command that rebuilds it.
    pub provenance: String,
    /// The weight table has `2^table_bits` rows.
    pub table_bits: u32,
    /// Weights are stored as 16-bit integers times this.
    pub scale: f32,
    /// Channels decoded apart, or joint labels; a file without it has channels.
    #[serde(default, skip_serializing_if = "LabelSet::is_channels")]
    pub labels: LabelSet,
}

const MAGIC: &[u8; 16] = b"whosaid-spans-2\n";

const SHIPPED_MODEL: &[u8] = include_bytes!("../../models/span-tagger.bin");

impl SpanModel {
    /// The model of float weights ([`ROW`] per row of a table of `2^table_bits` rows) and
    /// transitions, folded and quantised.
    pub fn from_weights(
        table_bits: u32,
        weights: &[f32],
        transitions: &[f32],
        provenance: String,
    ) -> Self {
        SpanModel::from_weights_of(
            LabelSet::Channels,
            table_bits,
            weights,
            transitions,
            provenance,
        )
    }

    /// [`SpanModel::from_weights`] for a model of `labels`, whose transitions number
    /// [`LabelSet::transitions`].
    pub fn from_weights_of(
        labels: LabelSet,
        table_bits: u32,
        weights: &[f32],
        transitions: &[f32],
        provenance: String,
    ) -> Self {
        debug_assert_eq!(transitions.len(), labels.transitions());
        let folded = |row: &[f32], lane: usize| {
            let channel = lane / 2;
            let tag = 1 + lane % 2;
            row[channel * TAGS + tag] - row[channel * TAGS]
        };
        let largest = weights.chunks_exact(ROW).fold(0f32, |largest, row| {
            (0..6).fold(largest, |largest, lane| {
                largest.max(folded(row, lane).abs())
            })
        });
        let scale = if largest > 0.0 {
            largest / 32767.0
        } else {
            1.0
        };
        let table = weights
            .chunks_exact(ROW)
            .map(|row| {
                let mut packed = [0i16; 8];
                for (lane, slot) in packed.iter_mut().take(6).enumerate() {
                    *slot = (folded(row, lane) / scale).round().clamp(-32767.0, 32767.0) as i16;
                }
                PackedRow(packed)
            })
            .collect();
        SpanModel {
            header: ModelHeader {
                provenance,
                table_bits,
                scale,
                labels,
            },
            table,
            transitions: transitions.to_vec(),
            second: None,
        }
    }

    /// This model as the first pass of a stacked tagger whose second pass is `second`; the two
    /// hash features into tables of the same size.
    pub fn with_second_pass(mut self, second: SpanModel) -> std::result::Result<Self, String> {
        if second.table_bits() != self.table_bits() {
            return Err(format!(
                "a second pass of 2^{} rows after a first of 2^{}",
                second.table_bits(),
                self.table_bits()
            ));
        }
        if second.second.is_some() {
            return Err("a second pass with a second pass of its own".into());
        }
        self.second = Some(Box::new(second));
        Ok(self)
    }

    /// The second pass, where this tagger is stacked.
    pub fn second_pass(&self) -> Option<&SpanModel> {
        self.second.as_deref()
    }

    /// This model without its second pass: the first pass alone.
    pub fn first_pass(&self) -> SpanModel {
        SpanModel {
            header: self.header.clone(),
            table: self.table.clone(),
            transitions: self.transitions.clone(),
            second: None,
        }
    }

    /// A model of zero weights.
    pub fn empty(table_bits: u32, provenance: String) -> Self {
        SpanModel::from_weights(
            table_bits,
            &vec![0.0; (1usize << table_bits) * ROW],
            &[0.0; 3 * TRANSITIONS],
            provenance,
        )
    }

    /// The model in `models/span-tagger.bin`, built into the binary and read once.
    pub fn shipped() -> Result<&'static SpanModel> {
        Ok(Self::shipped_shared()?)
    }

    /// [`SpanModel::shipped`] as a shared handle, so that the pipelines that hold it share one
    /// copy of its table.
    pub fn shipped_shared() -> Result<&'static std::sync::Arc<SpanModel>> {
        static SHIPPED: OnceLock<std::result::Result<std::sync::Arc<SpanModel>, String>> =
            OnceLock::new();
        SHIPPED
            .get_or_init(|| SpanModel::from_bytes(SHIPPED_MODEL).map(std::sync::Arc::new))
            .as_ref()
            .map_err(|message| Error::model("models/span-tagger.bin", message))
    }

    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|error| Error::io(path, error))?;
        SpanModel::from_bytes(&bytes).map_err(|message| Error::model(path, message))
    }

    pub fn table_bits(&self) -> u32 {
        self.header.table_bits
    }

    /// Writes the model: a magic line, a JSON header, the transitions as f32, and the non-zero
    /// rows of the table as (row, six 16-bit weights), all little-endian.
    pub fn save(&self, path: &Path) -> Result<()> {
        std::fs::write(path, self.to_bytes()).map_err(|error| Error::io(path, error))
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let header_json = serde_json::to_vec(&self.header).unwrap_or_default();
        let mut bytes = Vec::new();
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&(header_json.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&header_json);
        for weight in &self.transitions {
            bytes.extend_from_slice(&weight.to_le_bytes());
        }
        let kept = self
            .table
            .iter()
            .filter(|row| **row != PackedRow::default())
            .count();
        bytes.extend_from_slice(&(kept as u32).to_le_bytes());
        for (index, row) in self.table.iter().enumerate() {
            if *row == PackedRow::default() {
                continue;
            }
            bytes.extend_from_slice(&(index as u32).to_le_bytes());
            for weight in &row.0[..6] {
                bytes.extend_from_slice(&weight.to_le_bytes());
            }
        }
        // A stacked tagger's second pass follows its first, written the same way.
        if let Some(second) = &self.second {
            bytes.extend_from_slice(&second.to_bytes());
        }
        bytes
    }

    pub fn from_bytes(bytes: &[u8]) -> std::result::Result<Self, String> {
        let mut reader = Reader { bytes, at: 0 };
        let first = SpanModel::read_one(&mut reader)?;
        if reader.at == bytes.len() {
            return Ok(first);
        }
        let second = SpanModel::read_one(&mut reader)
            .map_err(|message| format!("its second pass: {message}"))?;
        if reader.at != bytes.len() {
            return Err("trailing bytes after the second pass".into());
        }
        first.with_second_pass(second)
    }

    /// Reads one pass: magic, header, transitions, rows.
    fn read_one(reader: &mut Reader) -> std::result::Result<Self, String> {
        if reader.take(MAGIC.len())? != MAGIC {
            return Err("not a whosaid span model of this version".into());
        }
        let header_len = reader.u32()? as usize;
        let header: ModelHeader =
            serde_json::from_slice(reader.take(header_len)?).map_err(|error| error.to_string())?;
        if !(8..=24).contains(&header.table_bits) {
            return Err(format!("table of 2^{} rows", header.table_bits));
        }
        if !(header.scale.is_finite() && header.scale > 0.0) {
            return Err(format!("scale {}", header.scale));
        }
        let mut transitions = vec![0f32; header.labels.transitions()];
        for slot in &mut transitions {
            *slot = f32::from_le_bytes(reader.array()?);
        }
        let rows = 1usize << header.table_bits;
        let mut table = vec![PackedRow::default(); rows];
        let kept = reader.u32()? as usize;
        for _ in 0..kept {
            let row = reader.u32()? as usize;
            let slot = table
                .get_mut(row)
                .ok_or_else(|| format!("row {row} outside the table"))?;
            for lane in 0..6 {
                slot.0[lane] = i16::from_le_bytes(reader.array()?);
            }
        }
        Ok(SpanModel {
            header,
            table,
            transitions,
            second: None,
        })
    }

    /// The emission scores of every token: [`ROW`] per token, O scoring zero.
    pub fn emissions(&self, features: &TokenFeatures) -> Vec<f32> {
        let mut scores = vec![0f32; features.len() * ROW];
        self.write_emissions(features, &mut scores);
        scores
    }

    /// [`SpanModel::emissions`] of every token of `layers`, with the features hashed a block of
    /// tokens at a time into one reused buffer: the same numbers, without holding a long
    /// document's feature rows (about 180 bytes a token) all at once.
    pub fn emissions_of(&self, layers: &features::Layers) -> Vec<f32> {
        let mut emissions = Vec::new();
        self.write_emissions_of(layers, &mut emissions);
        emissions
    }

    /// [`SpanModel::emissions_of`] written into `emissions`, whatever it held before.
    fn write_emissions_of(&self, layers: &features::Layers, emissions: &mut Vec<f32>) {
        let plan = features::FeaturePlan::new(layers, self.table_bits());
        emissions_in_blocks(&plan, emissions, |_, features, out| {
            self.write_emissions(features, out)
        });
    }

    fn write_emissions(&self, features: &TokenFeatures, scores: &mut [f32]) {
        // The shipped size of table: read through an array of exactly its rows with 16-bit
        // indices, no row read checks its bounds (a feature's row is masked below 2^16).
        match <&[PackedRow; 1 << 16]>::try_from(self.table.as_slice()) {
            Ok(table) => self.sum_rows(features, scores, |row| {
                Some(&table[usize::from(row as u16)])
            }),
            Err(_) => self.sum_rows(features, scores, |row| self.table.get(row as usize)),
        }
    }

    /// [`SpanModel::write_emissions`] with the table's rows read by `row_of`.
    fn sum_rows<'table>(
        &self,
        features: &TokenFeatures,
        scores: &mut [f32],
        row_of: impl Fn(u32) -> Option<&'table PackedRow>,
    ) {
        let scale = self.header.scale;
        let tokens = features.len();
        let ahead = PREFETCH_TOKENS_AHEAD;
        let prefetch = |rows: &[u32]| {
            for &row in rows {
                if let Some(packed) = row_of(row) {
                    crate::hash::prefetch(packed);
                }
            }
        };
        for token in 0..ahead.min(tokens) {
            prefetch(features.of(token));
        }
        for (token, out) in scores.chunks_exact_mut(ROW).enumerate() {
            if token + ahead < tokens {
                prefetch(features.of(token + ahead));
            }
            let mut sum = [0i32; 8];
            for &row in features.of(token) {
                let Some(packed) = row_of(row) else {
                    continue;
                };
                for (total, &weight) in sum.iter_mut().zip(&packed.0) {
                    *total += i32::from(weight);
                }
            }
            for channel in 0..3 {
                out[channel * TAGS + 1] = sum[channel * 2] as f32 * scale;
                out[channel * TAGS + 2] = sum[channel * 2 + 1] as f32 * scale;
            }
        }
    }

    /// The best tags of every channel, decoded from `emissions` over each of `segments`
    /// under the BIO constraint, indexed by [`Role::index`]: each channel apart, or all
    /// together where the model has joint labels.
    pub fn decode_channels(&self, emissions: &[f32], segments: &[Range<usize>]) -> [Vec<Tag>; 3] {
        let count = emissions.len() / ROW;
        let mut tags = [
            vec![Tag::Outside; count],
            vec![Tag::Outside; count],
            vec![Tag::Outside; count],
        ];
        let labels = self.header.labels;
        let mut back = Vec::new();
        for role in Role::ALL.into_iter().filter(|&role| !labels.is_joint(role)) {
            let table = channel_transition_table(&self.transitions, role);
            for segment in segments {
                viterbi(
                    emissions,
                    &table,
                    role,
                    segment.clone(),
                    &mut tags[role.index()],
                    &mut back,
                );
            }
        }
        if labels.has_joint() {
            let table = joint_transition_table(labels, &self.transitions);
            let mut back = Vec::new();
            for segment in segments {
                joint_viterbi(emissions, &table, segment.clone(), &mut tags, &mut back);
            }
        }
        tags
    }

    /// Tags every channel of a document and returns the spans, paragraph by paragraph.
    pub fn tag(&self, features: &TokenFeatures, segmented: &Segmented) -> Vec<TaggedSpan> {
        self.tag_segments(features, &segments(segmented))
    }

    /// [`SpanModel::tag`], decoding each of `segments` (token ranges) as one sequence.
    pub fn tag_segments(
        &self,
        features: &TokenFeatures,
        segments: &[Range<usize>],
    ) -> Vec<TaggedSpan> {
        let emissions = self.emissions(features);
        let Some(second) = &self.second else {
            return self.tag_emissions(&emissions, segments);
        };
        let first = self.first_pass_tags(&emissions, segments);
        let mut stacked = TokenFeatures::default();
        first.stack(features, 0, self.mask(), &mut stacked);
        second.tag_emissions(&second.emissions(&stacked), segments)
    }

    /// Tags every channel of the document these layers describe; the same spans as
    /// [`SpanModel::tag`] of its [`features::token_features`].
    pub fn tag_layers(&self, layers: &features::Layers) -> Vec<TaggedSpan> {
        let segments = segments(layers.segmented);
        let Some(second) = &self.second else {
            let mut emissions = EMISSIONS.take();
            self.write_emissions_of(layers, &mut emissions);
            let spans = self.tag_emissions(&emissions, &segments);
            keep_for_the_next_document(&EMISSIONS, emissions);
            return spans;
        };
        // The first pass's features are hashed again for the second, a block at a time, rather
        // than kept: a long document's rows would not fit the memory a block takes.
        let plan = features::FeaturePlan::new(layers, self.table_bits());
        let mut emissions = Vec::new();
        emissions_in_blocks(&plan, &mut emissions, |_, features, out| {
            self.write_emissions(features, out)
        });
        let first = self.first_pass_tags(&emissions, &segments);
        let mask = self.mask();
        let mut stacked = TokenFeatures::default();
        emissions_in_blocks(&plan, &mut emissions, |start, features, out| {
            first.stack(features, start, mask, &mut stacked);
            second.write_emissions(&stacked, out);
        });
        second.tag_emissions(&emissions, &segments)
    }

    /// The mask that keeps a feature hash within the table.
    pub(crate) fn mask(&self) -> u64 {
        (1u64 << self.table_bits()) - 1
    }

    /// This model's tags of every channel, decoded from `emissions` over `segments`, as a
    /// second pass reads them.
    pub(crate) fn first_pass_tags(
        &self,
        emissions: &[f32],
        segments: &[Range<usize>],
    ) -> stacked::FirstPass {
        stacked::FirstPass::new(self.decode_channels(emissions, segments), segments)
    }

    fn tag_emissions(&self, emissions: &[f32], segments: &[Range<usize>]) -> Vec<TaggedSpan> {
        let tags = self.decode_channels(emissions, segments);
        Role::ALL
            .into_iter()
            .flat_map(|role| spans_of(&tags[role.index()], role))
            .collect()
    }
}

thread_local! {
    /// The buffers of fast mode's tagger, kept by each thread from one document to the next:
    /// made afresh for every document, a block's rows were copied at each doubling, and an
    /// allocator that hands a freed block of this size back to the kernel (jemalloc) faulted
    /// its pages in again each time.
    static BLOCK_FEATURES: Cell<TokenFeatures> = const { Cell::new(TokenFeatures::new()) };
    static EMISSIONS: Cell<Vec<f32>> = const { Cell::new(Vec::new()) };
}

/// `count` copies of `value`, written into a block taken from the allocator as it is. Where the
/// values are zero bytes, `vec![value; count]` asks for a zeroed block instead, and jemalloc
/// zeroes a reused block of 16 KiB or more by handing its pages back to the kernel, which
/// faults them in again; at two threads each such return also interrupts the other core to
/// flush its TLB (docs/BENCHMARKS.md, "jemalloc"). Writing the values costs less than either,
/// so the per-token arrays that a document makes afresh are made with this.
pub(crate) fn filled<T: Clone>(value: T, count: usize) -> Vec<T> {
    let mut values = Vec::with_capacity(count);
    values.resize(count, value);
    values
}

/// Puts a buffer back in its thread's cell for the next document, unless a long document grew
/// it past what is worth holding between documents.
fn keep_for_the_next_document(cell: &'static LocalKey<Cell<Vec<f32>>>, buffer: Vec<f32>) {
    const LARGEST_KEPT: usize = 1 << 20;
    if buffer.capacity() <= LARGEST_KEPT {
        cell.set(buffer);
    }
}

/// Writes the emissions of every token of `plan` into `scores`: its features are written a
/// block of tokens at a time, and `write` turns a block's features (and its first token's
/// index) into the block's emissions.
fn emissions_in_blocks(
    plan: &features::FeaturePlan,
    scores: &mut Vec<f32>,
    mut write: impl FnMut(usize, &TokenFeatures, &mut [f32]),
) {
    const BLOCK: usize = 2048;
    scores.clear();
    scores.resize(plan.len() * ROW, 0.0);
    let mut block_features = BLOCK_FEATURES.take();
    for (block, out) in scores.chunks_mut(BLOCK * ROW).enumerate() {
        let start = block * BLOCK;
        plan.write(start..start + out.len() / ROW, &mut block_features);
        write(start, &block_features, out);
    }
    BLOCK_FEATURES.set(block_features);
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, count: usize) -> std::result::Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(count)
            .filter(|&end| end <= self.bytes.len())
            .ok_or("the model file is cut short")?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self) -> std::result::Result<[u8; N], String> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u32(&mut self) -> std::result::Result<u32, String> {
        Ok(u32::from_le_bytes(self.array()?))
    }
}

/// The token ranges decoded as one sequence each: the paragraphs.
pub fn segments(segmented: &Segmented) -> Vec<Range<usize>> {
    let mut segments: Vec<Range<usize>> = Vec::new();
    let mut paragraph = usize::MAX;
    for sentence in &segmented.sentences {
        match segments.last_mut() {
            Some(last) if sentence.paragraph == paragraph && last.end == sentence.tokens.start => {
                last.end = sentence.tokens.end;
            }
            _ => segments.push(sentence.tokens.clone()),
        }
        paragraph = sentence.paragraph;
    }
    segments
}

/// The best path through a lattice of `N` labels a token over `length` tokens, written
/// through `write(offset, label)`: `table[from + 1][to]` scores a transition (row 0: from the
/// start; −∞ forbids it), `emission(offset, label)` a token's label. `back` is scratch space.
/// Ties go to the lowest label.
fn best_path<const N: usize>(
    length: usize,
    table: &[[f32; N]],
    emission: impl Fn(usize, usize) -> f32,
    back: &mut Vec<[u8; N]>,
    mut write: impl FnMut(usize, usize),
) {
    if length == 0 {
        return;
    }
    back.clear();
    let mut score: [f32; N] = std::array::from_fn(|to| table[0][to] + emission(0, to));
    back.push([0; N]);
    for offset in 1..length {
        let mut next = [f32::NEG_INFINITY; N];
        let mut pointers = [0u8; N];
        for to in 0..N {
            for from in 0..N {
                let candidate = score[from] + table[from + 1][to];
                if candidate > next[to] {
                    next[to] = candidate;
                    pointers[to] = from as u8;
                }
            }
            next[to] += emission(offset, to);
        }
        score = next;
        back.push(pointers);
    }
    let mut best = 0;
    for label in 1..N {
        if score[label] > score[best] {
            best = label;
        }
    }
    for (offset, pointers) in back.iter().enumerate().rev() {
        write(offset, best);
        best = pointers[best] as usize;
    }
}

/// One channel's transitions as a table, row `from + 1` (row 0: the start), with the forbidden
/// ones at −∞: the lattice [`best_path`] and training's forward–backward read.
pub(crate) fn channel_transition_table(transitions: &[f32], role: Role) -> [[f32; TAGS]; TAGS + 1] {
    std::array::from_fn(|row| {
        let from = row.checked_sub(1).map(|tag| Tag::ALL[tag]);
        Tag::ALL.map(|to| {
            if allowed(from, to) {
                transitions[transition_slot(role, from, to)]
            } else {
                f32::NEG_INFINITY
            }
        })
    })
}

/// Viterbi over one segment for the channel of `role`, whose transitions are `table` (from
/// [`channel_transition_table`], built once for all of a document's segments); `back` is
/// scratch space.
pub(crate) fn viterbi(
    emissions: &[f32],
    table: &[[f32; TAGS]; TAGS + 1],
    role: Role,
    segment: Range<usize>,
    out: &mut [Tag],
    back: &mut Vec<[u8; TAGS]>,
) {
    let start = segment.start;
    let lane = role.index() * TAGS;
    best_path(
        segment.len(),
        table,
        |offset, tag| emissions[(start + offset) * ROW + lane + tag],
        back,
        |offset, tag| out[start + offset] = Tag::ALL[tag],
    );
}

/// Viterbi over one segment for the joint labels, `table` from [`joint_transition_table`];
/// each token's label is written to its role's channel of `out`, and O to the other channels
/// that the table decodes (a channel whose labels it forbids is left as it is). `back` is
/// scratch space.
pub(crate) fn joint_viterbi(
    emissions: &[f32],
    table: &[[f32; LABELS]; LABELS + 1],
    segment: Range<usize>,
    out: &mut [Vec<Tag>; 3],
    back: &mut Vec<[u8; LABELS]>,
) {
    let decoded: [bool; 3] = Role::ALL.map(|role| {
        table
            .iter()
            .any(|row| row[joint_label(role, Tag::Begin)] > f32::NEG_INFINITY)
    });
    let start = segment.start;
    best_path(
        segment.len(),
        table,
        |offset, label| joint_emission(emissions, start + offset, label),
        back,
        |offset, label| {
            let token = start + offset;
            for (channel, _) in out.iter_mut().zip(decoded).filter(|(_, here)| *here) {
                channel[token] = Tag::Outside;
            }
            if let Some((role, tag)) = label_parts(label) {
                out[role.index()][token] = tag;
            }
        },
    );
}

/// The spans of one channel's tags.
pub fn spans_of(tags: &[Tag], role: Role) -> Vec<TaggedSpan> {
    let mut spans = Vec::new();
    let mut open: Option<usize> = None;
    for (index, &tag) in tags.iter().enumerate() {
        match tag {
            Tag::Begin => {
                if let Some(start) = open.take() {
                    spans.push(TaggedSpan {
                        role,
                        tokens: start..index,
                    });
                }
                open = Some(index);
            }
            Tag::Inside if open.is_some() => {}
            Tag::Inside => open = Some(index),
            Tag::Outside => {
                if let Some(start) = open.take() {
                    spans.push(TaggedSpan {
                        role,
                        tokens: start..index,
                    });
                }
            }
        }
    }
    if let Some(start) = open {
        spans.push(TaggedSpan {
            role,
            tokens: start..tags.len(),
        });
    }
    spans
}

/// The rule stages' quotes of an analysed document, in tokens, as the tagger reads them.
pub fn proposals(document: &crate::document::Document) -> Vec<features::Proposal> {
    let tokens = &document.segmented.tokens;
    document
        .attributions
        .iter()
        .map(|attribution| {
            let first = tokens.partition_point(|token| token.start < attribution.start);
            let last = tokens.partition_point(|token| token.end <= attribution.end);
            features::Proposal {
                content: first..last.max(first),
                kind: attribution.kind,
                cue: attribution.cue.as_ref().map(|cue| cue.tokens.clone()),
                source: attribution
                    .mention
                    .and_then(|mention| document.speakers.mentions.get(mention))
                    .map(|mention| mention.tokens.clone()),
            }
        })
        .collect()
}

/// The layers the tagger reads from an analysed document and its rule proposals.
pub fn layers<'a>(
    document: &'a crate::document::Document,
    proposals: &'a [features::Proposal],
    cues: Option<&'a crate::cue::CueModel>,
) -> features::Layers<'a> {
    features::Layers {
        text: &document.normalised.text,
        segmented: &document.segmented,
        regions: &document.regions,
        speakers: &document.speakers,
        proposals,
        cues,
        cue_scores: &document.cue_scores,
    }
}

/// How many tokens ahead [`SpanModel::write_emissions`] asks for the table rows it will read. The
/// table (2^16 rows of 16 bytes) does not stay in cache beside the other stages' tables, and
/// summing a token's 45 rows waited on their loads: 73% of the function's samples sat on the
/// instruction after the first load. Asking two tokens ahead took fast mode's user time on
/// PolNeAR train+dev ×3 from 7.74 s to 7.48 s (medians of five interleaved runs).
const PREFETCH_TOKENS_AHEAD: usize = 2;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::{Pipeline, PipelineConfig, SpanChoice};

    /// A small seeded generator for test inputs.
    fn numbers(seed: u64) -> impl FnMut() -> f32 {
        let mut state = seed;
        move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((state >> 40) as f32 / (1u64 << 24) as f32) * 20.0 - 10.0
        }
    }

    #[test]
    fn viterbi_never_puts_inside_after_outside_or_at_the_start() {
        let mut random = numbers(7);
        for round in 0..200 {
            let length = 1 + round % 37;
            // Inside is favoured everywhere, and a few tokens favour Outside, so that a decoder
            // without the constraint would open spans with I.
            let mut emissions = vec![0f32; length * ROW];
            for token in 0..length {
                for channel in 0..3 {
                    emissions[token * ROW + channel * TAGS + Tag::Begin.index()] = random() - 5.0;
                    emissions[token * ROW + channel * TAGS + Tag::Inside.index()] = random() + 8.0;
                }
            }
            let transitions: Vec<f32> = (0..3 * TRANSITIONS).map(|_| random()).collect();
            let mut out = vec![Tag::Outside; length];
            let mut back = Vec::new();
            for role in Role::ALL {
                viterbi(
                    &emissions,
                    &channel_transition_table(&transitions, role),
                    role,
                    0..length,
                    &mut out,
                    &mut back,
                );
                assert!(allowed(None, out[0]), "round {round}: {out:?}");
                for pair in out.windows(2) {
                    assert!(allowed(Some(pair[0]), pair[1]), "round {round}: {out:?}");
                }
            }
        }
    }

    #[test]
    fn viterbi_finds_the_best_allowed_sequence() {
        // Brute force over every allowed sequence of a few tokens.
        let mut random = numbers(11);
        for _ in 0..50 {
            let length = 4;
            let emissions: Vec<f32> = (0..length * ROW).map(|_| random()).collect();
            let transitions: Vec<f32> = (0..3 * TRANSITIONS).map(|_| random()).collect();
            let role = Role::Source;
            let score = |tags: &[Tag]| {
                let mut total = 0.0;
                for (token, &tag) in tags.iter().enumerate() {
                    let from = token.checked_sub(1).map(|before| tags[before]);
                    total += transitions[transition_slot(role, from, tag)]
                        + emissions[token * ROW + role.index() * TAGS + tag.index()];
                }
                total
            };
            let mut best = f32::NEG_INFINITY;
            for code in 0..3usize.pow(length as u32) {
                let tags: Vec<Tag> = (0..length)
                    .map(|position| Tag::ALL[code / 3usize.pow(position as u32) % 3])
                    .collect();
                let valid = allowed(None, tags[0])
                    && tags.windows(2).all(|pair| allowed(Some(pair[0]), pair[1]));
                if valid {
                    best = best.max(score(&tags));
                }
            }
            let mut out = vec![Tag::Outside; length];
            viterbi(
                &emissions,
                &channel_transition_table(&transitions, role),
                role,
                0..length,
                &mut out,
                &mut Vec::new(),
            );
            assert!((score(&out) - best).abs() < 1e-3, "{out:?}");
        }
    }

    #[test]
    fn joint_labels_name_one_role_and_tag_each() {
        assert_eq!(label_parts(0), None);
        for role in Role::ALL {
            assert_eq!(joint_label(role, Tag::Outside), 0);
            for tag in [Tag::Begin, Tag::Inside] {
                let label = joint_label(role, tag);
                assert!(label < LABELS);
                assert_eq!(label_parts(label), Some((role, tag)));
            }
        }
        assert_eq!(label_parts(LABELS), None);
        // An I continues only its own role's span.
        let inside = |role| joint_label(role, Tag::Inside);
        assert!(!joint_allowed(None, inside(Role::Cue)));
        assert!(!joint_allowed(Some(0), inside(Role::Cue)));
        assert!(!joint_allowed(
            Some(joint_label(Role::Source, Tag::Begin)),
            inside(Role::Cue)
        ));
        assert!(joint_allowed(
            Some(joint_label(Role::Cue, Tag::Begin)),
            inside(Role::Cue)
        ));
        assert!(joint_allowed(Some(inside(Role::Cue)), inside(Role::Cue)));
        assert!(joint_allowed(None, joint_label(Role::Content, Tag::Begin)));
    }

    #[test]
    fn joint_viterbi_finds_the_best_allowed_sequence_of_roles() {
        // Brute force over every allowed sequence of labels of a few tokens.
        let mut random = numbers(23);
        for _ in 0..30 {
            let length = 4;
            let emissions: Vec<f32> = (0..length * ROW).map(|_| random()).collect();
            let transitions: Vec<f32> = (0..JOINT_TRANSITIONS).map(|_| random()).collect();
            let score = |labels: &[usize]| {
                let mut total = 0.0;
                for (token, &label) in labels.iter().enumerate() {
                    let from = token.checked_sub(1).map(|before| labels[before]);
                    total += transitions[joint_slot(from, label)]
                        + joint_emission(&emissions, token, label);
                }
                total
            };
            let mut best = f32::NEG_INFINITY;
            for code in 0..LABELS.pow(length as u32) {
                let labels: Vec<usize> = (0..length)
                    .map(|position| code / LABELS.pow(position as u32) % LABELS)
                    .collect();
                let valid = joint_allowed(None, labels[0])
                    && labels
                        .windows(2)
                        .all(|pair| joint_allowed(Some(pair[0]), pair[1]));
                if valid {
                    best = best.max(score(&labels));
                }
            }
            let mut out = [
                vec![Tag::Begin; length],
                vec![Tag::Begin; length],
                vec![Tag::Begin; length],
            ];
            let table = joint_transition_table(LabelSet::Joint, &transitions);
            joint_viterbi(&emissions, &table, 0..length, &mut out, &mut Vec::new());
            // At most one role a token, and the channels spell the labels back.
            let labels: Vec<usize> = (0..length)
                .map(|token| {
                    let tagged: Vec<(Role, Tag)> = Role::ALL
                        .into_iter()
                        .map(|role| (role, out[role.index()][token]))
                        .filter(|(_, tag)| *tag != Tag::Outside)
                        .collect();
                    assert!(tagged.len() <= 1, "{tagged:?}");
                    tagged
                        .first()
                        .map_or(0, |&(role, tag)| joint_label(role, tag))
                })
                .collect();
            assert!((score(&labels) - best).abs() < 1e-3, "{labels:?}");
        }
    }

    #[test]
    fn a_joint_model_reads_back_what_it_wrote_and_decodes_jointly() {
        let mut random = numbers(31);
        let weights: Vec<f32> = (0..(1 << 8) * ROW).map(|_| random()).collect();
        let transitions: Vec<f32> = (0..JOINT_TRANSITIONS).map(|_| random()).collect();
        let model =
            SpanModel::from_weights_of(LabelSet::Joint, 8, &weights, &transitions, "joint".into());
        let again = SpanModel::from_bytes(&model.to_bytes()).expect("reads back");
        assert_eq!(again.header.labels, LabelSet::Joint);
        assert_eq!(again.to_bytes(), model.to_bytes());
        // The same weights decoded as channels overlap roles somewhere; joint never does.
        let emissions: Vec<f32> = (0..200 * ROW).map(|_| 4.0 * random()).collect();
        let segments = [0..120, 120..200];
        let joint = model.decode_channels(&emissions, &segments);
        for token in 0..200 {
            let roles = joint
                .iter()
                .filter(|tags| tags[token] != Tag::Outside)
                .count();
            assert!(roles <= 1, "token {token} has {roles} roles");
        }
        let channels = SpanModel::from_weights(
            8,
            &weights,
            &(0..3 * TRANSITIONS).map(|_| random()).collect::<Vec<_>>(),
            "channels".into(),
        );
        assert_eq!(channels.header.labels, LabelSet::Channels);
        assert!(!String::from_utf8_lossy(&channels.to_bytes()).contains("labels"));
        let apart = channels.decode_channels(&emissions, &segments);
        assert!((0..200).any(|token| apart
            .iter()
            .filter(|tags| tags[token] != Tag::Outside)
            .count()
            > 1));
    }

    #[test]
    fn spans_follow_the_tags() {
        use Tag::*;
        let tags = [Begin, Inside, Outside, Begin, Begin, Inside, Inside];
        let spans: Vec<Range<usize>> = spans_of(&tags, Role::Content)
            .into_iter()
            .map(|span| span.tokens)
            .collect();
        assert_eq!(spans, [0..2, 3..4, 4..7]);
    }

    #[test]
    fn a_model_reads_back_what_it_wrote() {
        let mut random = numbers(3);
        let weights: Vec<f32> = (0..(1usize << 8) * ROW)
            .map(|slot| if slot % 5 == 0 { random() } else { 0.0 })
            .collect();
        let transitions: Vec<f32> = (0..3 * TRANSITIONS).map(|_| random()).collect();
        let model = SpanModel::from_weights(8, &weights, &transitions, "test".into());
        let bytes = model.to_bytes();
        let read = SpanModel::from_bytes(&bytes).unwrap();
        assert_eq!(read.table, model.table);
        assert_eq!(read.transitions, model.transitions);
        assert_eq!(read.header, model.header);
        assert!(SpanModel::from_bytes(&bytes[..bytes.len() - 1]).is_err());
        assert!(SpanModel::from_bytes(b"not a model").is_err());
    }

    #[test]
    fn folding_the_outside_weight_keeps_the_differences() {
        // Row 0 only: B − O and I − O of each channel survive quantisation.
        let mut weights = vec![0f32; (1usize << 8) * ROW];
        weights[..ROW].copy_from_slice(&[1.0, 3.0, -2.0, 0.5, 0.5, 4.5, -1.0, 0.0, 1.0]);
        let model = SpanModel::from_weights(8, &weights, &[0.0; 3 * TRANSITIONS], "test".into());
        let features = features::TokenFeatures {
            rows: vec![0],
            offsets: vec![0, 1],
        };
        let emissions = model.emissions(&features);
        let expected = [0.0, 2.0, -3.0, 0.0, 0.0, 4.0, 0.0, 1.0, 2.0];
        for (got, want) in emissions.iter().zip(expected) {
            assert!((got - want).abs() < 1e-3, "{emissions:?}");
        }
    }

    fn layers_of(text: &str) -> (crate::document::Document, Vec<features::Proposal>) {
        let rules = Pipeline::new(PipelineConfig {
            spans: SpanChoice::Rules,
            ..PipelineConfig::default()
        })
        .unwrap();
        let document = rules.analyse("test", text);
        let found = proposals(&document);
        (document, found)
    }

    #[test]
    fn feature_hashing_is_deterministic() {
        let text = "“We are close,” Secretary Kerry said on Friday. Lavrov, however, told reporters that talks would go on.";
        let (document, found) = layers_of(text);
        let cues = crate::cue::CueModel::shipped().ok();
        let first = features::token_features(&layers(&document, &found, cues), 16);
        // Another document in between changes nothing: there is no state across documents.
        let (other, other_found) = layers_of("Officials said nothing.");
        let _ = features::token_features(&layers(&other, &other_found, cues), 16);
        let second = features::token_features(&layers(&document, &found, cues), 16);
        assert_eq!(first, second);
        assert_eq!(first.len(), document.segmented.tokens.len());
        assert!(first.rows.iter().all(|&row| row < 1 << 16));
        // The same word in the same context hashes the same in another document.
        let (again, again_found) = layers_of(text);
        assert_eq!(
            first,
            features::token_features(&layers(&again, &again_found, cues), 16)
        );
    }

    #[test]
    fn hostile_text_is_tagged_in_one_pass() {
        let model = SpanModel::shipped().unwrap();
        let cues = crate::cue::CueModel::shipped().ok();
        for text in [
            "said ".repeat(20_000),
            "“".repeat(5_000) + &"said he ".repeat(5_000),
            "he said that ".repeat(8_000),
            "x".repeat(100_000),
            "“".to_string() + &"word ".repeat(30_000) + "”",
        ] {
            let (document, found) = layers_of(&text);
            let features =
                features::token_features(&layers(&document, &found, cues), model.table_bits());
            let spans = model.tag(&features, &document.segmented);
            assert!(spans
                .iter()
                .all(|span| span.tokens.end <= document.segmented.tokens.len()));
        }
    }
    /// A document of several feature blocks, with sentences, quotes and attributions across
    /// their edges.
    fn long_document() -> (crate::document::Document, Vec<features::Proposal>) {
        let text = "“We are close,” Secretary Kerry said on Friday. Lavrov told reporters that \
                    talks would go on, calling them “a first step”. "
            .repeat(300);
        let (document, found) = layers_of(&text);
        assert!(document.segmented.tokens.len() > 3 * 2048);
        (document, found)
    }

    /// A model of random weights in a table of `2^table_bits` rows.
    fn random_model(table_bits: u32, seed: u64) -> SpanModel {
        let mut random = numbers(seed);
        let weights: Vec<f32> = (0..(1usize << table_bits) * ROW)
            .map(|_| random())
            .collect();
        let transitions: Vec<f32> = (0..3 * TRANSITIONS).map(|_| random()).collect();
        SpanModel::from_weights(table_bits, &weights, &transitions, "random".into())
    }

    #[test]
    fn emissions_read_through_the_fixed_size_table_equal_those_read_row_by_row() {
        let model = SpanModel::shipped().unwrap().first_pass();
        assert_eq!(
            model.table.len(),
            1 << 16,
            "the shipped table takes the fixed path"
        );
        let (document, found) = long_document();
        let layers = layers(&document, &found, crate::cue::CueModel::shipped().ok());
        let features = features::token_features(&layers, model.table_bits());
        let fixed = model.emissions(&features);
        let mut by_rows = vec![0f32; fixed.len()];
        model.sum_rows(&features, &mut by_rows, |row| model.table.get(row as usize));
        assert_eq!(fixed, by_rows);
        assert!(fixed.iter().any(|&score| score != 0.0));
    }

    #[test]
    fn a_stacked_tagger_reads_back_what_it_wrote_and_tags_by_blocks_as_in_one_piece() {
        let first = SpanModel::shipped().unwrap().first_pass();
        let stacked = first
            .clone()
            .with_second_pass(random_model(first.table_bits(), 11))
            .unwrap();
        assert!(first
            .clone()
            .with_second_pass(random_model(first.table_bits() - 1, 11))
            .is_err());
        let read = SpanModel::from_bytes(&stacked.to_bytes()).unwrap();
        let second = read.second_pass().expect("the second pass is read back");
        assert_eq!(second.table, stacked.second_pass().unwrap().table);
        assert_eq!(read.first_pass().table, first.table);
        let bytes = stacked.to_bytes();
        assert!(SpanModel::from_bytes(&bytes[..bytes.len() - 1]).is_err());
        let three_passes = [bytes.as_slice(), &first.to_bytes()].concat();
        assert!(SpanModel::from_bytes(&three_passes).is_err());

        let (document, found) = long_document();
        let layers = layers(&document, &found, crate::cue::CueModel::shipped().ok());
        let whole = features::token_features(&layers, first.table_bits());
        let spans = stacked.tag_layers(&layers);
        assert_eq!(spans, stacked.tag(&whole, &document.segmented));
        // The second pass's spans are the tagger's, not the first pass's.
        assert_ne!(spans, first.tag_layers(&layers));
        assert!(spans
            .iter()
            .all(|span| span.tokens.end <= document.segmented.tokens.len()));
    }

    proptest::proptest! {
        /// A model file is input (`--span-model`): a damaged one is an error, never a panic.
        #[test]
        fn a_damaged_stacked_model_file_is_an_error_or_a_model(
            cut in 0usize..12_000,
            flips in proptest::collection::vec((0usize..12_000, 0u8..=255), 0..6),
        ) {
            let model = random_model(8, 3).with_second_pass(random_model(8, 4)).unwrap();
            let mut bytes = model.to_bytes();
            for (at, byte) in flips {
                let at = at % bytes.len();
                bytes[at] = byte;
            }
            bytes.truncate(cut.min(bytes.len()));
            if let Ok(read) = SpanModel::from_bytes(&bytes) {
                let same_table = read
                    .second_pass()
                    .is_none_or(|second| second.table_bits() == read.table_bits());
                proptest::prop_assert!(same_table);
            }
        }

        #[test]
        fn a_damaged_joint_model_file_is_an_error_or_a_model_that_decodes(
            cut in 0usize..12_000,
            flips in proptest::collection::vec((0usize..12_000, 0u8..=255), 0..6),
        ) {
            let joint = |labels: LabelSet, seed: u64| {
                let mut random = numbers(seed);
                let weights: Vec<f32> = (0..(1usize << 8) * ROW)
                    .map(|slot| if slot % 7 == 0 { random() } else { 0.0 })
                    .collect();
                let transitions: Vec<f32> = (0..labels.transitions()).map(|_| random()).collect();
                SpanModel::from_weights_of(labels, 8, &weights, &transitions, "joint".into())
            };
            let model = joint(LabelSet::Joint, 5)
                .with_second_pass(joint(LabelSet::ContentApart, 6))
                .unwrap();
            let mut bytes = model.to_bytes();
            for (at, byte) in flips {
                let at = at % bytes.len();
                bytes[at] = byte;
            }
            bytes.truncate(cut.min(bytes.len()));
            if let Ok(read) = SpanModel::from_bytes(&bytes) {
                let mut random = numbers(9);
                let emissions: Vec<f32> = (0..40 * ROW).map(|_| random()).collect();
                for pass in std::iter::once(&read).chain(read.second_pass()) {
                    let tags = pass.decode_channels(&emissions, &[0..25, 25..40]);
                    proptest::prop_assert!(tags.iter().all(|channel| channel.len() == 40));
                }
            }
        }
    }

    #[test]
    fn a_long_document_is_tagged_block_by_block_as_in_one_piece() {
        let model = SpanModel::shipped().unwrap();
        let (document, found) = long_document();
        let layers = layers(&document, &found, crate::cue::CueModel::shipped().ok());
        let whole = features::token_features(&layers, model.table_bits());
        assert_eq!(model.emissions_of(&layers), model.emissions(&whole));
        let spans = model.tag_layers(&layers);
        assert!(spans.len() > 200);
        assert_eq!(spans, model.tag(&whole, &document.segmented));
    }

    /// The tagger's buffers are kept by each thread between documents: a short document tagged
    /// after a long one on the same thread is tagged as on a fresh thread.
    #[test]
    fn a_document_tagged_after_a_longer_one_is_tagged_as_on_a_fresh_thread() {
        let model = SpanModel::shipped().unwrap();
        let cues = crate::cue::CueModel::shipped().ok();
        let short_text = "Lavrov said the talks were over. “We tried,” he said.";
        let fresh = std::thread::spawn(move || {
            let (document, found) = layers_of(short_text);
            let cues = crate::cue::CueModel::shipped().ok();
            SpanModel::shipped()
                .unwrap()
                .tag_layers(&layers(&document, &found, cues))
        })
        .join()
        .unwrap();
        assert!(!fresh.is_empty());
        let (long, long_found) = long_document();
        let long_spans = model.tag_layers(&layers(&long, &long_found, cues));
        assert!(long_spans.len() > fresh.len());
        let (short, short_found) = layers_of(short_text);
        let after_long = model.tag_layers(&layers(&short, &short_found, cues));
        assert_eq!(after_long, fresh);
    }
}
