package dev.offload.gateway.retrieval;

/**
 * A read asked for a state at least as new as {@link #requested()} (its read-your-writes token,
 * the {@code sequence} a write returned) and this replica had not applied it within the wait;
 * the caller may retry here or elsewhere.
 */
public class SequenceNotReachedException extends RuntimeException {
    private final long requested;
    private final long applied;

    public SequenceNotReachedException(long requested, long applied) {
        super("this replica has applied sequence " + applied + ", not yet " + requested);
        this.requested = requested;
        this.applied = applied;
    }

    public long requested() {
        return requested;
    }

    public long applied() {
        return applied;
    }
}
