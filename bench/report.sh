# report.sh - section "report" of bench/run.sh (sourced; needs run.sh's helpers
# and bench_trace from bench/metrics.sh, which it sources if needed).
#
# Times `iopstat report monthly` (the whole monthly workbook) on the cached
# ~10M-session database against bench/pandas_metrics.py --xlsx: the pandas
# script reading the six CSV files, computing the month's figures and writing
# them to an .xlsx with DataFrame.to_excel (openpyxl). BENCH_REPEAT rounds,
# alternating. Targets (the issue): iopstat under 5% of the pandas script's
# wall time, peak RSS under 200 MB.

bench_report()
{
    command -v bench_trace >/dev/null 2>&1 || . ./bench/metrics.sh
    _ex=$(bench_extract "$BENCH_BIG")
    _db=$(bench_db "$BENCH_BIG")
    _month=${BENCH_END%-*}
    _ix=$BENCH_DIR/report-iopstat.xlsx
    _px=$BENCH_DIR/report-pandas.xlsx
    echo "== report: iopstat report monthly vs pandas_metrics.py --xlsx (to_excel, openpyxl), 10M sessions"
    echo "iopstat:  iopstat report monthly --month $_month --db DB --reports build/bench/reports -o ${_ix#$BENCH_ROOT/}"
    echo "pandas:   /usr/bin/python3 bench/pandas_metrics.py EXTRACT --month $_month --xlsx ${_px#$BENCH_ROOT/}"
    echo "rounds:   $BENCH_REPEAT of each, alternating; wall seconds best/median; cpu_s median;"
    echo "          rss_MiB: largest max RSS of the rounds"
    bench_busy
    echo
    _iw=""; _aw=""; _ic=""; _ac=""; _irss=0; _arss=0
    _r=1
    while [ "$_r" -le "$BENCH_REPEAT" ]; do
        rm -f "$_ix" "$_px"
        bench_time "report-iopstat-$_r" env IOPSTAT_TRACE=1 "$IOPSTAT" report monthly \
            --month "$_month" --db "$_db" --reports "$BENCH_REPORTS" -o "$_ix"
        [ -s "$_ix" ] || bench_die "iopstat wrote no workbook"
        _iw="$_iw $BT_WALL"; _ic="$_ic $BT_CPU"; [ "$BT_RSS" -gt "$_irss" ] && _irss=$BT_RSS
        echo "  round $_r: iopstat report  $BT_WALL s wall, $BT_CPU s cpu, $((BT_RSS / 1024)) MiB (load avg $(cut -d' ' -f1 /proc/loadavg))" >&2

        bench_time "report-pandas-$_r" /usr/bin/python3 bench/pandas_metrics.py "$_ex" \
            --month "$_month" --xlsx "$_px"
        [ -s "$_px" ] || bench_die "pandas wrote no workbook"
        _aw="$_aw $BT_WALL"; _ac="$_ac $BT_CPU"; [ "$BT_RSS" -gt "$_arss" ] && _arss=$BT_RSS
        echo "  round $_r: pandas --xlsx   $BT_WALL s wall, $BT_CPU s cpu, $((BT_RSS / 1024)) MiB (load avg $(cut -d' ' -f1 /proc/loadavg))" >&2
        _r=$((_r + 1))
    done

    set -- $(bench_stats $_iw) $(bench_stats $_aw) $(bench_stats $_ic) $(bench_stats $_ac)
    printf '%-34s %7s %8s %7s %8s %8s\n' run best_s median_s cpu_s rss_MiB xlsx_KiB
    awk -v ib="$1" -v im="$2" -v ab="$3" -v am="$4" -v ic="$6" -v ac="$8" \
        -v ir="$_irss" -v ar="$_arss" -v isz="$(stat -c %s "$_ix")" -v asz="$(stat -c %s "$_px")" 'BEGIN {
        f = "%-34s %7.2f %8.2f %7.2f %8.1f %8.0f\n"
        printf f, "iopstat report monthly", ib, im, ic, ir / 1024, isz / 1024
        printf f, "pandas_metrics.py --xlsx", ab, am, ac, ar / 1024, asz / 1024
        print ""
        r = ib / ab
        printf "ratio iopstat/pandas:        %.3f best (%.1f%%), %.3f median   target < 0.05: %s\n",
            r, 100 * r, im / am, r < 0.05 ? "met" : "NOT met"
        printf "peak RSS of iopstat report:  %.1f MiB (%.0f MB)   target < 200 MB: %s\n",
            ir / 1024, ir * 1.024 / 1000, ir * 1.024 < 200000 ? "met" : "NOT met"
    }'
    echo

    _b=$(bench_best_round x $_iw)
    echo "iopstat report, best round: seconds per section summed over its metrics calls (IOPSTAT_TRACE=1;"
    echo "the two connections' lanes overlap, so the sum exceeds the wall time; facts counts once per call and lane):"
    bench_trace "$BENCH_DIR/report-iopstat-$_b.log" | awk '
        { if (!($1 in s)) o[++n] = $1; s[$1] += $2; c[$1]++; t += $2 }
        END { for (i = 1; i <= n; i++) printf "  %-12s %8.3f  (%d calls)\n", o[i], s[o[i]], c[o[i]]
              printf "  %-12s %8.3f\n", "sum", t }'
    echo
}
