#!/usr/bin/env bash
# Targeting quality: `promo-studio calibrate` on half A of a past campaign's
# results, `plan` ranking half B by expected uplift, against scikit-uplift's
# TwoModels (vanilla, two logistic regressions) and ClassTransformation
# (logistic regression) fitted on the same half; uplift@30% and Qini AUC on
# half B, each arm against control, mean ± sd over seeded splits 1-5, on
#   (a) Thornton (2008)'s randomised HIV-results incentive (2,834 people),
#   (b) the sample shop's past campaign, sample_data/past_campaign.csv (skipped
#       while it does not exist).
# Markdown tables on stdout; every number in $OUT/results.json (default
# /tmp/calibrate_vs_sklift), the halves and our outputs in $OUT/work/.
#
#   benches/calibrate_vs_sklift.sh [--seeds 1,2,3,4,5] [--peers-only]
#   (pip install scikit-uplift scikit-learn pandas numpy)
set -euo pipefail
source "$(dirname "$0")/common.sh"
out="${OUT:-/tmp/calibrate_vs_sklift}"
python3 benches/uplift_sklift.py --bin "$bin" --out "$out" "$@"
