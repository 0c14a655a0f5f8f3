package dev.offload.gateway.api;

import dev.offload.gateway.capacity.CapacityMonitor;
import dev.offload.gateway.generation.Generator;
import dev.offload.gateway.retrieval.SharedIndex;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static dev.offload.gateway.security.TestKeys.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItems;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code /v1/capacity} against simulated vLLM replicas: measured rates, capacity arithmetic, the plan endpoint. */
@QuarkusTest
@QuarkusTestResource(value = SimulatedBackendsResource.class, restrictToAnnotatedClass = true)
class CapacityResourceTest {
    private static final int OUTPUT_TOKENS = 12;

    @Inject
    SharedIndex index;
    @Inject
    Generator generator;
    @Inject
    CapacityMonitor monitor;

    @BeforeEach
    void ready() throws Exception {
        index.whenOpen().get(120, TimeUnit.SECONDS);
        generator.resetCircuits();
    }

    /** Sequential requests on the edge tier; returns the mean latency the client saw, in seconds. */
    private double serveOnEdge(int requests) {
        monitor.sampleNow();
        long t0 = System.nanoTime();
        for (int i = 0; i < requests; i++) {
            given().contentType(ContentType.JSON)
                    .body("{\"model\":\"edge\",\"max_tokens\":" + OUTPUT_TOKENS
                            + ",\"messages\":[{\"role\":\"user\",\"content\":\"capacity probe " + i + "\"}]}")
                    .when().post("/v1/chat/completions").then().statusCode(200)
                    .body("usage.completion_tokens", equalTo(OUTPUT_TOKENS));
        }
        double meanLatency = (System.nanoTime() - t0) / 1e9 / requests;
        monitor.sampleNow();
        return meanLatency;
    }

    private static Map<String, Object> edge(JsonPath summary) {
        List<Map<String, Object>> tiers = summary.getList("tiers");
        return tiers.stream().filter(t -> t.get("tier").equals("edge")).findFirst().orElseThrow();
    }

    private static double num(Map<String, Object> m, String path) {
        Object o = m;
        for (String p : path.split("\\.")) {
            o = ((Map<?, ?>) o).get(p);
        }
        return ((Number) o).doubleValue();
    }

    private static void assertClose(double expected, double actual) {
        assertEquals(expected, actual, Math.abs(expected) * 1e-5, "expected " + expected + ", got " + actual);
    }

    @Test
    void measuredServiceRatesAndCapacityAddUp() {
        double clientLatency = serveOnEdge(40);
        JsonPath summary = given().when().get("/v1/capacity").then().statusCode(200)
                .body("tiers.tier", hasItems("edge", "cloud")).extract().jsonPath();
        Map<String, Object> edge = edge(summary);
        assertEquals(2, num(edge, "replicas"));
        assertEquals(2, num(edge, "replicasAvailable"));
        assertEquals(8, num(edge, "maxConcurrency"), "two replicas of batch 4");
        double service = num(edge, "measured.serviceTimeSeconds");
        assertTrue(service > 0 && service <= clientLatency,
                "a slot is held no longer than the client waited: " + service + " s vs " + clientLatency + " s");
        // 40 requests of 12 tokens (weight 0.1 each) leave 0.9^40 ≈ 1.5 % of any earlier average:
        // within 1 token of 12 even after requests of 64.
        double perRequest = num(edge, "measured.outputTokensPerRequest");
        assertEquals(OUTPUT_TOKENS, perRequest, 1.0);
        assertTrue(num(edge, "measured.completionsPerSecond") > 0);
        // JSON numbers come back as floats: compare to 6 significant digits.
        assertClose(perRequest / service, num(edge, "measured.tokensPerSecondPerSlot"));
        double slots = ((List<?>) edge.get("replicaStates")).stream()
                .mapToDouble(r -> ((Number) ((Map<?, ?>) r).get("limit")).doubleValue()).sum();
        assertClose(slots / service, num(edge, "capacity.requestsPerSecond"));
        assertClose(slots / service * perRequest, num(edge, "capacity.tokensPerSecond"));
        assertTrue(num(edge, "headroom.requestsPerSecond") <= num(edge, "capacity.requestsPerSecond"));
        assertEquals(0, num(edge, "queueLength"));
        assertEquals(0, num(edge, "inFlight"));
    }

    @Test
    void aPlanCanUseWhatTheEdgeTierMeasured() {
        serveOnEdge(5);
        Map<String, Object> edge = edge(given().when().get("/v1/capacity").then().extract().jsonPath());
        double perSlot = num(edge, "measured.tokensPerSecondPerSlot");
        JsonPath plan = given().contentType(ContentType.JSON).body("""
                        {"fleetSize":500,"queriesPerDevicePerHour":4,"promptTokens":300,"outputTokens":100,
                         "hardware":{"measuredTier":"edge","pricePerHour":1.5},
                         "externalPricePerMillionTokens":0.6,"egressPricePerGb":0.05,"deviceCostPerMillionTokens":2}""")
                .when().post("/v1/capacity/plan").then().statusCode(200).extract().jsonPath();
        assertEquals(4, plan.getInt("inputs.hardware.maxConcurrency"), "the configured batch size of an edge replica");
        assertClose(perSlot * 4, plan.getDouble("inputs.hardware.tokensPerSecond"));
        assertEquals(0.75, plan.getDouble("inputs.targetOccupancy"), 1e-9);
        assertClose(500 * 4 / 3600.0, plan.getDouble("arrivalRatePerSecond"));
        assertTrue(plan.getLong("replicasNeeded") >= 1);
    }

    @Test
    void aPlanWithExplicitHardwareFollowsTheModel() {
        // The first hand-worked example of CapacityPlannerTest, through HTTP.
        given().contentType(ContentType.JSON).body("""
                        {"fleetSize":600,"queriesPerDevicePerHour":6,"promptTokens":1000,"outputTokens":150,
                         "hardware":{"tokensPerSecond":400,"prefillTokensPerSecond":8000,"maxConcurrency":4,"pricePerHour":2.4},
                         "externalPricePerMillionTokens":0.5,"egressPricePerGb":0.09,"deviceCostPerMillionTokens":1,
                         "targetOccupancy":0.6}""")
                .when().post("/v1/capacity/plan").then().statusCode(200)
                .body("replicasNeeded", equalTo(1))
                .body("slots", equalTo(4))
                .body("costs.cheapest", equalTo("external"))
                .body("breakEven.fleetSizeVsDevice", equalTo(348));
    }

    @Test
    void badPlanInputIsAProblemNamingEveryField() {
        given().contentType(ContentType.JSON).body("""
                        {"fleetSize":0,"queriesPerDevicePerHour":6,"outputTokens":150,
                         "hardware":{"tokensPerSecond":-1,"maxConcurrency":4,"pricePerHour":2.4},
                         "externalPricePerMillionTokens":0.5,"egressPricePerGb":0.09,"deviceCostPerMillionTokens":1,
                         "targetOccupancy":1.5}""")
                .when().post("/v1/capacity/plan").then().statusCode(400)
                .contentType(Problem.MEDIA_TYPE)
                .body("status", equalTo(400))
                .body("errors.field", hasItems("fleetSize", "promptTokens", "hardware.tokensPerSecond", "targetOccupancy"));
        given().contentType(ContentType.JSON).body("{\"hardware\":{\"measuredTier\":\"nope\"}}")
                .when().post("/v1/capacity/plan").then().statusCode(400).contentType(Problem.MEDIA_TYPE)
                .body("errors.field", hasItems("hardware.measuredTier"));
        given().contentType(ContentType.JSON).body("{\"fleetSize\":\"many\"}")
                .when().post("/v1/capacity/plan").then().statusCode(400).contentType(Problem.MEDIA_TYPE);
    }
}
