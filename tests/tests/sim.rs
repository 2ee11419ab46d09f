//! Properties of the network simulator: downloads are byte-exact or clearly
//! unfinished, UDP retries keep their schedule, runs are reproducible, time
//! never runs backwards, a clean link delivers in order, profiles round-trip,
//! and the pcap is a file tshark reads.

use proptest::prelude::*;
use std::collections::BTreeMap;
use std::time::Duration;
use wirekit_core::retry::BackoffConfig;
use wirekit_core::sim::link::Verdict;
use wirekit_core::sim::netem::{Chance, Delay, Distribution, Loss, Netem, Prob, Rate, Reorder};
use wirekit_core::sim::scenario::{Scenario, Workload};
use wirekit_core::sim::store::FileSpec;
use wirekit_core::sim::trace::LinkRef;
use wirekit_core::sim::{Options, Outcome, Report, TraceKind, preset, run, run_with};

fn traced(s: &Scenario, seed: u64) -> Report {
    run_with(
        s,
        seed,
        Options {
            keep_trace: true,
            pcap: false,
            ..Options::default()
        },
    )
    .expect("scenario builds")
}

fn profile(s: &str) -> Netem {
    s.parse().expect("a valid profile")
}

/// A download of `size` bytes over a link with `profile` both ways.
fn download(size: u64, profile: &Netem, limit_ms: u64) -> Scenario {
    let mut s = preset("tcp-transfer-lossy").expect("preset");
    s.links[0].a_to_b = profile.clone();
    s.links[0].b_to_a = profile.clone();
    s.time_limit_ms = limit_ms;
    if let Workload::TransferServer { files, .. } = &mut s.apps[0].workload {
        *files = vec![FileSpec {
            name: "file.bin".into(),
            size,
        }];
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Whatever the link does short of losing everything, a download ends
    /// byte-exact or "did not finish" — never with wrong bytes (corruption
    /// included: TCP's checksum must catch every flipped bit).
    #[test]
    fn tcp_download_is_exact_or_unfinished(
        seed in any::<u64>(),
        loss in 0u32..=150_000,
        corrupt in 0u32..=50_000,
        duplicate in 0u32..=50_000,
        reorder in 0u32..=200_000,
        delay_ms in 1u64..50,
        jitter_ms in 0u64..10,
    ) {
        let n = Netem {
            delay: Some(Delay { base_us: delay_ms * 1000, jitter_us: jitter_ms * 1000, ..Delay::default() }),
            loss: Some(Loss::Random(Chance { p: Prob(loss), correlation: Prob::ZERO })),
            corrupt: Some(Chance { p: Prob(corrupt), correlation: Prob::ZERO }),
            duplicate: Some(Chance { p: Prob(duplicate), correlation: Prob::ZERO }),
            reorder: Some(Reorder { chance: Chance { p: Prob(reorder), correlation: Prob::ZERO }, gap: 1 }),
            ..Netem::default()
        };
        let size = 48 * 1024;
        let r = run(&download(size, &n, 60_000), seed).expect("builds");
        match r.outcome {
            Outcome::Completed => prop_assert_eq!(r.delivered_bytes, size),
            Outcome::DidNotFinish => prop_assert!(r.delivered_bytes < size),
            Outcome::Failed(why) => prop_assert!(false, "failed: {} ({:?})", why, n.to_string()),
        }
    }

    /// TFTP over UDP, where the protocol itself must repair every loss: a
    /// download ends byte-exact, unfinished, or with the client giving up
    /// after its retries — never with wrong bytes (the client compares each).
    #[test]
    fn tftp_download_is_exact_unfinished_or_given_up(
        seed in any::<u64>(),
        loss in 0u32..=300_000,
        duplicate in 0u32..=100_000,
        reorder in 0u32..=200_000,
        corrupt in 0u32..=50_000,
        window in 1u16..=16,
    ) {
        let n = Netem {
            delay: Some(Delay { base_us: 5_000, ..Delay::default() }),
            loss: Some(Loss::Random(Chance { p: Prob(loss), correlation: Prob::ZERO })),
            duplicate: Some(Chance { p: Prob(duplicate), correlation: Prob::ZERO }),
            corrupt: Some(Chance { p: Prob(corrupt), correlation: Prob::ZERO }),
            reorder: Some(Reorder { chance: Chance { p: Prob(reorder), correlation: Prob::ZERO }, gap: 1 }),
            ..Netem::default()
        };
        let mut s = preset("tftp-lossy").expect("preset");
        s.links[0].a_to_b = n.clone();
        s.links[0].b_to_a = n.clone();
        s.time_limit_ms = 120_000;
        if let Workload::TftpGet { windowsize, .. } = &mut s.apps[1].workload {
            *windowsize = Some(window);
        }
        let r = run(&s, seed).expect("builds");
        match r.outcome {
            Outcome::Completed => prop_assert_eq!(r.delivered_bytes, 256 * 1024),
            Outcome::DidNotFinish => prop_assert!(r.delivered_bytes < 256 * 1024),
            Outcome::Failed(why) => prop_assert!(why.starts_with("server down"), "{} ({})", why, n),
        }
    }

    /// A stream echo of any size gets every byte back in order, or does not
    /// finish; each side keeps reading, so neither waits on the other forever.
    #[test]
    fn tcp_echo_is_exact_or_unfinished(
        seed in any::<u64>(),
        bytes in 1u64..=512 * 1024,
        loss in 0u32..=100_000,
        corrupt in 0u32..=20_000,
        duplicate in 0u32..=20_000,
    ) {
        let n = Netem {
            delay: Some(Delay { base_us: 5_000, jitter_us: 2_000, ..Delay::default() }),
            loss: Some(Loss::Random(Chance { p: Prob(loss), correlation: Prob::ZERO })),
            corrupt: Some(Chance { p: Prob(corrupt), correlation: Prob::ZERO }),
            duplicate: Some(Chance { p: Prob(duplicate), correlation: Prob::ZERO }),
            ..Netem::default()
        };
        let mut s = preset("tcp-echo").expect("preset");
        s.links[0].a_to_b = n.clone();
        s.links[0].b_to_a = n;
        if let Workload::EchoStreamClient { bytes: b, .. } = &mut s.apps[1].workload {
            *b = bytes;
        }
        let r = run(&s, seed).expect("builds");
        match r.outcome {
            Outcome::Completed => prop_assert_eq!(r.delivered_bytes, bytes),
            Outcome::DidNotFinish => prop_assert!(r.delivered_bytes < bytes),
            Outcome::Failed(why) => prop_assert!(false, "failed: {}", why),
        }
    }

    /// An upload under the same abuse is stored (the server committed it
    /// after checking size and digest, and said so) or does not finish.
    #[test]
    fn tcp_upload_is_stored_or_unfinished(
        seed in any::<u64>(),
        loss in 0u32..=150_000,
        corrupt in 0u32..=50_000,
        duplicate in 0u32..=50_000,
    ) {
        let n = Netem {
            delay: Some(Delay { base_us: 15_000, jitter_us: 5_000, ..Delay::default() }),
            loss: Some(Loss::Random(Chance { p: Prob(loss), correlation: Prob::ZERO })),
            corrupt: Some(Chance { p: Prob(corrupt), correlation: Prob::ZERO }),
            duplicate: Some(Chance { p: Prob(duplicate), correlation: Prob::ZERO }),
            ..Netem::default()
        };
        let mut s = download(0, &n, 60_000);
        let size = 40 * 1024;
        s.apps[1].workload = Workload::TransferPut {
            server: "server".into(),
            port: 7021,
            path: "up.bin".into(),
            size,
        };
        let r = traced(&s, seed);
        let committed = r.trace.iter().any(|t| {
            matches!(&t.kind, TraceKind::App { app: 0, note } if note.starts_with("commit up.bin"))
        });
        match r.outcome {
            Outcome::Completed => {
                prop_assert_eq!(r.delivered_bytes, size);
                prop_assert!(committed);
            }
            Outcome::DidNotFinish => {}
            Outcome::Failed(why) => prop_assert!(false, "failed: {}", why),
        }
    }

    /// Even when nearly everything is lost, nothing wrong is ever delivered.
    #[test]
    fn tcp_download_under_heavy_loss_is_never_wrong(
        seed in any::<u64>(),
        loss in 150_000u32..=990_000,
    ) {
        let n = Netem {
            delay: Some(Delay { base_us: 10_000, ..Delay::default() }),
            loss: Some(Loss::Random(Chance { p: Prob(loss), correlation: Prob::ZERO })),
            ..Netem::default()
        };
        let r = run(&download(32 * 1024, &n, 60_000), seed).expect("builds");
        match r.outcome {
            Outcome::Completed => prop_assert_eq!(r.delivered_bytes, 32 * 1024),
            Outcome::DidNotFinish => {}
            Outcome::Failed(why) => prop_assert!(false, "failed: {}", why),
        }
    }

    /// Whatever the loss and the backoff settings, every request's sends are
    /// spaced exactly by the schedule (initial, initial·factor, ...), and no
    /// request is sent more often than the schedule allows.
    #[test]
    fn udp_retries_follow_the_schedule(
        seed in any::<u64>(),
        loss in 0u32..=800_000,
        initial_ms in 20u64..300,
        factor in 2u32..=3,
        max_wait_ms in 500u64..4000,
    ) {
        let backoff = BackoffConfig {
            initial: Duration::from_millis(initial_ms),
            factor,
            max_wait: Duration::from_millis(max_wait_ms),
            jitter_percent: 0,
        };
        let mut s = preset("udp-echo-backoff").expect("preset");
        let n = Netem {
            delay: Some(Delay { base_us: 10_000, ..Delay::default() }),
            loss: Some(Loss::Random(Chance { p: Prob(loss), correlation: Prob::ZERO })),
            ..Netem::default()
        };
        s.links[0].a_to_b = n.clone();
        s.links[0].b_to_a = n;
        if let Workload::EchoUdpClient { backoff: b, .. } = &mut s.apps[1].workload {
            *b = backoff;
        }
        let schedule: Vec<u64> = backoff
            .schedule(64)
            .map(|d| d.as_micros() as u64)
            .collect();
        let r = traced(&s, seed);
        let mut sends: Vec<u64> = Vec::new();
        for rec in &r.trace {
            match &rec.kind {
                TraceKind::Link { on: LinkRef { dir: 0, .. }, .. } => {
                    let at = rec.at.as_micros();
                    if let Some(prev) = sends.last() {
                        let k = sends.len() - 1;
                        prop_assert!(k < schedule.len(), "more sends than the schedule has");
                        prop_assert_eq!(at - prev, schedule[k], "send {} of a request", k + 2);
                    }
                    sends.push(at);
                }
                TraceKind::App { app: 1, note } if note.starts_with("reply") => sends.clear(),
                _ => {}
            }
        }
        prop_assert!(sends.len() <= schedule.len());
        if let Outcome::Failed(why) = &r.outcome {
            prop_assert_eq!(why, &format!("server down after {} attempts", schedule.len()));
        }
    }

    /// Any profile prints in netem syntax and parses back to itself.
    #[test]
    fn netem_round_trips(n in arb_netem()) {
        let text = n.to_string();
        let back: Netem = text.parse().map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(back, n);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Text made of netem's words and numbers, or of anything at all, parses
    /// or gives a typed error; what parses prints back to the same profile.
    #[test]
    fn netem_text_never_panics(
        words in proptest::collection::vec(
            prop_oneof![
                prop::sample::select(vec![
                    "delay", "loss", "random", "state", "gemodel", "duplicate", "corrupt",
                    "reorder", "gap", "rate", "limit", "mtu", "partition", "hold",
                    "distribution", "normal", "pareto", "drop",
                ]).prop_map(String::from),
                "[0-9]{1,4}(\\.[0-9]{1,7})?(%|ms|us|s|sec|kbit|mbit|bps)?",
                "-[0-9]{1,3}",
            ],
            0..14,
        ),
        junk in ".{0,40}",
    ) {
        for text in [words.join(" "), junk] {
            if let Ok(n) = text.parse::<Netem>() {
                prop_assert_eq!(n.to_string().parse::<Netem>(), Ok(n));
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Any preset under any pair of profiles runs without panicking, time
    /// never goes backwards, and a client fails only for a reason its
    /// protocol allows (a UDP server that looks down) — never wrong bytes.
    #[test]
    fn any_preset_under_any_profile(
        which in 0usize..64,
        seed in any::<u64>(),
        there in arb_netem(),
        back in arb_netem(),
    ) {
        let all = wirekit_core::sim::presets();
        let mut s = all[which % all.len()].clone();
        s.links[0].a_to_b = there;
        s.links[0].b_to_a = back;
        s.changes.clear();
        s.time_limit_ms = 3_000;
        let r = traced(&s, seed);
        prop_assert!(r.trace.windows(2).all(|w| w[0].at <= w[1].at));
        if let Outcome::Failed(why) = &r.outcome {
            prop_assert!(
                why.starts_with("server down") || why == "connection refused",
                "{}: {}", s.name, why
            );
        }
    }
}

fn arb_prob() -> impl Strategy<Value = Prob> {
    prop_oneof![
        Just(Prob::ZERO),
        Just(Prob::ONE),
        (0u32..=1_000_000).prop_map(Prob)
    ]
}

fn arb_chance() -> impl Strategy<Value = Chance> {
    (arb_prob(), arb_prob()).prop_map(|(p, correlation)| Chance { p, correlation })
}

fn arb_netem() -> impl Strategy<Value = Netem> {
    let delay = (
        0u64..10_000_000,
        0u64..1_000_000,
        arb_prob(),
        prop_oneof![
            Just(Distribution::Uniform),
            Just(Distribution::Normal),
            Just(Distribution::Pareto),
            Just(Distribution::ParetoNormal)
        ],
    )
        .prop_map(|(base_us, jitter_us, correlation, distribution)| Delay {
            base_us,
            jitter_us,
            correlation,
            distribution,
        });
    let loss = prop_oneof![
        arb_chance().prop_map(Loss::Random),
        (arb_prob(), arb_prob(), arb_prob(), arb_prob(), arb_prob()).prop_map(
            |(p13, p31, p32, p23, p14)| Loss::State {
                p13,
                p31,
                p32,
                p23,
                p14
            }
        ),
        (arb_prob(), arb_prob(), arb_prob(), arb_prob()).prop_map(|(p, r, bad_loss, good_loss)| {
            Loss::GilbertElliott {
                p,
                r,
                bad_loss,
                good_loss,
            }
        }),
    ];
    let rate = (1u64..100_000_000_000, -100i32..100, 0u32..1000, -10i32..10).prop_map(
        |(bits_per_sec, packet_overhead, cell_size, cell_overhead)| Rate {
            bits_per_sec,
            packet_overhead,
            cell_size,
            cell_overhead,
        },
    );
    (
        proptest::option::of(delay),
        proptest::option::of(loss),
        proptest::option::of(arb_chance()),
        proptest::option::of(arb_chance()),
        proptest::option::of((arb_chance(), 0u32..10)),
        proptest::option::of(rate),
        proptest::option::of(0u32..100_000),
        proptest::option::of(0u32..65_536),
        prop::bool::weighted(0.1),
        prop::bool::weighted(0.1),
    )
        .prop_map(
            |(delay, loss, duplicate, corrupt, reorder, rate, limit, mtu, partition, hold)| Netem {
                // netem refuses reordering without a delay; so does the parser.
                reorder: reorder
                    .filter(|_| delay.is_some())
                    .map(|(chance, gap)| Reorder { chance, gap }),
                delay,
                loss,
                duplicate,
                corrupt,
                rate,
                limit,
                mtu,
                partition,
                hold,
            },
        )
}

#[test]
fn every_reply_lost_means_server_down_on_schedule() {
    let mut s = preset("udp-echo-backoff").expect("preset");
    s.links[0].a_to_b = Netem::default();
    s.links[0].b_to_a = profile("partition");
    if let Workload::EchoUdpClient { requests, .. } = &mut s.apps[1].workload {
        *requests = 1;
    }
    let r = traced(&s, 1);
    assert_eq!(
        r.outcome,
        Outcome::Failed("server down after 5 attempts".into())
    );
    let start = s.apps[1].start_ms * 1000;
    let sends: Vec<u64> = r
        .trace
        .iter()
        .filter(|rec| {
            matches!(
                rec.kind,
                TraceKind::Link {
                    on: LinkRef { dir: 0, .. },
                    ..
                }
            )
        })
        .map(|rec| (rec.at.as_micros() - start) / 1000)
        .collect();
    assert_eq!(sends, [0, 100, 300, 700, 1500]);
    let down = r
        .trace
        .iter()
        .find(|rec| matches!(&rec.kind, TraceKind::App { note, .. } if note.starts_with("server down")))
        .expect("a server-down note");
    assert_eq!((down.at.as_micros() - start) / 1000, 3100);
    assert_eq!(r.app_retries, 4);
    assert_eq!(r.drops, [("partition".to_string(), 5)]);
}

#[test]
fn a_held_link_releases_in_order_at_the_change() {
    use wirekit_core::sim::scenario::{ChangeSpec, Direction};
    let mut s = preset("udp-echo-backoff").expect("preset");
    s.links[0].a_to_b = profile("delay 10ms hold");
    s.links[0].b_to_a = profile("delay 10ms");
    s.changes.push(ChangeSpec {
        at_ms: 500,
        link: 0,
        direction: Direction::AToB,
        profile: profile("delay 10ms"),
    });
    if let Workload::EchoUdpClient { requests, .. } = &mut s.apps[1].workload {
        *requests = 1;
    }
    let r = traced(&s, 1);
    assert_eq!(r.outcome, Outcome::Completed);
    let verdicts: Vec<(u64, u64, bool)> = r
        .trace
        .iter()
        .filter_map(|rec| match &rec.kind {
            TraceKind::Link {
                packet,
                on: LinkRef { dir: 0, .. },
                verdict,
                ..
            } => Some((
                rec.at.as_micros() / 1000,
                *packet,
                matches!(verdict, Verdict::Hold),
            )),
            _ => None,
        })
        .collect();
    // Sent at 10, 110 and 310 ms and held; released at 500 ms in that order.
    let held: Vec<u64> = verdicts.iter().filter(|v| v.2).map(|v| v.1).collect();
    let released: Vec<u64> = verdicts
        .iter()
        .filter(|v| !v.2 && v.0 == 500)
        .map(|v| v.1)
        .collect();
    assert_eq!(held.len(), 3, "{verdicts:?}");
    assert_eq!(held, released);
    assert_eq!(r.app_retries, 2);
}

#[test]
fn same_seed_same_hash_other_seed_other_hash() {
    let s = preset("tcp-transfer-lossy").expect("preset");
    let a = run(&s, 11).expect("runs");
    let b = run(&s, 11).expect("runs");
    assert_eq!(a, b, "a run is a pure function of scenario and seed");
    let hashes: std::collections::BTreeSet<String> = (1..=4)
        .map(|seed| run(&s, seed).expect("runs").trace_hash)
        .collect();
    assert_eq!(hashes.len(), 4, "four seeds, four different runs");
    // Even on a perfect link the seed matters: it picks TCP's initial
    // sequence numbers, which the trace records.
    let c = preset("tcp-transfer-clean").expect("preset");
    assert_ne!(
        run(&c, 1).expect("runs").trace_hash,
        run(&c, 2).expect("runs").trace_hash
    );
    let u = preset("udp-echo-backoff").expect("preset");
    assert_ne!(
        run(&u, 1).expect("runs").trace_hash,
        run(&u, 2).expect("runs").trace_hash
    );
}

#[test]
fn virtual_time_never_goes_backwards() {
    for name in ["tcp-transfer-bursty", "udp-echo-backoff", "tcp-echo"] {
        let r = traced(&preset(name).expect("preset"), 3);
        assert!(!r.trace.is_empty());
        assert!(
            r.trace.windows(2).all(|w| w[0].at <= w[1].at),
            "{name}: time went backwards"
        );
    }
}

#[test]
fn a_clean_link_delivers_everything_in_order() {
    for name in ["tcp-echo", "tcp-transfer-clean"] {
        let mut s = preset(name).expect("preset");
        s.links[0].a_to_b = profile("delay 7ms");
        s.links[0].b_to_a = profile("delay 7ms");
        let r = traced(&s, 5);
        assert_eq!(r.outcome, Outcome::Completed, "{name}");
        assert_eq!(r.tcp_retransmissions, 0);
        assert!(r.drops.is_empty());
        let mut sent: BTreeMap<u8, Vec<u64>> = BTreeMap::new();
        let mut dir_of = BTreeMap::new();
        let mut got: BTreeMap<u8, Vec<u64>> = BTreeMap::new();
        for rec in &r.trace {
            match &rec.kind {
                TraceKind::Link {
                    packet,
                    on,
                    verdict,
                    ..
                } => {
                    assert!(matches!(verdict, Verdict::Carry(c) if c.after_us == 7000));
                    sent.entry(on.dir).or_default().push(*packet);
                    dir_of.insert(*packet, on.dir);
                }
                TraceKind::Delivered { packet, .. } => {
                    got.entry(dir_of[packet]).or_default().push(*packet);
                }
                _ => {}
            }
        }
        // Delivered in the order sent; only the last 7 ms may still be in flight.
        for (dir, s) in &sent {
            let g = got.get(dir).cloned().unwrap_or_default();
            assert_eq!(&s[..g.len()], &g[..], "{name} dir {dir}");
        }
    }
}

#[test]
fn reports_round_trip_through_json() {
    let r = traced(&preset("tcp-echo").expect("preset"), 2);
    let json = serde_json::to_string(&r).expect("serialises");
    let back: Report = serde_json::from_str(&json).expect("parses");
    assert_eq!(back, r);
}

#[test]
fn stepping_frame_by_frame_is_the_same_run() {
    use wirekit_core::Instant;
    use wirekit_core::sim::{Sim, report};
    let s = preset("tcp-echo").expect("preset");
    let whole = run(&s, 9).expect("runs");
    let mut sim = Sim::new(&s, 9, Options::default()).expect("builds");
    let mut t = 0;
    while sim.run_until(Instant::from_millis(t)) {
        assert!(sim.now() <= Instant::from_millis(t));
        t += 16;
    }
    assert_eq!(report(&s, 9, &mut sim), whole);
}

#[test]
fn an_unfinished_run_ends_at_the_time_limit() {
    let mut s = preset("tcp-transfer-clean").expect("preset");
    s.time_limit_ms = 300;
    let r = run(&s, 1).expect("runs");
    assert_eq!(r.outcome, Outcome::DidNotFinish);
    assert_eq!(r.ended_at.as_micros(), 300_000);
    assert_eq!(r.completed_at, None);
}

#[test]
fn scenarios_round_trip_through_json() {
    for s in wirekit_core::sim::presets() {
        let json = serde_json::to_string_pretty(&s).expect("serialises");
        let back: Scenario = serde_json::from_str(&json).expect("parses");
        assert_eq!(back, s);
    }
}

#[test]
fn the_pcap_is_well_formed() {
    let s = preset("tcp-transfer-lossy").expect("preset");
    let r = run_with(
        &s,
        7,
        Options {
            keep_trace: false,
            pcap: true,
            ..Options::default()
        },
    )
    .expect("runs");
    let pcap = r.pcap.expect("a capture");
    // Walk the records: every header's length must land exactly on the end.
    let mut at = 24;
    let mut n = 0u64;
    while at < pcap.len() {
        let len = u32::from_le_bytes(pcap[at + 8..at + 12].try_into().expect("4 bytes")) as usize;
        assert_eq!(pcap[at + 16] >> 4, 4, "an IPv4 packet");
        at += 16 + len;
        n += 1;
    }
    assert_eq!(at, pcap.len());
    assert_eq!(
        n,
        r.stats.packets_sent
            - r.stats
                .drops
                .get(&wirekit_core::sim::DropReason::NoRoute)
                .copied()
                .unwrap_or(0)
    );
    // tshark, where installed, must read it without complaint.
    let tshark = ["/usr/bin/tshark", "/usr/local/bin/tshark"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists());
    if let Some(tshark) = tshark {
        let dir = tempfile::tempdir().expect("a temp dir");
        let file = dir.path().join("out.pcap");
        std::fs::write(&file, &pcap).expect("write the capture");
        let out = std::process::Command::new(tshark)
            .arg("-r")
            .arg(&file)
            .output()
            .expect("run tshark");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let lines = String::from_utf8_lossy(&out.stdout).lines().count() as u64;
        assert_eq!(lines, n);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("10.0.0.1") && text.contains("TCP"),
            "{}",
            &text[..200.min(text.len())]
        );
    }
}
