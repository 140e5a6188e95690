//! The normaliser's layer: the cleaned view of the text and its map back to the original
//! ([`crate::normalise`] makes it).

/// Whether a quotation mark opens or closes a quotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkRole {
    Open,
    Close,
}

/// A double quotation mark in the cleaned view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuoteMark {
    /// Byte offset of the mark in the cleaned view.
    pub start: usize,
    pub end: usize,
    pub role: MarkRole,
    /// An opening mark at the start of a paragraph that continues a quotation left open at the end
    /// of the previous paragraph: the news convention for quotes of several paragraphs.
    pub continues_quote: bool,
}

/// One stretch of the cleaned view and the stretch of the original it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Run {
    pub(crate) clean: usize,
    pub(crate) clean_len: usize,
    pub(crate) original: usize,
    pub(crate) original_len: usize,
    /// Copied byte for byte, so offsets inside the run map one to one.
    pub(crate) verbatim: bool,
}

/// The cleaned view of a text and its map back to the original.
#[derive(Debug, Clone, Default)]
pub struct Normalised {
    /// The cleaned text that the later stages read.
    pub text: String,
    /// Every double quotation mark in the cleaned text, in order.
    pub marks: Vec<QuoteMark>,
    pub(crate) runs: Vec<Run>,
    pub(crate) original_len: usize,
}

impl Normalised {
    /// The original byte offset where a span starting at cleaned offset `clean` starts.
    pub fn original_start(&self, clean: usize) -> usize {
        match self.run_containing(clean) {
            Some(run) if run.verbatim => run.original + (clean - run.clean),
            Some(run) => run.original,
            None => self.original_len,
        }
    }

    /// The original byte offset where a span ending (exclusive) at cleaned offset `clean` ends.
    pub fn original_end(&self, clean: usize) -> usize {
        if clean == 0 {
            return self.runs.first().map_or(0, |run| run.original);
        }
        match self.run_containing(clean - 1) {
            Some(run) if run.verbatim => run.original + (clean - run.clean),
            Some(run) => run.original + run.original_len,
            None => self.original_len,
        }
    }

    fn run_containing(&self, clean: usize) -> Option<&Run> {
        let after = self.runs.partition_point(|run| run.clean <= clean);
        let run = self.runs.get(after.checked_sub(1)?)?;
        (clean < run.clean + run.clean_len).then_some(run)
    }

    /// The original byte range of every cleaned byte, for checking the map's invariants.
    #[doc(hidden)]
    pub fn map_each_byte(&self) -> Vec<usize> {
        (0..self.text.len())
            .map(|clean| self.original_start(clean))
            .collect()
    }
}
