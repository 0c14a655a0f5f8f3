package dev.offload.gateway.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.offload.gateway.api.grpc.QueryEvent;
import dev.offload.gateway.api.grpc.QueryRequest;
import dev.offload.gateway.api.grpc.QueryService;
import dev.offload.gateway.api.grpc.Turn;
import dev.offload.gateway.generation.Generator;
import dev.offload.gateway.retrieval.SharedIndex;
import dev.offload.gateway.sim.EchoBackend;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static dev.offload.gateway.security.TestKeys.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The egress gate holds on every path: the same personal-data canaries sent through every
 * endpoint and transport — OpenAI chat (plain, streamed, tier named directly), the RAG query
 * (JSON, SSE, gRPC) and retrieved documents — never reach the tier outside the edge zone, whose
 * answers come back with the values restored; a confidential or restricted conversation reaches
 * no tier outside the zone at all. The edge tier fails every call, so everything that may
 * leave the edge zone does; the outside tier echoes what it received.
 */
@QuarkusTest
@QuarkusTestResource(value = EgressCanaryTest.Backends.class, restrictToAnnotatedClass = true)
class EgressCanaryTest {
    static final String EMAIL = "jane.canary@example.org";
    static final String CARD = "4111 1111 1111 1111";
    static final String PHONE = "+44 20 7946 0958";
    static final String IBAN = "GB82 WEST 1234 5698 7654 32";
    /** Each canary as written and in the forms a detector normalises it to. */
    static final List<String> CANARIES = List.of(EMAIL, CARD, "4111111111111111", PHONE, "442079460958", IBAN,
            "GB82WEST12345698765432");
    static final String SENTENCE = "mail " + EMAIL + ", card " + CARD + ", phone " + PHONE + ", IBAN " + IBAN;

    private static final ObjectMapper JSON = new ObjectMapper();

    /** A failing edge pool and an echoing tier in the external zone. */
    public static class Backends implements QuarkusTestResourceLifecycleManager {
        static EchoBackend edge;
        static EchoBackend outside;

        @Override
        public Map<String, String> start() {
            try {
                edge = EchoBackend.startFailing();
                outside = EchoBackend.start();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return Map.of("gateway.tiers.edge.base-urls", edge.baseUrl(),
                    "gateway.tiers.edge.circuit-request-volume", "1000",
                    "gateway.tiers.cloud.base-urls", outside.baseUrl(),
                    "gateway.tiers.cloud.zone", "external",
                    "gateway.cache.enabled", "false");
        }

        @Override
        public void stop() {
            edge.close();
            outside.close();
        }
    }

    @Inject
    Generator generator;
    @Inject
    SharedIndex index;
    @GrpcClient("query")
    QueryService unauthenticated;

    @BeforeEach
    void setUp() throws Exception {
        index.whenOpen().get(120, TimeUnit.SECONDS);
        generator.resetCircuits();
        Backends.edge.clear();
        Backends.outside.clear();
    }

    @AfterAll
    static void nothingEverLeftUnredacted() {
        // Over every test of the class, whatever each asserted on its own.
        assertNoCanary(Backends.outside.receivedBodies());
    }

    private static void assertNoCanary(List<String> bodies) {
        for (String body : bodies) {
            for (String canary : CANARIES) {
                assertFalse(body.contains(canary), "personal data left the edge zone: " + canary + " in " + body);
            }
        }
    }

    /** The tier outside the zone got exactly {@code calls} requests, none with a canary, each with placeholders. */
    private static void outsideReceivedOnlyPlaceholders(int calls) {
        List<String> bodies = Backends.outside.receivedBodies();
        assertEquals(calls, bodies.size(), bodies.toString());
        assertNoCanary(bodies);
        for (String b : bodies) {
            for (String p : List.of("<EMAIL_1>", "<CARD_1>", "<PHONE_1>", "<IBAN_1>")) {
                assertTrue(b.contains(p), p + " stands in for the value: " + b);
            }
        }
        assertTrue(Backends.edge.receivedBodies().stream().anyMatch(b -> b.contains(EMAIL)),
                "the edge tier is inside the zone and got the conversation as written");
    }

    private static void hasEveryValueBack(String answer) {
        for (String value : List.of(EMAIL, CARD, PHONE, IBAN)) {
            assertTrue(answer.contains(value), "the answer has " + value + " back: " + answer);
        }
        assertFalse(answer.contains("<EMAIL_1>"), answer);
    }

    private static String chatBody(String model, boolean stream) {
        return "{\"model\":\"" + model + "\",\"stream\":" + stream + ",\"max_tokens\":64,\"messages\":["
                + "{\"role\":\"system\",\"content\":\"The user is " + EMAIL + "\"},"
                + "{\"role\":\"user\",\"content\":\"my card is " + CARD + "\"},"
                + "{\"role\":\"assistant\",\"content\":\"and your IBAN? " + IBAN + "\"},"
                + "{\"role\":\"user\",\"content\":\"" + SENTENCE + "\"}]}";
    }

    @Test
    void chatCompletionsAreRedactedBeforeTheExternalTierAndRestoredInTheAnswer() {
        JsonPath r = given().contentType(ContentType.JSON).body(chatBody("auto", false)).post("/v1/chat/completions")
                .then().statusCode(200).body("offload.servedBy", equalTo("cloud")).extract().jsonPath();
        hasEveryValueBack(r.getString("choices[0].message.content"));
        assertTrue(r.getInt("offload.redactions") >= 4, r.prettify());
        outsideReceivedOnlyPlaceholders(1);
    }

    @Test
    void streamedChatCompletionsAreRestoredAcrossChunkBoundaries() throws Exception {
        String sse = given().contentType(ContentType.JSON).body(chatBody("auto", true)).post("/v1/chat/completions")
                .then().statusCode(200).extract().asString();
        StringBuilder text = new StringBuilder();
        for (String line : sse.split("\n")) {
            if (line.startsWith("data: {")) {
                JsonNode chunk = JSON.readTree(line.substring(6));
                for (JsonNode c : chunk.path("choices")) {
                    text.append(c.path("delta").path("content").asText(""));
                }
            }
        }
        assertTrue(sse.strip().endsWith("data: [DONE]"), sse);
        hasEveryValueBack(text.toString());
        outsideReceivedOnlyPlaceholders(1);
    }

    @Test
    void aTierNamedDirectlyPassesTheSameGate() {
        JsonPath r = given().contentType(ContentType.JSON).body(chatBody("cloud", false)).post("/v1/chat/completions")
                .then().statusCode(200).body("offload.servedBy", equalTo("cloud")).extract().jsonPath();
        hasEveryValueBack(r.getString("choices[0].message.content"));
        List<String> bodies = Backends.outside.receivedBodies();
        assertEquals(1, bodies.size());
        assertNoCanary(bodies);
        assertTrue(Backends.edge.receivedBodies().isEmpty(), "the edge tier was not asked for");
    }

    @Test
    void theRagQueryIsRedactedOnEveryTransport() {
        String query = "{\"query\":\"" + SENTENCE + "\",\"k\":1,\"maxTokens\":64}";
        JsonPath json = given().contentType(ContentType.JSON).body(query).post("/v1/query")
                .then().statusCode(200).body("servedBy", equalTo("cloud")).extract().jsonPath();
        hasEveryValueBack(json.getString("answer"));

        String sse = given().contentType(ContentType.JSON).accept("text/event-stream").body(query).post("/v1/query")
                .then().statusCode(200).extract().asString();
        assertTrue(sse.contains("\"servedBy\":\"cloud\""), sse);
        StringBuilder streamed = new StringBuilder();
        for (String line : sse.split("\n")) {
            if (line.startsWith("data: {\"text\"")) {
                streamed.append(JsonPath.from(line.substring(6)).getString("text"));
            }
        }
        hasEveryValueBack(streamed.toString());

        QueryService grpc = dev.offload.gateway.security.TestKeys.grpcAs(unauthenticated,
                dev.offload.gateway.security.TestKeys.DEFAULT_DEVICE);
        List<QueryEvent> events = grpc.query(QueryRequest.newBuilder().setQuery(SENTENCE).setK(1).setMaxTokens(64)
                        .addHistory(Turn.newBuilder().setRole("user").setContent("I am " + EMAIL))
                        .addHistory(Turn.newBuilder().setRole("assistant").setContent("noted")).build())
                .collect().asList().await().atMost(Duration.ofSeconds(30));
        QueryEvent last = events.get(events.size() - 1);
        assertEquals("cloud", last.getFinal().getServedBy());
        StringBuilder tokens = new StringBuilder();
        events.stream().filter(QueryEvent::hasToken).forEach(e -> tokens.append(e.getToken().getText()));
        hasEveryValueBack(tokens.toString());
        outsideReceivedOnlyPlaceholders(3);
    }

    @Test
    void personalDataInRetrievedDocumentsIsRedactedToo() {
        given().contentType(ContentType.JSON).body("{\"documents\":[{\"id\":\"refunds-canary\",\"title\":\"Refund desk\","
                        + "\"text\":\"Refunds for the walrus gearbox are handled by " + EMAIL + " on " + PHONE
                        + ", paid to " + IBAN + " or card " + CARD + ".\"}]}")
                .post("/v1/documents").then().statusCode(200);
        given().contentType(ContentType.JSON).body("{\"query\":\"who handles refunds for the walrus gearbox\",\"k\":1,\"maxTokens\":16}")
                .post("/v1/query").then().statusCode(200).body("servedBy", equalTo("cloud"))
                .body("sources[0].documentId", equalTo("refunds-canary"));
        List<String> bodies = Backends.outside.receivedBodies();
        assertEquals(1, bodies.size());
        assertNoCanary(bodies);
        assertTrue(bodies.get(0).contains("<EMAIL_1>"), bodies.get(0));
    }

    @Test
    void confidentialAndRestrictedConversationsNeverLeaveTheEdgeZone() {
        for (String level : List.of("confidential", "restricted")) {
            given().contentType(ContentType.JSON).header("X-Offload-Sensitivity", level).body(chatBody("auto", false))
                    .post("/v1/chat/completions").then().statusCode(200)
                    .body("offload.servedBy", equalTo("extractive"))
                    .body("offload.fallbackReason", startsWith(level.equals("confidential") ? "edge:" : "sensitivity:restricted"));
            given().contentType(ContentType.JSON).header("X-Offload-Sensitivity", level).body(chatBody("cloud", false))
                    .post("/v1/chat/completions").then().statusCode(200)
                    .body("offload.servedBy", equalTo("extractive"))
                    .body("offload.fallbackReason", equalTo("sensitivity:" + level));
        }
        assertTrue(Backends.outside.receivedBodies().isEmpty(), Backends.outside.receivedBodies().toString());
        assertEquals(1, Backends.edge.receivedBodies().size(), "confidential went to the edge tier (inside the zone) only");

        given().contentType(ContentType.JSON).header("X-Offload-Sensitivity", "secret").body(chatBody("auto", false))
                .post("/v1/chat/completions").then().statusCode(400)
                .body("error.param", equalTo("X-Offload-Sensitivity"));
    }

    /**
     * By construction: the only call to a backend client is the generator's, after the gate.
     * A second caller of {@code client().stream(} would be a second door out.
     */
    @Test
    void theGeneratorIsTheOnlyCallerOfABackendAndItAsksTheGateFirst() throws IOException {
        List<String> callers = new ArrayList<>();
        try (Stream<Path> files = Files.walk(Path.of("src/main/java"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                if (Files.readString(f).contains(".client().stream(")) {
                    callers.add(f.getFileName().toString());
                }
            }
        }
        assertEquals(List.of("Generator.java"), callers);
        String generator = Files.readString(Path.of("src/main/java/dev/offload/gateway/generation/Generator.java"));
        int gate = generator.indexOf("exit.outbound(");
        int call = generator.indexOf(".client().stream(sent");
        assertTrue(gate > 0 && call > gate, "the request sent is the one the gate returned");
    }
}
