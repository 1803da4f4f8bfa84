# One static binary that serves HTTP, and nothing else: no shell, no tool on PATH to probe
# with (busybox picks its applet by its own name, so it keeps it, off PATH).
FROM compose-harden-test/busybox:1 AS busybox
FROM scratch
COPY --from=busybox /bin/busybox /app/busybox
ENTRYPOINT ["/app/busybox", "httpd", "-f", "-p", "8080", "-h", "/app"]
