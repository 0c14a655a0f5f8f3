package dev.offload.gateway.generation;

/**
 * A stream failed after its first token reached the caller; it is not retried (the caller would
 * see duplicated text). The caller ends its response with an explicit error event.
 */
public class StreamFailedException extends RuntimeException {
    private final String reason;

    public StreamFailedException(String reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    /** {@code idle_timeout}, {@code backend_error}, {@code connection_reset}. */
    public String reason() {
        return reason;
    }
}
