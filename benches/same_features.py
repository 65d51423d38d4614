"""Whether two features.csv files are the same table: the same customers,
columns and counts exactly, sums of amounts (monetary, avg_order_value) to
1e-9 relative, as a distributed sum adds in another order. Prints "equal" or
the first difference. Used by benches/cluster.sh and benches/executor_loss.sh.

    python3 benches/same_features.py LOCAL.csv CLUSTER.csv
"""
import sys

a, b = (open(p).read().splitlines() for p in sys.argv[1:3])
if len(a) != len(b) or a[0] != b[0]:
    print(f"DIFFERENT: {len(a) - 1} vs {len(b) - 1} customers, or other columns")
    sys.exit()
head = a[0].split(",")
for x, y in zip(a[1:], b[1:]):
    if x == y:
        continue
    for c, u, v in zip(head, x.split(","), y.split(",")):
        if u == v:
            continue
        close = c in ("monetary", "avg_order_value") and abs(float(u) - float(v)) <= 1e-9 * max(abs(float(u)), abs(float(v)), 1.0)
        if not close:
            print(f"DIFFERENT {c}: {u} vs {v}")
            sys.exit()
print("equal")
