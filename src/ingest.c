/*
 * ingest.c - stream CSV records out of a file, with line numbers and
 * recovery from malformed records (see iop/ingest.h for the contract).
 *
 * Input: a regular file. Output: one iop_record at a time.
 * How: read the file in blocks, cut it into physical lines with memchr,
 * and hand each line to libcsv (strict mode). libcsv calls back once per
 * field and once per record end; a line whose end does not close a record
 * is inside a quoted field. Because the file is seekable, a record that
 * must be abandoned (an unclosed quote) is recovered by seeking back to the
 * line after its first line and starting a fresh parser there; so is a
 * record that ran across lines inside a quote and then broke the quoting
 * (a stray quote that a later quote "closed").
 * Limits: fields up to IOP_FIELD_MAX bytes, records up to IOP_RECORD_MAX
 * bytes and IOP_FIELDS_MAX fields; anything longer is a faulty record.
 */
#include "iop/ingest.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <nettle/sha2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLOCK (256 * 1024)

struct iop_reader {
    int fd;
    char path[256];
    struct csv_parser csv;
    unsigned char *buf;       /* BLOCK bytes read from file offset buf_off */
    size_t pos, len;
    uint64_t buf_off, size;
    uint64_t hashed;          /* bytes of the file already hashed */
    struct sha256_ctx sha;
    long line;                /* line number of the next physical line */
    int eof, at_line_start;
    /* the record being assembled */
    char *arena;
    size_t arena_len, arena_cap;
    size_t *offs, *lens;
    char **fields;
    size_t nfields;
    int done;                 /* libcsv reported the end of the record */
    const char *fault;
    long fault_column;
};

static const char *FAULT_NUL = "NUL byte in field";
static const char *FAULT_UTF8 = "invalid UTF-8 in field";
static const char *FAULT_LONG = "field longer than 64 KiB";
static const char *FAULT_MANY = "more than 1024 fields";
static const char *FAULT_QUOTE = "unclosed quote (no closing quote within 64 KiB or before the end of the file)";
static const char *FAULT_SYNTAX = "malformed quoting (a quote inside an unquoted field, or text after a closing quote)";
static const char *FAULT_RECORD = "record longer than 1 MiB";

int iop_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;

    while (p < end) {
        unsigned c = *p;
        size_t n;
        unsigned min;
        if (c == 0)
            return 0;
        if (c < 0x80) { p++; continue; }
        if (c >= 0xC2 && c <= 0xDF) { n = 1; min = 0x80; c &= 0x1F; }
        else if (c >= 0xE0 && c <= 0xEF) { n = 2; min = 0x800; c &= 0x0F; }
        else if (c >= 0xF0 && c <= 0xF4) { n = 3; min = 0x10000; c &= 0x07; }
        else return 0;
        if ((size_t)(end - p) <= n)
            return 0;
        for (size_t i = 1; i <= n; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return 0;
            c = (c << 6) | (p[i] & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
            return 0;
        p += n + 1;
    }
    return 1;
}

static void set_fault(iop_reader *r, const char *fault, long column)
{
    if (!r->fault) {
        r->fault = fault;
        r->fault_column = column;
    }
}

/* libcsv field callback: copy the bytes, the parser reuses its buffer. */
static void on_field(void *data, size_t len, void *ctx)
{
    iop_reader *r = ctx;
    long column = (long)r->nfields + 1;

    if (r->nfields >= IOP_FIELDS_MAX) {
        set_fault(r, FAULT_MANY, 0);
        return;
    }
    if (len > IOP_FIELD_MAX)
        set_fault(r, FAULT_LONG, column);
    else if (memchr(data, 0, len))
        set_fault(r, FAULT_NUL, column);
    else if (!iop_utf8_valid(data, len))
        set_fault(r, FAULT_UTF8, column);
    if (r->fault || r->arena_len + len + 1 > IOP_RECORD_MAX) {
        set_fault(r, FAULT_RECORD, 0);
        len = 0;
    }
    if (r->arena_len + len + 1 > r->arena_cap) {
        size_t cap = r->arena_cap * 2;
        while (cap < r->arena_len + len + 1)
            cap *= 2;
        char *a = realloc(r->arena, cap);
        if (!a) {
            set_fault(r, FAULT_RECORD, 0);
            return;
        }
        r->arena = a;
        r->arena_cap = cap;
    }
    memcpy(r->arena + r->arena_len, data, len);
    r->arena[r->arena_len + len] = '\0';
    r->offs[r->nfields] = r->arena_len;
    r->lens[r->nfields] = len;
    r->nfields++;
    r->arena_len += len + 1;
}

static void on_record(int c, void *ctx)
{
    (void)c;
    ((iop_reader *)ctx)->done = 1;
}

/* libcsv: only '\n' ends a record, so that a record never ends inside a
 * piece; '\r' before it is trimmed like trailing blanks. */
static int is_term(unsigned char c) { return c == '\n'; }
static int is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\r'; }

static int parser_init(iop_reader *r)
{
    if (csv_init(&r->csv, CSV_STRICT | CSV_STRICT_FINI) != 0)
        return -1;
    csv_set_term_func(&r->csv, is_term);
    csv_set_space_func(&r->csv, is_space);
    return 0;
}

iop_code iop_reader_open(iop_reader **out, const char *path, iop_error *err)
{
    iop_reader *r = calloc(1, sizeof *r);
    struct stat st;

    *out = NULL;
    if (!r)
        return iop_error_set(err, IOP_ENOMEM, path, 0, 0, "out of memory");
    r->fd = open(path, O_RDONLY);
    if (r->fd < 0 || fstat(r->fd, &st) != 0) {
        iop_error_set(err, IOP_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
        goto fail;
    }
    snprintf(r->path, sizeof r->path, "%s", path);
    r->size = (uint64_t)st.st_size;
    r->buf = malloc(BLOCK);
    r->arena_cap = 4096;
    r->arena = malloc(r->arena_cap);
    r->offs = malloc(IOP_FIELDS_MAX * sizeof *r->offs);
    r->lens = malloc(IOP_FIELDS_MAX * sizeof *r->lens);
    r->fields = malloc(IOP_FIELDS_MAX * sizeof *r->fields);
    if (!r->buf || !r->arena || !r->offs || !r->lens || !r->fields ||
        parser_init(r) != 0) {
        iop_error_set(err, IOP_ENOMEM, path, 0, 0, "out of memory");
        goto fail;
    }
    sha256_init(&r->sha);
    r->line = 1;
    r->at_line_start = 1;
    *out = r;
    return IOP_OK;
fail:
    if (r->fd >= 0)
        close(r->fd);
    free(r->buf);
    free(r->arena);
    free(r->offs);
    free(r->lens);
    free(r->fields);
    free(r);
    return err ? err->code : IOP_EIO;
}

/* Refills the block buffer; hashes only bytes never hashed before. */
static int fill(iop_reader *r, iop_error *err)
{
    ssize_t n;

    r->buf_off += r->len;
    r->pos = r->len = 0;
    do
        n = read(r->fd, r->buf, BLOCK);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        iop_error_set(err, IOP_EIO, r->path, r->line, 0, "read error: %s", strerror(errno));
        return -1;
    }
    r->len = (size_t)n;
    if (n == 0)
        r->eof = 1;
    if (r->buf_off + r->len > r->hashed) {
        size_t skip = (size_t)(r->hashed - r->buf_off);
        sha256_update(&r->sha, r->len - skip, r->buf + skip);
        r->hashed = r->buf_off + r->len;
    }
    if (r->buf_off == 0 && r->len >= 3 && memcmp(r->buf, "\xEF\xBB\xBF", 3) == 0)
        r->pos = 3;
    return 0;
}

static int seek_to(iop_reader *r, uint64_t off, iop_error *err)
{
    if (lseek(r->fd, (off_t)off, SEEK_SET) < 0) {
        iop_error_set(err, IOP_EIO, r->path, r->line, 0, "seek error: %s", strerror(errno));
        return -1;
    }
    r->buf_off = off;
    r->pos = r->len = 0;
    r->eof = 0;
    return 0;
}

/*
 * Returns the next piece of a physical line: up to and including '\n', or
 * up to the end of the buffer. *nl says whether the piece ends the line.
 * Returns 0 at the end of the file, -1 on error.
 */
static int next_piece(iop_reader *r, const unsigned char **p, size_t *n, int *nl,
                      iop_error *err)
{
    if (r->pos >= r->len) {
        if (r->eof || fill(r, err) < 0)
            return r->eof ? 0 : -1;
        if (r->len == 0)
            return 0;
    }
    const unsigned char *start = r->buf + r->pos;
    const unsigned char *e = memchr(start, '\n', r->len - r->pos);
    *p = start;
    *n = e ? (size_t)(e - start) + 1 : r->len - r->pos;
    *nl = e != NULL;
    r->pos += *n;
    return 1;
}

static void record_begin(iop_reader *r)
{
    r->nfields = 0;
    r->arena_len = 0;
    r->done = 0;
    r->fault = NULL;
    r->fault_column = 0;
}

static void record_finish(iop_reader *r, iop_record *rec, long line)
{
    for (size_t i = 0; i < r->nfields; i++)
        r->fields[i] = r->arena + r->offs[i];
    rec->line = line;
    rec->nfields = r->nfields;
    rec->fields = r->fields;
    rec->lens = r->lens;
    rec->fault = r->fault;
    rec->fault_column = r->fault_column;
}

/* Skips the rest of the current physical line (after a fault in it). */
static int skip_line(iop_reader *r, int nl, iop_error *err)
{
    const unsigned char *p;
    size_t n;
    int rc;

    while (!nl) {
        rc = next_piece(r, &p, &n, &nl, err);
        if (rc <= 0)
            return rc;
    }
    r->line++;
    return 1;
}

static int reinit(iop_reader *r)
{
    csv_free(&r->csv);
    return parser_init(r);
}

static int blank_line(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_space(p[i]) && p[i] != '\n')
            return 0;
    return 1;
}

/*
 * Rejects the record being read with fault and starts a fresh parser: on
 * the line after its first line when the record ran over more lines
 * (resume, its offset), else after the current line. An unclosed quote and
 * a quote "closed" by an unrelated one lines later both restart so: the
 * lines the record swallowed are read again.
 */
static int restart_record(iop_reader *r, const char *fault, long start, uint64_t resume,
                          int nl, iop_error *err)
{
    set_fault(r, fault, (long)r->nfields + 1);
    if (reinit(r) < 0)
        return iop_error_set(err, IOP_ENOMEM, r->path, start, 0, "out of memory"), -1;
    if (resume) {
        r->line = start + 1;
        return seek_to(r, resume, err);
    }
    return skip_line(r, nl, err) < 0 ? -1 : 0;
}

/* Abandons a record whose quote never closed. */
static int abandon_quoted(iop_reader *r, long start, uint64_t resume, int nl,
                          iop_error *err)
{
    return restart_record(r, FAULT_QUOTE, start, resume, nl, err);
}

static int at_eof(iop_reader *r, iop_record *rec, long start, uint64_t resume,
                  iop_error *err)
{
    if (!start)
        return 0;
    if (csv_fini(&r->csv, on_field, on_record, r) != 0) {
        if (abandon_quoted(r, start, resume, 1, err) < 0)
            return -1;
    } else if (reinit(r) < 0) {
        return iop_error_set(err, IOP_ENOMEM, r->path, start, 0, "out of memory"), -1;
    }
    record_finish(r, rec, start);
    return 1;
}

int iop_reader_next(iop_reader *r, iop_record *rec, iop_error *err)
{
    long start = 0;
    uint64_t resume = 0;
    const unsigned char *p;
    size_t n;
    int nl, rc;

    record_begin(r);
    for (;;) {
        int line_start = r->at_line_start;
        rc = next_piece(r, &p, &n, &nl, err);
        if (rc < 0)
            return -1;
        if (rc == 0)
            return at_eof(r, rec, start, resume, err);
        r->at_line_start = nl;
        if (!start && line_start && nl && blank_line(p, n)) {
            r->line++;
            continue;
        }
        if (!start)
            start = r->line;
        if (csv_parse(&r->csv, p, n, on_field, on_record, r) != n) {
            /* after more than one line: a stray quote that a later,
             * unrelated quote closed; the lines it swallowed are read again */
            if (restart_record(r, FAULT_SYNTAX, start, resume, nl, err) < 0)
                return -1;
            r->at_line_start = 1;
            record_finish(r, rec, start);
            return 1;
        }
        if (nl) {
            r->line++;
            if (!resume)
                resume = r->buf_off + r->pos;
        }
        if (r->done) {
            record_finish(r, rec, start);
            return 1;
        }
        if (r->csv.entry_pos > IOP_FIELD_MAX) {
            if (r->csv.quoted) {
                if (abandon_quoted(r, start, nl ? resume : 0, nl, err) < 0)
                    return -1;
            } else {
                set_fault(r, FAULT_LONG, (long)r->nfields + 1);
                if (reinit(r) < 0 || skip_line(r, nl, err) < 0)
                    return -1;
            }
            r->at_line_start = 1;
            record_finish(r, rec, start);
            return 1;
        }
    }
}

uint64_t iop_reader_offset(const iop_reader *r)
{
    return r->buf_off + r->pos;
}

uint64_t iop_reader_size(const iop_reader *r)
{
    return r->size;
}

void iop_reader_sha256(iop_reader *r, char hex[65])
{
    uint8_t d[SHA256_DIGEST_SIZE];
    static const char digits[] = "0123456789abcdef";

    sha256_digest(&r->sha, sizeof d, d);
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[64] = '\0';
}

void iop_reader_free(iop_reader *r)
{
    if (!r)
        return;
    csv_free(&r->csv);
    if (r->fd >= 0)
        close(r->fd);
    free(r->buf);
    free(r->arena);
    free(r->offs);
    free(r->lens);
    free(r->fields);
    free(r);
}
