package dev.offload.gateway.privacy;

/**
 * Restores placeholders in an answer that arrives token by token, where one placeholder may be
 * split over several chunks ({@code "<EM"}, {@code "AIL_"}, {@code "1>"}). Each chunk's text is
 * released as soon as it cannot be part of a placeholder; only a tail that starts with
 * {@code <} and is still a proper beginning of a placeholder the session issued is held back
 * until the next chunk decides it. Placeholders contain no {@code <}, so only the text after the
 * last {@code <} can ever be pending.
 *
 * <p>Not thread-safe: one per stream, fed by one thread at a time (Mutiny's {@code onItem}
 * serialises calls). Call {@link #finish()} when the stream ends, normally or not, to release
 * what is held.
 */
public final class StreamingRestorer {
    private final RedactionSession session;
    private final StringBuilder pending = new StringBuilder();

    StreamingRestorer(RedactionSession session) {
        this.session = session;
    }

    /** Takes the next chunk; returns the restored text that may be sent now (possibly empty). */
    public String next(String chunk) {
        if (chunk == null || chunk.isEmpty()) {
            return "";
        }
        pending.append(chunk);
        int cut = pending.length();
        int lt = pending.lastIndexOf("<");
        if (lt >= 0 && session.couldCompletePlaceholder(pending, lt)) {
            cut = lt;
        }
        String ready = pending.substring(0, cut);
        pending.delete(0, cut);
        return session.restore(ready);
    }

    /** Releases whatever is still held (a tail that never became a placeholder), restored. */
    public String finish() {
        String rest = pending.toString();
        pending.setLength(0);
        return session.restore(rest);
    }

    /** Characters held back at the moment. */
    public int held() {
        return pending.length();
    }
}
