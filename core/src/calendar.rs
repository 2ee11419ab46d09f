//! Civil dates from Unix seconds and back, without `std`.
//!
//! The timestamp protocols print and read dates, and the core has no
//! operating system to ask. The arithmetic is the proleptic Gregorian
//! calendar in whole days (a 400-year cycle has exactly 146,097 days), in
//! `i64`, defined for every `i64` second: far-off years are odd but never a
//! panic or an overflow.

use core::fmt;
use serde::{Deserialize, Serialize};

/// Seconds in a day; Unix time has no leap seconds.
pub const SECS_PER_DAY: i64 = 86_400;

/// Days in one 400-year Gregorian cycle.
const DAYS_PER_ERA: i64 = 146_097;

/// Day 0 of the algorithm below is 0000-03-01; the Unix epoch is this many days later.
const EPOCH_SHIFT: i64 = 719_468;

/// A date and time of day in UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct DateTime {
    /// The year; 0 is 1 BC.
    pub year: i64,
    /// 1 to 12.
    pub month: u8,
    /// 1 to 31.
    pub day: u8,
    /// 0 to 23.
    pub hour: u8,
    /// 0 to 59.
    pub minute: u8,
    /// 0 to 59.
    pub second: u8,
}

/// A field out of range, or a date too far away to count in `i64` seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DateError {
    /// Month outside 1..=12, day outside its month, hour/minute/second too big.
    OutOfRange,
    /// The date is valid but its Unix seconds do not fit in `i64`.
    TooFar,
}

impl fmt::Display for DateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DateError::OutOfRange => "date or time field out of range",
            DateError::TooFar => "date too far from 1970 to count in seconds",
        })
    }
}

impl core::error::Error for DateError {}

/// Month names as ctime and RFC 867 lines spell them.
pub const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Day names, Sunday first (1970-01-01 was a Thursday).
pub const WEEKDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Days in `month` of `year` (0 for a month outside 1..=12).
pub fn days_in_month(year: i64, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a civil date, or `None` if it does not fit.
pub fn days_from_civil(year: i64, month: u8, day: u8) -> Option<i64> {
    // Count years from March so that the leap day is the last of the year.
    let y = if month <= 2 {
        year.checked_sub(1)?
    } else {
        year
    };
    let era = y.div_euclid(400);
    let year_of_era = y.rem_euclid(400);
    let m = i64::from(month);
    let month_from_march = if m > 2 { m - 3 } else { m + 9 };
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era.checked_mul(DAYS_PER_ERA)?
        .checked_add(day_of_era)?
        .checked_sub(EPOCH_SHIFT)
}

/// The civil date of a day count since 1970-01-01: `(year, month, day)`.
pub fn civil_from_days(days: i64) -> (i64, u8, u8) {
    // |days| ≤ i64::MAX / 86400 for any i64 seconds, so the shift cannot overflow;
    // saturate anyway so the function is total.
    let z = days.saturating_add(EPOCH_SHIFT);
    let era = z.div_euclid(DAYS_PER_ERA);
    let day_of_era = z.rem_euclid(DAYS_PER_ERA);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u8;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u8;
    let year = year_of_era
        .saturating_add(era.saturating_mul(400))
        .saturating_add(i64::from(month <= 2));
    (year, month, day)
}

impl DateTime {
    /// The UTC date and time of a Unix second. Total: every `i64` works.
    pub fn from_unix(secs: i64) -> DateTime {
        let days = secs.div_euclid(SECS_PER_DAY);
        let of_day = secs.rem_euclid(SECS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        DateTime {
            year,
            month,
            day,
            hour: (of_day / 3600) as u8,
            minute: (of_day / 60 % 60) as u8,
            second: (of_day % 60) as u8,
        }
    }

    /// A checked date and time.
    pub fn new(
        year: i64,
        month: u8,
        day: u8,
        hour: u8,
        minute: u8,
        second: u8,
    ) -> Result<DateTime, DateError> {
        let valid = (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month)
            && hour < 24
            && minute < 60
            && second < 60;
        if !valid {
            return Err(DateError::OutOfRange);
        }
        Ok(DateTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
        })
    }

    /// Unix seconds of this date and time.
    pub fn to_unix(&self) -> Result<i64, DateError> {
        let days = days_from_civil(self.year, self.month, self.day).ok_or(DateError::TooFar)?;
        let of_day =
            i64::from(self.hour) * 3600 + i64::from(self.minute) * 60 + i64::from(self.second);
        days.checked_mul(SECS_PER_DAY)
            .and_then(|s| s.checked_add(of_day))
            .ok_or(DateError::TooFar)
    }

    /// 0 for Sunday through 6 for Saturday.
    pub fn weekday(&self) -> u8 {
        let days = days_from_civil(self.year, self.month, self.day).unwrap_or(0);
        // 1970-01-01 was a Thursday (4).
        (days + 4).rem_euclid(7) as u8
    }

    fn month_name(&self) -> &'static str {
        MONTHS
            .get(usize::from(self.month).wrapping_sub(1))
            .copied()
            .unwrap_or("?")
    }

    fn weekday_name(&self) -> &'static str {
        WEEKDAYS
            .get(usize::from(self.weekday()))
            .copied()
            .unwrap_or("?")
    }

    // ANCHOR: ctime
    /// C's `ctime` layout, as the classic tutorials' stamped echo prints it:
    /// `Sun Nov 22 10:30:43 2026` (a day below 10 is padded with a space).
    pub fn ctime(&self) -> impl fmt::Display + '_ {
        Ctime(self)
    }
    // ANCHOR_END: ctime

    /// Wirekit's RFC 867 daytime line (without the line end):
    /// `Sunday, November 22, 2026 10:30:43-UTC`, the example layout of RFC 867.
    pub fn daytime(&self) -> impl fmt::Display + '_ {
        Daytime(self)
    }
}

struct Ctime<'a>(&'a DateTime);

impl fmt::Display for Ctime<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        write!(
            f,
            "{:.3} {:.3} {:>2} {:02}:{:02}:{:02} {}",
            d.weekday_name(),
            d.month_name(),
            d.day,
            d.hour,
            d.minute,
            d.second,
            d.year
        )
    }
}

struct Daytime<'a>(&'a DateTime);

impl fmt::Display for Daytime<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        write!(
            f,
            "{}, {} {}, {} {:02}:{:02}:{:02}-UTC",
            d.weekday_name(),
            d.month_name(),
            d.day,
            d.year,
            d.hour,
            d.minute,
            d.second
        )
    }
}

/// The month number (1..=12) of a name or its first three letters, any case.
pub fn month_from_name(name: &[u8]) -> Option<u8> {
    MONTHS
        .iter()
        .position(|m| {
            let m = m.as_bytes();
            (name.len() == 3 || name.len() == m.len())
                && name.len() <= m.len()
                && name.eq_ignore_ascii_case(&m[..name.len()])
        })
        // position < 12, so the cast is exact.
        .map(|i| i as u8 + 1)
}

/// The weekday number (0 = Sunday) of a name or its first three letters, any case.
pub fn weekday_from_name(name: &[u8]) -> Option<u8> {
    WEEKDAYS
        .iter()
        .position(|w| {
            let w = w.as_bytes();
            (name.len() == 3 || name.len() == w.len())
                && name.len() <= w.len()
                && name.eq_ignore_ascii_case(&w[..name.len()])
        })
        .map(|i| i as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use proptest::prelude::*;

    #[test]
    fn fixed_points() {
        assert_eq!(
            DateTime::from_unix(0),
            DateTime::new(1970, 1, 1, 0, 0, 0).unwrap()
        );
        assert_eq!(
            DateTime::new(2000, 2, 29, 12, 0, 0).unwrap().to_unix(),
            Ok(951_825_600)
        );
        // The RFC 868 wrap: 2^32 seconds after 1900-01-01.
        assert_eq!(
            DateTime::from_unix(4_294_967_296 - 2_208_988_800),
            DateTime::new(2036, 2, 7, 6, 28, 16).unwrap()
        );
        assert_eq!(
            DateTime::new(1900, 1, 1, 0, 0, 0).unwrap().to_unix(),
            Ok(-2_208_988_800)
        );
        assert_eq!(
            DateTime::new(1980, 1, 1, 0, 0, 0).unwrap().to_unix(),
            Ok(315_532_800)
        );
        assert_eq!(DateTime::from_unix(-1).year, 1969);
        assert_eq!(
            DateTime::new(2100, 2, 29, 0, 0, 0),
            Err(DateError::OutOfRange)
        );
    }

    #[test]
    fn layouts() {
        let t = DateTime::new(2026, 11, 22, 10, 30, 43).unwrap();
        assert_eq!(t.ctime().to_string(), "Sun Nov 22 10:30:43 2026");
        assert_eq!(
            t.daytime().to_string(),
            "Sunday, November 22, 2026 10:30:43-UTC"
        );
        let early = DateTime::new(2026, 11, 2, 1, 2, 3).unwrap();
        assert_eq!(early.ctime().to_string(), "Mon Nov  2 01:02:03 2026");
        assert_eq!(DateTime::from_unix(0).weekday(), 4);
        assert_eq!(month_from_name(b"NOV"), Some(11));
        assert_eq!(month_from_name(b"november"), Some(11));
        assert_eq!(month_from_name(b"Novemb"), None);
        assert_eq!(weekday_from_name(b"sun"), Some(0));
    }

    #[test]
    fn extremes_do_not_panic() {
        for s in [i64::MIN, i64::MIN + 1, -1, 0, i64::MAX - 1, i64::MAX] {
            let d = DateTime::from_unix(s);
            let _ = d.to_unix();
            let _ = d.ctime().to_string();
            let _ = d.daytime().to_string();
        }
    }

    proptest! {
        #[test]
        fn unix_round_trip(secs in -(1i64 << 45)..(1i64 << 45)) {
            let d = DateTime::from_unix(secs);
            prop_assert_eq!(d.to_unix(), Ok(secs));
            prop_assert!(DateTime::new(d.year, d.month, d.day, d.hour, d.minute, d.second).is_ok());
        }

        #[test]
        fn consecutive_days_are_consecutive_dates(days in -(1i64 << 30)..(1i64 << 30)) {
            let (y, m, d) = civil_from_days(days);
            let (y2, m2, d2) = civil_from_days(days + 1);
            if d2 == 1 {
                prop_assert_eq!(d, days_in_month(y, m));
                prop_assert!(m2 == m % 12 + 1);
                prop_assert_eq!(y2, if m == 12 { y + 1 } else { y });
            } else {
                prop_assert_eq!((y2, m2, d2), (y, m, d + 1));
            }
        }
    }
}
