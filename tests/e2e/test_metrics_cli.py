"""`iopstat metrics` as a command: options and their errors, CSV and JSON
carrying the same rows, --run pinning to an earlier load, byte-identical
reruns, and empty periods reported as "no data"."""
import csv
import io
import json
import os
import shutil
import signal
import sqlite3
import tempfile
import time
import unittest

from iophelp import BASE, load, query, run, start, write_extract


class TestMetricsCommand(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="iop-mcli-")
        self.db = os.path.join(self.tmp, "t.db")
        rc, _, err = load(write_extract(BASE), self.db)
        self.assertEqual(rc, 0, err)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def metrics(self, *args):
        return run("metrics", "--db", self.db, *args)

    def test_usage_errors(self):
        cases = [
            (["--to", "2026-05-31"], "needs --from DATE and --to DATE"),
            (["--from", "2026-02-30", "--to", "2026-05-31"], "expected date (YYYY-MM-DD) in '--from', got '2026-02-30'"),
            (["--from", "2026-06-01", "--to", "2026-05-31"], "'--from' 2026-06-01 is after '--to' 2026-05-31"),
            (["--from", "2026-01-01", "--to", "2026-05-31", "--by", "shoe_size"], "unknown dimension 'shoe_size' in '--by'"),
            (["--from", "2026-01-01", "--to", "2026-05-31", "--level", "2.2"], "unknown level of care '2.2' in '--level'"),
            (["--from", "2026-01-01", "--to", "2026-05-31", "--format", "xml"], "expected csv or json in '--format', got 'xml'"),
            (["--from", "2026-01-01", "--to", "2026-05-31", "--run", "0"], "expected a load run number in '--run'"),
        ]
        for args, msg in cases:
            with self.subTest(args=args):
                rc, out, err = self.metrics(*args)
                self.assertEqual(rc, 1, err)
                self.assertIn(msg, err)
                self.assertEqual(out, "")

    def test_help_after_a_command(self):
        for args in (["metrics", "--help"], ["load", "-h"], ["report", "monthly", "--help"],
                     ["metrics", "--from", "2026-01-01", "--help"]):
            with self.subTest(args=args):
                rc, out, err = run(*args)
                self.assertEqual(rc, 0, err)
                self.assertTrue(out.startswith("usage: iopstat load"), out[:80])
                self.assertIn("  metrics             every figure of metrics.md", out)
                self.assertEqual(err, "")
        # an option's value is not a request for help
        rc, out, err = run("report", "monthly", "--month", "2026-10", "-o", "--help",
                           "--db", os.path.join(self.tmp, "none.db"))
        self.assertEqual(rc, 3, err)
        self.assertIn("cannot open database", err)

    def test_missing_run_and_database(self):
        rc, _, err = self.metrics("--from", "2026-01-01", "--to", "2026-05-31", "--run", "2")
        self.assertEqual(rc, 1)
        self.assertIn("no load run 2", err)
        rc, _, err = run("metrics", "--db", os.path.join(self.tmp, "none.db"),
                         "--from", "2026-01-01", "--to", "2026-05-31")
        self.assertEqual(rc, 3)
        self.assertIn("cannot open database", err)

    def test_csv_and_json_agree(self):
        rc, out, err = self.metrics("--from", "2026-01-01", "--to", "2026-05-31", "--by", "program")
        self.assertEqual(rc, 0, err)
        rows = list(csv.DictReader(io.StringIO(out)))
        self.assertEqual(list(rows[0].keys()), ["metric", "dimension", "group", "n", "estimate", "lower",
                                               "upper", "statistic", "df", "p_value", "at", "note"])
        rc, out, err = self.metrics("--from", "2026-01-01", "--to", "2026-05-31", "--by", "program",
                                    "--format", "json")
        self.assertEqual(rc, 0, err)
        objs = json.loads(out)
        self.assertEqual(len(objs), len(rows))
        for r, o in zip(rows, objs):
            for k, v in r.items():
                if k in ("n", "estimate", "lower", "upper", "statistic", "df", "p_value"):
                    self.assertEqual(o[k], None if v == "" else float(v), k)
                else:
                    self.assertEqual(o[k], v, k)
        self.assertIn("Adolescent IOP", {r["group"] for r in rows})

    def test_rerun_is_identical(self):
        a = self.metrics("--from", "2026-01-01", "--to", "2026-05-31", "--by", "sex")
        b = self.metrics("--from", "2026-01-01", "--to", "2026-05-31", "--by", "sex")
        self.assertEqual(a, b)

    def test_database_of_version_0_1_0(self):
        """A database last loaded by 0.1.0 has no episode_core view and the
        narrower indexes: metrics still prints the same bytes, and the next
        load upgrades it."""
        args = ("--from", "2026-01-01", "--to", "2026-05-31", "--by", "program")
        rc, want, err = self.metrics(*args)
        self.assertEqual(rc, 0, err)
        con = sqlite3.connect(self.db)
        con.executescript(
            "DROP VIEW episode_core;"
            "DROP INDEX sessions_episode_cover; DROP INDEX assessments_episode_cover;"
            "DROP INDEX drug_screens_episode_cover;"
            "CREATE INDEX sessions_episode ON sessions (episode_id, session_date);"
            "CREATE INDEX assessments_episode ON assessments (episode_id, instrument, assessed_on);"
            "CREATE INDEX drug_screens_episode ON drug_screens (episode_id, collected_on);")
        con.close()
        rc, got, err = self.metrics(*args)
        self.assertEqual((rc, err), (0, ""))
        self.assertEqual(got, want)
        rc, _, err = load(write_extract(BASE), self.db)
        self.assertEqual(rc, 0, err)
        con = sqlite3.connect(self.db)
        names = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
        con.close()
        self.assertIn("episode_core", names)
        self.assertIn("sessions_episode_cover", names)
        self.assertNotIn("sessions_episode", names)
        self.assertNotIn("drug_screens_episode", names)
        self.assertEqual(self.metrics(*args)[1], want)

    def test_period_after_the_extract_date_warns(self):
        """--to after the data's extract date: the figures come, with a
        warning that nothing after the extract date is in the data (the
        watch list and the follow-up windows would mislead silently)."""
        rc, out, err = self.metrics("--from", "2026-05-01", "--to", "2026-05-31")
        self.assertEqual(rc, 0, err)
        self.assertNotIn("warning", err)
        rc, late, err = self.metrics("--from", "2026-05-01", "--to", "2026-06-07")
        self.assertEqual(rc, 0, err)
        self.assertIn("iopstat: warning: '--to' 2026-06-07 is after the extract date 2026-05-31 "
                      "of load run 1: the data hold nothing after 2026-05-31", err)
        self.assertTrue(late.startswith("metric,"))

    def test_run_pins_the_database(self):
        files = dict(BASE)
        files["episodes.csv"] = BASE["episodes.csv"].replace(
            "2026-02-02,South,Adolescent IOP,,,", "2026-02-02,South,Adolescent IOP,2026-04-30,completed,")
        rc, _, err = load(write_extract(files), self.db)
        self.assertEqual(rc, 0, err)

        def completed(*extra):
            rc, out, err = self.metrics("--from", "2026-01-01", "--to", "2026-05-31", *extra)
            self.assertEqual(rc, 0, err)
            return [r["n"] for r in csv.DictReader(io.StringIO(out)) if r["metric"] == "discharges_completed"][0]
        self.assertEqual(completed(), "2")
        self.assertEqual(completed("--run", "2"), "2")
        self.assertEqual(completed("--run", "1"), "1")

    def test_run_pins_the_reference_tables(self):
        """--run N sees instruments (and levels, settings) as load N ran with
        them: a site's later edit of PHQ-9's norm SD changes the latest
        figures, not run 1's (an audit rerun gave different numbers)."""
        def phq9(*extra):
            rc, out, err = self.metrics("--from", "2026-01-01", "--to", "2026-05-31", *extra)
            self.assertEqual(rc, 0, err)
            return {r["metric"]: (r["n"], r["estimate"], r["note"])
                    for r in csv.DictReader(io.StringIO(out))
                    if r["metric"] in ("phq9_reliable_improvement", "continuity_14d")}
        run1 = phq9()
        self.assertEqual(run1["phq9_reliable_improvement"][:2], ("1", "1"))   # 18 -> 7
        con = sqlite3.connect(self.db)
        con.execute("UPDATE instruments SET norm_sd = 50 WHERE name = 'PHQ9'")
        con.commit()
        con.close()
        rc, _, err = load(write_extract(BASE), self.db)        # run 2 keeps the edit
        self.assertEqual(rc, 0, err)
        self.assertEqual(phq9()["phq9_reliable_improvement"][:2], ("1", "0"))
        self.assertEqual(phq9("--run", "2"), phq9())
        self.assertEqual(phq9("--run", "1"), run1)
        # the latest run reads the tables as they are: an edit shows at once
        con = sqlite3.connect(self.db)
        con.execute("UPDATE instruments SET norm_sd = 5.5 WHERE name = 'PHQ9'")
        con.commit()
        con.close()
        self.assertEqual(phq9("--run", "2")["phq9_reliable_improvement"][:2], ("1", "1"))
        con = sqlite3.connect(self.db)
        con.execute("UPDATE instruments SET norm_sd = 50 WHERE name = 'PHQ9'")
        con.commit()
        con.close()
        self.assertEqual(query(self.db, "SELECT run_id, count(*) FROM instruments_runs GROUP BY 1"),
                         [(1, 7), (2, 7)])
        self.assertEqual(query(self.db, "SELECT count(DISTINCT run_id) FROM levels_runs"), [(2,)])
        self.assertEqual(query(self.db, "SELECT value FROM settings_runs WHERE run_id = 1"
                                        " AND key = 'continuity_window_days'"), [("14",)])
        # a run loaded before runs kept their reference tables reads them as they are
        con = sqlite3.connect(self.db)
        con.execute("DELETE FROM instruments_runs WHERE run_id = 1")
        con.commit()
        con.close()
        self.assertEqual(phq9("--run", "1")["phq9_reliable_improvement"][:2], ("1", "0"))

    def test_run_equals_a_database_that_stopped_there(self):
        """`--run 1` after a second load that changed sessions, follow-ups
        and episodes and pruned assessments shows every figure as a database
        that only ever loaded the first extract (the changed tables are
        copied with their history, the unchanged ones read in place)."""
        first, second = os.path.join(self.tmp, "x1"), os.path.join(self.tmp, "x2")
        rc, _, err = run("generate", "--clients", "150", "--months", "12", "--seed", "4",
                         "--end", "2026-05-31", "-o", first)
        self.assertEqual(rc, 0, err)
        shutil.copytree(first, second)

        def edit(name, change):
            path = os.path.join(second, name)
            with open(path, newline="") as f:
                rows = list(csv.reader(f))
            rows = [rows[0]] + [r for r in (change(rows[0], k, r) for k, r in enumerate(rows[1:]))
                                if r is not None]
            with open(path, "w", newline="") as f:
                csv.writer(f).writerows(rows)

        def flip_status(h, k, r):
            if k % 7 == 0:
                i = h.index("status")
                r[i] = "no_show" if r[i] == "attended" else "attended"
            return r

        def flip_reached(h, k, r):
            if k % 5 == 0:
                i = h.index("reached")
                r[i] = "0" if r[i] == "1" else "1"
            return r

        def discharge_open(h, k, r):
            if k % 3 == 0 and not r[h.index("discharge_date")]:
                r[h.index("discharge_date")] = "2026-05-31"
                r[h.index("discharge_reason")] = "completed"
            return r

        edit("sessions.csv", flip_status)
        edit("followups.csv", flip_reached)
        edit("episodes.csv", discharge_open)
        edit("assessments.csv", lambda h, k, r: r if k % 9 else None)

        both, only = os.path.join(self.tmp, "both.db"), os.path.join(self.tmp, "only.db")
        for db, extracts in ((both, (first, second)), (only, (first,))):
            for x in extracts:
                rc, _, err = load(x, db, "--prune")
                self.assertEqual(rc, 0, err)
        self.assertGreater(query(both, "SELECT count(*) FROM sessions_history")[0][0], 0)
        args = ("--from", "2025-12-01", "--to", "2026-05-31", "--by", "program")
        rc, pinned, err = run("metrics", "--db", both, "--run", "1", *args)
        self.assertEqual(rc, 0, err)
        rc, want, err = run("metrics", "--db", only, *args)
        self.assertEqual(rc, 0, err)
        self.assertEqual(pinned, want)
        rc, latest, err = run("metrics", "--db", both, *args)
        self.assertNotEqual(latest, want)
        self.assertEqual(run("metrics", "--db", both, "--run", "2", *args)[1], latest)

    def test_load_writes_facts_for_its_run(self):
        """Each load writes `facts` (docs/schema.md) for its run, and the
        metrics read it: the same bytes as a connection that builds it
        itself. An edit of episodes, clients or levels after the load
        voids it, and the figures follow the edit; the next load writes it
        again. A run pinned before the latest never reads it."""
        x, db = os.path.join(self.tmp, "x"), os.path.join(self.tmp, "f.db")
        rc, _, err = run("generate", "--clients", "150", "--months", "12", "--seed", "4",
                         "--end", "2026-05-31", "-o", x)
        self.assertEqual(rc, 0, err)
        rc, _, err = load(x, db)
        self.assertEqual(rc, 0, err)
        self.assertEqual(query(db, "SELECT run_id FROM facts_state"), [(1,)])
        self.assertEqual(query(db, "SELECT count(*) FROM facts"),
                         query(db, "SELECT count(*) FROM episodes"))
        args = ("--from", "2025-12-01", "--to", "2026-05-31", "--by", "program")

        def figures(path=db, *extra):
            rc, out, err = run("metrics", "--db", path, *extra, *args)
            self.assertEqual(rc, 0, err)
            return out

        def built_by_itself():
            """The figures of a copy of db without main.facts."""
            copy = os.path.join(self.tmp, "copy.db")
            shutil.copyfile(db, copy)
            con = sqlite3.connect(copy)
            con.execute("DROP TABLE facts")
            con.commit()
            con.close()
            return figures(copy)

        def edit(sql):
            con = sqlite3.connect(db)
            con.execute(sql)
            con.commit()
            con.close()

        want = figures()
        self.assertEqual(want, built_by_itself())
        self.assertEqual(figures(db, "--run", "1"), want)
        # the figures come from main.facts: a change to it alone shows
        edit("UPDATE facts SET discharge_reason = 'completed' WHERE discharge_reason IS NOT NULL")
        tampered = figures()
        self.assertNotEqual(tampered, want)
        self.assertEqual(want, built_by_itself())
        # an edit of an input voids it; the figures follow the edit
        edit("UPDATE levels SET intensity = intensity WHERE code = '2.1'")
        self.assertEqual(query(db, "SELECT count(*) FROM facts_state"), [(0,)])
        self.assertEqual(figures(), want)
        edit("UPDATE episodes SET discharge_reason = 'completed'"
             " WHERE discharge_reason = 'dropped_out' AND discharge_date >= '2026-03-01'")
        edited = figures()
        self.assertNotEqual(edited, want)
        self.assertEqual(edited, built_by_itself())
        # the next load writes it again, with its run (and undoes the edit)
        rc, _, err = load(x, db)
        self.assertEqual(rc, 0, err)
        self.assertEqual(query(db, "SELECT run_id FROM facts_state"), [(2,)])
        self.assertEqual(figures(), want)
        # every trigger: each kind of edit of each input voids the row
        recipe = query(db, "SELECT recipe FROM facts_state")[0][0]
        for sql in ("UPDATE clients SET sex = sex WHERE client_id = (SELECT min(client_id) FROM clients)",
                    "INSERT INTO clients SELECT 'zz' || client_id, birth_year, sex, race, ethnicity,"
                    " primary_substance, co_occurring, referral_source, payer, valid_from_run"
                    " FROM clients LIMIT 1",
                    "DELETE FROM clients WHERE client_id LIKE 'zz%'",
                    "INSERT INTO episodes SELECT 'zz' || episode_id, client_id, level_of_care,"
                    " admit_date, site, program, discharge_date, discharge_reason, counselor_id,"
                    " referral_date, moud, valid_from_run FROM episodes LIMIT 1",
                    "UPDATE episodes SET moud = moud WHERE episode_id LIKE 'zz%'",
                    "DELETE FROM episodes WHERE episode_id LIKE 'zz%'",
                    "INSERT INTO levels VALUES ('9.9', 9.9, 0, 9.9, 'test')",
                    "UPDATE levels SET label = label WHERE code = '9.9'",
                    "DELETE FROM levels WHERE code = '9.9'"):
            con = sqlite3.connect(db)
            con.execute("INSERT INTO facts_state VALUES (2, ?)", (recipe,))
            con.commit()
            con.close()
            edit(sql)
            self.assertEqual(query(db, "SELECT count(*) FROM facts_state"), [(0,)], sql)
        self.assertEqual(figures(), want)
        rc, _, err = load(x, db)
        self.assertEqual(rc, 0, err)
        # run 2 pinned (before the latest, 3) builds its own: tampering with
        # main.facts does not reach it
        edit("UPDATE facts SET discharge_reason = 'completed' WHERE discharge_reason IS NOT NULL")
        self.assertEqual(figures(db, "--run", "2"), want)
        self.assertEqual(figures(db, "--run", "3"), tampered)

    def test_a_run_reads_one_state_of_the_database(self):
        """A metrics run reads the database as it was when it started: its
        read transaction holds off every load's commit until its figures
        are computed. Here the run is stopped (SIGSTOP) after its first
        step, with its sections still to run. A load that may not wait
        fails with exit 3, "database is locked", changing nothing. A load
        that may wait does, with SQLite's pending lock, which lets no new
        statement start: read statement by statement, the resumed run would
        read the rest of its figures after that load committed, a mix of
        two runs. It prints run 1's figures; the load then commits. The
        transaction ends before the output: a run held in the middle of it
        (a full pipe, as under a pager) keeps no load waiting."""
        x, y = os.path.join(self.tmp, "x"), os.path.join(self.tmp, "y")
        db = os.path.join(self.tmp, "one.db")
        for seed, d in (("4", x), ("5", y)):
            rc, _, err = run("generate", "--clients", "150", "--months", "12", "--seed", seed,
                             "--end", "2026-05-31", "-o", d)
            self.assertEqual(rc, 0, err)
        rc, _, err = load(x, db)
        self.assertEqual(rc, 0, err)
        args = ("--db", db, "--from", "2025-12-01", "--to", "2026-05-31", "--by", "program",
                "--format", "json")
        rc, want, err = run("metrics", *args)
        self.assertEqual(rc, 0, err)
        self.assertGreater(len(want), 2 * 65536)  # more than a pipe holds (64 KiB)
        before = query(db, "SELECT count(*), sum(length(episode_id)) FROM episodes")
        probe = sqlite3.connect(db, timeout=0, isolation_level=None)

        def reading():
            """Whether a reader holds the database (no exclusive lock)."""
            try:
                probe.execute("BEGIN EXCLUSIVE")
            except sqlite3.OperationalError as e:
                self.assertIn("locked", str(e))
                return True
            probe.execute("ROLLBACK")
            return False

        def stopped_mid_run():
            """A metrics run stopped after its first step (IOPSTAT_TRACE
            prints a line per step), so inside its read transaction, with
            its sections still to run; or None when it ended first."""
            p = start("metrics", *args, env={"IOPSTAT_TRACE": "1"})
            line = p.stderr.readline()
            p.send_signal(signal.SIGSTOP)
            if line.startswith(b"iopstat: trace: ") and reading():
                return p
            p.send_signal(signal.SIGCONT)
            p.communicate()
            return None

        def refused():
            """Whether a new reader is refused: a load waits to commit."""
            con = sqlite3.connect(db, timeout=0)
            try:
                con.execute("SELECT count(*) FROM sqlite_master").fetchall()
                return False
            except sqlite3.OperationalError as e:
                self.assertIn("locked", str(e))
                return True
            finally:
                con.close()

        try:
            for _ in range(10):
                p = stopped_mid_run()
                if p:
                    break
            self.assertIsNotNone(p, "no run was caught reading in 10 tries")
            waiting = None
            try:
                rc, _, err = load(y, db, env={"IOPSTAT_BUSY_TIMEOUT_MS": "0"})
                self.assertEqual(rc, 3, err)
                self.assertIn("database is locked", err)
                self.assertEqual(query(db, "SELECT count(*) FROM load_runs"), [(1,)])
                self.assertEqual(query(db, "SELECT count(*), sum(length(episode_id))"
                                           " FROM episodes"), before)
                waiting = start("load", y, "--db", db, "--extract-date", "2026-05-31",
                                env={"IOPSTAT_BUSY_TIMEOUT_MS": "120000"})
                for _ in range(120000):
                    if refused() or waiting.poll() is not None:
                        break
                    time.sleep(0.001)
                self.assertIsNone(waiting.poll(), "the load did not wait")
            finally:
                p.send_signal(signal.SIGCONT)
                out, err = p.communicate()
                if waiting:
                    _, load_err = waiting.communicate()
            self.assertEqual(p.returncode, 0, err)
            self.assertEqual(waiting.returncode, 0, load_err.decode())
            self.assertEqual(query(db, "SELECT count(*) FROM load_runs"), [(2,)])
            rc, run2, err = run("metrics", *args)
            self.assertEqual(rc, 0, err)
            self.assertNotEqual(run2, want)
            self.assertEqual(out.decode(), want)

            # held in its output, the run holds no lock: a load goes through
            p = start("metrics", *args, "--run", "1")
            try:
                out = p.stdout.read(1)  # it writes: its figures are computed
                rc, _, err = load(y, db, env={"IOPSTAT_BUSY_TIMEOUT_MS": "0"})
                self.assertEqual(rc, 0, err)
            finally:
                out += p.stdout.read()
                err = p.stderr.read().decode()
                p.stdout.close()
                p.stderr.close()
            self.assertEqual(p.wait(), 0, err)
            self.assertEqual(out.decode(), want)
        finally:
            probe.close()
        self.assertEqual(query(db, "SELECT count(*) FROM load_runs"), [(3,)])
        self.assertEqual(run("metrics", *args)[1], run2)
        self.assertEqual(run("metrics", *args, "--run", "1")[1], want)

    def test_locked_database_fails_cleanly(self):
        """While a load holds the database (here a writer's exclusive lock),
        metrics and the monthly report wait IOPSTAT_BUSY_TIMEOUT_MS, then
        fail with exit 3 and SQLite's reason, writing nothing."""
        out = os.path.join(self.tmp, "m.xlsx")
        con = sqlite3.connect(self.db, isolation_level=None)
        con.execute("BEGIN EXCLUSIVE")
        try:
            for args in (("metrics", "--from", "2026-01-01", "--to", "2026-05-31"),
                         ("report", "monthly", "--month", "2026-03", "-o", out)):
                with self.subTest(command=args[0]):
                    rc, stdout, err = run(*args, "--db", self.db,
                                          env={"IOPSTAT_BUSY_TIMEOUT_MS": "200"})
                    self.assertEqual(rc, 3, err)
                    self.assertIn(f"iopstat: {self.db}: cannot read the database: "
                                  "database is locked", err)
                    self.assertEqual(stdout, "")
                    self.assertFalse(os.path.exists(out))
        finally:
            con.execute("ROLLBACK")
            con.close()
        rc, _, err = run("report", "monthly", "--month", "2026-03", "-o", out, "--db", self.db)
        self.assertEqual(rc, 0, err)

    def test_empty_period_says_no_data(self):
        rc, out, err = self.metrics("--from", "2020-01-01", "--to", "2020-12-31")
        self.assertEqual(rc, 0, err)
        rows = list(csv.DictReader(io.StringIO(out)))
        self.assertTrue(rows)
        for r in rows:
            self.assertNotIn("nan", out.lower())
            if r["n"] == "0" and r["metric"].endswith("_rate"):
                self.assertEqual(r["estimate"], "")
                self.assertEqual(r["note"], "no data")


if __name__ == "__main__":
    unittest.main(verbosity=1)
