"""Shared helpers of the metric oracle tests: make and load a synthetic
extract once per (clients, months, seed), run `iopstat metrics`, export
SQL results for R, run an R script, and compare figures with the
tolerance of metrics.md: |a - b| <= 1e-6 |b| + 1e-9.

An R script prints one figure a line, comma separated:
    metric,group,at,field,value
with field one of n, estimate, lower, upper, statistic, df, p_value, and
value NA where R gives none. compare() matches them to iopstat's rows by
(metric, group, at)."""
import csv
import hashlib
import io
import os
import subprocess
import tempfile

from iophelp import ROOT, run

CACHE = os.path.join(tempfile.gettempdir(), "iopstat-oracle-cache")
TOL_REL, TOL_ABS = 1e-6, 1e-9
FIELDS = ("n", "estimate", "lower", "upper", "statistic", "df", "p_value")


def build_id():
    """A digest of the plain build: a cached database holds the schema and
    views of the binary that loaded it, so another build must not reuse it
    (a stale cache once kept old views under new code)."""
    try:
        with open(os.path.join(ROOT, "build", "iopstat"), "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()[:12]
    except OSError:
        return "nobuild"


def database(clients=600, months=24, seed=1, end="2026-10-31"):
    """A loaded database of a generated extract (cached per parameters and
    build)."""
    key = f"{build_id()}-c{clients}-m{months}-s{seed}-e{end}"
    d = os.path.join(CACHE, key)
    db = os.path.join(d, "iop.db")
    if os.path.exists(db):
        return db
    os.makedirs(d, exist_ok=True)
    rc, _, err = run("generate", "--clients", str(clients), "--months", str(months),
                     "--seed", str(seed), "--end", end, "-o", os.path.join(d, "x"))
    assert rc == 0, err
    rc, _, err = run("load", os.path.join(d, "x"), "--db", db + ".tmp", "--extract-date", end)
    assert rc == 0, err
    os.rename(db + ".tmp", db)
    return db


def metrics(db, frm, to, *extra):
    """iopstat metrics as a list of dicts (values as strings)."""
    rc, out, err = run("metrics", "--db", db, "--from", frm, "--to", to, *extra)
    assert rc == 0, err
    return list(csv.DictReader(io.StringIO(out)))


def export(db, sql, path):
    """Writes the result of sql as CSV with a header, for R."""
    p = subprocess.run(["sqlite3", "-header", "-csv", db, sql], capture_output=True,
                       text=True, check=True)
    with open(path, "w") as f:
        f.write(p.stdout)
    return path


def rscript(script, *args):
    """Runs tests/oracle/SCRIPT with args; returns its figure lines."""
    p = subprocess.run(["Rscript", "--vanilla", os.path.join(ROOT, "tests/oracle", script)]
                       + [str(a) for a in args], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    figures = {}
    for row in csv.reader(io.StringIO(p.stdout)):
        if len(row) != 5:
            continue
        metric, group, at, field, value = row
        figures[(metric, group, at, field)] = None if value == "NA" else float(value)
    return figures


def close(a, b):
    return abs(a - b) <= TOL_REL * abs(b) + TOL_ABS


def compare(test, rows, figures, dimension=None):
    """Asserts every R figure equals iopstat's; returns how many were
    compared (a test should assert that this is not zero)."""
    index = {}
    for r in rows:
        if dimension is None or r["dimension"] in (dimension, "all"):
            index[(r["metric"], r["group"], r["at"])] = r
    checked = 0
    for (metric, group, at, field), want in sorted(figures.items(), key=str):
        with test.subTest(metric=metric, group=group, at=at, field=field):
            row = index.get((metric, group, at))
            test.assertIsNotNone(row, f"iopstat has no row {metric}/{group}/{at}")
            got = row[field]
            if want is None:
                test.assertEqual(got, "", f"R gives NA, iopstat {got}")
            else:
                test.assertNotEqual(got, "", f"R gives {want}, iopstat nothing")
                test.assertTrue(close(float(got), want), f"iopstat {got} != R {want}")
            checked += 1
    return checked
