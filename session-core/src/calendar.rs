//! Dates on the proleptic Gregorian calendar, from 1970 on, for the two forms sessions carry
//! them in: JavaScript's ISO strings in stored records (`record/canonical.rs`) and the HTTP
//! dates of `Expires` ([`write_http_date`]). Howard Hinnant's algorithms, in whole days.

use std::time::{SystemTime, UNIX_EPOCH};

/// The date `days` after 1970-01-01 in the proleptic Gregorian calendar (Howard Hinnant's
/// `civil_from_days`).
pub(crate) fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let shifted = days + 719_468;
    let (era, day_of_era) = (shifted / 146_097, shifted % 146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = era * 400 + year_of_era + u64::from(month <= 2);
    (year, month, day)
}

pub(crate) fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar from 1970 on (Howard
/// Hinnant's `days_from_civil`).
pub(crate) fn days_since_epoch(year: u64, month: u64, day: u64) -> u64 {
    let year = if month <= 2 { year - 1 } else { year };
    let (era, year_of_era) = (year / 400, year % 400);
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Appends `time` as an HTTP date (IMF-fixdate, RFC 9110), `Sun, 06 Nov 1994 08:49:37 GMT`,
/// to the whole second, rounded down; a time before 1970 as 1970's first second.
pub(crate) fn write_http_date(out: &mut String, time: SystemTime) {
    // 1970-01-01 was a Thursday.
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let seconds = time
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    let (days, second_of_day) = (seconds / 86_400, seconds % 86_400);
    let (year, month, day) = civil_from_days(days);
    out.push_str(WEEKDAYS[(days % 7) as usize]);
    out.push_str(", ");
    push_digits(out, day, 2);
    out.push(' ');
    out.push_str(MONTHS[(month - 1) as usize]);
    out.push(' ');
    push_digits(out, year, 4);
    out.push(' ');
    push_digits(out, second_of_day / 3_600, 2);
    out.push(':');
    push_digits(out, second_of_day / 60 % 60, 2);
    out.push(':');
    push_digits(out, second_of_day % 60, 2);
    out.push_str(" GMT");
}

/// The last `width` decimal digits of `value`, with leading zeros.
fn push_digits(out: &mut String, value: u64, width: u32) {
    for place in (0..width).rev() {
        out.push(char::from(b'0' + (value / 10_u64.pow(place) % 10) as u8));
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use proptest::prelude::*;

    use super::*;

    fn http_date(seconds: u64) -> String {
        let mut out = String::new();
        write_http_date(&mut out, UNIX_EPOCH + Duration::from_secs(seconds));
        out
    }

    #[test]
    fn writes_http_dates_at_the_ends_of_the_range() {
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(http_date(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(http_date(253_402_300_799), "Fri, 31 Dec 9999 23:59:59 GMT");
        let mut before = String::new();
        write_http_date(&mut before, UNIX_EPOCH - Duration::from_secs(1));
        assert_eq!(before, "Thu, 01 Jan 1970 00:00:00 GMT");
    }

    proptest! {
        #[test]
        fn writes_http_dates_as_httpdate_does(
            seconds in 0_u64..=253_402_300_799,
            nanos in 0_u32..1_000_000_000,
        ) {
            let time = UNIX_EPOCH + Duration::new(seconds, nanos);
            let mut ours = String::new();
            write_http_date(&mut ours, time);
            prop_assert_eq!(ours, httpdate::fmt_http_date(time));
        }
    }
}
