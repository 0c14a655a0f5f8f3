package dev.offload.gateway.generation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.langchain4j.http.client.HttpMethod;
import dev.langchain4j.http.client.HttpRequest;
import dev.langchain4j.http.client.sse.ServerSentEvent;
import dev.langchain4j.http.client.sse.ServerSentEventListener;

import java.io.EOFException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A legacy completion ({@code POST /completions}) streamed from one replica over its
 * {@link VertxHttpClient} pool, the body written and the chunks read here rather than through
 * LangChain4j's {@code CompletionRequest}: that type takes one prompt string and has no
 * {@code seed}, while vLLM serves prompt arrays and seeds. Same connections, same cancellation,
 * same listener contract as the chat path.
 *
 * <p>The prompts are the request's {@code prompt} turns, in order (the gate has redacted them for
 * a tier outside the edge zone). Thread-safe; callbacks arrive on the pool's event loop.
 */
final class LegacyCompletionCall {
    private static final ObjectMapper JSON = new ObjectMapper();

    private LegacyCompletionCall() {
    }

    static BackendClient.Cancellation start(VertxHttpClient.Pool pool, String baseUrl, String apiKey,
                                            GenerationRequest request, String model, BackendClient.Listener listener,
                                            VertxHttpClient.Call call) {
        String body = body(request, model).toString();
        HttpRequest http = HttpRequest.builder().method(HttpMethod.POST)
                .url(baseUrl.endsWith("/") ? baseUrl + "completions" : baseUrl + "/completions")
                .addHeader("Content-Type", "application/json")
                .addHeader("Accept", "text/event-stream")
                .addHeader("Authorization", "Bearer " + apiKey)
                .addHeader("User-Agent", "offload-gateway")
                .body(body).build();
        AtomicBoolean done = new AtomicBoolean();
        pool.builderFor(call).build().execute(http, null, new ServerSentEventListener() {
            private String finish;
            private boolean anyFinish;
            private Integer promptTokens;
            private Integer completionTokens;
            private boolean modelNamed;

            @Override
            public void onEvent(ServerSentEvent event) {
                String data = event.data();
                if (data == null || data.isBlank() || data.strip().equals("[DONE]") || done.get()) {
                    return;
                }
                JsonNode chunk;
                try {
                    chunk = JSON.readTree(data);
                } catch (java.io.IOException e) {
                    throw new IllegalStateException("the backend sent a chunk that is not JSON", e);
                }
                if (!modelNamed && chunk.path("model").isTextual()) {
                    modelNamed = true;
                    listener.onModel(chunk.get("model").asText());
                }
                JsonNode usage = chunk.path("usage");
                if (usage.isObject()) {
                    promptTokens = usage.path("prompt_tokens").isInt() ? usage.get("prompt_tokens").asInt() : null;
                    completionTokens = usage.path("completion_tokens").isInt() ? usage.get("completion_tokens").asInt() : null;
                }
                for (JsonNode c : chunk.path("choices")) {
                    int index = c.path("index").asInt(0);
                    String text = c.path("text").asText("");
                    JsonNode lp = c.path("logprobs");
                    String logprobs = lp.isObject() && !lp.isEmpty() ? lp.toString() : null;
                    String reason = c.path("finish_reason").isTextual() ? c.get("finish_reason").asText() : null;
                    if (reason != null) {
                        anyFinish = true;
                        if (index == 0 || finish == null) {
                            finish = reason;
                        }
                    }
                    if (!text.isEmpty() || logprobs != null || reason != null) {
                        listener.onDelta(new ChoiceDelta(index, text, List.of(), logprobs, reason));
                    }
                }
            }

            @Override
            public void onError(Throwable failure) {
                if (done.compareAndSet(false, true)) {
                    listener.onError(failure);
                }
            }

            @Override
            public void onClose() {
                if (done.compareAndSet(false, true)) {
                    if (anyFinish) {
                        listener.onComplete(finish, promptTokens, completionTokens);
                    } else {
                        listener.onError(new EOFException("the stream ended without a finish_reason"));
                    }
                }
            }
        });
        return () -> {
            done.set(true);
            call.cancel();
        };
    }

    /** vLLM's {@code CompletionRequest}: only what the device set, under OpenAI's names. */
    static ObjectNode body(GenerationRequest request, String model) {
        SamplingOptions o = request.options();
        SamplingOptions.LegacyCompletion l = o.legacy();
        ObjectNode b = JSON.createObjectNode();
        b.put("model", model);
        List<String> prompts = new ArrayList<>();
        for (ChatTurn t : request.messages()) {
            prompts.add(t.content());
        }
        if (prompts.size() == 1) {
            b.put("prompt", prompts.get(0));
        } else {
            ArrayNode a = b.putArray("prompt");
            prompts.forEach(a::add);
        }
        b.put("max_tokens", request.maxTokens());
        if (request.temperature() != null) {
            b.put("temperature", request.temperature());
        }
        if (o.topP() != null) {
            b.put("top_p", o.topP());
        }
        if (o.n() != null) {
            b.put("n", o.n());
        }
        if (o.seed() != null) {
            b.put("seed", o.seed());
        }
        if (!o.stop().isEmpty()) {
            ArrayNode a = b.putArray("stop");
            o.stop().forEach(a::add);
        }
        if (o.presencePenalty() != null) {
            b.put("presence_penalty", o.presencePenalty());
        }
        if (o.frequencyPenalty() != null) {
            b.put("frequency_penalty", o.frequencyPenalty());
        }
        if (!o.logitBias().isEmpty()) {
            ObjectNode bias = b.putObject("logit_bias");
            o.logitBias().forEach(bias::put);
        }
        if (o.user() != null) {
            b.put("user", o.user());
        }
        if (l.logprobs() != null) {
            b.put("logprobs", l.logprobs());
        }
        if (l.echo() != null) {
            b.put("echo", l.echo());
        }
        if (l.suffix() != null) {
            b.put("suffix", l.suffix());
        }
        if (l.bestOf() != null) {
            b.put("best_of", l.bestOf());
        }
        b.put("stream", true);
        b.putObject("stream_options").put("include_usage", true);
        return b;
    }
}
