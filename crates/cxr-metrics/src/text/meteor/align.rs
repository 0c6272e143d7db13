//! The jar's aligner: candidate matches from each module, then a left-to-right beam search over the
//! reference positions (see the module docs of [`super`] for the ranking and the quirks kept).

use super::resources::WordInfo;
use super::{java_hash, MeteorParams, MeteorResources, MeteorStats};
use serde::Serialize;

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
/// fixed matches are shared by all paths), and its used words are a bit set in a shared pool. A branch
/// records its new match as `pending` and enters it in the arena and the pool only if it is ranked into
/// the beam: most branches are not (a step makes up to `beam × (candidates + 1)` paths and keeps `beam`),
/// and ranking needs only the counts.
#[derive(Debug, Clone, Copy)]
struct Path {
    /// Last chosen match in the arena (`NO_MATCH`: none).
    chain: u32,
    /// A match taken but not yet in `chain` and the used-word bits (its index in the candidates; `NO_MATCH`:
    /// none).
    pending: u32,
    /// Offset of this path's used-word bits in the pool (bit `i`: test word `i`, bit `n1 + j`: reference
    /// word `j`).
    used_at: u32,
    /// Module-weighted coverage, truncated to integers as the jar's `int` fields are.
    covered_test: i32,
    covered_ref: i32,
    chunks: u32,
    idx: u32,
    /// End (in the test) of the last match of the open chunk (`NO_END`: no open chunk).
    last_match_end: u32,
    distance: u64,
}

const NO_END: u32 = u32::MAX;
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
    const START: Path = Path {
        chain: NO_MATCH,
        pending: NO_MATCH,
        used_at: 0,
        covered_test: 0,
        covered_ref: 0,
        chunks: 0,
        idx: 0,
        last_match_end: NO_END,
        distance: 0,
    };

    /// Takes `m` as the next match: coverage, chunk boundary, position.
    fn extend(&mut self, m: &Match, weights: &[f64; 4]) {
        let w = weights[m.module as usize];
        // (Lengths fit in 32 bits, and converting those is one instruction.)
        self.covered_test = (f64::from(self.covered_test) + f64::from(m.match_len as u32) * w) as i32;
        self.covered_ref = (f64::from(self.covered_ref) + f64::from(m.len as u32) * w) as i32;
        if self.last_match_end != NO_END && m.match_start as u32 != self.last_match_end {
            self.chunks += 1;
        }
        self.idx = (m.start + m.len) as u32;
        self.last_match_end = (m.match_start + m.match_len) as u32;
    }

    /// Closes the open chunk, if any.
    fn close_chunk(&mut self) {
        if self.last_match_end != NO_END {
            self.chunks += 1;
            self.last_match_end = NO_END;
        }
    }

    fn coverage(&self) -> i64 {
        i64::from(self.covered_test) + i64::from(self.covered_ref)
    }
}

/// How a step orders its paths: the jar's ranking (more coverage, then fewer chunks, then less distance),
/// ties by arrival (the order a stable sort keeps).
trait Ranking {
    type Key: Copy + Ord;
    fn key(&self, path: &Path, arrival: usize) -> Self::Key;
    fn arrival(&self, key: Self::Key) -> usize;
}

/// Keys for any pair and any weights.
struct WideKeys;

impl Ranking for WideKeys {
    type Key = (i64, u32, u64, u32);

    fn key(&self, p: &Path, arrival: usize) -> Self::Key {
        (-p.coverage(), p.chunks, p.distance, arrival as u32)
    }

    fn arrival(&self, key: Self::Key) -> usize {
        key.3 as usize
    }
}

/// The same order packed into one 64-bit number, each part in as many bits as the pair's bounds need
/// (almost every pair fits): ranking compares and moves one machine word per path.
struct PackedKeys {
    /// Coverage is stored as `top - coverage`, so that more coverage ranks first.
    top: u64,
    coverage_shift: u32,
    chunks_shift: u32,
    distance_shift: u32,
    arrival_mask: u64,
}

impl PackedKeys {
    /// The layout for a pair, if its bounds fit in 64 bits (and the search weights are non-negative).
    fn for_pair(n1: usize, n2: usize, cands: &Candidates, params: &MeteorParams) -> Option<Self> {
        let weights = &params.search_weights;
        if weights.iter().any(|w| !(w.is_finite() && *w >= 0.0)) {
            return None;
        }
        let bits = |x: u64| 64 - x.leading_zeros();
        let (n1, n2) = (n1 as u64, n2 as u64);
        // A path covers each word at most once; truncation keeps each coverage at or below its weighted
        // words (one more per match allows for rounding).
        let w = weights.iter().copied().fold(0.0, f64::max);
        let top = (((n1 + n2) as f64 * w).ceil() as u64).saturating_add(n1 + n2);
        let chunks = 2 * n2 + 2;
        // Each candidate (and each fixed match) adds at most max(n1, n2) to the distance of one lineage.
        let distance = (cands.matches.len() as u64 + n2).saturating_mul(n1.max(n2).max(1));
        let widest = (0..n2 as usize).map(|j| cands.at(j).len()).max().unwrap_or(0) as u64;
        let arrivals = params.beam as u64 * (widest + 1) + 1;
        let (a, d, c, v) = (bits(arrivals), bits(distance), bits(chunks), bits(top));
        (a + d + c + v <= 64).then(|| PackedKeys {
            top,
            coverage_shift: a + d + c,
            chunks_shift: a + d,
            distance_shift: a,
            arrival_mask: (1 << a) - 1,
        })
    }
}

impl Ranking for PackedKeys {
    type Key = u64;

    fn key(&self, p: &Path, arrival: usize) -> u64 {
        (self.top - p.coverage() as u64) << self.coverage_shift
            | u64::from(p.chunks) << self.chunks_shift
            | p.distance << self.distance_shift
            | arrival as u64
    }

    fn arrival(&self, key: u64) -> usize {
        (key & self.arrival_mask) as usize
    }
}

/// What the aligner needs of one text, computed once per distinct text: reports repeat, and a corpus
/// scores each text against several others (as a reference and as a hypothesis), so word lookups (hashes,
/// stems, synsets, function words) and the paraphrase table's phrases found in the text are not redone
/// for every pair.
#[derive(Debug, Clone, Default)]
pub struct PreparedText {
    /// Java `String.hashCode` of each word (the jar compares words by it).
    hashes: Vec<i32>,
    /// Java hash of each word's Snowball stem.
    stems: Vec<i32>,
    function: Vec<bool>,
    /// (synset, position) of every word, sorted.
    by_synset: Vec<(u32, u32)>,
    /// The paraphrase table's id of each word.
    para_ids: Vec<Option<u32>>,
    /// (table word id, position) of every word the table knows, sorted.
    para_positions: Vec<(u32, u32)>,
    /// Every phrase of the table that occurs in the text, as (start, length, paraphrase index): by start,
    /// then as [`super::ParaphraseTable::phrases_at`] lists them.
    phrases: Vec<(u32, u32, u32)>,
}

/// What the aligner needs of one word.
#[derive(Debug, Clone)]
pub(crate) struct WordData {
    hash: i32,
    info: WordInfo,
    /// The paraphrase table's id of the word.
    para: Option<u32>,
}

impl WordData {
    pub(crate) fn new(word: &str, res: &MeteorResources) -> Self {
        WordData {
            hash: java_hash(word),
            info: res.word_info(word),
            para: res.paraphrases.as_ref().and_then(|pt| pt.id(word)),
        }
    }

    /// Leaves out of each word's synsets those no other of `words` has (`words` are distinct words).
    pub(crate) fn keep_shared_synsets(words: &mut [WordData]) {
        let mut all: Vec<u32> = words.iter().flat_map(|w| w.info.synsets.iter().copied()).collect();
        all.sort_unstable();
        let shared = |set: &u32| {
            let at = all.partition_point(|s| s < set);
            all.get(at + 1) == Some(set)
        };
        for w in words {
            w.info.synsets.retain(shared);
        }
    }
}

impl PreparedText {
    /// Prepares the words of a text (METEOR's tokens) for [`align_prepared`].
    pub fn new(words: &[impl AsRef<str>], res: &MeteorResources) -> Self {
        let data: Vec<WordData> = words.iter().map(|w| WordData::new(w.as_ref(), res)).collect();
        Self::from_words(data.iter(), res)
    }

    /// Prepares a text given its words' [`WordData`].
    pub(crate) fn from_words<'a>(words: impl ExactSizeIterator<Item = &'a WordData>, res: &MeteorResources) -> Self {
        let n = words.len();
        let mut t = PreparedText {
            hashes: Vec::with_capacity(n),
            stems: Vec::with_capacity(n),
            function: Vec::with_capacity(n),
            para_ids: Vec::with_capacity(n),
            ..Default::default()
        };
        for (i, w) in words.enumerate() {
            t.hashes.push(w.hash);
            t.stems.push(w.info.stem_hash);
            t.function.push(w.info.function);
            t.by_synset.extend(w.info.synsets.iter().map(|&set| (set, i as u32)));
            t.para_ids.push(w.para);
        }
        t.by_synset.sort_unstable();
        if let Some(pt) = &res.paraphrases {
            t.para_positions = t.para_ids.iter().enumerate().filter_map(|(i, w)| w.map(|w| (w, i as u32))).collect();
            t.para_positions.sort_unstable();
            let mut found = Vec::new();
            for start in 0..n {
                found.clear();
                pt.phrases_at_into(&t.para_ids, start, &mut found);
                t.phrases.extend(found.iter().map(|&(len, p)| (start as u32, len as u32, p)));
            }
        }
        t
    }

    fn len(&self) -> usize {
        self.hashes.len()
    }

    /// Whether the table's phrase `words` occurs at `at`.
    fn occurs_at(&self, at: usize, words: &[u32]) -> bool {
        words.iter().enumerate().all(|(k, w)| self.para_ids.get(at + k).copied().flatten() == Some(*w))
    }
}

/// The candidate matches of a pair, grouped by reference position (each group in the order found).
struct Candidates {
    /// Position `j`'s candidates are `matches[starts[j]..starts[j + 1]]`.
    starts: Vec<u32>,
    matches: Vec<Match>,
}

impl Candidates {
    fn at(&self, j: usize) -> &[Match] {
        &self.matches[self.starts[j] as usize..self.starts[j + 1] as usize]
    }
}

/// Aligns test words (the hypothesis) with reference words and computes the statistics.
pub fn align(test: &[String], reference: &[String], res: &MeteorResources, params: &MeteorParams) -> Alignment {
    align_prepared(&PreparedText::new(test, res), &PreparedText::new(reference, res), res, params)
}

/// [`align`] on prepared texts.
pub fn align_prepared(
    test: &PreparedText,
    reference: &PreparedText,
    res: &MeteorResources,
    params: &MeteorParams,
) -> Alignment {
    align_with(test, reference, res, params, true)
}

/// [`align_prepared`]; `skip_idle`: pass stretches of idle reference positions in one step (the result is
/// the same either way; the tests compare).
fn align_with(
    test: &PreparedText,
    reference: &PreparedText,
    res: &MeteorResources,
    params: &MeteorParams,
    skip_idle: bool,
) -> Alignment {
    let (n1, n2) = (test.len(), reference.len());
    let (keys1, keys2) = (&test.hashes, &reference.hashes);
    let single = |module: u8, j: usize, i: usize| Match { module, start: j, len: 1, match_start: i, match_len: 1 };

    // Identical sentences need exact matches only (the jar's guard against beam-search errors).
    let identical = keys1 == keys2;
    // Test positions as bit masks, 64 to a word: the modules' word-pair tests become a few vector compares
    // per reference word.
    let mask_words = n1.div_ceil(64);
    // Word pairs sharing a synset (bit `i` of row `j`): a merge of the two texts' (synset, position) lists.
    let mut shares: Vec<u64> = Vec::new();
    if !identical && res.synonyms.is_some() {
        shares.resize(n2 * mask_words, 0);
        let (a, b) = (&reference.by_synset, &test.by_synset);
        let (mut x, mut y) = (0, 0);
        while x < a.len() && y < b.len() {
            match a[x].0.cmp(&b[y].0) {
                std::cmp::Ordering::Less => x += 1,
                std::cmp::Ordering::Greater => y += 1,
                std::cmp::Ordering::Equal => {
                    let set = a[x].0;
                    let y_end = y + b[y..].iter().take_while(|e| e.0 == set).count();
                    while x < a.len() && a[x].0 == set {
                        let row = a[x].1 as usize * mask_words;
                        for &(_, i) in &b[y..y_end] {
                            shares[row + i as usize / 64] |= 1 << (i % 64);
                        }
                        x += 1;
                    }
                    y = y_end;
                }
            }
        }
    }
    // Paraphrase: phrases of the reference found in the test, then phrases of the test in the reference.
    let mut para: Vec<Match> = Vec::new();
    if let (false, Some(pt)) = (identical, &res.paraphrases) {
        // Every (phrase start, phrase length, paraphrase start, paraphrase length) of `from`'s phrases whose
        // paraphrase occurs in `to`, in the jar's order: by phrase start, then phrase, then position.
        let each = |from: &PreparedText, to: &PreparedText, f: &mut dyn FnMut(usize, usize, usize, usize)| {
            for &(start, len, p) in &from.phrases {
                let words = pt.paraphrase(p);
                let Some(&first) = words.first() else { continue };
                let at = &to.para_positions;
                for &(_, pos) in at[at.partition_point(|&(w, _)| w < first)..].iter().take_while(|&&(w, _)| w == first)
                {
                    if to.occurs_at(pos as usize, words) {
                        f(start as usize, len as usize, pos as usize, words.len());
                    }
                }
            }
        };
        each(reference, test, &mut |j, len, i, match_len| {
            para.push(Match { module: 3, start: j, len, match_start: i, match_len })
        });
        each(test, reference, &mut |i, match_len, j, len| {
            para.push(Match { module: 3, start: j, len, match_start: i, match_len })
        });
        para.sort_by_key(|m| m.start);
    }
    // The candidates grouped by reference position, each group in the jar's order: exact (equal words), stem
    // (different words, same stem), synonym (different words sharing a synset), then paraphrase, each in the
    // order found.
    let mut found: Vec<Match> = Vec::new();
    let (mut equal, mut stem) = (vec![0u64; mask_words], vec![0u64; mask_words]);
    let mut next_para = para.iter().peekable();
    let push_bits = |found: &mut Vec<Match>, module: u8, j: usize, masks: &mut dyn Iterator<Item = u64>| {
        for (c, mut bits) in masks.enumerate() {
            while bits != 0 {
                found.push(single(module, j, c * 64 + bits.trailing_zeros() as usize));
                bits &= bits - 1;
            }
        }
    };
    for j in 0..n2 {
        let (key, stem_key) = (keys2[j], reference.stems[j]);
        for (c, (e, st)) in equal.iter_mut().zip(&mut stem).enumerate() {
            let range = c * 64..n1.min(c * 64 + 64);
            let (mut eq_bits, mut stem_bits) = (0u64, 0u64);
            for (b, (&k, &s)) in keys1[range.clone()].iter().zip(&test.stems[range]).enumerate() {
                eq_bits |= u64::from(k == key) << b;
                stem_bits |= u64::from(s == stem_key) << b;
            }
            *e = eq_bits;
            *st = stem_bits & !eq_bits;
        }
        push_bits(&mut found, 0, j, &mut equal.iter().copied());
        if !identical {
            push_bits(&mut found, 1, j, &mut stem.iter().copied());
            if !shares.is_empty() {
                let row = &shares[j * mask_words..(j + 1) * mask_words];
                push_bits(&mut found, 2, j, &mut row.iter().zip(&equal).map(|(s, e)| s & !e));
            }
        }
        while let Some(m) = next_para.next_if(|m| m.start == j) {
            found.push(*m);
        }
    }
    // How many candidates cover each word.
    let mut cov1 = vec![0u32; n1];
    let mut cov2 = vec![0u32; n2];
    let mut starts = vec![0u32; n2 + 1];
    for m in &found {
        cov1[m.match_start..m.match_start + m.match_len].iter_mut().for_each(|c| *c += 1);
        cov2[m.start..m.start + m.len].iter_mut().for_each(|c| *c += 1);
        starts[m.start + 1] += 1;
    }
    for j in 0..n2 {
        starts[j + 1] += starts[j];
    }
    let cands = Candidates { starts, matches: found };

    // One-to-one matches that overlap nothing are fixed before the search.
    let bits = Bits { n1 };
    let mut fixed: Vec<Option<Match>> = vec![None; n2];
    let mut used = vec![0u64; (n1 + n2).div_ceil(64).max(1)];
    for j in 0..n2 {
        if let [m] = cands.at(j) {
            let alone = cov2[j..j + m.len].iter().all(|&c| c == 1)
                && cov1[m.match_start..m.match_start + m.match_len].iter().all(|&c| c == 1);
            if alone {
                fixed[j] = Some(*m);
                bits.set_used(&mut used, m);
            }
        }
    }
    let mut chosen = fixed.clone();
    let start = Start { cands: &cands, fixed: &fixed, bits: &bits, used: &used };
    SEARCH.with_borrow_mut(|buffers| {
        let best = match PackedKeys::for_pair(n1, n2, &cands, params) {
            Some(keys) => search(&start, params, &keys, skip_idle, buffers),
            None => search(&start, params, &WideKeys, skip_idle, buffers),
        };
        let mut at = best.chain;
        while at != NO_MATCH {
            let (candidate, parent) = buffers.arena[at as usize];
            let m = cands.matches[candidate as usize];
            chosen[m.start] = Some(m);
            at = parent;
        }
    });
    let stats = statistics(test, reference, &chosen);
    Alignment { matches: chosen.iter().flatten().copied().collect(), stats }
}

/// The beam search's buffers, kept per thread so that aligning a corpus allocates them once.
#[derive(Default)]
struct SearchBuffers {
    /// Every match chosen by some path (its index in the candidates), with the arena index of the path's
    /// previous match.
    arena: Vec<(u32, u32)>,
    /// The paths of this step and the next.
    paths: Vec<Path>,
    next: Vec<Path>,
    /// Every path's used-word bits (`stride` words from its `used_at`).
    pool: Vec<u64>,
    /// A step's ranking keys (packed or wide).
    packed: Vec<u64>,
    wide: Vec<<WideKeys as Ranking>::Key>,
}

/// The ranking buffer of a key type.
trait RankBuffer<K> {
    fn ranked(&mut self) -> &mut Vec<K>;
}

impl RankBuffer<u64> for SearchBuffers {
    fn ranked(&mut self) -> &mut Vec<u64> {
        &mut self.packed
    }
}

impl RankBuffer<<WideKeys as Ranking>::Key> for SearchBuffers {
    fn ranked(&mut self) -> &mut Vec<<WideKeys as Ranking>::Key> {
        &mut self.wide
    }
}

thread_local! {
    static SEARCH: std::cell::RefCell<SearchBuffers> = std::cell::RefCell::default();
}

/// Keeps the first `beam` keys, sorted. Keys are unique (arrivals differ), so this is the order of a full
/// sort. Steps that keep most of their paths insert each into the sorted prefix (at most `beam` moves
/// each, few when the paths arrive nearly in order); branching steps, which drop most, select the best
/// `beam` first and sort only those.
fn rank<K: Copy + Ord>(ranked: &mut Vec<K>, beam: usize) {
    if ranked.len() > beam + beam / 2 && beam > 0 {
        ranked.select_nth_unstable(beam - 1);
        ranked.truncate(beam);
        ranked.sort_unstable();
        return;
    }
    let mut len = 0;
    for k in 0..ranked.len() {
        let e = ranked[k];
        if len == beam {
            if beam == 0 || e > ranked[len - 1] {
                continue;
            }
            len -= 1;
        }
        // `len <= k`: the slots written below were read already.
        let mut at = len;
        while at > 0 && ranked[at - 1] > e {
            ranked[at] = ranked[at - 1];
            at -= 1;
        }
        ranked[at] = e;
        len += 1;
    }
    ranked.truncate(len);
}

/// What the beam search starts from: the candidates, the matches fixed before it and their used-word bits.
struct Start<'a> {
    cands: &'a Candidates,
    fixed: &'a [Option<Match>],
    bits: &'a Bits,
    used: &'a [u64],
}

fn search<R: Ranking>(
    start: &Start,
    params: &MeteorParams,
    ranking: &R,
    skip_idle: bool,
    buffers: &mut SearchBuffers,
) -> Path
where
    SearchBuffers: RankBuffer<R::Key>,
{
    let Start { cands, fixed, bits, used: start_used } = *start;
    let w = &params.search_weights;
    let n1 = bits.n1;
    let n2 = cands.starts.len() - 1;
    let stride = start_used.len();
    let mut ranked = std::mem::take(buffers.ranked());
    let SearchBuffers { arena, paths, next, pool, .. } = buffers;
    arena.clear();
    next.clear();
    next.push(Path::START);
    // Bits never change once written: a path that does not branch keeps its parent's.
    pool.clear();
    pool.extend_from_slice(start_used);
    // Reference positions that no candidate starts at and no fixed match covers.
    let idle = |j: usize| j < n2 && cands.starts[j] == cands.starts[j + 1] && !bits.any(start_used, n1 + j, 1);
    let mut current = 0;
    while current <= n2 {
        // The step's paths become the previous step's; the buffers are reused.
        std::mem::swap(paths, next);
        next.clear();
        // The beam: the best `beam` paths in (coverage, chunks, distance) order, ties by arrival (a stable sort).
        ranked.clear();
        ranked.extend(paths.iter().enumerate().map(|(i, p)| ranking.key(p, i)));
        rank(&mut ranked, params.beam);
        // At an idle position a path that has reached it (none of its matches reaches further) closes its
        // chunk and moves on; at the idle positions after it, it only moves on, its key unchanged, so each
        // of those steps ranks the beam as the one before did. When every path has reached the position, a
        // stretch of idle positions is therefore passed in one step (the next step ranks the beam as all of
        // them would have).
        if skip_idle && idle(current) && ranked.iter().all(|&key| paths[ranking.arrival(key)].idx as usize == current) {
            let mut to = current + 1;
            while idle(to) {
                to += 1;
            }
            next.extend(ranked.iter().map(|&key| {
                let mut path = paths[ranking.arrival(key)];
                path.close_chunk();
                path.idx = to as u32;
                path
            }));
            current = to;
            continue;
        }
        for &key in ranked.iter() {
            let slot = ranking.arrival(key);
            let mut path = paths[slot];
            if path.pending != NO_MATCH {
                // Ranked into the beam: its match joins the arena and its bits are written (once).
                arena.push((path.pending, path.chain));
                path.chain = (arena.len() - 1) as u32;
                let parent = path.used_at as usize;
                path.used_at = pool.len() as u32;
                pool.extend_from_within(parent..parent + stride);
                let at = path.used_at as usize;
                bits.set_used(&mut pool[at..at + stride], &cands.matches[path.pending as usize]);
                path.pending = NO_MATCH;
                paths[slot] = path;
            }
            let used_at = path.used_at as usize;
            if current == n2 {
                path.close_chunk();
                next.push(path);
                continue;
            }
            if bits.any(&pool[used_at..used_at + stride], n1 + current, 1) {
                if current < path.idx as usize {
                    next.push(path);
                } else if let Some(m) = fixed.get(path.idx as usize).copied().flatten() {
                    // A match fixed before the search.
                    path.extend(&m, w);
                    path.distance += m.start.abs_diff(m.match_start) as u64;
                    next.push(path);
                }
                continue;
            }
            let first = cands.starts[current];
            for (k, m) in cands.at(current).iter().enumerate() {
                if bits.is_used(&pool[used_at..used_at + stride], m) {
                    continue;
                }
                let mut branch = path;
                branch.pending = first + k as u32;
                branch.extend(m, w);
                next.push(branch);
                // The jar adds the distance to the parent path, not to the branch.
                path.distance += m.start.abs_diff(m.match_start) as u64;
            }
            // Or leave this reference word unmatched.
            path.close_chunk();
            path.idx += 1;
            next.push(path);
        }
        if next.is_empty() {
            if let Some(&key) = ranked.first() {
                next.push(paths[ranking.arrival(key)]);
            }
        }
        current += 1;
    }
    let best = next.iter().enumerate().min_by_key(|&(i, p)| ranking.key(p, i)).map_or(Path::START, |(_, p)| *p);
    *buffers.ranked() = ranked;
    best
}

fn statistics(test: &PreparedText, reference: &PreparedText, matches: &[Option<Match>]) -> MeteorStats {
    let (f1, f2) = (&test.function, &reference.function);
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

#[cfg(test)]
mod tests {
    use super::*;
    use cxr_core::rng::splitmix64;

    /// Random paths within a pair's bounds (coverage from non-overlapping weighted matches, distance below
    /// its bound), many with equal keys so that arrival order decides.
    fn random_paths(seed: u64, count: usize, n1: usize, n2: usize, max_distance: u64) -> Vec<Path> {
        (0..count)
            .map(|k| {
                let r = |i: u64| splitmix64(seed, 4 * k as u64 + i);
                Path {
                    covered_test: (r(0) % (n1 as u64 + 1) / 2) as i32,
                    covered_ref: (r(1) % (n2 as u64 + 1) / 2) as i32,
                    chunks: (r(2) % 4) as u32,
                    distance: r(3) % 3 * (max_distance / 3),
                    ..Path::START
                }
            })
            .collect()
    }

    #[test]
    fn passing_idle_positions_at_once_changes_no_alignment() {
        // Exact, stem and multi-word paraphrase matches among repeated words, words the other text lacks
        // (idle positions, in stretches, some inside a paraphrase's span), and narrow beams, so that ties,
        // truncation and open chunks all occur.
        let mut table = super::super::ParaphraseTable::empty();
        for (phrase, para) in [
            (&["heart", "is", "normal"][..], &["normal", "heart"][..]),
            (&["no", "effusion"], &["clear"]),
            (&["lung", "clear"], &["lungs"]),
            (&["pleural", "effusion", "seen"], &["effusions", "xray"]),
            (&["normal", "heart", "size"], &["heart", "is", "normal"]),
            (&["stable", "chest"], &["no", "effusion", "seen"]),
        ] {
            table.push(phrase, para);
            table.push(para, phrase);
        }
        let res = MeteorResources::from_parts("the\na\nof\nis\nno\n", "", None, Some(table)).unwrap();
        // Ten words both texts draw from, then five only the test and five only the reference use.
        let vocabulary = [
            "the",
            "heart",
            "is",
            "normal",
            "no",
            "effusion",
            "lung",
            "clear",
            "pleural",
            "a",
            "hearts",
            "effusions",
            "xray",
            "seen",
            "of",
            "lungs",
            "size",
            "sized",
            "stable",
            "chest",
        ];
        let mut compared = 0;
        for seed in 0..1500u64 {
            let text = |side: u64| -> Vec<String> {
                let len = 1 + splitmix64(seed, side) % 30;
                (0..len)
                    .map(|k| {
                        let r = splitmix64(seed, 1000 * side + k) as usize;
                        let at = if r.is_multiple_of(3) { 5 + 5 * side as usize + r / 3 % 5 } else { r / 3 % 10 };
                        vocabulary[at].to_string()
                    })
                    .collect()
            };
            let (test, reference) = (PreparedText::new(&text(1), &res), PreparedText::new(&text(2), &res));
            for beam in [1, 2, 5, 40] {
                let params = MeteorParams { beam, ..MeteorParams::default() };
                let skipping = align_with(&test, &reference, &res, &params, true);
                let stepping = align_with(&test, &reference, &res, &params, false);
                assert_eq!(skipping.matches, stepping.matches, "seed {seed}, beam {beam}");
                assert_eq!(skipping.stats, stepping.stats, "seed {seed}, beam {beam}");
                compared += usize::from(!stepping.matches.is_empty());
            }
        }
        assert!(compared > 3000, "{compared} alignments with matches");
    }

    #[test]
    fn packed_keys_rank_as_wide_keys_and_rank_keeps_the_sorted_beam() {
        let (n1, n2) = (37, 52);
        let matches: Vec<Match> =
            (0..60).map(|k| Match { module: 0, start: k % n2, len: 1, match_start: k % n1, match_len: 1 }).collect();
        let mut starts = vec![0u32; n2 + 1];
        for m in &matches {
            starts[m.start + 1] += 1;
        }
        for j in 0..n2 {
            starts[j + 1] += starts[j];
        }
        let mut sorted = matches.clone();
        sorted.sort_by_key(|m| m.start);
        let cands = Candidates { starts, matches: sorted };
        let params = MeteorParams::default();
        let packed = PackedKeys::for_pair(n1, n2, &cands, &params).expect("a small pair fits in 64 bits");
        let bound = (cands.matches.len() as u64 + n2 as u64) * n1.max(n2) as u64;
        for seed in 0..20 {
            let paths = random_paths(seed, 90, n1, n2, bound);
            let mut wide: Vec<_> = paths.iter().enumerate().map(|(i, p)| WideKeys.key(p, i)).collect();
            let mut keys: Vec<u64> = paths.iter().enumerate().map(|(i, p)| packed.key(p, i)).collect();
            let mut full = wide.clone();
            full.sort();
            for beam in [0, 1, 7, 40, 200] {
                rank(&mut wide, beam);
                rank(&mut keys, beam);
                let expect: Vec<usize> = full.iter().take(beam).map(|&k| WideKeys.arrival(k)).collect();
                assert_eq!(wide.iter().map(|&k| WideKeys.arrival(k)).collect::<Vec<_>>(), expect, "beam {beam}");
                assert_eq!(keys.iter().map(|&k| packed.arrival(k)).collect::<Vec<_>>(), expect, "beam {beam}");
                wide = paths.iter().enumerate().map(|(i, p)| WideKeys.key(p, i)).collect();
                keys = paths.iter().enumerate().map(|(i, p)| packed.key(p, i)).collect();
            }
        }
        // Negative search weights have no packed layout (the wide keys still rank them).
        let odd = MeteorParams { search_weights: [1.0, -0.5, 0.5, 0.5], ..params };
        assert!(PackedKeys::for_pair(n1, n2, &cands, &odd).is_none());
        // Nor do weights too large for the bits (no overflow on the way).
        let huge = MeteorParams { search_weights: [1e300, 0.5, 0.5, 0.5], ..params };
        assert!(PackedKeys::for_pair(n1, n2, &cands, &huge).is_none());
    }
}
