# An image with its own HEALTHCHECK, and every other setting inspect reads.
FROM compose-harden-test/busybox:1
ENV APP_TOKEN=never-written-to-the-facts APP_MODE=production
LABEL org.opencontainers.image.title="facts test" org.opencontainers.image.version=1.2.3 maintainer=someone
EXPOSE 8080 9090/udp 53
VOLUME /data
WORKDIR /srv
USER 1000:1000
STOPSIGNAL SIGQUIT
HEALTHCHECK --interval=5s --timeout=2s --start-period=1m30s --retries=2 CMD wget -qO- http://127.0.0.1:8080/ || exit 1
CMD ["httpd", "-f", "-p", "8080"]
