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
 * The questions a fleet asks, by kind. Built from the titles of the gateway's own sample corpus
 * (so retrieval finds something) and, when a file of paraphrase pairs is given, from its
 * {@code origin} sentences, each remembering its {@code similar} paraphrase. Immutable after
 * {@link #load}; any thread.
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

    /** @param paraphrase another wording of the same question, null when none is known */
    record Question(String text, Kind kind, String paraphrase) {
    }

    private final Map<Kind, List<Question>> byKind;

    private QuestionPool(Map<Kind, List<Question>> byKind) {
        this.byKind = byKind;
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
        return new QuestionPool(byKind);
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
