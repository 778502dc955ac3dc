//! Exact memory of keys that are a short text followed by a number, the
//! shape of most identifiers: `ORD-00012345`, `INV-7`, `4711`.
//!
//! A key `<prefix><digits>`, with 1 to `DIGITS_MAX` digits after a prefix
//! of at most `PREFIX_LEN_MAX` bytes that does not end in a digit, has the
//! form (prefix, number of digits). Prefix, digit count and number give
//! back the key's text, so one bit of the form's bitmap of 10^digits bits
//! stands for the key: no fingerprint, no collision, one probe. The bitmap
//! is allocated in chunks of 65,536 bits (8 KiB) as keys reach them,
//! within `bytes_max` for the whole set, for at most `FORMS_MAX` forms.
//!
//! A key whose form or chunk cannot be had is not counted, and the caller
//! keeps it as a fingerprint. Whether a key is counted never changes in a
//! run: forms and chunks are only ever added, and only while there is
//! room, so a key refused once is refused every time.

/// At most this many digits end a counted key: a form's bitmap has
/// 10^digits bits, 125 MB at 9 digits if every chunk were reached.
const DIGITS_MAX: usize = 9;

/// A longer prefix is rarely an identifier's.
const PREFIX_LEN_MAX: usize = 16;

/// Distinct (prefix, digit count) forms per set; keys of other forms are
/// fingerprinted.
const FORMS_MAX: usize = 8;

/// A chunk covers 2^CHUNK_BITS numbers, one bit each.
const CHUNK_BITS: u32 = 16;
const CHUNK_WORDS: usize = (1 << CHUNK_BITS) / 64;
const CHUNK_BYTES: usize = CHUNK_WORDS * 8;

/// The default bound on a set's bitmaps and chunk tables: room for every
/// chunk of an 8-digit form (12.5 MB).
pub const COUNTED_BYTES_MAX: usize = 16 << 20;

/// The place of one counted key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountedBit {
    chunk: u32,
    bit: u16,
}

#[derive(Debug)]
pub struct CountedKeys {
    forms: Vec<Form>,
    /// Every form's chunks; a form's table holds their positions.
    chunks: Vec<Box<[u64]>>,
    bytes: usize,
    bytes_max: usize,
    /// The form the last key had: keys of one column mostly share one.
    last_form: usize,
}

#[derive(Debug)]
struct Form {
    prefix: Box<[u8]>,
    digits: usize,
    /// For each chunk of the form's numbers, 1 + its position in
    /// `CountedKeys::chunks`, or 0 while no key has reached it.
    chunk_of: Vec<u32>,
}

impl CountedKeys {
    pub fn new(bytes_max: usize) -> Self {
        Self {
            forms: Vec::new(),
            chunks: Vec::new(),
            bytes: 0,
            bytes_max,
            last_form: 0,
        }
    }

    /// The bit that stands for `key`, its form and chunk made if there is
    /// room; `None` when the key has no counted form or there is no room.
    pub fn bit_of(&mut self, key: &[u8]) -> Option<CountedBit> {
        let (prefix, digits, number) = split_key(key)?;
        let form = self.form_of(prefix, digits)?;
        let slot = (number >> CHUNK_BITS) as usize;
        let chunk = match self.forms[form].chunk_of[slot] {
            0 => self.add_chunk(form, slot)?,
            taken => taken - 1,
        };
        Some(CountedBit {
            chunk,
            bit: (number & ((1 << CHUNK_BITS) - 1)) as u16,
        })
    }

    pub fn is_set(&self, place: CountedBit) -> bool {
        let (word, mask) = word_and_mask(place);
        self.chunks[place.chunk as usize][word] & mask != 0
    }

    pub fn set(&mut self, place: CountedBit) {
        let (word, mask) = word_and_mask(place);
        self.chunks[place.chunk as usize][word] |= mask;
    }

    /// The word that holds `place`, read only to bring it into the cache.
    pub fn word(&self, place: CountedBit) -> u64 {
        self.chunks[place.chunk as usize][word_and_mask(place).0]
    }

    fn form_of(&mut self, prefix: &[u8], digits: usize) -> Option<usize> {
        let same = |form: &Form| form.digits == digits && *form.prefix == *prefix;
        if self.forms.get(self.last_form).is_some_and(same) {
            return Some(self.last_form);
        }
        let form = match self.forms.iter().position(same) {
            Some(found) => found,
            None => self.add_form(prefix, digits)?,
        };
        self.last_form = form;
        Some(form)
    }

    fn add_form(&mut self, prefix: &[u8], digits: usize) -> Option<usize> {
        let numbers = 10u64.pow(digits as u32);
        let slots = numbers.div_ceil(1 << CHUNK_BITS) as usize;
        let table_bytes = slots * size_of::<u32>();
        if self.forms.len() == FORMS_MAX || self.bytes + table_bytes > self.bytes_max {
            return None;
        }
        self.bytes += table_bytes;
        self.forms.push(Form {
            prefix: prefix.into(),
            digits,
            chunk_of: vec![0; slots],
        });
        Some(self.forms.len() - 1)
    }

    fn add_chunk(&mut self, form: usize, slot: usize) -> Option<u32> {
        if self.bytes + CHUNK_BYTES > self.bytes_max {
            return None;
        }
        self.bytes += CHUNK_BYTES;
        let chunk = self.chunks.len() as u32;
        self.chunks.push(vec![0; CHUNK_WORDS].into_boxed_slice());
        self.forms[form].chunk_of[slot] = chunk + 1;
        Some(chunk)
    }
}

fn word_and_mask(place: CountedBit) -> (usize, u64) {
    (usize::from(place.bit / 64), 1 << (place.bit % 64))
}

/// `key` as (prefix, digit count, number) when it has a counted form.
fn split_key(key: &[u8]) -> Option<(&[u8], usize, u32)> {
    let digits = key
        .iter()
        .rev()
        .take(DIGITS_MAX + 1)
        .take_while(|b| b.is_ascii_digit())
        .count();
    if digits == 0 || digits > DIGITS_MAX || key.len() - digits > PREFIX_LEN_MAX {
        return None;
    }
    let (prefix, tail) = key.split_at(key.len() - digits);
    let number = tail
        .iter()
        .fold(0u32, |number, digit| number * 10 + u32::from(digit - b'0'));
    Some((prefix, digits, number))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_with_a_short_prefix_and_up_to_nine_digits_are_counted() {
        assert_eq!(split_key(b"ORD-00012345"), Some((&b"ORD-"[..], 8, 12345)));
        assert_eq!(split_key(b"4711"), Some((&b""[..], 4, 4711)));
        assert_eq!(split_key(b"999999999"), Some((&b""[..], 9, 999_999_999)));
        assert_eq!(split_key(b"a-1"), Some((&b"a-"[..], 1, 1)));
        for refused in [
            &b""[..],
            b"ORD-",
            b"1234567890",
            b"ORD-1234567890",
            b"a-very-long-prefix-1",
            b"12.50x",
        ] {
            assert_eq!(split_key(refused), None, "{refused:?}");
        }
    }

    #[test]
    fn a_key_is_told_from_the_same_number_with_other_zeros_or_prefix() {
        let mut counted = CountedKeys::new(COUNTED_BYTES_MAX);
        let keys: [&[u8]; 5] = [b"ORD-1", b"ORD-01", b"ord-1", b"1", b"ORD-65537"];
        let places: Vec<CountedBit> = keys.iter().map(|k| counted.bit_of(k).unwrap()).collect();
        for (i, a) in places.iter().enumerate() {
            for b in &places[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(counted.bit_of(b"ORD-01"), Some(places[1]));
    }

    #[test]
    fn forms_and_chunks_stop_at_their_bounds_and_refuse_the_same_keys_later() {
        // Room for one 5-digit form's table (2 slots, 8 bytes) and two chunks.
        let mut counted = CountedKeys::new(8 + 2 * CHUNK_BYTES);
        assert!(counted.bit_of(b"A00001").is_some());
        assert!(counted.bit_of(b"A70000").is_some(), "second chunk");
        assert_eq!(counted.bytes, 8 + 2 * CHUNK_BYTES);
        assert_eq!(counted.bit_of(b"B00001"), None, "no room for a form");
        assert!(counted.bit_of(b"A65535").is_some(), "first chunk again");

        let mut forms = CountedKeys::new(COUNTED_BYTES_MAX);
        for form in 0..FORMS_MAX {
            assert!(forms.bit_of(format!("{form}x1").as_bytes()).is_some());
        }
        assert_eq!(forms.bit_of(b"zz1"), None);
        assert_eq!(forms.bit_of(b"zz1"), None);
    }

    #[test]
    fn set_bits_are_read_back() {
        let mut counted = CountedKeys::new(COUNTED_BYTES_MAX);
        let one = counted.bit_of(b"K-65535").unwrap();
        let two = counted.bit_of(b"K-65536").unwrap();
        assert!(!counted.is_set(one));
        counted.set(one);
        assert!(counted.is_set(one));
        assert!(!counted.is_set(two));
        assert_eq!(counted.word(one), 1 << 63);
    }
}
