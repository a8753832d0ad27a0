# wilson.R - Wilson interval oracle: for each CSV (columns x, n), per row
# prop.test(x, n, correct = FALSE)$conf.int.
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))), "common.R"))

for (k in seq_along(oracle_files())) {
  d <- read.csv(oracle_files()[k])
  ci <- sapply(seq_len(nrow(d)), function(i)
    suppressWarnings(prop.test(d$x[i], d$n[i], correct = FALSE))$conf.int)
  put(k, "lower", ci[1, ])
  put(k, "upper", ci[2, ])
}
