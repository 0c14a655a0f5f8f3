package dev.offload.gateway.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.offload.gateway.api.grpc.GatewayState;
import dev.offload.gateway.api.grpc.QueryServiceGrpc;
import io.grpc.Channel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import dev.offload.gateway.api.grpc.WatchRequest;
import dev.offload.gateway.generation.Generator;
import dev.offload.gateway.generation.Tier;
import dev.offload.gateway.offload.GatewayWatch;
import dev.offload.gateway.offload.policy.DeviceTelemetry;
import dev.offload.gateway.offload.policy.GatewaySnapshot;
import dev.offload.gateway.offload.policy.LocalAdvisor;
import dev.offload.gateway.offload.policy.OffloadHint;
import dev.offload.gateway.offload.policy.Sensitivity;
import dev.offload.gateway.retrieval.Embedder;
import dev.offload.gateway.security.TestKeys;
import dev.offload.gateway.sim.Fault;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.smallrye.faulttolerance.api.CircuitBreakerState;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import static dev.offload.gateway.security.TestKeys.as;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The gateway's state pushed to devices, end to end: SSE {@code GET /v1/offload/watch} and gRPC
 * {@code Watch} deliver a first snapshot at once and a changed one when the edge's circuits open
 * on the simulated backends; a device deciding from the pushed snapshot gets
 * {@code /v1/offload/decide}'s hint; keys and watcher limits are enforced; disconnected watchers
 * are cleaned up.
 */
@QuarkusTest
@QuarkusTestResource(value = WatchBackendsResource.class, restrictToAnnotatedClass = true)
class WatchApiTest {
    @Inject
    Generator generator;
    @Inject
    GatewayWatch watch;
    /** A device embeds its question with the router's model, as the gateway's decide does. */
    @Inject
    @dev.offload.gateway.retrieval.QuestionEmbedding
    Embedder embedder;
    @Inject
    dev.offload.gateway.offload.OffloadAdvisor advisor;
    @Inject
    ObjectMapper json;
    @GrpcClient("query")
    Channel channel;
    @TestHTTPResource("/v1/offload/watch")
    URI watchUri;

    final HttpClient http = HttpClient.newHttpClient();

    @AfterEach
    void cleanUp() {
        SimulatedBackendsResource.resetAll(generator);
        await("every watcher closed").atMost(Duration.ofSeconds(10)).until(() -> watch.watchers() == 0);
    }

    /** An open SSE watch: its snapshots as they arrive. */
    final class SseWatch implements AutoCloseable {
        final List<GatewaySnapshot> snapshots = new CopyOnWriteArrayList<>();
        final List<String> ids = new CopyOnWriteArrayList<>();
        final HttpResponse<Stream<String>> response;

        SseWatch(String key) throws Exception {
            response = http.send(HttpRequest.newBuilder(watchUri).header("Authorization", TestKeys.bearer(key))
                    .header("Accept", "text/event-stream").build(), HttpResponse.BodyHandlers.ofLines());
            assertEquals(200, response.statusCode());
            assertEquals("text/event-stream", response.headers().firstValue("Content-Type").orElse(""));
            Thread reader = new Thread(() -> {
                try {
                    response.body().forEach(line -> {
                        if (line.startsWith("id: ")) {
                            ids.add(line.substring(4));
                        } else if (line.startsWith("data: ")) {
                            snapshots.add(GatewaySnapshot.fromJson(line.substring(6)));
                        }
                    });
                } catch (RuntimeException closed) {
                    // the test closed the stream
                }
            }, "sse-watch-reader");
            reader.setDaemon(true);
            reader.start();
        }

        GatewaySnapshot last() {
            return snapshots.get(snapshots.size() - 1);
        }

        @Override
        public void close() {
            response.body().close();
        }
    }

    /**
     * An open gRPC watch, on grpc-java's async stub: cancelling it cancels the call (the Mutiny
     * client stub's cancel does not reach the server), which is what a device does to stop watching.
     */
    final class GrpcWatch implements AutoCloseable {
        final List<GatewaySnapshot> snapshots = new CopyOnWriteArrayList<>();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final AtomicReference<ClientCallStreamObserver<WatchRequest>> call = new AtomicReference<>();

        GrpcWatch(String key) {
            QueryServiceGrpc.QueryServiceStub stub = QueryServiceGrpc.newStub(channel);
            if (key != null) {
                stub = TestKeys.grpcAs(stub, key);
            }
            stub.watch(WatchRequest.getDefaultInstance(), new ClientResponseObserver<WatchRequest, GatewayState>() {
                @Override
                public void beforeStart(ClientCallStreamObserver<WatchRequest> requestStream) {
                    call.set(requestStream);
                }

                @Override
                public void onNext(GatewayState m) {
                    snapshots.add(WatchMessages.fromProto(m));
                }

                @Override
                public void onError(Throwable t) {
                    failure.set(t);
                }

                @Override
                public void onCompleted() {
                }
            });
        }

        @Override
        public void close() {
            call.get().cancel("the device stops watching", null);
        }
    }

    private Tier edge() {
        return generator.tiers().stream().filter(t -> t.name().equals("edge")).findFirst().orElseThrow();
    }

    /** Both edge replicas fail until both circuits are open (one chat request per poll). */
    private void openTheEdgeCircuits() {
        SimulatedBackendsResource.edgeA.fault(Fault.ERROR_503);
        SimulatedBackendsResource.edgeB.fault(Fault.ERROR_503);
        await("both edge circuits open").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(5)).until(() -> {
            if (edge().replicas().stream().allMatch(r -> generator.circuitState(r) == CircuitBreakerState.OPEN)) {
                return true;
            }
            TestKeys.given().contentType(ContentType.JSON)
                    .body("{\"model\":\"edge\",\"max_tokens\":4,\"messages\":[{\"role\":\"user\",\"content\":\"ping\"}]}")
                    .post("/v1/chat/completions");
            return false;
        });
    }

    @Test
    void sseSendsASnapshotAtOnceAndAChangedOneWhenTheEdgeCircuitsOpen() throws Exception {
        try (SseWatch w = new SseWatch(TestKeys.DEFAULT_DEVICE)) {
            await("the first snapshot").atMost(Duration.ofSeconds(5)).until(() -> !w.snapshots.isEmpty());
            GatewaySnapshot first = w.snapshots.get(0);
            assertEquals(2, first.edge().state().healthyReplicas(), String.valueOf(first));
            assertEquals("edge", first.edge().state().name());
            assertEquals("cloud", first.cloud().state().name());
            assertEquals(5000, first.validForMs());
            assertEquals(first.epoch() + "-" + first.version(), w.ids.get(0));
            assertEquals(advisor.settings(), first.settings());

            openTheEdgeCircuits();
            await("a snapshot with the edge's circuits open").atMost(Duration.ofSeconds(10))
                    .until(() -> w.last().edge().state().healthyReplicas() == 0);
            GatewaySnapshot open = w.last();
            assertTrue(open.version() > first.version());
            assertEquals(30_000, open.edge().circuitRetryMs());
            // And the device's decision follows: the edge is out, the hint says why.
            LocalAdvisor device = new LocalAdvisor(null);
            device.accept(open, 0);
            OffloadHint h = device.decide(new LocalAdvisor.Question(null, "status of line 3?", null, 0, null, null), 1).orElseThrow();
            assertTrue(h.reasons().stream().anyMatch(r -> r.code().equals("CIRCUIT_OPEN")), String.valueOf(h));
            assertEquals(OffloadHint.Target.CLOUD, h.target());

            // Heartbeat: the same version again, about once a second.
            long v = open.version();
            int before = (int) w.snapshots.stream().filter(s -> s.version() == v).count();
            await("a heartbeat").atMost(Duration.ofSeconds(5)).until(() -> w.snapshots.stream().filter(s -> s.version() == v).count() > before
                    || w.last().version() > v);
        }
    }

    @Test
    void grpcWatchSendsASnapshotAtOnceAndAChangedOneWhenTheEdgeCircuitsOpen() {
        try (GrpcWatch w = new GrpcWatch(TestKeys.DEFAULT_DEVICE)) {
            await("the first snapshot").atMost(Duration.ofSeconds(5)).until(() -> !w.snapshots.isEmpty() || w.failure.get() != null);
            assertEquals(null, w.failure.get());
            GatewaySnapshot first = w.snapshots.get(0);
            assertEquals(2, first.edge().state().healthyReplicas());
            openTheEdgeCircuits();
            await("a snapshot with the edge's circuits open").atMost(Duration.ofSeconds(10))
                    .until(() -> w.snapshots.get(w.snapshots.size() - 1).edge().state().healthyReplicas() == 0);
            assertTrue(w.snapshots.get(w.snapshots.size() - 1).version() > first.version());
        }
    }

    @Test
    void decisionsFromThePushedStateEqualDecide() throws Exception {
        long seed = new Random().nextLong();
        Random r = new Random(seed);
        String[] questions = {"what is the torque for the P-7 housing bolts", "status of line 3?",
                "compare the failover of pump A with pump B and then recommend one",
                "explain step by step how to reset the line 3 controller after an emergency stop",
                "Which of the following is NOT a prime number? 7, 9, 11"};
        LocalAdvisor device = LocalAdvisor.withBundledRouter();
        int compared = 0;
        try (GrpcWatch w = new GrpcWatch(TestKeys.DEFAULT_DEVICE)) {
            await().atMost(Duration.ofSeconds(5)).until(() -> !w.snapshots.isEmpty());
            for (int i = 0; i < 40; i++) {
                if (i == 20) {
                    openTheEdgeCircuits(); // the second half decides over another gateway state
                    await().atMost(Duration.ofSeconds(10)).until(() -> w.snapshots.get(w.snapshots.size() - 1).edge().state().healthyReplicas() == 0);
                }
                String text = questions[r.nextInt(questions.length)] + " #" + i; // never cached
                DeviceTelemetry telemetry = WatchWireParityTest.device(r);
                Sensitivity level = r.nextInt(4) == 0 ? null : Sensitivity.values()[r.nextInt(3)];
                int history = r.nextInt(3) == 0 ? 0 : r.nextInt(3000);
                Long budget = r.nextInt(3) == 0 ? null : 200L + r.nextInt(20_000);
                Integer maxTokens = r.nextInt(3) == 0 ? null : 1 + r.nextInt(1000);

                watch.tick();
                long version = watch.current().version();
                await().atMost(Duration.ofSeconds(5)).until(() -> w.snapshots.get(w.snapshots.size() - 1).version() == version);
                GatewaySnapshot pushed = w.snapshots.get(w.snapshots.size() - 1);
                String body = json.writeValueAsString(new QueryApi.DecideRequest(wire(telemetry),
                        new QueryApi.QueryText(text, history, level == null ? null : level.name().toLowerCase()), budget, maxTokens));
                OffloadHint fromGateway = TestKeys.given().contentType(ContentType.JSON).body(body).post("/v1/offload/decide")
                        .then().statusCode(200).extract().as(OffloadHint.class);
                watch.tick();
                if (watch.current().version() != version) {
                    continue; // the gateway changed while it decided: not the same input
                }
                device.accept(pushed, 0);
                OffloadHint local = device.decide(new LocalAdvisor.Question(telemetry, text, embedder.embed(text), history,
                        level, budget, maxTokens), 1).orElseThrow();
                assertEquals(fromGateway, local, "seed " + seed + " #" + i + " " + body);
                compared++;
            }
        }
        assertTrue(compared >= 30, "compared " + compared + " of 40 (seed " + seed + ")");
    }

    static QueryApi.Device wire(DeviceTelemetry d) {
        if (d == null) {
            return null;
        }
        var n = d.network();
        var m = d.localModel();
        return new QueryApi.Device(d.cpuUtil(), d.npuUtil(), d.memAvailableMb(), d.batteryPct(), d.charging(),
                d.thermal() == null ? null : d.thermal().name().toLowerCase(),
                n == null ? null : new QueryApi.NetworkInfo(n.type() == null ? null : n.type().wire(), n.rttMs(), n.downlinkKbps(), n.uplinkKbps()),
                m == null ? null : new QueryApi.LocalModelInfo(m.name(), m.tokensPerSec(), m.maxContextTokens(),
                        m.prefillTokensPerSec(), m.contextTokens()));
    }

    @Test
    void aWatchNeedsAKey() throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(watchUri).header("Accept", "text/event-stream").build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(401, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/problem+json"));
        given().header("Authorization", "Bearer not-a-key").accept("text/event-stream").get("/v1/offload/watch")
                .then().statusCode(401).contentType("application/problem+json");

        GrpcWatch anonymous = new GrpcWatch(null);
        await().atMost(Duration.ofSeconds(5)).until(() -> anonymous.failure.get() != null);
        assertEquals(Status.Code.UNAUTHENTICATED, ((StatusRuntimeException) anonymous.failure.get()).getStatus().getCode());
        assertTrue(anonymous.snapshots.isEmpty());
        assertEquals(0, watch.watchers());
    }

    @Test
    void notAnEventStreamIs406() {
        as(TestKeys.DEFAULT_DEVICE).accept("application/json").get("/v1/offload/watch")
                .then().statusCode(406).contentType("application/problem+json").body("status", equalTo(406));
    }

    @Test
    void watchersAreLimitedPerDeviceAndPerTenantOverBothTransportsAndClosedOnesAreFreed() throws Exception {
        // ACME and ACME_2 are two devices of tenant acme; the limits here are 2 per device, 3 per tenant.
        try (SseWatch a1 = new SseWatch(TestKeys.ACME); GrpcWatch a2 = new GrpcWatch(TestKeys.ACME)) {
            await().atMost(Duration.ofSeconds(5)).until(() -> !a1.snapshots.isEmpty() && !a2.snapshots.isEmpty());
            as(TestKeys.ACME).accept("text/event-stream").get("/v1/offload/watch").then().statusCode(429)
                    .contentType("application/problem+json").header("Retry-After", equalTo("1"))
                    .body("detail", containsString("gateway.watch.max-per-device"));
            GrpcWatch refused = new GrpcWatch(TestKeys.ACME);
            await().atMost(Duration.ofSeconds(5)).until(() -> refused.failure.get() != null);
            StatusRuntimeException e = (StatusRuntimeException) refused.failure.get();
            assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
            assertTrue(e.getStatus().getDescription().contains("max-per-device"), e.getStatus().getDescription());

            try (SseWatch b1 = new SseWatch(TestKeys.ACME_2)) {
                await().atMost(Duration.ofSeconds(5)).until(() -> !b1.snapshots.isEmpty());
                as(TestKeys.ACME_2).accept("text/event-stream").get("/v1/offload/watch").then().statusCode(429)
                        .body("detail", containsString("gateway.watch.max-per-tenant"));
                // Another tenant is not affected.
                try (SseWatch g = new SseWatch(TestKeys.GLOBEX)) {
                    await().atMost(Duration.ofSeconds(5)).until(() -> !g.snapshots.isEmpty());
                }
                await("acme's three left, globex's closed").atMost(Duration.ofSeconds(10)).until(() -> watch.watchers() == 3);
            }
        }
        // Closing (a disconnect) frees the places.
        await("disconnected watchers are cleaned up").atMost(Duration.ofSeconds(10)).until(() -> watch.watchers() == 0);
        try (SseWatch again = new SseWatch(TestKeys.ACME)) {
            await().atMost(Duration.ofSeconds(5)).until(() -> !again.snapshots.isEmpty());
        }
    }
}
