//! [`Verified`]: the signed cookie values that verified recently, so that a returning
//! visitor's next requests compare bytes instead of computing an HMAC.
//!
//! A value enters only once its HMAC verified, and a lookup answers only for the very same
//! bytes, compared in constant time: HMAC is deterministic, so a hit is exactly as sound as
//! verifying again. Where a value lands is decided by a hash with a random seed (foldhash:
//! no client sees a hash, and aiming at a set would only cost its owner an HMAC), and the
//! bytes are compared whole whenever the hash matches, so timing tells a client nothing but
//! whether its own, already valid, value was seen. Cookies nobody sends back (a new visitor's, a bot's) never enter:
//! values enter on verification, not on signing.
//!
//! The table is fixed: [`SETS`] sets of [`WAYS`] values of at most [`MAX_LEN`] bytes, about
//! 200 KiB, allocated on the first verified cookie; longer values (long custom ids) are
//! verified every time. A full set replaces its values in turn.

use std::{
    hash::BuildHasher,
    sync::{Mutex, MutexGuard, OnceLock, PoisonError},
};

use zeroize::Zeroize;

/// Sets in the table (a power of two).
const SETS: usize = 1024;
/// Values per set.
const WAYS: usize = 2;
/// The longest value kept: `s:`, a default 32-character id, `.` and a 43-character MAC make 78.
const MAX_LEN: usize = 80;

/// Recently verified signed values, with the index of the secret each verified with.
pub(super) struct Verified {
    hasher: foldhash::fast::RandomState,
    sets: OnceLock<Box<[Mutex<Set>]>>,
}

#[derive(Default)]
struct Set {
    ways: [Way; WAYS],
    /// The way the next new value replaces.
    next: usize,
}

/// One value; `len` 0 is an empty way (no signed value is empty).
#[derive(Clone, Copy)]
struct Way {
    /// The value's hash: ways whose tag differs are not compared.
    tag: u64,
    len: u8,
    key_index: u8,
    bytes: [u8; MAX_LEN],
}

impl Default for Way {
    fn default() -> Self {
        Self {
            tag: 0,
            len: 0,
            key_index: 0,
            bytes: [0; MAX_LEN],
        }
    }
}

impl Way {
    fn holds(&self, tag: u64, value: &[u8]) -> bool {
        self.tag == tag
            && usize::from(self.len) == value.len()
            && same_bytes(&self.bytes[..value.len()], value)
    }
}

/// Whether two slices of the same length are equal, in time that depends on their length
/// only: every word is compared, the differences folded together, and the fold hidden from
/// the optimiser before it is tested (eight bytes at a time, where `subtle` takes one).
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    // Whole words are read as such (`chunks_exact` gives exactly 8 bytes), the tail bytewise.
    let word = |chunk: &[u8]| u64::from_ne_bytes(chunk.try_into().unwrap_or_default());
    let (a_words, b_words) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail = a_words
        .remainder()
        .iter()
        .zip(b_words.remainder())
        .fold(0, |difference, (a, b)| difference | u64::from(a ^ b));
    let difference = a_words
        .zip(b_words)
        .fold(tail, |difference, (a, b)| difference | (word(a) ^ word(b)));
    std::hint::black_box(difference) == 0
}

impl Verified {
    pub(super) fn new() -> Self {
        Self {
            hasher: foldhash::fast::RandomState::default(),
            sets: OnceLock::new(),
        }
    }

    /// The index of the secret `value` verified with, when it verified recently.
    pub(super) fn get(&self, value: &str) -> Option<usize> {
        let value = cacheable(value)?;
        let sets = self.sets.get()?;
        let (set, tag) = self.place(value);
        let set = lock(&sets[set]);
        let way = set.ways.iter().find(|way| way.holds(tag, value))?;
        Some(usize::from(way.key_index))
    }

    /// Notes that `value` verified with secret `key_index`.
    pub(super) fn insert(&self, value: &str, key_index: usize) {
        let (Some(value), Ok(key_index)) = (cacheable(value), u8::try_from(key_index)) else {
            return;
        };
        let sets = self
            .sets
            .get_or_init(|| (0..SETS).map(|_| Mutex::default()).collect());
        let (set, tag) = self.place(value);
        let mut set = lock(&sets[set]);
        if set.ways.iter().any(|way| way.holds(tag, value)) {
            return;
        }
        let mut way = Way {
            tag,
            // At most `MAX_LEN`, checked by `cacheable`.
            len: value.len() as u8,
            key_index,
            bytes: [0; MAX_LEN],
        };
        way.bytes[..value.len()].copy_from_slice(value);
        let next = set.next;
        set.ways[next] = way;
        set.next = (next + 1) % WAYS;
    }

    /// The set `value` belongs to, and its tag.
    fn place(&self, value: &[u8]) -> (usize, u64) {
        let hash = self.hasher.hash_one(value);
        // The low bits pick the set (`SETS` is a power of two).
        (hash as usize & (SETS - 1), hash)
    }
}

/// The values are as secret as the session ids they carry: overwritten when the table goes.
impl Drop for Verified {
    fn drop(&mut self) {
        for set in self
            .sets
            .get_mut()
            .into_iter()
            .flat_map(|sets| sets.iter_mut())
        {
            let set = set.get_mut().unwrap_or_else(PoisonError::into_inner);
            for way in &mut set.ways {
                way.bytes.zeroize();
            }
        }
    }
}

/// `value` as the table keeps it, when it fits.
fn cacheable(value: &str) -> Option<&[u8]> {
    (!value.is_empty() && value.len() <= MAX_LEN).then_some(value.as_bytes())
}

fn lock(set: &Mutex<Set>) -> MutexGuard<'_, Set> {
    // Nothing panics while holding the lock; a poisoned set still holds whole values.
    set.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALUE: &str =
        "s:fQx3zKx4YlwQe9k1N7pPjXyZ0aBcDeFg.wfmGbZQ3tVt5oDfJZbSkdHW1RJUFVEMz7XO1Dl0+9Ro";

    #[test]
    fn answers_for_the_same_bytes_only() {
        let verified = Verified::new();
        assert_eq!(verified.get(VALUE), None, "nothing verified yet");
        verified.insert(VALUE, 1);
        assert_eq!(verified.get(VALUE), Some(1));
        let mut tampered = VALUE.as_bytes().to_vec();
        for at in [0, 40, VALUE.len() - 1] {
            tampered[at] ^= 1;
            let text = String::from_utf8(tampered.clone()).unwrap();
            assert_eq!(verified.get(&text), None, "one byte changed at {at}");
            tampered[at] ^= 1;
        }
        assert_eq!(verified.get(&VALUE[..VALUE.len() - 1]), None, "a prefix");
        assert_eq!(verified.get(&format!("{VALUE}x")), None, "a longer value");
    }

    #[test]
    fn keeps_no_value_longer_than_its_ways() {
        let verified = Verified::new();
        let long = format!("s:{}.{}", "a".repeat(60), "b".repeat(43));
        verified.insert(&long, 0);
        assert_eq!(verified.get(&long), None);
    }

    #[test]
    fn a_full_set_replaces_its_values_in_turn() {
        let verified = Verified::new();
        // Values that land in the same set, found by trying.
        let set_of = |value: &str| verified.place(value.as_bytes()).0;
        let first = "s:0.mac";
        let same: Vec<String> = (1..)
            .map(|n| format!("s:{n}.mac"))
            .filter(|value| set_of(value) == set_of(first))
            .take(WAYS)
            .collect();
        verified.insert(first, 0);
        for value in &same {
            verified.insert(value, 0);
        }
        assert_eq!(verified.get(first), None, "the oldest went first");
        assert!(same.iter().all(|value| verified.get(value) == Some(0)));
    }
}
