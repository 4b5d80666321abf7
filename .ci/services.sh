#!/usr/bin/env bash
# Starts a throwaway PostgreSQL and Redis on loopback for the scale-out test pass; prints their URLs.
# As root the cluster runs as the `postgres` user (PostgreSQL refuses root); as a user, as that user.
# Servers already answering on the ports are used as they are.
set -euo pipefail
PGVER=$(ls /usr/lib/postgresql | sort -V | tail -1)
PGBIN=/usr/lib/postgresql/$PGVER/bin
if [ "$(id -u)" = 0 ]; then
  PGDATA=${QMS_CI_PGDATA:-/tmp/qms-ci-pg}
  as_pg() { su postgres -s /bin/sh -c "$1"; }
else
  PGDATA=${QMS_CI_PGDATA:-/tmp/qms-ci-pg-$(id -un)}
  as_pg() { sh -c "$1"; }
fi
if ! "$PGBIN/pg_isready" -q -h 127.0.0.1 -p 55432 && ! as_pg "$PGBIN/pg_ctl -D $PGDATA status" >/dev/null 2>&1; then
  rm -rf "$PGDATA"; mkdir -p "$PGDATA"
  [ "$(id -u)" = 0 ] && chown postgres "$PGDATA"
  as_pg "$PGBIN/initdb -D $PGDATA -A trust -U postgres" >/dev/null
  as_pg "$PGBIN/pg_ctl -D $PGDATA -o '-p 55432 -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off' -l $PGDATA/log -w start" >/dev/null
fi
if ! redis-cli -p 56379 ping >/dev/null 2>&1; then
  redis-server --port 56379 --bind 127.0.0.1 --save '' --appendonly no --daemonize yes >/dev/null
fi
echo "QMS_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:55432/postgres"
echo "QMS_TEST_REDIS_URL=redis://127.0.0.1:56379/0"
