# A stub `java` on a PATH the image sets, as the Eclipse Temurin images lay out a JDK.
FROM compose-harden-test/busybox:1
COPY java-stub.sh /opt/java/openjdk/bin/java
RUN chmod 755 /opt/java/openjdk/bin/java
ENV JAVA_HOME=/opt/java/openjdk PATH=/opt/java/openjdk/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
CMD ["java", "-version"]
