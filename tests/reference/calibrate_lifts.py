"""Reference lifts and 95% intervals for `promo-studio calibrate`, computed on
the hand-made results tables in tests/fixtures/calibrate/ (columns
customer_id,arm,converted,spend; the control arm is `control`).

    pip install statsmodels scipy pandas numpy
    python3 tests/reference/calibrate_lifts.py      # from the repository root

writes tests/reference/calibrate_lifts.json. Per file, per non-control arm:

- conversion: rate_arm - rate_control, with Newcomb's hybrid Wilson score
  interval (statsmodels `confint_proportions_2indep(count1=arm, nobs1=arm_n,
  count2=control, nobs2=control_n, method='newcomb', compare='diff',
  alpha=0.05)`), cross-checked against the formula written out below;
- spend per customer: mean spend over all the arm's rows (zeros included),
  arm minus control, with Welch's t interval (unequal variances,
  Welch-Satterthwaite degrees of freedom; scipy's
  `ttest_ind(arm, control, equal_var=False).confidence_interval(0.95)`),
  cross-checked against the formula written out below.

Spend is taken as read back from the CSV (two decimals). Floats are written at
full precision (Python's shortest round-trip repr).
"""
import json
import math
import platform
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import scipy
import statsmodels
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "calibrate"
OUT = Path(__file__).resolve().with_suffix(".json")
FILES = ["two_arms.csv", "small_counts.csv", "three_arms.csv"]
CONTROL = "control"
Z = stats.norm.isf(0.025)


def wilson(count, n):
    """Wilson score interval, clipped to [0, 1] as statsmodels does."""
    p = count / n
    denom = 1 + Z * Z / n
    centre = (p + Z * Z / (2 * n)) / denom
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / denom
    return max(centre - half, 0.0), min(centre + half, 1.0)


def newcomb_by_hand(c1, n1, c2, n2):
    p1, p2 = c1 / n1, c2 / n2
    l1, u1 = wilson(c1, n1)
    l2, u2 = wilson(c2, n2)
    d = p1 - p2
    return d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


def welch_by_hand(a, b):
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    t = stats.t.isf(0.025, df)
    d = a.mean() - b.mean()
    return d - t * se, d + t * se, df, se


def close(x, y, tol=1e-12):
    return all(abs(p - q) <= tol * max(1.0, abs(q)) for p, q in zip(x, y))


def summarise(path):
    t = pd.read_csv(path, dtype={"customer_id": str, "arm": str, "converted": np.int64, "spend": np.float64})
    assert list(t.columns) == ["customer_id", "arm", "converted", "spend"], t.columns
    ctrl = t[t["arm"] == CONTROL]
    c_n, c_conv = len(ctrl), int(ctrl["converted"].sum())
    c_spend = ctrl["spend"].to_numpy()
    out = {
        "control": {
            "arm": CONTROL,
            "customers": c_n,
            "conversions": c_conv,
            "conversion_rate": c_conv / c_n,
            "spend_per_customer": float(c_spend.mean()),
        },
        "arms": {},
    }
    for arm in dict.fromkeys(t["arm"]):  # order of first appearance
        if arm == CONTROL:
            continue
        rows = t[t["arm"] == arm]
        n, conv = len(rows), int(rows["converted"].sum())
        spend = rows["spend"].to_numpy()

        lo, hi = confint_proportions_2indep(
            count1=conv, nobs1=n, count2=c_conv, nobs2=c_n, method="newcomb", compare="diff", alpha=0.05
        )
        lo, hi = float(lo), float(hi)
        hand = newcomb_by_hand(conv, n, c_conv, c_n)
        assert close((lo, hi), hand), (path.name, arm, (lo, hi), hand)

        w_lo, w_hi, df, se = welch_by_hand(spend, c_spend)
        res = stats.ttest_ind(spend, c_spend, equal_var=False)
        if hasattr(res, "confidence_interval"):
            ci = res.confidence_interval(0.95)
            s_lo, s_hi = float(ci.low), float(ci.high)
            assert close((s_lo, s_hi), (w_lo, w_hi)), (path.name, arm, (s_lo, s_hi), (w_lo, w_hi))
            assert abs(float(res.df) - df) <= 1e-9 * df
        else:  # scipy < 1.10: the formula alone
            s_lo, s_hi = w_lo, w_hi

        out["arms"][arm] = {
            "customers": n,
            "conversions": conv,
            "conversion_rate": conv / n,
            "lift_conversion": conv / n - c_conv / c_n,
            "lift_conversion_ci95": [lo, hi],
            "spend_per_customer": float(spend.mean()),
            "lift_spend": float(spend.mean() - c_spend.mean()),
            "lift_spend_ci95": [s_lo, s_hi],
            "welch_df": df,
            "lift_spend_se": se,
        }
    return out


def main():
    result = {
        "generated_by": "tests/reference/calibrate_lifts.py",
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "scipy": scipy.__version__,
            "statsmodels": statsmodels.__version__,
        },
        "control_arm": CONTROL,
        "conversion_interval": "Newcomb hybrid Wilson score, 95%: statsmodels confint_proportions_2indep(method='newcomb', compare='diff'), arm minus control",
        "spend_interval": "Welch t, 95%, Welch-Satterthwaite df, sample variances (ddof 1): scipy ttest_ind(arm, control, equal_var=False).confidence_interval(0.95)",
        "files": {name: summarise(FIXTURES / name) for name in FILES},
    }
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    for name, f in result["files"].items():
        c = f["control"]
        print(f"{name}: control n={c['customers']} rate={c['conversion_rate']:.4f} spend/cust={c['spend_per_customer']:.4f}")
        for arm, a in f["arms"].items():
            lo, hi = a["lift_conversion_ci95"]
            slo, shi = a["lift_spend_ci95"]
            print(
                f"  {arm!r}: n={a['customers']} conv={a['conversions']} lift={a['lift_conversion']:+.4f} [{lo:+.4f}, {hi:+.4f}]"
                f"  spend lift={a['lift_spend']:+.4f} [{slo:+.4f}, {shi:+.4f}] df={a['welch_df']:.2f}"
            )
    print(f"wrote {OUT.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
