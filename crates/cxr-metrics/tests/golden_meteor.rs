//! Golden tests: METEOR 1.5 against the jar itself (pycocoevalcap 1.2's wrapper, `-l en -norm`, Java 17) on
//! 346 cases — IU X-Ray pairs PTB-tokenized and raw, three-reference cases and edge cases — and its Snowball
//! stemmer against the jar's stemmer class. Data and generators in `tests/data/meteor/` (PROVENANCE.md).
//! Tolerance 1e-6 (the reference notes' tolerance for METEOR).

use cxr_metrics::text::meteor::{Meteor, MeteorResources, MeteorStats};
use cxr_metrics::text::snowball;
use std::io::Read;
use std::path::Path;

const RESOURCES: &str = "tests/data/meteor/resources";

#[derive(serde::Deserialize)]
struct Case {
    hyp: String,
    refs: Vec<String>,
    kind: String,
    meteor: f64,
}

#[derive(serde::Deserialize)]
struct Golden {
    corpus: f64,
    cases: Vec<Case>,
}

fn golden() -> Golden {
    serde_json::from_str(&std::fs::read_to_string("tests/data/meteor/meteor_golden.json").unwrap()).unwrap()
}

/// As pycocoevalcap's wrapper sends the hypothesis.
fn wrapper_hyp(h: &str) -> String {
    h.replace("|||", "").replace("  ", " ")
}

fn check(m: &Meteor, g: &Golden) {
    let mut stats = Vec::new();
    let mut kinds = std::collections::BTreeSet::new();
    for (i, c) in g.cases.iter().enumerate() {
        let refs: Vec<&str> = c.refs.iter().map(String::as_str).collect();
        let s = m.segment_stats(&wrapper_hyp(&c.hyp), &refs);
        let got = s.score(&m.params);
        assert!(
            (got - c.meteor).abs() <= 1e-6,
            "case {i} ({}): {got} vs jar {}\n{:?} vs {:?}",
            c.kind,
            c.meteor,
            c.hyp,
            c.refs
        );
        stats.push(s);
        kinds.insert(c.kind.as_str());
    }
    assert!(kinds.len() >= 5, "cases cover raw, PTB, several references and edge cases: {kinds:?}");
    let corpus = MeteorStats::sum(&stats).score(&m.params);
    assert!((corpus - g.corpus).abs() <= 1e-6, "corpus {corpus} vs jar {}", g.corpus);
}

#[test]
fn meteor_equals_the_jar_case_by_case_and_for_the_corpus() {
    let res = MeteorResources::load(Path::new(RESOURCES), None).unwrap();
    assert_eq!(res.modules(), ["exact", "stem", "synonym", "paraphrase"]);
    check(&Meteor::new(res), &golden());
}

#[test]
fn filtering_the_paraphrase_table_to_the_texts_changes_nothing() {
    let g = golden();
    let texts: Vec<String> =
        g.cases.iter().flat_map(|c| std::iter::once(wrapper_hyp(&c.hyp)).chain(c.refs.iter().cloned())).collect();
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    let m = Meteor::load_for(Path::new(RESOURCES), &texts).unwrap();
    let full = MeteorResources::load(Path::new(RESOURCES), None).unwrap();
    let kept = m.resources.paraphrases.as_ref().unwrap().len();
    assert!(kept < full.paraphrases.as_ref().unwrap().len(), "the filter drops entries ({kept} kept)");
    check(&m, &g);
}

#[test]
fn the_paraphrase_index_gives_the_same_table_and_scores() {
    let g = golden();
    let texts: Vec<String> =
        g.cases.iter().flat_map(|c| std::iter::once(wrapper_hyp(&c.hyp)).chain(c.refs.iter().cloned())).collect();
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    let cache = std::env::temp_dir().join(format!("cxr-meteor-index-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    let direct = Meteor::load_for(Path::new(RESOURCES), &texts).unwrap();
    let (built, note) = Meteor::load_for_cached(Path::new(RESOURCES), &texts, &cache).unwrap();
    assert!(note.contains("built once"), "{note}");
    // WordNet's sorted copy is made on the first run too; the second run reads both through the cache.
    let file = |prefix: &str| {
        std::fs::read_dir(&cache)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
    };
    assert!(file("meteor-synsets-").is_some(), "WordNet's copy is written");
    let (read, note) = Meteor::load_for_cached(Path::new(RESOURCES), &texts, &cache).unwrap();
    assert!(note.contains("read through the index"), "{note}");
    let len = |m: &Meteor| m.resources.paraphrases.as_ref().unwrap().len();
    assert_eq!(len(&built), len(&direct));
    assert_eq!(len(&read), len(&direct));
    check(&read, &g);
    // Same phrases found, in the same order, at every position of every text.
    let (a, b) = (direct.resources.paraphrases.as_ref().unwrap(), read.resources.paraphrases.as_ref().unwrap());
    for t in &texts {
        let toks = direct.tokens(t);
        let ia: Vec<Option<u32>> = toks.iter().map(|w| a.id(w)).collect();
        let ib: Vec<Option<u32>> = toks.iter().map(|w| b.id(w)).collect();
        for start in 0..toks.len() {
            assert_eq!(a.phrases_at(&ia, start).len(), b.phrases_at(&ib, start).len(), "{t:?} at {start}");
        }
    }
    // A damaged index is rebuilt, not trusted (and never panics).
    let idx = file("meteor-paraphrase-").unwrap();
    let bytes = std::fs::read(&idx).unwrap();
    std::fs::write(&idx, &bytes[..bytes.len() / 2]).unwrap();
    let (again, note) = Meteor::load_for_cached(Path::new(RESOURCES), &texts, &cache).unwrap();
    assert!(note.contains("damaged") && note.contains("rebuilt"), "{note}");
    assert_eq!(len(&again), len(&direct));
    std::fs::write(&idx, b"CXRMPX03 garbage").unwrap();
    assert!(Meteor::load_for_cached(Path::new(RESOURCES), &texts, &cache).unwrap().1.contains("rebuilt"));
    // A damaged WordNet copy is passed over (and rebuilt): the scores stay the jar's.
    std::fs::write(file("meteor-synsets-").unwrap(), b"CXRMWN01 garbage").unwrap();
    check(&Meteor::load_for_cached(Path::new(RESOURCES), &texts, &cache).unwrap().0, &g);
    // An unwritable cache falls back to the table itself.
    let (fallback, note) =
        Meteor::load_for_cached(Path::new(RESOURCES), &texts, Path::new("/proc/no-such-dir")).unwrap();
    assert!(note.contains("unavailable"), "{note}");
    assert_eq!(len(&fallback), len(&direct));
    let _ = std::fs::remove_dir_all(&cache);
}

#[test]
fn agrees_with_the_reference_per_pair_file() {
    // The first 200 golden cases are pairs 0..200 of per_pair_scores.csv.gz (made by another run of the jar).
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open("tests/data/per_pair_scores.csv.gz").unwrap())
        .read_to_end(&mut raw)
        .unwrap();
    let mut rd = csv::Reader::from_reader(raw.as_slice());
    let col = rd.headers().unwrap().iter().position(|h| h == "meteor").unwrap();
    let want: Vec<f64> = rd.records().take(200).map(|r| r.unwrap()[col].parse().unwrap()).collect();
    let g = golden();
    for (i, w) in want.iter().enumerate() {
        assert_eq!(g.cases[i].kind, "ptb");
        assert!((g.cases[i].meteor - w).abs() <= 1e-9, "pair {i}");
    }
}

#[test]
fn missing_paraphrase_table_is_an_error_naming_it() {
    let dir = std::env::temp_dir().join(format!("cxr-meteor-missing-{}", std::process::id()));
    for d in ["function", "nonbreaking", "synonym"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    for f in [
        "function/english.words",
        "nonbreaking/english.prefixes",
        "synonym/english.exceptions",
        "synonym/english.synsets",
    ] {
        std::fs::copy(Path::new(RESOURCES).join(f), dir.join(f)).unwrap();
    }
    let e = MeteorResources::load(&dir, None).unwrap_err().to_string();
    assert!(e.contains("paraphrase-en.gz"), "{e}");
    std::fs::write(dir.join("paraphrase-en.gz"), b"\x1f\x8b\x08\x00truncated").unwrap();
    let e = MeteorResources::load(&dir, None).unwrap_err().to_string();
    assert!(e.contains("corrupt or truncated"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn snowball_equals_the_jars_stemmer() {
    let mut s = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open("tests/data/meteor/snowball_stems.tsv.gz").unwrap())
        .read_to_string(&mut s)
        .unwrap();
    let mut n = 0;
    for line in s.lines() {
        let (word, stem) = line.split_once('\t').unwrap();
        assert_eq!(snowball::stem(word), stem, "{word}");
        n += 1;
    }
    assert!(n > 9000);
}
