"""End-to-end test of `iopstat load` on sample-data/messy, a small synthetic
extract with the faults of real EHR exports. The expectations are parsed
from sample-data/messy/README.md (tables "Rejected records", "Odd but
valid records", "Expected totals"), so the documentation and this test
cannot drift apart.
Run: IOPSTAT=build/iopstat python3 tests/e2e/test_messy.py"""
import os
import re
import shutil
import tempfile
import unittest

from iophelp import ROOT, accounting_holds, query, run

MESSY = os.path.join(ROOT, "sample-data", "messy")
README = os.path.join(MESSY, "README.md")
EXTRACT_DATE = "2026-10-31"
FILES = ["clients.csv", "episodes.csv", "sessions.csv", "assessments.csv",
         "drug_screens.csv", "followups.csv"]
EMPTY, NONE = object(), object()


def readme_table(title):
    """The rows of the first Markdown table under '## title', as lists of
    cell strings (header and separator rows dropped)."""
    with open(README, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"^## " + re.escape(title) + r"\s*$(.*?)(?=^## |\Z)", text, re.M | re.S)
    if not m:
        raise AssertionError(f"README has no section '## {title}'")
    rows = []
    for line in m.group(1).splitlines():
        line = line.strip()
        if not line.startswith("|"):
            if rows:
                break
            continue
        rows.append([c.strip() for c in line.strip("|").split("|")])
    if len(rows) < 3:
        raise AssertionError(f"README section '## {title}' has no table rows")
    return rows[2:]


def cell_value(cell):
    """`text` -> 'text' (\\n -> newline); (empty) -> EMPTY; (none) and NULL -> NONE."""
    if cell == "(empty)":
        return EMPTY
    if cell in ("(none)", "NULL"):
        return NONE
    if len(cell) >= 2 and cell[0] == "`" and cell[-1] == "`":
        return cell[1:-1].replace("\\n", "\n")
    raise AssertionError(f"README: cannot read value cell {cell!r}")


def physical_lines(name):
    with open(os.path.join(MESSY, name), "rb") as f:
        data = f.read()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.decode("utf-8").splitlines(keepends=True)


REJECTED = [(r[0], int(r[1]), int(r[2]), cell_value(r[3]), r[4], r[5])
            for r in readme_table("Rejected records")]
ODD_VALID = [(r[0], int(r[1]), r[2], r[3], r[4], cell_value(r[5]))
             for r in readme_table("Odd but valid records")]
TOTALS = {r[0]: (int(r[1]), int(r[2]), int(r[3])) for r in readme_table("Expected totals")}


class TestMessyExtract(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="iop-messy-")
        cls.db = os.path.join(cls.tmp, "messy.db")
        cls.rc, cls.out, cls.err = run("load", MESSY, "--db", cls.db,
                                       "--extract-date", EXTRACT_DATE)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_load_succeeds(self):
        self.assertEqual(self.rc, 0, self.err)
        self.assertTrue(accounting_holds(self.db))
        t = TOTALS["all files"]
        self.assertIn(f"{t[0]} records read, {t[1]} loaded, {t[2]} rejected", self.err)

    def test_readme_tables_are_consistent(self):
        self.assertEqual(sorted(k for k in TOTALS if k != "all files"), sorted(FILES))
        for name in FILES:
            read, loaded, rejected = TOTALS[name]
            self.assertEqual(read, loaded + rejected, name)
            self.assertEqual(rejected, sum(1 for r in REJECTED if r[0] == name), name)
        self.assertEqual(TOTALS["all files"],
                         tuple(sum(TOTALS[n][i] for n in FILES) for i in range(3)))
        # a documented value is really on the documented line of the file
        for name, line, _, value, _, _ in REJECTED:
            if isinstance(value, str):
                with self.subTest(file=name, line=line):
                    self.assertIn(value, physical_lines(name)[line - 1])
        for name, line, _, _, written, _ in ODD_VALID:
            if written != "(empty)":
                with self.subTest(file=name, line=line):
                    text = "".join(physical_lines(name)[line - 1:line + 1])
                    self.assertIn(cell_value(written), text)

    def test_rejects_exactly_as_documented(self):
        got = query(self.db, "SELECT file, line, \"column\", value, reason FROM rejects "
                             "WHERE run_id = (SELECT max(run_id) FROM load_runs) "
                             "ORDER BY file, line")
        self.assertEqual(sorted((f, l, c) for f, l, c, _, _ in got),
                         sorted((f, l, c) for f, l, c, _, _, _ in REJECTED))
        by_loc = {(f, l): (c, v, why) for f, l, c, v, why in got}
        for name, line, column, value, reason, _ in REJECTED:
            with self.subTest(file=name, line=line):
                c, v, why = by_loc[(name, line)]
                self.assertIn(reason, why)
                if value is EMPTY:
                    self.assertIn(v, ("", None))
                elif value is NONE:
                    self.assertIsNone(v)
                else:
                    self.assertEqual(v, value)

    def test_stderr_names_file_line_column(self):
        for name, line, column, value, reason, _ in REJECTED:
            with self.subTest(file=name, line=line):
                loc = f"{name}:{line}:" + (f"{column}:" if column else "")
                msgs = [m for m in self.err.splitlines()
                        if m.startswith("iopstat: ") and f"/{loc} " in m]
                self.assertEqual(len(msgs), 1, self.err)
                self.assertIn(reason, msgs[0])
                if isinstance(value, str):
                    self.assertIn(f", got '{value}'", msgs[0])

    def test_unknown_column_warned_once(self):
        self.assertEqual(self.err.count("unknown columns ignored"), 1, self.err)
        self.assertIn("episodes.csv:1: warning: unknown columns ignored: 'record_status'", self.err)

    def test_counts_per_file(self):
        got = query(self.db, "SELECT file, records_read, records_loaded, records_rejected "
                             "FROM load_files WHERE run_id = (SELECT max(run_id) FROM load_runs)")
        self.assertEqual({f: (r, l, j) for f, r, l, j in got},
                         {k: v for k, v in TOTALS.items() if k != "all files"})
        for f, r, l, j in got:
            self.assertEqual(r, l + j, f)
        for name in FILES:
            table = name[:-4]
            self.assertEqual(query(self.db, f"SELECT count(*) FROM {table}"),
                             [(TOTALS[name][1],)], table)

    def test_odd_but_valid_rows_stored_canonical(self):
        for name, line, key, column, _, stored in ODD_VALID:
            table = name[:-4]
            with self.subTest(file=name, line=line, column=column):
                cols = [r[1] for r in query(self.db, f"PRAGMA table_info({table})")]
                self.assertIn(column, cols)
                rows = query(self.db, f'SELECT "{column}" FROM {table} WHERE "{cols[0]}" = ?', (key,))
                self.assertEqual(len(rows), 1, f"{table} {key} not loaded")
                v = rows[0][0]
                if stored is NONE or stored is EMPTY:
                    self.assertIsNone(v)
                elif isinstance(v, (int, float)):
                    self.assertEqual(v, float(stored))
                else:
                    self.assertEqual(v, stored)

    def test_no_carriage_return_or_bom_stored(self):
        for table in ("clients", "episodes"):
            cols = [r[1] for r in query(self.db, f"PRAGMA table_info({table})")]
            for c in cols:
                bad = query(self.db, f'SELECT count(*) FROM {table} WHERE "{c}" LIKE ? OR "{c}" LIKE ?',
                            ("%\r%", "%\ufeff%"))
                self.assertEqual(bad, [(0,)], f"{table}.{c}")

    def test_second_load_changes_nothing(self):
        rc, _, err = run("load", MESSY, "--db", os.path.join(self.tmp, "twice.db"),
                         "--extract-date", EXTRACT_DATE)
        self.assertEqual(rc, 0, err)
        rc, _, err = run("load", MESSY, "--db", os.path.join(self.tmp, "twice.db"),
                         "--extract-date", EXTRACT_DATE)
        self.assertEqual(rc, 0, err)
        db = os.path.join(self.tmp, "twice.db")
        read, loaded, rejected = TOTALS["all files"]
        self.assertEqual(query(db, "SELECT sum(inserted), sum(updated), sum(unchanged) "
                                   "FROM load_files WHERE run_id = 2"), [(0, 0, loaded)])
        self.assertEqual(query(db, "SELECT count(*) FROM rejects WHERE run_id = 2"), [(rejected,)])


if __name__ == "__main__":
    unittest.main(verbosity=1)
