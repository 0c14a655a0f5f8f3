package dev.offload.gateway.api;

import dev.offload.gateway.generation.Generator;
import dev.offload.gateway.retrieval.SharedIndex;
import dev.offload.gateway.sim.Fault;
import dev.offload.gateway.sim.SimulatedBackend;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static dev.offload.gateway.security.TestKeys.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fault scenarios of the reliability issue against simulated backends, each with its pass
 * criterion: every request ends in an answer or an explicit refusal, the retry budget holds,
 * a hung replica is ejected, nothing stays in flight.
 */
@QuarkusTest
@QuarkusTestResource(value = SimulatedBackendsResource.class, restrictToAnnotatedClass = true)
class FaultSuiteTest {
    @Inject
    Generator generator;
    @Inject
    SharedIndex index;
    @Inject
    MeterRegistry registry;

    @BeforeEach
    void setUp() throws Exception {
        index.whenOpen().get(120, TimeUnit.SECONDS);
        reset();
    }

    @AfterEach
    void reset() {
        SimulatedBackendsResource.resetAll(generator);
    }

    private double attempts() {
        return registry.find(dev.offload.gateway.metrics.MetricNames.ATTEMPTS).counters().stream()
                .mapToDouble(Counter::count).sum();
    }

    /** Runs n chat completions, c at a time; returns their status codes. */
    private static List<Integer> run(int n, int concurrency, String prefix) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(concurrency);
        try {
            List<CompletableFuture<Integer>> futures = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                String body = "{\"model\":\"auto\",\"max_tokens\":4,\"messages\":[{\"role\":\"user\",\"content\":\"" + prefix
                        + " " + i + "\"}]}";
                futures.add(CompletableFuture.supplyAsync(() -> given().contentType(ContentType.JSON).body(body)
                        .when().post("/v1/chat/completions").statusCode(), pool));
            }
            List<Integer> out = new ArrayList<>();
            for (CompletableFuture<Integer> f : futures) {
                out.add(f.get(120, TimeUnit.SECONDS));
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    private void assertNothingInFlight() throws InterruptedException {
        SimulatedBackendsResource.awaitNothingInFlight(generator, java.time.Duration.ofSeconds(10));
    }

    @Test
    void halfTheEdgeReplicasFailingCostsNoAvailabilityAndFewRetries() throws Exception {
        SimulatedBackendsResource.edgeA.fault(Fault.ERROR_503);
        double before = attempts();
        List<Integer> statuses = run(200, 8, "half");
        long ok = statuses.stream().filter(s -> s == 200).count();
        double perRequest = (attempts() - before) / statuses.size();
        System.out.printf("half the edge down: availability %.4f, attempts per request %.3f%n", ok / (double) statuses.size(), perRequest);
        assertTrue(ok / (double) statuses.size() >= 0.995, "availability " + ok + "/" + statuses.size());
        assertTrue(perRequest <= 1.2, "attempts per request " + perRequest);
        assertNothingInFlight();
    }

    @Test
    void everyTierDownEndsInExtractiveAnswersWithoutARetryStorm() throws Exception {
        for (SimulatedBackend b : SimulatedBackendsResource.all()) {
            b.fault(Fault.ERROR_500);
        }
        double before = attempts();
        List<Integer> statuses = run(100, 8, "down");
        double perRequest = (attempts() - before) / statuses.size();
        System.out.printf("all tiers down: attempts per request %.3f%n", perRequest);
        assertTrue(statuses.stream().allMatch(s -> s == 200 || s == 503), "extractive answers or 503: " + statuses);
        assertTrue(perRequest <= 1.1, "attempts per request " + perRequest);
        assertNothingInFlight();
    }

    @Test
    void aReplicaThatNeverSendsATokenIsTakenOutOfRotation() throws Exception {
        SimulatedBackend hung = SimulatedBackendsResource.edgeA;
        hung.fault(Fault.HANG_BEFORE_HEADERS);
        long t0 = System.nanoTime();
        List<Integer> first = run(16, 16, "hung");
        long firstEnd = System.nanoTime();
        long detectedMs = (firstEnd - t0) / 1_000_000;
        assertTrue(first.stream().allMatch(s -> s == 200), "every request answered by failover: " + first);
        List<Integer> after = run(10, 2, "after");
        long afterEnd = System.nanoTime();
        System.out.printf("hung replica: out of rotation after %d ms (TTFT timeout 1500 ms)%n", detectedMs);
        assertTrue(after.stream().allMatch(s -> s == 200), after.toString());
        // Nothing new may reach the hung replica until its circuit's delay (2 s in this profile)
        // has passed; the circuit cannot have opened before the first TTFT timeout (1.5 s after
        // the start). Afterwards the half-open circuit lets one probe through, which hangs for
        // the TTFT timeout and opens the circuit again: at most one per 3.5 s.
        long earliestProbe = t0 + TimeUnit.MILLISECONDS.toNanos(1500 + 2000);
        List<Long> late = hung.receivedRequests().stream().filter(r -> r.receivedAtNanos() > firstEnd)
                .map(r -> (r.receivedAtNanos() - t0) / 1_000_000).toList();
        System.out.printf("hung replica: requests after ejection at %s ms after the start (run ended at %d ms)%n", late,
                (afterEnd - t0) / 1_000_000);
        assertTrue(late.stream().allMatch(ms -> ms >= (earliestProbe - t0) / 1_000_000),
                "a request reached the hung replica before its circuit's delay had passed: " + late);
        assertTrue(late.size() <= 1 + (afterEnd - earliestProbe) / TimeUnit.MILLISECONDS.toNanos(3500),
                "more than one half-open probe per 3.5 s reached the hung replica: " + late);
        assertNothingInFlight();
    }
}
