//! `normalise::normalise` and its map from cleaned offsets back to the original.
//!
//! Checked (from the docs and the crate's own `offset_map_is_monotonic_and_total` test): every
//! cleaned offset maps to an original offset <= text.len(); `original_start` is non-decreasing;
//! and, so that spans found on the cleaned view can be sliced from the original, a cleaned char
//! boundary maps to an original char boundary.
#![no_main]

use libfuzzer_sys::fuzz_target;
use whosaid::normalise::normalise;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let view = normalise(text);
    let clean = view.text.as_str();
    let mut previous_start = 0usize;
    for b in (0..=clean.len()).filter(|&b| clean.is_char_boundary(b)) {
        let start = view.original_start(b);
        let end = view.original_end(b);
        assert!(start <= text.len(), "original_start({b}) = {start} > len {}", text.len());
        assert!(end <= text.len(), "original_end({b}) = {end} > len {}", text.len());
        assert!(text.is_char_boundary(start), "original_start({b}) = {start} not a char boundary");
        assert!(text.is_char_boundary(end), "original_end({b}) = {end} not a char boundary");
        assert!(start >= previous_start, "original_start not monotonic at {b}: {previous_start} then {start}");
        previous_start = start;
    }
    // Every byte, as the crate's own invariant test checks it.
    let map = view.map_each_byte();
    assert!(map.windows(2).all(|pair| pair[0] <= pair[1]), "map_each_byte not monotonic");
    assert!(map.iter().all(|&at| at <= text.len()), "map_each_byte past the end");
    // Marks lie in the cleaned text, in order, and are the two curly quotes.
    let mut last_end = 0;
    for mark in &view.marks {
        assert!(mark.start >= last_end && mark.start <= mark.end && mark.end <= clean.len(), "mark {mark:?}");
        assert!(clean.is_char_boundary(mark.start) && clean.is_char_boundary(mark.end), "mark {mark:?}");
        last_end = mark.end;
    }
});
