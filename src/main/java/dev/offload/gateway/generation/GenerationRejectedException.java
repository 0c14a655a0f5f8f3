package dev.offload.gateway.generation;

/**
 * Generation refused before anything was sent: every allowed tier was saturated or could not
 * meet the deadline (status 429 or 503), or nothing could serve. Carries when to retry.
 */
public class GenerationRejectedException extends RuntimeException {
    private final String reason;
    private final int status;
    private final long retryAfterMillis;

    public GenerationRejectedException(String reason, int status, long retryAfterMillis, String message) {
        super(message);
        this.reason = reason;
        this.status = status;
        this.retryAfterMillis = retryAfterMillis;
    }

    /** Machine-readable reason: {@code queue_full}, {@code deadline}, {@code no_backend}, {@code backend_failed}. */
    public String reason() {
        return reason;
    }

    public int status() {
        return status;
    }

    public long retryAfterMillis() {
        return retryAfterMillis;
    }

    /** Retry-After in whole seconds, at least 1. */
    public long retryAfterSeconds() {
        return Math.max(1, (retryAfterMillis + 999) / 1000);
    }
}
