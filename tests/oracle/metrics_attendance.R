# metrics_attendance.R EPISODES.csv SESSIONS.csv FROM TO LEVEL [BY]: the
# figures of metrics.md section 5 computed independently in R from the base
# tables (episodes joined with clients' birth_year and grouping columns;
# sessions): survey::svyratio for the clustered rates, prop.test for IET.
# Prints metric,group,at,field,value.
suppressPackageStartupMessages(library(survey))
args <- commandArgs(trailingOnly = TRUE)
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))), "dimension.R"))
e <- read.csv(args[1], stringsAsFactors = FALSE, na.strings = "",
              colClasses = "character")
s <- read.csv(args[2], stringsAsFactors = FALSE, na.strings = "",
              colClasses = c(minutes = "numeric", .default = "character"))
from <- as.Date(args[3]); to <- as.Date(args[4]); level <- args[5]
by <- if (length(args) >= 6) args[6] else NA
out <- function(metric, group, at, field, value)
    cat(sprintf("%s,%s,%s,%s,%s\n", metric, group, at, field,
                if (is.na(value)) "NA" else format(value, digits = 17)))

e <- e[e$level_of_care == level, ]
e$a <- as.Date(e$admit_date); e$d <- as.Date(e$discharge_date)
e$age <- as.integer(substr(e$admit_date, 1, 4)) - as.integer(e$birth_year)
s$date <- as.Date(s$session_date)
s <- merge(s, e[, c("episode_id", "client_id", "a", "d")], by = "episode_id")

ratio <- function(metric, group, y, x, cl, at = "") {
    out(metric, group, at, "n", sum(x))
    if (length(x) == 0 || sum(x) == 0) { out(metric, group, at, "estimate", NA); return() }
    if (length(unique(cl)) < 2) {
        out(metric, group, at, "estimate", sum(y) / sum(x))
        out(metric, group, at, "lower", NA); out(metric, group, at, "upper", NA)
        return()
    }
    d <- data.frame(y = y, x = x, cl = cl)
    r <- svyratio(~y, ~x, svydesign(ids = ~cl, data = d))
    ci <- confint(r)
    out(metric, group, at, "estimate", coef(r))
    out(metric, group, at, "lower", ci[1]); out(metric, group, at, "upper", ci[2])
}
share <- function(metric, group, x, n) {
    out(metric, group, "", "n", n)
    if (n == 0) { out(metric, group, "", "estimate", NA); return() }
    ci <- suppressWarnings(prop.test(x, n, correct = FALSE))$conf.int
    out(metric, group, "", "estimate", x / n)
    out(metric, group, "", "lower", ci[1]); out(metric, group, "", "upper", ci[2])
}

# Session rates: sessions in [from, to] inside an episode overlapping it.
rates <- function(ep, ss, group) {
    end <- pmin(ss$d, to, na.rm = TRUE)
    S <- ss[ss$episode_id %in% ep$episode_id & ss$date >= from & ss$date <= to &
            ss$date >= ss$a & ss$date <= end, ]
    elig <- as.numeric(S$status != "cancelled_program")
    ratio("attendance_rate", group, as.numeric(S$status == "attended"), elig, S$client_id)
    ratio("no_show_rate", group, as.numeric(S$status == "no_show"), elig, S$client_id)
    ratio("cancel_rate", group, as.numeric(S$status == "cancelled_client"), elig, S$client_id)
}

# Full weeks whose last day is in [from, to], one row each.
weeks <- function(ep, ss, group) {
    W <- data.frame(client_id = character(), hours = numeric(), need = numeric())
    att <- ss[ss$status == "attended", ]
    for (i in seq_len(nrow(ep))) {
        last <- min(ep$d[i], to, na.rm = TRUE)
        k <- 1
        mine <- att[att$episode_id == ep$episode_id[i], ]
        while (ep$a[i] + 7 * k - 1 <= last) {
            wend <- ep$a[i] + 7 * k - 1
            if (wend >= from) {
                m <- sum(mine$minutes[mine$date >= wend - 6 & mine$date <= wend])
                need <- if (!is.na(ep$age[i]) && ep$age[i] < 18) 360 else 540
                W[nrow(W) + 1, ] <- list(ep$client_id[i], m / 60, need)
            }
            k <- k + 1
        }
    }
    one <- rep(1, nrow(W))
    ratio("weekly_hours_mean", group, W$hours, one, W$client_id)
    ratio("asam_hours_met", group, as.numeric(W$hours * 60 >= W$need), one, W$client_id)
    ratio("weekly_hours_over_19", group, as.numeric(W$hours * 60 > 1140), one, W$client_id)
}

iet <- function(eg, ss, group) {
    att <- ss[ss$status == "attended", ]
    init_date <- function(i, ep) {
        m <- att$date[att$episode_id == ep$episode_id[i] & att$date >= ep$a[i] &
                      att$date <= min(ep$a[i] + 13, ep$d[i], na.rm = TRUE)]
        if (length(m)) min(m) else as.Date(NA)
    }
    ix <- eg[eg$a >= from - 13 & eg$a <= to - 13, ]
    n_init <- sum(!is.na(do.call(c, lapply(seq_len(nrow(ix)), init_date, ep = ix))))
    share("iet_initiation", group, n_init, nrow(ix))
    ix <- eg[eg$a >= from - 47 & eg$a <= to - 47, ]
    engaged <- 0
    for (i in seq_len(nrow(ix))) {
        d0 <- init_date(i, ix)
        if (is.na(d0)) next
        m <- att$date[att$episode_id == ix$episode_id[i] & att$date > d0 &
                      att$date <= min(d0 + 34, ix$d[i], na.rm = TRUE)]
        if (length(unique(m)) >= 2) engaged <- engaged + 1
    }
    share("iet_engagement", group, engaged, nrow(ix))
}

watch <- function(eg, ss, group) {
    op <- eg[eg$a <= to & (is.na(eg$d) | eg$d > to), ]
    flagged <- c()
    for (i in seq_len(nrow(op))) {
        m <- ss[ss$episode_id == op$episode_id[i] & ss$date >= op$a[i] & ss$date <= to &
                ss$status != "cancelled_program", ]
        m <- m[order(m$date, m$session_id, method = "radix", decreasing = TRUE), ]
        r1 <- nrow(m) >= 2 && all(m$status[1:2] == "no_show")
        r2 <- op$a[i] <= to - 7 &&
              !any(m$status == "attended" & m$date >= to - 6 & m$date <= to)
        if (r1 || r2) flagged <- c(flagged, op$client_id[i])
    }
    out("watch_list", group, "", "n", length(unique(flagged)))
    out("watch_list", group, "", "estimate", length(unique(flagged)))
}

figures <- function(eg, group) {
    ep <- eg[eg$a <= to & (is.na(eg$d) | eg$d >= from), ]
    ss <- s[s$episode_id %in% eg$episode_id, ]
    rates(ep, ss, group)
    weeks(ep, ss, group)
    iet(eg, ss, group)
    watch(eg, ss, group)
}
figures(e, "all")
if (!is.na(by)) {
    g <- dimension(e, by)
    live <- e$a <= to & (is.na(e$d) | e$d >= from)
    for (v in sort(unique(g[live]), method = "radix")) figures(e[g == v, ], v)
}
