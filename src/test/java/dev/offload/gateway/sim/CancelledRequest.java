package dev.offload.gateway.sim;

import java.time.Duration;

/**
 * A chat completion whose client closed the connection before the response was complete.
 * Times are {@link System#nanoTime()} of this JVM, so a test in the same JVM can compare them with
 * the moment it closed its side. Immutable.
 *
 * @param id                   the backend's request number (see {@link ReceivedRequest#id()})
 * @param tokensSent           content tokens written to the connection before the close was seen
 * @param receivedAtNanos      when the request body was complete
 * @param closeObservedAtNanos when the backend's HTTP layer saw the connection close
 * @param slotFreedAtNanos     when the scheduler dropped the sequence (from the batch or the waiting
 *                             queue), or {@code -1} if it never was in the scheduler (hang faults)
 */
public record CancelledRequest(long id, int tokensSent, long receivedAtNanos, long closeObservedAtNanos,
                               long slotFreedAtNanos) {

    /** Time from the observed close to the freed slot, or {@code null} if no slot was held. */
    public Duration closeToSlotFreed() {
        return slotFreedAtNanos < 0 ? null : Duration.ofNanos(Math.max(0, slotFreedAtNanos - closeObservedAtNanos));
    }
}
