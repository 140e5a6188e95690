//! Feature hashing for the linear models: deterministic 64-bit hashes of strings, computed as
//! the bytes stream in, so that a feature such as `w,n=said,that` is hashed without the string
//! ever being built.
//!
//! FNV-1a is used because hashing the pieces of a string one after another gives the hash of the
//! whole string: a model file may list its features as readable strings, and the hash of each
//! string, taken once at load time, is the key that the streamed hash finds at run time.

/// A streaming FNV-1a hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fnv(u64);

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

impl Default for Fnv {
    fn default() -> Self {
        Fnv(FNV_OFFSET)
    }
}

impl Fnv {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds bytes.
    #[inline]
    pub fn bytes(mut self, bytes: &[u8]) -> Self {
        for &byte in bytes {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(FNV_PRIME);
        }
        self
    }

    /// Adds a string.
    #[inline]
    pub fn str(self, text: &str) -> Self {
        self.bytes(text.as_bytes())
    }

    /// Adds a string lower-cased, as `str::to_lowercase` would write it (but for the final
    /// Greek sigma, which `to_lowercase` writes by context), without building it.
    #[inline]
    pub fn lower(self, text: &str) -> Self {
        if text.is_ascii() {
            let mut hash = self;
            for &byte in text.as_bytes() {
                hash = hash.byte(byte.to_ascii_lowercase());
            }
            return hash;
        }
        let mut hash = self;
        let mut buffer = [0u8; 4];
        for ch in text.chars().flat_map(char::to_lowercase) {
            hash = hash.bytes(ch.encode_utf8(&mut buffer).as_bytes());
        }
        hash
    }

    #[inline]
    pub fn byte(mut self, byte: u8) -> Self {
        self.0 ^= u64::from(byte);
        self.0 = self.0.wrapping_mul(FNV_PRIME);
        self
    }

    pub fn finish(self) -> u64 {
        self.0
    }
}

/// [`Fnv`] as a std [`Hasher`](std::hash::Hasher), for maps and sets of fixed short keys.
#[derive(Debug, Clone, Copy, Default)]
pub struct FnvHasher(Fnv);

impl std::hash::Hasher for FnvHasher {
    fn finish(&self) -> u64 {
        self.0.finish()
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0 = self.0.bytes(bytes);
    }
}

/// Builds [`FnvHasher`]s.
pub type FnvState = std::hash::BuildHasherDefault<FnvHasher>;

/// The hash of a whole string; equal to streaming its pieces.
pub fn hash_str(text: &str) -> u64 {
    Fnv::new().str(text).finish()
}

/// Combines a feature template's id with a value's hash into one well-mixed 64-bit key
/// (a multiply and two xor-shifts, as in SplitMix64), so that the same value under two
/// templates lands in unrelated slots of a hashed weight table.
#[inline]
pub fn mix(template: u64, value: u64) -> u64 {
    let mut x = value ^ template.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Values by 64-bit key (a feature's hash) in one flat open-addressed table, for the hottest
/// lookups: a lookup reads one slot, where the key and its value lie side by side, where a hash
/// map reads its control bytes first and then its bucket, two dependent cache misses; and a
/// caller can ask for a key's slot ahead of time ([`KeyTable::prefetch`]). Exact: a stored
/// key finds its value, any other key finds nothing.
#[derive(Debug, Clone, Default)]
pub struct KeyTable<V> {
    /// `None` marks an empty slot; at most half the slots are full, so probes stay short.
    slots: Vec<Option<(u64, V)>>,
    mask: usize,
}

impl<V: Copy> KeyTable<V> {
    /// The slot where a probe for `key` starts.
    #[inline]
    fn home(&self, key: u64) -> usize {
        (mix(0, key) as usize) & self.mask
    }

    /// The value of `key`, if it is stored.
    #[inline]
    pub fn get(&self, key: u64) -> Option<V> {
        if self.slots.is_empty() {
            return None;
        }
        let mut at = self.home(key);
        loop {
            match self.slots[at] {
                Some((stored, value)) if stored == key => return Some(value),
                Some(_) => at = (at + 1) & self.mask,
                None => return None,
            }
        }
    }

    /// Asks the CPU to bring the slot where `key`'s probe starts into its cache.
    #[inline]
    pub fn prefetch(&self, key: u64) {
        if let Some(slot) = self.slots.get(self.home(key)) {
            prefetch(slot);
        }
    }
}

impl<V: Copy> FromIterator<(u64, V)> for KeyTable<V> {
    /// Later values of a key replace earlier ones, as a map's would.
    fn from_iter<I: IntoIterator<Item = (u64, V)>>(entries: I) -> Self {
        let entries: Vec<(u64, V)> = entries.into_iter().collect();
        let size = (entries.len() * 2).max(2).next_power_of_two();
        let mut table = KeyTable {
            slots: vec![None; size],
            mask: size - 1,
        };
        for (key, value) in entries {
            let mut at = table.home(key);
            loop {
                match &mut table.slots[at] {
                    Some((stored, slot_value)) if *stored == key => {
                        *slot_value = value;
                        break;
                    }
                    Some(_) => at = (at + 1) & table.mask,
                    empty @ None => {
                        *empty = Some((key, value));
                        break;
                    }
                }
            }
        }
        table
    }
}

/// Asks the CPU to bring `value` into its cache; elsewhere than x86-64, nothing.
#[inline(always)]
pub fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint; it reads nothing and cannot fault.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(
            (value as *const T).cast::<i8>(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streaming_equals_hashing_the_whole_string() {
        let streamed = Fnv::new().str("w,n=").lower("Said").str(",").str("that");
        assert_eq!(streamed.finish(), hash_str("w,n=said,that"));
    }

    #[test]
    fn lower_case_hashing_matches_to_lowercase() {
        for word in ["SAID", "Ärger", "İstanbul", "naïve", "ΣΟΦΙΑ"] {
            let lowered = word.to_lowercase();
            if lowered.contains('ς') {
                continue;
            }
            assert_eq!(
                Fnv::new().lower(word).finish(),
                hash_str(&lowered),
                "{word}"
            );
        }
    }

    #[test]
    fn a_key_table_finds_exactly_the_keys_it_holds() {
        // Keys that share their home slot, zero, and the largest key.
        let keys: Vec<u64> = (0..1000u64)
            .map(|n| n.wrapping_mul(0x9e37_79b9_7f4a_7c15))
            .chain([0, u64::MAX])
            .collect();
        let table: KeyTable<u64> = keys.iter().map(|&key| (key, key ^ 7)).collect();
        for &key in &keys {
            assert_eq!(table.get(key), Some(key ^ 7));
        }
        for n in 0..1000u64 {
            let absent = n.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 1;
            assert_eq!(table.get(absent), None, "{absent}");
        }
        // A later value of a key replaces the earlier one.
        let replaced: KeyTable<u8> = [(5, 1), (5, 2)].into_iter().collect();
        assert_eq!(replaced.get(5), Some(2));
        assert_eq!(KeyTable::<u8>::default().get(5), None);
    }

    #[test]
    fn hashing_is_deterministic_and_templates_separate_values() {
        // The published FNV-1a test vectors: the hash does not depend on the platform or run.
        assert_eq!(hash_str(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(hash_str("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(hash_str("foobar"), 0x8594_4171_f739_67e8);
        assert_ne!(mix(1, hash_str("said")), mix(2, hash_str("said")));
        assert_eq!(mix(1, hash_str("said")), mix(1, hash_str("said")));
    }
}
