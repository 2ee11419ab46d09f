//! A generic checker of the core contract ([`crate::machine`]), for fuzz
//! targets and property tests: it feeds any machine a script of hostile
//! network input and checks the rules every machine promises to keep.

use crate::{Input, Machine, Now, PeerId, Transmit, drain};
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
    let mut checker = Checker::new(machine, start)?;
    for op in ops {
        checker.step(op)?;
    }
    Ok(())
}

/// The checks of [`exercise`], one step at a time, for a peer that shapes
/// its next message after what the machine just sent (the block a sender
/// is at, the options it granted): a scripted peer rarely hits those.
#[derive(Debug)]
pub struct Checker<'a, M: Machine> {
    machine: &'a mut M,
    now: Now,
    step: usize,
    sent: Vec<Transmit>,
}

impl<'a, M> Checker<'a, M>
where
    M: Machine,
    M::Error: Debug,
{
    /// Starts checking `machine` at `start`, taking what it sends first.
    pub fn new(machine: &'a mut M, start: Now) -> Result<Self, Violation> {
        let mut c = Checker {
            machine,
            now: start,
            step: 0,
            sent: Vec::new(),
        };
        c.sink(0, 0)?;
        Ok(c)
    }

    /// What the machine sent in answer to the last step.
    pub fn sent(&self) -> &[Transmit] {
        &self.sent
    }

    /// The machine, for checks of its own between steps.
    pub fn machine(&mut self) -> &mut M {
        self.machine
    }

    /// The virtual time the steps have reached.
    pub fn now(&self) -> Now {
        self.now
    }

    fn sink(&mut self, step: usize, input_len: usize) -> Result<(), Violation> {
        self.sent.clear();
        let mut bytes = 0usize;
        let sent = &mut self.sent;
        drain(
            self.machine,
            |t| {
                bytes += t.payload.len();
                sent.push(t);
            },
            |_| {},
        );
        let limit = output_limit(input_len);
        if bytes > limit {
            return Err(Violation::UnboundedOutput { step, bytes, limit });
        }
        Ok(())
    }

    /// Applies one step and checks the rules.
    pub fn step(&mut self, op: &Op) -> Result<(), Violation> {
        let step = self.step;
        self.step += 1;
        let machine = &mut *self.machine;
        let now = &mut self.now;
        let (result, len) = match op {
            Op::Data { from, bytes } => {
                let input = Input::Data {
                    from: PeerId(u32::from(from % 4)),
                    bytes,
                };
                (machine.handle_input(*now, input), bytes.len())
            }
            Op::Eof { from } => {
                let input = Input::Eof {
                    from: PeerId(u32::from(from % 4)),
                };
                (machine.handle_input(*now, input), 0)
            }
            Op::EarlyTimeout => (machine.handle_input(*now, Input::Timeout), 0),
            Op::Advance { ms } => {
                *now = now.advanced(Duration::from_millis(u64::from(*ms)));
                match machine.poll_timeout() {
                    Some(at) if at <= now.mono => {
                        let r = machine.handle_input(*now, Input::Timeout);
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
        self.sink(step, len)
    }
}
