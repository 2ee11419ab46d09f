//! The contract checker catches the faults it claims to catch.

use bytes::Bytes;
use std::convert::Infallible;
use wirekit_core::testing::contract::{Op, Violation, exercise};
use wirekit_core::{Input, Instant, Machine, Now, PeerId, Transmit};

/// A machine with a configurable flaw.
#[derive(Default)]
struct Flawed {
    stuck_timer: bool,
    amplify: usize,
    refuse_eof: bool,
    out: Vec<Transmit>,
}

impl Machine for Flawed {
    type Command = Infallible;
    type Event = ();
    type Error = &'static str;
    fn handle_input(&mut self, _now: Now, input: Input<'_>) -> Result<(), &'static str> {
        match input {
            Input::Data { from, bytes } if self.amplify > 0 => {
                let big = bytes.repeat(self.amplify);
                self.out.push(Transmit {
                    to: from,
                    payload: Bytes::from(big),
                });
            }
            Input::Eof { .. } if self.refuse_eof => return Err("eof"),
            _ => {}
        }
        Ok(())
    }
    fn handle_command(&mut self, _now: Now, cmd: Infallible) -> Result<(), &'static str> {
        match cmd {}
    }
    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.pop()
    }
    fn poll_event(&mut self) -> Option<()> {
        None
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.stuck_timer.then_some(Instant::ZERO)
    }
    fn is_done(&self) -> bool {
        false
    }
}

fn script() -> Vec<Op> {
    vec![
        Op::Data {
            from: 1,
            bytes: vec![7; 20_000],
        },
        Op::Advance { ms: 10 },
        Op::Eof { from: 1 },
    ]
}

#[test]
fn a_sound_machine_passes() {
    let mut m = Flawed::default();
    exercise(&mut m, Now::default(), &script()).unwrap();
    let _ = PeerId::FIRST;
}

#[test]
fn each_flaw_is_caught() {
    let mut stuck = Flawed {
        stuck_timer: true,
        ..Default::default()
    };
    assert!(matches!(
        exercise(&mut stuck, Now::default(), &script()),
        Err(Violation::TimeoutNotAdvanced { step: 1, .. })
    ));
    let mut loud = Flawed {
        amplify: 200,
        ..Default::default()
    };
    assert!(matches!(
        exercise(&mut loud, Now::default(), &script()),
        Err(Violation::UnboundedOutput { step: 0, .. })
    ));
    let mut touchy = Flawed {
        refuse_eof: true,
        ..Default::default()
    };
    assert!(matches!(
        exercise(&mut touchy, Now::default(), &script()),
        Err(Violation::ErrFromPeerInput { step: 2, .. })
    ));
}
