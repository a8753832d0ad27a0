"""Oracle test of metrics.md section 6 (measurement-based care): iopstat
metrics against R on generated extracts (several seeds and sizes, with and
without --by, a leap day, an edited instruments table), plus hand-checked
edge cases on tiny extracts (ties by assessment_id, window boundaries, no
population, one episode)."""
import os
import shutil
import sqlite3
import tempfile
import unittest

import oracle
from iophelp import ASSESSMENTS, BASE, load, write_extract

EPISODES_SQL = ("SELECT e.episode_id, e.client_id, e.level_of_care, e.admit_date, e.site, e.program,"
                " e.discharge_date, e.discharge_reason, e.counselor_id,"
                " c.birth_year, c.sex, c.race, c.ethnicity, c.primary_substance, c.co_occurring, c.referral_source, c.payer"
                " FROM episodes AS e LEFT JOIN clients AS c USING (client_id)")
ASSESS_SQL = "SELECT assessment_id, episode_id, assessed_on, instrument, score FROM assessments"
INSTR_SQL = "SELECT * FROM instruments"


def r_figures(db, frm, to, by=None, level="2.1"):
    d = tempfile.mkdtemp()
    files = [oracle.export(db, sql, os.path.join(d, name)) for sql, name in
             ((EPISODES_SQL, "e.csv"), (ASSESS_SQL, "a.csv"), (INSTR_SQL, "i.csv"))]
    return oracle.rscript("metrics_outcomes.R", *files, frm, to, level, *([by] if by else []))


class TestOutcomesAgainstR(unittest.TestCase):
    CASES = [  # clients, seed, end, from, to, by
        (600, 1, "2026-10-31", "2025-01-01", "2026-06-30", None),
        (600, 1, "2026-10-31", "2025-11-01", "2026-10-31", "program"),
        (150, 7, "2026-10-31", "2025-07-01", "2026-03-31", "sex"),
        (40, 3, "2026-10-31", "2026-01-01", "2026-05-31", "counselor"),   # small groups
        (600, 2, "2026-10-31", "2024-12-31", "2025-12-31", "cohort"),     # year ends
        (300, 5, "2024-12-31", "2024-02-01", "2024-03-31", "program"),    # leap day
        (300, 5, "2024-12-31", "2024-02-29", "2024-02-29", None),         # one day
        (600, 1, "2026-10-31", "2025-11-01", "2026-10-31", "age_band"),
        (600, 1, "2026-10-31", "2025-11-01", "2026-10-31", "primary_substance"),
    ]

    def test_against_r(self):
        for clients, seed, end, frm, to, by in self.CASES:
            with self.subTest(clients=clients, seed=seed, frm=frm, by=by):
                db = oracle.database(clients=clients, seed=seed, end=end)
                rows = oracle.metrics(db, frm, to, *(["--by", by] if by else []))
                figs = r_figures(db, frm, to, by)
                self.assertGreater(oracle.compare(self, rows, figs, by), 40)

    def test_edited_instruments(self):
        """A site sets GAD7's norm SD and reliability, and PHQ9's remission
        cut-off is removed: the reliable-change figures of GAD7 appear."""
        src = oracle.database(clients=600, seed=1)
        db = os.path.join(tempfile.mkdtemp(), "edited.db")
        shutil.copy(src, db)
        con = sqlite3.connect(db)
        con.execute("UPDATE instruments SET norm_sd = 4.2, reliability = 0.85 WHERE name = 'GAD7'")
        con.execute("UPDATE instruments SET remission_below = NULL WHERE name = 'PHQ9'")
        con.commit()
        con.close()
        rows = oracle.metrics(db, "2025-01-01", "2026-10-31", "--by", "sex")
        figs = r_figures(db, "2025-01-01", "2026-10-31", "sex")
        self.assertGreater(oracle.compare(self, rows, figs, "sex"), 40)
        got = {(r["metric"], r["group"]): r for r in rows}
        self.assertNotEqual(got[("gad7_reliable_improvement", "all")]["estimate"], "")
        self.assertEqual(got[("phq9_remission", "all")]["estimate"], "")
        self.assertIn("remission", got[("phq9_remission", "all")]["note"])


class TestOutcomesEdges(unittest.TestCase):
    def db_of(self, files):
        db = os.path.join(tempfile.mkdtemp(), "t.db")
        rc, _, err = load(write_extract(files), db)
        self.assertEqual(rc, 0, err)
        return db

    def rows(self, db, frm, to, *extra):
        return {(r["metric"], r["group"]): r for r in oracle.metrics(db, frm, to, *extra)}

    def test_no_population(self):
        r = self.rows(self.db_of(BASE), "2025-01-01", "2025-01-31")
        for m in ("phq9_measured_share", "phq9_change", "phq9_baseline_mean", "phq9_dz",
                  "phq9_response", "audit_change"):
            self.assertEqual((r[(m, "all")]["n"], r[(m, "all")]["estimate"]), ("0", ""), m)
            self.assertNotEqual(r[(m, "all")]["note"], "", m)

    def test_one_episode(self):
        # E2 (IOP, 2026-01-22..2026-03-20): PHQ9 18 -> 7; change -11,
        # RCI = 11 / (5.5 sqrt(0.22)) = 4.26: reliable; response (7 <= 9),
        # no remission (7 >= 5), clinically significant (7 < 10).
        r = self.rows(self.db_of(BASE), "2026-03-01", "2026-03-31")
        self.assertEqual((r[("phq9_measured_share", "all")]["n"],
                          r[("phq9_measured_share", "all")]["estimate"]), ("1", "1"))
        ch = r[("phq9_change", "all")]
        self.assertEqual((ch["n"], ch["estimate"], ch["lower"], ch["p_value"]), ("1", "-11", "", ""))
        self.assertIn("one episode", ch["note"])
        self.assertEqual(r[("phq9_dz", "all")]["estimate"], "")
        for m, want in (("phq9_reliable_improvement", "1"), ("phq9_reliable_deterioration", "0"),
                        ("phq9_reliable_improvement_fixed", "1"), ("phq9_response", "1"),
                        ("phq9_remission", "0"), ("phq9_clinically_significant", "1")):
            self.assertEqual((r[(m, "all")]["n"], r[(m, "all")]["estimate"]), ("1", want), m)
        self.assertEqual(r[("gad7_measured_share", "all")]["estimate"], "0")
        self.assertEqual(r[("gad7_change", "all")]["n"], "0")

    def test_ties_and_windows(self):
        # E2 admitted 2026-01-22, discharged 2026-03-20. Baseline window
        # 2026-01-15..2026-02-05: A0 on 01-14 is too early; on 01-15 "B10"
        # sorts before "B9" (bytes), so the baseline is 20. Last: at least
        # 14 days after 01-15 (01-29 on), not after 03-20: on 03-20 "L9"
        # sorts after "L10", so the last is 8; 03-21 is after discharge.
        files = dict(BASE)
        files["assessments.csv"] = ASSESSMENTS + (
            "A0,E2,2026-01-14,PHQ9,27\nB9,E2,2026-01-15,PHQ9,5\nB10,E2,2026-01-15,PHQ9,20\n"
            "L10,E2,2026-03-20,PHQ9,3\nL9,E2,2026-03-20,PHQ9,8\nLX,E2,2026-03-21,PHQ9,0\n"
            "G1,E2,2026-02-05,GAD7,12\nG2,E2,2026-02-18,GAD7,2\nG3,E2,2026-02-19,GAD7,9\n")
        db = self.db_of(files)
        r = self.rows(db, "2026-03-01", "2026-03-31")
        self.assertEqual(r[("phq9_baseline_mean", "all")]["estimate"], "20")
        self.assertEqual(r[("phq9_last_mean", "all")]["estimate"], "8")
        # GAD7: baseline 02-05 (admit + 14, inside); 02-18 is 13 days
        # later, so the last is 02-19's 9.
        self.assertEqual(r[("gad7_baseline_mean", "all")]["estimate"], "12")
        self.assertEqual(r[("gad7_last_mean", "all")]["estimate"], "9")
        self.assertEqual(r[("gad7_response", "all")]["estimate"], "0")

    def test_short_stay_not_eligible(self):
        # E2 discharged after 13 days is not eligible; after 14 it is.
        for dis, n in (("2026-02-04", "0"), ("2026-02-05", "1")):
            files = dict(BASE)
            files["episodes.csv"] = BASE["episodes.csv"].replace("2026-03-20,completed", dis + ",completed")
            files["assessments.csv"] = ASSESSMENTS + "A1,E2,2026-01-22,PHQ9,18\nA2,E2,2026-02-05,PHQ9,7\n"
            r = self.rows(self.db_of(files), "2026-02-01", "2026-02-28")
            self.assertEqual(r[("phq9_measured_share", "all")]["n"], n, dis)

    def test_group_of_one(self):
        r = self.rows(self.db_of(BASE), "2026-03-01", "2026-03-31", "--by", "program")
        self.assertEqual(r[("phq9_change", "Adult IOP")]["n"], "1")
        self.assertEqual(r[("phq9_change", "Adult IOP")]["estimate"], "-11")
        self.assertEqual(r[("phq9_measured_share", "Adolescent IOP")]["n"], "0")


if __name__ == "__main__":
    unittest.main(verbosity=1)
