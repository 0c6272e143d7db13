//! An on-disk copy of WordNet's synset lists (`synonym/english.synsets`, 3.7 MB of text deflated inside the
//! jar), sorted by word, so that a run looks up the few thousand words its texts need instead of
//! inflating and scanning the whole file (about 30 ms, on every run).
//!
//! The copy records the size and modification time of the file it was made from (the jar, or the unpacked
//! `english.synsets`) and counts as stale when either differs; every offset is bounds-checked on reading,
//! so a damaged copy is an error, never a panic. A word listed twice keeps its last list, as the jar's
//! reader does.
//!
//! Format (little-endian): magic `CXRMWN01`; source size `u64`; source mtime (ns since the epoch) `u64`;
//! word count W `u32`; id count `u32`; W+1 word offsets `u32`; W+1 id offsets `u32`; the ids `u32`; the
//! word bytes (words sorted bytewise).

use super::index::{fingerprint, push_offsets, write_atomic};
use super::resources::{for_each_synset_list, MeteorError};
use cxr_core::hash::FxHashMap;
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"CXRMWN01";
const HEAD: usize = 32;

/// The copy for `source` (the jar or `english.synsets`) inside `cache_dir`, named after its fingerprint.
pub fn synsets_path(source: &Path, cache_dir: &Path) -> Result<PathBuf, MeteorError> {
    let (len, mtime) = fingerprint(source)?;
    Ok(cache_dir.join(format!("meteor-synsets-{len}-{mtime}.idx")))
}

/// Writes the sorted copy of `synsets` (the text of `english.synsets`, read from `source`) to `out`,
/// atomically.
pub fn build(synsets: &str, source: &Path, out: &Path) -> Result<(), MeteorError> {
    let (len, mtime) = fingerprint(source)?;
    let mut by_word: FxHashMap<&str, Vec<u32>> = FxHashMap::default();
    for_each_synset_list(
        synsets,
        |_| true,
        |word, set| {
            by_word.insert(word, set);
        },
    )
    .map_err(|problem| MeteorError::Format { path: source.to_path_buf(), problem })?;
    let mut words: Vec<(&str, Vec<u32>)> = by_word.into_iter().collect();
    words.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let total: usize = words.iter().map(|w| w.1.len()).sum();
    let mut bytes = Vec::with_capacity(HEAD + 8 * (words.len() + 1) + 4 * total + synsets.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&len.to_le_bytes());
    bytes.extend_from_slice(&mtime.to_le_bytes());
    bytes.extend_from_slice(&(words.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&(total as u32).to_le_bytes());
    push_offsets(&mut bytes, words.iter().map(|(w, _)| w.len()));
    push_offsets(&mut bytes, words.iter().map(|(_, ids)| ids.len()));
    for (_, ids) in &words {
        for id in ids {
            bytes.extend_from_slice(&id.to_le_bytes());
        }
    }
    for (w, _) in &words {
        bytes.extend_from_slice(w.as_bytes());
    }
    write_atomic(out, &[&bytes])
}

/// WordNet's synset lists, read from a copy made by [`build`].
#[derive(Debug)]
pub struct SynsetTable {
    bytes: Vec<u8>,
    words: usize,
}

impl SynsetTable {
    /// Reads the copy at `path` made from `source`; `Ok(None)` when it is stale.
    pub fn load(path: &Path, source: &Path) -> Result<Option<SynsetTable>, MeteorError> {
        let corrupt = |what: &str| MeteorError::Format {
            path: path.to_path_buf(),
            problem: format!("damaged WordNet copy ({what}); delete it to rebuild"),
        };
        let bytes = std::fs::read(path).map_err(|source| MeteorError::Read { path: path.to_path_buf(), source })?;
        if bytes.len() < HEAD || &bytes[..8] != MAGIC {
            return Err(corrupt("not a WordNet copy"));
        }
        let u64_at = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().expect("8 bytes"));
        if (u64_at(8), u64_at(16)) != fingerprint(source)? {
            return Ok(None);
        }
        let t = SynsetTable { words: u32_at(&bytes, 24).unwrap_or(0) as usize, bytes };
        let ids = u32_at(&t.bytes, 28).unwrap_or(0) as usize;
        let words_end = t.word_bytes_start().checked_add(t.offset(0, t.words).ok_or_else(|| corrupt("offsets"))?);
        let ids_ok = t.offset(1, t.words) == Some(ids as u32 as usize);
        if words_end != Some(t.bytes.len()) || !ids_ok {
            return Err(corrupt("sizes"));
        }
        Ok(Some(t))
    }

    /// Offset `k` of table `which` (0: word bytes, 1: ids).
    fn offset(&self, which: usize, k: usize) -> Option<usize> {
        u32_at(&self.bytes, HEAD + 4 * (which * (self.words + 1) + k)).map(|o| o as usize)
    }

    fn ids_start(&self) -> usize {
        HEAD + 8 * (self.words + 1)
    }

    fn word_bytes_start(&self) -> usize {
        self.ids_start() + 4 * self.offset(1, self.words).unwrap_or(0)
    }

    fn word(&self, k: usize) -> Option<&[u8]> {
        let start = self.word_bytes_start();
        self.bytes.get(start + self.offset(0, k)?..start + self.offset(0, k + 1)?)
    }

    /// The synsets of `word` (`None` when WordNet does not list it, or the copy is damaged there).
    pub fn get(&self, word: &str) -> Option<Vec<u32>> {
        let (mut lo, mut hi) = (0, self.words);
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.word(mid)?.cmp(word.as_bytes()) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => {
                    let (from, to) = (self.offset(1, mid)?, self.offset(1, mid + 1)?);
                    let at = self.ids_start();
                    return (from..to).map(|k| u32_at(&self.bytes, at + 4 * k)).collect();
                }
            }
        }
        None
    }
}

fn u32_at(bytes: &[u8], i: usize) -> Option<u32> {
    bytes.get(i..i.checked_add(4)?).map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_answers_as_the_text_and_damage_is_an_error() {
        let dir = std::env::temp_dir().join(format!("cxr-synset-index-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let source = dir.join("english.synsets");
        let text = "run\n4 9\nbox\n1 2\nzebra\n\nbox\n3\n";
        std::fs::write(&source, text).unwrap();
        let out = synsets_path(&source, &dir).unwrap();
        build(text, &source, &out).unwrap();
        let t = SynsetTable::load(&out, &source).unwrap().unwrap();
        assert_eq!(t.get("run"), Some(vec![4, 9]));
        assert_eq!(t.get("box"), Some(vec![3]), "the last list of a word listed twice");
        assert_eq!(t.get("zebra"), Some(vec![]));
        assert_eq!(t.get("cat"), None);
        // Damaged: truncated, or not a copy at all.
        let bytes = std::fs::read(&out).unwrap();
        std::fs::write(&out, &bytes[..bytes.len() - 3]).unwrap();
        assert!(SynsetTable::load(&out, &source).unwrap_err().to_string().contains("damaged"));
        std::fs::write(&out, b"nonsense").unwrap();
        assert!(SynsetTable::load(&out, &source).is_err());
        assert!(build("w\nx y\n", &source, &out).is_err(), "a synset number that is not a number");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
