package dev.offload.gateway.api;

import dev.offload.gateway.abuse.Abusers;
import dev.offload.gateway.abuse.Http1Abuse;
import dev.offload.gateway.abuse.Http2PingFlood;
import dev.offload.gateway.abuse.ServerConnections;
import dev.offload.gateway.abuse.VictimLoad;
import dev.offload.gateway.generation.Generator;
import dev.offload.gateway.retrieval.SharedIndex;
import dev.offload.gateway.security.TestKeys;
import dev.offload.gateway.sim.SimulatedBackend;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.lessThanOrEqualTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 9, item 10: one tenant's slow, oversized and flooding clients are bounded, and another
 * tenant's requests keep succeeding beside them. The functional bounds are asserted exactly;
 * latency only loosely (a 2-core CI machine is noisy): the victim's p99 with abuse over its p99
 * without, in interleaved rounds, median of the ratios, printed. The precise figure comes from
 * {@code NoisyNeighboursBenchmark} (exec id {@code noisy}).
 */
@Tag("slow") // timed abuse rounds and idle timeouts: over a minute
@QuarkusTest
@QuarkusTestResource(value = NoisyNeighboursResource.class, restrictToAnnotatedClass = true)
class NoisyNeighboursTest {
    private static final String HOST = "127.0.0.1";
    private static final String ABUSER = TestKeys.GLOBEX;
    private static final String VICTIM = TestKeys.ACME;

    @Inject
    SharedIndex index;
    @Inject
    Generator generator;

    int port;
    @org.eclipse.microprofile.config.inject.ConfigProperty(name = "quarkus.grpc.server.test-port")
    int grpcPort;

    @BeforeEach
    void setUp() throws Exception {
        index.whenOpen().get(120, TimeUnit.SECONDS);
        port = RestAssured.port;
        reset();
    }

    @AfterEach
    void reset() {
        SimulatedBackendsResource.resetAll(generator);
    }

    private static void assertProblem(Http1Abuse.Outcome o, int status) {
        System.out.println("  " + o);
        assertEquals(status, o.status(), o.toString());
        assertTrue(o.contentType() != null && o.contentType().startsWith("application/problem+json"), o.toString());
        assertTrue(o.body().contains("\"status\":" + status), o.toString());
    }

    @Test
    void aBodyTrickledByteByByteIsCutOffWith408AndItsConnectionClosed() throws Exception {
        Http1Abuse.Outcome o = Http1Abuse.trickledBody(HOST, port, ABUSER, "/v1/query", 4096, Duration.ofMillis(100),
                Duration.ofSeconds(20));
        assertProblem(o, 408);
        assertTrue(o.closed(), "connection closed: " + o);
        assertTrue(o.millisToAnswer() >= NoisyNeighboursResource.BODY_TIMEOUT_MS - 100
                && o.millisToAnswer() < NoisyNeighboursResource.BODY_TIMEOUT_MS + 8000, o.toString());
        // The REST resources (Quarkus REST) too, not only the Vert.x routes.
        assertProblem(Http1Abuse.trickledBody(HOST, port, ABUSER, "/v1/search", 4096, Duration.ofMillis(100),
                Duration.ofSeconds(20)), 408);
    }

    @Test
    void oversizedBodiesGet413ProblemsBeforeTheyAreRead() throws Exception {
        Http1Abuse.Outcome declared = Http1Abuse.oversizedDeclared(HOST, port, ABUSER, "/v1/documents", 1L << 30);
        assertProblem(declared, 413);
        assertTrue(declared.millisToAnswer() < 5000, "answered before the body: " + declared);
        // Over a route's own limit (1 MiB for /v1/query, 4 MiB for chat), chunked and with a length.
        assertProblem(Http1Abuse.oversizedSent(HOST, port, ABUSER, "/v1/query", 2 * 1024 * 1024, true), 413);
        assertProblem(Http1Abuse.oversizedSent(HOST, port, ABUSER, "/v1/query", 2 * 1024 * 1024, false), 413);
        assertProblem(Http1Abuse.oversizedSent(HOST, port, ABUSER, "/v1/chat/completions", 5 * 1024 * 1024, true), 413);
        assertProblem(Http1Abuse.oversizedSent(HOST, port, ABUSER, "/v1/chat/completions", 5 * 1024 * 1024, false), 413);
    }

    @Test
    void headersTrickledWithoutEndAreCutOffByTheHeaderLimitAndStalledOnesByTheIdleTimeout() throws Exception {
        Http1Abuse.Outcome endless = Http1Abuse.endlessHeaders(HOST, port, 100, Duration.ofMillis(2), Duration.ofSeconds(30));
        System.out.println("  " + endless);
        assertEquals(431, endless.status(), endless.toString());
        assertTrue(endless.closed(), endless.toString());
        assertTrue(endless.bytesSent() < 64 * 1024, "cut off near 20 KiB of headers: " + endless);

        Http1Abuse.Outcome stalled = Http1Abuse.trickledHeadersThenStall(HOST, port, Duration.ofMillis(50),
                Duration.ofSeconds(1), Duration.ofSeconds(30));
        System.out.println("  " + stalled);
        assertTrue(stalled.closed(), "closed by the idle timeout: " + stalled);
        assertTrue(stalled.millisToAnswer() < NoisyNeighboursResource.IDLE_TIMEOUT_MS + 5000, stalled.toString());
    }

    @Test
    void streamsTheirClientNeverReadsDoNotHoldBackendSlotsAndTheirConnectionsClose() throws Exception {
        List<Http1Abuse.StalledReader> readers = new ArrayList<>();
        try {
            for (int i = 0; i < 8; i++) {
                readers.add(Http1Abuse.streamNeverRead(HOST, port, ABUSER, "/v1/chat/completions",
                        "{\"model\":\"auto\",\"stream\":true,\"max_tokens\":64,\"messages\":[{\"role\":\"user\",\"content\":\"unread "
                                + i + "\"}]}"));
            }
            // Nothing read yet, and still every generation ends and gives its slot back.
            await("every stream to reach a backend").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(20))
                    .until(NoisyNeighboursTest::received, greaterThanOrEqualTo(8L));
            assertNothingInFlight();
            long completed = Arrays.stream(SimulatedBackendsResource.all()).mapToLong(SimulatedBackend::requestsCompleted).sum();
            assertTrue(completed >= 8, "generations completed while their clients read nothing: " + completed);
            for (Http1Abuse.StalledReader r : readers) {
                Http1Abuse.Outcome o = r.finish(Duration.ofMillis(NoisyNeighboursResource.IDLE_TIMEOUT_MS + 10_000));
                System.out.println("  " + o.kind() + ": status " + o.status() + ", closed " + o.closed());
                assertEquals(200, o.status());
                assertTrue(o.closed(), "closed by the idle timeout: " + o);
            }
        } finally {
            for (Http1Abuse.StalledReader r : readers) {
                r.close();
            }
        }
    }

    /**
     * gRPC's keep-alive policy on the gRPC port (grpc-java's enforcer, configured by
     * {@code quarkus.grpc.server.netty.permit-keep-alive-*}): a PING sooner than 20 s after the
     * last is a strike, and the third strike gets GOAWAY ENHANCE_YOUR_CALM and a close — after a
     * call and on a connection that never made one alike, whether the acknowledgements are read or not.
     */
    @Test
    void aPingFloodOnTheGrpcPortIsStoppedWithinAFewPingsWithOrWithoutACall() throws Exception {
        for (String key : new String[]{ABUSER, null}) {
            for (boolean readAcks : new boolean[]{true, false}) {
                Http2PingFlood.Outcome o = Http2PingFlood.run(HOST, grpcPort, key, readAcks, Duration.ofSeconds(10));
                System.out.println("  " + o);
                if (key != null) {
                    assertEquals(0, o.callStatus(), "the gRPC call before the flood was answered: " + o);
                }
                assertTrue(o.closed(), "closed by the server: " + o);
                // The GOAWAY is lost when the server's close meets unread PINGs (the kernel sends
                // RST, which discards it); when it is read, it is ENHANCE_YOUR_CALM.
                assertTrue(o.goAwayCode() == -1 || o.goAwayCode() == 0xB, o.toString());
                // Two PINGs are tolerated; the rest of the first 64-PING write races the close.
                assertTrue(o.acksRead() <= 64, "acknowledged PINGs: " + o);
                assertTrue(o.millis() < 5000, "stopped at once: " + o);
            }
        }
    }

    /** The REST port speaks HTTP/1.1 only: an HTTP/2 connection (prior knowledge) is refused before any frame. */
    @Test
    void theRestPortRefusesHttp2SoNoPingReachesIt() throws Exception {
        try (java.net.Socket s = new java.net.Socket(HOST, port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            // An empty SETTINGS frame and a PING.
            s.getOutputStream().write(new byte[]{0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 8, 6, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8});
            java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
            boolean reset = false;
            try {
                byte[] buf = new byte[4096];
                for (int n; (n = s.getInputStream().read(buf)) >= 0; ) {
                    got.write(buf, 0, n);
                }
            } catch (java.net.SocketException e) {
                // The server closed with the frames after the request line unread: the kernel
                // sends RST, which may also discard the 501 before it is read. Still refused.
                reset = true;
            }
            String answer = got.toString(java.nio.charset.StandardCharsets.ISO_8859_1);
            System.out.println("  REST port answered an HTTP/2 preface with: " + answer.lines().findFirst().orElse("(nothing)")
                    + (reset ? " and a reset" : ""));
            // Vert.x's HTTP/1 codec answers the preface's request line "PRI * HTTP/2.0" with 501
            // (echoing its version) and closes: the read loop ended (end of stream or reset), so
            // the connection ended; no HTTP/2 frame (SETTINGS, PING ack) came back.
            assertTrue(answer.isEmpty() || answer.matches("(?s)HTTP/\\S+ [45]\\d\\d .*"), answer);
        }
    }

    @Test
    void anotherTenantsRequestsAllSucceedBesideTheAbuseAndConnectionsStayBounded() throws Exception {
        int before = ServerConnections.established(port);
        int victimClients = 4;
        Abusers.Mix mix = Abusers.Mix.standard();
        int abusiveConnections = mix.trickledBodies() + mix.trickledHeaders() + mix.oversized() + mix.neverRead() + mix.pingFloods();
        List<Double> ratios = new ArrayList<>();
        List<Object> outcomes = new ArrayList<>();
        int maxConnections = 0;
        try (VictimLoad victim = new VictimLoad(HOST, port, VICTIM, victimClients)) {
            victim.round(Duration.ofSeconds(2)); // warm-up
            // Paced like the benchmark's reported figure: back to back, the abusers' own client CPU
            // would be most of what the victim feels on 2 cores.
            Abusers abusers = new Abusers(HOST, port, grpcPort, ABUSER).pacedBy(Duration.ofMillis(100));
            try {
                for (int r = 0; r < 3; r++) {
                    VictimLoad.Round quiet = victim.round(Duration.ofSeconds(3));
                    abusers.start(mix, Duration.ofSeconds(20), Duration.ofSeconds(2), Duration.ofSeconds(30));
                    VictimLoad.Round abused = victim.round(Duration.ofSeconds(3));
                    maxConnections = Math.max(maxConnections, ServerConnections.established(port));
                    outcomes.addAll(abusers.stop(Duration.ofSeconds(60)));
                    System.out.printf("round %d: victim p99 quiet %.1f ms (%d requests), with abuse %.1f ms (%d requests); p50 %.1f / %.1f ms%n",
                            r, quiet.p99Millis(), quiet.requests(), abused.p99Millis(), abused.requests(), quiet.p50Millis(),
                            abused.p50Millis());
                    for (VictimLoad.Round round : List.of(quiet, abused)) {
                        assertEquals(0, round.failures(), "victim requests without an answer");
                        assertEquals(round.requests(), round.ok(), "every victim request answered 200: " + round.statuses());
                    }
                    ratios.add(abused.p99Millis() / quiet.p99Millis());
                }
            } finally {
                abusers.close();
            }
        }
        ratios.sort(null);
        double median = ratios.get(1);
        System.out.printf("victim p99 with abuse / without: median %.2f (rounds %s); server connections before %d, max during %d%n",
                median, ratios, before, maxConnections);
        long unbounded = outcomes.stream().filter(o -> !bounded(o)).count();
        System.out.println("abuser outcomes: " + outcomes.size() + ", unbounded " + unbounded);
        assertEquals(0, unbounded, "every abuse ended in an answer, a closed connection or GOAWAY: " + outcomes);
        assertTrue(maxConnections <= before + victimClients + abusiveConnections + 8,
                "server connections " + maxConnections + " with " + abusiveConnections + " abusers and " + victimClients + " victims");
        // Loose: on a shared 2-core machine the abusers' own threads compete for the CPU. The
        // benchmark measures the ratio on a quiet run.
        assertTrue(median <= 3.0, "victim p99 with abuse / without, median of 3: " + median);
        // Afterwards every abusive connection is gone (idle timeout) and the gateway holds no more than before.
        int after = await("the abusive connections to close (" + before + " before the abuse, " + victimClients + " victim clients)")
                .atMost(Duration.ofSeconds(20)).pollDelay(Duration.ofMillis(500)).pollInterval(Duration.ofMillis(500))
                .until(() -> ServerConnections.established(port), lessThanOrEqualTo(before + victimClients));
        System.out.println("server connections after the abuse: " + after);
    }

    private static long received() {
        return Arrays.stream(SimulatedBackendsResource.all()).mapToLong(SimulatedBackend::requestsReceived).sum();
    }

    private static boolean bounded(Object o) {
        if (o instanceof Http1Abuse.Outcome h) {
            return h.bounded();
        }
        if (o instanceof Http2PingFlood.Outcome p) {
            return p.bounded();
        }
        return false;
    }

    private void assertNothingInFlight() throws InterruptedException {
        SimulatedBackendsResource.awaitNothingInFlight(generator, Duration.ofSeconds(20));
    }
}
