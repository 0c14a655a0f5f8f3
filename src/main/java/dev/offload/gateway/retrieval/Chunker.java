package dev.offload.gateway.retrieval;

import java.text.BreakIterator;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Sentence-aware chunker: packs whole sentences into chunks of at most {@code maxChars}, and
 * starts each chunk with the last sentences of the previous one, up to {@code overlapChars}, so
 * a fact that straddles a boundary is retrievable from either side. A sentence longer than a
 * chunk is cut at word boundaries. Stateless and thread-safe.
 */
public final class Chunker {
    private final int maxChars;
    private final int overlapChars;

    public Chunker(int maxChars, int overlapChars) {
        if (maxChars < 50) {
            throw new IllegalArgumentException("maxChars must be >= 50: " + maxChars);
        }
        if (overlapChars < 0 || overlapChars >= maxChars / 2) {
            throw new IllegalArgumentException("overlapChars must be in [0, maxChars/2): " + overlapChars);
        }
        this.maxChars = maxChars;
        this.overlapChars = overlapChars;
    }

    public List<String> split(String text) {
        List<String> sentences = sentences(text);
        List<String> chunks = new ArrayList<>();
        List<String> current = new ArrayList<>();
        int currentLen = 0;
        boolean currentHasNew = false;
        for (String s : sentences) {
            int add = s.length() + (current.isEmpty() ? 0 : 1);
            if (currentLen + add > maxChars && currentHasNew) {
                chunks.add(String.join(" ", current));
                // Carry trailing sentences as overlap, never a whole chunk's worth.
                List<String> carry = new ArrayList<>();
                int carryLen = 0;
                for (int i = current.size() - 1; i >= 0; i--) {
                    String c = current.get(i);
                    if (carryLen + c.length() + 1 > overlapChars || carryLen + c.length() + 1 + s.length() > maxChars) {
                        break;
                    }
                    carry.add(0, c);
                    carryLen += c.length() + 1;
                }
                current = carry;
                currentLen = Math.max(0, carryLen - 1);
                currentHasNew = false;
                add = s.length() + (current.isEmpty() ? 0 : 1);
            }
            current.add(s);
            currentLen += add;
            currentHasNew = true;
        }
        if (currentHasNew) {
            chunks.add(String.join(" ", current));
        }
        return chunks;
    }

    private List<String> sentences(String text) {
        String normalised = text.replaceAll("\\s+", " ").strip();
        List<String> out = new ArrayList<>();
        if (normalised.isEmpty()) {
            return out;
        }
        BreakIterator it = BreakIterator.getSentenceInstance(Locale.ROOT);
        it.setText(normalised);
        int start = it.first();
        for (int end = it.next(); end != BreakIterator.DONE; start = end, end = it.next()) {
            String s = normalised.substring(start, end).strip();
            if (s.isEmpty()) {
                continue;
            }
            if (s.length() <= maxChars) {
                out.add(s);
            } else {
                splitLongSentence(s, out);
            }
        }
        return out;
    }

    private void splitLongSentence(String s, List<String> out) {
        int pos = 0;
        while (pos < s.length()) {
            int end = Math.min(s.length(), pos + maxChars);
            if (end < s.length()) {
                int space = s.lastIndexOf(' ', end);
                if (space > pos + maxChars / 2) {
                    end = space;
                }
            }
            out.add(s.substring(pos, end).strip());
            pos = end;
            while (pos < s.length() && s.charAt(pos) == ' ') {
                pos++;
            }
        }
    }
}
