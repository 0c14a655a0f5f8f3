package dev.offload.gateway.api;

import dev.offload.gateway.sim.SimulatedBackend;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;

/**
 * Two edge replicas and one cloud replica, simulated on loopback, wired into the gateway's
 * tier configuration. Short timeouts so fault tests run fast.
 */
public class SimulatedBackendsResource implements QuarkusTestResourceLifecycleManager {
    static SimulatedBackend edgeA;
    static SimulatedBackend edgeB;
    static SimulatedBackend cloud;

    private SimulatedBackend backend() {
        return SimulatedBackend.builder().maxBatchSize(8).stepBase(Duration.ofMillis(4))
                .stepPerSequence(Duration.ofMillis(1)).prefillPerToken(Duration.ofNanos(20_000))
                .outputTokens(64).recordLimit(recordLimit()).start();
    }

    /** How many received requests each backend keeps for the tests to inspect. */
    protected int recordLimit() {
        return 10_000;
    }

    @Override
    public Map<String, String> start() {
        edgeA = backend();
        edgeB = backend();
        cloud = backend();
        Map<String, String> config = new HashMap<>();
        config.put("gateway.tiers.edge.base-urls", edgeA.baseUrl() + "/v1," + edgeB.baseUrl() + "/v1");
        config.put("gateway.tiers.edge.max-concurrency", "4");
        config.put("gateway.tiers.edge.initial-concurrency", "4");
        config.put("gateway.tiers.edge.ttft-timeout", "1500ms");
        config.put("gateway.tiers.edge.idle-timeout", "1s");
        config.put("gateway.tiers.edge.circuit-request-volume", "4");
        config.put("gateway.tiers.edge.circuit-delay", "2s");
        config.put("gateway.tiers.edge.metrics-scrape-interval", "300ms");
        config.put("gateway.tiers.cloud.base-urls", cloud.baseUrl() + "/v1");
        config.put("gateway.tiers.cloud.ttft-timeout", "1500ms");
        config.put("gateway.tiers.cloud.idle-timeout", "1s");
        config.put("gateway.tiers.cloud.circuit-request-volume", "4");
        config.put("gateway.tiers.cloud.circuit-delay", "2s");
        config.put("gateway.generation.max-tokens-cap", "512");
        return config;
    }

    /**
     * Clears every backend's fault and statistics and resets the gateway's circuits: what a
     * fault test does before and after each case. Tests that turn other knobs reset those first.
     */
    static void resetAll(dev.offload.gateway.generation.Generator generator) {
        for (SimulatedBackend b : all()) {
            b.clearFault();
            b.resetStats();
        }
        generator.resetCircuits();
    }

    /** Waits until no replica has a request in flight and no tier one queued; fails after {@code timeout}. */
    static void awaitNothingInFlight(dev.offload.gateway.generation.Generator generator, Duration timeout) {
        await("no request in flight or queued").atMost(timeout).pollInterval(Duration.ofMillis(20))
                .until(() -> {
                    int inFlight = 0;
                    for (dev.offload.gateway.generation.Tier t : generator.tiers()) {
                        for (dev.offload.gateway.generation.Replica r : t.replicas()) {
                            inFlight += r.inFlight();
                        }
                        inFlight += t.queueLength();
                    }
                    return inFlight;
                }, equalTo(0));
    }

    /** The three backends, for tests that fault, reset or count them all. */
    static SimulatedBackend[] all() {
        return new SimulatedBackend[]{edgeA, edgeB, cloud};
    }

    @Override
    public void stop() {
        for (SimulatedBackend b : new SimulatedBackend[]{edgeA, edgeB, cloud}) {
            if (b != null) {
                b.close();
            }
        }
    }
}
