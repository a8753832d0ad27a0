# cif.R - Aalen-Johansen oracle: for each CSV (columns time, cause, and
# optionally cluster) survfit(Surv(time, state) ~ 1, conf.type =
# "log-log") with state = factor(cause, levels = 0:K), 0 the censoring.
# pstate, std.err, lower and upper are printed column by column (state
# "(s0)" first). With a cluster column, R 3.5's multi-state survfit
# ignores cluster=, so the clustered standard error is R's per-row
# influence (influence = TRUE) summed within clusters, and the interval
# is survival:::survfit_confint on it.
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))), "common.R"))
suppressPackageStartupMessages(library(survival))

for (k in seq_along(oracle_files())) {
  d <- read.csv(oracle_files()[k])
  K <- max(d$cause)
  d$state <- factor(d$cause, levels = 0:K)
  fit <- survfit(Surv(time, state) ~ 1, data = d, conf.type = "log-log",
                 influence = "cluster" %in% names(d))
  se <- fit$std.err
  lower <- fit$lower
  upper <- fit$upper
  if ("cluster" %in% names(d)) {
    inf <- fit$influence.pstate  # rows x (t0, times) x states
    se <- matrix(0, length(fit$time), K + 1)
    for (s in 1:(K + 1))
      se[, s] <- sqrt(colSums(rowsum(inf[, -1, s], d$cluster)^2))
    ci <- survival:::survfit_confint(fit$pstate, se, logse = FALSE,
                                     conf.type = "log-log", conf.int = 0.95)
    lower <- ci$lower
    upper <- ci$upper
  }
  put(k, "time", fit$time)
  put(k, "n.risk", fit$n.risk[, 1])
  put(k, "n.event", rowSums(as.matrix(fit$n.event)))
  put(k, "n.censor", fit$n.censor)
  put(k, "states", K + 1)
  for (s in 1:(K + 1)) {
    put(k, paste0("pstate.", s - 1), fit$pstate[, s])
    put(k, paste0("std.err.", s - 1), se[, s])
    put(k, paste0("lower.", s - 1), lower[, s])
    put(k, paste0("upper.", s - 1), upper[, s])
  }
}
