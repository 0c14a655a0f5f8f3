package dev.offload.gateway.security;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The limiters' cluster-mode additions on a fake clock: debits, shares, other replicas' in-flight. */
class SharedLimitsTest {
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    @Test
    void aDebitCanLeaveTheBucketInDebtWhichIsRefilledFirst() {
        TokenBucket b = new TokenBucket(10, 5, 0);
        b.debit(12, 0);
        assertEquals(-7, b.tokens(0), 1e-9);
        assertEquals(SECOND * 8 / 10, b.tryTake(0), "8 tokens short at 10/s: 0.8 s");
        assertTrue(b.tryTake(SECOND * 7 / 10) > 0, "still below one token after 0.7 s");
        assertEquals(0, b.tryTake(SECOND * 8 / 10));
        assertThrows(IllegalArgumentException.class, () -> b.debit(-1, 0));
    }

    @Test
    void scaleCutsRateAndCapacityAndOneRestoresThem() {
        TokenBucket b = new TokenBucket(30, 30, 0);
        b.scale(1.0 / 3, 0);
        assertEquals(10, b.tokens(0), 1e-9, "savings above the new capacity are dropped");
        for (int i = 0; i < 10; i++) {
            assertEquals(0, b.tryTake(0));
        }
        assertTrue(b.tryTake(0) > 0);
        assertEquals(10, b.tokens(10 * SECOND), 1e-9, "refills to the cut capacity only");
        b.scale(1, 10 * SECOND);
        assertEquals(30, b.tokens(11 * SECOND), 1e-9, "the whole rate again: 30 tokens in one second");
        b.scale(0.01, 11 * SECOND);
        assertEquals(1, b.tokens(11 * SECOND), 1e-9, "capacity never below one token");
        assertThrows(IllegalArgumentException.class, () -> b.scale(0, 0));
        assertThrows(IllegalArgumentException.class, () -> b.scale(1.5, 0));
    }

    /**
     * Three copies of one device's bucket, each granting locally and debiting the others' grants
     * one report interval late, under a seeded random load far above the rate: the total granted
     * over 60 s stays within 10 % of one bucket's (burst + rate × time), not three times it.
     */
    @Test
    void threeCopiesDebitingEachOtherGrantWhatOneBucketWould() {
        long seed = new Random().nextLong();
        Random random = new Random(seed);
        AtomicLong now = new AtomicLong();
        List<DeviceRateLimiter> replicas = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            DeviceRateLimiter l = new DeviceRateLimiter(20, 40, now::get);
            l.trackUsage();
            replicas.add(l);
        }
        long granted = 0;
        long interval = SECOND / 10;
        long step = SECOND / 1000; // 1,000 attempts per second, 50x the rate
        for (long t = 0; t < 60 * SECOND; t += step) {
            now.set(t);
            if (replicas.get(random.nextInt(3)).tryAcquire("k") == 0) {
                granted++;
            }
            if (t % interval == 0) {
                List<Map<String, Long>> reports = replicas.stream().map(DeviceRateLimiter::drainUsage).toList();
                for (int from = 0; from < 3; from++) {
                    for (int to = 0; to < 3; to++) {
                        if (from != to) {
                            Long n = reports.get(from).get("k");
                            if (n != null) {
                                replicas.get(to).debit("k", n);
                            }
                        }
                    }
                }
            }
        }
        double expected = 40 + 20 * 60;
        assertTrue(Math.abs(granted - expected) <= 0.1 * expected, "seed " + seed + ": granted " + granted
                + ", one bucket would grant " + expected);
    }

    @Test
    void usageIsCountedOnlyOnceTrackedAndDrainedOnce() {
        AtomicLong now = new AtomicLong();
        DeviceRateLimiter l = new DeviceRateLimiter(1, 3, now::get);
        l.tryAcquire("a");
        assertEquals(Map.of(), l.drainUsage(), "embedded mode counts nothing");
        l.trackUsage();
        l.tryAcquire("a");
        l.tryAcquire("a");
        l.tryAcquire("a"); // refused: the bucket held 3
        l.tryAcquire("b");
        assertEquals(Map.of("a", 2L, "b", 1L), l.drainUsage());
        assertEquals(Map.of(), l.drainUsage());
    }

    @Test
    void aLimiterCutToAShareAppliesItToNewBucketsToo() {
        AtomicLong now = new AtomicLong();
        DeviceRateLimiter l = new DeviceRateLimiter(30, 30, now::get);
        l.scale(1.0 / 3);
        int granted = 0;
        for (int i = 0; i < 100; i++) {
            if (l.tryAcquire("new") == 0) {
                granted++;
            }
        }
        assertEquals(10, granted, "a third of the burst");
        now.set(SECOND + 1_000_000); // a millisecond over: 1/3 is not exact in binary
        granted = 0;
        for (int i = 0; i < 100; i++) {
            if (l.tryAcquire("new") == 0) {
                granted++;
            }
        }
        assertEquals(10, granted, "a third of the rate: 10 in one second");
    }

    @Test
    void theTenantLimitCountsTheOtherReplicasOrFallsBackToAShare() {
        TenantGenerationLimiter l = new TenantGenerationLimiter(10, Duration.ofSeconds(1));
        List<TenantGenerationLimiter.Permit> held = new ArrayList<>();
        l.othersInFlight(Map.of("t", 7));
        for (int i = 0; i < 10; i++) {
            l.tryAcquire("t").ifPresent(held::add);
        }
        assertEquals(3, held.size(), "7 elsewhere leave 3 of 10");
        assertEquals(Map.of("t", 3), l.localInFlight());
        assertTrue(l.tryAcquire("other").isPresent(), "another tenant is not affected");
        held.forEach(TenantGenerationLimiter.Permit::release);
        held.clear();

        l.shareOnly(3);
        assertEquals(3, l.localLimit());
        for (int i = 0; i < 10; i++) {
            l.tryAcquire("t").ifPresent(held::add);
        }
        assertEquals(3, held.size(), "the share of 10 over 3 members, whatever the others held");
        held.forEach(TenantGenerationLimiter.Permit::release);
        held.clear();

        l.shareOnly(20);
        assertEquals(1, l.localLimit(), "at least one");
        l.othersInFlight(Map.of());
        for (int i = 0; i < 20; i++) {
            l.tryAcquire("t").ifPresent(held::add);
        }
        assertEquals(10, held.size(), "heard again, nobody else busy: the whole limit");
        Optional<TenantGenerationLimiter.Permit> none = l.tryAcquire("t");
        assertTrue(none.isEmpty());
        assertThrows(IllegalArgumentException.class, () -> l.shareOnly(0));
    }
}
