package dev.offload.gateway.offload.policy;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Cheap lexical cues of how hard a question is for a small on-device model: questions that
 * join several facts (multi-hop) and questions that ask for long output. Plain Java, no state,
 * any thread; it runs on every decision, so it is a handful of precompiled patterns.
 */
public final class QueryComplexity {
    private static final Pattern MULTI_HOP = Pattern.compile(
            "\\b(compare|comparison|contrast|differences?\\s+between|versus|vs\\.?|relationship\\s+between"
                    + "|both\\b.*\\band|and\\s+then|after\\s+that|as\\s+a\\s+result\\s+of|which\\s+of\\s+(the|these)"
                    + "|how\\s+does\\s+.+\\s+affect|what\\s+caused|trade-?offs?)\\b");
    private static final Pattern LONG_OUTPUT = Pattern.compile(
            "\\b(explain|describe|summari[sz]e|summary|list|steps?|step-by-step|write|draft|detailed|in\\s+detail"
                    + "|essay|outline|plan|walk\\s+me\\s+through|overview|guide|tutorial)\\b");

    private QueryComplexity() {
    }

    /** True when the question asks to combine or compare several facts. */
    public static boolean multiHop(String text) {
        if (text == null) {
            return false;
        }
        String t = text.toLowerCase(Locale.ROOT);
        return t.chars().filter(c -> c == '?').count() >= 2 || MULTI_HOP.matcher(t).find();
    }

    /** True when the question asks for an explanation, a list, steps, a summary or a text. */
    public static boolean longOutput(String text) {
        return text != null && LONG_OUTPUT.matcher(text.toLowerCase(Locale.ROOT)).find();
    }

    /** Token estimate of a text (≈ 4 characters per token, the same rule the generation path uses). */
    public static int tokens(String text) {
        return text == null ? 0 : (text.length() + 3) / 4;
    }
}
