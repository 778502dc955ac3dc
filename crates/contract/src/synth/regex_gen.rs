//! Strings that match a regular expression, drawn at random from its
//! syntax tree (regex-syntax's HIR, the same parser the `regex` crate uses).
//! Anchors and other look-arounds produce nothing; the caller checks every
//! value with the real regex, so a tree this walk cannot honour (a word
//! boundary between two letters) only costs a retry.

use regex_syntax::hir::{Class, Hir, HirKind};

use super::rng::Rng;
use crate::pattern::class_ranges;

/// Extra repetitions drawn for an open-ended `*`, `+` or `{n,}`.
const OPEN_REPEAT_EXTRA_MAX: u32 = 8;

#[derive(Debug, Clone)]
pub(crate) struct RegexGen {
    hir: Hir,
}

impl RegexGen {
    pub fn new(pattern: &str) -> Result<Self, String> {
        let hir = regex_syntax::Parser::new()
            .parse(pattern)
            .map_err(|e| e.to_string())?;
        Ok(Self { hir })
    }

    pub fn generate(&self, rng: &mut Rng) -> String {
        let mut out = String::new();
        walk(&self.hir, rng, &mut out);
        out
    }
}

fn walk(hir: &Hir, rng: &mut Rng, out: &mut String) {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => {}
        HirKind::Literal(literal) => out.push_str(&String::from_utf8_lossy(&literal.0)),
        HirKind::Class(class) => {
            if let Some(c) = pick_char(class, rng) {
                out.push(c);
            }
        }
        HirKind::Repetition(repetition) => {
            let max = repetition
                .max
                .unwrap_or(repetition.min.saturating_add(OPEN_REPEAT_EXTRA_MAX));
            let count = rng.between(i64::from(repetition.min), i64::from(max));
            for _ in 0..count {
                walk(&repetition.sub, rng, out);
            }
        }
        HirKind::Capture(capture) => walk(&capture.sub, rng, out),
        HirKind::Concat(parts) => {
            for part in parts {
                walk(part, rng, out);
            }
        }
        HirKind::Alternation(choices) => walk(rng.pick(choices), rng, out),
    }
}

/// A character of the class, printable ASCII when the class has any (so
/// that values stay readable in any file format).
fn pick_char(class: &Class, rng: &mut Rng) -> Option<char> {
    let mut ranges = class_ranges(class);
    if matches!(class, Class::Bytes(_)) {
        // Bytes past ASCII are not characters on their own.
        ranges = ranges
            .into_iter()
            .map(|(start, end)| (start, end.min(0x7F)))
            .filter(|(start, end)| start <= end)
            .collect();
    }
    let printable: Vec<(u32, u32)> = ranges
        .iter()
        .filter_map(|&(start, end)| {
            let (start, end) = (start.max(0x21), end.min(0x7E));
            (start <= end).then_some((start, end))
        })
        .collect();
    let chosen = if printable.is_empty() {
        &ranges
    } else {
        &printable
    };
    let total: u64 = chosen.iter().map(|(s, e)| u64::from(e - s) + 1).sum();
    if total == 0 {
        return None;
    }
    let mut index = rng.below(total);
    for &(start, end) in chosen {
        let size = u64::from(end - start) + 1;
        if index < size {
            return char::from_u32(start + index as u32);
        }
        index -= size;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_strings_match() {
        let mut rng = Rng::new(3);
        for pattern in [
            "^ORD-[0-9]{8}$",
            "^[A-Z]{2}$",
            r"^\d{3}-\d{4}$",
            "^(USD|EUR|GBP)$",
            "^[a-z]+@[a-z]+\\.com$",
            "^x?y*z+$",
            r"^\w{1,5}$",
        ] {
            let regex = regex::Regex::new(pattern).unwrap();
            let generator = RegexGen::new(pattern).unwrap();
            for _ in 0..50 {
                let value = generator.generate(&mut rng);
                assert!(regex.is_match(&value), "{pattern}: {value:?}");
            }
        }
    }
}
