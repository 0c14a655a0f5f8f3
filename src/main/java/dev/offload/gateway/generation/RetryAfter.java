package dev.offload.gateway.generation;

import java.util.random.RandomGenerator;

/**
 * The {@code Retry-After} a refused request is given. Without jitter every device refused in
 * the same moment (a full queue, a replica going down) would come back in the same second and
 * meet the same full queue: a thundering herd, synchronised by the gateway itself. So the
 * value is the estimate rounded up to whole seconds (what the header can carry), then spread
 * uniformly over [estimate, 2 × estimate] seconds ("equal jitter" in the terms of Brooker,
 * "Exponential Backoff And Jitter", AWS Architecture Blog, 2015): never earlier than the
 * gateway expects room, and at most twice as late.
 *
 * <p>Stateless; thread-safe when the random generator is (pass {@code ThreadLocalRandom.current()}).
 */
final class RetryAfter {
    private RetryAfter() {
    }

    /**
     * @param estimateMillis when the gateway expects room again; below one second counts as one
     * @return a whole number of seconds, in milliseconds, in [estimate, 2 × estimate]
     */
    static long jitteredMillis(long estimateMillis, RandomGenerator random) {
        long seconds = Math.max(1, (estimateMillis + 999) / 1000);
        return 1000 * (seconds + random.nextLong(seconds + 1));
    }
}
