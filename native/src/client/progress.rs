//! Progress on standard error: bytes against the total in one unit system
//! (the summary's MB), the rate of this run and its ETA, or a spinner with
//! bytes and rate when the size is not known.
//!
//! The rate is worked out here rather than by indicatif's estimator: a
//! resumed transfer starts at its offset, and the estimator would count the
//! kept bytes as if they had just crossed the network.

use indicatif::{DecimalBytes, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use std::fmt::Write;
use std::time::{Duration, Instant};

/// Whether progress is drawn: a person is watching standard error and did
/// not ask for quiet or machine-readable output.
pub fn wanted(quiet: bool, json: bool) -> bool {
    use std::io::IsTerminal;
    !quiet && !json && std::io::stderr().is_terminal()
}

/// Bytes moved in this run per second, from `start` (the resumed offset).
fn rate(state: &ProgressState, start: u64) -> Option<f64> {
    rate_of(state.elapsed(), state.pos(), start)
}

fn rate_of(elapsed: Duration, pos: u64, start: u64) -> Option<f64> {
    let secs = elapsed.as_secs_f64();
    let moved = pos.saturating_sub(start);
    (secs > 0.2 && moved > 0).then(|| moved as f64 / secs)
}

fn style(total_known: bool, start: u64) -> ProgressStyle {
    let template = if total_known {
        "{msg} [{bar:30}] {decimal_bytes}/{decimal_total_bytes} {rate} ETA {left}"
    } else {
        "{spinner} {msg} {decimal_bytes} {rate}"
    };
    let style =
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar());
    style
        .progress_chars("=> ")
        .with_key("rate", move |s: &ProgressState, w: &mut dyn Write| {
            let _ = match rate(s, start) {
                Some(r) => write!(w, "{}/s", DecimalBytes(r as u64)),
                None => w.write_str("-"),
            };
        })
        .with_key("left", move |s: &ProgressState, w: &mut dyn Write| {
            let left = s.len().map(|len| len.saturating_sub(s.pos()));
            let _ = match (rate(s, start), left) {
                (Some(r), Some(left)) => {
                    let secs = Duration::from_secs_f64(left as f64 / r).as_secs();
                    write!(w, "{}:{:02}", secs / 60, secs % 60)
                }
                _ => w.write_str("-"),
            };
        })
}

/// A bar for `label`, of `total` bytes when known, starting at `start`
/// (bytes kept from an earlier run). Its clock runs from `begun`, when the
/// command's work began (before a resumed transfer checks what it kept),
/// so that its rate is what a stopwatch would give. Hidden unless `show`.
pub fn bar(show: bool, total: Option<u64>, start: u64, label: &str, begun: Instant) -> ProgressBar {
    let target = if show {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let pb = ProgressBar::with_draw_target(total, target)
        .with_style(style(total.is_some(), start))
        .with_message(label.to_owned())
        .with_position(start)
        .with_elapsed(begun.elapsed());
    if total.is_none() {
        pb.enable_steady_tick(Duration::from_millis(120));
    }
    pb
}

/// The bar once the size has become known (a TFTP server's `tsize`).
pub fn set_total(pb: &ProgressBar, total: u64, start: u64) {
    pb.disable_steady_tick();
    pb.set_length(total);
    pb.set_style(style(true, start));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resumed_transfer_counts_only_the_bytes_of_this_run() {
        // 900 bytes kept, 50 moved in 0.5 s: 100 B/s, not 1,900.
        let r = rate_of(Duration::from_millis(500), 950, 900);
        assert_eq!(r, Some(100.0));
        // Nothing moved yet, or too soon to say: no figure rather than a wild one.
        assert_eq!(rate_of(Duration::from_secs(3), 900, 900), None);
        assert_eq!(rate_of(Duration::from_millis(50), 950, 900), None);
    }
}
