package dev.offload.gateway.security;

import org.junit.jupiter.api.Test;

import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TokenBucketTest {
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    @Test
    void burstThenRefillAtTheRate() {
        TokenBucket b = new TokenBucket(2, 3, 0);
        assertEquals(0, b.tryTake(0));
        assertEquals(0, b.tryTake(0));
        assertEquals(0, b.tryTake(0));
        long wait = b.tryTake(0);
        assertEquals(SECOND / 2, wait, "one token every half second");
        assertTrue(b.tryTake(SECOND / 4) > 0, "a quarter second refills half a token");
        assertEquals(0, b.tryTake(SECOND / 2));
        assertTrue(b.tryTake(SECOND / 2) > 0);
    }

    @Test
    void neverHoldsMoreThanTheBurst() {
        TokenBucket b = new TokenBucket(10, 2, 0);
        long later = 100 * SECOND;
        assertEquals(0, b.tryTake(later));
        assertEquals(0, b.tryTake(later));
        assertTrue(b.tryTake(later) > 0);
    }

    @Test
    void clockGoingBackwardsDoesNotMintTokens() {
        TokenBucket b = new TokenBucket(1, 1, 10 * SECOND);
        assertEquals(0, b.tryTake(10 * SECOND));
        assertTrue(b.tryTake(5 * SECOND) > 0);
        assertTrue(b.tryTake(10 * SECOND) > 0);
        assertEquals(0, b.tryTake(11 * SECOND));
    }

    @Test
    void rejectsNonsense() {
        assertThrows(IllegalArgumentException.class, () -> new TokenBucket(0, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new TokenBucket(Double.NaN, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new TokenBucket(1, 0, 0));
    }

    @Test
    void devicesHaveTheirOwnBucketsAndRevokedOnesAreForgotten() {
        AtomicLong now = new AtomicLong();
        DeviceRateLimiter limiter = new DeviceRateLimiter(1, 2, now::get);
        assertEquals(0, limiter.tryAcquire("a"));
        assertEquals(0, limiter.tryAcquire("a"));
        long wait = limiter.tryAcquire("a");
        assertEquals(SECOND, wait);
        assertEquals(0, limiter.tryAcquire("b"), "another device is not affected");
        now.addAndGet(wait);
        assertEquals(0, limiter.tryAcquire("a"));
        limiter.retainOnly(Set.of("b"));
        assertEquals(1, limiter.buckets());
    }
}
