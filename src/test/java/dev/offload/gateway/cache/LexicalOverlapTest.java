package dev.offload.gateway.cache;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LexicalOverlapTest {
    private static long trigram(String three) {
        return ((long) three.charAt(0) << 32) | ((long) three.charAt(1) << 16) | three.charAt(2);
    }

    @Test
    void trigramsOfThePaddedTextSortedAndDistinct() {
        long[] expected = {trigram(" ab"), trigram("ab "), trigram("aba"), trigram("bab")};
        Arrays.sort(expected);
        // " abab " has the trigrams " ab", "aba", "bab", "aba", "ab ": "aba" once.
        assertArrayEquals(expected, LexicalOverlap.trigrams("abab"));
        assertArrayEquals(new long[]{trigram(" a ")}, LexicalOverlap.trigrams("a"));
        assertEquals(0, LexicalOverlap.trigrams("").length);
    }

    @Test
    void trigramsAreExactNotHashed() {
        // "Aa" and "BB" share String.hashCode; packed code units keep them apart.
        assertEquals("Aa".hashCode(), "BB".hashCode());
        assertEquals(0.0, LexicalOverlap.jaccard(LexicalOverlap.trigrams("xAa"), LexicalOverlap.trigrams("xBB")), 0.0,
                "hashed trigrams would match xAa/xBB and Aa /BB ");
    }

    @Test
    void trigramOverlapSeesInflectionsThatStemsMerge() {
        String a = LexicalOverlap.normalize("What does the split parameter do?");
        String b = LexicalOverlap.normalize("What does the splits parameter do?");
        assertEquals(1.0, LexicalOverlap.jaccard(LexicalOverlap.terms(a), LexicalOverlap.terms(b)), 0.0);
        double t = LexicalOverlap.jaccard(LexicalOverlap.trigrams(a), LexicalOverlap.trigrams(b));
        assertTrue(t > 0.8 && t < 1.0, "close but not equal: " + t);
    }

    @Test
    void jaccardMatchesASetComputation() {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        for (int round = 0; round < 200; round++) {
            long[] a = randomSortedDistinct(random);
            long[] b = randomSortedDistinct(random);
            long common = Arrays.stream(a).filter(x -> Arrays.binarySearch(b, x) >= 0).count();
            long union = a.length + b.length - common;
            double expected = union == 0 ? 0 : (double) common / union;
            assertEquals(expected, LexicalOverlap.jaccard(a, b), 1e-12, "seed " + seed);
            assertEquals(LexicalOverlap.jaccard(a, b), LexicalOverlap.jaccard(b, a), 0.0, "symmetric; seed " + seed);
        }
    }

    private static long[] randomSortedDistinct(Random random) {
        return random.longs(random.nextInt(20), -30, 30).distinct().sorted().toArray();
    }
}
