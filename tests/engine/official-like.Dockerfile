# Servers that start as the official postgres, redis and nginx images do: as root, an
# entrypoint that creates and chowns what the server writes, then drops to the server's
# user (setpriv, as the official images use gosu); nginx's master as root with workers as
# nginx, logs linked to the container's output, temporary files under /var/cache/nginx.
# `strict`'s catalogue entries for those images are run against these (tests/engine.rs).
FROM compose-harden-test/servers:1
RUN useradd --system --no-create-home --shell /usr/sbin/nologin nginx \
 && ln -sf /dev/stdout /var/log/nginx/access.log && ln -sf /dev/stderr /var/log/nginx/error.log \
 && mkdir -p /data /var/lib/postgresql/data /var/cache/nginx && chown redis:redis /data && chown postgres:postgres /var/lib/postgresql/data
COPY official-like-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
COPY official-like-nginx.conf /etc/nginx/nginx.conf
ENV PGDATA=/var/lib/postgresql/data
VOLUME /var/lib/postgresql/data
VOLUME /data
ENTRYPOINT ["docker-entrypoint.sh"]
