//! The calendar and RFC 868 conversions: every Unix second maps to a date
//! and back, every RFC 868 value maps into its 136-year era and back, and
//! the text forms the servers send parse back to the second they came from.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use wirekit_core::calendar::{DateTime, civil_from_days, days_from_civil};
use wirekit_core::wire::timestamp::{
    Daytime, encode_daytime, encode_stamp, parse_daytime, parse_stamp, time_value,
    unix_from_time_value,
};

/// The first and last second an RFC 868 client reads (1968-01-20 03:14:08
/// to 2104-02-26 09:42:23 UTC): one value per second of that window.
const ERA_START: i64 = 0x8000_0000 - 2_208_988_800;
const ERA_LEN: i64 = 1 << 32;

fuzz_target!(|input: (i64, u32, i32)| {
    let (secs, value, days) = input;

    // Every value names one second of the era, and that second sends it back.
    let unix = unix_from_time_value(value);
    assert!(
        (ERA_START..ERA_START + ERA_LEN).contains(&unix),
        "{value} -> {unix}"
    );
    assert_eq!(time_value(unix), value);
    // A second inside the era survives a trip through the wire value.
    let in_era = ERA_START + secs.rem_euclid(ERA_LEN);
    assert_eq!(unix_from_time_value(time_value(in_era)), in_era);

    // Dates: the days of a civil date are the days it came from.
    let days = i64::from(days);
    let (y, m, d) = civil_from_days(days);
    assert_eq!(days_from_civil(y, m, d), Some(days));

    // Any second: a date and time that converts back, or a typed error for
    // one too far to count in seconds; never a panic.
    let dt = DateTime::from_unix(secs);
    if let Ok(back) = dt.to_unix() {
        assert_eq!(back, secs);
    }
    let checked = DateTime::new(dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second);
    assert_eq!(checked, Ok(dt));

    // What the daytime and stamp servers write reads back as the same second,
    // for years a four-digit ctime can carry.
    if (0..=9999).contains(&dt.year) {
        let mut out = BytesMut::new();
        encode_daytime(secs, &mut out);
        match parse_daytime(out.trim_ascii_end()) {
            Daytime::Parsed { time, .. } => assert_eq!(time.secs(), secs),
            Daytime::Text(t) => panic!("daytime {t:?} of {secs} did not parse"),
        }
        let mut out = BytesMut::new();
        encode_stamp(secs, b"x", &mut out);
        let (time, data) = parse_stamp(&out).expect("a stamp parses");
        assert_eq!((time.secs(), data), (secs, &b"x"[..]));
    }
});
