# metrics_retention.R EPISODES.csv FROM TO LEVEL [BY]: retention figures
# (metrics.md section 2) from an export of the base tables episodes JOIN
# clients, computed independently in R: the cohort, its times and outcomes
# are re-derived here from the dates; survfit(conf.type = "log-log"),
# summary(fit, rmean = 365), the multi-state survfit (Aalen-Johansen),
# survdiff, coxph(ties = "efron", cluster = client_id).
# Prints metric,group,at,field,value (NA where iopstat prints nothing).
#
# Conventions of iopstat mirrored here (docs/metrics/retention.md): R's NA
# interval where a probability is 1 (or 0) is [1, 1] ([0, 0]); of the
# median's interval, each limit R gives (NA where a band never reaches 0.5);
# a day past the largest observed time is NA ("insufficient follow-up").
suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
x <- read.csv(args[1], stringsAsFactors = FALSE, na.strings = "",
              colClasses = c(client_id = "character", episode_id = "character"))
from <- as.Date(args[2]); to <- as.Date(args[3]); level <- args[4]
by <- if (length(args) >= 5) args[5] else NA
out <- function(metric, group, at, field, value)
    cat(sprintf("%s,%s,%s,%s,%s\n", metric, group, at, field,
                if (is.na(value)) "NA" else format(value, digits = 17)))
unk <- function(v) { v <- as.character(v); v[is.na(v)] <- "unknown"; v }
x <- x[x$level_of_care == level, ]
x$adm <- as.Date(x$admit_date); x$dis <- as.Date(x$discharge_date)
age <- as.integer(substr(x$admit_date, 1, 4)) - x$birth_year
x$age_band <- ifelse(is.na(age), "unknown",
    as.character(cut(age, c(-Inf, 17, 25, 34, 44, 54, 64, Inf),
                     labels = c("under 18", "18-25", "26-34", "35-44", "45-54", "55-64", "65+"))))
x$outcome <- c(completed = "completed", dropped_out = "dropout", terminated = "dropout",
               transferred = "transferred", incarcerated = "other", death = "other",
               other = "other")[x$discharge_reason]
x$ev <- !is.na(x$dis) & x$dis <= to
x$time <- as.numeric(ifelse(x$ev, x$dis - x$adm, to - x$adm))
x$state <- factor(ifelse(x$ev, x$outcome, "open"),
                  levels = c("open", "completed", "dropout", "transferred", "other"))
x$dropout <- as.integer(x$ev & x$outcome == "dropout")
dimcol <- function(d, by) switch(by, counselor = unk(d$counselor_id),
    cohort = substr(d$admit_date, 1, 7), age_band = d$age_band, unk(d[[by]]))
disch <- x[!is.na(x$dis) & x$dis >= from & x$dis <= to, ]
cohort <- x[x$adm >= from & x$adm <= to, ]

# The step function of a survfit at t: value, lower, upper (NA past the end).
step <- function(time, p, lo, up, t, before) {
    if (length(time) == 0 || t > max(time)) return(c(NA, NA, NA))
    i <- which(time <= t)
    if (length(i) == 0) return(c(before, before, before))
    i <- max(i)
    ci <- c(lo[i], up[i])
    if (p[i] == 1) ci <- c(1, 1)
    if (p[i] == 0) ci <- c(0, 0)
    c(p[i], ci)
}
put3 <- function(metric, group, at, n, v) {
    out(metric, group, at, "n", n)
    out(metric, group, at, "estimate", v[1])
    out(metric, group, at, "lower", v[2]); out(metric, group, at, "upper", v[3])
}

km <- function(d, group) {
    n <- nrow(d)
    fit <- if (n > 0) survfit(Surv(time, as.integer(ev)) ~ 1, data = d, conf.type = "log-log")
    for (t in c(30, 60, 90))
        put3(sprintf("in_treatment_d%d", t), group, "", n,
             if (n > 0) step(fit$time, fit$surv, fit$lower, fit$upper, t, 1) else rep(NA, 3))
    if (n == 0) {
        for (m in c("los_median", "los_rmean_365")) put3(m, group, "", 0, rep(NA, 3))
        return()
    }
    tab <- summary(fit, rmean = 365)$table
    ci <- tab[c("0.95LCL", "0.95UCL")]
    put3("los_median", group, "", n, c(tab["median"], ci))
    z <- qnorm(0.975)
    put3("los_rmean_365", group, "", n,
         c(tab["rmean"], tab["rmean"] - z * tab["se(rmean)"], tab["rmean"] + z * tab["se(rmean)"]))
    for (i in which(fit$n.event > 0))
        put3("km_curve", group, fit$time[i], n,
             step(fit$time, fit$surv, fit$lower, fit$upper, fit$time[i], 1))
}

cif <- function(d, group) {
    n <- nrow(d)
    fit <- if (n > 0) survfit(Surv(time, state) ~ 1, data = d, conf.type = "log-log")
    at <- function(s, t) if (n == 0) rep(NA, 3) else {
        j <- match(s, fit$states)
        step(fit$time, fit$pstate[, j], fit$lower[, j], fit$upper[, j], t, 0)
    }
    for (s in c("completed", "dropout", "transferred", "other"))
        put3(sprintf("cif_%s_d90", s), group, "", n, at(s, 90))
    for (t in c(30, 60, 90)) {
        v <- at("dropout", t)
        put3(sprintf("retained_d%d", t), group, "", n, c(1 - v[1], 1 - v[3], 1 - v[2]))
    }
    if (n == 0) return()
    for (i in which(rowSums(as.matrix(fit$n.event)) > 0))
        for (s in c("dropout", "completed"))
            put3(sprintf("cif_%s_curve", s), group, fit$time[i], n, at(s, fit$time[i]))
}

figures <- function(group, d, dc) {
    out("alos_discharged", group, "", "n", nrow(dc))
    out("alos_discharged", group, "", "estimate",
        if (nrow(dc)) mean(as.numeric(dc$dis - dc$adm)) else NA)
    km(d, group)
    cif(d, group)
}

# cox_hr: reference = the largest level by episodes, ties by name (bytes).
cox <- function(d, dim) {
    if (nrow(d) == 0) return()
    g <- dimcol(d, dim)
    cnt <- table(g)
    lv <- names(cnt)[order(-as.vector(cnt), rank_bytes(names(cnt)))]
    if (length(lv) < 2) return()
    d$g <- factor(g, levels = lv)
    covs <- c("age_band", "sex", "co_occurring", "primary_substance", "referral_source")
    for (v in covs) d[[v]] <- factor(unk(d[[v]]))
    covs <- covs[sapply(covs, function(v) nlevels(d[[v]]) > 1)]
    f <- as.formula(paste("Surv(time, dropout) ~", paste(c(covs, "g"), collapse = " + ")))
    warn <- character(0)
    fit <- withCallingHandlers(coxph(f, data = d, ties = "efron", cluster = client_id),
        warning = function(w) { warn <<- c(warn, conditionMessage(w)); invokeRestart("muffleWarning") })
    inf <- grep("coefficient may be infinite", warn, value = TRUE)
    infcols <- if (length(inf)) as.integer(strsplit(sub(".*variable *([0-9,]+).*", "\\1", inf[1]), ",")[[1]]) else integer(0)
    noconv <- length(grep("did not converge|iterations", warn)) > 0
    s <- summary(fit)
    cn <- names(coef(fit))
    for (l in lv[-1]) {
        out("cox_hr", l, "", "n", sum(g == l))
        j <- match(paste0("g", l), cn)
        ok <- sum(d$dropout[g == l]) > 0 && !noconv && !is.na(coef(fit)[j]) && !(j %in% infcols)
        out("cox_hr", l, "", "estimate", if (ok) exp(coef(fit)[j]) else NA)
        out("cox_hr", l, "", "lower", if (ok) s$conf.int[j, "lower .95"] else NA)
        out("cox_hr", l, "", "upper", if (ok) s$conf.int[j, "upper .95"] else NA)
        out("cox_hr", l, "", "statistic", if (ok) s$coefficients[j, "z"] else NA)
        out("cox_hr", l, "", "p_value", if (ok) s$coefficients[j, "Pr(>|z|)"] else NA)
    }
}
rank_bytes <- function(s) match(s, sort(s, method = "radix"))

figures("all", cohort, disch)
for (dim in c("program", "counselor"))
    if (is.na(by) || by == dim) cox(cohort, dim)
if (!is.na(by)) {
    gc <- dimcol(cohort, by); gd <- dimcol(disch, by)
    for (v in sort(unique(c(gc, gd)), method = "radix"))
        figures(v, cohort[gc == v, ], disch[gd == v, ])
    if (nrow(cohort) > 0) {
        # survdiff needs two groups; with fewer than two at risk, no test
        sd <- if (length(unique(gc)) >= 2) survdiff(Surv(time, as.integer(ev)) ~ gc, data = cohort)
        df <- if (is.null(sd)) 0 else sum(sd$exp > 0) - 1
        out("logrank", "all", "", "n", nrow(cohort))
        out("logrank", "all", "", "statistic", if (df >= 1) sd$chisq else NA)
        out("logrank", "all", "", "df", if (df >= 1) df else NA)
        out("logrank", "all", "", "p_value",
            if (df >= 1) pchisq(sd$chisq, df, lower.tail = FALSE) else NA)
    }
}
