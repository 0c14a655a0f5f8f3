package dev.offload.gateway.pipeline;

import dev.offload.gateway.generation.ChatTurn;
import dev.offload.gateway.offload.policy.QueryComplexity;

import java.util.ArrayList;
import java.util.List;

/**
 * Packs the system prompt, retrieved chunks, history and the question into one conversation
 * that fits a token budget. When it does not fit, the lowest-scored chunks go first (down to
 * {@code minChunks}), then the oldest turns, then the remaining chunks. Retrieved text is framed
 * as quoted data inside {@code <source>} elements whose closing tag cannot be forged from inside.
 *
 * <p>A plain object, safe from any thread.
 */
public final class PromptBuilder {
    private final String systemPrompt;
    private final String contextHeader;
    private final int minChunks;

    public PromptBuilder(String systemPrompt, String contextHeader, int minChunks) {
        this.systemPrompt = systemPrompt;
        this.contextHeader = contextHeader;
        this.minChunks = Math.max(0, minChunks);
    }

    /** A retrieved chunk as the prompt quotes it; {@code chunks} arrive best first. */
    public record Chunk(String chunkId, String title, String text, double score) {
    }

    /**
     * @param messages    system prompt + context, the kept history, the question last
     * @param chunkIds    the chunks that made it into the prompt, best first
     * @param droppedChunks chunks left out for the budget
     * @param droppedTurns  oldest turns left out for the budget
     */
    public record Prompt(List<ChatTurn> messages, List<String> chunkIds, int droppedChunks, int droppedTurns,
                         int tokens) {
    }

    /**
     * @param budgetTokens tokens the prompt may use (the tier's window minus the answer's)
     */
    public Prompt build(String question, List<ChatTurn> history, List<Chunk> chunks, int budgetTokens) {
        List<Chunk> kept = new ArrayList<>(chunks);
        kept.sort((a, b) -> Double.compare(b.score(), a.score()));
        List<ChatTurn> turns = new ArrayList<>(history);
        int fixed = QueryComplexity.tokens(systemPrompt) + QueryComplexity.tokens(question) + 8;
        int dropChunks = 0;
        int dropTurns = 0;
        while (fixed + contextTokens(kept) + historyTokens(turns) > budgetTokens) {
            if (kept.size() > minChunks) {
                kept.remove(kept.size() - 1);
                dropChunks++;
            } else if (!turns.isEmpty()) {
                turns.remove(0);
                dropTurns++;
            } else if (!kept.isEmpty()) {
                kept.remove(kept.size() - 1);
                dropChunks++;
            } else {
                break; // the question alone is over budget; the backend truncates or refuses
            }
        }
        List<ChatTurn> messages = new ArrayList<>(turns.size() + 2);
        messages.add(new ChatTurn("system", kept.isEmpty() ? systemPrompt : systemPrompt + "\n\n" + context(kept)));
        messages.addAll(turns);
        messages.add(new ChatTurn("user", question));
        return new Prompt(messages, kept.stream().map(Chunk::chunkId).toList(), dropChunks, dropTurns,
                fixed + contextTokens(kept) + historyTokens(turns));
    }

    private String context(List<Chunk> kept) {
        StringBuilder b = new StringBuilder(contextHeader);
        for (int i = 0; i < kept.size(); i++) {
            Chunk c = kept.get(i);
            b.append("\n<source id=\"").append(i + 1).append("\" title=\"").append(attr(c.title())).append("\">\n")
                    .append(quote(c.text())).append("\n</source>");
        }
        return b.toString();
    }

    private int contextTokens(List<Chunk> kept) {
        int n = QueryComplexity.tokens(contextHeader);
        for (Chunk c : kept) {
            n += QueryComplexity.tokens(c.text()) + QueryComplexity.tokens(c.title()) + 10;
        }
        return kept.isEmpty() ? 0 : n;
    }

    private static int historyTokens(List<ChatTurn> turns) {
        int n = 0;
        for (ChatTurn t : turns) {
            n += QueryComplexity.tokens(t.content()) + 4;
        }
        return n;
    }

    /** Retrieved text cannot close its element or open a new one. */
    static String quote(String text) {
        return text == null ? "" : text.replace("</source", "<\\/source").replace("<source", "<\\source");
    }

    private static String attr(String s) {
        return s == null ? "" : s.replace("\"", "'").replace("\n", " ").replace("<", "(").replace(">", ")");
    }
}
