package dev.offload.gateway.security;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * One {@link TokenBucket} per device key, keyed by the key's hash. Buckets exist only for keys
 * that authenticated (here or, in cluster mode, on another replica), so memory is bounded by the
 * keys file, not by what callers send; a reload drops the buckets of revoked keys.
 *
 * <p>Cluster mode (the cluster package calls {@link #trackUsage()} once): every grant is also
 * counted until {@link #drainUsage()} collects it for the other replicas, whose grants arrive
 * through {@link #debit}; while those reports cannot flow, {@link #scale} cuts every bucket to
 * this replica's share. The decision itself stays local: no network call per request.
 *
 * <p>Thread-safe.
 */
public final class DeviceRateLimiter {
    private final double ratePerSecond;
    private final int burst;
    private final LongSupplier nanoClock;
    private final Map<String, Device> buckets = new ConcurrentHashMap<>();
    private volatile boolean trackUsage;
    private volatile double fraction = 1;

    private record Device(TokenBucket bucket, AtomicLong unreported) {
    }

    public DeviceRateLimiter(double ratePerSecond, int burst, LongSupplier nanoClock) {
        new TokenBucket(ratePerSecond, burst, 0); // validates the parameters now, not at the first request
        this.ratePerSecond = ratePerSecond;
        this.burst = burst;
        this.nanoClock = nanoClock;
    }

    private Device device(String keyHash, long now) {
        return buckets.computeIfAbsent(keyHash, k -> {
            TokenBucket b = new TokenBucket(ratePerSecond, burst, now);
            double f = fraction;
            if (f < 1) {
                b.scale(f, now);
            }
            return new Device(b, new AtomicLong());
        });
    }

    /** 0 if the device may go ahead, otherwise the nanoseconds until it may try again. */
    public long tryAcquire(String keyHash) {
        long now = nanoClock.getAsLong();
        Device d = device(keyHash, now);
        long wait = d.bucket().tryTake(now);
        if (wait == 0 && trackUsage) {
            d.unreported().incrementAndGet();
        }
        return wait;
    }

    /** Starts counting grants for {@link #drainUsage()} (cluster mode). */
    public void trackUsage() {
        trackUsage = true;
    }

    /** Grants per device key hash since the last call (only keys with grants). */
    public Map<String, Long> drainUsage() {
        Map<String, Long> out = new HashMap<>();
        buckets.forEach((k, d) -> {
            long n = d.unreported().getAndSet(0);
            if (n > 0) {
                out.put(k, n);
            }
        });
        return out;
    }

    /** Takes {@code n} grants another replica made for this key from the local copy of its bucket. */
    public void debit(String keyHash, long n) {
        long now = nanoClock.getAsLong();
        device(keyHash, now).bucket().debit(n, now);
    }

    /**
     * Every bucket (and every new one) refills at {@code fraction} of the rate with that fraction
     * of the burst: a replica's share while the cluster's usage reports cannot arrive; 1 restores.
     */
    public void scale(double fraction) {
        if (fraction == this.fraction) {
            return;
        }
        this.fraction = fraction;
        long now = nanoClock.getAsLong();
        for (Device d : buckets.values()) {
            d.bucket().scale(fraction, now);
        }
    }

    /** The fraction set by {@link #scale}; 1 unless cut to a share. */
    public double fraction() {
        return fraction;
    }

    public double ratePerSecond() {
        return ratePerSecond;
    }

    public int burst() {
        return burst;
    }

    /** Forgets every bucket whose key is not in {@code keyHashes}. */
    public void retainOnly(Set<String> keyHashes) {
        buckets.keySet().retainAll(keyHashes);
    }

    int buckets() {
        return buckets.size();
    }
}
