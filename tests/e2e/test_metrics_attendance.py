"""Oracle test of metrics.md section 5 (attendance and intensity): iopstat
metrics against R (survey::svyratio, prop.test) on generated extracts of
several seeds and sizes, with and without --by, across month, year and
leap-day boundaries; plus hand-checked edge cases on tiny extracts."""
import os
import tempfile
import unittest

import oracle
from iophelp import BASE, CLIENTS, EPISODES, SESSIONS, load, write_extract

EPISODES_SQL = ("SELECT e.episode_id, e.client_id, e.level_of_care, e.admit_date, e.discharge_date,"
                " e.program, e.site, e.counselor_id,"
                " c.birth_year, c.sex, c.race, c.ethnicity, c.primary_substance, c.co_occurring, c.referral_source, c.payer"
                " FROM episodes AS e JOIN clients AS c USING (client_id)")
SESSIONS_SQL = "SELECT session_id, episode_id, session_date, minutes, status FROM sessions"
NAMES = ("attendance_rate", "no_show_rate", "cancel_rate", "weekly_hours_mean",
         "asam_hours_met", "weekly_hours_over_19", "iet_initiation", "iet_engagement",
         "watch_list")


def r_figures(db, frm, to, by=None, level="2.1"):
    d = tempfile.mkdtemp()
    ep = oracle.export(db, EPISODES_SQL, os.path.join(d, "episodes.csv"))
    ss = oracle.export(db, SESSIONS_SQL, os.path.join(d, "sessions.csv"))
    return oracle.rscript("metrics_attendance.R", ep, ss, frm, to, level, *([by] if by else []))


def ours(figs):
    return {k: v for k, v in figs.items() if k[0] in NAMES}


class TestAttendanceAgainstR(unittest.TestCase):
    CASES = [  # clients, seed, end, from, to, by
        (150, 7, "2026-10-31", "2026-01-01", "2026-03-31", None),
        (150, 7, "2026-10-31", "2025-11-01", "2026-04-30", "program"),
        (40, 3, "2026-10-31", "2026-05-01", "2026-05-31", "sex"),          # small groups
        (120, 5, "2024-12-31", "2024-02-01", "2024-03-31", "site"),        # leap day
        (120, 5, "2024-12-31", "2023-12-15", "2024-01-14", "counselor"),   # year boundary
        (300, 2, "2026-10-31", "2026-06-30", "2026-06-30", None),          # one day
        (150, 7, "2026-10-31", "2026-02-01", "2026-04-30", "age_band"),    # derived
        (150, 7, "2026-10-31", "2025-12-01", "2026-01-31", "cohort"),      # dimensions
    ]

    def test_against_r(self):
        for clients, seed, end, frm, to, by in self.CASES:
            with self.subTest(clients=clients, seed=seed, frm=frm, by=by):
                db = oracle.database(clients=clients, seed=seed, end=end)
                rows = oracle.metrics(db, frm, to, *(["--by", by] if by else []))
                figs = ours(r_figures(db, frm, to, by))
                self.assertGreater(oracle.compare(self, rows, figs, by), 20)


def episode(eid, cid, admit, dis="", reason="", moud=""):
    return f"{eid},{cid},2.1,{admit},North,P,{dis},{reason},K1,,{moud}\n"


class TestAttendanceEdges(unittest.TestCase):
    def db(self, files):
        path = os.path.join(tempfile.mkdtemp(), "t.db")
        rc, _, err = load(write_extract(files), path)
        self.assertEqual(rc, 0, err)
        return path

    def rows(self, db, frm, to, *extra):
        return {(r["metric"], r["group"], r["at"]): r for r in oracle.metrics(db, frm, to, *extra)}

    def test_no_population(self):
        r = self.rows(self.db(BASE), "2025-01-01", "2025-01-31")
        for name in NAMES[:8]:
            self.assertEqual(r[(name, "all", "")]["n"], "0", name)
            self.assertEqual(r[(name, "all", "")]["estimate"], "", name)
            self.assertEqual(r[(name, "all", "")]["note"], "no data", name)
        self.assertEqual(r[("watch_list", "all", "")]["n"], "0")

    def test_one_client(self):
        # E2 in February..March 2026 only has S1/S2 in January: a period of
        # January gives 1 attended of 2 eligible from one client (E2; E3 is
        # not admitted yet): estimate, no clustered interval.
        r = self.rows(self.db(BASE), "2026-01-01", "2026-01-31")[("attendance_rate", "all", "")]
        self.assertEqual((r["n"], r["estimate"], r["lower"]), ("2", "0.5", ""))
        self.assertEqual(r["note"], "one client: no clustered interval")

    def test_weeks_by_hand(self):
        # Client X admitted 2024-02-26 (a leap year), discharged 2024-03-11:
        # week 1 = 02-26..03-03 (crosses 02-29), week 2 = 03-04..03-10; the
        # discharge day 03-11 starts week 3, not full. Y (under 18) has a
        # week of 6 h. Period 2024-03-01..2024-03-31: both weeks of X end in it.
        files = {
            "clients.csv": CLIENTS + "X,1980,F,,,opioids,0,self,medicaid\n"
                                     "Y,2010,M,,,alcohol,0,school,private\n",
            "episodes.csv": EPISODES + episode("E1", "X", "2024-02-26", "2024-03-11", "completed")
                                     + episode("E2", "Y", "2024-03-04", "2024-03-10", "dropped_out"),
            "sessions.csv": SESSIONS + "S1,E1,2024-02-26,group,180,attended,T\n"
                                       "S2,E1,2024-02-29,group,180,attended,T\n"
                                       "S3,E1,2024-03-02,group,180,attended,T\n"
                                       "S4,E1,2024-03-05,group,180,no_show,T\n"
                                       "S5,E1,2024-03-11,group,180,attended,T\n"
                                       "S6,E2,2024-03-04,group,360,attended,T\n"
                                       "S7,E2,2024-03-07,group,60,cancelled_program,T\n",
        }
        r = self.rows(self.db(files), "2024-03-01", "2024-03-31")
        hours = r[("weekly_hours_mean", "all", "")]
        self.assertEqual(hours["n"], "3")                       # X: 2 weeks, Y: 1
        self.assertAlmostEqual(float(hours["estimate"]), (9 + 0 + 6) / 3, places=12)
        met = r[("asam_hours_met", "all", "")]
        self.assertAlmostEqual(float(met["estimate"]), 2 / 3, places=12)  # X wk1, Y wk1
        att = r[("attendance_rate", "all", "")]   # S3..S6 (S2 is in February); S7 not eligible
        self.assertEqual(att["n"], "4")
        self.assertAlmostEqual(float(att["estimate"]), 3 / 4, places=12)
        self.assertEqual(r[("watch_list", "all", "")]["n"], "0")   # nobody open

    def test_watch_list_rules(self):
        files = {
            "clients.csv": CLIENTS + "A,1980,F,,,opioids,0,self,medicaid\n"
                                     "B,1980,F,,,opioids,0,self,medicaid\n"
                                     "C,1980,F,,,opioids,0,self,medicaid\n",
            "episodes.csv": EPISODES + episode("E1", "A", "2026-05-20")
                                     + episode("E2", "B", "2026-05-28")
                                     + episode("E3", "C", "2026-05-01"),
            # A: last two (S10 sorts before S9) no_show, the cancelled one
            # skipped; B: admitted 3 days ago, never attended; C: attended
            # on 05-25, within the last 7 days.
            "sessions.csv": SESSIONS + "S1,E1,2026-05-29,group,60,attended,T\n"
                                       "S9,E1,2026-05-30,group,60,no_show,T\n"
                                       "S10,E1,2026-05-30,group,60,no_show,T\n"
                                       "S11,E1,2026-05-31,group,60,cancelled_program,T\n"
                                       "S2,E3,2026-05-25,group,60,attended,T\n"
                                       "S3,E3,2026-05-31,group,60,no_show,T\n",
        }
        r = self.rows(self.db(files), "2026-05-01", "2026-05-31")
        self.assertEqual(r[("watch_list", "all", "")]["n"], "1")   # A only
        r = self.rows(self.db(files), "2026-05-01", "2026-06-01")
        # June 1: C's last attended is 05-25, 7 days before (outside), so C too.
        self.assertEqual(r[("watch_list", "all", "")]["n"], "2")


if __name__ == "__main__":
    unittest.main(verbosity=1)
