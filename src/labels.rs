//! The labels of the crate: what kind of quote, entity, mention, stance or failure a thing is.
//! Every layer and the output use these enums; none of them is a string.

use serde::{Deserialize, Serialize};

/// What kind of reported speech a quote is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QuoteKind {
    /// Verbatim words between quotation marks.
    Direct,
    /// Reported speech that contains a verbatim fragment between quotation marks.
    Mixed,
    /// Reported (paraphrased) speech, thought or intention.
    Indirect,
}

/// Whether an entity is a person or an organisation (countries and governments included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntityKind {
    Person,
    Organization,
}

/// A person's gender as the words of a text give it: a first name ("Elizabeth"), an honorific
/// ("Mrs.") or a role ("spokeswoman"); a pronoun ("she") resolves only to a person whose gender
/// agrees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Gender {
    Male,
    Female,
}

/// How a speaker is mentioned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MentionKind {
    /// A proper name, with or without its title: "U.S. Secretary of State John Kerry".
    Name,
    /// A personal pronoun: "he", "they".
    Pronoun,
    /// A common-noun phrase: "the minister", "officials".
    Nominal,
}

/// The three polarities of NewsMTSC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StanceLabel {
    Negative,
    Neutral,
    Positive,
}

impl StanceLabel {
    pub const ALL: [StanceLabel; 3] = [
        StanceLabel::Negative,
        StanceLabel::Neutral,
        StanceLabel::Positive,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    /// NewsMTSC's polarity: 2 negative, 4 neutral, 6 positive.
    pub fn from_polarity(polarity: f64) -> Option<Self> {
        match polarity.round() as i64 {
            2 => Some(StanceLabel::Negative),
            4 => Some(StanceLabel::Neutral),
            6 => Some(StanceLabel::Positive),
            _ => None,
        }
    }
}

/// A stance and the probability the model gives it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StanceScore {
    pub label: StanceLabel,
    pub confidence: f64,
}

impl StanceScore {
    /// The most probable label of a distribution over [`StanceLabel::ALL`].
    pub fn from_probabilities(probabilities: [f64; 3]) -> Self {
        let mut best = 0;
        for index in 1..3 {
            if probabilities[index] > probabilities[best] {
                best = index;
            }
        }
        StanceScore {
            label: StanceLabel::ALL[best],
            confidence: probabilities[best],
        }
    }
}

/// The kinds of per-document failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The bytes are not UTF-8.
    InvalidUtf8,
    /// A JSONL line is not a JSON object.
    InvalidJson,
    /// A JSONL record has no string `text` field.
    MissingText,
    /// The file could not be read.
    Io,
    /// The document took longer than its time budget.
    Timeout,
    /// The analysis failed inside whosaid: a bug, reported rather than crashing the batch.
    Internal,
}
