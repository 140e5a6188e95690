//! Writing rendered pages to a folder: one page per document, and for a corpus an
//! `index.html` that links to them (the HTML itself comes from [`crate::render`]).

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};

use crate::batch::RecordSink;
use crate::error::{Error, Result};
use crate::input::InputDocument;
use crate::record::DocumentRecord;
use crate::render::{mismatched_spans, RenderOptions};
use crate::render::{page_file_name, render_index, render_page, summarise, PageSummary};

/// The file name of the corpus index.
pub const INDEX: &str = "index.html";

/// Something wrong with one page's input, which leaves the rest of the pages to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageWarning {
    /// Spans of a record that do not match its text: the record may come from another text.
    MismatchedSpans { id: String, spans: usize },
    /// An input document with no saved record.
    NoRecord { id: String },
    /// A saved record with no input document to give its text.
    NoText { id: String },
}

impl std::fmt::Display for PageWarning {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PageWarning::MismatchedSpans { id, spans } => write!(
                formatter,
                "{spans} spans of document {id} do not match its text; its record may come from another text"
            ),
            PageWarning::NoRecord { id } => write!(formatter, "no record for document {id}; left out"),
            PageWarning::NoText { id } => {
                write!(formatter, "no text for the record of document {id}; left out")
            }
        }
    }
}

/// The pages written, and what was wrong on the way.
#[derive(Debug, Clone, Default)]
pub struct PagesWritten {
    pub pages: Vec<PageSummary>,
    pub warnings: Vec<PageWarning>,
}

/// Writes pages as documents arrive. The first page is held back until a second document
/// shows whether this is a corpus, since only a corpus page links to an index.
pub struct PageWriter {
    dir: PathBuf,
    options: RenderOptions,
    held: Option<(DocumentRecord, Option<String>)>,
    pages: Vec<PageSummary>,
    taken: HashSet<String>,
    warnings: Vec<PageWarning>,
}

impl PageWriter {
    pub fn new(dir: &Path, options: RenderOptions) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|source| Error::io(dir, source))?;
        Ok(PageWriter {
            dir: dir.to_path_buf(),
            options,
            held: None,
            pages: Vec::new(),
            taken: HashSet::from([INDEX.to_string()]),
            warnings: Vec::new(),
        })
    }

    /// Adds a document's page; `text` is its original text, `None` if it could not be read.
    pub fn add(&mut self, record: DocumentRecord, text: Option<String>) -> Result<()> {
        if let Some(text) = &text {
            let mismatched = mismatched_spans(&record, text);
            if mismatched > 0 {
                self.warnings.push(PageWarning::MismatchedSpans {
                    id: record.id.clone(),
                    spans: mismatched,
                });
            }
        }
        match self.held.take() {
            None if self.pages.is_empty() => {
                self.held = Some((record, text));
                Ok(())
            }
            held => {
                if let Some((first, first_text)) = held {
                    self.write_page(&first, first_text.as_deref(), true)?;
                }
                self.write_page(&record, text.as_deref(), true)
            }
        }
    }

    fn write_page(
        &mut self,
        record: &DocumentRecord,
        text: Option<&str>,
        in_corpus: bool,
    ) -> Result<()> {
        let stem = page_file_name(&record.id);
        let mut file = stem.clone();
        let mut number = 1;
        while !self.taken.insert(file.clone()) {
            number += 1;
            file = format!("{}-{number}.html", stem.trim_end_matches(".html"));
        }
        let html = render_page(record, text, &self.options, in_corpus.then_some(INDEX));
        let path = self.dir.join(&file);
        std::fs::write(&path, html).map_err(|source| Error::io(&path, source))?;
        self.pages.push(summarise(record, &file));
        Ok(())
    }

    /// Writes what is held back and, for a corpus, the index; returns the pages written.
    pub fn finish(mut self) -> Result<PagesWritten> {
        if let Some((record, text)) = self.held.take() {
            self.write_page(&record, text.as_deref(), false)?;
        }
        if self.pages.len() > 1 {
            let path = self.dir.join(INDEX);
            std::fs::write(&path, render_index(&self.pages))
                .map_err(|source| Error::io(&path, source))?;
        }
        Ok(PagesWritten {
            pages: self.pages,
            warnings: self.warnings,
        })
    }

    /// Notes a problem with the input that leaves a page out.
    pub fn warn(&mut self, warning: PageWarning) {
        self.warnings.push(warning);
    }
}

/// Renders the records of a batch run, each with its document's text.
pub struct PageSink {
    writer: Option<PageWriter>,
    written: PagesWritten,
}

impl PageSink {
    pub fn new(writer: PageWriter) -> Self {
        PageSink {
            writer: Some(writer),
            written: PagesWritten::default(),
        }
    }

    /// The pages written and the warnings, once the batch has finished.
    pub fn written(&self) -> &PagesWritten {
        &self.written
    }
}

impl RecordSink for PageSink {
    fn write(&mut self, record: &DocumentRecord, text: Option<&str>) -> Result<()> {
        match &mut self.writer {
            Some(writer) => writer.add(record.clone(), text.map(str::to_string)),
            None => Err(Error::Usage(
                "pages written after the end of the run".into(),
            )),
        }
    }

    fn finish(&mut self) -> Result<()> {
        if let Some(writer) = self.writer.take() {
            self.written = writer.finish()?;
        }
        Ok(())
    }

    fn wants_text(&self) -> bool {
        true
    }
}

/// Reads whosaid's output: JSONL, or the JSON array of `--format json`.
pub fn read_records(path: &Path) -> Result<Vec<DocumentRecord>> {
    let content = std::fs::read_to_string(path).map_err(|source| Error::io(path, source))?;
    let not_records = |what: String| Error::Usage(format!("{}: {what}", path.display()));
    if content.trim_start().starts_with('[') {
        return serde_json::from_str(&content)
            .map_err(|error| not_records(format!("not an array of whosaid records: {error}")));
    }
    content
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(number, line)| {
            serde_json::from_str(line).map_err(|error| {
                not_records(format!(
                    "line {}: not a whosaid record: {error}",
                    number + 1
                ))
            })
        })
        .collect()
}

/// Pairs saved records with the input documents that carry their texts, by id (ids that occur
/// more than once pair in order), and renders each pair. Documents with no record and records
/// with no document are reported on stderr and left out.
pub fn render_records(
    records: Vec<DocumentRecord>,
    inputs: impl Iterator<Item = InputDocument>,
    writer: &mut PageWriter,
) -> Result<()> {
    let mut by_id: HashMap<String, VecDeque<DocumentRecord>> = HashMap::new();
    for record in records {
        by_id
            .entry(record.id.clone())
            .or_default()
            .push_back(record);
    }
    for document in inputs {
        match by_id.get_mut(&document.id).and_then(VecDeque::pop_front) {
            Some(record) => writer.add(record, document.text.ok())?,
            None => writer.warn(PageWarning::NoRecord { id: document.id }),
        }
    }
    let mut unpaired: Vec<&String> = by_id
        .iter()
        .filter(|(_, left)| !left.is_empty())
        .map(|(id, _)| id)
        .collect();
    unpaired.sort();
    for id in unpaired {
        writer.warn(PageWarning::NoText { id: id.clone() });
    }
    Ok(())
}
