#!/usr/bin/env bash
# Probity against DuckDB on the audit workload of shared/bench (gen.py, seed 42).
#
#   benches/compare.sh N            # e.g. 1000000; RUNS=5 for more runs (default 3)
#
# Generates the data once (cached in $PROBITY_BENCH_DIR/nN, default /tmp/probity-bench),
# makes it a case folder (adds case.toml), sets up DuckDB in a venv there, builds the
# release binary, then runs Probity and DuckDB alternately RUNS times per query (Q1-Q4,
# one rule file each) and for the whole audit (all four rules in one run, against
# peers/duckdb_all.py), each under /usr/bin/time -v. Prints per query the counts (the
# script fails if they differ), the median wall time and peak RSS of each, and the
# ratios Probity / DuckDB.
set -euo pipefail

N=${1:?usage: benches/compare.sh N}
RUNS=${RUNS:-3}
THREADS=${THREADS:-2}
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
ROOT=${PROBITY_BENCH_DIR:-/tmp/probity-bench}
if [[ -z "${BENCH_SRC:-}" ]]; then
    for d in "$REPO/../shared/bench" "$REPO/../../shared/bench"; do
        [[ -f "$d/gen.py" ]] && BENCH_SRC=$(cd "$d" && pwd) && break
    done
fi
[[ -f "${BENCH_SRC:-}/gen.py" ]] || { echo "error: no shared/bench/gen.py; set BENCH_SRC" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "error: /usr/bin/time is missing (apt-get install time)" >&2; exit 2; }

DATA="$ROOT/n$N"
mkdir -p "$ROOT"
if [[ ! -f "$DATA/.complete" ]]; then
    echo "generating N=$N into $DATA ..." >&2
    rm -rf "$DATA"
    python3 "$BENCH_SRC/gen.py" --n "$N" --seed 42 --out "$DATA"
    touch "$DATA/.complete"
fi
cat > "$DATA/case.toml" <<TOML
[case]
title = "Synthetic audit workload, N = $N (shared/bench/gen.py, seed 42)"
as_of = "2025-06-30"
TOML

PY="$ROOT/venv/bin/python"
if ! "$PY" -c "import duckdb" 2>/dev/null; then
    echo "setting up DuckDB in $ROOT/venv ..." >&2
    python3 -m venv "$ROOT/venv"
    "$ROOT/venv/bin/pip" install -q duckdb
fi

(cd "$REPO" && cargo build --release --quiet)
BIN="$REPO/target/release/probity"
RULES="$REPO/benches/workload"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

# measure NAME CMD...: runs CMD under time -v; appends "NAME<TAB>secs<TAB>kb<TAB>stdout" to OUT/runs.
measure() {
    local name=$1
    shift
    if ! /usr/bin/time -v -o "$OUT/time" "$@" >"$OUT/stdout" 2>"$OUT/stderr"; then
        echo "error: $name failed: $*" >&2
        cat "$OUT/stderr" "$OUT/time" >&2
        exit 1
    fi
    local wall kb
    wall=$(sed -n 's/.*Elapsed (wall clock) time.*: //p' "$OUT/time")
    kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$OUT/time")
    printf '%s\t%s\t%s\t%s\n' "$name" "$wall" "$kb" "$(tr '\n' ' ' <"$OUT/stdout")" >>"$OUT/runs"
}

probity() { measure "probity $1" "$BIN" audit "$DATA" --rules "$2" --format count; }
duckdb() {
    if [[ $1 == ALL ]]; then
        measure "duckdb ALL" "$PY" "$BENCH_SRC/peers/duckdb_all.py" "$DATA" "$THREADS"
    else
        measure "duckdb $1" "$PY" "$BENCH_SRC/peers/duckdb_peer.py" "$DATA" "$1" "$THREADS"
    fi
}

for q in Q1 Q2 Q3 Q4 ALL; do
    if [[ $q == ALL ]]; then rules=$RULES; else rules="$RULES/${q,,}.coi"; fi
    for ((i = 1; i <= RUNS; i++)); do
        echo "N=$N $q run $i/$RUNS" >&2
        if ((i % 2)); then probity "$q" "$rules"; duckdb "$q"; else duckdb "$q"; probity "$q" "$rules"; fi
    done
done

"$PY" - "$OUT/runs" "$N" "$RUNS" <<'PYEOF'
import json, statistics, sys

path, n, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
RULE = {"Q1": "retained_stake", "Q2": "client_meets_principal",
        "Q3": "indirect_control", "Q4": "official_within_2_hops"}

def secs(s):
    parts = [float(p) for p in s.split(":")]
    t = 0.0
    for p in parts:
        t = t * 60 + p
    return t

def probity_counts(out):
    words = out.split()
    return {words[i]: int(words[i + 1]) for i in range(0, len(words) - 1, 2) if words[i + 1].isdigit()}

def duckdb_counts(q, out):
    d = json.loads(out)
    return d["counts"] if q == "ALL" else {q: d["count"]}

rows = {}
for line in open(path):
    name, wall, kb, out = line.rstrip("\n").split("\t")
    peer, q = name.split()
    r = rows.setdefault((q, peer), {"t": [], "kb": [], "counts": None})
    r["t"].append(secs(wall))
    r["kb"].append(int(kb))
    c = probity_counts(out) if peer == "probity" else duckdb_counts(q, out)
    if peer == "probity":
        c = {k: c.get(v) for k, v in RULE.items() if v in c}
    if r["counts"] not in (None, c):
        sys.exit(f"error: {peer} {q} counts differ between runs: {r['counts']} vs {c}")
    r["counts"] = c

bad = []
print(f"N = {n:,}, {runs} runs each, alternating; medians; peak RSS from /usr/bin/time -v;")
print("pairs: the least and greatest ratio of a Probity run to the DuckDB run beside it")
print(f"{'query':6} {'count':>16} {'probity s':>10} {'duckdb s':>9} {'time ratio':>10} "
      f"{'probity MB':>10} {'duckdb MB':>9} {'mem ratio':>9} {'pairs':>11}")
for q in ["Q1", "Q2", "Q3", "Q4", "ALL"]:
    p, d = rows[(q, "probity")], rows[(q, "duckdb")]
    if p["counts"] != d["counts"]:
        bad.append(f"{q}: probity {p['counts']} != duckdb {d['counts']}")
    count = "/".join(str(d["counts"][k]) for k in sorted(d["counts"]))
    pt, dt = statistics.median(p["t"]), statistics.median(d["t"])
    pm, dm = max(p["kb"]) / 1024, max(d["kb"]) / 1024
    pairs = [a / b for a, b in zip(p["t"], d["t"])]
    spread = f"{min(pairs):.2f}-{max(pairs):.2f}"
    print(f"{q:6} {count:>16} {pt:10.2f} {dt:9.2f} {pt / dt:10.2f} {pm:10.0f} {dm:9.0f} {pm / dm:9.2f} "
          f"{spread:>11}")
if bad:
    print("COUNTS DIFFER:\n  " + "\n  ".join(bad))
    sys.exit(1)
print("counts agree")
PYEOF
