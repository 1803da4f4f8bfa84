# An s6-overlay-like entrypoint: /init beside the directory s6-overlay v3 installs.
FROM compose-harden-test/busybox:1
COPY s6-init.sh /init
RUN mkdir -p /package/admin/s6-overlay /etc/s6-overlay/s6-rc.d && chmod 755 /init
ENTRYPOINT ["/init"]
