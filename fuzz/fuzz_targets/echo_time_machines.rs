//! Every echo and timestamp machine under a hostile peer's script: the
//! contract holds (no `Err` from peer input, bounded output, no panic).
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use wirekit_core::echo::{
    DatagramMode, DatagramServer, Echoed, HelloClient, StreamClient, StreamCommand, StreamMode,
    StreamServer, UdpClient,
};
use wirekit_core::retry::BackoffConfig;
use wirekit_core::testing::contract::{Op, Violation, exercise};
use wirekit_core::timestamp::{self, Service, StampClient};
use wirekit_core::{Instant, Now, UnixTime};

fn check(result: Result<(), Violation>) {
    if let Err(v) = result {
        panic!("contract broken: {v:?}");
    }
}

fuzz_target!(|input: (u8, i64, Vec<Op>)| {
    let (which, wall, ops) = input;
    let now = Now::new(Instant::ZERO, UnixTime::from_secs(wall));
    match which % 12 {
        0 => check(exercise(
            &mut StreamServer::new(StreamMode::Plain),
            now,
            &ops,
        )),
        1 => check(exercise(
            &mut StreamServer::new(StreamMode::Hello),
            now,
            &ops,
        )),
        2 => check(exercise(
            &mut DatagramServer::new(DatagramMode::Plain),
            now,
            &ops,
        )),
        3 => check(exercise(
            &mut DatagramServer::new(DatagramMode::Ack),
            now,
            &ops,
        )),
        4 => check(exercise(
            &mut DatagramServer::new(DatagramMode::Hello),
            now,
            &ops,
        )),
        5 => {
            let mut c = StreamClient::new();
            let _ = wirekit_core::Machine::handle_command(
                &mut c,
                now,
                StreamCommand::Send(Bytes::from_static(b"abc\n")),
            );
            check(exercise(&mut c, now, &ops));
        }
        6 => check(exercise(&mut HelloClient::new(), now, &ops)),
        7 => {
            let Ok(mut c) = UdpClient::new(Echoed, BackoffConfig::default(), 7) else {
                return;
            };
            let _ = wirekit_core::Machine::handle_command(&mut c, now, Bytes::from_static(b"ping"));
            check(exercise(&mut c, now, &ops));
        }
        8 => {
            for s in [Service::Daytime, Service::Time, Service::Stamp] {
                check(exercise(
                    &mut timestamp::StreamServer::new(s, now),
                    now,
                    &ops,
                ));
                check(exercise(&mut timestamp::DatagramServer::new(s), now, &ops));
            }
        }
        9 => {
            for s in [Service::Daytime, Service::Time] {
                check(exercise(&mut timestamp::StreamClient::new(s), now, &ops));
            }
        }
        10 => {
            for s in [Service::Daytime, Service::Time, Service::Stamp] {
                let Ok(mut c) = timestamp::DatagramClient::new(s, BackoffConfig::default(), 3)
                else {
                    return;
                };
                let request = Bytes::from_static(b"hi");
                let _ = wirekit_core::Machine::handle_command(&mut c, now, request);
                check(exercise(&mut c, now, &ops));
            }
        }
        _ => check(exercise(&mut StampClient::new(), now, &ops)),
    }
});
