#!/bin/sh
# run-sample.sh - what `make run` does: load the shipped synthetic sample
# extract into a fresh out/sample.db and show what landed.
set -eu
mkdir -p out
rm -f out/sample.db
./build/iopstat load sample-data --db out/sample.db --extract-date 2026-10-31
echo
echo "Database: out/sample.db"
sqlite3 -header -column out/sample.db \
  "SELECT file, records_read AS read, records_loaded AS loaded,
          records_rejected AS rejected, substr(sha256, 1, 16) || '...' AS sha256
   FROM load_files WHERE run_id = (SELECT max(run_id) FROM load_runs);"
echo
sqlite3 -header -column out/sample.db \
  "SELECT level_of_care AS level, count(*) AS episodes,
          sum(outcome = 'completed') AS completed, sum(outcome = 'dropout') AS dropout,
          sum(outcome = 'open') AS open, round(avg(los_days), 1) AS mean_los_days
   FROM episode_facts GROUP BY level_of_care ORDER BY level_of_care;"

# The monthly workbook of the latest full month of the extract: the
# extract's month when the extract date is its last day, else the month
# before.
month=$(sqlite3 out/sample.db \
  "SELECT CASE WHEN date(extract_date, '+1 day', 'start of month') = date(extract_date, '+1 day')
               THEN substr(extract_date, 1, 7)
               ELSE substr(date(extract_date, 'start of month', '-1 month'), 1, 7) END
   FROM load_runs ORDER BY run_id DESC LIMIT 1;")
echo
echo "Monthly workbook for $month:"
./build/iopstat report monthly --month "$month" --db out/sample.db
