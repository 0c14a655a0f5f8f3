package dev.offload.gateway.offload.policy;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class QueryFeaturesTest {
    private static double feature(String text, String name) {
        double[] f = QueryFeatures.of(text);
        for (int i = 0; i < QueryFeatures.NAMES.length; i++) {
            if (QueryFeatures.NAMES[i].equals(name)) {
                return f[i];
            }
        }
        throw new AssertionError("no feature " + name);
    }

    @Test
    void emptyAndNullGiveZeros() {
        assertArrayEquals(new double[QueryFeatures.count()], QueryFeatures.of(""));
        assertArrayEquals(QueryFeatures.of(""), QueryFeatures.of(null));
    }

    @Test
    void lengthWordsAndLines() {
        String t = "Find x.\nA. 2\nB. 3";
        assertEquals(Math.log1p(t.length()), feature(t, "log_chars"), 1e-12);
        assertEquals(Math.log1p(6), feature(t, "log_words"), 1e-12); // Find, x, A, 2, B, 3
        assertEquals(Math.log1p(3), feature(t, "log_lines"), 1e-12);
        assertEquals(Math.log1p("Find x.".length()), feature(t, "log_longest_line"), 1e-12);
    }

    @Test
    void sharesOfDigitsSymbolsCapitals() {
        String t = "x^2 + 3 = 12";
        assertEquals(4.0 / t.length(), feature(t, "digit_share"), 1e-12); // 2, 3, 1, 2
        assertEquals(3.0 / t.length(), feature(t, "symbol_share"), 1e-12);
        assertEquals(0.0, feature(t, "upper_share"));
        assertEquals(2.0 / 4, feature("ABcd", "upper_share"), 1e-12);
        assertEquals(1.0 / 3, feature("√xy", "non_ascii_share"), 1e-12);
    }

    @Test
    void questionMarksAreCappedAtThree() {
        assertEquals(1, feature("why?", "questions"));
        assertEquals(3, feature("a? b? c? d? e?", "questions"));
    }

    @Test
    void negationIsWholeWordsAnyCase() {
        assertEquals(1, feature("All of the following are true EXCEPT", "negation"));
        assertEquals(1, feature("Which is not a prime?", "negation"));
        assertEquals(1, feature("Statement 1 is false", "negation"));
        assertEquals(0, feature("Which notation is used? Exceptional cases aside", "negation"));
        assertEquals(0, feature("knot theory", "negation"));
    }

    @Test
    void meanWordLength() {
        assertEquals(3.0, feature("abc de fghi", "mean_word_len"), 1e-12);
        assertTrue(feature("electroencephalography", "mean_word_len") > feature("a b c", "mean_word_len"));
    }

    @Test
    void intoWritesAtTheOffset() {
        double[] out = new double[QueryFeatures.count() + 2];
        QueryFeatures.into("Is it not 42?", out, 2);
        assertEquals(0, out[0]);
        assertEquals(0, out[1]);
        double[] tail = new double[QueryFeatures.count()];
        System.arraycopy(out, 2, tail, 0, tail.length);
        assertArrayEquals(QueryFeatures.of("Is it not 42?"), tail);
    }
}
