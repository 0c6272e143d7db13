//! Report-generation text metrics and their tokenizers.
//!
//! Each metric follows one named reference implementation exactly (the module docs say which), because the
//! numbers papers report differ by tokenizer, brevity penalty and document-frequency conventions:
//!
//! | module | reference |
//! |---|---|
//! | [`ptb`] | pycocoevalcap 1.2's CoreNLP 3.4.1 PTBTokenizer + punctuation filter |
//! | [`bleu`] | pycocoevalcap BLEU-1..4 ('closest' reference length, its 1e-15/1e-9 epsilons) |
//! | [`rouge`] | pycocoevalcap ROUGE-L (β = 1.2) and Google rouge-score 0.1.2 ROUGE-L F (β = 1) |
//! | [`cider`] | pycocoevalcap CIDEr-D (σ = 6, clipping, df from the evaluated references) |
//! | [`meteor`] | pycocoevalcap's METEOR 1.5 jar (`-l en -norm`): normaliser, four modules, beam aligner |
//! | [`snowball`] | the Snowball English stemmer inside the METEOR jar |
//! | [`porter`] | NLTK's Porter stemmer (NLTK_EXTENSIONS mode), as rouge-score uses |
//! | [`sacrebleu`] | sacrebleu 2.6.0 BLEU (13a, exp smoothing) and chrF (n = 6, β = 2) |

pub mod bleu;
pub mod cider;
pub mod meteor;
pub mod ngram;
pub mod porter;
pub mod ptb;
pub mod rouge;
pub mod sacrebleu;
pub mod snowball;
pub mod suite;
