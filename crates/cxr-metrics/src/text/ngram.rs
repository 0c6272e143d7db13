//! N-gram counting for BLEU, sacrebleu, chrF, ROUGE-L and CIDEr-D, without allocation once warm.
//!
//! Scoring one pair is a few microseconds of work, so bookkeeping dominates unless it is kept small:
//! * [`PairWords`] gives each token of a pair an exact id (strings are compared, not just hashed): 1 + the
//!   index of its first occurrence among the pair's tokens. Ids are non-zero and need no vocabulary shared
//!   across pairs, so pairs can be scored independently and in parallel.
//! * An n-gram of up to four word ids packs into one `u128` key ([`word_key`]; up to six 21-bit characters
//!   with [`char_key`]). Because ids are non-zero, keys of different orders never collide.
//! * [`GramTable`] is a small open-addressing multiset of keys, cleared in O(1) between texts by bumping an
//!   epoch, so it stays in L1 cache.
//! * [`WordIds`] and [`KeyIds`] intern words and packed keys to dense ids for a whole corpus (CIDEr-D's
//!   document frequencies).
//!
//! [`with_scratch`] lends each thread one set of the per-pair buffers.

use std::cell::RefCell;

const MUL: u64 = 0x9E37_79B9_7F4A_7C15;

/// A hash of a short byte string (FxHash-style, 8 bytes at a time); the *high* bits are the good ones.
#[inline]
fn str_hash(s: &[u8]) -> u64 {
    let mut h = s.len() as u64;
    let mut chunks = s.chunks_exact(8);
    for c in &mut chunks {
        h = (h.rotate_left(5) ^ u64::from_le_bytes(c.try_into().expect("8 bytes"))).wrapping_mul(MUL);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut buf = [0u8; 8];
        buf[..rest.len()].copy_from_slice(rest);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(buf)).wrapping_mul(MUL);
    }
    h
}

/// The smallest power-of-two table size keeping the load at most ½.
fn table_size(items: usize) -> usize {
    (items * 2).next_power_of_two().max(64)
}

/// Exact word ids local to one text pair (see the module docs).
#[derive(Debug, Default)]
pub struct PairWords {
    stamps: Vec<u32>,
    first: Vec<u32>,
    epoch: u32,
    shift: u32,
}

impl PairWords {
    /// Ids of `tokens` (all the pair's texts, concatenated), written to `out`.
    pub fn ids(&mut self, tokens: &[&str], out: &mut Vec<u32>) {
        let size = table_size(tokens.len());
        if self.stamps.len() < size {
            self.stamps = vec![0; size];
            self.first = vec![0; size];
            self.epoch = 0;
        }
        self.shift = 64 - self.stamps.len().trailing_zeros();
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.stamps.fill(0);
            self.epoch = 1;
        }
        let mask = self.stamps.len() - 1;
        out.clear();
        for (i, t) in tokens.iter().enumerate() {
            let mut s = (str_hash(t.as_bytes()) >> self.shift) as usize;
            let id = loop {
                if self.stamps[s] != self.epoch {
                    self.stamps[s] = self.epoch;
                    self.first[s] = i as u32;
                    break i as u32 + 1;
                }
                let f = self.first[s];
                if tokens[f as usize] == *t {
                    break f + 1;
                }
                s = (s + 1) & mask;
            };
            out.push(id);
        }
    }
}

/// Packs up to four non-zero word ids into one key; keys of different orders differ.
#[inline]
pub fn word_key(ids: &[u32]) -> u128 {
    ids.iter().fold(0u128, |k, &i| (k << 32) | u128::from(i))
}

/// Packs up to six characters (21 bits each) into one key (callers count one order at a time).
#[inline]
pub fn char_key(chars: &[char]) -> u128 {
    chars.iter().fold(0u128, |k, &c| (k << 21) | u128::from(u32::from(c)))
}

/// A multiset of n-gram keys (open addressing, linear probing, O(1) clearing).
#[derive(Debug, Default)]
pub struct GramTable {
    keys: Vec<u128>,
    counts: Vec<u32>,
    stamps: Vec<u32>,
    live: Vec<u32>,
    epoch: u32,
    shift: u32,
}

impl GramTable {
    /// Empties the table, sized for up to `items` distinct keys.
    pub fn reset(&mut self, items: usize) {
        let size = table_size(items);
        if self.keys.len() < size {
            self.keys = vec![0; size];
            self.counts = vec![0; size];
            self.stamps = vec![0; size];
            self.epoch = 0;
        }
        self.shift = 64 - self.keys.len().trailing_zeros();
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.stamps.fill(0);
            self.epoch = 1;
        }
        self.live.clear();
    }

    /// The slot of `key`, and whether it is present.
    #[inline]
    fn find(&self, key: u128) -> (usize, bool) {
        let x = (key as u64) ^ ((key >> 64) as u64).rotate_left(29);
        let mask = self.keys.len() - 1;
        let mut s = (x.wrapping_mul(MUL) >> self.shift) as usize;
        loop {
            if self.stamps[s] != self.epoch {
                return (s, false);
            }
            if self.keys[s] == key {
                return (s, true);
            }
            s = (s + 1) & mask;
        }
    }

    #[inline]
    fn insert_at(&mut self, s: usize, key: u128, count: u32) {
        self.stamps[s] = self.epoch;
        self.keys[s] = key;
        self.counts[s] = count;
        self.live.push(s as u32);
    }

    /// Adds one occurrence of `key`.
    #[inline]
    pub fn add(&mut self, key: u128) {
        match self.find(key) {
            (s, true) => self.counts[s] += 1,
            (s, false) => self.insert_at(s, key, 1),
        }
    }

    /// Raises the count of `key` to at least `count`.
    #[inline]
    pub fn raise_to(&mut self, key: u128, count: u32) {
        match self.find(key) {
            (s, true) => self.counts[s] = self.counts[s].max(count),
            (s, false) => self.insert_at(s, key, count),
        }
    }

    /// Removes one occurrence of `key` if there is one left; returns whether there was.
    #[inline]
    pub fn take(&mut self, key: u128) -> bool {
        match self.find(key) {
            (s, true) if self.counts[s] > 0 => {
                self.counts[s] -= 1;
                true
            }
            _ => false,
        }
    }

    /// The distinct keys and their counts, in insertion order.
    pub fn entries(&self) -> impl Iterator<Item = (u128, u32)> + '_ {
        self.live.iter().map(|&s| (self.keys[s as usize], self.counts[s as usize]))
    }
}

/// Calls `f(order − 1, key)` for every n-gram of orders 1..=`max_n` of `ids` (position-major).
#[inline]
pub fn for_each_gram(ids: &[u32], max_n: usize, mut f: impl FnMut(usize, u128)) {
    for i in 0..ids.len() {
        let mut k = 0u128;
        for (n, &id) in ids[i..ids.len().min(i + max_n)].iter().enumerate() {
            k = (k << 32) | u128::from(id);
            f(n, k);
        }
    }
}

/// Interns words to dense ids for a whole corpus (open addressing on the words' hashes; grows at load ½).
#[derive(Debug, Default)]
pub struct WordIds<'a> {
    /// Per slot: 1 + an index into `words`, 0 when empty.
    slots: Vec<u32>,
    /// Per word: the word, a tag of its hash (compared before the bytes), its id.
    words: Vec<(&'a str, u32, u32)>,
    shift: u32,
}

impl<'a> WordIds<'a> {
    /// The id of `w`, taking `*next` (and incrementing it) for a new word.
    #[inline]
    pub fn id(&mut self, w: &'a str, next: &mut u32) -> u32 {
        if self.words.len() * 2 >= self.slots.len() {
            self.grow();
        }
        let h = str_hash(w.as_bytes());
        let tag = h as u32;
        let mask = self.slots.len() - 1;
        let mut s = (h >> self.shift) as usize;
        loop {
            let e = self.slots[s];
            if e == 0 {
                self.words.push((w, tag, *next));
                self.slots[s] = self.words.len() as u32;
                *next += 1;
                return *next - 1;
            }
            let (word, t, id) = self.words[e as usize - 1];
            if t == tag && word == w {
                return id;
            }
            s = (s + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(1024);
        self.slots = vec![0; size];
        self.shift = 64 - size.trailing_zeros();
        let mask = size - 1;
        for (i, (w, _, _)) in self.words.iter().enumerate() {
            let mut s = (str_hash(w.as_bytes()) >> self.shift) as usize;
            while self.slots[s] != 0 {
                s = (s + 1) & mask;
            }
            self.slots[s] = i as u32 + 1;
        }
    }
}

/// Interns `u64` keys to dense ids (open addressing; grows at load ½).
#[derive(Debug, Default)]
pub struct KeyIds {
    /// Per slot: `(key, id)`; id `u32::MAX` when empty.
    slots: Vec<(u64, u32)>,
    len: usize,
    shift: u32,
}

impl KeyIds {
    /// The id of `key`, taking `*next` (and incrementing it) for a new key.
    #[inline]
    pub fn id(&mut self, key: u64, next: &mut u32) -> u32 {
        if self.len * 2 >= self.slots.len() {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut s = (key.wrapping_mul(MUL) >> self.shift) as usize;
        loop {
            let (k, id) = self.slots[s];
            if id == u32::MAX {
                self.slots[s] = (key, *next);
                self.len += 1;
                *next += 1;
                return *next - 1;
            }
            if k == key {
                return id;
            }
            s = (s + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(1024);
        let old = std::mem::replace(&mut self.slots, vec![(0, u32::MAX); size]);
        self.shift = 64 - size.trailing_zeros();
        let mask = size - 1;
        for (k, id) in old.into_iter().filter(|e| e.1 != u32::MAX) {
            let mut s = (k.wrapping_mul(MUL) >> self.shift) as usize;
            while self.slots[s].1 != u32::MAX {
                s = (s + 1) & mask;
            }
            self.slots[s] = (k, id);
        }
    }
}

/// Per-thread buffers for scoring one pair.
#[derive(Debug, Default)]
pub struct Scratch {
    pub words: PairWords,
    pub ids: Vec<u32>,
    pub table: GramTable,
    pub other: GramTable,
    pub bits: Vec<u64>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::default();
}

/// Runs `f` with this thread's scratch buffers. `f` must not call `with_scratch` itself.
pub fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    SCRATCH.with(|s| f(&mut s.borrow_mut()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_ids_are_exact_and_nonzero() {
        let mut w = PairWords::default();
        let mut out = Vec::new();
        let toks = ["a", "b", "a", "", "b", "abcdefghij", "abcdefghik"];
        w.ids(&toks, &mut out);
        assert_eq!(out, [1, 2, 1, 4, 2, 6, 7]);
        // A second use starts afresh.
        w.ids(&["b", "b"], &mut out);
        assert_eq!(out, [1, 1]);
        // Many tokens grow the table.
        let many: Vec<String> = (0..1000).map(|i| format!("w{}", i % 300)).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        w.ids(&many, &mut out);
        assert_eq!(out[299], 300);
        assert_eq!(out[300], 1);
        assert_eq!(out[999], 100);
    }

    #[test]
    fn gram_table_counts_clips_and_merges() {
        let mut t = GramTable::default();
        t.reset(8);
        for k in [word_key(&[1]), word_key(&[1]), word_key(&[1, 2])] {
            t.add(k);
        }
        assert!(t.take(word_key(&[1])) && t.take(word_key(&[1])));
        assert!(!t.take(word_key(&[1])), "clipped at the reference count");
        assert!(!t.take(word_key(&[2])));
        t.raise_to(word_key(&[1, 2]), 3);
        t.raise_to(word_key(&[1, 2]), 2);
        assert_eq!(t.entries().collect::<Vec<_>>(), [(word_key(&[1]), 0), (word_key(&[1, 2]), 3)]);
        t.reset(8);
        assert_eq!(t.entries().count(), 0);
        assert!(!t.take(word_key(&[1])));
        // Orders never collide: a bigram of ids (0-free) differs from every unigram.
        assert_ne!(word_key(&[1, 2]), word_key(&[2]));
        assert_ne!(char_key(&['a', 'b']), char_key(&['b', 'a']));
    }

    #[test]
    fn corpus_ids() {
        let (mut words, mut keys, mut next) = (WordIds::default(), KeyIds::default(), 0);
        let texts: Vec<String> = (0..5000).map(|i| format!("w{}", i % 1700)).collect();
        let ids: Vec<u32> = texts.iter().map(|t| words.id(t, &mut next)).collect();
        assert_eq!(next, 1700);
        assert_eq!(ids[1700], 0);
        assert_eq!(ids[4999], 4999 % 1700);
        let k: Vec<u32> = (0..5000u64).map(|i| keys.id((i % 2100) << 32 | 7, &mut next)).collect();
        assert_eq!(next, 1700 + 2100);
        assert_eq!(k[0], 1700);
        assert_eq!(k[2100], 1700);
        assert_eq!(k[4999], 1700 + 4999 % 2100);
    }

    #[test]
    fn grams_by_position() {
        let mut seen = Vec::new();
        for_each_gram(&[1, 2, 3], 2, |n, k| seen.push((n, k)));
        assert_eq!(seen, [(0, 1), (1, word_key(&[1, 2])), (0, 2), (1, word_key(&[2, 3])), (0, 3)]);
    }
}
