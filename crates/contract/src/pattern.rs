//! A column's `pattern`, and the patterns that are a fixed sequence of
//! ASCII characters, checked byte by byte instead of by the regex engine.
//!
//! Identifiers are often checked by patterns such as `^ORD-[0-9]{8}$`:
//! anchored at both ends, every match as long as every other, each
//! position one character from a set. Such a pattern matches a text
//! exactly when the text has that many bytes and each byte is in its
//! position's set; the `regex` crate's search (a lazy DFA) took 2% of
//! workload W's CPU for it. [`FixedPattern::compile`] recognises these
//! patterns from the same syntax tree the `regex` crate builds (literals,
//! classes, `{n}` repetitions and groups of them, between `^` and `$`)
//! and gives up on anything else, which the regex runs. A set holds ASCII
//! only, so a non-ASCII character never matches, as it never could.

use regex::Regex;
use regex_syntax::hir::{Class, Hir, HirKind, Look};

/// A column's `pattern`: values match it when the regex finds a match in
/// them, as `regex::Regex::is_match` says.
#[derive(Debug, Clone)]
pub struct Pattern {
    regex: Regex,
    /// The same pattern's fixed form, when it has one: it answers instead.
    fixed: Option<FixedPattern>,
}

impl Pattern {
    pub fn new(text: &str) -> Result<Self, regex::Error> {
        Ok(Self {
            regex: Regex::new(text)?,
            fixed: FixedPattern::compile(text),
        })
    }

    pub fn is_match(&self, value: &str) -> bool {
        match &self.fixed {
            Some(fixed) => fixed.is_match(value),
            None => self.regex.is_match(value),
        }
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        self.regex.as_str()
    }
}

/// Positions a fixed pattern may have; a longer one is left to the regex.
const POSITIONS_MAX: usize = 256;

/// A set of bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct ByteSet([u64; 4]);

impl ByteSet {
    fn insert(&mut self, byte: u8) {
        self.0[usize::from(byte >> 6)] |= 1 << (byte & 63);
    }

    fn contains(&self, byte: u8) -> bool {
        self.0[usize::from(byte >> 6)] & (1 << (byte & 63)) != 0
    }
}

/// A pattern every match of which is one byte from each set, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FixedPattern {
    positions: Vec<ByteSet>,
}

impl FixedPattern {
    /// The fixed form of `pattern`, when it has one.
    fn compile(pattern: &str) -> Option<Self> {
        let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
        let HirKind::Concat(parts) = hir.kind() else {
            return None;
        };
        let (first, rest) = parts.split_first()?;
        let (last, middle) = rest.split_last()?;
        if first.kind() != &HirKind::Look(Look::Start) || last.kind() != &HirKind::Look(Look::End) {
            return None;
        }
        let mut positions = Vec::new();
        for part in middle {
            push_positions(part, &mut positions)?;
        }
        Some(Self { positions })
    }

    fn is_match(&self, text: &str) -> bool {
        let bytes = text.as_bytes();
        bytes.len() == self.positions.len()
            && bytes
                .iter()
                .zip(&self.positions)
                .all(|(byte, set)| set.contains(*byte))
    }
}

/// Appends the positions of `hir`; `None` when it has no fixed ASCII form.
fn push_positions(hir: &Hir, positions: &mut Vec<ByteSet>) -> Option<()> {
    match hir.kind() {
        HirKind::Literal(literal) => {
            for &byte in literal.0.iter() {
                if !byte.is_ascii() {
                    return None;
                }
                let mut set = ByteSet::default();
                set.insert(byte);
                positions.push(set);
            }
        }
        HirKind::Class(class) => positions.push(ascii_set(class)?),
        HirKind::Repetition(repetition) if repetition.max == Some(repetition.min) => {
            let mut once = Vec::new();
            push_positions(&repetition.sub, &mut once)?;
            for _ in 0..repetition.min {
                positions.extend_from_slice(&once);
                if positions.len() > POSITIONS_MAX {
                    return None;
                }
            }
        }
        HirKind::Capture(capture) => push_positions(&capture.sub, positions)?,
        HirKind::Concat(parts) => {
            for part in parts {
                push_positions(part, positions)?;
            }
        }
        HirKind::Empty | HirKind::Look(_) | HirKind::Repetition(_) | HirKind::Alternation(_) => {
            return None;
        }
    }
    (positions.len() <= POSITIONS_MAX).then_some(())
}

/// The class as a set of bytes, when every character in it is ASCII.
fn ascii_set(class: &Class) -> Option<ByteSet> {
    let mut set = ByteSet::default();
    for (start, end) in class_ranges(class) {
        if end > 0x7F {
            return None;
        }
        for byte in start..=end {
            set.insert(u8::try_from(byte).ok()?);
        }
    }
    Some(set)
}

/// A class's ranges, inclusive: of characters (code points) or of bytes.
pub(crate) fn class_ranges(class: &Class) -> Vec<(u32, u32)> {
    match class {
        Class::Unicode(unicode) => unicode
            .ranges()
            .iter()
            .map(|r| (u32::from(r.start()), u32::from(r.end())))
            .collect(),
        Class::Bytes(bytes) => bytes
            .ranges()
            .iter()
            .map(|r| (u32::from(r.start()), u32::from(r.end())))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::RegexGen;
    use crate::synth::Rng;

    #[test]
    fn anchored_sequences_of_ascii_literals_and_classes_are_fixed() {
        for pattern in [
            "^ORD-[0-9]{8}$",
            r"^[A-Z]{3}$",
            r"^\d{4}$",
            "^(?:ab){3}-[a-f0-9]{2}$",
            "^([0-9]{2}):([0-5][0-9])$",
            "^$",
            r"^\x41\.[^\x00-\x7e]$",
        ] {
            assert!(
                FixedPattern::compile(pattern).is_some() == is_ascii_only(pattern),
                "{pattern}"
            );
        }
        for pattern in [
            "ORD-[0-9]{8}",
            "^ORD-[0-9]{8}",
            "^[0-9]+$",
            "^[0-9]{2,3}$",
            "^(ab|c)$",
            "^é$",
            r"^\w$",
            "(?i)^k$",
            r"^a\b$",
            "^x{300}$",
        ] {
            assert_eq!(FixedPattern::compile(pattern), None, "{pattern}");
        }
    }

    /// `\d` is every Unicode digit and `[^…]` holds non-ASCII characters:
    /// neither has a fixed ASCII form.
    fn is_ascii_only(pattern: &str) -> bool {
        !pattern.contains(r"\d") && !pattern.contains("[^")
    }

    #[test]
    fn a_fixed_pattern_matches_exactly_what_the_regex_matches() {
        let patterns = [
            "^ORD-[0-9]{8}$",
            "^[A-Z]{2}[0-9]{2}[A-Z0-9]{4}[0-9]{7}$",
            "^(?:ab){3}-[a-f0-9]{2}$",
            "^([0-9]{2}):([0-5][0-9])$",
            "^[a-c][.][+*?]$",
            "^$",
        ];
        let mut rng = Rng::new(7);
        for pattern in patterns {
            let fixed = FixedPattern::compile(pattern).expect(pattern);
            let regex = Regex::new(pattern).unwrap();
            assert!(Pattern::new(pattern).unwrap().fixed.is_some());
            let generator = RegexGen::new(pattern).unwrap();
            for _ in 0..2_000 {
                let mut text = generator.generate(&mut rng);
                // Mostly matches, then one change of many kinds.
                match rng.between(0, 5) {
                    0 => {}
                    1 => text.push('7'),
                    2 => {
                        text.pop();
                    }
                    3 => text.insert(rng.between(0, text.len() as i64) as usize, 'é'),
                    _ => {
                        let mut bytes = text.into_bytes();
                        let at = rng.between(0, 63) as usize % bytes.len().max(1);
                        if let Some(byte) = bytes.get_mut(at) {
                            *byte = rng.between(0x20, 0x7E) as u8;
                        }
                        text = String::from_utf8(bytes).unwrap();
                    }
                }
                assert_eq!(
                    fixed.is_match(&text),
                    regex.is_match(&text),
                    "`{pattern}` on `{text}`"
                );
            }
        }
    }
}
