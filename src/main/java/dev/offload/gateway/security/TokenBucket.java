package dev.offload.gateway.security;

/**
 * Token bucket (Turner 1986): holds at most {@code burst} tokens, refilled continuously at
 * {@code ratePerSecond}; a request takes one token or is refused with the time until one will
 * be there. Time is passed in ({@link System#nanoTime()} in production) so tests need no clock.
 *
 * <p>Thread-safe (synchronized: the critical section is a few arithmetic operations).
 */
public final class TokenBucket {
    private final double capacity;
    private final double tokensPerNano;
    private double tokens;
    private long last;

    public TokenBucket(double ratePerSecond, int burst, long nowNanos) {
        if (!(ratePerSecond > 0) || Double.isInfinite(ratePerSecond)) {
            throw new IllegalArgumentException("ratePerSecond must be positive and finite: " + ratePerSecond);
        }
        if (burst < 1) {
            throw new IllegalArgumentException("burst must be at least 1: " + burst);
        }
        this.capacity = burst;
        this.tokensPerNano = ratePerSecond / 1e9;
        this.tokens = burst;
        this.last = nowNanos;
    }

    /** Takes a token: 0 if granted, otherwise the nanoseconds until a token will be available. */
    public synchronized long tryTake(long nowNanos) {
        long elapsed = nowNanos - last;
        if (elapsed > 0) {
            tokens = Math.min(capacity, tokens + elapsed * tokensPerNano);
            last = nowNanos;
        }
        if (tokens >= 1) {
            tokens -= 1;
            return 0;
        }
        return Math.max(1, (long) Math.ceil((1 - tokens) / tokensPerNano));
    }
}
