#!/usr/bin/env bash
# fsck_test.sh - `ticklake verify TABLE` (spec/LOG.md section 12): a clean
# table passes (exit 0, text and --json counts); then each damage is named
# and exits 1: a flipped byte in a data file, a truncated data file, a
# missing data file, a missing commit in the middle, a corrupt checkpoint,
# a damaged tag. Segment files given directly still go through the segment
# check. $1 = path to the ticklake binary.
source "$(dirname "$0")/lib.sh" "${1:-}"

T=$TMP/t
run "$TL" create "$T" --schema ticks
expect_rc 0 "create"
for s in 1 2 3; do
    run "$TL" gen --seed $s --days 1 --rows-per-day 3000 --symbols NIFTY --table "$T"
    expect_rc 0 "gen --table (version $s)"
done
run "$TL" checkpoint "$T"
expect_rc 0 "checkpoint at version 3"
run "$TL" tag "$T" first --version 1
expect_rc 0 "tag version 1"

run "$TL" verify "$T"
expect_rc 0 "verify a clean table"
expect_stdout ": ok" "verify says ok"
expect_stdout "4 commits, 1 checkpoints, 1 tags" "verify counts commits, checkpoints, tags"
run "$TL" verify "$T" --json
expect_rc 0 "verify --json"
expect_json "verify --json"
if [ "$(json_get ok)" = True ] && [ "$(json_get files)" = 3 ] && [ "$(json_get rows)" = 9000 ] && [ "$(json_get latest_version)" = 3 ]; then
    ok "verify --json: ok, 3 files, 9000 rows, latest 3"
else bad "verify --json: $(snippet "$TMP/out")"; fi

fresh() { rm -rf "$TMP/c"; cp -a "$T" "$TMP/c"; }
data_file() { find "$TMP/c" -name '*.tls' | sort | sed -n "${1}p"; }

# a flipped byte in the middle of a data file
fresh
F=$(data_file 1)
SZ=$(stat -c %s "$F")
flip_byte "$F" $((SZ / 3))
REL=${F#"$TMP/c/"}
run "$TL" verify "$TMP/c"
expect_rc 1 "flipped byte: exit 1"
expect_stdout "DAMAGED" "flipped byte: DAMAGED line"
expect_stdout "$REL" "flipped byte: names the file"
expect_stderr "1 damaged file" "flipped byte: stderr counts"
run "$TL" verify "$TMP/c" --json
expect_rc 1 "flipped byte --json: exit 1"
expect_json "flipped byte --json"
if [ "$(json_get ok)" = False ] && [ "$(json_get damaged.0.path)" = "$REL" ] && [ "$(json_get damaged.0.kind)" = data ]; then
    ok "--json names the damaged data file"
else bad "--json: $(snippet "$TMP/out")"; fi
if json_get damaged.0.error | grep -q "block"; then ok "the error names the block"; else bad "no block in: $(json_get damaged.0.error)"; fi

# a truncated data file
fresh
F=$(data_file 2)
truncate -s 100 "$F"
run "$TL" verify "$TMP/c"
expect_rc 1 "truncated file: exit 1"
expect_stdout "truncated" "truncated file: says truncated"
expect_stdout "${F#"$TMP/c/"}" "truncated file: names it"

# a missing data file
fresh
F=$(data_file 3)
rm "$F"
run "$TL" verify "$TMP/c"
expect_rc 1 "missing file: exit 1"
expect_stdout "missing" "missing file: says missing"
expect_stdout "${F#"$TMP/c/"}" "missing file: names it"

# a missing commit in the middle
fresh
rm "$TMP/c/_delta_log/00000000000000000002.json"
run "$TL" verify "$TMP/c"
expect_rc 1 "missing commit: exit 1"
expect_stdout "_delta_log/00000000000000000002.json" "missing commit: names it"

# a corrupt checkpoint
fresh
flip_byte "$TMP/c/_delta_log/00000000000000000003.checkpoint.tlc" 300
run "$TL" verify "$TMP/c" --json
expect_rc 1 "corrupt checkpoint: exit 1"
if [ "$(json_get damaged.0.kind)" = checkpoint ] && [ "$(json_get damaged.0.code)" = checksum ]; then
    ok "corrupt checkpoint: kind checkpoint, code checksum"
else bad "corrupt checkpoint: $(snippet "$TMP/out")"; fi

# a damaged tag
fresh
echo '{"name":"first"' >"$TMP/c/_delta_log/_tags/first.json"
run "$TL" verify "$TMP/c"
expect_rc 1 "damaged tag: exit 1"
expect_stdout "_delta_log/_tags/first.json" "damaged tag: names it"

# several at once: every one named
fresh
rm "$(data_file 1)"
flip_byte "$TMP/c/_delta_log/00000000000000000003.checkpoint.tlc" 300
run "$TL" verify "$TMP/c" --json
expect_rc 1 "two damages: exit 1"
N=$(/usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)["damaged"]))' <"$TMP/out")
[ "$N" = 2 ] && ok "two damages: both named" || bad "two damages: $N named: $(snippet "$TMP/out")"

# options verify hands through to the table check
run "$TL" verify "$T" --version first
expect_rc 0 "verify --version TAG"
expect_stdout "1 version" "verify --version checks one version"
run "$TL" verify --log-only "$T"
expect_rc 0 "verify --log-only before TABLE"

# not a table; a segment file still goes to the segment check
run "$TL" verify "$TMP"
expect_rc 1 "verify of a directory that is no table"
expect_stderr "not a table" "says not a table"
F=$(find "$T" -name '*.tls' | head -1)
run "$TL" verify "$F"
expect_rc 0 "verify of a segment file"
expect_stdout "ok" "segment file ok"

finish
