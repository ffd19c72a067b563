#!/usr/bin/env bash
# Tests scripts/backup/pg-backup.sh and pg-restore.sh against a real PostgreSQL server.
#
# Creates its own uniquely named databases, seeds tables with awkward values (NULLs next to empty strings,
# unicode, extreme bigints, text that needs escaping, jsonb, an enum, a second schema, sequences), backs
# them up, drops the database, restores it and compares every table's row count and checksum. It also
# checks point-in-time selection (RESTORE_AT), the refusal to restore over unknown tables, retention
# pruning, that a failing backup leaves older dumps alone and prints no password, and the off-site round trip:
# encrypted with age to S3-compatible storage (moto's server, started here), pruned there, fetched back and
# decrypted with the private key after the volume is gone.
#
# Server: PGHOST/PGPORT/PGUSER (default 127.0.0.1:5432, postgres; trust auth, as on the dev machines and
# in CI). Ends with `backup-restore: N passed, M failed` and exits non-zero when anything failed.
set -euo pipefail

export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
# psql/pg_dump must not pick up a developer's defaults from elsewhere.
unset PGDATABASE PGSERVICE
export PGCONNECT_TIMEOUT=5

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
backup_script="$repo_root/scripts/backup/pg-backup.sh"
restore_script="$repo_root/scripts/backup/pg-restore.sh"

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok   - $*"; }
fail() { failed=$((failed + 1)); echo "FAIL - $*"; }
check() { # check DESCRIPTION COMMAND...: passes when the command succeeds
    local description="$1"
    shift
    if "$@"; then pass "$description"; else fail "$description"; fi
}
finished=false
finish() {
    finished=true
    echo "backup-restore: $passed passed, $failed failed"
    [[ "$failed" -eq 0 ]]
}

# --- PostgreSQL client tools --------------------------------------------------------------------------------
# pg_dump refuses servers newer than itself, and a pg_restore newer than the server can emit settings the
# server does not know, so prefer the client of the server's own major version (Debian keeps each major
# under /usr/lib/postgresql/<major>/bin), and fall back to PATH.
if ! server_version_num="$(psql -X -At -d postgres -c 'SHOW server_version_num' 2>&1)"; then
    echo "cannot reach PostgreSQL at $PGHOST:$PGPORT as $PGUSER: $server_version_num" >&2
    echo "start it (pg_ctlcluster --skip-systemctl-redirect 15 main start) or set PGHOST/PGPORT/PGUSER" >&2
    failed=1
    finish
fi
server_major=$((server_version_num / 10000))
if [[ -x "/usr/lib/postgresql/$server_major/bin/pg_dump" ]]; then
    export PG_BIN="/usr/lib/postgresql/$server_major/bin"
    PSQL="$PG_BIN/psql"
else
    unset PG_BIN
    PSQL=psql
    client_major="$(pg_dump --version | sed -E 's/.* ([0-9]+)(\.[0-9]+)?.*/\1/')"
    if ((client_major < server_major)); then
        echo "pg_dump $client_major cannot dump a PostgreSQL $server_major server; install the $server_major client" >&2
        failed=1
        finish
    fi
fi
echo "# server PostgreSQL $server_major, client tools from ${PG_BIN:-PATH}"

# --- Scratch space, always cleaned up ------------------------------------------------------------------------
db="qm_backup_test_$$_${RANDOM}"
scratch="$(mktemp -d)"
cleanup() {
    local status=$?
    # A command that failed outside check() stopped the script (set -e): count it, so the summary is honest.
    if [[ "$finished" != true ]]; then
        echo "FAIL - stopped early (exit status $status); see the output above"
        echo "backup-restore: $passed passed, $((failed + 1)) failed"
    fi
    "$PSQL" -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$scratch"
}
trap cleanup EXIT
url="postgresql://$PGUSER@$PGHOST:$PGPORT/$db"

sql() { "$PSQL" -X -q -v ON_ERROR_STOP=1 -At -d "$db" "$@"; }
admin_sql() { "$PSQL" -X -q -v ON_ERROR_STOP=1 -At -d postgres -c "$1"; }

seed() {
    sql >/dev/null <<'SQL'
CREATE TYPE order_status AS ENUM ('PENDING', 'CONFIRMED', 'CANCELLED');
CREATE TABLE customers (
    id         bigserial PRIMARY KEY,
    email      text NOT NULL UNIQUE,
    name       text NOT NULL,
    note       text,                      -- NULL and '' must stay distinct
    created_at timestamptz NOT NULL DEFAULT '2026-11-25 10:00:00+00'
);
CREATE TABLE orders (
    id          uuid PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id),
    total       bigint NOT NULL,
    status      order_status NOT NULL,
    meta        jsonb,
    price       numeric(20, 4)
);
CREATE SCHEMA audit;
CREATE TABLE audit.events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, payload text, happened_on date);
CREATE SEQUENCE invoice_number_seq START 1000;
SELECT nextval('invoice_number_seq') FROM generate_series(1, 5);

INSERT INTO customers (email, name, note) VALUES
    ('zoe@example.com', 'Zoë Ångström', NULL),
    ('tokyo@example.com', '東京 太郎', ''),
    ('emoji@example.com', 'Cart 🛒 Ünïcødé', 'tab	inside, newline
inside, backslash \ and "quotes" and ''single''');
INSERT INTO customers (email, name, note)
    SELECT 'bulk' || g || '@example.com', 'Bulk customer ' || g, CASE WHEN g % 3 = 0 THEN NULL ELSE 'n' || g END
    FROM generate_series(1, 300) AS g;
INSERT INTO orders (id, customer_id, total, status, meta, price) VALUES
    ('018f3a2e-0000-7000-8000-000000000001', 1, 9223372036854775807, 'PENDING', '{"gift": true, "note": "ünï"}', 12345678901234.5678),
    ('018f3a2e-0000-7000-8000-000000000002', 2, -9223372036854775808, 'CANCELLED', NULL, NULL),
    ('018f3a2e-0000-7000-8000-000000000003', 3, 0, 'CONFIRMED', '[]', 0.0001);
INSERT INTO audit.events (payload, happened_on)
    SELECT repeat('x', g), DATE '2026-01-01' + g FROM generate_series(1, 50) AS g;
SQL
}

# fingerprint: one line per table (row count and md5 of the rows as JSON, in a fixed order) and per
# sequence (its position), so two databases compare with one string comparison.
fingerprint() {
    local table
    while IFS= read -r table; do
        sql -c "SELECT '$table', count(*), md5(coalesce(string_agg(row_to_json(t)::text, E'\\n' ORDER BY row_to_json(t)::text), ''))
                FROM $table AS t"
    done < <(sql -c "SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) FROM pg_tables
                     WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1")
    sql -c "SELECT schemaname || '.' || sequencename, last_value FROM pg_sequences ORDER BY 1"
}

dump_count() { find "$1" -type f -name '*.dump' | wc -l; }

# --- 1. Back up ------------------------------------------------------------------------------------------------
admin_sql "CREATE DATABASE \"$db\""
seed
original="$(fingerprint)"
check "seeded 3 tables in 2 schemas and 3 sequences" test "$(grep -c . <<<"$original")" -eq 6

backups="$scratch/backups"
check "pg-backup.sh exits 0" env BACKUP_DIR="$backups" "$backup_script" "qmtest=$url"
dump_file="$(find "$backups/qmtest" -type f -name 'qmtest-*.dump' | head -n 1)"
check "one dump named qmtest-<UTC timestamp>.dump" \
    bash -c '[[ "$(basename "$1")" =~ ^qmtest-[0-9]{8}T[0-9]{6}Z\.dump$ && $(find "$2" -name "*.dump" | wc -l) -eq 1 ]]' _ "$dump_file" "$backups"
check "the dump is in pg_dump's custom format" bash -c '[[ "$(head -c 5 "$1")" == PGDMP ]]' _ "$dump_file"
check "no .partial file is left behind" test -z "$(find "$backups" -name '*.partial')"

# --- 2. Lose the database, restore it --------------------------------------------------------------------------
admin_sql "DROP DATABASE \"$db\" WITH (FORCE)"
admin_sql "CREATE DATABASE \"$db\"" # what an operator does first (k8s/README.md): an empty database
check "pg-restore.sh into the recreated database exits 0" env BACKUP_DIR="$backups" "$restore_script" "qmtest=$url"
restored="$(fingerprint)"
check "every table's row count and checksum match after restore" test "$restored" == "$original"
while IFS='|' read -r table count checksum; do
    [[ -n "$checksum" ]] || continue # sequence lines have no checksum
    echo "#   $table: $count rows"
done <<<"$restored"
check "sequences continue where they were (invoice_number_seq -> 1005)" \
    test "$(sql -c "SELECT nextval('invoice_number_seq')")" == 1005
check "NULL and empty string stay distinct" \
    test "$(sql -c "SELECT count(*) FILTER (WHERE note IS NULL) || '/' || count(*) FILTER (WHERE note = '') FROM customers WHERE id <= 3")" == "1/1"
check "unicode survives byte for byte" test "$(sql -c "SELECT name FROM customers WHERE id = 3")" == "Cart 🛒 Ünïcødé"
check "extreme bigints survive" \
    test "$(sql -c "SELECT min(total) || ' ' || max(total) FROM orders")" == "-9223372036854775808 9223372036854775807"
sql -c "SELECT setval('invoice_number_seq', 1004)" >/dev/null # undo the nextval above for later comparisons

# --- 3. Restore over a damaged database of the same schema (--clean) -----------------------------------------
sql -c "DELETE FROM orders WHERE total = 0; UPDATE customers SET name = 'overwritten' WHERE id = 1; DELETE FROM audit.events"
check "pg-restore.sh over changed data exits 0" env BACKUP_DIR="$backups" "$restore_script" "qmtest=$url"
check "changed data is back to the backup's state" test "$(fingerprint)" == "$original"

# --- 4. Refuse to restore over tables the dump does not know ---------------------------------------------------
sql -c "CREATE TABLE added_later (id int); UPDATE customers SET name = 'kept' WHERE id = 1"
if env BACKUP_DIR="$backups" "$restore_script" "qmtest=$url" 2>"$scratch/refusal.log"; then
    fail "pg-restore.sh refuses a database with unknown tables"
else
    check "pg-restore.sh refuses a database with unknown tables, naming them" grep -q 'public.added_later' "$scratch/refusal.log"
fi
check "a refused restore changes nothing" test "$(sql -c "SELECT name FROM customers WHERE id = 1")" == kept
check "RESTORE_FORCE=true restores anyway" env BACKUP_DIR="$backups" RESTORE_FORCE=true "$restore_script" "qmtest=$url"
check "  ... the backup's tables are back, the unknown table is kept" \
    test "$(sql -c "SELECT name FROM customers WHERE id = 1")/$(sql -c "SELECT to_regclass('public.added_later') IS NOT NULL")" == "Zoë Ångström/t"
sql -c "DROP TABLE added_later"

# --- 5. Pick a point in time (RESTORE_AT) -----------------------------------------------------------------------
# Rename the existing dump to an hour ago, change the data and take a second dump: two points in time.
earlier="$(date -u -d '-1 hour' +%Y%m%dT%H%M%SZ)"
mv "$dump_file" "$backups/qmtest/qmtest-$earlier.dump"
sql -c "INSERT INTO customers (email, name) VALUES ('later@example.com', 'Added after the first backup')"
later_state="$(fingerprint)"
check "a second backup exits 0" env BACKUP_DIR="$backups" "$backup_script" "qmtest=$url"
check "  ... and both dumps are kept (inside retention)" test "$(dump_count "$backups")" -eq 2
check "RESTORE_AT=<earlier> restores the earlier dump" \
    env BACKUP_DIR="$backups" RESTORE_AT="$earlier" "$restore_script" "qmtest=$url"
check "  ... the database is in the earlier state" test "$(fingerprint)" == "$original"
check "no RESTORE_AT restores the newest dump" env BACKUP_DIR="$backups" "$restore_script" "qmtest=$url"
check "  ... the database is in the later state" test "$(fingerprint)" == "$later_state"
if env BACKUP_DIR="$backups" RESTORE_AT=20000101T000000Z "$restore_script" "qmtest=$url" 2>/dev/null; then
    fail "RESTORE_AT before every dump is an error"
else
    pass "RESTORE_AT before every dump is an error"
fi

# --- 6. Restore one database of several (RESTORE_ONLY) ----------------------------------------------------------
missing_url="postgresql://$PGUSER@$PGHOST:$PGPORT/${db}_missing"
check "RESTORE_ONLY=qmtest restores qmtest and leaves the other target alone" \
    env BACKUP_DIR="$backups" RESTORE_ONLY=qmtest "$restore_script" "qmtest=$url" "other=$missing_url"
if env BACKUP_DIR="$backups" RESTORE_ONLY=typo "$restore_script" "qmtest=$url" 2>/dev/null; then
    fail "RESTORE_ONLY naming no given database is an error"
else
    pass "RESTORE_ONLY naming no given database is an error"
fi

# --- 7. Retention ----------------------------------------------------------------------------------------------
retention="$scratch/retention"
mkdir -p "$retention/qmtest"
for age in 30 10 8 6 1; do
    touch "$retention/qmtest/qmtest-$(date -u -d "-$age days" +%Y%m%dT%H%M%SZ).dump"
done
touch "$retention/qmtest/notes.txt" "$retention/qmtest/qmtest-handmade.dump"
touch -d '-2 hours' "$retention/qmtest/qmtest-19990101T000000Z.dump.partial"
check "backup with BACKUP_RETENTION_DAYS=7 exits 0" \
    env BACKUP_DIR="$retention" BACKUP_RETENTION_DAYS=7 "$backup_script" "qmtest=$url"
kept_ages=""
for age in 30 10 8 6 1; do
    if compgen -G "$retention/qmtest/qmtest-$(date -u -d "-$age days" +%Y%m%d)T*Z.dump" >/dev/null; then
        kept_ages+="$age "
    fi
done
check "dumps older than 7 days are deleted, newer ones kept (kept ages: ${kept_ages:-none})" test "$kept_ages" == "6 1 "
check "  ... plus today's new dump (3 timestamped dumps left)" \
    test "$(find "$retention/qmtest" -name 'qmtest-*Z.dump' | wc -l)" -eq 3
check "files that are not timestamped dumps are left alone" \
    test -e "$retention/qmtest/notes.txt" -a -e "$retention/qmtest/qmtest-handmade.dump"
check "a stale .partial from a killed run is cleaned up" test -z "$(find "$retention" -name '*.partial')"

# --- 8. Failures -----------------------------------------------------------------------------------------------
before="$(find "$retention" -type f | sort)"
secret_url="postgresql://$PGUSER:s3cret-password@$PGHOST:$PGPORT/${db}_missing"
if env BACKUP_DIR="$retention" BACKUP_RETENTION_DAYS=1 "$backup_script" "qmtest=$secret_url" >"$scratch/failure.log" 2>&1; then
    fail "a backup of a missing database exits non-zero"
else
    pass "a backup of a missing database exits non-zero"
fi
check "  ... and deletes no older dump, leaves no partial file" test "$(find "$retention" -type f | sort)" == "$before"
check "  ... and prints no password" bash -c '! grep -q s3cret "$1"' _ "$scratch/failure.log"
for bad in 0 -3 seven; do
    if env BACKUP_DIR="$retention" BACKUP_RETENTION_DAYS="$bad" "$backup_script" "qmtest=$url" 2>/dev/null; then
        fail "BACKUP_RETENTION_DAYS=$bad is rejected"
    else
        pass "BACKUP_RETENTION_DAYS=$bad is rejected"
    fi
done
if env BACKUP_DIR="$retention" "$backup_script" "$secret_url" >"$scratch/noname.log" 2>&1; then
    fail "an argument without NAME= is rejected"
else
    check "an argument without NAME= is rejected without echoing it" bash -c '! grep -q s3cret "$1"' _ "$scratch/noname.log"
fi

# --- 9. Off-site copies: encrypted with age, in S3-compatible storage (moto's server), fetched back -----------
# Tools: age and the aws CLI from Debian's packages, moto's S3 server from PyPI (in a venv of its own).
if ! command -v age >/dev/null || ! command -v aws >/dev/null; then
    if [[ "$(id -u)" -eq 0 ]]; then apt_get=(apt-get); else apt_get=(sudo apt-get); fi
    echo "# installing Debian's age and awscli"
    "${apt_get[@]}" update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y -qq --no-install-recommends age awscli >/dev/null
fi
moto_venv="${QUICKMART_VENV_ROOT:-$HOME/.cache/quickmart-venvs}/moto-5.2.5"
if [[ ! -x "$moto_venv/bin/moto_server" ]]; then
    echo "# installing moto[server] 5.2.5 into $moto_venv"
    python3 -m venv "$moto_venv"
    "$moto_venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==5.2.5"
fi
s3_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$moto_venv/bin/moto_server" -H 127.0.0.1 -p "$s3_port" >"$scratch/moto.log" 2>&1 &
moto_pid=$!
trap 'kill "$moto_pid" 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$s3_port") 2>/dev/null && break; sleep 0.2; done
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1
export BACKUP_S3_ENDPOINT="http://127.0.0.1:$s3_port" BACKUP_S3_BUCKET=quickmart-backups BACKUP_S3_PREFIX=test/prod
s3() { aws --endpoint-url "$BACKUP_S3_ENDPOINT" --output text "$@"; }
s3 s3api create-bucket --bucket "$BACKUP_S3_BUCKET" >/dev/null
age-keygen -o "$scratch/identity.txt" 2>/dev/null
export BACKUP_AGE_RECIPIENT="$(age-keygen -y "$scratch/identity.txt")"
# A copy older than the retention, and an object that is not one of ours: only the first may be pruned.
printf old >"$scratch/old"
s3 s3 cp --only-show-errors "$scratch/old" "s3://$BACKUP_S3_BUCKET/test/prod/qmtest/qmtest-20200101T000000Z.dump.age"
s3 s3 cp --only-show-errors "$scratch/old" "s3://$BACKUP_S3_BUCKET/test/prod/qmtest/notes.txt"
offsite="$scratch/offsite-volume"
state="$(fingerprint)" # what the earlier sections left: the off-site round trip must bring back exactly this
check "pg-backup.sh with a bucket exits 0" env BACKUP_DIR="$offsite" BACKUP_S3_RETENTION_DAYS=30 "$backup_script" "qmtest=$url"
keys="$(s3 s3api list-objects-v2 --bucket "$BACKUP_S3_BUCKET" --prefix test/prod/qmtest/ --query 'Contents[].Key' | tr '\t' '\n' | sort)"
copy_key="$(grep -E '^test/prod/qmtest/qmtest-[0-9]{8}T[0-9]{6}Z\.dump\.age$' <<<"$keys" | grep -v 20200101 || true)"
check "the dump is copied off-site as PREFIX/NAME/NAME-<stamp>.dump.age" test -n "$copy_key"
check "  ... the copy older than 30 days is pruned, the object that is not a copy stays" \
    test "$(grep -c 20200101 <<<"$keys" || true)" == 0 -a "$(grep -c notes.txt <<<"$keys")" == 1
s3 s3 cp --only-show-errors "s3://$BACKUP_S3_BUCKET/$copy_key" "$scratch/copy.age"
check "  ... encrypted: an age file, no pg_dump header, no table name in it" \
    bash -c '[[ "$(head -c 21 "$1")" == "age-encryption.org/v1" ]] && ! grep -q -a -e PGDMP -e customers "$1"' _ "$scratch/copy.age"
check "  ... and nothing encrypted is left on the volume" test -z "$(find "$offsite" -name '*.age*')"
# Lose the database and the volume: restore from the bucket with the private key.
admin_sql "DROP DATABASE \"$db\" WITH (FORCE)"
admin_sql "CREATE DATABASE \"$db\""
rm -rf "$offsite"
check "pg-restore.sh RESTORE_SOURCE=offsite exits 0 with the volume gone" \
    env BACKUP_DIR="$offsite" RESTORE_SOURCE=offsite BACKUP_AGE_IDENTITY="$scratch/identity.txt" "$restore_script" "qmtest=$url"
check "  ... every table's row count and checksum match" test "$(fingerprint)" == "$state"
check "  ... and the decrypted dump does not stay behind" test -z "$(find "$offsite" -name '*.dump' 2>/dev/null)"
age-keygen -o "$scratch/other-identity.txt" 2>/dev/null
if env BACKUP_DIR="$offsite" RESTORE_SOURCE=offsite BACKUP_AGE_IDENTITY="$scratch/other-identity.txt" \
    RESTORE_FORCE=true "$restore_script" "qmtest=$url" >"$scratch/wrong-key.log" 2>&1; then
    fail "a restore with the wrong private key fails"
else
    check "a restore with the wrong private key fails, and leaves the database as it was" test "$(fingerprint)" == "$state"
fi
if env BACKUP_DIR="$offsite" BACKUP_AGE_RECIPIENT=not-a-key "$backup_script" "qmtest=$url" >"$scratch/no-key.log" 2>&1; then
    fail "a backup with a malformed recipient fails (the copy would be missing)"
else
    pass "a backup with a malformed recipient fails (the copy would be missing)"
fi
if env BACKUP_DIR="$offsite" BACKUP_S3_ENDPOINT="http://127.0.0.1:1" "$backup_script" "qmtest=$url" >"$scratch/down.log" 2>&1; then
    fail "a backup whose bucket cannot be reached fails, so the alert fires"
else
    check "a backup whose bucket cannot be reached fails, and keeps its local dump" \
        test "$(find "$offsite" -name 'qmtest-*Z.dump' | wc -l)" -ge 1
fi
for bad in "BACKUP_S3_BUCKET=Has_Caps" "BACKUP_S3_PREFIX=a b" "BACKUP_S3_RETENTION_DAYS=0" "RESTORE_SOURCE=cloud"; do
    if env BACKUP_DIR="$offsite" "$bad" "$backup_script" "qmtest=$url" >/dev/null 2>&1 &&
        env BACKUP_DIR="$offsite" "$bad" "$restore_script" "qmtest=$url" >/dev/null 2>&1; then
        fail "$bad is refused"
    else
        pass "$bad is refused"
    fi
done
unset BACKUP_S3_BUCKET BACKUP_S3_ENDPOINT BACKUP_S3_PREFIX BACKUP_AGE_RECIPIENT

finish
