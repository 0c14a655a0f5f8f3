package dev.offload.gateway.generation;

import com.netflix.concurrency.limits.Limit;
import com.netflix.concurrency.limits.limit.Gradient2Limit;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * One backend replica: its client, its in-flight count and its adaptive limit.
 *
 * <p>The limit is Netflix concurrency-limits' Gradient2 (a gradient of long- over short-term
 * latency; Netflix Tech Blog, "Performance Under Load", 2018) fed with time to first token,
 * which is what grows when a continuous batcher starts queueing internally. It is bounded by
 * {@code maxConcurrency}, the backend's batch size, so the gateway keeps the batch full but
 * never queues inside the backend: the waiting happens in the gateway's queue, where priority,
 * fairness and deadlines apply.
 *
 * <p>Thread-safe. {@code acquire}/{@code release} are called under the tier's lock; samples and
 * gauges from any thread.
 */
public final class Replica {
    private final String tier;
    private final String url;
    private final int index;
    private final int maxConcurrency;
    private final BackendClient client;
    private final Limit limit;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final String circuitName;
    private volatile VllmGauges vllm = VllmGauges.UNKNOWN;

    /** vLLM's own view of this replica, scraped from its /metrics; NaN when unknown. */
    public record VllmGauges(double running, double waiting, double kvCacheUsage) {
        static final VllmGauges UNKNOWN = new VllmGauges(Double.NaN, Double.NaN, Double.NaN);
    }

    Replica(String tier, int index, String url, int maxConcurrency, int initialConcurrency, BackendClient client) {
        this.tier = tier;
        this.index = index;
        this.url = url;
        this.maxConcurrency = maxConcurrency;
        this.client = client;
        this.limit = Gradient2Limit.newBuilder()
                .initialLimit(Math.min(maxConcurrency, Math.max(1, initialConcurrency)))
                .minLimit(1)
                .maxConcurrency(maxConcurrency)
                // Up to a quarter of the batch may be "queued" (in prefill) before the gradient pushes back.
                .queueSize(Math.max(1, maxConcurrency / 4))
                .build();
        this.circuitName = "replica-" + tier + "-" + index;
    }

    /** Current in-flight cap: the adaptive limit, never above the backend's batch size. */
    public int limit() {
        return Math.min(maxConcurrency, Math.max(1, limit.getLimit()));
    }

    public int inFlight() {
        return inFlight.get();
    }

    boolean hasSlot() {
        return inFlight.get() < limit();
    }

    /**
     * Room for a request of {@code weight} sequences: within the limit, or an idle replica (a request
     * heavier than the whole limit runs alone rather than never).
     */
    boolean hasRoom(int weight) {
        int now = inFlight.get();
        return now == 0 || now + weight <= limit();
    }

    void acquire() {
        acquire(1);
    }

    void acquire(int weight) {
        inFlight.addAndGet(weight);
    }

    void release() {
        release(1);
    }

    void release(int weight) {
        inFlight.addAndGet(-weight);
    }

    /** Feeds the limit with one first-token latency (didDrop: the attempt failed or timed out). */
    void sample(long startNanos, long ttftNanos, boolean didDrop) {
        limit.onSample(startNanos, ttftNanos, inFlight.get(), didDrop);
    }

    /**
     * Load for routing: occupancy of the adaptive limit, plus what vLLM reports waiting inside
     * it and how full its KV cache is, when known.
     */
    double load() {
        double l = (double) inFlight.get() / limit();
        VllmGauges g = vllm;
        if (!Double.isNaN(g.waiting())) {
            l += g.waiting() / maxConcurrency;
        }
        if (!Double.isNaN(g.kvCacheUsage())) {
            l += 0.5 * g.kvCacheUsage();
        }
        return l;
    }

    void vllm(VllmGauges gauges) {
        this.vllm = gauges;
    }

    public VllmGauges vllm() {
        return vllm;
    }

    public String tier() {
        return tier;
    }

    public String url() {
        return url;
    }

    public int index() {
        return index;
    }

    public int maxConcurrency() {
        return maxConcurrency;
    }

    BackendClient client() {
        return client;
    }

    String circuitName() {
        return circuitName;
    }
}
