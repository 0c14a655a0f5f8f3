package dev.offload.gateway.generation;

/**
 * Token-bucket retry budget (as in Finagle and gRPC's retry throttling): every first attempt
 * deposits {@code ratio} of a token, every retry withdraws one; a small reserve lets retries
 * happen at low traffic. When backends fail wholesale, retries stay at about {@code ratio} of
 * traffic instead of multiplying it. Thread-safe.
 */
final class RetryBudget {
    private final double ratio;
    private final double cap;
    private double tokens;

    RetryBudget(double ratio, double reserve) {
        if (ratio < 0 || reserve < 0) {
            throw new IllegalArgumentException("ratio and reserve must be >= 0");
        }
        this.ratio = ratio;
        this.cap = Math.max(reserve, 1);
        this.tokens = reserve;
    }

    synchronized void onFirstAttempt() {
        tokens = Math.min(cap + ratio * 100, tokens + ratio);
    }

    synchronized boolean tryRetry() {
        if (tokens >= 1) {
            tokens -= 1;
            return true;
        }
        return false;
    }
}
