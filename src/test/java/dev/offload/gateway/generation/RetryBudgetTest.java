package dev.offload.gateway.generation;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class RetryBudgetTest {
    @Test
    void retriesStayNearTheRatioOnceTheReserveIsSpent() {
        RetryBudget b = new RetryBudget(0.1, 5);
        int retries = 0;
        for (int i = 0; i < 1000; i++) {
            b.onFirstAttempt();
            if (b.tryRetry()) {
                retries++;
            }
        }
        // 5 reserve + 0.1 per request (floating-point deposits may round one token away)
        assertEquals(105, retries, 1);
    }
}
