# quantile.R - quantile oracle: for each CSV (column x) quantile(x, probs,
# type = 7) at the probabilities below (the C test uses the same list).
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))), "common.R"))

probs <- c(0, 0.1, 0.25, 1/3, 0.5, 0.75, 0.9, 0.99, 1)
for (k in seq_along(oracle_files())) {
  d <- read.csv(oracle_files()[k])
  put(k, "q", quantile(d$x, probs, type = 7, names = FALSE))
}
