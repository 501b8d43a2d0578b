#!/usr/bin/env bash
# The Shale broker beside an Apache Kafka broker, in one run on this machine, measured with Kafka's
# own tools (kafka-tools: ProducerPerformance, ConsumerPerformance, EndToEndLatency). Writes
# benchmarks/BROKER.md and the tools' raw outputs under benchmarks/results/broker-compare/.
#
#   benchmarks/broker-compare.sh
#
# Steps: builds broker/target/shale-broker.jar when it is missing or stale; copies Apache Kafka
# (kafka_2.13, kafka-tools, a log4j 2 backend; benchmarks/broker-compare/pom.xml) from Maven Central
# into benchmarks/target/broker-compare/kafka-libs with `mvn dependency:copy-dependencies`; then, one
# broker at a time, each in a scratch directory on a free port: a single-node KRaft Kafka with its
# default flush settings (no fsync), the Shale broker (fsync of every acknowledged batch), and unless
# KAFKA_FSYNC=no a Kafka with log.flush.interval.messages=1 (fsync after every append). Against each:
#   1. ProducerPerformance at full speed (--throughput -1): produce MB/s, records/s, latency p50/p99
#   2. ProducerPerformance at a fixed rate (LATENCY_RATE records/s): latency below saturation
#   3. ConsumerPerformance reading back what step 1 wrote: consume MB/s
#   4. EndToEndLatency (one record at a time, produce then consume): end-to-end p50/p99
# Both brokers are stopped on every exit path.
#
# Environment (defaults in brackets):
#   RECORDS [200000]          records of step 1 (10% of them are warm-up, left out of its figures)
#   RECORD_SIZE [1024]        bytes per record value
#   PARTITIONS [3]            partitions of the topic of steps 1 to 3
#   ACKS [all]                producer acks in steps 1, 2 and 4
#   PRODUCER_PROPS [enable.idempotence=true]
#                             more producer properties (space-separated k=v), the same for every
#                             broker (the default is kafka-clients' own); e.g. PRODUCER_PROPS="enable.idempotence=false linger.ms=5"
#   LATENCY_RATE [2000]       records/s of step 2 (0 leaves step 2 out)
#   LATENCY_RECORDS [40000]   records of step 2
#   E2E_RECORDS [3000]        round trips of step 4
#   KAFKA_FSYNC [yes]         also run Kafka with log.flush.interval.messages=1
#   ROUNDS [1]                run every broker this many times, in turn (Kafka, Shale, Kafka fsync,
#                             Kafka, ...); BROKER.md shows the median of each figure over the rounds
#   BROKER_JVM_OPTS           JVM options of both brokers [Kafka's kafka-server-start.sh defaults:
#                             -Xms1g -Xmx1g -XX:+UseG1GC -XX:MaxGCPauseMillis=20 ...]
#   BENCH_ROOT                parent of the scratch directory [$TMPDIR or /tmp]: the disk measured
#   NOTE                      a line added to BROKER.md (e.g. "the machine was shared with ...")
#   REPORT_ONLY [no]          yes: measure nothing, write BROKER.md again from the last run's results
#                             (its settings, kept in results/broker-compare/run.env, and NOTE)
#   MVN [mvn -B -ntp -q]      the Maven command; MVN_ARGS: more options, e.g. -Dmaven.repo.local=DIR
#   JAVA [java]               the java launcher
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

RECORDS=${RECORDS:-200000}
RECORD_SIZE=${RECORD_SIZE:-1024}
PARTITIONS=${PARTITIONS:-3}
ACKS=${ACKS:-all}
PRODUCER_PROPS=${PRODUCER_PROPS:-enable.idempotence=true}
LATENCY_RATE=${LATENCY_RATE:-2000}
LATENCY_RECORDS=${LATENCY_RECORDS:-40000}
E2E_RECORDS=${E2E_RECORDS:-3000}
KAFKA_FSYNC=${KAFKA_FSYNC:-yes}
ROUNDS=${ROUNDS:-1}
BROKER_JVM_OPTS=${BROKER_JVM_OPTS:--Xms1g -Xmx1g -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent}
JAVA=${JAVA:-java}
MVN=${MVN:-mvn -B -ntp -q}
MVN_ARGS=${MVN_ARGS:-}
NOTE=${NOTE:-}
REPORT_ONLY=${REPORT_ONLY:-no}
case "$REPORT_ONLY" in yes|no) ;; *) echo "broker-compare: REPORT_ONLY must be yes or no, got '$REPORT_ONLY'" >&2; exit 2 ;; esac
OUT=benchmarks/results/broker-compare
if [[ $REPORT_ONLY == yes ]]; then
  [[ -f $OUT/run.env ]] || { echo "broker-compare: REPORT_ONLY=yes needs a previous run's $OUT/run.env" >&2; exit 2; }
  note=$NOTE
  # shellcheck disable=SC1091
  source "$OUT/run.env"
  NOTE=$note
fi

for n in RECORDS RECORD_SIZE PARTITIONS LATENCY_RATE LATENCY_RECORDS E2E_RECORDS ROUNDS; do
  [[ ${!n} =~ ^[0-9]+$ ]] || { echo "broker-compare: $n must be a whole number, got '${!n}'" >&2; exit 2; }
done
(( RECORDS >= 10 && RECORD_SIZE > 0 && PARTITIONS > 0 && E2E_RECORDS > 0 && ROUNDS > 0 )) || {
  echo "broker-compare: RECORDS must be at least 10 and RECORD_SIZE, PARTITIONS, E2E_RECORDS, ROUNDS positive" >&2; exit 2; }
case "$KAFKA_FSYNC" in yes|no) ;; *) echo "broker-compare: KAFKA_FSYNC must be yes or no, got '$KAFKA_FSYNC'" >&2; exit 2 ;; esac
case "$ACKS" in all|-1|0|1) ;; *) echo "broker-compare: ACKS must be all, -1, 0 or 1, got '$ACKS'" >&2; exit 2 ;; esac
read -r -a PROPS <<< "$PRODUCER_PROPS"
for p in "${PROPS[@]}"; do
  [[ $p == *=* ]] || { echo "broker-compare: PRODUCER_PROPS entries must be key=value, got '$p'" >&2; exit 2; }
done
read -r -a JVM_OPTS <<< "$BROKER_JVM_OPTS"
KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' pom.xml | head -n 1)
[[ -n $KAFKA_VERSION ]] || { echo "broker-compare: no kafka.version in pom.xml" >&2; exit 2; }

REPORT=benchmarks/BROKER.md
LIBS=benchmarks/target/broker-compare/kafka-libs
BROKER_JAR=broker/target/shale-broker.jar

if [[ $REPORT_ONLY == no ]]; then   # (to the report)
# --- the Shale broker jar, built when missing or older than a source or pom it bundles
stale=$( [[ -f $BROKER_JAR ]] && find pom.xml broker log-core storage-local -path '*/target' -prune -o \
           \( -name '*.java' -o -name pom.xml -o -name '*.properties' \) -newer "$BROKER_JAR" -print -quit || echo missing )
if [[ -n $stale ]]; then
  echo "== building $BROKER_JAR"
  # shellcheck disable=SC2086
  $MVN $MVN_ARGS -pl broker -am package -DskipTests
fi

# --- Apache Kafka from Maven Central (nothing else is downloaded)
if [[ ! -f $LIBS/kafka_2.13-$KAFKA_VERSION.jar || ! -f $LIBS/kafka-tools-$KAFKA_VERSION.jar \
      || benchmarks/broker-compare/pom.xml -nt $LIBS/kafka_2.13-$KAFKA_VERSION.jar ]]; then
  echo "== copying Apache Kafka $KAFKA_VERSION from Maven Central into $LIBS"
  rm -rf "$LIBS"
  # shellcheck disable=SC2086
  $MVN $MVN_ARGS -f benchmarks/broker-compare/pom.xml dependency:copy-dependencies \
    -Dkafka.version="$KAFKA_VERSION" -DoutputDirectory="$ROOT/$LIBS"
fi
CP="$ROOT/$LIBS/*"

SCRATCH=$(mktemp -d "${BENCH_ROOT:-${TMPDIR:-/tmp}}/shale-broker-compare.XXXXXX")
BROKER_PID=
stop_broker() {
  if [[ -n $BROKER_PID ]] && kill -0 "$BROKER_PID" 2>/dev/null; then
    kill -TERM "$BROKER_PID" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$BROKER_PID" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$BROKER_PID" 2>/dev/null || true
    wait "$BROKER_PID" 2>/dev/null || true
  fi
  BROKER_PID=
}
cleanup() { stop_broker; rm -rf "$SCRATCH"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

cat > "$SCRATCH/log4j2.properties" <<'EOF'
status = warn
appender.err.type = Console
appender.err.name = ERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = ${sys:bench.log.level:-WARN}
rootLogger.appenderRef.err.ref = ERR
EOF
tool() { "$JAVA" -Dlog4j2.configurationFile="$SCRATCH/log4j2.properties" -cp "$CP" "$@"; }

# Waits until the broker at $1 answers a topic listing (at most 90 s), or fails naming its log.
wait_ready() {
  local bootstrap=$1 log=$2
  for _ in $(seq 1 90); do
    kill -0 "$BROKER_PID" 2>/dev/null || { echo "broker-compare: the broker exited; its log ($log):" >&2; tail -n 30 "$log" >&2; exit 1; }
    if timeout 20 "$JAVA" -Dlog4j2.configurationFile="$SCRATCH/log4j2.properties" -cp "$CP" \
         org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" --list >/dev/null 2>&1; then
      return 0
    fi
    sleep 1
  done
  echo "broker-compare: the broker at $bootstrap did not answer within 90 s; its log ($log):" >&2
  tail -n 30 "$log" >&2
  exit 1
}

start_shale() {
  local dir=$SCRATCH/shale
  mkdir -p "$dir"
  "$JAVA" "${JVM_OPTS[@]}" -jar "$BROKER_JAR" --data "$dir/data" --listen 127.0.0.1:0 >"$dir/broker.txt" 2>&1 &
  BROKER_PID=$!
  local addr=
  for _ in $(seq 1 120); do
    addr=$(sed -n 's/^Shale broker listening on \([^ ]*\) .*/\1/p' "$dir/broker.txt" | head -n 1)
    [[ -n $addr ]] && break
    kill -0 "$BROKER_PID" 2>/dev/null || break
    sleep 0.5
  done
  [[ -n $addr ]] || { echo "broker-compare: the Shale broker did not start; its log:" >&2; tail -n 30 "$dir/broker.txt" >&2; exit 1; }
  BOOTSTRAP=$addr
  wait_ready "$BOOTSTRAP" "$dir/broker.txt"
}

start_kafka() {   # $1: extra server.properties lines
  local dir=$SCRATCH/kafka-$RANDOM port cport
  mkdir -p "$dir"
  port=$(free_port); cport=$(free_port)
  while [[ $cport == "$port" ]]; do cport=$(free_port); done
  cat > "$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
controller.quorum.bootstrap.servers=127.0.0.1:$cport
log.dirs=$dir/data
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
auto.create.topics.enable=false
$1
EOF
  local cluster
  cluster=$(tool kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)
  tool kafka.tools.StorageTool format -t "$cluster" -c "$dir/server.properties" --standalone >"$dir/format.txt" 2>&1 \
    || { echo "broker-compare: formatting Kafka's storage failed:" >&2; tail -n 20 "$dir/format.txt" >&2; exit 1; }
  "$JAVA" "${JVM_OPTS[@]}" -Dbench.log.level=INFO -Dlog4j2.configurationFile="$SCRATCH/log4j2.properties" \
    -cp "$CP" kafka.Kafka "$dir/server.properties" >"$dir/broker.txt" 2>&1 &
  BROKER_PID=$!
  BOOTSTRAP=127.0.0.1:$port
  wait_ready "$BOOTSTRAP" "$dir/broker.txt"
}

# Runs the four steps against $BOOTSTRAP; raw outputs into the directory $2.
measure() {
  local name=$1 out=$2
  mkdir -p "$out"
  echo "== $name: topics"
  tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" --create --topic perf \
    --partitions "$PARTITIONS" --replication-factor 1 >"$out/topics.txt" 2>&1
  tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" --create --topic rate \
    --partitions "$PARTITIONS" --replication-factor 1 >>"$out/topics.txt" 2>&1
  tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" --create --topic e2e \
    --partitions 1 --replication-factor 1 >>"$out/topics.txt" 2>&1

  echo "== $name: ProducerPerformance, $RECORDS records of $RECORD_SIZE bytes, full speed"
  tool org.apache.kafka.tools.ProducerPerformance --bootstrap-server "$BOOTSTRAP" --topic perf \
    --num-records "$RECORDS" --warmup-records $(( RECORDS / 10 )) --record-size "$RECORD_SIZE" --throughput -1 \
    --command-property acks="$ACKS" "${PROPS[@]}" 2>&1 | tee "$out/produce.txt" | tail -n 1

  if (( LATENCY_RATE > 0 )); then
    echo "== $name: ProducerPerformance, $LATENCY_RECORDS records at $LATENCY_RATE records/s"
    tool org.apache.kafka.tools.ProducerPerformance --bootstrap-server "$BOOTSTRAP" --topic rate \
      --num-records "$LATENCY_RECORDS" --warmup-records $(( LATENCY_RECORDS / 10 )) --record-size "$RECORD_SIZE" \
      --throughput "$LATENCY_RATE" --command-property acks="$ACKS" "${PROPS[@]}" 2>&1 | tee "$out/produce-rate.txt" | tail -n 1
  fi

  echo "== $name: ConsumerPerformance, $RECORDS records"
  tool org.apache.kafka.tools.ConsumerPerformance --bootstrap-server "$BOOTSTRAP" --topic perf \
    --num-records "$RECORDS" --group "bench-$name" --timeout 30000 2>&1 | tee "$out/consume.txt" | tail -n 1

  echo "== $name: EndToEndLatency, $E2E_RECORDS round trips"
  printf '%s\n' "${PROPS[@]}" > "$out/e2e-producer.properties"
  tool org.apache.kafka.tools.EndToEndLatency --bootstrap-server "$BOOTSTRAP" --topic e2e \
    --num-records "$E2E_RECORDS" --producer-acks "$ACKS" --record-size "$RECORD_SIZE" \
    --command-config "$out/e2e-producer.properties" 2>&1 | tee "$out/e2e.txt" | tail -n 2
}

# key=value lines from the raw outputs in the directory $1.
summarize() {
  local out=$1 line
  # the steady-state line (after warm-up) when there is one, else the final summary
  line=$(grep -E 'steady state records sent' "$out/produce.txt" | tail -n 1 || true)
  [[ -n $line ]] || line=$(grep -E '[0-9]+ records sent, .* 99.9th' "$out/produce.txt" | tail -n 1 || true)
  [[ -n $line ]] || { echo "broker-compare: no ProducerPerformance summary in $out/produce.txt" >&2; exit 1; }
  sed -E 's/.* ([0-9.]+) records\/sec \(([0-9.]+) MB\/sec\), ([0-9.]+) ms avg latency, ([0-9.]+) ms max latency, ([0-9]+) ms 50th, ([0-9]+) ms 95th, ([0-9]+) ms 99th, ([0-9]+) ms 99.9th.*/produce_rps=\1\nproduce_mbs=\2\nproduce_avg=\3\nproduce_p50=\5\nproduce_p99=\7/' <<< "$line"
  if [[ -f $out/produce-rate.txt ]]; then
    line=$(grep -E 'steady state records sent' "$out/produce-rate.txt" | tail -n 1 || true)
    [[ -n $line ]] || line=$(grep -E '[0-9]+ records sent, .* 99.9th' "$out/produce-rate.txt" | tail -n 1 || true)
    [[ -n $line ]] || { echo "broker-compare: no ProducerPerformance summary in $out/produce-rate.txt" >&2; exit 1; }
    sed -E 's/.* ([0-9.]+) records\/sec \(([0-9.]+) MB\/sec\), ([0-9.]+) ms avg latency, ([0-9.]+) ms max latency, ([0-9]+) ms 50th, ([0-9]+) ms 95th, ([0-9]+) ms 99th, ([0-9]+) ms 99.9th.*/rate_rps=\1\nrate_p50=\5\nrate_p99=\7/' <<< "$line"
  fi
  # ConsumerPerformance: the data line after its header
  line=$(grep -A1 -E '^start.time, end.time' "$out/consume.txt" | tail -n 1 || true)
  [[ $line == *,*,*,*,*,*,*,*,*,* ]] || { echo "broker-compare: no ConsumerPerformance figures in $out/consume.txt" >&2; exit 1; }
  awk -F', *' '{ printf "consume_mb=%s\nconsume_mbs=%s\nconsume_n=%s\nconsume_rps=%s\nconsume_rebalance_ms=%s\nconsume_fetch_ms=%s\nconsume_fetch_mbs=%s\n", $3, $4, $5, $6, $7, $8, $9 }' <<< "$line"
  line=$(grep -E '^Percentiles: 50th = ' "$out/e2e.txt" | tail -n 1 || true)
  [[ -n $line ]] || { echo "broker-compare: no EndToEndLatency percentiles in $out/e2e.txt" >&2; exit 1; }
  sed -E 's/^Percentiles: 50th = ([0-9.]+), 99th = ([0-9.]+), 99.9th = ([0-9.]+).*/e2e_p50=\1\ne2e_p99=\2\ne2e_p999=\3/' <<< "$line"
  grep -E '^Avg latency: ' "$out/e2e.txt" | tail -n 1 | sed -E 's/^Avg latency: ([0-9.]+) ms.*/e2e_avg=\1/'
}

rm -rf "$OUT"; mkdir -p "$OUT"
START=$(date -u '+%Y-%m-%d %H:%M UTC')
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

TARGETS=(kafka shale)
[[ $KAFKA_FSYNC == yes ]] && TARGETS+=(kafka-fsync)
for r in $(seq 1 "$ROUNDS"); do
  for t in "${TARGETS[@]}"; do
    dir=$OUT/$t/round-$r
    echo "== round $r of $ROUNDS: $t"
    case "$t" in
      kafka) start_kafka "" ;;
      kafka-fsync) start_kafka "log.flush.interval.messages=1" ;;
      shale) start_shale ;;
    esac
    measure "$t" "$dir"
    stop_broker
    # the broker's warnings and errors (Kafka's INFO log is too long to keep)
    grep -hE '(^\[[^]]*\] (WARN|ERROR))|( (WARN|ERROR) )' "$SCRATCH"/"${t%%-*}"*/broker.txt > "$dir/broker-warnings.txt" 2>/dev/null || true
    rm -rf "$SCRATCH/shale" "$SCRATCH"/kafka-*
    summarize "$dir" > "$dir/summary.properties"
  done
done
# each figure: the median over the rounds
for t in "${TARGETS[@]}"; do
  cat "$OUT/$t"/round-*/summary.properties | awk -F= '
    { if (!($1 in n)) order[++keys] = $1; v[$1, ++n[$1]] = $2 + 0 }
    END {
      for (i = 1; i <= keys; i++) {
        k = order[i]; c = n[k]
        for (a = 1; a <= c; a++) for (b = a + 1; b <= c; b++) if (v[k, b] < v[k, a]) { x = v[k, a]; v[k, a] = v[k, b]; v[k, b] = x }
        m = (c % 2) ? v[k, (c + 1) / 2] : (v[k, c / 2] + v[k, c / 2 + 1]) / 2
        printf "%s=%s\n", k, m
      }
    }' > "$OUT/$t/summary.properties"
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
CORES=$(nproc)
MEM=$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
FS=$(df -T "${BENCH_ROOT:-${TMPDIR:-/tmp}}" | awk 'NR == 2 { print $2 " on " $1 }')
DATA_ROOT=${BENCH_ROOT:-${TMPDIR:-/tmp}}
JAVA_VERSION=$("$JAVA" -version 2>&1 | head -n 1)
# what the report needs, for REPORT_ONLY=yes
for n in RECORDS RECORD_SIZE PARTITIONS ACKS PRODUCER_PROPS LATENCY_RATE LATENCY_RECORDS E2E_RECORDS KAFKA_FSYNC \
         ROUNDS BROKER_JVM_OPTS KAFKA_VERSION START LOAD_START LOAD_END CPU CORES MEM FS DATA_ROOT JAVA_VERSION; do
  printf '%s=%q\n' "$n" "${!n}"
done > "$OUT/run.env"
fi   # REPORT_ONLY == no

# --- the report
get() { sed -n "s/^$2=//p" "$OUT/$1/summary.properties" | head -n 1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }
cell() {   # target key [printf format]
  local v; v=$(get "$1" "$2")
  if [[ -z $v ]]; then echo "n/a"; elif [[ -n ${3:-} ]]; then LC_ALL=C printf "$3" "$v"; else echo "$v"; fi
}

row() {   # label key [printf format of the values]
  local k s f line
  k=$(cell kafka "$2" "${3:-}"); s=$(cell shale "$2" "${3:-}")
  line="| $1 | $k | $s | $(ratio "$(get shale "$2")" "$(get kafka "$2")")"
  if [[ $KAFKA_FSYNC == yes ]]; then
    f=$(cell kafka-fsync "$2" "${3:-}"); line+=" | $f | $(ratio "$(get shale "$2")" "$(get kafka-fsync "$2")")"
  fi
  echo "$line |"
}

verdict_tp() {
  awk -v s="$(get shale produce_mbs)" -v k="$(get kafka produce_mbs)" 'BEGIN {
    if (s == "" || k == "" || k + 0 == 0) { print "n/a"; exit }
    if (s + 0 >= k + 0) printf "**met**: Shale %.2f MB/s >= Kafka %.2f MB/s (%.0f%%)", s, k, 100 * s / k;
    else printf "**not met**: Shale %.2f MB/s < Kafka %.2f MB/s (%.0f%% of Kafka)", s, k, 100 * s / k }'
}
verdict_p99() {   # key
  awk -v s="$(get shale "$1")" -v k="$(get kafka "$1")" 'BEGIN {
    if (s == "" || k == "") { print "n/a"; exit }
    if (s + 0 <= 2 * k) printf "**met**: Shale %s ms <= 2 x Kafka %s ms", s, k;
    else printf "**not met**: Shale %s ms > 2 x Kafka %s ms (%.1f x)", s, k, (k > 0 ? s / k : 0) }'
}

CMD="benchmarks/broker-compare.sh"
ENV_SHOWN=""
for n in RECORDS RECORD_SIZE PARTITIONS ACKS PRODUCER_PROPS LATENCY_RATE LATENCY_RECORDS E2E_RECORDS KAFKA_FSYNC ROUNDS; do
  ENV_SHOWN+="$n=\"${!n}\" "
done

{
  echo "# The Shale broker beside Apache Kafka $KAFKA_VERSION"
  echo
  echo "Written by \`benchmarks/broker-compare.sh\` ($START). One run on one machine, one broker at a time,"
  echo "measured with Kafka's own tools from \`kafka-tools\` $KAFKA_VERSION; $ROUNDS round(s), each broker once per"
  echo "round in turn, every figure the median over the rounds. Raw outputs (per broker and round):"
  echo "[results/broker-compare/](results/broker-compare/)."
  echo
  if [[ $KAFKA_FSYNC == yes ]]; then
    echo "| | Kafka $KAFKA_VERSION (default: no fsync) | Shale broker (fsync per acknowledged batch) | Shale / Kafka | Kafka, fsync per append | Shale / Kafka fsync |"
    echo "|---|---|---|---|---|---|"
  else
    echo "| | Kafka $KAFKA_VERSION (default: no fsync) | Shale broker (fsync per acknowledged batch) | Shale / Kafka |"
    echo "|---|---|---|---|"
  fi
  row "produce MB/s (full speed)" produce_mbs %.2f
  row "produce records/s (full speed)" produce_rps %.0f
  row "produce latency p50, ms (full speed)" produce_p50
  row "produce latency p99, ms (full speed)" produce_p99
  if (( LATENCY_RATE > 0 )); then
    row "records/s reached in the run at $LATENCY_RATE records/s" rate_rps %.0f
    row "produce latency p50, ms (at $LATENCY_RATE records/s)" rate_p50
    row "produce latency p99, ms (at $LATENCY_RATE records/s)" rate_p99
  fi
  row "consume MB/s (fetch time)" consume_fetch_mbs %.2f
  row "consume MB/s (incl. group join)" consume_mbs %.2f
  row "end-to-end latency p50, ms" e2e_p50
  row "end-to-end latency p99, ms" e2e_p99
  echo
  echo "Goals (issue: the Shale broker at least matches Kafka's throughput while every acknowledged record"
  echo "is fsynced, and its produce p99 is within 2x of Kafka's), against Kafka with its default settings:"
  echo
  echo "Each verdict compares the medians of this run only; see the note on the machine below."
  echo
  echo "- produce throughput: $(verdict_tp)"
  echo "- produce p99 at full speed: $(verdict_p99 produce_p99)"
  if (( LATENCY_RATE > 0 )); then echo "- produce p99 at $LATENCY_RATE records/s: $(verdict_p99 rate_p99)"; fi
  echo
  echo "## What was run"
  echo
  echo "- **Who fsyncs.** Kafka, as configured by default (\`log.flush.interval.messages\` and"
  echo "  \`log.flush.interval.ms\` unset, so Long.MAX), acknowledges \`acks=all\` once the batch is in the"
  echo "  page cache of its single replica: it does not fsync. The Shale broker acknowledges once the batch"
  echo "  is in its file WAL and \`fdatasync\`ed (policy \`EVERY_GROUP\`, the default; one fdatasync per group"
  echo "  of batches). The third column, when present, is Kafka with \`log.flush.interval.messages=1\`: an"
  echo "  fsync of the partition's segment after every append (each produce batch), before the answer."
  echo "- **Brokers.** Kafka: single-node KRaft (combined broker and controller), formatted with"
  echo "  \`kafka.tools.StorageTool format --standalone\`, started with \`kafka.Kafka server.properties\`,"
  echo "  other settings default (so both brokers wait 3 s, \`group.initial.rebalance.delay.ms\`, before a"
  echo "  new group's first assignment). Shale: \`java -jar broker/target/shale-broker.jar --data DIR"
  echo "  --listen 127.0.0.1:0\` (file WAL and local directory). Both with the JVM options"
  echo "  \`$BROKER_JVM_OPTS\`, data under \`$DATA_ROOT\` ($FS)."
  echo "  Topics (created with \`TopicCommand\` on both): \`perf\` and \`rate\` with $PARTITIONS partitions, \`e2e\` with 1."
  echo "- **Producer settings, the same for both brokers:** \`acks=$ACKS\`, \`$PRODUCER_PROPS\`, other producer"
  echo "  settings default (\`linger.ms=5\`, \`batch.size=16384\`, no compression). Idempotence is off on"
  echo "  both sides unless PRODUCER_PROPS turns it on."
  echo "- **Full speed:** \`ProducerPerformance --num-records $RECORDS --warmup-records $(( RECORDS / 10 ))"
  echo "  --record-size $RECORD_SIZE --throughput -1\`; figures are its steady-state line (after the warm-up"
  echo "  records). At full speed the producer keeps its 32 MiB buffer full, so its latencies are mostly"
  echo "  time queued in the client: compare them with care."
  if (( LATENCY_RATE > 0 )); then
    echo "- **Fixed rate:** \`ProducerPerformance --num-records $LATENCY_RECORDS --throughput $LATENCY_RATE\`"
    echo "  (same settings), to a topic of its own: latency below saturation. A broker that did not reach"
    echo "  that rate (the \"records/s reached\" row) was saturated, and its latencies there are queueing too."
  fi
  echo "- **Consume:** \`ConsumerPerformance --num-records $RECORDS\` in a new group (classic protocol),"
  echo "  reading back the full-speed run's topic. \"fetch time\" is its \`fetch.MB.sec\` (the group join"
  echo "  left out), \"incl. group join\" its \`MB.sec\`."
  echo "- **End to end:** \`EndToEndLatency --num-records $E2E_RECORDS --producer-acks $ACKS --record-size"
  echo "  $RECORD_SIZE\`: one record at a time, sent then consumed, before the next; its percentiles are"
  echo "  whole milliseconds."
  echo "- **Machine:** $CPU, $CORES cores, $MEM; $JAVA_VERSION; load average ${LOAD_START// /, } at the"
  echo "  start, ${LOAD_END// /, } at the end (1, 5, 15 min)."
  [[ -n $NOTE ]] && echo "- **Note:** $NOTE"
  echo
  echo "Command:"
  echo
  echo '```bash'
  echo "$ENV_SHOWN$CMD"
  echo '```'
} > "$REPORT"

echo "== wrote $REPORT"
sed -n '/^| /p' "$REPORT"
