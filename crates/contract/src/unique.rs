//! The run-wide memory of values already seen, for `unique` and
//! `primaryKey` columns.
//!
//! A single-column value shaped like most identifiers, a short text and up
//! to nine digits, is one bit of a bitmap (`counted_keys.rs`): exact, and
//! one probe. Any other distinct value is kept as a 64-bit xxh3
//! fingerprint, not as its text. Two different values share a fingerprint with probability about
//! n²/2⁶⁵ (3·10⁻⁶ for 10 million keys), in which case the later row is
//! wrongly reported as a duplicate; ADR 005 explains the trade.
//!
//! A small set (up to `SMALL_LEN_MAX` keys) is one sorted vector of whole
//! fingerprints, so a short run pays for no partitions. Past that, the
//! set is split into partitions by the fingerprint's top bits (16 at
//! first), and each partition keeps the other 48 bits of its fingerprints
//! in a sorted vector: 6 bytes a key, a new one put in its place.
//! Fingerprints are spread evenly, so a key's place in its vector is close
//! to its share of the partition's range of values: a lookup starts there
//! and steps to it (`position_in`), one or two cache lines, where
//! bisection of a cold vector costs a cache miss for most of its probes
//! (at 10 million keys that was 14% of workload W's CPU). A full vector
//! grows by a quarter, so spare room stays small: about 8 bytes a key in
//! all, 10 million keys in about 80 MB. When partitions hold
//! `PARTITION_LEN_SPLIT` keys on average, each is cut in two by its next
//! bit, which keeps the vectors short (and inserting into them cheap) up
//! to `unique_keys_max` (100 million by default). The number of keys is
//! bounded by `unique_keys_max`.

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::error::ArrowError;
use arrow::util::display::{ArrayFormatter, FormatOptions};

use crate::counted_keys::{COUNTED_BYTES_MAX, CountedBit, CountedKeys};

/// Keys kept whole in one sorted vector before the set is partitioned.
const SMALL_LEN_MAX: usize = 1024;

/// Fingerprint bits that pick a partition at first: 65,536 partitions, so
/// a partition stores the remaining 48 bits of each fingerprint.
const PARTITION_BITS_MIN: u32 = 16;

/// At most this many bits pick a partition (a million partitions).
const PARTITION_BITS_MAX: u32 = 20;

/// Keys per partition, on average, past which every partition is cut in
/// two: short vectors keep an insert's move of the keys after it cheap.
const PARTITION_LEN_SPLIT: usize = 512;

/// A full partition grows by 1/N of its keys (at least `GROWTH_MIN`), so
/// its spare room stays under an Nth. Each growth is a reallocation and a
/// copy: growing by an eighth, they took 14% of the time to insert 10
/// million keys (1.50 against 1.29 s) for 8 MB less; by a half, no faster
/// than a quarter and 9 MB more.
const GROWTH_SHARE: usize = 4;
const GROWTH_MIN: usize = 4;

/// The fingerprint's bits a partition stores.
const STORED_MASK: u64 = (1 << 48) - 1;

/// `seen_before_all` reads ahead this many keys' places before it looks
/// them up one by one: the reads do not wait on each other, so their cache
/// misses overlap instead of coming one after another.
const READ_AHEAD_KEYS: usize = 32;

/// A lookup steps at most this many keys from its estimated place before
/// it bisects what is left: values an adversary chose to crowd one part
/// of a partition cost a bisection, not a walk.
const STEPS_MAX: usize = 8;

/// The low 48 bits of a fingerprint, little-endian.
type Stored = [u8; 6];

fn store(fingerprint: u64) -> Stored {
    let [a, b, c, d, e, f, _, _] = fingerprint.to_le_bytes();
    [a, b, c, d, e, f]
}

fn stored_value(stored: &Stored) -> u64 {
    let [a, b, c, d, e, f] = *stored;
    u64::from_le_bytes([a, b, c, d, e, f, 0, 0])
}

#[derive(Debug)]
pub struct SeenValues {
    /// Keys of a counted form, one bit each.
    counted: CountedKeys,
    /// While the set is small: its fingerprints, whole and sorted.
    small: Vec<u64>,
    /// Once it is not: `2^partition_bits` sorted vectors.
    partitions: Vec<Vec<Stored>>,
    partition_bits: u32,
    /// `PARTITION_LEN_SPLIT`, smaller in tests.
    split_len: usize,
    len: usize,
    keys_max: usize,
}

/// Each row's key, made by [`SeenValues::row_keys`].
#[derive(Debug)]
pub struct RowKeys(Vec<RowKey>);

#[derive(Debug, Clone, Copy)]
enum RowKey {
    /// A null value, or a null among the key's columns.
    Null,
    Counted(CountedBit),
    Print(u64),
}

/// The set already holds `keys_max` keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeenValuesFull;

impl SeenValues {
    pub fn new(keys_max: usize) -> Self {
        Self {
            counted: CountedKeys::new(COUNTED_BYTES_MAX),
            small: Vec::new(),
            partitions: Vec::new(),
            partition_bits: PARTITION_BITS_MIN,
            split_len: PARTITION_LEN_SPLIT,
            len: 0,
            keys_max,
        }
    }

    /// Records the value `text`; `Ok(true)` when it was seen before.
    pub fn seen_before_text(&mut self, text: &[u8]) -> Result<bool, SeenValuesFull> {
        let key = self.key_of_text(text);
        self.seen_key(key)
    }

    /// One key per row for the values of `columns` taken together, as
    /// [`SeenValues::seen_before_all`] looks them up. The same set must
    /// always be given the same columns.
    pub fn row_keys(&mut self, columns: &[&ArrayRef], rows: usize) -> Result<RowKeys, ArrowError> {
        if let [single] = columns {
            return self.single_column_keys(single, rows);
        }
        let keys = row_fingerprints(columns, rows)?
            .into_iter()
            .map(|print| print.map_or(RowKey::Null, RowKey::Print))
            .collect();
        Ok(RowKeys(keys))
    }

    /// A single column's keys are its values' text, so that identifiers
    /// typed as integers are counted too.
    fn single_column_keys(
        &mut self,
        column: &ArrayRef,
        rows: usize,
    ) -> Result<RowKeys, ArrowError> {
        if let Some(text) = column.as_string_opt::<i32>() {
            let keys = (0..rows)
                .map(|row| match text.is_valid(row) {
                    true => self.key_of_text(text.value(row).as_bytes()),
                    false => RowKey::Null,
                })
                .collect();
            return Ok(RowKeys(keys));
        }
        let formatter = ArrayFormatter::try_new(column.as_ref(), &FormatOptions::default())?;
        let mut scratch = Vec::new();
        let mut keys = Vec::with_capacity(rows);
        for row in 0..rows {
            if column.is_null(row) {
                keys.push(RowKey::Null);
                continue;
            }
            scratch.clear();
            write_value(&mut scratch, &formatter, row)?;
            keys.push(self.key_of_text(&scratch));
        }
        Ok(RowKeys(keys))
    }

    fn key_of_text(&mut self, text: &[u8]) -> RowKey {
        match self.counted.bit_of(text) {
            Some(place) => RowKey::Counted(place),
            None => RowKey::Print(fingerprint(text)),
        }
    }

    fn seen_key(&mut self, key: RowKey) -> Result<bool, SeenValuesFull> {
        match key {
            RowKey::Null => Ok(false),
            RowKey::Print(print) => self.seen_before(print),
            RowKey::Counted(place) => {
                if self.counted.is_set(place) {
                    return Ok(true);
                }
                if self.len >= self.keys_max {
                    return Err(SeenValuesFull);
                }
                self.counted.set(place);
                self.len += 1;
                Ok(false)
            }
        }
    }

    /// Records `fingerprint`; `Ok(true)` when it was seen before.
    fn seen_before(&mut self, fingerprint: u64) -> Result<bool, SeenValuesFull> {
        if self.partitions.is_empty() {
            return self.seen_before_small(fingerprint);
        }
        let index = self.partition_of(fingerprint);
        let free_bits = 64 - self.partition_bits;
        let partition = &mut self.partitions[index];
        let key = fingerprint & STORED_MASK;
        let Err(position) = position_in(partition, key, free_bits) else {
            return Ok(true);
        };
        if self.len >= self.keys_max {
            return Err(SeenValuesFull);
        }
        if partition.len() == partition.capacity() {
            partition.reserve_exact((partition.len() / GROWTH_SHARE).max(GROWTH_MIN));
        }
        partition.insert(position, store(fingerprint));
        self.len += 1;
        if self.len > self.partitions.len() * self.split_len
            && self.partition_bits < PARTITION_BITS_MAX
        {
            self.split_partitions();
        }
        Ok(false)
    }

    /// Records each row's key in order, `true` where it was seen before
    /// (a null key never was); stops at the first that does not fit.
    pub fn seen_before_all(&mut self, keys: RowKeys) -> Result<Vec<bool>, SeenValuesFull> {
        let mut seen = Vec::with_capacity(keys.0.len());
        for chunk in keys.0.chunks(READ_AHEAD_KEYS) {
            self.read_places(chunk);
            for key in chunk {
                seen.push(self.seen_key(*key)?);
            }
        }
        Ok(seen)
    }

    /// Reads where each key would be looked up (a counted key's word; a
    /// fingerprint's partition and estimated place in it), so that the
    /// lookups find them in cache.
    fn read_places(&self, keys: &[RowKey]) {
        let free_bits = 64 - self.partition_bits;
        let mut read = 0u64;
        for key in keys {
            match *key {
                RowKey::Counted(place) => read ^= self.counted.word(place),
                RowKey::Print(print) if !self.partitions.is_empty() => {
                    let partition = &self.partitions[self.partition_of(print)];
                    if let Some(place) = estimate(partition.len(), print & STORED_MASK, free_bits) {
                        read ^= stored_value(&partition[place]);
                    }
                }
                RowKey::Print(_) | RowKey::Null => {}
            }
        }
        std::hint::black_box(read);
    }

    fn seen_before_small(&mut self, fingerprint: u64) -> Result<bool, SeenValuesFull> {
        let Err(position) = self.small.binary_search(&fingerprint) else {
            return Ok(true);
        };
        if self.len >= self.keys_max {
            return Err(SeenValuesFull);
        }
        self.small.insert(position, fingerprint);
        self.len += 1;
        if self.small.len() > SMALL_LEN_MAX {
            self.partition_small();
        }
        Ok(false)
    }

    /// Moves the small set's fingerprints into partitions. They are
    /// sorted whole, so each partition receives its keys in order.
    fn partition_small(&mut self) {
        self.partitions = vec![Vec::new(); 1 << self.partition_bits];
        for fingerprint in std::mem::take(&mut self.small) {
            let index = self.partition_of(fingerprint);
            self.partitions[index].push(store(fingerprint));
        }
    }

    /// The partition of `fingerprint`: its top `partition_bits` bits.
    fn partition_of(&self, fingerprint: u64) -> usize {
        (fingerprint >> (64 - self.partition_bits)) as usize
    }

    /// Cuts every partition in two by the fingerprint bit just below the
    /// ones that pick partitions. That bit is among the stored ones, and
    /// the keys of a partition agree on every stored bit above it, so the
    /// keys with it clear are a prefix of the sorted vector.
    fn split_partitions(&mut self) {
        let bit = 1u64 << (63 - self.partition_bits);
        let mut split = Vec::with_capacity(self.partitions.len() * 2);
        for mut low in std::mem::take(&mut self.partitions) {
            let cut = low.partition_point(|stored| stored_value(stored) & bit == 0);
            let high = low[cut..].to_vec();
            low.truncate(cut);
            low.shrink_to_fit();
            split.push(low);
            split.push(high);
        }
        self.partitions = split;
        self.partition_bits += 1;
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

/// Where `key` is in `sorted` (`Ok`), or where it would go (`Err`), as a
/// binary search answers. The keys of a partition agree on every bit
/// above their `free_bits` low ones, and those are spread evenly, so the
/// search starts at the key's share of that range, steps towards it at
/// most `STEPS_MAX` times, and bisects the rest only if it is still off.
fn position_in(sorted: &[Stored], key: u64, free_bits: u32) -> Result<usize, usize> {
    let len = sorted.len();
    let Some(mut i) = estimate(len, key, free_bits) else {
        return Err(0);
    };
    let at = |i: usize| stored_value(&sorted[i]);
    if at(i) < key {
        // The key is after i.
        for _ in 0..STEPS_MAX {
            i += 1;
            if i == len || at(i) >= key {
                return found_or_place(sorted, i, key);
            }
        }
        let start = i + 1;
        sorted[start..]
            .binary_search_by_key(&key, stored_value)
            .map(|j| start + j)
            .map_err(|j| start + j)
    } else {
        // The key is at i or before it.
        for _ in 0..STEPS_MAX {
            if i == 0 || at(i - 1) < key {
                return found_or_place(sorted, i, key);
            }
            i -= 1;
        }
        // Still at(i) >= key: the answer is at i or before it.
        sorted[..=i].binary_search_by_key(&key, stored_value)
    }
}

/// Where among `len` evenly spread keys `key` should be: its share of the
/// range of its `free_bits` low bits. `None` when `len` is 0.
fn estimate(len: usize, key: u64, free_bits: u32) -> Option<usize> {
    let last = len.checked_sub(1)?;
    let offset = key & ((1u64 << free_bits) - 1);
    // offset < 2^free_bits, so the product shifted is below len.
    let share = ((u128::from(offset) * len as u128) >> free_bits) as usize;
    Some(share.min(last))
}

/// `Ok(i)` if the key is at `i`, else `Err(i)`: every key before `i` is
/// smaller and the one at `i`, if any, is not.
fn found_or_place(sorted: &[Stored], i: usize, key: u64) -> Result<usize, usize> {
    if i < sorted.len() && stored_value(&sorted[i]) == key {
        Ok(i)
    } else {
        Err(i)
    }
}

fn fingerprint(bytes: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(bytes)
}

/// One fingerprint per row for the values of `columns` taken together;
/// `None` where any of them is null (nulls are never duplicates).
fn row_fingerprints(columns: &[&ArrayRef], rows: usize) -> Result<Vec<Option<u64>>, ArrowError> {
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
                None => write_value(&mut scratch, formatter, row)?,
            }
            // The length keeps ("ab", "c") apart from ("a", "bc").
            let len = (scratch.len() - start) as u32;
            scratch.extend_from_slice(&len.to_le_bytes());
        }
        prints.push(Some(fingerprint(&scratch)));
    }
    Ok(prints)
}

fn write_value(to: &mut Vec<u8>, formatter: &ArrayFormatter, row: usize) -> Result<(), ArrowError> {
    use std::io::Write;
    write!(to, "{}", formatter.value(row)).map_err(|e| ArrowError::ExternalError(Box::new(e)))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::Arc;

    use arrow::array::{Int64Array, StringArray};

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

    #[test]
    fn agrees_with_a_plain_set_across_splits() {
        // Partitions cut at 2 keys on average: 600,000 keys cut them three
        // times. Each key is offered twice, interleaved with new ones; then
        // every key again.
        let mut seen = SeenValues {
            split_len: 2,
            ..SeenValues::new(usize::MAX)
        };
        let mut plain = HashSet::new();
        for i in 0..600_000u64 {
            for key in [i, i / 2] {
                let print = fingerprint(&key.to_le_bytes());
                assert_eq!(
                    seen.seen_before(print),
                    Ok(!plain.insert(print)),
                    "key {key}"
                );
            }
        }
        assert_eq!(seen.len(), plain.len());
        assert_eq!(
            seen.partition_bits,
            PARTITION_BITS_MIN + 3,
            "cut three times"
        );
        for &print in &plain {
            assert_eq!(seen.seen_before(print), Ok(true));
        }
    }

    #[test]
    fn a_batch_of_keys_is_seen_as_one_by_one() {
        // Past SMALL_LEN_MAX, so the batch reads ahead in partitions; keys
        // of a counted form and others, repeated within a read-ahead chunk
        // and across chunks; nulls are never seen.
        let texts: Vec<Option<String>> = (0..5000u64)
            .map(|i| {
                (i % 7 != 0).then(|| match i % 2 {
                    0 => format!("ORD-{:08}", i % 3000),
                    _ => format!("key {} x", i % 3000),
                })
            })
            .collect();
        let column: ArrayRef = Arc::new(StringArray::from(texts.clone()));
        let mut one_by_one = SeenValues::new(usize::MAX);
        let expected: Vec<bool> = texts
            .iter()
            .map(|t| {
                t.as_ref()
                    .is_some_and(|t| one_by_one.seen_before_text(t.as_bytes()).unwrap())
            })
            .collect();
        let mut batch = SeenValues::new(usize::MAX);
        let keys = batch.row_keys(&[&column], texts.len()).unwrap();
        assert_eq!(batch.seen_before_all(keys), Ok(expected));
        assert_eq!(batch.len(), one_by_one.len());
        let mut full = SeenValues::new(10);
        let keys = full.row_keys(&[&column], texts.len()).unwrap();
        assert_eq!(full.seen_before_all(keys), Err(SeenValuesFull));
    }

    #[test]
    fn counted_and_fingerprinted_keys_agree_with_a_plain_set() {
        // Room for a few chunks only, so that some keys of a counted form
        // are fingerprinted; more forms than are counted; keys that differ
        // only in their zeros. Each key offered twice, then all again.
        let mut seen = SeenValues {
            counted: CountedKeys::new(3 * 8192 + 4096),
            ..SeenValues::new(usize::MAX)
        };
        let mut plain = HashSet::new();
        let key = |i: u64| match i % 5 {
            0 => format!("ORD-{:08}", i * 7919 % 100_000_000),
            1 => format!("{}", i * 104_729 % 1_000_000),
            2 => format!("P{}-{}", i % 11, i % 50),
            3 => format!("ORD-{:04}", i / 5 % 5000),
            _ => format!("ORD-{}", i / 5 % 5000),
        };
        for i in 0..40_000u64 {
            for text in [key(i), key(i / 2)] {
                assert_eq!(
                    seen.seen_before_text(text.as_bytes()),
                    Ok(!plain.insert(text.clone())),
                    "key {text}"
                );
            }
        }
        assert_eq!(seen.len(), plain.len());
        for text in &plain {
            assert_eq!(seen.seen_before_text(text.as_bytes()), Ok(true), "{text}");
        }
    }

    #[test]
    fn integer_keys_are_keyed_by_their_text_and_bounded() {
        let column: ArrayRef = Arc::new(Int64Array::from(vec![
            Some(4711),
            None,
            Some(-4711),
            Some(4711),
            Some(12_345_678_901),
            Some(12_345_678_901),
        ]));
        let mut seen = SeenValues::new(usize::MAX);
        let keys = seen.row_keys(&[&column], 6).unwrap();
        assert_eq!(
            seen.seen_before_all(keys),
            Ok(vec![false, false, false, true, false, true])
        );
        assert_eq!(seen.len(), 3);
        assert_eq!(seen.seen_before_text(b"4711"), Ok(true));
        let mut full = SeenValues::new(1);
        assert_eq!(full.seen_before_text(b"ORD-1"), Ok(false));
        assert_eq!(full.seen_before_text(b"ORD-1"), Ok(true));
        assert_eq!(full.seen_before_text(b"ORD-2"), Err(SeenValuesFull));
        assert_eq!(full.seen_before_text(b"other"), Err(SeenValuesFull));
    }

    #[test]
    fn lookups_agree_with_bisection_however_the_keys_are_spread() {
        // Evenly spread keys, keys crowded at either end of the range (the
        // estimate is far off, so the walk gives up and bisects), and
        // a run of neighbours; every key present and absent.
        let free_bits = 48;
        let even: Vec<u64> = (0..1000u64).map(|i| i * (1 << 38) + 7).collect();
        let low: Vec<u64> = (0..1000u64).map(|i| i * 3).collect();
        let high: Vec<u64> = (0..1000u64).map(|i| STORED_MASK - 3000 + i * 3).collect();
        let neighbours: Vec<u64> = (0..40u64).map(|i| (1 << 47) + i).collect();
        for keys in [even, low, high, neighbours, Vec::new()] {
            let sorted: Vec<Stored> = keys.iter().map(|&k| store(k)).collect();
            let probes = keys
                .iter()
                .flat_map(|&k| [k, k + 1, k.saturating_sub(1)])
                .chain([0, STORED_MASK, 1 << 47]);
            for probe in probes {
                let expected = sorted.binary_search_by_key(&probe, stored_value);
                assert_eq!(
                    position_in(&sorted, probe, free_bits),
                    expected,
                    "probe {probe}"
                );
            }
        }
    }

    #[test]
    fn fingerprints_that_differ_in_any_one_bit_are_told_apart() {
        // Small, then partitioned (past `SMALL_LEN_MAX` other keys).
        for others in [0, SMALL_LEN_MAX as u64 + 1] {
            let mut seen = SeenValues::new(usize::MAX);
            for other in 0..others {
                assert_eq!(
                    seen.seen_before(fingerprint(&other.to_le_bytes())),
                    Ok(false)
                );
            }
            assert_eq!(seen.partitions.is_empty(), others == 0);
            let base = fingerprint(b"order-1");
            assert_eq!(seen.seen_before(base), Ok(false));
            for bit in 0..64 {
                assert_eq!(seen.seen_before(base ^ (1 << bit)), Ok(false), "bit {bit}");
            }
            assert_eq!(seen.seen_before(base), Ok(true));
            assert_eq!(seen.len() as u64, others + 65);
        }
    }
}
