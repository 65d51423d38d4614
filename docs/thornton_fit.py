"""Dose-response in Thornton (2008): share who learned their HIV result by the
randomised cash incentive, with a diminishing-returns fit
    p(v) = p0 + A * (1 - exp(-v / s))
compared with a linear fit p(v) = a + b*v. Data: ../shared/data/thornton_hiv/thornton_hiv.csv.
Needs numpy, pandas, scipy. Figures in docs/response-assumptions.md."""
import sys
import numpy as np
import pandas as pd
from scipy.optimize import minimize

PATH = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/thornton_hiv/thornton_hiv.csv"
d = pd.read_csv(PATH).dropna(subset=["got", "tinc"])
v = d["tinc"].to_numpy(float)
y = d["got"].to_numpy(float)
vill = d["villnum"].fillna(-1).to_numpy()
n = len(y)
EPS = 1e-9


def wilson(k, n, z=1.959964):
    p = k / n
    c = (p + z * z / (2 * n)) / (1 + z * z / n)
    h = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return c - h, c + h


def nll(p, y):
    p = np.clip(p, EPS, 1 - EPS)
    return -np.sum(y * np.log(p) + (1 - y) * np.log(1 - p))


def curve(theta, v):
    p0, a, log_s = theta
    return p0 + a * (1 - np.exp(-v / np.exp(log_s)))


def fit_curve(v, y, start=(0.34, 0.5)):
    fits = [minimize(lambda t: nll(curve(t, v), y), (start[0], start[1], ls), method="Nelder-Mead",
                     options=dict(xatol=1e-7, fatol=1e-9, maxiter=5000))
            for ls in (np.log(0.05), np.log(0.2), np.log(0.5), np.log(1.5))]
    return min(fits, key=lambda r: r.fun)


print(f"rows with got and tinc: {n}; overall response {y.mean():.3f}")
print("band (USD)      n   share  95% CI (Wilson)")
edges = [0, 0.5, 1, 2, 3]
for name, m in [("0", v == 0)] + [(f"({lo:g}, {hi:g}]", (v > lo) & (v <= hi)) for lo, hi in zip(edges, edges[1:])]:
    k, c = int(y[m].sum()), int(m.sum())
    lo, hi = wilson(k, c)
    print(f"{name:>10} {c:>6} {k / c:7.3f}  [{lo:.3f}, {hi:.3f}]")

rc = fit_curve(v, y)
rl = minimize(lambda t: nll(t[0] + t[1] * v, y), (0.5, 0.2), method="Nelder-Mead")
p0, a, s = rc.x[0], rc.x[1], np.exp(rc.x[2])
print(f"curve: p0 = {p0:.3f}, A = {a:.3f}, s = {s:.3f} USD; AIC {2 * rc.fun + 6:.0f}")
print(f"linear: a = {rl.x[0]:.3f}, b = {rl.x[1]:.3f} per USD; AIC {2 * rl.fun + 4:.0f}")

rng = np.random.default_rng(2008)
groups = pd.Series(np.arange(n)).groupby(vill).indices
keys = list(groups)
boot = []
for _ in range(1000):
    idx = np.concatenate([groups[keys[i]] for i in rng.choice(len(keys), len(keys), replace=True)])
    r = minimize(lambda t: nll(curve(t, v[idx]), y[idx]), (p0, a, np.log(s)), method="Nelder-Mead",
                 options=dict(xatol=1e-6, fatol=1e-8, maxiter=3000))
    boot.append((r.x[1], np.exp(r.x[2])))
q = np.percentile(np.array(boot), [2.5, 97.5], axis=0)
print(f"village-cluster bootstrap 95%: A {q[0, 0]:.3f}-{q[1, 0]:.3f}, s {q[0, 1]:.3f}-{q[1, 1]:.3f} USD")
