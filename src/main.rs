//! The `whosaid` command line: a thin layer over the library. Each subcommand is in `cli/`.

mod cli;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};

fn main() -> ExitCode {
    let outcome = match Cli::parse().command {
        Command::Extract(args) => cli::extract::run(args),
        Command::Eval(args) => cli::eval::run(args),
        Command::Render(args) => cli::render::run(args),
        Command::Train { model } => cli::train::run(model),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("whosaid: {error}");
            ExitCode::from(2)
        }
    }
}
