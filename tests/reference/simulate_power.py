"""Reference numbers for the holdout's power (tests/simulate.rs): statsmodels'
NormalIndPower with Cohen's h (proportion_effectsize) for conversion and a
standardised mean difference for spend. Rerun: python3 tests/reference/simulate_power.py
(writes tests/reference/simulate_power.json)."""
import json
import statsmodels
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize

P = NormalIndPower()
cases = []
for p0, p1, n1, n2 in [(0.20, 0.25, 1000, 1000), (0.10, 0.12, 9000, 1000), (0.05, 0.06, 40000, 4000), (0.30, 0.29, 2000, 200)]:
    h = proportion_effectsize(p1, p0)
    power = P.power(effect_size=h, nobs1=n1, alpha=0.05, ratio=n2 / n1)
    mde_h = P.solve_power(effect_size=None, nobs1=n1, alpha=0.05, ratio=n2 / n1, power=0.8)
    cases.append({"p0": p0, "p1": p1, "n1": n1, "n2": n2, "h": h, "power": power, "mde_h": mde_h})
spend = []
for lift, sd, n1, n2 in [(5.0, 40.0, 5000, 500), (2.0, 60.0, 20000, 2000)]:
    d = lift / sd
    spend.append({"lift": lift, "sd": sd, "n1": n1, "n2": n2, "power": P.power(effect_size=d, nobs1=n1, alpha=0.05, ratio=n2 / n1)})
json.dump({"statsmodels": statsmodels.__version__, "conversion": cases, "spend": spend},
          open("tests/reference/simulate_power.json", "w"), indent=1)
print(json.dumps(cases[:2], indent=1))
