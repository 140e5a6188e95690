//! Word lists that the rule stages consult, and the quotation marks that they and eval share.
//!
//! The lists are plain text in `data/lexicon/`, compiled in, so that they can be reviewed and
//! edited as data. A list file holds one entry a line, in lower case (lookups lower-case the
//! word, so an entry with a capital could never match); a phrase is its words separated by one
//! space; blank lines and lines that start with `#` are skipped. `source_pronouns.txt` has two
//! columns, the pronoun and a [`PronounReference`] label, and `gendered_words.txt` two, the word
//! and a [`Gender`] label. A test rejects duplicate, empty and padded entries.
//!
//! Where two rules need different members of one class of words, the smaller set is a named part
//! of the larger one rather than a second list: the titles include the honorifics, the
//! determiners include the articles.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use crate::hash::FnvState;
pub use crate::labels::Gender;

/// A word list as a set. The keys are short words, which FNV hashes several times faster than
/// std's default SipHash (built to resist keys chosen to collide, which a fixed list's
/// lookups do not need); a lookup is made for most words of every document.
pub type WordSet = HashSet<&'static str, FnvState>;

/// A word list whose words each carry a value.
pub type WordMap<V> = HashMap<&'static str, V, FnvState>;

/// Every glyph that stands for a double quotation mark in news text. Normalisation rewrites each
/// of them as `“` or `”`.
pub const DOUBLE_QUOTATION_MARKS: [char; 8] = ['"', '“', '”', '„', '‟', '«', '»', '″'];

/// Double quotation marks spelt with two characters: the New York Times's two apostrophes, and
/// two backticks.
pub const DOUBLE_QUOTATION_DIGRAPHS: [&str; 2] = ["''", "``"];

/// The marks that make a gold quote direct when whosaid is scored. They follow the scoring
/// convention of the shared data (`../shared/data/README.md`) rather than
/// [`DOUBLE_QUOTATION_MARKS`], so that whosaid's numbers agree with other systems scored the same
/// way: the convention leaves out `‟`, `″` and the digraphs.
pub const SCORED_DOUBLE_QUOTATION_MARKS: [char; 6] = ['"', '“', '”', '„', '«', '»'];

macro_rules! list_files {
    ($($constant:ident = $file:literal;)*) => {
        $(const $constant: &str = include_str!(concat!("../data/lexicon/", $file));)*

        /// Every list file with its name, for the checks that hold for all of them.
        #[cfg(test)]
        const LIST_FILES: &[(&str, &str)] = &[$(($file, $constant)),*];
    };
}

list_files! {
    ABBREVIATIONS = "abbreviations.txt";
    SENTENCE_STARTERS = "sentence_starters.txt";
    NOT_NAMES = "not_names.txt";
    TITLES = "titles.txt";
    HONORIFICS = "honorifics.txt";
    ROLE_NOUNS = "role_nouns.txt";
    NOMINAL_SOURCES = "nominal_sources.txt";
    SOURCE_PRONOUNS = "source_pronouns.txt";
    GENDERED_WORDS = "gendered_words.txt";
    ORGANIZATION_WORDS = "organization_words.txt";
    COUNTRIES = "countries.txt";
    NATIONALITIES = "nationalities.txt";
    FIRST_NAMES = "first_names.txt";
    CUE_WORDS = "cue_words.txt";
    CUE_PHRASES = "cue_phrases.txt";
    SPEECH_VERBS = "speech_verbs.txt";
    AUXILIARIES = "auxiliaries.txt";
    DETERMINERS = "determiners.txt";
    ARTICLES = "articles.txt";
}

/// What a source pronoun can refer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PronounReference {
    Male,
    Female,
    Plural,
    /// "I" and "we": the speaker of the surrounding quote, or the writer.
    Speaker,
    /// "who": the noun phrase just before it.
    Relative,
    Neuter,
}

impl PronounReference {
    /// The reference named by its label in `source_pronouns.txt`.
    fn from_label(label: &str) -> Option<Self> {
        Some(match label {
            "male" => Self::Male,
            "female" => Self::Female,
            "plural" => Self::Plural,
            "speaker" => Self::Speaker,
            "relative" => Self::Relative,
            "neuter" => Self::Neuter,
            _ => return None,
        })
    }
}

impl Gender {
    /// The gender named by its label in `gendered_words.txt`.
    fn from_label(label: &str) -> Option<Self> {
        match label {
            "male" => Some(Self::Male),
            "female" => Some(Self::Female),
            _ => None,
        }
    }
}

impl PronounReference {
    /// The gender of a person this pronoun refers to, where it has one.
    pub fn gender(self) -> Option<Gender> {
        match self {
            Self::Male => Some(Gender::Male),
            Self::Female => Some(Gender::Female),
            _ => None,
        }
    }
}

/// The word lists, built once per process. Each set's meaning is in the header of its file in
/// `data/lexicon/`.
pub struct Lexicon {
    pub abbreviations: WordSet,
    pub sentence_starters: WordSet,
    pub not_names: WordSet,
    /// The titles, the honorifics among them.
    pub titles: WordSet,
    pub honorifics: WordSet,
    pub role_nouns: WordSet,
    pub nominal_sources: WordSet,
    /// The pronouns that can be the source of an attribution, and what each refers to.
    pub source_pronouns: WordMap<PronounReference>,
    /// First names, honorifics and roles that give a person's gender.
    pub genders: WordMap<Gender>,
    /// The source pronouns, nominal sources and role nouns together: the words that can head
    /// a speaker mention other than a name.
    pub speaker_words: WordSet,
    pub organization_words: WordSet,
    pub countries: WordSet,
    pub nationalities: WordSet,
    pub first_names: WordSet,
    pub cue_words: WordSet,
    /// Cues of several words, each as its words, in the order they are tried.
    pub cue_phrases: Vec<Vec<&'static str>>,
    pub speech_verbs: WordSet,
    pub auxiliaries: WordSet,
    /// The determiners, the articles among them.
    pub determiners: WordSet,
    pub articles: WordSet,
}

impl Lexicon {
    pub fn get() -> &'static Lexicon {
        static LEXICON: OnceLock<Lexicon> = OnceLock::new();
        LEXICON.get_or_init(|| {
            let set = |files: &[&'static str]| {
                files
                    .iter()
                    .flat_map(|file| entries(file))
                    .collect::<WordSet>()
            };
            let pronouns = source_pronouns();
            Lexicon {
                abbreviations: set(&[ABBREVIATIONS]),
                sentence_starters: set(&[SENTENCE_STARTERS]),
                not_names: set(&[NOT_NAMES]),
                titles: set(&[TITLES, HONORIFICS]),
                honorifics: set(&[HONORIFICS]),
                role_nouns: set(&[ROLE_NOUNS]),
                nominal_sources: set(&[NOMINAL_SOURCES]),
                speaker_words: set(&[NOMINAL_SOURCES, ROLE_NOUNS])
                    .into_iter()
                    .chain(pronouns.keys().copied())
                    .collect(),
                source_pronouns: pronouns,
                genders: genders(),
                organization_words: set(&[ORGANIZATION_WORDS]),
                countries: set(&[COUNTRIES]),
                nationalities: set(&[NATIONALITIES]),
                first_names: set(&[FIRST_NAMES]),
                cue_words: set(&[CUE_WORDS]),
                cue_phrases: entries(CUE_PHRASES)
                    .map(|phrase| phrase.split(' ').collect())
                    .collect(),
                speech_verbs: set(&[SPEECH_VERBS]),
                auxiliaries: set(&[AUXILIARIES]),
                determiners: set(&[DETERMINERS, ARTICLES]),
                articles: set(&[ARTICLES]),
            }
        })
    }
}

/// The entries of a list file: its lines, less blank lines and comments.
fn entries(file: &'static str) -> impl Iterator<Item = &'static str> {
    file.lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
}

/// The pronoun and the reference label of a line of `source_pronouns.txt`.
fn pronoun_columns(line: &str) -> Option<(&str, PronounReference)> {
    let (pronoun, label) = line.split_once(' ')?;
    Some((pronoun, PronounReference::from_label(label)?))
}

fn source_pronouns() -> WordMap<PronounReference> {
    entries(SOURCE_PRONOUNS)
        .map(|line| {
            // The file is compiled in and checked by the tests, so a bad line is a build error
            // that slipped through, not bad input.
            pronoun_columns(line).unwrap_or_else(|| {
                panic!(
                    "data/lexicon/source_pronouns.txt: {line:?} is not a pronoun and a reference"
                )
            })
        })
        .collect()
}

/// The word and the gender label of a line of `gendered_words.txt`.
fn gender_columns(line: &str) -> Option<(&str, Gender)> {
    let (word, label) = line.split_once(' ')?;
    Some((word, Gender::from_label(label)?))
}

fn genders() -> WordMap<Gender> {
    entries(GENDERED_WORDS)
        .map(|line| {
            // Compiled in and checked by the tests, as source_pronouns.txt is.
            gender_columns(line).unwrap_or_else(|| {
                panic!("data/lexicon/gendered_words.txt: {line:?} is not a word and a gender")
            })
        })
        .collect()
}

/// Looks a word up in a lower-case set without allocating for the common ASCII case.
pub fn contains_lower(set: &WordSet, word: &str) -> bool {
    if word.bytes().all(|byte| !byte.is_ascii_uppercase()) {
        return set.contains(word);
    }
    with_lower(word, |lowered| set.contains(lowered))
}

/// Calls `read` with `word` lower-cased as `str::to_lowercase` writes it, lowering a short
/// ASCII word (nearly every word of news) on the stack: the word-list lookups of the speaker
/// and quote stages, several for each word of a document, then allocate nothing.
pub fn with_lower<R>(word: &str, read: impl FnOnce(&str) -> R) -> R {
    const SHORT: usize = 32;
    if word.len() <= SHORT && word.is_ascii() {
        let mut buffer = [0u8; SHORT];
        let lowered = &mut buffer[..word.len()];
        lowered.copy_from_slice(word.as_bytes());
        lowered.make_ascii_lowercase();
        // ASCII lowered stays ASCII, so this cannot fail; the fallback keeps it total.
        if let Ok(lowered) = std::str::from_utf8(lowered) {
            return read(lowered);
        }
    }
    read(&word.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_lower_lowers_as_to_lowercase_does() {
        for word in [
            "Said",
            "KERRY",
            "already",
            "",
            "Ünited",
            "ΟΔΟΣ",
            "İstanbul",
            "A-Very-Long-Hyphenated-Compound-Word-Of-Many-Parts",
            "O'Neill’s",
        ] {
            assert_eq!(
                with_lower(word, str::to_string),
                word.to_lowercase(),
                "{word}"
            );
        }
    }

    /// What is wrong with the entries of the given list files taken together: empty entries,
    /// entries with stray white space or capitals, and entries listed twice (also across files
    /// that make one set).
    fn list_problems(files: &[(&str, &'static str)]) -> Vec<String> {
        let mut problems = Vec::new();
        let mut seen: HashMap<&str, &str> = HashMap::new();
        for &(name, text) in files {
            for entry in entries(text) {
                if entry.trim().is_empty() {
                    problems.push(format!("{name}: an empty entry {entry:?}"));
                    continue;
                }
                if entry.trim() != entry || entry.contains("  ") || entry.contains('\t') {
                    problems.push(format!("{name}: stray white space in {entry:?}"));
                }
                if entry.to_lowercase() != entry {
                    problems.push(format!("{name}: {entry:?} is not lower case"));
                }
                if let Some(first) = seen.insert(entry, name) {
                    problems.push(format!(
                        "{name}: {entry:?} is listed again (first in {first})"
                    ));
                }
            }
        }
        problems
    }

    #[test]
    fn the_checker_finds_duplicate_empty_and_padded_entries() {
        let problems = list_problems(&[
            ("one", "# a comment\nsaid\n\nsaid\n \nsays \nSays\n"),
            ("two", "told\nsays \n"),
        ]);
        assert_eq!(
            problems,
            [
                "one: \"said\" is listed again (first in one)",
                "one: an empty entry \" \"",
                "one: stray white space in \"says \"",
                "one: \"Says\" is not lower case",
                "two: stray white space in \"says \"",
                "two: \"says \" is listed again (first in one)",
            ]
        );
        assert!(list_problems(&[("clean", "# said, says\nsaid\nsays\n")]).is_empty());
    }

    #[test]
    fn list_files_have_no_duplicate_empty_or_padded_entries() {
        for &(name, text) in LIST_FILES {
            assert!(entries(text).next().is_some(), "{name} lists nothing");
            assert_eq!(list_problems(&[(name, text)]), Vec::<String>::new());
        }
    }

    #[test]
    fn sets_made_of_two_files_list_each_word_once() {
        for pair in [
            [("titles.txt", TITLES), ("honorifics.txt", HONORIFICS)],
            [("determiners.txt", DETERMINERS), ("articles.txt", ARTICLES)],
        ] {
            assert_eq!(list_problems(&pair), Vec::<String>::new());
        }
    }

    #[test]
    fn two_column_and_phrase_files_are_well_formed() {
        let mut pronouns = HashSet::new();
        for line in entries(SOURCE_PRONOUNS) {
            let (pronoun, _) = pronoun_columns(line)
                .unwrap_or_else(|| panic!("source_pronouns.txt: {line:?} is not two columns"));
            assert!(
                pronouns.insert(pronoun),
                "source_pronouns.txt: {pronoun:?} twice"
            );
        }
        let mut gendered = HashSet::new();
        for line in entries(GENDERED_WORDS) {
            let (word, _) = gender_columns(line).unwrap_or_else(|| {
                panic!("gendered_words.txt: {line:?} is not a word and a gender")
            });
            assert!(gendered.insert(word), "gendered_words.txt: {word:?} twice");
        }
        for phrase in entries(CUE_PHRASES) {
            assert!(
                phrase.contains(' '),
                "cue_phrases.txt: {phrase:?} is one word"
            );
        }
    }

    #[test]
    fn lexicon_holds_the_lists_and_their_parts() {
        let lexicon = Lexicon::get();
        assert!(lexicon.titles.is_superset(&lexicon.honorifics));
        assert!(lexicon.titles.contains("mr.") && lexicon.titles.contains("secretary"));
        assert!(!lexicon.honorifics.contains("secretary"));
        assert!(lexicon.determiners.is_superset(&lexicon.articles));
        assert!(lexicon.determiners.contains("his") && !lexicon.articles.contains("his"));
        assert_eq!(
            lexicon.source_pronouns.get("who"),
            Some(&PronounReference::Relative)
        );
        assert_eq!(lexicon.source_pronouns.get("him"), None);
        assert_eq!(lexicon.genders.get("mrs."), Some(&Gender::Female));
        assert_eq!(lexicon.genders.get("john"), Some(&Gender::Male));
        assert_eq!(lexicon.genders.get("pat"), None);
        assert_eq!(lexicon.cue_phrases[0], ["according", "to"]);
        assert!(lexicon.countries.contains("united states"));
        assert_eq!(lexicon.first_names.len(), entries(FIRST_NAMES).count());
        assert!(contains_lower(&lexicon.cue_words, "Said"));
    }

    #[test]
    fn the_scored_marks_are_double_quotation_marks() {
        for mark in SCORED_DOUBLE_QUOTATION_MARKS {
            assert!(DOUBLE_QUOTATION_MARKS.contains(&mark), "{mark}");
        }
    }
}
