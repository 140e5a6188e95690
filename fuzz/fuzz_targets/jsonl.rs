//! `input::JsonlReader` on raw bytes: must not panic, and every line that is not blank (not all
//! ASCII whitespace) gives exactly one document.
#![no_main]

use libfuzzer_sys::fuzz_target;
use whosaid::input::JsonlReader;

fuzz_target!(|data: &[u8]| {
    let reader = JsonlReader::new(Box::new(std::io::Cursor::new(data.to_vec())), "fuzz".into());
    let mut documents = 0usize;
    for document in reader {
        documents += 1;
        assert!(!document.id.is_empty(), "document with an empty id");
    }
    let expected = data
        .split(|&b| b == b'\n')
        .filter(|line| !line.iter().all(u8::is_ascii_whitespace))
        .count();
    assert_eq!(documents, expected, "documents read vs non-blank lines");
});
