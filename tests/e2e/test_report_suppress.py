"""End-to-end tests of `iopstat report monthly --suppress N`
(docs/report-monthly.md, "--suppress N"): the same database is written
with and without --suppress 11 and both workbooks are read back with
openpyxl. The plain workbook gives every figure's true n and estimate;
a model of the rule written here from the documentation (primary
suppression, the sets with a printed total, complementary suppression
repeated until no set has a single hidden row) says which cells of the
suppressed workbook must be hidden and how, and every other cell must
equal the plain one. A hand-made extract fixes a few cells by name; the
generated extract of the workbook test covers every sheet."""
import math
import os
import re
import tempfile
import unittest

import openpyxl

import oracle
from iophelp import CLIENTS, EPISODES, ROOT, SESSIONS, load, run, write_extract

N = 11
SECTIONS = ["Census", "Retention", "Completion", "Step-Down", "Attendance", "Counselors",
            "Outcomes", "Drug Screens", "Follow-Up", "Data Quality"]
SHOWN, PRIMARY, COMPLEMENT = "shown", "primary", "complement"


def catalogue():
    """{metric: format} from reports/catalogue.def."""
    out = {}
    with open(os.path.join(ROOT, "reports/catalogue.def")) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                name, kind = [p.strip() for p in line.split("|")[:2]]
                out[name] = kind
    return out


def parts_lines():
    """{sheet: [(total, {parts})]} from the `parts` lines of monthly.def."""
    out, sheet = {}, None
    with open(os.path.join(ROOT, "reports/monthly.def")) as f:
        for line in f:
            w = line.split()
            if w and w[0] == "sheet":
                sheet = " ".join(w[2:])
            elif w and w[0] == "parts":
                out.setdefault(sheet, []).append((w[1], set(w[2:])))
    return out


KINDS = catalogue()
PARTS = parts_lines()


def lround(v):
    return int(math.floor(abs(v) + 0.5)) * (1 if v >= 0 else -1)


def norm_at(v):
    return "" if v is None else v.strftime("%Y-%m") if hasattr(v, "strftime") else str(v)


class Row:
    """A row of a section table: where it is and what it shows."""

    def __init__(self, sheet, index, r):
        self.sheet, self.index = sheet, index   # index: 1-based worksheet row
        self.metric, self.dim, self.group = r[1], r[2], r[3]
        self.at, self.n, self.est, self.lower, self.upper = norm_at(r[4]), r[5], r[6], r[7], r[8]
        self.stat, self.df, self.p, self.note, self.call = r[9], r[10], r[11], r[13], r[14]
        self.kind = KINDS.get(self.metric, "number")

    def key(self):
        return (self.metric, self.dim, self.group, self.at, self.call)

    def countable(self):
        return self.kind in ("count", "percent")

    def numerator(self):
        return lround(self.est * self.n)


def section_rows(wb, sheet):
    ws = wb[sheet]
    rows = list(ws.iter_rows(values_only=True))
    h = next(i for i, r in enumerate(rows) if r[0] == "Figure")
    out = []
    for i, r in enumerate(rows[h + 1:], start=h + 2):
        if not r[1]:
            break
        out.append(Row(sheet, i, r))
    return out


# ---- the rule, from docs/report-monthly.md ------------------------------

def primary(x):
    if x.est is None or not x.countable():
        return False
    if x.kind == "count":
        return 1 <= lround(x.est) < N
    return 1 <= x.n < N or 1 <= x.numerator() < N


def leaving(x):
    return x.at.split(">")[0] if ">" in x.at and not x.at.startswith(">") else None


def sets(rows, parts):
    """[(total index or None for shares of one n, [member indexes])]."""
    out = []
    blocks, a = [], 0
    for i in range(1, len(rows) + 1):
        if i == len(rows) or (rows[i].metric, rows[i].call) != (rows[a].metric, rows[a].call):
            blocks.append(range(a, i))
            a = i
    for b in blocks:
        seen = set()
        for i in b:
            x = rows[i]
            if not x.countable():
                continue
            if x.dim == "all" and x.group == "all":
                out.append((i, [j for j in b if rows[j].dim != "all" and rows[j].group != "all"
                                and rows[j].at == x.at]))
            if x.at == "":
                out.append((i, [j for j in b if j != i and rows[j].at and not leaving(rows[j])
                                and (rows[j].dim, rows[j].group) == (x.dim, x.group)]))
            k = (x.dim, x.group, leaving(x))
            if leaving(x) and k not in seen:
                seen.add(k)
                out.append((None, [j for j in b if (rows[j].dim, rows[j].group, leaving(rows[j])) == k]))
    for total, names in parts:
        seen = set()
        for i, x in enumerate(rows):
            if not x.countable():
                continue
            cell = (x.dim, x.group, x.at, x.call)
            if total == "n" and x.metric in names and cell not in seen:
                seen.add(cell)
                out.append((None, [j for j, y in enumerate(rows) if y.metric in names
                                   and (y.dim, y.group, y.at, y.call) == cell and y.n == x.n]))
            elif x.metric == total:
                out.append((i, [j for j, y in enumerate(rows) if y.metric in names
                                and (y.dim, y.group, y.at, y.call) == cell]))
    return [(t, m) for t, m in out if len(m) >= (2 if t is None else 1)]


def count_in(x, shares):
    if shares:
        return x.numerator()
    return lround(x.est) if x.kind == "count" else x.n


def expected_states(rows, parts):
    state = [PRIMARY if primary(x) else SHOWN for x in rows]
    all_sets = sets(rows, parts)
    changed = True
    while changed:
        changed = False
        for total, members in all_sets:
            if total is not None and state[total] != SHOWN:
                continue
            hidden = [j for j in members if state[j] != SHOWN]
            cand = [(count_in(rows[j], total is None), j) for j in members
                    if state[j] == SHOWN and rows[j].countable() and rows[j].est is not None
                    and count_in(rows[j], total is None) > 0]
            if len(hidden) == 1 and cand:
                state[min(cand)[1]] = COMPLEMENT
                changed = True
    return state, all_sets


# ---- the tests ------------------------------------------------------------

def report(db, month, out, *extra):
    rc, stdout, err = run("report", "monthly", "--month", month, "--db", db, "-o", out, *extra)
    assert rc == 0, err
    return openpyxl.load_workbook(out)


def hidden_text(x, state):
    """(estimate, n) texts of a hidden row."""
    est = "<%d" % N if state == PRIMARY and x.kind == "count" else "suppressed"
    n = "<%d" % N if 1 <= x.n < N else "suppressed"
    return est, n


class Checks:
    """Compares the suppressed workbook with the plain one, sheet by sheet."""

    def check_sheet(self, sheet):
        plain = section_rows(self.plain, sheet)
        got = section_rows(self.sup, sheet)
        self.assertEqual([x.key() for x in plain], [x.key() for x in got], sheet)
        state, all_sets = expected_states(plain, PARTS.get(sheet, []))
        for x, y, s in zip(plain, got, state):
            where = (sheet, y.index, x.metric, x.dim, x.group, x.at)
            if s == SHOWN:
                self.assertEqual((y.n, y.est, y.lower, y.upper, y.note),
                                 (x.n, x.est, x.lower, x.upper, x.note), where)
                continue
            self.assertEqual((y.est, y.n), hidden_text(x, s), where + (s,))
            self.assertEqual((y.lower, y.upper, y.stat, y.df, y.p, y.note),
                             (None,) * 6, where)
            self.assertTrue(s == PRIMARY or x.est is not None and count_in(x, False) > 0, where)
        # no set with a printed total is left with a single hidden row
        # while a shown non-zero row could have hidden it
        for total, members in all_sets:
            if total is not None and state[total] != SHOWN:
                continue
            hidden = [j for j in members if state[j] != SHOWN]
            if len(hidden) == 1:
                others = [plain[j] for j in members if j not in hidden and plain[j].est is not None]
                self.assertFalse([o for o in others if count_in(o, total is None) > 0],
                                 (sheet, plain[hidden[0]].index))
        return state

    def test_no_suppression_without_the_option(self):
        for ws in self.plain:
            for row in ws.iter_rows(values_only=True):
                for v in row:
                    self.assertFalse(v == "suppressed" or re.fullmatch(r"<\d+", str(v)),
                                     (ws.title, row))

    def test_watch_list_gives_only_its_count(self):
        """Under --suppress the Watch List names no client: the plain
        workbook's count (or "<N" for 1 to N-1) and why the list is left
        out."""
        plain = [r for r in self.plain["Watch List"].iter_rows(values_only=True) if any(r)]
        got = [r for r in self.sup["Watch List"].iter_rows(values_only=True) if any(r)]
        line = next(r[0] for r in plain if r[0] and "on the watch list on" in str(r[0]))
        def hide(m):
            n = int(m.group(1))
            return ("<%d" % N if 1 <= n < N else str(n)) + m.group(2)
        # both counts (episodes, and clients when they differ) hidden alike
        want = re.sub(r"(\d+)( client episodes?| clients?\))", hide, line)
        want = want.split(";")[0].rstrip(".") + "."
        texts = [str(v) for r in got for v in r if v is not None]
        self.assertIn(want, texts)
        self.assertIn("The list of clients is left out: this workbook was made with "
                      "--suppress %d, for readers outside the program. Make it without "
                      "--suppress for the internal list." % N, texts)
        self.assertNotIn("client_id", texts)
        ids = {str(r[0]) for r in plain[plain.index(next(r for r in plain if r[0] == "client_id")) + 1:]}
        self.assertFalse(ids & set(texts), "a client of the plain list is on the suppressed sheet")

    def test_every_section_sheet_follows_the_rule(self):
        counts = {SHOWN: 0, PRIMARY: 0, COMPLEMENT: 0}
        for sheet in SECTIONS:
            with self.subTest(sheet=sheet):
                for s in self.check_sheet(sheet):
                    counts[s] += 1
        self.assertGreater(counts[PRIMARY], 10)
        self.assertGreater(counts[COMPLEMENT], self.min_complements)
        self.assertGreater(counts[SHOWN], 50)


    def summary(self, wb):
        """(key rows, trend strip rows) of the Summary, by metric."""
        rows = list(wb["Summary"].iter_rows(values_only=True))
        h = next(i for i, r in enumerate(rows) if r[0] == "Figure")
        keys = {}
        for r in rows[h + 1:]:
            if not r[1]:
                break
            keys[r[1]] = r
        t = next(i for i, r in enumerate(rows) if r[0] == "Trend, 12 months ending with the report month")
        strip = {r[1]: r[3:15] for r in rows[t + 4:] if r[1]}
        return keys, strip

    def test_summary_hides_what_it_suppresses(self):
        plain, plain_strip = self.summary(self.plain)
        sup, sup_strip = self.summary(self.sup)
        self.assertEqual(list(plain), list(sup))
        hidden = 0
        for metric, p in plain.items():
            q, kind = sup[metric], KINDS[metric]
            if p[3] is None:
                self.assertEqual(q[3:7], p[3:7], metric)
                continue
            x = Row("Summary", 0, (None, metric, "all", "all", None, p[6], p[3]) + (None,) * 8)
            if not primary(x):
                self.assertEqual(q[3:9] + q[10:15], p[3:9] + p[10:15], metric)
                self.assertEqual(sup_strip[metric][11], plain_strip[metric][11], metric)
                continue
            hidden += 1
            self.assertEqual(q[3:7], ("<%d" % N if kind == "count" else "suppressed", None, None,
                                      "<%d" % N if 1 <= p[6] < N else "suppressed"), metric)
            self.assertIsNone(q[11], metric)                     # no "meets target"
            if p[14] and p[14].startswith(("Unusually", "Within")):
                self.assertEqual(q[14], "suppressed", metric)    # the flag would bound it
            self.assertEqual(sup_strip[metric][11], q[3], metric)
            self.assertEqual(q[9][-1], "·", metric)              # not drawn in the trend
        # a suppressed month of the strip is not drawn in the trend cell
        for metric, cells in sup_strip.items():
            for k, v in enumerate(cells):
                if v in ("<%d" % N, "suppressed"):
                    self.assertEqual(sup[metric][9][k], "·", (metric, k))
        # counts: every month of the strip, last month and the pooled year
        for metric, cells in plain_strip.items():
            if KINDS[metric] != "count":
                continue
            for a, b in zip(cells + plain[metric][7:9], sup_strip[metric] + sup[metric][7:9]):
                self.assertEqual(b, "<%d" % N if a is not None and 1 <= a < N else a, metric)
        self.assertGreaterEqual(hidden, self.min_summary_hidden)


class TestHandMadeExtract(Checks, unittest.TestCase):
    """March 2026: Big IOP admits 15, Mid IOP 12, Small IOP 3, Quiet IOP
    none (one episode open since January). Discharged in March: Big 14
    (completed), Mid 12 (11 completed, 1 dropped out), Small 3 (1
    completed, 2 dropped out)."""
    MONTH = "2026-03"
    min_complements = 4
    min_summary_hidden = 0

    @classmethod
    def setUpClass(cls):
        clients, episodes, sessions = [CLIENTS], [EPISODES], [SESSIONS]

        def episode(program, admit, discharge="", reason="", session=None):
            k = len(clients)
            clients.append(f"C{k:03d},1980,F,White,Not Hispanic,opioids,0,court,medicaid\n")
            episodes.append(f"E{k:03d},C{k:03d},2.1,{admit},North,{program},{discharge},"
                            f"{reason},K1,,none\n")
            if session:
                sessions.append(f"S{k:03d},E{k:03d},{session},group,180,attended,T1\n")

        for program, n in (("Big IOP", 15), ("Mid IOP", 12), ("Small IOP", 3)):
            for i in range(n):
                episode(program, f"2026-03-{2 + i:02d}", session=f"2026-03-{2 + i:02d}")
        episode("Quiet IOP", "2026-01-10", session="2026-03-05")
        for program, done, dropped in (("Big IOP", 14, 0), ("Mid IOP", 11, 1), ("Small IOP", 1, 2)):
            for i in range(done + dropped):
                episode(program, "2026-01-05", f"2026-03-{10 + i:02d}",
                        "completed" if i < done else "dropped_out", session="2026-01-05")
        d = tempfile.mkdtemp(prefix="iop-suppress-")
        files = {"clients.csv": "".join(clients), "episodes.csv": "".join(episodes),
                 "sessions.csv": "".join(sessions)}
        cls.db = os.path.join(d, "t.db")
        rc, _, err = load(write_extract(files), cls.db)
        assert rc == 0, err
        cls.plain = report(cls.db, cls.MONTH, os.path.join(d, "plain.xlsx"))
        cls.sup = report(cls.db, cls.MONTH, os.path.join(d, "sup.xlsx"), "--suppress", str(N))

    def cells(self, sheet, metric):
        """{group: (n, estimate)} of a metric's rows without `at`."""
        return {x.group: (x.n, x.est) for x in section_rows(self.sup, sheet)
                if x.metric == metric and x.at == ""}

    def test_plain_values(self):
        got = {x.group: x.est for x in section_rows(self.plain, "Census") if x.metric == "admissions"}
        self.assertEqual(got, {"all": 30, "Big IOP": 15, "Mid IOP": 12, "Small IOP": 3,
                               "Quiet IOP": 0})

    def test_admissions(self):
        # Small IOP's 3 is hidden; 30 - 15 - 0 would give it back, so the
        # smallest remaining non-zero cell (Mid IOP, 12) goes too; the zero
        # stays
        self.assertEqual(self.cells("Census", "admissions"), {
            "all": (30, 30), "Big IOP": (15, 15), "Mid IOP": ("suppressed", "suppressed"),
            "Small IOP": ("<11", "<11"), "Quiet IOP": (0, 0)})

    def test_discharges_by_reason(self):
        self.assertEqual(self.cells("Census", "discharges"), {
            "all": (29, 29), "Big IOP": (14, 14), "Mid IOP": ("suppressed", "suppressed"),
            "Small IOP": ("<11", "<11"), "Quiet IOP": (0, 0)})
        # 3 dropped out overall: hidden; the completed (26) are the other
        # reason of the 29 discharges (a `parts` line), so they go too
        self.assertEqual(self.cells("Census", "discharges_dropped_out")["all"], ("<11", "<11"))
        self.assertEqual(self.cells("Census", "discharges_completed"), {
            "all": ("suppressed", "suppressed"), "Big IOP": (14, 14),
            "Mid IOP": ("suppressed", "suppressed"), "Small IOP": ("<11", "<11"),
            "Quiet IOP": (0, 0)})

    def test_completion_rate(self):
        # Small IOP rests on 3 discharges; Mid IOP (n 12) is the smaller of
        # the other two and is hidden with it; Quiet IOP has no discharge
        got = self.cells("Completion", "completion_rate")
        self.assertEqual(got["all"], (29, 26 / 29))
        self.assertEqual(got["Big IOP"], (14, 1))
        self.assertEqual(got["Mid IOP"], ("suppressed", "suppressed"))
        self.assertEqual(got["Small IOP"], ("<11", "suppressed"))
        self.assertEqual(got["Quiet IOP"], (0, None))

    def test_about_names_the_rule(self):
        about = [r for r in self.sup["About"].iter_rows(values_only=True)
                 if r[0] == "Small-cell suppression"]
        self.assertIn("1 to 10", about[0][1])
        self.assertIn("next smallest cell", about[0][1])
        self.assertIn("the Watch List gives its count only, no clients", about[0][1])


class TestGeneratedExtract(Checks, unittest.TestCase):
    """The generated extract of the workbook test, October 2026: every
    section sheet, the step-down matrix included."""
    MONTH = "2026-10"
    min_complements = 10
    min_summary_hidden = 3

    @classmethod
    def setUpClass(cls):
        db = oracle.database()
        d = tempfile.mkdtemp(prefix="iop-suppress-")
        cls.plain = report(db, cls.MONTH, os.path.join(d, "plain.xlsx"))
        cls.sup = report(db, cls.MONTH, os.path.join(d, "sup.xlsx"), "--suppress", str(N))

    def test_matrix_follows_its_table(self):
        ws = self.sup["Step-Down"]
        grid = [list(r) for r in ws.iter_rows(values_only=True)]
        top, left = next((i, r.index("from \\ to")) for i, r in enumerate(grid) if "from \\ to" in r)
        head = grid[top]
        to = {head[c]: c for c in range(left + 1, len(head)) if head[c] and head[c] != "transitions"}
        total = head.index("transitions")
        frm = {}
        for i in range(top + 1, len(grid)):
            if not grid[i][left] or grid[i][left] not in to:
                break
            frm[grid[i][left]] = i
        plain = section_rows(self.plain, "Step-Down")
        state, _ = expected_states(plain, PARTS.get("Step-Down", []))
        seen = hidden = 0
        for x, s in zip(plain, state):
            if x.metric != "transition_count" or x.dim != "all" or x.est is None:
                continue
            a, b = x.at.split(">")
            cell, n = grid[frm[a]][to[b]], grid[frm[a]][total]
            self.assertEqual(cell, x.est if s == SHOWN else "suppressed", x.at)
            self.assertEqual(n, "<%d" % N if 1 <= x.n < N else x.n, x.at)
            seen += 1
            hidden += s != SHOWN
        self.assertGreater(seen, 5)
        self.assertGreater(hidden, 0)


if __name__ == "__main__":
    unittest.main()
