//! Reading PolNeAR's brat standoff annotations into [`GoldDocument`]s.
//!
//! Layout: `dir/text/<doc>.txt` and `dir/attributions/<doc>_<annotator>.ann`. Only the
//! alphabetically first annotator's file of each document is used, as in the scoring conventions.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use super::gold::{check_piece, normalize_pieces, GoldAttribution, GoldDocument, GoldError, Piece};

const TEXT_DIR: &str = "text";
const ANNOTATION_DIR: &str = "attributions";

/// Reads every document of a PolNeAR split (for example `data/dev`), sorted by id.
///
/// A text without any annotation file is an error (it would silently score as a document without
/// attributions); an annotation file without a text is ignored.
pub fn read_brat_dir(dir: &Path) -> Result<Vec<GoldDocument>, GoldError> {
    let text_dir = dir.join(TEXT_DIR);
    let annotation_dir = dir.join(ANNOTATION_DIR);
    let texts = files_with_extension(&text_dir, "txt")?;
    let annotations = first_annotation_per_document(files_with_extension(&annotation_dir, "ann")?);

    let mut documents = Vec::with_capacity(texts.len());
    for (id, text_path) in texts {
        let annotation_path = annotations
            .get(&id)
            .ok_or_else(|| GoldError::MissingAnnotation {
                doc: id.clone(),
                dir: annotation_dir.clone(),
            })?;
        let text = read_to_string(&text_path)?;
        let ann = read_to_string(annotation_path)?;
        let attributions = parse_ann(&text, &ann, &id)?;
        documents.push(GoldDocument {
            id,
            text,
            attributions,
        });
    }
    Ok(documents)
}

fn read_to_string(path: &Path) -> Result<String, GoldError> {
    std::fs::read_to_string(path).map_err(|source| GoldError::Io {
        path: path.to_owned(),
        source,
    })
}

/// The files in `dir` with the given extension, keyed (and so sorted) by file stem.
fn files_with_extension(
    dir: &Path,
    extension: &str,
) -> Result<BTreeMap<String, PathBuf>, GoldError> {
    let io_error = |source| GoldError::Io {
        path: dir.to_owned(),
        source,
    };
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(dir).map_err(io_error)? {
        let path = entry.map_err(io_error)?.path();
        if path.extension().and_then(|ext| ext.to_str()) != Some(extension) || !path.is_file() {
            continue;
        }
        if let Some(stem) = path.file_stem().and_then(|stem| stem.to_str()) {
            files.insert(stem.to_owned(), path.clone());
        }
    }
    Ok(files)
}

/// Maps each document id to its alphabetically first annotator's file.
///
/// Ids themselves contain underscores, so the annotator is what follows the last one; a file
/// named exactly `<doc>.ann` also counts, as an annotator with an empty name.
fn first_annotation_per_document(files: BTreeMap<String, PathBuf>) -> HashMap<String, PathBuf> {
    let mut chosen: HashMap<String, (String, PathBuf)> = HashMap::new();
    let mut offer = |doc: &str, annotator: &str, path: &PathBuf| {
        let better = chosen
            .get(doc)
            .is_none_or(|(current, _)| annotator < current.as_str());
        if better {
            chosen.insert(doc.to_owned(), (annotator.to_owned(), path.clone()));
        }
    };
    for (stem, path) in &files {
        offer(stem, "", path);
        if let Some((doc, annotator)) = stem.rsplit_once('_') {
            offer(doc, annotator, path);
        }
    }
    chosen
        .into_iter()
        .map(|(doc, (_, path))| (doc, path))
        .collect()
}

/// A text-bound annotation (`T` line): its pieces, with the line it came from. Its label is not
/// kept: the events say which role each annotation plays.
#[derive(Debug)]
struct TextBound {
    pieces: Vec<Piece>,
    line: usize,
}

/// Parses one brat `.ann` file against its text into attributions, in event order.
///
/// Only `Attribution` and `Attribution-no-source` events make attributions; their `Content`,
/// `Source` and `Cue` roles (with any numeric suffix, so `Content2` joins the content) give the
/// pieces. The source comes from the `Source` role wherever there is one: a few
/// `Attribution-no-source` events do name a source in the text. Events without content are
/// dropped. Lines that do not parse are skipped; a span outside the text is an error naming `id`.
pub fn parse_ann(text: &str, ann: &str, id: &str) -> Result<Vec<GoldAttribution>, GoldError> {
    let text_len = text.chars().count();
    let mut text_bounds: HashMap<&str, TextBound> = HashMap::new();
    let mut events: Vec<&str> = Vec::new();

    // Events may refer to text-bound annotations defined below them, so collect those first.
    for (index, line) in ann.lines().enumerate() {
        let line_number = index + 1;
        if line.starts_with('T') {
            if let Some((name, text_bound)) = parse_text_bound(line, line_number) {
                for piece in &text_bound.pieces {
                    check_piece(id, Some(text_bound.line), *piece, text_len)?;
                }
                text_bounds.insert(name, text_bound);
            }
        } else if line.starts_with('E') {
            events.push(line);
        }
    }

    let attributions = events
        .into_iter()
        .filter_map(|line| parse_event(line, &text_bounds))
        .collect();
    Ok(attributions)
}

/// Parses `T12\tLabel 10 20;25 40\tspan text`; `None` for a malformed line.
fn parse_text_bound(line: &str, line_number: usize) -> Option<(&str, TextBound)> {
    let mut fields = line.split('\t');
    let name = fields.next()?;
    let (_label, offsets) = fields.next()?.split_once(' ')?;
    let pieces = offsets
        .split(';')
        .map(|fragment| {
            let (start, end) = fragment.trim().split_once(' ')?;
            Some(Piece::new(start.parse().ok()?, end.parse().ok()?))
        })
        .collect::<Option<Vec<_>>>()?;
    Some((
        name,
        TextBound {
            pieces,
            line: line_number,
        },
    ))
}

/// Parses `E1\tAttribution:T4 Content:T3 Cue:T2 Source:T1` into an attribution; `None` for other
/// event types, malformed lines and events without content.
fn parse_event(line: &str, text_bounds: &HashMap<&str, TextBound>) -> Option<GoldAttribution> {
    let (_, arguments) = line.split_once('\t')?;
    let mut arguments = arguments.split_whitespace();
    let (event_type, _trigger) = arguments.next()?.split_once(':')?;
    if !matches!(event_type, "Attribution" | "Attribution-no-source") {
        return None;
    }

    let mut content = Vec::new();
    let mut source = Vec::new();
    let mut cue = Vec::new();
    for argument in arguments {
        let Some((role, target)) = argument.split_once(':') else {
            continue;
        };
        // A reference to an annotation that is not in the file is skipped like a malformed line.
        let Some(text_bound) = text_bounds.get(target) else {
            continue;
        };
        let pieces = match role.trim_end_matches(|c: char| c.is_ascii_digit()) {
            "Content" => &mut content,
            "Source" => &mut source,
            "Cue" => &mut cue,
            _ => continue,
        };
        pieces.extend_from_slice(&text_bound.pieces);
    }
    if content.is_empty() {
        return None;
    }
    let finish = |mut pieces: Vec<Piece>| {
        normalize_pieces(&mut pieces);
        pieces
    };
    Some(GoldAttribution {
        content: finish(content),
        source: (!source.is_empty()).then(|| finish(source)),
        cue: (!cue.is_empty()).then(|| finish(cue)),
    })
}

#[cfg(test)]
mod tests {
    use super::super::gold::char_slice;
    use super::*;

    fn pieces(pairs: &[(usize, usize)]) -> Vec<Piece> {
        pairs
            .iter()
            .map(|&(start, end)| Piece::new(start, end))
            .collect()
    }

    const TEXT: &str = "“We will win,” Smith said, “and soon.” Officials said so. He added more.";

    #[test]
    fn simple_and_discontinuous_out_of_order_content() {
        // Pieces listed out of order in the T line must come back sorted.
        let ann = "T1\tContent 27 38;0 14\t“and soon.” “We will win,”\n\
                   T2\tSource 15 20\tSmith\n\
                   T3\tCue 21 25\tsaid\n\
                   T4\tAttribution 21 25\tsaid\n\
                   E1\tAttribution:T4 Content:T1 Cue:T3 Source:T2\n";
        let attributions = parse_ann(TEXT, ann, "d").expect("valid");
        assert_eq!(
            attributions,
            vec![GoldAttribution {
                content: pieces(&[(0, 14), (27, 38)]),
                source: Some(pieces(&[(15, 20)])),
                cue: Some(pieces(&[(21, 25)])),
            }]
        );
        assert_eq!(char_slice(TEXT, 0, 14), Some("“We will win,”"));
        assert_eq!(char_slice(TEXT, 27, 38), Some("“and soon.”"));
    }

    #[test]
    fn shared_source_content2_and_no_source() {
        let ann = "T1\tSource 15 20\tSmith\n\
                   T2\tContent 0 14\t“We will win,”\n\
                   T3\tContent 27 38\t“and soon.”\n\
                   T4\tCue 21 25\tsaid\n\
                   T5\tAttribution 21 25\tsaid\n\
                   E1\tAttribution:T5 Content:T2 Cue:T4 Source:T1 Content2:T3\n\
                   T6\tCue 49 53\tsaid\n\
                   T7\tContent 54 56\tso\n\
                   T8\tAttribution-no-source 49 53\tsaid\n\
                   E2\tAttribution-no-source:T8 Cue:T6 Content:T7\n\
                   T9\tContent 61 66\tadded\n\
                   E3\tAttribution:T5 Source:T1 Content:T9\n";
        let attributions = parse_ann(TEXT, ann, "d").expect("valid");
        assert_eq!(attributions.len(), 3);
        assert_eq!(attributions[0].content, pieces(&[(0, 14), (27, 38)]));
        assert_eq!(attributions[1].source, None);
        assert_eq!(attributions[1].cue, Some(pieces(&[(49, 53)])));
        // One Source line shared by two events gives both the same source.
        assert_eq!(attributions[2].source, attributions[0].source);
        assert_eq!(attributions[2].cue, None);
    }

    #[test]
    fn references_before_definitions_are_resolved() {
        let ann = "E1\tAttribution:T4 Content:T1 Source:T2\n\
                   T1\tContent 0 14\t“We will win,”\n\
                   T2\tSource 15 20\tSmith\n";
        let attributions = parse_ann(TEXT, ann, "d").expect("valid");
        assert_eq!(attributions.len(), 1);
        assert_eq!(attributions[0].source, Some(pieces(&[(15, 20)])));
    }

    #[test]
    fn odd_lines_are_skipped() {
        let ann = "T1\tContent 0 14\t“We will win,”\n\
                   T2\tSource 15 x\tbroken offsets\n\
                   T3\tDiscuss 39 48\tOfficials\n\
                   T4\tDiscard 0 5\tnoise\n\
                   #1\tAnnotatorNotes T1\ta note\n\
                   continuation of a span text that held a newline\n\
                   \n\
                   T5\n\
                   E1\n\
                   E2\tAttribution:T9 Content:T1 Source:T2 Cue:T77 garbage\n\
                   E3\tAttribution:T9 Source:T3\n\
                   E4\tOther:T1 Content:T1\n\
                   A1\tNegated E2\n";
        let attributions = parse_ann(TEXT, ann, "d").expect("odd lines are not errors");
        // E2 survives without its broken source and unknown cue; E3 has no content; E4 is another
        // event type.
        assert_eq!(
            attributions,
            vec![GoldAttribution {
                content: pieces(&[(0, 14)]),
                source: None,
                cue: None,
            }]
        );
    }

    #[test]
    fn spans_outside_the_text_are_errors_naming_the_document() {
        let ann = "T1\tContent 0 14\tok\nT2\tSource 70 99\ttoo far\n";
        let error = parse_ann(TEXT, ann, "doc-42").expect_err("span past the end");
        assert!(matches!(
            &error,
            GoldError::InvalidSpan { doc, line: Some(2), start: 70, end: 99, .. } if doc == "doc-42"
        ));
        assert!(error.to_string().contains("doc-42"));
        let reversed = "T1\tContent 10 5\treversed\n";
        assert!(parse_ann(TEXT, reversed, "d").is_err());
    }

    #[test]
    fn directory_uses_first_annotator_and_sorts_documents() {
        let dir = tempfile::tempdir().expect("temp dir");
        let text_dir = dir.path().join(TEXT_DIR);
        let annotation_dir = dir.path().join(ANNOTATION_DIR);
        std::fs::create_dir_all(&text_dir).expect("mkdir");
        std::fs::create_dir_all(&annotation_dir).expect("mkdir");
        let write = |path: PathBuf, content: &str| std::fs::write(path, content).expect("write");

        write(text_dir.join("zeta_news_1.txt"), "Bob said hi.");
        write(text_dir.join("alpha_news_2.txt"), "Ann said yes.");
        // The annotator "4b22" sorts before "ef2d", whatever the file system's order.
        write(
            annotation_dir.join("zeta_news_1_ef2d.ann"),
            "T1\tContent 9 11\thi\nT2\tSource 0 3\tBob\nE1\tAttribution:T3 Content:T1 Source:T2\n",
        );
        write(
            annotation_dir.join("zeta_news_1_4b22.ann"),
            "T1\tContent 9 12\thi.\nE1\tAttribution-no-source:T3 Content:T1\n",
        );
        write(
            annotation_dir.join("alpha_news_2_d473.ann"),
            "T1\tContent 9 12\tyes\nT2\tSource 0 3\tAnn\nE1\tAttribution:T3 Content:T1 Source:T2\n",
        );
        write(annotation_dir.join("orphan_x.ann"), "T1\tContent 0 1\tx\n");

        let documents = read_brat_dir(dir.path()).expect("valid layout");
        let ids: Vec<&str> = documents.iter().map(|doc| doc.id.as_str()).collect();
        assert_eq!(ids, ["alpha_news_2", "zeta_news_1"]);
        assert_eq!(documents[1].text, "Bob said hi.");
        assert_eq!(
            documents[1].attributions,
            vec![GoldAttribution {
                content: pieces(&[(9, 12)]),
                source: None,
                cue: None,
            }]
        );

        write(text_dir.join("unannotated.txt"), "Nothing here.");
        assert!(matches!(
            read_brat_dir(dir.path()),
            Err(GoldError::MissingAnnotation { doc, .. }) if doc == "unannotated"
        ));
    }

    #[test]
    fn polnear_dev_split_reads_and_slices() {
        let dev = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/polnear/data/dev");
        if !dev.is_dir() {
            eprintln!("skipping: PolNeAR dev split not found at {}", dev.display());
            return;
        }
        let documents = read_brat_dir(&dev).expect("PolNeAR dev reads");
        assert_eq!(documents.len(), 83);
        assert!(documents.windows(2).all(|pair| pair[0].id < pair[1].id));
        let annotations = first_annotation_per_document(
            files_with_extension(&dev.join(ANNOTATION_DIR), "ann").expect("listing"),
        );

        let mut attribution_count = 0;
        for document in &documents {
            attribution_count += document.attributions.len();
            for attribution in &document.attributions {
                let roles = [
                    Some(&attribution.content),
                    attribution.source.as_ref(),
                    attribution.cue.as_ref(),
                ];
                for pieces in roles.into_iter().flatten() {
                    assert!(pieces.windows(2).all(|pair| pair[0] <= pair[1]));
                    for piece in pieces {
                        assert!(
                            document.piece_text(*piece).is_some(),
                            "{}: {piece:?}",
                            document.id
                        );
                    }
                }
            }

            // brat's own copy of each span's text (fragments joined by a space) must be what our
            // code-point offsets cut out of the text.
            let ann = std::fs::read_to_string(&annotations[&document.id]).expect("ann readable");
            for line in ann.lines().filter(|line| line.starts_with('T')) {
                let Some((_, text_bound)) = parse_text_bound(line, 0) else {
                    continue;
                };
                let Some(expected) = line.splitn(3, '\t').nth(2) else {
                    continue;
                };
                let sliced: Vec<&str> = text_bound
                    .pieces
                    .iter()
                    .map(|piece| document.piece_text(*piece).expect("in range"))
                    .collect();
                assert_eq!(sliced.join(" "), expected, "{}: {line}", document.id);
            }
        }
        assert!(
            attribution_count > 1000,
            "only {attribution_count} attributions"
        );
    }
}
