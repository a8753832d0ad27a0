"""Oracle test of metrics.md sections 7 (drug screens) and 8 (after
discharge): iopstat metrics against R (survey::svyratio, prop.test,
t.test) on generated extracts of several seeds and sizes, with and without
--by, across month, year and leap-day boundaries; plus hand-checked edge
cases on tiny extracts."""
import os
import tempfile
import unittest

import oracle
from iophelp import BASE, load, write_extract

EPISODES_SQL = ("SELECT e.episode_id, e.client_id, e.level_of_care, e.admit_date, e.discharge_date,"
                " e.moud, e.program, e.site, e.counselor_id,"
                " c.birth_year, c.sex, c.race, c.ethnicity, c.primary_substance, c.co_occurring, c.referral_source, c.payer"
                " FROM episodes AS e JOIN clients AS c USING (client_id)")
SCREENS_SQL = "SELECT screen_id, episode_id, collected_on, result, substances FROM drug_screens"
FOLLOWUPS_SQL = "SELECT * FROM followups"
PREFIXES = ("uds_", "followup_", "abstinent_", "employed_", "housed_", "satisfaction_")


def r_figures(db, frm, to, by=None, level="2.1"):
    d = tempfile.mkdtemp()
    ep = oracle.export(db, EPISODES_SQL, os.path.join(d, "episodes.csv"))
    sc = oracle.export(db, SCREENS_SQL, os.path.join(d, "screens.csv"))
    fu = oracle.export(db, FOLLOWUPS_SQL, os.path.join(d, "followups.csv"))
    figs = oracle.rscript("metrics_screens.R", ep, sc, fu, frm, to, level, *([by] if by else []))
    return {k: v for k, v in figs.items() if k[0].startswith(PREFIXES)}


class TestScreensAgainstR(unittest.TestCase):
    CASES = [  # clients, seed, end, from, to, by
        (600, 1, "2026-10-31", "2025-07-01", "2026-06-30", None),
        (150, 7, "2026-10-31", "2025-11-01", "2026-04-30", "program"),
        (40, 3, "2026-10-31", "2026-05-01", "2026-05-31", "sex"),          # small groups
        (120, 5, "2024-12-31", "2024-02-01", "2024-03-31", "site"),        # leap day
        (120, 5, "2024-12-31", "2023-12-15", "2024-01-14", "counselor"),   # year boundary
        (300, 2, "2026-10-31", "2026-06-30", "2026-06-30", None),          # one day
        (150, 7, "2026-10-31", "2025-11-01", "2026-04-30", "age_band"),
        (600, 1, "2026-10-31", "2026-01-01", "2026-06-30", "race"),
    ]

    def test_against_r(self):
        for clients, seed, end, frm, to, by in self.CASES:
            with self.subTest(clients=clients, seed=seed, frm=frm, by=by):
                db = oracle.database(clients=clients, seed=seed, end=end)
                rows = oracle.metrics(db, frm, to, *(["--by", by] if by else []))
                self.assertGreater(oracle.compare(self, rows, r_figures(db, frm, to, by), by), 30)


class TestScreensEdges(unittest.TestCase):
    def db(self, files):
        path = os.path.join(tempfile.mkdtemp(), "t.db")
        rc, _, err = load(write_extract(files), path)
        self.assertEqual(rc, 0, err)
        return path

    def rows(self, db, frm, to, *extra):
        return {(r["metric"], r["group"], r["at"]): r for r in oracle.metrics(db, frm, to, *extra)}

    def test_no_population(self):
        r = self.rows(self.db(BASE), "2025-01-01", "2025-01-31")
        for key in [("uds_negative", "all", ""), ("uds_negative", "all", "12"),
                    ("followup_reach_30d", "all", ""), ("abstinent_90d", "all", ""),
                    ("satisfaction_mean", "all", "30d"), ("satisfaction_at_discharge", "all", "")]:
            self.assertEqual((r[key]["n"], r[key]["estimate"], r[key]["note"]), ("0", "", "no data"), key)

    def test_moud_covers_opioids_only(self):
        # E2 (buprenorphine): D1 positive for opioids and stimulants is not
        # covered; D2 negative. One client: estimate, no interval.
        r = self.rows(self.db(BASE), "2026-01-22", "2026-02-28")
        u = r[("uds_negative", "all", "")]
        self.assertEqual((u["n"], u["estimate"], u["lower"]), ("2", "0.5", ""))
        self.assertEqual(u["note"], "one client: no clustered interval")
        self.assertEqual(r[("uds_negative", "all", "2")]["estimate"], "0")   # D1: day 7, week 2
        self.assertEqual(r[("uds_negative", "all", "3")]["estimate"], "1")   # D2: day 14, week 3
        files = dict(BASE)
        files["drug_screens.csv"] = BASE["drug_screens.csv"].replace("opioids;stimulants", "opioids")
        r = self.rows(self.db(files), "2026-01-22", "2026-02-28")
        self.assertEqual(r[("uds_negative", "all", "")]["estimate"], "1")

    def test_followup_window_and_first_contact(self):
        # E2 discharged 2026-03-20; F1 on 04-20 is day 31 (30-day window).
        # A period ending 04-26 closes windows of discharges up to 03-20.
        r = self.rows(self.db(BASE), "2026-04-01", "2026-04-26")
        self.assertEqual((r[("followup_reach_30d", "all", "")]["n"],
                          r[("followup_reach_30d", "all", "")]["estimate"]), ("1", "1"))
        self.assertEqual(r[("abstinent_30d", "all", "")]["estimate"], "1")
        s = r[("satisfaction_mean", "all", "30d")]
        self.assertEqual((s["n"], s["estimate"], s["lower"], s["note"]),
                         ("1", "5", "", "one rating: no interval"))
        # A period ending 04-25 leaves E2's window open: no discharge counts.
        r = self.rows(self.db(BASE), "2026-04-01", "2026-04-25")
        self.assertEqual(r[("followup_reach_30d", "all", "")]["n"], "0")

    def test_unreached_first_then_reached(self):
        files = dict(BASE)
        files["followups.csv"] = BASE["followups.csv"] + "F0,E2,2026-04-14,0,,,,\nF2,E2,2026-04-25,1,0,0,0,2\n"
        r = self.rows(self.db(files), "2026-04-01", "2026-04-26")
        # F0 (day 25) not reached; F1 (day 31) is the first reached, F2 later.
        self.assertEqual(r[("abstinent_30d", "all", "")]["estimate"], "1")
        self.assertEqual(r[("satisfaction_mean", "all", "30d")]["estimate"], "5")


if __name__ == "__main__":
    unittest.main(verbosity=1)
