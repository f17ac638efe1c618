#!/usr/bin/env bash
# segment_test.sh - `ticklake inspect | verify | dump` on generated segments,
# and on damaged ones: a flipped block byte, a flipped footer byte, a
# truncated file, an empty file and a non-segment file must each give
# exit 1 and a message naming the file. $1 = path to the ticklake binary.
source "$(dirname "$0")/lib.sh" "${1:-}"

R=40000 # rows per symbol-day: a few row blocks per file
run "$TL" gen --seed 11 --days 1 --rows-per-day $R --segments "$TMP/seg"
expect_rc 0 "gen segments"
F="$TMP/seg/BANKNIFTY_2025-11-17.tls"
G="$TMP/seg/NIFTY_2025-11-17.tls"

run "$TL" inspect "$F"
expect_rc 0 "inspect"
for w in "rows        40,000" "file bytes" "encodings" "price" "timestamp" "bp0" "symbol"; do
    expect_stdout "$w" "inspect shows '$w'"
done
if grep -Eq '^symbol +string .* BANKNIFTY +BANKNIFTY$' "$TMP/out"; then ok "inspect: symbol min = max = BANKNIFTY"; else bad "inspect: symbol row unexpected: $(grep '^symbol' "$TMP/out")"; fi
if grep -Eq '^timestamp +timestamp .* 2025-11-17T[0-9:.]+Z +2025-11-17T[0-9:.]+Z$' "$TMP/out"; then ok "inspect: timestamps printed as ISO-8601 UTC"; else bad "inspect: timestamp row: $(grep '^timestamp' "$TMP/out")"; fi

run "$TL" inspect "$F" --json
expect_rc 0 "inspect --json"
expect_json "inspect --json"
if [ "$(json_get rows)" = "$R" ]; then ok "inspect --json rows = $R"; else bad "inspect --json rows = $(json_get rows)"; fi
if [ "$(json_get file_bytes)" = "$(stat -c %s "$F")" ]; then ok "inspect --json file_bytes = file size"; else bad "file_bytes $(json_get file_bytes)"; fi
ncols=$(json_get columns_count)
if [ "$ncols" -ge 30 ]; then ok "inspect --json: $ncols columns"; else bad "inspect --json: only $ncols columns"; fi
if [ "$(json_get blocks_verified)" = "False" ]; then ok "inspect --json without --verify: blocks_verified false"; else bad "blocks_verified: $(json_get blocks_verified)"; fi

run "$TL" inspect "$F" --verify --json
expect_rc 0 "inspect --verify --json"
expect_json "inspect --verify --json"
if [ "$(json_get blocks_verified)" = "True" ]; then ok "inspect --verify: blocks_verified true"; else bad "blocks_verified: $(json_get blocks_verified)"; fi

run "$TL" verify "$F" "$G"
expect_rc 0 "verify two intact files"
expect_stdout "2 ok, 0 failed" "verify summary"
run "$TL" verify "$F" "$G" --json
expect_rc 0 "verify --json"
expect_json "verify --json"

run "$TL" dump "$F" --limit 5
expect_rc 0 "dump --limit 5"
if [ "$(wc -l <"$TMP/out")" -eq 6 ]; then ok "dump --limit 5 prints header + 5 rows"; else bad "dump --limit 5 printed $(wc -l <"$TMP/out") lines"; fi
run "$TL" dump "$F"
expect_rc 0 "dump all"
cp "$TMP/out" "$TMP/all.csv"
if [ "$(wc -l <"$TMP/all.csv")" -eq $((R + 1)) ]; then ok "dump prints header + $R rows"; else bad "dump printed $(wc -l <"$TMP/all.csv") lines"; fi
for off in 0 1 16383 16384 16385 39998; do
    run "$TL" dump "$F" --offset $off --limit 3
    { head -n1 "$TMP/all.csv"; sed -n "$((off + 2)),$((off + 4))p" "$TMP/all.csv"; } >"$TMP/want.csv"
    if cmp -s "$TMP/out" "$TMP/want.csv"; then ok "dump --offset $off --limit 3 matches the full dump"; else bad "dump --offset $off --limit 3 differs"; fi
done
run "$TL" dump "$F" --offset $((R + 10))
if [ "$RC" -eq 0 ] && [ "$(wc -l <"$TMP/out")" -eq 1 ]; then ok "dump past the end prints the header only"; else bad "dump past the end: exit $RC, $(wc -l <"$TMP/out") lines"; fi

# damage: a byte inside the first data block
cp "$F" "$TMP/flip.tls"
flip_byte "$TMP/flip.tls" 200
run "$TL" verify "$G" "$TMP/flip.tls"
expect_rc 1 "verify detects a flipped block byte"
expect_stderr "$TMP/flip.tls" "verify error names the damaged file"
if grep -qi 'block' "$TMP/err"; then ok "verify error names the block: $(head -n1 "$TMP/err")"; else bad "verify error lacks the block: $(snippet "$TMP/err")"; fi
expect_stdout "FAILED  $TMP/flip.tls" "verify lists the damaged file as FAILED"
expect_stdout "ok      $G" "verify still reports the intact file ok"
expect_stdout "1 ok, 1 failed" "verify summary counts the failure"
run "$TL" verify "$TMP/flip.tls" --json
expect_rc 1 "verify --json on a damaged file"
expect_json "verify --json on a damaged file"
run "$TL" inspect "$TMP/flip.tls" --verify
expect_rc 1 "inspect --verify detects the flipped byte"
expect_stderr "$TMP/flip.tls" "inspect --verify names the file"
run "$TL" dump "$TMP/flip.tls" --limit 10
expect_rc 1 "dump of the damaged block fails (checksums are verified)"
expect_stderr "$TMP/flip.tls" "dump error names the file"

# damage: a byte of the footer (just before the trailer)
cp "$F" "$TMP/footer.tls"
flip_byte "$TMP/footer.tls" -60
for c in inspect verify dump; do
    run "$TL" $c "$TMP/footer.tls"
    expect_rc 1 "$c of a file with a flipped footer byte"
    expect_stderr "$TMP/footer.tls" "$c names the file with the damaged footer"
done
# damage: the trailer magic (last byte)
cp "$F" "$TMP/magic.tls"
flip_byte "$TMP/magic.tls" -1
run "$TL" verify "$TMP/magic.tls"
expect_rc 1 "verify of a file with a bad trailing magic"
expect_stderr "$TMP/magic.tls" "bad magic error names the file"

# truncated, empty, not a segment
size=$(stat -c %s "$F")
for n in $((size - 1)) $((size / 2)) 100 8 1; do
    head -c $n "$F" >"$TMP/trunc.tls"
    run "$TL" inspect "$TMP/trunc.tls"
    expect_rc 1 "inspect of the file truncated to $n bytes"
    expect_stderr "$TMP/trunc.tls" "truncated ($n bytes) error names the file"
done
: >"$TMP/empty.tls"
run "$TL" verify "$TMP/empty.tls"
expect_rc 1 "verify of an empty file"
expect_stderr "$TMP/empty.tls" "empty-file error names the file"
head -c 5000 /dev/zero | tr '\0' 'x' >"$TMP/text.tls"
run "$TL" inspect "$TMP/text.tls"
expect_rc 1 "inspect of a non-segment file"
expect_stderr "$TMP/text.tls" "non-segment error names the file"
mkdir "$TMP/adir.tls"
run "$TL" inspect "$TMP/adir.tls"
expect_rc 1 "inspect of a directory"
expect_stderr "$TMP/adir.tls" "directory error names the path"

finish
