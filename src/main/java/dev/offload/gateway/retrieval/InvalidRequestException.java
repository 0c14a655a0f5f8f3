package dev.offload.gateway.retrieval;

import java.util.List;

/**
 * A request that cannot be served as asked; nothing was changed. {@code status} is the HTTP
 * status that fits (400, or 413 for a payload over a size limit); {@code violations} name the
 * offending fields as JSON paths ({@code documents[2].text}).
 */
public class InvalidRequestException extends RuntimeException {
    public record Violation(String field, String message) {
    }

    private final int status;
    private final List<Violation> violations;

    public InvalidRequestException(int status, String message, List<Violation> violations) {
        super(message);
        this.status = status;
        this.violations = List.copyOf(violations);
    }

    public static InvalidRequestException of(String field, String message) {
        return new InvalidRequestException(400, field + ": " + message, List.of(new Violation(field, message)));
    }

    public int status() {
        return status;
    }

    public List<Violation> violations() {
        return violations;
    }
}
