//! The command line end to end: inputs, outputs, bad documents, filters, threads and eval.

mod common;

use std::process::{Command, Output, Stdio};

use common::{assert_offsets, whosaid, SEED};
use whosaid::record::{DocumentRecord, ErrorKind};

fn records(output: &Output) -> Vec<DocumentRecord> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is a record"))
        .collect()
}

fn jsonl_line(id: &str, text: &str) -> String {
    serde_json::json!({"id": id, "text": text, "source": "test"}).to_string() + "\n"
}

#[test]
fn bad_documents_get_error_records_and_the_batch_goes_on() {
    let mut input = Vec::new();
    input.extend(jsonl_line("good", SEED).as_bytes());
    input.extend(b"this is not json\n");
    input.extend(b"{\"id\": \"bytes\", \"text\": \"caf\xff\"}\n");
    input.extend(b"{\"id\": \"no-text\"}\n");
    input.extend(jsonl_line("empty", "").as_bytes());
    input.extend(jsonl_line("unbalanced", "He said “yes and “no” and \"maybe. “").as_bytes());
    input.extend(
        jsonl_line(
            "control",
            "Kerry said\u{0}\u{7} “we\u{1b} are close,” he said.\r\n",
        )
        .as_bytes(),
    );
    input.extend(jsonl_line("last", "“We are close,” Kerry said.").as_bytes());
    let output = whosaid(&["extract", "-"], &input);
    assert_eq!(
        output.status.code(),
        Some(1),
        "a failed document makes the exit code 1"
    );
    let records = records(&output);
    let ids: Vec<&str> = records.iter().map(|record| record.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "good",
            "-:2",
            "-:3",
            "no-text",
            "empty",
            "unbalanced",
            "control",
            "last"
        ]
    );
    let error_kind = |index: usize| records[index].error.as_ref().map(|error| error.kind);
    assert_eq!(error_kind(0), None);
    assert_eq!(error_kind(1), Some(ErrorKind::InvalidJson));
    assert_eq!(error_kind(2), Some(ErrorKind::InvalidUtf8));
    assert_eq!(error_kind(3), Some(ErrorKind::MissingText));
    assert!(records[3]
        .error
        .as_ref()
        .unwrap()
        .message
        .contains("no-text"));
    for record in &records[4..] {
        assert!(record.error.is_none(), "{}", record.id);
    }
    assert_eq!(records[0].meta.as_ref().unwrap()["source"], "test");
    assert!(!records[0].quotes.is_empty());
    assert_eq!(records[7].quotes[0].speaker.as_ref().unwrap().name, "Kerry");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("8 documents read, 8 written, 3 failed"),
        "{stderr}"
    );
}

#[test]
fn spans_index_the_original_text_of_hostile_input() {
    let texts = [
        "Emoji 😀 first. “We are close 😀,” Kerry said. “Next.” 👍",
        "e\u{301}e\u{301} “Combining marks here,” said Jane Doe.",
        "שלום “Right to left,” said Amir Cohen. مرحبا",
        "ALL CAPS TEXT “WE ARE CLOSE,” KERRY SAID.",
        "no punctuation at all just words said he",
        "“”“”“”\"\"\"''''“",
        "line one\r\nAP, Geneva :“Quoted,” he said.\r\n",
        "“He told me “we are close” today,” Kerry said.",
        "“He told me ‘we are close now’ today,” Kerry said.",
    ];
    let input: String = texts
        .iter()
        .enumerate()
        .map(|(index, text)| jsonl_line(&index.to_string(), text))
        .collect();
    let output = whosaid(&["extract", "-"], input.as_bytes());
    assert_eq!(output.status.code(), Some(0));
    let records = records(&output);
    assert_eq!(records.len(), texts.len());
    for (record, text) in records.iter().zip(texts) {
        assert_offsets(text, record);
    }
    // An interrupted quote is one quote, and its pieces index the text past the emoji too.
    let interrupted = &records[0].quotes[0];
    assert_eq!(
        interrupted.content.text,
        "“We are close 😀,” Kerry said. “Next.”"
    );
    let pieces: Vec<&str> = interrupted
        .pieces
        .iter()
        .map(|piece| piece.text.as_str())
        .collect();
    assert_eq!(pieces, ["“We are close 😀,”", "“Next.”"]);
    // A quote nested in single marks stays inside the outer quote, which is the one
    // attributed. (Double marks nested in double marks only keep their offsets right.)
    let nested = &records[texts.len() - 1].quotes;
    assert_eq!(nested.len(), 1, "{nested:?}");
    assert_eq!(
        nested[0].content.text,
        "“He told me ‘we are close now’ today,”"
    );
}

#[test]
fn a_ten_megabyte_document_is_processed() {
    let mut text = String::new();
    let mut paragraph = 0;
    while text.len() < 10 * 1024 * 1024 {
        paragraph += 1;
        text.push_str(&format!(
            "Kerry said: “We are close {paragraph}.” Lavrov said the talks would go on. Then “unbalanced, he said.\n"
        ));
    }
    // The rule stages alone: stance on 100,000 quotes would time the encoder, which the
    // benchmarks do.
    let output = whosaid(
        &["extract", "--no-stance", "--input-format", "text", "-"],
        text.as_bytes(),
    );
    assert_eq!(output.status.code(), Some(0));
    let records = records(&output);
    assert_eq!(records.len(), 1);
    assert!(records[0].quotes.len() > 100_000);
}

// The default mode's speakers: the lean build's `extract` is fast mode, which gives no quote to
// the pair.
#[cfg(feature = "transformer")]
#[test]
fn speaker_filter_matches_names_aliases_and_spelling_variants() {
    let input = jsonl_line("seed", SEED);
    let speakers_of = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["extract"];
        all.extend(args);
        all.push("-");
        let output = whosaid(&all, input.as_bytes());
        let names: std::collections::BTreeSet<String> = records(&output)[0]
            .quotes
            .iter()
            .map(|quote| quote.speaker.as_ref().unwrap().name.clone())
            .collect();
        names.into_iter().collect::<Vec<_>>()
    };
    // The default mode gives the two men's joint acts ("Kerry and Lavrov could point to…") to
    // the pair, which answers to either name.
    let pair = "John Kerry and Sergey Lavrov";
    assert_eq!(
        speakers_of(&["--speaker", "Kerry", "--speaker", "Lavrov"]),
        ["John Kerry", pair, "Sergey Lavrov"]
    );
    assert_eq!(
        speakers_of(&["--speaker", "Sergei Lavrov"]),
        [pair, "Sergey Lavrov"]
    );
    assert_eq!(
        speakers_of(&["--speaker", "John Kerry"]),
        ["John Kerry", pair]
    );
    assert!(speakers_of(&["--speaker", "Nobody"]).is_empty());
}

#[test]
fn output_is_identical_for_any_thread_count() {
    let input: String = (0..40)
        .map(|index| {
            let keep = SEED.chars().count() - (index * 37) % 500;
            jsonl_line(
                &format!("doc{index}"),
                &SEED.chars().take(keep).collect::<String>(),
            )
        })
        .collect();
    let one = whosaid(&["extract", "--threads", "1", "-"], input.as_bytes());
    let two = whosaid(&["extract", "--threads", "2", "-"], input.as_bytes());
    let eight = whosaid(&["extract", "--threads", "8", "-"], input.as_bytes());
    assert_eq!(records(&one).len(), 40);
    assert_eq!(one.stdout, two.stdout);
    assert_eq!(one.stdout, eight.stdout);
}

#[test]
fn text_files_directories_and_pretty_json() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("nested")).unwrap();
    std::fs::write(dir.path().join("nested/seed.txt"), SEED).unwrap();
    std::fs::write(dir.path().join("a.txt"), "“Hello there,” said Jane Smith.").unwrap();
    let output = whosaid(
        &["extract", "--format", "json", dir.path().to_str().unwrap()],
        b"",
    );
    assert_eq!(output.status.code(), Some(0));
    let records: Vec<DocumentRecord> =
        serde_json::from_slice(&output.stdout).expect("one JSON array");
    let ids: Vec<&str> = records.iter().map(|record| record.id.as_str()).collect();
    assert_eq!(ids, ["a", "nested/seed"]);
    assert_eq!(
        records[0].quotes[0].speaker.as_ref().unwrap().name,
        "Jane Smith"
    );
}

#[test]
fn eval_scores_brat_and_jsonl_gold() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("text")).unwrap();
    std::fs::create_dir_all(dir.path().join("attributions")).unwrap();
    let text = "“We are close,” Kerry said. Officials said the talks failed.";
    std::fs::write(dir.path().join("text/doc.txt"), text).unwrap();
    let ann = "T1\tContent 0 15\t“We are close,”\nT2\tSource 16 21\tKerry\nT3\tCue 22 26\tsaid\nE1\tAttribution:T3 Content:T1 Cue:T3 Source:T2\n\
T4\tSource 28 37\tOfficials\nT5\tCue 38 42\tsaid\nT6\tContent 43 59\tthe talks failed\nE2\tAttribution:T5 Content:T6 Cue:T5 Source:T4\n";
    std::fs::write(dir.path().join("attributions/doc_a1.ann"), ann).unwrap();
    let output = whosaid(
        &["eval", "--gold", dir.path().to_str().unwrap(), "--json"],
        b"",
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["end_to_end"]["f1"], 1.0, "{report:#}");
    assert_eq!(report["cue"]["tp"], 2);
    assert!(report["calibration"]["ece"].as_f64().is_some());

    let predictions = whosaid(&["extract", dir.path().join("text").to_str().unwrap()], b"");
    let predictions_path = dir.path().join("predictions.jsonl");
    std::fs::write(&predictions_path, &predictions.stdout).unwrap();
    let seed_gold = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/seed-gold.jsonl");
    let table = whosaid(
        &[
            "eval",
            "--gold",
            dir.path().to_str().unwrap(),
            "--predictions",
            predictions_path.to_str().unwrap(),
        ],
        b"",
    );
    assert!(String::from_utf8_lossy(&table.stdout).contains("end-to-end"));
    let seed = whosaid(
        &["eval", "--gold", seed_gold.to_str().unwrap(), "--errors"],
        b"",
    );
    assert_eq!(seed.status.code(), Some(0));
}

#[test]
fn polnear_dev_evaluates_when_the_data_is_here() {
    let Some(dev) = common::polnear("dev") else {
        return;
    };
    let output = whosaid(&["eval", "--gold", dev.to_str().unwrap(), "--json"], b"");
    assert_eq!(output.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["gold_documents"], 83, "{report:#}");
    assert!(
        report["end_to_end"]["f1"].as_f64().unwrap() > 0.3,
        "{report:#}"
    );
    assert!(
        report["calibration"]["ece"].as_f64().unwrap() < 0.1,
        "{report:#}"
    );
}

#[cfg(feature = "transformer")]
#[test]
fn extract_adds_stance_unless_told_not_to() {
    let input = jsonl_line("seed", SEED) + &jsonl_line("short", "“Talks failed,” Jane Smith said.");
    let with = records(&whosaid(&["extract", "-"], input.as_bytes()));
    for record in &with {
        assert!(!record.quotes.is_empty(), "{}", record.id);
        for quote in &record.quotes {
            assert!(quote.stance.is_some() && quote.targets.is_some());
        }
    }
    // The default mode tags with the transformer, fast mode with the linear tagger; with the
    // linear tagger in both, the modes differ only by stance.
    let linear = records(&whosaid(
        &["extract", "--linear-tagger", "-"],
        input.as_bytes(),
    ));
    let without = records(&whosaid(&["extract", "--no-stance", "-"], input.as_bytes()));
    assert_eq!(with.len(), 2);
    assert_eq!(linear.len(), 2);
    for (stanced, plain) in linear.iter().zip(&without) {
        assert_eq!(stanced.quotes.len(), plain.quotes.len());
        for (quote, bare) in stanced.quotes.iter().zip(&plain.quotes) {
            assert!(quote.stance.is_some() && quote.targets.is_some());
            assert!(bare.stance.is_none() && bare.targets.is_none());
            assert_eq!(quote.content, bare.content);
        }
    }
    assert_offsets(SEED, &with[0]);
    let error = whosaid(
        &["extract", "--encoder", "/nonexistent/model", "-"],
        input.as_bytes(),
    );
    assert_eq!(error.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&error.stderr).contains("/nonexistent/model"));
}

#[cfg(feature = "transformer")]
#[test]
fn default_mode_output_is_the_same_in_one_batch_or_document_by_document_at_any_thread_count() {
    // Two articles long enough for several full windows each, beside short ones: were windows
    // batched, they would batch differently in one run and alone.
    let long = numbered_article(6_000);
    let longer = numbered_article(9_000);
    let documents = [
        SEED,
        long.as_str(),
        "“We will never accept this,” the minister said of Russia.",
        longer.as_str(),
        "Nothing quoted here.",
        // Twins: the same windows, which a batch of windows of one length would put together.
        "“Talks failed,” Jane Smith said.",
        "“Talks failed,” Jane Smith said.",
    ];
    let input: String = documents
        .iter()
        .enumerate()
        .map(|(index, text)| jsonl_line(&index.to_string(), text))
        .collect();
    let together = whosaid(&["extract", "--threads", "1", "-"], input.as_bytes());
    let together = String::from_utf8_lossy(&together.stdout);
    let together: Vec<&str> = together.lines().collect();
    assert_eq!(together.len(), documents.len());
    // Two copies of the tagger, side by side, give the same records as one.
    let two_threads = whosaid(&["extract", "--threads", "2", "-"], input.as_bytes());
    assert_eq!(
        String::from_utf8_lossy(&two_threads.stdout)
            .lines()
            .collect::<Vec<_>>(),
        together
    );
    for (index, text) in documents.iter().enumerate() {
        let alone = whosaid(
            &["extract", "--threads", "1", "-"],
            jsonl_line(&index.to_string(), text).as_bytes(),
        );
        let alone = String::from_utf8_lossy(&alone.stdout);
        // Every span, confidence and stance probability, to the last digit.
        assert_eq!(alone.trim_end(), together[index], "document {index}");
    }
}

/// An article of at least `bytes` bytes, two quotes to a paragraph. The paragraphs are
/// numbered, because a line repeated word for word is dropped as a repeated caption.
fn numbered_article(bytes: usize) -> String {
    let mut text = String::new();
    let mut paragraph = 0;
    while text.len() < bytes {
        paragraph += 1;
        text.push_str(&format!(
            "“We are close {paragraph},” Kerry said. Lavrov said the talks would go on.\n"
        ));
    }
    text
}

/// A corpus of many small documents, as JSONL, and the output of an uninterrupted run on it.
fn small_corpus(dir: &std::path::Path, documents: usize) -> (std::path::PathBuf, String) {
    let corpus: String = (0..documents)
        .map(|index| {
            jsonl_line(
                &format!("doc{index}"),
                &format!("“Number {index} is up,” said Jane Smith. Officials said it rose."),
            )
        })
        .collect();
    let input = dir.join("corpus.jsonl");
    std::fs::write(&input, corpus).unwrap();
    let full = dir.join("full.jsonl");
    let output = whosaid(
        &[
            "extract",
            "--no-stance",
            input.to_str().unwrap(),
            "--output",
            full.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(output.status.code(), Some(0));
    (input, std::fs::read_to_string(full).unwrap())
}

/// Starts a run on `input` writing to `out`, and waits until it has written `lines` records.
fn start_and_wait(
    input: &std::path::Path,
    out: &std::path::Path,
    lines: usize,
) -> std::process::Child {
    let child = Command::new(env!("CARGO_BIN_EXE_whosaid"))
        .args(["extract", "--no-stance", "--chunk-size", "1"])
        .arg(input)
        .arg("--output")
        .arg(out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("whosaid runs");
    let waited = std::time::Instant::now();
    while std::fs::read_to_string(out).map_or(0, |text| text.lines().count()) < lines {
        assert!(waited.elapsed().as_secs() < 60, "the run wrote too little");
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    child
}

#[test]
fn a_killed_run_resumes_to_exactly_the_uninterrupted_output() {
    let dir = tempfile::tempdir().unwrap();
    let (input, full) = small_corpus(dir.path(), 30_000);
    let out = dir.path().join("out.jsonl");
    let mut child = start_and_wait(&input, &out, 100);
    child.kill().unwrap();
    child.wait().unwrap();
    let partial = std::fs::read_to_string(&out).unwrap();
    let partial_records = partial.lines().count();
    assert!(
        partial_records < 30_000,
        "the run finished before it was killed"
    );
    // What a kill in the middle of a write leaves behind.
    std::fs::write(&out, partial.clone() + "{\"id\": \"doc").unwrap();
    let resumed = whosaid(
        &[
            "extract",
            "--no-stance",
            input.to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
            "--resume",
        ],
        b"",
    );
    assert_eq!(resumed.status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), full);
    let stderr = String::from_utf8_lossy(&resumed.stderr);
    assert!(stderr.contains("skipped as already done"), "{stderr}");
}

#[test]
fn sigterm_finishes_what_is_in_flight_and_says_the_run_was_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let (input, full) = small_corpus(dir.path(), 30_000);
    let out = dir.path().join("out.jsonl");
    let child = start_and_wait(&input, &out, 100);
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let finished = child.wait_with_output().unwrap();
    assert_eq!(finished.status.code(), Some(130));
    assert!(String::from_utf8_lossy(&finished.stderr).contains("interrupted"));
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(written.ends_with('\n'));
    assert!(
        full.starts_with(&written),
        "the records written are a prefix of the full run"
    );
    assert!(written.lines().count() < 30_000);
}

#[test]
fn summary_file_and_duplicate_ids() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.json");
    let input = jsonl_line("same", "“One,” said Jane Smith.")
        + &jsonl_line("same", "“Two,” said Jane Smith.")
        + "not json\n";
    let output = whosaid(
        &[
            "extract",
            "--no-stance",
            "--summary",
            summary.to_str().unwrap(),
            "-",
        ],
        input.as_bytes(),
    );
    assert_eq!(output.status.code(), Some(1));
    let records = records(&output);
    assert_eq!(records.len(), 3);
    assert_eq!(records[0].quotes[0].content.text, "“One,”");
    assert_eq!(records[1].quotes[0].content.text, "“Two,”");
    assert!(String::from_utf8_lossy(&output.stderr).contains("document id same appears again"));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(summary).unwrap()).unwrap();
    assert_eq!(summary["documents_read"], 3);
    assert_eq!(summary["documents_written"], 3);
    assert_eq!(summary["documents_failed"], 1);
    assert_eq!(summary["failures_by_kind"]["invalid_json"], 1);
    assert_eq!(summary["duplicate_ids"], 1);
    assert_eq!(summary["quotes"], 2);
    assert_eq!(summary["interrupted"], false);
    let stages = summary["stages"].as_array().expect("stage times");
    assert_eq!(stages[0]["stage"], "normalise");
    assert!(stages.iter().all(|stage| stage["seconds"]
        .as_f64()
        .is_some_and(|seconds| seconds >= 0.0)));
}

#[test]
fn a_hundred_thousand_quote_marks_and_a_fifty_megabyte_line() {
    let marks: String = "“”\"".repeat(33_334);
    // Rule stages only: stance on 50,000 quotes would time the encoder.
    let output = whosaid(
        &["extract", "--no-stance", "--input-format", "text", "-"],
        marks.as_bytes(),
    );
    assert_eq!(output.status.code(), Some(0));
    assert_offsets(&marks, &records(&output)[0]);

    let text = numbered_article(50 * 1024 * 1024);
    let input = jsonl_line("huge", &text) + &jsonl_line("small", "“Fine,” said Jane Smith.");
    let output = whosaid(&["extract", "--no-stance", "-"], input.as_bytes());
    assert_eq!(output.status.code(), Some(0));
    let records = records(&output);
    assert_eq!(records.len(), 2);
    assert!(records[0].quotes.len() > 500_000);
    assert_eq!(records[1].quotes.len(), 1);
}

#[test]
fn a_document_over_its_time_budget_gets_a_timeout_record_and_the_batch_goes_on() {
    let big = numbered_article(10 * 1024 * 1024);
    let input = jsonl_line("small", "“Fine,” said Jane Smith.")
        + &jsonl_line("big", &big)
        + &jsonl_line("after", "“Also fine,” said Jane Smith.");
    let output = whosaid(
        &[
            "extract",
            "--no-stance",
            "--doc-timeout",
            "0.05",
            "--doc-timeout-per-mb",
            "0",
            "-",
        ],
        input.as_bytes(),
    );
    assert_eq!(output.status.code(), Some(1));
    let records = records(&output);
    let ids: Vec<&str> = records.iter().map(|record| record.id.as_str()).collect();
    assert_eq!(ids, ["small", "big", "after"]);
    let error = records[1]
        .error
        .as_ref()
        .expect("the big document timed out");
    assert_eq!(error.kind, ErrorKind::Timeout);
    assert!(error.message.contains("document big") && error.message.contains("0.050 s"));
    assert_eq!(records[0].quotes.len(), 1);
    assert_eq!(records[2].quotes.len(), 1);
    let refused = whosaid(&["extract", "--doc-timeout", "-1", "-"], input.as_bytes());
    assert_eq!(refused.status.code(), Some(2));
}
