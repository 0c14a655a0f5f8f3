package dev.offload.gateway.sim;

/**
 * One generation request as the {@link BatchScheduler} sees it.
 *
 * <p>The final fields are set by the HTTP layer before {@link BatchScheduler#submit submit}; the
 * plain mutable fields belong to the scheduler thread alone; {@link #cancel()} may be called from
 * any thread.
 */
final class Sequence {
    /** Callbacks from the scheduler thread; implementations must not block. */
    interface Listener {
        /** Token {@code index} (from 0) was generated; {@code last} means the sequence finished normally. */
        void onToken(int index, boolean last);

        /** The {@link Fault#RESET_MID_STREAM} point was reached; no more tokens will come. */
        void onReset();

        /** The sequence left the scheduler (finished, reset or cancelled); always the final call, once. */
        void onReleased(long atNanos);
    }

    final long id;
    final int promptTokens;
    /** Tokens to generate: min(max_tokens, model output length). */
    final int targetTokens;
    /** Whether stopping at {@link #targetTokens} is due to max_tokens ("length") rather than the model ("stop"). */
    final boolean lengthLimited;
    /** Minimum gap between two tokens beyond the decode step ({@link Fault#SLOW}); 0 when not slow. */
    final long slowNanos;
    /** Tokens after which the connection is reset ({@link Fault#RESET_MID_STREAM}); -1 for none. */
    final int resetAfter;
    /** Extra time from joining the batch to the first token (a slow prefill that does not stall the batch); 0 for none. */
    final long firstTokenDelayNanos;
    final Listener listener;

    private volatile boolean cancelled;

    // scheduler thread only
    int generated;
    /** A decode step starting before this leaves the sequence out (set for SLOW ones and a first-token delay). */
    long readyAtNanos = Long.MIN_VALUE;

    Sequence(long id, int promptTokens, int targetTokens, boolean lengthLimited, long slowNanos, int resetAfter,
             Listener listener) {
        this(id, promptTokens, targetTokens, lengthLimited, slowNanos, resetAfter, 0, listener);
    }

    Sequence(long id, int promptTokens, int targetTokens, boolean lengthLimited, long slowNanos, int resetAfter,
             long firstTokenDelayNanos, Listener listener) {
        this.id = id;
        this.firstTokenDelayNanos = Math.max(0, firstTokenDelayNanos);
        this.promptTokens = promptTokens;
        this.targetTokens = targetTokens;
        this.lengthLimited = lengthLimited;
        this.slowNanos = slowNanos;
        this.resetAfter = resetAfter < 0 ? -1 : Math.min(resetAfter, targetTokens);
        this.listener = listener;
    }

    /** The client went away: the scheduler drops the sequence at its next step boundary. */
    void cancel() {
        cancelled = true;
    }

    boolean cancelled() {
        return cancelled;
    }

    /** KV-cache tokens this sequence may need at most. */
    int kvReservation() {
        return promptTokens + targetTokens;
    }
}
