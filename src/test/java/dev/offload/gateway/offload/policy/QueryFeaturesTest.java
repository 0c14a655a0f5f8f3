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

    @Test
    void answerOptions() {
        String t = "Which is a noble gas?\nA. helium gas\nB. nitrogen gas\nC. 42\nD. none of the above\nAnswer:";
        assertEquals(4, feature(t, "options"));
        assertEquals(Math.log1p("Which is a noble gas?".length()), feature(t, "log_stem_chars"), 1e-12);
        double mean = ("helium gas".length() + "nitrogen gas".length() + 2 + "none of the above".length()) / 4.0;
        assertEquals(Math.log1p(mean), feature(t, "log_option_chars"), 1e-12);
        assertEquals((17 - 2) / (mean + 1), feature(t, "option_spread"), 1e-12);
        assertEquals(0.25, feature(t, "numeric_options"), 1e-12);
        assertEquals(1, feature(t, "above_option"));
        assertEquals(1, feature(t, "longest_option_unique"));
        // word-set Jaccard: A–B share "gas" of {helium, gas, nitrogen} = 1/3; every other pair 0
        assertEquals((1.0 / 3) / 6, feature(t, "option_overlap"), 1e-12);
    }

    @Test
    void alikeOptionsOverlapMore() {
        String alike = "Is it wrong?\nA. Wrong, Wrong\nB. Wrong, Not wrong\nC. Not wrong, Wrong\nD. Not wrong, Not wrong";
        String apart = "Capital of France?\nA. Paris\nB. Rome\nC. Madrid\nD. Berlin";
        assertTrue(feature(alike, "option_overlap") > 0.5);
        assertEquals(0, feature(apart, "option_overlap"));
        assertEquals(0, feature(apart, "longest_option_unique")); // Madrid and Berlin tie
    }

    @Test
    void noOptionsLeavesTheOptionFeaturesZero() {
        String t = "Explain how a heat pump works.";
        assertEquals(0, feature(t, "options"));
        assertEquals(0, feature(t, "option_overlap"));
        assertEquals(Math.log1p(t.length()), feature(t, "log_stem_chars"), 1e-12);
        assertEquals(0, feature("A.B. Smith wrote it", "options")); // "A." not followed by a space
    }
}
