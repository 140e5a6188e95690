//! The output schema: one [`DocumentRecord`] per input document.
//!
//! Every offset here is a Unicode code-point offset into the original input text (as Python's
//! `str` counts them), end exclusive, and every `text` equals the original text at those offsets.

use serde::{Deserialize, Serialize};

pub use crate::labels::{
    EntityKind, ErrorKind, Gender, MentionKind, QuoteKind, StanceLabel, StanceScore,
};

/// A piece of the original text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpanRecord {
    pub start: usize,
    pub end: usize,
    pub text: String,
}

/// The speaker of a quote: the entity and the mention that the cue attaches to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpeakerRecord {
    /// The entity's canonical name.
    pub name: String,
    /// The entity's id within this document, as in [`DocumentRecord::entities`].
    pub entity: String,
    /// The mention that is this quote's source; for a quote that continues an earlier speaker's
    /// turn, the mention of that earlier attribution.
    pub mention: Option<SpanRecord>,
}

/// One attribution: a quote, its cue, its speaker and how likely it is to be right.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuoteRecord {
    #[serde(rename = "type")]
    pub kind: QuoteKind,
    pub content: SpanRecord,
    /// The stretches of quoted text of a content that its attribution interrupts, in order;
    /// absent where the content is one stretch. `content` runs from the first to the last.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pieces: Vec<SpanRecord>,
    pub cue: Option<SpanRecord>,
    pub speaker: Option<SpeakerRecord>,
    /// Calibrated probability that both the content and the speaker are right.
    pub confidence: f64,
    /// The tone the speaker takes in the quote; absent when the stance stage did not run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stance: Option<StanceScore>,
    /// The quote's stance toward each person or organisation it names by name (the speaker
    /// excepted); absent when the stance stage did not run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<Vec<TargetRecord>>,
}

/// A quote's stance toward one entity that it names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetRecord {
    /// The entity's id, as in [`DocumentRecord::entities`].
    pub entity: String,
    /// The entity's first mention inside the quote.
    pub mention: SpanRecord,
    pub label: StanceLabel,
    pub confidence: f64,
}

/// A mention of an entity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MentionRecord {
    pub start: usize,
    pub end: usize,
    pub text: String,
    pub kind: MentionKind,
}

/// A person or organisation, with all its mentions in the document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityRecord {
    pub id: String,
    /// The fullest proper name seen: "John Kerry".
    pub name: String,
    pub kind: EntityKind,
    /// The title or role, where the text gives one: "U.S. Secretary of State".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Other names the entity goes by in the text: "Kerry".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// A person's gender, where the text gives it by a first name, an honorific or a role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<Gender>,
    pub mentions: Vec<MentionRecord>,
}

/// Why a document produced no analysis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorRecord {
    pub kind: ErrorKind,
    /// A sentence for people, naming the problem.
    pub message: String,
}

/// The result for one input document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentRecord {
    pub id: String,
    #[serde(default)]
    pub quotes: Vec<QuoteRecord>,
    #[serde(default)]
    pub entities: Vec<EntityRecord>,
    /// The input record's other fields, for JSONL input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorRecord>,
}

impl EntityRecord {
    /// Whether `query` names this entity: its canonical name or an alias, a bare surname, or a
    /// variant spelling of the first name ("Sergei Lavrov" for "Sergey Lavrov"). A pair that
    /// speaks together ("John Kerry and Sergey Lavrov") answers to either of its names.
    pub fn answers_to(&self, query: &str) -> bool {
        let query_words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
        if query_words.is_empty() {
            return false;
        }
        std::iter::once(&self.name)
            .chain(&self.aliases)
            .flat_map(|name| std::iter::once(name.as_str()).chain(name.split(" and ")))
            .any(|name| {
                let words: Vec<String> = name.split_whitespace().map(str::to_lowercase).collect();
                if words == query_words {
                    return true;
                }
                if self.kind != EntityKind::Person || words.last() != query_words.last() {
                    return false;
                }
                query_words.len() == 1
                    || (words.len() >= 2
                        && crate::names::spelling_variant(&words[0], &query_words[0]))
            })
    }
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

    /// Drops the quotes whose speaker answers to none of `queries`.
    pub fn keep_speakers(&mut self, queries: &[String]) {
        let wanted: std::collections::HashSet<&str> = self
            .entities
            .iter()
            .filter(|entity| queries.iter().any(|query| entity.answers_to(query)))
            .map(|entity| entity.id.as_str())
            .collect();
        self.quotes.retain(|quote| {
            quote
                .speaker
                .as_ref()
                .is_some_and(|speaker| wanted.contains(speaker.entity.as_str()))
        });
    }
}
