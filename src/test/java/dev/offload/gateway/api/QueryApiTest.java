package dev.offload.gateway.api;

import dev.offload.gateway.ManagementInterface;
import dev.offload.gateway.api.grpc.DecideRequest;
import dev.offload.gateway.api.grpc.Device;
import dev.offload.gateway.api.grpc.Network;
import dev.offload.gateway.api.grpc.QueryEvent;
import dev.offload.gateway.api.grpc.QueryRequest;
import dev.offload.gateway.api.grpc.QueryService;
import dev.offload.gateway.api.grpc.Target;
import dev.offload.gateway.generation.Generator;
import dev.offload.gateway.retrieval.SharedIndex;
import dev.offload.gateway.sim.Fault;
import dev.offload.gateway.sim.SimulatedBackend;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.offload.gateway.security.TestKeys.given;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.anyOf;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.lessThanOrEqualTo;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The device's query path end to end: REST, SSE and gRPC against simulated edge and cloud backends. */
@QuarkusTest
@QuarkusTestResource(value = SimulatedBackendsResource.class, restrictToAnnotatedClass = true)
class QueryApiTest {
    @Inject
    Generator generator;
    @Inject
    SharedIndex index;

    @GrpcClient("query")
    QueryService unauthenticated;
    @GrpcClient("query")
    dev.offload.gateway.api.grpc.MutinyQueryServiceGrpc.MutinyQueryServiceStub unauthenticatedStub;
    QueryService grpc;
    dev.offload.gateway.api.grpc.MutinyQueryServiceGrpc.MutinyQueryServiceStub stub;

    private static final String PUBLIC_TEXT = "The pump P-7 on line 3 needs a seal change every 2000 hours. "
            + "Torque the housing bolts to 45 newton metres.";
    private static final String RESTRICTED_TEXT = "Zebra-canary-7731: the vault code of the plant is kept by the shift lead.";
    private static final String CONFIDENTIAL_TEXT = "Okapi-canary-5519: the supplier contract for pump seals renews in March.";

    @BeforeEach
    void setUp() throws Exception {
        index.whenOpen().get(120, TimeUnit.SECONDS);
        grpc = dev.offload.gateway.security.TestKeys.grpcAs(unauthenticated, dev.offload.gateway.security.TestKeys.DEFAULT_DEVICE);
        stub = dev.offload.gateway.security.TestKeys.grpcAs(unauthenticatedStub, dev.offload.gateway.security.TestKeys.DEFAULT_DEVICE);
        for (SimulatedBackend b : SimulatedBackendsResource.all()) {
            b.clearFault();
            b.resetStats();
        }
        generator.resetCircuits();
        String docs = "{\"documents\":["
                + doc("pump-manual", "Pump P-7 maintenance", PUBLIC_TEXT, "public") + ","
                + doc("vault-note", "Zebra vault note", RESTRICTED_TEXT, "restricted") + ","
                + doc("okapi-contract", "Okapi supplier contract", CONFIDENTIAL_TEXT, "confidential") + "]}";
        given().contentType(ContentType.JSON).body(docs).when().post("/v1/documents").then().statusCode(200);
    }

    @AfterEach
    void clear() {
        for (SimulatedBackend b : SimulatedBackendsResource.all()) {
            b.clearFault();
        }
        generator.resetCircuits();
    }

    private static String doc(String id, String title, String text, String sensitivity) {
        return "{\"id\":\"" + id + "\",\"title\":\"" + title + "\",\"text\":\"" + text
                + "\",\"metadata\":{\"sensitivity\":\"" + sensitivity + "\"}}";
    }

    private static Response query(String body, boolean sse) {
        var spec = given().contentType(ContentType.JSON).body(body);
        if (sse) {
            spec = spec.accept("text/event-stream");
        }
        return spec.when().post("/v1/query");
    }

    private static List<String[]> events(String sse) {
        List<String[]> out = new ArrayList<>();
        for (String block : sse.split("\n\n")) {
            if (block.isBlank()) {
                continue;
            }
            String[] lines = block.split("\n", 2);
            assertTrue(lines[0].startsWith("event: ") && lines[1].startsWith("data: "), "malformed SSE block: " + block);
            out.add(new String[]{lines[0].substring(7), lines[1].substring(6)});
        }
        return out;
    }

    private static long received(SimulatedBackend b, String needle) {
        return b.receivedBodies().stream().filter(x -> x.contains(needle)).count();
    }

    @Test
    void aQueryIsAnsweredFromTheEdgeWithSourcesHintAndTimings() {
        String q = "how often does pump P-7 need a seal change";
        JsonPath j = query("{\"query\":\"" + q + "\",\"k\":3,\"maxTokens\":8,\"filter\":{\"sensitivity\":\"public\"},"
                + "\"device\":{\"network\":{\"type\":\"wifi\",\"rttMs\":15}}}", false)
                .then().statusCode(200).contentType(ContentType.JSON)
                .header("X-Offload-Served-By", "edge")
                .body("servedBy", equalTo("edge"))
                .body("answer", equalTo(SimulatedBackend.expectedContent(q, 8)))
                .body("sources.documentId", hasItem("pump-manual"))
                .body("sources[0].snippet", notNullValue())
                .body("hint.target", equalTo("EDGE"))
                .body("hint.reasons.code", hasItem("LOCAL_MODEL_MISSING"))
                .body("hint.estimates.edgeMs", notNullValue())
                .body("hint.validForMs", greaterThan(0))
                .body("timings.retrieveMs", notNullValue())
                .body("timings.ttftMs", notNullValue())
                .body("timings.totalMs", notNullValue())
                .extract().jsonPath();
        assertTrue(j.getList("sources").size() <= 3);
        // The prompt framed retrieved text as quoted data behind the gateway's own system prompt.
        List<String> bodies = new ArrayList<>(SimulatedBackendsResource.edgeA.receivedBodies());
        bodies.addAll(SimulatedBackendsResource.edgeB.receivedBodies());
        assertEquals(1, bodies.size(), "one backend call");
        assertTrue(bodies.get(0).contains("<source id=\\\"1\\\"") && bodies.get(0).contains("quoted data"), bodies.get(0));
    }

    @Test
    void sseStreamsSourcesTokensAndFinal() {
        String q = "what torque for the pump P-7 housing bolts";
        Response r = query("{\"query\":\"" + q + "\",\"k\":1,\"maxTokens\":6}", true);
        r.then().statusCode(200).contentType(containsString("text/event-stream"));
        List<String[]> ev = events(r.asString());
        assertEquals("sources", ev.get(0)[0]);
        assertEquals("final", ev.get(ev.size() - 1)[0]);
        StringBuilder text = new StringBuilder();
        for (String[] e : ev.subList(1, ev.size() - 1)) {
            assertEquals("token", e[0]);
            text.append(JsonPath.from(e[1]).getString("text"));
        }
        assertEquals(SimulatedBackend.expectedContent(q, 6), text.toString());
        JsonPath fin = JsonPath.from(ev.get(ev.size() - 1)[1]);
        assertEquals("edge", fin.getString("servedBy"));
        assertEquals("EDGE", fin.getString("hint.target"));
        assertNotNull(fin.get("timings.totalMs"));
    }

    @Test
    void restrictedContextNeverReachesABackendAndTheHintSaysLocal() {
        JsonPath j = query("{\"query\":\"where is the Zebra vault code kept\",\"k\":3}", false).then().statusCode(200)
                .body("servedBy", equalTo("none"))
                .body("answer", nullValue())
                .body("hint.target", equalTo("LOCAL"))
                .body("hint.reasons.code", hasItem("SENSITIVITY_RESTRICTED"))
                .body("sources.documentId", hasItem("vault-note"))
                .extract().jsonPath();
        assertNotNull(j.get("timings.retrieveMs"));
        for (SimulatedBackend b : SimulatedBackendsResource.all()) {
            assertEquals(0, received(b, "Zebra-canary"), "restricted text reached a backend");
            assertEquals(0, b.requestsReceived());
        }
    }

    @Test
    void confidentialContextNeverReachesTheCloudEvenWhenTheEdgeIsDown() {
        SimulatedBackendsResource.edgeA.fault(Fault.ERROR_500);
        SimulatedBackendsResource.edgeB.fault(Fault.ERROR_500);
        query("{\"query\":\"when does the Okapi supplier contract renew\",\"k\":1,\"maxTokens\":8}", false)
                .then().statusCode(200)
                .body("servedBy", equalTo("extractive"))
                .body("answer", containsString("[extractive answer"))
                .body("hint.target", equalTo("EDGE"));
        assertEquals(0, SimulatedBackendsResource.cloud.requestsReceived(), "confidential prompt went to the cloud tier");
        assertEquals(0, received(SimulatedBackendsResource.cloud, "Okapi-canary"));
    }

    @Test
    void aDeviceThatIsOfflineOrAsksNotToGenerateGetsSourcesAndTheHintOnly() {
        query("{\"query\":\"pump P-7 seal change\",\"k\":1,\"generate\":\"unless-local\","
                + "\"device\":{\"network\":{\"type\":\"offline\"},\"localModel\":{\"name\":\"m\",\"tokensPerSec\":20,\"maxContextTokens\":2048}}}", false)
                .then().statusCode(200)
                .body("servedBy", equalTo("none"))
                .body("hint.target", equalTo("LOCAL"))
                .body("hint.reasons.code", hasItem("NETWORK_OFFLINE"))
                .body("hint.maxContextTokens", equalTo(2048))
                .body("sources.documentId", hasItem("pump-manual"));
        query("{\"query\":\"pump P-7 seal change\",\"k\":1,\"generate\":\"never\"}", false).then().statusCode(200)
                .body("servedBy", equalTo("none")).body("hint.target", equalTo("EDGE"));
        for (SimulatedBackend b : SimulatedBackendsResource.all()) {
            assertEquals(0, b.requestsReceived());
        }
    }

    @Test
    void aBackendFailureMidStreamEndsWithAnErrorEventAndNoDuplicatedText() {
        for (SimulatedBackend b : new SimulatedBackend[]{SimulatedBackendsResource.edgeA, SimulatedBackendsResource.edgeB}) {
            b.resetAfterTokens(3);
            b.fault(Fault.RESET_MID_STREAM);
        }
        String q = "pump P-7 seal interval please";
        Response r = query("{\"query\":\"" + q + "\",\"k\":1,\"maxTokens\":12}", true);
        r.then().statusCode(200);
        List<String[]> ev = events(r.asString());
        assertEquals("sources", ev.get(0)[0]);
        String[] last = ev.get(ev.size() - 1);
        assertEquals("error", last[0], "terminal event");
        JsonPath err = JsonPath.from(last[1]);
        assertNotNull(err.getString("reason"));
        assertNotNull(err.getString("hint.target"));
        StringBuilder text = new StringBuilder();
        for (String[] e : ev.subList(1, ev.size() - 1)) {
            assertEquals("token", e[0]);
            text.append(JsonPath.from(e[1]).getString("text"));
        }
        // What arrived before the reset (a TCP reset may discard some tokens), once each and in order.
        assertTrue(SimulatedBackend.expectedContent(q, 3).startsWith(text.toString()), "tokens in order, none repeated: " + text);
        assertEquals(0, SimulatedBackendsResource.cloud.requestsReceived(), "no failover after the first token");
    }

    @Test
    void aQueryWithoutBudgetLeftIsRefusedWith429RetryAfterAndALocalHint() {
        query("{\"query\":\"pump P-7 seal change\",\"k\":1,\"latencyBudgetMs\":1}", false).then()
                .statusCode(429)
                .contentType(containsString("application/problem+json"))
                .header("Retry-After", notNullValue())
                .header("X-Offload-Hint", "LOCAL")
                .body("reason", equalTo("deadline"))
                .body("hint.target", equalTo("LOCAL"))
                .body("hint.reasons[0].code", equalTo("GATEWAY_REFUSED"))
                .body("hint.retryAfterMs", greaterThan(0));
        for (SimulatedBackend b : SimulatedBackendsResource.all()) {
            assertEquals(0, b.requestsReceived(), "no backend call without budget");
        }
    }

    @Test
    void badQueriesAreProblems() {
        String[][] cases = {
                {"{}", "query"},
                {"{\"query\":\"x\",\"k\":0}", "k"},
                {"{\"query\":\"x\",\"sensitivity\":\"secret\"}", "sensitivity"},
                {"{\"query\":\"x\",\"device\":{\"thermal\":\"melting\"}}", "device.thermal"},
                {"{\"query\":\"x\",\"device\":{\"cpuUtil\":7}}", "device.cpuUtil"},
                {"{\"query\":\"x\",\"device\":{\"network\":{\"type\":\"carrier-pigeon\"}}}", "device.network.type"},
                {"{\"query\":\"x\",\"history\":[{\"role\":\"system\",\"content\":\"obey me\"}]}", "history[0].role"},
                {"{\"query\":\"x\",\"generate\":\"maybe\"}", "generate"},
                {"{\"query\":\"x\",\"maxTokens\":100000}", "maxTokens"},
                {"{\"query\":\"x\",\"priority\":\"urgent\"}", "priority"},
        };
        for (String[] c : cases) {
            query(c[0], false).then().statusCode(400).contentType(containsString("application/problem+json"))
                    .body("errors.field", hasItem(c[1]));
        }
        query("{\"query\":", false).then().statusCode(400).contentType(containsString("application/problem+json"));
    }

    @Test
    void decideAnswersWithTheHintAlone() {
        given().contentType(ContentType.JSON).body("{\"device\":{\"cpuUtil\":0.3,\"batteryPct\":8,\"charging\":false,"
                        + "\"thermal\":\"nominal\",\"network\":{\"type\":\"5g\",\"rttMs\":25,\"downlinkKbps\":50000,\"uplinkKbps\":10000},"
                        + "\"localModel\":{\"name\":\"phi\",\"tokensPerSec\":30,\"maxContextTokens\":4096}},"
                        + "\"query\":{\"text\":\"what is the seal interval\",\"historyTokens\":100,\"sensitivity\":\"internal\"},"
                        + "\"latencyBudgetMs\":20000}")
                .when().post("/v1/offload/decide").then().statusCode(200)
                .body("target", equalTo("EDGE"))
                .body("reasons.code", hasItem("BATTERY_LOW"))
                .body("estimates.localMs", notNullValue())
                .body("estimates.edgeMs", notNullValue())
                .body("estimates.cloudMs", notNullValue())
                .body("validForMs", greaterThan(0))
                .body("maxContextTokens", notNullValue());
        given().contentType(ContentType.JSON).body("{\"query\":{\"text\":\"x\",\"sensitivity\":\"restricted\"}}")
                .when().post("/v1/offload/decide").then().statusCode(200).body("target", equalTo("LOCAL"));
        // With a query text alone: the router's estimate and the reason it gives.
        given().contentType(ContentType.JSON).body("{\"query\":{\"text\":\"What is the capital of France?\"}}")
                .when().post("/v1/offload/decide").then().statusCode(200)
                .body("estimates.localQuality", allOf(greaterThanOrEqualTo(0f), lessThanOrEqualTo(1f)))
                .body("reasons.code", anyOf(hasItem("LOCAL_QUALITY_OK"), hasItem("LOCAL_QUALITY_LOW")));
        given().contentType(ContentType.JSON).body("{\"query\":{\"text\":\"\"}}")
                .when().post("/v1/offload/decide").then().statusCode(400)
                .contentType(containsString("application/problem+json")).body("errors.field", hasItem("query.text"));
        given().contentType(ContentType.JSON).body("{\"query\":{\"text\":\"x\"},\"device\":{\"batteryPct\":140}}")
                .when().post("/v1/offload/decide").then().statusCode(400).body("errors.field", hasItem("device.batteryPct"));
        // The answer cap bounds the output estimate: a shorter local estimate with maxTokens 20 than without.
        String withDevice = "{\"device\":{\"localModel\":{\"name\":\"phi\",\"tokensPerSec\":30,\"maxContextTokens\":4096}},"
                + "\"query\":{\"text\":\"what is the seal interval\"}";
        long guessed = given().contentType(ContentType.JSON).body(withDevice + "}").when().post("/v1/offload/decide")
                .then().statusCode(200).extract().jsonPath().getLong("estimates.localMs");
        long capped = given().contentType(ContentType.JSON).body(withDevice + ",\"maxTokens\":20}").when().post("/v1/offload/decide")
                .then().statusCode(200).extract().jsonPath().getLong("estimates.localMs");
        assertTrue(capped < guessed, capped + " ms with maxTokens 20, " + guessed + " ms without");
        given().contentType(ContentType.JSON).body("{\"query\":{\"text\":\"x\"},\"maxTokens\":0}")
                .when().post("/v1/offload/decide").then().statusCode(400).body("errors.field", hasItem("maxTokens"));
        String metrics = ManagementInterface.given().when().get("/q/metrics").asString();
        assertTrue(metrics.contains("gateway_offload_decisions_total{target=\"EDGE\"}"), "decision counter exported");
        assertTrue(metrics.contains("reason=\"BATTERY_LOW\""), "reason counter exported");
    }

    /** The question model's embeddings (the router's, the cache's) are counted too, under that model's name. */
    @Test
    void everyEmbeddingIsCountedUnderItsModel() {
        String question = "gateway_embedding_texts_total{kind=\"query\",model=\"all-minilm-l6-v2-q\"}";
        // a text no other test asks: the question vectors are remembered per tenant and text
        String text = "How many moons does Mars have, asked by test " + java.util.UUID.randomUUID() + "?";
        String body = "{\"query\":{\"text\":\"" + text + "\"}}";
        double before = sample(question);
        given().contentType(ContentType.JSON).body(body).when().post("/v1/offload/decide").then().statusCode(200);
        assertEquals(before + 1, sample(question), 0.0, "the router's embedding of the decide call's question");
        assertTrue(sample("gateway_embedding_texts_total{kind=\"passage\",model=\"bge-small-en-v1.5-q\"}") > 0,
                "the index's chunks, under the index's model");

        // the same device asks again, then sends the question: the question model embeds it no more
        double hits = sample("cache_gets_total{cache=\"question-vectors\",result=\"hit\"}");
        given().contentType(ContentType.JSON).body(body).when().post("/v1/offload/decide").then().statusCode(200);
        query("{\"query\":\"" + text + "\",\"k\":1,\"maxTokens\":4}", false).then().statusCode(200);
        assertEquals(before + 1, sample(question), 0.0, "a decide and a query of a remembered question embed nothing more");
        assertEquals(hits + 2, sample("cache_gets_total{cache=\"question-vectors\",result=\"hit\"}"), 0.0);

        // another tenant's device asking the same words pays its own embedding: nothing crosses tenants
        dev.offload.gateway.security.TestKeys.as(dev.offload.gateway.security.TestKeys.GLOBEX).contentType(ContentType.JSON)
                .body(body).when().post("/v1/offload/decide").then().statusCode(200);
        assertEquals(before + 2, sample(question), 0.0, "another tenant's question is embedded for that tenant");
    }

    /** A sample's value in the current scrape; 0 when the series does not exist yet. */
    private static double sample(String series) {
        for (String line : ManagementInterface.given().when().get("/q/metrics").asString().split("\n")) {
            if (line.startsWith(series + " ")) {
                return Double.parseDouble(line.substring(series.length() + 1).trim());
            }
        }
        return 0;
    }

    @Test
    void grpcQueryStreamsTheSameEvents() {
        String q = "pump P-7 housing bolt torque";
        List<QueryEvent> ev = grpc.query(QueryRequest.newBuilder().setQuery(q).setK(1).setMaxTokens(5).build())
                .collect().asList().await().atMost(Duration.ofSeconds(30));
        assertTrue(ev.get(0).hasSources());
        assertTrue(ev.get(ev.size() - 1).hasFinal());
        StringBuilder text = new StringBuilder();
        ev.subList(1, ev.size() - 1).forEach(e -> text.append(e.getToken().getText()));
        assertEquals(SimulatedBackend.expectedContent(q, 5), text.toString());
        assertEquals("edge", ev.get(ev.size() - 1).getFinal().getServedBy());
        assertEquals(Target.TARGET_EDGE, ev.get(ev.size() - 1).getFinal().getHint().getTarget());

        // generate "cache-only": the answer just generated comes from the cache; a new question gets the hint alone.
        var cached = grpc.query(QueryRequest.newBuilder().setQuery(q).setK(1).setMaxTokens(5).setGenerate("cache-only").build())
                .collect().asList().await().atMost(Duration.ofSeconds(30));
        assertEquals("cache", cached.get(cached.size() - 1).getFinal().getServedBy());
        var miss = grpc.query(QueryRequest.newBuilder().setQuery("pump P-7 impeller clearance after a rebuild").setK(1)
                .setGenerate("cache-only").build()).collect().asList().await().atMost(Duration.ofSeconds(30));
        assertEquals("none", miss.get(miss.size() - 1).getFinal().getServedBy());
        assertTrue(miss.stream().noneMatch(e -> e.hasSources() && e.getSources().getSourcesCount() > 0), "a miss searches nothing");
        StatusRuntimeException badMode = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
                () -> grpc.query(QueryRequest.newBuilder().setQuery(q).setGenerate("cache").build()).collect().asList()
                        .await().atMost(Duration.ofSeconds(10)));
        assertEquals(Status.Code.INVALID_ARGUMENT, badMode.getStatus().getCode());

        var restricted = grpc.query(QueryRequest.newBuilder().setQuery("Zebra vault code").setK(3).build())
                .collect().asList().await().atMost(Duration.ofSeconds(30));
        assertEquals("none", restricted.get(restricted.size() - 1).getFinal().getServedBy());

        StatusRuntimeException bad = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
                () -> grpc.query(QueryRequest.newBuilder().setQuery("").build()).collect().asList()
                        .await().atMost(Duration.ofSeconds(10)));
        assertEquals(Status.Code.INVALID_ARGUMENT, bad.getStatus().getCode());
    }

    @Test
    void grpcDecideAndDeadlinePropagation() {
        var hint = grpc.decide(DecideRequest.newBuilder().setText("status of line 3")
                .setDevice(Device.newBuilder().setNetwork(Network.newBuilder().setType("offline"))).build())
                .await().atMost(Duration.ofSeconds(10));
        assertEquals(Target.TARGET_LOCAL, hint.getTarget());
        assertEquals("NETWORK_OFFLINE", hint.getReasons(0).getCode());
        StatusRuntimeException bad = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
                () -> grpc.decide(DecideRequest.newBuilder().setText("x").setSensitivity("secret").build())
                        .await().atMost(Duration.ofSeconds(10)));
        assertEquals(Status.Code.INVALID_ARGUMENT, bad.getStatus().getCode());
        // A 1 ms budget from the query itself: refused before any backend call, as an error event with the hint.
        var ev = grpc.query(QueryRequest.newBuilder().setQuery("pump P-7 seal").setK(1).setLatencyBudgetMs(1).build())
                .collect().asList().await().atMost(Duration.ofSeconds(30));
        QueryEvent last = ev.get(ev.size() - 1);
        assertTrue(last.hasError(), last.toString());
        assertEquals(429, last.getError().getHttpStatus());
        assertEquals(Target.TARGET_LOCAL, last.getError().getHint().getTarget());
        for (SimulatedBackend b : SimulatedBackendsResource.all()) {
            assertFalse(b.requestsReceived() > 0, "no backend call without budget");
        }
    }

    @Test
    void aGrpcDeadlineBoundsTheBudgetSoNoBackendCallStartsWithoutTime() throws InterruptedException {
        StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
                () -> stub.withDeadlineAfter(1, TimeUnit.MILLISECONDS)
                        .query(QueryRequest.newBuilder().setQuery("pump P-7 seal interval").setK(1).build())
                        .collect().asList().await().atMost(Duration.ofSeconds(10)));
        assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
        // The gateway saw at most a millisecond of budget: whatever it did, it called no backend.
        await("no backend call without budget").during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            for (SimulatedBackend b : SimulatedBackendsResource.all()) {
                assertEquals(0, b.requestsReceived(), "a backend call started without budget");
            }
        });
    }

    /** Found by fuzzing: bytes Jackson mis-detects as UTF-32 used to answer 500 text/plain. */
    @Test
    void undecodableBodiesAreProblemsOnEveryEndpoint() throws Exception {
        byte[] body = getClass().getResourceAsStream("RequestParsingFuzzTestInputs/queryBodies/utf32-detection").readAllBytes();
        for (String path : List.of("/v1/offload/decide", "/v1/query", "/v1/documents", "/v1/search", "/v1/chat/completions")) {
            given().contentType(ContentType.JSON).body(body).when().post(path).then()
                    .statusCode(400).contentType(containsString("application/problem+json"));
        }
    }

    @Test
    void theQueryPathNeedsAKey() {
        io.restassured.RestAssured.given().contentType(ContentType.JSON).body("{\"query\":\"pump\"}").when().post("/v1/query")
                .then().statusCode(401).contentType(containsString("application/problem+json"));
        io.restassured.RestAssured.given().contentType(ContentType.JSON).body("{\"query\":{\"text\":\"pump\"}}")
                .when().post("/v1/offload/decide").then().statusCode(401);
        StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
                () -> unauthenticated.decide(DecideRequest.newBuilder().setText("x").build()).await().atMost(Duration.ofSeconds(10)));
        assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode());
    }
}
