//! An on-disk index of METEOR's paraphrase table, so that scoring reads only the entries that can match the
//! texts at hand instead of inflating and parsing the whole table (`paraphrase-en.gz`: 61 MB compressed,
//! 272 MB of text, 5.3 million entries, about 1.2 s) on every run.
//!
//! An entry can only match texts that contain every one of its words, so each entry is stored once under
//! its *key word* (the word of the entry that occurs in the fewest entries) and, within that word's group,
//! under its *second key* (the next rarest; the key itself for an entry of one distinct word). Loading looks
//! up each word of the texts (binary search in the sorted word list), reads the groups of those words, scans
//! only the entries whose second key is also a word of the texts (60% fewer than the whole groups on the
//! IU X-Ray texts), keeps those the [`PhraseFilter`] admits and replays them in file order — the resulting
//! [`ParaphraseTable`] is the one [`ParaphraseTable::read`] builds with the same filter, entry for entry.
//!
//! The index records the table's byte size and modification time and counts as stale when either differs;
//! every offset and every id read is bounds-checked, so a damaged index is an error, never a panic.
//!
//! Format (little-endian): magic `CXRMPX03`; table size `u64`; table mtime (ns since the epoch) `u64`;
//! word count W `u32`; entry count `u32`; word-bytes length `u64`; W+1 word offsets `u32`; the word bytes
//! (words sorted bytewise, id = rank); W+1 group offsets `u64` (relative to the entries section); the groups,
//! one per key word (empty when no entry has that key): a directory — its length `u32`, then per second key
//! the word id `u32` and the end of its entries `u32` (relative to the directory's end) — then the entries,
//! by second key, each in file order: file index `u32`, phrase length `u16`, paraphrase length `u16`, word
//! ids × (phrase + paraphrase length), each a `u16` when W ≤ 65,536 (METEOR's English table has 43,139
//! words) and a `u32` otherwise. (Indexes of earlier formats fail the magic check and are rebuilt.)

use super::resources::{MeteorError, ParaphraseTable, PhraseFilter};
use cxr_core::hash::FxHashMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"CXRMPX03";

/// Bytes per word id in an index of `n_words` words.
fn id_width(n_words: usize) -> usize {
    if n_words <= 1 << 16 {
        2
    } else {
        4
    }
}

fn format_err(path: &Path, problem: impl Into<String>) -> MeteorError {
    MeteorError::Format { path: path.to_path_buf(), problem: problem.into() }
}

fn read_err(path: &Path) -> impl Fn(std::io::Error) -> MeteorError + '_ {
    move |source| MeteorError::Read { path: path.to_path_buf(), source }
}

/// The size and modification time (ns since the epoch, 0 if unknown) that identify a table file.
pub(crate) fn fingerprint(table: &Path) -> Result<(u64, u64), MeteorError> {
    let meta = std::fs::metadata(table).map_err(read_err(table))?;
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as u64);
    Ok((meta.len(), mtime))
}

/// The index file for `table` inside `cache_dir` (named after the table's fingerprint).
pub fn index_path(table: &Path, cache_dir: &Path) -> Result<PathBuf, MeteorError> {
    let (len, mtime) = fingerprint(table)?;
    Ok(cache_dir.join(format!("meteor-paraphrase-{len}-{mtime}.idx")))
}

/// Builds the index of the gzipped table `table` and writes it to `out` (atomically: a temporary file in the
/// same folder, then a rename).
pub fn build(table: &Path, out: &Path) -> Result<(), MeteorError> {
    let (len, mtime) = fingerprint(table)?;
    let file = std::fs::File::open(table).map_err(read_err(table))?;
    // Words get temporary ids in order of appearance; each entry is (file index, phrase length, start).
    let mut ids: FxHashMap<String, u32> = FxHashMap::default();
    let mut words: Vec<u32> = Vec::new();
    let mut entries: Vec<(u16, u16, usize)> = Vec::new();
    let mut too_long = false;
    let decoder = flate2::read::MultiGzDecoder::new(std::io::BufReader::with_capacity(1 << 16, file));
    cxr_core::pipe::read_pipelined("gzip", decoder, |reader| {
        ParaphraseTable::for_each_entry(std::io::BufReader::with_capacity(1 << 16, reader), |phrase, para| {
            let start = words.len();
            let mut intern = |w: &str| {
                let next = ids.len() as u32;
                *ids.entry(w.to_string()).or_insert(next)
            };
            words.extend(phrase.split_whitespace().map(&mut intern));
            let plen = words.len() - start;
            words.extend(para.split_whitespace().map(&mut intern));
            let qlen = words.len() - start - plen;
            match (u16::try_from(plen), u16::try_from(qlen)) {
                (Ok(p), Ok(q)) => entries.push((p, q, start)),
                _ => too_long = true,
            }
        })
    })
    .map_err(|e| format_err(table, format!("the gzip stream is corrupt or truncated ({e})")))?;
    if too_long {
        return Err(format_err(table, "an entry has more than 65,535 words; is this METEOR's paraphrase table?"));
    }
    // Ids by rank in bytewise order, so loading can binary-search the word list.
    let mut sorted: Vec<(&str, u32)> = ids.iter().map(|(w, &i)| (w.as_str(), i)).collect();
    sorted.sort_unstable();
    let mut rank = vec![0u32; sorted.len()];
    for (r, &(_, old)) in sorted.iter().enumerate() {
        rank[old as usize] = r as u32;
    }
    for w in &mut words {
        *w = rank[*w as usize];
    }
    // Key word of each entry: its word used by the fewest entries (ties: the smaller id); second key: the
    // next such word (the key itself for an entry of one distinct word). Both must occur in the texts.
    let mut uses = vec![0u32; sorted.len()];
    for &(p, q, start) in &entries {
        for &w in &words[start..start + usize::from(p) + usize::from(q)] {
            uses[w as usize] += 1;
        }
    }
    let keys_of = |&(p, q, start): &(u16, u16, usize)| -> (u32, u32) {
        let (mut best, mut second) = ((u32::MAX, u32::MAX), (u32::MAX, u32::MAX));
        for &w in &words[start..start + usize::from(p) + usize::from(q)] {
            let c = (uses[w as usize], w);
            if c < best {
                second = best;
                best = c;
            } else if c != best && c < second {
                second = c;
            }
        }
        (best.1, if second.1 == u32::MAX { best.1 } else { second.1 })
    };
    // Entries by key, then second key, then file order.
    let mut order: Vec<(u32, u32, u32)> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let (k, s) = keys_of(e);
            (k, s, i as u32)
        })
        .collect();
    order.sort_unstable();
    let n_words = sorted.len();
    let width = id_width(n_words);
    let entry_bytes = |e: &(u16, u16, usize)| 8 + width * (usize::from(e.0) + usize::from(e.1));
    let mut group_bytes = vec![0u64; n_words + 1];
    // The body's exact size (entries, plus per group a directory length and per second key 8 bytes), so it
    // is allocated once (it is 118 MB for the English table).
    let new_group = |i: usize| i == 0 || order[i].0 != order[i - 1].0;
    let new_second = |i: usize| new_group(i) || order[i].1 != order[i - 1].1;
    let size = (0..order.len())
        .map(|i| {
            entry_bytes(&entries[order[i].2 as usize]) + 4 * usize::from(new_group(i)) + 8 * usize::from(new_second(i))
        })
        .sum();
    let mut body: Vec<u8> = Vec::with_capacity(size);
    let mut at = 0;
    while at < order.len() {
        let key = order[at].0;
        let end = at + order[at..].iter().take_while(|e| e.0 == key).count();
        let group = &order[at..end];
        // The directory: each second key with the end of its entries (from the end of the directory).
        let mut directory: Vec<(u32, u32)> = Vec::new();
        let mut bytes = 0usize;
        for (i, e) in group.iter().enumerate() {
            bytes += entry_bytes(&entries[e.2 as usize]);
            if group.get(i + 1).is_none_or(|n| n.1 != e.1) {
                let end = u32::try_from(bytes).map_err(|_| {
                    format_err(table, "a word's entries exceed 4 GB; is this METEOR's paraphrase table?")
                })?;
                directory.push((e.1, end));
            }
        }
        body.extend_from_slice(&(directory.len() as u32).to_le_bytes());
        for (second, end) in &directory {
            body.extend_from_slice(&second.to_le_bytes());
            body.extend_from_slice(&end.to_le_bytes());
        }
        for &(_, _, index) in group {
            let e = &entries[index as usize];
            body.extend_from_slice(&index.to_le_bytes());
            body.extend_from_slice(&e.0.to_le_bytes());
            body.extend_from_slice(&e.1.to_le_bytes());
            for &w in &words[e.2..e.2 + usize::from(e.0) + usize::from(e.1)] {
                body.extend_from_slice(&w.to_le_bytes()[..width]);
            }
        }
        group_bytes[key as usize + 1] = body.len() as u64;
        at = end;
    }
    debug_assert_eq!(body.len(), size);
    // Offsets of groups with no entries: the end of the group before.
    for k in 1..=n_words {
        group_bytes[k] = group_bytes[k].max(group_bytes[k - 1]);
    }
    let mut head = Vec::new();
    head.extend_from_slice(MAGIC);
    head.extend_from_slice(&len.to_le_bytes());
    head.extend_from_slice(&mtime.to_le_bytes());
    head.extend_from_slice(&(n_words as u32).to_le_bytes());
    head.extend_from_slice(&(entries.len() as u32).to_le_bytes());
    let blob_len: usize = sorted.iter().map(|(w, _)| w.len()).sum();
    head.extend_from_slice(&(blob_len as u64).to_le_bytes());
    push_offsets(&mut head, sorted.iter().map(|(w, _)| w.len()));
    for (w, _) in &sorted {
        head.extend_from_slice(w.as_bytes());
    }
    for g in &group_bytes {
        head.extend_from_slice(&g.to_le_bytes());
    }
    write_atomic(out, &[&head, &body])
}

/// Appends `u32` offsets: 0, then the running sum of `lengths`.
pub(crate) fn push_offsets(out: &mut Vec<u8>, lengths: impl Iterator<Item = usize>) {
    let mut at = 0u32;
    out.extend_from_slice(&at.to_le_bytes());
    for len in lengths {
        at += len as u32;
        out.extend_from_slice(&at.to_le_bytes());
    }
}

/// Writes `parts` to `path` atomically (a temporary file in the same folder, then a rename), making the
/// folder first.
pub(crate) fn write_atomic(path: &Path, parts: &[&[u8]]) -> Result<(), MeteorError> {
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(read_err(dir))?;
    }
    cxr_core::atomic::write_atomic(path, parts).map_err(read_err(path))
}

/// Little-endian reads from a byte slice, bounds-checked.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4).map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")))
    }
    fn u64(&mut self) -> Option<u64> {
        self.take(8).map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
    }
}

/// The entries kept from some groups: (file index, start in `words`, phrase length, paraphrase length), and
/// their index word ids one after the other.
#[derive(Default)]
struct Kept {
    entries: Vec<(u32, usize, u16, u16)>,
    words: Vec<u32>,
    /// The entry being read (reused).
    ids: Vec<u32>,
}

impl Kept {
    /// Keeps the entries of one group that `filter` admits (`filter_id`: index word id → filter id, or
    /// `u32::MAX`; word ids `W` bytes each). The error names what is damaged.
    fn scan<const W: usize>(
        &mut self,
        group: &[u8],
        n_entries: u32,
        filter_id: &[u32],
        filter: &PhraseFilter,
    ) -> Result<(), &'static str> {
        let mut c = Cursor { bytes: group, at: 0 };
        while c.at < group.len() {
            let (Some(at), Some(p), Some(q)) = (c.u32(), c.u16(), c.u16()) else { return Err("entry") };
            let raw = c.take(W * (usize::from(p) + usize::from(q))).ok_or("entry")?;
            if at >= n_entries {
                return Err("entry ids");
            }
            // Most entries of a group use some word the texts lack: stop at the first.
            self.ids.clear();
            for b in raw.chunks_exact(W) {
                let mut le = [0u8; 4];
                le[..W].copy_from_slice(b);
                let w = u32::from_le_bytes(le);
                match filter_id.get(w as usize) {
                    None => return Err("entry ids"),
                    Some(&u32::MAX) => break,
                    Some(_) => self.ids.push(w),
                }
            }
            if self.ids.len() * W < raw.len() {
                continue;
            }
            let (phrase, para) = self.ids.split_at(usize::from(p));
            let admitted = |ws: &[u32]| filter.admits_ids(ws.iter().map(|&w| filter_id[w as usize]));
            if admitted(phrase) && admitted(para) {
                self.entries.push((at, self.words.len(), p, q));
                self.words.extend_from_slice(&self.ids);
            }
        }
        Ok(())
    }
}

/// Reads the entries of the index `index` (made from `table`) that `filter` admits, as a
/// [`ParaphraseTable`]. `Ok(None)` when the index is stale (the table changed since it was built).
pub fn load(index: &Path, table: &Path, filter: &PhraseFilter) -> Result<Option<ParaphraseTable>, MeteorError> {
    let corrupt =
        |what: &str| format_err(index, format!("damaged METEOR paraphrase index ({what}); delete it to rebuild"));
    let mut file = std::fs::File::open(index).map_err(read_err(index))?;
    let file_len = file.metadata().map_err(read_err(index))?.len();
    let mut fixed = [0u8; 40];
    file.read_exact(&mut fixed).map_err(|_| corrupt("short header"))?;
    let mut c = Cursor { bytes: &fixed, at: 0 };
    if c.take(8) != Some(MAGIC.as_slice()) {
        return Err(corrupt("not an index file"));
    }
    let (len, mtime) = (c.u64().unwrap_or(0), c.u64().unwrap_or(0));
    if (len, mtime) != fingerprint(table)? {
        return Ok(None);
    }
    let n_words = c.u32().unwrap_or(0) as usize;
    let n_entries = c.u32().unwrap_or(0);
    let blob_len = c.u64().unwrap_or(0);
    let head_len = 4 * (n_words as u64 + 1) + blob_len + 8 * (n_words as u64 + 1);
    if 40 + head_len > file_len {
        return Err(corrupt("truncated"));
    }
    let mut head = vec![0u8; head_len as usize];
    file.read_exact(&mut head).map_err(read_err(index))?;
    let mut c = Cursor { bytes: &head, at: 0 };
    let offsets: Vec<u32> = (0..=n_words).map(|_| c.u32()).collect::<Option<_>>().ok_or_else(|| corrupt("offsets"))?;
    let blob = c.take(blob_len as usize).ok_or_else(|| corrupt("words"))?;
    let groups: Vec<u64> = (0..=n_words).map(|_| c.u64()).collect::<Option<_>>().ok_or_else(|| corrupt("groups"))?;
    let body_start = 40 + head_len;
    let word = |i: usize| -> Option<&[u8]> { blob.get(offsets[i] as usize..offsets[i + 1] as usize) };
    // The texts' words in the index (binary search: the words are sorted bytewise), and each index word's
    // id in the filter (`u32::MAX`: a word the texts lack).
    let mut keys: Vec<u32> = Vec::new();
    let mut filter_id = vec![u32::MAX; n_words];
    for (w, id) in filter.words() {
        let (mut lo, mut hi) = (0usize, n_words);
        while lo < hi {
            let mid = (lo + hi) / 2;
            match word(mid).ok_or_else(|| corrupt("word offsets"))?.cmp(w.as_bytes()) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => {
                    keys.push(mid as u32);
                    filter_id[mid] = id;
                    break;
                }
            }
        }
    }
    keys.sort_unstable();
    // The groups of those words (in two halves of about equal bytes, read at once); keep the entries the
    // filter admits.
    let mut sizes = Vec::with_capacity(keys.len());
    for &k in &keys {
        let (from, to) = (groups[k as usize], groups[k as usize + 1]);
        if to < from || body_start + to > file_len {
            return Err(corrupt("group offsets"));
        }
        sizes.push(to - from);
    }
    let total: u64 = sizes.iter().sum();
    let mut half = 0;
    let mut sum = 0;
    while half < keys.len() && sum < total / 2 {
        sum += sizes[half];
        half += 1;
    }
    let scan = |keys: &[u32]| {
        let mut file = std::fs::File::open(index).map_err(read_err(index))?;
        let mut kept = Kept::default();
        let mut buf = Vec::new();
        for &k in keys {
            let (from, to) = (groups[k as usize], groups[k as usize + 1]);
            buf.resize((to - from) as usize, 0);
            file.seek(SeekFrom::Start(body_start + from)).map_err(read_err(index))?;
            file.read_exact(&mut buf).map_err(read_err(index))?;
            // Only the entries whose second key occurs in the texts can be kept.
            if buf.is_empty() {
                continue;
            }
            let mut c = Cursor { bytes: &buf, at: 0 };
            let n_sub = c.u32().ok_or_else(|| corrupt("group directory"))?;
            let directory = c.take(8 * n_sub as usize).ok_or_else(|| corrupt("group directory"))?;
            let body = &buf[c.at..];
            let mut from = 0;
            for sub in directory.chunks_exact(8) {
                let second = u32::from_le_bytes(sub[..4].try_into().expect("4 bytes")) as usize;
                let end = u32::from_le_bytes(sub[4..].try_into().expect("4 bytes")) as usize;
                let entries = body.get(from..end).ok_or_else(|| corrupt("group directory"))?;
                from = end;
                match filter_id.get(second) {
                    None => return Err(corrupt("group directory")),
                    Some(&u32::MAX) => continue,
                    Some(_) => {}
                }
                match id_width(n_words) {
                    2 => kept.scan::<2>(entries, n_entries, &filter_id, filter),
                    _ => kept.scan::<4>(entries, n_entries, &filter_id, filter),
                }
                .map_err(&corrupt)?;
            }
            if from != body.len() {
                return Err(corrupt("group directory"));
            }
        }
        Ok::<Kept, MeteorError>(kept)
    };
    let (first, second) = rayon::join(|| scan(&keys[..half]), || scan(&keys[half..]));
    let (mut first, second) = (first?, second?);
    let offset = first.words.len();
    first.entries.extend(second.entries.iter().map(|&(at, start, p, q)| (at, start + offset, p, q)));
    first.words.extend_from_slice(&second.words);
    let Kept { entries: mut kept, words: kept_words, .. } = first;
    // Replay in file order, as the table's reader would have met them.
    kept.sort_unstable_by_key(|e| e.0);
    // Index word id → table id, interned on first use (in file order, as the reader would).
    let mut table_id = vec![u32::MAX; n_words];
    let mut t = ParaphraseTable::empty();
    t.reserve(kept.len(), kept.iter().map(|e| usize::from(e.2)).sum());
    let (mut from, mut to) = (Vec::new(), Vec::new());
    for &(_, start, p, q) in &kept {
        let (p, q) = (usize::from(p), usize::from(q));
        from.clear();
        to.clear();
        for (k, &w) in kept_words[start..start + p + q].iter().enumerate() {
            let w = w as usize;
            if table_id[w] == u32::MAX {
                let text = word(w).and_then(|b| std::str::from_utf8(b).ok()).ok_or_else(|| corrupt("word bytes"))?;
                table_id[w] = t.intern(text);
            }
            if k < p {
                from.push(table_id[w]);
            } else {
                to.push(table_id[w]);
            }
        }
        t.push_ids(&from, &to);
    }
    Ok(Some(t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// Writes `text` gzipped as `dir/paraphrase-en.gz` (making `dir`).
    fn gz_table(dir: &Path, text: &str) -> PathBuf {
        std::fs::create_dir_all(dir).unwrap();
        let table = dir.join("paraphrase-en.gz");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(text.as_bytes()).unwrap();
        std::fs::write(&table, gz.finish().unwrap()).unwrap();
        table
    }

    /// Indexes a table of `n` entries `w{i} w{i+1} → v{i}` (2n + 1 distinct words) and checks that loading
    /// for some texts gives the table [`ParaphraseTable::read`] gives with the same filter, entry for entry.
    fn index_equals_reading(n: usize, expected_width: usize) {
        let dir = std::env::temp_dir().join(format!("cxr-index-width-{n}-{}", std::process::id()));
        let mut text = String::new();
        for i in 0..n {
            text.push_str(&format!("0.5\nw{i} w{}\nv{i}\n", i + 1));
        }
        // A phrase that several entries share, to check file order within a phrase, and an entry of one
        // distinct word (its second key is its key).
        text.push_str("0.25\nw3 w4\nv7\n0.125\nw5\nw5\n");
        let table = gz_table(&dir, &text);
        let last = n - 1;
        let texts = ["w3 w4 v7 and v3 w5".to_string(), format!("x w{last} w{n} y"), format!("v{last} w2 w3 w4")];
        let filter = PhraseFilter::new(texts.iter().map(|t| t.split_whitespace()));
        let idx = index_path(&table, &dir).unwrap();
        build(&table, &idx).unwrap();
        let loaded = load(&idx, &table, &filter).unwrap().expect("a fresh index");
        let read = ParaphraseTable::read(
            std::io::BufReader::new(flate2::read::GzDecoder::new(std::fs::File::open(&table).unwrap())),
            Some(&filter),
        )
        .unwrap();
        assert_eq!(loaded.len(), read.len());
        // w3 w4 → v3 and → v7, w{last} w{n} → v{last} and w5 → w5; every other entry has a word no text
        // has (w2 w3 → v2: v2).
        assert_eq!(loaded.len(), 4);
        for t in &texts {
            let words: Vec<&str> = t.split_whitespace().collect();
            let (a, b): (Vec<_>, Vec<_>) = words.iter().map(|w| (loaded.id(w), read.id(w))).unzip();
            assert_eq!(a, b, "{t}");
            for start in 0..words.len() {
                assert_eq!(loaded.phrases_at(&a, start), read.phrases_at(&b, start), "{t} at {start}");
            }
        }
        for i in 0..read.len() as u32 {
            assert_eq!(loaded.paraphrase(i), read.paraphrase(i));
        }
        // The ids take the width the word count needs: the index is about that much smaller.
        let per_entry = std::fs::metadata(&idx).unwrap().len() as f64 / n as f64;
        assert!(per_entry > (8 + 3 * expected_width) as f64, "{per_entry} bytes per entry");
        assert_eq!(id_width(2 * n + 1), expected_width);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_damaged_index_is_an_error_or_a_table_never_a_panic() {
        let dir = std::env::temp_dir().join(format!("cxr-index-damage-{}", std::process::id()));
        let text: String = (0..300).map(|i| format!("0.5\nw{i} w{}\nv{i} w{}\n", i + 1, i % 7)).collect();
        let table = gz_table(&dir, &text);
        let texts = ["w1 w2 v1 w1 and w3 w4", "v3 w3 w5 w6 v5 w5"];
        let filter = PhraseFilter::new(texts.iter().map(|t| t.split_whitespace()));
        let idx = index_path(&table, &dir).unwrap();
        build(&table, &idx).unwrap();
        let good = std::fs::read(&idx).unwrap();
        let kept = load(&idx, &table, &filter).unwrap().unwrap().len();
        assert!(kept > 0);
        // Bytes after the fixed header overwritten one at a time (with two values; about 400 positions spread
        // over the word list, the group offsets, the directories and the entries): each load gives a table or
        // an error naming the damage, and the fingerprint still matches, so nothing is passed over as stale.
        let (mut errors, mut tables) = (0, 0);
        for at in (40..good.len()).step_by((good.len() / 400).max(1)) {
            for value in [0xFF, 0x00] {
                let mut bad = good.clone();
                bad[at] = value;
                std::fs::write(&idx, &bad).unwrap();
                match load(&idx, &table, &filter) {
                    Ok(Some(_)) => tables += 1,
                    Ok(None) => panic!("stale"),
                    Err(e) => {
                        assert!(e.to_string().contains("damaged"), "{e}");
                        errors += 1;
                    }
                }
            }
        }
        assert!(errors > 0 && tables > 0, "{errors} errors, {tables} tables");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn sixteen_bit_ids_for_small_vocabularies() {
        index_equals_reading(1000, 2);
    }

    #[test]
    fn thirty_two_bit_ids_past_65536_words() {
        index_equals_reading(40_000, 4);
    }
}
