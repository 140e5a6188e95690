//! `eval::brat::parse_ann`: the input is `text NUL ann` (no NUL: all text, empty ann); it returns
//! a Result and must not panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use whosaid::eval::brat::parse_ann;

fuzz_target!(|data: &[u8]| {
    let (text, ann) = match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let (Ok(text), Ok(ann)) = (std::str::from_utf8(text), std::str::from_utf8(ann)) else {
        return;
    };
    let _ = parse_ann(text, ann, "fuzz");
});
