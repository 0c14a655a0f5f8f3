package dev.offload.gateway.api;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class GrpcDeadlineInterceptorTest {
    @Test
    void parsesEveryUnitOfTheWireFormat() {
        assertEquals(2L * 3_600_000_000_000L, GrpcDeadlineInterceptor.parseTimeoutNanos("2H"));
        assertEquals(3L * 60_000_000_000L, GrpcDeadlineInterceptor.parseTimeoutNanos("3M"));
        assertEquals(5_000_000_000L, GrpcDeadlineInterceptor.parseTimeoutNanos("5S"));
        assertEquals(799_000_000L, GrpcDeadlineInterceptor.parseTimeoutNanos("799m"));
        assertEquals(799_970_000L, GrpcDeadlineInterceptor.parseTimeoutNanos("799970u"));
        assertEquals(12L, GrpcDeadlineInterceptor.parseTimeoutNanos("12n"));
        assertEquals(99_999_999L * 1_000_000, GrpcDeadlineInterceptor.parseTimeoutNanos("99999999m"));
    }

    @Test
    void ignoresMalformedValues() {
        for (String bad : new String[]{null, "", "m", "5", "5x", "-5m", "5 m", "123456789m", "1.5S"}) {
            assertNull(GrpcDeadlineInterceptor.parseTimeoutNanos(bad), bad);
        }
    }
}
