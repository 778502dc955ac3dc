//! Days of the proleptic Gregorian calendar as counts from 1970-01-01,
//! for the dates every temporal value is read into: two per value, so
//! the arithmetic is plain (Howard Hinnant's `days_from_civil`) rather
//! than a calendar library's validated date objects.

/// The years a date may have: those of `chrono::NaiveDate`, which the
/// rest of the crate formats dates with.
const YEAR_MIN: i32 = -262_143;
const YEAR_MAX: i32 = 262_142;

/// Days in a 400-year cycle of the Gregorian calendar.
const DAYS_PER_ERA: i64 = 146_097;

/// Days from 0000-03-01 to 1970-01-01.
const EPOCH_DAYS: i64 = 719_468;

fn is_leap(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Is `year-month-day` a day of the calendar?
pub(crate) fn is_day(year: i32, month: u32, day: u32) -> bool {
    (YEAR_MIN..=YEAR_MAX).contains(&year)
        && (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day)
}

/// Days from 1970-01-01 to `year-month-day`; `None` when there is no such
/// day.
pub(crate) fn days_from_epoch(year: i32, month: u32, day: u32) -> Option<i32> {
    if !is_day(year, month, day) {
        return None;
    }
    // Years start in March, so that February's leap day ends one.
    let year = i64::from(year) - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = i64::from((month + 9) % 12);
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    i32::try_from(era * DAYS_PER_ERA + day_of_era - EPOCH_DAYS).ok()
}

#[cfg(test)]
mod tests {
    use chrono::{Datelike, NaiveDate};

    use super::*;

    #[test]
    fn agrees_with_chrono_on_every_day_and_every_non_day() {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        let years = (1590..2410)
            .chain(-410..10)
            .chain([YEAR_MIN, YEAR_MIN + 1, YEAR_MAX - 1, YEAR_MAX])
            .chain([YEAR_MIN - 1, YEAR_MAX + 1, i32::MIN, i32::MAX]);
        for year in years {
            for month in 0..=13 {
                for day in 0..=32 {
                    let expected = NaiveDate::from_ymd_opt(year, month, day)
                        .map(|date| date.signed_duration_since(epoch).num_days() as i32);
                    assert_eq!(
                        days_from_epoch(year, month, day),
                        expected,
                        "{year}-{month}-{day}"
                    );
                }
            }
        }
        assert_eq!(NaiveDate::MIN.year(), YEAR_MIN);
        assert_eq!(NaiveDate::MAX.year(), YEAR_MAX);
        assert_eq!(days_from_epoch(1970, 1, 1), Some(0));
        assert_eq!(days_from_epoch(2024, 2, 29), Some(19_782));
    }
}
