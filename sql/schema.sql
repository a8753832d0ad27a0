-- schema.sql - the public schema of an iopstat database (docs/schema.md).
--
-- Each input table holds the current version of every row; a version that
-- a later load changed or pruned moves to <table>_history with the run that
-- closed it (valid_to_run). A row's version is valid for the load runs
-- valid_from_run <= N < valid_to_run. Dates are ISO text (YYYY-MM-DD).
-- Every statement is idempotent, so opening a database re-runs this file.

CREATE TABLE IF NOT EXISTS clients (
    client_id TEXT NOT NULL PRIMARY KEY,
    birth_year INTEGER, sex TEXT, race TEXT, ethnicity TEXT,
    primary_substance TEXT, co_occurring INTEGER, referral_source TEXT,
    payer TEXT,
    valid_from_run INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS episodes (
    episode_id TEXT NOT NULL PRIMARY KEY,
    client_id TEXT NOT NULL, level_of_care TEXT NOT NULL,
    admit_date TEXT NOT NULL, site TEXT, program TEXT, discharge_date TEXT,
    discharge_reason TEXT, counselor_id TEXT, referral_date TEXT, moud TEXT,
    valid_from_run INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS sessions (
    session_id TEXT NOT NULL PRIMARY KEY,
    episode_id TEXT NOT NULL, session_date TEXT NOT NULL,
    service TEXT NOT NULL, minutes INTEGER NOT NULL, status TEXT NOT NULL,
    staff_id TEXT,
    valid_from_run INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS assessments (
    assessment_id TEXT NOT NULL PRIMARY KEY,
    episode_id TEXT NOT NULL, assessed_on TEXT NOT NULL,
    instrument TEXT NOT NULL, score REAL NOT NULL,
    valid_from_run INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS drug_screens (
    screen_id TEXT NOT NULL PRIMARY KEY,
    episode_id TEXT NOT NULL, collected_on TEXT NOT NULL,
    result TEXT NOT NULL, substances TEXT,
    valid_from_run INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS followups (
    followup_id TEXT NOT NULL PRIMARY KEY,
    episode_id TEXT NOT NULL, contacted_on TEXT NOT NULL,
    reached INTEGER NOT NULL, abstinent INTEGER, employed_or_school INTEGER,
    stable_housing INTEGER, satisfaction INTEGER,
    valid_from_run INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS targets (
    metric TEXT NOT NULL, program TEXT NOT NULL, target REAL NOT NULL,
    better TEXT,
    valid_from_run INTEGER NOT NULL,
    PRIMARY KEY (metric, program)
) WITHOUT ROWID;

-- Closed versions: the same columns and the run that closed the version.
CREATE TABLE IF NOT EXISTS clients_history (
    client_id TEXT NOT NULL, birth_year INTEGER, sex TEXT, race TEXT,
    ethnicity TEXT, primary_substance TEXT, co_occurring INTEGER,
    referral_source TEXT, payer TEXT,
    valid_from_run INTEGER NOT NULL, valid_to_run INTEGER NOT NULL,
    PRIMARY KEY (client_id, valid_from_run)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS episodes_history (
    episode_id TEXT NOT NULL, client_id TEXT NOT NULL,
    level_of_care TEXT NOT NULL, admit_date TEXT NOT NULL, site TEXT,
    program TEXT, discharge_date TEXT, discharge_reason TEXT,
    counselor_id TEXT, referral_date TEXT, moud TEXT,
    valid_from_run INTEGER NOT NULL, valid_to_run INTEGER NOT NULL,
    PRIMARY KEY (episode_id, valid_from_run)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sessions_history (
    session_id TEXT NOT NULL, episode_id TEXT NOT NULL,
    session_date TEXT NOT NULL, service TEXT NOT NULL,
    minutes INTEGER NOT NULL, status TEXT NOT NULL, staff_id TEXT,
    valid_from_run INTEGER NOT NULL, valid_to_run INTEGER NOT NULL,
    PRIMARY KEY (session_id, valid_from_run)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS assessments_history (
    assessment_id TEXT NOT NULL, episode_id TEXT NOT NULL,
    assessed_on TEXT NOT NULL, instrument TEXT NOT NULL, score REAL NOT NULL,
    valid_from_run INTEGER NOT NULL, valid_to_run INTEGER NOT NULL,
    PRIMARY KEY (assessment_id, valid_from_run)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS drug_screens_history (
    screen_id TEXT NOT NULL, episode_id TEXT NOT NULL,
    collected_on TEXT NOT NULL, result TEXT NOT NULL, substances TEXT,
    valid_from_run INTEGER NOT NULL, valid_to_run INTEGER NOT NULL,
    PRIMARY KEY (screen_id, valid_from_run)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS followups_history (
    followup_id TEXT NOT NULL, episode_id TEXT NOT NULL,
    contacted_on TEXT NOT NULL, reached INTEGER NOT NULL, abstinent INTEGER,
    employed_or_school INTEGER, stable_housing INTEGER, satisfaction INTEGER,
    valid_from_run INTEGER NOT NULL, valid_to_run INTEGER NOT NULL,
    PRIMARY KEY (followup_id, valid_from_run)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS targets_history (
    metric TEXT NOT NULL, program TEXT NOT NULL, target REAL NOT NULL,
    better TEXT,
    valid_from_run INTEGER NOT NULL, valid_to_run INTEGER NOT NULL,
    PRIMARY KEY (metric, program, valid_from_run)) WITHOUT ROWID;

-- Reference tables: a site may edit them with sqlite3.
CREATE TABLE IF NOT EXISTS instruments (
    name TEXT NOT NULL PRIMARY KEY, min REAL NOT NULL, max REAL NOT NULL,
    better TEXT NOT NULL CHECK (better IN ('lower', 'higher')),
    norm_sd REAL, reliability REAL, caseness REAL, remission_below REAL,
    fixed_improvement REAL);
INSERT OR IGNORE INTO instruments VALUES
    ('PHQ9', 0, 27, 'lower', 5.5, 0.89, 10, 5, 6),
    ('GAD7', 0, 21, 'lower', NULL, NULL, 10, 5, 4),
    ('BAM_USE', 0, 12, 'lower', NULL, NULL, NULL, NULL, NULL),
    ('BAM_RISK', 0, 24, 'lower', NULL, NULL, NULL, NULL, NULL),
    ('BAM_PROTECT', 0, 24, 'higher', NULL, NULL, NULL, NULL, NULL),
    ('AUDIT', 0, 40, 'lower', NULL, NULL, NULL, NULL, NULL),
    ('DAST10', 0, 10, 'lower', NULL, NULL, NULL, NULL, NULL);

-- ASAM levels of care. intensity orders levels for "more intensive first"
-- and for the direction of a move: any withdrawal-management (WM) level is
-- above every non-WM level (metrics.md, section 4).
CREATE TABLE IF NOT EXISTS levels (
    code TEXT NOT NULL PRIMARY KEY, number REAL NOT NULL,
    wm INTEGER NOT NULL, intensity REAL NOT NULL, label TEXT NOT NULL);
INSERT OR IGNORE INTO levels VALUES
    ('0.5', 0.5, 0, 0.5, 'early intervention'),
    ('1.0', 1.0, 0, 1.0, 'outpatient'),
    ('1.5', 1.5, 0, 1.5, 'outpatient therapy (4th ed.)'),
    ('1.7', 1.7, 0, 1.7, 'medically managed outpatient (4th ed.)'),
    ('2.1', 2.1, 0, 2.1, 'intensive outpatient (IOP)'),
    ('2.5', 2.5, 0, 2.5, 'partial hospitalization (PHP)'),
    ('2.7', 2.7, 0, 2.7, 'medically managed intensive outpatient (4th ed.)'),
    ('3.1', 3.1, 0, 3.1, 'clinically managed low-intensity residential'),
    ('3.3', 3.3, 0, 3.3, 'clinically managed population-specific residential'),
    ('3.5', 3.5, 0, 3.5, 'clinically managed high-intensity residential'),
    ('3.7', 3.7, 0, 3.7, 'medically monitored intensive inpatient'),
    ('4.0', 4.0, 0, 4.0, 'medically managed intensive inpatient'),
    ('1-WM', 1.0, 1, 11.0, 'ambulatory withdrawal management'),
    ('2-WM', 2.0, 1, 12.0, 'ambulatory withdrawal management, extended on-site'),
    ('3.2-WM', 3.2, 1, 13.2, 'clinically managed residential withdrawal management'),
    ('3.7-WM', 3.7, 1, 13.7, 'medically monitored inpatient withdrawal management'),
    ('4-WM', 4.0, 1, 14.0, 'medically managed intensive inpatient withdrawal management');

CREATE TABLE IF NOT EXISTS settings (
    key TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL, note TEXT);
INSERT OR IGNORE INTO settings VALUES
    ('schema_version', '1', 'version of this schema'),
    ('continuity_window_days', '14', 'W: the default window for the next episode (metrics.md, section 4)');

-- The reference tables as each load ran with them (the load writes its
-- run's copy), so that --run N sees instruments, levels and settings as
-- load N did, whatever a site edited since.
CREATE TABLE IF NOT EXISTS instruments_runs (
    run_id INTEGER NOT NULL,
    name TEXT NOT NULL, min REAL NOT NULL, max REAL NOT NULL, better TEXT NOT NULL,
    norm_sd REAL, reliability REAL, caseness REAL, remission_below REAL,
    fixed_improvement REAL,
    PRIMARY KEY (run_id, name)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS levels_runs (
    run_id INTEGER NOT NULL,
    code TEXT NOT NULL, number REAL NOT NULL, wm INTEGER NOT NULL, intensity REAL NOT NULL,
    label TEXT NOT NULL,
    PRIMARY KEY (run_id, code)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS settings_runs (
    run_id INTEGER NOT NULL,
    key TEXT NOT NULL, value TEXT NOT NULL, note TEXT,
    PRIMARY KEY (run_id, key)) WITHOUT ROWID;

-- One row per committed load.
CREATE TABLE IF NOT EXISTS load_runs (
    run_id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL, finished_at TEXT NOT NULL,
    extract_date TEXT NOT NULL, extract_dir TEXT NOT NULL,
    options TEXT NOT NULL, software_version TEXT NOT NULL,
    records_read INTEGER NOT NULL, records_loaded INTEGER NOT NULL,
    records_rejected INTEGER NOT NULL);

-- One row per file of a load; records_read = records_loaded + records_rejected.
CREATE TABLE IF NOT EXISTS load_files (
    run_id INTEGER NOT NULL REFERENCES load_runs (run_id),
    file TEXT NOT NULL, sha256 TEXT NOT NULL, bytes INTEGER NOT NULL,
    records_read INTEGER NOT NULL, records_loaded INTEGER NOT NULL,
    records_rejected INTEGER NOT NULL,
    inserted INTEGER NOT NULL, updated INTEGER NOT NULL,
    unchanged INTEGER NOT NULL, pruned INTEGER NOT NULL,
    PRIMARY KEY (run_id, file),
    CHECK (records_read = records_loaded + records_rejected));

CREATE TABLE IF NOT EXISTS rejects (
    run_id INTEGER NOT NULL REFERENCES load_runs (run_id),
    file TEXT NOT NULL, line INTEGER NOT NULL, "column" INTEGER NOT NULL,
    column_name TEXT, value TEXT, reason TEXT NOT NULL);

-- Indexes for the report queries. Those of the per-episode event tables
-- cover what the metrics read (status and minutes, score, result), so a
-- period's events are one index range per episode with no lookup into
-- the table: measured on 10M sessions, the lookups were most of the
-- metrics' time. The *_cover names replaced the narrower indexes of
-- version 0.1.0, which an older database drops here.
CREATE INDEX IF NOT EXISTS episodes_client ON episodes (client_id, admit_date);
CREATE INDEX IF NOT EXISTS episodes_admit ON episodes (admit_date);
CREATE INDEX IF NOT EXISTS episodes_discharge ON episodes (discharge_date);
DROP INDEX IF EXISTS sessions_episode;
DROP INDEX IF EXISTS assessments_episode;
DROP INDEX IF EXISTS drug_screens_episode;
CREATE INDEX IF NOT EXISTS sessions_episode_cover
    ON sessions (episode_id, session_date, status, minutes);
CREATE INDEX IF NOT EXISTS assessments_episode_cover
    ON assessments (episode_id, instrument, assessed_on, score);
CREATE INDEX IF NOT EXISTS drug_screens_episode_cover
    ON drug_screens (episode_id, collected_on, result);
CREATE INDEX IF NOT EXISTS followups_episode ON followups (episode_id, contacted_on);
CREATE INDEX IF NOT EXISTS rejects_run ON rejects (run_id, file);

-- The load's copy of the metrics' `facts` table (episode_core with
-- end_date; docs/schema.md, "facts"): main.facts is written by each load,
-- and this row says which run wrote it from which SQL. Triggers on
-- episodes, clients and levels delete the row when a site edits them
-- after the load; the metrics then build `facts` for themselves.
CREATE TABLE IF NOT EXISTS facts_state (
    run_id INTEGER NOT NULL, recipe TEXT NOT NULL);
