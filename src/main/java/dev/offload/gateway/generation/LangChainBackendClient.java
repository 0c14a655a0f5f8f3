package dev.offload.gateway.generation;

import dev.langchain4j.model.openai.internal.DefaultOpenAiClient;
import dev.langchain4j.model.openai.internal.OpenAiClient;
import dev.langchain4j.model.openai.internal.chat.AssistantMessage;
import dev.langchain4j.model.openai.internal.chat.ChatCompletionChoice;
import dev.langchain4j.model.openai.internal.chat.ChatCompletionRequest;
import dev.langchain4j.model.openai.internal.chat.Message;
import dev.langchain4j.model.openai.internal.chat.SystemMessage;
import dev.langchain4j.model.openai.internal.chat.UserMessage;
import io.vertx.core.Vertx;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A replica reached through LangChain4j's OpenAI client ({@code DefaultOpenAiClient}) over
 * {@link VertxHttpClient}: keep-alive connections pooled per replica and event loop on the
 * Quarkus-managed Vert.x instance, SSE decoded as it arrives.
 *
 * <p>Why the client rather than {@code OpenAiStreamingChatModel}: the chat model exposes a
 * cancellation handle only with the first partial response, so a device that disconnects while
 * its request is still in prefill (or a backend that hangs after its headers) could not be
 * cancelled. {@link VertxHttpClient.Call} cancels at any moment.
 *
 * <p>Thread-safe; {@link #stream} may be called from any thread, an event loop included.
 */
public final class LangChainBackendClient implements BackendClient, AutoCloseable {
    private final VertxHttpClient.Pool pool;
    private final String baseUrl;
    private final String apiKey;

    /**
     * @param poolSize    connections to the replica per event loop: at least its max-concurrency,
     *                    so a call never waits for a connection the gateway's own limit allows it
     * @param readTimeout a connection silent for this long is closed (a safety net under the
     *                    generator's first-token and idle watchdog)
     * @param keepAlive   idle connections are closed after this, before the server's own timer
     */
    public LangChainBackendClient(Vertx vertx, String baseUrl, String apiKey, int poolSize, Duration connectTimeout,
                                  Duration readTimeout, Duration keepAlive) {
        this.baseUrl = baseUrl;
        this.apiKey = apiKey == null || apiKey.isBlank() ? "none" : apiKey;
        this.pool = new VertxHttpClient.Pool(vertx, baseUrl, poolSize, connectTimeout, readTimeout, keepAlive);
    }

    @Override
    public Cancellation stream(GenerationRequest request, String model, Listener listener) {
        List<Message> messages = new ArrayList<>(request.messages().size());
        for (ChatTurn t : request.messages()) {
            messages.add(switch (t.role()) {
                case "system" -> SystemMessage.from(t.content());
                case "assistant" -> AssistantMessage.from(t.content());
                default -> UserMessage.from(t.content());
            });
        }
        SamplingOptions o = request.options();
        ChatCompletionRequest.Builder b = ChatCompletionRequest.builder()
                .model(model)
                .messages(messages)
                .maxTokens(request.maxTokens())
                .temperature(request.temperature())
                .topP(o.topP())
                .seed(o.seed())
                .presencePenalty(o.presencePenalty())
                .frequencyPenalty(o.frequencyPenalty())
                .user(o.user())
                .stream(true);
        if (!o.stop().isEmpty()) {
            b.stop(o.stop());
        }
        if (!o.logitBias().isEmpty()) {
            b.logitBias(o.logitBias());
        }
        if (o.responseFormat() != null) {
            // As the device sent it (json_schema with its schema, json_object, text): vLLM's guided decoding reads it.
            b.customParameters(java.util.Map.of("response_format", o.responseFormat()));
        }
        ChatCompletionRequest body = b.build();
        // A client per call (a few objects over the shared pool) so that the call's cancellation
        // handle exists before the request starts: DefaultOpenAiClient's ResponseHandle cannot cancel.
        VertxHttpClient.Call call = new VertxHttpClient.Call();
        OpenAiClient client = DefaultOpenAiClient.builder()
                .httpClientBuilder(pool.builderFor(call))
                .baseUrl(baseUrl)
                .apiKey(apiKey)
                .userAgent("offload-gateway")
                .build();
        AtomicBoolean done = new AtomicBoolean();
        String[] finish = {null};
        Integer[] usage = {null, null};
        client.chatCompletion(body)
                .onPartialResponse(chunk -> {
                    if (chunk.usage() != null) {
                        usage[0] = chunk.usage().promptTokens();
                        usage[1] = chunk.usage().completionTokens();
                    }
                    if (chunk.choices() == null) {
                        return;
                    }
                    for (ChatCompletionChoice c : chunk.choices()) {
                        if (c.delta() != null && c.delta().content() != null && !c.delta().content().isEmpty()) {
                            listener.onToken(c.delta().content());
                        }
                        if (c.finishReason() != null) {
                            finish[0] = c.finishReason();
                        }
                    }
                })
                .onComplete(() -> {
                    if (done.compareAndSet(false, true)) {
                        if (finish[0] == null) {
                            // The SSE stream closed without a finish_reason (a crash mid-answer
                            // can look like a normal end to an SSE reader): truncated.
                            listener.onError(new java.io.EOFException("the stream ended without a finish_reason"));
                        } else {
                            listener.onComplete(finish[0], usage[0], usage[1]);
                        }
                    }
                })
                .onError(t -> {
                    if (done.compareAndSet(false, true)) {
                        listener.onError(t);
                    }
                })
                .execute(); // its ResponseHandle cannot cancel; the call can
        return () -> {
            done.set(true);
            call.cancel();
        };
    }

    /** Closes the replica's connections. */
    @Override
    public void close() {
        pool.close();
    }
}
