#!/usr/bin/env bash
# Runs Shale's JMH suite and writes benchmarks/RESULTS.md and benchmarks/results/*.png from its JSON.
#
#   benchmarks/run.sh [quick|full] [regex] [more JMH options...]
#
#   quick  1 warmup + 2 measurement iterations of 1 s, 1 fork: a few minutes. A smoke run (CI uses it):
#          it fails only if a benchmark throws, never on speed; RESULTS.md is marked as a smoke run.
#   full   3 x 5 s warmup + 5 x 10 s measurement, 1 fork: about an hour on a 2-core machine.
#   regex  which benchmarks (JMH include regex, default: all), e.g. 'Kafka|Chronicle' or 'FsyncLimit'.
#   more   passed to JMH as they are, e.g. -prof gc, -p recordBytes=100,1024, -t 8.
#
# Environment:
#   SHALE=auto|yes|no   auto (default): run the Shale benchmarks only if ShaleStores can open a store
#                       (leaving them out, with a note, when it cannot); yes: always; no: never.
#   SHALE_BENCH_ROOT    parent of the scratch directory (default $TMPDIR or /tmp): the disk measured.
#   JAVA                the java launcher (default: java on PATH).
set -euo pipefail

MODE=${1:-quick}
REGEX=${2:-.}
if (( $# > 2 )); then EXTRA=("${@:3}"); else EXTRA=(); fi

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
JAR=benchmarks/target/benchmarks.jar
OUT=benchmarks/results
JSON=$OUT/jmh-$MODE.json
LOG=$OUT/jmh-$MODE.log
JAVA=${JAVA:-java}
SHALE=${SHALE:-auto}

case "$MODE" in
  quick) JMH_OPTS=(-wi 1 -i 2 -w 1s -r 1s -f 1 -foe true) ;;
  full)  JMH_OPTS=(-wi 3 -i 5 -w 5s -r 10s -f 1) ;;
  *) echo "usage: $0 [quick|full] [regex] [JMH options...]" >&2; exit 2 ;;
esac

# Build when the jar is missing or older than a source or pom of what it bundles.
stale=$( [[ -f $JAR ]] && find pom.xml benchmarks log-core storage-local -path '*/target' -prune -o \
           \( -name '*.java' -o -name pom.xml \) -newer "$JAR" -print -quit || echo missing )
if [[ -n $stale ]]; then
  echo "== building $JAR"
  mvn -B -q -o -pl benchmarks -am install -DskipTests || mvn -B -q -pl benchmarks -am install -DskipTests
fi

BENCH_DIR=$(mktemp -d "${SHALE_BENCH_ROOT:-${TMPDIR:-/tmp}}/shale-bench.XXXXXX")
trap 'rm -rf "$BENCH_DIR"' EXIT
export SHALE_BENCH_DIR=$BENCH_DIR

NOTES=()
EXCLUDE=()
case "$SHALE" in
  no)
    EXCLUDE=(-e 'io\.shale\.benchmarks\.shale\.')
    NOTES+=(--note "Shale benchmarks: left out (SHALE=no).") ;;
  yes) ;;
  auto)
    set +e
    probe=$("$JAVA" -cp "$JAR" io.shale.benchmarks.ShaleStores 2>/dev/null | tail -n 1)
    probe_status=$?
    set -e
    if [[ $probe != ok ]]; then
      EXCLUDE=(-e 'io\.shale\.benchmarks\.shale\.')
      NOTES+=(--note "Shale benchmarks: not run, because ShaleStores cannot open a store yet (${probe:-no answer, status $probe_status}).")
      echo "== Shale benchmarks left out: ${probe:-ShaleStores probe failed}"
    fi ;;
  *) echo "SHALE must be auto, yes or no" >&2; exit 2 ;;
esac

mkdir -p "$OUT"
rm -f "$JSON"
CMD=("$JAVA" -jar "$JAR" "$REGEX" "${EXCLUDE[@]}" "${JMH_OPTS[@]}" -rf json -rff "$JSON" "${EXTRA[@]}")
quote() { local q; q=$(printf '%q ' "$@"); printf '%s' "${q% }"; }
COMMAND="SHALE=$SHALE benchmarks/run.sh $MODE $(quote "$REGEX" "${EXTRA[@]}")
# which ran, with SHALE_BENCH_DIR=$(dirname "$BENCH_DIR")/shale-bench.XXXXXX:
$(quote "${CMD[@]}")"
echo "== $(quote "${CMD[@]}")"

start=$(date +%s)
set +e
"${CMD[@]}" 2>&1 | tee "$LOG"
status=${PIPESTATUS[0]}
set -e
echo "== JMH finished with status $status after $(( $(date +%s) - start )) s"

if [[ -s $JSON ]]; then
  "$JAVA" -Djava.awt.headless=true -cp "$JAR" io.shale.benchmarks.report.ResultsReport \
    --json "$JSON" --out benchmarks/RESULTS.md --charts "$OUT" --mode "$MODE" \
    --command "$COMMAND" --bench-dir "$BENCH_DIR" "${NOTES[@]}"
else
  echo "== no JMH results in $JSON: RESULTS.md not written" >&2
  (( status != 0 )) || status=1
fi
exit "$status"
