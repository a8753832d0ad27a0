#!/bin/sh
# run.sh - the whole test suite, as `make test` runs it, from the
# repository root:
#   1. unit tests (tests/unit, cmocka), plain build
#   2. end-to-end tests (tests/e2e/test_*.py) against build/iopstat
#   3. the same unit and end-to-end tests built with ASan+UBSan (the
#      kill -9 timing test and the workbook's figure-by-figure comparison
#      run in the plain pass only: see IOPSTAT_SANITIZED in the tests)
#   4. the unit tests and one end-to-end load under valgrind
# Ends with one line "N passed, N failed" and exits non-zero on a failure.
set -u
pass=0
failed=0
failures=""
PY=/usr/bin/python3

step() {  # step NAME COMMAND...: run a command, count it
    name=$1
    shift
    log=build/test-logs/$(echo "$name" | tr '/ ' '__').log
    t0=$(date +%s)
    if "$@" >"$log" 2>&1; then
        pass=$((pass + 1))
        printf 'ok      %-40s %4ss\n' "$name" $(($(date +%s) - t0))
    else
        failed=$((failed + 1))
        failures="$failures $name"
        printf 'FAILED  %s (log: %s)\n' "$name" "$log"
        tail -n 30 "$log" | sed 's/^/    /'
    fi
}

mkdir -p build/test-logs
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

for t in build/tests/test_*; do
    step "unit $(basename "$t")" "$t"
done
for t in tests/e2e/test_*.py; do
    step "e2e $(basename "$t")" env IOPSTAT=build/iopstat $PY "$t"
done
for t in build/tests-asan/test_*; do
    step "asan unit $(basename "$t")" "$t"
done
for t in tests/e2e/test_*.py; do
    step "asan e2e $(basename "$t")" env IOPSTAT=build/iopstat-asan IOPSTAT_SANITIZED=1 $PY "$t"
done
VG="valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite"
for t in build/tests/test_*; do
    case $(basename "$t") in
        *oracle*) continue ;;   # R runs there; the plain and ASan runs cover it
    esac
    step "valgrind unit $(basename "$t")" $VG "$t"
done
step "valgrind e2e load" env IOPSTAT="$VG build/iopstat" IOPSTAT_VALGRIND=1 $PY tests/e2e/test_load.py

echo
[ -n "$failures" ] && echo "failed:$failures"
echo "$pass passed, $failed failed"
[ "$failed" -eq 0 ]
