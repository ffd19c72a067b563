#!/usr/bin/env bash
# Restore PostgreSQL databases from the dumps pg-backup.sh wrote.
#
# Usage: pg-restore.sh NAME=CONNINFO [NAME=CONNINFO ...]
#   NAME      short name of the database (user, product, order): the dump is read from $BACKUP_DIR/NAME/
#   CONNINFO  the database to restore into (libpq connection string or URL); it must exist
#
# Environment:
#   BACKUP_DIR    where the dumps are (default /backups)
#   RESTORE_AT    a UTC time YYYYmmddTHHMMSSZ: restore the newest dump taken at or before it
#                 (default: the newest dump). Dump names carry this timestamp, so an exact name works too.
#   RESTORE_FORCE true: restore even when the database holds tables the dump does not know (default false)
#   RESTORE_ONLY  comma-separated NAMEs: restore just these of the databases given (default: all of them),
#                 so one Kubernetes restore job that knows every database can restore a single one
#   PG_BIN        folder holding pg_restore/psql, when they are not the ones on PATH
#   RESTORE_SOURCE  volume (default) or offsite: fetch the dump from the off-site copies (offsite.sh: BACKUP_S3_*
#                 and BACKUP_AGE_IDENTITY, the private key) into $BACKUP_DIR/offsite/, decrypt it, restore it
#
# The restore runs in a single transaction with --clean: every object of the dump is dropped and recreated,
# and any error rolls the whole database back to what it was. Objects the dump does not contain would
# survive a --clean restore (a table added by a later migration, say) and leave a mixed schema behind, so
# the script refuses such a target unless RESTORE_FORCE=true; drop and recreate the database instead.
# Stop the services writing to the database first (k8s/README.md shows how).
set -euo pipefail

BACKUP_DIR="${BACKUP_DIR:-/backups}"
RESTORE_AT="${RESTORE_AT:-}"
RESTORE_FORCE="${RESTORE_FORCE:-false}"
RESTORE_ONLY="${RESTORE_ONLY:-}"
PG_RESTORE="${PG_BIN:+$PG_BIN/}pg_restore"
PSQL="${PG_BIN:+$PG_BIN/}psql"

log() { printf '%s pg-restore: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
# shellcheck source=scripts/backup/offsite.sh
source "$(dirname "${BASH_SOURCE[0]}")/offsite.sh"
RESTORE_SOURCE="${RESTORE_SOURCE:-volume}"
case "$RESTORE_SOURCE" in
    volume) ;;
    offsite)
        offsite_enabled || { echo "RESTORE_SOURCE=offsite needs BACKUP_S3_BUCKET" >&2; exit 2; }
        offsite_check || exit 2
        ;;
    *) echo "RESTORE_SOURCE must be volume or offsite, got '$RESTORE_SOURCE'" >&2; exit 2 ;;
esac

if [[ $# -eq 0 ]]; then
    echo "usage: $0 NAME=CONNINFO [NAME=CONNINFO ...]" >&2
    exit 2
fi
if [[ -n "$RESTORE_AT" && ! "$RESTORE_AT" =~ ^[0-9]{8}T[0-9]{6}Z$ ]]; then
    echo "RESTORE_AT must look like 20261125T021700Z (UTC), got '$RESTORE_AT'" >&2
    exit 2
fi
# Every name in RESTORE_ONLY must be one of the targets: a typo must not turn into "restored nothing, OK".
if [[ -n "$RESTORE_ONLY" ]]; then
    IFS=',' read -r -a only_names <<<"$RESTORE_ONLY"
    for wanted in "${only_names[@]}"; do
        found=false
        for target in "$@"; do [[ "${target%%=*}" == "$wanted" ]] && found=true; done
        if [[ "$found" != true ]]; then
            echo "RESTORE_ONLY names '$wanted', which is not one of the databases given" >&2
            exit 2
        fi
    done
fi

# pick_dump NAME: print the path of the dump to restore, or nothing when there is none.
pick_dump() {
    local name="$1" file stamp chosen=""
    while IFS= read -r file; do
        stamp="${file#"${name}-"}"
        stamp="${stamp%.dump}"
        [[ "$stamp" =~ ^[0-9]{8}T[0-9]{6}Z$ ]] || continue
        # Fixed-width timestamps: lexical order is chronological. The list is sorted, so the last match wins.
        if [[ -z "$RESTORE_AT" || ! "$stamp" > "$RESTORE_AT" ]]; then
            chosen="$BACKUP_DIR/$name/$file"
        fi
    done < <(find "$BACKUP_DIR/$name" -maxdepth 1 -type f -name "${name}-*Z.dump" -printf '%f\n' 2>/dev/null | sort)
    printf '%s' "$chosen"
}

# unknown_tables CONNINFO DUMP: print the tables of the database that the dump does not contain.
unknown_tables() {
    local conninfo="$1" dump="$2"
    comm -23 \
        <("$PSQL" --no-psqlrc --quiet --tuples-only --no-align --dbname="$conninfo" --command \
            "SELECT schemaname || '.' || tablename FROM pg_tables
             WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1" | LC_ALL=C sort) \
        <("$PG_RESTORE" --list "$dump" | awk '$4 == "TABLE" && $5 != "DATA" { print $5 "." $6 }' | LC_ALL=C sort)
}

failed=0
position=0
for target in "$@"; do
    position=$((position + 1))
    name="${target%%=*}"
    conninfo="${target#*=}"
    if [[ "$target" != *=* || ! "$name" =~ ^[A-Za-z0-9_-]+$ || -z "$conninfo" ]]; then
        # Never echo the argument: it holds a password.
        log "argument $position is not NAME=CONNINFO (NAME of letters, digits, - and _)"
        failed=1
        continue
    fi
    if [[ -n "$RESTORE_ONLY" && ",$RESTORE_ONLY," != *",$name,"* ]]; then
        log "skipping $name (not in RESTORE_ONLY)"
        continue
    fi
    if [[ "$RESTORE_SOURCE" == offsite ]]; then
        if ! dump="$(offsite_fetch "$name" "$BACKUP_DIR/offsite")"; then
            failed=1
            continue
        fi
        where="s3://$BACKUP_S3_BUCKET/$BACKUP_S3_PREFIX/$name"
    else
        dump="$(pick_dump "$name")"
        where="$BACKUP_DIR/$name"
    fi
    if [[ -z "$dump" ]]; then
        log "no dump of $name in $where${RESTORE_AT:+ taken at or before $RESTORE_AT}"
        failed=1
        continue
    fi
    extra="$(unknown_tables "$conninfo" "$dump")"
    if [[ -n "$extra" && "$RESTORE_FORCE" != "true" ]]; then
        log "refusing to restore $name: the database has tables the dump lacks ($(echo "$extra" | paste -sd, -));" \
            "drop and recreate the database, or set RESTORE_FORCE=true to keep them"
        failed=1
        continue
    fi
    log "restoring $name from $dump"
    if "$PG_RESTORE" --clean --if-exists --no-owner --no-privileges --single-transaction --exit-on-error \
        --dbname="$conninfo" "$dump"; then
        log "restored $name"
        [[ "$RESTORE_SOURCE" == offsite ]] && rm -f -- "$dump"
    else
        log "FAILED to restore $name; the transaction was rolled back, the database is unchanged"
        failed=1
    fi
done
exit "$failed"
