#!/usr/bin/env bash
# Checks a report.html from BottleneckEvaluation in a real headless browser (Debian's chromium).
#
#   scripts/check-report.sh REPORT.html [SCREENSHOT.png]
#
# Loads the page with --dump-dom and takes a full-width screenshot (default: /tmp/<report name>.png), then fails
# (non-zero exit, one line per problem on stderr) when:
#   - the browser logged any console message or uncaught exception (the page has no scripts, so any is a bug),
#   - an element id is missing: figure-training-curves (unless the page notes that there is no training history),
#     figure-confusion-matrix, figure-per-class, section-mistakes,
#   - a figure <svg> has no drawn content (rect, line, polyline, circle, text),
#   - no thumbnail <img src="data:image/...;base64,..."> is present (unless the page has no mistakes shown),
#   - any src= or href= points anywhere but a data: URI or a #fragment.
# Run as root without chromium, it installs Debian's package (apt-get install --no-install-recommends chromium);
# otherwise a missing browser exits 3. CHROMIUM overrides the browser command (and disables the install).
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 REPORT.html [SCREENSHOT.png]" >&2
    exit 64
fi
report=$(realpath "$1")
[ -f "$report" ] || { echo "check-report: no such file: $1" >&2; exit 66; }
screenshot=${2:-/tmp/$(basename "${report%.*}").png}

browser=${CHROMIUM:-chromium}
if ! command -v "$browser" >/dev/null 2>&1; then
    if [ -z "${CHROMIUM:-}" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        # The test suite runs several checks at once: one installs while the others wait for it, then find the
        # browser (two concurrent apt-get runs fail on dpkg's lock). Any other apt-get is waited for too.
        exec 9>/tmp/bottleneck-check-report-install.lock
        flock 9
        if ! command -v "$browser" >/dev/null 2>&1; then
            echo "check-report: installing Debian's chromium (apt-get install --no-install-recommends chromium)" >&2
            export DEBIAN_FRONTEND=noninteractive
            apt-cache policy chromium 2>/dev/null | grep -q 'Candidate: [0-9]' \
                || apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
            apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends chromium >&2
        fi
        flock -u 9
    fi
    command -v "$browser" >/dev/null 2>&1 || {
        echo "check-report: '$browser' not found; install Debian's chromium (apt-get install chromium)" >&2
        exit 3
    }
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
flags=(--headless --no-sandbox --disable-gpu --enable-logging=stderr --v=0 --hide-scrollbars
       --user-data-dir="$work/profile" --no-first-run --disable-extensions)
if ! timeout 120 "$browser" "${flags[@]}" --dump-dom "file://$report" >"$work/dom.html" 2>"$work/dom.log"; then
    echo "check-report: chromium failed to load $report:" >&2
    tail -20 "$work/dom.log" >&2
    exit 1
fi
# Tall enough for the whole page at 1200 px wide; the image is cropped to the window.
timeout 120 "$browser" "${flags[@]}" --window-size=1200,4200 --screenshot="$screenshot" "file://$report" \
    >/dev/null 2>"$work/shot.log" || { echo "check-report: screenshot failed" >&2; tail -20 "$work/shot.log" >&2; exit 1; }

problems=()
if grep -hE ':CONSOLE[:(]|Uncaught' "$work/dom.log" "$work/shot.log" >"$work/console.txt"; then
    while IFS= read -r line; do problems+=("console: $line"); done <"$work/console.txt"
fi

perl -0777 -ne '
    my $dom = $_;
    my @problems;
    my $no_curves = $dom =~ /id="note-training-curves"/;
    for my $id ("figure-training-curves", "figure-confusion-matrix", "figure-per-class") {
        next if $id eq "figure-training-curves" && $no_curves;
        if ($dom =~ m{<svg\b[^>]*\bid="\Q$id\E"[^>]*>(.*?)</svg>}s) {
            my $inner = $1;
            my $marks = () = $inner =~ /<(?:rect|line|polyline|circle|path|text)\b/g;
            push @problems, "figure $id: <svg> has no drawn content" if $marks == 0;
        } else {
            push @problems, "figure $id: no <svg id=\"$id\">";
        }
    }
    push @problems, "section-mistakes: missing" unless $dom =~ /id="section-mistakes"/;
    my $thumbs = () = $dom =~ /<img\b[^>]*\bsrc="data:image\/(?:png|jpeg);base64,[A-Za-z0-9+\/=]+"/g;
    my $cards = () = $dom =~ /class="mistake"/g;
    push @problems, "section-mistakes: $cards mistakes but no data: thumbnails" if $cards > 0 && $thumbs == 0;
    while ($dom =~ /\b(src|href)\s*=\s*["\x27]?([^"\x27\s>]*)/gi) {
        my ($attr, $value) = ($1, $2);
        push @problems, "external reference: $attr=\"" . substr($value, 0, 80) . "\""
            unless $value =~ /^(?:data:|#)/;
    }
    print "$_\n" for @problems;
    print STDERR "check-report: $thumbs thumbnails, $cards mistake cards\n";
' "$work/dom.html" >"$work/dom-problems.txt"
while IFS= read -r line; do problems+=("$line"); done <"$work/dom-problems.txt"

if [ ${#problems[@]} -gt 0 ]; then
    echo "check-report: FAILED for $report" >&2
    printf '  %s\n' "${problems[@]}" >&2
    exit 1
fi
echo "check-report: OK $report ($("$browser" --version 2>/dev/null | head -1)); screenshot $screenshot"
