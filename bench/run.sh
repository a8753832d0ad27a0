#!/bin/sh
# run.sh - `make bench`: the benchmarks of docs/performance.md.
#
#   sh bench/run.sh [SECTION...]      default: every section in BENCH_SECTIONS
#
# This file holds the shared setup; each section is bench/SECTION.sh, which
# defines a function bench_SECTION that run.sh calls after sourcing it. A
# section uses the helpers below, so it shares the cached extracts and
# databases under build/bench/ with the other sections:
#
#   bench_extract CLIENTS     prints the folder of the cached synthetic
#                             extract (generated once per parameters+version)
#   bench_db CLIENTS          prints the path of a cached iopstat database of
#                             that extract (loaded once; treat it as read-only)
#   bench_time LABEL CMD...   runs CMD under /usr/bin/time; sets BT_WALL
#                             (seconds), BT_CPU (user+system seconds) and
#                             BT_RSS (max RSS, KiB); fails if CMD fails;
#                             CMD's output goes to build/bench/LABEL.log
#   bench_busy                prints a warning when other processes keep
#                             more than a quarter of a CPU busy (sampled for
#                             a second while the benchmark runs nothing):
#                             times are not reliable
#   bench_stats V...          prints "best median" of the numbers V...
#
# Knobs (environment): BENCH_SECTIONS ("load metrics report"), BENCH_BIG (111000 clients,
# ~10M sessions), BENCH_SMALL (11100, ~1M), BENCH_MONTHS (24), BENCH_SEED (1),
# BENCH_END (2026-10-31), BENCH_REPEAT (3 rounds of each timed command).
# Nothing is written to docs/: docs/performance.md is written by hand from
# a run's output.
set -eu

cd "$(dirname "$0")/.."
BENCH_ROOT=$(pwd)
BENCH_DIR=$BENCH_ROOT/build/bench
IOPSTAT=$BENCH_DIR/bin/iopstat   # a copy of build/iopstat: a rebuild during the run cannot touch it
BENCH_REPORTS=$BENCH_DIR/reports # a copy of reports/, for the same reason
TIME=/usr/bin/time

BENCH_SECTIONS=${BENCH_SECTIONS:-load metrics report}
BENCH_BIG=${BENCH_BIG:-111000}
BENCH_SMALL=${BENCH_SMALL:-11100}
BENCH_MONTHS=${BENCH_MONTHS:-24}
BENCH_SEED=${BENCH_SEED:-1}
BENCH_END=${BENCH_END:-2026-10-31}
BENCH_REPEAT=${BENCH_REPEAT:-3}

bench_die() { echo "bench: $*" >&2; exit 1; }

[ -x build/iopstat ] || bench_die "no build/iopstat (run make first)"
[ -x "$TIME" ] || bench_die "no $TIME (apt-get install time)"
command -v sqlite3 >/dev/null || bench_die "no sqlite3 shell (apt-get install sqlite3)"
mkdir -p "$BENCH_DIR/bin"
cp build/iopstat "$IOPSTAT.tmp" && mv "$IOPSTAT.tmp" "$IOPSTAT"
rm -rf "$BENCH_REPORTS" && cp -R reports "$BENCH_REPORTS"

# The cache key of an extract: the generator's parameters, version and
# sources (docs/generate.md: same build, same bytes). A database's key adds
# the binary that loaded it.
bench_key()
{
    printf 'clients=%s months=%s seed=%s end=%s version=%s generator=%s\n' \
        "$1" "$BENCH_MONTHS" "$BENCH_SEED" "$BENCH_END" \
        "$("$IOPSTAT" --version)" \
        "$(cat src/generate*.c include/iop/generate.h 2>/dev/null | sha256sum | cut -c1-16)"
}
bench_db_key() { bench_key "$1"; echo "loader=$(sha256sum < "$IOPSTAT" | cut -c1-16)"; }

bench_extract()
{
    _dir=$BENCH_DIR/extract-c$1-m$BENCH_MONTHS-s$BENCH_SEED-e$BENCH_END
    _key=$(bench_key "$1")
    if [ ! -f "$_dir/.stamp" ] || [ "$(cat "$_dir/.stamp")" != "$_key" ]; then
        echo "bench: generating $1 clients into ${_dir#$BENCH_ROOT/} ..." >&2
        rm -rf "$_dir"
        "$IOPSTAT" generate --clients "$1" --months "$BENCH_MONTHS" \
            --seed "$BENCH_SEED" --end "$BENCH_END" -o "$_dir" >&2 \
            || bench_die "generate --clients $1 failed"
        echo "$_key" > "$_dir/.stamp"      # written last: a partial extract is never reused
    fi
    echo "$_dir"
}

# A loaded iopstat database of the extract. A section that loads the same
# extract into a fresh file anyway (bench/load.sh) may install its result
# with bench_db_install instead of paying for one more load.
bench_db_path() { echo "$BENCH_DIR/db-c$1-m$BENCH_MONTHS-s$BENCH_SEED-e$BENCH_END.db"; }

bench_db()
{
    _db=$(bench_db_path "$1")
    _key=$(bench_db_key "$1")
    if [ ! -f "$_db.stamp" ] || [ "$(cat "$_db.stamp")" != "$_key" ] || [ ! -f "$_db" ]; then
        _ex=$(bench_extract "$1")
        echo "bench: loading ${_ex#$BENCH_ROOT/} into ${_db#$BENCH_ROOT/} ..." >&2
        rm -f "$_db" "$_db-journal" "$_db-wal" "$_db-shm" "$_db.stamp"
        "$IOPSTAT" load "$_ex" --db "$_db" --extract-date "$BENCH_END" >&2 \
            || bench_die "load of $_ex failed"
        echo "$_key" > "$_db.stamp"
    fi
    echo "$_db"
}

# bench_db_install CLIENTS FILE: FILE is a fresh, complete iopstat load of
# bench_extract CLIENTS; keep it as the cached database.
bench_db_install()
{
    _db=$(bench_db_path "$1")
    rm -f "$_db" "$_db-journal" "$_db-wal" "$_db-shm" "$_db.stamp"
    mv "$2" "$_db"
    bench_db_key "$1" > "$_db.stamp"
}

bench_time()
{
    _label=$1; shift
    _out=$BENCH_DIR/$_label.time
    if ! "$TIME" -f '%e %M %U %S' -o "$_out" "$@" > "$BENCH_DIR/$_label.log" 2>&1; then
        cat "$BENCH_DIR/$_label.log" >&2
        bench_die "$_label failed: $*"
    fi
    BT_WALL=$(tail -n 1 "$_out" | cut -d' ' -f1)
    BT_RSS=$(tail -n 1 "$_out" | cut -d' ' -f2)
    BT_CPU=$(tail -n 1 "$_out" | awk '{ printf "%.2f", $3 + $4 }')
}

# Called between timed commands, when the benchmark itself runs nothing:
# the CPU time the machine spends over one second then is other
# processes'. (The load average, used before, counts the benchmark's own
# rounds, and iopstat now runs two threads.)
bench_busy()
{
    _a=$(head -1 /proc/stat); sleep 1; _b=$(head -1 /proc/stat)
    printf '%s\n%s\n' "$_a" "$_b" | awk -v n="$(nproc)" '
        { t = 0; for (i = 2; i <= NF; i++) t += $i; tot[NR] = t; idle[NR] = $5 + $6 }
        END { dt = tot[2] - tot[1]; if (dt <= 0) exit
              busy = (dt - (idle[2] - idle[1])) / dt * n
              if (busy > 0.25)
                  printf "WARNING: %.2f of %d CPUs busy while the benchmark was idle: other processes are running; times are not reliable\n", busy, n }'
}

bench_stats()
{
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
        END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
              printf "%s %s\n", v[1], m }'
}

bench_machine()
{
    echo "== machine"
    echo "date:      $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "cpu:       $(nproc) x $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
    echo "memory:    $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
    echo "disk:      $(df -hT "$BENCH_DIR" | awk 'NR == 2 { print $1 ", " $2 ", " $3 " total, " $5 " free" }')"
    echo "kernel:    $(uname -sr)"
    echo "sqlite:    shell $(sqlite3 --version | cut -d' ' -f1-2), library $(sqlite3 :memory: 'SELECT sqlite_version()') ($(ldd "$IOPSTAT" | awk '/libsqlite3/ { print $3 }'), shared by both)"
    echo "iopstat:   $("$IOPSTAT" --version), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git status --porcelain -- src include sql 2>/dev/null | awk 'END { if (NR) printf " + %d uncommitted files in src/ include/ sql/", NR }')"
    echo "load avg:  $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) before the run"
    bench_busy
    echo
}

bench_machine
for _s in ${*:-$BENCH_SECTIONS}; do
    [ -f "bench/$_s.sh" ] || bench_die "no section bench/$_s.sh"
    . "./bench/$_s.sh"
    "bench_$_s"
done
echo "load avg:  $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) after the run"
bench_busy
