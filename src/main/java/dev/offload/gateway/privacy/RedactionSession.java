package dev.offload.gateway.privacy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;

/**
 * Redaction of everything that goes into one prompt (query, history, retrieved context) and
 * restoration of the answer that comes back. Within a session the same text always gets the
 * same placeholder ({@code <EMAIL_1>}, {@code <PHONE_2>}, ...), numbered per kind in order of
 * first appearance, so a value that occurs in the query and in a document is one name to the
 * model, and {@link #restore} gives back exactly what the device wrote.
 *
 * <p>Text that already looks like a placeholder (a device may type {@code <EMAIL_1>} itself) is
 * given a placeholder of its own, so restoration never turns it into someone's address; such
 * literals are not counted as redactions.
 *
 * <p>Placeholders are matched exactly: a model that rewrites {@code <EMAIL_1>} as
 * {@code EMAIL_1} or {@code <email_1>} gets its text back unchanged, never a wrong value.
 *
 * <p>One session per request. Its methods are synchronized, so redacting on a worker thread and
 * restoring on the thread that delivers the answer is safe; a {@link StreamingRestorer} must be
 * fed by one thread at a time.
 */
public final class RedactionSession {
    private final PiiRedactor redactor;
    private final Map<String, String> placeholderByValue = new HashMap<>();
    private final Map<String, String> valueByPlaceholder = new HashMap<>();
    private final int[] issued = new int[PiiType.values().length];
    private final EnumMap<PiiType, Integer> counts = new EnumMap<>(PiiType.class);
    private int longestPlaceholder;

    RedactionSession(PiiRedactor redactor) {
        this.redactor = redactor;
    }

    /** {@code text} with every finding replaced by its placeholder; null stays null. */
    public synchronized String redact(String text) {
        if (text == null || text.isEmpty()) {
            return text;
        }
        List<PiiRedactor.Span> spans = redactor.scan(text);
        if (spans.isEmpty()) {
            return text;
        }
        StringBuilder out = new StringBuilder(text.length() + 16 * spans.size());
        int at = 0;
        for (PiiRedactor.Span s : spans) {
            if (s.kind() == PiiRedactor.Kind.REJECTED) {
                continue;
            }
            out.append(text, at, s.start());
            String value = text.substring(s.start(), s.end());
            out.append(placeholderFor(s.type(), value));
            if (s.kind() == PiiRedactor.Kind.PII) {
                counts.merge(s.type(), 1, Integer::sum);
            }
            at = s.end();
        }
        return out.append(text, at, text.length()).toString();
    }

    /** {@link #redact} of each text, in order. */
    public synchronized List<String> redactAll(List<String> texts) {
        List<String> out = new ArrayList<>(texts.size());
        for (String t : texts) {
            out.add(redact(t));
        }
        return out;
    }

    private String placeholderFor(PiiType type, String value) {
        String p = placeholderByValue.get(value);
        if (p == null) {
            p = type.placeholder(++issued[type.ordinal()]);
            placeholderByValue.put(value, p);
            valueByPlaceholder.put(p, value);
            longestPlaceholder = Math.max(longestPlaceholder, p.length());
        }
        return p;
    }

    /**
     * {@code text} with every placeholder this session issued replaced by its original value, in
     * one pass (a restored value is never read again). Unknown placeholders are left as they are.
     */
    public synchronized String restore(String text) {
        if (text == null || valueByPlaceholder.isEmpty() || text.indexOf('<') < 0) {
            return text;
        }
        Matcher m = PiiRedactor.PLACEHOLDER.matcher(text);
        StringBuilder out = null;
        int at = 0;
        while (m.find()) {
            String value = valueByPlaceholder.get(m.group());
            if (value == null) {
                continue;
            }
            if (out == null) {
                out = new StringBuilder(text.length() + 32);
            }
            out.append(text, at, m.start()).append(value);
            at = m.end();
        }
        return out == null ? text : out.append(text, at, text.length()).toString();
    }

    /** A restorer for an answer that arrives in chunks; see {@link StreamingRestorer}. */
    public StreamingRestorer streamingRestorer() {
        return new StreamingRestorer(this);
    }

    /**
     * True when {@code text[from..]} is a proper beginning of a placeholder this session issued,
     * i.e. the next chunk may complete it.
     */
    synchronized boolean couldCompletePlaceholder(CharSequence text, int from) {
        int n = text.length() - from;
        if (n <= 0 || n >= longestPlaceholder) {
            return false;
        }
        for (String p : valueByPlaceholder.keySet()) {
            if (p.length() > n && regionMatches(p, text, from, n)) {
                return true;
            }
        }
        return false;
    }

    private static boolean regionMatches(String p, CharSequence text, int from, int n) {
        for (int i = 0; i < n; i++) {
            if (p.charAt(i) != text.charAt(from + i)) {
                return false;
            }
        }
        return true;
    }

    /** Redactions so far by kind (occurrences, not distinct values); kinds with none are absent. */
    public synchronized Map<PiiType, Integer> counts() {
        return Collections.unmodifiableMap(new EnumMap<>(counts));
    }

    /** Total redactions so far. */
    public synchronized int total() {
        int n = 0;
        for (int c : counts.values()) {
            n += c;
        }
        return n;
    }

    /** Placeholders issued so far (literals that looked like placeholders included). */
    public synchronized int placeholders() {
        return valueByPlaceholder.size();
    }
}
