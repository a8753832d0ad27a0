# common.R - output helpers shared by the oracle scripts.
#
# Every script takes CSV files as arguments and prints, for the k-th file,
# lines "k name v1 v2 ..." with each value as sprintf("%.17g") (NA and NaN
# print as NA, infinities as Inf/-Inf), which tests/unit/test_stats_oracle.c
# parses and compares with the C library.

put <- function(k, name, x) {
  x <- as.numeric(x)
  v <- ifelse(is.na(x), "NA", sprintf("%.17g", x))
  cat(k, name, v, "\n")
}

oracle_files <- function() commandArgs(trailingOnly = TRUE)
