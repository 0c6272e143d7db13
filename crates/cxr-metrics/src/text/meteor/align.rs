//! The jar's aligner: candidate matches from each module, then a left-to-right beam search over the
//! reference positions (see the module docs of [`super`] for the ranking and the quirks kept).

use super::resources::WordInfo;
use super::{java_hash, MeteorParams, MeteorResources, MeteorStats};
use serde::Serialize;
use std::borrow::Cow;

/// One candidate match: reference words `start..start+len` with test words `match_start..+match_len`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Match {
    /// Index into [`super::MODULES`].
    pub module: u8,
    pub start: usize,
    pub len: usize,
    pub match_start: usize,
    pub match_len: usize,
}

/// The chosen alignment and its statistics.
#[derive(Debug, Clone, Serialize)]
pub struct Alignment {
    /// The matches, in reference order.
    pub matches: Vec<Match>,
    pub stats: MeteorStats,
}

/// A partial alignment of the beam. The matches it chose live in a shared arena as a linked chain (the
/// fixed matches are shared by all paths), and its used words are a bit set in a pool per search step,
/// so branching copies a few machine words and allocates nothing.
#[derive(Debug, Clone, Copy)]
struct Path {
    /// Last chosen match in the arena (`u32::MAX`: none).
    chain: u32,
    /// Offset of this path's used-word bits in its step's pool (bit `i`: test word `i`, bit `n1 + j`:
    /// reference word `j`).
    used_at: usize,
    /// Module-weighted coverage, truncated to integers as the jar's `int` fields are.
    covered_test: i64,
    covered_ref: i64,
    chunks: i64,
    idx: usize,
    last_match_end: Option<usize>,
    distance: i64,
}

const NO_MATCH: u32 = u32::MAX;

struct Bits {
    n1: usize,
}

impl Bits {
    fn any(&self, used: &[u64], from: usize, len: usize) -> bool {
        (from..from + len).any(|b| used[b / 64] >> (b % 64) & 1 == 1)
    }

    fn set(&self, used: &mut [u64], from: usize, len: usize) {
        for b in from..from + len {
            used[b / 64] |= 1 << (b % 64);
        }
    }

    fn is_used(&self, used: &[u64], m: &Match) -> bool {
        self.any(used, self.n1 + m.start, m.len) || self.any(used, m.match_start, m.match_len)
    }

    fn set_used(&self, used: &mut [u64], m: &Match) {
        self.set(used, self.n1 + m.start, m.len);
        self.set(used, m.match_start, m.match_len);
    }
}

impl Path {
    /// Takes `m` as the next match: coverage, chunk boundary, position.
    fn extend(&mut self, m: &Match, weights: &[f64; 4]) {
        let w = weights[m.module as usize];
        self.covered_test = (self.covered_test as f64 + m.match_len as f64 * w) as i64;
        self.covered_ref = (self.covered_ref as f64 + m.len as f64 * w) as i64;
        if self.last_match_end.is_some_and(|e| m.match_start != e) {
            self.chunks += 1;
        }
        self.idx = m.start + m.len;
        self.last_match_end = Some(m.match_start + m.match_len);
    }

    fn rank_key(&self) -> (i64, i64, i64) {
        (-(self.covered_test + self.covered_ref), self.chunks, self.distance)
    }
}

/// Aligns test words (the hypothesis) with reference words and computes the statistics.
pub fn align(test: &[String], reference: &[String], res: &MeteorResources, params: &MeteorParams) -> Alignment {
    let (n1, n2) = (test.len(), reference.len());
    let keys1: Vec<i32> = test.iter().map(|w| java_hash(w)).collect();
    let keys2: Vec<i32> = reference.iter().map(|w| java_hash(w)).collect();
    let mut cands: Vec<Vec<Match>> = vec![Vec::new(); n2];
    let mut cov1 = vec![0u32; n1];
    let mut cov2 = vec![0u32; n2];
    let mut add = |m: Match, cands: &mut Vec<Vec<Match>>| {
        cov1[m.match_start..m.match_start + m.match_len].iter_mut().for_each(|c| *c += 1);
        cov2[m.start..m.start + m.len].iter_mut().for_each(|c| *c += 1);
        cands[m.start].push(m);
    };
    let single = |module: u8, j: usize, i: usize| Match { module, start: j, len: 1, match_start: i, match_len: 1 };

    // Identical sentences need exact matches only (the jar's guard against beam-search errors).
    let identical = n1 == n2 && keys1 == keys2;

    // Exact.
    for j in 0..n2 {
        for i in 0..n1 {
            if keys1[i] == keys2[j] {
                add(single(0, j, i), &mut cands);
            }
        }
    }
    if !identical {
        // Stem: different words, same stem. Synonym: different words sharing a synset.
        let info1: Vec<Cow<WordInfo>> = test.iter().map(|w| res.word_info(w)).collect();
        let info2: Vec<Cow<WordInfo>> = reference.iter().map(|w| res.word_info(w)).collect();
        for j in 0..n2 {
            for i in 0..n1 {
                if info1[i].stem_hash == info2[j].stem_hash && keys1[i] != keys2[j] {
                    add(single(1, j, i), &mut cands);
                }
            }
        }
        if res.synonyms.is_some() {
            // (synset, test position) sorted, then per reference word the test words sharing any of its synsets.
            let mut by_synset: Vec<(u32, u32)> = info1
                .iter()
                .enumerate()
                .flat_map(|(i, info)| info.synsets.iter().map(move |&set| (set, i as u32)))
                .collect();
            by_synset.sort_unstable();
            let mut shares = vec![false; n1];
            for j in 0..n2 {
                shares.fill(false);
                for &set in &info2[j].synsets {
                    let from = by_synset.partition_point(|&(s, _)| s < set);
                    for &(_, i) in by_synset[from..].iter().take_while(|&&(s, _)| s == set) {
                        shares[i as usize] = true;
                    }
                }
                for i in 0..n1 {
                    if shares[i] && keys1[i] != keys2[j] {
                        add(single(2, j, i), &mut cands);
                    }
                }
            }
        }
        // Paraphrase: phrases of the reference found in the test, then phrases of the test in the reference.
        if let Some(pt) = &res.paraphrases {
            let ids1: Vec<Option<u32>> = test.iter().map(|w| pt.id(w)).collect();
            let ids2: Vec<Option<u32>> = reference.iter().map(|w| pt.id(w)).collect();
            let occurs_at = |line: &[Option<u32>], at: usize, words: &[u32]| {
                words.iter().enumerate().all(|(k, w)| line.get(at + k).copied().flatten() == Some(*w))
            };
            // (word id, position) sorted, so a paraphrase is tried only where its first word is, in ascending
            // positions.
            let positions = |line: &[Option<u32>]| {
                let mut at: Vec<(u32, usize)> =
                    line.iter().enumerate().filter_map(|(i, w)| w.map(|w| (w, i))).collect();
                at.sort_unstable();
                at
            };
            // Every (phrase start, phrase length, paraphrase start, paraphrase length) of `from`'s phrases whose
            // paraphrase occurs in `to`, in the jar's order: by phrase start, then phrase, then position.
            let mut phrases = Vec::new();
            let mut found = |from: &[Option<u32>], to: &[Option<u32>]| {
                let at = positions(to);
                let mut out = Vec::new();
                for start in 0..from.len() {
                    phrases.clear();
                    pt.phrases_at_into(from, start, &mut phrases);
                    for &(len, p) in &phrases {
                        let words = pt.paraphrase(p);
                        let Some(&first) = words.first() else { continue };
                        let from_here = &at[at.partition_point(|&(w, _)| w < first)..];
                        for &(_, pos) in from_here.iter().take_while(|&&(w, _)| w == first) {
                            if occurs_at(to, pos, words) {
                                out.push((start, len, pos, words.len()));
                            }
                        }
                    }
                }
                out
            };
            for (j, len, i, match_len) in found(&ids2, &ids1) {
                add(Match { module: 3, start: j, len, match_start: i, match_len }, &mut cands);
            }
            for (i, match_len, j, len) in found(&ids1, &ids2) {
                add(Match { module: 3, start: j, len, match_start: i, match_len }, &mut cands);
            }
        }
    }

    // One-to-one matches that overlap nothing are fixed before the search.
    let bits = Bits { n1 };
    let mut fixed: Vec<Option<Match>> = vec![None; n2];
    let mut used = vec![0u64; (n1 + n2).div_ceil(64).max(1)];
    for (j, list) in cands.iter().enumerate() {
        if let [m] = list.as_slice() {
            let alone = cov2[j..j + m.len].iter().all(|&c| c == 1)
                && cov1[m.match_start..m.match_start + m.match_len].iter().all(|&c| c == 1);
            if alone {
                fixed[j] = Some(*m);
                bits.set_used(&mut used, m);
            }
        }
    }
    let start = Path {
        chain: NO_MATCH,
        used_at: 0,
        covered_test: 0,
        covered_ref: 0,
        chunks: 0,
        idx: 0,
        last_match_end: None,
        distance: 0,
    };

    let mut arena: Vec<(Match, u32)> = Vec::new();
    let best = search(&cands, &fixed, &bits, start, used, params, &mut arena);
    let mut chosen = fixed;
    let mut at = best.chain;
    while at != NO_MATCH {
        let (m, parent) = arena[at as usize];
        chosen[m.start] = Some(m);
        at = parent;
    }
    let stats = statistics(test, reference, &chosen, res);
    Alignment { matches: chosen.iter().flatten().copied().collect(), stats }
}

fn search(
    cands: &[Vec<Match>],
    fixed: &[Option<Match>],
    bits: &Bits,
    start: Path,
    start_used: Vec<u64>,
    params: &MeteorParams,
    arena: &mut Vec<(Match, u32)>,
) -> Path {
    let w = &params.search_weights;
    let n1 = bits.n1;
    let n2 = cands.len();
    let stride = start_used.len();
    let mut pool = Vec::new();
    let mut next_pool = start_used;
    // Two path lists swapped at every step, so their capacity is reused.
    let mut paths = Vec::new();
    let mut next = vec![start];
    let mut ranked: Vec<((i64, i64, i64), usize)> = Vec::new();
    arena.reserve(n2 * params.beam.min(64));
    for current in 0..=n2 {
        std::mem::swap(&mut paths, &mut next);
        next.clear();
        std::mem::swap(&mut pool, &mut next_pool);
        next_pool.clear();
        // The beam: the best `beam` paths in (coverage, chunks, distance) order, ties by arrival (a stable sort).
        ranked.clear();
        ranked.extend(paths.iter().enumerate().map(|(i, p)| (p.rank_key(), i)));
        if ranked.len() > params.beam && params.beam > 0 {
            ranked.select_nth_unstable(params.beam - 1);
            ranked.truncate(params.beam);
        }
        ranked.sort_unstable();
        ranked.truncate(params.beam);
        let keep = |path: &mut Path, used: &[u64], next_pool: &mut Vec<u64>| {
            path.used_at = next_pool.len();
            next_pool.extend_from_slice(used);
        };
        for &(_, i) in &ranked {
            let mut path = paths[i];
            let used = &pool[path.used_at..path.used_at + stride];
            if current == n2 {
                if path.last_match_end.is_some() {
                    path.chunks += 1;
                }
                keep(&mut path, used, &mut next_pool);
                next.push(path);
                continue;
            }
            if bits.any(used, n1 + current, 1) {
                if current < path.idx {
                    keep(&mut path, used, &mut next_pool);
                    next.push(path);
                } else if let Some(m) = fixed.get(path.idx).copied().flatten() {
                    // A match fixed before the search.
                    path.extend(&m, w);
                    path.distance += (m.start as i64 - m.match_start as i64).abs();
                    keep(&mut path, used, &mut next_pool);
                    next.push(path);
                }
                continue;
            }
            for m in &cands[current] {
                if bits.is_used(used, m) {
                    continue;
                }
                let mut branch = path;
                keep(&mut branch, used, &mut next_pool);
                bits.set_used(&mut next_pool[branch.used_at..branch.used_at + stride], m);
                arena.push((*m, branch.chain));
                branch.chain = (arena.len() - 1) as u32;
                branch.extend(m, w);
                // The jar adds the distance to the parent path, not to the branch.
                path.distance += (m.start as i64 - m.match_start as i64).abs();
                next.push(branch);
            }
            // Or leave this reference word unmatched.
            if path.last_match_end.take().is_some() {
                path.chunks += 1;
            }
            path.idx += 1;
            keep(&mut path, used, &mut next_pool);
            next.push(path);
        }
        if next.is_empty() {
            if let Some(&(_, i)) = ranked.first() {
                let mut path = paths[i];
                let used = &pool[path.used_at..path.used_at + stride];
                keep(&mut path, used, &mut next_pool);
                next.push(path);
            }
        }
    }
    next.into_iter().enumerate().min_by_key(|(i, p)| (p.rank_key(), *i)).map(|(_, p)| p).unwrap_or(Path {
        chain: NO_MATCH,
        used_at: 0,
        covered_test: 0,
        covered_ref: 0,
        chunks: 0,
        idx: 0,
        last_match_end: None,
        distance: 0,
    })
}

fn statistics(test: &[String], reference: &[String], matches: &[Option<Match>], res: &MeteorResources) -> MeteorStats {
    // Tokens are usually lower-case already: look them up without a lower-cased copy then.
    let is_function = |w: &String| {
        if w.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase()) {
            res.function_words.contains(w.as_str())
        } else {
            res.function_words.contains(&w.to_lowercase())
        }
    };
    let f1: Vec<bool> = test.iter().map(is_function).collect();
    let f2: Vec<bool> = reference.iter().map(is_function).collect();
    let mut s = MeteorStats {
        test_len: test.len() as f64,
        ref_len: reference.len() as f64,
        test_function: f1.iter().filter(|&&f| f).count() as f64,
        ref_function: f2.iter().filter(|&&f| f).count() as f64,
        ..Default::default()
    };
    for m in matches.iter().flatten() {
        let module = &mut s.modules[m.module as usize];
        for i in m.match_start..m.match_start + m.match_len {
            module[if f1[i] { 2 } else { 0 }] += 1.0;
        }
        for j in m.start..m.start + m.len {
            module[if f2[j] { 3 } else { 1 }] += 1.0;
        }
    }
    // Matched word counts and chunks, walking the reference.
    let (mut m1, mut m2, mut chunks) = (0usize, 0usize, 0usize);
    let mut last_end: Option<usize> = None;
    let mut idx = 0;
    while idx < matches.len() {
        match matches[idx] {
            None => {
                if last_end.take().is_some() {
                    chunks += 1;
                }
                idx += 1;
            }
            Some(m) => {
                m1 += m.match_len;
                m2 += m.len;
                if last_end.is_some_and(|e| m.match_start != e) {
                    chunks += 1;
                }
                idx = m.start + m.len;
                last_end = Some(m.match_start + m.match_len);
            }
        }
    }
    if last_end.is_some() {
        chunks += 1;
    }
    s.chunks = chunks as f64;
    s.test_word_matches = m1 as f64;
    s.ref_word_matches = m2 as f64;
    s
}
