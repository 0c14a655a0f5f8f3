package dev.offload.gateway.offload.policy;

/**
 * Cheap surface features of a question for the {@link LocalQualityRouter}, beside its embedding:
 * how long it is, how much of it is digits, symbols and capitals, how many lines and question
 * marks, whether it negates ("not", "except"). One pass over the characters, no regular
 * expression, no allocation beyond the result: it runs on every decision. Plain Java, no state,
 * any thread.
 */
public final class QueryFeatures {
    /** Names in the order of {@link #of}; the model file lists them and must match. */
    public static final String[] NAMES = {"log_chars", "log_words", "mean_word_len", "digit_share", "symbol_share",
            "upper_share", "non_ascii_share", "log_lines", "log_longest_line", "questions", "negation"};

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
