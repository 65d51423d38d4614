"""Reference for tests/bundles.rs: mlxtend's FP-growth and association rules
on the Groceries baskets (Hahsler et al. 2006), support ≥ 0.001 and
confidence ≥ 0.8 (arules' documented example gives 410 rules there).

    python3 tests/reference/groceries_rules.py ../shared/data/groceries/groceries_long.csv \
        > tests/reference/groceries_rules.csv                      (pip install mlxtend pandas)

One row per rule: antecedents, consequents (items joined by "|", sorted),
support, confidence, lift, leverage, conviction (empty when infinite).
"""
import inspect
import sys

import pandas as pd
from mlxtend.frequent_patterns import association_rules, fpgrowth
from mlxtend.preprocessing import TransactionEncoder

MIN_SUPPORT, MIN_CONFIDENCE = 0.001, 0.8

long = pd.read_csv(sys.argv[1], dtype={"transaction_id": str, "item": str})
baskets = long.groupby("transaction_id")["item"].apply(lambda s: sorted(set(s))).tolist()
encoder = TransactionEncoder()
onehot = pd.DataFrame(encoder.fit(baskets).transform(baskets), columns=encoder.columns_)
itemsets = fpgrowth(onehot, min_support=MIN_SUPPORT, use_colnames=True)
kwargs = {"metric": "confidence", "min_threshold": MIN_CONFIDENCE}
if "num_itemsets" in inspect.signature(association_rules).parameters:  # mlxtend ≥ 0.23.2
    kwargs["num_itemsets"] = len(onehot)
rules = association_rules(itemsets, **kwargs)
out = pd.DataFrame({
    "antecedents": rules["antecedents"].map(lambda s: "|".join(sorted(s))),
    "consequents": rules["consequents"].map(lambda s: "|".join(sorted(s))),
    "support": rules["support"],
    "confidence": rules["confidence"],
    "lift": rules["lift"],
    "leverage": rules["leverage"],
    "conviction": rules["conviction"].where(rules["conviction"] != float("inf")),
}).sort_values(["antecedents", "consequents"])
out.to_csv(sys.stdout, index=False, float_format="%.15g")
