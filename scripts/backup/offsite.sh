# shellcheck shell=bash
# Off-site copies of the dumps (sourced by pg-backup.sh and pg-restore.sh): each verified dump is encrypted with
# age to a recipient's public key and uploaded to S3-compatible object storage, and pruned there; a restore can
# fetch one back and decrypt it with the private key, which never enters the cluster's backup job.
#
# Environment (all optional; without BACKUP_S3_BUCKET nothing leaves the volume):
#   BACKUP_S3_BUCKET          bucket for the encrypted copies
#   BACKUP_S3_ENDPOINT        endpoint URL of an S3-compatible store (unset: AWS S3)
#   BACKUP_S3_PREFIX          key prefix (default quickmart); objects are PREFIX/NAME/NAME-<stamp>.dump.age
#   BACKUP_S3_RETENTION_DAYS  copies older than this are deleted after a successful upload
#                             (default BACKUP_RETENTION_DAYS, else 30)
#   BACKUP_AGE_RECIPIENT      the age public key (age1...) every copy is encrypted to; required with a bucket
#   BACKUP_AGE_IDENTITY       (restore only) a file holding the matching private key
#   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION   the store's credentials, as the aws CLI reads them
# Needs the aws CLI and age on PATH (or AWS_BIN / AGE_BIN).

BACKUP_S3_PREFIX="${BACKUP_S3_PREFIX:-quickmart}"
AWS="${AWS_BIN:-aws}"
AGE="${AGE_BIN:-age}"

offsite_enabled() { [[ -n "${BACKUP_S3_BUCKET:-}" ]]; }

# offsite_check: refuse settings that cannot work before anything is dumped or fetched.
offsite_check() {
    offsite_enabled || return 0
    if ! [[ "${BACKUP_S3_BUCKET}" =~ ^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$ ]]; then
        echo "BACKUP_S3_BUCKET is not a bucket name: '${BACKUP_S3_BUCKET}'" >&2
        return 2
    fi
    if ! [[ "${BACKUP_S3_PREFIX}" =~ ^[A-Za-z0-9._/-]+$ ]]; then
        echo "BACKUP_S3_PREFIX may hold letters, digits, '.', '_', '-' and '/' only" >&2
        return 2
    fi
    local days="${BACKUP_S3_RETENTION_DAYS:-${BACKUP_RETENTION_DAYS:-30}}"
    if ! [[ "$days" =~ ^[0-9]+$ ]] || ((10#$days < 1)); then
        echo "BACKUP_S3_RETENTION_DAYS must be a whole number of days >= 1, got '$days'" >&2
        return 2
    fi
    command -v "$AWS" >/dev/null || { echo "off-site copies need the aws CLI ($AWS)" >&2; return 2; }
    command -v "$AGE" >/dev/null || { echo "off-site copies need age ($AGE)" >&2; return 2; }
}

s3() { "$AWS" ${BACKUP_S3_ENDPOINT:+--endpoint-url "$BACKUP_S3_ENDPOINT"} --output text "$@"; }

# offsite_stamps NAME: the stamps of NAME's copies in the bucket, oldest first.
offsite_stamps() {
    local name="$1"
    s3 s3api list-objects-v2 --bucket "$BACKUP_S3_BUCKET" --prefix "$BACKUP_S3_PREFIX/$name/$name-" \
        --query 'Contents[].Key' | tr '\t' '\n' |
        sed -n "s|^$BACKUP_S3_PREFIX/$name/$name-\([0-9]\{8\}T[0-9]\{6\}Z\)\.dump\.age\$|\1|p" | LC_ALL=C sort
}

# offsite_upload NAME DUMP: encrypt DUMP and upload it; fails unless the stored object has the encrypted size.
offsite_upload() {
    local name="$1" dump="$2" encrypted key size stored
    [[ "${BACKUP_AGE_RECIPIENT:-}" =~ ^age1[0-9a-z]{58}$ ]] || {
        log "BACKUP_AGE_RECIPIENT is not an age public key (age1...); $name was not copied off-site"
        return 1
    }
    encrypted="$dump.age.partial"
    key="$BACKUP_S3_PREFIX/$name/$(basename "$dump").age"
    if ! "$AGE" --encrypt --recipient "$BACKUP_AGE_RECIPIENT" --output "$encrypted" "$dump"; then
        rm -f -- "$encrypted"
        log "FAILED to encrypt $name's dump; nothing was uploaded"
        return 1
    fi
    size="$(stat -c %s "$encrypted")"
    if s3 s3 cp --only-show-errors "$encrypted" "s3://$BACKUP_S3_BUCKET/$key" &&
        stored="$(s3 s3api head-object --bucket "$BACKUP_S3_BUCKET" --key "$key" --query ContentLength)" &&
        [[ "$stored" == "$size" ]]; then
        rm -f -- "$encrypted"
        log "copied $name off-site to s3://$BACKUP_S3_BUCKET/$key ($size bytes, encrypted)"
    else
        rm -f -- "$encrypted"
        log "FAILED to copy $name off-site to s3://$BACKUP_S3_BUCKET/$key"
        return 1
    fi
}

# offsite_prune NAME: delete NAME's copies older than the off-site retention (called after a good upload).
offsite_prune() {
    local name="$1" days cutoff stamp
    days="${BACKUP_S3_RETENTION_DAYS:-${BACKUP_RETENTION_DAYS:-30}}"
    cutoff="$(date -u -d "-$((10#$days)) days" +%Y%m%dT%H%M%SZ)"
    while IFS= read -r stamp; do
        if [[ "$stamp" < "$cutoff" ]]; then
            log "pruning off-site copy $BACKUP_S3_PREFIX/$name/$name-$stamp.dump.age (older than $days days)"
            s3 s3api delete-object --bucket "$BACKUP_S3_BUCKET" --key "$BACKUP_S3_PREFIX/$name/$name-$stamp.dump.age" >/dev/null
        fi
    done < <(offsite_stamps "$name")
}

# offsite_fetch NAME DIR: download NAME's newest copy taken at or before RESTORE_AT, decrypt it into
# DIR/NAME/NAME-<stamp>.dump, and print that path; nothing when there is none.
offsite_fetch() {
    local name="$1" dir="$2" stamp chosen=""
    [[ -r "${BACKUP_AGE_IDENTITY:-}" ]] || {
        log "BACKUP_AGE_IDENTITY must name a readable file with the age private key"
        return 1
    }
    while IFS= read -r stamp; do
        if [[ -z "${RESTORE_AT:-}" || ! "$stamp" > "$RESTORE_AT" ]]; then chosen="$stamp"; fi
    done < <(offsite_stamps "$name")
    [[ -n "$chosen" ]] || return 0
    mkdir -p "$dir/$name"
    local encrypted="$dir/$name/$name-$chosen.dump.age" dump="$dir/$name/$name-$chosen.dump"
    s3 s3 cp --only-show-errors "s3://$BACKUP_S3_BUCKET/$BACKUP_S3_PREFIX/$name/$name-$chosen.dump.age" "$encrypted" &&
        "$AGE" --decrypt --identity "$BACKUP_AGE_IDENTITY" --output "$dump.partial" "$encrypted" &&
        mv -- "$dump.partial" "$dump" || {
        rm -f -- "$encrypted" "$dump.partial"
        log "FAILED to fetch or decrypt $name's off-site copy $chosen"
        return 1
    }
    rm -f -- "$encrypted"
    printf '%s' "$dump"
}
