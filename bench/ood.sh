#!/usr/bin/env bash
# AUROC of `cxr ood`'s gate: fitted to augmented copies of the bundled PA chest CR (pydicom-data RG1), tested on
# new copies against shifted images (see crates/cxr-model/examples/ood_auroc.rs). No peer: a measurement.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run -q --release -p cxr-model --example ood_auroc -- crates/cxr-io/tests/data/dicom
