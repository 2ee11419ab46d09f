//! A generic checker of the core contract ([`crate::machine`]), for fuzz
//! targets and property tests: it feeds any machine a script of hostile
//! network input and checks the rules every machine promises to keep.

use crate::{Input, Machine, Now, PeerId, drain};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Debug;
use core::time::Duration;

/// One step of a hostile peer's script.
#[derive(Clone, Debug, arbitrary::Arbitrary)]
pub enum Op {
    /// Bytes from peer `from % 4` (a datagram, or a piece of a stream).
    Data { from: u8, bytes: Vec<u8> },
    /// The peer closed its side.
    Eof { from: u8 },
    /// Time passes (milliseconds); due timeouts fire.
    Advance { ms: u16 },
    /// A timeout arrives early: machines must tolerate it.
    EarlyTimeout,
}

/// A broken promise, with the step that broke it.
#[derive(Debug)]
pub enum Violation {
    /// `handle_input` returned `Err` for network input.
    ErrFromPeerInput { step: usize, error: String },
    /// After a timeout at `at`, `poll_timeout` asked for `at` or earlier again.
    TimeoutNotAdvanced { step: usize, at: u64, next: u64 },
    /// One input made the machine emit more than `limit` bytes.
    UnboundedOutput {
        step: usize,
        bytes: usize,
        limit: usize,
    },
}

/// How many output bytes one input may cause: generous, but finite. A
/// machine that amplifies beyond this is a reflection risk or unbounded.
pub fn output_limit(input_len: usize) -> usize {
    (1 << 20) + 64 * input_len
}

/// Feeds `ops` to `machine`, starting at `start`, and checks the rules:
/// peer input never returns `Err`, timeouts move forward, output per input
/// is bounded. Panics inside the machine surface as test failures.
pub fn exercise<M>(machine: &mut M, start: Now, ops: &[Op]) -> Result<(), Violation>
where
    M: Machine,
    M::Error: Debug,
{
    let mut now = start;
    let sink = |machine: &mut M, step: usize, input_len: usize| -> Result<(), Violation> {
        let mut bytes = 0usize;
        drain(machine, |t| bytes += t.payload.len(), |_| {});
        let limit = output_limit(input_len);
        if bytes > limit {
            return Err(Violation::UnboundedOutput { step, bytes, limit });
        }
        Ok(())
    };
    sink(machine, 0, 0)?;
    for (step, op) in ops.iter().enumerate() {
        let (result, len) = match op {
            Op::Data { from, bytes } => {
                let input = Input::Data {
                    from: PeerId(u32::from(from % 4)),
                    bytes,
                };
                (machine.handle_input(now, input), bytes.len())
            }
            Op::Eof { from } => {
                let input = Input::Eof {
                    from: PeerId(u32::from(from % 4)),
                };
                (machine.handle_input(now, input), 0)
            }
            Op::EarlyTimeout => (machine.handle_input(now, Input::Timeout), 0),
            Op::Advance { ms } => {
                now = now.advanced(Duration::from_millis(u64::from(*ms)));
                match machine.poll_timeout() {
                    Some(at) if at <= now.mono => {
                        let r = machine.handle_input(now, Input::Timeout);
                        if let Some(next) = machine.poll_timeout().filter(|n| *n <= now.mono)
                            && r.is_ok()
                        {
                            return Err(Violation::TimeoutNotAdvanced {
                                step,
                                at: now.mono.as_micros(),
                                next: next.as_micros(),
                            });
                        }
                        (r, 0)
                    }
                    _ => (Ok(()), 0),
                }
            }
        };
        if let Err(e) = result {
            return Err(Violation::ErrFromPeerInput {
                step,
                error: format!("{e:?}"),
            });
        }
        sink(machine, step, len)?;
    }
    Ok(())
}
