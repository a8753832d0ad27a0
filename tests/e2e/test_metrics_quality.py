"""Oracle test of metrics.md section 9 (access and data quality): iopstat
metrics against R on generated extracts (several seeds and sizes, with and
without --by, a leap day), on sample-data/messy (rejected records), plus
hand-checked edge cases on tiny extracts (no population, one client, a
second load run and --run)."""
import os
import tempfile
import unittest

import oracle
from iophelp import BASE, EPISODES, ROOT, SESSIONS, load, run, write_extract

EPISODES_SQL = ("SELECT e.*, c.birth_year, c.sex, c.race, c.ethnicity, c.primary_substance,"
                " c.co_occurring, c.referral_source, c.payer"
                " FROM episodes AS e LEFT JOIN clients AS c USING (client_id)")
SESSIONS_SQL = "SELECT session_id, episode_id, session_date, status FROM sessions"
PHQ9_SQL = "SELECT assessment_id, episode_id, assessed_on FROM assessments WHERE instrument = 'PHQ9'"
CURRENT = "(SELECT max(run_id) FROM load_runs)"
REJECTS_SQL = f"SELECT file FROM rejects WHERE run_id = {CURRENT}"
FILES_SQL = f"SELECT file, records_read FROM load_files WHERE run_id = {CURRENT} ORDER BY file"


def r_figures(db, frm, to, by=None, level="2.1"):
    d = tempfile.mkdtemp()
    files = [oracle.export(db, sql, os.path.join(d, name)) for sql, name in
             ((EPISODES_SQL, "e.csv"), (SESSIONS_SQL, "s.csv"), (PHQ9_SQL, "a.csv"),
              (REJECTS_SQL, "r.csv"), (FILES_SQL, "f.csv"))]
    return oracle.rscript("metrics_quality.R", *files, frm, to, level, *([by] if by else []))


class TestQualityAgainstR(unittest.TestCase):
    CASES = [  # clients, seed, end, from, to, by
        (600, 1, "2026-10-31", "2025-01-01", "2026-06-30", None),
        (600, 1, "2026-10-31", "2025-11-01", "2026-10-31", "program"),
        (150, 7, "2026-10-31", "2025-07-01", "2026-03-31", "sex"),
        (40, 3, "2026-10-31", "2026-01-01", "2026-05-31", "counselor"),   # small groups
        (600, 2, "2026-10-31", "2024-12-31", "2025-12-31", "cohort"),     # year ends
        (300, 5, "2024-12-31", "2024-02-01", "2024-03-31", "payer"),      # leap day
        (300, 5, "2024-12-31", "2024-02-29", "2024-02-29", None),         # one day
        (600, 1, "2026-10-31", "2025-11-01", "2026-10-31", "age_band"),
    ]

    def test_against_r(self):
        for clients, seed, end, frm, to, by in self.CASES:
            with self.subTest(clients=clients, seed=seed, frm=frm, by=by):
                db = oracle.database(clients=clients, seed=seed, end=end)
                rows = oracle.metrics(db, frm, to, *(["--by", by] if by else []))
                figs = r_figures(db, frm, to, by)
                self.assertGreater(oracle.compare(self, rows, figs, by), 40)

    def test_messy(self):
        db = os.path.join(tempfile.mkdtemp(), "messy.db")
        rc, _, err = run("load", os.path.join(ROOT, "sample-data", "messy"), "--db", db,
                         "--extract-date", "2026-10-31")
        self.assertEqual(rc, 0, err)
        rows = oracle.metrics(db, "2025-11-01", "2026-10-31", "--by", "site")
        figs = r_figures(db, "2025-11-01", "2026-10-31", "site")
        self.assertGreater(oracle.compare(self, rows, figs, "site"), 20)
        total = [r for r in rows if r["metric"] == "dq_rejected" and r["at"] == ""][0]
        self.assertEqual((total["n"], round(float(total["estimate"]) * 83)), ("83", 33))


class TestQualityEdges(unittest.TestCase):
    def db_of(self, files):
        db = os.path.join(tempfile.mkdtemp(), "t.db")
        rc, _, err = load(write_extract(files), db)
        self.assertEqual(rc, 0, err)
        return db

    def rows(self, db, frm, to, *extra):
        return {(r["metric"], r["group"], r["at"]): r for r in oracle.metrics(db, frm, to, *extra)}

    def test_no_population(self):
        r = self.rows(self.db_of(BASE), "2025-01-01", "2025-01-31")
        self.assertEqual(r[("dq_sessions_outside_episode", "all", "")]["estimate"], "0")
        for m in ("wait_days_median", "dq_open_over_180d", "dq_discharged_without_session",
                  "dq_overlapping_episodes", "dq_missing_baseline"):
            self.assertEqual((r[(m, "all", "")]["n"], r[(m, "all", "")]["estimate"]), ("0", ""), m)
            self.assertEqual(r[(m, "all", "")]["note"], "no data", m)
        c = r[("dq_completeness", "all", "episodes.site")]
        self.assertEqual((c["n"], c["estimate"]), ("0", ""))

    def test_base_by_hand(self):
        r = self.rows(self.db_of(BASE), "2026-01-01", "2026-05-31")
        # E3 referred 2026-01-25, admitted 2026-02-02: one wait of 8 days.
        w = r[("wait_days_median", "all", "")]
        self.assertEqual((w["n"], w["estimate"], w["lower"], w["upper"]), ("1", "8", "8", "8"))
        self.assertIn("quartiles", w["note"])
        # E2 and E3 active; race of C2 is empty; referral_date only on E3.
        self.assertEqual(r[("dq_completeness", "all", "clients.race")]["estimate"], "0.5")
        self.assertEqual(r[("dq_completeness", "all", "episodes.referral_date")]["estimate"], "0.5")
        self.assertEqual(r[("dq_completeness", "all", "episodes.moud")]["estimate"], "0.5")
        # E3 open on 05-31 for 118 days: not over 180.
        self.assertEqual(r[("dq_open_over_180d", "all", "")]["n"], "1")
        self.assertEqual(r[("dq_open_over_180d", "all", "")]["estimate"], "0")
        self.assertEqual(r[("dq_discharged_without_session", "all", "")]["estimate"], "0")
        self.assertEqual(r[("dq_overlapping_episodes", "all", "")]["estimate"], "0")
        self.assertEqual(r[("dq_missing_baseline", "all", "")]["estimate"], "0")
        s = r[("dq_sessions_outside_episode", "all", "")]
        self.assertEqual((s["n"], s["estimate"]), ("0", "0"))
        # Every file of the one run, nothing rejected.
        self.assertEqual(r[("dq_rejected", "all", "sessions.csv")]["n"], "3")
        self.assertEqual(r[("dq_rejected", "all", "")]["estimate"], "0")

    def test_faults_by_hand(self):
        # E4 (C2) overlaps E3 (open); E2, discharged 2026-02-10, has
        # attended sessions only the day before admission and after
        # discharge, and a no-show on the discharge day (inside).
        files = dict(BASE)
        files["episodes.csv"] = EPISODES + (
            "E1,C1,3.5,2026-01-01,North,Residential,2026-01-20,completed,K1,,none\n"
            "E2,C1,2.1,2026-01-22,North,Adult IOP,2026-02-10,dropped_out,K1,,buprenorphine\n"
            "E3,C2,2.1,2026-02-02,South,Adolescent IOP,,,K2,2026-01-25,\n"
            "E4,C2,1.0,2026-03-01,South,OP,2026-03-15,completed,K2,,\n")
        files["sessions.csv"] = SESSIONS + ("S1,E2,2026-01-21,group,180,attended,T1\n"
                                            "S2,E2,2026-01-23,individual,60,no_show,T1\n"
                                            "S3,E3,2026-02-02,group,180,attended,T2\n"
                                            "S4,E2,2026-02-12,group,180,attended,T1\n"
                                            "S5,E2,2026-02-10,group,180,no_show,T1\n")
        r = self.rows(self.db_of(files), "2026-01-01", "2026-05-31", "--by", "program")
        self.assertEqual(r[("dq_overlapping_episodes", "all", "")]["estimate"], "0.5")   # E3 of E2, E3
        self.assertEqual(r[("dq_discharged_without_session", "all", "")]["estimate"], "1")
        self.assertEqual(r[("dq_missing_baseline", "all", "")]["n"], "1")               # E2, 19 days
        self.assertEqual(r[("dq_missing_baseline", "all", "")]["estimate"], "0")
        s = r[("dq_sessions_outside_episode", "all", "")]                 # S1 before, S4 after
        self.assertEqual((s["n"], s["estimate"]), ("2", "2"))
        self.assertEqual(r[("dq_sessions_outside_episode", "Adolescent IOP", "")]["estimate"], "0")
        self.assertNotIn(("dq_rejected", "Adult IOP", ""), r)

    def test_second_run_and_pin(self):
        db = os.path.join(tempfile.mkdtemp(), "t.db")
        self.assertEqual(load(write_extract(BASE), db)[0], 0)
        files = dict(BASE)
        files["sessions.csv"] = BASE["sessions.csv"] + "S4,E9,2026-02-03,group,180,attended,T2\n"
        self.assertEqual(load(write_extract(files), db)[0], 0)
        now = self.rows(db, "2026-01-01", "2026-05-31")[("dq_rejected", "all", "sessions.csv")]
        self.assertEqual((now["n"], now["estimate"]), ("4", "0.25"))
        old = self.rows(db, "2026-01-01", "2026-05-31", "--run", "1")[("dq_rejected", "all", "sessions.csv")]
        self.assertEqual((old["n"], old["estimate"]), ("3", "0"))


if __name__ == "__main__":
    unittest.main(verbosity=1)
