package dev.offload.gateway.api;

import dev.offload.gateway.ManagementInterface;
import dev.offload.gateway.generation.Generator;
import dev.offload.gateway.generation.TierRegistry;
import dev.offload.gateway.retrieval.SharedIndex;
import dev.offload.gateway.security.TestKeys;
import dev.offload.gateway.sim.Fault;
import dev.offload.gateway.sim.ReceivedRequest;
import dev.offload.gateway.sim.SimulatedBackend;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static dev.offload.gateway.security.TestKeys.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Traces with the SDK switched on (as an operator would at run time): a server span per request
 * from Quarkus' HTTP instrumentation, a GenAI client span per backend call, the trace context on
 * the backend's request, no content in any attribute, and the gateway-overhead histogram.
 */
@QuarkusTest
@TestProfile(TracingTest.TracingOn.class)
@QuarkusTestResource(value = SimulatedBackendsResource.class, restrictToAnnotatedClass = true)
class TracingTest {
    /** The run-time switch of the README, and a short export delay so the spans arrive soon. */
    public static class TracingOn implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("quarkus.otel.sdk.disabled", "false", "quarkus.otel.bsp.schedule.delay", "20ms");
        }
    }

    /** The exporter the SDK sends to (quarkus.otel.traces.exporter=cdi: every SpanExporter bean). */
    @Singleton
    static class Exporter {
        @Produces
        @Singleton
        InMemorySpanExporter inMemorySpanExporter() {
            return InMemorySpanExporter.create();
        }
    }

    private static final String SECRET = "zebra-quartz-1729";
    private static final String EMAIL = "ada.lovelace@example.org";
    private static final Pattern TRACEPARENT = Pattern.compile("00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]");

    @Inject
    InMemorySpanExporter exporter;
    @Inject
    Generator generator;
    @Inject
    TierRegistry tiers;
    @Inject
    SharedIndex index;

    @BeforeEach
    void reset() throws Exception {
        index.whenOpen().get(120, TimeUnit.SECONDS);
        SimulatedBackendsResource.resetAll(generator);
        exporter.reset();
    }

    @AfterEach
    void clear() {
        SimulatedBackendsResource.resetAll(generator);
    }

    private static String body(String model, String prompt, boolean stream) {
        return "{\"model\":\"" + model + "\",\"stream\":" + stream + ",\"max_tokens\":5,\"temperature\":0.3,\"top_p\":0.9,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"" + prompt + "\"}]}";
    }

    private List<SpanData> spansOfTrace(String traceId) {
        return exporter.getFinishedSpanItems().stream().filter(s -> s.getTraceId().equals(traceId)).toList();
    }

    private SpanData serverSpan(String route) {
        try {
            return await().atMost(Duration.ofSeconds(10)).until(() -> exporter.getFinishedSpanItems().stream()
                    .filter(s -> s.getKind() == SpanKind.SERVER && route.equals(s.getAttributes().get(AttributeKey.stringKey("http.route"))))
                    .findFirst(), Optional::isPresent).orElseThrow();
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("no server span of route " + route + " among " + exporter.getFinishedSpanItems().stream()
                    .map(s -> s.getKind() + " " + s.getName() + " " + s.getAttributes()).toList(), e);
        }
    }

    private static Stream<ReceivedRequest> received(String marker) {
        return Stream.of(SimulatedBackendsResource.edgeA, SimulatedBackendsResource.edgeB, SimulatedBackendsResource.cloud)
                .flatMap(b -> b.receivedRequests().stream()).filter(r -> r.body().contains(marker));
    }

    @Test
    void aChatCompletionHasAServerSpanAndAGenAiClientSpanWithUsage() {
        String prompt = SECRET + " what is the policy";
        given().contentType(ContentType.JSON).body(body("edge", prompt, false)).when().post("/v1/chat/completions")
                .then().statusCode(200);
        SpanData server = serverSpan("/v1/chat/completions");
        assertEquals("POST /v1/chat/completions", server.getName());
        assertEquals("edge", server.getAttributes().get(AttributeKey.stringKey("gateway.served_by")));
        SpanData client = await().atMost(Duration.ofSeconds(10)).until(() -> spansOfTrace(server.getTraceId()).stream()
                .filter(s -> s.getKind() == SpanKind.CLIENT).findFirst(), Optional::isPresent).orElseThrow();

        String model = tiers.settings("edge").model();
        assertEquals("chat " + model, client.getName());
        assertEquals(server.getSpanId(), client.getParentSpanId(), "the backend call is a child of the request");
        var a = client.getAttributes();
        assertEquals("chat", a.get(AttributeKey.stringKey("gen_ai.operation.name")));
        assertEquals("openai", a.get(AttributeKey.stringKey("gen_ai.provider.name")));
        assertEquals(model, a.get(AttributeKey.stringKey("gen_ai.request.model")));
        assertEquals(5L, a.get(AttributeKey.longKey("gen_ai.request.max_tokens")));
        assertEquals(0.3, a.get(AttributeKey.doubleKey("gen_ai.request.temperature")));
        assertEquals(0.9, a.get(AttributeKey.doubleKey("gen_ai.request.top_p")));
        Long in = a.get(AttributeKey.longKey("gen_ai.usage.input_tokens"));
        Long out = a.get(AttributeKey.longKey("gen_ai.usage.output_tokens"));
        assertNotNull(in);
        assertTrue(in > 0, "input tokens " + in);
        assertEquals(5L, out, "the simulated backend generates max_tokens tokens");
        assertEquals(List.of("length"), a.get(AttributeKey.stringArrayKey("gen_ai.response.finish_reasons")));
        assertEquals("edge", a.get(AttributeKey.stringKey("gateway.tier")));
        assertEquals(StatusCode.UNSET, client.getStatus().getStatusCode());

        ReceivedRequest sent = received(SECRET).findFirst().orElseThrow();
        SimulatedBackend replica = Stream.of(SimulatedBackendsResource.edgeA, SimulatedBackendsResource.edgeB)
                .filter(b -> b.receivedRequests().contains(sent)).findFirst().orElseThrow();
        assertEquals((long) replica.port(), a.get(AttributeKey.longKey("server.port")));
        assertTrue(Stream.of("127.0.0.1", "localhost").anyMatch(h -> h.equals(a.get(AttributeKey.stringKey("server.address")))),
                "server.address " + a.get(AttributeKey.stringKey("server.address")));

        // The trace context reached the backend: the client span's own ids, so the backend's spans nest under it.
        String traceparent = sent.headers().get("traceparent");
        assertNotNull(traceparent, "no traceparent on the backend request: " + sent.headers().keySet());
        Matcher m = TRACEPARENT.matcher(traceparent);
        assertTrue(m.matches(), traceparent);
        assertEquals(client.getTraceId(), m.group(1));
        assertEquals(client.getSpanId(), m.group(2));
    }

    @Test
    void noSpanCarriesThePromptPersonalDataOrTheKey() {
        String prompt = SECRET + " mail me at " + EMAIL;
        given().contentType(ContentType.JSON).body(body("edge", prompt, false)).when().post("/v1/chat/completions")
                .then().statusCode(200);
        given().contentType(ContentType.JSON).body(body("cloud", prompt, true)).when().post("/v1/chat/completions")
                .then().statusCode(200);
        await().atMost(Duration.ofSeconds(10)).until(() -> exporter.getFinishedSpanItems().stream()
                .filter(s -> s.getKind() == SpanKind.CLIENT).count() >= 2);
        assertTrue(received(SECRET).findAny().isPresent(), "the prompt reached a backend");
        for (SpanData s : exporter.getFinishedSpanItems()) {
            String all = s.getName() + " " + s.getAttributes() + " " + s.getEvents() + " " + s.getStatus();
            for (String forbidden : List.of(SECRET, EMAIL, "mail me", TestKeys.DEFAULT_DEVICE)) {
                assertFalse(all.contains(forbidden), "span " + s.getName() + " carries '" + forbidden + "': " + all);
            }
        }
    }

    @Test
    void aFailedBackendCallHasErrorStatus() {
        SimulatedBackendsResource.edgeA.fault(Fault.ERROR_500);
        SimulatedBackendsResource.edgeB.fault(Fault.ERROR_500);
        given().contentType(ContentType.JSON).body(body("edge", SECRET + " fails", false)).when()
                .post("/v1/chat/completions").then().statusCode(org.hamcrest.Matchers.anyOf(
                        org.hamcrest.Matchers.is(200), org.hamcrest.Matchers.is(502), org.hamcrest.Matchers.is(503)));
        SpanData server = serverSpan("/v1/chat/completions");
        List<SpanData> clients = await().atMost(Duration.ofSeconds(10)).until(() -> spansOfTrace(server.getTraceId())
                .stream().filter(s -> s.getKind() == SpanKind.CLIENT).toList(), l -> !l.isEmpty());
        for (SpanData c : clients) {
            assertEquals(StatusCode.ERROR, c.getStatus().getStatusCode(), c.toString());
            assertEquals("backend_error", c.getAttributes().get(AttributeKey.stringKey("error.type")));
        }
    }

    @Test
    void serverSpansNameTheRouteNotTheDocumentId() {
        given().when().get("/v1/documents/secret-doc-77").then().statusCode(404);
        SpanData server = await().atMost(Duration.ofSeconds(10)).until(() -> exporter.getFinishedSpanItems().stream()
                .filter(s -> s.getKind() == SpanKind.SERVER && s.getName().startsWith("GET /v1/documents/")).findFirst(),
                Optional::isPresent).orElseThrow();
        String route = server.getAttributes().get(AttributeKey.stringKey("http.route"));
        assertTrue(route.startsWith("/v1/documents/{id"), route);
        // Every attribute, url.path included (it is the raw path by the conventions): the template, never the id.
        String all = server.getName() + " " + server.getAttributes();
        assertFalse(all.contains("secret-doc-77"), all);
        assertEquals("/v1/documents/{id}", server.getAttributes().get(AttributeKey.stringKey("url.path")));
    }

    @Test
    void theOverheadHistogramIsRecordedPerEndpointAndMode() {
        double before = overheadCount("chat", "false");
        double beforeStream = overheadCount("chat", "true");
        given().contentType(ContentType.JSON).body(body("edge", "overhead whole", false)).when()
                .post("/v1/chat/completions").then().statusCode(200);
        given().contentType(ContentType.JSON).body(body("edge", "overhead stream", true)).when()
                .post("/v1/chat/completions").then().statusCode(200);
        assertEquals(before + 1, overheadCount("chat", "false"));
        assertEquals(beforeStream + 1, overheadCount("chat", "true"));
        SpanData server = serverSpan("/v1/chat/completions");
        Double ms = server.getAttributes().get(AttributeKey.doubleKey("gateway.overhead_ms"));
        assertNotNull(ms, "the server span carries the request's overhead");
        assertTrue(ms >= 0, "overhead " + ms);
    }

    /**
     * {@code gateway_overhead_seconds_count{endpoint,stream}} on the management interface. With tracing on, a sample
     * may end in an exemplar ({@code # {span_id=…,trace_id=…} …}): Micrometer links histograms to traces.
     */
    private static double overheadCount(String endpoint, String stream) {
        String text = ManagementInterface.given().when().get("/q/metrics").then().statusCode(200).extract().asString();
        Matcher m = Pattern.compile("^gateway_overhead_seconds_count\\{([^}]*)} (\\S+)", Pattern.MULTILINE).matcher(text);
        while (m.find()) {
            if (m.group(1).contains("endpoint=\"" + endpoint + "\"") && m.group(1).contains("stream=\"" + stream + "\"")) {
                return Double.parseDouble(m.group(2));
            }
        }
        throw new AssertionError("no gateway_overhead_seconds_count for " + endpoint + "/" + stream + " in "
                + text.lines().filter(l -> l.contains("overhead")).toList());
    }
}
