# dimension.R - the --by groups of metrics.md, computed here from an
# export of episodes with their clients' columns (sourced by the
# metrics_*.R oracles, so that every section is checked for every
# dimension the same independent way).
#
# dimension(d, by): the group of each row of d. A missing value is its own
# group, "unknown"; cohort = the admission month (YYYY-MM); age_band = the
# age at admission (admission year - birth year) in metrics.md's bands.
dimension <- function(d, by) {
    age_band <- function() {
        age <- as.integer(substr(d$admit_date, 1, 4)) - as.integer(d$birth_year)
        ifelse(is.na(age), "unknown",
               as.character(cut(age, c(-Inf, 17, 25, 34, 44, 54, 64, Inf),
                                labels = c("under 18", "18-25", "26-34", "35-44",
                                           "45-54", "55-64", "65+"))))
    }
    v <- switch(by,
                counselor = d$counselor_id,
                cohort = substr(d$admit_date, 1, 7),
                age_band = age_band(),
                d[[by]])
    if (is.null(v)) stop("dimension: the export has no column for ", by)
    v <- as.character(v)
    v[is.na(v)] <- "unknown"
    v
}
