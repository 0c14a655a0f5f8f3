package dev.offload.gateway.bench.fleet;

import dev.offload.gateway.bench.fleet.QuestionPool.Question;

import java.util.HashMap;
import java.util.Map;

/**
 * Scores an answer against the question's labels (RouteLLM's MMLU labels, see
 * {@link QuestionPool}): a local answer is correct iff the device's model (weak) answered the
 * question correctly; an edge or cloud answer iff the gateway's model (strong) did. A cached
 * answer is correct only when the entry it came from was generated for the same question (the
 * asked question's own origin, whatever its wording) and that question's strong label is true;
 * another question's answer is wrong, and so is an answer whose origin cannot be told. An
 * extractive answer and a cut-off are counted apart, never correct.
 *
 * <p>Which question a cached answer was generated for is read from the answer itself: every
 * generated answer's tag (its first word without the trailing token index; the simulated backend
 * started with {@code hashTags} makes it a hash of the question) is recorded with the origin of
 * the query it answered. A tag recorded for two origins is ambiguous and tells nothing.
 * Confined to one thread (the driver's context, then the report).
 */
final class AnswerQuality {
    /** How an answer counts. */
    enum Verdict {
        CORRECT, WRONG, EXTRACTIVE, CUT_OFF, UNLABELLED;

        String wire() {
            return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        }
    }

    /** For a cached answer: was it generated for the asked question? */
    enum CacheOrigin {
        SAME, OTHER, UNKNOWN;

        String wire() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private static final String AMBIGUOUS = "\u0000ambiguous";
    private final Map<String, String> originByTag = new HashMap<>();

    /** The tag of an answer text: its first word without the token index that ends it. */
    static String tagOf(String firstWord) {
        if (firstWord == null || firstWord.isBlank()) {
            return null;
        }
        String w = firstWord.strip();
        int space = w.indexOf(' ');
        if (space > 0) {
            w = w.substring(0, space);
        }
        return w.endsWith("0") && w.length() > 1 ? w.substring(0, w.length() - 1) : w;
    }

    /** A gateway tier generated an answer tagged {@code tag} for a query of {@code origin}. */
    void generated(String tag, String origin) {
        if (tag == null || origin == null) {
            return;
        }
        originByTag.merge(tag, origin, (a, b) -> a.equals(b) ? a : AMBIGUOUS);
    }

    /** Which question a cached answer tagged {@code tag} was generated for. */
    CacheOrigin cacheOrigin(String tag, Question asked) {
        String o = tag == null ? null : originByTag.get(tag);
        if (o == null || o.equals(AMBIGUOUS)) {
            return CacheOrigin.UNKNOWN;
        }
        return o.equals(asked.origin()) ? CacheOrigin.SAME : CacheOrigin.OTHER;
    }

    /**
     * @param route {@code local}, {@code edge}, {@code cloud}, {@code cache}, {@code extractive},
     *              {@code cut-off}
     * @param tag   for a cached answer, its tag ({@link #tagOf}); ignored otherwise
     */
    Verdict judge(String route, Question asked, String tag) {
        switch (route) {
            case "extractive" -> {
                return Verdict.EXTRACTIVE;
            }
            case "cut-off" -> {
                return Verdict.CUT_OFF;
            }
            default -> {
                // judged below
            }
        }
        if (asked == null || !asked.labelled()) {
            return Verdict.UNLABELLED;
        }
        boolean correct = switch (route) {
            case "local" -> asked.weakCorrect();
            case "edge", "cloud" -> asked.strongCorrect();
            case "cache" -> cacheOrigin(tag, asked) == CacheOrigin.SAME && asked.strongCorrect();
            default -> throw new IllegalArgumentException("unknown route " + route);
        };
        return correct ? Verdict.CORRECT : Verdict.WRONG;
    }
}
