"""Oracle test of metrics.md section 2 (retention): iopstat metrics against
R (tests/oracle/metrics_retention.R, which re-derives the admission cohort
from the base tables episodes and clients) on generated extracts of
several seeds and sizes, with and without --by, across a year end and the
leap day 2024-02-29; plus hand-checked edge cases on tiny extracts."""
import os
import tempfile
import unittest

import oracle
from iophelp import BASE, CLIENTS, EPISODES, load, write_extract

EXPORT = ("SELECT e.episode_id, e.client_id, e.level_of_care, e.admit_date, e.discharge_date,"
          " e.discharge_reason, e.program, e.site, e.counselor_id, c.birth_year, c.sex, c.race,"
          " c.ethnicity, c.co_occurring, c.primary_substance, c.referral_source, c.payer"
          " FROM episodes AS e JOIN clients AS c USING (client_id)")

RETENTION = ("alos_discharged", "in_treatment_", "los_", "km_curve", "cif_", "retained_",
             "logrank", "cox_hr")


def against_r(test, db, frm, to, by=None):
    """Compares every R figure with iopstat's; returns how many."""
    rows = oracle.metrics(db, frm, to, *(["--by", by] if by else []))
    rows = [r for r in rows if r["metric"].startswith(RETENTION)]
    eps = oracle.export(db, EXPORT, os.path.join(tempfile.mkdtemp(), "episodes.csv"))
    figs = oracle.rscript("metrics_retention.R", eps, frm, to, "2.1", *([by] if by else []))
    return oracle.compare(test, rows, figs, by)


class TestRetentionAgainstR(unittest.TestCase):
    CASES = [  # clients, seed, end, from, to, by
        (600, 1, "2026-10-31", "2025-01-01", "2026-06-30", None),
        (600, 1, "2026-10-31", "2025-11-01", "2026-10-31", "program"),
        (150, 7, "2026-10-31", "2026-01-01", "2026-03-31", "sex"),
        (40, 3, "2026-10-31", "2026-05-01", "2026-05-31", "age_band"),      # small
        (600, 2, "2026-10-31", "2024-12-15", "2025-02-10", "counselor"),    # year end
        (300, 5, "2024-12-31", "2024-02-01", "2024-03-31", "co_occurring"),  # leap day
        (300, 5, "2024-12-31", "2024-01-01", "2024-12-31", "referral_source"),
        (1500, 11, "2026-10-31", "2025-07-01", "2026-06-30", "cohort"),
        # one ethnicity in the cohort: no log-rank test (R's survdiff refuses)
        (90, 357, "2024-12-31", "2024-11-25", "2024-12-31", "ethnicity"),
    ]

    def test_against_r(self):
        for clients, seed, end, frm, to, by in self.CASES:
            with self.subTest(clients=clients, seed=seed, frm=frm, by=by):
                db = oracle.database(clients=clients, seed=seed, end=end)
                self.assertGreater(against_r(self, db, frm, to, by), 50)

    def test_cox_is_compared(self):
        db = oracle.database(clients=600, seed=1)
        rows = oracle.metrics(db, "2025-01-01", "2026-06-30")
        cox = [r for r in rows if r["metric"] == "cox_hr"]
        self.assertEqual({r["dimension"] for r in cox}, {"program", "counselor"})
        self.assertTrue(any(r["estimate"] for r in cox))
        self.assertTrue(all("reference '" in r["note"] for r in cox))


# Episodes at IOP around the leap day with tied times, same-day stays and
# every outcome: R checks them too.
TIES = {
    "clients.csv": CLIENTS + "".join(
        f"T{i},{1960 + 3 * i},{'F' if i % 2 else 'M'},,,{'alcohol' if i % 3 else 'opioids'},"
        f"{i % 2},{'court' if i % 4 else ''},medicaid\n" for i in range(1, 13)),
    "episodes.csv": EPISODES + "".join(
        f"X{i},T{(i % 12) + 1},2.1,{adm},North,{prog},{dis},{why},K{i % 3},,\n"
        for i, (adm, dis, why, prog) in enumerate([
            ("2024-02-01", "2024-02-29", "completed", "A"),
            ("2024-02-01", "2024-02-29", "dropped_out", "A"),
            ("2024-02-01", "2024-02-29", "terminated", "B"),
            ("2024-02-10", "2024-03-09", "completed", "B"),
            ("2024-02-28", "2024-02-28", "transferred", "A"),
            ("2024-02-29", "2024-02-29", "dropped_out", "B"),
            ("2024-02-29", "2024-04-02", "death", "A"),
            ("2024-03-01", "", "", "B"),
            ("2024-03-01", "2024-05-30", "completed", "A"),
            ("2024-03-02", "2024-04-01", "dropped_out", "A"),
            ("2024-03-15", "2024-04-14", "dropped_out", "B"),
            ("2024-03-31", "", "", "A"),
            ("2024-02-15", "2024-03-16", "incarcerated", "B"),
            ("2024-02-20", "2024-03-21", "dropped_out", "A"),
        ])),
}


class TestRetentionEdges(unittest.TestCase):
    def db(self, files, extract_date="2026-05-31"):
        path = os.path.join(tempfile.mkdtemp(), "t.db")
        rc, _, err = load(write_extract(files), path)
        self.assertEqual(rc, 0, err)
        return path

    def rows(self, db, frm, to, *extra):
        return {(r["metric"], r["dimension"], r["group"], r["at"]): r
                for r in oracle.metrics(db, frm, to, *extra)}

    def test_no_population(self):
        r = self.rows(self.db(BASE), "2025-01-01", "2025-01-31", "--by", "sex")
        for m in ("alos_discharged", "in_treatment_d30", "los_median", "los_rmean_365",
                  "cif_dropout_d90", "retained_d30"):
            self.assertEqual(r[(m, "all", "all", "")]["n"], "0", m)
            self.assertEqual(r[(m, "all", "all", "")]["estimate"], "", m)
            self.assertNotEqual(r[(m, "all", "all", "")]["note"], "", m)
        self.assertEqual(r[("logrank", "sex", "all", "")]["statistic"], "")
        self.assertEqual(r[("cox_hr", "program", "all", "")]["note"], "no admissions in the period")
        self.assertFalse([k for k in r if k[0] == "km_curve"])

    def test_median_with_one_confidence_limit(self):
        """Stays of 10 and 25 days (discharged) and two still open at day 40:
        the median is 25; its lower band reaches 0.5, the upper never does.
        R prints 25 (10, NA); so does iopstat (it left both limits empty)."""
        files = dict(BASE)
        files["clients.csv"] = CLIENTS + "".join(
            "M%d,1980,F,,,opioids,0,self,medicaid\n" % i for i in range(4))
        files["episodes.csv"] = EPISODES + (
            "M0E,M0,2.1,2026-01-01,North,P,2026-01-11,completed,K1,,\n"
            "M1E,M1,2.1,2026-01-01,North,P,2026-01-26,dropped_out,K1,,\n"
            "M2E,M2,2.1,2026-01-01,North,P,,,K1,,\n"
            "M3E,M3,2.1,2026-01-01,North,P,,,K1,,\n")
        for name in ("sessions.csv", "assessments.csv", "drug_screens.csv", "followups.csv"):
            files[name] = files[name].split("\n", 1)[0] + "\n"
        db = self.db(files)
        m = self.rows(db, "2026-01-01", "2026-02-10")[("los_median", "all", "all", "")]
        self.assertEqual((m["estimate"], m["lower"], m["upper"], m["note"]),
                         ("25", "10", "", "a confidence limit is not reached"))
        self.assertGreater(against_r(self, db, "2026-01-01", "2026-02-10"), 10)

    def test_cox_singular_during_iterations(self):
        """Eight IOP admissions on 2026-03-02 (the 7-row Cox case of
        test_stats.c, plus K2's same-day stay, censored before every
        dropout: aliased at the start). The counselor model then turns
        singular during its iterations (R: 'Ran out of iterations', NA).
        Every counselor's row says so, with no figures: they once showed
        hazard ratios, CIs, z and p of 0."""
        stays = [(1, 0, "K1", "M"), (6, 1, "K0", "M"), (8, 1, "K1", "F"), (2, 1, "K4", "M"),
                 (6, 1, "K5", "F"), (1, 1, "K3", "M"), (1, 0, "K0", "F"), (0, 0, "K2", "F")]
        files = {name: text.split("\n", 1)[0] + "\n" for name, text in BASE.items()}
        files["clients.csv"] = CLIENTS + "".join(
            f"Z{i},1980,{sex},,,opioids,0,self,medicaid\n" for i, (_, _, _, sex) in enumerate(stays))
        files["episodes.csv"] = EPISODES + "".join(
            f"Z{i}E,Z{i},2.1,2026-03-02,North,P,2026-03-{2 + days:02d},"
            f"{'dropped_out' if dropout else 'completed'},{k},,\n"
            for i, (days, dropout, k, _) in enumerate(stays))
        db = self.db(files)
        r = self.rows(db, "2026-03-01", "2026-03-31", "--by", "counselor")
        for k in ("K1", "K3", "K4", "K5"):
            row = r[("cox_hr", "counselor", k, "")]
            self.assertEqual([row[f] for f in ("estimate", "lower", "upper", "statistic",
                                               "p_value")], [""] * 5, k)
            self.assertEqual(row["note"], "model not estimable: information matrix not "
                                          "positive definite; reference 'K0'")
        self.assertEqual(r[("cox_hr", "counselor", "K2", "")]["note"],
                         "no dropout in this counselor: not estimable; reference 'K0'")
        self.assertGreater(against_r(self, db, "2026-03-01", "2026-03-31", "counselor"), 50)

    def test_base_by_hand(self):
        # E2 2026-01-22 -> 2026-03-20 completed (57 days); E3 2026-02-02 open
        # to 2026-05-31 (118 days): S = 1 to day 56, 0.5 from day 57.
        db = self.db(BASE)
        r = self.rows(db, "2026-01-01", "2026-05-31", "--by", "sex")
        d30 = r[("in_treatment_d30", "all", "all", "")]
        self.assertEqual((d30["n"], d30["estimate"], d30["lower"], d30["upper"]), ("2", "1", "1", "1"))
        self.assertEqual(r[("in_treatment_d90", "all", "all", "")]["estimate"], "0.5")
        self.assertEqual(r[("km_curve", "all", "all", "57")]["estimate"], "0.5")
        self.assertEqual(r[("cif_completed_d90", "all", "all", "")]["estimate"], "0.5")
        ret = r[("retained_d90", "all", "all", "")]
        self.assertEqual((ret["estimate"], ret["lower"], ret["upper"]), ("1", "1", "1"))
        # a group of one: F is E2 alone, M is E3 alone (all censored)
        self.assertEqual(r[("km_curve", "sex", "F", "57")]["estimate"], "0")
        self.assertEqual(r[("in_treatment_d60", "sex", "F", "")]["note"], "insufficient follow-up")
        m = r[("in_treatment_d90", "sex", "M", "")]
        self.assertEqual((m["n"], m["estimate"]), ("1", "1"))
        self.assertEqual(r[("los_median", "sex", "M", "")]["note"],
                         "median not reached: more than half still in treatment")
        self.assertEqual(r[("alos_discharged", "all", "all", "")]["estimate"], "57")
        # no dropout at all: the Cox rows say so
        cox = r[("cox_hr", "program", "Adult IOP", "")]
        self.assertEqual(cox["estimate"], "")
        self.assertIn("no dropout", cox["note"])
        self.assertIn("reference 'Adolescent IOP'", cox["note"])
        self.assertGreater(against_r(self, db, "2026-01-01", "2026-05-31", "sex"), 20)

    def test_all_censored_and_past_followup(self):
        r = self.rows(self.db(BASE), "2026-02-01", "2026-03-15")   # E3 alone, 41 days
        self.assertEqual(r[("in_treatment_d30", "all", "all", "")]["estimate"], "1")
        d60 = r[("in_treatment_d60", "all", "all", "")]
        self.assertEqual((d60["estimate"], d60["note"]), ("", "insufficient follow-up"))
        self.assertEqual(r[("cif_dropout_d90", "all", "all", "")]["note"], "insufficient follow-up")
        ret = r[("retained_d30", "all", "all", "")]
        self.assertEqual((ret["estimate"], ret["lower"], ret["upper"]), ("1", "1", "1"))
        self.assertFalse([k for k in r if k[0] in ("km_curve", "cif_dropout_curve")])
        self.assertEqual(r[("alos_discharged", "all", "all", "")]["n"], "0")

    def test_ties_and_leap_day_against_r(self):
        db = self.db(TIES)
        for frm, to, by in (("2024-02-01", "2024-03-31", "program"),
                            ("2024-02-01", "2024-02-29", "counselor"),
                            ("2024-01-01", "2024-12-31", "sex"),
                            ("2024-02-29", "2024-06-30", None)):
            with self.subTest(frm=frm, to=to, by=by):
                self.assertGreater(against_r(self, db, frm, to, by), 20)
        r = self.rows(db, "2024-02-01", "2024-03-31")
        # X4 and X5 are same-day stays: two events at day 0 among 14 at risk
        self.assertAlmostEqual(float(r[("km_curve", "all", "all", "0")]["estimate"]), 12 / 14)


class TestLongGroupNames(unittest.TestCase):
    """Program names of 261 bytes that share their first 250: the log-rank
    test sees two groups, as with short names (a name cut at 255 bytes made
    every episode its own group), and the rows' labels stay apart (cut at
    127 bytes they printed alike)."""

    def run_with(self, a, b):
        files = dict(BASE)
        files["clients.csv"] = CLIENTS + "".join(
            "L%d,1980,F,,,opioids,0,self,medicaid\n" % i for i in range(8))
        ends = ["2026-01-20,completed", "2026-02-10,dropped_out", "2026-03-01,completed",
                "2026-01-25,dropped_out"]
        files["episodes.csv"] = EPISODES + "".join(
            "X%d,L%d,2.1,2026-01-0%d,North,%s,%s,K1,,\n"
            % (i, i, 1 + i % 4, a if i < 4 else b, ends[i % 4]) for i in range(8))
        for name in ("sessions.csv", "assessments.csv", "drug_screens.csv", "followups.csv"):
            files[name] = files[name].split("\n", 1)[0] + "\n"
        db = os.path.join(tempfile.mkdtemp(), "t.db")
        rc, _, err = load(write_extract(files), db)
        self.assertEqual(rc, 0, err)
        return oracle.metrics(db, "2026-01-01", "2026-03-31", "--by", "program")

    def test_long_names(self):
        stem = "Intensive outpatient \u00e9" + "x" * 227       # 250 bytes, one character of 2
        self.assertEqual(len(stem.encode()), 250)
        long_a, long_b = stem + "Alpha track", stem + "Beta track!"
        short = self.run_with("A", "B")
        long_ = self.run_with(long_a, long_b)
        lr = [r for r in long_ if r["metric"] == "logrank"]
        self.assertEqual([(r["statistic"], r["df"], r["p_value"]) for r in lr],
                         [(r["statistic"], r["df"], r["p_value"])
                          for r in short if r["metric"] == "logrank"])
        self.assertEqual(lr[0]["df"], "1")
        labels = list(dict.fromkeys(r["group"] for r in long_
                                    if r["dimension"] == "program" and r["group"] != "all"))
        self.assertEqual(len(labels), 2)
        for label in labels:
            self.assertLessEqual(len(label.encode()), 127)
            self.assertRegex(label, r"^Intensive outpatient \u00e9x+\u2026 #[0-9a-f]{8}$")
        # every figure of a group equals the short-named run's, in the same
        # order (the groups come in byte order of their whole names: A, B)
        def figures(rows, names):
            return [(r["metric"], names.get(r["group"], r["group"]), r["at"], r["n"], r["estimate"])
                    for r in rows]
        self.assertEqual(figures(long_, {labels[0]: "A", labels[1]: "B"}),
                         figures(short, {}))


if __name__ == "__main__":
    unittest.main(verbosity=1)
