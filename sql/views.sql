-- views.sql - the derived views of the public schema (docs/schema.md).
--
-- They read the input tables by their plain names, so that the same text,
-- created as TEMP views over the TEMP snapshot views of one load run, shows
-- the database exactly as that run left it (iopstat --run N).
-- load_state names the run and its extract date: the as-of date of
-- los_days for open episodes and of full treatment weeks.

DROP VIEW IF EXISTS load_state;
CREATE VIEW load_state AS
SELECT run_id, extract_date FROM load_runs ORDER BY run_id DESC LIMIT 1;

-- episode_core: one row per episode with the client's attributes, age,
-- length of stay, outcome and wait, and the level's intensity; no links to
-- other episodes, so it is cheap (the metrics read it).
DROP VIEW IF EXISTS episode_core;
CREATE VIEW episode_core AS
SELECT
    k.episode_id, k.client_id, k.level_of_care, k.program, k.site,
    k.counselor_id, k.admit_date, k.discharge_date, k.discharge_reason,
    k.referral_date, k.moud,
    c.birth_year, c.sex, c.race, c.ethnicity, c.primary_substance,
    c.co_occurring, c.referral_source, c.payer,
    CAST(substr(k.admit_date, 1, 4) AS INTEGER) - c.birth_year AS age,
    CASE
        WHEN c.birth_year IS NULL THEN 'unknown'
        WHEN CAST(substr(k.admit_date, 1, 4) AS INTEGER) - c.birth_year < 18 THEN 'under 18'
        WHEN CAST(substr(k.admit_date, 1, 4) AS INTEGER) - c.birth_year <= 25 THEN '18-25'
        WHEN CAST(substr(k.admit_date, 1, 4) AS INTEGER) - c.birth_year <= 34 THEN '26-34'
        WHEN CAST(substr(k.admit_date, 1, 4) AS INTEGER) - c.birth_year <= 44 THEN '35-44'
        WHEN CAST(substr(k.admit_date, 1, 4) AS INTEGER) - c.birth_year <= 54 THEN '45-54'
        WHEN CAST(substr(k.admit_date, 1, 4) AS INTEGER) - c.birth_year <= 64 THEN '55-64'
        ELSE '65+' END AS age_band,
    CAST(julianday(COALESCE(k.discharge_date, (SELECT extract_date FROM load_state)))
         - julianday(k.admit_date) AS INTEGER) AS los_days,
    CASE k.discharge_reason
        WHEN 'completed' THEN 'completed'
        WHEN 'dropped_out' THEN 'dropout'
        WHEN 'terminated' THEN 'dropout'
        WHEN 'transferred' THEN 'transferred'
        WHEN 'incarcerated' THEN 'other'
        WHEN 'death' THEN 'other'
        WHEN 'other' THEN 'other'
        ELSE 'open' END AS outcome,
    CAST(julianday(k.admit_date) - julianday(k.referral_date) AS INTEGER) AS wait_days,
    l.intensity
FROM episodes AS k JOIN levels AS l ON l.code = k.level_of_care
LEFT JOIN clients AS c ON c.client_id = k.client_id;

-- episode_facts: episode_core (without intensity) and the previous and
-- next episode of the same client under the default continuity window.
DROP VIEW IF EXISTS episode_facts;
CREATE VIEW episode_facts AS
WITH win AS (
    -- W: the setting when it is a whole number of days, else 14 (as the
    -- metrics read it: src/metrics_continuity.c)
    SELECT coalesce((SELECT CAST(value AS INTEGER) FROM settings
        WHERE key = 'continuity_window_days'
        AND value GLOB '[0-9]*' AND value NOT GLOB '*[^0-9]*'), 14) AS w),
ordered AS (
    SELECT e.*,
        LEAD(e.episode_id) OVER w AS n_id,
        LEAD(e.admit_date) OVER w AS n_admit,
        LEAD(e.level_of_care) OVER w AS n_level,
        LEAD(e.intensity) OVER w AS n_intensity,
        LAG(e.episode_id) OVER w AS p_id,
        LAG(e.discharge_date) OVER w AS p_discharge,
        LAG(e.level_of_care) OVER w AS p_level,
        LAG(e.intensity) OVER w AS p_intensity
    FROM episode_core AS e
    WINDOW w AS (PARTITION BY e.client_id
                 ORDER BY e.admit_date, e.intensity DESC, e.episode_id)),
linked AS (
    SELECT o.*,
        o.discharge_date IS NOT NULL AND o.n_id IS NOT NULL
            AND julianday(o.n_admit) <= julianday(o.discharge_date) + win.w AS has_next,
        o.p_discharge IS NOT NULL
            AND julianday(o.admit_date) <= julianday(o.p_discharge) + win.w AS has_prev
    FROM ordered AS o, win)
SELECT
    k.episode_id, k.client_id, k.level_of_care, k.program, k.site,
    k.counselor_id, k.admit_date, k.discharge_date, k.discharge_reason,
    k.referral_date, k.moud,
    k.birth_year, k.sex, k.race, k.ethnicity, k.primary_substance,
    k.co_occurring, k.referral_source, k.payer,
    k.age, k.age_band, k.los_days, k.outcome, k.wait_days,
    CASE WHEN k.has_prev THEN k.p_id END AS prev_episode_id,
    CASE WHEN k.has_prev THEN k.p_level END AS prev_level,
    CASE WHEN k.has_prev THEN CAST(max(0, julianday(k.admit_date) - julianday(k.p_discharge)) AS INTEGER) END AS prev_gap_days,
    CASE WHEN NOT k.has_prev THEN 'none'
         WHEN k.p_intensity > k.intensity THEN 'step_down'
         WHEN k.p_intensity < k.intensity THEN 'step_up'
         ELSE 'lateral' END AS prev_direction,
    CASE WHEN k.has_next THEN k.n_id END AS next_episode_id,
    CASE WHEN k.has_next THEN k.n_level END AS next_level,
    CASE WHEN k.has_next THEN k.n_admit END AS next_admit_date,
    CASE WHEN k.has_next THEN CAST(max(0, julianday(k.n_admit) - julianday(k.discharge_date)) AS INTEGER) END AS next_gap_days,
    CASE WHEN NOT k.has_next THEN 'none'
         WHEN k.n_intensity < k.intensity THEN 'step_down'
         WHEN k.n_intensity > k.intensity THEN 'step_up'
         ELSE 'lateral' END AS next_direction
FROM linked AS k;

DROP VIEW IF EXISTS transitions;
CREATE VIEW transitions AS
SELECT client_id, episode_id AS from_episode_id, level_of_care AS from_level,
       discharge_date, next_episode_id AS to_episode_id, next_level AS to_level,
       next_admit_date AS to_admit_date, next_gap_days AS gap_days,
       next_direction AS direction
FROM episode_facts WHERE next_episode_id IS NOT NULL;

-- Full treatment weeks: day 0 is the admit day, week k covers days
-- 7(k-1) .. 7k-1 and is full when its last day is on or before the
-- discharge date (or the extract date for open episodes).
DROP VIEW IF EXISTS episode_weeks;
CREATE VIEW episode_weeks AS
WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < 1000),
e AS (
    SELECT episode_id, admit_date, julianday(admit_date) AS a,
        min(julianday(COALESCE(discharge_date, (SELECT extract_date FROM load_state))),
            julianday((SELECT extract_date FROM load_state))) AS last_day
    FROM episodes),
w AS (
    SELECT s.episode_id,
        CAST((julianday(s.session_date) - e.a) / 7 AS INTEGER) + 1 AS week,
        count(*) AS sessions_scheduled,
        sum(s.minutes) AS scheduled_minutes,
        sum(CASE WHEN s.status = 'attended' THEN s.minutes ELSE 0 END) AS attended_minutes,
        sum(CASE WHEN s.status = 'no_show' THEN s.minutes ELSE 0 END) AS no_show_minutes,
        sum(CASE WHEN s.status = 'cancelled_client' THEN s.minutes ELSE 0 END) AS cancelled_client_minutes,
        sum(CASE WHEN s.status = 'cancelled_program' THEN s.minutes ELSE 0 END) AS cancelled_program_minutes
    FROM sessions AS s JOIN e ON e.episode_id = s.episode_id
    WHERE s.session_date >= e.admit_date
    GROUP BY s.episode_id, week)
SELECT e.episode_id, k.n AS week,
    date(e.admit_date, printf('+%d days', 7 * (k.n - 1))) AS week_start,
    date(e.admit_date, printf('+%d days', 7 * k.n - 1)) AS week_end,
    COALESCE(w.sessions_scheduled, 0) AS sessions_scheduled,
    COALESCE(w.scheduled_minutes, 0) AS scheduled_minutes,
    COALESCE(w.attended_minutes, 0) AS attended_minutes,
    COALESCE(w.no_show_minutes, 0) AS no_show_minutes,
    COALESCE(w.cancelled_client_minutes, 0) AS cancelled_client_minutes,
    COALESCE(w.cancelled_program_minutes, 0) AS cancelled_program_minutes
FROM e JOIN k ON e.a + 7 * k.n - 1 <= e.last_day
LEFT JOIN w ON w.episode_id = e.episode_id AND w.week = k.n;

-- Baseline: the first score from 7 days before to 14 days after admission;
-- last: the last score at least 14 days after the baseline and no later
-- than discharge (the extract date for open episodes). Same-day ties by
-- assessment_id.
DROP VIEW IF EXISTS measure_pairs;
CREATE VIEW measure_pairs AS
WITH b AS (
    SELECT a.episode_id, a.instrument, a.assessment_id, a.assessed_on, a.score,
        row_number() OVER (PARTITION BY a.episode_id, a.instrument
                           ORDER BY a.assessed_on, a.assessment_id) AS rn
    FROM assessments AS a JOIN episodes AS e ON e.episode_id = a.episode_id
    WHERE julianday(a.assessed_on) BETWEEN julianday(e.admit_date) - 7
                                       AND julianday(e.admit_date) + 14),
base AS (SELECT * FROM b WHERE rn = 1),
l AS (
    SELECT a.episode_id, a.instrument, a.assessment_id, a.assessed_on, a.score,
        row_number() OVER (PARTITION BY a.episode_id, a.instrument
                           ORDER BY a.assessed_on DESC, a.assessment_id DESC) AS rn
    FROM assessments AS a
    JOIN base ON base.episode_id = a.episode_id AND base.instrument = a.instrument
    JOIN episodes AS e ON e.episode_id = a.episode_id
    WHERE julianday(a.assessed_on) >= julianday(base.assessed_on) + 14
      AND a.assessed_on <= COALESCE(e.discharge_date, (SELECT extract_date FROM load_state)))
SELECT base.episode_id, base.instrument,
    base.assessment_id AS baseline_id, base.assessed_on AS baseline_date,
    base.score AS baseline_score,
    l.assessment_id AS last_id, l.assessed_on AS last_date, l.score AS last_score,
    l.score - base.score AS change
FROM base LEFT JOIN l ON l.episode_id = base.episode_id
    AND l.instrument = base.instrument AND l.rn = 1;
