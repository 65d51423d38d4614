"""Targeting quality of `promo-studio calibrate` + `plan` against scikit-uplift,
for benches/calibrate_vs_sklift.sh.

Usage:
    python3 benches/uplift_sklift.py --bin target/release/promo-studio [--out DIR]
    python3 benches/uplift_sklift.py --peers-only [--out DIR]        # no binary needed
    options: --seeds 1,2,3,4,5  --thornton PATH  --shop PATH
    (pip install scikit-uplift scikit-learn pandas numpy)

For each dataset and seed, rows are split into halves A and B by a seeded
shuffle within each arm; each model is fitted on A and ranks B by predicted
uplift; each non-control arm is scored on B's rows of that arm plus B's
control rows: sklift uplift_at_k(strategy='overall', k=0.3) and
qini_auc_score. Models: ours (calibrate on A, plan on B, `expected_uplift`),
sklift TwoModels(LogisticRegression x2, method='vanilla') and
ClassTransformation(LogisticRegression), the peers fitted per arm on A's rows
of that arm plus control, attributes through a median imputer + StandardScaler
(numeric) and one-hot (categorical). Two reference rows come for free: a
random order (seeded), and, for ours, p1 - p0 from the plan when it has them.
Prints a markdown table per dataset and arm (mean ± sd over the seeds, sd with
ddof 1) and writes every number to DIR/results.json (DIR: $OUT or
/tmp/calibrate_vs_sklift), with each ranking's ROC AUC for telling B's treated
rows from its control rows (a leak check: about 0.5 for any ranking from
attributes, since treatment was randomised); the halves and our outputs stay
in DIR/work/.

scikit-uplift 0.5.1's definitions (read from sklift/metrics/metrics.py), with
y the 0/1 outcome, t the 0/1 treatment, u the predicted uplift, N rows:

order: `np.argsort(u, kind="mergesort")[::-1]`, i.e. descending u; among tied
  u the reversed stable sort puts the row that comes LATER in the input first.

uplift_at_k(y, u, t, strategy='overall', k=0.3):
  n = int(N * k) (floor; k a float in (0, 1), or an int count used as is);
  take the first n rows in that order; return mean(y over those with t=1)
  - mean(y over those with t=0). No guard: if the top n holds no control (or
  no treated) row the mean is NaN (numpy warns). With ties straddling the
  cut, the result depends on the input row order (see `order`).

qini_auc_score(y, u, t, negative_effect=True):
  qini_curve: sort as above; the curve has a point only at the LAST row of
  each block of tied u (so ties are taken together, whatever their order) and
  at the end: x = rows so far (i+1), Q(x) = Yt(x) - Yc(x) * Nt(x) / Nc(x),
  where Yt, Yc are cumulative counts of y=1 among treated / control rows and
  Nt, Nc cumulative counts of treated / control rows (the ratio taken as 0
  while Nc = 0); a point (0, 0) is prepended (always, in practice).
  perfect curve: qini_curve of the same y, t scored by y*t - y*(1-t) (treated
  responders first, control responders last; negative_effect=True).
  baseline: the straight line from (0, 0) to (N, Q_perfect(N)), and
  Q_perfect(N) = Q(N) for any score.
  areas by the trapezoid rule (sklearn.metrics.auc) over those points;
  score = (A_model - A_baseline) / (A_perfect - A_baseline): 0 for a random
  ranking on average, 1 for the perfect one, negative if worse than random.
  No division guard if A_perfect = A_baseline.
(A plain re-implementation of the above, with row-by-row loops and explicit
tie blocks, matched sklift exactly on 300 random cases, half of them with
heavy ties.)
"""
import argparse
import json
import math
import os
import re
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
import sklift
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklift.metrics import qini_auc_score, uplift_at_k
from sklift.models import ClassTransformation, TwoModels

ROOT = Path(__file__).resolve().parents[1]
K = 0.3
MODELS = ["ours", "ours, p1 - p0", "sklift TwoModels (vanilla, 2x LR)", "sklift ClassTransformation (LR)", "random order"]

# The shop's offers, per arm of sample_data/past_campaign.csv.
SHOP_OFFERS = {
    "10% off": {"kind": "percent_off", "value": 10},
    "Spend 50 save 10": {"kind": "amount_off", "value": 10, "min_spend": 50},
    "Free shipping": {"kind": "free_shipping", "value": 4.95},
}


def thornton(path):
    d = pd.read_csv(path, dtype={"person_id": str})
    d = d[d["got"].notna() & d["tinc"].notna()].copy()
    village = d["villnum"].map(lambda v: f"v{int(v)}" if pd.notna(v) else None)
    t = pd.DataFrame({
        "customer_id": d["person_id"],
        "arm": np.where(d["any"] == 1, "incentive", "none"),
        "got": d["got"].astype(int),
        "tinc": d["tinc"],
        "distvct": d["distvct"],
        "age": d["age"],
        "hiv2004": d["hiv2004"],
        "village": village.astype(object),
    }).reset_index(drop=True)
    return {
        "name": "thornton",
        "title": "Thornton (2008) HIV-results incentive, outcome got",
        "table": t,
        "arm": "arm",
        "control": "none",
        "outcome": "got",
        "spend": None,
        "dose": "tinc",
        "numeric": ["distvct", "age", "hiv2004"],
        "categorical": ["village"],
        "offer": lambda arm, half_a: {"kind": "gift", "value": float(half_a.loc[half_a["arm"] == arm, "tinc"].mean())},
    }


def shop(path):
    t = pd.read_csv(path, dtype={"customer_id": str, "arm": str})
    t["converted"] = t["converted"].astype(int)
    return {
        "name": "shop",
        "title": "sample shop's past campaign, outcome converted",
        "table": t,
        "arm": "arm",
        "control": "control",
        "outcome": "converted",
        "spend": "spend",
        "dose": None,
        "numeric": ["recency_days", "frequency", "monetary", "tenure_days"],
        "categorical": [],
        "offer": lambda arm, half_a: SHOP_OFFERS.get(arm),
    }


def split(t, arm_col, seed):
    """Half A and half B: each arm's rows shuffled by the seed, the first half
    (rounded down) to A. Both halves keep the shuffled order."""
    rng = np.random.default_rng(seed)
    a, b = [], []
    for arm in sorted(t[arm_col].unique()):
        idx = rng.permutation(np.flatnonzero((t[arm_col] == arm).to_numpy()))
        a.append(idx[: len(idx) // 2])
        b.append(idx[len(idx) // 2:])
    a, b = np.concatenate(a), np.concatenate(b)
    # One shuffle over the arms too, so that B is not sorted by arm (ties in a
    # ranking are broken by row order in uplift_at_k).
    return t.iloc[rng.permutation(a)].reset_index(drop=True), t.iloc[rng.permutation(b)].reset_index(drop=True)


def features(ds):
    parts = []
    if ds["numeric"]:
        parts.append(("num", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]), ds["numeric"]))
    if ds["categorical"]:
        parts.append((
            "cat",
            Pipeline([
                ("impute", SimpleImputer(strategy="constant", fill_value="missing")),
                ("onehot", OneHotEncoder(handle_unknown="ignore")),
            ]),
            ds["categorical"],
        ))
    return ColumnTransformer(parts)


def logistic(ds):
    return Pipeline([("features", features(ds)), ("lr", LogisticRegression(max_iter=1000))])


def peers(ds, a, b_arm, arm):
    """Predicted uplift on b_arm (B's rows of arm + control) by each peer,
    fitted on A's rows of arm + control."""
    cols = ds["numeric"] + ds["categorical"]
    a_arm = a[a[ds["arm"]].isin([arm, ds["control"]])].reset_index(drop=True)
    x, y = a_arm[cols], a_arm[ds["outcome"]].to_numpy()
    t = (a_arm[ds["arm"]] == arm).astype(int).to_numpy()
    out = {}
    tm = TwoModels(estimator_trmnt=logistic(ds), estimator_ctrl=logistic(ds), method="vanilla")
    out["sklift TwoModels (vanilla, 2x LR)"] = tm.fit(x, y, t).predict(b_arm[cols])
    ct = ClassTransformation(logistic(ds))
    out["sklift ClassTransformation (LR)"] = ct.fit(x, y, t).predict(b_arm[cols])
    return out


def slug(s):
    return re.sub(r"[^A-Za-z0-9]+", "_", s).strip("_") or "arm"


def run(cmd, log):
    started = time.time()
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    log.append({"cmd": [str(c) for c in cmd], "rc": r.returncode, "wall_s": time.time() - started, "stderr": r.stderr[-2000:]})
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {' '.join(map(str, cmd))}\n{r.stderr}")
    return r


def ours(ds, a, b, arms, binary, work, log):
    """Calibrate on A, plan each arm on B; per arm, B's customer_id ->
    (expected_uplift, p1 - p0)."""
    work.mkdir(parents=True, exist_ok=True)
    attrs = ds["numeric"] + ds["categorical"]
    keep = ["customer_id", ds["arm"], ds["outcome"]] + [c for c in (ds["spend"], ds["dose"]) if c] + attrs
    a[keep].to_csv(work / "A.csv", index=False)
    b[["customer_id"] + attrs + ([ds["dose"]] if ds["dose"] else [])].to_csv(work / "B_customers.csv", index=False)
    cmd = [binary, "calibrate", "--results", work / "A.csv", "--arm", ds["arm"], "--control", ds["control"],
           "--converted", ds["outcome"]]
    if ds["spend"]:
        cmd += ["--spend", ds["spend"]]
    if ds["dose"]:
        cmd += ["--value", ds["dose"]]
    cmd += ["--attributes", ",".join(attrs), "--out", work / "A_response.json"]
    run(cmd, log)
    out = {}
    for arm in arms:
        offer = ds["offer"](arm, a)
        if offer is None:
            print(f"  {ds['name']}: no offer known for arm {arm!r}; ours skipped for it", file=sys.stderr)
            continue
        campaign = {
            "name": f"rank {arm}",
            "horizon_days": 30,
            "assignment": "everyone",
            "channels": [{"name": "email", "cost_per_message": 0}],
            "offers": [{"name": arm, **{"kind": offer["kind"], "value": offer["value"]},
                        **({"min_spend": offer["min_spend"]} if "min_spend" in offer else {}),
                        "channel": "email", "response": arm}],
        }
        cpath, ppath = work / f"campaign_{slug(arm)}.json", work / f"plan_{slug(arm)}.csv"
        cpath.write_text(json.dumps(campaign, indent=2) + "\n")
        run([binary, "plan", "--campaign", cpath, "--customers", work / "B_customers.csv",
             "--response", work / "A_response.json", "--out", ppath], log)
        plan = pd.read_csv(ppath, dtype={"customer_id": str, "offer": str})
        if "offer" in plan.columns and plan["customer_id"].duplicated().any():
            plan = plan[plan["offer"] == arm]
        plan = plan.drop_duplicates("customer_id").set_index("customer_id")
        ids = b["customer_id"]
        missing = ~ids.isin(plan.index)
        if missing.any() or plan.loc[ids, "expected_uplift"].isna().any():
            sys.exit(f"{ppath}: {int(missing.sum())} of B's customers missing, "
                     f"{int(plan.reindex(ids)['expected_uplift'].isna().sum())} without expected_uplift")
        scores = {"ours": plan["expected_uplift"]}
        if {"p0", "p1"} <= set(plan.columns) and plan.loc[ids, ["p0", "p1"]].notna().all().all():
            scores["ours, p1 - p0"] = plan["p1"] - plan["p0"]
        out[arm] = scores
    return out


def score(y, u, t):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an empty group's mean is NaN
        warnings.simplefilter("ignore", FutureWarning)  # sklift calls sklearn's deprecated stable_cumsum
        at_k = float(uplift_at_k(y, u, t, strategy="overall", k=K))
        qini = float(qini_auc_score(y, u, t))
    # A leak check, not a quality measure: treatment is randomised, so no
    # ranking from attributes should tell treated rows from control ones
    # (about 0.5); far from 0.5, the score has seen who was treated (say, the
    # realised dose of B's rows).
    return {"uplift_at_30": at_k, "qini_auc": qini, "treatment_auc": float(roc_auc_score(t, u))}


def bench(ds, seeds, binary, out_dir, log):
    t = ds["table"]
    arms = [a for a in dict.fromkeys(t[ds["arm"]]) if a != ds["control"]]
    if ds["control"] not in set(t[ds["arm"]]):
        sys.exit(f"{ds['name']}: no control arm {ds['control']!r}")
    per_seed = {arm: {} for arm in arms}  # arm -> model -> [per-seed dicts]
    context = {arm: [] for arm in arms}
    for seed in seeds:
        a, b = split(t, ds["arm"], seed)
        ranked = None
        if binary:
            ranked = ours(ds, a, b, arms, binary, out_dir / "work" / ds["name"] / f"seed{seed}", log)
        for arm in arms:
            b_arm = b[b[ds["arm"]].isin([arm, ds["control"]])].reset_index(drop=True)
            y = b_arm[ds["outcome"]].to_numpy()
            tr = (b_arm[ds["arm"]] == arm).astype(int).to_numpy()
            preds = peers(ds, a, b_arm, arm)
            if ranked and arm in ranked:
                for name, s in ranked[arm].items():
                    preds[name] = s.loc[b_arm["customer_id"]].to_numpy(dtype=float)
            preds["random order"] = np.random.default_rng(1000 + seed).random(len(b_arm))
            for name, u in preds.items():
                per_seed[arm].setdefault(name, []).append({"seed": seed, **score(y, u, tr)})
            context[arm].append({
                "seed": seed,
                "a_rows": int(a[ds["arm"]].isin([arm, ds["control"]]).sum()),
                "b_rows": len(b_arm),
                "b_treated": int(tr.sum()),
                "b_uplift_all": float(y[tr == 1].mean() - y[tr == 0].mean()),
            })
    result = {"title": ds["title"], "arms": {}}
    for arm in arms:
        models = {}
        for name in MODELS:
            runs = per_seed[arm].get(name)
            if not runs:
                continue
            summary = {}
            for m in ("uplift_at_30", "qini_auc", "treatment_auc"):
                v = np.array([r[m] for r in runs], dtype=float)
                summary[m] = {"mean": float(v.mean()), "sd": float(v.std(ddof=1)) if len(v) > 1 else 0.0}
            models[name] = {"summary": summary, "per_seed": runs}
        result["arms"][arm] = {"halves": context[arm], "models": models}
    return result


def table(ds_name, res):
    lines = []
    for arm, r in res["arms"].items():
        all_up = np.mean([c["b_uplift_all"] for c in r["halves"]])
        h = r["halves"][0]
        lines.append(f"### {ds_name}: {res['title']} — arm {arm!r} vs control")
        lines.append("")
        lines.append(f"Half B: {h['b_rows']} rows ({h['b_treated']} treated); uplift over all of B (any ranking's "
                     f"uplift@100%) {all_up:.4f}, mean of {len(r['halves'])} seeds.")
        lines.append("")
        lines.append("| model | uplift@30% | Qini AUC |")
        lines.append("| --- | --- | --- |")
        for name, m in r["models"].items():
            s = m["summary"]
            fmt = lambda d: "nan" if math.isnan(d["mean"]) else f"{d['mean']:.4f} ± {d['sd']:.4f}"
            lines.append(f"| {name} | {fmt(s['uplift_at_30'])} | {fmt(s['qini_auc'])} |")
        lines.append("")
        for name, m in r["models"].items():
            leak = m["summary"]["treatment_auc"]["mean"]
            if abs(leak - 0.5) > 0.1:
                lines.append(f"WARNING: {name}: its ranking tells treated from control rows of B (AUC {leak:.3f}, "
                             "expected about 0.5): it has seen who was treated, so its scores are not comparable.")
                lines.append("")
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bin", help="the promo-studio binary (not needed with --peers-only)")
    p.add_argument("--peers-only", action="store_true", help="the sklift peers and the random order only")
    p.add_argument("--out", default=None, help="output folder (default $OUT or /tmp/calibrate_vs_sklift)")
    p.add_argument("--seeds", default="1,2,3,4,5")
    p.add_argument("--thornton", default="/work/shared/data/thornton_hiv/thornton_hiv.csv")
    p.add_argument("--shop", default=str(ROOT / "sample_data" / "past_campaign.csv"))
    args = p.parse_args()

    out_dir = Path(args.out or os.environ.get("OUT") or "/tmp/calibrate_vs_sklift")
    out_dir.mkdir(parents=True, exist_ok=True)
    binary = None if args.peers_only else args.bin
    if not args.peers_only and not binary:
        p.error("give --bin PATH, or --peers-only")
    if binary:
        binary = str(Path(binary).resolve())
    seeds = [int(s) for s in args.seeds.split(",")]

    datasets = []
    for loader, path in ((thornton, args.thornton), (shop, args.shop)):
        if Path(path).is_file():
            datasets.append(loader(path))
        else:
            print(f"skipped {loader.__name__}: {path} does not exist", file=sys.stderr)

    log = []
    results = {
        "k": K,
        "seeds": seeds,
        "peers_only": args.peers_only,
        "binary": binary,
        "versions": {"python": sys.version.split()[0], "numpy": np.__version__, "pandas": pd.__version__,
                     "scikit-learn": sklearn.__version__, "scikit-uplift": sklift.__version__},
        "datasets": {},
    }
    for ds in datasets:
        started = time.time()
        results["datasets"][ds["name"]] = bench(ds, seeds, binary, out_dir, log)
        print(table(ds["name"], results["datasets"][ds["name"]]))
        print(f"({ds['name']}: {time.time() - started:.1f} s)\n", file=sys.stderr)
    results["commands"] = log
    (out_dir / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out_dir / 'results.json'}", file=sys.stderr)


if __name__ == "__main__":
    main()
