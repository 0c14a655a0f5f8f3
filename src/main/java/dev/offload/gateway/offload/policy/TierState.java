package dev.offload.gateway.offload.policy;

/**
 * One generation tier as the policy sees it: its replicas, queue and measured speeds. The
 * gateway fills it from its live tier state; a device gets it from {@code Watch}.
 *
 * @param name               the tier's name ({@code gateway.tiers.<name>})
 * @param external           outside the edge zone: confidential data never goes there
 * @param replicas           configured replicas
 * @param healthyReplicas    replicas whose circuit lets calls through (0: every circuit is open)
 * @param slots              concurrent calls the healthy replicas take under their adaptive limits
 * @param inFlight           calls running now
 * @param queueLength        requests waiting for a slot
 * @param queueCapacity      the waiting room's size
 * @param waitMillis         estimated wait for a slot of a request arriving now
 * @param ttftMillis         moving average of the time to first token; 0 until measured
 * @param tokensPerSecond    moving average of per-stream decode speed; 0 until measured
 * @param serviceMillis      moving average of a call's duration; 0 until measured
 * @param maxQueueWaitMillis the tier refuses a request whose wait would exceed this
 *                           ({@code Double.POSITIVE_INFINITY}: no limit)
 */
public record TierState(String name, boolean external, int replicas, int healthyReplicas, int slots, int inFlight,
                        int queueLength, int queueCapacity, double waitMillis, double ttftMillis,
                        double tokensPerSecond, double serviceMillis, double maxQueueWaitMillis) {
    public TierState {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("tier name must not be empty");
        }
        if (replicas < 0 || healthyReplicas < 0 || healthyReplicas > replicas || slots < 0 || inFlight < 0
                || queueLength < 0 || queueCapacity < 0) {
            throw new IllegalArgumentException("tier " + name + ": counts must be >= 0 and healthy <= replicas");
        }
        if (!(waitMillis >= 0) || !(ttftMillis >= 0) || !(tokensPerSecond >= 0) || !(serviceMillis >= 0)
                || !(maxQueueWaitMillis >= 0) || Double.isInfinite(waitMillis) || Double.isInfinite(ttftMillis)
                || Double.isInfinite(tokensPerSecond) || Double.isInfinite(serviceMillis)) {
            throw new IllegalArgumentException("tier " + name + ": times and speeds must be finite and >= 0");
        }
    }

    /** A state without a queue-wait limit. */
    public TierState(String name, boolean external, int replicas, int healthyReplicas, int slots, int inFlight,
                     int queueLength, int queueCapacity, double waitMillis, double ttftMillis,
                     double tokensPerSecond, double serviceMillis) {
        this(name, external, replicas, healthyReplicas, slots, inFlight, queueLength, queueCapacity, waitMillis,
                ttftMillis, tokensPerSecond, serviceMillis, Double.POSITIVE_INFINITY);
    }

    /** True when a request arriving now would be refused for a full queue. */
    public boolean queueFull() {
        return queueLength >= queueCapacity;
    }

    /** True when a request arriving now would be refused because its wait exceeds the limit. */
    public boolean waitOverLimit() {
        return waitMillis > maxQueueWaitMillis;
    }

    /**
     * True when admission would refuse a request arriving now with this budget: it would have to
     * queue, and its wait plus a mean call exceeds the budget (admission's deadline check).
     */
    public boolean refusesBudget(long budgetMillis) {
        return waitMillis > 0 && serviceMillis > 0 && waitMillis + serviceMillis > budgetMillis;
    }
}
