# load.sh - section "load" of bench/run.sh (sourced; needs run.sh's helpers).
#
# Times `iopstat load` of a synthetic extract into a fresh database against
# what a user would do in the sqlite3 shell: .import of the same six files
# into ordinary tables with the same primary keys (bench/import.sql.in).
# Both run BENCH_REPEAT times, alternating (iopstat, import, iopstat, ...),
# on the ~1M-session and the ~10M-session extract. Prints wall seconds
# (best, median), rows/s, max RSS and database size, the ratio
# iopstat/import (target <= 0.8 at 10M) and iopstat's peak memory at both
# sizes (target < 100 MiB and flat: 10M within 20% of 1M).

# bench_load_rows DIR: data rows of the six files that both sides load.
bench_load_rows()
{
    cat "$1/clients.csv" "$1/episodes.csv" "$1/sessions.csv" "$1/assessments.csv" \
        "$1/drug_screens.csv" "$1/followups.csv" | wc -l | awk '{ print $1 - 6 }'
}

bench_load_size()
{
    _n=$BENCH_SMALL; [ "$1" = big ] && _n=$BENCH_BIG
    _ex=$(bench_extract "$_n")
    _rows=$(bench_load_rows "$_ex")
    _sess=$(($(wc -l < "$_ex/sessions.csv") - 1))
    _sql=$BENCH_DIR/import-$1.sql
    sed "s|@DIR@|$_ex|g" bench/import.sql.in > "$_sql"
    _idb=$BENCH_DIR/load-iopstat-$1.db
    _sdb=$BENCH_DIR/load-import-$1.db
    _iw=""; _sw=""; _ic=""; _sc=""; _irss=0; _srss=0

    _r=1
    while [ "$_r" -le "$BENCH_REPEAT" ]; do
        rm -f "$_idb" "$_idb-journal" "$_idb-wal" "$_idb-shm"; sync
        bench_time "load-iopstat-$1-$_r" "$IOPSTAT" load "$_ex" --db "$_idb" \
            --extract-date "$BENCH_END"
        grep -q ', 0 rejected' "$BENCH_DIR/load-iopstat-$1-$_r.log" \
            || bench_die "iopstat rejected records: $(cat "$BENCH_DIR/load-iopstat-$1-$_r.log")"
        _iw="$_iw $BT_WALL"; _ic="$_ic $BT_CPU"; [ "$BT_RSS" -gt "$_irss" ] && _irss=$BT_RSS
        echo "  $1 round $_r: iopstat load    $BT_WALL s wall, $BT_CPU s cpu, $((BT_RSS / 1024)) MiB (load avg $(cut -d' ' -f1 /proc/loadavg))" >&2

        rm -f "$_sdb" "$_sdb-journal" "$_sdb-wal" "$_sdb-shm"; sync
        bench_time "load-import-$1-$_r" sqlite3 "$_sdb" ".read $_sql"
        _sw="$_sw $BT_WALL"; _sc="$_sc $BT_CPU"; [ "$BT_RSS" -gt "$_srss" ] && _srss=$BT_RSS
        echo "  $1 round $_r: sqlite3 .import $BT_WALL s wall, $BT_CPU s cpu, $((BT_RSS / 1024)) MiB (load avg $(cut -d' ' -f1 /proc/loadavg))" >&2
        _r=$((_r + 1))
    done

    # Both sides loaded everything (checked once, outside the timings).
    _got=$(sqlite3 "$_sdb" "SELECT (SELECT count(*) FROM clients) + (SELECT count(*) FROM episodes)
        + (SELECT count(*) FROM sessions) + (SELECT count(*) FROM assessments)
        + (SELECT count(*) FROM drug_screens) + (SELECT count(*) FROM followups)")
    [ "$_got" = "$_rows" ] || bench_die "$1: .import holds $_got rows, the files $_rows"
    _got=$(sqlite3 "$_idb" "SELECT count(*) FROM sessions")
    [ "$_got" = "$_sess" ] || bench_die "$1: iopstat holds $_got sessions, the file $_sess"

    _isz=$(stat -c %s "$_idb"); _ssz=$(stat -c %s "$_sdb")
    set -- "$1" $(bench_stats $_iw) $(bench_stats $_sw) $(bench_stats $_ic) $(bench_stats $_sc)
    # $2 $3: iopstat best, median wall; $4 $5: import's; $7, $9: median cpu
    awk -v size="$1" -v sess="$_sess" -v rows="$_rows" \
        -v ib="$2" -v im="$3" -v sb="$4" -v sm="$5" -v ic="$7" -v sc="$9" \
        -v irss="$_irss" -v srss="$_srss" -v isz="$_isz" -v ssz="$_ssz" 'BEGIN {
        f = "%-5s %9d %9d  %-15s %7.2f %8.2f %7.2f %10.0f %7.1f %7.1f\n"
        printf f, size, sess, rows, "iopstat load", ib, im, ic, rows / ib, irss / 1024, isz / 1048576
        printf f, size, sess, rows, "sqlite3 .import", sb, sm, sc, rows / sb, srss / 1024, ssz / 1048576
    }' >> "$BENCH_DIR/load.table"
    echo "$1 $2 $3 $4 $5 $_irss" >> "$BENCH_DIR/load.summary"

    # Later sections reuse the 10M database instead of loading it again.
    [ "$1" = big ] && bench_db_install "$BENCH_BIG" "$_idb"
    rm -f "$_sdb" "$_idb"
}

bench_load()
{
    echo "== load: iopstat load vs sqlite3 .import, fresh database each time"
    echo "extracts: --clients $BENCH_SMALL (small) and $BENCH_BIG (big), --months $BENCH_MONTHS --seed $BENCH_SEED --end $BENCH_END"
    echo "iopstat:  build/iopstat load DIR --db FILE --extract-date $BENCH_END"
    echo "import:   sqlite3 FILE '.read build/bench/import-SIZE.sql'   (from bench/import.sql.in)"
    echo "rounds:   $BENCH_REPEAT of each, alternating; best_s, median_s: wall seconds;"
    echo "          cpu_s: median user+system seconds; rows/s: rows of the six files / best_s;"
    echo "          rss_MiB: largest max RSS of the rounds; db_MiB: the database file"
    echo
    rm -f "$BENCH_DIR/load.table" "$BENCH_DIR/load.summary"
    bench_extract "$BENCH_SMALL" > /dev/null
    bench_extract "$BENCH_BIG" > /dev/null
    bench_load_size small
    bench_load_size big

    printf '%-5s %9s %9s  %-15s %7s %8s %7s %10s %7s %7s\n' \
        size sessions rows tool best_s median_s cpu_s rows/s rss_MiB db_MiB
    cat "$BENCH_DIR/load.table"
    echo
    awk -v big="$BENCH_BIG" '
        { ib[$1] = $2; im[$1] = $3; sb[$1] = $4; sm[$1] = $5; rss[$1] = $6 / 1024 }
        END {
            r = ib["big"] / sb["big"]
            printf "ratio iopstat/import, big:   %.2f best, %.2f median (small: %.2f best)   target <= 0.80: %s\n",
                r, im["big"] / sm["big"], ib["small"] / sb["small"], r <= 0.80 ? "met" : "NOT met"
            ok = rss["small"] < 100 && rss["big"] < 100 && rss["big"] <= 1.2 * rss["small"]
            printf "peak RSS of iopstat load:    %.1f MiB small, %.1f MiB big   target < 100 MiB and flat (big <= 1.2 x small): %s\n",
                rss["small"], rss["big"], ok ? "met" : "NOT met"
        }' "$BENCH_DIR/load.summary"
    echo
}
