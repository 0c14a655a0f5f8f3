package dev.offload.gateway.security;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KeyRingTest {
    private static final String KEY_A = "alpha-key-for-tests";
    private static final String KEY_B = "bravo-key-for-tests";

    @Test
    void parsesCommentsBlankLinesAndRoles() {
        KeyRing ring = KeyRing.parse(List.of(
                "# keys",
                "",
                KeyRing.sha256Hex(KEY_A) + " acme device   # a phone",
                "   " + KeyRing.sha256Hex(KEY_B).toUpperCase() + "\tglobex\tADMIN  "));
        assertEquals(2, ring.size());
        assertEquals(List.of(), ring.problems());
        Caller a = ring.lookup(KEY_A).orElseThrow();
        assertEquals("acme", a.tenant());
        assertEquals(Role.DEVICE, a.role());
        assertEquals(KeyRing.sha256Hex(KEY_A).substring(0, 12), a.device());
        Caller b = ring.lookup(KEY_B).orElseThrow();
        assertEquals("globex", b.tenant());
        assertTrue(b.isAdmin());
        assertTrue(ring.lookup("not-a-key").isEmpty());
        assertTrue(ring.lookup(KEY_A + " ").isEmpty());
        assertEquals(java.util.Set.of("acme", "globex"), ring.tenants());
    }

    @Test
    void malformedLinesAreSkippedByLineNumberWithoutTheirContent() {
        String clearKeyPastedByMistake = "sk-live-0123456789abcdef";
        List<String> lines = List.of(
                KeyRing.sha256Hex(KEY_A) + " acme device",
                clearKeyPastedByMistake + " acme device",
                KeyRing.sha256Hex(KEY_B) + " acme",
                KeyRing.sha256Hex(KEY_B) + " acme superuser",
                KeyRing.sha256Hex(KEY_B) + " ../etc device",
                KeyRing.sha256Hex(KEY_A) + " globex admin",
                KeyRing.sha256Hex(KEY_B) + " initech device");
        KeyRing ring = KeyRing.parse(lines);
        assertEquals(List.of(2, 3, 4, 5, 6), ring.problems().stream().map(KeyRing.Problem::line).toList());
        for (KeyRing.Problem p : ring.problems()) {
            assertFalse(p.toString().contains(clearKeyPastedByMistake), p.toString());
            assertFalse(p.toString().contains(KeyRing.sha256Hex(KEY_A)), p.toString());
        }
        assertTrue(ring.problems().get(4).reason().contains("line 1"), "a duplicate names the first line");
        // The duplicate did not override the first entry; the good last line was still read.
        assertEquals("acme", ring.lookup(KEY_A).orElseThrow().tenant());
        assertEquals("initech", ring.lookup(KEY_B).orElseThrow().tenant());
    }

    @Test
    void theTestKeysFileHoldsEveryTestKeyWithItsTenantAndRole() throws IOException {
        KeyRing ring = KeyRing.parse(Files.readAllLines(Path.of("src/test/resources/test-keys")));
        assertEquals(List.of(), ring.problems());
        assertEquals(TestKeys.ALL.size(), ring.size());
        for (TestKeys.Key k : TestKeys.ALL) {
            Caller c = ring.lookup(k.key()).orElseThrow(() -> new AssertionError("missing " + k.tenant()));
            assertEquals(k.tenant(), c.tenant());
            assertEquals(k.role(), c.role());
        }
    }
}
