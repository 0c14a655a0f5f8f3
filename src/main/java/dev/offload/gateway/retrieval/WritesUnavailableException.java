package dev.offload.gateway.retrieval;

/**
 * A write cannot be accepted now (the replicated log is unreachable or has no quorum); retry
 * after {@link #retryAfterSeconds()}. Reads keep answering from the local index.
 */
public class WritesUnavailableException extends RuntimeException {
    private final int retryAfterSeconds;

    public WritesUnavailableException(String message, int retryAfterSeconds) {
        super(message);
        this.retryAfterSeconds = Math.max(1, retryAfterSeconds);
    }

    public int retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
