/*
 * report_lists.c - the Watch List (clients to call, metrics.md section 5)
 * and the Definitions sheet (every figure on the workbook).
 *
 * The Watch List is client-level: the pseudonymous client_id and episode
 * facts only, no other identifier. It streams from SQL and shows at most
 * the sheet's `limit` rows, stating the total, so memory stays flat
 * however many clients qualify. A workbook made with --suppress N shows
 * the count only.
 */
#include <stdio.h>
#include <string.h>

#include "iop/date.h"
#include "iop/report.h"

/* Clients open on ?2 at level ?1 whose last two sessions on or before
 * ?2 inside the episode (by date then session_id, skipping
 * cancelled_program; as the watch_list metric counts them) are both
 * no-shows, or admitted at least 7 days before ?2 with no attended
 * session in the 7 days ending on ?2. The open episodes come from
 * `episodes` (every column read is the table's own) and each test is a
 * lookup into that episode's sessions through their index: a few
 * thousand episodes, not every episode's neighbours or every session. */
static const char WATCH_SQL[] =
    "WITH o AS (SELECT e.episode_id, e.client_id, e.program, e.counselor_id, e.admit_date"
    "  FROM episodes AS e WHERE e.level_of_care = ?1 AND e.admit_date <= ?2"
    "  AND (e.discharge_date IS NULL OR e.discharge_date > ?2)),"
    " f AS (SELECT o.*,"
    "  (SELECT count(*) FROM (SELECT s.status FROM sessions AS s"
    "   WHERE s.episode_id = o.episode_id AND s.session_date BETWEEN o.admit_date AND ?2"
    "   AND s.status <> 'cancelled_program'"
    "   ORDER BY s.session_date DESC, s.session_id DESC LIMIT 2)"
    "   WHERE status = 'no_show') = 2 AS two,"
    "  (o.admit_date <= date(?2, '-7 days') AND NOT EXISTS (SELECT 1 FROM sessions AS s"
    "   WHERE s.episode_id = o.episode_id AND s.status = 'attended'"
    "   AND s.session_date > date(?2, '-7 days') AND s.session_date <= ?2)) AS idle,"
    "  (SELECT max(s.session_date) FROM sessions AS s WHERE s.episode_id = o.episode_id"
    "   AND s.status = 'attended' AND s.session_date BETWEEN o.admit_date AND ?2) AS attended"
    "  FROM o)"
    " SELECT client_id, episode_id, program, counselor_id, admit_date,"
    "  CAST(julianday(?2) - julianday(admit_date) AS INTEGER), attended,"
    "  CASE WHEN two AND idle THEN 'last two sessions missed; no attended session in 7 days'"
    "   WHEN two THEN 'last two sessions missed (no-shows)'"
    "   ELSE 'no attended session in the 7 days to the month end' END"
    " FROM f WHERE two OR idle ORDER BY client_id, episode_id";

static const char *const WATCH_HEAD[] = {"client_id", "Episode", "Program", "Counselor",
    "Admitted", "Days in treatment", "Last attended session", "Why on the list"};

/* The rows of WATCH_SQL at level, as of to: *episodes client episodes
 * and *clients distinct clients (as the watch_list figure counts them),
 * in one pass; false on a database error. */
static bool watch_count(iop_rctx *r, const char *to, long *episodes, long *clients)
{
    char *sql = sqlite3_mprintf("SELECT count(*), count(DISTINCT client_id) FROM (%s)",
                                WATCH_SQL);
    sqlite3_stmt *st = NULL;
    bool ok = false;

    if (sql && sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, r->o->level, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
        if ((ok = sqlite3_step(st) == SQLITE_ROW)) {
            *episodes = sqlite3_column_int64(st, 0);
            *clients = sqlite3_column_int64(st, 1);
        }
    }
    sqlite3_finalize(st);
    sqlite3_free(sql);
    return ok;
}

/* n as the suppressed sheets show a count: "<N" for 1 to N-1. */
static void hidden(char *out, size_t size, long n, long N)
{
    if (n >= 1 && n < N)
        snprintf(out, size, "<%ld", N);
    else
        snprintf(out, size, "%ld", n);
}

/*
 * Under --suppress N the workbook is for readers outside the program, and
 * a list of clients (with program, counselor and dates) would name the
 * very people whose small counts are hidden: the sheet gives the count
 * only, hidden as any count from 1 to N-1 is, and says why.
 */
static iop_code watch_withheld(iop_rctx *r, iop_rws *s, int row, const char *to, iop_error *err)
{
    char count[32], buf[320];
    long N = r->o->suppress, total, clients;

    if (!watch_count(r, to, &total, &clients)) {
        iop_rws_release(s);
        return iop_error_set(err, IOP_EIO, NULL, 0, 0, "database error: %s", sqlite3_errmsg(r->db));
    }
    hidden(count, sizeof count, total, N);
    snprintf(buf, sizeof buf, "%s client episode%s", count, total == 1 ? "" : "s");
    if (clients != total) {
        hidden(count, sizeof count, clients, N);
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), " (%s client%s)", count,
                 clients == 1 ? "" : "s");
    }
    snprintf(buf + strlen(buf), sizeof buf - strlen(buf), " on the watch list on %s.", to);
    iop_rws_str(s, row, 0, buf, r->f.label);
    snprintf(buf, sizeof buf, "The list of clients is left out: this workbook was made with "
             "--suppress %ld, for readers outside the program. Make it without --suppress for "
             "the internal list.", N);
    iop_rws_str(s, row + 1, 0, buf, r->f.text);
    s->width[0] = 12;
    iop_rws_finish(r, s, -1, row + 1, 7);
    return IOP_OK;
}

iop_code iop_rsheet_watch(iop_rctx *r, const iop_rsheet *sh, iop_error *err)
{
    iop_rws s;
    char to[11], buf[320];
    long total = 0, episodes, clients;
    int row = iop_rws_open(r, &s, sh, sh->title), header, end;

    if (row < 0)
        return iop_error_set(err, IOP_EUSAGE, NULL, 0, 0, "cannot add sheet '%s'", sh->name);
    header = row + 1;
    iop_date_format(r->month_to, to);
    if (r->o->suppress > 1)
        return watch_withheld(r, &s, row, to, err);
    end = iop_rws_query(r, &s, header, WATCH_SQL, "ttttdidt", WATCH_HEAD, r->o->level, to,
                        sh->limit, &total);
    /* the list's own stream counts its rows; the clients need a count */
    if (end < 0 || !watch_count(r, to, &episodes, &clients)) {
        iop_rws_release(&s);
        return iop_error_set(err, IOP_EIO, NULL, 0, 0, "database error: %s", sqlite3_errmsg(r->db));
    }
    /* the watch_list figure counts clients: say so when a client has
     * more than one episode on the list */
    snprintf(buf, sizeof buf, "%ld client episode%s", total, total == 1 ? "" : "s");
    if (clients != total)
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), " (%ld client%s)", clients,
                 clients == 1 ? "" : "s");
    snprintf(buf + strlen(buf), sizeof buf - strlen(buf), " on the watch list on %s%s", to,
             total > sh->limit ? "" : ".");
    if (total > sh->limit)
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "; the first %ld by client_id "
                 "are shown (the list is capped).", sh->limit);
    iop_rws_str(&s, row, 0, buf, r->f.label);
    s.width[0] = 12;
    if (total == 0)
        iop_rws_str(&s, header + 1, 0, "No client is on the watch list.", r->f.text);
    iop_rws_define(r, &s, "clients", header, 0, end - 1, 7);
    iop_rws_finish(r, &s, header, end - 1, 7);
    return IOP_OK;
}

/* ---- Definitions ------------------------------------------------------- */

static const char *const DEF_HEAD[] = {"Figure", "Metric", "Sheets", "Period", "Definition",
    "Population", "Method", "Source"};

/* Whether metric was listed before item (sheet s, item i). */
static int seen_before(const iop_rdef *d, size_t s, size_t i, const char *metric)
{
    for (size_t a = 0; a <= s; a++)
        for (size_t b = 0; b < d->sheets[a].nitems && (a < s || b < i); b++) {
            const iop_ritem *x = &d->sheets[a].items[b];
            if ((x->kind == IOP_RI_METRIC || x->kind == IOP_RI_KEY) && !strcmp(x->name, metric))
                return 1;
        }
    return 0;
}

/* The sheets and periods that show metric. */
static void uses(const iop_rdef *d, const char *metric, char *sheets, size_t n1, char *period,
                 size_t n2)
{
    int month = 0, year = 0;
    sheets[0] = '\0';
    for (size_t a = 0; a < d->nsheets; a++)
        for (size_t b = 0; b < d->sheets[a].nitems; b++) {
            const iop_ritem *x = &d->sheets[a].items[b];
            if ((x->kind != IOP_RI_METRIC && x->kind != IOP_RI_KEY) || strcmp(x->name, metric))
                continue;
            month |= x->window == IOP_WIN_MONTH;
            year |= x->window == IOP_WIN_YEAR;
            if (!strstr(sheets, d->sheets[a].name)) {
                size_t k = strlen(sheets);
                snprintf(sheets + k, n1 - k, "%s%s", k ? ", " : "", d->sheets[a].name);
            }
        }
    snprintf(period, n2, "%s%s%s", month ? "the report month" : "", month && year ? "; " : "",
             year ? "the 12 months ending with the report month" : "");
}

static void def_row(iop_rctx *r, iop_rws *s, int row, const char *metric)
{
    const iop_rcat *c = iop_rdef_cat(r->def, metric);
    char sheets[256], period[128];
    uses(r->def, metric, sheets, sizeof sheets, period, sizeof period);
    iop_rws_str(s, row, 0, c ? c->label : metric, r->f.label_wrap); /* long labels wrap */
    iop_rws_str(s, row, 1, metric, r->f.small);
    iop_rws_str(s, row, 2, sheets, r->f.wrap);
    iop_rws_str(s, row, 3, period, r->f.wrap);
    iop_rws_str(s, row, 4, c ? c->definition : "not in the catalogue (reports/catalogue.def)",
                r->f.wrap);
    iop_rws_str(s, row, 5, c ? c->population : "", r->f.wrap);
    iop_rws_str(s, row, 6, c ? c->method : "", r->f.wrap);
    iop_rws_str(s, row, 7, c ? c->source : "", r->f.wrap);
}

static const char *const COLUMNS_TEXT[][2] = {
    {"Columns of every section sheet", "n: what the figure rests on (a rate's denominator, a "
     "count, the episodes of a curve or mean). Estimate with its 95% confidence interval in "
     "its own columns (quartiles where the definition says so). A rate clustered by client "
     "(attendance, drug screens) has the normal interval of R's svyratio, which near 0% or "
     "100% can pass the bound: read such a limit as 0% or 100%. Statistic, df, p-value: tests. "
     "At: the day of a curve, the week of treatment, the level pair of a transition, the month "
     "of a trend. Call: the iopstat metrics call on the About sheet that gives the row."},
    {"Summary: this month, last month", "For month figures the calendar month; for 12-month "
     "figures (retention, outcomes) the 12-month windows ending with this month and with last "
     "month."},
    {"Summary: previous 12 months (pooled)", "The figure over the 12 calendar months before "
     "the report month: for a proportion the pooled rate (sum of numerators / sum of "
     "denominators); for a count the 12 months' total (a twelfth of it is the monthly "
     "mean); for the census at month end, the census at the end of those 12 months, which "
     "is last month's."},
    {"Summary: trend", "The 12 monthly values (or 12-month windows) ending with the report "
     "month, drawn with block characters from lowest to highest (a flat line when every "
     "month has the same value, at the bottom when it is zero); a dot is a month without an "
     "estimate: no data, or not estimable, such as a day-90 figure without 90 days of "
     "follow-up (or, under --suppress, one whose figure is suppressed). The strip of 12 "
     "coloured cells below the table holds the values."},
    {"Summary: flag", "Episode-based proportions only: this month is flagged when its rate "
     "lies outside the p-chart limits p ± 3·√(p(1 − p)/n), p the pooled rate of the previous "
     "12 months and n this month's denominator (metrics.md section 3)."},
    {"Target", "The program's target from targets.csv (program 'all' on the Summary; the "
     "group's own on a by-program row)."},
    {"Summary: national reference", "A published national figure beside the program's, "
     "with its year and population (metrics.md section 2; TEDS-D 2004 and 2019); the table "
     "at the end of this sheet gives each publication. Context, not a target, and measured "
     "differently where the source says so."},
    {"Summary: flag column", "Besides the p-chart flag, the figure's note when it has one: "
     "why it has no estimate, or that its lower and upper are quartiles, not a CI."},
};

/* The definition's national references with their publications, below
 * the catalogue (the Summary shows the value and a short label). */
static void national_table(iop_rctx *r, iop_rws *s, int row)
{
    static const char *const HEAD[] = {"Figure", "Metric", "Value", "Reference", "Source"};
    if (!r->def->nnational)
        return;
    iop_rws_str(s, row++, 0, "National references beside the Summary's figures (metrics.md "
                "section 2): context, not targets", r->f.label);
    for (int c = 0; c < 5; c++)
        iop_rws_str(s, row, c, HEAD[c], r->f.header);
    row++;
    for (size_t i = 0; i < r->def->nnational; i++, row++) {
        const iop_rnational *n = &r->def->national[i];
        const iop_rcat *c = iop_rdef_cat(r->def, n->metric);
        iop_rws_str(s, row, 0, c ? c->label : n->metric, r->f.label_wrap);
        iop_rws_str(s, row, 1, n->metric, r->f.small);
        iop_rws_num(s, row, 2, n->value, r->f.kind[c ? c->kind : IOP_RF_NUMBER]);
        iop_rws_str(s, row, 3, n->label, r->f.wrap);
        iop_rws_str(s, row, 4, n->source, r->f.wrap);
    }
}

iop_code iop_rsheet_defs(iop_rctx *r, const iop_rsheet *sh, iop_error *err)
{
    iop_rws s;
    int row = iop_rws_open(r, &s, sh, sh->title), header;

    if (row < 0)
        return iop_error_set(err, IOP_EUSAGE, NULL, 0, 0, "cannot add sheet '%s'", sh->name);
    for (size_t i = 0; i < sizeof COLUMNS_TEXT / sizeof COLUMNS_TEXT[0]; i++, row++) {
        iop_rws_str(&s, row, 0, COLUMNS_TEXT[i][0], r->f.label);
        iop_rws_merge(&s, row, 1, 7, COLUMNS_TEXT[i][1], r->f.wrap);
    }
    header = ++row;
    for (int c = 0; c < 8; c++)
        iop_rws_str(&s, row, c, DEF_HEAD[c], r->f.header);
    row++;
    for (size_t a = 0; a < r->def->nsheets; a++)
        for (size_t b = 0; b < r->def->sheets[a].nitems; b++) {
            const iop_ritem *x = &r->def->sheets[a].items[b];
            if ((x->kind == IOP_RI_METRIC || x->kind == IOP_RI_KEY) && !seen_before(r->def, a, b, x->name))
                def_row(r, &s, row++, x->name);
        }
    static const double W[] = {30, 24, 16, 18, 60, 36, 40, 24};
    for (int c = 0; c < 8; c++)
        s.width[c] = W[c];
    iop_rws_define(r, &s, "catalogue", header, 0, row - 1, 7);
    int last = row - 1;
    national_table(r, &s, row + 1);
    iop_rws_finish(r, &s, header, last, 7);
    return IOP_OK;
}
