//! A fast, non-cryptographic hasher for short keys (words, n-grams) built from our own data.
//!
//! FxHash, as used inside rustc: several times faster than the standard SipHash on short keys. Not
//! resistant to hash flooding, so use it only where keys are not chosen by an adversary (rule words,
//! n-grams of reports being scored).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// The FxHash hasher.
#[derive(Debug, Default, Clone, Copy)]
pub struct FxHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut buf = [0u8; 8];
            buf[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(buf));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_u128(&mut self, i: u128) {
        self.add(i as u64);
        self.add((i >> 64) as u64);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    /// The state rotated (as rustc-hash 2 does): hash tables take their bucket from the *low* bits, which
    /// after the last multiply depend only on the input's low bits — keys packed as `(prefix << 32) | word`
    /// would otherwise share buckets by their last word. The rotation brings the well-mixed high bits down.
    #[inline]
    fn finish(&self) -> u64 {
        self.0.rotate_left(26)
    }
}

/// `BuildHasher` for [`FxHasher`].
pub type FxBuildHasher = BuildHasherDefault<FxHasher>;

/// A `HashMap` with [`FxHasher`].
pub type FxHashMap<K, V> = HashMap<K, V, FxBuildHasher>;

/// A `HashSet` with [`FxHasher`].
pub type FxHashSet<K> = std::collections::HashSet<K, FxBuildHasher>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_works_and_hash_is_deterministic() {
        let mut m: FxHashMap<&str, u32> = FxHashMap::default();
        m.insert("effusion", 1);
        m.insert("effusions", 2);
        assert_eq!(m["effusion"], 1);
        let h = |s: &str| {
            let mut x = FxHasher::default();
            x.write(s.as_bytes());
            x.finish()
        };
        assert_eq!(h("abc"), h("abc"));
        assert_ne!(h("abc"), h("abd"));
        assert_ne!(h("abcdefgh1"), h("abcdefgh2"));
    }

    #[test]
    fn keys_differing_only_in_high_bits_spread_over_low_bits() {
        // Packed keys with the same low word must not all land in one bucket of a small table.
        let bucket = |k: u64| {
            let mut x = FxHasher::default();
            x.write_u64(k);
            x.finish() & 1023
        };
        let buckets: std::collections::HashSet<u64> = (1..=256u64).map(|p| bucket((p << 32) | 7)).collect();
        assert!(buckets.len() > 200, "{} distinct buckets of 256 keys", buckets.len());
    }
}
