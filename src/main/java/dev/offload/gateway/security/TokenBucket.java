package dev.offload.gateway.security;

/**
 * Token bucket (Turner 1986): holds at most {@code burst} tokens, refilled continuously at
 * {@code ratePerSecond}; a request takes one token or is refused with the time until one will
 * be there. Time is passed in ({@link System#nanoTime()} in production) so tests need no clock.
 *
 * <p>Two additions serve cluster mode, where every gateway replica holds a copy of one device's
 * bucket: {@link #debit} takes the tokens other replicas granted (their reported usage) and may
 * leave the bucket in debt (below zero), so a burst granted on several replicas at once is paid
 * back before anything more is granted; {@link #scale} shrinks rate and capacity to a replica's
 * share while those reports cannot arrive. Without either call the bucket behaves as it always did.
 *
 * <p>Thread-safe (synchronized: the critical section is a few arithmetic operations).
 */
public final class TokenBucket {
    private final double burst;
    private final double fullTokensPerNano;
    private double capacity;
    private double tokensPerNano;
    private double tokens;
    private long last;

    public TokenBucket(double ratePerSecond, int burst, long nowNanos) {
        if (!(ratePerSecond > 0) || Double.isInfinite(ratePerSecond)) {
            throw new IllegalArgumentException("ratePerSecond must be positive and finite: " + ratePerSecond);
        }
        if (burst < 1) {
            throw new IllegalArgumentException("burst must be at least 1: " + burst);
        }
        this.burst = burst;
        this.capacity = burst;
        this.fullTokensPerNano = ratePerSecond / 1e9;
        this.tokensPerNano = fullTokensPerNano;
        this.tokens = burst;
        this.last = nowNanos;
    }

    private void refill(long nowNanos) {
        long elapsed = nowNanos - last;
        if (elapsed > 0) {
            // A bucket in debt refills towards the capacity like any other; the cap only bounds savings.
            tokens = Math.min(capacity, tokens + elapsed * tokensPerNano);
            last = nowNanos;
        }
    }

    /** Takes a token: 0 if granted, otherwise the nanoseconds until a token will be available. */
    public synchronized long tryTake(long nowNanos) {
        refill(nowNanos);
        if (tokens >= 1) {
            tokens -= 1;
            return 0;
        }
        return Math.max(1, (long) Math.ceil((1 - tokens) / tokensPerNano));
    }

    /**
     * Takes {@code n} tokens granted elsewhere (another replica's copy of this bucket). The
     * balance may go below zero: that debt is what those grants overdrew, and it is refilled
     * before this copy grants again.
     */
    public synchronized void debit(long n, long nowNanos) {
        if (n < 0) {
            throw new IllegalArgumentException("n must be >= 0: " + n);
        }
        refill(nowNanos);
        tokens -= n;
    }

    /**
     * Rate and capacity become {@code fraction} of the configured ones (capacity at least one
     * token); 1 restores them. Savings above the new capacity are dropped, debt is kept.
     */
    public synchronized void scale(double fraction, long nowNanos) {
        if (!(fraction > 0) || fraction > 1) {
            throw new IllegalArgumentException("fraction must be in (0, 1]: " + fraction);
        }
        refill(nowNanos);
        capacity = Math.max(1, burst * fraction);
        tokensPerNano = fullTokensPerNano * fraction;
        tokens = Math.min(tokens, capacity);
    }

    /** Tokens now (negative: in debt); for tests and diagnostics. */
    public synchronized double tokens(long nowNanos) {
        refill(nowNanos);
        return tokens;
    }
}
