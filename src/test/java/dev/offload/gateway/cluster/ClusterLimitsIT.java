package dev.offload.gateway.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.offload.gateway.security.KeyRing;
import dev.offload.gateway.sim.SimulatedBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntUnaryOperator;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Limits and backend shares across gateway replicas, end to end: a 3-node {@code nats-server}
 * JetStream cluster, 3 gateway JVMs from the packaged jar and 2 simulated vLLM backends
 * (batch size 8 each, recording the most requests they ever held at once).
 *
 * <ol>
 *   <li>the three gateways list each other as members and share the limits;</li>
 *   <li>2× overload (32 clients for 16 backend slots) spread round-robin over the three
 *   gateways: no backend ever holds more than its batch size of 8, although each gateway
 *   alone would send it 8;</li>
 *   <li>one device hammering round-robin over the three gets about its rate (within 10 % of
 *   burst + rate × time), not three times it;</li>
 *   <li>two gateways stopped, the same overload through the one left (its share is the whole
 *   batch again): the three gateways' goodput is at least 0.9× of the one gateway's.</li>
 * </ol>
 *
 * The goodput ratio is functional, not a benchmark: the backends are slow on purpose (a
 * generation takes about half a second), so the backends' slots, not the 2 shared cores, bound
 * both runs; with every slot filled in both, the ratio is about 1, and 0.9 leaves room for the
 * three JVMs' noise. Runs after {@code package} (failsafe): {@code ./mvnw verify -Pall-tests},
 * or {@code ./mvnw failsafe:integration-test failsafe:verify -DskipITs=false -Dit.test=ClusterLimitsIT}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterLimitsIT {
    private static final int BATCH = 8;
    private static final int CLIENTS = 32; // 2x the two backends' 16 slots
    private static final double DEVICE_RATE = 20;
    private static final int DEVICE_BURST = 20;
    private static final Duration WARMUP = Duration.ofSeconds(4);
    private static final Duration MEASURE = Duration.ofSeconds(20);

    private final List<String> clientKeys = new ArrayList<>();
    private final String hammerKey = "it-hammer-" + UUID.randomUUID();
    private Path dir;
    private NatsTestCluster nats;
    private ClusterGateways gateways;
    private final List<SimulatedBackend> backends = new ArrayList<>();
    private double clusterGoodput;

    @BeforeAll
    void start() throws Exception {
        dir = Files.createTempDirectory("cluster-limits-it");
        StringBuilder keys = new StringBuilder();
        for (int i = 0; i < CLIENTS; i++) {
            String k = "it-load-" + i + "-" + UUID.randomUUID();
            clientKeys.add(k);
            keys.append(KeyRing.sha256Hex(k)).append(" load device\n");
        }
        keys.append(KeyRing.sha256Hex(hammerKey)).append(" hammer device\n");
        Path keysFile = Files.writeString(dir.resolve("keys"), keys);
        nats = new NatsTestCluster(dir.resolve("nats"), 3);
        for (int i = 0; i < 2; i++) {
            // About 0.5 s per 16-token generation at a full batch: the backends, not the CPU, are the bottleneck.
            backends.add(SimulatedBackend.builder().maxBatchSize(BATCH).stepBase(Duration.ofMillis(25))
                    .stepPerSequence(Duration.ofMillis(1)).outputTokens(16).start());
        }
        Map<String, String> p = new HashMap<>();
        p.put("gateway.cluster.nats-url", nats.urls());
        p.put("gateway.auth.keys-file", keysFile.toString());
        p.put("gateway.tiers.edge.base-urls", backends.get(0).baseUrl() + "/v1," + backends.get(1).baseUrl() + "/v1");
        p.put("gateway.tiers.edge.max-concurrency", Integer.toString(BATCH));
        p.put("gateway.tiers.edge.initial-concurrency", Integer.toString(BATCH));
        p.put("gateway.tiers.edge.ttft-timeout", "20s");
        p.put("gateway.limits.device-requests-per-second", Double.toString(DEVICE_RATE));
        p.put("gateway.limits.device-burst", Integer.toString(DEVICE_BURST));
        p.put("quarkus.log.console.level", "INFO");
        gateways = new ClusterGateways(dir.resolve("gateways"), 3, p);
    }

    @AfterAll
    void stop() {
        if (gateways != null) {
            gateways.close();
        }
        if (nats != null) {
            nats.close();
        }
        backends.forEach(SimulatedBackend::close);
    }

    private JsonNode clusterBlock(int gateway) throws InterruptedException {
        Http.Reply r = Http.get(gateways.url(gateway) + "/v1/index/stats", clientKeys.get(0), Map.of());
        return r.status() == 200 ? r.body().get("cluster") : null;
    }

    private void awaitMembers(int gateway, int members) {
        await("g" + gateway + " to list " + members + " member(s)").atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(500)).until(() -> {
                    JsonNode c = clusterBlock(gateway);
                    return c != null && c.get("members").size() == members && "cluster".equals(c.get("limits").asText());
                });
    }

    @Test
    @Order(1)
    void theThreeGatewaysListEachOtherAsMembers() throws Exception {
        for (int i = 0; i < 3; i++) {
            awaitMembers(i, 3);
        }
        JsonNode c = clusterBlock(1);
        assertEquals("[\"g0\",\"g1\",\"g2\"]", c.get("members").toString());
    }

    /** Runs CLIENTS closed-loop clients (client i on gateway {@code route(i)}) and returns completions per second in the window. */
    private double overload(IntUnaryOperator route, String label) throws Exception {
        backends.forEach(SimulatedBackend::resetStats);
        long t0 = System.nanoTime();
        long measureFrom = t0 + WARMUP.toNanos();
        long measureTo = measureFrom + MEASURE.toNanos();
        AtomicLong ok = new AtomicLong();
        Map<Integer, AtomicLong> others = new ConcurrentHashMap<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < CLIENTS; i++) {
            int client = i;
            Thread t = new Thread(() -> {
                try {
                    while (System.nanoTime() < measureTo) {
                        Map<String, Object> body = Map.of("model", "default", "max_tokens", 16, "messages",
                                List.of(Map.of("role", "user", "content", "status of line " + client + " " + UUID.randomUUID())));
                        Http.Reply r = Http.call("POST", gateways.url(route.applyAsInt(client)) + "/v1/chat/completions",
                                clientKeys.get(client), body, Map.of(), Duration.ofSeconds(60));
                        long end = System.nanoTime();
                        if (end >= measureFrom && end < measureTo) {
                            if (r.status() == 200) {
                                ok.incrementAndGet();
                            } else {
                                others.computeIfAbsent(r.status(), s -> new AtomicLong()).incrementAndGet();
                            }
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "load-" + i);
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join();
        }
        double goodput = ok.get() / (MEASURE.toNanos() / 1e9);
        System.out.printf("ClusterLimitsIT %s: goodput %.1f/s (%d ok, other statuses %s), backend max in flight %d and %d (limit %d)%n",
                label, goodput, ok.get(), others, backends.get(0).maxConcurrentObserved(),
                backends.get(1).maxConcurrentObserved(), BATCH);
        return goodput;
    }

    @Test
    @Order(2)
    void threeGatewaysAtTwiceTheBackendsCapacityNeverOversubscribeABackend() throws Exception {
        clusterGoodput = overload(client -> client % 3, "3 gateways");
        for (SimulatedBackend b : backends) {
            assertTrue(b.maxConcurrentObserved() <= BATCH, "a backend held " + b.maxConcurrentObserved()
                    + " at once, its batch size is " + BATCH);
            assertTrue(b.maxConcurrentObserved() >= BATCH - 2, "the shares should keep the batch (nearly) full: "
                    + b.maxConcurrentObserved());
        }
        assertTrue(clusterGoodput > 0);
    }

    @Test
    @Order(3)
    void oneDeviceHammeringAllThreeGatewaysGetsItsRateNotThreeTimesIt() throws Exception {
        AtomicLong allowed = new AtomicLong();
        AtomicLong limited = new AtomicLong();
        AtomicLong next = new AtomicLong();
        long t0 = System.nanoTime();
        long until = t0 + Duration.ofSeconds(10).toNanos();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            Thread t = new Thread(() -> {
                try {
                    while (System.nanoTime() < until) {
                        int g = (int) (next.getAndIncrement() % 3);
                        Http.Reply r = Http.get(gateways.url(g) + "/v1/index/stats", hammerKey, Map.of());
                        if (r.status() == 200) {
                            allowed.incrementAndGet();
                        } else if (r.status() == 429) {
                            limited.incrementAndGet();
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        double oneBucket = DEVICE_BURST + DEVICE_RATE * seconds;
        System.out.printf("ClusterLimitsIT device: %d allowed, %d refused (429) in %.1f s over 3 gateways; one bucket: %.0f (ratio %.3f)%n",
                allowed.get(), limited.get(), seconds, oneBucket, allowed.get() / oneBucket);
        assertTrue(limited.get() > 2 * allowed.get(), "the device must have tried well above its rate");
        assertTrue(Math.abs(allowed.get() - oneBucket) <= 0.1 * oneBucket,
                "allowed " + allowed.get() + ", one bucket would allow " + oneBucket);
    }

    @Test
    @Order(4)
    void threeGatewaysDeliverAtLeastNineTenthsOfOneGatewaysGoodput() throws Exception {
        assertTrue(clusterGoodput > 0, "the 3-gateway run (order 2) must have run first");
        gateways.stop(1);
        gateways.stop(2);
        awaitMembers(0, 1); // a graceful stop leaves the member list at once: g0's share is the whole batch again
        double single = overload(client -> 0, "1 gateway");
        for (SimulatedBackend b : backends) {
            assertTrue(b.maxConcurrentObserved() <= BATCH, "a backend held " + b.maxConcurrentObserved());
        }
        System.out.printf("ClusterLimitsIT goodput ratio (3 gateways / 1 gateway): %.3f%n", clusterGoodput / single);
        assertTrue(clusterGoodput >= 0.9 * single, "3 gateways " + clusterGoodput + "/s vs one " + single + "/s");
    }
}
