package dev.offload.gateway.offload.policy;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Cheap surface features of a question for the {@link LocalQualityRouter}, beside its embedding:
 * how long it is, how much of it is digits, symbols and capitals, how many lines and question
 * marks, whether it negates ("not", "except"); and, for a multiple-choice question, its answer
 * options (how many, how long against the stem, how alike, how many numeric). One pass over the
 * characters and one over the lines, no regular expression, a few small allocations for the
 * options: it runs on every decision. Plain Java, no state, any thread.
 */
public final class QueryFeatures {
    /** Names in the order of {@link #of}; the model file lists them and must match. */
    public static final String[] NAMES = {"log_chars", "log_words", "mean_word_len", "digit_share", "symbol_share",
            "upper_share", "non_ascii_share", "log_lines", "log_longest_line", "questions", "negation",
            // answer options: lines "A. …", "B) …" (zero for a question without options)
            "options", "log_stem_chars", "log_option_chars", "option_spread", "numeric_options", "option_overlap",
            "above_option", "longest_option_unique"};

    /** Features before the answer-option ones (the first model's). */
    public static final int SURFACE_COUNT = 11;

    private QueryFeatures() {
    }

    public static int count() {
        return NAMES.length;
    }

    /** The features of {@code text} (null counts as empty), in the order of {@link #NAMES}. */
    public static double[] of(String text) {
        double[] f = new double[NAMES.length];
        into(text, f, 0);
        return f;
    }

    /** Writes the features of {@code text} into {@code out} from {@code offset} on. */
    public static void into(String text, double[] out, int offset) {
        String t = text == null ? "" : text;
        int n = t.length();
        int words = 0;
        int wordChars = 0;
        int digits = 0;
        int symbols = 0;
        int upper = 0;
        int nonAscii = 0;
        int lines = n == 0 ? 0 : 1;
        int longestLine = 0;
        int line = 0;
        int questions = 0;
        boolean inWord = false;
        for (int i = 0; i < n; i++) {
            char c = t.charAt(i);
            if (c == '\n') {
                lines++;
                longestLine = Math.max(longestLine, line);
                line = 0;
            } else {
                line++;
            }
            boolean letterOrDigit = Character.isLetterOrDigit(c);
            if (letterOrDigit) {
                wordChars++;
                if (!inWord) {
                    words++;
                }
            }
            inWord = letterOrDigit;
            if (c >= '0' && c <= '9') {
                digits++;
            } else if (c >= 'A' && c <= 'Z') {
                upper++;
            } else if (c > 127) {
                nonAscii++;
            } else if (c == '?') {
                questions++;
            } else if ("=+-*/^<>|()[]{}%$\\_~".indexOf(c) >= 0) {
                symbols++;
            }
        }
        longestLine = Math.max(longestLine, line);
        double len = Math.max(1, n);
        out[offset] = Math.log1p(n);
        out[offset + 1] = Math.log1p(words);
        out[offset + 2] = words == 0 ? 0 : (double) wordChars / words;
        out[offset + 3] = digits / len;
        out[offset + 4] = symbols / len;
        out[offset + 5] = upper / len;
        out[offset + 6] = nonAscii / len;
        out[offset + 7] = Math.log1p(lines);
        out[offset + 8] = Math.log1p(longestLine);
        out[offset + 9] = Math.min(questions, 3);
        out[offset + 10] = negates(t) ? 1 : 0;
        options(t, out, offset + SURFACE_COUNT);
    }

    /**
     * The answer options of a multiple-choice question: lines that start with a capital letter A–J
     * followed by "." or ")" and a space. The stem is the text before the first option. Option
     * overlap is the mean pairwise Jaccard similarity of the options' lower-cased word sets (near
     * alike options — "Wrong, Not wrong", "True, False" — are the ones a small model confuses).
     */
    private static void options(String t, double[] out, int at) {
        List<String> opts = new ArrayList<>(4);
        int stemEnd = -1;
        for (int from = 0; from <= t.length(); ) {
            int nl = t.indexOf('\n', from);
            int end = nl < 0 ? t.length() : nl;
            if (end - from >= 3 && opts.size() < MAX_OPTIONS) {
                char c = t.charAt(from);
                char d = t.charAt(from + 1);
                if (c >= 'A' && c <= 'J' && (d == '.' || d == ')') && t.charAt(from + 2) == ' ') {
                    if (stemEnd < 0) {
                        stemEnd = from;
                    }
                    opts.add(t.substring(from + 3, end).strip());
                }
            }
            if (nl < 0) {
                break;
            }
            from = nl + 1;
        }
        int k = opts.size();
        out[at + 1] = Math.log1p(stemEnd < 0 ? t.length() : Math.max(0, stemEnd - 1));
        if (k == 0) {
            return; // options, option length, spread, overlap… stay 0
        }
        int min = Integer.MAX_VALUE;
        int max = 0;
        int atMax = 0;
        int sum = 0;
        int numeric = 0;
        boolean above = false;
        List<Set<String>> words = new ArrayList<>(k);
        for (String o : opts) {
            int len = o.length();
            sum += len;
            min = Math.min(min, len);
            if (len > max) {
                max = len;
                atMax = 1;
            } else if (len == max) {
                atMax++;
            }
            for (int i = 0; i < len; i++) {
                if (o.charAt(i) >= '0' && o.charAt(i) <= '9') {
                    numeric++;
                    break;
                }
            }
            String lower = o.toLowerCase(Locale.ROOT);
            above |= lower.startsWith("all of") || lower.startsWith("none of") || lower.startsWith("both")
                    || lower.startsWith("neither");
            words.add(wordSet(lower));
        }
        double mean = sum / (double) k;
        double overlap = 0;
        int pairs = 0;
        for (int i = 0; i < k; i++) {
            for (int j = i + 1; j < k; j++) {
                overlap += jaccard(words.get(i), words.get(j));
                pairs++;
            }
        }
        out[at] = k;
        out[at + 2] = Math.log1p(mean);
        out[at + 3] = (max - min) / (mean + 1);
        out[at + 4] = numeric / (double) k;
        out[at + 5] = pairs == 0 ? 0 : overlap / pairs;
        out[at + 6] = above ? 1 : 0;
        out[at + 7] = k >= 2 && atMax == 1 ? 1 : 0;
    }

    private static final int MAX_OPTIONS = 10;

    private static Set<String> wordSet(String s) {
        Set<String> w = new HashSet<>();
        int start = -1;
        for (int i = 0; i <= s.length(); i++) {
            boolean in = i < s.length() && Character.isLetterOrDigit(s.charAt(i));
            if (in && start < 0) {
                start = i;
            } else if (!in && start >= 0) {
                w.add(s.substring(start, i));
                start = -1;
            }
        }
        return w;
    }

    private static double jaccard(Set<String> a, Set<String> b) {
        if (a.isEmpty() && b.isEmpty()) {
            return 1;
        }
        int common = 0;
        for (String x : a) {
            if (b.contains(x)) {
                common++;
            }
        }
        return common / (double) (a.size() + b.size() - common);
    }

    /** "not", "except", "false", "incorrect" as whole words, any case. */
    static boolean negates(String t) {
        return hasWord(t, "not") || hasWord(t, "except") || hasWord(t, "false") || hasWord(t, "incorrect");
    }

    private static boolean hasWord(String t, String w) {
        int from = 0;
        while (true) {
            int i = indexOfIgnoreCase(t, w, from);
            if (i < 0) {
                return false;
            }
            int end = i + w.length();
            if ((i == 0 || !Character.isLetter(t.charAt(i - 1))) && (end == t.length() || !Character.isLetter(t.charAt(end)))) {
                return true;
            }
            from = i + 1;
        }
    }

    private static int indexOfIgnoreCase(String t, String w, int from) {
        for (int i = from, last = t.length() - w.length(); i <= last; i++) {
            if (t.regionMatches(true, i, w, 0, w.length())) {
                return i;
            }
        }
        return -1;
    }
}
