package dev.offload.gateway.cache;

import java.text.Normalizer;
import java.util.Arrays;
import java.util.Locale;
import java.util.Set;

/**
 * Surface overlap of two queries, the cache's second opinion next to embedding similarity. A
 * small sentence-embedding model rates two different questions about one subject almost as close
 * as two wordings of one question; the characters and words that differ ({@code shape} vs
 * {@code nbytes}, {@code split} vs {@code splits}) tell them apart. Two measures, both the
 * Jaccard coefficient (Jaccard 1912) of two sets:
 *
 * <ul>
 *   <li>{@link #trigrams character trigrams} of the normalised text, padded with one space at
 *       each end: every character counts, stopwords and punctuation included, and inflections
 *       ("returns"/"returned") share most of their trigrams. Character n-gram overlap is the
 *       classic string similarity for near-duplicate text (Ukkonen 1992, "Approximate
 *       string-matching with q-grams and maximal matches"); on the paraphrase pairs it separates
 *       near-duplicate cached questions better than word stems (see cache.md).</li>
 *   <li>{@link #terms content-word stems}: stopwords are dropped and each word is cut to its
 *       first five characters (truncation stemming: crude, language-blind).</li>
 * </ul>
 *
 * <p>Stateless; thread-safe.
 */
final class LexicalOverlap {
    private static final int STEM = 5;
    private static final Set<String> STOPWORDS = Set.of(("a an the is are was were be been being of to in on for with"
            + " by as at from and or not no it its this that these those can could should would will may might must do"
            + " does did has have had you your we our they their he she i me my which who what when where how than"
            + " then there here into out up about over under also only just such so if but because while").split(" "));

    private LexicalOverlap() {
    }

    /** Whether a lower-case word is one of the stopwords {@link #terms} leaves out. */
    static boolean isStopword(String word) {
        return STOPWORDS.contains(word);
    }

    /** Lower case, Unicode-compatibility folded, single spaces, without trailing punctuation. */
    static String normalize(String text) {
        String t = Normalizer.normalize(text, Normalizer.Form.NFKC).toLowerCase(Locale.ROOT).strip();
        t = t.replaceAll("\\s+", " ");
        int end = t.length();
        while (end > 0 && "?!.;:, ".indexOf(t.charAt(end - 1)) >= 0) {
            end--;
        }
        return t.substring(0, end);
    }

    /** Sorted distinct hashes of the content-word stems of a {@link #normalize normalised} text. */
    static int[] terms(String normalized) {
        int[] out = new int[16];
        int n = 0;
        int i = 0;
        int len = normalized.length();
        while (i < len) {
            while (i < len && !isWordChar(normalized.charAt(i))) {
                i++;
            }
            int start = i;
            while (i < len && isWordChar(normalized.charAt(i))) {
                i++;
            }
            if (i > start) {
                String word = normalized.substring(start, i);
                if (!STOPWORDS.contains(word)) {
                    if (n == out.length) {
                        out = Arrays.copyOf(out, n * 2);
                    }
                    out[n++] = word.substring(0, Math.min(STEM, word.length())).hashCode();
                }
            }
        }
        int[] sorted = Arrays.copyOf(out, n);
        Arrays.sort(sorted);
        int distinct = 0;
        for (int k = 0; k < sorted.length; k++) {
            if (k == 0 || sorted[k] != sorted[k - 1]) {
                sorted[distinct++] = sorted[k];
            }
        }
        return Arrays.copyOf(sorted, distinct);
    }

    /**
     * Sorted distinct character trigrams of a {@link #normalize normalised} text with one space
     * added at each end (so a word's first and last letters form trigrams of their own). Each
     * trigram is its three UTF-16 code units packed into one long: exact, no hash collisions.
     */
    static long[] trigrams(String normalized) {
        int len = normalized.length() + 2;
        if (len < 3) {
            return new long[0];
        }
        long[] out = new long[len - 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = ((long) paddedAt(normalized, i) << 32) | ((long) paddedAt(normalized, i + 1) << 16)
                    | paddedAt(normalized, i + 2);
        }
        Arrays.sort(out);
        int distinct = 0;
        for (int k = 0; k < out.length; k++) {
            if (k == 0 || out[k] != out[k - 1]) {
                out[distinct++] = out[k];
            }
        }
        return Arrays.copyOf(out, distinct);
    }

    private static char paddedAt(String s, int i) {
        return i == 0 || i == s.length() + 1 ? ' ' : s.charAt(i - 1);
    }

    /** |a ∩ b| / |a ∪ b| of two sorted distinct arrays; 0 when both are empty. */
    static double jaccard(long[] a, long[] b) {
        int i = 0;
        int j = 0;
        int common = 0;
        while (i < a.length && j < b.length) {
            if (a[i] == b[j]) {
                common++;
                i++;
                j++;
            } else if (a[i] < b[j]) {
                i++;
            } else {
                j++;
            }
        }
        int union = a.length + b.length - common;
        return union == 0 ? 0 : (double) common / union;
    }

    /** |a ∩ b| / |a ∪ b| of two sorted distinct arrays; 0 when both are empty. */
    static double jaccard(int[] a, int[] b) {
        int i = 0;
        int j = 0;
        int common = 0;
        while (i < a.length && j < b.length) {
            if (a[i] == b[j]) {
                common++;
                i++;
                j++;
            } else if (a[i] < b[j]) {
                i++;
            } else {
                j++;
            }
        }
        int union = a.length + b.length - common;
        return union == 0 ? 0 : (double) common / union;
    }

    private static boolean isWordChar(char c) {
        return Character.isLetterOrDigit(c) || c == '_';
    }
}
