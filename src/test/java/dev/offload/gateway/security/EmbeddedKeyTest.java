package dev.offload.gateway.security;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EmbeddedKeyTest {
    @TempDir
    Path dir;

    @Test
    void firstStartWritesOnlyTheHashOwnerReadableAndNeverAgain() throws Exception {
        Path file = dir.resolve("data/keys");
        String key = EmbeddedKey.createIfMissing(file, new SecureRandom()).orElseThrow();
        assertTrue(key.startsWith(EmbeddedKey.PREFIX));
        assertTrue(key.length() >= 40, "256 random bits");
        String content = Files.readString(file);
        assertFalse(content.contains(key), "the clear key is not stored");
        KeyRing ring = KeyRing.parse(content.lines().toList());
        assertEquals(1, ring.size());
        Caller c = ring.lookup(key).orElseThrow();
        assertEquals("default", c.tenant());
        assertTrue(c.isAdmin());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));

        assertTrue(EmbeddedKey.createIfMissing(file, new SecureRandom()).isEmpty());
        assertEquals(content, Files.readString(file), "an existing file is left alone");
    }

    @Test
    void everyStartWithoutAFileGetsAFreshKey() throws Exception {
        String a = EmbeddedKey.createIfMissing(dir.resolve("a"), new SecureRandom()).orElseThrow();
        String b = EmbeddedKey.createIfMissing(dir.resolve("b"), new SecureRandom()).orElseThrow();
        assertNotEquals(a, b);
    }

    @Test
    void theAnnouncementShowsTheKeyAndHowToUseIt() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ApiKeys.announce("ogw_example", Path.of("/data/keys"), 9090, new PrintStream(out, true, StandardCharsets.UTF_8));
        String text = out.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("ogw_example"));
        assertTrue(text.contains("Authorization: Bearer ogw_example"));
        assertTrue(text.contains("localhost:9090"));
        assertTrue(text.contains("/data/keys"));
    }
}
