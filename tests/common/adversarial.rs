//! Hostile documents, by family, of any size: text that real corpora hold and that breaks
//! super-linear code. Shared by the linear-time test (tests/adversarial.rs) and the benchmark
//! (`scripts/bench-adversarial`, through `examples/adversarial.rs`).
#![allow(dead_code)]

/// A kind of hostile text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Speech verbs and names with no sentence punctuation at all, lower case.
    NoPunctuation,
    /// One quotation mark, over and over.
    RepeatedQuoteMark,
    /// One direct quote as long as the document, of punctuated sentences.
    LongQuote,
    /// One word, a speech verb, over and over.
    OneWordRepeated,
    /// Capitalised words only, as in a run of names.
    CapitalisedWords,
    /// Titles one after another.
    TitleList,
    /// Thousands of pronouns.
    Pronouns,
    /// Quotes inside quotes inside quotes.
    NestedQuotes,
    /// News text with every line joined into one.
    LongLine,
    /// News text with a line break after every word.
    NewlinePerWord,
    /// Several scripts and combining marks.
    MixedScripts,
}

impl Family {
    pub const ALL: [Family; 11] = [
        Family::NoPunctuation,
        Family::RepeatedQuoteMark,
        Family::LongQuote,
        Family::OneWordRepeated,
        Family::CapitalisedWords,
        Family::TitleList,
        Family::Pronouns,
        Family::NestedQuotes,
        Family::LongLine,
        Family::NewlinePerWord,
        Family::MixedScripts,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Family::NoPunctuation => "no-punctuation",
            Family::RepeatedQuoteMark => "repeated-quote-mark",
            Family::LongQuote => "long-quote",
            Family::OneWordRepeated => "one-word-repeated",
            Family::CapitalisedWords => "capitalised-words",
            Family::TitleList => "title-list",
            Family::Pronouns => "pronouns",
            Family::NestedQuotes => "nested-quotes",
            Family::LongLine => "long-line",
            Family::NewlinePerWord => "newline-per-word",
            Family::MixedScripts => "mixed-scripts",
        }
    }

    pub fn from_name(name: &str) -> Option<Family> {
        Family::ALL.into_iter().find(|family| family.name() == name)
    }

    /// A document of this family, about `bytes` long (cut at a character boundary, never
    /// longer).
    pub fn document(self, bytes: usize) -> String {
        let news = news_sentences();
        let text = match self {
            Family::NoPunctuation => repeat("kerry said we are close lavrov said trust grows ", bytes),
            Family::RepeatedQuoteMark => repeat("\"", bytes),
            Family::LongQuote => {
                let opening = "Kerry said: \"";
                let room = bytes.saturating_sub(opening.len() + 1);
                let body = cut(repeat(&unquoted(&news), room), room);
                format!("{opening}{body}\"")
            }
            Family::OneWordRepeated => repeat("said ", bytes),
            Family::CapitalisedWords => repeat(
                "John Kerry Sergey Lavrov Staffan De Mistura Barack Obama Said Told Vladimir Putin \
                 Bashar Assad Ban Ki Moon Angela Merkel Recep Tayyip Erdogan ",
                bytes,
            ),
            Family::TitleList => repeat(
                "Secretary of State Foreign Minister General President Senator Governor Chairman \
                 Chief Executive Prime Minister Deputy Ambassador Spokesman Mr. Dr. ",
                bytes,
            ),
            Family::Pronouns => repeat(
                "he she they him her it we us them his hers their said he told her ",
                bytes,
            ),
            Family::NestedQuotes => {
                // Depth 50, then all the way out again, block after block.
                let depth = 50;
                let mut block = String::new();
                for level in 0..depth {
                    let open = if level % 2 == 0 { '“' } else { '‘' };
                    block.push_str(&format!("Speaker {level} said: {open}"));
                }
                block.push_str("we are close");
                for level in (0..depth).rev() {
                    block.push(if level % 2 == 0 { '”' } else { '’' });
                }
                block.push_str(". ");
                repeat(&block, bytes)
            }
            Family::LongLine => repeat(&(news.replace('\n', " ") + " "), bytes),
            Family::NewlinePerWord => {
                let words: Vec<&str> = news.split_whitespace().collect();
                repeat(&(words.join("\n") + "\n"), bytes)
            }
            Family::MixedScripts => repeat(
                "Ке\u{301}рри сказал: «Мы близки». 克里说：“我们很接近。” قال كيري إننا قريبون. \
                 Lavrov sai\u{0308}d “tru\u{0301}st gro\u{0300}ws” ש\u{05b8}לוֹם 👩\u{200d}👩\u{200d}👧 \u{202e}evil\u{202c} ",
                bytes,
            ),
        };
        cut(text, bytes)
    }
}

/// The sample article's text: punctuated news sentences.
fn news_sentences() -> String {
    include_str!("../../data/000_86905691883c5ace.txt").to_string()
}

fn unquoted(text: &str) -> String {
    text.chars()
        .filter(|ch| !matches!(ch, '"' | '“' | '”' | '‘' | '’' | '\''))
        .collect::<String>()
        .replace('\n', " ")
}

fn repeat(unit: &str, bytes: usize) -> String {
    let copies = bytes / unit.len().max(1) + 1;
    unit.repeat(copies)
}

/// `text` cut to at most `bytes`, at a character boundary.
fn cut(mut text: String, bytes: usize) -> String {
    if text.len() > bytes {
        let mut end = bytes;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}
