# An HTTP server that answers 404 on every path (busybox httpd on an empty directory), in an
# image whose tools are OpenBSD netcat (`nc -z`) and a bare busybox (`busybox wget`).
FROM compose-harden-test/busybox:1 AS busybox
FROM compose-harden-test/facts-nc:1
COPY --from=busybox /bin/busybox /usr/local/bin/busybox
RUN mkdir /empty
CMD ["busybox", "httpd", "-f", "-p", "8080", "-h", "/empty"]
