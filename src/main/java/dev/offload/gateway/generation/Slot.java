package dev.offload.gateway.generation;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One admitted request's place in a replica's batch: reserved by {@link Tier} when the request
 * starts, closed exactly once with its outcome (the shape of concurrency-limits'
 * {@code Limiter.acquire → Listener}). The adaptive limit learns from the first token
 * ({@link #firstToken}) and from a failure before it ({@link #dropped}); the tier's service time
 * from a completed call ({@link #completed}); a slot given back for a reason that says nothing
 * about the replica (the caller left, the deadline ran out in the queue, a mid-stream failure
 * already counted elsewhere) is {@link #ignored}. Closing frees the slot and starts whatever
 * waits for one.
 *
 * <p>Thread-safe; a second close is a no-op.
 */
final class Slot {
    private final Tier tier;
    private final Replica replica;
    private final int weight;
    private final AtomicBoolean closed = new AtomicBoolean();

    Slot(Tier tier, Replica replica) {
        this(tier, replica, 1);
    }

    /** A reservation of {@code weight} places of the replica's batch (see {@link Tier.Ticket#weight()}). */
    Slot(Tier tier, Replica replica, int weight) {
        this.tier = tier;
        this.replica = replica;
        this.weight = weight;
    }

    Replica replica() {
        return replica;
    }

    /** The call's first token arrived {@code ttftNanos} after {@code startNanos}: a sample for the limit (does not close). */
    void firstToken(long startNanos, long ttftNanos) {
        if (!closed.get()) {
            replica.sample(startNanos, ttftNanos, false);
        }
    }

    /** The call ended normally after holding the slot for {@code serviceNanos}. */
    void completed(long serviceNanos) {
        if (closed.compareAndSet(false, true)) {
            tier.release(replica, weight, serviceNanos);
        }
    }

    /** The call failed or timed out before its first token, after {@code elapsedNanos}: the limit backs off. */
    void dropped(long startNanos, long elapsedNanos) {
        if (closed.compareAndSet(false, true)) {
            replica.sample(startNanos, elapsedNanos, true);
            tier.release(replica, weight, 0);
        }
    }

    /** Given back without a word to the limit. */
    void ignored() {
        if (closed.compareAndSet(false, true)) {
            tier.release(replica, weight, 0);
        }
    }

    /** Whether the slot has been closed. */
    boolean isClosed() {
        return closed.get();
    }
}
