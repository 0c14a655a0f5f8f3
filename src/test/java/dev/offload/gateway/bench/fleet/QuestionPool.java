package dev.offload.gateway.bench.fleet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * The questions a fleet asks, by kind. Two sources:
 * <ul>
 * <li><b>Labelled (the default when the file is readable)</b>: MMLU questions of the routing data
 * ({@code ../shared/data/routing/routellm-mmlu.csv}, RouteLLM's labels: did the weak model, which
 * stands for the device's, and the strong one, the gateway's, answer correctly). A seeded draw
 * of {@code count} questions asked as they are (short), the next third of that many with
 * "Explain your reasoning step by step" before them (long: a worked answer), and pairs of the
 * next ones joined as one query (multi-hop: correct only when both parts are). Each short and
 * long question knows a paraphrase (the same question with another lead-in and without the
 * trailing "Answer:"), so the shared cache sees paraphrases of the question itself.</li>
 * <li>Otherwise the titles of the gateway's sample corpus and, when a file of paraphrase pairs is
 * given, its {@code origin} sentences; these carry no quality labels.</li>
 * </ul>
 * Immutable after {@link #load}; any thread.
 */
final class QuestionPool {
    enum Kind {
        /** A direct question: the gateway's policy expects a default-length answer. */
        SHORT,
        /** Asks to explain/list/summarise: a long answer. */
        LONG,
        /** Compares two things: beyond the small local model in the gateway's view. */
        MULTI_HOP
    }

    /**
     * @param paraphrase    another wording of the same question, null when none is known
     * @param origin        what the question is, whatever its wording ({@code mmlu:<row>},
     *                      {@code mmlu:<row>+<row>} for a pair; the text itself for unlabelled ones): a
     *                      cached answer is correct only for a query of the same origin
     * @param weakCorrect   whether the device's model answers it correctly; null when unlabelled
     * @param strongCorrect whether the gateway's model answers it correctly; null when unlabelled
     */
    record Question(String text, Kind kind, String paraphrase, String origin, Boolean weakCorrect,
                    Boolean strongCorrect) {
        Question(String text, Kind kind, String paraphrase) {
            this(text, kind, paraphrase, text, null, null);
        }

        boolean labelled() {
            return weakCorrect != null && strongCorrect != null;
        }
    }

    private final Map<Kind, List<Question>> byKind;
    private final Map<String, Question> byOrigin = new java.util.HashMap<>();
    private final String source;

    private QuestionPool(Map<Kind, List<Question>> byKind, String source) {
        this.byKind = byKind;
        this.source = source;
        for (List<Question> l : byKind.values()) {
            for (Question q : l) {
                byOrigin.putIfAbsent(q.origin(), q);
            }
        }
    }

    /** Where the questions came from, for the report. */
    String source() {
        return source;
    }

    boolean labelled() {
        return byKind.values().stream().flatMap(List::stream).allMatch(Question::labelled);
    }

    /** The question of an origin; null when unknown. */
    Question byOrigin(String origin) {
        return byOrigin.get(origin);
    }

    /**
     * Labelled MMLU questions (see the class comment).
     *
     * @param count how many are asked as short questions; a third as many long ones and as many
     *              multi-hop pairs come on top
     */
    static QuestionPool labelled(Path routing, int count, long seed) {
        List<dev.offload.gateway.bench.routing.RouterTraining.Question> all;
        try {
            all = dev.offload.gateway.bench.routing.RouterTraining.readCsv(routing);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the routing data " + routing, e);
        }
        List<Integer> rows = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) {
            rows.add(i);
        }
        Collections.shuffle(rows, new Random(seed));
        int third = Math.max(1, count / 3);
        if (count + 3 * third > rows.size()) {
            throw new IllegalArgumentException("--questions: the routing data holds " + rows.size() + " questions");
        }
        Map<Kind, List<Question>> byKind = new EnumMap<>(Kind.class);
        for (Kind k : Kind.values()) {
            byKind.put(k, new ArrayList<>());
        }
        int next = 0;
        for (int i = 0; i < count; i++, next++) {
            int row = rows.get(next);
            var q = all.get(row);
            byKind.get(Kind.SHORT).add(new Question(q.prompt(), Kind.SHORT, paraphrase(q.prompt()), "mmlu:" + row,
                    q.weak(), q.strong()));
        }
        for (int i = 0; i < third; i++, next++) {
            int row = rows.get(next);
            var q = all.get(row);
            String text = "Explain your reasoning step by step, then give the letter of the answer.\n" + q.prompt();
            byKind.get(Kind.LONG).add(new Question(text, Kind.LONG,
                    "Work through this step by step and say which option is right.\n" + strip(q.prompt()),
                    "mmlu:" + row, q.weak(), q.strong()));
        }
        for (int i = 0; i < third; i++, next += 2) {
            int a = rows.get(next);
            int b = rows.get(next + 1);
            var qa = all.get(a);
            var qb = all.get(b);
            String text = "Answer both questions.\n\n1. " + strip(qa.prompt()) + "\n\n2. " + strip(qb.prompt())
                    + "\n\nAnswers:";
            byKind.get(Kind.MULTI_HOP).add(new Question(text, Kind.MULTI_HOP, null, "mmlu:" + a + "+" + b,
                    qa.weak() && qb.weak(), qa.strong() && qb.strong()));
        }
        return new QuestionPool(byKind, String.format(Locale.ROOT, "%s: %d of its %d MMLU questions drawn by seed %d"
                + " (%d short, %d long, %d multi-hop pairs)", routing, count + 3 * third, all.size(), seed, count,
                third, third));
    }

    /** The same question with another lead-in and without the trailing "Answer:". */
    static String paraphrase(String prompt) {
        return "Please answer this multiple-choice question.\n" + strip(prompt);
    }

    private static String strip(String prompt) {
        String p = prompt.strip();
        return p.endsWith("Answer:") ? p.substring(0, p.length() - "Answer:".length()).strip() : p;
    }

    List<Question> of(Kind kind) {
        return byKind.get(kind);
    }

    int size() {
        return byKind.values().stream().mapToInt(List::size).sum();
    }

    int withParaphrase() {
        return (int) byKind.values().stream().flatMap(List::stream).filter(q -> q.paraphrase() != null).count();
    }

    /**
     * @param paraphrases a JSON array of {@code {"origin","similar"}}, or null for none
     * @param maxPairs    how many pairs to take from its start
     * @param seed        shuffles each kind's list, which sets the popularity ranks
     */
    static QuestionPool load(Path paraphrases, int maxPairs, long seed) {
        ObjectMapper json = new ObjectMapper();
        List<String> titles = corpusTitles(json);
        Map<Kind, List<Question>> byKind = new EnumMap<>(Kind.class);
        for (Kind k : Kind.values()) {
            byKind.put(k, new ArrayList<>());
        }
        for (int i = 0; i < titles.size(); i++) {
            String t = titles.get(i).toLowerCase(Locale.ROOT);
            String other = titles.get((i + 1) % titles.size()).toLowerCase(Locale.ROOT);
            byKind.get(Kind.SHORT).add(new Question("What should I know about " + t + "?", Kind.SHORT,
                    "What is important about " + t + "?"));
            byKind.get(Kind.SHORT).add(new Question("How does the gateway handle " + t + "?", Kind.SHORT,
                    "In what way does the gateway deal with " + t + "?"));
            byKind.get(Kind.LONG).add(new Question("Explain " + t + " step by step, in detail.", Kind.LONG,
                    "Walk me through " + t + " step by step and explain each part."));
            byKind.get(Kind.MULTI_HOP).add(new Question("Compare " + t + " and " + other
                    + ": what is the difference between them?", Kind.MULTI_HOP, null));
        }
        if (paraphrases != null) {
            try {
                JsonNode pairs = json.readTree(Files.readString(paraphrases));
                for (int i = 0; i < pairs.size() && i < maxPairs; i++) {
                    JsonNode p = pairs.get(i);
                    byKind.get(Kind.SHORT).add(new Question(p.path("origin").asText(), Kind.SHORT,
                            p.path("similar").asText(null)));
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read paraphrase pairs " + paraphrases, e);
            }
        }
        Random r = new Random(seed);
        for (List<Question> l : byKind.values()) {
            Collections.shuffle(l, r);
        }
        return new QuestionPool(byKind, "the sample corpus' titles" + (paraphrases == null ? ""
                : " and " + Math.min(maxPairs, byKind.get(Kind.SHORT).size()) + " paraphrase pairs of " + paraphrases)
                + " (no quality labels)");
    }

    /** Titles of the documents under {@code sample-corpus/} on the class path, in index order. */
    private static List<String> corpusTitles(ObjectMapper json) {
        List<String> out = new ArrayList<>();
        ClassLoader cl = QuestionPool.class.getClassLoader();
        try (InputStream index = cl.getResourceAsStream("sample-corpus/index.txt")) {
            if (index == null) {
                throw new IllegalStateException("sample-corpus/index.txt is not on the class path");
            }
            for (String name : new String(index.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (name.isBlank()) {
                    continue;
                }
                try (InputStream doc = cl.getResourceAsStream("sample-corpus/" + name.strip())) {
                    if (doc != null) {
                        out.add(json.readTree(doc).path("title").asText());
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (out.size() < 2) {
            throw new IllegalStateException("the sample corpus has fewer than two titles");
        }
        return out;
    }
}
