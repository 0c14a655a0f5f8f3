package dev.offload.gateway.api;

import dev.offload.gateway.ManagementInterface;
import dev.offload.gateway.generation.ExtractiveAnswerer;
import dev.offload.gateway.generation.GenerationConfig;
import dev.offload.gateway.generation.Generator;
import dev.offload.gateway.retrieval.SharedIndex;
import dev.offload.gateway.security.TestKeys;
import dev.offload.gateway.sim.Fault;
import dev.offload.gateway.sim.SimulatedBackend;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
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
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static dev.offload.gateway.security.TestKeys.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The OpenAI-compatible endpoint against simulated vLLM replicas, including every fault mode. */
@QuarkusTest
@QuarkusTestResource(value = SimulatedBackendsResource.class, restrictToAnnotatedClass = true)
class ChatCompletionsTest {
    @Inject
    Generator generator;
    @Inject
    SharedIndex index;
    @Inject
    GenerationConfig generationConfig;

    @Inject
    io.vertx.core.Vertx vertx;

    @TestHTTPResource("/v1/chat/completions")
    URL chatUrl;

    private static final SimulatedBackend[] ALL = new SimulatedBackend[3];

    @BeforeEach
    void reset() throws Exception {
        index.whenOpen().get(120, TimeUnit.SECONDS);
        ALL[0] = SimulatedBackendsResource.edgeA;
        ALL[1] = SimulatedBackendsResource.edgeB;
        ALL[2] = SimulatedBackendsResource.cloud;
        for (SimulatedBackend b : ALL) {
            b.clearFault();
            b.resetStats();
        }
        generator.resetCircuits();
    }

    @AfterEach
    void clearFaults() {
        for (SimulatedBackend b : ALL) {
            b.clearFault();
        }
        generator.resetCircuits();
    }

    private static String body(String model, String prompt, int maxTokens, boolean stream) {
        return "{\"model\":\"" + model + "\",\"stream\":" + stream + ",\"max_tokens\":" + maxTokens
                + ",\"messages\":[{\"role\":\"system\",\"content\":\"be brief\"},{\"role\":\"user\",\"content\":\""
                + prompt + "\"}]}";
    }

    private static Response chat(String body) {
        return given().contentType(ContentType.JSON).body(body).when().post("/v1/chat/completions");
    }

    /** Parsed SSE: the data payloads in order. */
    private static List<String> events(String sse) {
        List<String> out = new ArrayList<>();
        for (String block : sse.split("\n\n")) {
            if (block.startsWith("data: ")) {
                out.add(block.substring(6));
            } else if (!block.isBlank()) {
                throw new AssertionError("not an SSE data event: " + block);
            }
        }
        return out;
    }

    private static String content(List<String> events) {
        StringBuilder b = new StringBuilder();
        for (String e : events) {
            if (e.equals("[DONE]") || e.contains("\"error\"")) {
                continue;
            }
            io.restassured.path.json.JsonPath j = io.restassured.path.json.JsonPath.from(e);
            String c = j.getString("choices[0].delta.content");
            if (c != null) {
                b.append(c);
            }
        }
        return b.toString();
    }

    /** The proxy path runs on Netty's native epoll transport where the image ships it (Linux x86_64 / aarch64). */
    @Test
    void theProxyPathRunsOnNettysNativeEpollTransportOnLinux() {
        String arch = System.getProperty("os.arch");
        Assumptions.assumeTrue(System.getProperty("os.name").startsWith("Linux")
                && (arch.equals("amd64") || arch.equals("aarch64")));
        assertTrue(vertx.isNativeTransportEnabled(), "native transport unavailable: " + vertx.unavailableNativeTransportCause());
    }

    @Test
    void theBackendGetsTheGatewaySystemPromptFirstAndTheDevicesSystemMessageAsUserData() {
        chat(body("edge", "kilo policy", 3, false)).then().statusCode(200);
        String sent = java.util.stream.Stream.of(SimulatedBackendsResource.edgeA, SimulatedBackendsResource.edgeB)
                .flatMap(b -> b.receivedRequests().stream()).map(dev.offload.gateway.sim.ReceivedRequest::body)
                .filter(b -> b.contains("kilo policy")).findFirst().orElseThrow();
        io.restassured.path.json.JsonPath j = io.restassured.path.json.JsonPath.from(sent);
        assertEquals(List.of("system", "user", "user"), j.getList("messages.role"));
        assertEquals(generationConfig.systemPrompt(), j.getString("messages[0].content"));
        assertTrue(j.getString("messages[1].content").startsWith(SystemPromptPolicy.DEVICE_INSTRUCTIONS), sent);
        assertTrue(j.getString("messages[1].content").endsWith("be brief"), sent);
        assertEquals("kilo policy", j.getString("messages[2].content"));
    }

    @Test
    void modelsListsTheAliases() {
        given().when().get("/v1/models").then().statusCode(200)
                .body("object", equalTo("list")).body("data.id", hasItems("auto", "edge", "cloud"));
    }

    @Test
    void nonStreamingAnswerHasOpenAiShape() {
        chat(body("auto", "alpha question", 6, false)).then().statusCode(200)
                .header("X-Offload-Served-By", "edge")
                .body("object", equalTo("chat.completion"))
                .body("choices[0].message.role", equalTo("assistant"))
                .body("choices[0].message.content", equalTo(SimulatedBackend.expectedContent("alpha question", 6)))
                .body("choices[0].finish_reason", equalTo("length"))
                .body("usage.completion_tokens", equalTo(6));
    }

    @Test
    void streamingIsOpenAiSseEndingWithDone() {
        String sse = chat(body("edge", "bravo question", 5, true)).then().statusCode(200)
                .contentType(containsString("text/event-stream")).extract().asString();
        List<String> ev = events(sse);
        assertEquals("[DONE]", ev.get(ev.size() - 1));
        assertTrue(ev.get(0).contains("\"role\":\"assistant\""));
        assertEquals(SimulatedBackend.expectedContent("bravo question", 5), content(ev));
        String last = ev.get(ev.size() - 2);
        assertTrue(last.contains("\"finish_reason\":\"length\"") && last.contains("\"usage\""), last);
        for (String e : ev.subList(0, ev.size() - 1)) {
            assertTrue(e.contains("\"object\":\"chat.completion.chunk\""), e);
        }
    }

    @Test
    void badInputIsA400InOpenAiErrorShape() {
        chat(body("gpt-17", "x", 5, false)).then().statusCode(400).contentType(containsString("application/problem+json"))
                .body("error.code", equalTo("model_not_found")).body("error.param", equalTo("model"))
                .body("status", equalTo(400));
        chat("{\"model\":\"auto\",\"messages\":[]}").then().statusCode(400).body("error.param", equalTo("messages"));
        chat(body("auto", "x", 100_000, false)).then().statusCode(400).body("error.param", equalTo("max_tokens"));
        chat("{\"model\":\"auto\",\"messages\":[{\"role\":\"wizard\",\"content\":\"x\"}]}").then().statusCode(400)
                .body("error.param", equalTo("messages[0].role"));
        chat("{\"model\":").then().statusCode(400).body("error.code", equalTo("invalid_json"));
        assertEquals(0, SimulatedBackendsResource.edgeA.requestsReceived() + SimulatedBackendsResource.edgeB.requestsReceived());
    }

    @Test
    void aFailingReplicaIsAvoidedWithinTheTier() {
        SimulatedBackendsResource.edgeA.fault(Fault.ERROR_500);
        for (int i = 0; i < 6; i++) {
            chat(body("edge", "charlie " + i, 4, false)).then().statusCode(200)
                    .body("choices[0].message.content", equalTo(SimulatedBackend.expectedContent("charlie", 4)))
                    .header("X-Offload-Served-By", "edge");
        }
        assertEquals(6, SimulatedBackendsResource.edgeB.requestsCompleted());
    }

    @Test
    void edgeDownFallsBackToCloud() {
        SimulatedBackendsResource.edgeA.fault(Fault.ERROR_503);
        SimulatedBackendsResource.edgeB.fault(Fault.ERROR_503);
        chat(body("auto", "delta question", 4, false)).then().statusCode(200)
                .header("X-Offload-Served-By", "cloud")
                .body("choices[0].message.content", equalTo(SimulatedBackend.expectedContent("delta", 4)))
                .body("offload.fallbackReason", notNullValue());
    }

    @Test
    void everythingDownEndsInAnExtractiveAnswerMarkedAsSuch() {
        for (SimulatedBackend b : ALL) {
            b.fault(Fault.ERROR_500);
        }
        String answer = chat(body("auto", "what happens to restricted data", 32, false)).then().statusCode(200)
                .header("X-Offload-Served-By", "extractive").extract().path("choices[0].message.content");
        assertTrue(answer.startsWith(ExtractiveAnswerer.PREFIX), answer);
        assertTrue(answer.contains("1. "), "quotes at least one sample-corpus source: " + answer);
    }

    @Test
    void aBackendThatHangsAfterItsHeadersIsTimedOutAndFailedOver() {
        SimulatedBackendsResource.edgeA.fault(Fault.HANG_AFTER_HEADERS);
        SimulatedBackendsResource.edgeB.fault(Fault.HANG_AFTER_HEADERS);
        long t0 = System.nanoTime();
        chat(body("auto", "echo question", 4, false)).then().statusCode(200).header("X-Offload-Served-By", "cloud");
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms < 10_000, "failover took " + ms + " ms");
    }

    @Test
    void aStreamThatFailsAfterItsFirstTokenEndsWithAnErrorEventAndNoDuplicates() {
        for (SimulatedBackend b : new SimulatedBackend[]{SimulatedBackendsResource.edgeA, SimulatedBackendsResource.edgeB}) {
            b.resetAfterTokens(3);
            b.fault(Fault.RESET_MID_STREAM);
        }
        String sse = chat(body("edge", "foxtrot question", 10, true)).then().statusCode(200).extract().asString();
        List<String> ev = events(sse);
        String last = ev.get(ev.size() - 1);
        assertTrue(last.contains("\"error\""), "explicit terminal error event: " + last);
        assertFalse(ev.contains("[DONE]"));
        // The tokens that arrived before the reset (a TCP reset may discard some the backend
        // wrote), once each and in order: no retry elsewhere, nothing duplicated.
        String got = content(ev);
        assertFalse(got.isEmpty());
        assertTrue(SimulatedBackend.expectedContent("foxtrot question", 3).startsWith(got), got);
        assertEquals(0, SimulatedBackendsResource.cloud.requestsReceived());
    }

    @Test
    void aStreamThatGoesSilentIsEndedByTheIdleTimeout() {
        for (SimulatedBackend b : new SimulatedBackend[]{SimulatedBackendsResource.edgeA, SimulatedBackendsResource.edgeB}) {
            b.slowDelayPerToken(Duration.ofMillis(1300)); // first token within the 1.5 s TTFT timeout, gaps over the 1 s idle timeout
            b.fault(Fault.SLOW);
        }
        String sse = chat(body("edge", "kilo question", 5, true)).then().statusCode(200).extract().asString();
        List<String> ev = events(sse);
        String last = ev.get(ev.size() - 1);
        assertTrue(last.contains("idle_timeout"), last);
        assertFalse(ev.contains("[DONE]"));
        assertTrue(SimulatedBackend.expectedContent("kilo question", 5).startsWith(content(ev)));
    }

    @Test
    void identicalConcurrentRequestsShareOneBackendCall() throws Exception {
        SimulatedBackendsResource.edgeA.slowDelayPerToken(Duration.ofMillis(30));
        SimulatedBackendsResource.edgeB.slowDelayPerToken(Duration.ofMillis(30));
        SimulatedBackendsResource.edgeA.fault(Fault.SLOW);
        SimulatedBackendsResource.edgeB.fault(Fault.SLOW);
        String b = body("edge", "golf coalesce", 8, false);
        List<CompletableFuture<String>> calls = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            calls.add(CompletableFuture.supplyAsync(() -> chat(b).then().statusCode(200).extract().path("choices[0].message.content")));
        }
        for (CompletableFuture<String> c : calls) {
            assertEquals(SimulatedBackend.expectedContent("golf", 8), c.get(30, TimeUnit.SECONDS));
        }
        long received = SimulatedBackendsResource.edgeA.requestsReceived() + SimulatedBackendsResource.edgeB.requestsReceived();
        assertTrue(received < 4, "4 identical concurrent requests made " + received + " backend calls");
    }

    @Test
    void inFlightRequestsPerReplicaNeverExceedItsCap() throws Exception {
        List<CompletableFuture<Integer>> calls = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            String b = body("edge", "hotel" + i + " cap", 16, false);
            calls.add(CompletableFuture.supplyAsync(() -> chat(b).then().extract().statusCode()));
        }
        for (CompletableFuture<Integer> c : calls) {
            assertEquals(200, c.get(60, TimeUnit.SECONDS));
        }
        assertTrue(SimulatedBackendsResource.edgeA.maxRunningObserved() <= 4, "A ran " + SimulatedBackendsResource.edgeA.maxRunningObserved());
        assertTrue(SimulatedBackendsResource.edgeB.maxRunningObserved() <= 4, "B ran " + SimulatedBackendsResource.edgeB.maxRunningObserved());
        assertEquals(24, SimulatedBackendsResource.edgeA.requestsCompleted() + SimulatedBackendsResource.edgeB.requestsCompleted());
    }

    @Test
    void aClientThatDisconnectsCancelsItsBackendRequest() throws Exception {
        for (SimulatedBackend b : new SimulatedBackend[]{SimulatedBackendsResource.edgeA, SimulatedBackendsResource.edgeB}) {
            b.slowDelayPerToken(Duration.ofMillis(100));
            b.fault(Fault.SLOW);
        }
        HttpClient client = HttpClient.newHttpClient();
        HttpRequest req = HttpRequest.newBuilder(URI.create(chatUrl.toString()))
                .header("Content-Type", "application/json")
                .header("Authorization", TestKeys.bearer(TestKeys.DEFAULT_DEVICE))
                .POST(HttpRequest.BodyPublishers.ofString(body("edge", "india disconnect", 60, true))).build();
        HttpResponse<InputStream> resp = client.send(req, HttpResponse.BodyHandlers.ofInputStream());
        BufferedReader r = new BufferedReader(new InputStreamReader(resp.body(), StandardCharsets.UTF_8));
        String first = r.readLine();
        assertTrue(first.startsWith("data: "), first);
        long closedAt = System.nanoTime();
        resp.body().close();
        await("the backend to see the cancellation").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
                .until(() -> SimulatedBackendsResource.edgeA.requestsCancelled() + SimulatedBackendsResource.edgeB.requestsCancelled() == 1);
        long ms = (System.nanoTime() - closedAt) / 1_000_000;
        System.out.println("backend request cancelled " + ms + " ms after the client closed");
        await("in-flight back to zero").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
                .until(() -> generator.tier("edge").replicas().stream().allMatch(x -> x.inFlight() == 0));
    }

    @Test
    void metricsShowBatchingAndBackendState() {
        chat(body("edge", "juliet metrics", 3, false)).then().statusCode(200);
        ManagementInterface.given().when().get("/q/metrics").then().statusCode(200)
                .body(containsString("gateway_backend_batch_occupancy"))
                .body(containsString("gateway_backend_inflight"))
                .body(containsString("gateway_backend_limit"))
                .body(containsString("gateway_backend_queue_length"))
                .body(containsString("gateway_generation_ttft_seconds"))
                .body(containsString("gateway_generation_tokens_total"))
                .body(containsString("gateway_backend_circuit_state"))
                .body(containsString("gateway_backend_vllm_requests_running"));
    }
}
