//! Writing to the terminal: standard output without the panic `println!`
//! has on a closed pipe, errors in words (or JSON), and when to colour.

use crate::client::ClientError;
use serde::Serialize;
use std::io::{IsTerminal, Write};

/// `outln!` and `out!` write to standard output: `wirekit ls ADDR | head -1`
/// ends quietly, other write errors get words.
macro_rules! outln {
    ($($t:tt)*) => {
        $crate::cli::out::write(&format!("{}\n", format_args!($($t)*)))?
    };
}

macro_rules! out {
    ($($t:tt)*) => {
        $crate::cli::out::write(&format!($($t)*))?
    };
}

pub(crate) use {out, outln};

/// Writes `text` to standard output.
pub fn write(text: &str) -> Result<(), ClientError> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(ClientError::ClosedPipe),
        Err(e) => Err(ClientError::Local(format!(
            "cannot write to standard output: {e}"
        ))),
    }
}

/// Writes `value` as one JSON line.
pub fn json(value: &impl Serialize) -> Result<(), ClientError> {
    let text = serde_json::to_string(value)
        .map_err(|e| ClientError::Local(format!("cannot write JSON: {e}")))?;
    outln!("{text}");
    Ok(())
}

#[derive(Serialize)]
struct JsonError<'a> {
    error: Body<'a>,
}

#[derive(Serialize)]
struct Body<'a> {
    kind: &'a str,
    message: String,
    exit_code: i32,
}

/// Tells the user why the command failed: `wirekit: …` on standard error,
/// or, when JSON was asked for, one JSON line on standard output.
pub fn error(e: &ClientError, as_json: bool) {
    if as_json {
        let body = JsonError {
            error: Body {
                kind: e.kind(),
                message: e.to_string(),
                exit_code: e.exit_code(),
            },
        };
        if json(&body).is_ok() {
            return;
        }
    }
    note(&format!("wirekit: {e}"));
}

/// A line for the person at the terminal (summaries beside a download to
/// standard output), on standard error.
pub fn note(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}

/// Colour in logs only for a person: not in a log file, nor with NO_COLOR.
pub fn colour() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}
