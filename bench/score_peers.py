"""Times the Python peers of `cxr score` on the same 3,425 IU X-Ray pairs, each scorer alone, as
shared/reference/metrics/make_metrics_ref.py does (COCO scorers on PTB-tokenized text; rouge-score and
sacrebleu on raw text). Prints JSON: pairs/s per metric (median of RUNS).
Usage: python score_peers.py PAIRS_CSV_GZ RUNS"""
import csv, gzip, json, statistics, sys, time

from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer
from pycocoevalcap.bleu.bleu import Bleu
from pycocoevalcap.rouge.rouge import Rouge
from pycocoevalcap.cider.cider import Cider
from pycocoevalcap.meteor.meteor import Meteor
from rouge_score import rouge_scorer
import sacrebleu

rows = list(csv.DictReader(gzip.open(sys.argv[1], "rt")))
runs = int(sys.argv[2])
N = len(rows)
refs_raw = {k: r["ref_raw"] for k, r in enumerate(rows)}
hyps_raw = {k: r["hyp_raw"] for k, r in enumerate(rows)}

def timed(fn):
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter(); fn(); ts.append(time.perf_counter() - t0)
    return N / statistics.median(ts)

out = {}
tok = PTBTokenizer()
def tokenize():
    return tok.tokenize({k: [{"caption": v}] for k, v in refs_raw.items()}), tok.tokenize({k: [{"caption": v}] for k, v in hyps_raw.items()})
out["ptb_tokenize_refs_and_hyps"] = timed(tokenize)
gts, res = tokenize()
out["coco_bleu4"] = timed(lambda: Bleu(4).compute_score(gts, res, verbose=0))
out["coco_rougeL"] = timed(lambda: Rouge().compute_score(gts, res))
out["coco_ciderD"] = timed(lambda: Cider().compute_score(gts, res))
# METEOR as users run it (a new scorer: JVM start + resource load + scoring), and scoring alone.
def meteor_fresh():
    m = Meteor(); m.compute_score(gts, res); del m
out["coco_meteor_incl_load"] = timed(meteor_fresh)
warm = Meteor()
out["coco_meteor_score_only"] = timed(lambda: warm.compute_score(gts, res))
for stem in (False, True):
    sc = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=stem)
    out["rouge_score_rougeL_" + ("stem" if stem else "nostem")] = timed(lambda: [sc.score(refs_raw[k], hyps_raw[k]) for k in range(N)])
H = [hyps_raw[k] for k in range(N)]; R = [refs_raw[k] for k in range(N)]
out["sacrebleu_corpus_bleu"] = timed(lambda: sacrebleu.BLEU().corpus_score(H, [R]))
out["sacrebleu_corpus_chrf"] = timed(lambda: sacrebleu.CHRF().corpus_score(H, [R]))
out["sacrebleu_sentence_bleu_all"] = timed(lambda: [sacrebleu.sentence_bleu(h, [r]) for h, r in zip(H, R)])
out["sacrebleu_sentence_chrf_all"] = timed(lambda: [sacrebleu.sentence_chrf(h, [r]) for h, r in zip(H, R)])
print(json.dumps(out))
