//! Word n-gram counting shared by BLEU and CIDEr-D: words are interned to `u32` ids per corpus and an
//! n-gram (n ≤ 4) is packed into one `u128` key.

use cxr_core::hash::FxHashMap;

/// Interns words to dense ids.
#[derive(Debug, Default)]
pub struct Vocab<'a> {
    ids: FxHashMap<&'a str, u32>,
}

impl<'a> Vocab<'a> {
    pub fn id(&mut self, w: &'a str) -> u32 {
        let next = self.ids.len() as u32;
        *self.ids.entry(w).or_insert(next)
    }

    pub fn ids(&mut self, words: impl IntoIterator<Item = &'a str>) -> Vec<u32> {
        words.into_iter().map(|w| self.id(w)).collect()
    }
}

/// Packs up to four word ids into one key (the order `n` is kept separately by callers).
#[inline]
pub fn key(ids: &[u32]) -> u128 {
    ids.iter().fold(0u128, |k, &i| (k << 32) | u128::from(i))
}

/// The n-grams of orders `1..=max_n` with their counts, in order of first occurrence (order by order), as
/// Python's dict insertion order would give them.
#[derive(Debug, Clone, Default)]
pub struct NgramCounts {
    /// Per order (index n−1): (key, count) in first-occurrence order.
    pub by_order: Vec<Vec<(u128, u32)>>,
    index: Vec<FxHashMap<u128, usize>>,
}

impl NgramCounts {
    pub fn new(ids: &[u32], max_n: usize) -> Self {
        let mut by_order = Vec::with_capacity(max_n);
        let mut index = Vec::with_capacity(max_n);
        for n in 1..=max_n {
            let mut list: Vec<(u128, u32)> = Vec::new();
            let mut idx: FxHashMap<u128, usize> = FxHashMap::default();
            if ids.len() >= n {
                for w in ids.windows(n) {
                    let k = key(w);
                    match idx.get(&k) {
                        Some(&i) => list[i].1 += 1,
                        None => {
                            idx.insert(k, list.len());
                            list.push((k, 1));
                        }
                    }
                }
            }
            by_order.push(list);
            index.push(idx);
        }
        NgramCounts { by_order, index }
    }

    /// The count of `key` at order `n` (1-based), 0 when absent.
    #[inline]
    pub fn get(&self, n: usize, key: u128) -> u32 {
        self.index[n - 1].get(&key).map_or(0, |&i| self.by_order[n - 1][i].1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_in_first_occurrence_order() {
        let mut v = Vocab::default();
        let ids = v.ids("a b a b c".split(' '));
        let c = NgramCounts::new(&ids, 2);
        assert_eq!(c.by_order[0].iter().map(|x| x.1).collect::<Vec<_>>(), [2, 2, 1]);
        assert_eq!(c.get(2, key(&[ids[0], ids[1]])), 2);
        assert_eq!(c.get(2, key(&[ids[1], ids[0]])), 1);
        assert_eq!(c.get(2, key(&[ids[4], ids[0]])), 0);
        assert!(NgramCounts::new(&ids[..1], 4).by_order[1].is_empty());
    }
}
