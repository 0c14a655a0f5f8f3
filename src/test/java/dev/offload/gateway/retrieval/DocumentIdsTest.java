package dev.offload.gateway.retrieval;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DocumentIdsTest {
    @Test
    void theIssueExamplesAreValid() {
        for (String id : List.of("<dbpedia:Oceanic_Airlines>", "docs/guide (v2)/l'été.md", "https://example.org/a?b=c#d",
                "notes/🚀.md", "a#0", " padded ")) {
            assertTrue(DocumentIds.problem(id, 512).isEmpty(), id);
        }
    }

    @Test
    void controlCharactersBlankAndOversizeAreNot() {
        assertTrue(DocumentIds.problem(null, 512).orElseThrow().contains("empty"));
        assertTrue(DocumentIds.problem("", 512).orElseThrow().contains("empty"));
        assertTrue(DocumentIds.problem(" \t", 512).orElseThrow().contains("white space"));
        assertTrue(DocumentIds.problem(".", 512).isPresent());
        assertTrue(DocumentIds.problem("..", 512).isPresent());
        assertTrue(DocumentIds.problem("...", 512).isEmpty());
        assertTrue(DocumentIds.problem("a\u007Fb", 512).orElseThrow().contains("U+007F at index 1"));
        assertTrue(DocumentIds.problem("a\u009F", 512).orElseThrow().contains("U+009F"));
        assertTrue(DocumentIds.problem("a\uDC00b", 512).orElseThrow().contains("surrogate"));
        // Bytes, not chars: 'é' is 2 bytes, '🚀' 4.
        assertTrue(DocumentIds.problem("é".repeat(256), 512).isEmpty());
        assertTrue(DocumentIds.problem("é".repeat(256) + "a", 512).orElseThrow().contains("got 513"));
        assertTrue(DocumentIds.problem("🚀".repeat(128), 512).isEmpty());
        assertTrue(DocumentIds.problem("🚀".repeat(129), 512).isPresent());
    }

    @Test
    void chunkIdsNeverCollideEvenWhenIdsHoldTheSeparator() {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        String alphabet = "a#0";
        Map<String, String> seen = new HashMap<>();
        for (int n = 0; n < 20_000; n++) {
            StringBuilder id = new StringBuilder();
            for (int len = 1 + random.nextInt(5); len > 0; len--) {
                id.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            int ordinal = random.nextInt(12);
            String chunk = DocumentIds.chunkId(id.toString(), ordinal);
            assertEquals(id.toString(), DocumentIds.documentIdOf(chunk), "seed " + seed);
            assertEquals(ordinal, DocumentIds.ordinalOf(chunk), "seed " + seed);
            String pair = id + " / " + ordinal;
            String before = seen.putIfAbsent(chunk, pair);
            assertTrue(before == null || before.equals(pair), "seed " + seed + ": " + chunk + " from " + before + " and " + pair);
        }
        assertEquals("https://example.org/a?b=c#d#0", DocumentIds.chunkId("https://example.org/a?b=c#d", 0));
    }
}
