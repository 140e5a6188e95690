//! Stage 5: attribution. Each proposed quote gets its source mention (found where its cue says to
//! look), the entity that mention refers to, and the features that the confidence model scores.
//! A quote with no cue continues the turn of the speaker before it; an indirect proposal whose cue
//! has no source is dropped, since a cue word without a speaker is usually not reported speech.

use std::cell::RefCell;
use std::collections::HashMap;

pub use crate::document::attribution::{Attribution, Features, Resolution};
use crate::document::Document;
use crate::labels::{EntityKind, MentionKind, QuoteKind};
use crate::lexicon::{contains_lower, with_lower, Gender, Lexicon, PronounReference};
use crate::quotes::{token_text, Cue, Pattern, Quote, SourceSite};
use crate::segment::{Segmented, TokenKind};
use crate::speakers::{genders_agree, Speakers};
use crate::stage::{unbounded, Check, Clock, DocumentStage, Halt, Unbounded};

/// How many sentences back a pronoun may look for the previous speaker.
const SPEAKER_MEMORY_SENTENCES: usize = 3;
/// How many sentences back a pronoun may look for a name.
const MENTION_MEMORY_SENTENCES: usize = 8;
/// How many of the mentions that attribution added, the latest first, a pronoun's search for
/// an antecedent looks at.
const ADDED_MENTIONS_SEARCHED: usize = 32;
/// How many sentences a floating quote may stand after the speaker's previous quote.
const FLOATING_SENTENCES: usize = 4;

/// Links every proposed quote to its speaker.
/// Lookups over the mentions that `find_speakers` made, so that resolving a source costs the
/// same in a long document as in a short one.
pub(crate) struct MentionIndex {
    /// Mentions before this index are sorted by start; attribution appends the rest.
    sorted: usize,
    /// Name mentions that had no entity, by their text.
    unlinked_names: HashMap<String, Vec<usize>>,
    /// The entities with a title, and the title lower-cased, by entity. Attribution makes only
    /// untitled entities, so this stays whole.
    titled_entities: Vec<(usize, String)>,
    /// Name mentions that attribution appended, by their text, read in as they appear (up to
    /// the count kept beside them) and dropped once linked: a new entity finds its later bare
    /// mentions here, where a scan of every appended mention for each new entity was quadratic
    /// in a document of thousands of sources (1 MB of nested quotations: 1.6 s in the linking
    /// stage with the scan, 0.4 s with this).
    appended_names: RefCell<(usize, HashMap<String, Vec<usize>>)>,
}

impl MentionIndex {
    pub(crate) fn new(text: &str, speakers: &Speakers) -> Self {
        let mut unlinked_names: HashMap<String, Vec<usize>> = HashMap::new();
        for (index, mention) in speakers.mentions.iter().enumerate() {
            if mention.entity.is_none() && mention.kind == MentionKind::Name {
                unlinked_names
                    .entry(text[mention.start..mention.end].to_string())
                    .or_default()
                    .push(index);
            }
        }
        let titled_entities = speakers
            .entities
            .iter()
            .enumerate()
            .filter_map(|(entity, record)| Some((entity, record.title.as_ref()?.to_lowercase())))
            .collect();
        MentionIndex {
            sorted: speakers.mentions.len(),
            unlinked_names,
            titled_entities,
            appended_names: RefCell::new((speakers.mentions.len(), HashMap::new())),
        }
    }

    /// The appended name mentions with this text that have no entity yet, in order.
    fn appended_unlinked_names(&self, text: &str, speakers: &Speakers, name: &str) -> Vec<usize> {
        let mut appended = self.appended_names.borrow_mut();
        let (read, by_text) = &mut *appended;
        for (index, mention) in speakers.mentions.iter().enumerate().skip(*read) {
            if mention.entity.is_none() && mention.kind == MentionKind::Name {
                by_text
                    .entry(text[mention.start..mention.end].to_string())
                    .or_default()
                    .push(index);
            }
        }
        *read = speakers.mentions.len();
        let Some(same_text) = by_text.get_mut(name) else {
            return Vec::new();
        };
        same_text.retain(|&index| speakers.mentions[index].entity.is_none());
        same_text.clone()
    }
}

pub fn attribute(
    text: &str,
    segmented: &Segmented,
    quotes: Vec<Quote>,
    speakers: &mut Speakers,
) -> Vec<Attribution> {
    unbounded(attribute_checked(
        text, segmented, quotes, speakers, &Unbounded,
    ))
}

/// [`attribute`], calling `check` once a quote.
pub fn attribute_checked<C: Check>(
    text: &str,
    segmented: &Segmented,
    quotes: Vec<Quote>,
    speakers: &mut Speakers,
    check: &C,
) -> Result<Vec<Attribution>, C::Stop> {
    let index = MentionIndex::new(text, speakers);
    let mut attributions: Vec<Attribution> = Vec::with_capacity(quotes.len());
    let mut last_speaker: Option<(usize, Option<usize>, usize)> = None;
    let cues_per_sentence = {
        let mut counts = vec![0usize; segmented.sentences.len()];
        for quote in &quotes {
            if quote.cue.is_some() {
                counts[quote.sentence] += 1;
            }
        }
        counts
    };
    for quote in quotes {
        check.check()?;
        let mut features = Features {
            pattern: Some(quote.pattern),
            quote_kind: Some(quote.kind),
            content_words: segmented.tokens[quote.tokens.clone()]
                .iter()
                .filter(|token| matches!(token.kind, TokenKind::Word | TokenKind::Number))
                .count(),
            starts_with_that: segmented
                .tokens
                .get(quote.tokens.start)
                .is_some_and(|token| token_text(text, token) == "that"),
            cues_in_sentence: cues_per_sentence[quote.sentence],
            ..Features::default()
        };
        let (mention, entity) = match (&quote.cue, quote.source_site) {
            (Some(cue), SourceSite::AroundCue | SourceSite::AfterCue) => {
                features.speech_cue = contains_lower(
                    &Lexicon::get().speech_verbs,
                    token_text(text, &segmented.tokens[cue.tokens.start]),
                );
                let found = find_source(text, segmented, &quote, cue, speakers);
                let Some((mention, after_cue)) = found else {
                    if quote.kind == QuoteKind::Direct {
                        push_unattributed(&mut attributions, quote, features);
                    }
                    continue;
                };
                features.source_after_cue = after_cue;
                let mention =
                    extend_apposition(text, segmented, speakers, mention, cue, quote.sentence);
                let source_token = speakers.mentions[mention].tokens.start;
                features.cue_distance = source_token.abs_diff(cue.tokens.start);
                let joinable: &[usize] = if after_cue { &[] } else { &[mention] };
                let (mention, entity, resolution) = join_or_resolve(
                    text,
                    segmented,
                    speakers,
                    &index,
                    joinable,
                    mention,
                    quote.sentence,
                    last_speaker,
                );
                features.resolution = resolution;
                (Some(mention), entity)
            }
            _ => match last_speaker {
                Some((entity, mention, sentence))
                    if quote.sentence.saturating_sub(sentence) <= FLOATING_SENTENCES =>
                {
                    features.sentences_since_speaker =
                        quote.sentence - sentence.min(quote.sentence);
                    features.resolution = Resolution::PreviousSpeaker;
                    (mention, Some(entity))
                }
                _ => {
                    push_unattributed(&mut attributions, quote, features);
                    continue;
                }
            },
        };
        features.mention_kind = mention.map(|mention| speakers.mentions[mention].kind);
        features.named_entity = entity.is_some_and(|entity| {
            speakers.entities[entity]
                .mentions
                .iter()
                .any(|&mention| speakers.mentions[mention].kind == MentionKind::Name)
        });
        if let Some(entity) = entity {
            last_speaker = Some((entity, mention, quote.sentence));
        }
        attributions.push(Attribution {
            kind: quote.kind,
            start: quote.start,
            end: quote.end,
            pieces: Vec::new(),
            cue: quote.cue,
            pattern: quote.pattern,
            mention,
            entity,
            features,
            confidence: 0.0,
        });
    }
    Ok(attributions)
}

/// The fifth stage: each quote's source, resolved to its entity.
pub struct AttributeStage;

impl DocumentStage for AttributeStage {
    fn name(&self) -> &'static str {
        "attribute"
    }

    fn run(&self, document: &mut Document, clock: &Clock) -> Result<(), Halt> {
        let quotes = document.quotes.clone();
        document.attributions = attribute_checked(
            &document.normalised.text,
            &document.segmented,
            quotes,
            &mut document.speakers,
            clock,
        )?;
        Ok(())
    }
}

fn push_unattributed(attributions: &mut Vec<Attribution>, quote: Quote, features: Features) {
    attributions.push(Attribution {
        kind: quote.kind,
        start: quote.start,
        end: quote.end,
        pieces: Vec::new(),
        cue: quote.cue,
        pattern: quote.pattern,
        mention: None,
        entity: None,
        features,
        confidence: 0.0,
    });
}

/// The source mention of a quote with a cue, and whether it stands after the cue.
fn find_source(
    text: &str,
    segmented: &Segmented,
    quote: &Quote,
    cue: &Cue,
    speakers: &Speakers,
) -> Option<(usize, bool)> {
    let lexicon = Lexicon::get();
    let tokens = &segmented.tokens;
    let sentence = &segmented.sentences[quote.sentence];
    let outside_content = |mention: usize| {
        let range = &speakers.mentions[mention].tokens;
        range.end <= quote.tokens.start || range.start >= quote.tokens.end
    };
    let usable = |mention: usize| outside_content(mention) && !speakers.mentions[mention].quoted;
    let after = speakers
        .mention_starting_at(cue.tokens.end)
        .filter(|&mention| usable(mention));
    if quote.source_site == SourceSite::AfterCue {
        return after.map(|mention| (mention, true));
    }
    let before_cue = cue
        .tokens
        .start
        .checked_sub(1)
        .map(|index| token_text(text, &tokens[index]));
    let inverted =
        matches!(before_cue, Some("," | "”")) || quote.pattern == Pattern::DirectCueAfter;
    if let Some(mention) = after.filter(|_| inverted) {
        if quote.pattern == Pattern::DirectCueAfter
            || quote.pattern == Pattern::IndirectCueAfter
            || speakers.mentions[mention].kind == MentionKind::Name
        {
            return Some((mention, true));
        }
    }
    let mut index = cue.tokens.start;
    while index > sentence.tokens.start {
        let word = token_text(text, &tokens[index - 1]);
        if lexicon.auxiliaries.contains(word) {
            index -= 1;
            continue;
        }
        break;
    }
    if index > sentence.tokens.start {
        let word = token_text(text, &tokens[index - 1]);
        if let Some(mention) = speakers
            .mention_ending_at(index - 1)
            .filter(|&mention| usable(mention))
        {
            return Some((mention, false));
        }
        if word == "," {
            // "Kerry, who met Lavrov on Friday, said": the subject before the parenthetical.
            let earliest = index.saturating_sub(16).max(sentence.tokens.start);
            for comma in (earliest..index - 1).rev() {
                if token_text(text, &tokens[comma]) == "," && comma > sentence.tokens.start {
                    if let Some(mention) = speakers
                        .mention_ending_at(comma - 1)
                        .filter(|&mention| usable(mention))
                    {
                        return Some((mention, false));
                    }
                    break;
                }
            }
        }
    }
    let cue_word = token_text(text, &tokens[cue.tokens.start]);
    let coordinated = index > sentence.tokens.start
        && matches!(token_text(text, &tokens[index - 1]), "and" | "but" | ",");
    if coordinated || cue_word.ends_with("ing") {
        // A participle or a second verb shares the subject of the clause.
        let first = (sentence.tokens.start..cue.tokens.start).find_map(|token| {
            speakers
                .mention_starting_at(token)
                .filter(|&mention| usable(mention))
        });
        if let Some(mention) = first {
            return Some((mention, false));
        }
    }
    if quote.pattern == Pattern::DirectCueAfter || quote.pattern == Pattern::IndirectCueAfter {
        return after.map(|mention| (mention, true));
    }
    None
}

/// PolNeAR's sources take in a name's apposition: "Rep. Elijah Cummings, the top Democrat on
/// the Oversight Committee, said" and "said Ronald R. Fieldstone, a Miami lawyer who ...". The
/// longer mention is added beside the name and refers to the same entity.
fn extend_apposition(
    text: &str,
    segmented: &Segmented,
    speakers: &mut Speakers,
    mention: usize,
    cue: &Cue,
    sentence: usize,
) -> usize {
    let tokens = &segmented.tokens;
    let sentence = &segmented.sentences[sentence];
    let source = speakers.mentions[mention].clone();
    let comma = source.tokens.end;
    if source.kind != MentionKind::Name
        || comma + 1 >= sentence.tokens.end
        || token_text(text, &tokens[comma]) != ","
    {
        return mention;
    }
    let opener = token_text(text, &tokens[comma + 1]);
    let appositive = tokens[comma + 1].kind == TokenKind::Word
        && (Lexicon::get().articles.contains(opener)
            || opener == "who"
            || opener.chars().next().is_some_and(char::is_lowercase)
                && contains_lower(&Lexicon::get().titles, opener));
    if !appositive {
        return mention;
    }
    let end = if source.tokens.end <= cue.tokens.start {
        let mut before_cue = cue.tokens.start;
        while before_cue > comma + 1
            && Lexicon::get()
                .auxiliaries
                .contains(token_text(text, &tokens[before_cue - 1]))
        {
            before_cue -= 1;
        }
        if before_cue <= comma + 2 || token_text(text, &tokens[before_cue - 1]) != "," {
            return mention;
        }
        before_cue
    } else {
        let mut end = sentence.tokens.end;
        while end > comma + 1 && matches!(token_text(text, &tokens[end - 1]), "." | "!" | "?" | "”")
        {
            end -= 1;
        }
        if end <= comma + 1 {
            return mention;
        }
        end
    };
    let extended = crate::speakers::Mention {
        tokens: source.tokens.start..end,
        start: source.start,
        end: tokens[end - 1].end,
        entity: None,
        ..source.clone()
    };
    let index = speakers.add_mention(extended);
    if let Some(entity) = source.entity {
        speakers.link(index, entity);
    }
    index
}

/// "The United States and Russia say ...": two names joined by "and" speak together. The joined
/// mention is added, with an entity of its own for the pair, named after both ("United States
/// and Russia"); a pair named again is the same entity.
fn join_coordination(
    text: &str,
    segmented: &Segmented,
    speakers: &mut Speakers,
    mention: usize,
) -> Option<(usize, usize)> {
    let tokens = &segmented.tokens;
    let second = speakers.mentions[mention].clone();
    let and = second.tokens.start.checked_sub(1)?;
    if second.kind != MentionKind::Name || token_text(text, &tokens[and]) != "and" {
        return None;
    }
    let first_index = speakers.mention_ending_at(and.checked_sub(1)?)?;
    let first = speakers.mentions[first_index].clone();
    if first.kind != MentionKind::Name || first.quoted {
        return None;
    }
    let mut start = first.tokens.start;
    if start > 0 && token_text(text, &tokens[start - 1]).eq_ignore_ascii_case("the") {
        start -= 1;
    }
    let entity_name = |mention: &crate::speakers::Mention, speakers: &Speakers| {
        mention
            .entity
            .map(|entity| speakers.entities[entity].name.clone())
            .unwrap_or_else(|| text[mention.start..mention.end].to_string())
    };
    let name = format!(
        "{} and {}",
        entity_name(&first, speakers),
        entity_name(&second, speakers)
    );
    let both_organizations = [&first, &second].iter().all(|mention| {
        mention.entity.map(|entity| speakers.entities[entity].kind)
            == Some(EntityKind::Organization)
    });
    let kind = if both_organizations {
        EntityKind::Organization
    } else {
        EntityKind::Person
    };
    // The source over the same words may already be a mention (of the last name's entity, by
    // the name inside it): it becomes the pair's, so that no two entities share a mention.
    let span = start..second.tokens.end;
    let group = speakers
        .mention_starting_at(start)
        .filter(|&existing| speakers.mentions[existing].tokens == span)
        .unwrap_or_else(|| {
            speakers.add_mention(crate::speakers::Mention {
                tokens: span.clone(),
                start: tokens[start].start,
                end: second.end,
                name_tokens: span.clone(),
                entity: None,
                ..second
            })
        });
    let known = speakers
        .entities
        .iter()
        .position(|entity| entity.name == name && entity.kind == kind);
    let entity = match known {
        Some(entity) => {
            speakers.link(group, entity);
            entity
        }
        None => speakers.new_entity(group, name, kind),
    };
    Some((group, entity))
}

/// The speaker of a source: the pair, where one of `joinable` is the second of two names joined
/// by "and" ([`join_coordination`]); otherwise the entity `mention` resolves to ([`resolve`]).
/// Returns the source mention (the joined one for a pair), its entity, and how it was reached.
#[allow(clippy::too_many_arguments)]
pub(crate) fn join_or_resolve(
    text: &str,
    segmented: &Segmented,
    speakers: &mut Speakers,
    index: &MentionIndex,
    joinable: &[usize],
    mention: usize,
    sentence: usize,
    last_speaker: Option<(usize, Option<usize>, usize)>,
) -> (usize, Option<usize>, Resolution) {
    let joined = joinable
        .iter()
        .find_map(|&second| join_coordination(text, segmented, speakers, second));
    if let Some((group, entity)) = joined {
        return (group, Some(entity), Resolution::Direct);
    }
    let (entity, resolution) = resolve(
        text,
        segmented,
        speakers,
        index,
        mention,
        sentence,
        last_speaker,
    );
    (mention, entity, resolution)
}

/// The entity a source mention refers to, creating one where nothing in the text resolves it.
pub(crate) fn resolve(
    text: &str,
    segmented: &Segmented,
    speakers: &mut Speakers,
    index: &MentionIndex,
    mention: usize,
    sentence: usize,
    last_speaker: Option<(usize, Option<usize>, usize)>,
) -> (Option<usize>, Resolution) {
    if let Some(entity) = speakers.mentions[mention].entity {
        return (Some(entity), Resolution::Direct);
    }
    // A speaker known only as an unresolved pronoun ("which confirmed …") is no antecedent:
    // "she" in the next sentence would otherwise be named "which".
    let named = |entity: usize| {
        with_lower(&speakers.entities[entity].name, |name| {
            !Lexicon::get().source_pronouns.contains_key(name) && !RELATIVE_WORDS.contains(&name)
        })
    };
    let recent_speaker = last_speaker
        .filter(|&(_, _, spoke_in)| sentence.saturating_sub(spoke_in) <= SPEAKER_MEMORY_SENTENCES)
        .map(|(entity, _, _)| entity)
        .filter(|&entity| named(entity));
    let target = speakers.mentions[mention].clone();
    let mention_text = text[target.start..target.end].to_string();
    // The tagger's source "which" or "that" ("the AP, which first reported") is a relative
    // pronoun too, which the speaker stage's list leaves out, since most of them introduce no
    // source.
    let relative = target.pronoun == Some(PronounReference::Relative)
        || (target.kind == MentionKind::Nominal && RELATIVE_WORDS.contains(&mention_text.as_str()));
    if relative {
        let resolved = resolve_relative(
            text,
            segmented,
            speakers,
            index,
            mention,
            sentence,
            last_speaker,
        );
        if let Some(resolved) = resolved {
            return resolved;
        }
    }
    match target.kind {
        MentionKind::Name => {
            let kind = target.kind_hint.unwrap_or(EntityKind::Person);
            let name = text[segmented.tokens[target.name_tokens.start].start
                ..segmented.tokens[target.name_tokens.end - 1].end]
                .to_string();
            let entity = speakers.new_entity(mention, name.clone(), kind);
            if kind == EntityKind::Person {
                let title = (target.name_tokens.start > target.tokens.start).then(|| {
                    &text[target.start..segmented.tokens[target.name_tokens.start - 1].end]
                });
                speakers.entities[entity].gender = crate::speakers::gender_of_person(&name, title);
            }
            // Later bare mentions of the same name are the same entity.
            let same_text = index
                .unlinked_names
                .get(&mention_text)
                .into_iter()
                .flatten()
                .copied();
            let appended = index.appended_unlinked_names(text, speakers, &mention_text);
            let mut others: Vec<usize> = same_text.chain(appended).collect();
            others.sort_unstable();
            for other in others {
                let other_mention = &speakers.mentions[other];
                if other_mention.entity.is_none()
                    && other_mention.kind == MentionKind::Name
                    && text[other_mention.start..other_mention.end] == mention_text
                {
                    speakers.link(other, entity);
                }
            }
            (Some(entity), Resolution::Direct)
        }
        MentionKind::Pronoun => {
            let wanted = match target.pronoun {
                Some(PronounReference::Male | PronounReference::Female) => Some(EntityKind::Person),
                Some(PronounReference::Plural | PronounReference::Neuter) => {
                    Some(EntityKind::Organization)
                }
                _ => None,
            };
            // "she" does not refer to a man, nor "he" to a woman, where the text says which.
            let gender = target.pronoun.and_then(PronounReference::gender);
            let agrees = |entity: usize| genders_agree(speakers.entities[entity].gender, gender);
            if let Some(kind) = wanted {
                if let Some(entity) = recent_speaker
                    .filter(|&entity| speakers.entities[entity].kind == kind && agrees(entity))
                {
                    speakers.link(mention, entity);
                    return (Some(entity), Resolution::PreviousSpeaker);
                }
                if let Some(entity) =
                    latest_entity_before(segmented, speakers, index, &target, kind, gender)
                {
                    speakers.link(mention, entity);
                    return (Some(entity), Resolution::EarlierMention);
                }
            }
            let entity = speakers.new_entity(mention, mention_text, EntityKind::Person);
            (Some(entity), Resolution::Unresolved)
        }
        MentionKind::Nominal => {
            let head =
                text[segmented.tokens[target.tokens.end - 1].start..target.end].to_lowercase();
            let titled = index
                .titled_entities
                .iter()
                .rev()
                .find(|(entity, title)| {
                    let first_mention = speakers.entities[*entity].mentions.first().copied();
                    first_mention.is_some_and(|first| speakers.mentions[first].start < target.start)
                        && title.contains(&head)
                })
                .map(|&(entity, _)| entity);
            if let Some(entity) = titled {
                speakers.link(mention, entity);
                let resolution = if Some(entity) == recent_speaker {
                    Resolution::PreviousSpeaker
                } else {
                    Resolution::EarlierMention
                };
                return (Some(entity), resolution);
            }
            let kind = if matches!(
                head.as_str(),
                "campaign"
                    | "government"
                    | "administration"
                    | "agency"
                    | "ministry"
                    | "department"
                    | "committee"
                    | "company"
                    | "organization"
                    | "police"
                    | "court"
                    | "party"
                    | "report"
                    | "poll"
                    | "study"
                    | "survey"
                    | "statement"
                    | "group"
            ) {
                EntityKind::Organization
            } else {
                EntityKind::Person
            };
            let name = mention_text
                .trim_start_matches("the ")
                .trim_start_matches("The ")
                .to_string();
            let entity = speakers.new_entity(mention, name, kind);
            (Some(entity), Resolution::Unresolved)
        }
    }
}

/// The entity of a relative pronoun ("who"): that of the mention just before it, resolved
/// first if no quote has reached it yet; or a new one named after the noun phrase there ("an
/// architect who said"), which names the speaker better than "who" does. `None` where neither
/// is there.
fn resolve_relative(
    text: &str,
    segmented: &Segmented,
    speakers: &mut Speakers,
    index: &MentionIndex,
    mention: usize,
    sentence: usize,
    last_speaker: Option<(usize, Option<usize>, usize)>,
) -> Option<(Option<usize>, Resolution)> {
    let before = relative_antecedent_end(text, segmented, speakers.mentions[mention].tokens.start)?;
    // Neither a pronoun nor another relative word ("which, which"): resolving the antecedent
    // then never comes back here, however many of them stand in a row.
    let antecedent = speakers.mention_ending_at(before).filter(|&other| {
        let other = &speakers.mentions[other];
        other.pronoun.is_none() && !RELATIVE_WORDS.contains(&&text[other.start..other.end])
    });
    if let Some(antecedent) = antecedent {
        let entity = match speakers.mentions[antecedent].entity {
            Some(entity) => Some(entity),
            None => {
                resolve(
                    text,
                    segmented,
                    speakers,
                    index,
                    antecedent,
                    sentence,
                    last_speaker,
                )
                .0
            }
        };
        if let Some(entity) = entity {
            speakers.link(mention, entity);
            return Some((Some(entity), Resolution::EarlierMention));
        }
    }
    let phrase = noun_phrase_ending_at(text, segmented, before)?;
    let tokens = &segmented.tokens;
    let name = text[tokens[phrase.start].start..tokens[phrase.end - 1].end].to_string();
    // "who" is said of people, "which" and "that" of other things (a report, a poll), and
    // "she" then does not refer to one of those.
    let pronoun = &speakers.mentions[mention];
    let of_people = with_lower(&text[pronoun.start..pronoun.end], |word| {
        !RELATIVE_WORDS.contains(&word) || word == "whom"
    });
    let kind = if of_people {
        EntityKind::Person
    } else {
        EntityKind::Organization
    };
    let entity = speakers.new_entity(mention, name, kind);
    Some((Some(entity), Resolution::Unresolved))
}

/// Relative pronouns besides "who" (which `source_pronouns.txt` lists): a tagged source may be
/// one of them.
const RELATIVE_WORDS: [&str; 3] = ["which", "that", "whom"];

/// The last token of what a relative pronoun at `pronoun` refers to: the token before it, past
/// a comma and an age between commas ("Schiff, 56, who").
fn relative_antecedent_end(text: &str, segmented: &Segmented, pronoun: usize) -> Option<usize> {
    let tokens = &segmented.tokens;
    let is = |at: usize, word: &str| tokens.get(at).is_some_and(|t| token_text(text, t) == word);
    let mut at = pronoun.checked_sub(1)?;
    if is(at, ",") {
        at = at.checked_sub(1)?;
        let age = tokens.get(at).is_some_and(|t| t.kind == TokenKind::Number);
        if age && at.checked_sub(1).is_some_and(|comma| is(comma, ",")) {
            at = at.checked_sub(2)?;
        }
    }
    Some(at)
}

/// Words that open a noun phrase: a phrase read backwards from its noun takes one and stops.
const PHRASE_OPENERS: [&str; 24] = [
    "a", "an", "the", "some", "many", "several", "few", "most", "all", "both", "his", "her",
    "their", "its", "our", "my", "your", "this", "these", "another", "other", "two", "three",
    "four",
];

/// Words that a noun phrase read backwards stops before.
const PHRASE_BOUNDARIES: [&str; 32] = [
    "to", "of", "in", "on", "at", "for", "from", "with", "by", "about", "as", "into", "over",
    "after", "before", "against", "among", "and", "or", "but", "nor", "not", "is", "are", "was",
    "were", "be", "been", "has", "have", "had", "said",
];

/// The noun phrase that ends at the token `end` ("an architect", "wealthy Chinese citizens",
/// "Scott's relatives"): up to four words back from a lower-case noun, through its adjectives,
/// to a word that opens a phrase (taken) or one that cannot lie inside it (left out). `None`
/// where the word at `end` cannot be the noun ("some", "those", a name, punctuation).
fn noun_phrase_ending_at(
    text: &str,
    segmented: &Segmented,
    end: usize,
) -> Option<std::ops::Range<usize>> {
    const LONGEST: usize = 4;
    let tokens = &segmented.tokens;
    let word_at = |at: usize| {
        tokens
            .get(at)
            .filter(|t| t.kind == TokenKind::Word)
            .map(|t| token_text(text, t))
    };
    let listed = |list: &[&str], word: &str| list.iter().any(|w| word.eq_ignore_ascii_case(w));
    let is_adverb = |word: &str| word.len() > 4 && word.ends_with("ly");
    let noun = word_at(end)?;
    let sentence = segmented.sentence_of(end)?;
    let sentence_start = segmented.sentences.get(sentence)?.tokens.start;
    let lower_case = noun.chars().next().is_some_and(char::is_lowercase);
    if !lower_case
        || noun.len() < 3
        || !noun.chars().all(|c| c.is_alphabetic() || c == '-')
        || listed(&PHRASE_OPENERS, noun)
        || listed(&PHRASE_BOUNDARIES, noun)
        || Lexicon::get().source_pronouns.contains_key(noun)
        || is_adverb(noun)
    {
        return None;
    }
    let mut start = end;
    while start > sentence_start && end - start < LONGEST {
        let Some(word) = word_at(start - 1) else {
            break;
        };
        if listed(&PHRASE_BOUNDARIES, word) || is_adverb(word) {
            break;
        }
        start -= 1;
        let possessive = word.ends_with("'s") || word.ends_with("’s");
        if listed(&PHRASE_OPENERS, word) || possessive {
            break;
        }
    }
    Some(start..end + 1)
}

/// The entity of the latest unquoted name mention of `kind` before `target`, within a few
/// sentences.
fn latest_entity_before(
    segmented: &Segmented,
    speakers: &Speakers,
    index: &MentionIndex,
    target: &crate::speakers::Mention,
    kind: EntityKind,
    gender: Option<Gender>,
) -> Option<usize> {
    let target_sentence = segmented.sentence_of(target.tokens.start)?;
    let sorted = &speakers.mentions[..index.sorted.min(speakers.mentions.len())];
    let before = sorted.partition_point(|mention| mention.start < target.start);
    let within_memory = |mention: &&crate::speakers::Mention| {
        segmented
            .sentence_of(mention.tokens.start)
            .is_some_and(|sentence| {
                target_sentence - sentence.min(target_sentence) <= MENTION_MEMORY_SENTENCES
            })
    };
    // The mentions that attribution added first, the latest added first, then the sorted ones
    // that start before the target, latest first. The added ones are in the order they were
    // made, not in the text's, so one far back must not end the search as it does among the
    // sorted ones; and only the last few are looked at, so that a long document with many of
    // them stays linear.
    let added = speakers.mentions[sorted.len()..]
        .iter()
        .rev()
        .take(ADDED_MENTIONS_SEARCHED)
        .filter(|mention| mention.start < target.start && !mention.quoted)
        .filter(within_memory);
    let earlier = sorted[..before]
        .iter()
        .rev()
        .filter(|mention| !mention.quoted)
        .take_while(within_memory);
    added
        .chain(earlier)
        .filter(|mention| mention.kind == MentionKind::Name)
        .find_map(|mention| {
            mention.entity.filter(|&entity| {
                let record = &speakers.entities[entity];
                record.kind == kind && genders_agree(record.gender, gender)
            })
        })
}

#[cfg(test)]
mod tests {
    use crate::document::Document;
    use crate::pipeline::{Pipeline, PipelineConfig};

    /// The rule stages alone, which these tests are about.
    fn analyse(text: &str) -> Document {
        Pipeline::new(PipelineConfig {
            spans: crate::pipeline::SpanChoice::Rules,
            ..PipelineConfig::default()
        })
        .expect("the shipped model loads")
        .analyse("test", text)
    }

    /// (content, speaker name, source mention) of each attribution.
    fn attributions(text: &str) -> Vec<(String, Option<String>, Option<String>)> {
        let document = analyse(text);
        let clean = &document.normalised.text;
        document
            .attributions
            .iter()
            .map(|attribution| {
                (
                    clean[attribution.start..attribution.end].to_string(),
                    attribution
                        .entity
                        .map(|entity| document.speakers.entities[entity].name.clone()),
                    attribution.mention.map(|mention| {
                        let mention = &document.speakers.mentions[mention];
                        clean[mention.start..mention.end].to_string()
                    }),
                )
            })
            .collect()
    }

    #[test]
    fn pronoun_source_resolves_to_the_previous_speaker() {
        let found = attributions(
            "Senator Jane Smith said the bill would pass. The vote is close, she said. It failed, she added.",
        );
        assert_eq!(found[0].1.as_deref(), Some("Jane Smith"));
        assert_eq!(found[1].1.as_deref(), Some("Jane Smith"));
        assert_eq!(found[1].2.as_deref(), Some("she"));
        assert_eq!(found[2].1.as_deref(), Some("Jane Smith"));
    }

    #[test]
    fn a_pronoun_skips_a_person_of_the_other_gender() {
        let found = attributions(
            "Mrs. Jones said the plant would close. Senator Tom Smith said the plant would stay open. She said the workers deserved better.",
        );
        let last = found.last().expect("three attributions");
        assert_eq!(last.2.as_deref(), Some("She"));
        assert_eq!(last.1.as_deref(), Some("Jones"));
    }

    #[test]
    fn who_is_named_after_the_noun_phrase_before_it() {
        for (text, phrase) in [
            (
                "Trump did not pay an architect who said the fee was never paid.",
                "an architect",
            ),
            (
                "The police met Scott's relatives, who said the video should be released.",
                "Scott's relatives",
            ),
            (
                "Most visas go to wealthy Chinese investors, who said the wait was long.",
                "wealthy Chinese investors",
            ),
        ] {
            let found = attributions(text);
            assert_eq!(found.len(), 1, "{text}: {found:?}");
            assert_eq!(found[0].2.as_deref(), Some("who"), "{text}: {found:?}");
            assert_eq!(found[0].1.as_deref(), Some(phrase), "{text}: {found:?}");
        }
    }

    #[test]
    fn who_after_a_name_and_an_age_is_that_person() {
        let found =
            attributions("Rep. Adam Schiff, 56, who said the vote would be close, left early.");
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].2.as_deref(), Some("who"));
        assert_eq!(found[0].1.as_deref(), Some("Adam Schiff"));
    }

    #[test]
    fn a_law_a_survey_or_a_review_is_no_antecedent_of_he_or_she() {
        for (text, person) in [
            (
                "Bill Clinton spoke in Flint on Monday about the Affordable Care Act. The premiums doubled, he said.",
                "Bill Clinton",
            ),
            (
                "Loretta Lynch read the American Community Survey closely. The numbers were grim, she said.",
                "Loretta Lynch",
            ),
        ] {
            let found = attributions(text);
            let last = found.last().expect("an attribution");
            assert_eq!(last.1.as_deref(), Some(person), "{text}: {found:?}");
        }
    }

    #[test]
    fn a_chancellor_is_a_title_and_a_woman_s_first_name_tells_her_gender() {
        let found = attributions(
            "German Chancellor Angela Merkel met the press. Mr. Renzi spoke later. The talks went well, she said.",
        );
        let last = found.last().expect("an attribution");
        assert_eq!(last.1.as_deref(), Some("Angela Merkel"), "{found:?}");
    }

    #[test]
    fn inverted_source_after_the_cue() {
        let found = attributions("“We will win,” said Governor John Doe.");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].1.as_deref(), Some("John Doe"));
        assert_eq!(found[0].2.as_deref(), Some("Governor John Doe"));
    }

    #[test]
    fn floating_quote_continues_the_previous_speaker_with_their_mention() {
        let found =
            attributions("“We are close,” Kerry said. “But not yet.” Then the talks ended.");
        assert_eq!(found.len(), 2);
        assert_eq!(found[1].0, "“But not yet.”");
        assert_eq!(found[1].1.as_deref(), Some("Kerry"));
        assert_eq!(found[1].2.as_deref(), Some("Kerry"));
    }

    #[test]
    fn floating_quote_with_no_speaker_before_it_has_none() {
        let found = attributions("“Nobody knows who said this.”");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].1, None);
    }

    #[test]
    fn nominal_source_resolves_through_the_title() {
        let found = attributions(
            "Russian Foreign Minister Sergey Lavrov arrived on Friday. The talks were hard, the minister said.",
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].1.as_deref(), Some("Sergey Lavrov"));
        assert_eq!(found[0].2.as_deref(), Some("the minister"));
    }

    #[test]
    fn unresolved_nominal_source_becomes_its_own_entity() {
        let found = attributions("Officials said the talks had failed.");
        assert_eq!(
            found,
            [(
                "the talks had failed".into(),
                Some("Officials".into()),
                Some("Officials".into())
            )]
        );
    }

    #[test]
    fn coordinated_subjects_speak_together() {
        let found = attributions("The United States and Russia say they have resolved the issues.");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].1.as_deref(), Some("United States and Russia"));
        assert_eq!(found[0].2.as_deref(), Some("The United States and Russia"));
    }

    #[test]
    fn cue_word_without_a_source_is_not_a_quote() {
        assert!(attributions("The plan called for more troops in the region.").is_empty());
    }

    #[test]
    fn features_record_the_construction() {
        let document = analyse("“We are close,” Kerry said.");
        let features = document.attributions[0].features;
        assert_eq!(
            features.pattern,
            Some(crate::quotes::Pattern::DirectCueAfter)
        );
        assert!(features.speech_cue);
        assert!(features.named_entity);
    }
}
