//! Writes one hostile document to standard output, for `scripts/bench-adversarial`:
//! `cargo run --release --example adversarial -- FAMILY BYTES` (FAMILY `list` names them).

#[path = "../tests/common/adversarial.rs"]
mod adversarial;

use std::io::Write;
use std::process::ExitCode;

use adversarial::Family;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("list") {
        for family in Family::ALL {
            println!("{}", family.name());
        }
        return ExitCode::SUCCESS;
    }
    let (Some(family), Some(bytes)) = (
        args.first().and_then(|name| Family::from_name(name)),
        args.get(1).and_then(|bytes| bytes.parse::<usize>().ok()),
    ) else {
        eprintln!("usage: adversarial FAMILY BYTES (adversarial list names the families)");
        return ExitCode::from(2);
    };
    let document = family.document(bytes);
    match std::io::stdout().lock().write_all(document.as_bytes()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("adversarial: {error}");
            ExitCode::FAILURE
        }
    }
}
