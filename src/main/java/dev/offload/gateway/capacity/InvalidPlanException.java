package dev.offload.gateway.capacity;

import java.util.List;
import java.util.stream.Collectors;

/**
 * Capacity-plan inputs that cannot be planned with; {@code violations} name every offending
 * field as a JSON path of the plan request ({@code hardware.maxConcurrency}).
 */
public class InvalidPlanException extends IllegalArgumentException {
    /** One offending field. */
    public record Violation(String field, String message) {
    }

    private final List<Violation> violations;

    public InvalidPlanException(List<Violation> violations) {
        super(violations.stream().map(v -> v.field() + ": " + v.message()).collect(Collectors.joining("; ")));
        this.violations = List.copyOf(violations);
    }

    public List<Violation> violations() {
        return violations;
    }

    static void throwIfAny(List<Violation> violations) {
        if (!violations.isEmpty()) {
            throw new InvalidPlanException(violations);
        }
    }
}
