# metrics.sh - section "metrics" of bench/run.sh (sourced; needs run.sh's helpers).
#
# Times `iopstat metrics` on the cached ~10M-session database (bench_db
# BENCH_BIG) against bench/pandas_metrics.py, the pandas/statsmodels script
# an analyst would write for the same figure families, reading the same
# extract's CSV files (bench_extract BENCH_BIG):
#   iopstat month:  metrics --from 2026-10-01 --to 2026-10-31 --by program
#   iopstat period: metrics --from 2024-11-01 --to 2026-10-31 (no --by)
#   pandas:         /usr/bin/python3 bench/pandas_metrics.py EXTRACT --month 2026-10
# BENCH_REPEAT rounds, alternating (month, period, pandas, month, ...). The
# iopstat runs set IOPSTAT_TRACE=1: the seconds per section of each round go
# to the log and the best round's are printed. Targets (the issue): iopstat
# month under 2% of the pandas script's wall time, peak RSS under 200 MB.

# bench_trace LOG: "section seconds" lines of an IOPSTAT_TRACE=1 log.
bench_trace() { sed -n 's/^iopstat: trace: *\([^ ]*\) *\([0-9.]*\) s$/\1 \2/p' "$1"; }

# bench_best_round PREFIX WALLS...: the round number with the least wall time.
bench_best_round()
{
    _p=$1; shift
    printf '%s\n' "$@" | awk 'NR == 1 || $1 < b { b = $1; r = NR } END { print r }'
}

bench_metrics()
{
    _ex=$(bench_extract "$BENCH_BIG")
    _db=$(bench_db "$BENCH_BIG")
    _month_from=${BENCH_END%-*}-01
    _month=${BENCH_END%-*}
    _period_from=2024-11-01
    echo "== metrics: iopstat metrics vs pandas/statsmodels (bench/pandas_metrics.py), 10M sessions"
    echo "database: ${_db#$BENCH_ROOT/} (cached, read-only)"
    echo "extract:  ${_ex#$BENCH_ROOT/}"
    echo "month:    iopstat metrics --db DB --from $_month_from --to $BENCH_END --by program"
    echo "period:   iopstat metrics --db DB --from $_period_from --to $BENCH_END"
    echo "pandas:   /usr/bin/python3 bench/pandas_metrics.py EXTRACT --month $_month"
    echo "rounds:   $BENCH_REPEAT of each, alternating; wall seconds best/median; cpu_s median;"
    echo "          rss_MiB: largest max RSS of the rounds"
    bench_busy
    echo
    _mw=""; _pw=""; _aw=""; _mc=""; _pc=""; _ac=""; _mrss=0; _prss=0; _arss=0
    _r=1
    while [ "$_r" -le "$BENCH_REPEAT" ]; do
        bench_time "metrics-month-$_r" env IOPSTAT_TRACE=1 "$IOPSTAT" metrics --db "$_db" \
            --from "$_month_from" --to "$BENCH_END" --by program
        _mw="$_mw $BT_WALL"; _mc="$_mc $BT_CPU"; [ "$BT_RSS" -gt "$_mrss" ] && _mrss=$BT_RSS
        echo "  round $_r: iopstat month   $BT_WALL s wall, $BT_CPU s cpu, $((BT_RSS / 1024)) MiB (load avg $(cut -d' ' -f1 /proc/loadavg))" >&2

        bench_time "metrics-period-$_r" env IOPSTAT_TRACE=1 "$IOPSTAT" metrics --db "$_db" \
            --from "$_period_from" --to "$BENCH_END"
        _pw="$_pw $BT_WALL"; _pc="$_pc $BT_CPU"; [ "$BT_RSS" -gt "$_prss" ] && _prss=$BT_RSS
        echo "  round $_r: iopstat period  $BT_WALL s wall, $BT_CPU s cpu, $((BT_RSS / 1024)) MiB (load avg $(cut -d' ' -f1 /proc/loadavg))" >&2

        bench_time "metrics-pandas-$_r" /usr/bin/python3 bench/pandas_metrics.py "$_ex" --month "$_month"
        _aw="$_aw $BT_WALL"; _ac="$_ac $BT_CPU"; [ "$BT_RSS" -gt "$_arss" ] && _arss=$BT_RSS
        echo "  round $_r: pandas          $BT_WALL s wall, $BT_CPU s cpu, $((BT_RSS / 1024)) MiB (load avg $(cut -d' ' -f1 /proc/loadavg))" >&2
        _r=$((_r + 1))
    done

    _n=$(grep -c '' "$BENCH_DIR/metrics-month-1.log")
    _np=$(grep -c '' "$BENCH_DIR/metrics-period-1.log")
    set -- $(bench_stats $_mw) $(bench_stats $_pw) $(bench_stats $_aw) \
        $(bench_stats $_mc) $(bench_stats $_pc) $(bench_stats $_ac)
    printf '%-34s %7s %8s %7s %8s\n' run best_s median_s cpu_s rss_MiB
    awk -v mb="$1" -v mm="$2" -v pb="$3" -v pm="$4" -v ab="$5" -v am="$6" \
        -v mc="$8" -v pc="${10}" -v ac="${12}" \
        -v mr="$_mrss" -v pr="$_prss" -v ar="$_arss" 'BEGIN {
        f = "%-34s %7.2f %8.2f %7.2f %8.1f\n"
        printf f, "iopstat metrics, month by program", mb, mm, mc, mr / 1024
        printf f, "iopstat metrics, 24 months, no --by", pb, pm, pc, pr / 1024
        printf f, "pandas_metrics.py, month by program", ab, am, ac, ar / 1024
        print ""
        r = mb / ab
        printf "ratio iopstat month/pandas:  %.3f best (%.1f%%), %.3f median   target < 0.02: %s\n",
            r, 100 * r, mm / am, r < 0.02 ? "met" : "NOT met"
        printf "peak RSS of iopstat month:   %.1f MiB (%.0f MB)   target < 200 MB: %s\n",
            mr / 1024, mr * 1.024 / 1000, mr * 1.024 < 200000 ? "met" : "NOT met"
        printf "peak RSS of iopstat period:  %.1f MiB; pandas: %.1f MiB\n", pr / 1024, ar / 1024
    }'
    echo "output lines: month $_n, period $_np (CSV with header)"
    echo

    _b=$(bench_best_round x $_mw)
    _bp=$(bench_best_round x $_pw)
    echo "iopstat seconds per section (IOPSTAT_TRACE=1), best round of each:"
    bench_trace "$BENCH_DIR/metrics-month-$_b.log" > "$BENCH_DIR/metrics-trace-month"
    bench_trace "$BENCH_DIR/metrics-period-$_bp.log" > "$BENCH_DIR/metrics-trace-period"
    printf '%-12s %8s %8s\n' section month period
    awk 'NR == FNR { p[$1] = $2; next } { printf "%-12s %8.3f %8.3f\n", $1, $2, p[$1]; m += $2; q += p[$1] }
         END { printf "%-12s %8.3f %8.3f\n", "sum", m, q }' \
        "$BENCH_DIR/metrics-trace-period" "$BENCH_DIR/metrics-trace-month"
    echo
    _b=$(bench_best_round x $_aw)
    echo "pandas_metrics.py, best round (its own step timings):"
    sed 's/^/  /' "$BENCH_DIR/metrics-pandas-$_b.log"
    echo
}
