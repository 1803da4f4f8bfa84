#!/bin/sh
# As the official images' docker-entrypoint.sh: prepare as root, then drop to the user.
set -e
case "$1" in
postgres)
  if [ "$(id -u)" = 0 ]; then
    mkdir -p "$PGDATA" /var/run/postgresql
    chown -R postgres "$PGDATA" && chmod 700 "$PGDATA"
    chown postgres /var/run/postgresql && chmod 3777 /var/run/postgresql
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
  fi
  [ -s "$PGDATA/PG_VERSION" ] || /usr/lib/postgresql/15/bin/initdb -D "$PGDATA" --auth=trust >/dev/null
  shift
  exec /usr/lib/postgresql/15/bin/postgres -D "$PGDATA" -c listen_addresses='*' \
    -c unix_socket_directories=/var/run/postgresql "$@"
  ;;
redis-server)
  if [ "$(id -u)" = 0 ]; then
    cd /data && find . \! -user redis -exec chown redis '{}' +
    exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
  fi
  cd /data && exec "$@"
  ;;
esac
exec "$@"
