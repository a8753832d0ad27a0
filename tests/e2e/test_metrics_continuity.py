"""Oracle test of metrics.md section 4 (step-down and continuity of care):
iopstat metrics against R on generated extracts (several seeds and sizes,
with and without --by, year ends and the leap day 2024-02-29), plus
hand-checked edge cases on tiny extracts (same-day transfer, WM to IOP, an
open episode, a transition across a year end, no population, a group of
one, ties on the admit date)."""
import os
import tempfile
import unittest

import oracle
from iophelp import CLIENTS, EPISODES, BASE, load, query, write_extract

EPISODES_SQL = ("SELECT e.*, c.birth_year, c.sex, c.race, c.ethnicity, c.primary_substance,"
                " c.co_occurring, c.referral_source, c.payer"
                " FROM episodes AS e LEFT JOIN clients AS c ON c.client_id = e.client_id")


def r_figures(db, frm, to, level="2.1", by=None):
    d = tempfile.mkdtemp()
    eps = oracle.export(db, EPISODES_SQL, os.path.join(d, "episodes.csv"))
    lv = oracle.export(db, "SELECT * FROM levels", os.path.join(d, "levels.csv"))
    w = query(db, "SELECT value FROM settings WHERE key = 'continuity_window_days'")[0][0]
    return oracle.rscript("metrics_continuity.R", eps, lv, frm, to, level, w,
                          *([by] if by else []))


class TestContinuityAgainstR(unittest.TestCase):
    CASES = [  # clients, seed, end, from, to, level, by
        (600, 1, "2026-10-31", "2025-01-01", "2026-06-30", "2.1", None),
        (600, 1, "2026-10-31", "2025-11-01", "2026-10-31", "2.1", "program"),
        (300, 5, "2024-12-31", "2024-02-01", "2024-03-31", "2.1", "sex"),      # leap day
        (300, 5, "2024-12-31", "2023-12-01", "2024-12-31", "2.5", "site"),     # year end
        (150, 7, "2026-10-31", "2026-01-01", "2026-03-31", "2.1", "cohort"),
        (40, 3, "2026-10-31", "2026-05-01", "2026-05-31", "2.1", "counselor"),  # small
        (900, 2, "2025-06-30", "2024-12-15", "2025-02-10", "3.5", "payer"),
        # no withdrawal-management level: every code looks like a number
        # ("1.0"), which R's read.csv would have made 1
        (15, 436, "2024-12-31", "2024-04-12", "2024-12-31", "2.1", "site"),
        (600, 1, "2026-10-31", "2025-11-01", "2026-10-31", "2.1", "age_band"),
    ]

    def test_against_r(self):
        for clients, seed, end, frm, to, level, by in self.CASES:
            with self.subTest(clients=clients, seed=seed, frm=frm, by=by):
                db = oracle.database(clients=clients, seed=seed, end=end)
                extra = (["--by", by] if by else []) + ["--level", level]
                rows = oracle.metrics(db, frm, to, *extra)
                figs = r_figures(db, frm, to, level, by)
                self.assertGreater(oracle.compare(self, rows, figs, by), 20)


def extract(episodes, clients=None):
    files = dict(BASE)
    files["clients.csv"] = CLIENTS + (clients or
                                      "C1,1980,F,White,Not Hispanic,opioids,1,court,medicaid\n"
                                      "C2,1990,M,,,alcohol,0,school,private\n"
                                      "C3,1975,F,,,alcohol,0,self,medicaid\n")
    files["episodes.csv"] = EPISODES + episodes
    for name in ("sessions.csv", "assessments.csv", "drug_screens.csv", "followups.csv"):
        files[name] = files[name].split("\n", 1)[0] + "\n"
    return write_extract(files)


# C1: 3.7-WM -> 3.5 same day -> 2.1 across the year end (gap 3) -> 1.0 (gap 20)
# C2: 3.2-WM -> 2.1 (gap 5), 2.1 open at the end
# C3: 3.5 and 2.1 admitted on the same day (3.5 first: more intensive);
#     3.5 then ends and 2.1 continues; a completed 2.1 later readmitted to 3.5
EDGE = ("X1,C1,3.7-WM,2025-12-01,N,WM,2025-12-06,transferred,K1,,\n"
        "X2,C1,3.5,2025-12-06,N,Res,2025-12-29,completed,K1,,\n"
        "X3,C1,2.1,2026-01-01,N,Adult IOP,2026-02-15,completed,K1,,\n"
        "X4,C1,1.0,2026-03-07,N,OP,2026-04-01,completed,K1,,\n"
        "Y1,C2,3.2-WM,2026-01-10,S,WM,2026-01-15,completed,K2,,\n"
        "Y2,C2,2.1,2026-01-20,S,Adult IOP,,,K2,,\n"
        "Z1,C3,2.1,2026-01-05,S,Adult IOP,2026-02-01,completed,K3,,\n"
        "Z0,C3,3.5,2026-01-05,S,Res,2026-01-06,transferred,K3,,\n"
        "Z2,C3,3.5,2026-02-20,S,Res,2026-03-01,completed,K3,,\n")


class TestContinuityEdges(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = os.path.join(tempfile.mkdtemp(), "t.db")
        rc, _, err = load(extract(EDGE), cls.db)
        assert rc == 0, err

    def rows(self, frm, to, *extra):
        return {(r["metric"], r["group"], r["at"]): r
                for r in oracle.metrics(self.db, frm, to, *extra)}

    def test_matches_r(self):
        for frm, to, by in [("2025-11-01", "2026-05-31", None), ("2025-11-01", "2026-05-31", "site"),
                            ("2026-01-01", "2026-03-31", "counselor"), ("2024-01-01", "2024-12-31", None)]:
            with self.subTest(frm=frm, by=by):
                rows = oracle.metrics(self.db, frm, to, *(["--by", by] if by else []))
                self.assertGreater(oracle.compare(self, rows, r_figures(self.db, frm, to, by=by), by), 10)

    def test_transitions_by_hand(self):
        r = self.rows("2025-11-01", "2026-05-31")
        # index discharges 2025-10-18 .. 2026-05-17: X1>3.5 (gap 0), X2>2.1 (gap 3,
        # across the year end), Y1>2.1 (gap 5), Z0>2.1 (same day, 2.1 after 3.5),
        # Z1>3.5 (gap 19 > 14: none); X3>1.0 gap 20: none
        self.assertEqual((r[("transition_count", "all", "3.7-WM>3.5")]["n"],
                          r[("transition_count", "all", "3.7-WM>3.5")]["estimate"]), ("1", "1"))
        self.assertEqual(r[("transition_count", "all", "3.5>2.1")]["n"], "2")
        self.assertEqual(r[("transition_count", "all", "3.2-WM>2.1")]["n"], "1")
        self.assertNotIn(("transition_count", "all", "2.1>1.0"), r)
        d = r[("days_to_next_level_median", "all", "")]
        self.assertEqual((d["n"], d["estimate"], d["lower"], d["upper"]), ("4", "1.5", "0", "3.5"))
        self.assertEqual(d["note"], "lower/upper are quartiles, not a CI")

    def test_iop_flows_by_hand(self):
        r = self.rows("2025-11-01", "2026-05-31")
        # IOP admissions X3 (prev X2, 3.5), Y2 (prev Y1, WM), Z1 (prev Z0 3.5,
        # same day: Z0 is first in the order)
        self.assertEqual((r[("iop_admit_stepdown", "all", "")]["n"],
                          r[("iop_admit_stepdown", "all", "")]["estimate"]), ("3", "1"))
        # IOP discharges X3 (next X4 after 20 days: none), Z1 (next Z2 after 19: none)
        no = r[("iop_discharge_no_continuing_care", "all", "")]
        self.assertEqual((no["n"], no["estimate"]), ("2", "1"))
        self.assertEqual(r[("iop_discharge_stepup", "all", "")]["estimate"], "0")

    def test_continuity_windows(self):
        r = self.rows("2025-11-01", "2026-05-31")
        # 3.x/WM discharges: X1 (WM, next 3.5 non-WM, gap 0), X2 (3.5 -> 2.1, 3),
        # Y1 (WM -> 2.1, 5), Z0 (3.5 -> 2.1, 0), Z2 (3.5, no next)
        for x in (7, 14, 30):
            c = r[(f"continuity_{x}d", "all", "")]
            self.assertEqual((c["n"], c["estimate"]), ("5", "0.8"), x)
        # a short period: index discharges 2026-01-08 .. 2026-01-24 for 7 days
        c = self.rows("2026-01-15", "2026-01-31")[("continuity_7d", "all", "")]
        self.assertEqual((c["n"], c["estimate"]), ("1", "1"))   # Y1 only

    def test_readmission(self):
        r = self.rows("2026-01-01", "2026-12-31")
        # completed IOP discharged 2025-12-02 .. 2026-12-01 (30d): X3, Z1; Z1 is
        # followed by 3.5 after 19 days; X3 by 1.0 only (less intensive)
        a = r[("readmit_30d", "all", "")]
        self.assertEqual((a["n"], a["estimate"]), ("2", "0.5"))

    def test_open_episode_has_no_next(self):
        # IOP discharges 2026-02-15 .. 2026-05-17: X3 only; Y2 is open
        r = self.rows("2026-03-01", "2026-05-31")
        self.assertEqual(r[("iop_discharge_stepdown", "all", "")]["n"], "1")
        self.assertEqual(r[("iop_discharge_no_continuing_care", "all", "")]["estimate"], "1")

    def test_no_population(self):
        r = self.rows("2020-01-01", "2020-01-31")
        for m in ("iop_admit_stepdown", "iop_discharge_stepdown", "continuity_14d",
                  "readmit_90d", "days_to_next_level_median", "transition_count"):
            self.assertEqual((r[(m, "all", "")]["n"], r[(m, "all", "")]["estimate"]), ("0", ""), m)
            self.assertNotEqual(r[(m, "all", "")]["note"], "", m)

    def test_group_of_one(self):
        r = self.rows("2025-11-01", "2026-05-31", "--by", "counselor")
        a = r[("iop_admit_stepdown", "K2", "")]
        self.assertEqual((a["dimension"], a["n"], a["estimate"]), ("counselor", "1", "1"))
        self.assertAlmostEqual(float(a["lower"]), 0.206549314343, places=9)


class TestContinuityWindowSetting(unittest.TestCase):
    def test_window_from_settings(self):
        db = os.path.join(tempfile.mkdtemp(), "t.db")
        rc, _, err = load(extract(EDGE), db)
        self.assertEqual(rc, 0, err)
        query_w = "UPDATE settings SET value = '21' WHERE key = 'continuity_window_days'"
        import sqlite3
        con = sqlite3.connect(db)
        con.execute(query_w)
        con.commit()
        con.close()
        rows = oracle.metrics(db, "2025-11-01", "2026-05-31")
        self.assertGreater(oracle.compare(self, rows, r_figures(db, "2025-11-01", "2026-05-31")), 10)
        r = {(x["metric"], x["at"]): x for x in rows}
        self.assertIn(("transition_count", "2.1>1.0"), r)     # X3 -> X4, gap 20 <= 21

    def test_missing_or_bad_window_means_fourteen(self):
        """No settings row, or a value that is not a whole number of days:
        the metrics and the views both use W = 14. (The view episode_facts
        and transitions were empty without the row.)"""
        import shutil
        import sqlite3
        base = os.path.join(tempfile.mkdtemp(), "t.db")
        rc, _, err = load(extract(EDGE), base)
        self.assertEqual(rc, 0, err)
        def views(db):
            return (query(db, "SELECT count(*), count(next_episode_id), count(prev_episode_id)"
                              " FROM episode_facts"),
                    query(db, "SELECT count(*) FROM transitions"))
        want_rows = oracle.metrics(base, "2025-11-01", "2026-05-31")
        want_view = views(base)
        self.assertEqual(want_view[0][0][0], 9)        # every episode of EDGE
        self.assertGreater(want_view[0][0][1], 0)      # with links under W = 14
        self.assertGreater(want_view[1][0][0], 0)
        for change in ("DELETE FROM settings WHERE key = 'continuity_window_days'",
                       "UPDATE settings SET value = 'two weeks' WHERE key = 'continuity_window_days'",
                       "UPDATE settings SET value = '-3' WHERE key = 'continuity_window_days'"):
            with self.subTest(change=change):
                db = os.path.join(tempfile.mkdtemp(), "t.db")
                shutil.copy(base, db)
                con = sqlite3.connect(db)
                con.execute(change)
                con.commit()
                con.close()
                self.assertEqual(views(db), want_view)
                self.assertEqual(oracle.metrics(db, "2025-11-01", "2026-05-31"), want_rows)

    def test_window_longer_than_ninety_days(self):
        """A window over 90 days: a call reads the links of the discharges
        from `from` less the window, further back than readmit_90d needs."""
        import shutil
        import sqlite3
        db = os.path.join(tempfile.mkdtemp(), "t.db")
        shutil.copy(oracle.database(clients=300, seed=4), db)
        con = sqlite3.connect(db)
        con.execute("UPDATE settings SET value = '150' WHERE key = 'continuity_window_days'")
        con.commit()
        con.close()
        for frm, to, by in [("2026-07-01", "2026-07-31", None),
                            ("2026-05-10", "2026-09-20", "program")]:
            with self.subTest(frm=frm, by=by):
                rows = oracle.metrics(db, frm, to, *(["--by", by] if by else []))
                figs = r_figures(db, frm, to, by=by)
                self.assertGreater(oracle.compare(self, rows, figs, by), 10)
                # the next-episode figures read discharges in [from - 150,
                # to - 150]: none of them is in reach of a 90-day lookback
                r = {(x["metric"], x["group"], x["at"]): x for x in rows}
                self.assertGreater(int(r[("days_to_next_level_median", "all", "")]["n"]), 10)


if __name__ == "__main__":
    unittest.main(verbosity=1)
