//! The crate's layout as the one-Doc issue set it: a thin CLI whose subcommands each live in a
//! file of their own under `src/cli/`, short enough to read at once, and a `main.rs` that only
//! dispatches.

use std::path::Path;

const MOST_LINES_OF_A_SUBCOMMAND: usize = 300;
const MOST_LINES_OF_MAIN: usize = 60;

fn lines_of(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()))
        .lines()
        .count()
}

#[test]
fn every_cli_file_stays_under_three_hundred_lines() {
    let cli = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/cli");
    let mut files: Vec<_> = std::fs::read_dir(&cli)
        .expect("src/cli is there")
        .map(|entry| entry.expect("a readable entry").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "rs"))
        .collect();
    files.sort();
    assert!(files.len() > 3, "src/cli holds {} files", files.len());
    let long: Vec<String> = files
        .iter()
        .map(|path| (path, lines_of(path)))
        .filter(|(_, lines)| *lines >= MOST_LINES_OF_A_SUBCOMMAND)
        .map(|(path, lines)| format!("{} ({lines} lines)", path.display()))
        .collect();
    assert!(long.is_empty(), "too long for a thin CLI: {long:?}");
}

#[test]
fn main_only_dispatches() {
    let main = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/main.rs");
    let lines = lines_of(&main);
    assert!(lines < MOST_LINES_OF_MAIN, "src/main.rs has {lines} lines");
}
