# metrics_quality.R EPISODES.csv SESSIONS.csv ASSESSMENTS.csv REJECTS.csv READ.csv FROM TO LEVEL [BY]
# Section 9 (access and data quality) from exports of the base tables
# (episodes joined to clients; sessions; PHQ9 assessments; the rejects of
# the current run; records read per file of that run), computed
# independently in R: quantile(type = 7), prop.test(correct = FALSE). Prints metric,group,at,field,value.
args <- commandArgs(trailingOnly = TRUE)
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))), "dimension.R"))
rd <- function(f) if (file.size(f) == 0) data.frame(file = character(), records_read = character()) else
    read.csv(f, stringsAsFactors = FALSE, na.strings = "", colClasses = "character")
e <- rd(args[1]); s <- rd(args[2]); a <- rd(args[3]); rej <- rd(args[4]); files <- rd(args[5])
from <- as.Date(args[6]); to <- as.Date(args[7]); level <- args[8]
by <- if (length(args) >= 9) args[9] else NA
out <- function(metric, group, at, field, value)
    cat(sprintf("%s,%s,%s,%s,%s\n", metric, group, at, field,
                if (is.na(value)) "NA" else format(value, digits = 17)))
share <- function(metric, group, x, n, at = "") {
    out(metric, group, at, "n", n)
    if (n == 0) { out(metric, group, at, "estimate", NA); return() }
    ci <- prop.test(x, n, correct = FALSE)$conf.int
    out(metric, group, at, "estimate", x / n)
    out(metric, group, at, "lower", ci[1]); out(metric, group, at, "upper", ci[2])
}
e$adm <- as.Date(e$admit_date); e$dis <- as.Date(e$discharge_date)
e$ref <- as.Date(e$referral_date)
e$grp <- if (is.na(by)) rep("all", nrow(e)) else dimension(e, by)
e$grp[is.na(e$grp)] <- "unknown"
s$day <- as.Date(s$session_date); a$day <- as.Date(a$assessed_on)
# End of an episode as of `to`: its discharge, or never while open on `to`.
e$end <- ifelse(is.na(e$dis) | e$dis > to, Inf, as.numeric(e$dis))
all_e <- e
e <- e[e$level_of_care == level, ]

figures <- function(d, group) {
    adm <- d[d$adm >= from & d$adm <= to & !is.na(d$ref), ]
    out("wait_days_median", group, "", "n", nrow(adm))
    if (nrow(adm) > 0) {
        q <- quantile(as.numeric(adm$adm - adm$ref), c(0.25, 0.5, 0.75), type = 7)
        out("wait_days_median", group, "", "estimate", q[2])
        out("wait_days_median", group, "", "lower", q[1]); out("wait_days_median", group, "", "upper", q[3])
    } else out("wait_days_median", group, "", "estimate", NA)
    act <- d[d$adm <= to & (is.na(d$dis) | d$dis >= from), ]
    for (f in c("site", "program", "counselor_id", "referral_date", "moud"))
        share("dq_completeness", group, sum(!is.na(act[[f]])), nrow(act), paste0("episodes.", f))
    cl <- act[!duplicated(act$client_id), ]
    for (f in c("birth_year", "sex", "race", "ethnicity", "primary_substance", "co_occurring",
                "referral_source", "payer"))
        share("dq_completeness", group, sum(!is.na(cl[[f]])), nrow(cl), paste0("clients.", f))
    open <- d[d$adm <= to & (is.na(d$dis) | d$dis > to), ]
    share("dq_open_over_180d", group, sum(as.numeric(to - open$adm) > 180), nrow(open))
    dis <- d[!is.na(d$dis) & d$dis >= from & d$dis <= to, ]
    att <- merge(s[s$status == "attended", ], dis[, c("episode_id", "adm", "dis")], by = "episode_id")
    att <- att[att$day >= att$adm & att$day <= att$dis, ]
    share("dq_discharged_without_session", group, sum(!(dis$episode_id %in% att$episode_id)), nrow(dis))
    outside(d, group)
    ov <- merge(act[, c("episode_id", "client_id", "adm", "end")],
                all_e[all_e$adm <= to, c("episode_id", "client_id", "adm", "end")], by = "client_id")
    ov <- ov[ov$episode_id.x != ov$episode_id.y & as.numeric(ov$adm.y) < ov$end.x &
             as.numeric(ov$adm.x) < ov$end.y, ]
    share("dq_overlapping_episodes", group, length(unique(ov$episode_id.x)), nrow(act))
    el <- dis[as.numeric(dis$dis - dis$adm) >= 14, ]
    b <- merge(a, el[, c("episode_id", "adm")], by = "episode_id")
    b <- b[b$day >= b$adm - 7 & b$day <= b$adm + 14, ]
    share("dq_missing_baseline", group, sum(!(el$episode_id %in% b$episode_id)), nrow(el))
}
outside <- function(d, group) {
    x <- merge(s[s$day >= from & s$day <= to, ], d[, c("episode_id", "adm", "dis")], by = "episode_id")
    n <- sum(x$day < x$adm | (!is.na(x$dis) & x$day > x$dis))
    out("dq_sessions_outside_episode", group, "", "n", n)
    out("dq_sessions_outside_episode", group, "", "estimate", n)
}
figures(e, "all")
if (!is.na(by)) for (v in sort(unique(e$grp[e$adm <= to & (is.na(e$dis) | e$dis >= from)]),
                               method = "radix"))
    figures(e[e$grp == v, ], v)
# Rejected records of the current run, per file and in all.
for (k in seq_len(nrow(files)))
    share("dq_rejected", "all", sum(rej$file == files$file[k]), as.numeric(files$records_read[k]), files$file[k])
share("dq_rejected", "all", nrow(rej), sum(as.numeric(files$records_read)))
