//! The run-wide memory of values already seen, for `unique` and
//! `primaryKey` columns.
//!
//! Each distinct value is kept as a 64-bit xxh3 fingerprint, not as its
//! text: about 14 bytes per key including the table's spare room, so 10
//! million keys take about 140 MB. Two different values share a
//! fingerprint with probability about n²/2⁶⁵ (3·10⁻⁶ for 10 million keys),
//! in which case the later row is wrongly reported as a duplicate; ADR 004
//! explains the trade. The set is split into 256 tables so that growing
//! one never needs twice the memory of the whole set at once. The number
//! of keys is bounded by `unique_keys_max`.

use std::collections::HashSet;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::error::ArrowError;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use std::hash::{BuildHasherDefault, Hasher};

const PARTITIONS: usize = 256;

/// The fingerprints are already uniformly mixed: hashing them again would
/// only cost time.
#[derive(Debug, Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

type Table = HashSet<u64, BuildHasherDefault<PassThrough>>;

#[derive(Debug)]
pub struct SeenValues {
    tables: Vec<Table>,
    len: usize,
    keys_max: usize,
}

/// The set already holds `keys_max` keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeenValuesFull;

impl SeenValues {
    pub fn new(keys_max: usize) -> Self {
        Self {
            tables: (0..PARTITIONS).map(|_| Table::default()).collect(),
            len: 0,
            keys_max,
        }
    }

    /// Records `fingerprint`; `Ok(true)` when it was seen before.
    pub fn seen_before(&mut self, fingerprint: u64) -> Result<bool, SeenValuesFull> {
        // The middle bits pick the table, so that neither the bits the
        // table indexes by (low) nor its tag bits (high) are constant.
        let table = &mut self.tables[((fingerprint >> 32) as usize) % PARTITIONS];
        if table.contains(&fingerprint) {
            return Ok(true);
        }
        if self.len >= self.keys_max {
            return Err(SeenValuesFull);
        }
        table.insert(fingerprint);
        self.len += 1;
        Ok(false)
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The most keys this set will hold.
    pub fn keys_max(&self) -> usize {
        self.keys_max
    }
}

pub fn fingerprint(bytes: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(bytes)
}

/// One fingerprint per row for the values of `columns` taken together;
/// `None` where any of them is null (nulls are never duplicates).
pub fn row_fingerprints(
    columns: &[&ArrayRef],
    rows: usize,
) -> Result<Vec<Option<u64>>, ArrowError> {
    if let [single] = columns
        && let Some(text) = single.as_string_opt::<i32>()
    {
        {
            return Ok((0..rows)
                .map(|row| {
                    text.is_valid(row)
                        .then(|| fingerprint(text.value(row).as_bytes()))
                })
                .collect());
        }
    }
    let formatters: Vec<ArrayFormatter> = columns
        .iter()
        .map(|c| ArrayFormatter::try_new(c.as_ref(), &FormatOptions::default()))
        .collect::<Result<_, _>>()?;
    let mut scratch = Vec::new();
    let mut prints = Vec::with_capacity(rows);
    for row in 0..rows {
        if columns.iter().any(|c| c.is_null(row)) {
            prints.push(None);
            continue;
        }
        scratch.clear();
        for (column, formatter) in columns.iter().zip(&formatters) {
            let start = scratch.len();
            match column.as_string_opt::<i32>() {
                Some(text) => scratch.extend_from_slice(text.value(row).as_bytes()),
                None => {
                    use std::io::Write;
                    write!(scratch, "{}", formatter.value(row))
                        .map_err(|e| ArrowError::ExternalError(Box::new(e)))?;
                }
            }
            // The length keeps ("ab", "c") apart from ("a", "bc").
            let len = (scratch.len() - start) as u32;
            scratch.extend_from_slice(&len.to_le_bytes());
        }
        prints.push(Some(fingerprint(&scratch)));
    }
    Ok(prints)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_and_bounds() {
        let mut seen = SeenValues::new(2);
        assert_eq!(seen.seen_before(fingerprint(b"a")), Ok(false));
        assert_eq!(seen.seen_before(fingerprint(b"a")), Ok(true));
        assert_eq!(seen.seen_before(fingerprint(b"b")), Ok(false));
        assert_eq!(seen.seen_before(fingerprint(b"c")), Err(SeenValuesFull));
        assert_eq!(seen.seen_before(fingerprint(b"b")), Ok(true));
        assert_eq!(seen.len(), 2);
    }
}
