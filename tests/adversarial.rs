//! Hostile text through the release binary: every family of tests/common/adversarial.rs at about
//! 100 kB, in both modes, must finish well inside a bound that only a blow-up would pass (the
//! speed itself is measured by scripts/bench-adversarial); and a stop must come promptly even
//! while a document is stuck in a long stage.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::adversarial::Family;
use common::{assert_offsets, whosaid};
use whosaid::record::DocumentRecord;

/// Loose enough for a loaded machine; a quadratic stage takes minutes on these documents.
const MOST_SECONDS_PER_DOCUMENT: f64 = 10.0;
const DOCUMENT_BYTES: usize = 100_000;
/// In the default mode, no family may take more than this many times a news document of the
/// same size. The encoder's time is linear in word pieces, and a page of quote marks has about
/// four times as many pieces per byte as news (each mark is one), so a linear family can take
/// four times as long; a blow-up takes a hundred.
const NEWS_MULTIPLE: f64 = 6.0;

fn records(stdout: &[u8]) -> Vec<DocumentRecord> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("a record per line"))
        .collect()
}

fn jsonl_line(id: &str, text: &str) -> String {
    serde_json::json!({"id": id, "text": text}).to_string() + "\n"
}

/// Runs one family's document through `extract` with these mode options, with no time budget
/// (so that a slow stage shows as time, not as a timeout record), and checks its record.
/// The timed tests take it in turn, so that each family's time is its own, not a share of
/// the cores with another test's 30 MB document.
static TIMING: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn timing() -> std::sync::MutexGuard<'static, ()> {
    TIMING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn run_family(family: Family, mode: &[&str]) -> Duration {
    run_text(family.name(), &family.document(DOCUMENT_BYTES), mode)
}

fn run_text(name: &str, text: &str, mode: &[&str]) -> Duration {
    let family = Named(name);
    let input = jsonl_line(family.name(), text);
    let mut args = vec!["extract", "--threads", "1", "--doc-timeout", "0"];
    args.extend_from_slice(mode);
    args.push("-");
    let started = Instant::now();
    let output = whosaid(&args, input.as_bytes());
    let elapsed = started.elapsed();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}: {}",
        family.name(),
        String::from_utf8_lossy(&output.stderr)
    );
    let records = records(&output.stdout);
    assert_eq!(records.len(), 1, "{}", family.name());
    assert!(
        records[0].error.is_none(),
        "{}: {:?}",
        family.name(),
        records[0].error
    );
    assert_offsets(text, &records[0]);
    elapsed
}

/// A name in the messages of [`run_text`].
struct Named<'a>(&'a str);

impl Named<'_> {
    fn name(&self) -> &str {
        self.0
    }
}

fn every_family_is_bounded(mode: &[&str]) {
    let _turn = timing();
    // The default mode encodes about as many bytes as the text has; at one thread 100 kB of
    // quote-dense news takes it several seconds, so there the bound is also a multiple of that
    // document's own time (a blow-up is a hundred times, not a few).
    let news = run_text("news", &news_paragraphs(DOCUMENT_BYTES), mode).as_secs_f64();
    let bound = if mode.contains(&"--fast") {
        MOST_SECONDS_PER_DOCUMENT
    } else {
        MOST_SECONDS_PER_DOCUMENT.max(NEWS_MULTIPLE * news)
    };
    eprintln!("news {mode:?}: {news:.2} s; bound {bound:.1} s");
    let mut slow = Vec::new();
    for family in Family::ALL {
        let seconds = run_family(family, mode).as_secs_f64();
        eprintln!("{} {mode:?}: {seconds:.2} s", family.name());
        if seconds > bound {
            slow.push(format!("{} took {seconds:.1} s", family.name()));
        }
    }
    assert!(slow.is_empty(), "blow-ups in {mode:?}: {slow:?}");
}

#[test]
fn every_hostile_family_runs_in_bounded_time_in_fast_mode() {
    every_family_is_bounded(&["--fast"]);
}

#[cfg(feature = "transformer")]
#[test]
fn every_hostile_family_runs_in_bounded_time_in_the_default_mode() {
    every_family_is_bounded(&[]);
}

#[test]
fn the_families_are_the_size_asked_for() {
    for family in Family::ALL {
        let text = family.document(10_000);
        assert!(
            (9_000..=10_000).contains(&text.len()),
            "{}: {} bytes",
            family.name(),
            text.len()
        );
    }
}

/// A document of about `bytes` bytes of short news paragraphs (numbered: the normaliser drops
/// a line that repeats the one before, as a repeated caption).
fn news_paragraphs(bytes: usize) -> String {
    let mut text = String::with_capacity(bytes + 100);
    let mut number = 0;
    while text.len() < bytes {
        number += 1;
        text.push_str(&format!(
            "“We are close {number},” Kerry said. Lavrov said the talks would go on.\n"
        ));
    }
    text
}

/// A document that takes the fast pipeline several seconds.
fn stuck_document() -> String {
    news_paragraphs(30_000_000)
}

#[test]
fn sigterm_during_a_stuck_document_ends_the_run_promptly_and_resume_completes_it() {
    let _turn = timing();
    let dir = tempfile::tempdir().unwrap();
    let small = |number: usize| {
        jsonl_line(
            &format!("small{number}"),
            &format!("“Number {number} is up,” said Jane Smith."),
        )
    };
    let corpus = small(1) + &small(2) + &jsonl_line("stuck", &stuck_document()) + &small(3);
    let input = dir.path().join("corpus.jsonl");
    std::fs::write(&input, &corpus).unwrap();
    let out = dir.path().join("out.jsonl");
    let run = |resume: bool| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_whosaid"));
        command
            .args([
                "extract",
                "--fast",
                "--chunk-size",
                "1",
                "--doc-timeout",
                "0",
            ])
            .arg(&input)
            .arg("--output")
            .arg(&out)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if resume {
            command.arg("--resume");
        }
        command.spawn().expect("whosaid runs")
    };
    let child = run(false);
    let waited = Instant::now();
    while std::fs::read_to_string(&out).map_or(0, |text| text.lines().count()) < 2 {
        assert!(
            waited.elapsed().as_secs() < 60,
            "the small documents were not written"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    // The stuck document is now being read and analysed.
    std::thread::sleep(Duration::from_millis(500));
    let signalled = Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let stopped = child.wait_with_output().unwrap();
    let stop_took = signalled.elapsed();
    assert_eq!(stopped.status.code(), Some(130));
    assert!(
        stop_took < Duration::from_secs(2),
        "the run took {stop_took:?} to stop"
    );
    let written = std::fs::read_to_string(&out).unwrap();
    let ids: Vec<String> = records(written.as_bytes())
        .into_iter()
        .map(|record| record.id)
        .collect();
    assert_eq!(
        ids,
        ["small1", "small2"],
        "only the finished documents are written"
    );

    let resumed = run(true).wait_with_output().unwrap();
    assert_eq!(
        resumed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    let completed = records(std::fs::read_to_string(&out).unwrap().as_bytes());
    let ids: Vec<&str> = completed.iter().map(|record| record.id.as_str()).collect();
    assert_eq!(ids, ["small1", "small2", "stuck", "small3"]);
    assert!(completed.iter().all(|record| record.error.is_none()));
    assert!(completed[2].quotes.len() > 1_000);
}

#[test]
fn a_document_past_its_budget_leaves_the_other_records_unchanged() {
    let _turn = timing();
    let others = jsonl_line("before", "“Fine,” said Jane Smith. Officials said it rose.")
        + &jsonl_line(
            "after",
            "“Also fine,” Kerry said. Lavrov said the talks went on.",
        );
    let (before, after) = others.split_at(others.find('\n').unwrap() + 1);
    let slow = jsonl_line("slow", &news_paragraphs(20_000_000));
    let budget = ["--doc-timeout", "0.2", "--doc-timeout-per-mb", "0"];
    let run = |input: &str| {
        let mut args = vec!["extract", "--fast"];
        args.extend_from_slice(&budget);
        args.push("-");
        whosaid(&args, input.as_bytes())
    };
    let with_slow = run(&format!("{before}{slow}{after}"));
    assert_eq!(with_slow.status.code(), Some(1));
    let with_slow = String::from_utf8(with_slow.stdout).unwrap();
    let lines: Vec<&str> = with_slow.lines().collect();
    assert_eq!(lines.len(), 3);
    let timed_out: DocumentRecord = serde_json::from_str(lines[1]).unwrap();
    let error = timed_out.error.expect("the slow document timed out");
    assert_eq!(error.kind, whosaid::record::ErrorKind::Timeout);
    assert!(error.message.contains("document slow"), "{}", error.message);
    let without_slow = run(&others);
    assert_eq!(without_slow.status.code(), Some(0));
    assert_eq!(
        format!("{}\n{}\n", lines[0], lines[2]),
        String::from_utf8(without_slow.stdout).unwrap(),
        "the other records are byte for byte those of a run without the slow document"
    );
}

/// Runs `extract --fast` on one text with these budget options; the time it took and the record.
fn timed_text_run(text: &str, budget: &[&str]) -> (Duration, DocumentRecord) {
    let mut args = vec![
        "extract",
        "--fast",
        "--threads",
        "1",
        "--input-format",
        "text",
    ];
    args.extend_from_slice(budget);
    args.push("-");
    let mut child = Command::new(env!("CARGO_BIN_EXE_whosaid"))
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(text.as_bytes()).unwrap();
    drop(stdin);
    // Timed from the end of the input, so that only the analysis counts.
    let started = Instant::now();
    let output = child.wait_with_output().unwrap();
    let elapsed = started.elapsed();
    let record = records(&output.stdout).remove(0);
    (elapsed, record)
}

#[test]
fn a_budget_stops_a_long_document_inside_a_stage_not_after_it() {
    let _turn = timing();
    // One line of 20 MB with no sentence end: every stage sees it as one paragraph and one
    // sentence, so a check only between stages, or once a line or a sentence, would let each
    // stage run to its end.
    let text = "kerry said we are close lavrov said trust grows ".repeat(400_000);
    let (unbounded, record) = timed_text_run(&text, &["--doc-timeout", "0"]);
    assert!(record.error.is_none(), "{:?}", record.error);
    let (bounded, record) = timed_text_run(
        &text,
        &["--doc-timeout", "0.01", "--doc-timeout-per-mb", "0"],
    );
    assert_eq!(
        record.error.as_ref().map(|error| error.kind),
        Some(whosaid::record::ErrorKind::Timeout)
    );
    assert!(
        bounded < unbounded / 2,
        "a 10 ms budget took {bounded:?}; the whole analysis takes {unbounded:?}"
    );
}
