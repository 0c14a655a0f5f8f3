package dev.offload.gateway.security;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Caps the generations one tenant has in flight, so one tenant's devices cannot take every
 * backend slot (OWASP LLM10, unbounded consumption). Every entry point that starts a
 * generation takes a permit first and releases it when the generation ends in any way
 * (completed, failed, cancelled):
 *
 * <pre>{@code
 * Optional<TenantGenerationLimiter.Permit> permit = limiter.tryAcquire(CurrentCaller.tenant());
 * if (permit.isEmpty()) { // answer 429 (gRPC RESOURCE_EXHAUSTED) with Retry-After: limiter.retryAfter()
 * }
 * multi.onTermination().invoke(permit.get()::release)
 * }</pre>
 *
 * <p>Cluster mode (the cluster package drives it; without it nothing below applies): the limit
 * is the tenant's across all gateway replicas. {@link #othersInFlight} tells this replica what
 * the others last reported, and a permit is granted while this replica's count plus theirs is
 * below the limit; while their reports cannot arrive, {@link #shareOnly} limits this replica to
 * its share, {@code max / members} (at least 1). The decision stays local either way.
 *
 * <p>Thread-safe and non-blocking: any thread, including the event loop. Releasing a permit
 * twice is harmless.
 */
public final class TenantGenerationLimiter {
    private final int maxPerTenant;
    private final Duration retryAfter;
    private final Map<String, AtomicInteger> inFlight = new ConcurrentHashMap<>();
    /** What the other replicas hold per tenant (cluster mode); empty otherwise. */
    private volatile Map<String, Integer> others = Map.of();
    /** This replica's own cap: the limit, or its share of it while the others cannot be heard. */
    private volatile int localLimit;

    public TenantGenerationLimiter(int maxPerTenant, Duration retryAfter) {
        if (maxPerTenant < 1) {
            throw new IllegalArgumentException("maxPerTenant must be at least 1: " + maxPerTenant);
        }
        if (retryAfter.isNegative() || retryAfter.isZero()) {
            throw new IllegalArgumentException("retryAfter must be positive: " + retryAfter);
        }
        this.maxPerTenant = maxPerTenant;
        this.retryAfter = retryAfter;
        this.localLimit = maxPerTenant;
    }

    /** A permit if the tenant is below its limit; empty means refuse the request now. */
    public Optional<Permit> tryAcquire(String tenant) {
        AtomicInteger n = inFlight.computeIfAbsent(tenant, t -> new AtomicInteger());
        int cap = localLimit - others.getOrDefault(tenant, 0);
        while (true) {
            int current = n.get();
            if (current >= cap) {
                return Optional.empty();
            }
            if (n.compareAndSet(current, current + 1)) {
                return Optional.of(new Permit(n));
            }
        }
    }

    /** Generations the tenant has in flight now. */
    public int inFlight(String tenant) {
        AtomicInteger n = inFlight.get(tenant);
        return n == null ? 0 : n.get();
    }

    /** Generations per tenant this replica has in flight now (tenants with none left out). */
    public Map<String, Integer> localInFlight() {
        Map<String, Integer> out = new java.util.HashMap<>();
        inFlight.forEach((t, n) -> {
            int v = n.get();
            if (v > 0) {
                out.put(t, v);
            }
        });
        return out;
    }

    /**
     * Cluster mode, the others heard: {@code othersInFlight} is the sum, per tenant, of what every
     * other live replica last reported; the full limit counts them.
     */
    public void othersInFlight(Map<String, Integer> othersInFlight) {
        this.others = Map.copyOf(othersInFlight);
        this.localLimit = maxPerTenant;
    }

    /** Cluster mode, the others not heard: this replica may hold its share, {@code max / members}, at least 1. */
    public void shareOnly(int members) {
        if (members < 1) {
            throw new IllegalArgumentException("members must be at least 1: " + members);
        }
        this.others = Map.of();
        this.localLimit = Math.max(1, maxPerTenant / members);
    }

    /** This replica's cap before the others' counts: the limit, or its share (see {@link #shareOnly}). */
    public int localLimit() {
        return localLimit;
    }

    public int maxPerTenant() {
        return maxPerTenant;
    }

    /** What to tell a refused caller: a hint, since a slot frees when some generation ends. */
    public Duration retryAfter() {
        return retryAfter;
    }

    /** Whole seconds for a {@code Retry-After} header, at least 1. */
    public long retryAfterSeconds() {
        return Math.max(1, (retryAfter.toMillis() + 999) / 1000);
    }

    /** One generation slot; {@link #release()} (or {@link #close()}) gives it back, once. */
    public static final class Permit implements AutoCloseable {
        private final AtomicInteger counter;
        private final AtomicBoolean released = new AtomicBoolean();

        private Permit(AtomicInteger counter) {
            this.counter = counter;
        }

        public void release() {
            if (released.compareAndSet(false, true)) {
                counter.decrementAndGet();
            }
        }

        @Override
        public void close() {
            release();
        }
    }
}
