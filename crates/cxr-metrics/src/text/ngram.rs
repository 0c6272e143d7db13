//! N-gram counting by sorting, shared by BLEU, sacrebleu, chrF and CIDEr-D: words are interned to `u32`
//! ids per text pair (exact, no hashing of n-grams), an n-gram is packed into one `u128` key (four 32-bit
//! word ids, or six 21-bit characters), and counts come from sorting keys — no hash map per text.

use cxr_core::hash::FxHashMap;

/// Interns words to dense ids.
#[derive(Debug, Default)]
pub struct Vocab<'a> {
    ids: FxHashMap<&'a str, u32>,
}

impl<'a> Vocab<'a> {
    pub fn with_capacity(n: usize) -> Self {
        Vocab { ids: FxHashMap::with_capacity_and_hasher(n, Default::default()) }
    }

    pub fn id(&mut self, w: &'a str) -> u32 {
        let next = self.ids.len() as u32;
        *self.ids.entry(w).or_insert(next)
    }

    pub fn ids(&mut self, words: impl IntoIterator<Item = &'a str>) -> Vec<u32> {
        words.into_iter().map(|w| self.id(w)).collect()
    }
}

/// Per order (index n−1), the sorted `(n-gram key, count)` runs of one text.
pub type Runs = Vec<Vec<(u128, u32)>>;

/// Packs up to four word ids into one key (the order `n` is kept separately by callers).
#[inline]
pub fn key(ids: &[u32]) -> u128 {
    ids.iter().fold(0u128, |k, &i| (k << 32) | u128::from(i))
}

/// Packs up to six characters (21 bits each) into one key.
#[inline]
pub fn char_key(chars: &[char]) -> u128 {
    chars.iter().fold(0u128, |k, &c| (k << 21) | u128::from(u32::from(c)))
}

/// Sorted `(key, count)` runs of the keys in `keys` (which it sorts).
pub fn runs(keys: &mut [u128], out: &mut Vec<(u128, u32)>) {
    keys.sort_unstable();
    out.clear();
    let mut i = 0;
    while i < keys.len() {
        let k = keys[i];
        let len = keys[i..].partition_point(|&x| x == k);
        out.push((k, len as u32));
        i += len;
    }
}

/// `Σ_g min(a_g, b_g)` over two sorted run lists.
pub fn clipped_matches(a: &[(u128, u32)], b: &[(u128, u32)]) -> u64 {
    let (mut i, mut j, mut m) = (0, 0, 0u64);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                m += u64::from(a[i].1.min(b[j].1));
                i += 1;
                j += 1;
            }
        }
    }
    m
}

/// Sorted n-gram runs of orders `1..=max_n` of a word-id sequence.
pub fn word_runs(ids: &[u32], max_n: usize) -> Runs {
    let mut out = Vec::new();
    word_runs_into(ids, max_n, &mut Vec::new(), &mut out);
    out
}

/// As [`word_runs`], reusing `keys` and the vectors already in `out` (no allocation once warm).
pub fn word_runs_into(ids: &[u32], max_n: usize, keys: &mut Vec<u128>, out: &mut Runs) {
    out.resize_with(max_n, Vec::new);
    for n in 1..=max_n {
        keys.clear();
        if ids.len() >= n {
            keys.extend(ids.windows(n).map(key));
        }
        runs(keys, &mut out[n - 1]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_and_matches() {
        let mut v = Vocab::default();
        let a = v.ids("a b a b c".split(' '));
        let b = v.ids("a b x".split(' '));
        let ra = word_runs(&a, 2);
        let rb = word_runs(&b, 2);
        assert_eq!(ra[0].iter().map(|x| x.1).collect::<Vec<_>>(), [2, 2, 1]);
        assert_eq!(clipped_matches(&ra[0], &rb[0]), 2);
        assert_eq!(clipped_matches(&ra[1], &rb[1]), 1);
        assert!(word_runs(&a[..1], 4)[1].is_empty());
        assert_ne!(char_key(&['a', 'b']), char_key(&['b', 'a']));
    }
}
