# km.R - Kaplan-Meier oracle: for each CSV (columns time, event) the rows
# of survfit(Surv(time, event) ~ 1, conf.type = "log-log"), the printed
# median and CI, restricted means at 365 and 10, and S(t) at fixed days.
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))), "common.R"))
suppressPackageStartupMessages(library(survival))

for (k in seq_along(oracle_files())) {
  d <- read.csv(oracle_files()[k])
  fit <- survfit(Surv(time, event) ~ 1, data = d, conf.type = "log-log")
  put(k, "time", fit$time)
  put(k, "n.risk", fit$n.risk)
  put(k, "n.event", fit$n.event)
  put(k, "n.censor", fit$n.censor)
  put(k, "surv", fit$surv)
  put(k, "std.err", fit$std.err)
  put(k, "lower", fit$lower)
  put(k, "upper", fit$upper)
  for (tau in c(365, 10)) {
    tab <- summary(fit, rmean = tau)$table
    put(k, paste0("rmean", tau), tab[c("rmean", "se(rmean)")])
  }
  tab <- summary(fit)$table
  put(k, "median", tab[c("median", "0.95LCL", "0.95UCL")])
  s <- summary(fit, times = c(0, 1, 5, 10, 30, 60, 90, 365), extend = FALSE)
  put(k, "at.time", s$time)
  put(k, "at.surv", s$surv)
  put(k, "at.std.err", s$std.err)
  put(k, "at.lower", s$lower)
  put(k, "at.upper", s$upper)
}
