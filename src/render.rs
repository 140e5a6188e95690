//! Rendering: a record and its text as one self-contained HTML page, and an index page for a
//! corpus. Pure functions from records to strings; writing files is [`crate::pages`]' job.
//!
//! Every piece of input (text, ids, names, titles) is escaped, and each page carries a
//! Content-Security-Policy that allows only the page's own script and style (by hash) and no
//! network at all, so that even a mistake in escaping could not run script from an article or
//! fetch anything: the pages work offline and show hostile input as inert text.
//!
//! Quotes, cues and speaker mentions can nest or cross (a mention inside another speaker's
//! quote, a quote inside a quote). [`nest`] cuts the text at every span boundary and closes and
//! reopens elements so that the markup always nests; a span cut in pieces keeps its data
//! attributes on every piece, and only the first piece carries its `id`.

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::sync::OnceLock;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::html::{escape_html, json_for_script, push_escaped};
use crate::offsets::byte_offsets;
use crate::record::{DocumentRecord, EntityRecord, QuoteKind, QuoteRecord, SpanRecord};
use crate::stance::StanceLabel;

/// Attributions whose confidence is below this are drawn as uncertain (dashed outline and a
/// "?"): the confidence is calibrated, so below one half the attribution is more likely wrong
/// than right.
pub const UNCERTAIN_BELOW: f64 = 0.5;

/// How pages are drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RenderOptions {
    /// Attributions with a confidence below this are marked uncertain.
    pub uncertain_below: f64,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            uncertain_below: UNCERTAIN_BELOW,
        }
    }
}

/// What an article's page shows in the corpus index.
#[derive(Debug, Clone, PartialEq)]
pub struct PageSummary {
    pub id: String,
    /// The page's file name, relative to the index.
    pub file: String,
    pub quotes: usize,
    pub speakers: Vec<SpeakerSummary>,
    pub error: Option<String>,
}

/// One speaker of one article.
#[derive(Debug, Clone, PartialEq)]
pub struct SpeakerSummary {
    pub name: String,
    pub title: Option<String>,
    pub quotes: usize,
}

/// Light backgrounds with a darker edge of the same hue; neighbours differ most, since the first
/// slots go to a page's main speakers. Past twelve speakers colours repeat.
const PALETTE: [(&str, &str); 12] = [
    ("#c6e3ff", "#2f6fb8"),
    ("#ffd6a5", "#c06a00"),
    ("#cdeccd", "#2f8a2f"),
    ("#ffd0d6", "#c23a55"),
    ("#e3d5ff", "#6d45c4"),
    ("#c8f0ec", "#1d8579"),
    ("#f6d0f0", "#a33597"),
    ("#e9ecb8", "#7c8412"),
    ("#f0dcc8", "#8c5a2b"),
    ("#d4dcf0", "#41558f"),
    ("#d9f2c2", "#4f8a1c"),
    ("#fde68a", "#9a7400"),
];

/// A speaker's colour: a palette slot, or the grey of quotes with no speaker. Shown as the CSS
/// class that sets `--bg` and `--bd`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Colour {
    Palette(usize),
    Unattributed,
}

impl std::fmt::Display for Colour {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Colour::Palette(slot) => write!(formatter, "c{}", slot % PALETTE.len()),
            Colour::Unattributed => formatter.write_str("cu"),
        }
    }
}

// The page's script and the base of its style live in files of their own, so that they can be
// read and checked as JavaScript and CSS; the page's policy pins them by hash as they are.
const PAGE_SCRIPT: &str = include_str!("render/page.js");
const BASE_STYLE: &str = include_str!("render/page.css");

/// The page style: the base rules and one class per palette colour.
fn style() -> &'static str {
    static STYLE: OnceLock<String> = OnceLock::new();
    STYLE.get_or_init(|| {
        let mut style = BASE_STYLE.to_string();
        for (index, (background, border)) in PALETTE.iter().enumerate() {
            let colour = Colour::Palette(index);
            let _ = writeln!(style, ".{colour} {{ --bg: {background}; --bd: {border}; }}");
        }
        let _ = writeln!(
            style,
            ".{} {{ --bg: #e6e6e6; --bd: #7a7a7a; }}",
            Colour::Unattributed
        );
        style
    })
}

/// The policy of every page: nothing from the network, and no script or style but the page's
/// own (pinned by hash, so markup smuggled in from the input could not run).
fn content_security_policy() -> &'static str {
    static POLICY: OnceLock<String> = OnceLock::new();
    POLICY.get_or_init(|| {
        format!(
            "default-src 'none'; script-src '{}'; style-src '{}'; img-src 'none'; base-uri 'none'; form-action 'none'",
            csp_hash(PAGE_SCRIPT),
            csp_hash(style())
        )
    })
}

fn csp_hash(source: &str) -> String {
    format!(
        "sha256-{}",
        STANDARD.encode(Sha256::digest(source.as_bytes()))
    )
}

/// A file name for a document's page: ids may hold slashes, dots or anything else, so only
/// ASCII letters, digits, `-` and `_` are kept, and the name can never be `index.html` nor
/// climb out of the output folder. Two ids can give the same name; the writer tells them apart.
pub fn page_file_name(id: &str) -> String {
    let mut stem: String = id
        .chars()
        .map(|character| match character {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' => character,
            _ => '_',
        })
        .take(100)
        .collect();
    if stem.is_empty() || stem.eq_ignore_ascii_case("index") {
        stem.insert_str(0, "doc_");
    }
    stem + ".html"
}

/// A span to mark, in byte offsets. Of spans with the same ends, the one of lower `rank` is
/// the outer element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSpan {
    pub start: usize,
    pub end: usize,
    pub rank: u8,
}

/// One step of nested markup: an element opens or closes, or text runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event<'t> {
    /// Span `span` (an index into the spans given) opens; `first` when this is its start
    /// rather than a piece reopened after a crossing span closed.
    Open {
        span: usize,
        first: bool,
    },
    /// Span `span` closes; `last` when this is its end.
    Close {
        span: usize,
        last: bool,
    },
    Text(&'t str),
}

/// Cuts `text` at every boundary of `spans` and says which elements open and close where, so
/// that any set of spans (nested, touching, crossing, equal) gives properly nested markup. Outer
/// spans (earlier start, then later end, then lower rank) are kept outside; a span that crosses
/// the end of an outer one is closed there and reopened after it. Empty spans, spans past the
/// end of the text and spans off character boundaries are left out: they mark nothing.
pub fn nest<'t>(text: &'t str, spans: &[ByteSpan]) -> Vec<Event<'t>> {
    let mut order: Vec<usize> = (0..spans.len())
        .filter(|&index| {
            let span = spans[index];
            span.start < span.end
                && span.end <= text.len()
                && text.is_char_boundary(span.start)
                && text.is_char_boundary(span.end)
        })
        .collect();
    order.sort_by_key(|&index| {
        let span = spans[index];
        (span.start, Reverse(span.end), span.rank, index)
    });
    let mut cuts: Vec<usize> = vec![0, text.len()];
    for &index in &order {
        cuts.push(spans[index].start);
        cuts.push(spans[index].end);
    }
    cuts.sort_unstable();
    cuts.dedup();
    let mut by_end: Vec<usize> = (0..order.len()).collect();
    by_end.sort_by_key(|&position| spans[order[position]].end);

    let mut events = Vec::new();
    // Positions in `order`; ascending position is outermost first.
    let mut active: BTreeSet<usize> = BTreeSet::new();
    let mut stack: Vec<usize> = Vec::new();
    let (mut next_start, mut next_end) = (0, 0);
    for window in cuts.windows(2) {
        let (from, to) = (window[0], window[1]);
        while next_end < by_end.len() && spans[order[by_end[next_end]]].end <= from {
            active.remove(&by_end[next_end]);
            next_end += 1;
        }
        while next_start < order.len() && spans[order[next_start]].start <= from {
            active.insert(next_start);
            next_start += 1;
        }
        let common = stack
            .iter()
            .zip(&active)
            .take_while(|(open, wanted)| open == wanted)
            .count();
        while stack.len() > common {
            let Some(position) = stack.pop() else { break };
            let span = order[position];
            events.push(Event::Close {
                span,
                last: spans[span].end <= from,
            });
        }
        for &position in active.iter().skip(common) {
            let span = order[position];
            events.push(Event::Open {
                span,
                first: spans[span].start == from,
            });
            stack.push(position);
        }
        events.push(Event::Text(&text[from..to]));
    }
    while let Some(position) = stack.pop() {
        events.push(Event::Close {
            span: order[position],
            last: true,
        });
    }
    events
}

/// What a marked span stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    Quote(usize),
    Mention(usize),
    Cue(usize),
}

impl Mark {
    /// Quotes outside, then speaker mentions, then cues, where spans coincide.
    fn rank(self) -> u8 {
        match self {
            Mark::Quote(_) => 0,
            Mark::Mention(_) => 1,
            Mark::Cue(_) => 2,
        }
    }
}

/// A speaker of one page: an entity, or the group of quotes with no speaker.
#[derive(Debug, Clone)]
struct Speaker<'r> {
    /// The entity id; `None` for the quotes with no speaker.
    entity: Option<&'r str>,
    name: &'r str,
    title: Option<&'r str>,
    colour: Colour,
    quotes: Vec<usize>,
}

/// A span that one or more quotes share (a cue, a speaker mention).
#[derive(Debug, Clone)]
struct Shared {
    start: usize,
    end: usize,
    quotes: Vec<usize>,
}

/// Everything a page needs, worked out once from the record.
struct Layout<'r> {
    record: &'r DocumentRecord,
    speakers: Vec<Speaker<'r>>,
    /// For each quote, its speaker's index in `speakers`.
    speaker_of: Vec<usize>,
    /// For each quote, its mention's index in `mentions`.
    mention_of: Vec<Option<usize>>,
    mentions: Vec<Shared>,
    cues: Vec<Shared>,
    uncertain: Vec<bool>,
}

fn shared_index(shared: &mut Vec<Shared>, span: &SpanRecord, quote: usize) -> usize {
    if let Some(index) = shared
        .iter()
        .position(|item| item.start == span.start && item.end == span.end)
    {
        shared[index].quotes.push(quote);
        return index;
    }
    shared.push(Shared {
        start: span.start,
        end: span.end,
        quotes: vec![quote],
    });
    shared.len() - 1
}

impl<'r> Layout<'r> {
    fn new(record: &'r DocumentRecord, options: &RenderOptions) -> Self {
        let entities: HashMap<&str, &EntityRecord> = record
            .entities
            .iter()
            .map(|entity| (entity.id.as_str(), entity))
            .collect();
        let mut speakers: Vec<Speaker> = Vec::new();
        let mut speaker_of = Vec::with_capacity(record.quotes.len());
        let mut mention_of = Vec::with_capacity(record.quotes.len());
        let (mut mentions, mut cues) = (Vec::new(), Vec::new());
        for (index, quote) in record.quotes.iter().enumerate() {
            let entity = quote
                .speaker
                .as_ref()
                .map(|speaker| speaker.entity.as_str());
            let position = match speakers.iter().position(|known| known.entity == entity) {
                Some(position) => position,
                None => {
                    let (name, title) = match &quote.speaker {
                        Some(speaker) => (
                            speaker.name.as_str(),
                            entities
                                .get(speaker.entity.as_str())
                                .and_then(|entity| entity.title.as_deref()),
                        ),
                        None => ("No speaker found", None),
                    };
                    speakers.push(Speaker {
                        entity,
                        name,
                        title,
                        colour: Colour::Unattributed,
                        quotes: Vec::new(),
                    });
                    speakers.len() - 1
                }
            };
            speakers[position].quotes.push(index);
            speaker_of.push(position);
            let mention = quote
                .speaker
                .as_ref()
                .and_then(|speaker| speaker.mention.as_ref());
            mention_of.push(mention.map(|mention| shared_index(&mut mentions, mention, index)));
            if let Some(cue) = &quote.cue {
                shared_index(&mut cues, cue, index);
            }
        }
        // Colours go down the palette in the panel's order, most quoted first, so that the
        // main speakers of a page get the most distinct colours; the same record always gets
        // the same colours.
        let mut order: Vec<usize> = (0..speakers.len()).collect();
        order.sort_by_key(|&index| panel_key(&speakers[index], index));
        for (slot, index) in order.into_iter().enumerate() {
            let speaker = &mut speakers[index];
            speaker.colour = match speaker.entity {
                Some(_) => Colour::Palette(slot),
                None => Colour::Unattributed,
            };
        }
        let uncertain = record
            .quotes
            .iter()
            // A record built in code could hold NaN, which says nothing for the attribution.
            .map(|quote| quote.confidence.is_nan() || quote.confidence < options.uncertain_below)
            .collect();
        Layout {
            record,
            speakers,
            speaker_of,
            mention_of,
            mentions,
            cues,
            uncertain,
        }
    }

    fn speaker(&self, quote: usize) -> &Speaker<'r> {
        &self.speakers[self.speaker_of[quote]]
    }

    /// The data attributes that tie a marked element to its speaker.
    fn push_speaker_attributes(&self, out: &mut String, speaker: &Speaker) {
        out.push_str(" data-group=\"");
        push_escaped(out, speaker.entity.unwrap_or(""));
        out.push_str("\" data-speaker=\"");
        if speaker.entity.is_some() {
            push_escaped(out, speaker.name);
        }
        out.push('"');
        if let Some(entity) = speaker.entity {
            out.push_str(" data-entity=\"");
            push_escaped(out, entity);
            out.push('"');
        }
    }

    fn open(&self, out: &mut String, mark: Mark, first: bool) {
        match mark {
            Mark::Quote(index) => {
                let quote = &self.record.quotes[index];
                let speaker = self.speaker(index);
                let _ = write!(
                    out,
                    "<span class=\"quote {} {}{}{}\" data-quote=\"{index}\" data-type=\"{}\" data-confidence=\"{:.2}\" data-stance=\"{}\" data-tip=\"tip-q{index}\"",
                    speaker.colour,
                    kind_name(quote.kind),
                    if self.uncertain[index] { " uncertain" } else { "" },
                    if first { " first" } else { " cont" },
                    kind_name(quote.kind),
                    quote.confidence,
                    quote.stance.map_or("none", |stance| stance_name(stance.label)),
                );
                self.push_speaker_attributes(out, speaker);
                if let Some(mention) = self.mention_of[index] {
                    let _ = write!(out, " data-goto=\"m{mention}\"");
                }
                if first {
                    let _ = write!(
                        out,
                        " id=\"q{index}\" tabindex=\"0\" aria-describedby=\"tip-q{index}\""
                    );
                }
                out.push('>');
            }
            Mark::Mention(index) => {
                let mention = &self.mentions[index];
                let speaker = self.speaker(mention.quotes[0]);
                let _ = write!(
                    out,
                    "<span class=\"mention {}{}\" data-mention=\"{index}\" data-quotes=\"{}\" data-tip=\"tip-m{index}\" data-goto=\"q{}\"",
                    speaker.colour,
                    if first { " first" } else { " cont" },
                    join_numbers(&mention.quotes),
                    mention.quotes[0],
                );
                self.push_speaker_attributes(out, speaker);
                if first {
                    let _ = write!(
                        out,
                        " id=\"m{index}\" tabindex=\"0\" role=\"link\" aria-describedby=\"tip-m{index}\""
                    );
                }
                out.push('>');
            }
            Mark::Cue(index) => {
                let cue = &self.cues[index];
                let speaker = self.speaker(cue.quotes[0]);
                let _ = write!(
                    out,
                    "<span class=\"cue {}\" data-cue=\"{index}\" data-quotes=\"{}\"",
                    speaker.colour,
                    join_numbers(&cue.quotes),
                );
                self.push_speaker_attributes(out, speaker);
                out.push('>');
            }
        }
    }

    /// The article text with its marks.
    fn push_text(&self, out: &mut String, text: &str) {
        let mut marks = Vec::new();
        let mut char_offsets = Vec::new();
        let mut add = |mark: Mark, start: usize, end: usize| {
            marks.push(mark);
            char_offsets.push(start);
            char_offsets.push(end);
        };
        // An interrupted quote is marked piece by piece, so that the attribution between its
        // pieces ("Kerry said") reads as cue and mention, not as quoted words.
        let mut quote_of_mark = Vec::new();
        for (index, quote) in self.record.quotes.iter().enumerate() {
            if quote.pieces.is_empty() {
                add(Mark::Quote(index), quote.content.start, quote.content.end);
                quote_of_mark.push(index);
            }
            for piece in &quote.pieces {
                add(Mark::Quote(index), piece.start, piece.end);
                quote_of_mark.push(index);
            }
        }
        for (index, mention) in self.mentions.iter().enumerate() {
            add(Mark::Mention(index), mention.start, mention.end);
        }
        for (index, cue) in self.cues.iter().enumerate() {
            add(Mark::Cue(index), cue.start, cue.end);
        }
        let bytes = byte_offsets(text, &char_offsets);
        let spans: Vec<ByteSpan> = marks
            .iter()
            .zip(bytes.chunks(2))
            .map(|(mark, ends)| ByteSpan {
                start: ends[0],
                end: ends[1],
                rank: mark.rank(),
            })
            .collect();
        // The first element of a quote's first piece carries its id; the "?" of an uncertain
        // quote follows its last piece.
        let mut opened = vec![false; self.record.quotes.len()];
        let mut last_mark_of_quote = vec![usize::MAX; self.record.quotes.len()];
        for (mark, &quote) in quote_of_mark.iter().enumerate() {
            last_mark_of_quote[quote] = mark;
        }
        for event in nest(text, &spans) {
            match event {
                Event::Open { span, first } => {
                    let first = match marks[span] {
                        Mark::Quote(index) => first && !std::mem::replace(&mut opened[index], true),
                        _ => first,
                    };
                    self.open(out, marks[span], first)
                }
                Event::Close { span, last } => {
                    out.push_str("</span>");
                    let last = match marks[span] {
                        Mark::Quote(index) => last && last_mark_of_quote[index] == span,
                        _ => last,
                    };
                    if let (true, Mark::Quote(index)) = (last, marks[span]) {
                        if self.uncertain[index] {
                            // An empty element whose "?" is CSS content, so the page's text
                            // stays exactly the article's.
                            let _ = write!(
                                out,
                                "<span class=\"unc\" data-uncertain=\"{index}\" data-group=\"{}\" aria-hidden=\"true\"></span>",
                                escape_html(self.speaker(index).entity.unwrap_or(""))
                            );
                        }
                    }
                }
                Event::Text(piece) => push_escaped(out, piece),
            }
        }
    }

    /// The hidden descriptions that tooltips and screen readers read.
    fn push_descriptions(&self, out: &mut String, options: &RenderOptions) {
        out.push_str("<div id=\"descriptions\" hidden>\n");
        for (index, quote) in self.record.quotes.iter().enumerate() {
            let speaker = self.speaker(index);
            let _ = write!(
                out,
                "<div id=\"tip-q{index}\"><p><strong>{} quote</strong> · ",
                capitalised(kind_name(quote.kind))
            );
            match speaker.entity {
                Some(_) => {
                    push_escaped(out, speaker.name);
                    if let Some(title) = speaker.title {
                        out.push_str(" (");
                        push_escaped(out, title);
                        out.push(')');
                    }
                }
                None => out.push_str("no speaker found"),
            }
            out.push_str("</p><p>");
            if let Some(cue) = &quote.cue {
                out.push_str("Cue: “");
                push_escaped(out, &cue.text);
                out.push_str("” · ");
            }
            let _ = write!(out, "Confidence {:.2}", quote.confidence);
            if self.uncertain[index] {
                let _ = write!(
                    out,
                    " <span class=\"tip-uncertain\">? uncertain (below {:.2})</span>",
                    options.uncertain_below
                );
            }
            out.push_str("</p><p>");
            match quote.stance {
                Some(stance) => {
                    let _ = write!(
                        out,
                        "Stance: {} ({:.2})",
                        stance_name(stance.label),
                        stance.confidence
                    );
                }
                None => out.push_str("Stance: not computed (lean build, --fast or --no-stance)"),
            }
            out.push_str("</p>");
            self.push_targets(out, quote);
            out.push_str("</div>\n");
        }
        for (index, mention) in self.mentions.iter().enumerate() {
            let speaker = self.speaker(mention.quotes[0]);
            let _ = write!(out, "<div id=\"tip-m{index}\"><p><strong>");
            push_escaped(out, speaker.name);
            let count = mention.quotes.len();
            let _ = writeln!(
                out,
                "</strong>: speaker of {count} quote{} here; Enter or click goes to {}</p></div>",
                if count == 1 { "" } else { "s" },
                if count == 1 { "it" } else { "the first" }
            );
        }
        out.push_str("</div>\n");
    }

    fn push_targets(&self, out: &mut String, quote: &QuoteRecord) {
        let Some(targets) = quote.targets.as_ref().filter(|targets| !targets.is_empty()) else {
            return;
        };
        out.push_str("<p>Toward: ");
        for (number, target) in targets.iter().enumerate() {
            if number > 0 {
                out.push_str("; ");
            }
            let name = self
                .record
                .entities
                .iter()
                .find(|entity| entity.id == target.entity)
                .map_or(target.mention.text.as_str(), |entity| entity.name.as_str());
            push_escaped(out, name);
            let _ = write!(
                out,
                " {} ({:.2})",
                stance_name(target.label),
                target.confidence
            );
        }
        out.push_str("</p>");
    }

    /// The side panel: speakers, most quoted first, each with its quotes.
    fn push_panel(&self, out: &mut String) {
        out.push_str("<aside class=\"panel\" aria-label=\"Speakers\">\n<h2>Speakers</h2>\n");
        let _ = writeln!(
            out,
            "<p id=\"filter-status\" aria-live=\"polite\">{} quote{} by {} speaker{}; choose a speaker to show only their quotes.</p>",
            self.record.quotes.len(),
            if self.record.quotes.len() == 1 { "" } else { "s" },
            self.speakers.iter().filter(|speaker| speaker.entity.is_some()).count(),
            if self.speakers.iter().filter(|speaker| speaker.entity.is_some()).count() == 1 { "" } else { "s" },
        );
        out.push_str(
            "<button type=\"button\" id=\"clear-filter\" disabled>Show all speakers</button>\n",
        );
        let mut order: Vec<usize> = (0..self.speakers.len()).collect();
        order.sort_by_key(|&index| panel_key(&self.speakers[index], index));
        out.push_str("<ul class=\"speakers\">\n");
        for index in order {
            let speaker = &self.speakers[index];
            out.push_str("<li class=\"speaker\" data-group=\"");
            push_escaped(out, speaker.entity.unwrap_or(""));
            let _ = write!(
                out,
                "\"><button type=\"button\" class=\"speaker-filter {}\" aria-pressed=\"false\"",
                speaker.colour
            );
            self.push_speaker_attributes(out, speaker);
            out.push_str("><span class=\"swatch\"></span><span class=\"name\">");
            push_escaped(out, speaker.name);
            let count = speaker.quotes.len();
            let _ = write!(
                out,
                "</span><span class=\"count\">{count} quote{}</span></button>",
                if count == 1 { "" } else { "s" }
            );
            if let Some(title) = speaker.title {
                out.push_str("<div class=\"role\">");
                push_escaped(out, title);
                out.push_str("</div>");
            }
            out.push_str("<ol>");
            for &quote_index in &speaker.quotes {
                let quote = &self.record.quotes[quote_index];
                let _ = write!(
                    out,
                    "<li><a href=\"#q{quote_index}\" data-quote-link=\"{quote_index}\">"
                );
                push_escaped(out, &shortened(&quote.content.text, 140));
                let _ = write!(
                    out,
                    "</a> <span class=\"meta\">{} · {:.2}{}{}</span></li>",
                    kind_name(quote.kind),
                    quote.confidence,
                    if self.uncertain[quote_index] {
                        " · uncertain"
                    } else {
                        ""
                    },
                    quote.stance.map_or(String::new(), |stance| format!(
                        " · {}",
                        stance_name(stance.label)
                    )),
                );
            }
            out.push_str("</ol></li>\n");
        }
        out.push_str("</ul>\n</aside>\n");
    }
}

/// The panel's order: most quoted first, then first quoted first; the quotes with no speaker
/// last.
fn panel_key(speaker: &Speaker, index: usize) -> (bool, Reverse<usize>, usize) {
    (
        speaker.entity.is_none(),
        Reverse(speaker.quotes.len()),
        index,
    )
}

fn kind_name(kind: QuoteKind) -> &'static str {
    match kind {
        QuoteKind::Direct => "direct",
        QuoteKind::Mixed => "mixed",
        QuoteKind::Indirect => "indirect",
    }
}

fn stance_name(label: StanceLabel) -> &'static str {
    match label {
        StanceLabel::Negative => "negative",
        StanceLabel::Neutral => "neutral",
        StanceLabel::Positive => "positive",
    }
}

fn capitalised(word: &str) -> String {
    let mut characters = word.chars();
    match characters.next() {
        Some(first) => first.to_uppercase().chain(characters).collect(),
        None => String::new(),
    }
}

fn join_numbers(numbers: &[usize]) -> String {
    numbers
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// At most `limit` characters of `text`, with an ellipsis when cut.
fn shortened(text: &str, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

fn push_head(out: &mut String, title: &str) {
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"");
    push_escaped(out, content_security_policy());
    out.push_str("\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<meta name=\"generator\" content=\"whosaid\">\n<title>");
    push_escaped(out, title);
    out.push_str("</title>\n<style>");
    out.push_str(style());
    out.push_str("</style>\n</head>\n");
}

/// The page of one document: its text with every quote, cue and speaker mention marked, and a
/// panel of its speakers. `text` is the document's original text (`None` when it could not be
/// read); `index` is the corpus index's address, for a link back to it.
pub fn render_page(
    record: &DocumentRecord,
    text: Option<&str>,
    options: &RenderOptions,
    index: Option<&str>,
) -> String {
    let layout = Layout::new(record, options);
    let mut out = String::with_capacity(text.map_or(0, str::len) * 3 + 16_384);
    push_head(&mut out, &format!("whosaid: {}", record.id));
    out.push_str("<body>\n<header>\n");
    if let Some(index) = index {
        out.push_str("<p><a href=\"");
        push_escaped(&mut out, index);
        out.push_str("\">← All articles</a></p>\n");
    }
    out.push_str("<h1>");
    push_escaped(&mut out, &record.id);
    out.push_str("</h1>\n");
    let _ = writeln!(
        out,
        "<p class=\"legend\">Quotes are highlighted in their speaker’s colour, cues underlined, speaker mentions in bold. A dashed outline and “?” mark an uncertain attribution (confidence below {:.2}). Hover or focus a quote for its type, confidence and stance; Enter or click follows quote ↔ speaker.</p>",
        options.uncertain_below
    );
    if !record.quotes.is_empty() && record.quotes.iter().all(|quote| quote.stance.is_none()) {
        out.push_str("<p class=\"legend\">Stance was not computed for this document (lean build, --fast or --no-stance).</p>\n");
    }
    out.push_str("</header>\n<main>\n");
    if let Some(error) = &record.error {
        out.push_str("<div class=\"error\" role=\"alert\"><strong>This document could not be analysed</strong>: ");
        push_escaped(&mut out, &error.message);
        out.push_str("</div>\n");
    }
    match text {
        Some(text) => {
            out.push_str("<div class=\"text\" id=\"article-text\">");
            layout.push_text(&mut out, text);
            out.push_str("</div>\n");
        }
        None => out.push_str("<div class=\"text\" id=\"article-text\">(no text)</div>\n"),
    }
    layout.push_panel(&mut out);
    out.push_str("</main>\n<div id=\"tooltip\" role=\"tooltip\" hidden></div>\n");
    layout.push_descriptions(&mut out, options);
    out.push_str("<script type=\"application/json\" id=\"whosaid-record\">");
    out.push_str(&json_for_script(record));
    out.push_str("</script>\n<script>");
    out.push_str(PAGE_SCRIPT);
    out.push_str("</script>\n</body>\n</html>\n");
    out
}

/// What the index says about one document's page.
pub fn summarise(record: &DocumentRecord, file: &str) -> PageSummary {
    let layout = Layout::new(record, &RenderOptions::default());
    PageSummary {
        id: record.id.clone(),
        file: file.to_string(),
        quotes: record.quotes.len(),
        speakers: layout
            .speakers
            .iter()
            .filter(|speaker| speaker.entity.is_some())
            .map(|speaker| SpeakerSummary {
                name: speaker.name.to_string(),
                title: speaker.title.map(str::to_string),
                quotes: speaker.quotes.len(),
            })
            .collect(),
        error: record.error.as_ref().map(|error| error.message.clone()),
    }
}

/// A speaker across the corpus.
struct CorpusSpeaker<'p> {
    name: &'p str,
    titles: Vec<(&'p str, usize)>,
    quotes: usize,
    articles: usize,
}

/// The corpus index: a link to each page, and the speakers across all of them (entities are
/// per document, so speakers are matched across documents by canonical name).
pub fn render_index(pages: &[PageSummary]) -> String {
    let mut speakers: Vec<CorpusSpeaker> = Vec::new();
    let mut by_name: HashMap<&str, usize> = HashMap::new();
    for page in pages {
        for speaker in &page.speakers {
            let index = *by_name.entry(&speaker.name).or_insert_with(|| {
                speakers.push(CorpusSpeaker {
                    name: &speaker.name,
                    titles: Vec::new(),
                    quotes: 0,
                    articles: 0,
                });
                speakers.len() - 1
            });
            let entry = &mut speakers[index];
            entry.quotes += speaker.quotes;
            entry.articles += 1;
            if let Some(title) = &speaker.title {
                match entry.titles.iter_mut().find(|(seen, _)| seen == title) {
                    Some((_, count)) => *count += 1,
                    None => entry.titles.push((title, 1)),
                }
            }
        }
    }
    speakers.sort_by(|left, right| {
        (Reverse(left.quotes), Reverse(left.articles), left.name).cmp(&(
            Reverse(right.quotes),
            Reverse(right.articles),
            right.name,
        ))
    });
    let total_quotes: usize = pages.iter().map(|page| page.quotes).sum();
    let mut out = String::with_capacity(256 * pages.len() + 8192);
    push_head(&mut out, "whosaid: corpus");
    let _ = writeln!(
        out,
        "<body>\n<header>\n<h1>whosaid: {} articles</h1>\n<p>{total_quotes} quotes by {} speakers.</p>\n</header>\n<div class=\"index\">",
        pages.len(),
        speakers.len()
    );
    out.push_str("<h2>Articles</h2>\n<table id=\"articles\">\n<thead><tr><th>Article</th><th>Quotes</th><th>Speakers</th><th>Status</th></tr></thead>\n<tbody>\n");
    for page in pages {
        out.push_str("<tr><td><a class=\"article-link\" href=\"");
        push_escaped(&mut out, &page.file);
        out.push_str("\" data-id=\"");
        push_escaped(&mut out, &page.id);
        out.push_str("\">");
        push_escaped(&mut out, &page.id);
        let _ = write!(
            out,
            "</a></td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>",
            page.quotes,
            page.speakers.len()
        );
        match &page.error {
            Some(error) => {
                out.push_str("failed: ");
                push_escaped(&mut out, error);
            }
            None => out.push_str("ok"),
        }
        out.push_str("</td></tr>\n");
    }
    out.push_str("</tbody>\n</table>\n<h2>Speakers</h2>\n<table id=\"speakers\">\n<thead><tr><th>Speaker</th><th>Title</th><th>Quotes</th><th>Articles</th></tr></thead>\n<tbody>\n");
    for speaker in &speakers {
        // The most frequent title, the first seen on a tie.
        let title = speaker
            .titles
            .iter()
            .enumerate()
            .max_by_key(|(order, (_, count))| (*count, Reverse(*order)))
            .map_or("", |(_, (title, _))| *title);
        out.push_str("<tr><td class=\"speaker-name\">");
        push_escaped(&mut out, speaker.name);
        out.push_str("</td><td>");
        push_escaped(&mut out, title);
        let _ = writeln!(
            out,
            "</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            speaker.quotes, speaker.articles
        );
    }
    out.push_str("</tbody>\n</table>\n</div>\n</body>\n</html>\n");
    out
}

/// How many of a record's spans do not match `text` at their offsets: more than none means the
/// record was made from another text, and its marks will be in the wrong places.
pub fn mismatched_spans(record: &DocumentRecord, text: &str) -> usize {
    let mut spans: Vec<&SpanRecord> = Vec::new();
    for quote in &record.quotes {
        spans.push(&quote.content);
        spans.extend(&quote.cue);
        if let Some(mention) = quote
            .speaker
            .as_ref()
            .and_then(|speaker| speaker.mention.as_ref())
        {
            spans.push(mention);
        }
    }
    let offsets: Vec<usize> = spans
        .iter()
        .flat_map(|span| [span.start, span.end])
        .collect();
    let bytes = byte_offsets(text, &offsets);
    let length = text.chars().count();
    spans
        .iter()
        .zip(bytes.chunks(2))
        .filter(|(span, ends)| {
            span.start > span.end || span.end > length || text[ends[0]..ends[1]] != span.text
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{ErrorKind, ErrorRecord, SpeakerRecord};
    use proptest::prelude::*;

    fn span(start: usize, end: usize, rank: u8) -> ByteSpan {
        ByteSpan { start, end, rank }
    }

    fn open(span: usize, first: bool) -> Event<'static> {
        Event::Open { span, first }
    }

    fn close(span: usize, last: bool) -> Event<'static> {
        Event::Close { span, last }
    }

    /// Checks that the events nest, keep the text, and cover each span exactly once.
    fn assert_well_nested(text: &str, spans: &[ByteSpan], events: &[Event]) {
        let mut stack = Vec::new();
        let mut rebuilt = String::new();
        let mut covered: Vec<Vec<(usize, usize)>> = vec![Vec::new(); spans.len()];
        let (mut firsts, mut lasts) = (vec![0; spans.len()], vec![0; spans.len()]);
        for event in events {
            match *event {
                Event::Open { span, first } => {
                    assert!(!stack.contains(&span), "{span} opened twice: {events:?}");
                    stack.push(span);
                    firsts[span] += usize::from(first);
                }
                Event::Close { span, last } => {
                    assert_eq!(stack.pop(), Some(span), "{events:?}");
                    lasts[span] += usize::from(last);
                }
                Event::Text(piece) => {
                    assert!(!piece.is_empty());
                    for &open in &stack {
                        covered[open].push((rebuilt.len(), rebuilt.len() + piece.len()));
                    }
                    rebuilt.push_str(piece);
                }
            }
        }
        assert!(stack.is_empty());
        assert_eq!(rebuilt, text);
        for (index, span) in spans.iter().enumerate() {
            let marks = span.start < span.end
                && span.end <= text.len()
                && text.is_char_boundary(span.start)
                && text.is_char_boundary(span.end);
            let bytes: usize = covered[index].iter().map(|(from, to)| to - from).sum();
            if marks {
                assert_eq!(
                    covered[index].first().map(|piece| piece.0),
                    Some(span.start)
                );
                assert_eq!(covered[index].last().map(|piece| piece.1), Some(span.end));
                assert_eq!(bytes, span.end - span.start, "span {index} covered in full");
                assert_eq!((firsts[index], lasts[index]), (1, 1), "span {index}");
            } else {
                assert_eq!(bytes, 0, "span {index} is left out");
            }
        }
    }

    /// Checks that every tag outside script and style closes in order: the page is well formed
    /// whatever the spans, and no markup came through from the input.
    fn assert_balanced(html: &str) -> Vec<String> {
        const VOID: [&str; 2] = ["meta", "br"];
        let mut stack: Vec<String> = Vec::new();
        let mut tags = Vec::new();
        let mut rest = html;
        while let Some(at) = rest.find('<') {
            rest = &rest[at + 1..];
            if rest.starts_with("!DOCTYPE") {
                continue;
            }
            let end = rest.find('>').expect("every tag ends");
            let tag = &rest[..end];
            assert!(!tag.contains('<'), "a stray < inside a tag: {tag}");
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(stack.pop().as_deref(), Some(name), "at </{name}>");
                continue;
            }
            let name: String = tag
                .chars()
                .take_while(char::is_ascii_alphanumeric)
                .collect();
            tags.push(name.clone());
            if name == "script" || name == "style" {
                let closing = format!("</{name}>");
                let body_end = rest.find(&closing).expect("script and style close");
                assert!(!rest[end + 1..body_end].contains("</"), "{name} ends early");
                rest = &rest[body_end + closing.len()..];
            } else if !VOID.contains(&name.as_str()) {
                stack.push(name);
            }
        }
        assert!(stack.is_empty(), "unclosed: {stack:?}");
        tags
    }

    /// The article's text as the page holds it, tags dropped and entities read.
    fn shown_text(html: &str) -> String {
        let start = html.find("id=\"article-text\">").expect("the text") + 18;
        let mut depth = 1;
        let mut text = String::new();
        let mut rest = &html[start..];
        loop {
            let at = rest.find('<').expect("the text ends");
            text.push_str(&rest[..at]);
            rest = &rest[at..];
            let end = rest.find('>').expect("tag ends");
            if rest.starts_with("</") {
                depth -= 1;
            } else {
                depth += 1;
            }
            rest = &rest[end + 1..];
            if depth == 0 {
                break;
            }
        }
        text.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&")
    }

    fn span_record(text: &str, start: usize, end: usize) -> SpanRecord {
        SpanRecord {
            start,
            end,
            text: text
                .chars()
                .skip(start)
                .take(end.saturating_sub(start))
                .collect(),
        }
    }

    /// A speaker for a test quote: name, entity id, and the mention's code-point offsets.
    type TestSpeaker<'a> = (&'a str, &'a str, Option<(usize, usize)>);

    fn quote(
        text: &str,
        content: (usize, usize),
        cue: Option<(usize, usize)>,
        speaker: Option<TestSpeaker>,
        confidence: f64,
    ) -> QuoteRecord {
        QuoteRecord {
            kind: QuoteKind::Direct,
            content: span_record(text, content.0, content.1),
            pieces: Vec::new(),
            cue: cue.map(|(start, end)| span_record(text, start, end)),
            speaker: speaker.map(|(name, entity, mention)| SpeakerRecord {
                name: name.into(),
                entity: entity.into(),
                mention: mention.map(|(start, end)| span_record(text, start, end)),
            }),
            confidence,
            stance: None,
            targets: None,
        }
    }

    fn record(id: &str, quotes: Vec<QuoteRecord>) -> DocumentRecord {
        DocumentRecord {
            id: id.into(),
            quotes,
            entities: Vec::new(),
            meta: None,
            error: None,
        }
    }

    #[test]
    fn page_file_names_stay_in_the_folder() {
        assert_eq!(
            page_file_name("000_86905691883c5ace"),
            "000_86905691883c5ace.html"
        );
        assert_eq!(page_file_name("sub/a"), "sub_a.html");
        assert_eq!(page_file_name("../../etc/passwd"), "______etc_passwd.html");
        assert_eq!(page_file_name("index"), "doc_index.html");
        assert_eq!(page_file_name(""), "doc_.html");
        assert_eq!(page_file_name("<é>"), "___.html");
        assert_eq!(page_file_name(&"x".repeat(500)).len(), 105);
    }

    #[test]
    fn csp_hashes_are_what_browsers_compute() {
        // SHA-256 of the empty string, base64 with padding, as browsers hash it for CSP.
        assert_eq!(
            csp_hash(""),
            "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }

    #[test]
    fn nesting_spans_open_and_close_in_order() {
        let text = "abcdef";
        let nested = [span(0, 6, 0), span(2, 4, 1)];
        let events = nest(text, &nested);
        assert_eq!(
            events,
            [
                open(0, true),
                Event::Text("ab"),
                open(1, true),
                Event::Text("cd"),
                close(1, true),
                Event::Text("ef"),
                close(0, true)
            ]
        );
        assert_well_nested(text, &nested, &events);
    }

    #[test]
    fn crossing_spans_are_cut_and_reopened() {
        let text = "abcdef";
        let crossing = [span(2, 6, 0), span(0, 4, 0)];
        let events = nest(text, &crossing);
        assert_eq!(
            events,
            [
                open(1, true),
                Event::Text("ab"),
                open(0, true),
                Event::Text("cd"),
                close(0, false),
                close(1, true),
                open(0, false),
                Event::Text("ef"),
                close(0, true)
            ]
        );
        assert_well_nested(text, &crossing, &events);
    }

    #[test]
    fn touching_equal_and_end_spans() {
        let text = "abcdef";
        let touching = [span(0, 2, 0), span(2, 4, 0), span(4, 6, 2), span(4, 6, 1)];
        let events = nest(text, &touching);
        assert_well_nested(text, &touching, &events);
        // Of equal spans the lower rank is outside.
        assert_eq!(
            &events[events.len() - 5..],
            [
                open(3, true),
                open(2, true),
                Event::Text("ef"),
                close(2, true),
                close(3, true)
            ]
        );
    }

    #[test]
    fn empty_text_and_bad_spans_mark_nothing() {
        assert!(nest("", &[]).is_empty());
        assert!(nest("", &[span(0, 0, 0), span(0, 3, 0)]).is_empty());
        let text = "a“b”c";
        // Empty, reversed, past the end, and inside a character.
        let bad = [span(1, 1, 0), span(3, 1, 0), span(2, 99, 0), span(2, 3, 0)];
        let events = nest(text, &bad);
        assert_eq!(events, [Event::Text(text)]);
        assert_well_nested(text, &bad, &events);
    }

    #[test]
    fn multibyte_text_is_cut_at_code_points() {
        let text = "“Ça va,” dit-il 😀. “Oui.”";
        let chars: Vec<usize> = vec![0, 8, 9, 15, 16, 17, 19, 25];
        let bytes = byte_offsets(text, &chars);
        let spans: Vec<ByteSpan> = bytes
            .chunks(2)
            .map(|ends| span(ends[0], ends[1], 0))
            .collect();
        let events = nest(text, &spans);
        assert_well_nested(text, &spans, &events);
        let pieces: Vec<&str> = events
            .iter()
            .filter_map(|event| match event {
                Event::Text(piece) => Some(*piece),
                _ => None,
            })
            .collect();
        assert_eq!(
            pieces,
            ["“Ça va,”", " ", "dit-il", " ", "😀", ". ", "“Oui.”"]
        );
    }

    proptest! {
        #[test]
        fn any_spans_nest(
            text in "[a“”😀é <>&\n]{0,24}",
            raw in proptest::collection::vec((0usize..30, 0usize..30, 0u8..3), 0..10),
        ) {
            let chars: Vec<usize> = raw.iter().flat_map(|&(start, end, _)| [start, end]).collect();
            let bytes = byte_offsets(&text, &chars);
            let spans: Vec<ByteSpan> = raw
                .iter()
                .zip(bytes.chunks(2))
                .map(|(&(_, _, rank), ends)| span(ends[0], ends[1], rank))
                .collect();
            assert_well_nested(&text, &spans, &nest(&text, &spans));
        }

        #[test]
        fn any_record_renders_well_formed(
            text in "[a“”😀é <>&'\"\n]{0,30}",
            raw in proptest::collection::vec(
                (0usize..32, 0usize..32, proptest::option::of((0usize..32, 0usize..32)), proptest::option::of((0usize..32, 0usize..32)), 0usize..3, 0.0f64..1.0),
                0..6,
            ),
        ) {
            let names = ["<b>Al</b>", "Bo \"B\" & co", "Cy"];
            let quotes = raw
                .iter()
                .map(|&(start, end, cue, mention, who, confidence)| {
                    let speaker = (who < 2).then(|| (names[who], names[who], mention));
                    quote(&text, (start.min(end), start.max(end)), cue, speaker, confidence)
                })
                .collect();
            let record = record("<id>", quotes);
            let html = render_page(&record, Some(&text), &RenderOptions::default(), Some("index.html"));
            let tags = assert_balanced(&html);
            prop_assert!(!tags.iter().any(|tag| tag == "b" || tag == "id"));
            prop_assert_eq!(shown_text(&html), escape_html(&text).replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&"));
        }
    }

    #[test]
    fn a_hostile_article_renders_as_text() {
        let text = "<script>window.__pwned=1</script> <img src=x onerror=\"window.__pwned=1\">\n“<b onmouseover=x>like HTML</b>,” said Alice Smith.";
        let characters: Vec<char> = text.chars().collect();
        let open = characters.iter().position(|&c| c == '“').unwrap();
        let close = characters.iter().position(|&c| c == '”').unwrap() + 1;
        let said = close + 1;
        let quotes = vec![quote(
            text,
            (open, close),
            Some((said, said + 4)),
            Some((
                "Alice <i>Smith</i>",
                "e1\" onclick=\"x",
                Some((said + 5, said + 16)),
            )),
            0.3,
        )];
        let mut record = record("</script><script>alert(1)</script>", quotes);
        record.entities.push(EntityRecord {
            id: "e1\" onclick=\"x".into(),
            name: "Alice <i>Smith</i>".into(),
            kind: crate::record::EntityKind::Person,
            title: Some("<u>CEO</u>".into()),
            aliases: Vec::new(),
            gender: None,
            mentions: Vec::new(),
        });
        let html = render_page(&record, Some(text), &RenderOptions::default(), None);
        let tags = assert_balanced(&html);
        assert_eq!(tags.iter().filter(|tag| *tag == "script").count(), 2);
        for tag in ["img", "b", "i", "u"] {
            assert!(
                !tags.iter().any(|found| found == tag),
                "<{tag}> made it through"
            );
        }
        assert!(!html.contains("onclick=\""));
        assert!(html.contains("&lt;script&gt;window.__pwned=1&lt;/script&gt;"));
        assert!(html.contains("data-speaker=\"Alice &lt;i&gt;Smith&lt;/i&gt;\""));
        assert!(html.contains("&lt;u&gt;CEO&lt;/u&gt;"));
        assert_eq!(shown_text(&html), text);
        // Below the threshold: marked uncertain, in the element and in the description.
        assert!(html.contains("class=\"quote c0 direct uncertain first\""));
        assert!(html.contains("data-uncertain=\"0\""));
        assert!(html.contains("? uncertain (below 0.50)"));
        assert!(html.contains("Stance: not computed"));
    }

    #[test]
    fn a_mention_inside_another_quote_is_segmented() {
        // Bo's mention lies inside Al's quote, and Al's quote ends inside Bo's.
        let text = "“Bo is wrong,” Al said. Bo said “no.”";
        let quotes = vec![
            quote(
                text,
                (0, 14),
                Some((18, 22)),
                Some(("Al", "e1", Some((15, 17)))),
                0.9,
            ),
            quote(
                text,
                (32, 37),
                Some((27, 31)),
                Some(("Bo", "e2", Some((1, 3)))),
                0.2,
            ),
        ];
        let record = record("doc", quotes);
        let html = render_page(&record, Some(text), &RenderOptions::default(), None);
        assert_balanced(&html);
        assert_eq!(shown_text(&html), text);
        assert!(html.contains(
            "data-goto=\"q1\" data-group=\"e2\" data-speaker=\"Bo\" data-entity=\"e2\" id=\"m1\""
        ));
        assert_eq!(html.matches("data-quote=\"0\"").count(), 1);
        assert_eq!(html.matches("id=\"q1\"").count(), 1);
    }

    #[test]
    fn failed_and_empty_documents_render() {
        let mut failed = DocumentRecord::failed("bad", ErrorKind::InvalidUtf8, "<bytes>".into());
        failed.error = Some(ErrorRecord {
            kind: ErrorKind::InvalidUtf8,
            message: "<bytes>".into(),
        });
        let html = render_page(&failed, None, &RenderOptions::default(), None);
        assert_balanced(&html);
        assert!(html.contains("&lt;bytes&gt;"));
        let html = render_page(
            &record("empty", Vec::new()),
            Some(""),
            &RenderOptions::default(),
            None,
        );
        assert_balanced(&html);
        assert_eq!(shown_text(&html), "");
    }

    #[test]
    fn the_index_links_pages_and_counts_speakers() {
        let speaker = |name: &str, title: Option<&str>, quotes| SpeakerSummary {
            name: name.into(),
            title: title.map(str::to_string),
            quotes,
        };
        let pages = [
            PageSummary {
                id: "a<1>".into(),
                file: "a_1_.html".into(),
                quotes: 3,
                speakers: vec![
                    speaker("Kerry", Some("Secretary"), 2),
                    speaker("Lavrov", None, 1),
                ],
                error: None,
            },
            PageSummary {
                id: "b".into(),
                file: "b.html".into(),
                quotes: 1,
                speakers: vec![speaker("Kerry", None, 1)],
                error: Some("not UTF-8".into()),
            },
        ];
        let html = render_index(&pages);
        assert_balanced(&html);
        assert!(html.contains("href=\"a_1_.html\" data-id=\"a&lt;1&gt;\">a&lt;1&gt;</a>"));
        assert!(html.contains("<td class=\"speaker-name\">Kerry</td><td>Secretary</td><td class=\"n\">3</td><td class=\"n\">2</td>"));
        assert!(html.contains("failed: not UTF-8"));
    }

    #[test]
    fn mismatched_spans_are_counted() {
        let text = "“Hi,” he said.";
        let mut good = record("doc", vec![quote(text, (0, 5), Some((9, 13)), None, 0.5)]);
        assert_eq!(mismatched_spans(&good, text), 0);
        good.quotes[0].content.end = 99;
        good.quotes[0].cue.as_mut().unwrap().text = "says".into();
        assert_eq!(mismatched_spans(&good, text), 2);
        good.quotes[0].content.start = 100;
        assert_eq!(mismatched_spans(&good, text), 2);
    }
}
