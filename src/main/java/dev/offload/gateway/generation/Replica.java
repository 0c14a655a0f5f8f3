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
 * <p>Cluster mode: N gateways in front of the same backend each carry only their share of
 * {@code maxConcurrency} ({@link #share(int, int, int, int)}, set through
 * {@link TierRegistry#shareBackends}), so the backend's total stays within its batch size. While
 * a share is set, vLLM's own gauges correct it downwards: when the running and waiting requests
 * vLLM reports, minus this gateway's own, exceed what the other gateways' shares allow (a
 * gateway outside the cluster, or one that has not yet seen a membership change), this gateway
 * yields the difference. Without a share (embedded mode) neither applies.
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
    /** This gateway's share of {@code maxConcurrency} in cluster mode; the whole of it otherwise. */
    private volatile int share;
    /** The share lowered by vLLM's gauges (see the class comment); equals {@link #share} when they say nothing. */
    private volatile int correctedShare;

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
        this.share = maxConcurrency;
        this.correctedShare = maxConcurrency;
    }

    /**
     * Current in-flight cap: the adaptive limit, never above the backend's batch size nor, in
     * cluster mode, above this gateway's (corrected) share of it.
     */
    public int limit() {
        return Math.min(correctedShare, Math.max(1, limit.getLimit()));
    }

    /**
     * Gateway {@code rank} of {@code members} (ranks 0..members-1, the same order on every
     * gateway) may carry this many calls on backend replica {@code replicaIndex} of batch size
     * {@code max}: {@code max / members}, the remainder going to {@code max % members} gateways
     * chosen by rotation, so the shares of one backend add up to exactly {@code max} and each
     * backend's spare slots land on different gateways. At least 1: with more gateways than
     * slots each gateway still reaches every backend, and the backend may then see up to
     * {@code members} calls (documented in cluster.md).
     */
    public static int share(int max, int members, int rank, int replicaIndex) {
        if (max < 1 || members < 1 || rank < 0 || rank >= members || replicaIndex < 0) {
            throw new IllegalArgumentException("share(" + max + ", " + members + ", " + rank + ", " + replicaIndex + ")");
        }
        int base = max / members;
        int extra = Math.floorMod(rank - replicaIndex, members) < max % members ? 1 : 0;
        return Math.max(1, base + extra);
    }

    /** Sets this gateway's share of the batch size (cluster mode); {@code maxConcurrency} restores the whole. */
    void share(int slots) {
        if (slots < 1 || slots > maxConcurrency) {
            throw new IllegalArgumentException("share must be in 1.." + maxConcurrency + ": " + slots);
        }
        this.share = slots;
        correct();
    }

    /** This gateway's share of the batch size before the gauge correction. */
    public int share() {
        return share;
    }

    /**
     * The share, lowered when vLLM reports more running + waiting requests from others than
     * the others' shares allow ({@code maxConcurrency - share}); never below 1.
     */
    private void correct() {
        int s = share;
        VllmGauges g = vllm;
        if (s >= maxConcurrency || Double.isNaN(g.running()) || Double.isNaN(g.waiting())) {
            correctedShare = s;
            return;
        }
        double others = g.running() + g.waiting() - inFlight.get();
        double excess = others - (maxConcurrency - s);
        correctedShare = excess > 0 ? Math.max(1, s - (int) Math.ceil(excess)) : s;
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
        correct();
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
