"""Oracle test of metrics.md section 3 (completion): iopstat metrics
against R on generated extracts (several seeds and sizes, with and without
--by), plus hand-checked edge cases."""
import os
import tempfile
import unittest

import oracle
from iophelp import BASE, CLIENTS, EPISODES, load, query, write_extract


class TestCompletionAgainstR(unittest.TestCase):
    CASES = [  # clients, seed, from, to, by
        (600, 1, "2025-01-01", "2026-06-30", None),
        (600, 1, "2025-11-01", "2026-10-31", "program"),
        (150, 7, "2026-01-01", "2026-03-31", "sex"),
        (40, 3, "2026-05-01", "2026-05-31", "site"),       # small: Fisher / empty months
        (600, 2, "2024-12-15", "2025-02-10", "counselor"),  # year boundary, partial months
        (600, 1, "2025-11-01", "2026-10-31", "age_band"),   # dimensions derived
        (600, 1, "2025-11-01", "2026-10-31", "cohort"),     # from the admission
        (90, 917, "2026-09-01", "2026-09-30", "payer"),     # every group at 100%: no test
    ]

    def test_against_r(self):
        for clients, seed, frm, to, by in self.CASES:
            with self.subTest(clients=clients, seed=seed, by=by):
                db = oracle.database(clients=clients, seed=seed)
                extra = ["--by", by] if by else []
                rows = oracle.metrics(db, frm, to, *extra)
                facts = oracle.export(db, "SELECT * FROM episode_facts",
                                      os.path.join(tempfile.mkdtemp(), "facts.csv"))
                figs = oracle.rscript("metrics_completion.R", facts, frm, to, "2.1",
                                      *([by] if by else []))
                self.assertGreater(oracle.compare(self, rows, figs, by), 3)


class TestCompletionEdges(unittest.TestCase):
    def setUp(self):
        self.db = os.path.join(tempfile.mkdtemp(), "t.db")
        rc, _, err = load(write_extract(BASE), self.db)
        self.assertEqual(rc, 0, err)

    def rows(self, frm, to, *extra):
        return {(r["metric"], r["group"], r["at"]): r for r in oracle.metrics(self.db, frm, to, *extra)}

    def test_no_discharges_is_no_data(self):
        r = self.rows("2025-01-01", "2025-01-31")
        self.assertEqual(r[("completion_rate", "all", "")]["n"], "0")
        self.assertEqual(r[("completion_rate", "all", "")]["estimate"], "")
        self.assertEqual(r[("completion_rate", "all", "")]["note"], "no data")
        self.assertEqual(r[("completion_trend", "all", "")]["statistic"], "")

    def test_one_discharge(self):
        # E2 (IOP) completed 2026-03-20: 1 of 1, Wilson [0.2065, 1]
        r = self.rows("2026-03-01", "2026-03-31")[("completion_rate", "all", "")]
        self.assertEqual((r["n"], r["estimate"]), ("1", "1"))
        self.assertAlmostEqual(float(r["lower"]), 0.206549314343, places=9)
        self.assertEqual(r["upper"], "1")

    def test_census_counts(self):
        r = self.rows("2026-01-01", "2026-05-31")
        self.assertEqual(r[("admissions", "all", "")]["n"], "2")        # E2, E3
        self.assertEqual(r[("discharges_completed", "all", "")]["n"], "1")
        self.assertEqual(r[("active_census", "all", "")]["n"], "1")     # E3 open
        # E2 2026-01-22..2026-03-19 (57 days) + E3 2026-02-02..2026-05-31 (119 days)
        self.assertEqual(r[("client_days", "all", "")]["n"], str(57 + 119))
        self.assertEqual(r[("continuing_clients", "all", "")]["n"], "1")  # E2 after E1
        self.assertEqual(r[("new_clients", "all", "")]["n"], "1")         # E3


class TestAdmissionKinds(unittest.TestCase):
    def test_latest_earlier_episode_in_the_client_order(self):
        """new / returning / continuing read the client's latest earlier
        episode in the order admit date, more intensive first, episode_id,
        at any level: the ties are what the order decides."""
        files = {
            "clients.csv": CLIENTS + "".join(f"{c},1980,F,,,opioids,0,self,medicaid\n"
                                             for c in "XYZ"),
            # X: residential ended 22 days before the IOP admission: returning.
            # Y: residential and IOP on the same day: the IOP comes after the
            #    (more intensive) residential, which is open: continuing.
            # Z: two IOP admissions on one day: Z1 (first by episode_id) is
            #    new, Z2 follows the open Z1: continuing.
            "episodes.csv": EPISODES + "X1,X,3.5,2026-01-01,North,P,2026-01-10,completed,K1,,\n"
                                       "X2,X,2.1,2026-02-01,North,P,,,K1,,\n"
                                       "Y2,Y,2.1,2026-03-01,North,P,,,K1,,\n"
                                       "Y1,Y,3.5,2026-03-01,North,P,2026-03-20,completed,K1,,\n"
                                       "Z2,Z,2.1,2026-03-05,North,P,,,K1,,\n"
                                       "Z1,Z,2.1,2026-03-05,North,P,,,K1,,\n",
        }
        db = os.path.join(tempfile.mkdtemp(), "t.db")
        rc, _, err = load(write_extract(files), db)
        self.assertEqual(rc, 0, err)
        r = {(m["metric"], m["group"]): m["n"] for m in
             oracle.metrics(db, "2026-02-01", "2026-03-31", "--by", "program")}
        self.assertEqual(r[("admissions", "all")], "4")
        self.assertEqual(r[("new_clients", "all")], "1")          # Z1
        self.assertEqual(r[("returning_clients", "all")], "1")    # X2
        self.assertEqual(r[("continuing_clients", "all")], "2")   # Y2, Z2
        self.assertEqual(r[("new_clients", "P")], "1")
        self.assertEqual(r[("continuing_clients", "P")], "2")
        # The residential level: Y1 follows nothing (Y2 comes after it).
        r = {m["metric"]: m["n"] for m in
             oracle.metrics(db, "2026-03-01", "2026-03-31", "--level", "3.5")}
        self.assertEqual((r["admissions"], r["new_clients"]), ("1", "1"))


if __name__ == "__main__":
    unittest.main(verbosity=1)
