package dev.offload.gateway.retrieval;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * What a document id may be, and how chunk ids are derived from it.
 *
 * <p>An id is whatever the user already has: a BEIR id such as {@code <dbpedia:Oceanic_Airlines>},
 * a file path such as {@code docs/guide (v2)/l'été.md}, a URL with {@code ?} and {@code #}. The
 * only rules are the ones storage and URLs need: valid Unicode (it is stored as UTF-8), at most
 * {@code maxBytes} bytes of UTF-8, not blank, no control characters (Unicode category Cc:
 * U+0000–U+001F, U+007F–U+009F), and not exactly {@code .} or {@code ..} (dot-segments, which
 * HTTP servers remove from a path even percent-encoded). The id is stored and returned exactly as given — never trimmed,
 * normalised or case-folded — so two ids that differ in one byte are two documents.
 *
 * <p>Why this is unambiguous everywhere an id is stored:
 * <ul>
 *   <li>the Lucene key of a document is {@code tenant + U+0000 + id}; tenants have no U+0000 and
 *       ids have no control character, so the separator occurs exactly once;</li>
 *   <li>the write-ahead log writes each string with its byte length in front, never a separator;</li>
 *   <li>a chunk id is {@code id + '#' + ordinal} ({@link #chunkId}); the ordinal is decimal digits,
 *       so the <em>last</em> {@code '#'} always separates the two, even for an id that itself holds
 *       {@code '#'} (a URL fragment): {@code https://example.org/a#d} chunk 0 is
 *       {@code https://example.org/a#d#0} and no other (id, ordinal) pair gives that string.</li>
 * </ul>
 *
 * <p>Stateless; any thread.
 */
public final class DocumentIds {
    /** Between a document id and a chunk's ordinal in a chunk id; the last one in the string. */
    public static final char CHUNK_SEPARATOR = '#';

    private DocumentIds() {
    }

    /**
     * Why {@code id} is not acceptable, or empty if it is.
     *
     * @param maxBytes the most UTF-8 bytes an id may take
     */
    public static Optional<String> problem(String id, int maxBytes) {
        if (id == null || id.isEmpty()) {
            return Optional.of("must not be empty");
        }
        if (id.isBlank()) {
            return Optional.of("must not be only white space");
        }
        if (id.equals(".") || id.equals("..")) {
            // Dot-segments: HTTP servers remove them from a path even when sent as %2E (RFC 3986
            // §5.2.4 and §6.2.2.2), so GET /v1/documents/{id} could never reach such a document.
            return Optional.of("must not be '.' or '..' (a URL path cannot address them)");
        }
        for (int i = 0; i < id.length(); ) {
            int cp = id.codePointAt(i);
            if (Character.getType(cp) == Character.CONTROL) {
                return Optional.of(String.format("must not contain control characters (U+%04X at index %d)", cp, i));
            }
            if (Character.getType(cp) == Character.SURROGATE) {
                return Optional.of("is not valid Unicode (an unpaired surrogate at index " + i + ")");
            }
            i += Character.charCount(cp);
        }
        int bytes = id.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > maxBytes) {
            return Optional.of("at most " + maxBytes + " bytes of UTF-8, got " + bytes);
        }
        return Optional.empty();
    }

    /** The id of chunk {@code ordinal} of document {@code documentId}. */
    public static String chunkId(String documentId, int ordinal) {
        if (ordinal < 0) {
            throw new IllegalArgumentException("ordinal must be >= 0, got " + ordinal);
        }
        return documentId + CHUNK_SEPARATOR + ordinal;
    }

    /** The document id of a chunk id made by {@link #chunkId}: everything before the last {@code '#'}. */
    public static String documentIdOf(String chunkId) {
        int at = chunkId.lastIndexOf(CHUNK_SEPARATOR);
        if (at < 0) {
            throw new IllegalArgumentException("not a chunk id: no '" + CHUNK_SEPARATOR + "'");
        }
        return chunkId.substring(0, at);
    }

    /** The ordinal of a chunk id made by {@link #chunkId}: the digits after the last {@code '#'}. */
    public static int ordinalOf(String chunkId) {
        int at = chunkId.lastIndexOf(CHUNK_SEPARATOR);
        if (at < 0) {
            throw new IllegalArgumentException("not a chunk id: no '" + CHUNK_SEPARATOR + "'");
        }
        return Integer.parseInt(chunkId.substring(at + 1));
    }
}
