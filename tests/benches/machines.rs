//! Criterion benchmarks of the pure core, with no sockets in the way: the
//! machines wired together by the same in-memory harnesses the tests use
//! (streams cut at random, stores that copy, clients that check every byte).
//! They track regressions in the protocol code and the harnesses together;
//! the harnesses cost more than a real driver, so these are not ceilings.
//! `cargo bench -p wirekit-tests` (or `cargo xtask bench --parts criterion`).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use wirekit_core::echo::{StreamClient, StreamCommand, StreamMode, StreamServer};
use wirekit_core::pair::StreamPair;
use wirekit_core::testing::tftp::{FileClient, Files, Net};
use wirekit_core::testing::transfer::{MemStore, Session};
use wirekit_core::tftp::client::{Client as TftpClient, ClientConfig};
use wirekit_core::tftp::options::Wishes;
use wirekit_core::tftp::server::ServerConfig;
use wirekit_core::transfer::client;
use wirekit_core::{Instant, Machine, Now};

const MIB: usize = 1 << 20;

fn file(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i.wrapping_mul(31) >> 3) as u8).collect()
}

/// The reference in every group: a memcpy of the bytes the group moves, so
/// `cargo xtask bench` can state each machine's speed as a fraction of it.
fn memcpy(g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    let src = file(MIB);
    let mut dst = vec![0u8; MIB];
    g.bench_function("memcpy 1 MiB", |b| {
        b.iter(|| {
            dst.copy_from_slice(black_box(&src));
            black_box(&mut dst);
        });
    });
}

/// WKFT/1: a 1 MiB download, hashed on both sides, in 64 KiB pieces.
fn wkft(c: &mut Criterion) {
    let mut g = c.benchmark_group("wkft");
    g.throughput(Throughput::Bytes(MIB as u64));
    memcpy(&mut g);
    g.bench_function("download 1 MiB", |b| {
        b.iter(|| {
            let mut store = MemStore::new();
            store.set_short_reads(false);
            store.mem_mut().insert("f", bytes::Bytes::from(file(MIB)));
            let mut s = Session::new(store, 1, 64 * 1024);
            s.connect().expect("handshake");
            let out = s
                .request(client::Command::Get {
                    path: "f".into(),
                    offset: 0,
                    version: None,
                })
                .expect("download");
            black_box(out);
        });
    });
    g.finish();
}

/// TFTP: a 1 MiB download at blksize 1468, lock-step and with windows.
fn tftp(c: &mut Criterion) {
    let mut g = c.benchmark_group("tftp");
    g.throughput(Throughput::Bytes(MIB as u64));
    memcpy(&mut g);
    for window in [1u16, 16] {
        g.bench_with_input(
            BenchmarkId::new("download 1 MiB, window", window),
            &window,
            |b, &w| {
                b.iter(|| {
                    let now = Now::mono(Instant::from_millis(1));
                    let config = ClientConfig {
                        wishes: Wishes {
                            blksize: Some(1468),
                            windowsize: Some(w),
                            ..Wishes::default()
                        },
                        ..ClientConfig::default()
                    };
                    let client = TftpClient::get("f", config, now).expect("client");
                    let files = Files::from([("f".to_string(), file(MIB))]);
                    let mut net = Net::new(
                        FileClient::new(client, Vec::new()),
                        ServerConfig::default(),
                        files,
                        now,
                    );
                    net.run(1_000_000);
                    assert_eq!(net.client.local.len(), MIB);
                });
            },
        );
    }
    g.finish();
}

/// Echo over a stream: 1 MiB out and back in 16 KiB pieces.
fn echo(c: &mut Criterion) {
    let mut g = c.benchmark_group("echo");
    g.throughput(Throughput::Bytes(MIB as u64));
    memcpy(&mut g);
    g.bench_function("stream 1 MiB", |b| {
        b.iter(|| {
            let now = Now::default();
            let mut pair = StreamPair::new(
                StreamClient::new(),
                StreamServer::new(StreamMode::Plain),
                now,
            );
            for chunk in file(MIB).chunks(16 * 1024) {
                pair.client
                    .handle_command(
                        now,
                        StreamCommand::Send(bytes::Bytes::copy_from_slice(chunk)),
                    )
                    .expect("send");
                pair.drain_both();
                while pair.step(&mut || 16 * 1024).expect("step") {}
            }
            black_box(pair.client_events.len());
        });
    });
    g.finish();
}

criterion_group!(benches, wkft, tftp, echo);
criterion_main!(benches);
