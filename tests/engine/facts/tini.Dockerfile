# tini as the entrypoint, found on PATH through a link (/sbin/tini -> /usr/bin/tini-static).
FROM compose-harden-test/busybox:1
COPY tini-static /usr/bin/tini-static
RUN mkdir -p /sbin && ln -s /usr/bin/tini-static /sbin/tini
ENTRYPOINT ["tini", "--"]
CMD ["sleep", "3600"]
