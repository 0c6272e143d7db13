//! N-gram counting for BLEU, sacrebleu, chrF, ROUGE-L and CIDEr-D, without allocation once warm.
//!
//! Scoring one pair is a few microseconds of work, so bookkeeping dominates unless it is kept small:
//! * [`PairWords`] gives each token of a pair an exact id (strings are compared, not just hashed): 1, 2, …
//!   in order of first occurrence among the pair's tokens. Ids are non-zero and need no vocabulary shared
//!   across pairs, so pairs can be scored independently and in parallel.
//! * An n-gram of up to four word ids packs into one key ([`GramKey`]: 16-bit ids in a `u64` when the pair
//!   has fewer than 65,536 distinct words, else 32-bit ids in a `u128`; up to six 21-bit characters with
//!   [`char_key`]). Because ids are non-zero, keys of different orders never collide.
//! * [`GramTable`] is a small open-addressing multiset of keys, cleared in O(1) between texts by bumping an
//!   epoch, so it stays in L1 cache.
//! * [`WordIds`] and [`KeyIds`] intern words and packed keys to dense ids for a whole corpus (CIDEr-D's
//!   document frequencies).
//!
//! [`with_scratch`] lends each thread one set of the per-pair buffers.

use std::cell::RefCell;

const MUL: u64 = 0x9E37_79B9_7F4A_7C15;

/// A hash of a short byte string (FxHash-style mixing; short strings read as one or two overlapping loads
/// instead of a padded copy); the *high* bits are the good ones. Equal strings hash equally; callers
/// compare the strings themselves, so collisions cost time, never correctness.
#[inline]
fn str_hash(s: &[u8]) -> u64 {
    let mix = |h: u64, v: u64| (h.rotate_left(5) ^ v).wrapping_mul(MUL);
    let read8 = |i: usize| u64::from_le_bytes(s[i..i + 8].try_into().expect("8 bytes"));
    let read4 = |i: usize| u64::from(u32::from_le_bytes(s[i..i + 4].try_into().expect("4 bytes")));
    let n = s.len();
    let h = n as u64;
    if n > 8 {
        let mut h = h;
        let mut i = 0;
        while i + 8 < n {
            h = mix(h, read8(i));
            i += 8;
        }
        mix(h, read8(n - 8))
    } else if n >= 4 {
        mix(h, read4(0) | (read4(n - 4) << 32))
    } else if n > 0 {
        mix(h, u64::from(s[0]) | (u64::from(s[n / 2]) << 8) | (u64::from(s[n - 1]) << 16))
    } else {
        mix(h, 0)
    }
}

/// Python's `str.isspace` for one character: Unicode white space plus the separators U+001C–U+001F, which
/// Python splits on and Rust's `char::is_whitespace` does not.
#[inline]
pub fn is_py_whitespace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Appends the tokens of Python's `text.split()` (runs of white space separate; none are empty) to `out`.
/// ASCII text takes a byte loop, several times faster than `str::split_whitespace`.
pub fn split_py<'a>(text: &'a str, out: &mut Vec<&'a str>) {
    if !text.is_ascii() {
        out.extend(text.split(is_py_whitespace).filter(|t| !t.is_empty()));
        return;
    }
    // 64 bytes at a time: a bit mask of white space, then one step per token boundary (no branch per byte).
    let bytes = text.as_bytes();
    let (mut in_token, mut start) = (false, 0);
    let mut prev_space = 1u64;
    for (c, chunk) in bytes.chunks(64).enumerate() {
        let mut block = [b' '; 64];
        block[..chunk.len()].copy_from_slice(chunk);
        let mut space = 0u64;
        for (w, word) in block.chunks_exact(8).enumerate() {
            space |= u64::from(space_mask8(u64::from_le_bytes(word.try_into().expect("8 bytes")))) << (8 * w);
        }
        let mut edges = space ^ ((space << 1) | prev_space);
        prev_space = space >> 63;
        while edges != 0 {
            let at = c * 64 + edges.trailing_zeros() as usize;
            edges &= edges - 1;
            if in_token {
                out.push(&text[start..at]);
            } else {
                start = at;
            }
            in_token = !in_token;
        }
    }
    if in_token {
        out.push(&text[start..]);
    }
}

/// Bit j set when byte j of `x` (little-endian) is zero: exact SWAR zero-byte detection (no carries cross
/// bytes), the eight flags gathered into one byte.
#[inline]
fn zero_bytes(x: u64) -> u8 {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    let zero = !(((x & LOW7) + LOW7) | x | LOW7);
    ((zero >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u8
}

const ONES: u64 = 0x0101_0101_0101_0101;

/// Bit j set when byte j of the ASCII word `x` (little-endian) is white space for Python: `' '`,
/// `\t`..`\r` or U+001C..U+001F. Words with control bytes other than the space (rare) are classified
/// byte by byte.
#[inline]
fn space_mask8(x: u64) -> u8 {
    // High bit of each byte < 0x20 (valid for ASCII bytes).
    let control = x.wrapping_sub(ONES * 0x20) & !x & (ONES * 0x80);
    if control != 0 {
        let mut m = 0u8;
        for (j, b) in x.to_le_bytes().into_iter().enumerate() {
            m |= u8::from(matches!(b, b' ' | b'\t'..=b'\r' | 0x1c..=0x1f)) << j;
        }
        return m;
    }
    zero_bytes(x ^ (ONES * u64::from(b' ')))
}

/// Appends the pieces of Python's `text.split(" ")` to `out`: split on each single space, empty pieces
/// kept (so an empty text is one empty piece). Eight bytes at a time.
pub fn split_space<'a>(text: &'a str, out: &mut Vec<&'a str>) {
    let bytes = text.as_bytes();
    let mut start = 0;
    for (c, chunk) in bytes.chunks(8).enumerate() {
        let mut word = [0u8; 8];
        word[..chunk.len()].copy_from_slice(chunk);
        let mut m = zero_bytes(u64::from_le_bytes(word) ^ (ONES * u64::from(b' '))) & (0xFF >> (8 - chunk.len()));
        while m != 0 {
            let at = c * 8 + m.trailing_zeros() as usize;
            m &= m - 1;
            out.push(&text[start..at]);
            start = at + 1;
        }
    }
    out.push(&text[start..]);
}

/// The smallest power-of-two table size keeping the load at most ½.
fn table_size(items: usize) -> usize {
    (items * 2).next_power_of_two().max(64)
}

/// Exact word ids local to one text pair (see the module docs).
#[derive(Debug, Default)]
pub struct PairWords {
    /// Per slot: epoch stamp, the index of the word's first token, its id.
    slots: Vec<[u32; 3]>,
    epoch: u32,
    shift: u32,
}

impl PairWords {
    /// Ids of `tokens` (all the pair's texts, concatenated), written to `out`: 1, 2, … in order of first
    /// occurrence. Returns the number of distinct words (the largest id).
    pub fn ids(&mut self, tokens: &[&str], out: &mut Vec<u32>) -> u32 {
        let size = table_size(tokens.len());
        if self.slots.len() < size {
            self.slots = vec![[0; 3]; size];
            self.epoch = 0;
        }
        self.shift = 64 - self.slots.len().trailing_zeros();
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.slots.iter_mut().for_each(|s| s[0] = 0);
            self.epoch = 1;
        }
        let mask = self.slots.len() - 1;
        let mut distinct = 0;
        out.clear();
        out.reserve(tokens.len());
        for (i, t) in tokens.iter().enumerate() {
            let mut s = (str_hash(t.as_bytes()) >> self.shift) as usize;
            let id = loop {
                let [stamp, first, id] = self.slots[s];
                if stamp != self.epoch {
                    distinct += 1;
                    self.slots[s] = [self.epoch, i as u32, distinct];
                    break distinct;
                }
                if same_bytes(tokens[first as usize].as_bytes(), t.as_bytes()) {
                    break id;
                }
                s = (s + 1) & mask;
            };
            out.push(id);
        }
        distinct
    }
}

/// Byte equality, with short strings compared by overlapping word loads instead of a `memcmp` call.
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let read8 = |s: &[u8], i: usize| u64::from_le_bytes(s[i..i + 8].try_into().expect("8 bytes"));
    let read4 = |s: &[u8], i: usize| u32::from_le_bytes(s[i..i + 4].try_into().expect("4 bytes"));
    match n {
        0 => true,
        1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        4..=8 => read4(a, 0) == read4(b, 0) && read4(a, n - 4) == read4(b, n - 4),
        9..=16 => read8(a, 0) == read8(b, 0) && read8(a, n - 8) == read8(b, n - 8),
        _ => a == b,
    }
}

/// An n-gram key: word ids packed side by side. Ids are non-zero, so keys of different orders differ.
pub trait GramKey: Copy + Eq + Default + std::fmt::Debug {
    /// Bits per word id: ids must be below `1 << ID_BITS`.
    const ID_BITS: u32;
    /// The key of this n-gram followed by word `id`.
    fn push(self, id: u32) -> Self;
    /// A hash whose high bits are well mixed.
    fn hash(self) -> u64;
}

/// Four 16-bit ids: pairs with fewer than 65,536 distinct words (all real ones).
impl GramKey for u64 {
    const ID_BITS: u32 = 16;
    #[inline]
    fn push(self, id: u32) -> Self {
        (self << 16) | u64::from(id)
    }
    #[inline]
    fn hash(self) -> u64 {
        self.wrapping_mul(MUL)
    }
}

/// Four 32-bit ids: any pair.
impl GramKey for u128 {
    const ID_BITS: u32 = 32;
    #[inline]
    fn push(self, id: u32) -> Self {
        (self << 32) | u128::from(id)
    }
    #[inline]
    fn hash(self) -> u64 {
        ((self as u64) ^ ((self >> 64) as u64).rotate_left(29)).wrapping_mul(MUL)
    }
}

/// Packs up to four non-zero word ids into one key.
#[inline]
pub fn word_key<K: GramKey>(ids: &[u32]) -> K {
    ids.iter().fold(K::default(), |k, &i| k.push(i))
}

/// Packs up to six characters (21 bits each) into one key (callers count one order at a time).
#[inline]
pub fn char_key(chars: &[char]) -> u128 {
    chars.iter().fold(0u128, |k, &c| (k << 21) | u128::from(u32::from(c)))
}

/// One slot of a [`GramTable`]: key, epoch stamp and count together, so a probe touches one cache line.
#[derive(Debug, Default, Clone, Copy)]
struct Slot<K> {
    key: K,
    stamp: u32,
    count: u32,
}

/// A multiset of n-gram keys (open addressing, linear probing, O(1) clearing).
#[derive(Debug, Default)]
pub struct GramTable<K> {
    slots: Vec<Slot<K>>,
    live: Vec<u32>,
    epoch: u32,
    shift: u32,
}

impl<K: GramKey> GramTable<K> {
    /// Empties the table, sized for up to `items` distinct keys.
    pub fn reset(&mut self, items: usize) {
        let size = table_size(items);
        if self.slots.len() < size {
            self.slots = vec![Slot::default(); size];
            self.epoch = 0;
        }
        self.shift = 64 - self.slots.len().trailing_zeros();
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.slots.iter_mut().for_each(|s| s.stamp = 0);
            self.epoch = 1;
        }
        self.live.clear();
    }

    /// The slot of `key`, and whether it is present.
    #[inline]
    fn find(&self, key: K) -> (usize, bool) {
        let mask = self.slots.len() - 1;
        let mut i = (key.hash() >> self.shift) as usize;
        loop {
            let s = &self.slots[i];
            if s.stamp != self.epoch {
                return (i, false);
            }
            if s.key == key {
                return (i, true);
            }
            i = (i + 1) & mask;
        }
    }

    #[inline]
    fn insert_at(&mut self, i: usize, key: K, count: u32) {
        self.slots[i] = Slot { key, stamp: self.epoch, count };
        self.live.push(i as u32);
    }

    /// Adds one occurrence of `key`.
    #[inline]
    pub fn add(&mut self, key: K) {
        match self.find(key) {
            (i, true) => self.slots[i].count += 1,
            (i, false) => self.insert_at(i, key, 1),
        }
    }

    /// Raises the count of `key` to at least `count`.
    #[inline]
    pub fn raise_to(&mut self, key: K, count: u32) {
        match self.find(key) {
            (i, true) => self.slots[i].count = self.slots[i].count.max(count),
            (i, false) => self.insert_at(i, key, count),
        }
    }

    /// Removes one occurrence of `key` if there is one left; returns whether there was.
    #[inline]
    pub fn take(&mut self, key: K) -> bool {
        self.take_or_absent(key) == Some(true)
    }

    /// As [`GramTable::take`], but `None` when the key was never added (so no extension of it was either,
    /// when the table holds every n-gram of a text).
    #[inline]
    pub fn take_or_absent(&mut self, key: K) -> Option<bool> {
        match self.find(key) {
            (i, true) if self.slots[i].count > 0 => {
                self.slots[i].count -= 1;
                Some(true)
            }
            (_, true) => Some(false),
            _ => None,
        }
    }

    /// The distinct keys and their counts, in insertion order.
    pub fn entries(&self) -> impl Iterator<Item = (K, u32)> + '_ {
        self.live.iter().map(|&i| (self.slots[i as usize].key, self.slots[i as usize].count))
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
        let tag = (h >> 16) as u32;
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
            if t == tag && same_bytes(word.as_bytes(), w.as_bytes()) {
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

    /// Loads the slot where a lookup of `key` starts and returns a value that depends on it: a run of
    /// `touch`es has no branches and no dependencies between them, so their cache misses overlap, and the
    /// lookups that follow hit the cache (interning is latency-bound otherwise). Pass the results to
    /// `std::hint::black_box` so the loads are kept.
    #[inline]
    pub fn touch(&self, key: u64) -> u64 {
        let s = (key.wrapping_mul(MUL) >> self.shift) as usize;
        self.slots.get(s).map_or(0, |e| e.0)
    }

    /// Makes room for `n` keys in all without growing.
    pub fn reserve(&mut self, n: usize) {
        while self.slots.len() < table_size(n) {
            self.grow();
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
    /// Tables for pairs with fewer than 65,536 distinct words (16-bit ids)…
    pub tables16: [GramTable<u64>; 2],
    /// …and for any pair.
    pub tables32: [GramTable<u128>; 2],
    pub bits: Vec<u64>,
    /// Per word id: whether the hypothesis uses it.
    pub marks: Vec<bool>,
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
        assert_eq!(w.ids(&toks, &mut out), 5);
        assert_eq!(out, [1, 2, 1, 3, 2, 4, 5]);
        // A second use starts afresh.
        assert_eq!(w.ids(&["b", "b"], &mut out), 1);
        assert_eq!(out, [1, 1]);
        // Many tokens grow the table.
        let many: Vec<String> = (0..1000).map(|i| format!("w{}", i % 300)).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(w.ids(&many, &mut out), 300);
        assert_eq!(out[299], 300);
        assert_eq!(out[300], 1);
        assert_eq!(out[999], 100);
    }

    #[test]
    fn short_byte_equality() {
        let words =
            ["", "a", "ab", "abc", "abd", "abcd", "abce", "abcdefgh", "abcdefgi", "xbcdefgh", "abcdefghijklmnop"];
        for a in words {
            for b in words {
                assert_eq!(same_bytes(a.as_bytes(), b.as_bytes()), a == b, "{a:?} {b:?}");
            }
        }
        assert!(!same_bytes(b"abcdefghijklmnoq", b"abcdefghijklmnop"));
        assert!(!same_bytes(b"abcdefghXjklmnop", b"abcdefghijklmnop"));
    }

    #[test]
    fn gram_table_counts_clips_and_merges() {
        fn check<K: GramKey>() {
            let key = word_key::<K>;
            let mut t = GramTable::<K>::default();
            t.reset(8);
            for k in [key(&[1]), key(&[1]), key(&[1, 2])] {
                t.add(k);
            }
            assert!(t.take(key(&[1])) && t.take(key(&[1])));
            assert!(!t.take(key(&[1])), "clipped at the reference count");
            assert!(!t.take(key(&[2])));
            t.raise_to(key(&[1, 2]), 3);
            t.raise_to(key(&[1, 2]), 2);
            assert_eq!(t.entries().collect::<Vec<_>>(), [(key(&[1]), 0), (key(&[1, 2]), 3)]);
            t.reset(8);
            assert_eq!(t.entries().count(), 0);
            assert!(!t.take(key(&[1])));
            // Orders never collide: a bigram of ids (0-free) differs from every unigram.
            assert_ne!(key(&[1, 2]), key(&[2]));
            let top = u32::MAX >> (32 - K::ID_BITS);
            assert_ne!(key(&[top, top, top, top]), key(&[top, top, top]));
        }
        check::<u64>();
        check::<u128>();
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
        // A reserved table takes its keys without growing; touching reads where a lookup starts.
        let mut keys = KeyIds::default();
        keys.reserve(3000);
        let size = keys.slots.len();
        assert!(size >= 6000);
        for k in 0..3000u64 {
            keys.id(k << 32 | 1, &mut next);
        }
        assert_eq!(keys.slots.len(), size);
        assert_eq!(KeyIds::default().touch(5), 0);
        let _ = keys.touch(5 << 32 | 1);
    }

    #[test]
    fn splits_like_python() {
        fn split(t: &str) -> Vec<&str> {
            let mut out = Vec::new();
            split_py(t, &mut out);
            out
        }
        assert_eq!(split("  a\tb\n\x1cc\x0bd  "), ["a", "b", "c", "d"]);
        assert_eq!(split("é\u{a0}x\u{1f}y z"), ["é", "x", "y", "z"]);
        assert!(split(" \t ").is_empty());
        // Tokens across the 64-byte blocks of the fast path, and at the very end.
        let long: String = (0..40).map(|i| format!("tok{i}{}", " ".repeat(i % 3 + 1))).collect::<String>() + "end";
        let want: Vec<&str> = long.split_whitespace().collect();
        assert_eq!(split(&long), want);
        assert_eq!(split(&"x".repeat(130)), ["x".repeat(130)]);
        let pieces = |t: &str| {
            let mut out = Vec::new();
            split_space(t, &mut out);
            out.into_iter().map(str::to_string).collect::<Vec<_>>()
        };
        for t in ["", " ", "a", "a b", " a  b ", "é b\u{a0}c", "0123456 89 abcdefghijklmnop qr", "abcdefg "] {
            assert_eq!(pieces(t), t.split(' ').map(str::to_string).collect::<Vec<_>>(), "{t:?}");
        }
        for b in 0u8..128 {
            let word = u64::from_le_bytes([b'a', b, b' ', b'z', b, 0x7f, b'!', b' ']);
            let ws = u8::from(matches!(b, b' ' | b'\t'..=b'\r' | 0x1c..=0x1f));
            assert_eq!(space_mask8(word), 0b1000_0100 | ws << 1 | ws << 4, "byte {b}");
        }
    }
}
