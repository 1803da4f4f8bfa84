# One static binary and nothing else, serving a TCP port: busybox's httpd applet, named after
# the applet so that it runs as the server (busybox picks the applet by its own name). No
# shell, no tool on PATH: nothing a probe could call.
FROM compose-harden-test/busybox:1 AS busybox
FROM scratch
COPY --from=busybox /bin/busybox /httpd
EXPOSE 8080
ENTRYPOINT ["/httpd", "-f", "-p", "8080", "-h", "/"]
