/*
 * test_ingest.c - the CSV reader: RFC 4180 cases, line numbers, and
 * recovery from malformed records, one case a table row.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "iop/ingest.h"

/* Reads text through the reader and renders every record as
 * "LINE:f1|f2|..." or "LINE:!COL:fault-prefix", joined by newlines. */
static char *render(const char *text, size_t len)
{
    char path[] = "/tmp/iop-ingest-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);

    iop_reader *r;
    iop_error err;
    iop_record rec;
    assert_int_equal(iop_reader_open(&r, path, &err), IOP_OK);
    size_t cap = 1 << 20, n = 0;
    char *out = calloc(1, cap);
    int rc;
    while ((rc = iop_reader_next(r, &rec, &err)) == 1) {
        n += snprintf(out + n, cap - n, "%ld:", rec.line);
        if (rec.fault) {
            n += snprintf(out + n, cap - n, "!%ld:%.12s\n", rec.fault_column, rec.fault);
            continue;
        }
        for (size_t i = 0; i < rec.nfields; i++)
            n += snprintf(out + n, cap - n, "%s%.40s", i ? "|" : "", rec.fields[i]);
        n += snprintf(out + n, cap - n, "\n");
    }
    assert_int_equal(rc, 0);
    iop_reader_free(r);
    unlink(path);
    return out;
}

static void check(const char *text, const char *want)
{
    char *got = render(text, strlen(text));
    assert_string_equal(got, want);
    free(got);
}

static void test_plain(void **s)
{
    (void)s;
    check("a,b\n1,2\n", "1:a|b\n2:1|2\n");
    check("a,b\r\n1,2\r\n", "1:a|b\n2:1|2\n");
    check("a,b\n1,2", "1:a|b\n2:1|2\n");                 /* no final newline */
    check("\xEF\xBB\xBF" "a,b\n1,2\n", "1:a|b\n2:1|2\n"); /* BOM dropped */
    check("a,b\n\n\r\n1,2\n", "1:a|b\n4:1|2\n");          /* blank lines */
    check("a, b \n", "1:a|b\n");                          /* blanks trimmed */
    check("a,,\n", "1:a||\n");
    check("", "");
}

static void test_quoted(void **s)
{
    (void)s;
    check("\"a,b\",c\n", "1:a,b|c\n");
    check("\"say \"\"hi\"\"\",x\n", "1:say \"hi\"|x\n");
    check("h\n\"line1\nline2\",x\nnext\n", "1:h\n2:line1\nline2|x\n4:next\n");
    check("\"a\r\nb\"\r\nc\r\n", "1:a\r\nb\n3:c\n");
}

static void test_faults(void **s)
{
    (void)s;
    /* a stray quote at end of file: the record is rejected and reading
     * resumes on the line after its first line */
    check("h\n\"open,1\n2,3\n4,5\n",
          "1:h\n2:!1:unclosed quo\n3:2|3\n4:4|5\n");
    check("h\nx,\"open\n", "1:h\n2:!2:unclosed quo\n");
    check("h\n\"a\"x,1\n2\n", "1:h\n2:!1:malformed qu\n3:2\n");
    /* a stray quote that a later quote "closes" lines further on: the
     * record is rejected and the lines it ran over are read again */
    check("h\nC2,\"Asian\nC3,White\nC4,White\nC6,\"Black, AA\"\nC7,W\n",
          "1:h\n2:!2:malformed qu\n3:C3|White\n4:C4|White\n5:C6|Black, AA\n6:C7|W\n");
    /* a quoted newline, then text after the closing quote: both lines
     * are rejected, nothing is dropped unreported */
    check("h\n\"l1\nl2\"x,1\nnext\n", "1:h\n2:!1:malformed qu\n3:!1:malformed qu\n4:next\n");
    check("h\na\xff,1\nok\n", "1:h\n2:!1:invalid UTF-\n3:ok\n");
    check("h\n1,\"\xc3\x28\"\nok\n", "1:h\n2:!2:invalid UTF-\n3:ok\n");
}

static void test_nul(void **s)
{
    (void)s;
    char *got = render("h\na\0b,1\nok\n", 11);
    assert_string_equal(got, "1:h\n2:!1:NUL byte in \n3:ok\n");
    free(got);
}

/* A quote that never closes within 64 KiB is dropped after 64 KiB with
 * memory bounded, and the rest of the file is read. */
static void test_long(void **s)
{
    (void)s;
    size_t big = 200 * 1024, n = 0;
    char *text = malloc(big + 100);
    n += sprintf(text, "h\n\"x");
    for (size_t i = 0; i < big; i++)
        text[n++] = (i % 100 == 99) ? '\n' : 'y';
    n += sprintf(text + n, "\n");
    char *got = render(text, n);
    /* line 2 rejected; every following line of y's is read as a record */
    assert_memory_equal(got, "1:h\n2:!1:unclosed quo\n3:yyy", 27);
    free(got);
    /* an unquoted field over 64 KiB on one line */
    n = sprintf(text, "h\n");
    for (size_t i = 0; i < 70000; i++)
        text[n++] = 'z';
    n += sprintf(text + n, ",1\nok\n");
    got = render(text, n);
    assert_string_equal(got, "1:h\n2:!1:field longer\n3:ok\n");
    free(got);
    free(text);
}

static void test_sha256(void **s)
{
    (void)s;
    char path[] = "/tmp/iop-sha-XXXXXX";
    int fd = mkstemp(path);
    assert_int_equal(write(fd, "abc", 3), 3);
    close(fd);
    iop_reader *r;
    iop_record rec;
    char hex[65];
    assert_int_equal(iop_reader_open(&r, path, NULL), IOP_OK);
    while (iop_reader_next(r, &rec, NULL) == 1)
        ;
    iop_reader_sha256(r, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    iop_reader_free(r);
    unlink(path);
}

static void test_utf8(void **s)
{
    (void)s;
    assert_true(iop_utf8_valid("caf\xc3\xa9", 5));
    assert_true(iop_utf8_valid("\xe2\x82\xac", 3));
    assert_false(iop_utf8_valid("\xc0\xaf", 2));          /* overlong */
    assert_false(iop_utf8_valid("\xed\xa0\x80", 3));      /* surrogate */
    assert_false(iop_utf8_valid("\xf4\x90\x80\x80", 4));  /* > U+10FFFF */
    assert_false(iop_utf8_valid("\xe2\x82", 2));          /* truncated */
}

static void test_open_missing(void **s)
{
    (void)s;
    iop_reader *r;
    iop_error err;
    assert_int_equal(iop_reader_open(&r, "/nonexistent/x.csv", &err), IOP_EIO);
    assert_string_equal(err.file, "/nonexistent/x.csv");
    assert_non_null(strstr(err.message, "cannot open"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain), cmocka_unit_test(test_quoted),
        cmocka_unit_test(test_faults), cmocka_unit_test(test_nul),
        cmocka_unit_test(test_long), cmocka_unit_test(test_sha256),
        cmocka_unit_test(test_utf8), cmocka_unit_test(test_open_missing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
