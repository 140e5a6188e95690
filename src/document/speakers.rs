//! The speaker stage's layer: mentions of people and organisations, grouped into entities
//! ([`crate::speakers`] makes it; attribution adds to it).

use std::collections::HashMap;
use std::ops::Range;

use crate::labels::{EntityKind, MentionKind};
use crate::lexicon::{Gender, PronounReference};

/// A mention of a possible speaker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mention {
    pub tokens: Range<usize>,
    /// Byte offsets in the cleaned view.
    pub start: usize,
    pub end: usize,
    pub kind: MentionKind,
    /// For a name: the tokens of the name without its title.
    pub name_tokens: Range<usize>,
    /// What a name looks like it names, where the text tells.
    pub kind_hint: Option<EntityKind>,
    pub pronoun: Option<PronounReference>,
    pub entity: Option<usize>,
    /// Inside a quotation: the words of a speaker, not the narration.
    pub quoted: bool,
}

/// A person or organisation of the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entity {
    pub name: String,
    pub kind: EntityKind,
    pub title: Option<String>,
    pub aliases: Vec<String>,
    pub mentions: Vec<usize>,
    /// A person's gender where a first name, an honorific or a role gives it.
    pub gender: Option<Gender>,
}

/// The speakers layer of a document.
#[derive(Debug, Clone, Default)]
pub struct Speakers {
    pub mentions: Vec<Mention>,
    pub entities: Vec<Entity>,
    /// The longest mention ending at each token (the token index is the mention's last token).
    ending_at: HashMap<usize, usize>,
    starting_at: HashMap<usize, usize>,
}

impl Speakers {
    /// The longest mention whose last token is `token`.
    pub fn mention_ending_at(&self, token: usize) -> Option<usize> {
        self.ending_at.get(&token).copied()
    }

    /// The longest mention whose first token is `token`.
    pub fn mention_starting_at(&self, token: usize) -> Option<usize> {
        self.starting_at.get(&token).copied()
    }

    /// Adds a mention and indexes it.
    pub fn add_mention(&mut self, mention: Mention) -> usize {
        let index = self.mentions.len();
        let length = mention.tokens.len();
        let last = mention.tokens.end - 1;
        let first = mention.tokens.start;
        let longer = |slot: Option<&usize>, mentions: &[Mention]| {
            slot.is_none_or(|&other| mentions[other].tokens.len() < length)
        };
        if longer(self.ending_at.get(&last), &self.mentions) {
            self.ending_at.insert(last, index);
        }
        if longer(self.starting_at.get(&first), &self.mentions) {
            self.starting_at.insert(first, index);
        }
        self.mentions.push(mention);
        index
    }

    /// Links a mention to an entity, and out of the one it was linked to before: a mention is of
    /// one entity.
    pub fn link(&mut self, mention: usize, entity: usize) {
        let before = self.mentions[mention].entity;
        if before == Some(entity) {
            return;
        }
        if let Some(before) = before {
            let mentions = &mut self.entities[before].mentions;
            if let Ok(position) = mentions.binary_search(&mention) {
                mentions.remove(position);
            }
        }
        self.mentions[mention].entity = Some(entity);
        let mentions = &mut self.entities[entity].mentions;
        let position = mentions.partition_point(|&other| other < mention);
        mentions.insert(position, mention);
    }

    /// Creates an entity whose only mention so far is `mention`.
    pub fn new_entity(&mut self, mention: usize, name: String, kind: EntityKind) -> usize {
        let entity = self.entities.len();
        self.entities.push(Entity {
            name,
            kind,
            title: None,
            aliases: Vec::new(),
            mentions: Vec::new(),
            gender: None,
        });
        self.link(mention, entity);
        entity
    }
}
