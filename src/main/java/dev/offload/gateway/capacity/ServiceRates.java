package dev.offload.gateway.capacity;

/**
 * Measured service rates of one tier, from cumulative counts sampled at intervals: completed
 * requests and prompt/output tokens. Rates are exponentially weighted moving averages in time
 * with a configurable half-life (weight of a sample of length Δt: 1 − 2^(−Δt / halfLife)), so
 * they decay to zero when traffic stops. Tokens per request are averaged per completion instead
 * (each completion weighs 0.1, as the tier's service-time average does), so they keep their last
 * value through quiet periods: they describe the traffic's shape, not its volume.
 *
 * <p>Not thread-safe: one sampler thread calls {@link #observe}; readers get an immutable
 * {@link Snapshot} published through a volatile field.
 */
public final class ServiceRates {
    private static final double PER_COMPLETION_WEIGHT = 0.1;

    /** Rates per second and tokens per request; NaN until measured. */
    public record Snapshot(double completionsPerSecond, double promptTokensPerSecond, double outputTokensPerSecond,
                           double promptTokensPerRequest, double outputTokensPerRequest) {
        static final Snapshot EMPTY = new Snapshot(0, 0, 0, Double.NaN, Double.NaN);
    }

    private final double halfLifeNanos;
    private boolean started;
    private long lastNanos;
    private double lastCompleted;
    private double lastPrompt;
    private double lastOutput;
    private volatile Snapshot snapshot = Snapshot.EMPTY;

    public ServiceRates(long halfLifeNanos) {
        if (halfLifeNanos <= 0) {
            throw new IllegalArgumentException("halfLifeNanos must be positive, got " + halfLifeNanos);
        }
        this.halfLifeNanos = halfLifeNanos;
    }

    /**
     * One sample of the cumulative counts at {@code nowNanos}. A count that went down (the
     * counter was replaced) restarts the baseline without producing a rate.
     */
    public void observe(long nowNanos, double completed, double promptTokens, double outputTokens) {
        if (!started || completed < lastCompleted || promptTokens < lastPrompt || outputTokens < lastOutput) {
            started = true;
            remember(nowNanos, completed, promptTokens, outputTokens);
            return;
        }
        long dt = nowNanos - lastNanos;
        if (dt <= 0) {
            return;
        }
        double seconds = dt / 1e9;
        double dCompleted = completed - lastCompleted;
        double dPrompt = promptTokens - lastPrompt;
        double dOutput = outputTokens - lastOutput;
        double alpha = 1 - Math.pow(2, -dt / halfLifeNanos);
        Snapshot s = snapshot;
        double promptPerRequest = s.promptTokensPerRequest();
        double outputPerRequest = s.outputTokensPerRequest();
        if (dCompleted > 0) {
            double w = 1 - Math.pow(1 - PER_COMPLETION_WEIGHT, dCompleted);
            promptPerRequest = Double.isNaN(promptPerRequest) ? dPrompt / dCompleted
                    : promptPerRequest + w * (dPrompt / dCompleted - promptPerRequest);
            outputPerRequest = Double.isNaN(outputPerRequest) ? dOutput / dCompleted
                    : outputPerRequest + w * (dOutput / dCompleted - outputPerRequest);
        }
        snapshot = new Snapshot(
                s.completionsPerSecond() + alpha * (dCompleted / seconds - s.completionsPerSecond()),
                s.promptTokensPerSecond() + alpha * (dPrompt / seconds - s.promptTokensPerSecond()),
                s.outputTokensPerSecond() + alpha * (dOutput / seconds - s.outputTokensPerSecond()),
                promptPerRequest, outputPerRequest);
        remember(nowNanos, completed, promptTokens, outputTokens);
    }

    private void remember(long nowNanos, double completed, double prompt, double output) {
        lastNanos = nowNanos;
        lastCompleted = completed;
        lastPrompt = prompt;
        lastOutput = output;
    }

    public Snapshot snapshot() {
        return snapshot;
    }
}
