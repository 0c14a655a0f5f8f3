package dev.offload.gateway.security;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * One {@link TokenBucket} per device key, keyed by the key's hash. Buckets exist only for keys
 * that authenticated, so memory is bounded by the keys file, not by what callers send; a reload
 * drops the buckets of revoked keys. Thread-safe.
 */
public final class DeviceRateLimiter {
    private final double ratePerSecond;
    private final int burst;
    private final LongSupplier nanoClock;
    private final Map<String, TokenBucket> buckets = new ConcurrentHashMap<>();

    public DeviceRateLimiter(double ratePerSecond, int burst, LongSupplier nanoClock) {
        new TokenBucket(ratePerSecond, burst, 0); // validates the parameters now, not at the first request
        this.ratePerSecond = ratePerSecond;
        this.burst = burst;
        this.nanoClock = nanoClock;
    }

    /** 0 if the device may go ahead, otherwise the nanoseconds until it may try again. */
    public long tryAcquire(String keyHash) {
        long now = nanoClock.getAsLong();
        return buckets.computeIfAbsent(keyHash, k -> new TokenBucket(ratePerSecond, burst, now)).tryTake(now);
    }

    /** Forgets every bucket whose key is not in {@code keyHashes}. */
    public void retainOnly(Set<String> keyHashes) {
        buckets.keySet().retainAll(keyHashes);
    }

    int buckets() {
        return buckets.size();
    }
}
