//! Strict parsing of dates, times and timestamps written in the JDK
//! DateTimeFormatter patterns that ODCS prescribes (`yyyy-MM-dd`,
//! `yyyy-MM-dd'T'HH:mm:ss`, `HH:mm:ss.SSS`, `yyyy-MM-dd HH:mm:ssXXX`).
//!
//! Strict means: every pattern letter takes exactly its width of digits
//! (`M` and `d` take one or two), the calendar must be valid, and nothing
//! may be left over. The pattern is compiled once; parsing a value walks
//! its bytes with no allocation.

use crate::calendar;

/// One piece of a compiled pattern.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Year4,
    Year2,
    Month {
        digits_min: usize,
    },
    Day {
        digits_min: usize,
    },
    Hour {
        digits_min: usize,
    },
    Minute,
    Second,
    /// `S` repeated: exactly this many fraction digits.
    Fraction {
        digits: usize,
    },
    /// `XXX` (`+01:00` or `Z`), `XX`/`X` (`+0100`, `+01` or `Z`), `xxx`, `Z`.
    Offset {
        colon: bool,
        z_allowed: bool,
    },
    Literal(u8),
}

/// The parts of a value read by a [`TemporalFormat`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TemporalParts {
    pub date: Option<(i32, u32, u32)>,
    /// Seconds since midnight and microseconds.
    pub time: Option<(u32, u32)>,
    /// Offset east of UTC, in seconds, when the value carries one.
    pub offset_seconds: Option<i32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TemporalFormat {
    pattern: String,
    tokens: Vec<Token>,
}

impl TemporalFormat {
    /// Compiles a JDK pattern. The error says which letter is not supported.
    pub fn compile(pattern: &str) -> Result<Self, String> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut tokens = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == '\'' {
                // A quoted literal; `''` is one quote.
                let mut j = i + 1;
                if chars.get(j) == Some(&'\'') {
                    tokens.push(Token::Literal(b'\''));
                    i = j + 1;
                    continue;
                }
                while j < chars.len() && chars[j] != '\'' {
                    push_literal(&mut tokens, chars[j])?;
                    j += 1;
                }
                if j == chars.len() {
                    return Err(format!("the quote at position {} is never closed", i + 1));
                }
                i = j + 1;
                continue;
            }
            if !c.is_ascii_alphabetic() {
                push_literal(&mut tokens, c)?;
                i += 1;
                continue;
            }
            let run = chars[i..].iter().take_while(|&&x| x == c).count();
            tokens.push(letter_token(c, run)?);
            i += run;
        }
        Ok(Self {
            pattern: pattern.to_owned(),
            tokens,
        })
    }

    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    pub fn has_date(&self) -> bool {
        self.tokens
            .iter()
            .any(|t| matches!(t, Token::Year4 | Token::Year2))
    }

    pub fn has_time(&self) -> bool {
        self.tokens.iter().any(|t| matches!(t, Token::Hour { .. }))
    }

    /// Writes `parts` in this pattern: the inverse of [`Self::parse`] for
    /// the parts the pattern has. Missing parts are written as zero
    /// (`2000-01-01`, midnight, UTC).
    pub fn format(&self, parts: &TemporalParts) -> String {
        let (year, month, day) = parts.date.unwrap_or((2000, 1, 1));
        let (seconds, micros) = parts.time.unwrap_or((0, 0));
        let mut out = String::new();
        for token in &self.tokens {
            match *token {
                Token::Year4 => out.push_str(&format!("{year:04}")),
                Token::Year2 => out.push_str(&format!("{:02}", year.rem_euclid(100))),
                Token::Month { digits_min } => push_number(&mut out, month, digits_min),
                Token::Day { digits_min } => push_number(&mut out, day, digits_min),
                Token::Hour { digits_min } => push_number(&mut out, seconds / 3600, digits_min),
                Token::Minute => push_number(&mut out, seconds / 60 % 60, 2),
                Token::Second => push_number(&mut out, seconds % 60, 2),
                Token::Fraction { digits: n } => {
                    let value = if n <= 6 {
                        u64::from(micros) / 10u64.pow(6 - n as u32)
                    } else {
                        u64::from(micros) * 10u64.pow(n as u32 - 6)
                    };
                    out.push_str(&format!("{value:0n$}"));
                }
                Token::Offset { colon, z_allowed } => {
                    let offset = parts.offset_seconds.unwrap_or(0);
                    if offset == 0 && z_allowed {
                        out.push('Z');
                    } else {
                        let sign = if offset < 0 { '-' } else { '+' };
                        let minutes = offset.unsigned_abs() / 60;
                        out.push(sign);
                        push_number(&mut out, minutes / 60, 2);
                        if colon {
                            out.push(':');
                        }
                        push_number(&mut out, minutes % 60, 2);
                    }
                }
                Token::Literal(b) => out.push(char::from(b)),
            }
        }
        out
    }

    /// Reads `text` strictly; `None` when it does not match the pattern or
    /// names a date or time that does not exist.
    pub fn parse(&self, text: &str) -> Option<TemporalParts> {
        let bytes = text.as_bytes();
        let mut at = 0;
        let (mut year, mut month, mut day) = (None, None, None);
        let (mut hour, mut minute, mut second, mut micros) = (None, 0u32, 0u32, 0u32);
        let mut offset_seconds = None;
        for token in &self.tokens {
            match *token {
                Token::Year4 => year = Some(digits(bytes, &mut at, 4, 4)? as i32),
                Token::Year2 => year = Some(2000 + digits(bytes, &mut at, 2, 2)? as i32),
                Token::Month { digits_min } => month = Some(digits(bytes, &mut at, digits_min, 2)?),
                Token::Day { digits_min } => day = Some(digits(bytes, &mut at, digits_min, 2)?),
                Token::Hour { digits_min } => hour = Some(digits(bytes, &mut at, digits_min, 2)?),
                Token::Minute => minute = digits(bytes, &mut at, 2, 2)?,
                Token::Second => second = digits(bytes, &mut at, 2, 2)?,
                Token::Fraction { digits: n } => {
                    let value = digits(bytes, &mut at, n, n)?;
                    micros = scale_to_micros(value, n);
                }
                Token::Offset { colon, z_allowed } => {
                    offset_seconds = Some(offset(bytes, &mut at, colon, z_allowed)?)
                }
                Token::Literal(b) => {
                    if bytes.get(at) != Some(&b) {
                        return None;
                    }
                    at += 1;
                }
            }
        }
        if at != bytes.len() {
            return None;
        }
        let date = match (year, month, day) {
            (None, None, None) => None,
            // A pattern with a year but no day (`yyyy-MM`) means the first.
            (Some(y), m, d) => {
                let (m, d) = (m.unwrap_or(1), d.unwrap_or(1));
                if !calendar::is_day(y, m, d) {
                    return None;
                }
                Some((y, m, d))
            }
            _ => return None,
        };
        let time = match hour {
            Some(h) if h < 24 && minute < 60 && second < 60 => {
                Some((h * 3600 + minute * 60 + second, micros))
            }
            Some(_) => return None,
            None => None,
        };
        Some(TemporalParts {
            date,
            time,
            offset_seconds,
        })
    }
}

fn push_number(out: &mut String, value: u32, width: usize) {
    out.push_str(&format!("{value:0width$}"));
}

fn push_literal(tokens: &mut Vec<Token>, c: char) -> Result<(), String> {
    if !c.is_ascii() {
        return Err(format!(
            "the character `{c}` is not supported in a format (ASCII only)"
        ));
    }
    tokens.push(Token::Literal(c as u8));
    Ok(())
}

fn letter_token(letter: char, run: usize) -> Result<Token, String> {
    let unsupported = || {
        format!(
            "`{}` is not a supported pattern (supported: yyyy uuuu yy MM M dd d HH H mm ss S… XXX XX X xxx Z and quoted literals)",
            letter.to_string().repeat(run)
        )
    };
    Ok(match (letter, run) {
        ('y' | 'u', 4) => Token::Year4,
        ('y' | 'u', 2) => Token::Year2,
        ('M', 1 | 2) => Token::Month { digits_min: run },
        ('d', 1 | 2) => Token::Day { digits_min: run },
        ('H', 1 | 2) => Token::Hour { digits_min: run },
        ('m', 2) => Token::Minute,
        ('s', 2) => Token::Second,
        ('S', 1..=9) => Token::Fraction { digits: run },
        ('X', 3) => Token::Offset {
            colon: true,
            z_allowed: true,
        },
        ('X', 1 | 2) => Token::Offset {
            colon: false,
            z_allowed: true,
        },
        ('x', 3) => Token::Offset {
            colon: true,
            z_allowed: false,
        },
        ('Z', 1..=3) => Token::Offset {
            colon: false,
            z_allowed: false,
        },
        _ => return Err(unsupported()),
    })
}

/// Reads between `min` and `max` ASCII digits.
fn digits(bytes: &[u8], at: &mut usize, min: usize, max: usize) -> Option<u32> {
    let mut value = 0u32;
    let mut count = 0;
    while count < max {
        match bytes.get(*at + count) {
            Some(b) if b.is_ascii_digit() => {
                value = value * 10 + u32::from(b - b'0');
                count += 1;
            }
            _ => break,
        }
    }
    if count < min {
        return None;
    }
    *at += count;
    Some(value)
}

fn scale_to_micros(value: u32, digits: usize) -> u32 {
    match digits {
        0..=6 => value * 10u32.pow(6 - digits as u32),
        _ => value / 10u32.pow(digits as u32 - 6),
    }
}

fn offset(bytes: &[u8], at: &mut usize, colon: bool, z_allowed: bool) -> Option<i32> {
    match bytes.get(*at) {
        Some(b'Z') if z_allowed => {
            *at += 1;
            Some(0)
        }
        Some(&sign @ (b'+' | b'-')) => {
            *at += 1;
            let hours = digits(bytes, at, 2, 2)?;
            let minutes = if colon {
                if bytes.get(*at) != Some(&b':') {
                    return None;
                }
                *at += 1;
                digits(bytes, at, 2, 2)?
            } else {
                digits(bytes, at, 0, 2).unwrap_or(0)
            };
            if hours > 18 || minutes > 59 {
                return None;
            }
            let seconds = (hours * 3600 + minutes * 60) as i32;
            Some(if sign == b'-' { -seconds } else { seconds })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pattern: &str, text: &str) -> Option<TemporalParts> {
        TemporalFormat::compile(pattern).unwrap().parse(text)
    }

    #[test]
    fn writes_what_it_reads() {
        let parts = TemporalParts {
            date: Some((2024, 2, 9)),
            time: Some((7 * 3600 + 5 * 60 + 3, 120_000)),
            offset_seconds: Some(-5400),
        };
        for (pattern, text) in [
            (
                "yyyy-MM-dd'T'HH:mm:ss.SSSXXX",
                "2024-02-09T07:05:03.120-01:30",
            ),
            ("d/M/yy H:mm:ss.SSSSSSZ", "9/2/24 7:05:03.120000-0130"),
        ] {
            let format = TemporalFormat::compile(pattern).unwrap();
            assert_eq!(format.format(&parts), text);
            assert_eq!(format.parse(text), Some(parts));
        }
        let utc = TemporalFormat::compile("yyyy-MM-dd HH:mm:ssX").unwrap();
        let midnight = TemporalParts {
            date: Some((2024, 1, 1)),
            time: Some((0, 0)),
            offset_seconds: Some(0),
        };
        assert_eq!(utc.format(&midnight), "2024-01-01 00:00:00Z");
    }

    #[test]
    fn reads_the_patterns_odcs_shows() {
        let p = parse("yyyy-MM-dd'T'HH:mm:ss", "2024-02-29T23:59:58").unwrap();
        assert_eq!(p.date, Some((2024, 2, 29)));
        assert_eq!(p.time, Some((23 * 3600 + 59 * 60 + 58, 0)));
        assert_eq!(
            parse("yyyy-MM-dd", "2024-01-31").unwrap().date,
            Some((2024, 1, 31))
        );
        assert_eq!(
            parse("HH:mm:ss.SSS", "07:08:09.120").unwrap().time,
            Some((7 * 3600 + 8 * 60 + 9, 120_000))
        );
        assert_eq!(
            parse("yyyy-MM-dd HH:mm:ssXXX", "2024-01-31 10:00:00+02:00")
                .unwrap()
                .offset_seconds,
            Some(7200)
        );
        assert_eq!(
            parse("yyyy-MM-dd HH:mm:ssXXX", "2024-01-31 10:00:00Z")
                .unwrap()
                .offset_seconds,
            Some(0)
        );
        assert_eq!(
            parse("dd/MM/yy", "10/02/24").unwrap().date,
            Some((2024, 2, 10))
        );
        assert_eq!(
            parse("d.M.yyyy", "1.2.2024").unwrap().date,
            Some((2024, 2, 1))
        );
    }

    #[test]
    fn is_strict() {
        let f = "yyyy-MM-dd'T'HH:mm:ss";
        for bad in [
            "2024-13-01T10:00:00",
            "2024-02-30T10:00:00",
            "2023-02-29T10:00:00",
            "2024-02-10T25:00:00",
            "2024-02-10T10:60:00",
            "2024/02/10 10:00:00",
            "10/02/2024 10:00",
            "not a date",
            "",
            "2024-02-10T10:00:00Z",
            "2024-02-10T10:00:00.5",
            "2024-2-10T10:00:00",
            "24-02-10T10:00:00",
        ] {
            assert_eq!(parse(f, bad), None, "{bad}");
        }
    }

    #[test]
    fn rejects_unknown_letters() {
        let error = TemporalFormat::compile("yyyy-MMM-dd").unwrap_err();
        assert!(error.contains("`MMM`"), "{error}");
        assert!(TemporalFormat::compile("yyyy'T").is_err());
        assert!(
            TemporalFormat::compile("yyyy-MM-dd'T'HH")
                .unwrap()
                .has_time()
        );
    }
}
