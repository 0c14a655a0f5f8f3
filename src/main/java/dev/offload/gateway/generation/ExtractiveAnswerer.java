package dev.offload.gateway.generation;

import java.text.BreakIterator;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The last fallback: an answer assembled only from retrieved sources, never invented. For each
 * of the best sources it quotes the sentences that share the most words with the question, and
 * it says plainly that no model wrote it. Stateless and thread-safe.
 */
public final class ExtractiveAnswerer {
    public static final String PREFIX = "[extractive answer: no generation backend was available; "
            + "quoted from the retrieved sources]";
    private static final Set<String> STOP = Set.of("the", "a", "an", "of", "to", "in", "is", "are", "and", "or",
            "for", "on", "what", "how", "does", "do", "with", "by", "it", "be", "as", "at", "that", "this", "which",
            "why", "when", "who", "i", "my", "can", "from");

    private final int maxSources;
    private final int sentencesPerSource;

    public ExtractiveAnswerer(int maxSources, int sentencesPerSource) {
        this.maxSources = maxSources;
        this.sentencesPerSource = sentencesPerSource;
    }

    /** The answer as lines: the prefix, then one numbered line per source. */
    public List<String> answer(String question, List<Source> sources) {
        List<String> lines = new ArrayList<>();
        lines.add(PREFIX);
        if (sources == null || sources.isEmpty()) {
            lines.add("No indexed source matches the question.");
            return lines;
        }
        Set<String> q = words(question);
        int n = 0;
        for (Source s : sources) {
            if (n >= maxSources) {
                break;
            }
            List<String> best = bestSentences(s.text(), q);
            if (best.isEmpty()) {
                continue;
            }
            n++;
            String title = s.title() == null || s.title().isBlank() ? s.documentId() : s.title();
            lines.add(n + ". " + title + ": \"" + String.join(" ", best) + "\"");
        }
        if (n == 0) {
            lines.add("No indexed source matches the question.");
        }
        return lines;
    }

    private List<String> bestSentences(String text, Set<String> q) {
        BreakIterator it = BreakIterator.getSentenceInstance(Locale.ROOT);
        it.setText(text);
        List<String> sentences = new ArrayList<>();
        for (int start = it.first(), end = it.next(); end != BreakIterator.DONE; start = end, end = it.next()) {
            String s = text.substring(start, end).strip();
            if (!s.isEmpty()) {
                sentences.add(s);
            }
        }
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < sentences.size(); i++) {
            order.add(i);
        }
        // Most overlapping first; earlier sentences win ties (they usually carry the topic).
        order.sort((a, b) -> {
            int c = Integer.compare(overlap(sentences.get(b), q), overlap(sentences.get(a), q));
            return c != 0 ? c : Integer.compare(a, b);
        });
        List<Integer> chosen = new ArrayList<>(order.subList(0, Math.min(sentencesPerSource, order.size())));
        chosen.sort(Integer::compare); // quote in document order
        List<String> out = new ArrayList<>();
        for (int i : chosen) {
            out.add(sentences.get(i));
        }
        return out;
    }

    private static int overlap(String sentence, Set<String> q) {
        int n = 0;
        for (String w : words(sentence)) {
            if (q.contains(w)) {
                n++;
            }
        }
        return n;
    }

    private static Set<String> words(String text) {
        Set<String> out = new HashSet<>();
        for (String w : text.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}]+")) {
            if (w.length() > 1 && !STOP.contains(w)) {
                out.add(w);
            }
        }
        return out;
    }
}
