#!/bin/sh
# run-fuzz.sh BUILD_DIR SECONDS NAME...: run each libFuzzer harness
# BUILD_DIR/tests/fuzz_NAME for SECONDS, `make fuzz`'s worker.
#
# Each harness works on BUILD_DIR/fuzz/NAME/corpus, a copy of
# tests/fuzz/corpus/NAME kept between runs (new inputs the fuzzer finds
# stay there, never in the source tree); crashes, leaks and timeouts are
# written to BUILD_DIR/fuzz/NAME/ as crash-*, leak-*, timeout-* files.
# Harnesses run side by side, as many at once as there are cores.  At
# the end one line per harness gives its executions (libFuzzer's
# stat::number_of_executed_units) and what it found; the exit status is
# 1 when any harness failed.
set -u

build=$1
seconds=$2
shift 2
src=$(cd "$(dirname "$0")" && pwd)
jobs=$(nproc 2>/dev/null || echo 1)

# Inputs longer than this are cut: the seed of the job standard is 27 KB
# (its page 40 KB: cut, it is a page whose table never closes, and the
# small pages are whole); a request frame over 64 KiB is refused before
# it is looked at.
max_len_parse=32768
max_len_html=32768
max_len_jsonl=32768
max_len_request=4096

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

run_one() {
    name=$1
    work=$build/fuzz/$name
    mkdir -p "$work/corpus"
    cp "$src/corpus/$name"/* "$work/corpus/"
    eval max_len=\$max_len_$name
    "$build/tests/fuzz_$name" \
        -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
        -rss_limit_mb=2048 -max_len="$max_len" \
        -dict="$src/$name.dict" -artifact_prefix="$work/" \
        "$work/corpus" >"$work/log" 2>&1
    echo $? >"$work/status"
}

running=0
for name in "$@"; do
    echo "fuzz: $name for ${seconds}s (log: $build/fuzz/$name/log)"
    run_one "$name" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait
        running=0
    fi
done
wait

failed=0
for name in "$@"; do
    work=$build/fuzz/$name
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log")
    status=$(cat "$work/status")
    found=$(cd "$work" && ls crash-* leak-* timeout-* oom-* 2>/dev/null |
            tr '\n' ' ')
    if [ "$status" -eq 0 ]; then
        echo "fuzz: $name: ${execs:-?} executions (${rate:-?}/s), ok"
    else
        failed=1
        echo "fuzz: $name: ${execs:-?} executions, FAILED (exit $status)" \
             "${found:+found: $found}"
        grep -m 3 -E 'ERROR|SUMMARY|contract broken' "$work/log" |
            sed 's/^/fuzz:   /'
    fi
done
exit $failed
