# busybox-static from Debian, unpacked beside this file: sh, httpd, wget, nc and the rest.
FROM scratch
COPY root/bin/busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
CMD ["sh"]
