package dev.offload.gateway.cache;

import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * What in a question names one particular thing: account numbers, order ids, dates, amounts,
 * quantities and versions (any token with a digit), e-mail addresses, codes written in capitals
 * ({@code ALICE}, {@code G-2}), and names (capitalised words not at the start of a sentence).
 * Two questions that differ in any of these ask about different things, however close their
 * embeddings: "Is the refund for account 1234-ALICE approved?" must never be answered with the
 * answer about 9876-BOB. The semantic cache uses it as a verifier after its nearest-neighbour
 * search: a candidate whose identifiers differ from the question's is not a hit.
 *
 * <p>Tokens with digits, e-mail addresses and codes must be the same set on both sides (case,
 * thousands separators and surrounding punctuation aside). Names are compared more leniently,
 * because paraphrases capitalise differently: every name of one question must occur, in any
 * case, in the other's words.
 *
 * <p>Immutable; thread-safe.
 */
final class QueryIdentifiers {
    private static final Set<String> NOT_NAMES = Set.of("i", "i'm", "i've", "i'd", "i'll", "ok", "okay");

    private final Set<String> exact;
    private final Set<String> names;
    private final Set<String> words;

    private QueryIdentifiers(Set<String> exact, Set<String> names, Set<String> words) {
        this.exact = exact;
        this.names = names;
        this.words = words;
    }

    static QueryIdentifiers of(String text) {
        Set<String> exact = new TreeSet<>();
        Set<String> names = new TreeSet<>();
        Set<String> words = new TreeSet<>();
        boolean sentenceStart = true;
        for (String raw : QuestionTokens.split(text)) {
            String t = QuestionTokens.strip(raw, "$+");
            boolean endsSentence = QuestionTokens.endsSentence(raw);
            if (t.isEmpty()) {
                sentenceStart |= endsSentence;
                continue;
            }
            String lower = t.toLowerCase(Locale.ROOT);
            words.add(QuestionTokens.possessiveless(lower));
            if (QuestionTokens.hasDigit(t)) {
                exact.add(QuestionTokens.withoutThousands(lower));
            } else if (t.indexOf('@') > 0) {
                exact.add(lower);
            } else if (isCode(t)) {
                exact.add(lower);
            } else if (!sentenceStart && Character.isUpperCase(t.codePointAt(0)) && !NOT_NAMES.contains(lower)) {
                names.add(QuestionTokens.possessiveless(lower));
            }
            sentenceStart = endsSentence;
        }
        return new QueryIdentifiers(Set.copyOf(exact), Set.copyOf(names), Set.copyOf(words));
    }

    /** Whether the two questions name the same things. */
    boolean sameAs(QueryIdentifiers other) {
        return exact.equals(other.exact) && other.words.containsAll(names) && words.containsAll(other.names);
    }

    /** True when the question names nothing in particular. */
    boolean isEmpty() {
        return exact.isEmpty() && names.isEmpty();
    }

    /** Two or more capitals and no lower-case letter: {@code ALICE}, {@code ISO}, {@code G-2} (that one has a digit). */
    private static boolean isCode(String t) {
        int upper = 0;
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            if (Character.isLowerCase(c)) {
                return false;
            }
            if (Character.isUpperCase(c)) {
                upper++;
            }
        }
        return upper >= 2;
    }

    @Override
    public String toString() {
        return "identifiers" + exact + " names" + names;
    }
}
