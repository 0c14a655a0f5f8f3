package dev.offload.gateway.security;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TenantGenerationLimiterTest {
    @Test
    void capsEachTenantSeparatelyAndReleasesOnce() {
        TenantGenerationLimiter l = new TenantGenerationLimiter(2, Duration.ofMillis(1500));
        var a1 = l.tryAcquire("a").orElseThrow();
        var a2 = l.tryAcquire("a").orElseThrow();
        assertTrue(l.tryAcquire("a").isEmpty());
        assertTrue(l.tryAcquire("b").isPresent(), "another tenant has its own slots");
        a1.release();
        a1.release();
        a1.close();
        assertEquals(1, l.inFlight("a"), "releasing the same permit again gives nothing back");
        try (var a3 = l.tryAcquire("a").orElseThrow()) {
            assertTrue(l.tryAcquire("a").isEmpty());
        }
        a2.release();
        assertEquals(0, l.inFlight("a"));
        assertEquals(2, l.retryAfterSeconds(), "1.5 s rounds up");
        assertThrows(IllegalArgumentException.class, () -> new TenantGenerationLimiter(0, Duration.ofSeconds(1)));
        assertThrows(IllegalArgumentException.class, () -> new TenantGenerationLimiter(1, Duration.ZERO));
    }

    @Test
    void neverExceedsTheCapUnderContention() throws Exception {
        long seed = new Random().nextLong();
        Random random = new Random(seed);
        int cap = 3;
        TenantGenerationLimiter l = new TenantGenerationLimiter(cap, Duration.ofSeconds(1));
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger maxSeen = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        CountDownLatch start = new CountDownLatch(1);
        List<java.util.concurrent.Future<?>> futures = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            int spins = 1 + random.nextInt(50);
            futures.add(pool.submit(() -> {
                start.await();
                for (int i = 0; i < 2000; i++) {
                    Optional<TenantGenerationLimiter.Permit> p = l.tryAcquire("t");
                    if (p.isPresent()) {
                        maxSeen.accumulateAndGet(inside.incrementAndGet(), Math::max);
                        for (int s = 0; s < spins; s++) {
                            Thread.onSpinWait();
                        }
                        inside.decrementAndGet();
                        p.get().release();
                    }
                }
                return null;
            }));
        }
        start.countDown();
        for (var f : futures) {
            f.get(60, TimeUnit.SECONDS);
        }
        pool.shutdown();
        assertTrue(maxSeen.get() <= cap, "seed " + seed + ": " + maxSeen.get() + " at once");
        assertEquals(0, l.inFlight("t"), "seed " + seed);
        assertFalse(l.tryAcquire("t").isEmpty());
    }
}
