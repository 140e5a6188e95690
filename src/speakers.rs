//! Stage 4: mentions of people and organisations, grouped per document into entities.
//!
//! Names come from runs of capitalised tokens, split into a title ("U.S. Secretary of State") and
//! a name ("John Kerry"); pronouns and nominal mentions ("the minister", "officials") are found
//! too, but they are linked to an entity only by the attribution stage, which knows whose turn it
//! is. Names are grouped by surname, so "Kerry" joins "John Kerry".

use std::collections::HashMap;
use std::ops::Range;

pub use crate::document::speakers::{Entity, Mention, Speakers};
use crate::document::Document;
use crate::labels::{EntityKind, MentionKind};
use crate::lexicon::{contains_lower, with_lower, Gender, Lexicon};
use crate::names::spelling_variant;
use crate::quotes::{token_text, QuotedRegion};
use crate::segment::{Segmented, Token, TokenKind};
use crate::stage::{unbounded, Check, Clock, DocumentStage, Halt, Unbounded};

const CONNECTORS: &[&str] = &[
    "of", "de", "da", "van", "von", "der", "den", "bin", "al", "la", "le", "du", "del", "di",
];
const PERSON_CONNECTORS: &[&str] = &[
    "de", "da", "van", "von", "der", "den", "bin", "al", "du", "del", "di",
];
const NOMINAL_MODIFIERS: &[&str] = &[
    "the",
    "a",
    "an",
    "some",
    "many",
    "several",
    "other",
    "two",
    "three",
    "four",
    "five",
    "senior",
    "top",
    "former",
    "one",
    "most",
    "few",
    "both",
    "all",
    "his",
    "her",
    "their",
    "its",
    "campaign",
    "administration",
    "white",
    "house",
    "state",
    "party",
    "press",
];

fn lower(word: &str) -> String {
    strip_possessive(word).to_lowercase()
}

/// Calls `read` with [`lower`]'s word, without allocating it for a short ASCII word.
fn with_lower_stem<R>(word: &str, read: impl FnOnce(&str) -> R) -> R {
    with_lower(strip_possessive(word), read)
}

fn strip_possessive(word: &str) -> &str {
    word.strip_suffix("’s")
        .or_else(|| word.strip_suffix("'s"))
        .or_else(|| word.strip_suffix('’'))
        .unwrap_or(word)
}

fn is_possessive(word: &str) -> bool {
    strip_possessive(word).len() != word.len()
}

fn is_capitalised(word: &str) -> bool {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) if first.is_uppercase() => true,
        // "al-Nusra", "el-Sisi": a prefix of three bytes at most, so the dash is among the
        // first four.
        Some(first) if first.is_lowercase() => word
            .bytes()
            .take(4)
            .position(|byte| byte == b'-')
            .is_some_and(|dash| {
                word[dash + 1..]
                    .chars()
                    .next()
                    .is_some_and(char::is_uppercase)
            }),
        _ => false,
    }
}

fn is_title_word(word: &str) -> bool {
    let lexicon = Lexicon::get();
    with_lower_stem(word, |word| {
        lexicon.titles.contains(word) || lexicon.nationalities.contains(word)
    })
}

/// Finds the mentions and entities of a document.
pub fn find_speakers(text: &str, segmented: &Segmented, regions: &[QuotedRegion]) -> Speakers {
    unbounded(find_speakers_checked(text, segmented, regions, &Unbounded))
}

/// [`find_speakers`], calling `check` once a sentence.
pub fn find_speakers_checked<C: Check>(
    text: &str,
    segmented: &Segmented,
    regions: &[QuotedRegion],
    check: &C,
) -> Result<Speakers, C::Stop> {
    let mut speakers = Speakers::default();
    let tokens = &segmented.tokens;
    let mut quoted = vec![false; tokens.len()];
    for region in regions.iter().filter(|region| region.standalone) {
        for slot in &mut quoted[region.tokens.clone()] {
            *slot = true;
        }
    }
    for sentence in &segmented.sentences {
        check.check()?;
        find_names(
            text,
            tokens,
            sentence.tokens.clone(),
            &quoted,
            &mut speakers,
        );
        find_pronouns_and_nominals(
            text,
            tokens,
            sentence.tokens.clone(),
            &quoted,
            &mut speakers,
        );
    }
    speakers
        .mentions
        .sort_by_key(|mention| (mention.start, std::cmp::Reverse(mention.end)));
    let mentions = std::mem::take(&mut speakers.mentions);
    for mention in mentions {
        speakers.add_mention(mention);
    }
    check.check()?;
    group_names(text, tokens, &mut speakers);
    apposition_titles(text, tokens, &mut speakers);
    Ok(speakers)
}

/// The fourth stage: names, titles, organisations, pronouns and nominal mentions, grouped into
/// entities.
pub struct SpeakerStage;

impl DocumentStage for SpeakerStage {
    fn name(&self) -> &'static str {
        "speakers"
    }

    fn run(&self, document: &mut Document, clock: &Clock) -> Result<(), Halt> {
        document.speakers = find_speakers_checked(
            &document.normalised.text,
            &document.segmented,
            &document.regions,
            clock,
        )?;
        Ok(())
    }
}

fn find_names(
    text: &str,
    tokens: &[Token],
    sentence: Range<usize>,
    quoted: &[bool],
    speakers: &mut Speakers,
) {
    let lexicon = Lexicon::get();
    let word = |index: usize| token_text(text, &tokens[index]);
    // Each token is asked about again and again as the scan below looks ahead, so it is asked
    // once.
    let name_tokens: Vec<bool> = sentence
        .clone()
        .map(|index| {
            tokens[index].kind == TokenKind::Word
                && is_capitalised(word(index))
                && !contains_lower(
                    &lexicon.not_names,
                    strip_possessive(word(index)).trim_end_matches('.'),
                )
        })
        .collect();
    let is_name_token = |index: usize| {
        index
            .checked_sub(sentence.start)
            .and_then(|offset| name_tokens.get(offset))
            .copied()
            .unwrap_or(false)
    };
    let opens_with_connector = |index: usize| {
        PERSON_CONNECTORS.contains(&word(index))
            && index + 1 < sentence.end
            && is_name_token(index + 1)
    };
    let mut index = sentence.start;
    while index < sentence.end {
        // The cheap test first: most words are not followed by a capitalised one.
        let title_then_name = index + 1 < sentence.end
            && is_name_token(index + 1)
            && is_title_word(word(index))
            && !with_lower_stem(word(index), |word| CONNECTORS.contains(&word));
        if !is_name_token(index) && !title_then_name && !opens_with_connector(index) {
            index += 1;
            continue;
        }
        let start = index;
        let mut end = index;
        if opens_with_connector(index) {
            end += 1;
        }
        while end < sentence.end {
            if is_name_token(end)
                || (end + 1 < sentence.end && is_name_token(end + 1)) && is_title_word(word(end))
            {
                end += 1;
                if is_possessive(word(end - 1)) && !(end < sentence.end && is_name_token(end)) {
                    break;
                }
            } else if CONNECTORS.contains(&word(end))
                && end > start
                && end + 1 < sentence.end
                && is_name_token(end + 1)
            {
                end += 1;
            } else {
                break;
            }
        }
        index = end.max(start + 1);
        let mut start = start;
        // "Injecting Clinton’s marital troubles…": a capitalised gerund opens the sentence, and
        // would otherwise become the first name of every later "Clinton".
        if start == sentence.start
            && end - start >= 2
            && is_sentence_opening_gerund(word(start))
            && is_name_token(start + 1)
        {
            start += 1;
        }
        // "Rival Hillary Clinton said": a capitalised word opening the sentence before a first
        // name and a surname is not part of the name.
        if start == sentence.start
            && end - start >= 3
            && !contains_lower(&lexicon.first_names, word(start))
            && !is_title_word(word(start))
            && contains_lower(&lexicon.first_names, word(start + 1))
        {
            start += 1;
        }
        // "New" is not a name on its own ("New polls show"), but "New York" is one name.
        let new_place = start > sentence.start
            && word(start - 1) == "New"
            && with_lower(word(start), |place| NEW_PLACES.contains(&place));
        if new_place {
            start -= 1;
        }
        let mut name_start = start;
        while name_start < end
            && is_title_word(word(name_start))
            && !is_name_only_lexeme(word(name_start), end - name_start)
        {
            name_start += 1;
        }
        // "General Motors", "Democratic Party": what would be left after the title is one
        // organisation word, so the title words are the organisation's name.
        if end - name_start == 1
            && name_start > start
            && contains_lower(&lexicon.organization_words, word(end - 1))
        {
            // Lower-case title words ("former", "then-") stay the mention's, not the name's.
            name_start = (start..end)
                .find(|&index| is_capitalised(word(index)))
                .unwrap_or(start);
        }
        // "Massachusetts Sen. Elizabeth Warren", "Wells Fargo CEO John Stumpf": a person's
        // title inside the span parts an affiliation from the name.
        if let Some(title) = inner_title(text, tokens, name_start..end) {
            name_start = title + 1;
        }
        // "NBC’s Dante Chinni": what comes before a possessive is the name's affiliation.
        if let Some(possessive) = (name_start..end.saturating_sub(1))
            .rev()
            .find(|&index| is_possessive(word(index)))
        {
            name_start = possessive + 1;
        }
        let whole = lower_join(text, tokens, start..end);
        let kind_hint;
        let (kind, name_tokens) =
            if lexicon.countries.contains(whole.as_str()) || (new_place && end - start == 2) {
                kind_hint = Some(EntityKind::Organization);
                (MentionKind::Name, start..end)
            } else if name_start == end {
                let last = lower(word(end - 1));
                if lexicon.organization_words.contains(last.as_str())
                    || lexicon.countries.contains(last.as_str())
                {
                    kind_hint = Some(EntityKind::Organization);
                    (MentionKind::Name, start..end)
                } else if lexicon.role_nouns.contains(last.as_str()) {
                    kind_hint = Some(EntityKind::Person);
                    (MentionKind::Nominal, start..end)
                } else {
                    continue;
                }
            } else {
                kind_hint = name_kind(text, tokens, start..name_start, name_start..end);
                (MentionKind::Name, name_start..end)
            };
        if kind == MentionKind::Name
            && name_tokens.len() == 1
            && contains_lower(&lexicon.nominal_sources, word(name_tokens.start))
        {
            continue;
        }
        speakers.mentions.push(Mention {
            tokens: start..end,
            start: tokens[start].start,
            end: tokens[end - 1].end,
            kind,
            name_tokens,
            kind_hint,
            pronoun: None,
            entity: None,
            quoted: quoted[start],
        });
    }
}

/// The places whose names begin with "New", which alone is not a name.
const NEW_PLACES: &[&str] = &[
    "york",
    "jersey",
    "hampshire",
    "mexico",
    "orleans",
    "zealand",
    "delhi",
    "england",
    "haven",
    "yorker",
    "republic",
];

/// A capitalised "-ing" word that is not a first name: "Injecting", "Following".
fn is_sentence_opening_gerund(word: &str) -> bool {
    word.len() >= 6
        && with_lower(word, |word| {
            word.ends_with("ing") && !Lexicon::get().first_names.contains(word)
        })
}

/// The last of the span's title words that parts an affiliation before it from a person's
/// name after it, if any: a title of a person (not a connector such as "of", a nationality
/// or an organisation word), followed by two or more name words none of which is a title or
/// an organisation word.
fn inner_title(text: &str, tokens: &[Token], span: Range<usize>) -> Option<usize> {
    let lexicon = Lexicon::get();
    let word = |index: usize| token_text(text, &tokens[index]);
    let is_person_title = |index: usize| {
        with_lower_stem(word(index), |word| {
            lexicon.titles.contains(word)
                && !lexicon.organization_words.contains(word)
                && !lexicon.nationalities.contains(word)
                && !CONNECTORS.contains(&word)
        })
    };
    let is_plain_name_word = |index: usize| {
        PERSON_CONNECTORS.contains(&word(index))
            || is_capitalised(word(index))
                && with_lower_stem(word(index), |word| {
                    !lexicon.titles.contains(word)
                        && !lexicon.organization_words.contains(word)
                        && !lexicon.nationalities.contains(word)
                })
    };
    let title = (span.start..span.end.saturating_sub(2))
        .rev()
        .find(|&index| is_person_title(index))?;
    ((title + 1..span.end).all(is_plain_name_word)).then_some(title)
}

/// Words that are titles elsewhere but names here: "State" in "Islamic State" is not a title
/// when nothing follows it.
fn is_name_only_lexeme(word: &str, remaining: usize) -> bool {
    remaining == 1
        && !with_lower_stem(word, |word| Lexicon::get().honorifics.contains(word))
        && is_capitalised(word)
}

fn lower_join(text: &str, tokens: &[Token], range: Range<usize>) -> String {
    let mut joined = String::new();
    for (position, token) in tokens[range].iter().enumerate() {
        if position > 0 {
            joined.push(' ');
        }
        joined.push_str(&lower(token_text(text, token)));
    }
    joined
}

fn name_kind(
    text: &str,
    tokens: &[Token],
    title: Range<usize>,
    name: Range<usize>,
) -> Option<EntityKind> {
    let lexicon = Lexicon::get();
    let words: Vec<String> = tokens[name.clone()]
        .iter()
        .map(|token| lower(token_text(text, token)))
        .collect();
    let joined = words.join(" ");
    if lexicon.countries.contains(joined.as_str())
        || words
            .iter()
            .any(|word| lexicon.organization_words.contains(word.as_str()))
    {
        return Some(EntityKind::Organization);
    }
    let first = token_text(text, &tokens[name.start]);
    if words.len() == 1
        && first.len() >= 2
        && first.chars().all(|ch| ch.is_uppercase() || ch == '.')
    {
        return Some(EntityKind::Organization);
    }
    let has_person_title = tokens[title].iter().any(|token| {
        with_lower_stem(token_text(text, token), |word| {
            lexicon.titles.contains(word)
        })
    });
    if has_person_title
        || lexicon.first_names.contains(words[0].as_str())
        || words
            .iter()
            .any(|word| PERSON_CONNECTORS.contains(&word.as_str()))
        || words.len() >= 2
    {
        return Some(EntityKind::Person);
    }
    None
}

fn find_pronouns_and_nominals(
    text: &str,
    tokens: &[Token],
    sentence: Range<usize>,
    quoted: &[bool],
    speakers: &mut Speakers,
) {
    let lexicon = Lexicon::get();
    for index in sentence.clone() {
        if quoted[index] || tokens[index].kind != TokenKind::Word {
            continue;
        }
        let word = token_text(text, &tokens[index]);
        let (pronoun, nominal_or_role) = with_lower(word, |lowered| {
            // Nearly every word is none of these: one lookup says so.
            if !lexicon.speaker_words.contains(lowered) {
                return (None, false);
            }
            (
                lexicon.source_pronouns.get(lowered).copied(),
                lexicon.nominal_sources.contains(lowered) || lexicon.role_nouns.contains(lowered),
            )
        });
        if let Some(reference) = pronoun {
            speakers.mentions.push(Mention {
                tokens: index..index + 1,
                start: tokens[index].start,
                end: tokens[index].end,
                kind: MentionKind::Pronoun,
                name_tokens: index..index + 1,
                kind_hint: None,
                pronoun: Some(reference),
                entity: None,
                quoted: false,
            });
            continue;
        }
        let is_head = nominal_or_role && (!is_capitalised(word) || index == sentence.start);
        if !is_head {
            continue;
        }
        let continues = tokens.get(index + 1).is_some_and(|next| {
            index + 1 < sentence.end
                && with_lower(token_text(text, next), |next| {
                    lexicon.nominal_sources.contains(next)
                })
        });
        if continues {
            continue;
        }
        let mut start = index;
        while start > sentence.start && index - start < 5 {
            let previous = token_text(text, &tokens[start - 1]);
            let (modifier_word, article) = with_lower_stem(previous, |previous| {
                (
                    NOMINAL_MODIFIERS.contains(&previous),
                    lexicon.articles.contains(previous),
                )
            });
            let modifier = tokens[start - 1].kind == TokenKind::Word
                && (modifier_word
                    || is_title_word(previous)
                    || (is_capitalised(previous)
                        && !contains_lower(&lexicon.not_names, strip_possessive(previous))));
            if !modifier || quoted[start - 1] {
                break;
            }
            start -= 1;
            // Only an article closes the mention: the other determiners would cut "Many of his
            // supporters" to "his supporters", and change what PolNeAR scores.
            if article {
                break;
            }
        }
        speakers.mentions.push(Mention {
            tokens: start..index + 1,
            start: tokens[start].start,
            end: tokens[index].end,
            kind: MentionKind::Nominal,
            name_tokens: start..index + 1,
            kind_hint: None,
            pronoun: None,
            entity: None,
            quoted: false,
        });
    }
}

/// The surname-keyed grouping of name mentions into entities.
fn group_names(text: &str, tokens: &[Token], speakers: &mut Speakers) {
    let name_of = |mention: &Mention| -> Vec<String> {
        tokens[mention.name_tokens.clone()]
            .iter()
            .map(|token| lower(token_text(text, token)))
            .collect()
    };
    let mut by_key: HashMap<String, Vec<usize>> = HashMap::new();
    let first_word = |name: &str| name.split(' ').next().unwrap_or("").to_lowercase();
    // Person entities by the first word of their name, so that a lone first name finds its
    // entity without a scan of every entity (which made long documents quadratic). An entity
    // whose name changes is filed again; stale entries are checked out on lookup.
    let mut by_first_name: HashMap<String, Vec<usize>> = HashMap::new();
    for (entity, record) in speakers.entities.iter().enumerate() {
        if record.kind == EntityKind::Person {
            by_first_name
                .entry(first_word(&record.name))
                .or_default()
                .push(entity);
        }
    }
    let order: Vec<usize> = (0..speakers.mentions.len()).collect();
    // Full names and known kinds first, so that a bare surname finds its entity even when the
    // full name comes later in the text.
    for pass in 0..2 {
        for &mention_index in &order {
            let mention = &speakers.mentions[mention_index];
            if mention.kind != MentionKind::Name || mention.entity.is_some() {
                continue;
            }
            let words = name_of(mention);
            let full = words.len() >= 2 || mention.kind_hint.is_some();
            if (pass == 0) != full {
                continue;
            }
            let display = text
                [tokens[mention.name_tokens.start].start..tokens[mention.name_tokens.end - 1].end]
                .to_string();
            let display = strip_possessive(&display).to_string();
            let title = (mention.name_tokens.start > mention.tokens.start).then(|| {
                text[tokens[mention.tokens.start].start..tokens[mention.name_tokens.start - 1].end]
                    .to_string()
            });
            // "Mrs. Clinton" is not "Bill Clinton", whatever their surname.
            let gender = gender_of_person(&display, title.as_deref());
            let genders_agree =
                |entity: usize| genders_agree(speakers.entities[entity].gender, gender);
            let key = entity_key(&words, mention.kind_hint);
            let candidates = by_key.get(&key).cloned().unwrap_or_default();
            let compatible = candidates.iter().rev().copied().find(|&entity| {
                let entity_words: Vec<String> = speakers.entities[entity]
                    .name
                    .split(' ')
                    .map(str::to_lowercase)
                    .collect();
                first_names_agree(&entity_words, &words) && genders_agree(entity)
            });
            let single_first_name = if words.len() == 1 && compatible.is_none() {
                let mut matches: Vec<usize> = by_first_name
                    .get(&words[0])
                    .into_iter()
                    .flatten()
                    .copied()
                    .filter(|&entity| {
                        speakers.entities[entity].kind == EntityKind::Person
                            && first_word(&speakers.entities[entity].name) == words[0]
                            && genders_agree(entity)
                    })
                    .collect();
                matches.sort_unstable();
                matches.dedup();
                (matches.len() == 1).then(|| matches[0])
            } else {
                None
            };
            match compatible.or(single_first_name) {
                Some(entity) => {
                    speakers.link(mention_index, entity);
                    note_gender(&mut speakers.entities[entity], &display, title.as_deref());
                    let title =
                        title.filter(|_| speakers.entities[entity].kind == EntityKind::Person);
                    let before = first_word(&speakers.entities[entity].name);
                    add_name(&mut speakers.entities[entity], display, title);
                    let after = first_word(&speakers.entities[entity].name);
                    if after != before && speakers.entities[entity].kind == EntityKind::Person {
                        by_first_name.entry(after).or_default().push(entity);
                    }
                }
                None if full => {
                    let kind = mention.kind_hint.unwrap_or(EntityKind::Person);
                    let entity = speakers.new_entity(mention_index, display, kind);
                    speakers.entities[entity].gender =
                        gender.filter(|_| kind == EntityKind::Person);
                    speakers.entities[entity].title =
                        title.filter(|title| kind == EntityKind::Person && !is_honorific(title));
                    by_key.entry(key).or_default().push(entity);
                    if kind == EntityKind::Person {
                        by_first_name
                            .entry(first_word(&speakers.entities[entity].name))
                            .or_default()
                            .push(entity);
                    }
                }
                None => {}
            }
        }
    }
}

/// The gender that a person's name and title give: the first name of a name of two words or
/// more ("Elizabeth Warren"; a lone word may be a surname), else the first gendered word of
/// the title ("Mrs.", "spokeswoman").
pub(crate) fn gender_of_person(name: &str, title: Option<&str>) -> Option<Gender> {
    let genders = &Lexicon::get().genders;
    let mut words = name.split_whitespace();
    let first_name = match (words.next(), words.next()) {
        (Some(first), Some(_)) => with_lower_stem(first, |first| genders.get(first).copied()),
        _ => None,
    };
    first_name.or_else(|| {
        title?
            .split_whitespace()
            .find_map(|word| with_lower_stem(word, |word| genders.get(word).copied()))
    })
}

/// Whether a person of the `known` gender can be the one `wanted`: yes unless both are known
/// and differ.
pub(crate) fn genders_agree(known: Option<Gender>, wanted: Option<Gender>) -> bool {
    known.is_none() || wanted.is_none() || known == wanted
}

/// Records the gender a newly linked name and title give a person, where none is known yet:
/// the first evidence stands, so that one odd mention does not flip an entity.
fn note_gender(entity: &mut Entity, name: &str, title: Option<&str>) {
    if entity.kind == EntityKind::Person && entity.gender.is_none() {
        entity.gender = gender_of_person(name, title);
    }
}

fn is_honorific(title: &str) -> bool {
    with_lower(title, |title| Lexicon::get().honorifics.contains(title))
}

fn entity_key(words: &[String], kind: Option<EntityKind>) -> String {
    if kind == Some(EntityKind::Organization) {
        let joined = words.join(" ");
        return match joined.as_str() {
            "u.s." | "us" | "usa" | "america" | "united states" | "u.s.a." => {
                "united states".into()
            }
            "u.n." | "un" | "united nations" => "united nations".into(),
            "u.k." | "uk" | "britain" | "united kingdom" => "united kingdom".into(),
            "gop" | "republican party" => "republican party".into(),
            _ => joined,
        };
    }
    words.last().cloned().unwrap_or_default()
}

/// Two names of the same surname name the same person unless both give different first names.
fn first_names_agree(entity_words: &[String], words: &[String]) -> bool {
    let has_first_name =
        |words: &[String]| words.len() >= 2 && !PERSON_CONNECTORS.contains(&words[0].as_str());
    if !has_first_name(entity_words) || !has_first_name(words) {
        return true;
    }
    entity_words[0] == words[0] || spelling_variant(&entity_words[0], &words[0])
}

fn add_name(entity: &mut Entity, name: String, title: Option<String>) {
    let words = |name: &str| name.split(' ').count();
    if words(&name) > words(&entity.name) {
        let old = std::mem::replace(&mut entity.name, name);
        if !entity.aliases.contains(&old) {
            entity.aliases.push(old);
        }
    } else if name != entity.name && !entity.aliases.contains(&name) {
        entity.aliases.push(name);
    }
    if let Some(title) = title.filter(|title| !is_honorific(title)) {
        let longer = entity
            .title
            .as_ref()
            .is_none_or(|current| current.len() < title.len());
        if longer {
            entity.title = Some(title);
        }
    }
}

/// "The U.N. envoy, Staffan de Mistura": the role before the comma is the name's title, and the
/// nominal refers to the same entity.
fn apposition_titles(text: &str, tokens: &[Token], speakers: &mut Speakers) {
    let lexicon = Lexicon::get();
    for mention_index in 0..speakers.mentions.len() {
        let mention = &speakers.mentions[mention_index];
        let Some(entity) = mention.entity else {
            continue;
        };
        if mention.kind != MentionKind::Name || mention.tokens.start < 2 {
            continue;
        }
        let comma = mention.tokens.start - 1;
        if token_text(text, &tokens[comma]) != "," {
            continue;
        }
        let role_end = comma - 1;
        if !contains_lower(&lexicon.role_nouns, token_text(text, &tokens[role_end])) {
            continue;
        }
        let mut role_start = role_end;
        while role_start > 0 && role_end - role_start < 5 {
            let previous = token_text(text, &tokens[role_start - 1]);
            if tokens[role_start - 1].kind != TokenKind::Word
                || !(is_title_word(previous) || is_capitalised(previous))
                || contains_lower(&lexicon.not_names, previous)
            {
                break;
            }
            role_start -= 1;
        }
        let title = text[tokens[role_start].start..tokens[role_end].end].to_string();
        let name = speakers.entities[entity].name.clone();
        note_gender(&mut speakers.entities[entity], &name, Some(&title));
        if speakers.entities[entity].title.is_none() {
            speakers.entities[entity].title = Some(title);
        }
        if let Some(nominal) = speakers.mention_ending_at(role_end) {
            if speakers.mentions[nominal].entity.is_none() {
                speakers.link(nominal, entity);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalise::normalise;
    use crate::quotes::quoted_regions;
    use crate::segment::segment;

    fn analyse(original: &str) -> (String, Speakers) {
        let normalised = normalise(original);
        let segmented = segment(&normalised.text);
        let regions = quoted_regions(&normalised.text, &normalised, &segmented);
        let speakers = find_speakers(&normalised.text, &segmented, &regions);
        (normalised.text, speakers)
    }

    /// The text of every name mention, in order.
    fn name_mentions<'a>(text: &'a str, speakers: &Speakers) -> Vec<&'a str> {
        speakers
            .mentions
            .iter()
            .filter(|mention| mention.kind == MentionKind::Name)
            .map(|mention| &text[mention.start..mention.end])
            .collect()
    }

    fn entity_named<'a>(speakers: &'a Speakers, name: &str) -> &'a Entity {
        speakers
            .entities
            .iter()
            .find(|entity| entity.name == name)
            .unwrap_or_else(|| panic!("no entity {name} in {:?}", speakers.entities))
    }

    #[test]
    fn titled_names_are_split_and_grouped() {
        let (_, speakers) = analyse(
            "U.S. Secretary of State John Kerry and Russian Foreign Minister Sergey Lavrov met. Kerry said it went well. Lavrov agreed.",
        );
        let kerry = entity_named(&speakers, "John Kerry");
        assert_eq!(kerry.title.as_deref(), Some("U.S. Secretary of State"));
        assert_eq!(kerry.kind, EntityKind::Person);
        assert_eq!(kerry.mentions.len(), 2);
        assert_eq!(kerry.aliases, ["Kerry"]);
        let lavrov = entity_named(&speakers, "Sergey Lavrov");
        assert_eq!(lavrov.title.as_deref(), Some("Russian Foreign Minister"));
    }

    #[test]
    fn countries_and_organisations_are_organisations() {
        let (_, speakers) =
            analyse("The United States and Russia say they agree. The U.S. disagreed later.");
        let united_states = entity_named(&speakers, "United States");
        assert_eq!(united_states.kind, EntityKind::Organization);
        assert_eq!(united_states.mentions.len(), 2);
        assert_eq!(
            entity_named(&speakers, "Russia").kind,
            EntityKind::Organization
        );
    }

    #[test]
    fn apposition_gives_the_title() {
        let (_, speakers) = analyse("The U.N. envoy, Staffan de Mistura, briefly sat in.");
        let envoy = entity_named(&speakers, "Staffan de Mistura");
        assert_eq!(envoy.title.as_deref(), Some("U.N. envoy"));
    }

    #[test]
    fn pronouns_and_nominals_are_mentions() {
        let (text, speakers) = analyse("He said so. Senior officials said no.");
        let kinds: Vec<(MentionKind, &str)> = speakers
            .mentions
            .iter()
            .map(|mention| (mention.kind, &text[mention.start..mention.end]))
            .collect();
        assert!(kinds.contains(&(MentionKind::Pronoun, "He")));
        assert!(kinds.contains(&(MentionKind::Nominal, "Senior officials")));
    }

    #[test]
    fn a_title_inside_a_name_parts_the_affiliation_from_the_person() {
        for (text, name, title) in [
            (
                "Massachusetts Sen. Elizabeth Warren spoke.",
                "Elizabeth Warren",
                "Massachusetts Sen.",
            ),
            (
                "On Monday, Wells Fargo CEO John Stumpf spoke.",
                "John Stumpf",
                "Wells Fargo CEO",
            ),
            (
                "Then Retired Lt. Gen. Michael Flynn spoke.",
                "Michael Flynn",
                "Retired Lt. Gen.",
            ),
            (
                "The U.N. Special Envoy Staffan de Mistura spoke.",
                "Staffan de Mistura",
                "U.N. Special Envoy",
            ),
        ] {
            let (_, speakers) = analyse(text);
            let person = entity_named(&speakers, name);
            assert_eq!(person.kind, EntityKind::Person, "{text}");
            assert_eq!(person.title.as_deref(), Some(title), "{text}");
        }
    }

    #[test]
    fn an_affiliation_is_an_entity_of_its_own() {
        let (text, speakers) = analyse(
            "PolitiFact Executive Director Aaron Sharockman spoke. PolitiFact said it would review it.",
        );
        let person = entity_named(&speakers, "Aaron Sharockman");
        assert_eq!(person.mentions.len(), 1);
        let affiliation = speakers
            .mentions
            .iter()
            .find(|mention| &text[mention.start..mention.end] == "PolitiFact")
            .expect("the second sentence names PolitiFact");
        assert_eq!(affiliation.entity, None);
    }

    #[test]
    fn organisation_names_keep_the_words_that_are_titles_elsewhere() {
        for (text, name) in [
            ("He sold General Motors shares.", "General Motors"),
            ("He left the Democratic Party in May.", "Democratic Party"),
            ("A report in The New York Times said so.", "New York Times"),
        ] {
            let (_, speakers) = analyse(text);
            let organisation = entity_named(&speakers, name);
            assert_eq!(organisation.kind, EntityKind::Organization, "{text}");
        }
        // "New" alone is no name, and a place that begins with it is one.
        let (text, speakers) = analyse("New polls came out. He flew to New Jersey.");
        assert_eq!(name_mentions(&text, &speakers), ["New Jersey"]);
    }

    #[test]
    fn a_word_opening_a_sentence_before_a_name_is_not_part_of_it() {
        let (text, speakers) = analyse(
            "Injecting Clinton’s troubles into the race is new. Clinton said so. Rival Donald Trump agreed.",
        );
        assert_eq!(
            name_mentions(&text, &speakers),
            ["Clinton’s", "Clinton", "Donald Trump"]
        );
        assert_eq!(speakers.entities.len(), 1, "{:?}", speakers.entities);
        entity_named(&speakers, "Donald Trump");
    }

    #[test]
    fn a_surname_with_an_honorific_of_the_other_gender_is_another_person() {
        let (_, speakers) = analyse(
            "President Bill Clinton spoke first. Mrs. Clinton spoke next. Mr. Clinton left.",
        );
        let bill = entity_named(&speakers, "Bill Clinton");
        assert_eq!(bill.gender, Some(Gender::Male));
        assert_eq!(bill.mentions.len(), 2);
        let other = entity_named(&speakers, "Clinton");
        assert_eq!(other.gender, Some(Gender::Female));
        assert_eq!(other.title, None);
    }

    #[test]
    fn different_first_names_are_different_people() {
        let (_, speakers) = analyse("Hillary Clinton spoke. Bill Clinton listened.");
        assert_eq!(speakers.entities.len(), 2);
    }
}
