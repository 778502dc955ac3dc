//! Printing on stdout without panicking when it is gone.
//!
//! `println!` panics when stdout cannot be written, and a reader that stops
//! early (`runi runs | head -1`) closes the pipe under it. Every command
//! prints through [`out!`] and [`outln!`] instead: once the reader has gone
//! (a broken pipe) the rest of the output is dropped quietly and the command
//! still ends with its own exit code; any other failure to write (a full
//! disk under a redirect) is said once on stderr and makes the exit code an
//! infrastructure error (see `main.rs`).

use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once stdout failed for a reason other than a reader that left.
static STDOUT_FAILED: AtomicBool = AtomicBool::new(false);

/// Writes `text` (and a line end when `line`) on stdout; see the module.
pub fn write_stdout(text: fmt::Arguments<'_>, line: bool) {
    let mut out = io::stdout().lock();
    let written = out
        .write_fmt(text)
        .and_then(|()| if line { out.write_all(b"\n") } else { Ok(()) })
        .and_then(|()| out.flush());
    if let Err(error) = written
        && error.kind() != io::ErrorKind::BrokenPipe
        && !STDOUT_FAILED.swap(true, Ordering::Relaxed)
    {
        eprintln!("error: cannot write the output on stdout: {error}");
    }
}

/// Whether some output could not be written for a reason other than a
/// reader that left early.
pub fn stdout_failed() -> bool {
    STDOUT_FAILED.load(Ordering::Relaxed)
}

/// `print!` that neither panics nor stops the command when stdout is gone.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::stdout::write_stdout(format_args!($($arg)*), false)
    };
}

/// `println!` that neither panics nor stops the command when stdout is gone.
macro_rules! outln {
    () => {
        $crate::stdout::write_stdout(format_args!(""), true)
    };
    ($($arg:tt)*) => {
        $crate::stdout::write_stdout(format_args!($($arg)*), true)
    };
}
