//! Counter-mode SplitMix64: output k (k = 1, 2, …) of the standard generator seeded with `seed`, computed
//! directly from k, so any language reproduces the same draws (the definition in the reference notes,
//! `shared/reference/eval/NOTES.md` §2.1). Used by bootstraps, randomization tests and error injection.

/// Output `k` (1-based) of SplitMix64 seeded with `seed`.
pub fn splitmix64(seed: u64, k: u64) -> u64 {
    let mut z = seed.wrapping_add(k.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reference_vector() {
        assert_eq!(super::splitmix64(0, 1), 0xE220_A839_7B1D_CDAF);
    }
}
