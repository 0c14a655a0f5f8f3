package dev.offload.gateway.generation;

import dev.langchain4j.exception.HttpException;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.EOFException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The LangChain4j client over pooled Vert.x connections, against a small SSE server in this
 * test whose behaviour each test sets: streaming, connection reuse, cancellation at any point,
 * and how each way of failing is reported.
 */
class LangChainBackendClientTest {
    private Vertx vertx;
    private HttpServer server;
    private LangChainBackendClient client;
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger closedConnections = new AtomicInteger();
    private volatile Consumer<HttpServerRequest> behaviour;
    /** The body of the last request the server received. */
    private volatile String lastBody;

    @BeforeEach
    void start() throws Exception {
        vertx = Vertx.vertx();
        server = vertx.createHttpServer()
                .connectionHandler(c -> {
                    connections.incrementAndGet();
                    c.closeHandler(v -> closedConnections.incrementAndGet());
                })
                .requestHandler(req -> req.body().onSuccess(b -> {
                    lastBody = b.toString();
                    behaviour.accept(req);
                }));
        server.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        client = new LangChainBackendClient(vertx, "http://127.0.0.1:" + server.actualPort() + "/v1", null, 2,
                Duration.ofSeconds(2), Duration.ofSeconds(30), Duration.ofSeconds(4));
    }

    @AfterEach
    void stop() throws Exception {
        client.close();
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private static String chunk(String content, String finishReason) {
        return "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\""
                + content + "\"},\"finish_reason\":" + (finishReason == null ? "null" : "\"" + finishReason + "\"") + "}]}\n\n";
    }

    private static GenerationRequest request() {
        return new GenerationRequest("t", List.of(new ChatTurn("user", "hello")), 8, null, Priority.INTERACTIVE,
                Long.MAX_VALUE, null, List.of("edge"), null, dev.offload.gateway.privacy.Sensitivity.INTERNAL);
    }

    /** What one call reported. */
    private static final class Outcome implements BackendClient.Listener {
        final StringBuilder text = new StringBuilder();
        final CompletableFuture<String> finish = new CompletableFuture<>();
        final CountDownLatch firstToken = new CountDownLatch(1);

        final List<ChoiceDelta> deltas = new java.util.concurrent.CopyOnWriteArrayList<>();
        final List<String> models = new java.util.concurrent.CopyOnWriteArrayList<>();

        @Override
        public void onModel(String model) {
            models.add(model);
        }

        @Override
        public synchronized void onDelta(ChoiceDelta d) {
            deltas.add(d);
            if (d.choice() == 0) {
                text.append(d.content());
            }
            if (d.carriesOutput()) {
                firstToken.countDown();
            }
        }

        @Override
        public void onComplete(String finishReason, Integer promptTokens, Integer completionTokens) {
            finish.complete(finishReason);
        }

        @Override
        public void onError(Throwable failure) {
            finish.completeExceptionally(failure);
        }

        Throwable failure() throws Exception {
            try {
                finish.get(10, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                return e.getCause();
            }
            throw new AssertionError("the call succeeded: " + text);
        }
    }

    @Test
    void streamsTokensAndReusesOneConnectionForSequentialCalls() throws Exception {
        behaviour = req -> {
            assertEquals("/v1/chat/completions", req.path());
            req.response().setChunked(true).putHeader("Content-Type", "text/event-stream");
            req.response().write(chunk("Hel", null));
            req.response().write(chunk("lo", null));
            req.response().end(chunk("", "stop") + "data: [DONE]\n\n");
        };
        for (int i = 0; i < 5; i++) {
            Outcome o = new Outcome();
            client.stream(request(), "m", o);
            assertEquals("stop", o.finish.get(10, TimeUnit.SECONDS));
            assertEquals("Hello", o.text.toString());
            // The listener hears the end just before the connection goes back to the pool; a
            // call started at that very instant would take (or open) another pooled connection.
            Thread.sleep(20);
        }
        assertEquals(1, connections.get(), "keep-alive: one connection for five sequential calls");
        assertEquals(0, closedConnections.get());
    }

    @Test
    void eachEventLoopKeepsItsOwnConnections() throws Exception {
        List<io.vertx.core.http.HttpConnection> seen = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
        behaviour = req -> {
            seen.add(req.connection());
            req.response().putHeader("Content-Type", "text/event-stream").end(chunk("x", "stop"));
        };
        List<io.vertx.core.Context> loops = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
        vertx.deployVerticle(() -> new io.vertx.core.AbstractVerticle() {
            @Override
            public void start() {
                loops.add(context); // each instance gets the next event loop
            }
        }, new io.vertx.core.DeploymentOptions().setInstances(2)).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        io.vertx.core.Context a = loops.get(0);
        io.vertx.core.Context b = loops.get(1);
        for (int i = 0; i < 6; i++) {
            io.vertx.core.Context on = i % 2 == 0 ? a : b;
            Outcome o = new Outcome();
            CompletableFuture<Thread> caller = new CompletableFuture<>();
            on.runOnContext(v -> {
                caller.complete(Thread.currentThread());
                client.stream(request(), "m", o);
            });
            assertEquals("stop", o.finish.get(10, TimeUnit.SECONDS));
            Thread.sleep(20); // back in the pool, the most recently used connection
        }
        // Vert.x's shared pool would hand loop b the connection loop a just used (and back):
        // one connection, and a thread hand-off per call.
        assertEquals(2, connections.get());
        for (int i = 2; i < 6; i++) {
            assertTrue(seen.get(i) == seen.get(i - 2), "call " + i + " used its loop's connection");
        }
        assertTrue(seen.get(0) != seen.get(1));
    }

    @Test
    void concurrentCallsShareAtMostPoolSizeConnections() throws Exception {
        behaviour = req -> vertx.setTimer(30, t -> req.response().putHeader("Content-Type", "text/event-stream")
                .end(chunk("x", "length")));
        List<Outcome> calls = new java.util.ArrayList<>();
        for (int i = 0; i < 6; i++) {
            Outcome o = new Outcome();
            client.stream(request(), "m", o);
            calls.add(o);
        }
        for (Outcome o : calls) {
            assertEquals("length", o.finish.get(10, TimeUnit.SECONDS));
        }
        assertEquals(2, connections.get(), "six concurrent calls over a pool of two");
    }

    @Test
    void cancellingBeforeTheFirstEventClosesTheConnection() throws Exception {
        CountDownLatch headersSent = new CountDownLatch(1);
        behaviour = req -> {
            req.response().setChunked(true).putHeader("Content-Type", "text/event-stream").writeHead();
            headersSent.countDown(); // and then nothing: prefill that never ends
        };
        Outcome o = new Outcome();
        BackendClient.Cancellation c = client.stream(request(), "m", o);
        assertTrue(headersSent.await(10, TimeUnit.SECONDS));
        c.cancel();
        await("the server to see the connection close").atMost(Duration.ofSeconds(10))
                .until(() -> closedConnections.get() == 1);
        assertTrue(!o.finish.isDone(), "a cancelled call reports nothing");
    }

    @Test
    void cancellingMidStreamClosesTheConnection() throws Exception {
        behaviour = req -> {
            req.response().setChunked(true).putHeader("Content-Type", "text/event-stream");
            req.response().write(chunk("tok", null));
        };
        Outcome o = new Outcome();
        BackendClient.Cancellation c = client.stream(request(), "m", o);
        assertTrue(o.firstToken.await(10, TimeUnit.SECONDS));
        c.cancel();
        await("the server to see the connection close").atMost(Duration.ofSeconds(10))
                .until(() -> closedConnections.get() == 1);
    }

    @Test
    void aStreamEndingWithoutFinishReasonIsTruncated() throws Exception {
        behaviour = req -> req.response().setChunked(true).putHeader("Content-Type", "text/event-stream")
                .end(chunk("partial", null));
        Outcome o = new Outcome();
        client.stream(request(), "m", o);
        assertInstanceOf(EOFException.class, o.failure());
        assertEquals("partial", o.text.toString());
    }

    @Test
    void anErrorStatusIsAnHttpExceptionWithTheBody() throws Exception {
        behaviour = req -> req.response().setStatusCode(503).end("{\"error\":{\"message\":\"overloaded\"}}");
        Outcome o = new Outcome();
        client.stream(request(), "m", o);
        HttpException e = assertInstanceOf(HttpException.class, o.failure());
        assertEquals(503, e.statusCode());
        assertTrue(e.getMessage().contains("overloaded"), e.getMessage());
    }

    @Test
    void aConnectionClosedBeforeTheResponseIsReportedAsSuch() throws Exception {
        behaviour = req -> req.connection().close();
        Outcome o = new Outcome();
        client.stream(request(), "m", o);
        assertTrue(Generator.connectionClosed(o.failure()));
    }

    @Test
    void aMidStreamResetIsAnErrorNotAClosedConnectionBeforeTheResponse() throws Exception {
        behaviour = req -> {
            req.response().setChunked(true).putHeader("Content-Type", "text/event-stream");
            req.response().write(chunk("tok", null)).onComplete(v -> req.connection().close());
        };
        Outcome o = new Outcome();
        client.stream(request(), "m", o);
        Throwable failure = o.failure();
        assertTrue(!Generator.connectionClosed(failure), "tokens were received: not retryable on the same replica");
        assertEquals("tok", o.text.toString());
    }

    @Test
    void aRefusedConnectionFailsTheCall() throws Exception {
        int port = server.actualPort();
        server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        try (LangChainBackendClient nowhere = new LangChainBackendClient(vertx, "http://127.0.0.1:" + port + "/v1", null,
                1, Duration.ofSeconds(2), Duration.ofSeconds(30), Duration.ofSeconds(4))) {
            Outcome o = new Outcome();
            nowhere.stream(request(), "m", o);
            assertTrue(o.failure() instanceof java.net.ConnectException || o.failure().getCause() instanceof java.net.ConnectException,
                    String.valueOf(o.failure()));
        }
    }

    @Test
    void toolsChoicesAndLogprobsGoOutAsSentAndComeBackPerChoice() throws Exception {
        AtomicReference<String> sent = new AtomicReference<>();
        behaviour = req -> {
            sent.set(lastBody);
            String head = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[";
            req.response().setChunked(true).putHeader("Content-Type", "text/event-stream");
            req.response().write(head + "{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n");
            req.response().write(head + "{\"index\":0,\"delta\":{\"tool_calls\":[{\"id\":\"call-1\",\"type\":\"function\",\"index\":0,"
                    + "\"function\":{\"name\":\"lookup\"}}]},\"finish_reason\":null}]}\n\n");
            req.response().write(head + "{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"q\\\":\"}}]},"
                    + "\"finish_reason\":null}]}\n\n");
            req.response().write(head + "{\"index\":1,\"delta\":{\"content\":\"hi\"},\"logprobs\":{\"content\":[{\"token\":\"hi\","
                    + "\"logprob\":-0.25,\"bytes\":[104,105],\"top_logprobs\":[{\"token\":\"hi\",\"logprob\":-0.25,\"bytes\":[104,105]}]}]},"
                    + "\"finish_reason\":null}]}\n\n");
            req.response().write(head + "{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n");
            req.response().end(head + "{\"index\":1,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n");
        };
        List<java.util.Map<String, Object>> tools = List.of(java.util.Map.of("type", "function", "function",
                java.util.Map.of("name", "lookup", "strict", true, "parameters", java.util.Map.of("type", "object"))));
        SamplingOptions options = new SamplingOptions(null, null, null, null, null, null, null, null, tools, "required",
                false, 2, true, 1, null);
        GenerationRequest r = new GenerationRequest("t", List.of(new ChatTurn("user", "find x"),
                new ChatTurn("assistant", "", null, List.of(new ToolCall("call-0", "lookup", "{\"q\":\"x\"}"))),
                new ChatTurn("tool", "x is 42", "call-0", List.of())), 8, null, Priority.INTERACTIVE,
                Long.MAX_VALUE, null, List.of("edge"), null, dev.offload.gateway.privacy.Sensitivity.INTERNAL, options);
        Outcome o = new Outcome();
        client.stream(r, "m", o);
        assertEquals("tool_calls", o.finish.get(10, TimeUnit.SECONDS), "choice 0's finish reason");
        var body = new com.fasterxml.jackson.databind.ObjectMapper().readTree(sent.get());
        assertEquals(true, body.path("tools").get(0).path("function").path("strict").asBoolean(), "tools as sent: " + body);
        assertEquals("required", body.path("tool_choice").asText());
        assertEquals(false, body.path("parallel_tool_calls").asBoolean(true));
        assertEquals(2, body.path("n").asInt());
        assertTrue(body.path("logprobs").asBoolean());
        assertEquals(1, body.path("top_logprobs").asInt());
        var assistant = body.path("messages").get(1);
        assertEquals("call-0", assistant.path("tool_calls").get(0).path("id").asText(), body.toString());
        assertEquals("{\"q\":\"x\"}", assistant.path("tool_calls").get(0).path("function").path("arguments").asText());
        assertEquals("tool", body.path("messages").get(2).path("role").asText());
        assertEquals("call-0", body.path("messages").get(2).path("tool_call_id").asText());
        assertEquals("x is 42", body.path("messages").get(2).path("content").asText());

        List<ChoiceDelta> d = o.deltas;
        ToolCallFragment first = d.get(0).toolCalls().get(0);
        assertEquals("call-1", first.id());
        assertEquals("lookup", first.name());
        assertEquals("{\"q\":", d.get(1).toolCalls().get(0).arguments());
        assertEquals(1, d.get(2).choice());
        assertEquals("hi", d.get(2).content());
        var lp = new com.fasterxml.jackson.databind.ObjectMapper().readTree(d.get(2).logprobs());
        assertEquals("hi", lp.path("content").get(0).path("token").asText(), d.get(2).logprobs());
        assertEquals(-0.25, lp.path("content").get(0).path("logprob").asDouble());
        assertEquals(-0.25, lp.path("content").get(0).path("top_logprobs").get(0).path("logprob").asDouble());
        assertEquals("tool_calls", d.get(3).finishReason());
        assertEquals(1, d.get(4).choice());
        assertEquals("stop", d.get(4).finishReason());
    }

    @Test
    void aLegacyCompletionGoesToCompletionsWithEveryPromptAndItsOwnParameters() throws Exception {
        AtomicReference<String> sent = new AtomicReference<>();
        AtomicReference<String> path = new AtomicReference<>();
        behaviour = req -> {
            sent.set(lastBody);
            path.set(req.path());
            String head = "data: {\"id\":\"c\",\"object\":\"text_completion\",\"model\":\"served-legacy\",\"choices\":[";
            req.response().setChunked(true).putHeader("Content-Type", "text/event-stream");
            req.response().write(head + "{\"index\":1,\"text\":\"b0\",\"logprobs\":{\"tokens\":[\"b0\"],\"token_logprobs\":[-0.25]},"
                    + "\"finish_reason\":null}]}\n\n");
            req.response().write(head + "{\"index\":0,\"text\":\"a0\",\"logprobs\":null,\"finish_reason\":\"length\"}]}\n\n");
            req.response().end(head + "{\"index\":1,\"text\":\"\",\"logprobs\":null,\"finish_reason\":\"stop\"}],"
                    + "\"usage\":null}\n\ndata: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":2,\"completion_tokens\":2}}\n\n"
                    + "data: [DONE]\n\n");
        };
        SamplingOptions options = new SamplingOptions(null, List.of("\n"), 5, null, null, null, null, null, null, null,
                null, null, null, null, new SamplingOptions.LegacyCompletion(1, true, "END", 2));
        GenerationRequest r = new GenerationRequest("t", List.of(new ChatTurn("prompt", "a"), new ChatTurn("prompt", "b")),
                8, 0.5, Priority.INTERACTIVE, Long.MAX_VALUE, null, List.of("edge"), null,
                dev.offload.gateway.privacy.Sensitivity.INTERNAL, options);
        Outcome o = new Outcome();
        client.stream(r, "m", o);
        assertEquals("length", o.finish.get(10, TimeUnit.SECONDS));
        assertEquals("/v1/completions", path.get());
        var body = new com.fasterxml.jackson.databind.ObjectMapper().readTree(sent.get());
        assertEquals("[\"a\",\"b\"]", body.path("prompt").toString());
        assertEquals(5, body.path("seed").asInt());
        assertEquals(1, body.path("logprobs").asInt());
        assertTrue(body.path("echo").asBoolean());
        assertEquals("END", body.path("suffix").asText());
        assertEquals(2, body.path("best_of").asInt());
        assertEquals(0.5, body.path("temperature").asDouble());
        assertEquals("\n", body.path("stop").get(0).asText());
        assertEquals(1, o.deltas.get(0).choice());
        assertEquals("b0", o.deltas.get(0).content());
        assertTrue(o.deltas.get(0).logprobs().contains("token_logprobs"));
        assertEquals("a0", o.text.toString());
        assertEquals(List.of("served-legacy"), o.models, "the reply's model, once for all its chunks");
    }

    @Test
    void theModelTheReplyNamesIsReportedOnceAndNotWhenItNamesNone() throws Exception {
        // vLLM names its --served-model-name in every chunk, whatever alias the request used.
        behaviour = req -> {
            req.response().setChunked(true).putHeader("Content-Type", "text/event-stream");
            req.response().write(chunk("Hel", null).replace("\"object\"", "\"model\":\"served-7b\",\"object\""));
            req.response().end(chunk("lo", "stop").replace("\"object\"", "\"model\":\"served-7b\",\"object\"")
                    + "data: [DONE]\n\n");
        };
        Outcome named = new Outcome();
        client.stream(request(), "alias", named);
        assertEquals("stop", named.finish.get(10, TimeUnit.SECONDS));
        assertEquals(List.of("served-7b"), named.models);

        behaviour = req -> req.response().putHeader("Content-Type", "text/event-stream")
                .end(chunk("x", "stop") + "data: [DONE]\n\n");
        Outcome unnamed = new Outcome();
        client.stream(request(), "alias", unnamed);
        assertEquals("stop", unnamed.finish.get(10, TimeUnit.SECONDS));
        assertEquals(List.of(), unnamed.models);
    }
}
