package dev.offload.gateway.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Sentences with inline entity labels, {@code "Call [PER Anna Kowalczyk] at [ORG Acme Ltd]."},
 * one a line, {@code #} starting a comment line; {@link #read} gives each sentence's plain text and
 * labelled spans. Malformed lines (unclosed or nested brackets, unknown labels, empty entities)
 * are refused with their line number.
 */
record LabelledSentences(List<Sentence> sentences) {
    static final Set<String> LABELS = Set.of("PER", "ORG", "LOC");

    /** One labelled entity: label and span {@code [start, end)} in the sentence's plain text. */
    record Entity(String label, int start, int end) {
    }

    /** A sentence's plain text and its entities in text order. */
    record Sentence(int line, String text, List<Entity> entities) {
    }

    static LabelledSentences read(String resource) {
        try (InputStream in = LabelledSentences.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalArgumentException(resource + " is not on the test class path");
            }
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static LabelledSentences parse(String content) {
        List<Sentence> out = new ArrayList<>();
        String[] lines = content.split("\n", -1);
        for (int n = 0; n < lines.length; n++) {
            String line = lines[n].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            out.add(parseLine(n + 1, line));
        }
        return new LabelledSentences(List.copyOf(out));
    }

    private static Sentence parseLine(int lineNo, String line) {
        StringBuilder text = new StringBuilder();
        List<Entity> entities = new ArrayList<>();
        int i = 0;
        while (i < line.length()) {
            char c = line.charAt(i);
            if (c == ']') {
                throw new IllegalArgumentException("line " + lineNo + ": ']' without '['");
            }
            if (c != '[') {
                text.append(c);
                i++;
                continue;
            }
            int space = line.indexOf(' ', i);
            int close = line.indexOf(']', i);
            if (space < 0 || close < 0 || close < space) {
                throw new IllegalArgumentException("line " + lineNo + ": unclosed or empty entity at column " + (i + 1));
            }
            String label = line.substring(i + 1, space);
            String value = line.substring(space + 1, close);
            if (!LABELS.contains(label)) {
                throw new IllegalArgumentException("line " + lineNo + ": unknown label '" + label + "'");
            }
            if (value.isBlank() || value.indexOf('[') >= 0 || !value.equals(value.strip())) {
                throw new IllegalArgumentException("line " + lineNo + ": bad entity text '" + value + "'");
            }
            entities.add(new Entity(label, text.length(), text.length() + value.length()));
            text.append(value);
            i = close + 1;
        }
        return new Sentence(lineNo, text.toString(), List.copyOf(entities));
    }
}
