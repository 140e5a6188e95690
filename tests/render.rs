//! `whosaid render` end to end: the seed article's page marks every quote with its speaker, a
//! corpus gets an index, and saved records render as the pipeline's own do.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::SEED;
use whosaid::pipeline::{Pipeline, PipelineConfig};

const SEED_PATH: &str = "data/000_86905691883c5ace.txt";
const SEED_PAGE: &str = "000_86905691883c5ace.html";

fn whosaid(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_whosaid"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("whosaid runs")
}

fn render(args: &[&str], out: &Path) -> Output {
    let mut all = vec!["render", "--out", out.to_str().expect("a UTF-8 path")];
    all.extend(args);
    let output = whosaid(&all);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The opening tag of the element with this id.
fn tag_with_id<'h>(html: &'h str, id: &str) -> Option<&'h str> {
    let at = html.find(&format!(" id=\"{id}\""))?;
    let start = html[..at].rfind('<')?;
    let end = at + html[at..].find('>')?;
    Some(&html[start..=end])
}

fn attribute<'t>(tag: &'t str, name: &str) -> Option<&'t str> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = start + tag[start..].find('"')?;
    Some(&tag[start..end])
}

#[test]
fn the_seed_page_has_a_quote_element_per_quote_with_its_speaker() {
    let dir = tempfile::tempdir().unwrap();
    render(&["--fast", SEED_PATH], dir.path());
    let html = std::fs::read_to_string(dir.path().join(SEED_PAGE)).expect("the page");
    assert!(
        !dir.path().join("index.html").exists(),
        "one article gets no index"
    );
    let record = Pipeline::new(PipelineConfig::default())
        .unwrap()
        .extract("seed", SEED);
    assert!(record.quotes.len() >= 8);
    let mut kerry_and_lavrov = 0;
    for (index, quote) in record.quotes.iter().enumerate() {
        let tag = tag_with_id(&html, &format!("q{index}"))
            .unwrap_or_else(|| panic!("no element for quote {index}"));
        let speaker = quote.speaker.as_ref().map_or("", |speaker| &speaker.name);
        assert_eq!(attribute(tag, "data-speaker"), Some(speaker), "{tag}");
        assert_eq!(
            attribute(tag, "data-quote"),
            Some(index.to_string().as_str())
        );
        assert_eq!(
            tag.contains(" uncertain "),
            quote.confidence < 0.5,
            "{tag} at {}",
            quote.confidence
        );
        // The quote's first piece starts with its content (escaped the same way).
        let after = &html[html.find(tag).unwrap() + tag.len()..];
        let first_char = quote.content.text.chars().next().unwrap().to_string();
        assert!(after.starts_with(&first_char), "{after:.40}");
        if speaker == "John Kerry" || speaker == "Sergey Lavrov" {
            kerry_and_lavrov += 1;
            let mention = attribute(tag, "data-goto").expect("a link to the mention");
            let mention_tag = tag_with_id(&html, mention).expect("the mention");
            assert_eq!(attribute(mention_tag, "data-speaker"), Some(speaker));
        }
    }
    // Eight attributions, two of them interrupted quotes kept whole: six quotes.
    assert_eq!(kerry_and_lavrov, 6);
    assert!(html.matches(" data-quote=\"").count() >= record.quotes.len());
    assert!(html.contains("Content-Security-Policy"));
    assert!(!html.contains("http://") && !html.contains("https://"));
}

#[test]
fn a_corpus_gets_an_index_and_records_render_like_the_pipeline() {
    let articles = tempfile::tempdir().unwrap();
    std::fs::write(articles.path().join("a.txt"), SEED).unwrap();
    std::fs::create_dir(articles.path().join("sub")).unwrap();
    std::fs::write(
        articles.path().join("sub/b.txt"),
        "“We are close,” Kerry said. <script>x()</script>",
    )
    .unwrap();
    let pages = tempfile::tempdir().unwrap();
    render(&["--fast", articles.path().to_str().unwrap()], pages.path());
    let index = std::fs::read_to_string(pages.path().join("index.html")).expect("an index");
    for page in ["a.html", "sub_b.html"] {
        assert!(index.contains(&format!("href=\"{page}\"")), "{index}");
        let html = std::fs::read_to_string(pages.path().join(page)).expect("a page");
        assert!(html.contains("href=\"index.html\""));
    }
    assert!(index.contains("<td class=\"speaker-name\">John Kerry</td>"));
    let b = std::fs::read_to_string(pages.path().join("sub_b.html")).unwrap();
    assert!(b.contains("&lt;script&gt;x()&lt;/script&gt;"));

    // The same article from saved records.
    let extracted = whosaid(&["extract", "--fast", SEED_PATH]);
    let records = articles.path().join("records.jsonl");
    std::fs::write(&records, &extracted.stdout).unwrap();
    let again = tempfile::tempdir().unwrap();
    render(
        &["--records", records.to_str().unwrap(), SEED_PATH],
        again.path(),
    );
    let direct = tempfile::tempdir().unwrap();
    render(&["--fast", SEED_PATH], direct.path());
    // The embedded record is left out: serde_json reads back the last digit of some floats
    // differently, and the page shows two decimals.
    let markup = |dir: &Path| {
        let html = std::fs::read_to_string(dir.join(SEED_PAGE)).unwrap();
        let end = html.find("<script type=\"application/json\"").unwrap();
        html[..end].to_string()
    };
    assert!(
        markup(again.path()) == markup(direct.path()),
        "the page from saved records differs from the page of the pipeline"
    );
}

#[test]
fn bad_options_and_inputs_are_reported() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    let missing = whosaid(&["render", "--out", dir, "no/such/file.txt"]);
    assert_eq!(missing.status.code(), Some(2));
    let threshold = whosaid(&["render", "--out", dir, "--uncertain-below", "2", SEED_PATH]);
    assert_eq!(threshold.status.code(), Some(2));
    let records = out.path().join("not-records.jsonl");
    std::fs::write(&records, "{\"id\": 1}\nnot json\n").unwrap();
    let bad = whosaid(&[
        "render",
        "--out",
        dir,
        "--records",
        records.to_str().unwrap(),
        SEED_PATH,
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not a whosaid record"));
}
