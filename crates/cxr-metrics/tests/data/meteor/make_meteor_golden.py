"""Golden METEOR cases and the resource subset the test needs (run with pycocoevalcap 1.2 + Java 17).

    python make_meteor_golden.py ../pairs_tokenized.csv.gz <pycocoevalcap>/meteor

Writes, beside this script:
  meteor_golden.json    the jar's per-case and corpus scores (pycocoevalcap's Meteor wrapper, -l en -norm)
  resources/            the jar's function words and nonbreaking prefixes (whole), and the synonym and
                        paraphrase entries that can touch the words of these cases (a superset of their
                        tokens: any entry with another word can never match, so scores are unchanged)
"""
import csv, gzip, io, json, os, re, sys, zipfile

pairs_path, meteor_dir = sys.argv[1], sys.argv[2]
here = os.path.dirname(os.path.abspath(__file__))
rows = list(csv.DictReader(gzip.open(pairs_path, "rt", encoding="utf-8")))

cases = []  # (hypothesis, [references], kind)
for r in rows[:200]:
    cases.append((r["hyp_ptb"], [r["ref_ptb"]], "ptb"))
for k in range(400, 460):
    cases.append((rows[k]["hyp_ptb"], [rows[k]["ref_ptb"], rows[k + 1]["ref_ptb"], rows[k + 3]["hyp_ptb"]], "ptb-3refs"))
for r in rows[600:680]:
    cases.append((r["hyp_raw"], [r["ref_raw"]], "raw"))
extra = [
    ("the heart is normal", ["the heart is normal"], "identical"),
    ("", ["no acute disease"], "empty-hyp"),
    ("No pneumothorax.", ["No pneumothorax or effusion. Heart size normal."], "raw"),
    ("Mr. Smith's x-ray: left-sided effusions, e.g. 3.5 cm... (stable)", ["The left-sided pleural effusion is stable, 3.5cm."], "raw"),
    ("cardiomegaly", ["enlarged heart"], "raw"),
    ("the lungs are clear", ["lungs clear", "the lung fields are clear bilaterally"], "ptb-2refs"),
]
cases += extra

import importlib.util  # load pycocoevalcap/meteor/meteor.py by path (it spawns the jar)
spec = importlib.util.spec_from_file_location("coco_meteor", os.path.join(meteor_dir, "meteor.py"))
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
Meteor = mod.Meteor
os.chdir(meteor_dir)
m = Meteor()
gts = {i: refs for i, (h, refs, _) in enumerate(cases)}
res = {i: [h] for i, (h, _, _) in enumerate(cases)}
corpus, seg = m.compute_score(gts, res)
json.dump({
    "source": "pycocoevalcap 1.2 meteor.Meteor (meteor-1.5.jar -l en -norm), Java 17",
    "corpus": corpus,
    "cases": [{"hyp": h, "refs": refs, "kind": kind, "meteor": s} for (h, refs, kind), s in zip(cases, seg)],
}, open(os.path.join(here, "meteor_golden.json"), "w"), indent=1)

# Superset of the tokens METEOR will see: alphanumeric runs, punctuation marks, white-space tokens, 's.
vocab = set()
for h, refs, _ in cases:
    for t in [h] + refs:
        t = t.lower()
        vocab.update(t.split())
        vocab.update(re.findall(r"[a-z0-9]+", t))
        vocab.update(re.findall(r"[^a-z0-9\s]", t))
        vocab.update("'" + w for w in re.findall(r"'([a-z]+)", t))
        vocab.update(w.replace(".", "") for w in t.split())
        vocab.update(w.rstrip(".") for w in t.split())

jar = zipfile.ZipFile(os.path.join(meteor_dir, "meteor-1.5.jar"))
out = os.path.join(here, "resources")
for d in ("function", "nonbreaking", "synonym"):
    os.makedirs(os.path.join(out, d), exist_ok=True)
for name in ("function/english.words", "nonbreaking/english.prefixes"):
    open(os.path.join(out, name), "wb").write(jar.read(name))

# WordNet: exception entries with a form in the vocabulary; synsets of vocabulary words, of their
# exception bases and of every base the jar's suffix rules can produce from them.
rules = [("s", ""), ("ses", "s"), ("xes", "x"), ("zes", "z"), ("ches", "ch"), ("shes", "sh"), ("men", "man"), ("ies", "y"),
         ("es", "e"), ("es", ""), ("ed", "e"), ("ed", ""), ("ing", "e"), ("ing", ""), ("er", ""), ("est", ""), ("er", "e"), ("est", "e")]
exc_lines = jar.read("synonym/english.exceptions").decode("utf-8").split("\n")
keys = set(vocab)
exc_out = []
for base, forms in zip(exc_lines[0::2], exc_lines[1::2]):
    kept = [f for f in forms.split() if f in vocab]
    if kept:
        exc_out += [base, " ".join(kept)]
        keys.add(base)
for w in vocab:
    for suf, add in rules:
        if w.endswith(suf):
            keys.add(w[: len(w) - len(suf)] + add)
open(os.path.join(out, "synonym/english.exceptions"), "w", encoding="utf-8").write("\n".join(exc_out) + "\n")
syn_lines = jar.read("synonym/english.synsets").decode("latin-1").split("\n")
syn_out = []
for word, ids in zip(syn_lines[0::2], syn_lines[1::2]):
    if word in keys:
        syn_out += [word, ids]
open(os.path.join(out, "synonym/english.synsets"), "w", encoding="latin-1").write("\n".join(syn_out) + "\n")

# Paraphrases whose phrase and paraphrase use vocabulary words only (file order kept).
kept = 0
with gzip.open(os.path.join(meteor_dir, "data/paraphrase-en.gz"), "rt", encoding="utf-8") as f, \
        gzip.open(os.path.join(out, "paraphrase-en.gz"), "wt", encoding="utf-8", compresslevel=9) as g:
    while True:
        p = f.readline()
        if not p:
            break
        a, b = f.readline(), f.readline()
        if all(w in vocab for w in a.split() + b.split()):
            g.write(p + a + b)
            kept += 1
print(f"{len(cases)} cases, corpus {corpus:.6f}; {len(syn_out)//2} synsets, {len(exc_out)//2} exception entries, {kept} paraphrases")
