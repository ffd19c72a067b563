#!/usr/bin/env bash
# Back up PostgreSQL databases with pg_dump (custom format) and prune old dumps.
#
# Usage: pg-backup.sh NAME=CONNINFO [NAME=CONNINFO ...]
#   NAME      short name of the database (user, product, order); dumps go to $BACKUP_DIR/NAME/
#   CONNINFO  a libpq connection string or URL (postgres://user:pass@host:5432/quickmart_user)
#
# Environment:
#   BACKUP_DIR              where dumps are written (default /backups)
#   BACKUP_RETENTION_DAYS   dumps older than this many days are deleted after a successful dump (default 7)
#   PG_BIN                  folder holding pg_dump/pg_restore, when they are not the ones on PATH
#   BACKUP_S3_*, BACKUP_AGE_RECIPIENT   an encrypted off-site copy of every verified dump (offsite.sh, beside
#                           this file, says how); an upload that fails fails the run
#
# Each dump is written as NAME/NAME-YYYYmmddTHHMMSSZ.dump. The timestamp in the name (not the file's
# mtime, which a copy or a restore from object storage changes) decides the dump's age. A dump is first
# written to a .partial file, checked with `pg_restore --list`, and only then renamed, so a half-written
# file never looks like a backup. Old dumps of a database are pruned only after that database's new dump
# succeeded, so a failing backup never eats the backups that still work.
# This file is the one the Kubernetes CronJob runs (k8s/base/backup/ holds a copy; validate-deploy.sh
# checks that the two are identical).
set -euo pipefail

BACKUP_DIR="${BACKUP_DIR:-/backups}"
BACKUP_RETENTION_DAYS="${BACKUP_RETENTION_DAYS:-7}"
PG_DUMP="${PG_BIN:+$PG_BIN/}pg_dump"
PG_RESTORE="${PG_BIN:+$PG_BIN/}pg_restore"

log() { printf '%s pg-backup: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
# shellcheck source=scripts/backup/offsite.sh
source "$(dirname "${BASH_SOURCE[0]}")/offsite.sh"

if [[ $# -eq 0 ]]; then
    echo "usage: $0 NAME=CONNINFO [NAME=CONNINFO ...]" >&2
    exit 2
fi
# 10# keeps a value such as "08" from being read as octal.
if ! [[ "$BACKUP_RETENTION_DAYS" =~ ^[0-9]+$ ]] || ((10#$BACKUP_RETENTION_DAYS < 1)); then
    echo "BACKUP_RETENTION_DAYS must be a whole number of days >= 1, got '$BACKUP_RETENTION_DAYS'" >&2
    exit 2
fi
BACKUP_RETENTION_DAYS=$((10#$BACKUP_RETENTION_DAYS))
offsite_check || exit 2

# prune_old_dumps NAME: delete NAME's dumps whose name-timestamp is older than the retention window.
prune_old_dumps() {
    local name="$1" dir="$BACKUP_DIR/$1" cutoff file stamp
    cutoff="$(date -u -d "-${BACKUP_RETENTION_DAYS} days" +%Y%m%dT%H%M%SZ)"
    while IFS= read -r file; do
        stamp="${file#"${name}-"}"
        stamp="${stamp%.dump}"
        [[ "$stamp" =~ ^[0-9]{8}T[0-9]{6}Z$ ]] || continue # not ours: leave it alone
        # The fixed-width timestamp makes lexical order chronological, so `<` compares times.
        if [[ "$stamp" < "$cutoff" ]]; then
            log "pruning $dir/$file (older than $BACKUP_RETENTION_DAYS days)"
            rm -f -- "${dir:?}/$file"
        fi
    done < <(find "$dir" -maxdepth 1 -type f -name "${name}-*Z.dump" -printf '%f\n')
    # Leftovers of a dump that died halfway (the pod was killed) are never useful.
    find "$dir" -maxdepth 1 -type f -name '*.partial' -mmin +60 -delete
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
    dir="$BACKUP_DIR/$name"
    mkdir -p "$dir"
    stamp="$(date -u +%Y%m%dT%H%M%SZ)"
    final="$dir/${name}-${stamp}.dump"
    partial="$final.partial"
    log "dumping $name to $final"
    # --no-owner/--no-privileges keep the dump restorable on a server whose roles differ (managed databases).
    if "$PG_DUMP" --format=custom --compress=6 --no-owner --no-privileges --file="$partial" --dbname="$conninfo" &&
        "$PG_RESTORE" --list "$partial" >/dev/null; then
        mv -- "$partial" "$final"
        log "dumped $name ($(stat -c %s "$final") bytes)"
        prune_old_dumps "$name"
        if offsite_enabled; then
            if offsite_upload "$name" "$final"; then offsite_prune "$name" || failed=1; else failed=1; fi
        fi
    else
        log "FAILED to dump $name; older dumps left untouched"
        rm -f -- "$partial"
        failed=1
    fi
done
exit "$failed"
