# One static binary and nothing else: no shell, no tool.
FROM scratch
COPY tini-static /server
ENTRYPOINT ["/server"]
