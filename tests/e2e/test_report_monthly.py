"""End-to-end tests of `iopstat report monthly`: the workbook is read back
with openpyxl and every figure on every sheet is compared with the
`iopstat metrics` call that the About sheet names for it (the calls are
parsed from the workbook and run). Also: sheet names, charts, frozen
panes, number formats, byte-identical reruns, an empty month, and input
text that looks like a formula staying text."""
import datetime
import math
import os
import re
import shlex
import tempfile
import unittest
import zipfile

import openpyxl
from openpyxl.utils import get_column_letter

import oracle
from iophelp import ROOT, BASE, EPISODES, CLIENTS, SESSIONS, SLOW, load, run, write_extract

# Under the sanitizers the workbook is still written and its structure
# checked; the figure-by-figure comparison, which runs every `iopstat
# metrics` call of the About sheet, runs in the plain pass only (it would
# take most of CI's time there and checks arithmetic, not memory).
FIGURES_ONLY_PLAIN = unittest.skipIf(SLOW, "figure-by-figure check: plain build only")

SHEETS = ["Summary", "Census", "Retention", "Completion", "Step-Down", "Attendance",
          "Counselors", "Outcomes", "Drug Screens", "Follow-Up", "Watch List", "Data Quality",
          "Definitions", "About"]
FIELDS = ["n", "estimate", "lower", "upper", "statistic", "df", "p_value"]
SECTION_COLS = ["Figure", "Metric", "By", "Group", "At", "n", "Estimate", "95% CI lower",
                "95% CI upper", "Statistic", "df", "p-value", "Target", "Note", "Call"]
MONTH = "2026-10"


def report(db, out, *extra, env=None):
    rc, stdout, err = run("report", "monthly", "--month", MONTH, "--db", db, "-o", out,
                          *extra, env=env)
    assert rc == 0, err
    assert stdout.strip() == out, stdout
    return out


def norm_at(v):
    if v is None or v == "":
        return ""
    if isinstance(v, datetime.datetime):
        return v.strftime("%Y-%m")
    try:
        return float(v)
    except (TypeError, ValueError):
        return str(v)


def same(cell, text):
    """A workbook number against the CSV text of iopstat metrics."""
    if text == "":
        return cell is None
    if cell is None:
        return False
    a, b = float(cell), float(text)
    return abs(a - b) <= 1e-9 * max(1.0, abs(b))


class Calls:
    """The metrics calls of the About sheet, run once each."""

    def __init__(self, wb, db):
        self.db, self.cmd, self.cache = db, {}, {}
        ws = wb["About"]
        rows = list(ws.iter_rows(values_only=True))
        start = next(i for i, r in enumerate(rows) if r[0] == "Call" and r[5] == "Command")
        for r in rows[start + 1:]:
            if r[0] and re.fullmatch(r"C\d+", str(r[0])):
                self.cmd[r[0]] = r[5]

    def rows(self, call):
        if call not in self.cache:
            args = shlex.split(self.cmd[call])
            assert args[:2] == ["iopstat", "metrics"], args
            rc, out, err = run(*args[1:])
            assert rc == 0, err
            import csv
            import io
            idx = {}
            for r in csv.DictReader(io.StringIO(out)):
                idx[(r["metric"], r["dimension"], r["group"], norm_at(r["at"]))] = r
            self.cache[call] = idx
        return self.cache[call]


def set_width(ws, letter):
    """The width iopstat gave a column, in characters: libxlsxwriter writes
    it with 5 pixels of padding at 7 pixels a character (exact for the
    whole-number widths of the Definitions sheet)."""
    return int(ws.column_dimensions[letter].width - 5 / 7 + 0.01)


def wrapped_lines(text, width):
    """docs/report-monthly.md, "Row heights": each '\\n'-separated piece
    takes ceil(length / width) lines, at least one."""
    return sum(max(1, math.ceil(len(p) / max(1, int(width)))) for p in text.split("\n"))


def table(ws, first_header):
    """(header row index, list of rows) of the table whose header starts
    with first_header."""
    rows = list(ws.iter_rows(values_only=True))
    for i, r in enumerate(rows):
        if r and r[0] == first_header:
            return i, rows
    raise AssertionError(f"no table '{first_header}' on {ws.title}")


class TestMonthlyWorkbook(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = oracle.database()
        cls.dir = tempfile.mkdtemp(prefix="iop-report-")
        cls.path = report(cls.db, os.path.join(cls.dir, "m.xlsx"))
        cls.wb = openpyxl.load_workbook(cls.path)
        cls.calls = Calls(cls.wb, cls.db)

    def test_sheet_names(self):
        self.assertEqual(self.wb.sheetnames, SHEETS)

    def check_section(self, name):
        ws = self.wb[name]
        h, rows = table(ws, "Figure")
        self.assertEqual(list(rows[h][:len(SECTION_COLS)]), SECTION_COLS)
        checked = 0
        for r in rows[h + 1:]:
            if not r[1]:
                break
            metric, by, group, at, call = r[1], r[2], r[3], norm_at(r[4]), r[14]
            got = self.calls.rows(call).get((metric, by, group, at))
            if got is None:
                self.assertEqual(r[13], "not computed by this version", (name, metric))
                continue
            for k, f in enumerate(FIELDS):
                self.assertTrue(same(r[5 + k], got[f]), (name, metric, group, at, f, r[5 + k], got[f]))
            self.assertEqual(r[13] or "", got["note"], (name, metric))
            checked += 1
        return checked

    @FIGURES_ONLY_PLAIN
    def test_every_section_figure_equals_its_metrics_call(self):
        total = 0
        for name in SHEETS:
            if name not in ("Summary", "Watch List", "Definitions", "About"):
                with self.subTest(sheet=name):
                    total += self.check_section(name)
        self.assertGreater(total, 200)

    def test_about_periods(self):
        # retention and outcome sections cover the 12 months to the month end
        ws = self.wb["Retention"]
        h, rows = table(ws, "Figure")
        cmd = self.calls.cmd[rows[h + 1][14]]
        self.assertIn("--from 2025-11-01 --to 2026-10-31", cmd)
        self.assertIn("--by program", cmd)
        h, rows = table(self.wb["Completion"], "Figure")
        self.assertIn("--from 2026-10-01 --to 2026-10-31", self.calls.cmd[rows[h + 1][14]])

    def test_counselor_sheet(self):
        """product.md: directors read the month by program and counselor.
        The Counselors sheet has every counselor of its `--by counselor`
        call, for each of its figures (check_section compares the values)."""
        h, rows = table(self.wb["Counselors"], "Figure")
        body = [r for r in rows[h + 1:] if r[1]]
        cmd = self.calls.cmd[body[0][14]]
        self.assertIn("--from 2026-10-01 --to 2026-10-31", cmd)
        self.assertIn("--by counselor", cmd)
        want = sorted({k[2] for k in self.calls.rows(body[0][14])
                       if k[0] == "admissions" and k[1] == "counselor"})
        self.assertGreater(len(want), 3)
        for metric in ("admissions", "active_census", "completion_rate", "attendance_rate"):
            got = [r[3] for r in body if r[1] == metric and r[2] == "counselor"]
            self.assertEqual(got, want, metric)

    def summary_rows(self):
        h, rows = table(self.wb["Summary"], "Figure")
        out = []
        for r in rows[h + 1:]:
            if not r[1]:
                break
            out.append(r)
        return out

    @FIGURES_ONLY_PLAIN
    def test_summary_figures(self):
        rows = self.summary_rows()
        self.assertGreater(len(rows), 10)
        for r in rows:
            calls = dict(part.split(" ") for part in r[15].split("; "))
            now = self.calls.rows(calls["this"]).get((r[1], "all", "all", ""))
            if now is None:
                self.assertEqual(r[14], "not computed by this version")
                continue
            for col, f in ((3, "estimate"), (4, "lower"), (5, "upper"), (6, "n")):
                self.assertTrue(same(r[col], now[f]), (r[1], f, r[col], now[f]))
            if now["note"] and not (r[14] or "").startswith(("Unusually", "Within")):
                # quartiles, or why there is no estimate: said beside the figure
                self.assertEqual(r[14], now["note"], r[1])
            last = self.calls.rows(calls["last"])[(r[1], "all", "all", "")]
            self.assertTrue(same(r[7], last["estimate"]), (r[1], "last"))
            if "pooled" in calls:
                pool = self.calls.rows(calls["pooled"])[(r[1], "all", "all", "")]
                self.assertTrue(same(r[8], pool["estimate"]), (r[1], "pooled"))
                self.check_flag(r, now, pool)
            self.assertEqual(len(r[9]), 12)

    def test_summary_national_reference(self):
        """metrics.md section 2: the national reference beside the
        program's figure, labelled with year and population; its
        publication on Definitions. From the definition's `national`
        lines; empty where there is none."""
        h, rows = table(self.wb["Summary"], "Figure")
        head = rows[h]
        self.assertEqual(head[10:16], ("Target", "Against target", "National reference",
                                       "National reference: which",
                                       "Flag (p-chart, previous 12 months)", "Calls"))
        by_metric = {r[1]: r for r in self.summary_rows()}
        c = by_metric["completion_rate"]
        self.assertEqual(c[12], 0.377)
        self.assertEqual(c[13], "TEDS-D 2004, IOP discharges: 37.7%; "
                                "TEDS-D 2019, all settings: 42.1%")
        ws = self.wb["Summary"]
        row = next(r for r in ws.iter_rows(min_row=h + 1) if r[1].value == "completion_rate")
        self.assertEqual(row[12].number_format, row[3].number_format)   # a percentage
        self.assertEqual(by_metric["los_median"][12], 41)
        self.assertEqual(by_metric["los_median"][13], "TEDS-D 2004, adults, IOP: 41 days")
        self.assertEqual([m for m, r in by_metric.items() if r[12] is not None],
                         ["completion_rate", "los_median"])
        # the publications, on Definitions
        rows = list(self.wb["Definitions"].iter_rows(values_only=True))
        i = next(k for k, r in enumerate(rows) if r[0] and str(r[0]).startswith("National references"))
        self.assertEqual(rows[i + 1][:5], ("Figure", "Metric", "Value", "Reference", "Source"))
        refs = [r[:5] for r in rows[i + 2:] if r[1]]
        self.assertEqual([(r[1], r[2], r[3]) for r in refs],
                         [("completion_rate", 0.377, "TEDS-D 2004, IOP discharges"),
                          ("completion_rate", 0.421, "TEDS-D 2019, all settings"),
                          ("los_median", 41, "TEDS-D 2004, adults, IOP")])
        self.assertIn("114,440 intensive-outpatient discharges", refs[0][4])
        self.assertIn("1,722,503 discharges of all settings", refs[1][4])
        self.assertIn("same-day stay as 1 day", refs[2][4])

    def check_flag(self, r, now, pool):
        flag = r[14] or ""
        if not (flag.startswith("Unusually") or flag.startswith("Within")):
            return
        p, n, x = float(pool["estimate"]), int(now["n"]), float(now["estimate"])
        sd = math.sqrt(p * (1 - p) / n)
        lo, hi = max(0, p - 3 * sd), min(1, p + 3 * sd)
        want = "Unusually high" if x > hi else "Unusually low" if x < lo else "Within"
        self.assertTrue(flag.startswith(want), (r[1], flag, lo, hi, x))

    @FIGURES_ONLY_PLAIN
    def test_summary_trend_strip(self):
        ws = self.wb["Summary"]
        rows = list(ws.iter_rows(values_only=True))
        i = next(k for k, r in enumerate(rows) if r[0] == "Figure" and r[3] and
                 isinstance(r[3], datetime.datetime))
        month_calls, year_calls = rows[i + 1][3:15], rows[i + 2][3:15]
        self.assertEqual(rows[i][14].strftime("%Y-%m"), MONTH)
        n = 0
        for r in rows[i + 3:]:
            if not r[1]:
                break
            calls = year_calls if r[2] == "12 months" else month_calls
            for k in range(12):
                got = self.calls.rows(calls[k]).get((r[1], "all", "all", ""))
                if got is not None:
                    self.assertTrue(same(r[3 + k], got["estimate"]), (r[1], k))
                    n += 1
        self.assertGreater(n, 100)

    def test_charts_present(self):
        with zipfile.ZipFile(self.path) as z:
            names = z.namelist()
        charts = [n for n in names if re.fullmatch(r"xl/charts/chart\d+\.xml", n)]
        drawings = [n for n in names if re.fullmatch(r"xl/drawings/drawing\d+\.xml", n)]
        self.assertGreaterEqual(len(charts), 9)
        self.assertGreaterEqual(len(drawings), 6)
        # series are named for a reader: a label, never a metric code
        with zipfile.ZipFile(self.path) as z:
            names = [n for c in charts
                     for n in re.findall(r"<c:tx><c:v>([^<]*)</c:v></c:tx>", z.read(c).decode())]
        self.assertIn("Drug screens negative", names)
        self.assertEqual([n for n in names if re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", n)], [])

    def test_chart_series_point_at_their_rows(self):
        """Every series of a chart reads rows of one metric; a by-program
        chart has every program of its call, a curve one series per
        group. (The metric's rows of a --by call are not contiguous in the
        call: charts once read the wrong rows and dropped by-program
        charts.)"""
        by_program = {"Admissions by program": "admissions",
                      "Clients in treatment at month end, by program": "active_census",
                      "Retained at day 90 by program, with 95% CI": "retained_d90",
                      "Completion rate by program, with 95% CI": "completion_rate",
                      "Attendance rate by program, with 95% CI": "attendance_rate"}
        curves = {"Still in treatment by day since admission (Kaplan-Meier)": "km_curve",
                  "Cumulative dropout by day since admission": "cif_dropout_curve"}
        seen = set()
        with zipfile.ZipFile(self.path) as z:
            for name in z.namelist():
                if not re.fullmatch(r"xl/charts/chart\d+\.xml", name):
                    continue
                xml = z.read(name).decode()
                title = "".join(re.findall(r"<a:t>([^<]*)</a:t>", xml)[:1])
                refs = re.findall(r"<c:f>([^<]*)</c:f>", xml)
                if title not in by_program and title not in curves:
                    continue
                seen.add(title)
                metric = by_program.get(title) or curves[title]
                groups = []
                for ref in refs:
                    m = re.fullmatch(r"'?([^'!]+)'?!\$([A-Z]+)\$(\d+)(?::\$([A-Z]+)\$(\d+))?", ref)
                    self.assertIsNotNone(m, ref)
                    ws = self.wb[m.group(1)]
                    rows = range(int(m.group(3)), int(m.group(5) or m.group(3)) + 1)
                    self.assertEqual({ws.cell(r, 2).value for r in rows}, {metric}, (title, ref))
                    groups.append(tuple(ws.cell(r, 4).value for r in rows))
                if title in by_program:
                    # the program rows of the metric's table (check_section
                    # compares those with the metrics call)
                    ws = self.wb[m.group(1)]
                    want = sorted(r[3] for r in ws.iter_rows(values_only=True)
                                  if r[1] == metric and r[2] == "program" and not r[4])
                    self.assertTrue(want, title)
                    for g in groups:
                        self.assertEqual(sorted(g), want, title)
                else:
                    names = {g[0] for g in groups}
                    self.assertTrue(all(len(set(g)) == 1 for g in groups), title)
                    self.assertIn("all", names, title)
                    self.assertGreater(len(names), 2, title)
        self.assertEqual(seen, set(by_program) | set(curves))

    def test_p_values_below_a_ten_thousandth_read_as_such(self):
        """A p of 1e-18 printed as 0.0000; the format shows "<0.0001" and
        the cell keeps the value."""
        n = 0
        for name in ("Completion", "Retention", "Outcomes"):
            h, rows = table(self.wb[name], "Figure")
            col = rows[h].index("p-value") + 1
            for i in range(h + 2, len(rows) + 1):
                c = self.wb[name].cell(i, col)
                if isinstance(c.value, float):
                    self.assertEqual(c.number_format, '[<0.0001]"<0.0001";0.0000', (name, i))
                    n += 1
        self.assertGreater(n, 3)

    def test_hours_chart_has_both_asam_minimums(self):
        """The weekly hours chart draws the adult (9 h) and the adolescent
        (6 h) minimum: an adolescent program drawn against the adult line
        alone looked as if it failed."""
        with zipfile.ZipFile(self.path) as z:
            xml = next(x for x in (z.read(n).decode() for n in z.namelist()
                                   if re.fullmatch(r"xl/charts/chart\d+\.xml", n))
                       if "Mean weekly hours against the ASAM minimum" in x)
        names = re.findall(r"<c:tx><c:v>([^<]*)</c:v></c:tx>", xml)
        self.assertEqual(names, ["mean weekly hours", "ASAM minimum, 9 hours (adults)",
                                 "ASAM minimum, 6 hours (adolescents)"])
        vals = re.findall(r"<c:val><c:numRef><c:f>([^<]*)</c:f>", xml)
        self.assertEqual(len(vals), 3)
        for ref, want in zip(vals[1:], (9, 6)):
            m = re.fullmatch(r"'?([^'!]+)'?!\$([A-Z]+)\$(\d+):\$([A-Z]+)\$(\d+)", ref)
            ws = self.wb[m.group(1)]
            cells = ws[ref.split("!")[1].replace("$", "")]
            self.assertEqual({c[0].value for c in cells}, {want}, ref)

    @FIGURES_ONLY_PLAIN
    def test_catalogue_formats_fit_the_rows(self):
        """A figure printed as a count (reports/catalogue.def) has whole
        numbers and no interval: a share with a CI printed as a count shows
        0 or 1 and is suppressed as if it were a count."""
        fmt = {}
        with open(os.path.join(ROOT, "reports", "catalogue.def")) as f:
            for line in f:
                if line.strip() and not line.startswith("#"):
                    parts = [p.strip() for p in line.split("|")]
                    fmt[parts[0]] = parts[1]
        checked = 0
        for call in self.calls.cmd:
            for (metric, _, _, _), r in self.calls.rows(call).items():
                if fmt.get(metric) != "count" or r["estimate"] == "":
                    continue
                self.assertEqual(r["lower"], "", metric)
                self.assertEqual(float(r["estimate"]), round(float(r["estimate"])), metric)
                checked += 1
        self.assertGreater(checked, 20)

    def test_frozen_headers_filters_and_print(self):
        for name in SHEETS:
            ws = self.wb[name]
            if name != "About":
                self.assertIsNotNone(ws.freeze_panes, name)
                self.assertTrue(ws.auto_filter.ref, name)
            self.assertEqual(ws.page_setup.orientation, "landscape", name)
            self.assertEqual(str(ws.page_setup.paperSize), "1", name)        # US Letter
            self.assertTrue(ws.sheet_properties.pageSetUpPr.fitToPage, name)
            self.assertIn(ws.page_setup.fitToWidth, (None, 1), name)   # 1 is the default
            self.assertEqual(ws.page_setup.fitToHeight, 0, name)
            self.assertIn("42 CFR Part 2", ws.oddFooter.left.text, name)

    def test_number_formats(self):
        h, rows = table(self.wb["Completion"], "Figure")
        ws = self.wb["Completion"]
        self.assertEqual(ws.cell(row=h + 2, column=7).number_format, "0.0%")
        self.assertEqual(ws.cell(row=h + 2, column=8).number_format, "0.0%")
        about = self.wb["About"]
        dates = [c for row in about.iter_rows() for c in row if c.is_date]
        self.assertGreater(len(dates), 10)
        trend = [c for c in self.wb["Completion"]["E"] if c.is_date]
        self.assertGreater(len(trend), 6)

    def test_definitions_cover_every_figure(self):
        ws = self.wb["Definitions"]
        h, rows = table(ws, "Figure")
        defined = {r[1]: r for r in rows[h + 1:] if r[1]}
        for name in SHEETS[:-2]:
            for r in self.wb[name].iter_rows(values_only=True):
                if r[1] and re.fullmatch(r"[a-z0-9_]+", str(r[1])) and r[1] != "client_id":
                    self.assertIn(r[1], defined, name)
        self.assertNotIn("not in the catalogue (reports/catalogue.def)",
                         [r[4] for r in defined.values()])

    def test_definitions_rows_fit_their_text(self):
        ws = self.wb["Definitions"]
        widths = {c: set_width(ws, get_column_letter(c)) for c in range(1, 9)}
        h, rows = table(ws, "Figure")
        tall = 0
        for i, r in enumerate(rows[h + 1:], start=h + 2):
            if not r[1]:
                break
            # the label (A) wraps too: no figure name is clipped
            need = max(wrapped_lines(str(r[c - 1]), widths[c]) for c in (1, 3, 4, 5, 6, 7, 8)
                       if r[c - 1])
            want = min(409, 15 * need)
            got = ws.row_dimensions[i].height or 15
            self.assertEqual(got, want, (i, r[1]))
            tall += want > 15
        self.assertGreater(tall, 20)
        # the longest definition wraps in its 60-character column
        longest = max((r for r in rows[h + 1:] if r[1]), key=lambda r: len(r[4] or ""))
        self.assertGreater(len(longest[4]), 120)
        i = rows.index(longest) + 1
        self.assertGreaterEqual(ws.row_dimensions[i].height, 15 * math.ceil(len(longest[4]) / 60))
        # the explanations above the table are merged over columns B:H
        merged = sum(widths[c] for c in range(2, 9))
        for i, r in enumerate(rows[:h], start=1):
            if r[0] and r[1]:
                want = min(409, 15 * wrapped_lines(r[1], merged))
                self.assertEqual(ws.row_dimensions[i].height or 15, want, r[0])

    def test_properties_and_names(self):
        self.assertEqual(self.wb.properties.created, datetime.datetime(2026, 10, 31))
        self.assertIn("Monthly", self.wb.properties.title)
        names = list(self.wb.defined_names.keys()) if hasattr(self.wb.defined_names, "keys") \
            else [d.name for d in self.wb.defined_names.definedName]
        self.assertIn("Summary_key_figures", names)
        self.assertIn("About_calls", names)
        # each name is a valid absolute range of its sheet whose first row
        # is the table's header
        for name in names:
            dn = self.wb.defined_names[name] if hasattr(self.wb.defined_names, "keys") \
                else next(d for d in self.wb.defined_names.definedName if d.name == name)
            self.assertRegex(dn.attr_text, r"^'[^']+'!\$[A-Z]+\$\d+:\$[A-Z]+\$\d+$", name)
            sheet, ref = next(iter(dn.destinations))
            first = self.wb[sheet][ref.replace("$", "").split(":")[0]]
            self.assertTrue(first.value, (name, ref))

    def test_watch_list_matches_metric(self):
        ws = self.wb["Watch List"]
        rows = list(ws.iter_rows(values_only=True))
        line = next(r[0] for r in rows if r[0] and "on the watch list on" in str(r[0]))
        total = int(line.split()[0])
        # the figure counts clients; the line adds them when they differ
        m = re.search(r"\((\d+) clients?\)", line)
        total = int(m.group(1)) if m else total
        h, att = table(self.wb["Attendance"], "Figure")
        wl = [r for r in att[h + 1:] if r[1] == "watch_list" and r[2] == "all"]
        self.assertTrue(wl, "no watch_list row on the Attendance sheet")
        self.assertIsNotNone(wl[0][6], "watch_list has no estimate")
        self.assertEqual(total, int(wl[0][6]))

    def test_rerun_is_byte_identical(self):
        # same arguments (the same -o: the command is on the About sheet),
        # another clock
        with open(self.path, "rb") as f:
            first = f.read()
        report(self.db, self.path, env={"SOURCE_DATE_EPOCH": "1790000000"})
        with open(self.path, "rb") as f:
            self.assertEqual(f.read(), first)


class TestEmptyAndHostile(unittest.TestCase):
    def workbook_of(self, files, month, *extra, db=None):
        """Loads the extract files into a new database (or takes db) and
        writes the month's workbook with the extra options: (database,
        workbook) paths."""
        d = tempfile.mkdtemp()
        if not db:
            db = os.path.join(d, "t.db")
            rc, _, err = load(write_extract(files), db)
            self.assertEqual(rc, 0, err)
        out = os.path.join(d, "w.xlsx")
        rc, _, err = run("report", "monthly", "--month", month, "--db", db, "-o", out, *extra)
        self.assertEqual(rc, 0, err)
        return db, out

    def test_empty_month_says_so_everywhere(self):
        db = oracle.database()
        out = os.path.join(tempfile.mkdtemp(), "empty.xlsx")
        rc, stdout, err = run("report", "monthly", "--month", "2031-01", "--db", db, "-o", out)
        self.assertEqual(rc, 0, err)
        wb = openpyxl.load_workbook(out)
        self.assertEqual(wb.sheetnames, SHEETS)
        for ws in wb:
            text = [str(r[0]) for r in ws.iter_rows(max_row=4, values_only=True) if r[0]]
            self.assertTrue(any(t.startswith("No activity in January 2031") for t in text), ws.title)
        # twelve months of no admissions draw a flat line at the bottom
        trend = next(r[9] for r in wb["Summary"].iter_rows(values_only=True)
                     if r[1] == "admissions")         # the key figures' row, not the strip's
        self.assertEqual(trend, "▁" * 12)

    def test_bad_national_line_names_file_and_line(self):
        """A `national` line whose value is not a number stops the report
        with the file and line, as any bad definition line does."""
        import shutil
        d = tempfile.mkdtemp()
        for name in ("monthly.def", "catalogue.def"):
            shutil.copy(os.path.join(ROOT, "reports", name), d)
        path = os.path.join(d, "monthly.def")
        with open(path) as f:
            n = sum(1 for _ in f)
        with open(path, "a") as f:
            f.write("national completion_rate lots TEDS-D | SAMHSA\n")
        rc, _, err = run("report", "monthly", "--month", "2026-05", "--db", oracle.database(),
                         "--reports", d, "-o", os.path.join(d, "w.xlsx"))
        self.assertEqual(rc, 1, err)    # a usage error
        self.assertIn("%s:%d: not a definition line: 'national completion_rate lots TEDS-D | SAMHSA'"
                      % (path, n + 1), err)

    def test_month_past_the_extract_date_says_so_everywhere(self):
        """Data extracted on 2026-10-20: October's workbook warns on every
        sheet, and on stderr, that its last days are missing; September's
        does not."""
        db = oracle.database(clients=120, months=6, end="2026-10-20")
        d = tempfile.mkdtemp()
        for month, partial in (("2026-10", True), ("2026-09", False)):
            out = os.path.join(d, month + ".xlsx")
            rc, _, err = run("report", "monthly", "--month", month, "--db", db, "-o", out)
            self.assertEqual(rc, 0, err)
            self.assertEqual("warning: October 2026 ends after the extract date 2026-10-20" in err,
                             partial, err)
            wb = openpyxl.load_workbook(out)
            self.assertEqual(wb.sheetnames, SHEETS)
            for ws in wb:
                text = [str(r[0]) for r in ws.iter_rows(max_row=5, values_only=True) if r[0]]
                self.assertEqual(any(t.startswith("The data end on 2026-10-20 (the extract date), "
                                                  "before the end of October 2026") for t in text),
                                 partial, (month, ws.title))

    def test_unwritable_output_fails_first_and_plainly(self):
        """-o in a folder that does not exist: exit 3 with iopstat's own
        reason before any figure is computed (libxlsxwriter's "[ERROR]"
        line came first, after the whole computation)."""
        out = os.path.join(tempfile.mkdtemp(), "no-such-folder", "w.xlsx")
        rc, stdout, err = run("report", "monthly", "--month", "2026-05", "--db",
                              oracle.database(), "-o", out)
        self.assertEqual(rc, 3, err)
        self.assertEqual(err, "iopstat: %s: cannot write the workbook here: "
                              "No such file or directory\n" % out)
        self.assertEqual(stdout, "")

    def test_formula_like_input_stays_text(self):
        files = dict(BASE)
        evil = "=cmd|' /C calc'!A0"
        files["clients.csv"] = BASE["clients.csv"].replace("C2,", "+1,")
        files["episodes.csv"] = BASE["episodes.csv"].replace(",C2,", ",+1,").replace(
            "South,Adolescent IOP", "South,\"" + evil.replace('"', '""') + "\"")
        _, out = self.workbook_of(files, "2026-03")
        wb = openpyxl.load_workbook(out)
        found = {"program": 0, "client": 0}
        for ws in wb:
            for row in ws.iter_rows():
                for c in row:
                    if c.value == evil:
                        self.assertEqual(c.data_type, "s", (ws.title, c.coordinate))
                        found["program"] += 1
                    if c.value == "+1":
                        self.assertEqual(c.data_type, "s", (ws.title, c.coordinate))
                        found["client"] += 1
        self.assertGreater(found["program"], 0)
        self.assertGreater(found["client"], 0)
        with zipfile.ZipFile(out) as z:
            for n in z.namelist():
                if n.startswith("xl/worksheets/sheet"):
                    self.assertNotIn(b"<f>", z.read(n), n)

    def test_watch_list_reads_sessions_inside_the_episode(self):
        """The Watch List applies the watch_list metric's rules: a client's
        no-shows before the admission (in the load's 30-day tolerance) are
        not the episode's last two sessions. It lists episodes, and says
        how many clients they are when a client has two."""
        files = {
            "clients.csv": CLIENTS + "A,1980,F,,,opioids,0,self,medicaid\n"
                                     "B,1980,F,,,opioids,0,self,medicaid\n"
                                     "C,1980,F,,,opioids,0,self,medicaid\n",
            # C: two open episodes at the level, neither with a session
            "episodes.csv": EPISODES + "E1,A,2.1,2026-05-28,North,P,,,K1,,\n"
                                       "E2,B,2.1,2026-05-01,North,P,,,K1,,\n"
                                       "E3,C,2.1,2026-05-01,North,P,,,K1,,\n"
                                       "E4,C,2.1,2026-05-05,South,Q,,,K1,,\n",
            "sessions.csv": SESSIONS + "S1,E1,2026-05-10,group,60,no_show,T\n"
                                       "S2,E1,2026-05-12,group,60,no_show,T\n"
                                       "S3,E2,2026-05-29,group,60,no_show,T\n"
                                       "S4,E2,2026-05-30,group,60,no_show,T\n",
        }
        db, out = self.workbook_of(files, "2026-05")
        rows = [r for r in openpyxl.load_workbook(out)["Watch List"].iter_rows(values_only=True)
                if any(r)]
        h = next(i for i, r in enumerate(rows) if r[0] == "client_id")
        self.assertEqual([(r[0], r[1]) for r in rows[h + 1:]],
                         [("B", "E2"), ("C", "E3"), ("C", "E4")])
        # admit dates are dates, as the last attended session's are
        self.assertEqual([r[4] for r in rows[h + 1:]],
                         [datetime.datetime(2026, 5, 1), datetime.datetime(2026, 5, 1),
                          datetime.datetime(2026, 5, 5)])
        self.assertIn("3 client episodes (2 clients) on the watch list on 2026-05-31.",
                      [r[0] for r in rows])
        wl = [r for r in oracle.metrics(db, "2026-05-01", "2026-05-31")
              if r["metric"] == "watch_list" and r["group"] == "all"]
        self.assertEqual([r["n"] for r in wl], ["2"])
        # with --suppress 5 (a second workbook of the same database) both
        # counts are hidden alike
        _, out = self.workbook_of(None, "2026-05", "--suppress", "5", db=db)
        rows = [r[0] for r in openpyxl.load_workbook(out)["Watch List"].iter_rows(values_only=True)]
        self.assertIn("<5 client episodes (<5 clients) on the watch list on 2026-05-31.", rows)

    def test_bad_month_is_a_usage_error(self):
        db = oracle.database()
        rc, _, err = run("report", "monthly", "--month", "2026-13", "--db", db, "-o",
                         os.path.join(tempfile.mkdtemp(), "x.xlsx"))
        self.assertEqual(rc, 1)
        self.assertIn("--month", err)


if __name__ == "__main__":
    unittest.main()
