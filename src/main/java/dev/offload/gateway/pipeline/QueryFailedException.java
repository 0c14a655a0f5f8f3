package dev.offload.gateway.pipeline;

import dev.offload.gateway.offload.policy.OffloadHint;

/**
 * A query that ended without an answer: refused before anything was generated (status 429 or
 * 503 with a retry time) or broken after tokens were sent ({@code afterTokens}). Always carries
 * the hint the device should follow next.
 */
public class QueryFailedException extends RuntimeException {
    private final String reason;
    private final int status;
    private final Long retryAfterMs;
    private final OffloadHint hint;
    private final boolean afterTokens;

    public QueryFailedException(String reason, int status, Long retryAfterMs, OffloadHint hint, boolean afterTokens,
                                String message, Throwable cause) {
        super(message, cause, false, false);
        this.reason = reason;
        this.status = status;
        this.retryAfterMs = retryAfterMs;
        this.hint = hint;
        this.afterTokens = afterTokens;
    }

    public String reason() {
        return reason;
    }

    public int status() {
        return status;
    }

    public Long retryAfterMs() {
        return retryAfterMs;
    }

    public OffloadHint hint() {
        return hint;
    }

    public boolean afterTokens() {
        return afterTokens;
    }
}
