//! METEOR's language resources: function words, nonbreaking prefixes, the WordNet synonym dictionary and
//! the paraphrase table, read from the files pycocoevalcap installs (the jar is a zip archive).

use super::normalize::{parse_nonbreaking, Nonbreaking};
use cxr_core::hash::{FxHashMap, FxHashSet};
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};

/// Why the resources could not be read.
#[derive(Debug, thiserror::Error)]
pub enum MeteorError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: {problem}")]
    Format { path: PathBuf, problem: String },
    #[error(
        "{path}: no METEOR resources found ({missing}); give the `meteor` folder of an installed pycocoevalcap \
         (it holds meteor-1.5.jar and data/paraphrase-en.gz), the jar itself, or a folder with the jar's files unpacked"
    )]
    NotFound { path: PathBuf, missing: String },
}

fn format_err(path: &Path, problem: impl Into<String>) -> MeteorError {
    MeteorError::Format { path: path.to_path_buf(), problem: problem.into() }
}

/// WordNet synsets (`english.synsets`) and irregular forms (`english.exceptions`), as the jar loads them.
#[derive(Debug, Default)]
pub struct SynonymDictionary {
    synsets: FxHashMap<String, Vec<u32>>,
    bases: FxHashMap<String, Vec<String>>,
}

/// WordNet's detachment rules (noun, verb, adjective suffixes and their replacements), as the jar applies them.
const MORPH_RULES: [(&str, &str); 20] = [
    ("s", ""),
    ("ses", "s"),
    ("xes", "x"),
    ("zes", "z"),
    ("ches", "ch"),
    ("shes", "sh"),
    ("men", "man"),
    ("ies", "y"),
    ("s", ""),
    ("ies", "y"),
    ("es", "e"),
    ("es", ""),
    ("ed", "e"),
    ("ed", ""),
    ("ing", "e"),
    ("ing", ""),
    ("er", ""),
    ("est", ""),
    ("er", "e"),
    ("est", "e"),
];

impl SynonymDictionary {
    /// Parses the two files (pairs of lines: word, then synset numbers; base form, then its inflections).
    pub fn parse(exceptions: &str, synsets: &str) -> Result<Self, String> {
        Self::parse_filtered(exceptions, synsets, None)
    }

    /// As [`SynonymDictionary::parse`], keeping only what [`SynonymDictionary::all_synsets`] can look up for
    /// `words`: their own synsets, those of their irregular base forms and those of every form WordNet's
    /// suffix rules derive from them — so the answers for these words are the full dictionary's, at a
    /// fraction of the reading time.
    pub fn parse_for(exceptions: &str, synsets: &str, words: &FxHashSet<&str>) -> Result<Self, String> {
        Self::parse_filtered(exceptions, synsets, Some(words))
    }

    fn parse_filtered(exceptions: &str, synsets: &str, words: Option<&FxHashSet<&str>>) -> Result<Self, String> {
        let (mut d, needed) = Self::with_exceptions(exceptions, words);
        let wanted = |word: &str| needed.as_ref().is_none_or(|n| n.contains(word));
        for_each_synset_list(synsets, wanted, |word, set| {
            d.synsets.insert(word.to_string(), set);
        })?;
        Ok(d)
    }

    /// As [`SynonymDictionary::parse_for`], with the synsets looked up in a sorted copy of the synsets file.
    pub fn from_table(exceptions: &str, table: &super::synset_index::SynsetTable, words: &FxHashSet<&str>) -> Self {
        let (mut d, needed) = Self::with_exceptions(exceptions, Some(words));
        for w in needed.into_iter().flatten() {
            if let Some(set) = table.get(&w) {
                d.synsets.insert(w, set);
            }
        }
        d
    }

    /// The irregular forms (of `words` only, when given), and the words whose synsets `words` can need.
    fn with_exceptions(exceptions: &str, words: Option<&FxHashSet<&str>>) -> (Self, Option<FxHashSet<String>>) {
        let mut d = SynonymDictionary::default();
        let mut lines = exceptions.lines();
        while let Some(base) = lines.next() {
            let forms = lines.next().unwrap_or("");
            for form in forms.split_whitespace().filter(|f| words.is_none_or(|w| w.contains(*f))) {
                d.bases.entry(form.to_string()).or_default().push(base.to_string());
            }
        }
        let needed = words.map(|words| {
            let mut needed: FxHashSet<String> = words.iter().map(|w| w.to_string()).collect();
            needed.extend(d.bases.values().flatten().cloned());
            for w in words {
                for (suffix, ending) in MORPH_RULES {
                    if let Some(stem) = w.strip_suffix(suffix) {
                        needed.insert(format!("{stem}{ending}"));
                    }
                }
            }
            needed
        });
        (d, needed)
    }

    fn synsets_of(&self, word: &str) -> &[u32] {
        self.synsets.get(word).map(Vec::as_slice).unwrap_or(&[])
    }

    /// WordNet's base form of `word` that has synsets ("" when none; the word itself when it ends in "ss" or
    /// is shorter than three characters).
    fn morph<'a>(&self, word: &'a str) -> std::borrow::Cow<'a, str> {
        if word.ends_with("ss") || word.encode_utf16().count() <= 2 {
            return word.into();
        }
        for (suffix, ending) in MORPH_RULES {
            if let Some(stem) = word.strip_suffix(suffix) {
                let candidate = format!("{stem}{ending}");
                if self.synsets.contains_key(&candidate) {
                    return candidate.into();
                }
            }
        }
        "".into()
    }

    /// The synsets of a word and of its base forms.
    pub fn all_synsets(&self, word: &str) -> FxHashSet<u32> {
        let mut set: FxHashSet<u32> = self.synsets_of(word).iter().copied().collect();
        match self.bases.get(word) {
            Some(bases) => {
                for b in bases {
                    set.extend(self.synsets_of(b));
                }
            }
            None => set.extend(self.synsets_of(&self.morph(word))),
        }
        set
    }
}

/// Calls `f(word, synsets)` for each entry of a WordNet synsets file (pairs of lines: a word, then its
/// synset numbers) whose word `wanted` accepts, in file order (a word listed twice is met twice).
pub(crate) fn for_each_synset_list<'a>(
    synsets: &'a str,
    wanted: impl Fn(&str) -> bool,
    mut f: impl FnMut(&'a str, Vec<u32>),
) -> Result<(), String> {
    let mut lines = synsets.lines();
    while let Some(word) = lines.next() {
        let ids = lines.next().unwrap_or("");
        if !wanted(word) {
            continue;
        }
        let set = ids
            .split_whitespace()
            .map(|t| t.parse::<u32>().map_err(|_| format!("synset number {t:?} after {word:?} is not a number")))
            .collect::<Result<Vec<u32>, String>>()?;
        f(word, set);
    }
    Ok(())
}

/// Texts as word ids: each distinct word once (`words[id]`), each text as the ids of its words.
pub(crate) struct Interned<'a> {
    pub(crate) words: Vec<&'a str>,
    pub(crate) texts: Vec<Vec<u32>>,
}

impl<'a> Interned<'a> {
    pub(crate) fn new<W: IntoIterator<Item = &'a str>>(texts: impl IntoIterator<Item = W>) -> Self {
        let mut ids: FxHashMap<&str, u32> = FxHashMap::default();
        let mut words = Vec::new();
        let texts = texts
            .into_iter()
            .map(|t| {
                t.into_iter()
                    .map(|w| {
                        *ids.entry(w).or_insert_with(|| {
                            words.push(w);
                            words.len() as u32 - 1
                        })
                    })
                    .collect()
            })
            .collect();
        Interned { words, texts }
    }

    /// [`Interned::new`] of white-space separated texts, interned in parallel chunks and merged in order: the
    /// same ids (first appearance), without one thread hashing every word of the corpus.
    pub(crate) fn of_texts(texts: &'a [String]) -> Self {
        use rayon::prelude::*;
        let chunk = texts.len().div_ceil(4 * rayon::current_num_threads()).max(64);
        let parts: Vec<Interned<'a>> =
            texts.par_chunks(chunk).map(|c| Interned::new(c.iter().map(|t| t.split_whitespace()))).collect();
        // Interning the parts' word lists in order gives the corpus ids (first appearance); `global.texts[p]`
        // maps part `p`'s ids to them.
        let global = Interned::new(parts.iter().map(|p| p.words.iter().copied()));
        let mut all = Vec::with_capacity(texts.len());
        for (part, to_global) in parts.into_iter().zip(&global.texts) {
            all.extend(part.texts.into_iter().map(|mut t| {
                t.iter_mut().for_each(|id| *id = to_global[*id as usize]);
                t
            }));
        }
        Interned { words: global.words, texts: all }
    }
}

/// Which paraphrase entries can match a known set of texts. An entry matches only where its phrase occurs
/// in one text and its paraphrase in another, so it is kept when both sides could occur: every word is a word
/// of the texts and every two consecutive words are consecutive somewhere in them. Exact for those texts
/// (what is left out can never match them), and far smaller than keeping every entry whose words all occur
/// (a few common words combine into hundreds of thousands of entries).
#[derive(Debug, Default)]
pub struct PhraseFilter {
    ids: FxHashMap<String, u32>,
    /// Consecutive word pairs of the texts, as `first << 32 | second` ids.
    bigrams: FxHashSet<u64>,
}

impl PhraseFilter {
    /// The filter for texts given as their words (METEOR's tokens).
    pub fn new<'a, W: IntoIterator<Item = &'a str>>(texts: impl IntoIterator<Item = W>) -> Self {
        let interned = Interned::new(texts);
        Self::from_interned(&interned.words, &interned.texts)
    }

    /// The filter for texts given as word ids (`words[id]` is the word).
    pub(crate) fn from_interned(words: &[&str], texts: &[Vec<u32>]) -> Self {
        let ids = words.iter().enumerate().map(|(id, w)| (w.to_string(), id as u32)).collect();
        let bigrams =
            texts.iter().flat_map(|t| t.windows(2).map(|p| u64::from(p[0]) << 32 | u64::from(p[1]))).collect();
        PhraseFilter { ids, bigrams }
    }

    /// The words of the texts, with their ids.
    pub fn words(&self) -> impl Iterator<Item = (&str, u32)> {
        self.ids.iter().map(|(w, &id)| (w.as_str(), id))
    }

    /// Whether a word sequence given by ids can occur in the texts (its words are known).
    pub fn admits_ids(&self, ids: impl IntoIterator<Item = u32>) -> bool {
        self.admits_known(ids.into_iter().map(Some))
    }

    /// Whether a white-space separated phrase can occur in the texts.
    pub fn admits(&self, phrase: &str) -> bool {
        self.admits_known(phrase.split_whitespace().map(|w| self.ids.get(w).copied()))
    }

    /// Every word known (`Some`) and every two consecutive ones consecutive in some text.
    fn admits_known(&self, ids: impl Iterator<Item = Option<u32>>) -> bool {
        let mut prev: Option<u32> = None;
        for id in ids {
            let Some(id) = id else { return false };
            if prev.is_some_and(|p| !self.bigrams.contains(&(u64::from(p) << 32 | u64::from(id)))) {
                return false;
            }
            prev = Some(id);
        }
        true
    }
}

/// The trie's edge key: (state, word).
fn edge(state: usize, word: u32) -> u64 {
    ((state as u64) << 32) | u64::from(word)
}

/// The paraphrase table as the jar's transducer: a trie over reference phrases whose nodes list the
/// paraphrases (in file order) of the phrase that ends there.
#[derive(Debug)]
pub struct ParaphraseTable {
    vocab: FxHashMap<String, u32>,
    /// (state, word) → next state; one map for the whole trie (no allocation per state).
    edges: FxHashMap<u64, u32>,
    /// The root's edges by word id (`u32::MAX`: none): every walk starts there, most end after it.
    root: Vec<u32>,
    /// Per state: the paraphrases of the phrase ending there.
    emit: Vec<Vec<u32>>,
    /// Every paraphrase's word ids, one after the other; paraphrase `i` is
    /// `paraphrase_words[paraphrase_starts[i]..paraphrase_starts[i + 1]]` (one allocation, not one each).
    paraphrase_words: Vec<u32>,
    paraphrase_starts: Vec<usize>,
}

impl ParaphraseTable {
    /// An empty table.
    pub fn empty() -> Self {
        ParaphraseTable {
            vocab: FxHashMap::default(),
            edges: FxHashMap::default(),
            root: Vec::new(),
            emit: vec![Vec::new()],
            paraphrase_words: Vec::new(),
            paraphrase_starts: vec![0],
        }
    }

    /// Calls `f(phrase, paraphrase)` for each entry of a table (triples of lines: probability, phrase,
    /// paraphrase), in file order.
    pub fn for_each_entry(mut input: impl BufRead, mut f: impl FnMut(&str, &str)) -> std::io::Result<()> {
        let (mut prob, mut phrase, mut para) = (Vec::new(), Vec::new(), Vec::new());
        let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string());
        loop {
            prob.clear();
            if input.read_until(b'\n', &mut prob)? == 0 {
                return Ok(());
            }
            phrase.clear();
            para.clear();
            input.read_until(b'\n', &mut phrase)?;
            input.read_until(b'\n', &mut para)?;
            let phrase = std::str::from_utf8(&phrase).map_err(|_| bad("a phrase is not UTF-8"))?;
            let para = std::str::from_utf8(&para).map_err(|_| bad("a paraphrase is not UTF-8"))?;
            f(phrase, para);
        }
    }

    /// Adds an entry (after those already added: the order of a phrase's paraphrases is the file order).
    pub fn push(&mut self, phrase: &[&str], para: &[&str]) {
        let from: Vec<u32> = phrase.iter().map(|w| self.intern(w)).collect();
        let to: Vec<u32> = para.iter().map(|w| self.intern(w)).collect();
        self.push_ids(&from, &to);
    }

    /// Makes room for `entries` more entries with `phrase_words` phrase words in all.
    pub(crate) fn reserve(&mut self, entries: usize, phrase_words: usize) {
        self.edges.reserve(phrase_words);
        self.paraphrase_starts.reserve(entries);
    }

    /// As [`ParaphraseTable::push`], with words already given ids by [`ParaphraseTable::intern`].
    pub(crate) fn push_ids(&mut self, from: &[u32], to: &[u32]) {
        let index = self.len() as u32;
        self.paraphrase_words.extend_from_slice(to);
        self.paraphrase_starts.push(self.paraphrase_words.len());
        let mut s = 0usize;
        for &w in from {
            let n = self.emit.len() as u32;
            let next = if s == 0 {
                let at = w as usize;
                if at >= self.root.len() {
                    self.root.resize(at + 1, u32::MAX);
                }
                if self.root[at] == u32::MAX {
                    self.root[at] = n;
                }
                self.root[at]
            } else {
                *self.edges.entry(edge(s, w)).or_insert(n)
            };
            if next == n {
                self.emit.push(Vec::new());
            }
            s = next as usize;
        }
        self.emit[s].push(index);
    }

    /// Reads the table (triples of lines: probability, phrase, paraphrase). With `keep`, only entries whose
    /// phrase and paraphrase it admits are stored (exact for the texts it was made from).
    pub fn read(input: impl BufRead, keep: Option<&PhraseFilter>) -> std::io::Result<Self> {
        let mut t = ParaphraseTable::empty();
        Self::for_each_entry(input, |phrase, para| {
            if keep.is_some_and(|k| !k.admits(phrase) || !k.admits(para)) {
                return;
            }
            let phrase: Vec<&str> = phrase.split_whitespace().collect();
            let para: Vec<&str> = para.split_whitespace().collect();
            t.push(&phrase, &para);
        })?;
        Ok(t)
    }

    /// Reads a gzipped table, inflating on a second thread while this one parses (the two cost about the same).
    pub fn read_gz(file: std::fs::File, keep: Option<&PhraseFilter>) -> std::io::Result<Self> {
        let decoder = flate2::read::MultiGzDecoder::new(std::io::BufReader::with_capacity(1 << 16, file));
        cxr_core::pipe::read_pipelined("gzip", decoder, |reader| {
            Self::read(std::io::BufReader::with_capacity(1 << 16, reader), keep)
        })
    }

    pub(crate) fn intern(&mut self, w: &str) -> u32 {
        if let Some(&id) = self.vocab.get(w) {
            return id;
        }
        let n = self.vocab.len() as u32;
        self.vocab.insert(w.to_string(), n);
        n
    }

    /// The id of a word (`None` when the table never uses it).
    pub fn id(&self, w: &str) -> Option<u32> {
        self.vocab.get(w).copied()
    }

    /// Entries stored.
    pub fn len(&self) -> usize {
        self.paraphrase_starts.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `(phrase length, paraphrase index)` of every phrase starting at `words[start]`, shortest first.
    pub fn phrases_at(&self, words: &[Option<u32>], start: usize) -> Vec<(usize, u32)> {
        let mut out = Vec::new();
        self.phrases_at_into(words, start, &mut out);
        out
    }

    /// As [`ParaphraseTable::phrases_at`], appending to `out` (the aligner reuses one buffer).
    pub fn phrases_at_into(&self, words: &[Option<u32>], start: usize, out: &mut Vec<(usize, u32)>) {
        let mut s = 0usize;
        for (k, w) in words[start..].iter().enumerate() {
            let next = match w {
                Some(w) if s == 0 => self.root.get(*w as usize).filter(|&&n| n != u32::MAX),
                Some(w) => self.edges.get(&edge(s, *w)),
                None => None,
            };
            let Some(next) = next else { break };
            s = *next as usize;
            out.extend(self.emit[s].iter().map(|&i| (k + 1, i)));
        }
    }

    pub fn paraphrase(&self, index: u32) -> &[u32] {
        let i = index as usize;
        &self.paraphrase_words[self.paraphrase_starts[i]..self.paraphrase_starts[i + 1]]
    }
}

/// What the stem and synonym modules need of a word (computed once per word when cached).
#[derive(Debug, Clone)]
pub struct WordInfo {
    /// Java hash of the Snowball stem.
    pub stem_hash: i32,
    /// Whether the word is one of METEOR's function words (compared lower-cased).
    pub function: bool,
    /// Synsets of the word and its base forms, sorted.
    pub synsets: Vec<u32>,
}

/// Everything the aligner and the normaliser need.
#[derive(Debug, Default)]
pub struct MeteorResources {
    pub function_words: FxHashSet<String>,
    pub nonbreaking: FxHashMap<String, Nonbreaking>,
    pub synonyms: Option<SynonymDictionary>,
    pub paraphrases: Option<ParaphraseTable>,
    /// Where each resource came from (for reports).
    pub sources: Vec<String>,
}

impl MeteorResources {
    /// From the texts of the resource files (function words and nonbreaking prefixes one per line).
    pub fn from_parts(
        function_words: &str,
        nonbreaking_prefixes: &str,
        synonyms: Option<SynonymDictionary>,
        paraphrases: Option<ParaphraseTable>,
    ) -> Result<Self, MeteorError> {
        Ok(MeteorResources {
            function_words: function_words.lines().map(str::to_string).collect(),
            nonbreaking: parse_nonbreaking(nonbreaking_prefixes),
            synonyms,
            paraphrases,
            sources: Vec::new(),
        })
    }

    /// The stem, function-word flag and synsets of `word`.
    pub fn word_info(&self, word: &str) -> WordInfo {
        let mut synsets: Vec<u32> = match &self.synonyms {
            Some(s) => s.all_synsets(word).into_iter().collect(),
            None => Vec::new(),
        };
        synsets.sort_unstable();
        // Tokens are usually lower-case already: look them up without a lower-cased copy then.
        let function = if word.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase()) {
            self.function_words.contains(word)
        } else {
            self.function_words.contains(&word.to_lowercase())
        };
        WordInfo { stem_hash: super::java_hash(&crate::text::snowball::stem(word)), function, synsets }
    }

    /// The modules that can run (exact and stem always; synonym and paraphrase when their data was read).
    pub fn modules(&self) -> Vec<&'static str> {
        let mut m = vec!["exact", "stem"];
        if self.synonyms.is_some() {
            m.push("synonym");
        }
        if self.paraphrases.is_some() {
            m.push("paraphrase");
        }
        m
    }

    /// Reads the resources from `path`: pycocoevalcap's `meteor` folder (`meteor-1.5.jar` +
    /// `data/paraphrase-en.gz`), the jar itself (the paraphrase table then beside it in `data/`), or a
    /// folder with the jar unpacked (`function/`, `nonbreaking/`, `synonym/`, and `paraphrase-en.gz` or
    /// `data/paraphrase-en.gz`). All four modules are required: anything missing is an error naming it.
    /// `keep` filters the paraphrase table (see [`ParaphraseTable::read`]; [`super::Meteor::load_for`]
    /// builds it from the texts to score).
    pub fn load(path: &Path, keep: Option<&PhraseFilter>) -> Result<Self, MeteorError> {
        let files = ResourceFiles::open(path)?;
        let mut r = files.base()?;
        r.synonyms = Some(files.synonyms(None)?);
        r.read_paraphrases(&files.paraphrase_table()?, keep)?;
        Ok(r)
    }

    /// Reads the (gzipped) paraphrase table.
    pub(crate) fn read_paraphrases(&mut self, path: &Path, keep: Option<&PhraseFilter>) -> Result<(), MeteorError> {
        let file =
            std::fs::File::open(path).map_err(|source| MeteorError::Read { path: path.to_path_buf(), source })?;
        let table = ParaphraseTable::read_gz(file, keep)
            .map_err(|e| format_err(path, format!("the gzip stream is corrupt or truncated ({e})")))?;
        self.paraphrases = Some(table);
        self.sources.push(path.display().to_string());
        Ok(())
    }
}

/// Where METEOR's resource files are: inside the jar (its directory read once, members read and unpacked
/// when asked for) or in a folder with the jar unpacked; the paraphrase table is a separate file beside them.
pub(crate) struct ResourceFiles {
    jar: Option<(PathBuf, Zip)>,
    dir: PathBuf,
}

impl ResourceFiles {
    /// Finds the resources at `path` (see [`MeteorResources::load`]).
    pub(crate) fn open(path: &Path) -> Result<Self, MeteorError> {
        let (jar, dir) = if path.is_file() {
            (Some(path.to_path_buf()), path.parent().unwrap_or(Path::new(".")).to_path_buf())
        } else if path.join("meteor-1.5.jar").is_file() {
            (Some(path.join("meteor-1.5.jar")), path.to_path_buf())
        } else if path.join("function/english.words").is_file() {
            (None, path.to_path_buf())
        } else {
            return Err(MeteorError::NotFound {
                path: path.to_path_buf(),
                missing: "neither meteor-1.5.jar nor function/english.words is there".into(),
            });
        };
        let jar = match jar {
            Some(j) => {
                let zip = Zip::open(&j).map_err(|e| e.at(&j))?;
                Some((j, zip))
            }
            None => None,
        };
        Ok(ResourceFiles { jar, dir })
    }

    fn member(&self, name: &str) -> Result<String, MeteorError> {
        let bytes = match &self.jar {
            Some((j, zip)) => zip.member(j, name).map_err(|e| e.at(j))?,
            None => {
                let p = self.dir.join(name);
                std::fs::read(&p).map_err(|source| MeteorError::Read { path: p, source })?
            }
        };
        String::from_utf8(bytes).map_err(|_| format_err(&self.dir.join(name), "is not UTF-8 text"))
    }

    /// The function words and nonbreaking prefixes (synonyms and paraphrases not read yet).
    pub(crate) fn base(&self) -> Result<MeteorResources, MeteorError> {
        let function_words = self.member("function/english.words")?;
        let nonbreaking = self.member("nonbreaking/english.prefixes")?;
        let mut r = MeteorResources::from_parts(&function_words, &nonbreaking, None, None)?;
        r.sources = vec![self.jar.as_ref().map_or(&self.dir, |(j, _)| j).display().to_string()];
        Ok(r)
    }

    /// WordNet; with `words`, only what their lookups need ([`SynonymDictionary::parse_for`]).
    pub(crate) fn synonyms(&self, words: Option<&FxHashSet<&str>>) -> Result<SynonymDictionary, MeteorError> {
        let (exceptions, synsets) =
            (self.member("synonym/english.exceptions")?, self.member("synonym/english.synsets")?);
        match words {
            Some(w) => SynonymDictionary::parse_for(&exceptions, &synsets, w),
            None => SynonymDictionary::parse(&exceptions, &synsets),
        }
        .map_err(|p| format_err(&self.dir.join("synonym/english.synsets"), p))
    }

    /// WordNet for `words`, the synsets read through a sorted copy kept in `cache_dir`
    /// ([`super::synset_index`]; made on first use). The same dictionary as [`ResourceFiles::synonyms`];
    /// a copy that cannot be written or read is passed over.
    pub(crate) fn synonyms_cached(
        &self,
        words: &FxHashSet<&str>,
        cache_dir: &Path,
    ) -> Result<SynonymDictionary, MeteorError> {
        use super::synset_index::{build, synsets_path, SynsetTable};
        let source = match &self.jar {
            Some((j, _)) => j.clone(),
            None => self.dir.join("synonym/english.synsets"),
        };
        let copy = synsets_path(&source, cache_dir)?;
        let exceptions = self.member("synonym/english.exceptions")?;
        if let Ok(Some(table)) = SynsetTable::load(&copy, &source) {
            return Ok(SynonymDictionary::from_table(&exceptions, &table, words));
        }
        let synsets = self.member("synonym/english.synsets")?;
        let _ = build(&synsets, &source, &copy);
        SynonymDictionary::parse_for(&exceptions, &synsets, words)
            .map_err(|p| format_err(&self.dir.join("synonym/english.synsets"), p))
    }

    /// The paraphrase table's path.
    pub(crate) fn paraphrase_table(&self) -> Result<PathBuf, MeteorError> {
        [self.dir.join("data/paraphrase-en.gz"), self.dir.join("paraphrase-en.gz")]
            .into_iter()
            .find(|p| p.is_file())
            .ok_or_else(|| MeteorError::NotFound {
                path: self.dir.clone(),
                missing: "data/paraphrase-en.gz (the paraphrase table) is missing".into(),
            })
    }
}

/// Why a zip member could not be read.
enum ZipError {
    Io(std::io::Error),
    Format(String),
}

impl ZipError {
    /// The error for the archive at `path`.
    fn at(self, path: &Path) -> MeteorError {
        match self {
            ZipError::Io(source) => MeteorError::Read { path: path.to_path_buf(), source },
            ZipError::Format(problem) => format_err(path, problem),
        }
    }
}

impl From<std::io::Error> for ZipError {
    fn from(e: std::io::Error) -> Self {
        ZipError::Io(e)
    }
}

/// A zip archive's central directory. Only the directory and the members asked for are read (the jar is
/// 6 MB; the four members METEOR needs are a tenth of it).
struct Zip {
    directory: Vec<u8>,
    entries: usize,
    /// The archive's size (a member must lie inside it).
    len: u64,
}

fn u16_at(raw: &[u8], i: usize) -> Option<usize> {
    raw.get(i..i + 2).map(|b| u16::from_le_bytes([b[0], b[1]]) as usize)
}

fn u32_at(raw: &[u8], i: usize) -> Option<usize> {
    raw.get(i..i + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
}

/// Reads `len` bytes at `offset`.
fn read_at(file: &mut std::fs::File, offset: u64, len: usize) -> std::io::Result<Vec<u8>> {
    use std::io::Seek;
    file.seek(std::io::SeekFrom::Start(offset))?;
    let mut buf = vec![0u8; len];
    file.read_exact(&mut buf)?;
    Ok(buf)
}

impl Zip {
    fn open(path: &Path) -> Result<Zip, ZipError> {
        let short = || ZipError::Format("is not a readable zip archive (truncated)".into());
        let mut file = std::fs::File::open(path)?;
        let len = file.metadata()?.len();
        // The end record (22 bytes and a comment of up to 65,535) closes the archive.
        let tail_len = len.min(22 + 65_535);
        let tail = read_at(&mut file, len - tail_len, tail_len as usize)?;
        let eocd = tail
            .windows(4)
            .rposition(|w| w == b"PK\x05\x06")
            .ok_or_else(|| ZipError::Format("is not a zip archive (no end record)".into()))?;
        let entries = u16_at(&tail, eocd + 10).ok_or_else(short)?;
        let size = u32_at(&tail, eocd + 12).ok_or_else(short)?;
        let offset = u32_at(&tail, eocd + 16).ok_or_else(short)? as u64;
        if offset + size as u64 > len {
            return Err(short());
        }
        Ok(Zip { directory: read_at(&mut file, offset, size)?, entries, len })
    }

    /// One named member (stored or deflated) of the archive at `path`.
    fn member(&self, path: &Path, name: &str) -> Result<Vec<u8>, ZipError> {
        let d = &self.directory;
        let short = || ZipError::Format("is not a readable zip archive (truncated)".into());
        let mut at = 0;
        for _ in 0..self.entries {
            if d.get(at..at + 4) != Some(b"PK\x01\x02") {
                return Err(ZipError::Format("has a corrupt central directory".into()));
            }
            let field = |i: usize| u16_at(d, at + i).ok_or_else(short);
            let (method, name_len, extra_len, comment_len) = (field(10)?, field(28)?, field(30)?, field(32)?);
            let compressed = u32_at(d, at + 20).ok_or_else(short)?;
            let size = u32_at(d, at + 24).ok_or_else(short)?;
            let local = u32_at(d, at + 42).ok_or_else(short)? as u64;
            if d.get(at + 46..at + 46 + name_len).ok_or_else(short)? == name.as_bytes() {
                let mut file = std::fs::File::open(path)?;
                let header = read_at(&mut file, local, 30)?;
                let skip = u16_at(&header, 26).ok_or_else(short)? + u16_at(&header, 28).ok_or_else(short)?;
                let start = local + 30 + skip as u64;
                if start + compressed as u64 > self.len {
                    return Err(short());
                }
                let data = read_at(&mut file, start, compressed)?;
                return match method {
                    0 => Ok(data),
                    8 => {
                        // The stated size is only a hint (a damaged directory may claim gigabytes).
                        let mut out = Vec::with_capacity(size.min(64 << 20));
                        flate2::read::DeflateDecoder::new(data.as_slice())
                            .read_to_end(&mut out)
                            .map_err(|e| ZipError::Format(format!("member {name} is corrupt ({e})")))?;
                        Ok(out)
                    }
                    m => Err(ZipError::Format(format!(
                        "member {name} uses compression method {m}, which is not supported"
                    ))),
                };
            }
            at += 46 + name_len + extra_len + comment_len;
        }
        Err(ZipError::Format(format!("has no member {name} (is it meteor-1.5.jar?)")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_interning_gives_the_serial_ids() {
        // Enough texts for several chunks, words recurring across chunks and new ones in each.
        let texts: Vec<String> =
            (0..1000).map(|i| format!("w{} the w{} x{i} the w{}", i % 7, (i * 13) % 101, (i * 31) % 997)).collect();
        let serial = Interned::new(texts.iter().map(|t| t.split_whitespace()));
        let parallel = Interned::of_texts(&texts);
        assert_eq!(parallel.words, serial.words);
        assert_eq!(parallel.texts, serial.texts);
        assert!(serial.words.len() > 1000, "the texts have many distinct words");
    }

    #[test]
    fn morphology_follows_wordnet_rules() {
        let d = SynonymDictionary::parse("mouse\nmice\n", "box\n1 2\nmouse\n3\nrun\n4\nrunning\n5\n").unwrap();
        assert_eq!(d.morph("boxes"), "box");
        assert_eq!(d.morph("runs"), "run");
        assert_eq!(d.morph("glass"), "glass");
        assert_eq!(d.morph("zzzs"), "");
        let mut mice: Vec<u32> = d.all_synsets("mice").into_iter().collect();
        mice.sort();
        assert_eq!(mice, vec![3]);
        assert!(SynonymDictionary::parse("", "w\nx y\n").is_err());
        // Restricted to a vocabulary, the answers for its words are unchanged.
        let (exc, syn) = ("mouse\nmice\ngo\nwent\n", "box\n1 2\nmouse\n3\nrun\n4\nrunning\n5\ngo\n6\nother\n7\n");
        let full = SynonymDictionary::parse(exc, syn).unwrap();
        let vocab: FxHashSet<&str> = ["boxes", "mice", "runs", "glass", "running"].into_iter().collect();
        let part = SynonymDictionary::parse_for(exc, syn, &vocab).unwrap();
        for w in &vocab {
            let (mut a, mut b): (Vec<u32>, Vec<u32>) =
                (full.all_synsets(w).into_iter().collect(), part.all_synsets(w).into_iter().collect());
            a.sort();
            b.sort();
            assert_eq!(a, b, "{w}");
        }
        assert!(part.synsets.len() < full.synsets.len() && !part.synsets.contains_key("other"));
    }

    #[test]
    fn paraphrase_trie_lists_phrases_shortest_first_in_file_order() {
        let text = "0.5\nchest x ray\nradiograph\n0.4\nchest\nthorax\n0.3\nchest x ray\ncxr\n0.2\nunused word\nother\n";
        let t = ParaphraseTable::read(text.as_bytes(), None).unwrap();
        assert_eq!(t.len(), 4);
        let words: Vec<Option<u32>> = ["chest", "x", "ray"].iter().map(|w| t.id(w)).collect();
        let found: Vec<(usize, Vec<u32>)> =
            t.phrases_at(&words, 0).into_iter().map(|(n, i)| (n, t.paraphrase(i).to_vec())).collect();
        assert_eq!(
            found,
            vec![
                (1, vec![t.id("thorax").unwrap()]),
                (3, vec![t.id("radiograph").unwrap()]),
                (3, vec![t.id("cxr").unwrap()])
            ]
        );
        // Made from texts that contain "chest x ray" and "radiograph" but not "x ray chest" or "unused".
        let texts = ["the chest x ray is clear", "radiograph of the thorax", "cxr ray x"];
        let keep = PhraseFilter::new(texts.iter().map(|t| t.split_whitespace()));
        assert!(keep.admits("chest x ray") && keep.admits("ray x") && !keep.admits("x ray chest"));
        let f = ParaphraseTable::read(text.as_bytes(), Some(&keep)).unwrap();
        assert_eq!(f.len(), 3, "the entry with a word no text has is left out");
        let f =
            ParaphraseTable::read("0.1\nchest x\nray chest\n0.2\nchest x\nx ray\n".as_bytes(), Some(&keep)).unwrap();
        assert_eq!(f.len(), 1, "\"ray chest\" does not occur in the texts, \"x ray\" does");
    }

    /// A zip archive with the given members (deflated when asked), as the jar stores them.
    fn zip_of(members: &[(&str, &[u8], bool)]) -> Vec<u8> {
        use std::io::Write;
        let (mut out, mut directory) = (Vec::new(), Vec::new());
        for &(name, data, deflate) in members {
            let stored = if deflate {
                let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
                e.write_all(data).unwrap();
                e.finish().unwrap()
            } else {
                data.to_vec()
            };
            let method: u16 = if deflate { 8 } else { 0 };
            let offset = out.len() as u32;
            out.extend_from_slice(b"PK\x03\x04");
            out.extend_from_slice(&[20, 0, 0, 0]);
            out.extend_from_slice(&method.to_le_bytes());
            out.extend_from_slice(&[0; 8]); // time, date, crc (not checked)
            out.extend_from_slice(&(stored.len() as u32).to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&3u16.to_le_bytes());
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"xyz"); // a local extra field, skipped by its length
            out.extend_from_slice(&stored);
            directory.extend_from_slice(b"PK\x01\x02");
            directory.extend_from_slice(&[20, 0, 20, 0, 0, 0]);
            directory.extend_from_slice(&method.to_le_bytes());
            directory.extend_from_slice(&[0; 8]);
            directory.extend_from_slice(&(stored.len() as u32).to_le_bytes());
            directory.extend_from_slice(&(data.len() as u32).to_le_bytes());
            directory.extend_from_slice(&(name.len() as u16).to_le_bytes());
            directory.extend_from_slice(&[0; 12]); // extra and comment lengths, disk, attributes
            directory.extend_from_slice(&offset.to_le_bytes());
            directory.extend_from_slice(name.as_bytes());
        }
        let at = out.len() as u32;
        out.extend_from_slice(&directory);
        out.extend_from_slice(b"PK\x05\x06");
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&(members.len() as u16).to_le_bytes());
        out.extend_from_slice(&(members.len() as u16).to_le_bytes());
        out.extend_from_slice(&(directory.len() as u32).to_le_bytes());
        out.extend_from_slice(&at.to_le_bytes());
        out.extend_from_slice(&2u16.to_le_bytes());
        out.extend_from_slice(b"ok"); // an archive comment
        out
    }

    #[test]
    fn jar_members_are_read_from_the_directory() {
        let path = std::env::temp_dir().join(format!("cxr-test-jar-{}.jar", std::process::id()));
        let text = "the\na\nof\n".repeat(50);
        std::fs::write(&path, zip_of(&[("function/english.words", text.as_bytes(), true), ("x/y", b"stored", false)]))
            .unwrap();
        let zip = Zip::open(&path).ok().unwrap();
        assert_eq!(zip.member(&path, "function/english.words").ok().unwrap(), text.as_bytes());
        assert_eq!(zip.member(&path, "x/y").ok().unwrap(), b"stored");
        assert!(matches!(zip.member(&path, "nope"), Err(ZipError::Format(p)) if p.contains("has no member nope")));
        // A jar missing the other members: the error names the first one needed.
        let e = MeteorResources::load(&path, None).unwrap_err().to_string();
        assert!(e.contains("nonbreaking/english.prefixes"), "{e}");
        // A directory claiming a member larger than the archive: an error, before anything is allocated.
        let mut bytes = zip_of(&[("x/y", b"stored", false)]);
        let entry = bytes.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
        bytes[entry + 20..entry + 24].copy_from_slice(&u32::MAX.to_le_bytes());
        std::fs::write(&path, &bytes).unwrap();
        let zip = Zip::open(&path).ok().unwrap();
        assert!(matches!(zip.member(&path, "x/y"), Err(ZipError::Format(p)) if p.contains("truncated")));
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn missing_resources_are_named() {
        let e = MeteorResources::load(Path::new("/nonexistent/meteor"), None).unwrap_err().to_string();
        assert!(e.contains("pycocoevalcap"), "{e}");
        let not_zip = std::env::temp_dir().join(format!("cxr-not-a-zip-{}", std::process::id()));
        std::fs::write(&not_zip, b"not a zip").unwrap();
        assert!(matches!(Zip::open(&not_zip), Err(ZipError::Format(p)) if p.contains("no end record")));
        let e = MeteorResources::load(&not_zip, None).unwrap_err().to_string();
        assert!(e.contains("not a zip archive"), "{e}");
        std::fs::remove_file(&not_zip).unwrap();
    }
}
