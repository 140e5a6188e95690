//! `segment::segment` on the cleaned view: every paragraph, sentence and token range lies in the
//! text on char boundaries; paragraphs, sentences and tokens are in order and do not overlap; each
//! sentence's token range is valid and its extent runs from its first token to its last.
#![no_main]

use libfuzzer_sys::fuzz_target;
use whosaid::normalise::normalise;
use whosaid::segment::segment;

fn check_range(text: &str, what: &str, start: usize, end: usize) {
    assert!(start <= end && end <= text.len(), "{what} {start}..{end} outside 0..{}", text.len());
    assert!(
        text.is_char_boundary(start) && text.is_char_boundary(end),
        "{what} {start}..{end} not on char boundaries"
    );
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let view = normalise(text);
    let clean = view.text.as_str();
    let seg = segment(clean);

    let mut last = 0;
    for p in &seg.paragraphs {
        check_range(clean, "paragraph", p.start, p.end);
        assert!(p.start >= last, "paragraphs overlap or out of order at {p:?}");
        last = p.end;
    }
    let mut last = 0;
    for t in &seg.tokens {
        check_range(clean, "token", t.start, t.end);
        assert!(t.start < t.end, "empty token {t:?}");
        assert!(t.start >= last, "tokens overlap or out of order at {t:?}");
        last = t.end;
    }
    let mut last_end = 0;
    let mut last_token = 0;
    for (i, s) in seg.sentences.iter().enumerate() {
        check_range(clean, "sentence", s.start, s.end);
        assert!(s.start >= last_end, "sentence {i} {}..{} overlaps the previous (ends {last_end})", s.start, s.end);
        assert!(s.tokens.start < s.tokens.end && s.tokens.end <= seg.tokens.len(), "sentence {i} tokens {:?}", s.tokens);
        assert!(s.tokens.start >= last_token, "sentence {i} token ranges out of order");
        assert!(s.paragraph < seg.paragraphs.len(), "sentence {i} paragraph {}", s.paragraph);
        assert_eq!(s.start, seg.tokens[s.tokens.start].start, "sentence {i} start");
        assert_eq!(s.end, seg.tokens[s.tokens.end - 1].end, "sentence {i} end");
        let para = &seg.paragraphs[s.paragraph];
        assert!(para.start <= s.start && s.end <= para.end, "sentence {i} outside its paragraph");
        for t in s.tokens.clone() {
            assert_eq!(seg.sentence_of(t), Some(i), "sentence_of({t})");
        }
        last_end = s.end;
        last_token = s.tokens.end;
    }
});
