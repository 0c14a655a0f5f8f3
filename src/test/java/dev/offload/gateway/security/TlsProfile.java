package dev.offload.gateway.security;

import io.quarkus.test.junit.QuarkusTestProfile;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The gateway with TLS 1.3 only and no plain-text port, as security.md configures it, on a
 * self-signed certificate that keytool (from the running JDK) makes for this run.
 */
public class TlsProfile implements QuarkusTestProfile {
    static final String PASSWORD = "test-only-" + Long.toHexString(System.nanoTime());
    static final Path KEYSTORE = createKeystore();

    private static Path createKeystore() {
        try {
            Path dir = Files.createDirectories(Path.of("target", "test-tls"));
            Path file = dir.resolve("gateway-" + System.nanoTime() + ".p12").toAbsolutePath();
            String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
            Process p = new ProcessBuilder(List.of(keytool, "-genkeypair", "-alias", "gateway", "-keyalg", "EC",
                    "-groupname", "secp256r1", "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1",
                    "-validity", "2", "-storetype", "PKCS12", "-keystore", file.toString(),
                    "-storepass", PASSWORD, "-keypass", PASSWORD))
                    .redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("keytool failed: " + output);
            }
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.ofEntries(
                Map.entry("quarkus.tls.key-store.p12.path", KEYSTORE.toString()),
                Map.entry("quarkus.tls.key-store.p12.password", PASSWORD),
                Map.entry("quarkus.tls.protocols", "TLSv1.3"),
                Map.entry("quarkus.http.insecure-requests", "disabled"),
                Map.entry("quarkus.http.test-ssl-port", "0"),
                // The gRPC port has its own TLS keys (grpc-java's server), as security.md shows.
                Map.entry("quarkus.grpc.server.plain-text", "false"),
                Map.entry("quarkus.grpc.server.ssl.key-store", KEYSTORE.toString()),
                Map.entry("quarkus.grpc.server.ssl.key-store-password", PASSWORD),
                Map.entry("quarkus.grpc.server.ssl.protocols", "TLSv1.3"),
                Map.entry("gateway.index.load-sample-corpus", "false"));
    }
}
