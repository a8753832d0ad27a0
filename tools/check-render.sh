#!/bin/sh
# check-render.sh [WORKBOOK] - render the monthly workbook as a reader
# would see it: LibreOffice (headless) converts it to PDF and pdftoppm
# draws the first page (the Summary) as docs/monthly.png. Not part of
# `make test` (LibreOffice is large); run it after changing the layout and
# look at the PNG. Default workbook: the one `make run` writes.
set -eu
book=${1:-}
if [ -z "$book" ]; then
    [ -f out/sample.db ] || sh tools/run-sample.sh >/dev/null
    book=$(./build/iopstat report monthly --month 2026-10 --db out/sample.db)
fi
need=""
command -v soffice >/dev/null 2>&1 || need="$need libreoffice-calc"
command -v pdftoppm >/dev/null 2>&1 || need="$need poppler-utils"
if [ -n "$need" ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
soffice --headless --norestore -env:UserInstallation=file://"$tmp"/profile \
    --convert-to pdf --outdir "$tmp" "$book" >/dev/null 2>&1
pdf="$tmp/$(basename "${book%.*}").pdf"
[ -s "$pdf" ] || { echo "check-render: LibreOffice made no PDF of '$book'" >&2; exit 1; }
pages=$(pdfinfo "$pdf" 2>/dev/null | awk '/^Pages:/ {print $2}')
pdftoppm -png -r 80 -f 1 -l 1 -singlefile "$pdf" docs/monthly
cp "$pdf" out/monthly-render.pdf 2>/dev/null || true
echo "check-render: $book -> $pdf (${pages:-?} pages); page 1 in docs/monthly.png"
