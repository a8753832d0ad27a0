# cox.R - Cox oracle: for each CSV (columns time, event, cluster, then the
# design matrix columns) coxph(Surv(time, event) ~ ., ties = "efron",
# cluster = cluster): coefficients, se(coef), robust se, Wald p, interval,
# log-likelihoods, iterations, and whether R warned of an infinite
# coefficient (which columns) or of non-convergence.
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))), "common.R"))
suppressPackageStartupMessages(library(survival))

for (k in seq_along(oracle_files())) {
  d <- read.csv(oracle_files()[k])
  cl <- d$cluster
  d$cluster <- NULL
  warn <- character(0)
  fit <- withCallingHandlers(
    coxph(Surv(time, event) ~ ., data = d, ties = "efron", cluster = cl),
    warning = function(w) {
      warn <<- c(warn, conditionMessage(w))
      invokeRestart("muffleWarning")
    })
  inf <- grep("coefficient may be infinite", warn, value = TRUE)
  cols <- if (length(inf)) as.integer(strsplit(sub(".*variable *([0-9,]+).*", "\\1", inf[1]), ",")[[1]]) - 1 else integer(0)
  put(k, "infinite", cols)
  put(k, "noconv", length(grep("did not converge", warn)))
  s <- summary(fit)
  put(k, "coef", fit$coefficients)
  put(k, "se", sqrt(diag(fit$naive.var)))
  put(k, "robust", sqrt(diag(fit$var)))
  put(k, "p", s$coefficients[, "Pr(>|z|)"])
  put(k, "lower", s$conf.int[, "lower .95"])
  put(k, "upper", s$conf.int[, "upper .95"])
  put(k, "loglik", fit$loglik)
  put(k, "iter", fit$iter)
}
