"""Shared helpers of the end-to-end tests: run the iopstat binary (or the
command in $IOPSTAT, e.g. under valgrind), build extract folders, read the
database back with Python's sqlite3 module."""
import os
import shlex
import sqlite3
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
IOPSTAT = shlex.split(os.environ.get("IOPSTAT", os.path.join(ROOT, "build/iopstat")))
SLOW = bool(os.environ.get("IOPSTAT_VALGRIND") or os.environ.get("IOPSTAT_SANITIZED"))

CLIENTS = "client_id,birth_year,sex,race,ethnicity,primary_substance,co_occurring,referral_source,payer\n"
EPISODES = ("episode_id,client_id,level_of_care,admit_date,site,program,discharge_date,"
            "discharge_reason,counselor_id,referral_date,moud\n")
SESSIONS = "session_id,episode_id,session_date,service,minutes,status,staff_id\n"
ASSESSMENTS = "assessment_id,episode_id,assessed_on,instrument,score\n"
SCREENS = "screen_id,episode_id,collected_on,result,substances\n"
FOLLOWUPS = ("followup_id,episode_id,contacted_on,reached,abstinent,employed_or_school,"
             "stable_housing,satisfaction\n")

# A small valid extract: two clients, three episodes (residential -> IOP
# step-down, one open IOP), sessions, scores, screens, a follow-up.
BASE = {
    "clients.csv": CLIENTS + "C1,1980,F,White,Not Hispanic,opioids,1,court,medicaid\n"
                             "C2,2010,M,,,alcohol,0,school,private\n",
    "episodes.csv": EPISODES + "E1,C1,3.5,2026-01-01,North,Residential,2026-01-20,completed,K1,,none\n"
                               "E2,C1,2.1,2026-01-22,North,Adult IOP,2026-03-20,completed,K1,,buprenorphine\n"
                               "E3,C2,2.1,2026-02-02,South,Adolescent IOP,,,K2,2026-01-25,\n",
    "sessions.csv": SESSIONS + "S1,E2,2026-01-22,group,180,attended,T1\n"
                               "S2,E2,2026-01-23,individual,60,no_show,T1\n"
                               "S3,E3,2026-02-02,group,180,attended,T2\n",
    "assessments.csv": ASSESSMENTS + "A1,E2,2026-01-22,PHQ9,18\nA2,E2,2026-03-10,PHQ9,7\n",
    "drug_screens.csv": SCREENS + "D1,E2,2026-01-29,positive,opioids;stimulants\nD2,E2,2026-02-05,negative,\n",
    "followups.csv": FOLLOWUPS + "F1,E2,2026-04-20,1,1,1,1,5\n",
}
EXTRACT_DATE = "2026-05-31"


def write_extract(files, base=None):
    """Writes {name: text or bytes} into a new temporary folder."""
    d = tempfile.mkdtemp(prefix="iop-extract-")
    for name, text in files.items():
        if text is None:
            continue
        mode = "wb" if isinstance(text, bytes) else "w"
        with open(os.path.join(d, name), mode) as f:
            f.write(text)
    return d


def environment(env=None):
    e = dict(os.environ)
    e.setdefault("SOURCE_DATE_EPOCH", "1780000000")
    e.pop("IOPSTAT_DB", None)
    if env:
        e.update(env)
    return e


def run(*args, env=None, timeout=600):
    p = subprocess.run(IOPSTAT + list(args), capture_output=True, text=True,
                       env=environment(env), timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def start(*args, env=None):
    """Starts iopstat with args in the background: a Popen with stdout and
    stderr pipes (bytes), which the caller reads and waits for."""
    return subprocess.Popen(IOPSTAT + list(args), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=environment(env))


def load(extract, db, *extra, env=None):
    return run("load", extract, "--db", db, "--extract-date", EXTRACT_DATE, *extra, env=env)


def query(db, sql, params=()):
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


PUBLIC = ["clients", "episodes", "sessions", "assessments", "drug_screens",
          "followups", "targets"]


def dump(db, tables=PUBLIC + [t + "_history" for t in PUBLIC]):
    """Every row of the given tables, for comparing database states."""
    out = {}
    for t in tables:
        out[t] = query(db, f"SELECT * FROM {t} ORDER BY 1, 2")
    return out


def accounting_holds(db):
    bad = query(db, "SELECT run_id, file FROM load_files "
                    "WHERE records_read != records_loaded + records_rejected")
    runs = query(db, "SELECT r.run_id FROM load_runs r JOIN load_files f USING (run_id) "
                     "GROUP BY r.run_id HAVING sum(f.records_read) != max(r.records_read) "
                     "OR sum(f.records_rejected) != max(r.records_rejected)")
    return not bad and not runs
