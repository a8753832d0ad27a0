"""End-to-end tests of `iopstat load`: every reject rule of the data
contract with its location and reason, CSV edge cases, idempotence,
upsert, prune, strict, atomicity, locking, exit codes and the accounting
identity. Run: IOPSTAT=build/iopstat python3 tests/e2e/test_load.py"""
import os
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
import unittest

from iophelp import (IOPSTAT, ASSESSMENTS, BASE, CLIENTS, EPISODES, EXTRACT_DATE, FOLLOWUPS,
                     SCREENS, SESSIONS, SLOW, accounting_holds, dump, environment, load, query,
                     run, write_extract)


def with_rows(**extra):
    """BASE plus extra data lines appended to the named files."""
    files = dict(BASE)
    for name, rows in extra.items():
        files[name + ".csv"] = files[name + ".csv"] + rows
    return files


class LoadCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="iop-test-")
        self.db = os.path.join(self.tmp, "t.db")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def load_ok(self, files, *extra):
        d = write_extract(files)
        rc, out, err = load(d, self.db, *extra)
        shutil.rmtree(d)
        self.assertEqual(rc, 0, err)
        self.assertTrue(accounting_holds(self.db))
        return err

    def rejects(self):
        return query(self.db, "SELECT file, line, \"column\", value, reason FROM rejects "
                              "WHERE run_id = (SELECT max(run_id) FROM load_runs) ORDER BY file, line")


class TestValidExtract(LoadCase):
    def test_loads_everything(self):
        err = self.load_ok(BASE)
        self.assertIn("load run 1", err)
        self.assertEqual(self.rejects(), [])
        self.assertEqual(query(self.db, "SELECT count(*) FROM sessions"), [(3,)])
        counts = query(self.db, "SELECT file, records_read, records_loaded, records_rejected, "
                                "inserted FROM load_files ORDER BY file")
        self.assertIn(("episodes.csv", 3, 3, 0, 3), counts)
        self.assertEqual(len(query(self.db, "SELECT sha256 FROM load_files WHERE length(sha256) = 64")), 6)

    def test_codes_stored_canonical(self):
        files = dict(BASE)
        files["clients.csv"] = CLIENTS + "C1,1980,f,White,,OPIOIDS,1,Court,MEDICAID\n C2 ,2010,M,,,alcohol,0,school,private\n"
        files["episodes.csv"] = (EPISODES + "E1,C1,3.5,2026-01-01,,,2026-01-20,1,,,\n"
                                 "E2,C1,1,2026-01-22,,,2026-03-20,Completed,,,\n"
                                 "E3,C2,3.2-wm,2026-02-02,,,,,,,\n")
        files["sessions.csv"] = SESSIONS
        files["assessments.csv"] = ASSESSMENTS
        files["drug_screens.csv"] = SCREENS + "D1,E2,2026-01-29,POSITIVE, Opioids ; stimulants\n"
        self.load_ok(files)
        self.assertEqual(query(self.db, "SELECT sex, primary_substance, referral_source, payer FROM clients WHERE client_id='C1'"),
                         [("F", "opioids", "court", "medicaid")])
        self.assertEqual(query(self.db, "SELECT client_id FROM clients ORDER BY 1"), [("C1",), ("C2",)])
        self.assertEqual(query(self.db, "SELECT episode_id, level_of_care, discharge_reason FROM episodes ORDER BY 1"),
                         [("E1", "3.5", "completed"), ("E2", "1.0", "completed"), ("E3", "3.2-WM", None)])
        self.assertEqual(query(self.db, "SELECT result, substances FROM drug_screens"),
                         [("positive", "opioids;stimulants")])

    def test_derived_views(self):
        self.load_ok(BASE)
        rows = query(self.db, "SELECT episode_id, los_days, outcome, age_band, next_episode_id, next_direction, "
                              "next_gap_days, prev_direction FROM episode_facts ORDER BY 1")
        self.assertEqual(rows, [("E1", 19, "completed", "45-54", "E2", "step_down", 2, "none"),
                                ("E2", 57, "completed", "45-54", None, "none", None, "step_down"),
                                ("E3", 118, "open", "under 18", None, "none", None, "none")])
        self.assertEqual(query(self.db, "SELECT from_level, to_level, direction FROM transitions"),
                         [("3.5", "2.1", "step_down")])
        self.assertEqual(query(self.db, "SELECT baseline_score, last_score, change FROM measure_pairs"),
                         [(18.0, 7.0, -11.0)])
        # E2 runs 57 days: 8 full weeks; week 1 has 180 attended of 240 scheduled minutes
        self.assertEqual(query(self.db, "SELECT count(*) FROM episode_weeks WHERE episode_id='E2'"), [(8,)])
        self.assertEqual(query(self.db, "SELECT scheduled_minutes, attended_minutes, no_show_minutes "
                                        "FROM episode_weeks WHERE episode_id='E2' AND week=1"), [(240, 180, 60)])


# One row a case: (file, data lines appended to BASE's, expected line,
# column, reason fragment). Line 1 is the header; BASE has 2 clients,
# 3 episodes, 3 sessions, 2 assessments, 2 screens, 1 follow-up.
REJECT_CASES = [
    ("clients", ",1980,F,,,,,,\n", 4, 1, "missing required value in 'client_id'"),
    ("clients", "C9,1899,F,,,,,,\n", 4, 2, "'birth_year' out of range 1900 to 2026"),
    ("clients", "C9,2027,F,,,,,,\n", 4, 2, "'birth_year' out of range 1900 to 2026"),
    ("clients", "C9,1e3,F,,,,,,\n", 4, 2, "expected integer in 'birth_year'"),
    ("clients", "C9,19.5,F,,,,,,\n", 4, 2, "expected integer in 'birth_year'"),
    ("clients", "C9,1980,Q,,,,,,\n", 4, 3, "unknown code in 'sex'"),
    ("clients", "C9,1980,F,,,heroin,,,\n", 4, 6, "unknown code in 'primary_substance'"),
    ("clients", "C9,1980,F,,,,2,,\n", 4, 7, "unknown code in 'co_occurring'"),
    ("clients", "C9,1980,F,,,,,friend,\n", 4, 8, "unknown code in 'referral_source'"),
    ("clients", "C9,1980,F,,,,,,cash\n", 4, 9, "unknown code in 'payer'"),
    ("clients", "C1,1981,F,,,,,,\n", 4, 1, "duplicate key"),
    ("clients", "C9,1980,F\n", 4, 0, "expected 9 fields as in the header, got 3"),
    ("episodes", "E9,C9,2.1,2026-01-01,,,,,,,\n", 5, 2, "client not found"),
    ("episodes", "E9,C1,2.2,2026-01-01,,,,,,,\n", 5, 3, "unknown code in 'level_of_care'"),
    ("episodes", "E9,C1,2.1,2026-02-30,,,,,,,\n", 5, 4, "expected date (YYYY-MM-DD) in 'admit_date'"),
    ("episodes", "E9,C1,2.1,01/02/2026,,,,,,,\n", 5, 4, "expected date (YYYY-MM-DD) in 'admit_date'"),
    ("episodes", "E9,C1,2.1,,,,,,,,\n", 5, 4, "missing required value in 'admit_date'"),
    ("episodes", "E9,C1,2.1,2026-06-01,,,,,,,\n", 5, 4, "after the extract date"),
    ("episodes", "E9,C1,2.1,2026-03-01,,,2026-02-01,completed,,,\n", 5, 7, "discharge_date before admit_date"),
    ("episodes", "E9,C1,2.1,2026-03-01,,,2026-03-02,,,,\n", 5, 8, "discharge_date without discharge_reason"),
    ("episodes", "E9,C1,2.1,2026-03-01,,,,completed,,,\n", 5, 7, "discharge_reason without discharge_date"),
    ("episodes", "E9,C1,2.1,2026-03-01,,,2026-03-02,8,,,\n", 5, 8, "unknown code in 'discharge_reason'"),
    ("episodes", "E9,C1,2.1,2026-03-01,,,,,,,suboxone\n", 5, 11, "unknown code in 'moud'"),
    ("episodes", "E9,C1,2.1,2026-03-01,,,,,,2026-13-01,\n", 5, 10, "expected date (YYYY-MM-DD) in 'referral_date'"),
    ("sessions", "S9,E9,2026-02-01,group,60,attended,\n", 5, 2, "episode not found"),
    ("sessions", "S9,E2,2026-02-01,group,0,attended,\n", 5, 5, "'minutes' out of range 1 to 720"),
    ("sessions", "S9,E2,2026-02-01,group,721,attended,\n", 5, 5, "'minutes' out of range 1 to 720"),
    ("sessions", "S9,E2,2026-02-01,group,nan,attended,\n", 5, 5, "expected integer in 'minutes'"),
    ("sessions", "S9,E2,2026-02-01,yoga,60,attended,\n", 5, 4, "unknown code in 'service'"),
    ("sessions", "S9,E2,2026-02-01,group,60,late,\n", 5, 6, "unknown code in 'status'"),
    ("sessions", "S9,E2,2025-12-22,group,60,attended,\n", 5, 3, "more than 30 days before the episode's admit_date"),
    ("sessions", "S9,E2,2026-04-20,group,60,attended,\n", 5, 3, "more than 30 days after the episode's discharge_date"),
    ("sessions", "S1,E2,2026-01-22,group,180,attended,T1\n", 5, 1, "duplicate key"),
    ("assessments", "A9,E2,2026-02-01,PHQ9,28\n", 4, 5, "score out of range for PHQ9 (0 to 27)"),
    ("assessments", "A9,E2,2026-02-01,GAD7,-1\n", 4, 5, "score out of range for GAD7"),
    ("assessments", "A9,E2,2026-02-01,PHQ9,inf\n", 4, 5, "expected number in 'score'"),
    ("assessments", "A9,E2,2026-02-01,BDI,10\n", 4, 4, "unknown instrument"),
    ("drug_screens", "D9,E2,2026-02-01,pending,\n", 4, 4, "unknown code in 'result'"),
    ("drug_screens", "D9,E2,2026-02-01,positive,opioids;meth\n", 4, 5, "unknown code in 'substances'"),
    ("followups", "F9,E2,2026-03-19,1,1,1,1,5\n", 3, 3, "contacted_on before the episode's discharge_date"),
    ("followups", "F9,E2,2026-04-19,yes,,,,\n", 3, 4, "unknown code in 'reached'"),
    ("followups", "F9,E2,2026-04-19,1,,,,6\n", 3, 8, "'satisfaction' out of range 1 to 5"),
]


class TestRejectRules(LoadCase):
    def test_each_rule(self):
        for table, rows, line, column, reason in REJECT_CASES:
            with self.subTest(table=table, rows=rows):
                if os.path.exists(self.db):
                    os.remove(self.db)
                err = self.load_ok(with_rows(**{table: rows}))
                rej = self.rejects()
                self.assertEqual(len(rej), 1, rej)
                f, l, c, value, why = rej[0]
                self.assertEqual((f, l, c), (table + ".csv", line, column))
                self.assertIn(reason, why)
                loc = f"{table}.csv:{line}:" + (f"{column}:" if column else "")
                self.assertIn(loc, err)
                self.assertIn(reason, err)

    def test_orphans_of_rejected_parents(self):
        # the episode is rejected, so its session is an orphan too
        err = self.load_ok(with_rows(episodes="E9,C1,2.1,2026-02-30,,,,,,,\n",
                                     sessions="S9,E9,2026-02-01,group,60,attended,\n"))
        self.assertEqual([(r[0], r[1], r[2]) for r in self.rejects()],
                         [("episodes.csv", 5, 4), ("sessions.csv", 5, 2)])

    def test_missing_required_column_rejects_file(self):
        files = dict(BASE)
        files["sessions.csv"] = "session_id,episode_id,session_date,service,status\nS1,E2,2026-01-22,group,attended\nS2,E2,2026-01-23,group,attended\n"
        err = self.load_ok(files)
        self.assertIn("sessions.csv:1: missing required column 'minutes'", err)
        self.assertEqual(query(self.db, "SELECT records_read, records_loaded, records_rejected FROM load_files WHERE file='sessions.csv'"),
                         [(2, 0, 2)])
        self.assertEqual(query(self.db, "SELECT count(*) FROM sessions"), [(0,)])

    def test_column_named_twice_rejects_file(self):
        files = dict(BASE)
        files["sessions.csv"] = ("session_id,episode_id,session_date,service,minutes,status,MINUTES\n"
                                 "S1,E2,2026-01-22,group,180,attended,60\n")
        err = self.load_ok(files)
        self.assertIn("sessions.csv:1: column 'minutes' appears twice in the header", err)
        self.assertEqual([(r[0], r[1], r[2]) for r in self.rejects()], [("sessions.csv", 2, 0)])
        self.assertEqual(query(self.db, "SELECT count(*) FROM sessions"), [(0,)])

    def test_empty_file_loads_nothing(self):
        files = dict(BASE)
        files["sessions.csv"] = ""
        err = self.load_ok(files)
        self.assertIn("sessions.csv: file is empty: no header row", err)
        self.assertEqual(query(self.db, "SELECT records_read FROM load_files WHERE file='sessions.csv'"), [(0,)])

    def test_unknown_columns_warned_once(self):
        files = dict(BASE)
        files["sessions.csv"] = "session_id,room,episode_id,session_date,service,minutes,status,note\nS1,101,E2,2026-01-22,group,180,attended,x\n"
        err = self.load_ok(files)
        self.assertEqual(err.count("unknown columns ignored"), 1)
        self.assertIn("'room', 'note'", err)
        self.assertEqual(query(self.db, "SELECT session_id, minutes FROM sessions"), [("S1", 180)])

    def test_headers_any_order_and_case(self):
        files = dict(BASE)
        files["sessions.csv"] = " Status ,MINUTES,service,session_date,episode_id,Session_ID\nattended,180,group,2026-01-22,E2,S1\n"
        self.load_ok(files)
        self.assertEqual(query(self.db, "SELECT session_id, status, minutes FROM sessions"), [("S1", "attended", 180)])

    def test_missing_required_file(self):
        files = dict(BASE)
        files["clients.csv"] = None
        d = write_extract(files)
        rc, _, err = load(d, self.db)
        self.assertEqual(rc, 3)
        self.assertIn("clients.csv", err)
        self.assertIn("cannot open", err)

    def test_optional_files_absent(self):
        files = {k: v for k, v in BASE.items() if k in ("clients.csv", "episodes.csv")}
        self.load_ok(files)
        self.assertEqual(query(self.db, "SELECT count(*) FROM load_files"), [(2,)])


class TestCsvEdgeCases(LoadCase):
    def test_bom_crlf_quotes_newlines(self):
        files = dict(BASE)
        files["clients.csv"] = ("\ufeff" + CLIENTS.replace("\n", "\r\n") +
                                'C1,1980,F,"Black, African American",,opioids,1,court,medicaid\r\n'
                                'C2,2010,M,"Two\r\nor more",,alcohol,0,school,private\r\n'
                                'C3,1990,F,"say ""hi""",,,,,\r\n'
                                'C4,19x0,F,,,,,,\r\n').encode()
        err = self.load_ok(files)
        self.assertEqual(query(self.db, "SELECT race FROM clients ORDER BY client_id"),
                         [("Black, African American",), ("Two\r\nor more",), ('say "hi"',)])
        # C4 starts on physical line 6: the quoted newline of C2 takes a line
        self.assertEqual([(r[1], r[2]) for r in self.rejects()], [(6, 2)])
        self.assertIn("clients.csv:6:2:", err)

    def test_unclosed_quote_resumes_next_line(self):
        files = with_rows(sessions='S9,E2,"2026-02-01,group,60,attended,\n'
                                   'S10,E2,2026-02-02,group,60,attended,\n')
        self.load_ok(files)
        self.assertEqual([(r[1], r[2]) for r in self.rejects()], [(5, 3)])
        self.assertIn("unclosed quote", self.rejects()[0][4])
        self.assertEqual(query(self.db, "SELECT count(*) FROM sessions WHERE session_id = 'S10'"), [(1,)])

    def test_stray_quote_swallows_nothing(self):
        """A quote opened in one record and "closed" by a quote lines later:
        the record is rejected, and the lines between are read again and
        loaded (they were dropped without a word)."""
        n = BASE["clients.csv"].count("\n")       # D2 is on line n + 1
        files = with_rows(clients='D2,1990,M,"Asian,,,,,\n'
                                  "D3,1991,F,White,,,,,\n"
                                  "D4,1992,M,White,,,,,\n"
                                  'D6,1994,M,"Black, African American",,,,,\n'
                                  "D7,1995,F,White,,,,,\n")
        err = self.load_ok(files)
        self.assertEqual([(r[0], r[1], r[2]) for r in self.rejects()], [("clients.csv", n + 1, 4)])
        self.assertIn("clients.csv:%d:4: malformed quoting" % (n + 1), err)
        self.assertEqual(query(self.db, "SELECT client_id, race FROM clients"
                                        " WHERE client_id LIKE 'D%' ORDER BY 1"),
                         [("D3", "White"), ("D4", "White"), ("D6", "Black, African American"),
                          ("D7", "White")])
        self.assertEqual(query(self.db, "SELECT records_read, records_rejected FROM load_files"
                                        " WHERE file = 'clients.csv'"), [(n - 1 + 5, 1)])

    def test_cr_only_line_ends_reject_the_file_and_prune_nothing(self):
        """Lines ending in CR alone read as one header line: the file is
        refused with a reason, and --prune closes none of its table's rows
        (it closed every one)."""
        self.load_ok(BASE)
        before = query(self.db, "SELECT count(*) FROM clients")
        files = dict(BASE)
        files["clients.csv"] = BASE["clients.csv"].replace("\n", "\r")
        err = self.load_ok(files, "--prune")
        self.assertIn("clients.csv:1: lines end in CR alone (old Mac files), but only LF or "
                      "CRLF end a line: no record of this file is loaded", err)
        self.assertEqual(query(self.db, "SELECT count(*) FROM clients"), before)
        self.assertEqual(query(self.db, "SELECT count(*) FROM clients_history"), [(0,)])

    def test_malformed_bytes(self):
        files = dict(BASE)
        files["sessions.csv"] = (SESSIONS.encode() + b"S9,E2,2026-02-01,gr\xffoup,60,attended,\n"
                                 b"S10,E2,2026-02-01,group,60,att\x00ended,\n"
                                 b"S11,E2,2026-02-01,group," + b"9" * 70000 + b",attended,\n"
                                 b"S12,E2,2026-02-02,group,60,attended,\n")
        self.load_ok(files)
        self.assertEqual([(r[1], r[2], r[4][:12]) for r in self.rejects()],
                         [(2, 4, "invalid UTF-"), (3, 6, "NUL byte in "), (4, 5, "field longer")])
        self.assertEqual(query(self.db, "SELECT session_id FROM sessions"), [("S12",)])


class TestUpsertHistory(LoadCase):
    def test_idempotent(self):
        self.load_ok(BASE)
        first = dump(self.db)
        self.load_ok(BASE)
        self.assertEqual(dump(self.db), first)
        self.assertEqual(query(self.db, "SELECT sum(unchanged), sum(inserted), sum(updated) FROM load_files WHERE run_id = 2"),
                         [(13, 0, 0)])

    def test_changed_row_closed_not_overwritten(self):
        self.load_ok(BASE)
        files = dict(BASE)
        files["episodes.csv"] = BASE["episodes.csv"].replace("2026-02-02,South,Adolescent IOP,,,", "2026-02-02,South,Adolescent IOP,2026-04-30,dropped_out,")
        self.load_ok(files)
        self.assertEqual(query(self.db, "SELECT discharge_reason, valid_from_run FROM episodes WHERE episode_id='E3'"),
                         [("dropped_out", 2)])
        self.assertEqual(query(self.db, "SELECT discharge_reason, valid_from_run, valid_to_run FROM episodes_history"),
                         [(None, 1, 2)])
        self.assertEqual(query(self.db, "SELECT updated, unchanged FROM load_files WHERE run_id=2 AND file='episodes.csv'"),
                         [(1, 2)])

    def test_prune_closes_absent_rows(self):
        self.load_ok(BASE)
        files = dict(BASE)
        files["sessions.csv"] = SESSIONS + "S1,E2,2026-01-22,group,180,attended,T1\n"
        files["drug_screens.csv"] = None
        self.load_ok(files)          # without --prune nothing is closed
        self.assertEqual(query(self.db, "SELECT count(*) FROM sessions"), [(3,)])
        self.load_ok(files, "--prune")
        self.assertEqual(query(self.db, "SELECT session_id FROM sessions"), [("S1",)])
        self.assertEqual(query(self.db, "SELECT session_id, valid_to_run FROM sessions_history ORDER BY 1"),
                         [("S2", 3), ("S3", 3)])
        self.assertEqual(query(self.db, "SELECT count(*) FROM drug_screens"), [(2,)])  # file absent: kept
        self.assertEqual(query(self.db, "SELECT pruned FROM load_files WHERE run_id=3 AND file='sessions.csv'"), [(2,)])

    def test_prune_keeps_rows_whose_record_was_rejected(self):
        self.load_ok(BASE)
        files = dict(BASE)
        files["sessions.csv"] = BASE["sessions.csv"].replace("S2,E2,2026-01-23,individual,60", "S2,E2,2026-01-23,individual,6000")
        self.load_ok(files, "--prune")
        self.assertEqual(query(self.db, "SELECT minutes FROM sessions WHERE session_id='S2'"), [(60,)])

    def test_duplicate_after_unchanged_row(self):
        self.load_ok(BASE)
        self.load_ok(with_rows(sessions="S1,E2,2026-01-22,group,90,attended,T1\n"))
        self.assertEqual(query(self.db, "SELECT minutes FROM sessions WHERE session_id='S1'"), [(180,)])
        self.assertEqual([(r[1], r[4][:9]) for r in self.rejects()], [(5, "duplicate")])


class TestTransactions(LoadCase):
    def test_strict_commits_nothing(self):
        self.load_ok(BASE)
        before = dump(self.db)
        d = write_extract(with_rows(sessions="S9,E2,2026-02-01,group,0,attended,\n",
                                    clients="C9,1980,F,,,,,,\n"))
        rc, _, err = load(d, self.db, "--strict")
        self.assertEqual(rc, 2, err)
        self.assertIn("sessions.csv:5:5:", err)
        self.assertIn("nothing was committed", err)
        self.assertEqual(dump(self.db), before)
        self.assertEqual(query(self.db, "SELECT count(*) FROM load_runs"), [(1,)])
        rc, _, err = load(write_extract(BASE), self.db, "--strict")
        self.assertEqual(rc, 0, err)

    def test_failure_half_way_changes_nothing(self):
        self.load_ok(BASE)
        before = dump(self.db)
        files = with_rows(clients="C9,1980,F,,,,,,\n")
        files["sessions.csv"] = None
        d = write_extract(files)
        os.mkdir(os.path.join(d, "sessions.csv"))    # reading it fails after clients and episodes
        rc, _, err = load(d, self.db)
        self.assertEqual(rc, 3, err)
        self.assertIn("sessions.csv", err)
        self.assertEqual(dump(self.db), before)
        self.assertEqual(query(self.db, "SELECT count(*) FROM load_runs"), [(1,)])

    def test_failed_first_load_leaves_no_file(self):
        """A first load that fails changes nothing: SQLite made the file
        when it opened it, and the load removes it again; a file that was
        there before, even an empty one, stays."""
        files = dict(BASE)
        files["clients.csv"] = None
        rc, _, err = load(write_extract(files), self.db)
        self.assertEqual(rc, 3, err)
        self.assertIn("clients.csv: cannot open", err)
        self.assertEqual(os.listdir(self.tmp), [])
        rc, _, err = load(write_extract(with_rows(sessions="S9,E2,2026-02-01,group,0,attended,\n")),
                          self.db, "--strict")
        self.assertEqual(rc, 2, err)
        self.assertIn("nothing was committed", err)
        self.assertEqual(os.listdir(self.tmp), [])
        open(self.db, "w").close()
        rc, _, err = load(write_extract(files), self.db)
        self.assertEqual(rc, 3, err)
        self.assertEqual(os.listdir(self.tmp), ["t.db"])
        self.assertEqual(os.path.getsize(self.db), 0)
        rc, _, err = load(write_extract(BASE), self.db)
        self.assertEqual(rc, 0, err)

    def test_load_waiting_for_a_failed_first_load(self):
        """A second first load that opened the file and waits for the lock
        of a first load that then fails finds the file removed when it
        writes, before it has read a record; it loads again, into a new
        file, and succeeds. The first load is stopped (SIGSTOP) while it
        holds the lock, so the second surely waits for it."""
        big = os.path.join(self.tmp, "big")
        rc, _, err = run("generate", "--clients", "300", "--months", "6", "--seed", "3",
                         "--end", "2026-05-31", "-o", big)
        self.assertEqual(rc, 0, err)
        with open(os.path.join(big, "followups.csv"), "a") as f:
            f.write("bad,row\n")     # the --strict load fails once it has read every file

        def first_load_stopped_with_the_lock():
            if os.path.exists(self.db):
                os.unlink(self.db)
            p = subprocess.Popen(IOPSTAT + ["load", big, "--db", self.db, "--strict",
                                            "--extract-date", "2026-05-31"],
                                 stderr=subprocess.PIPE, env=environment())
            while p.poll() is None:
                if os.path.exists(self.db):
                    con = sqlite3.connect(self.db, timeout=0, isolation_level=None)
                    try:
                        con.execute("BEGIN IMMEDIATE")
                        con.execute("ROLLBACK")
                    except sqlite3.OperationalError:
                        p.send_signal(signal.SIGSTOP)
                        return p
                    finally:
                        con.close()
                time.sleep(0.001)
            p.communicate()
            return None

        for _ in range(10):
            a = first_load_stopped_with_the_lock()
            if a:
                break
        self.assertIsNotNone(a, "no first load was caught holding the lock in 10 tries")
        made_by_a = os.open(self.db, os.O_RDONLY)   # keeps its inode from being reused
        try:
            b = subprocess.Popen(IOPSTAT + ["load", write_extract(BASE), "--db", self.db,
                                            "--extract-date", EXTRACT_DATE],
                                 stderr=subprocess.PIPE,
                                 env=environment({"IOPSTAT_BUSY_TIMEOUT_MS": "60000"}))

            def b_has_it_open():
                fds = os.path.join("/proc", str(b.pid), "fd")
                try:
                    return any(os.readlink(os.path.join(fds, fd)) == os.path.realpath(self.db)
                               for fd in os.listdir(fds))
                except OSError:
                    return False
            for _ in range(6000):
                if b_has_it_open() or b.poll() is not None:
                    break
                time.sleep(0.01)
            self.assertTrue(b_has_it_open(), "the second load never opened the file")
            time.sleep(0.2)
            self.assertIsNone(b.poll(), "the second load did not wait for the first")
            a.send_signal(signal.SIGCONT)
            _, err_a = a.communicate()
            _, err_b = b.communicate()
            self.assertEqual(a.returncode, 2, err_a)
            self.assertIn(b"nothing was committed", err_a)
            self.assertEqual(b.returncode, 0, err_b)
            self.assertEqual(os.fstat(made_by_a).st_nlink, 0)   # the first load removed its file
            self.assertNotEqual(os.stat(self.db).st_ino, os.fstat(made_by_a).st_ino)
        finally:
            os.close(made_by_a)
            for p in (a, locals().get("b")):
                if p and p.poll() is None:
                    p.send_signal(signal.SIGCONT)
                    p.kill()
                    p.wait()
        self.assertEqual(query(self.db, "SELECT run_id FROM load_runs"), [(1,)])
        self.assertEqual(query(self.db, "SELECT count(*) FROM clients"), [(2,)])
        self.assertTrue(accounting_holds(self.db))

    def test_locked_database_fails_cleanly(self):
        self.load_ok(BASE)
        before = dump(self.db)
        con = sqlite3.connect(self.db, isolation_level=None)
        con.execute("BEGIN IMMEDIATE")
        try:
            rc, _, err = load(write_extract(BASE), self.db, env={"IOPSTAT_BUSY_TIMEOUT_MS": "200"})
        finally:
            con.execute("ROLLBACK")
            con.close()
        self.assertEqual(rc, 3)
        self.assertIn("locked", err)
        self.assertEqual(dump(self.db), before)

    @unittest.skipIf(SLOW, "timing-based: plain build only")
    def test_kill_9_leaves_database_as_before(self):
        self.load_ok(BASE)
        before = dump(self.db)
        big = os.path.join(self.tmp, "big")
        rc, _, err = run("generate", "--clients", "20000", "--months", "24", "-o", big)
        self.assertEqual(rc, 0, err)
        p = subprocess.Popen(IOPSTAT + ["load", big, "--db", self.db, "--extract-date", "2026-10-31"],
                             stderr=subprocess.DEVNULL)
        time.sleep(0.8)
        self.assertIsNone(p.poll(), "the load finished before it could be killed")
        p.send_signal(signal.SIGKILL)
        p.wait()
        self.assertEqual(query(self.db, "PRAGMA integrity_check"), [("ok",)])
        self.assertEqual(dump(self.db), before)


class TestProgress(LoadCase):
    def test_progress_only_on_a_terminal(self):
        import pty
        d = write_extract(BASE)
        leader, follower = pty.openpty()
        env = dict(os.environ, SOURCE_DATE_EPOCH="1780000000")
        p = subprocess.run(IOPSTAT + ["load", d, "--db", self.db, "--extract-date", "2026-05-31"],
                           stdout=subprocess.DEVNULL, stderr=follower, env=env, timeout=600)
        os.close(follower)
        out = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        os.close(leader)
        self.assertEqual(p.returncode, 0)
        text = out.decode()
        self.assertRegex(text, r"sessions\.csv +100%  3 rows")
        # not a terminal: no progress lines at all
        rc, _, err = load(d, self.db)
        self.assertEqual(rc, 0)
        self.assertNotIn("100%", err)


class TestCommandLine(LoadCase):
    def test_usage_errors(self):
        for args, msg in [(["load"], "takes one EXTRACT_DIR"), (["frobnicate"], "unknown command 'frobnicate'"),
                          (["load", "x", "--bogus"], "unknown option '--bogus' for 'load'"),
                          (["load", "x", "--extract-date"],
                           "iopstat: option '--extract-date' of 'load' needs a value"),
                          (["metrics", "--from"], "option '--from' of 'metrics' needs a value"),
                          ([], "no command")]:
            with self.subTest(args=args):
                rc, _, err = run(*args)
                self.assertEqual(rc, 1)
                self.assertIn(msg, err)
                self.assertIn("usage:", err)
                self.assertNotIn("requires an argument", err)   # getopt's own line, then ours
        # a clock that is not a number is a usage error, not 1970
        rc, _, err = run("load", write_extract(BASE), "--db", self.db,
                         env={"SOURCE_DATE_EPOCH": "abc"})
        self.assertEqual(rc, 1, err)
        self.assertIn("SOURCE_DATE_EPOCH must be whole seconds since 1970-01-01, got 'abc'", err)
        self.assertFalse(os.path.exists(self.db))

    def test_other_programs_database_is_refused(self):
        """--db naming another program's SQLite file: a reason, exit 3 and
        the file untouched (SQLite's 'no such column' came out before)."""
        for table in ("clients (id INTEGER, name TEXT)", "load_runs (x)"):
            with self.subTest(table=table):
                path = os.path.join(self.tmp, "other.db")
                if os.path.exists(path):
                    os.remove(path)
                con = sqlite3.connect(path)
                con.execute("CREATE TABLE " + table)
                con.commit()
                con.close()
                with open(path, "rb") as f:
                    before = f.read()
                rc, _, err = load(write_extract(BASE), path)
                self.assertEqual(rc, 3, err)
                self.assertIn("not an iopstat database: the file holds other tables", err)
                with open(path, "rb") as f:
                    self.assertEqual(f.read(), before)

    def test_bad_extract_date(self):
        rc, _, err = run("load", write_extract(BASE), "--db", self.db, "--extract-date", "2026-02-30")
        self.assertEqual(rc, 1)
        self.assertIn("expected date (YYYY-MM-DD) in '--extract-date', got '2026-02-30'", err)

    def test_bad_busy_timeout(self):
        """IOPSTAT_BUSY_TIMEOUT_MS is whole milliseconds or nothing: '30s'
        was read as 30 ms and 'abc' as no wait. load, metrics and report
        refuse it before they touch the database; empty means the default."""
        d = write_extract(BASE)
        commands = (("load", d, "--db", self.db, "--extract-date", EXTRACT_DATE),
                    ("metrics", "--db", self.db, "--from", "2026-01-01", "--to", "2026-01-31"),
                    ("report", "monthly", "--month", "2026-01", "--db", self.db,
                     "-o", os.path.join(self.tmp, "m.xlsx")))
        for value in ("30s", "abc", "-5", " 5", "1e3", "2147483648"):
            for args in commands:
                rc, out, err = run(*args, env={"IOPSTAT_BUSY_TIMEOUT_MS": value})
                self.assertEqual(rc, 1, (value, args, err))
                self.assertIn("IOPSTAT_BUSY_TIMEOUT_MS must be a whole number of milliseconds "
                              f"(0 to 2147483647), got '{value}'", err)
                self.assertEqual(out, "")
        self.assertEqual(os.listdir(self.tmp), [])
        for value in ("", "0", "2147483647"):
            for args in commands:
                rc, _, err = run(*args, env={"IOPSTAT_BUSY_TIMEOUT_MS": value})
                self.assertEqual(rc, 0, (value, args, err))

    def test_missing_folder(self):
        rc, _, err = run("load", os.path.join(self.tmp, "nope"), "--db", self.db)
        self.assertEqual(rc, 3)
        self.assertIn("cannot read extract folder", err)

    def test_db_env_default(self):
        d = write_extract(BASE)
        rc, _, err = run("load", d, "--extract-date", "2026-05-31", env={"IOPSTAT_DB": self.db})
        self.assertEqual(rc, 0, err)
        self.assertEqual(query(self.db, "SELECT count(*) FROM clients"), [(2,)])

    def test_help_and_version(self):
        rc, out, _ = run("--help")
        self.assertEqual(rc, 0)
        for word in ("load EXTRACT_DIR", "--prune", "--strict", "--extract-date", "generate", "Exit status"):
            self.assertIn(word, out)
        rc, out, _ = run("--version")
        self.assertEqual(rc, 0)
        self.assertRegex(out, r"^iopstat \d+\.\d+\.\d+")


if __name__ == "__main__":
    unittest.main(verbosity=1)
