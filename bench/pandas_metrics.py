#!/usr/bin/python3
"""pandas_metrics.py - the pandas/statsmodels baseline of bench/metrics.sh
and bench/report.sh (docs/performance.md, "metrics and the workbook").

    /usr/bin/python3 bench/pandas_metrics.py EXTRACT_DIR [--month 2026-10]
        [--level 2.1] [--xlsx OUT.xlsx]

What an analyst would write to get one month of iopstat's figure families,
by program, from the six extract files: pd.read_csv of each file, then
pandas, numpy, statsmodels (and scipy where it is installed). It is a timing
anchor, not an oracle: the definitions follow docs/metrics.md closely but
not to the digit (docs/performance.md lists what it covers and leaves out).

Prints a few headline figures and the seconds of each step to stdout;
with --xlsx writes the figures (long format, iopstat's columns), the
Kaplan-Meier curves and the weekly hours to a workbook with
DataFrame.to_excel (openpyxl engine).
"""
import argparse
import math
import sys
import time
import warnings

import numpy as np
import pandas as pd
from statsmodels.duration.survfunc import SurvfuncRight, survdiff
from statsmodels.stats.proportion import proportion_confint

try:
    from scipy.stats import chi2_contingency, ttest_rel, t as t_dist
    HAVE_SCIPY = True
except ImportError:          # statsmodels equivalents
    from statsmodels.stats.contingency_tables import Table
    from statsmodels.stats.weightstats import DescrStatsW
    HAVE_SCIPY = False

Z = 1.959963984540054
warnings.simplefilter("ignore", RuntimeWarning)     # statsmodels' quantile_ci at S = 0 or 1
DAY = np.timedelta64(1, "D")
INTENSITY = {"0.5": 0.5, "1.0": 1.0, "1.5": 1.5, "1.7": 1.7, "2.1": 2.1, "2.5": 2.5,
             "2.7": 2.7, "3.1": 3.1, "3.3": 3.3, "3.5": 3.5, "3.7": 3.7, "4.0": 4.0,
             "1-WM": 11.0, "2-WM": 12.0, "3.2-WM": 13.2, "3.7-WM": 13.7, "4-WM": 14.0}
RESIDENTIAL = {"3.1", "3.3", "3.5", "3.7"}

T0 = time.perf_counter()
STEPS = []


def step(name):
    now = time.perf_counter()
    STEPS.append((name, now - step.last))
    step.last = now


step.last = T0
ROWS = []


def add(metric, group, n, est=None, lo=None, hi=None, stat=None, df=None, p=None, at=None):
    ROWS.append({"metric": metric, "dimension": "all" if group == "all" else "program",
                 "group": group, "n": n, "estimate": est, "lower": lo, "upper": hi,
                 "statistic": stat, "df": df, "p_value": p, "at": at})


def wilson(metric, group, x, n):
    if n == 0:
        add(metric, group, 0)
        return
    lo, hi = proportion_confint(x, n, alpha=0.05, method="wilson")
    add(metric, group, n, x / n, lo, hi)


def ratio_ci(metric, group, y, x, cluster):
    """Ratio sum(y)/sum(x) with the linearisation variance clustered by
    client (R survey svyratio with ids = ~client_id), normal CI."""
    g = pd.DataFrame({"y": np.asarray(y, float), "x": np.asarray(x, float),
                      "c": np.asarray(cluster)}).groupby("c", sort=False).sum()
    X = g["x"].sum()
    if X == 0:
        add(metric, group, 0)
        return
    r = g["y"].sum() / X
    m = len(g)
    zi = (g["y"] - r * g["x"]) / X
    se = math.sqrt(m / (m - 1) * ((zi - zi.mean()) ** 2).sum()) if m > 1 else float("nan")
    add(metric, group, int(X), r, r - Z * se, r + Z * se)


def by_program(df, fn):
    """fn(sub, group) for the whole frame and for each program."""
    fn(df, "all")
    for prog, sub in df.groupby("program", sort=True):
        fn(sub, prog)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("extract")
    ap.add_argument("--month", default="2026-10")
    ap.add_argument("--level", default="2.1")
    ap.add_argument("--xlsx")
    a = ap.parse_args()
    F = pd.Timestamp(a.month + "-01")
    T = F + pd.offsets.MonthEnd(0)
    ndays = (T - F).days + 1
    d = a.extract.rstrip("/")

    # ---- read the six files, as an analyst would
    def read(name, dates):
        df = pd.read_csv(f"{d}/{name}.csv", dtype={"level_of_care": str})
        for c in dates:
            df[c] = pd.to_datetime(df[c], format="%Y-%m-%d")
        return df

    clients = read("clients", [])
    episodes = read("episodes", ["admit_date", "discharge_date", "referral_date"])
    sessions = read("sessions", ["session_date"])
    assessments = read("assessments", ["assessed_on"])
    screens = read("drug_screens", ["collected_on"])
    followups = read("followups", ["contacted_on"])
    step("read_csv (6 files)")

    # ---- episodes as of T
    ep = episodes[episodes["admit_date"] <= T].copy()
    ep["disc"] = ep["discharge_date"].where(ep["discharge_date"] <= T)      # NaT: open
    ep["program"] = ep["program"].fillna("unknown")
    ep["intensity"] = ep["level_of_care"].map(INTENSITY)
    ep = ep.merge(clients[["client_id", "birth_year"]], on="client_id", how="left")
    ep["adolescent"] = (ep["admit_date"].dt.year - ep["birth_year"]) < 18   # NaN: adult
    ep["los"] = (ep["disc"] - ep["admit_date"]) / DAY
    # every client's episodes in order: admit date, more intensive first, episode_id
    ep = ep.sort_values(["client_id", "admit_date", "intensity", "episode_id"],
                        ascending=[True, True, False, True], kind="mergesort")
    same = ep["client_id"].shift(-1) == ep["client_id"]
    ep["next_admit"] = ep["admit_date"].shift(-1).where(same)
    ep["next_level"] = ep["level_of_care"].shift(-1).where(same)
    ep["next_intensity"] = ep["intensity"].shift(-1).where(same)
    prev_end = ep["disc"].fillna(T + pd.Timedelta(days=10000))
    ep["prev_end"] = prev_end.groupby(ep["client_id"]).cummax().groupby(ep["client_id"]).shift(1)
    lv = ep[ep["level_of_care"] == a.level]
    frame = lv[(lv["disc"].isna() | (lv["disc"] >= F))]
    step("episodes: as-of, order, next episode")

    # ---- 1. census and flow
    adm = lv[lv["admit_date"].between(F, T)]
    dis = lv[lv["disc"].between(F, T)]
    start = frame["admit_date"].clip(lower=F)
    end = (frame["disc"] - DAY).where(frame["disc"] > frame["admit_date"], frame["admit_date"])
    end = end.where(frame["disc"].notna(), T).clip(upper=T)          # open: to T
    frame = frame.assign(client_days=((end - start) / DAY + 1).clip(lower=0))
    on_t = frame[(frame["disc"].isna()) | (frame["disc"] > T)
                 | ((frame["disc"] == T) & (frame["admit_date"] == T))]
    reasons = ["completed", "dropped_out", "terminated", "transferred", "incarcerated", "death", "other"]

    def census(sub, g):
        a_ = adm if g == "all" else adm[adm["program"] == g]
        d_ = dis if g == "all" else dis[dis["program"] == g]
        o_ = on_t if g == "all" else on_t[on_t["program"] == g]
        add("admissions", g, len(a_), len(a_))
        add("discharges", g, len(d_), len(d_))
        counts = d_["discharge_reason"].value_counts()
        for r in reasons:
            add("discharges_" + r, g, int(counts.get(r, 0)), int(counts.get(r, 0)))
        cd = sub["client_days"].sum()
        add("client_days", g, cd, cd)
        add("average_daily_census", g, ndays, cd / ndays)
        add("active_census", g, o_["client_id"].nunique(), o_["client_id"].nunique())
        new = a_["prev_end"].isna()
        ret = ~new & ((a_["admit_date"] - a_["prev_end"]) / DAY > 14)
        add("new_clients", g, int(new.sum()), int(new.sum()))
        add("returning_clients", g, int(ret.sum()), int(ret.sum()))
        add("continuing_clients", g, int((~new & ~ret).sum()), int((~new & ~ret).sum()))

    by_program(frame, census)
    step("census and flow")

    # ---- 3. completion: Wilson CI, chi-square across programs
    def completion(sub, g):
        wilson("completion_rate", g, int((sub["discharge_reason"] == "completed").sum()), len(sub))

    by_program(dis, completion)
    tab = pd.crosstab(dis["program"], dis["discharge_reason"] == "completed").values
    if HAVE_SCIPY:
        chi, p, dof, _ = chi2_contingency(tab, correction=False)
    else:
        res = Table(tab).test_nominal_association()
        chi, p, dof = res.statistic, res.pvalue, res.df
    add("completion_test", "all", len(dis), stat=chi, df=dof, p=p)
    step("completion")

    # ---- 2. retention: Kaplan-Meier of the 12-month admission cohort, log-rank
    F12 = (T - pd.DateOffset(months=12)) + DAY
    coh = lv[lv["admit_date"].between(F12, T)]
    ktime = ((coh["disc"].fillna(T) - coh["admit_date"]) / DAY).values
    kstat = coh["disc"].notna().astype(int).values
    curves = []

    def km(idx, g):
        sf = SurvfuncRight(ktime[idx], kstat[idx])
        t, s = sf.surv_times, sf.surv_prob
        for day in (30, 60, 90):
            j = np.searchsorted(t, day, side="right") - 1
            est = 1.0 if j < 0 else float(s[j])
            lo = hi = est                      # log(-log S) interval, R conf.type = "log-log"
            if 0 < est < 1:
                se = float(sf.surv_prob_se[j]) / (est * abs(math.log(est)))
                th = math.log(-math.log(est))
                lo, hi = math.exp(-math.exp(th + Z * se)), math.exp(-math.exp(th - Z * se))
            add("in_treatment_d%d" % day, g, int(idx.sum()), est, lo, hi)
        med = sf.quantile(0.5)
        lo, hi = sf.quantile_ci(0.5)
        add("los_median", g, int(idx.sum()), med, lo, hi)
        curves.append(pd.DataFrame({"group": g, "at": t, "estimate": s,
                                    "se": sf.surv_prob_se, "n_risk": sf.n_risk}))

    progs = coh["program"].values
    km(np.ones(len(coh), bool), "all")
    for prog in sorted(set(progs)):
        km(progs == prog, prog)
    chi, p = survdiff(ktime, kstat, progs)
    add("logrank", "all", len(coh), stat=chi, df=len(set(progs)) - 1, p=p)
    step("Kaplan-Meier, log-rank (12-month cohort)")

    # ---- 5. attendance: sessions in the month within their episode
    lvf = frame[["episode_id", "client_id", "program", "admit_date", "disc", "adolescent"]]
    s = sessions[sessions["session_date"].between(F - pd.Timedelta(days=6), T)]
    s = s.merge(lvf, on="episode_id", how="inner")
    s = s[(s["session_date"] >= s["admit_date"]) & (s["disc"].isna() | (s["session_date"] <= s["disc"]))]
    sm = s[s["session_date"] >= F]
    elig = (sm["status"] != "cancelled_program").astype(int)

    def attendance(sub, g):
        e = (sub["status"] != "cancelled_program").astype(int)
        ratio_ci("attendance_rate", g, (sub["status"] == "attended").astype(int), e, sub["client_id"])
        ratio_ci("no_show_rate", g, (sub["status"] == "no_show").astype(int), e, sub["client_id"])
        ratio_ci("cancel_rate", g, (sub["status"] == "cancelled_client").astype(int), e, sub["client_id"])

    by_program(sm.assign(eligible=elig), attendance)
    step("attendance, no-show (clustered CI)")

    # weekly hours over full treatment weeks whose last day is in the month
    w = frame[["episode_id", "client_id", "program", "admit_date", "disc", "adolescent"]]
    lim = w["disc"].fillna(T).clip(upper=T)
    kmin = np.maximum(1, np.ceil(((F - w["admit_date"]) / DAY + 1) / 7)).astype(int)
    kmax = np.floor(((lim - w["admit_date"]) / DAY + 1) / 7).astype(int)
    nk = (kmax - kmin + 1).clip(lower=0)
    weeks = w.loc[w.index.repeat(nk)].copy()
    weeks["week"] = np.concatenate([np.arange(a_, b_ + 1) for a_, b_ in zip(kmin[nk > 0], kmax[nk > 0])]) \
        if (nk > 0).any() else []
    att = s[s["status"] == "attended"].copy()
    att["week"] = ((att["session_date"] - att["admit_date"]) / DAY // 7 + 1).astype(int)
    mins = att.groupby(["episode_id", "week"], sort=False)["minutes"].sum().rename("minutes")
    weeks = weeks.merge(mins, left_on=["episode_id", "week"], right_index=True, how="left")
    weeks["hours"] = weeks["minutes"].fillna(0) / 60
    weeks["met"] = (weeks["hours"] >= np.where(weeks["adolescent"], 6, 9)).astype(int)
    weeks["over19"] = (weeks["hours"] * 60 > 1140).astype(int)

    def intensity(sub, g):
        one = np.ones(len(sub))
        ratio_ci("weekly_hours_mean", g, sub["hours"], one, sub["client_id"])
        ratio_ci("asam_hours_met", g, sub["met"], one, sub["client_id"])
        ratio_ci("weekly_hours_over_19", g, sub["over19"], one, sub["client_id"])

    by_program(weeks, intensity)
    step("weekly hours, ASAM met (full weeks)")

    # ---- 6. PHQ-9 paired change, discharges in the month with LOS >= 14
    el = dis[dis["los"] >= 14][["episode_id", "program", "admit_date", "disc"]]
    ph = assessments[assessments["instrument"] == "PHQ9"].merge(el, on="episode_id")
    ph = ph.sort_values(["episode_id", "assessed_on", "assessment_id"], kind="mergesort")
    base = ph[ph["assessed_on"].between(ph["admit_date"] - pd.Timedelta(days=7),
                                        ph["admit_date"] + pd.Timedelta(days=14))]
    base = base.groupby("episode_id").first()[["assessed_on", "score"]]
    ph = ph.merge(base, left_on="episode_id", right_index=True, suffixes=("", "_base"))
    last = ph[(ph["assessed_on"] >= ph["assessed_on_base"] + pd.Timedelta(days=14))
              & (ph["assessed_on"] <= ph["disc"])]
    pairs = last.groupby("episode_id").last()[["program", "score_base", "score"]]
    rci = 5.5 * math.sqrt(2 * (1 - 0.89)) * Z

    def phq(sub, g):
        eln = len(el) if g == "all" else int((el["program"] == g).sum())
        add("phq9_measured_share", g, eln, len(sub) / eln if eln else None)
        if len(sub) < 2:
            add("phq9_change", g, len(sub))
            return
        ch = sub["score"] - sub["score_base"]
        m, sd = ch.mean(), ch.std(ddof=1)
        if HAVE_SCIPY:
            t, p = ttest_rel(sub["score"], sub["score_base"])
        else:
            t, p, _ = DescrStatsW(ch.values).ttest_mean(0)
        q = t_dist.ppf(0.975, len(sub) - 1) if HAVE_SCIPY else Z
        add("phq9_change", g, len(sub), m, m - q * sd / math.sqrt(len(sub)), m + q * sd / math.sqrt(len(sub)),
            t, len(sub) - 1, p)
        add("phq9_reliable_improvement", g, len(sub), float((ch < -rci).mean()))

    by_program(pairs, phq)
    step("PHQ-9 paired change")

    # ---- 7. drug screens: negative share in the month, clustered CI
    sc = screens[screens["collected_on"].between(F, T)].merge(
        lv[["episode_id", "client_id", "program", "moud"]], on="episode_id")
    covered = sc["moud"].isin(["buprenorphine", "methadone"]) & \
        sc["substances"].fillna("").str.split(";").map(lambda xs: xs != [""] and all(x == "opioids" for x in xs))
    sc["neg"] = ((sc["result"] == "negative") | ((sc["result"] == "positive") & covered)).astype(int)
    by_program(sc, lambda sub, g: ratio_ci("uds_negative", g, sub["neg"], np.ones(len(sub)), sub["client_id"]))
    step("drug screens")

    # ---- 8. follow-up reach at 30 days: discharges whose window closed
    fd = lv[lv["disc"].between(F - pd.Timedelta(days=37), T - pd.Timedelta(days=37))]
    fu = followups[followups["reached"] == 1].merge(fd[["episode_id", "disc"]], on="episode_id")
    dd = (fu["contacted_on"] - fu["disc"]) / DAY
    reached = set(fu.loc[dd.between(23, 37), "episode_id"])
    by_program(fd, lambda sub, g: wilson("followup_reach_30d", g, int(sub["episode_id"].isin(reached).sum()), len(sub)))
    step("follow-up reach 30d")

    # ---- 4. continuity after residential / WM within 14 days
    wm = ep["level_of_care"].str.endswith("-WM")
    cd = ep[(ep["level_of_care"].isin(RESIDENTIAL) | wm)
            & ep["disc"].between(F - pd.Timedelta(days=14), T - pd.Timedelta(days=14))].copy()
    cwm = cd["level_of_care"].str.endswith("-WM")
    within = cd["next_admit"] <= cd["disc"] + pd.Timedelta(days=14)
    lower = np.where(cwm, ~cd["next_level"].fillna("").str.endswith("-WM") & cd["next_level"].notna(),
                     cd["next_intensity"] < cd["intensity"])
    cd["ok"] = within & lower
    by_program(cd, lambda sub, g: wilson("continuity_14d", g, int(sub["ok"].sum()), len(sub)))
    step("continuity 14d")

    out = pd.DataFrame(ROWS)
    if a.xlsx:
        with pd.ExcelWriter(a.xlsx, engine="openpyxl") as xw:
            out.to_excel(xw, sheet_name="Figures", index=False)
            pd.concat(curves).to_excel(xw, sheet_name="KM curves", index=False)
            (weeks.groupby("program")["hours"].describe()
             .to_excel(xw, sheet_name="Weekly hours"))
            out[out["metric"].isin(["admissions", "discharges", "active_census",
                                    "average_daily_census", "completion_rate"])] \
                .pivot(index="group", columns="metric", values="estimate") \
                .to_excel(xw, sheet_name="Census")
        step("to_excel (openpyxl)")

    def fig(metric, g="all"):
        r = out[(out["metric"] == metric) & (out["group"] == g)].iloc[0]
        return r

    print(f"pandas_metrics: {a.month} level {a.level}, {len(sessions)} sessions read, "
          f"{len(out)} figures, scipy={'yes' if HAVE_SCIPY else 'no'}")
    for m in ["admissions", "discharges", "active_census", "average_daily_census"]:
        print(f"  {m:26s} {fig(m)['estimate']:.6g}")
    for m in ["completion_rate", "attendance_rate", "no_show_rate", "weekly_hours_mean",
              "asam_hours_met", "uds_negative", "followup_reach_30d", "continuity_14d",
              "phq9_change", "in_treatment_d30", "los_median"]:
        r = fig(m)
        print(f"  {m:26s} {r['estimate']:.6g} [{r['lower']:.6g}, {r['upper']:.6g}] n={r['n']}")
    for m in ["completion_test", "logrank"]:
        r = fig(m)
        print(f"  {m:26s} chi2={r['statistic']:.4f} df={r['df']} p={r['p_value']:.4g}")
    print("steps (s):")
    for name, sec in STEPS:
        print(f"  {name:42s} {sec:7.2f}")
    print(f"  {'total':42s} {time.perf_counter() - T0:7.2f}")


if __name__ == "__main__":
    sys.exit(main())
