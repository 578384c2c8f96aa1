//! Calendar time in UTC from Unix seconds, for log lines and the SDK's
//! snapshot dates (no date crate for two format strings).

/// (year, month, day, hour, minute, second) in UTC.
pub fn utc(secs: u64) -> (i64, u32, u32, u32, u32, u32) {
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (proleptic Gregorian).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        month,
        day,
        (rem / 3600) as u32,
        ((rem / 60) % 60) as u32,
        (rem % 60) as u32,
    )
}

/// Unix seconds from a UTC calendar time (the inverse of [`utc`]).
pub fn unix(year: i64, month: u32, day: u32, h: u32, m: u32, s: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if month > 2 { month - 3 } else { month + 9 } as i64;
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + i64::from(h) * 3600 + i64::from(m) * 60 + i64::from(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        assert_eq!(utc(0), (1970, 1, 1, 0, 0, 0));
        assert_eq!(utc(951_782_400), (2000, 2, 29, 0, 0, 0));
        assert_eq!(utc(1_795_900_000), (2026, 11, 28, 21, 6, 40));
        for t in [0u64, 951_782_400, 1_795_900_000, 4_102_444_799] {
            let (y, mo, d, h, mi, s) = utc(t);
            assert_eq!(unix(y, mo, d, h, mi, s), t as i64);
        }
    }
}
