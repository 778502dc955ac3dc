//! Five-field cron expressions (`@schedule`), checked field by field: a
//! schedule that could never fire, or fires other than written, is an
//! error where it is written, not a surprise when the scheduler reads it.

/// One field: its name, its range and the names it takes for values.
struct Field {
    name: &'static str,
    low: u32,
    high: u32,
    /// Names for `low`, `low + 1`, ...; matched in any letter case.
    names: &'static [&'static str],
}

const FIELDS: [Field; 5] = [
    Field {
        name: "minute",
        low: 0,
        high: 59,
        names: &[],
    },
    Field {
        name: "hour",
        low: 0,
        high: 23,
        names: &[],
    },
    Field {
        name: "day of month",
        low: 1,
        high: 31,
        names: &[],
    },
    Field {
        name: "month",
        low: 1,
        high: 12,
        names: &[
            "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
        ],
    },
    // 0 and 7 are both Sunday.
    Field {
        name: "day of week",
        low: 0,
        high: 7,
        names: &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
    },
];

/// Checks `text` as `minute hour day-of-month month day-of-week`, each a
/// list (`,`) of `*`, a value or a range `a-b`, each with an optional step
/// `/n`; `?` may stand alone for either day field.
pub fn check_cron(text: &str) -> Result<(), String> {
    let parts: Vec<&str> = text.split_whitespace().collect();
    if parts.len() != FIELDS.len() {
        return Err(format!(
            "five fields (minute hour day month weekday), found {}",
            parts.len()
        ));
    }
    // `?` says "no value" for one day field, given the other.
    if parts[2] == "?" && parts[4] == "?" {
        return Err("`?` in one day field at most (day of month or day of week)".to_owned());
    }
    for (part, field) in parts.iter().zip(&FIELDS) {
        check_field(part, field).map_err(|problem| {
            format!(
                "a {} field of {}; `{part}`: {problem}",
                field.name,
                field.describe()
            )
        })?;
    }
    Ok(())
}

impl Field {
    fn describe(&self) -> String {
        let mut text = format!("{}-{}", self.low, self.high);
        if let (Some(first), Some(last)) = (self.names.first(), self.names.last()) {
            text.push_str(&format!(" or {first}-{last}"));
        }
        text
    }

    fn value(&self, text: &str) -> Result<u32, String> {
        let digits =
            !text.is_empty() && text.len() <= 2 && text.bytes().all(|b| b.is_ascii_digit());
        let value = match text.parse::<u32>().ok().filter(|_| digits) {
            Some(number) => number,
            None => self
                .names
                .iter()
                .position(|name| name.eq_ignore_ascii_case(text))
                .map(|index| self.low + index as u32)
                .ok_or_else(|| format!("`{text}` is not a {}", self.name))?,
        };
        if value < self.low || value > self.high {
            return Err(format!("{value} is outside {}-{}", self.low, self.high));
        }
        Ok(value)
    }
}

fn check_field(text: &str, field: &Field) -> Result<(), String> {
    if text == "?" && field.name.starts_with("day") {
        return Ok(());
    }
    for item in text.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => (range, Some(step)),
            None => (item, None),
        };
        if let Some(step) = step {
            let digits = step.len() <= 2 && step.bytes().all(|b| b.is_ascii_digit());
            match step.parse::<u32>() {
                Ok(n) if digits && n >= 1 && n <= field.high => {}
                _ => return Err(format!("the step `{step}` is not 1-{}", field.high)),
            }
        }
        if range == "*" {
            continue;
        }
        match range.split_once('-') {
            Some((from, to)) => {
                let (from_value, to_value) = (field.value(from)?, field.value(to)?);
                if from_value > to_value {
                    return Err(format!("the range `{range}` runs backwards"));
                }
            }
            None if range.is_empty() => return Err("an empty item".to_owned()),
            None => {
                field.value(range)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usual_schedules_pass() {
        for cron in [
            "0 2 * * *",
            "*/5 * * * MON-FRI",
            "0,30 8-18/2 1 jan-jun 0",
            "15 14 1 * ?",
            "0 0 * * 7",
        ] {
            assert_eq!(check_cron(cron), Ok(()), "{cron}");
        }
    }

    #[test]
    fn impossible_fields_say_which_and_why() {
        for (cron, says) in [
            ("0 2 * *", "five fields"),
            (
                "60 * * * *",
                "minute field of 0-59; `60`: 60 is outside 0-59",
            ),
            ("0 24 * * *", "hour field"),
            ("0 0 0 * *", "day of month field"),
            ("0 0 * 13 *", "`13`: 13 is outside 1-12"),
            ("0 0 * * 8", "day of week field"),
            ("*/0 * * * *", "the step `0` is not 1-59"),
            ("0 5-1 * * *", "the range `5-1` runs backwards"),
            ("abc def ghi jkl mno", "`abc` is not a minute"),
            ("0 2 * * $", "`$` is not a day of week"),
            ("0 1,,2 * * *", "an empty item"),
            ("? * * * *", "`?` is not a minute"),
            ("0 0 * * +1", "`+1` is not a day of week"),
            ("00000000000000000001 0 * * *", "is not a minute"),
            ("0 0 ? * ?", "`?` in one day field at most"),
        ] {
            let error = check_cron(cron).unwrap_err();
            assert!(error.contains(says), "{cron}: {error}");
        }
    }
}
