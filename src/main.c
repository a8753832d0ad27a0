/*
 * main.c - the command line: parse options, run a stage, print errors,
 * exit with the documented status (README.md, "Exit status").
 *
 * Only this file prints errors and exits; the stages return codes. The
 * clock comes from SOURCE_DATE_EPOCH when set, so tests can pin it.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <gsl/gsl_errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "iop/error.h"
#include "iop/generate.h"
#include "iop/date.h"
#include "iop/load.h"
#include "iop/metrics.h"
#include "iop/report.h"
#include "iop/store.h"

static const char USAGE[] =
    "usage: iopstat load EXTRACT_DIR [--db FILE] [--prune] [--strict] [--extract-date DATE]\n"
    "       iopstat metrics --from DATE --to DATE [--level L] [--by DIMENSION] [--run N]\n"
    "                       [--format csv|json] [--db FILE]\n"
    "       iopstat report monthly --month YYYY-MM [--level L] [--run N] [--suppress N]\n"
    "                       [--reports DIR] [--db FILE] [-o FILE.xlsx]\n"
    "       iopstat generate --clients N [--months M] [--seed S] [--end DATE] -o DIR\n"
    "       iopstat --help | --version   (or COMMAND --help)\n";

static const char HELP[] =
    "iopstat - outcomes reporting for addiction-treatment intensive outpatient programs\n"
    "\n"
    "Commands:\n"
    "  load EXTRACT_DIR    validate the CSV files of an EHR extract and load them\n"
    "                      into the database in one transaction\n"
    "      --db FILE           the database (default $IOPSTAT_DB, else iopstat.db)\n"
    "      --prune             close rows absent from the files of this extract\n"
    "      --strict            commit nothing if any record is rejected (exit 2)\n"
    "      --extract-date DATE the extract's date (default: today); later dates\n"
    "                          are rejected\n"
    "  metrics             every figure of metrics.md for a period, one tidy row\n"
    "                      per figure: metric,dimension,group,n,estimate,lower,\n"
    "                      upper,statistic,df,p_value,at,note (docs/metrics.md)\n"
    "      --from, --to DATE   the period; `to` is the as-of date\n"
    "      --level L           the level of care (default 2.1, IOP)\n"
    "      --by DIMENSION      program, site, counselor, primary_substance,\n"
    "                          co_occurring, sex, race, ethnicity, age_band,\n"
    "                          referral_source, payer or cohort\n"
    "      --run N             the database as load run N left it (default: latest)\n"
    "      --format csv|json   default csv, on standard output\n"
    "  report monthly      the monthly workbook (docs/report-monthly.md): Summary,\n"
    "                      Census, Retention, ... About; prints the path written\n"
    "      --month YYYY-MM     the report month (required)\n"
    "      --level L           the level of care (default 2.1, IOP)\n"
    "      --run N             the database as load run N left it (default: latest)\n"
    "      --suppress N        print counts and rates resting on 1 to N-1 people as\n"
    "                          \"<N\" / \"suppressed\", and the next smallest cell too\n"
    "                          where one of a set with a printed total is; the Watch\n"
    "                          List gives its count only (default: none, internal\n"
    "                          report)\n"
    "      --reports DIR       the report definitions (default $IOPSTAT_REPORTS, else\n"
    "                          ./reports, else reports/ beside the binary's folder)\n"
    "      -o FILE             default out/iopstat-monthly-YYYY-MM-level-L.xlsx\n"
    "  generate            write a synthetic extract (no real patient data)\n"
    "      --clients N         clients to make (required)\n"
    "      --months M          months of admissions (default 24)\n"
    "      --seed S            random seed (default 1); same seed, same files\n"
    "      --end DATE          last day of the data (default 2026-10-31)\n"
    "      -o DIR              the folder to write\n"
    "\n"
    "Exit status: 0 done (rejected records are listed, not fatal); 1 usage error;\n"
    "2 records rejected under --strict (nothing committed); 3 an input or the\n"
    "database cannot be read or written, or is locked (nothing changed).\n"
    "\n"
    "Environment: IOPSTAT_DB (default database), IOPSTAT_BUSY_TIMEOUT_MS (whole\n"
    "milliseconds a command waits for a load, or a load for another command;\n"
    "default 10000; anything else is a usage error),\n"
    "SOURCE_DATE_EPOCH (pins the clock: whole seconds since 1970-01-01),\n"
    "IOPSTAT_REPORTS (the report definitions folder).\n"
    "Documentation: README.md and docs/ in the source tree.\n";

/* How long a command waits for another one's lock: IOPSTAT_BUSY_TIMEOUT_MS,
 * default 10 s (also when empty); -1 when it is set but not a whole number
 * of milliseconds within an int (atoi read '30s' as 30 ms and 'abc' as no
 * wait at all). main refuses such a value before any command runs. */
static int busy_ms(void)
{
    const char *v = getenv("IOPSTAT_BUSY_TIMEOUT_MS");
    char *end;
    long n;

    if (!v || !*v)
        return 10000;
    errno = 0;
    n = strtol(v, &end, 10);
    if (*end || errno || n < 0 || n > INT_MAX || !isdigit((unsigned char)v[0]))
        return -1;
    return (int)n;
}

static int fail(const iop_error *err)
{
    char buf[1024];
    fprintf(stderr, "iopstat: %s\n", iop_error_format(err, buf, sizeof buf));
    if (err->code == IOP_EUSAGE)
        fputs(USAGE, stderr);
    return iop_error_exit_status(err->code);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "iopstat: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n%s", USAGE);
    return 1;
}

/* The clock: SOURCE_DATE_EPOCH (whole seconds since 1970) when set, else
 * the time; false when the variable is set but is not such a number (it
 * once read 'abc' as 1970 and rejected every record as in the future). */
static bool clock_now(time_t *now)
{
    const char *e = getenv("SOURCE_DATE_EPOCH");
    char *end;

    if (!e || !*e) {
        *now = time(NULL);
        return true;
    }
    errno = 0;
    long long v = strtoll(e, &end, 10);
    *now = (time_t)v;
    return !*end && errno == 0 && v >= 0;
}

/* A usage error for what getopt_long returned (optstring starts with ':'):
 * ':' an option without its value, else an unknown option. */
static int option_error(int c, const char *command, char **argv)
{
    const char *opt = argv[optind - 1];
    if (c == ':')
        return usage_error("option '%s' of '%s' needs a value", opt, command);
    return usage_error("unknown option '%s' for '%s'", opt, command);
}

static const char *default_db(void)
{
    const char *e = getenv("IOPSTAT_DB");
    return e && *e ? e : "iopstat.db";
}

/* Joins argv into one string for load_runs.options. */
static void join_args(int argc, char **argv, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < argc && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, "%s%s", i ? " " : "", argv[i]);
}

static int cmd_load(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'}, {"prune", no_argument, NULL, 'p'},
        {"strict", no_argument, NULL, 's'}, {"extract-date", required_argument, NULL, 'e'},
        {NULL, 0, NULL, 0}};
    iop_load_opts o;
    iop_load_result res;
    iop_error err;
    char line[2048];
    int c;

    iop_load_opts_init(&o);
    o.db_path = default_db();
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (c) {
        case 'd': o.db_path = optarg; break;
        case 'p': o.prune = 1; break;
        case 's': o.strict = 1; break;
        case 'e': o.extract_date = optarg; break;
        default: return option_error(c, "load", argv);
        }
    }
    if (optind != argc - 1)
        return usage_error("%s", "'load' takes one EXTRACT_DIR");
    join_args(argc, argv, line, sizeof line);
    o.dir = argv[optind];
    if (!clock_now(&o.now))
        return usage_error("SOURCE_DATE_EPOCH must be whole seconds since 1970-01-01, got '%s'",
                           getenv("SOURCE_DATE_EPOCH"));
    o.options = line;
    o.diag = stderr;
    o.progress = isatty(STDERR_FILENO);
    o.busy_ms = busy_ms();
    iop_error_clear(&err);
    if (iop_load(&o, &res, &err) != IOP_OK)
        return fail(&err);
    fprintf(stderr, "iopstat: load run %ld into '%s': %ld records read, %ld loaded, "
            "%ld rejected\n", res.run, o.db_path, res.read, res.loaded, res.rejected);
    return 0;
}

static int parse_long(const char *s, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < 0)
        return 0;
    *out = v;
    return 1;
}

static int parse_day(const char *s, char out[11], long *day)
{
    if (!iop_date_parse(s, strlen(s), day))
        return 0;
    iop_date_format(*day, out);
    return 1;
}

static int level_exists(iop_store *s, const char *level)
{
    sqlite3_stmt *st;
    int found = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM levels WHERE code = ?", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, level, -1, SQLITE_STATIC);
        found = sqlite3_step(st) == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    return found;
}

/* Opens the database read-only, pinned to run (0: the latest). */
static int open_pinned(iop_store *s, const char *db, long run)
{
    iop_error err;
    iop_error_clear(&err);
    if (iop_store_open(s, db, IOP_STORE_READONLY, busy_ms(), &err) != IOP_OK)
        return fail(&err);
    if (iop_store_latest_run(s) == 0) {
        iop_store_close(s);
        iop_error_set(&err, IOP_EIO, db, 0, 0, "no load run in the database yet");
        return fail(&err);
    }
    if (run && iop_store_pin_run(s, run, &err) != IOP_OK) {
        iop_store_close(s);
        return fail(&err);
    }
    return 0;
}

static int metrics_run(iop_mctx *c, const char *db, long run, int json)
{
    iop_store s, s2;
    iop_rows rows;
    iop_error err;
    int status = open_pinned(&s, db, run);

    if (status)
        return status;
    if (!level_exists(&s, c->level)) {
        iop_store_close(&s);
        return usage_error("unknown level of care '%s' in '--level'", c->level);
    }
    c->db = s.db;
    c->db2 = iop_store_open_twin(&s2, &s, run);
    char extract[11];
    long data_run;
    iop_store_extract_date(s.db, extract, &data_run);
    if (extract[0] && strcmp(c->to_s, extract) > 0)
        fprintf(stderr, "iopstat: warning: '--to' %s is after the extract date %s of load run "
                "%ld: the data hold nothing after %s, so the figures as of %s count no "
                "session, discharge or contact after it (open episodes look idle)\n",
                c->to_s, extract, data_run, extract, c->to_s);
    iop_rows_init(&rows);
    iop_error_clear(&err);
    iop_code rc = iop_metrics_run(c, &rows, &err);
    /* The figures are read: the read transactions end before the output,
     * which may wait on a slow reader (a pager) that a load should not
     * wait for. */
    if (c->db2)
        iop_store_close(&s2);
    iop_store_close(&s);
    c->db = c->db2 = NULL;
    if (rc != IOP_OK)
        status = fail(&err);
    else if (json)
        iop_metrics_write_json(&rows, stdout);
    else
        iop_metrics_write_csv(&rows, stdout);
    iop_rows_release(&rows);
    return status;
}

static int cmd_metrics(int argc, char **argv)
{
    static const struct option opts[] = {
        {"from", required_argument, NULL, 'f'}, {"to", required_argument, NULL, 't'},
        {"level", required_argument, NULL, 'l'}, {"by", required_argument, NULL, 'b'},
        {"run", required_argument, NULL, 'r'}, {"format", required_argument, NULL, 'F'},
        {"db", required_argument, NULL, 'd'}, {NULL, 0, NULL, 0}};
    iop_mctx c = {.level = "2.1"};
    const char *db = default_db(), *format = "csv";
    long run = 0;
    int c_, have_from = 0, have_to = 0;

    while ((c_ = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (c_) {
        case 'f': if (!parse_day(optarg, c.from_s, &c.from))
                      return usage_error("expected date (YYYY-MM-DD) in '--from', got '%s'", optarg);
                  have_from = 1;
                  break;
        case 't': if (!parse_day(optarg, c.to_s, &c.to))
                      return usage_error("expected date (YYYY-MM-DD) in '--to', got '%s'", optarg);
                  have_to = 1;
                  break;
        case 'l': c.level = optarg; break;
        case 'b': c.by = optarg;
                  if (!(c.by_expr = iop_metrics_dimension(optarg)))
                      return usage_error("unknown dimension '%s' in '--by'", optarg);
                  break;
        case 'r': if (!parse_long(optarg, &run) || run < 1)
                      return usage_error("expected a load run number in '--run', got '%s'", optarg);
                  break;
        case 'F': format = optarg; break;
        case 'd': db = optarg; break;
        default: return option_error(c_, "metrics", argv);
        }
    }
    if (!have_from || !have_to || optind != argc)
        return usage_error("%s", "'metrics' needs --from DATE and --to DATE");
    if (c.from > c.to)
        return usage_error("'--from' %s is after '--to' %s", c.from_s, c.to_s);
    if (strcmp(format, "csv") != 0 && strcmp(format, "json") != 0)
        return usage_error("expected csv or json in '--format', got '%s'", format);
    return metrics_run(&c, db, run, format[0] == 'j');
}

static int cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {
        {"month", required_argument, NULL, 'm'}, {"level", required_argument, NULL, 'l'},
        {"run", required_argument, NULL, 'r'}, {"suppress", required_argument, NULL, 's'},
        {"reports", required_argument, NULL, 'R'}, {"db", required_argument, NULL, 'd'},
        {NULL, 0, NULL, 0}};
    iop_report_opts o = {.db_path = default_db(), .level = "2.1", .exe = argv[0],
                         .busy_ms = busy_ms()};
    char line[4096], path[1200];
    iop_error err;
    int c;

    if (argc < 2 || strcmp(argv[1], "monthly") != 0)
        return usage_error("%s", "'report' takes a report name: monthly");
    /* "iopstat", not argv[0]: the About sheet must not depend on the path. */
    snprintf(line, sizeof line, "iopstat ");
    join_args(argc, argv, line + 8, sizeof line - 8);
    while ((c = getopt_long(argc - 1, argv + 1, ":o:", opts, NULL)) != -1) {
        switch (c) {
        case 'm': o.month = optarg; break;
        case 'l': o.level = optarg; break;
        case 'r': if (!parse_long(optarg, &o.run) || o.run < 1)
                      return usage_error("expected a load run number in '--run', got '%s'", optarg);
                  break;
        case 's': if (!parse_long(optarg, &o.suppress))
                      return usage_error("expected a number in '--suppress', got '%s'", optarg);
                  break;
        case 'R': o.reports_dir = optarg; break;
        case 'd': o.db_path = optarg; break;
        case 'o': o.out_path = optarg; break;
        default: return option_error(c, "report monthly", argv + 1);
        }
    }
    if (!o.month || optind != argc - 1)
        return usage_error("%s", "'report monthly' needs --month YYYY-MM");
    o.command = line;
    iop_error_clear(&err);
    if (iop_report_monthly(&o, path, sizeof path, &err) != IOP_OK)
        return fail(&err);
    printf("%s\n", path);
    return 0;
}

static int cmd_generate(int argc, char **argv)
{
    static const struct option opts[] = {
        {"clients", required_argument, NULL, 'c'}, {"months", required_argument, NULL, 'm'},
        {"seed", required_argument, NULL, 's'}, {"end", required_argument, NULL, 'e'},
        {NULL, 0, NULL, 0}};
    iop_generate_opts o;
    iop_error err;
    long v;
    int c;

    iop_generate_opts_init(&o);
    o.clients = 0;
    while ((c = getopt_long(argc, argv, ":o:", opts, NULL)) != -1) {
        switch (c) {
        case 'c': if (!parse_long(optarg, &o.clients) || o.clients < 1)
                      return usage_error("expected a positive number in '--clients', got '%s'", optarg);
                  break;
        case 'm': if (!parse_long(optarg, &v) || v < 1 || v > 1200)
                      return usage_error("expected 1 to 1200 in '--months', got '%s'", optarg);
                  o.months = (int)v;
                  break;
        case 's': if (!parse_long(optarg, &v))
                      return usage_error("expected a number in '--seed', got '%s'", optarg);
                  o.seed = (unsigned long)v;
                  break;
        case 'e': snprintf(o.end, sizeof o.end, "%s", optarg); break;
        case 'o': o.outdir = optarg; break;
        default: return option_error(c, "generate", argv);
        }
    }
    if (!o.clients || !o.outdir || optind != argc)
        return usage_error("%s", "'generate' needs --clients N and -o DIR");
    iop_error_clear(&err);
    if (iop_generate(&o, &err) != IOP_OK)
        return fail(&err);
    return 0;
}

/* `iopstat help`, or --help / -h anywhere but as an option's value
 * (`iopstat metrics --help` prints the help, not a usage error). VALUED
 * lists the options that take a value, in any command: keep it in step
 * with the commands' option tables. */
static bool wants_help(int argc, char **argv)
{
    static const char *const VALUED[] = {"--db", "--extract-date", "--from", "--to", "--level",
                                         "--by", "--run", "--format", "--month", "--suppress",
                                         "--reports", "-o", "--clients", "--months", "--seed",
                                         "--end"};

    if (!strcmp(argv[1], "help"))
        return true;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return true;
        for (size_t k = 0; k < sizeof VALUED / sizeof VALUED[0]; k++)
            if (!strcmp(argv[i], VALUED[k])) {
                i++; /* skip the option's value */
                break;
            }
    }
    return false;
}

int main(int argc, char **argv)
{
    gsl_set_error_handler_off();
    /* No allocation statistics: they cost a global mutex per malloc. */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    if (argc < 2)
        return usage_error("%s", "no command given");
    if (wants_help(argc, argv)) {
        fputs(USAGE, stdout);
        fputs("\n", stdout);
        fputs(HELP, stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("iopstat %s\n", IOP_VERSION);
        return 0;
    }
    if ((!strcmp(argv[1], "load") || !strcmp(argv[1], "metrics") ||
         !strcmp(argv[1], "report")) && busy_ms() < 0)
        return usage_error("IOPSTAT_BUSY_TIMEOUT_MS must be a whole number of milliseconds "
                           "(0 to %d), got '%s'", INT_MAX, getenv("IOPSTAT_BUSY_TIMEOUT_MS"));
    if (!strcmp(argv[1], "load"))
        return cmd_load(argc - 1, argv + 1);
    if (!strcmp(argv[1], "metrics"))
        return cmd_metrics(argc - 1, argv + 1);
    if (!strcmp(argv[1], "report"))
        return cmd_report(argc - 1, argv + 1);
    if (!strcmp(argv[1], "generate"))
        return cmd_generate(argc - 1, argv + 1);
    return usage_error("unknown command '%s'", argv[1]);
}
