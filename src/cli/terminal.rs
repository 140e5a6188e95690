//! The terminal, which the CLI owns: progress, warnings, and the signals that stop a run.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};

use whosaid::batch::{Reporter, Warning};

/// Warnings and progress on the terminal: a spinner with documents per second when stderr is
/// a terminal, warnings as lines on stderr.
pub struct Terminal {
    bar: ProgressBar,
}

impl Terminal {
    pub fn new() -> Self {
        use std::io::IsTerminal;
        if !std::io::stderr().is_terminal() {
            return Terminal {
                bar: ProgressBar::hidden(),
            };
        }
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {pos} documents, {per_sec}, {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        Terminal { bar }
    }

    /// Prints a line on stderr, clear of the spinner.
    pub fn line(&self, line: &str) {
        self.bar.suspend(|| eprintln!("{line}"));
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Reporter for Terminal {
    fn warning(&self, warning: &Warning) {
        self.line(&format!("whosaid: warning: {warning}"));
    }

    fn progress(&self, documents_written: usize) {
        self.bar.set_position(documents_written as u64);
    }
}

/// A flag that the first SIGINT or SIGTERM sets: the documents already finished are written and
/// those in flight are dropped (a resumed run does them again), so the run ends within moments;
/// a second signal ends the process at once.
pub fn stop_on_signals() -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let handler_stop = Arc::clone(&stop);
    let installed = ctrlc::set_handler(move || {
        if handler_stop.swap(true, Ordering::SeqCst) {
            // `_exit`, not `exit`: `exit` runs C++ static destructors (libtorch's) under the
            // threads still using them, which crashed or hung the process.
            // SAFETY: `_exit` takes no pointers and does not return.
            unsafe { libc::_exit(130) };
        }
        eprintln!(
            "whosaid: stopping: writing the documents already finished (signal again to quit now)"
        );
    });
    if let Err(error) = installed {
        eprintln!("whosaid: warning: cannot catch SIGINT/SIGTERM ({error}); a signal will stop the run at once");
    }
    stop
}
