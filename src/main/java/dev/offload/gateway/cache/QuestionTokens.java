package dev.offload.gateway.cache;

/**
 * The word-level reading both the identifier check ({@link QueryIdentifiers}) and the verifier's
 * features ({@link PairFeatures}) make of a question: whitespace tokens with their surrounding
 * punctuation off, whether a token ends a sentence (so that the next capital is a sentence's, not
 * a name's), possessives off, digits found.
 */
final class QuestionTokens {
    private QuestionTokens() {
    }

    /** The whitespace-separated tokens of a text, as written. */
    static String[] split(String text) {
        return text.split("\\s+");
    }

    /**
     * Surrounding punctuation off; what is inside (1234-ALICE, a.b@c.org, G-2, v2.10.0, 3.5, 10:30)
     * stays, and so do a trailing {@code %} and the leading signs given (such as {@code $+}).
     */
    static String strip(String raw, String leadingSigns) {
        int from = 0;
        int to = raw.length();
        while (from < to && !Character.isLetterOrDigit(raw.charAt(from)) && leadingSigns.indexOf(raw.charAt(from)) < 0) {
            from++;
        }
        while (to > from && !Character.isLetterOrDigit(raw.charAt(to - 1)) && raw.charAt(to - 1) != '%') {
            to--;
        }
        return raw.substring(from, to);
    }

    /** Whether the token, as written, ends a sentence or a clause that a capital may follow. */
    static boolean endsSentence(String raw) {
        return raw.endsWith(".") || raw.endsWith("?") || raw.endsWith("!") || raw.endsWith(":");
    }

    static String possessiveless(String w) {
        return w.endsWith("'s") || w.endsWith("’s") ? w.substring(0, w.length() - 2) : w;
    }

    static boolean hasDigit(String t) {
        for (int i = 0; i < t.length(); i++) {
            if (Character.isDigit(t.charAt(i))) {
                return true;
            }
        }
        return false;
    }

    /** {@code 1,024} as {@code 1024}: thousands separators between digits off. */
    static String withoutThousands(String number) {
        return number.replaceAll("(?<=\\d),(?=\\d{3})", "");
    }
}
