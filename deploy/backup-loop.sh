#!/bin/sh
# Nightly backup (docker-compose.yml service "backup"): at BACKUP_AT (HH:MM, local time of the
# container, default 02:15) run `manage.py backup /backups/<date-time>`, then delete backups older
# than BACKUP_KEEP_DAYS (default 14). Copy /backups off this host as well (README "Operations").
set -u
at="${BACKUP_AT:-02:15}"
keep="${BACKUP_KEEP_DAYS:-14}"
while true; do
  now=$(date +%s)
  next=$(date -d "today $at" +%s)
  [ "$next" -le "$now" ] && next=$(date -d "tomorrow $at" +%s)
  sleep $((next - now))
  dir="/backups/$(date +%Y-%m-%d-%H%M)"
  if python manage.py backup "$dir"; then
    date +%s > /backups/.last-success
    find /backups -mindepth 1 -maxdepth 1 -type d -mtime +"$keep" -exec rm -rf {} +
  else
    echo "backup FAILED: $dir" >&2
    rm -rf "$dir"
  fi
done
