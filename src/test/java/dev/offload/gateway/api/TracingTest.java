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
    @io.quarkus.grpc.GrpcClient("query")
    dev.offload.gateway.api.grpc.MutinyQueryServiceGrpc.MutinyQueryServiceStub unauthenticatedQueryStub;
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

    /** A document whose id, title and text must appear in no span; returns the index sequence of its write. */
    private static long ingest(String id) {
        return given().contentType(ContentType.JSON).body("{\"documents\":[{\"id\":\"" + id + "\",\"title\":\"" + DOC_TITLE
                        + "\",\"text\":\"" + DOC_TEXT + "\"}]}").when().post("/v1/documents").then().statusCode(200)
                .extract().jsonPath().getLong("sequence");
    }

    private static String queryBody(String question) {
        return "{\"query\":\"" + question + "\",\"k\":3,\"generate\":\"always\",\"maxTokens\":5}";
    }

    private static final String DOC_TEXT = "Okapi-sentinel-2718: the compressor C-4 intake valve is checked every week.";
    private static final String DOC_TITLE = "Compressor manual wombat";

    private List<SpanData> serverSpans(String route) {
        return exporter.getFinishedSpanItems().stream().filter(s -> s.getKind() == SpanKind.SERVER
                && route.equals(s.getAttributes().get(AttributeKey.stringKey("http.route")))).toList();
    }

    /** The trace's spans once every name in {@code names} has arrived (spans end on different threads). */
    private List<SpanData> awaitTrace(String traceId, List<String> names) {
        try {
            return await().atMost(Duration.ofSeconds(10)).until(() -> spansOfTrace(traceId),
                    l -> names.stream().allMatch(n -> l.stream().anyMatch(s -> s.getName().equals(n))));
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("trace " + traceId + " lacks one of " + names + ": "
                    + spansOfTrace(traceId).stream().map(s -> s.getKind() + " " + s.getName()).toList(), e);
        }
    }

    private static SpanData named(List<SpanData> spans, String name) {
        List<SpanData> found = spans.stream().filter(s -> s.getName().equals(name)).toList();
        assertEquals(1, found.size(), "spans named " + name + ": " + found);
        return found.get(0);
    }

    private static final List<String> GENERATED = List.of("query.embed", "query.cache", "query.retrieve", "query.decide",
            "query.generate");

    /**
     * One generated query's trace: every stage a child of the server span (the stages run on a worker, the backend
     * answers on an I/O thread), the backend call's GenAI client span a child of the generation stage.
     */
    private void assertGeneratedTree(SpanData server, List<SpanData> trace) {
        for (String name : GENERATED) {
            SpanData stage = named(trace, name);
            assertEquals(SpanKind.INTERNAL, stage.getKind(), name);
            assertEquals(server.getSpanId(), stage.getParentSpanId(), name + " is a child of the server span");
        }
        SpanData generate = named(trace, "query.generate");
        // GenAI client spans only (a gRPC test client's own span is a client span of this trace too)
        List<SpanData> clients = trace.stream().filter(s -> s.getKind() == SpanKind.CLIENT
                && s.getAttributes().get(AttributeKey.stringKey("gen_ai.operation.name")) != null).toList();
        assertFalse(clients.isEmpty(), "no GenAI client span in " + trace);
        for (SpanData c : clients) {
            assertEquals(generate.getSpanId(), c.getParentSpanId(), "the backend call is a child of the generation stage");
        }
        var g = generate.getAttributes();
        assertTrue(List.of("edge", "cloud").contains(g.get(AttributeKey.stringKey("gateway.served_by"))), g.toString());
        // One call per attempt (on a loaded machine a first-token timeout may fail over to a second).
        assertEquals((long) clients.size(), g.get(AttributeKey.longKey("gateway.attempts")));
        assertEquals(StatusCode.UNSET, generate.getStatus().getStatusCode());
        assertEquals("miss", named(trace, "query.cache").getAttributes().get(AttributeKey.stringKey("gateway.cache.result")));
        var r = named(trace, "query.retrieve").getAttributes();
        assertEquals(3L, r.get(AttributeKey.longKey("gateway.retrieval.k")));
        Long hits = r.get(AttributeKey.longKey("gateway.retrieval.hits"));
        assertNotNull(hits);
        assertTrue(hits >= 1 && hits <= 3, "hits " + hits);
        var d = named(trace, "query.decide").getAttributes();
        assertTrue(List.of("EDGE", "CLOUD", "LOCAL").contains(d.get(AttributeKey.stringKey("gateway.offload.target"))), d.toString());
        assertNotNull(d.get(AttributeKey.stringArrayKey("gateway.offload.reasons")));
        assertEquals("internal", d.get(AttributeKey.stringKey("gateway.sensitivity")));
        assertEquals(g.get(AttributeKey.stringKey("gateway.served_by")), server.getAttributes().get(AttributeKey.stringKey("gateway.served_by")));
    }

    private void assertNoSpanCarries(List<String> forbidden) {
        for (SpanData s : exporter.getFinishedSpanItems()) {
            String all = s.getName() + " " + s.getAttributes() + " " + s.getEvents() + " " + s.getStatus();
            for (String f : forbidden) {
                assertFalse(all.contains(f), "span " + s.getName() + " carries '" + f + "': " + all);
            }
        }
    }

    @Test
    void aQueryIsOneTraceOfStageSpansWithTheBackendCallUnderItsGeneration() {
        String doc = "trace-doc-4711";
        ingest(doc);
        double before = overheadCount("query", "false");
        String question = SECRET + " how often is the compressor C-4 intake valve checked";
        String servedBy = given().contentType(ContentType.JSON).body(queryBody(question)).when().post("/v1/query")
                .then().statusCode(200).extract().jsonPath().getString("servedBy");
        SpanData server = serverSpan("/v1/query");
        List<SpanData> trace = awaitTrace(server.getTraceId(), GENERATED);
        assertGeneratedTree(server, trace);
        assertEquals(servedBy, server.getAttributes().get(AttributeKey.stringKey("gateway.served_by")));
        Double ms = server.getAttributes().get(AttributeKey.doubleKey("gateway.overhead_ms"));
        assertNotNull(ms, "the server span carries the query's overhead");
        assertTrue(ms >= 0, "overhead " + ms);
        assertEquals(before + 1, overheadCount("query", "false"));
        assertTrue(received(SECRET).findAny().isPresent(), "the question reached a backend");
        assertTrue(received("Okapi-sentinel-2718").findAny().isPresent(), "the document reached a backend");
        assertNoSpanCarries(List.of(SECRET, "how often", "Okapi-sentinel-2718", "intake valve", doc, DOC_TITLE,
                TestKeys.DEFAULT_DEVICE));
    }

    @Test
    void aStreamedQueryIsMeasuredAndItsCachedRepeatIsACacheHitWithoutRetrievalOrGeneration() {
        ingest("trace-doc-4712");
        double streamed = overheadCount("query", "true");
        double whole = overheadCount("query", "false");
        String question = SECRET + " which colour are the forklift seats painted in hall nine";
        String sse = given().contentType(ContentType.JSON).accept("text/event-stream").body(queryBody(question)).when()
                .post("/v1/query").then().statusCode(200).extract().asString();
        assertTrue(sse.contains("event: final"), sse);
        SpanData first = serverSpan("/v1/query");
        assertGeneratedTree(first, awaitTrace(first.getTraceId(), GENERATED));
        assertEquals(streamed + 1, overheadCount("query", "true"));

        given().contentType(ContentType.JSON).body(queryBody(question)).when().post("/v1/query").then().statusCode(200)
                .body("servedBy", org.hamcrest.Matchers.is("cache"));
        SpanData second = await().atMost(Duration.ofSeconds(10)).until(() -> serverSpans("/v1/query").stream()
                .filter(s -> !s.getTraceId().equals(first.getTraceId())).findFirst(), Optional::isPresent).orElseThrow();
        List<SpanData> trace = awaitTrace(second.getTraceId(), List.of("query.embed", "query.cache", "query.decide"));
        var cache = named(trace, "query.cache").getAttributes();
        assertEquals("exact_hit", cache.get(AttributeKey.stringKey("gateway.cache.result")));
        assertEquals(1.0, cache.get(AttributeKey.doubleKey("gateway.cache.similarity")));
        assertEquals("CACHE", named(trace, "query.decide").getAttributes().get(AttributeKey.stringKey("gateway.offload.target")));
        for (String absent : List.of("query.retrieve", "query.generate")) {
            assertTrue(trace.stream().noneMatch(s -> s.getName().equals(absent)), absent + " in a cache hit's trace");
        }
        assertTrue(trace.stream().noneMatch(s -> s.getKind() == SpanKind.CLIENT), "no backend call for a cache hit");
        assertEquals(whole, overheadCount("query", "false"), "a cached answer has no backend share to measure against");
        assertNoSpanCarries(List.of(SECRET, "Okapi-sentinel-2718", "trace-doc-4712", DOC_TITLE));
    }

    @Test
    void aGrpcQueryWaitingForItsWriteKeepsOneTrace() {
        long sequence = ingest("trace-doc-4713");
        double streamed = overheadCount("query", "true");
        var md = new io.grpc.Metadata();
        md.put(GrpcReadYourWritesInterceptor.KEY, Long.toString(sequence));
        var stub = TestKeys.grpcAs(unauthenticatedQueryStub, TestKeys.DEFAULT_DEVICE)
                .withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(md));
        var events = stub.query(dev.offload.gateway.api.grpc.QueryRequest.newBuilder()
                        .setQuery(SECRET + " where may the night shift park its bicycles").setK(3).setMaxTokens(5)
                        .setGenerate("always").build())
                .collect().asList().await().atMost(Duration.ofSeconds(20));
        assertTrue(events.get(events.size() - 1).hasFinal(), events.toString());
        SpanData server = await().atMost(Duration.ofSeconds(10)).until(() -> exporter.getFinishedSpanItems().stream()
                .filter(s -> s.getKind() == SpanKind.SERVER && s.getName().contains("QueryService/Query")).findFirst(),
                Optional::isPresent).orElseThrow();
        assertGeneratedTree(server, awaitTrace(server.getTraceId(), GENERATED));
        assertEquals(streamed + 1, overheadCount("query", "true"));
        assertNoSpanCarries(List.of(SECRET, "Okapi-sentinel-2718", "trace-doc-4713", DOC_TITLE));
    }

    @Test
    void everyChatAndCompletionCallSpanNamesTheModelTheBackendAnswered() {
        String model = tiers.settings("edge").model();
        given().contentType(ContentType.JSON).body(body("edge", "response model whole", false)).when()
                .post("/v1/chat/completions").then().statusCode(200);
        given().contentType(ContentType.JSON).body(body("edge", "response model stream", true)).when()
                .post("/v1/chat/completions").then().statusCode(200);
        for (boolean stream : List.of(false, true)) {
            given().contentType(ContentType.JSON).body("{\"model\":\"edge\",\"prompt\":\"response model legacy\",\"max_tokens\":3,"
                    + "\"stream\":" + stream + "}").when().post("/v1/completions").then().statusCode(200);
        }
        // The call of each request that answered (on a loaded machine an attempt may time out and fail over first).
        List<SpanData> clients = await().atMost(Duration.ofSeconds(10)).until(() -> exporter.getFinishedSpanItems().stream()
                .filter(s -> s.getKind() == SpanKind.CLIENT && s.getStatus().getStatusCode() == StatusCode.UNSET
                        && s.getAttributes().get(AttributeKey.booleanKey("gateway.cancelled")) == null).toList(), l -> l.size() >= 4);
        assertEquals(2, clients.stream().filter(c -> c.getName().equals("chat " + model)).count(), clients.toString());
        assertEquals(2, clients.stream().filter(c -> c.getName().equals("text_completion " + model)).count(), clients.toString());
        for (SpanData c : clients) {
            // The simulated backend echoes the model it was asked for in every chunk, as vLLM names its served model.
            assertEquals(model, c.getAttributes().get(AttributeKey.stringKey("gen_ai.response.model")), c.getName());
        }
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
