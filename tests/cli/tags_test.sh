#!/usr/bin/env bash
# tags_test.sh - tags through the CLI (spec/LOG.md section 11): tag the
# latest version and an older one (--version, --timestamp, --version TAG),
# list (text, --json), a duplicate (exit 1, names the version), --force
# moves it, bad names (usage errors), a version that does not exist,
# --delete; and the protection: a tagged version whose files a later
# version removed keeps them through vacuum --retain 0 --force (and its
# dry run says so), reads every row with verify --version TAG, while the
# same files go once the tag is deleted (LOG-T5).
# $1 = path to the ticklake binary.
source "$(dirname "$0")/lib.sh" "${1:-}"

T=$TMP/t
printf 'symbol string\ntimestamp timestamp\nprice float64 nullable\n' >"$TMP/schema"
run "$TL" create "$T" --schema "$TMP/schema" --partition 'symbol,day(timestamp)'
expect_rc 0 "create"
printf 'symbol,timestamp,price\nA,1000,1.5\nB,2000,2.5\nA,3000,3.5\n' >"$TMP/a.csv"
run "$TL" append "$T" "$TMP/a.csv"
expect_rc 0 "append (version 1)"
sleep 0.05
TS1=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
sleep 0.05
run "$TL" append "$T" "$TMP/a.csv"
expect_rc 0 "append (version 2)"

run "$TL" tag "$T" research --version 1
expect_rc 0 "tag --version 1"
expect_stdout "tagged version 1" "tag reports the version"
run "$TL" tag "$T" head --json
expect_rc 0 "tag the latest --json"
expect_json "tag --json"
if [ "$(json_get version)" = 2 ] && [ "$(json_get tag)" = head ] && [ "$(json_get replaced_version)" = None ]; then
    ok "tag --json: version 2, tag head, nothing replaced"
else bad "tag --json: $(snippet "$TMP/out")"; fi
run "$TL" tag "$T" by-time --timestamp "$TS1"
expect_rc 0 "tag --timestamp"
expect_stdout "tagged version 1" "--timestamp resolves to version 1"
run "$TL" tag "$T" copy --version research
expect_rc 0 "tag --version TAG"
expect_stdout "tagged version 1" "--version TAG resolves the other tag"
[ -f "$T/_delta_log/_tags/research.json" ] && ok "tag file in _delta_log/_tags/ (LOG-T2)" || bad "no tag file"

run "$TL" tags "$T"
expect_rc 0 "tags"
expect_stdout "research" "tags lists research"
run "$TL" tags "$T" --json
expect_rc 0 "tags --json"
expect_json "tags --json"
if [ "$(json_get tags.0.name)" = by-time ] && [ "$(json_get tags.3.name)" = research ] && [ "$(json_get tags.3.version)" = 1 ]; then
    ok "tags --json: sorted by name, research at version 1"
else bad "tags --json: $(snippet "$TMP/out")"; fi

run "$TL" tag "$T" research
expect_rc 1 "a duplicate tag"
expect_stderr "tag 'research' exists (version 1)" "the duplicate names the tag and its version"
run "$TL" tag "$T" copy --force
expect_rc 0 "--force moves a tag"
expect_stdout "moved tag 'copy' from version 1 to version 2" "--force reports the move"

expect_usage_error "a tag name with a slash" "$TL" tag "$T" 'a/b'
expect_usage_error "a tag name of digits" "$TL" tag "$T" 123
expect_usage_error "a tag name starting with a dot" "$TL" tag "$T" .x
expect_usage_error "missing NAME" "$TL" tag "$T"
expect_usage_error "--delete with --version" "$TL" tag "$T" x --delete --version 1
expect_usage_error "--version and --timestamp" "$TL" tag "$T" x --version 1 --timestamp 5
run "$TL" tag "$T" nine --version 9
expect_rc 1 "tag of a version that does not exist"
expect_stderr "latest version is 2" "names the latest version"
[ ! -f "$T/_delta_log/_tags/nine.json" ] && ok "nothing written for it" || bad "nine.json written"
run "$TL" tag "$T" x --version nosuchtag
expect_rc 1 "--version naming a missing tag"
expect_stderr "no tag 'nosuchtag'" "names the missing tag"

run "$TL" tag "$T" by-time --delete
expect_rc 0 "--delete"
expect_stdout "deleted tag 'by-time' (version 1)" "--delete reports the version"
run "$TL" tag "$T" by-time --delete
expect_rc 1 "--delete of a missing tag"
expect_stderr "no tag 'by-time'" "names it"

# protection: version 3 removes every file of versions 1-2 (a rewrite with
# new rows keeps the table non-empty), then vacuum with retention 0
"$TL" cat "$T" --version 1 >"$TMP/v1.csv" 2>/dev/null
V1_ROWS=$(($(wc -l <"$TMP/v1.csv") - 1))
/usr/bin/python3 - "$T" <<'PY'
import json, os, sys, time, uuid
t = sys.argv[1]
log = os.path.join(t, "_delta_log")
live = {}
for v in range(0, 3):
    for line in open(os.path.join(log, "%020d.json" % v)):
        a = json.loads(line)
        if "add" in a:
            live[a["add"]["path"]] = a["add"]
        if "remove" in a:
            live.pop(a["remove"]["path"], None)
ict = int(time.time() * 1000) + 5
rows = sum(a["numRecords"] for a in live.values())
lines = [{"commitInfo": {"inCommitTimestamp": ict, "operation": "DELETE", "operationParameters": {},
                         "readVersion": 2, "txnId": str(uuid.uuid4()), "engineInfo": "test/1",
                         "numAddedFiles": 0, "numAddedRows": 0, "numRemovedFiles": len(live),
                         "numRemovedRows": rows}}]
for p, a in sorted(live.items()):
    lines.append({"remove": {"path": p, "deletionTimestamp": ict, "dataChange": True,
                             "partitionValues": a["partitionValues"], "size": a["size"],
                             "numRecords": a["numRecords"]}})
with open(os.path.join(log, "%020d.json" % 3), "x") as f:
    for l in lines:
        f.write(json.dumps(l, separators=(",", ":")) + "\n")
PY
run "$TL" describe "$T" --json
if [ "$(json_get version)" = 3 ] && [ "$(json_get rows)" = 0 ]; then ok "version 3 removed every file"; else bad "describe: $(snippet "$TMP/out")"; fi
sleep 0.01
run "$TL" vacuum "$T" --retain 0 --force --dry-run --json
expect_rc 0 "vacuum --dry-run with research tagged"
# versions 1 and 2 are both tagged (research, head/copy): every removed file is kept
if [ "$(json_get files)" = "[]" ] && [ "$(json_get unreadable_versions)" = "[]" ]; then ok "dry run: nothing would go, no version would become unreadable"; else bad "dry run: $(snippet "$TMP/out")"; fi
run "$TL" vacuum "$T" --retain 0 --force
expect_rc 0 "vacuum --retain 0 --force"
run "$TL" verify "$T" --json
expect_rc 0 "verify after vacuum: the tagged versions' files are all there"
expect_json "verify --json"
run "$TL" cat "$T" --version 1
if [ "$RC" -eq 0 ]; then
    R=$(($(wc -l <"$TMP/out") - 1))
    [ "$R" = "$V1_ROWS" ] && ok "version 1 (tagged) still reads all $R rows" || bad "version 1 reads $R rows, expected $V1_ROWS"
else bad "cat --version 1 after vacuum: $(snippet "$TMP/err")"; fi
run "$TL" checkpoint "$T"
expect_rc 0 "checkpoint + log cleanup"
run "$TL" cat "$T" --version 1
expect_rc 0 "version 1 readable after checkpoint + cleanup"

# untag every tag naming versions 1 and 2: vacuum then takes their files
for n in research head copy; do "$TL" tag "$T" "$n" --delete >/dev/null 2>&1; done
run "$TL" vacuum "$T" --retain 0 --force --json
expect_rc 0 "vacuum without tags"
if [ "$(json_get files)" != "[]" ]; then ok "without tags the removed files go"; else bad "nothing deleted: $(snippet "$TMP/out")"; fi
run "$TL" cat "$T" --version 1
expect_rc 1 "version 1 unreadable once untagged and vacuumed"

finish
