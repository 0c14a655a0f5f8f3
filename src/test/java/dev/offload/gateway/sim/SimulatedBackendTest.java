package dev.offload.gateway.sim;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SimulatedBackendTest {
    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private static final Duration PATIENCE = Duration.ofSeconds(5);
    private static final Pattern SSE_BODY = Pattern.compile("(data: [^\\n]+\\n\\n)+");

    private final List<SimulatedBackend> backends = new ArrayList<>();

    @AfterEach
    void closeBackends() {
        backends.forEach(SimulatedBackend::close);
    }

    private SimulatedBackend start(SimulatedBackend.Builder builder) {
        SimulatedBackend backend = builder.start();
        backends.add(backend);
        return backend;
    }

    /** Steps of 1 ms and free prefill: for tests where timing does not matter. */
    private static SimulatedBackend.Builder fast() {
        return SimulatedBackend.builder().stepBase(Duration.ofMillis(1)).stepPerSequence(Duration.ZERO)
                .prefillPerToken(Duration.ZERO);
    }

    // ------------------------------------------------------------------ format

    @Test
    void streamingFollowsTheOpenAiFormat() throws Exception {
        SimulatedBackend backend = start(fast());
        String prompt = "Alpha, tell me a story";
        HttpResponse<String> response = send(backend, request(prompt, 7, true, false), HttpResponse.BodyHandlers.ofString());

        assertEquals(200, response.statusCode());
        assertTrue(response.headers().firstValue("content-type").orElseThrow().startsWith("text/event-stream"));
        String raw = response.body();
        assertTrue(SSE_BODY.matcher(raw).matches(), "every event is 'data: ...' plus a blank line:\n" + raw);
        assertTrue(raw.endsWith("data: [DONE]\n\n"));

        List<JsonObject> chunks = chunks(raw);
        JsonObject first = chunks.get(0);
        assertEquals("chat.completion.chunk", first.getString("object"));
        assertEquals("assistant", delta(first).getString("role"));
        assertEquals("", delta(first).getString("content"));
        List<String> tokens = new ArrayList<>();
        for (JsonObject chunk : chunks) {
            assertEquals(first.getString("id"), chunk.getString("id"));
            assertEquals("m1", chunk.getString("model"));
            assertFalse(chunk.containsKey("usage"), "no usage without stream_options");
            String content = delta(chunk).getString("content");
            if (content != null && !content.isEmpty()) {
                tokens.add(content);
            }
        }
        assertEquals(List.of("alpha0", " alpha1", " alpha2", " alpha3", " alpha4", " alpha5", " alpha6"), tokens);
        assertEquals(7, new HashSet<>(tokens).size(), "no duplicates");
        assertEquals(SimulatedBackend.expectedContent(prompt, 7), String.join("", tokens));

        JsonObject finish = chunks.get(chunks.size() - 1);
        assertEquals("length", choice(finish).getString("finish_reason"));
        assertTrue(delta(finish).isEmpty());
        for (JsonObject chunk : chunks.subList(0, chunks.size() - 1)) {
            assertNull(choice(chunk).getString("finish_reason"));
        }
        await("completed").atMost(PATIENCE).until(() -> backend.requestsCompleted() == 1);
    }

    @Test
    void streamingStopsAtTheModelLengthAndReportsUsageWhenAsked() throws Exception {
        SimulatedBackend backend = start(fast().outputTokens(4));
        String prompt = "beta gamma delta";
        String raw = send(backend, request(prompt, 10, true, true), HttpResponse.BodyHandlers.ofString()).body();

        List<JsonObject> chunks = chunks(raw);
        JsonObject usageChunk = chunks.get(chunks.size() - 1);
        assertEquals(new JsonArray(), usageChunk.getJsonArray("choices"));
        JsonObject usage = usageChunk.getJsonObject("usage");
        assertEquals(3, usage.getInteger("prompt_tokens"));
        assertEquals(4, usage.getInteger("completion_tokens"));
        assertEquals(7, usage.getInteger("total_tokens"));
        JsonObject finish = chunks.get(chunks.size() - 2);
        assertEquals("stop", choice(finish).getString("finish_reason"));
        StringBuilder content = new StringBuilder();
        for (JsonObject chunk : chunks.subList(0, chunks.size() - 1)) {
            assertTrue(chunk.containsKey("usage") && chunk.getValue("usage") == null, "usage:null on other chunks");
            content.append(delta(chunk).getString("content", ""));
        }
        assertEquals("beta0 beta1 beta2 beta3", content.toString());
    }

    @Test
    void nonStreamingAnswerHasTheChatCompletionShape() throws Exception {
        SimulatedBackend backend = start(fast());
        JsonObject body = new JsonObject().put("model", "m2").put("messages", new JsonArray()
                .add(new JsonObject().put("role", "system").put("content", "You are terse."))
                .add(new JsonObject().put("role", "user").put("content", "Zeta question here"))
                .add(new JsonObject().put("role", "assistant").put("content", "ok"))
                .add(new JsonObject().put("role", "user").put("content", new JsonArray()
                        .add(new JsonObject().put("type", "text").put("text", "Omega last words")))));
        HttpResponse<String> response = send(backend, body.encode(), HttpResponse.BodyHandlers.ofString());

        assertEquals(200, response.statusCode());
        assertTrue(response.headers().firstValue("content-type").orElseThrow().startsWith("application/json"));
        JsonObject json = new JsonObject(response.body());
        assertEquals("chat.completion", json.getString("object"));
        assertTrue(json.getString("id").startsWith("chatcmpl-"));
        assertEquals("m2", json.getString("model"));
        JsonObject choice = json.getJsonArray("choices").getJsonObject(0);
        assertEquals(0, choice.getInteger("index"));
        assertEquals("assistant", choice.getJsonObject("message").getString("role"));
        // No max_tokens: 16 tokens, tagged from the last user message.
        assertEquals(SimulatedBackend.expectedContent("omega", 16), choice.getJsonObject("message").getString("content"));
        assertEquals("length", choice.getString("finish_reason"));
        JsonObject usage = json.getJsonObject("usage");
        assertEquals(10, usage.getInteger("prompt_tokens"));
        assertEquals(16, usage.getInteger("completion_tokens"));
        assertEquals(26, usage.getInteger("total_tokens"));

        JsonObject three = new JsonObject(send(backend, request("x", 3, false, false),
                HttpResponse.BodyHandlers.ofString()).body());
        assertEquals("x0 x1 x2", three.getJsonArray("choices").getJsonObject(0).getJsonObject("message")
                .getString("content"));
    }

    @Test
    void malformedRequestsGetOpenAiErrors() throws Exception {
        SimulatedBackend backend = start(fast().strictModelName(true).modelName("served"));
        for (String body : List.of("not json", "{}", "{\"messages\":[]}", "{\"messages\":[{\"content\":\"x\"}]}",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":0}",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stream\":\"yes\"}")) {
            HttpResponse<String> response = send(backend, body, HttpResponse.BodyHandlers.ofString());
            assertEquals(400, response.statusCode(), body);
            JsonObject error = new JsonObject(response.body()).getJsonObject("error");
            assertEquals("invalid_request_error", error.getString("type"), body);
            assertFalse(error.getString("message").isBlank());
        }
        HttpResponse<String> wrongModel = send(backend, request("x", 1, false, false).replace("\"m1\"", "\"other\""),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(404, wrongModel.statusCode());
        assertEquals("model_not_found", new JsonObject(wrongModel.body()).getJsonObject("error").getString("code"));
        assertEquals(7, backend.requestsFailed());
        assertEquals(7, backend.requestsReceived());
        assertEquals(404, get(backend, "/v1/nothing").statusCode());
    }

    // ------------------------------------------------------------------ models, health, metrics

    @Test
    void modelsHealthAndVllmMetrics() throws Exception {
        SimulatedBackend backend = start(SimulatedBackend.builder().modelName("llama-sim").kvCacheCapacityTokens(1000)
                .outputTokens(200));
        JsonObject models = new JsonObject(get(backend, "/v1/models").body());
        assertEquals("list", models.getString("object"));
        assertEquals("llama-sim", models.getJsonArray("data").getJsonObject(0).getString("id"));
        assertEquals("model", models.getJsonArray("data").getJsonObject(0).getString("object"));
        assertEquals(200, get(backend, "/health").statusCode());

        HttpResponse<String> metrics = get(backend, "/metrics");
        assertTrue(metrics.headers().firstValue("content-type").orElseThrow().startsWith("text/plain"));
        for (String gauge : List.of("vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc")) {
            assertTrue(metrics.body().contains("# TYPE " + gauge + " gauge\n"), gauge);
            assertTrue(metrics.body().contains(gauge + "{model_name=\"llama-sim\"} 0.0\n"), gauge);
        }

        // 100 tokens of 10+ ms: the request is certainly running while we look.
        try (SseStream stream = SseStream.open(backend, request("kappa five words of prompt", 100, true, false))) {
            assertEquals("kappa0", stream.nextToken());
            assertEquals(" kappa1", stream.nextToken());
            Map<String, Double> during = parseMetrics(get(backend, "/metrics").body());
            assertEquals(1.0, during.get("vllm:num_requests_running{model_name=\"llama-sim\"}"));
            double kv = during.get("vllm:kv_cache_usage_perc{model_name=\"llama-sim\"}");
            // The gauge may lag the stream by a token: at least the 5 prompt tokens and the first one.
            assertTrue(kv >= 0.006 && kv <= 0.105, "5 prompt + 1..100 generated of 1000: " + kv);
            stream.drain();
        }
        await("finished").atMost(PATIENCE).until(() -> backend.running() == 0 && backend.requestsCompleted() == 1);
        Map<String, Double> after = parseMetrics(get(backend, "/metrics").body());
        assertEquals(0.0, after.get("vllm:num_requests_running{model_name=\"llama-sim\"}"));
        assertEquals(0.0, after.get("vllm:kv_cache_usage_perc{model_name=\"llama-sim\"}"));
        assertEquals(5.0, after.get("vllm:prompt_tokens_total{model_name=\"llama-sim\"}"));
        assertEquals(100.0, after.get("vllm:generation_tokens_total{model_name=\"llama-sim\"}"));
        assertEquals(1.0, after.get("vllm:request_success_total{finished_reason=\"length\",model_name=\"llama-sim\"}"));
        assertEquals(0.0, after.get("vllm:request_success_total{finished_reason=\"stop\",model_name=\"llama-sim\"}"));
    }

    // ------------------------------------------------------------------ batching

    @Test
    void continuousBatchingCapsTheBatchAndQueuesTheRest() throws Exception {
        SimulatedBackend backend = start(SimulatedBackend.builder().maxBatchSize(2).outputTokens(100));
        int n = 5;
        int tokens = 40; // >= 40 steps of >= 10 ms per sequence
        // Warm up the client, the JIT and n pooled connections so the real requests arrive together.
        runConcurrently(n, i -> readAll(SseStream.open(backend, request("warm" + i, 1, true, false))));
        await("idle").atMost(PATIENCE).until(() -> backend.running() == 0 && backend.waiting() == 0);
        backend.resetStats();

        List<StreamResult> results = runConcurrently(n, i -> readAll(SseStream.open(backend,
                request("req" + i + " please answer", tokens, true, false))));

        assertEquals(2, backend.maxRunningObserved());
        await("all completed").atMost(PATIENCE).until(() -> backend.requestsCompleted() == n);
        assertEquals(0, backend.running());
        assertEquals(0, backend.waiting());
        Map<String, Long> receivedAt = new HashMap<>();
        for (ReceivedRequest r : backend.receivedRequests()) {
            receivedAt.put(new JsonObject(r.body()).getJsonArray("messages").getJsonObject(0).getString("content")
                    .split(" ")[0], r.receivedAtNanos());
        }
        List<Long> ttftMillis = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            StreamResult result = results.get(i);
            assertEquals(SimulatedBackend.expectedContent("req" + i, tokens), result.content(), "request " + i);
            assertTrue(result.done());
            ttftMillis.add(TimeUnit.NANOSECONDS.toMillis(result.firstTokenNanos() - receivedAt.get("req" + i)));
        }
        ttftMillis.sort(null);
        // Slots free after >= 400 ms; the fifth sequence needs two rounds of them.
        assertTrue(ttftMillis.get(n - 1) >= 500, "queueing shows up as TTFT: " + ttftMillis);
        assertTrue(ttftMillis.get(n - 1) > ttftMillis.get(0) + 300, "the last wait longer: " + ttftMillis);
    }

    @Test
    void fullWaitingQueueAnswers503AndWaitingRequestsCanBeCancelled() throws Exception {
        SimulatedBackend backend = start(fast().maxBatchSize(1).maxWaiting(1).outputTokens(100_000));
        try (SseStream running = SseStream.open(backend, request("a", 100_000, true, false))) {
            running.nextToken();
            try (SseStream queued = SseStream.open(backend, request("b", 10, true, false))) {
                assertEquals(200, queued.status(), "a waiting stream gets its headers at once");
                await("one waiting").atMost(PATIENCE).until(() -> backend.waiting() == 1);
                HttpResponse<String> rejected = send(backend, request("c", 1, false, false),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(503, rejected.statusCode());
                assertEquals("server_error", new JsonObject(rejected.body()).getJsonObject("error").getString("type"));
            }
            await("waiting one cancelled").atMost(PATIENCE).until(() -> backend.requestsCancelled() == 1 && backend.waiting() == 0);
            assertEquals(1, backend.running());
        }
        await("running one cancelled").atMost(PATIENCE).until(() -> backend.requestsCancelled() == 2 && backend.running() == 0);
        assertEquals(1, backend.requestsFailed());
        assertEquals(1, backend.maxRunningObserved());
    }

    @Test
    void kvCacheCapacityLimitsAdmission() throws Exception {
        // Each request needs 1 prompt + 20 output tokens; two do not fit in 30.
        SimulatedBackend backend = start(fast().maxBatchSize(8).kvCacheCapacityTokens(30));
        List<StreamResult> results = runConcurrently(3, i -> readAll(SseStream.open(backend,
                request("kv" + i, 20, true, false))));
        for (int i = 0; i < 3; i++) {
            assertEquals(SimulatedBackend.expectedContent("kv" + i, 20), results.get(i).content());
        }
        assertEquals(1, backend.maxRunningObserved());
    }

    // ------------------------------------------------------------------ cancellation

    @Test
    void clientCancellationStopsGenerationAndFreesTheSlot() throws Exception {
        SimulatedBackend backend = start(fast().maxBatchSize(1).outputTokens(100_000));
        long closedAt;
        try (SseStream stream = SseStream.open(backend, request("long", 100_000, true, false))) {
            for (int i = 0; i < 3; i++) {
                assertEquals(SimulatedBackend.expectedToken("long", i), stream.nextToken());
            }
            closedAt = System.nanoTime();
        }
        await("cancelled and slot freed").atMost(PATIENCE).until(() -> backend.requestsCancelled() == 1 && backend.running() == 0
                && backend.cancelledRequests().size() == 1);
        CancelledRequest cancel = backend.cancelledRequests().get(0);
        assertTrue(cancel.tokensSent() >= 3, "tokens sent " + cancel.tokensSent());
        assertTrue(cancel.closeObservedAtNanos() >= closedAt);
        assertTrue(cancel.slotFreedAtNanos() >= cancel.closeObservedAtNanos());
        assertTrue(cancel.closeToSlotFreed().compareTo(PATIENCE) < 0);
        assertEquals(0, backend.requestsCompleted());

        long generated = backend.generationTokensTotal();
        await("generation stopped").during(Duration.ofMillis(100)).atMost(PATIENCE)
                .until(backend::generationTokensTotal, equalTo(generated));
        // The only slot is free again.
        assertEquals(200, send(backend, request("next", 2, false, false), HttpResponse.BodyHandlers.ofString())
                .statusCode());
        await("next one completed").atMost(PATIENCE).until(() -> backend.requestsCompleted() == 1);
    }

    @Test
    void timedOutNonStreamingRequestIsCancelled() throws Exception {
        SimulatedBackend backend = start(fast().outputTokens(100_000));
        HttpRequest request = post(backend, request("slowpoke", 100_000, false, false))
                .timeout(Duration.ofMillis(300)).build();
        assertThrows(HttpTimeoutException.class, () -> CLIENT.send(request, HttpResponse.BodyHandlers.ofString()));
        await("cancelled").atMost(PATIENCE).until(() -> backend.requestsCancelled() == 1 && backend.running() == 0
                && backend.cancelledRequests().size() == 1);
        assertEquals(0, backend.cancelledRequests().get(0).tokensSent(), "nothing is sent before the end");
    }

    // ------------------------------------------------------------------ faults

    @Test
    void errorFaultsAnswerOpenAiErrorsWhileHealthStaysUp() throws Exception {
        SimulatedBackend backend = start(fast());
        for (Fault fault : List.of(Fault.ERROR_500, Fault.ERROR_503)) {
            backend.fault(fault);
            for (boolean stream : List.of(false, true)) {
                HttpResponse<String> response = send(backend, request("e", 3, stream, false),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(fault == Fault.ERROR_500 ? 500 : 503, response.statusCode());
                assertTrue(response.headers().firstValue("content-type").orElseThrow().startsWith("application/json"));
                assertFalse(new JsonObject(response.body()).getJsonObject("error").getString("message").isBlank());
            }
            assertEquals(200, get(backend, "/health").statusCode());
        }
        assertEquals(4, backend.faultsInjected());
        assertEquals(4, backend.requestsFailed());
        backend.clearFault();
        assertEquals(200, send(backend, request("e", 3, false, false), HttpResponse.BodyHandlers.ofString()).statusCode());
        assertEquals(1, backend.promptTokensTotal(), "only the last request reached the engine");
    }

    @Test
    void faultAppliesToSubsequentRequestsOnly() throws Exception {
        SimulatedBackend backend = start(fast().stepBase(Duration.ofMillis(5)));
        try (SseStream stream = SseStream.open(backend, request("inflight", 30, true, false))) {
            stream.nextToken();
            backend.fault(Fault.ERROR_500);
            assertEquals(500, send(backend, request("later", 3, false, false), HttpResponse.BodyHandlers.ofString())
                    .statusCode());
            StreamResult rest = readAll(stream);
            assertTrue(rest.done());
            assertEquals(SimulatedBackend.expectedContent("inflight", 30).substring("inflight0".length()), rest.content());
        }
    }

    @Test
    void faultProbabilityIsSeededAndPartial() throws Exception {
        List<List<Integer>> runs = new ArrayList<>();
        for (int run = 0; run < 2; run++) {
            SimulatedBackend backend = start(fast().faultSeed(7));
            backend.fault(Fault.ERROR_503, 0.5);
            List<Integer> statuses = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                statuses.add(send(backend, request("p", 1, false, false), HttpResponse.BodyHandlers.ofString())
                        .statusCode());
            }
            long failures = statuses.stream().filter(s -> s == 503).count();
            assertTrue(failures >= 5 && failures <= 35, "about half fail: " + statuses);
            assertEquals(40 - failures, statuses.stream().filter(s -> s == 200).count());
            assertEquals(failures, backend.faultsInjected());
            runs.add(statuses);
        }
        assertEquals(runs.get(0), runs.get(1), "same seed, same requests, same faults");
    }

    @Test
    void slowFaultDelaysEveryTokenOfTheAffectedRequestsOnly() throws Exception {
        SimulatedBackend backend = start(fast().slowDelayPerToken(Duration.ofMillis(400)));
        backend.fault(Fault.SLOW);
        long start = System.nanoTime();
        CompletableFuture<HttpResponse<String>> slow = CLIENT.sendAsync(post(backend,
                request("slow", 5, false, false)).build(), HttpResponse.BodyHandlers.ofString());
        await("slow one running").atMost(PATIENCE).until(() -> backend.running() == 1);
        backend.clearFault();
        HttpResponse<String> quick = send(backend, request("quick", 5, false, false), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, quick.statusCode());
        assertFalse(slow.isDone(), "the normal request overtook the slow one");
        HttpResponse<String> slowResponse = slow.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
        long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertEquals(SimulatedBackend.expectedContent("slow", 5), new JsonObject(slowResponse.body())
                .getJsonArray("choices").getJsonObject(0).getJsonObject("message").getString("content"));
        assertTrue(elapsedMillis >= 4 * 400, "four gaps of at least 400 ms: " + elapsedMillis);
        assertEquals(1, backend.faultsInjected());
    }

    @Test
    void resetMidStreamClosesTheConnectionAfterNTokens() throws Exception {
        // Long steps: the JDK client drops data it has not read yet when the connection fails.
        SimulatedBackend backend = start(fast().stepBase(Duration.ofMillis(200)).resetAfterTokens(2));
        backend.fault(Fault.RESET_MID_STREAM);
        List<String> tokens = new ArrayList<>();
        boolean abrupt = false;
        try (SseStream stream = SseStream.open(backend, request("cut", 10, true, false))) {
            assertEquals(200, stream.status());
            for (String token = stream.nextToken(); token != null; token = stream.nextToken()) {
                tokens.add(token);
            }
        } catch (IOException | UncheckedIOException e) {
            abrupt = true;
        }
        assertEquals(List.of("cut0", " cut1"), tokens);
        assertTrue(abrupt, "the chunked body ends without its terminator");

        backend.resetAfterTokens(0);
        assertThrows(IOException.class, () -> send(backend, request("cut", 10, false, false),
                HttpResponse.BodyHandlers.ofString()));
        await("both failed, none cancelled").atMost(PATIENCE).until(() -> backend.requestsFailed() == 2 && backend.running() == 0);
        assertEquals(0, backend.requestsCancelled());
        assertEquals(200, get(backend, "/health").statusCode());
    }

    @Test
    void hangAfterHeadersSendsHeadersThenNothing() throws Exception {
        SimulatedBackend backend = start(fast());
        backend.fault(Fault.HANG_AFTER_HEADERS);
        CompletableFuture<Integer> firstByte;
        try (SseStream stream = SseStream.open(backend, request("hang", 5, true, false))) {
            assertEquals(200, stream.status());
            assertTrue(stream.contentType().startsWith("text/event-stream"));
            CompletableFuture<Integer> read = CompletableFuture.supplyAsync(stream::readByte);
            firstByte = read;
            await("no byte after the headers").during(Duration.ofMillis(500)).atMost(PATIENCE)
                    .until(() -> !read.isDone());
            assertEquals(200, get(backend, "/health").statusCode());
            assertEquals(1, backend.hanging());
            assertEquals(0, backend.running());
        }
        assertTrue(firstByte.get(PATIENCE.toSeconds(), TimeUnit.SECONDS) < 0, "closing ends the blocked read");
        await("hung request cancelled by its client").atMost(PATIENCE).until(() -> backend.requestsCancelled() == 1 && backend.hanging() == 0
                && backend.cancelledRequests().size() == 1);
        assertEquals(-1, backend.cancelledRequests().get(0).slotFreedAtNanos());
    }

    @Test
    void hangBeforeHeadersNeverAnswers() throws Exception {
        SimulatedBackend backend = start(fast());
        backend.fault(Fault.HANG_BEFORE_HEADERS);
        HttpRequest request = post(backend, request("hang", 5, true, false)).timeout(Duration.ofMillis(500)).build();
        assertThrows(HttpTimeoutException.class, () -> CLIENT.send(request, HttpResponse.BodyHandlers.ofString()));
        assertEquals(200, get(backend, "/health").statusCode());
        await("cancelled after the client timeout").atMost(PATIENCE).until(() -> backend.requestsCancelled() == 1 && backend.hanging() == 0);
        assertEquals(1, backend.faultsInjected());
    }

    // ------------------------------------------------------------------ records

    @Test
    void recordsWhatReachedTheBackend() throws Exception {
        SimulatedBackend backend = start(fast().recordLimit(3));
        List<String> bodies = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            String body = request("secret" + i + " data", 1, false, false);
            bodies.add(body);
            HttpRequest request = post(backend, body).header("X-Device-Id", "dev-" + i).build();
            assertEquals(200, CLIENT.send(request, HttpResponse.BodyHandlers.ofString()).statusCode());
        }
        get(backend, "/health");
        get(backend, "/metrics");
        assertEquals(bodies.subList(2, 5), backend.receivedBodies());
        ReceivedRequest last = backend.receivedRequests().get(2);
        assertEquals("POST", last.method());
        assertEquals("/v1/chat/completions", last.path());
        assertEquals("dev-4", last.headers().get("x-device-id"));
        assertEquals(5, last.id());
        assertEquals(5, backend.requestsReceived());

        backend.resetStats();
        assertEquals(List.of(), backend.receivedBodies());
        assertEquals(0, backend.requestsReceived());
        assertEquals(5, backend.generationTokensTotal(), "vLLM counters are monotonic");
    }

    @Test
    void textSchemeIsDocumentedAndStable() {
        assertEquals("hello0 hello1 hello2", SimulatedBackend.expectedContent("Hello, there", 3));
        assertEquals(" hello7", SimulatedBackend.expectedToken("  HELLO", 7));
        assertEquals("w0 w1", SimulatedBackend.expectedContent("", 2));
        assertEquals("w0", SimulatedBackend.expectedContent("!!! x", 1));
        assertEquals("abcdefghijklmnop0", SimulatedBackend.expectedContent("abcdefghijklmnopqrstuvwxyz", 1));
    }

    // ------------------------------------------------------------------ helpers

    private static String request(String userMessage, int maxTokens, boolean stream, boolean includeUsage) {
        JsonObject body = new JsonObject().put("model", "m1")
                .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", userMessage)))
                .put("max_tokens", maxTokens).put("temperature", 0.7).put("stream", stream);
        if (includeUsage) {
            body.put("stream_options", new JsonObject().put("include_usage", true));
        }
        return body.encode();
    }

    private static HttpRequest.Builder post(SimulatedBackend backend, String body) {
        return HttpRequest.newBuilder(backend.uri("/v1/chat/completions")).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
    }

    private static <T> HttpResponse<T> send(SimulatedBackend backend, String body, HttpResponse.BodyHandler<T> handler)
            throws IOException, InterruptedException {
        return CLIENT.send(post(backend, body).timeout(PATIENCE.multipliedBy(2)).build(), handler);
    }

    private static HttpResponse<String> get(SimulatedBackend backend, String path) throws IOException, InterruptedException {
        return CLIENT.send(HttpRequest.newBuilder(backend.uri(path)).timeout(PATIENCE).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static List<JsonObject> chunks(String raw) {
        List<JsonObject> chunks = new ArrayList<>();
        for (String event : raw.split("\n\n")) {
            assertTrue(event.startsWith("data: "), event);
            String data = event.substring("data: ".length());
            if (!data.equals("[DONE]")) {
                chunks.add(new JsonObject(data));
            }
        }
        return chunks;
    }

    private static JsonObject choice(JsonObject chunk) {
        return chunk.getJsonArray("choices").getJsonObject(0);
    }

    private static JsonObject delta(JsonObject chunk) {
        return choice(chunk).getJsonObject("delta");
    }

    private static final Pattern SAMPLE = Pattern.compile("^([^#\\s][^ ]*) (\\S+)$", Pattern.MULTILINE);

    private static Map<String, Double> parseMetrics(String text) {
        Map<String, Double> out = new HashMap<>();
        Matcher m = SAMPLE.matcher(text);
        while (m.find()) {
            out.put(m.group(1), Double.parseDouble(m.group(2)));
        }
        return out;
    }

    private interface Task<T> {
        T run(int index) throws Exception;
    }

    private static <T> List<T> runConcurrently(int n, Task<T> task) throws Exception {
        List<CompletableFuture<T>> futures = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int index = i;
            CompletableFuture<T> future = new CompletableFuture<>();
            futures.add(future);
            Thread thread = new Thread(() -> {
                try {
                    future.complete(task.run(index));
                } catch (Throwable e) {
                    future.completeExceptionally(e);
                }
            });
            threads.add(thread);
        }
        threads.forEach(Thread::start);
        List<T> results = new ArrayList<>();
        for (CompletableFuture<T> future : futures) {
            results.add(future.get(PATIENCE.toSeconds() * 2, TimeUnit.SECONDS));
        }
        return results;
    }

    /** Content after the stream's position, time of its first token, whether [DONE] came. */
    private record StreamResult(String content, long firstTokenNanos, boolean done) {
    }

    private static StreamResult readAll(SseStream stream) throws IOException {
        try (stream) {
            StringBuilder content = new StringBuilder();
            long first = 0;
            for (String token = stream.nextToken(); token != null; token = stream.nextToken()) {
                if (first == 0) {
                    first = System.nanoTime();
                }
                content.append(token);
            }
            return new StreamResult(content.toString(), first, stream.done);
        }
    }

    /** A streamed chat completion read event by event; closing it closes the connection. */
    private static final class SseStream implements AutoCloseable {
        private final HttpResponse<InputStream> response;
        private final InputStream in;
        private final BufferedReader reader;
        private boolean done;

        private SseStream(HttpResponse<InputStream> response) {
            this.response = response;
            this.in = response.body();
            this.reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        }

        static SseStream open(SimulatedBackend backend, String body) throws IOException, InterruptedException {
            return new SseStream(CLIENT.send(post(backend, body).build(), HttpResponse.BodyHandlers.ofInputStream()));
        }

        int status() {
            return response.statusCode();
        }

        String contentType() {
            return response.headers().firstValue("content-type").orElse("");
        }

        int readByte() {
            try {
                return in.read();
            } catch (IOException e) {
                return -2;
            }
        }

        void drain() throws IOException {
            while (nextToken() != null) {
                // skip
            }
        }

        /** The next non-empty content token, or null after [DONE] or at the end of the body. */
        String nextToken() throws IOException {
            while (!done) {
                String line = reader.readLine();
                if (line == null) {
                    return null;
                }
                if (line.isEmpty()) {
                    continue;
                }
                assertTrue(line.startsWith("data: "), line);
                String data = line.substring("data: ".length());
                if (data.equals("[DONE]")) {
                    done = true;
                    return null;
                }
                JsonArray choices = new JsonObject(data).getJsonArray("choices");
                if (!choices.isEmpty()) {
                    String content = choices.getJsonObject(0).getJsonObject("delta").getString("content");
                    if (content != null && !content.isEmpty()) {
                        return content;
                    }
                }
            }
            return null;
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }
}
