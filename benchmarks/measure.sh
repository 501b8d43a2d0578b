#!/usr/bin/env bash
# Runs Shale's measurement tools (io.shale.benchmarks.tools) and writes their sections of
# benchmarks/MEASUREMENTS.md; each tool also prints its markdown table.
#
#   benchmarks/measure.sh [--smoke] [all|requests|objectwal|coldread|memory|diskbytes|dataobjects]... [-- tool options...]
#
#   requests   RequestCounts: object-store requests per GiB written and read cold, 1/100/10,000
#              partitions, local directory + file WAL and S3Proxy + object WAL; metadata share.
#   objectwal  ObjectWalLatency: object-WAL append p50/p99/p99.9 and throughput, S3 PUT p99, PUTs per GiB.
#   coldread   ColdRead: cold catch-up read throughput against raw ranged GETs of the same store.
#   memory     IdlePartitionMemory: heap per idle partition at 100,000 partitions.
#   diskbytes  DiskBytes: bytes written to disk per byte appended in local mode (WAL, objects,
#              compaction) and the WAL group size of durable appends (not part of `all`).
#   dataobjects DataObjectsCost: the object WAL's data-objects layout against its upload layout, same
#              workload (1 and 64 partitions, S3Proxy): cold catch-up reads of one and of all partitions
#              from first-level objects (GETs per GiB, bytes fetched per byte returned) and compaction
#              into per-partition segments (bytes read + written, PUTs) (not part of `all`).
#   all        all four, in that order (the default).
#   --smoke    tiny sizes (CI): checks that every tool runs end to end; the figures are not results.
#   -- ...     options passed to every tool named; name one tool, since their options differ, e.g.
#              `measure.sh requests -- --bytes 1g` (a tool prints its usage when an option is wrong);
#              `-- --out -` prints the tool's section without writing MEASUREMENTS.md.
#
# Each tool's default run takes one to three minutes on a 2-core machine; `all` about 5 to 8.
# Exit status: 0 if every tool succeeded, else the last failing tool's status.
#
# Environment:
#   SHALE_BENCH_ROOT  parent of the scratch directory (default $TMPDIR or /tmp), removed at exit.
#   JAVA              the java launcher (default: java on PATH).
#   MEASURE_HEAP      heap size for each tool's JVM (default 2g).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
JAR=benchmarks/target/benchmarks.jar
LIB=benchmarks/target/measure-lib
JAVA=${JAVA:-java}
HEAP=${MEASURE_HEAP:-2g}

SMOKE=()
TOOLS=()
EXTRA=()
while (( $# > 0 )); do
  case "$1" in
    --smoke) SMOKE=(--smoke) ;;
    all) TOOLS+=(requests objectwal coldread memory) ;;
    requests|objectwal|coldread|memory|diskbytes|dataobjects) TOOLS+=("$1") ;;
    --) shift; EXTRA=("$@"); break ;;
    *) echo "usage: $0 [--smoke] [all|requests|objectwal|coldread|memory|diskbytes|dataobjects]... [-- tool options...]" >&2; exit 2 ;;
  esac
  shift
done
(( ${#TOOLS[@]} > 0 )) || TOOLS=(requests objectwal coldread memory)

# Build when the jar or the tools' libraries are missing, or older than a source or pom they bundle.
stale=$( [[ -f $JAR && -d $LIB ]] && find pom.xml benchmarks log-core storage-local storage-s3 -path '*/target' -prune -o \
           \( -name '*.java' -o -name pom.xml -o -name '*.xml' -path '*/resources/*' \) -newer "$JAR" -print -quit \
         || echo missing )
if [[ -n $stale ]]; then
  echo "== building $JAR and $LIB"
  mvn -B -q -o -pl benchmarks -am install -DskipTests || mvn -B -q -pl benchmarks -am install -DskipTests
fi

BENCH_DIR=$(mktemp -d "${SHALE_BENCH_ROOT:-${TMPDIR:-/tmp}}/shale-measure.XXXXXX")
trap 'rm -rf "$BENCH_DIR"' EXIT
export SHALE_BENCH_DIR=$BENCH_DIR

quote() { local q; q=$(printf '%q ' "$@"); printf '%s' "${q% }"; }
status=0
for tool in "${TOOLS[@]}"; do
  case "$tool" in
    requests) class=RequestCounts ;;
    objectwal) class=ObjectWalLatency ;;
    coldread) class=ColdRead ;;
    memory) class=IdlePartitionMemory ;;
    diskbytes) class=DiskBytes ;;
    dataobjects) class=DataObjectsCost ;;
  esac
  CMD=("$JAVA" "-Xms$HEAP" "-Xmx$HEAP" -cp "$JAR:$LIB/*" "io.shale.benchmarks.tools.$class" "${SMOKE[@]}" "${EXTRA[@]}")
  COMMAND="benchmarks/measure.sh $(quote "${SMOKE[@]}" "$tool" ${EXTRA[@]+--} "${EXTRA[@]}")
# which ran:
$(quote "${CMD[@]}")"
  echo "== $(quote "${CMD[@]}")"
  start=$(date +%s)
  set +e
  OUT=(--out benchmarks/MEASUREMENTS.md)
  for a in ${EXTRA[@]+"${EXTRA[@]}"}; do [[ $a == --out ]] && OUT=(); done # `-- --out -` prints only
  "${CMD[@]}" ${OUT[@]+"${OUT[@]}"} --command "$COMMAND"
  s=$?
  set -e
  echo "== $class finished with status $s after $(( $(date +%s) - start )) s"
  (( s == 0 )) || status=$s
done
exit "$status"
