# iopstat - build, run, test, bench.
#
#   make          build build/iopstat (installs missing Debian packages first)
#   make run      build, load sample-data/ into out/sample.db, write the reports
#   make test     unit, oracle and end-to-end tests; again under ASan+UBSan;
#                 the unit tests once more under valgrind
#   make bench    the benchmarks of docs/performance.md (takes minutes)
#   make check-render  the monthly workbook rendered by LibreOffice
#   make clean    remove build/ and out/

CC      ?= cc
VERSION := $(shell cat VERSION)
CSTD    := -std=c11 -D_DEFAULT_SOURCE -D_FILE_OFFSET_BITS=64
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2
CFLAGS  ?= -O2 -g
ALL_CFLAGS = $(CSTD) $(WARN) $(CFLAGS) -Iinclude -Ibuild/gen -DIOP_VERSION='"$(VERSION)"'
LIBS    := -pthread -lsqlite3 -lxlsxwriter -lgsl -lgslcblas -lcsv -lnettle -lm
TESTLIBS := -lcmocka

# Debian packages the build, the tests and the benchmarks need.
PKGS := gcc make libsqlite3-dev sqlite3 libxlsxwriter-dev libgsl-dev \
        libcsv-dev nettle-dev libcmocka-dev valgrind r-base-core \
        r-cran-survival r-cran-survey python3 python3-openpyxl
BENCH_PKGS := python3-pandas python3-statsmodels time

SRC      := $(sort $(wildcard src/*.c))
SQL      := $(sort $(wildcard sql/*.sql))
SQL_C    := build/gen/sql_text.c
OBJ      := $(SRC:src/%.c=build/obj/%.o) build/obj/sql_text.o
ASAN_OBJ := $(SRC:src/%.c=build/asan/%.o) build/asan/sql_text.o
LIB_OBJ  := $(filter-out build/obj/main.o,$(OBJ))
ASAN_LIB := $(filter-out build/asan/main.o,$(ASAN_OBJ))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT     := $(UNIT_SRC:tests/unit/%.c=build/tests/%)
UNIT_ASAN := $(UNIT_SRC:tests/unit/%.c=build/tests-asan/%)
SAN      := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

.PHONY: all deps run test check check-render unit bench clean
all: build/.deps build/iopstat

# Install what is missing, once: "apt-get update" only when something is.
build/.deps: Makefile
	@mkdir -p build
	@missing=""; for p in $(PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || exit 1; \
	fi
	@touch $@

build/bench-deps: build/.deps
	@missing=""; for p in $(BENCH_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || exit 1; \
	fi
	@touch $@

$(SQL_C): $(SQL) tools/embed-sql.sh | build/.deps
	@mkdir -p build/gen
	$(Q)sh tools/embed-sql.sh $(SQL) > $@

# Quiet rules: "CC file"; `make V=1` prints the whole commands.
Q = $(if $(V),,@)

build/obj/%.o: src/%.c $(wildcard include/iop/*.h) | build/.deps
	@mkdir -p build/obj
	@$(if $(V),,echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@
build/obj/sql_text.o: $(SQL_C)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@
build/asan/%.o: src/%.c $(wildcard include/iop/*.h) | build/.deps
	@mkdir -p build/asan
	@$(if $(V),,echo "  CC-SAN  $<")
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN) -c $< -o $@
build/asan/sql_text.o: $(SQL_C)
	@mkdir -p build/asan
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN) -c $< -o $@

build/iopstat: $(OBJ)
	@$(if $(V),,echo "  LINK    $@")
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $(OBJ) $(LIBS)
build/iopstat-asan: $(ASAN_OBJ)
	@$(if $(V),,echo "  LINK    $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN) -o $@ $(ASAN_OBJ) $(LIBS)

# test_metrics_reuse makes pthread_create fail, to test the metrics' run
# without a second thread and a load that cannot start its reader.
build/tests/test_metrics_reuse build/tests-asan/test_metrics_reuse: TESTWRAP = -Wl,--wrap=pthread_create

build/tests/%: tests/unit/%.c $(LIB_OBJ)
	@mkdir -p build/tests
	@$(if $(V),,echo "  TEST    $@")
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(LIB_OBJ) $(LIBS) $(TESTLIBS) $(TESTWRAP)
build/tests-asan/%: tests/unit/%.c $(ASAN_LIB)
	@mkdir -p build/tests-asan
	@$(if $(V),,echo "  TEST    $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN) -o $@ $< $(ASAN_LIB) $(LIBS) $(TESTLIBS) $(TESTWRAP)

run: all
	sh tools/run-sample.sh

unit: $(UNIT)

# The whole suite: plain build, then ASan+UBSan, then valgrind.
test: all build/iopstat-asan $(UNIT) $(UNIT_ASAN)
	sh tests/run.sh

check: test

# The monthly workbook through LibreOffice to PDF, its first page to
# docs/monthly.png (installs libreoffice-calc and poppler-utils if missing).
check-render: all
	sh tools/check-render.sh

bench: all build/bench-deps
	sh bench/run.sh

clean:
	rm -rf build/obj build/asan build/gen build/tests build/tests-asan \
	       build/iopstat build/iopstat-asan out
