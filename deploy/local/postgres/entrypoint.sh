#!/bin/sh
# The official image's first start, in short: a cluster owned by POSTGRES_USER with its password,
# POSTGRES_DB created, password authentication from other hosts; then the server, listening on all
# addresses of its container.
set -eu
: "${POSTGRES_PASSWORD:?the PostgreSQL stand-in needs POSTGRES_PASSWORD}"
user=${POSTGRES_USER:-postgres}
db=${POSTGRES_DB:-$user}
bin=$(ls -d /usr/lib/postgresql/*/bin | tail -1)
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  # UTF-8 as the official image (its locale is en_US.utf8): the container's C locale would make
  # SQL_ASCII, whose text psycopg returns as bytes (SQLAlchemy then fails reading the version).
  "$bin/initdb" -D "$PGDATA" -U "$user" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  if [ "$db" != postgres ]; then
    echo "CREATE DATABASE \"$db\" OWNER \"$user\";" | "$bin/postgres" --single -D "$PGDATA" postgres >/dev/null
  fi
  echo "postgres stand-in: cluster made in $PGDATA, database $db"
fi
exec "$bin/postgres" -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/var/run/postgresql
