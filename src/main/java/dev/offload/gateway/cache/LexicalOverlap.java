package dev.offload.gateway.cache;

import java.text.Normalizer;
import java.util.Arrays;
import java.util.Locale;
import java.util.Set;

/**
 * Word overlap of two queries, the cache's second opinion next to embedding similarity: the
 * Jaccard coefficient (Jaccard 1912) of their sets of content-word stems. Stopwords are dropped
 * and each word is cut to its first five characters (truncation stemming: crude, language-blind,
 * and enough to match "returns"/"returned" or "dataset"/"datasets"). A small sentence-embedding
 * model rates two different questions about one subject almost as close as two wordings of one
 * question; the words that differ ({@code shape} vs {@code nbytes}) tell them apart.
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
