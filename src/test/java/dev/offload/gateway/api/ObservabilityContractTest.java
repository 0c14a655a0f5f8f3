package dev.offload.gateway.api;

import dev.offload.gateway.ManagementInterface;
import dev.offload.gateway.deploy.DeploymentFacts;
import dev.offload.gateway.deploy.MetricsDoc;
import dev.offload.gateway.deploy.PrometheusScrape;
import dev.offload.gateway.generation.Generator;
import dev.offload.gateway.retrieval.SharedIndex;
import dev.offload.gateway.sim.Fault;
import dev.offload.gateway.sim.SimulatedBackend;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import jakarta.inject.Inject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static dev.offload.gateway.security.TestKeys.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the gateway exports, checked against what the project says it exports: the metrics
 * table of metrics.md, and the deployment files (dashboard, autoscaler, probes). Traffic of
 * every kind the table mentions runs first — completions, streams, coalesced and cancelled
 * requests, failures that open circuits, the extractive fallback, ingest, delete, compaction,
 * commit, search — so that counters that exist only after their first event are there.
 */
@QuarkusTest
@QuarkusTestResource(value = ObservabilityBackendsResource.class, restrictToAnnotatedClass = true)
class ObservabilityContractTest {
    private static PrometheusScrape scrape;

    @Inject
    Generator generator;
    @Inject
    SharedIndex index;

    @TestHTTPResource("/v1/chat/completions")
    URL chatUrl;

    @BeforeEach
    void trafficOnce() throws Exception {
        if (scrape != null) {
            return;
        }
        index.whenOpen().get(120, TimeUnit.SECONDS);
        SimulatedBackend[] edge = {SimulatedBackendsResource.edgeA, SimulatedBackendsResource.edgeB};
        SimulatedBackend[] all = {SimulatedBackendsResource.edgeA, SimulatedBackendsResource.edgeB, SimulatedBackendsResource.cloud};
        try {
            // Retrieval: ingest, search, delete, compaction; the short commit interval commits.
            given().contentType(ContentType.JSON).body("""
                    {"documents":[{"id":"obs-1","title":"Observability","text":"Batch occupancy shows how full the GPU batch is kept. Queue time shows waiting."}]}""")
                    .when().post("/v1/documents").then().statusCode(200);
            given().contentType(ContentType.JSON).body("{\"query\":\"batch occupancy\",\"k\":2}")
                    .when().post("/v1/search").then().statusCode(200);
            given().when().delete("/v1/documents/obs-1").then().statusCode(204);
            assertTrue(index.compact() > 0, "the deleted document's chunks are compacted");

            // Identity and limits: a call without a key, a chat over the message limit.
            io.restassured.RestAssured.given().when().get("/v1/index/stats").then().statusCode(401);
            StringBuilder many = new StringBuilder("{\"messages\":[");
            for (int i = 0; i < 200; i++) {
                many.append(i == 0 ? "" : ",").append("{\"role\":\"user\",\"content\":\"m\"}");
            }
            given().contentType(ContentType.JSON).body(many.append("]}").toString()).when().post("/v1/chat/completions")
                    .then().statusCode(400);

            // The device's query path: an answer, a hint alone, a query refused for its budget.
            given().contentType(ContentType.JSON).body("{\"query\":\"batch occupancy\",\"k\":1,\"maxTokens\":100}")
                    .when().post("/v1/query").then().statusCode(200);
            given().contentType(ContentType.JSON).body("{\"query\":{\"text\":\"batch occupancy\"}}")
                    .when().post("/v1/offload/decide").then().statusCode(200);
            given().contentType(ContentType.JSON).body("{\"query\":\"queue time without budget\",\"k\":1,\"latencyBudgetMs\":1}")
                    .when().post("/v1/query").then().statusCode(429);
            // The same question again: a cache hit. PII goes out redacted; the sensitivity policy refuses tiers.
            given().contentType(ContentType.JSON).body("{\"query\":\"batch occupancy\",\"k\":1,\"maxTokens\":100}")
                    .when().post("/v1/query").then().statusCode(200).body("servedBy", equalTo("cache"));
            given().contentType(ContentType.JSON).body("{\"query\":\"mail ops@example.com about batch occupancy\",\"k\":1,\"maxTokens\":4}")
                    .when().post("/v1/query").then().statusCode(200);
            given().contentType(ContentType.JSON).body("{\"query\":\"batch occupancy now\",\"k\":1,\"maxTokens\":4,\"sensitivity\":\"confidential\"}")
                    .when().post("/v1/query").then().statusCode(200);
            given().contentType(ContentType.JSON).body("{\"query\":\"batch occupancy\",\"k\":1,\"sensitivity\":\"restricted\"}")
                    .when().post("/v1/query").then().statusCode(200).body("servedBy", equalTo("none"));

            // Generation that succeeds, streaming and not; PII sent to the tier outside the edge zone
            // leaves redacted (whatever the query path's hint chose for the query above).
            chat("edge", "obs alpha", 6, true).then().statusCode(200);
            chat("cloud", "obs mail ops@example.com", 6, false).then().statusCode(200);
            chat("auto", "obs bravo", 6, false).then().statusCode(200);

            // Identical concurrent requests share a call; a client that leaves cancels its call.
            for (SimulatedBackend b : edge) {
                b.slowDelayPerToken(Duration.ofMillis(40));
                b.fault(Fault.SLOW);
            }
            List<CompletableFuture<Integer>> same = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                same.add(CompletableFuture.supplyAsync(() -> chat("edge", "obs coalesce", 8, false).statusCode()));
            }
            for (CompletableFuture<Integer> f : same) {
                assertEquals(200, f.get(30, TimeUnit.SECONDS));
            }
            disconnectMidStream();

            // Failing edge replicas: failures, failover to the next tier, then open circuits refuse (no_backend).
            for (SimulatedBackend b : edge) {
                b.fault(Fault.ERROR_503);
            }
            for (int i = 0; i < 6; i++) {
                chat("auto", "obs failing " + i, 4, false).then().statusCode(200);
            }
            // Everything failing: the extractive answer.
            for (SimulatedBackend b : all) {
                b.fault(Fault.ERROR_500);
            }
            chat("auto", "what happens to restricted data", 16, false).then().statusCode(200);
        } finally {
            for (SimulatedBackend b : all) {
                b.clearFault();
            }
            generator.resetCircuits();
        }
        await("an index commit").atMost(Duration.ofSeconds(15))
                .until(() -> scrapeNow().hasSample("gateway_index_commit_time_seconds_count"));
        String text = ManagementInterface.given().when().get("/q/metrics").then().statusCode(200).extract().asString();
        Files.createDirectories(Path.of("target"));
        Files.writeString(Path.of("target/observability-scrape.txt"), text);
        scrape = PrometheusScrape.parse(text);
    }

    private static io.restassured.response.Response chat(String model, String prompt, int maxTokens, boolean stream) {
        return given().contentType(ContentType.JSON).body("{\"model\":\"" + model + "\",\"stream\":" + stream
                        + ",\"max_tokens\":" + maxTokens + ",\"messages\":[{\"role\":\"user\",\"content\":\"" + prompt + "\"}]}")
                .when().post("/v1/chat/completions");
    }

    private void disconnectMidStream() throws Exception {
        long before = SimulatedBackendsResource.edgeA.requestsCancelled() + SimulatedBackendsResource.edgeB.requestsCancelled();
        HttpClient client = HttpClient.newHttpClient();
        HttpRequest req = HttpRequest.newBuilder(URI.create(chatUrl.toString()))
                .header("Content-Type", "application/json")
                .header("Authorization", "Bearer " + dev.offload.gateway.security.TestKeys.DEFAULT_DEVICE)
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"edge\",\"stream\":true,\"max_tokens\":60,"
                        + "\"messages\":[{\"role\":\"user\",\"content\":\"obs disconnect\"}]}")).build();
        HttpResponse<InputStream> resp = client.send(req, HttpResponse.BodyHandlers.ofInputStream());
        BufferedReader r = new BufferedReader(new InputStreamReader(resp.body(), StandardCharsets.UTF_8));
        assertTrue(r.readLine().startsWith("data: "));
        resp.body().close();
        await("the backend to see the cancellation").atMost(Duration.ofSeconds(15))
                .until(() -> SimulatedBackendsResource.edgeA.requestsCancelled() + SimulatedBackendsResource.edgeB.requestsCancelled() > before);
    }

    private static PrometheusScrape scrapeNow() {
        return PrometheusScrape.parse(ManagementInterface.given().when().get("/q/metrics").then().statusCode(200).extract().asString());
    }

    @Test
    void everyDocumentedMetricIsExportedWithItsTypeAndTags() {
        List<String> problems = new ArrayList<>();
        int checked = 0;
        for (MetricsDoc.Row row : MetricsDoc.rows()) {
            if (!row.packagePresent()) {
                System.out.println("metrics.md: " + row.name() + " belongs to package '" + row.exportedBy()
                        + "', not in the source tree yet: not checked");
                continue;
            }
            checked++;
            List<String> samples = scrape.samplesOf(row.name());
            if (samples.isEmpty()) {
                problems.add(row.name() + ": not exported");
                continue;
            }
            String type = scrape.typeOf(row.name());
            String expected = switch (row.type()) {
                case "gauge" -> "gauge";
                case "counter" -> "counter";
                case "timer" -> type != null && type.equals("histogram") ? "histogram" : "summary";
                case "timer, histogram", "histogram" -> "histogram";
                default -> "unknown type '" + row.type() + "' in metrics.md";
            };
            if (!expected.equals(type)) {
                problems.add(row.name() + ": exported as " + type + ", documented as " + row.type());
            }
            if (row.type().endsWith("histogram") && !scrape.hasSample(row.name() + "_bucket")) {
                problems.add(row.name() + ": documented as a histogram but has no _bucket series");
            }
            if (samples.stream().noneMatch(s -> scrape.hasLabels(s, row.tags()))) {
                problems.add(row.name() + ": no series carries the documented tags " + row.tags());
            }
        }
        assertTrue(checked >= 30, "only " + checked + " rows checked");
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }

    @Test
    void everyGatewayMetricExportedIsDocumented() {
        TreeSet<String> undocumented = new TreeSet<>();
        List<MetricsDoc.Row> rows = MetricsDoc.rows();
        for (String sample : scrape.sampleNames()) {
            if (sample.startsWith("gateway_") && rows.stream().noneMatch(r -> scrape.samplesOf(r.name()).contains(sample))) {
                undocumented.add(sample);
            }
        }
        assertTrue(undocumented.isEmpty(), "exported but missing from the table in metrics.md: " + undocumented);
    }

    @Test
    void theDashboardQueriesOnlySeriesTheGatewayExports() {
        List<String> missing = new ArrayList<>();
        List<String> exprs = DeploymentFacts.dashboardExpressions();
        assertFalse(exprs.isEmpty());
        for (String e : exprs) {
            for (String name : dev.offload.gateway.deploy.PromQl.metricNames(e)) {
                if (!scrape.hasSample(name)) {
                    missing.add(name + " (in " + e + ")");
                }
            }
        }
        assertTrue(missing.isEmpty(), "the dashboard reads series /q/metrics does not have: " + missing);
    }

    @Test
    void theAutoscalerReadsSeriesTheGatewayExportsWithTheLabelsItGroupsBy() {
        Set<String> series = DeploymentFacts.adapterSeries();
        assertFalse(series.isEmpty());
        for (String name : series) {
            // tier selects the edge tier; namespace and service are added by the Prometheus scrape.
            assertTrue(scrape.hasLabels(name, Set.of("tier")), "the autoscaler reads " + name + "{tier=...}, which /q/metrics lacks");
        }
    }

    @Test
    void everyProbeAndHealthcheckPathAnswersUp() {
        ManagementInterface.awaitReady();
        Set<String> paths = new LinkedHashSet<>(DeploymentFacts.gatewayProbePaths());
        assertEquals(Set.of("/q/health/started", "/q/health/ready", "/q/health/live"), paths);
        paths.add(DeploymentFacts.composeHealthcheckPath());
        for (String p : paths) {
            ManagementInterface.given().when().get(p).then().statusCode(200).body("status", equalTo("UP"));
        }
        // Readiness means "index open, log replayed" and "the in-process models loaded and run once".
        ManagementInterface.given().when().get("/q/health/ready").then().body("checks.name", org.hamcrest.Matchers.hasItem("index"))
                .body("checks.find { it.name == 'models' }.status", equalTo("UP"))
                .body("checks.find { it.name == 'models' }.data.loadMillis", org.hamcrest.Matchers.greaterThanOrEqualTo(0));
    }

    @Test
    void healthAndMetricsAnswerOnlyOnTheManagementInterfaceNeverOnTheDevicePort() {
        assertTrue(ManagementInterface.port() != io.restassured.RestAssured.port, "two ports");
        for (String p : List.of("/q/health", "/q/health/ready", "/q/health/live", "/q/health/started", "/q/metrics")) {
            ManagementInterface.given().when().get(p).then().statusCode(200);
            // The device-facing port: nothing there, with or without a key.
            io.restassured.RestAssured.given().when().get(p).then().statusCode(404);
            given().when().get(p).then().statusCode(404);
        }
        // The management port serves management only: no API behind it.
        ManagementInterface.given().when().get("/v1/index/stats").then().statusCode(404);
    }
}
