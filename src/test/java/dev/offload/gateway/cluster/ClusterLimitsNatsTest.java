package dev.offload.gateway.cluster;

import dev.offload.gateway.security.DeviceRateLimiter;
import dev.offload.gateway.security.TenantGenerationLimiter;
import io.nats.client.Connection;
import io.nats.client.Nats;
import io.nats.client.Options;
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
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Three limiter "replicas" in one JVM, each with its own NATS connection, membership and usage
 * gossip ({@link ClusterLimits.Coordinator}), against a real 3-node {@code nats-server}
 * JetStream cluster: one device key hammered on all three gets one bucket's worth, a tenant's
 * generations are counted across them, a replica that stops heart-beating leaves the member
 * list (and the backend shares follow), and with NATS gone every limit falls to its share.
 * No Quarkus. The cases run in order on the same servers.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterLimitsNatsTest {
    private static final double RATE = 20;
    private static final int BURST = 20;
    private static final int TENANT_LIMIT = 12;

    private Path dir;
    private NatsTestCluster nats;
    private final List<Connection> connections = new ArrayList<>();
    private final List<ScheduledExecutorService> schedulers = new ArrayList<>();
    private final List<ClusterLimits.Coordinator> coordinators = new ArrayList<>();
    private final List<DeviceRateLimiter> devices = new ArrayList<>();
    private final List<TenantGenerationLimiter> tenants = new ArrayList<>();
    private final List<AtomicReference<int[]>> shares = new ArrayList<>();

    @BeforeAll
    void start() throws Exception {
        dir = Files.createTempDirectory("cluster-limits");
        nats = new NatsTestCluster(dir, 3);
        ClusterLimits.Settings settings = new ClusterLimits.Settings("LIMITS_TEST_MEMBERS", Duration.ofMillis(250),
                Duration.ofSeconds(1), Duration.ofMillis(50), "limits_test.usage", 3, 1);
        for (int i = 0; i < 3; i++) {
            Connection c = Nats.connect(Options.builder().servers(nats.urls().split(",")).connectionName("r" + i)
                    .maxReconnects(-1).reconnectWait(Duration.ofMillis(250)).reconnectBufferSize(0)
                    .errorListener(new io.nats.client.ErrorListener() {
                    }).build());
            connections.add(c);
            DeviceRateLimiter d = new DeviceRateLimiter(RATE, BURST, System::nanoTime);
            TenantGenerationLimiter t = new TenantGenerationLimiter(TENANT_LIMIT, Duration.ofSeconds(1));
            AtomicReference<int[]> share = new AtomicReference<>();
            ClusterLimits.Coordinator co = new ClusterLimits.Coordinator(
                    () -> c.getStatus() == Connection.Status.CONNECTED ? c : null, settings, "r" + i, d, t,
                    (rank, members) -> share.set(new int[] {rank, members}), System::nanoTime);
            ScheduledExecutorService s = Executors.newSingleThreadScheduledExecutor();
            co.start(s);
            devices.add(d);
            tenants.add(t);
            shares.add(share);
            coordinators.add(co);
            schedulers.add(s);
        }
    }

    @AfterAll
    void stop() throws Exception {
        schedulers.forEach(ScheduledExecutorService::shutdownNow);
        for (Connection c : connections) {
            c.close();
        }
        if (nats != null) {
            nats.close();
        }
    }

    @Test
    @Order(1)
    void everyReplicaSeesTheSameThreeMembersAndTakesItsShareOfTheBackends() {
        await().atMost(Duration.ofSeconds(20)).until(() -> coordinators.stream()
                .allMatch(c -> c.view().size() == 3 && c.regime().equals("cluster")));
        for (int i = 0; i < 3; i++) {
            assertEquals(List.of("r0", "r1", "r2"), coordinators.get(i).view().members());
            int n = i;
            await().atMost(Duration.ofSeconds(5)).until(() -> shares.get(n).get()[1] == 3);
            assertEquals(i, shares.get(i).get()[0], "rank in name order");
        }
    }

    /**
     * One device key, attempted about 3,000 times a second spread over the three replicas (150×
     * its rate): the replicas together grant what one bucket would over the same time (burst +
     * rate × elapsed), within 10 %, not three times that.
     */
    @Test
    @Order(2)
    void oneDeviceHammeringAllThreeReplicasGetsOneBucket() throws Exception {
        AtomicLong granted = new AtomicLong();
        long[] window = new long[2];
        List<Thread> threads = new ArrayList<>();
        long t0 = System.nanoTime();
        long until = t0 + Duration.ofSeconds(6).toNanos();
        for (int i = 0; i < 3; i++) {
            DeviceRateLimiter d = devices.get(i);
            Thread t = new Thread(() -> {
                while (System.nanoTime() < until) {
                    if (d.tryAcquire("device-k") == 0) {
                        granted.incrementAndGet();
                    }
                    try {
                        Thread.sleep(1);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join();
        }
        window[0] = t0;
        window[1] = System.nanoTime();
        double seconds = (window[1] - window[0]) / 1e9;
        double oneBucket = BURST + RATE * seconds;
        System.out.printf("ClusterLimitsNatsTest: 3 replicas granted %d in %.2f s; one bucket: %.0f (ratio %.3f)%n",
                granted.get(), seconds, oneBucket, granted.get() / oneBucket);
        assertTrue(Math.abs(granted.get() - oneBucket) <= 0.1 * oneBucket,
                "granted " + granted.get() + " vs one bucket's " + oneBucket + " over " + seconds + " s");
    }

    @Test
    @Order(3)
    void aTenantsGenerationsAreCountedOnEveryReplica() {
        List<TenantGenerationLimiter.Permit> held = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            tenants.get(0).tryAcquire("t").ifPresent(held::add);
        }
        assertEquals(8, held.size());
        // Replica 1 learns of the 8 within a report or two: then it may start only the 4 left.
        await().atMost(Duration.ofSeconds(5)).until(() -> probe(tenants.get(1), "t") == 4);
        // Replica 2 hears the same report on its own subscription, not necessarily by now.
        await().atMost(Duration.ofSeconds(5)).until(() -> probe(tenants.get(2), "t") == 4);
        held.forEach(TenantGenerationLimiter.Permit::release);
        await().atMost(Duration.ofSeconds(5)).until(() -> probe(tenants.get(2), "t") == TENANT_LIMIT);
    }

    /** How many permits the replica would grant now (taken and given back at once). */
    private static int probe(TenantGenerationLimiter l, String tenant) {
        List<TenantGenerationLimiter.Permit> got = new ArrayList<>();
        for (Optional<TenantGenerationLimiter.Permit> p; got.size() <= TENANT_LIMIT && (p = l.tryAcquire(tenant)).isPresent(); ) {
            got.add(p.get());
        }
        got.forEach(TenantGenerationLimiter.Permit::release);
        return got.size();
    }

    @Test
    @Order(4)
    void aReplicaThatStopsHeartBeatingLeavesTheMemberListAndTheSharesFollow() {
        schedulers.get(2).shutdownNow(); // no leave(): as a crash, the key must expire
        await().atMost(Duration.ofSeconds(10)).until(() -> coordinators.get(0).view().size() == 2
                && coordinators.get(1).view().size() == 2);
        assertEquals(List.of("r0", "r1"), coordinators.get(0).view().members());
        await().atMost(Duration.ofSeconds(5)).until(() -> shares.get(0).get()[1] == 2 && shares.get(1).get()[1] == 2);
        assertEquals(1, shares.get(1).get()[0]);
    }

    @Test
    @Order(5)
    void withNatsGoneEveryLimitFallsToItsShareOfTheLastKnownMembers() {
        for (int i = 0; i < nats.size(); i++) {
            nats.kill(i);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> coordinators.get(0).regime().equals("share")
                && coordinators.get(1).regime().equals("share"));
        assertEquals(2, coordinators.get(0).view().size(), "the last known member count");
        assertEquals(0.5, devices.get(0).fraction(), 1e-9);
        int granted = 0;
        for (int i = 0; i < 100; i++) {
            if (devices.get(0).tryAcquire("fresh-device") == 0) {
                granted++;
            }
        }
        assertEquals(BURST / 2, granted, "half the burst on each of the two replicas");
        assertEquals(TENANT_LIMIT / 2, probe(tenants.get(1), "t2"));
        assertEquals(TENANT_LIMIT / 2, probe(tenants.get(0), "t2"));
    }
}
