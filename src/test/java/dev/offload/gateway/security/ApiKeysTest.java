package dev.offload.gateway.security;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The keys-file loader without Quarkus: start-up rules and what a reload keeps. */
class ApiKeysTest {
    @TempDir
    Path dir;
    private ApiKeys keys;

    private ApiKeys keys(Optional<String> file) {
        keys = new ApiKeys();
        keys.config = new AuthConfig() {
            @Override
            public boolean enabled() {
                return true;
            }

            @Override
            public Optional<String> keysFile() {
                return file;
            }

            @Override
            public Duration reloadInterval() {
                return Duration.ofHours(1); // reloads are driven by the test
            }
        };
        keys.dataDir = dir.resolve("data").toString();
        keys.port = 8080;
        keys.registry = new SimpleMeterRegistry();
        return keys;
    }

    @AfterEach
    void stop() {
        if (keys != null) {
            keys.stop();
        }
    }

    @Test
    void aConfiguredFileThatIsMissingStopsTheStart() {
        ApiKeys k = keys(Optional.of(dir.resolve("absent").toString()));
        IllegalStateException e = assertThrows(IllegalStateException.class, k::start);
        assertTrue(e.getMessage().contains("gateway.auth.keys-file"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("absent")), "nothing is generated at a configured path");
    }

    @Test
    void withoutAConfiguredFileOneAdminKeyIsGeneratedUnderTheDataDir() {
        ApiKeys k = keys(Optional.empty());
        k.start();
        assertTrue(Files.isRegularFile(dir.resolve("data/keys")));
        assertEquals(1, k.ring().size());
        assertEquals(List.of("default"), List.copyOf(k.ring().tenants()));
    }

    @Test
    void reloadAppliesChangesOnlyAndKeepsTheLastGoodKeysWhenTheFileIsUnreadable() throws IOException {
        Path file = dir.resolve("keys");
        Files.writeString(file, KeyRing.sha256Hex("k1") + " acme device\n");
        ApiKeys k = keys(Optional.of(file.toString()));
        k.start();
        assertTrue(k.ring().lookup("k1").isPresent());

        assertFalse(k.reload().changed(), "same content, nothing to apply");

        Files.writeString(file, KeyRing.sha256Hex("k2") + " acme device\nnot a line\n");
        ApiKeys.ReloadResult r = k.reload();
        assertTrue(r.changed());
        assertEquals(1, r.keys());
        assertEquals(List.of(2), r.problems().stream().map(KeyRing.Problem::line).toList());
        assertTrue(k.ring().lookup("k1").isEmpty(), "revoked");
        assertTrue(k.ring().lookup("k2").isPresent());

        Files.delete(file);
        assertThrows(IOException.class, k::reload);
        assertTrue(k.ring().lookup("k2").isPresent(), "an unreadable file does not drop the keys in force");

        Files.writeString(file, "");
        assertTrue(k.reload().changed());
        assertEquals(0, k.ring().size(), "an empty file revokes every key");
    }
}
