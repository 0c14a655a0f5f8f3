package dev.offload.gateway.security;

import io.quarkus.test.junit.QuarkusTestProfile;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;

/**
 * Small limits a test can reach in a few requests, and a keys file of the tests' own (a copy of
 * the test keys) that they may rewrite, re-read every 100 ms.
 */
public class TightLimitsProfile implements QuarkusTestProfile {
    /** Each device may make this many calls, then waits ~1000 s for the next token. */
    static final int DEVICE_BURST = 30;
    static final int MAX_BODY_BYTES = 64 * 1024;
    static final int GENERATION_RETRY_AFTER_SECONDS = 3;
    static final Path KEYS_FILE = createKeysFile();

    private static Path createKeysFile() {
        try {
            Path dir = Files.createDirectories(Path.of("target", "test-keys"));
            Path file = Files.createTempFile(dir, "keys-", "");
            writeAtomically(file, Files.readAllLines(Path.of("src/test/resources/test-keys")));
            return file.toAbsolutePath();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Replaces the keys file in one step, as a Kubernetes Secret update does: no reader sees half a file. */
    static void writeAtomically(Path file, List<String> lines) throws IOException {
        Path tmp = Files.createTempFile(file.getParent(), "next-", "");
        Files.write(tmp, lines);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of(
                "gateway.auth.keys-file", KEYS_FILE.toString(),
                "gateway.auth.reload-interval", "100ms",
                "gateway.limits.max-body-size", Integer.toString(MAX_BODY_BYTES),
                "gateway.limits.device-requests-per-second", "0.001",
                "gateway.limits.device-burst", Integer.toString(DEVICE_BURST),
                "gateway.limits.tenant-concurrent-generations", "1",
                "gateway.limits.generation-retry-after", GENERATION_RETRY_AFTER_SECONDS + "s",
                "quarkus.grpc.server.max-inbound-message-size", Integer.toString(MAX_BODY_BYTES),
                "gateway.index.load-sample-corpus", "false");
    }
}
