#!/usr/bin/env bash
# The audit workload through Probity, natively and on DuckDB (`probity audit --engine
# duckdb`), for docs/scale.md:
#
#   benches/engine.sh 1000000          # RUNS=3 by default
#
# Uses the data benches/compare.sh generated (DATA_ROOT, default /tmp/probity-bench/nN;
# run compare.sh N once first) and the DuckDB command-line client ($PROBITY_DUCKDB, else
# `duckdb`; `pip install duckdb-cli`). Per query (Q3 is left out: the SQL backend does not
# compile recursion through arithmetic) it runs each way RUNS times, alternating, with
# the full JSON report written to /dev/null, and prints the findings counts (which must
# agree), the median wall time, and Probity's own peak memory (the engine's process is
# apart and is not counted; see docs/scale.md).
set -euo pipefail
N=${1:?usage: benches/engine.sh N}
RUNS=${RUNS:-3}
REPO=$(cd "$(dirname "$0")/.." && pwd)
DATA=${DATA_ROOT:-/tmp/probity-bench}/n$N
[[ -f "$DATA/case.toml" ]] || { echo "error: no $DATA/case.toml; run benches/compare.sh $N first" >&2; exit 2; }
CLIENT=${PROBITY_DUCKDB:-duckdb}
"$CLIENT" -version >/dev/null 2>&1 || { echo "error: no DuckDB client \`$CLIENT\`; set PROBITY_DUCKDB" >&2; exit 2; }
(cd "$REPO" && cargo build --release --quiet)
BIN="$REPO/target/release/probity"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

# run NAME ARGS...: one audit under time -v; appends "NAME secs kb findings".
run() {
    local name=$1
    shift
    /usr/bin/time -v -o "$OUT/time" "$BIN" audit "$DATA" --format json --no-timestamp -o "$OUT/report.json" "$@" 2>"$OUT/err" ||
        { cat "$OUT/err" "$OUT/time" >&2; exit 1; }
    local secs kb n
    secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s}' "$OUT/time")
    kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$OUT/time")
    n=$(python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(len(d["findings"]) + len(d["exempted"]))' "$OUT/report.json")
    echo "$name $secs $kb $n" >>"$OUT/runs"
}

median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

for q in q1 q2 q4; do
    for _ in $(seq "$RUNS"); do
        run "native-$q" --rules "$REPO/benches/workload/$q.coi"
        run "duckdb-$q" --rules "$REPO/benches/workload/$q.coi" --engine duckdb --client "$CLIENT"
    done
done

printf "N = %s, %s run(s) each; JSON report with evidence to a file\n" "$N" "$RUNS"
printf "%-6s %10s %10s %10s %12s %12s %10s\n" query findings native_s duckdb_s native_MB probity_MB ratio
for q in q1 q2 q4; do
    nat=$(awk -v k="native-$q" '$1 == k' "$OUT/runs")
    eng=$(awk -v k="duckdb-$q" '$1 == k' "$OUT/runs")
    cn=$(awk '{print $4}' <<<"$nat" | sort -u)
    ce=$(awk '{print $4}' <<<"$eng" | sort -u)
    [[ "$cn" == "$ce" ]] || { echo "error: $q: $cn findings natively, $ce on DuckDB" >&2; exit 1; }
    tn=$(awk '{print $2}' <<<"$nat" | median)
    te=$(awk '{print $2}' <<<"$eng" | median)
    mn=$(awk '{print $3 / 1024}' <<<"$nat" | median)
    me=$(awk '{print $3 / 1024}' <<<"$eng" | median)
    printf "%-6s %10s %10.2f %10.2f %12.0f %12.0f %10.2f\n" "$q" "$cn" "$tn" "$te" "$mn" "$me" "$(echo "$te / $tn" | bc -l)"
done
