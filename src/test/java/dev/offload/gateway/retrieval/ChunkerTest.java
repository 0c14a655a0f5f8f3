package dev.offload.gateway.retrieval;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChunkerTest {
    @Test
    void shortTextIsOneChunk() {
        assertEquals(List.of("One sentence. Two sentences."), new Chunker(100, 20).split("One sentence.   Two\n sentences."));
    }

    @Test
    void chunksRespectMaxAndBreakBetweenSentences() {
        String text = "The first sentence is here. The second sentence follows it. A third one ends the paragraph. "
                + "Then a fourth arrives. And a fifth closes.";
        List<String> chunks = new Chunker(60, 0).split(text);
        assertTrue(chunks.size() > 1);
        for (String c : chunks) {
            assertTrue(c.length() <= 60, c);
            assertTrue(c.endsWith("."), "chunk ends at a sentence boundary: " + c);
        }
        assertEquals(text, String.join(" ", chunks), "without overlap the chunks tile the text");
    }

    @Test
    void overlapRepeatsTrailingSentences() {
        String text = "Alpha is first. Beta is second. Gamma is third. Delta is fourth. Epsilon is fifth.";
        List<String> chunks = new Chunker(50, 20).split(text);
        assertTrue(chunks.size() >= 2);
        for (int i = 1; i < chunks.size(); i++) {
            String prev = chunks.get(i - 1);
            String lastSentence = prev.substring(prev.lastIndexOf(". ", prev.length() - 2) + 2);
            assertTrue(chunks.get(i).startsWith(lastSentence), "chunk " + i + " starts with the overlap '" + lastSentence + "'");
        }
    }

    @Test
    void longSentenceIsCutAtWords() {
        String word = "lorem ";
        String text = word.repeat(100).strip() + ".";
        List<String> chunks = new Chunker(60, 0).split(text);
        for (String c : chunks) {
            assertTrue(c.length() <= 60);
            assertFalse(c.startsWith(" ") || c.endsWith(" "));
            assertTrue(c.matches("(lorem ?)+\\.?"), "cut between words: " + c);
        }
        assertEquals(100, String.join(" ", chunks).split(" ").length);
    }

    @Test
    void blankTextHasNoChunks() {
        assertTrue(new Chunker(100, 10).split("  \n ").isEmpty());
    }

    @Test
    void rejectsBadSettings() {
        assertThrows(IllegalArgumentException.class, () -> new Chunker(10, 0));
        assertThrows(IllegalArgumentException.class, () -> new Chunker(100, 60));
    }
}
