package dev.offload.gateway.api;

import dev.offload.gateway.ManagementInterface;
import dev.offload.gateway.generation.Generator;
import dev.offload.gateway.retrieval.SharedIndex;
import dev.offload.gateway.sim.Fault;
import dev.offload.gateway.sim.SimulatedBackend;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.offload.gateway.security.TestKeys.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The semantic cache and the privacy policy on the query path, against simulated edge
 * (inside the zone) and cloud (external) backends that record every prompt they receive.
 */
@QuarkusTest
@QuarkusTestResource(value = SimulatedBackendsResource.class, restrictToAnnotatedClass = true)
class CacheAndPrivacyTest {
    @Inject
    Generator generator;
    @Inject
    SharedIndex index;

    private static final String EMAIL = "bob.canary@example.com";
    private static final String CARD = "4111 1111 1111 1111";
    private static final String IBAN = "DE89 3704 0044 0532 0130 00";
    private static final String PHONE = "+44 20 7946 0958";
    private static final String RESTRICTED = "Quokka-canary-4410";

    @BeforeEach
    void setUp() throws Exception {
        index.whenOpen().get(120, TimeUnit.SECONDS);
        for (SimulatedBackend b : SimulatedBackendsResource.all()) {
            b.clearFault();
            b.resetStats();
        }
        generator.resetCircuits();
        given().contentType(ContentType.JSON).body("{\"documents\":["
                        + "{\"id\":\"gearbox\",\"title\":\"Gearbox G-2\",\"text\":\"The gearbox G-2 oil is changed every 500 hours. "
                        + "Refunds for parts go to IBAN " + IBAN + ".\",\"metadata\":{\"sensitivity\":\"internal\"}},"
                        + "{\"id\":\"quokka\",\"title\":\"Quokka gearbox override\",\"text\":\"" + RESTRICTED
                        + " gearbox G-9 override sequence for the maintenance lead only.\",\"metadata\":{\"sensitivity\":\"restricted\"}}]}")
                .when().post("/v1/documents").then().statusCode(200);
    }

    @AfterEach
    void clear() {
        for (SimulatedBackend b : SimulatedBackendsResource.all()) {
            b.clearFault();
        }
        generator.resetCircuits();
    }

    private static Response query(String body, boolean sse) {
        var spec = given().contentType(ContentType.JSON).body(body);
        return (sse ? spec.accept("text/event-stream") : spec).when().post("/v1/query");
    }

    private static long requests() {
        long n = 0;
        for (SimulatedBackend b : SimulatedBackendsResource.all()) {
            n += b.requestsReceived();
        }
        return n;
    }

    @Test
    void aRepeatedQuestionIsAnsweredFromTheCacheWithItsSourcesAndNoBackendCall() {
        String body = "{\"query\":\"how often is the gearbox G-2 oil changed\",\"k\":1}";
        JsonPath first = query(body, false).then().statusCode(200).body("servedBy", equalTo("edge")).extract().jsonPath();
        assertEquals(1, requests());
        JsonPath second = query(body, false).then().statusCode(200)
                .body("servedBy", equalTo("cache"))
                .body("cacheSimilarity", equalTo(1.0f))
                .body("hint.target", equalTo("CACHE"))
                .extract().jsonPath();
        assertEquals(first.getString("answer"), second.getString("answer"));
        assertEquals(first.getList("sources.documentId"), second.getList("sources.documentId"));
        assertEquals(1, requests(), "the hit called no backend");

        // SSE replays the cached answer as a stream.
        String sse = query(body, true).then().statusCode(200).extract().asString();
        assertTrue(sse.startsWith("event: sources"), sse);
        assertTrue(sse.contains("event: token"), sse);
        assertTrue(sse.contains("event: final") && sse.contains("\"servedBy\":\"cache\""), sse);

        // The hint alone says CACHE for the same question.
        given().contentType(ContentType.JSON).body("{\"query\":{\"text\":\"how often is the gearbox G-2 oil changed\"}}")
                .when().post("/v1/offload/decide").then().statusCode(200).body("target", equalTo("CACHE"));

        // Another answer cap, another sensitivity or other filters are another scope: no hit.
        query("{\"query\":\"how often is the gearbox G-2 oil changed\",\"k\":1,\"maxTokens\":8}", false)
                .then().statusCode(200).body("servedBy", equalTo("edge"));
        query("{\"query\":\"how often is the gearbox G-2 oil changed\",\"k\":1,\"sensitivity\":\"public\"}", false)
                .then().statusCode(200).body("servedBy", equalTo("edge"));

        // Updating a source document drops the answers built from it.
        given().contentType(ContentType.JSON).body("{\"documents\":[{\"id\":\"gearbox\",\"title\":\"Gearbox G-2\","
                + "\"text\":\"The gearbox G-2 oil is changed every 750 hours.\"}]}").when().post("/v1/documents").then().statusCode(200);
        query(body, false).then().statusCode(200).body("servedBy", equalTo("edge"));
    }

    @Test
    void extractiveAnswersAreNotCachedAsGeneratedOnes() {
        for (SimulatedBackend b : SimulatedBackendsResource.all()) {
            b.fault(Fault.ERROR_500);
        }
        String body = "{\"query\":\"gearbox G-2 oil interval\",\"k\":1,\"maxTokens\":100}";
        query(body, false).then().statusCode(200).body("servedBy", equalTo("extractive"));
        for (SimulatedBackend b : SimulatedBackendsResource.all()) {
            b.clearFault();
        }
        generator.resetCircuits();
        query(body, false).then().statusCode(200).body("servedBy", equalTo("edge"));
    }

    @Test
    void piiNeverReachesTheExternalTierAndRestrictedTextReachesNoBackend() {
        // The edge pool fails: the query goes to the cloud tier, which is external.
        SimulatedBackendsResource.edgeA.fault(Fault.ERROR_500);
        SimulatedBackendsResource.edgeB.fault(Fault.ERROR_500);
        String body = "{\"query\":\"gearbox G-2 oil change, mail " + EMAIL + " and charge card " + CARD + "\",\"k\":1,"
                + "\"maxTokens\":16,\"history\":[{\"role\":\"user\",\"content\":\"call me on " + PHONE + "\"},"
                + "{\"role\":\"assistant\",\"content\":\"noted\"}]}";
        query(body, false).then().statusCode(200).body("servedBy", equalTo("cloud"))
                .body("sources.documentId", hasItem("gearbox"));
        List<String> cloud = SimulatedBackendsResource.cloud.receivedBodies();
        assertEquals(1, cloud.size());
        String sent = cloud.get(0);
        for (String canary : List.of(EMAIL, CARD, IBAN, PHONE, "4111111111111111", "DE89370400440532013000")) {
            assertFalse(sent.contains(canary), "PII reached the external tier: " + canary + " in " + sent);
        }
        assertTrue(sent.contains("<EMAIL_1>") && sent.contains("<CARD_1>") && sent.contains("<IBAN_1>") && sent.contains("<PHONE_1>"),
                "placeholders stand in for the values: " + sent);
        // Edge replicas are inside the zone: they got the request before failing, unredacted.
        List<String> edge = new ArrayList<>(SimulatedBackendsResource.edgeA.receivedBodies());
        edge.addAll(SimulatedBackendsResource.edgeB.receivedBodies());
        assertTrue(edge.stream().anyMatch(b -> b.contains(EMAIL)), "edge prompts keep the data (inside the zone)");

        // Restricted context: nothing reaches any backend.
        for (SimulatedBackend b : SimulatedBackendsResource.all()) {
            b.resetStats();
        }
        query("{\"query\":\"gearbox G-9 override sequence\",\"k\":2}", false).then().statusCode(200)
                .body("servedBy", equalTo("none")).body("hint.reasons.code", hasItem("SENSITIVITY_RESTRICTED"));
        for (SimulatedBackend b : SimulatedBackendsResource.all()) {
            assertEquals(0, b.requestsReceived());
            assertFalse(b.receivedBodies().stream().anyMatch(x -> x.contains(RESTRICTED)));
        }
        String metrics = ManagementInterface.given().when().get("/q/metrics").asString();
        assertTrue(metrics.contains("gateway_privacy_redactions_total{type=\"email\"}"), "redactions counted by type");
        assertTrue(metrics.contains("gateway_privacy_refusals_total{reason=\"restricted\",sensitivity=\"restricted\"}"), metrics.lines()
                .filter(l -> l.contains("privacy")).toList().toString());
    }

    /**
     * {@code generate: cache-only}: the cached answer when there is one, otherwise the hint alone —
     * nothing searched, nothing sent to a backend; restricted data is not even looked up.
     */
    @Test
    void cacheOnlyAnswersFromTheCacheOrWithTheHintAlone() {
        String q = "after how many hours is the G-2 gearbox oil replaced";
        for (SimulatedBackend b : SimulatedBackendsResource.all()) {
            b.resetStats();
        }
        JsonPath miss = query("{\"query\":\"" + q + "\",\"k\":1,\"generate\":\"cache-only\"}", false).then()
                .statusCode(200).body("servedBy", equalTo("none")).extract().jsonPath();
        assertTrue(miss.getList("sources").isEmpty(), "a miss searches nothing: " + miss.prettify());
        assertTrue(miss.getString("hint.target") != null, "a miss carries the hint");
        assertEquals(null, miss.getString("answer"));
        assertEquals(0, requests(), "a cache-only miss reaches no backend");

        String generated = query("{\"query\":\"" + q + "\",\"k\":1}", false).then().statusCode(200)
                .body("servedBy", equalTo("edge")).extract().path("answer");
        long afterGeneration = requests();
        query("{\"query\":\"" + q + "\",\"k\":1,\"generate\":\"cache-only\"}", false).then().statusCode(200)
                .body("servedBy", equalTo("cache")).body("answer", equalTo(generated));
        // Over SSE too: the cached answer's tokens, then final.
        String sse = query("{\"query\":\"" + q + "\",\"k\":1,\"generate\":\"cache-only\"}", true).then()
                .statusCode(200).extract().asString();
        assertTrue(sse.contains("\"servedBy\":\"cache\""), sse);
        assertEquals(afterGeneration, requests(), "a cache-only hit reaches no backend");

        // Restricted: never looked up, never generated.
        query("{\"query\":\"" + q + "\",\"k\":1,\"generate\":\"cache-only\",\"sensitivity\":\"restricted\"}", false)
                .then().statusCode(200).body("servedBy", equalTo("none"));
        assertEquals(afterGeneration, requests());
    }

    @Test
    void aCachedAnswerNeverCrossesTenants() {
        String body = "{\"query\":\"what is the torque for the flange bolts\",\"k\":1}";
        var acme = dev.offload.gateway.security.TestKeys.ACME;
        var globex = dev.offload.gateway.security.TestKeys.GLOBEX;
        dev.offload.gateway.security.TestKeys.as(acme).contentType(ContentType.JSON).body(body).post("/v1/query")
                .then().statusCode(200).body("servedBy", equalTo("edge"));
        dev.offload.gateway.security.TestKeys.as(acme).contentType(ContentType.JSON).body(body).post("/v1/query")
                .then().statusCode(200).body("servedBy", equalTo("cache"));
        // The same question from another tenant is generated again, never served from acme's cache.
        dev.offload.gateway.security.TestKeys.as(globex).contentType(ContentType.JSON).body(body).post("/v1/query")
                .then().statusCode(200).body("servedBy", equalTo("edge"));
        dev.offload.gateway.security.TestKeys.as(globex).contentType(ContentType.JSON)
                .body("{\"query\":{\"text\":\"what is the torque for the flange bolts\"}}").post("/v1/offload/decide")
                .then().statusCode(200).body("target", equalTo("CACHE")); // globex's own answer now
        dev.offload.gateway.security.TestKeys.as(dev.offload.gateway.security.TestKeys.INITECH).contentType(ContentType.JSON)
                .body("{\"query\":{\"text\":\"what is the torque for the flange bolts\"}}").post("/v1/offload/decide")
                .then().statusCode(200).body("target", org.hamcrest.Matchers.not(equalTo("CACHE")));
    }

    /**
     * Identifiers are part of the question: two devices of one tenant asking about different
     * accounts, orders, e-mails, phones, people, dates or amounts never share a cache entry.
     */
    @Test
    void anAnswerAboutOneIdentifierNeverServesAnotherDeviceAskingAboutAnother() {
        var first = dev.offload.gateway.security.TestKeys.ACME;
        var second = dev.offload.gateway.security.TestKeys.ACME_2;
        String[][] pairs = {
                {"Is the refund for account 1234-ALICE approved?", "Is the refund for account 9876-BOB approved?"},
                {"Has order 55210 left the warehouse?", "Has order 55211 left the warehouse?"},
                {"Did jane.doe@example.org receive the invoice?", "Did john.roe@example.org receive the invoice?"},
                {"Is +44 20 7946 0958 the hotline of the plant?", "Is +44 20 7946 0999 the hotline of the plant?"},
                {"Is the shift of Alice Martin moved?", "Is the shift of Bob Jones moved?"},
                {"Was the payment of 2024-05-01 booked?", "Was the payment of 2024-06-01 booked?"},
                {"Can I approve a refund of $250?", "Can I approve a refund of $900?"}};
        for (String[] p : pairs) {
            dev.offload.gateway.security.TestKeys.as(first).contentType(ContentType.JSON)
                    .body("{\"query\":\"" + p[0] + "\",\"k\":1}").post("/v1/query")
                    .then().statusCode(200).body("servedBy", equalTo("edge"));
            dev.offload.gateway.security.TestKeys.as(second).contentType(ContentType.JSON)
                    .body("{\"query\":\"" + p[0] + "\",\"k\":1}").post("/v1/query")
                    .then().statusCode(200).body("servedBy", equalTo("cache")); // the same question is shared in the tenant
            dev.offload.gateway.security.TestKeys.as(second).contentType(ContentType.JSON)
                    .body("{\"query\":\"" + p[1] + "\",\"k\":1}").post("/v1/query")
                    .then().statusCode(200).body("servedBy", equalTo("edge"));
        }
    }

    /**
     * The duplicate verifier through the API: a paraphrase of a cached question is served from the
     * cache, its opposite (the other action, a negation) is not, however close their embeddings.
     */
    @Test
    void anOppositeQuestionIsNotServedFromTheCacheWhileAParaphraseIs() {
        query("{\"query\":\"How do I turn on the heater in the control room?\",\"k\":1}", false)
                .then().statusCode(200).body("servedBy", equalTo("edge"));
        query("{\"query\":\"How can I turn on the heater in the control room?\",\"k\":1}", false)
                .then().statusCode(200).body("servedBy", equalTo("cache"));
        query("{\"query\":\"How do I turn off the heater in the control room?\",\"k\":1}", false)
                .then().statusCode(200).body("servedBy", equalTo("edge"));
        query("{\"query\":\"How do I not turn on the heater in the control room?\",\"k\":1}", false)
                .then().statusCode(200).body("servedBy", equalTo("edge"));
        String metrics = dev.offload.gateway.ManagementInterface.given().when().get("/q/metrics").asString();
        assertTrue(metrics.lines().anyMatch(l -> l.startsWith("gateway_cache_lookups_total") && l.contains("result=\"unverified\"") && !l.endsWith(" 0.0")), "refusals counted");
    }
}
