package dev.offload.gateway.generation;

import dev.langchain4j.model.openai.internal.DefaultOpenAiClient;
import dev.langchain4j.model.openai.internal.OpenAiClient;
import dev.langchain4j.model.openai.internal.chat.AssistantMessage;
import dev.langchain4j.model.openai.internal.chat.ChatCompletionChoice;
import dev.langchain4j.model.openai.internal.chat.ChatCompletionRequest;
import dev.langchain4j.model.openai.internal.chat.Delta;
import dev.langchain4j.model.openai.internal.chat.FunctionCall;
import dev.langchain4j.model.openai.internal.chat.LogProbs;
import dev.langchain4j.model.openai.internal.chat.ToolMessage;
import dev.langchain4j.model.openai.internal.chat.ToolType;
import dev.langchain4j.model.openai.internal.chat.Message;
import dev.langchain4j.model.openai.internal.chat.SystemMessage;
import dev.langchain4j.model.openai.internal.chat.UserMessage;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.vertx.core.Vertx;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
    /** LangChain4j's types carry their own JSON names (snake case, nulls left out). */
    private static final com.fasterxml.jackson.databind.ObjectMapper LOGPROBS_JSON = new com.fasterxml.jackson.databind.ObjectMapper();
    private final VertxHttpClient.Pool pool;
    private final String baseUrl;
    private final String apiKey;
    /** Writes the current trace context (W3C traceparent by default) into each call's headers. */
    private final TextMapPropagator propagator;

    /**
     * @param poolSize    connections to the replica per event loop: at least its max-concurrency,
     *                    so a call never waits for a connection the gateway's own limit allows it
     * @param readTimeout a connection silent for this long is closed (a safety net under the
     *                    generator's first-token and idle watchdog)
     * @param keepAlive   idle connections are closed after this, before the server's own timer
     */
    public LangChainBackendClient(Vertx vertx, String baseUrl, String apiKey, int poolSize, Duration connectTimeout,
                                  Duration readTimeout, Duration keepAlive) {
        this(vertx, baseUrl, apiKey, poolSize, connectTimeout, readTimeout, keepAlive, TextMapPropagator.noop());
    }

    /** @param propagator writes the trace context of the call (its GenAI span) into the request's headers */
    public LangChainBackendClient(Vertx vertx, String baseUrl, String apiKey, int poolSize, Duration connectTimeout,
                                  Duration readTimeout, Duration keepAlive, TextMapPropagator propagator) {
        this.propagator = propagator;
        this.baseUrl = baseUrl;
        this.apiKey = apiKey == null || apiKey.isBlank() ? "none" : apiKey;
        this.pool = new VertxHttpClient.Pool(vertx, baseUrl, poolSize, connectTimeout, readTimeout, keepAlive);
    }

    /** A call carrying the current trace context (the caller makes the call's span current). */
    private VertxHttpClient.Call call() {
        VertxHttpClient.Call call = new VertxHttpClient.Call();
        propagator.inject(Context.current(), call, VertxHttpClient.Call::header);
        return call;
    }

    @Override
    public Cancellation stream(GenerationRequest request, String model, Listener listener) {
        if (request.options().legacy() != null) {
            return LegacyCompletionCall.start(pool, baseUrl, apiKey, request, model, listener, call());
        }
        List<Message> messages = new ArrayList<>(request.messages().size());
        for (ChatTurn t : request.messages()) {
            messages.add(switch (t.role()) {
                case "system" -> SystemMessage.from(t.content());
                case "assistant" -> t.toolCalls().isEmpty() ? AssistantMessage.from(t.content())
                        : AssistantMessage.builder().content(t.content().isEmpty() ? null : t.content())
                        .toolCalls(toolCalls(t.toolCalls())).build();
                case "tool" -> ToolMessage.from(t.toolCallId(), t.content());
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
                .n(o.n())
                .logprobs(o.logprobs())
                .topLogprobs(o.topLogprobs())
                .parallelToolCalls(o.parallelToolCalls())
                .stream(true);
        if (!o.stop().isEmpty()) {
            b.stop(o.stop());
        }
        if (!o.logitBias().isEmpty()) {
            b.logitBias(o.logitBias());
        }
        // As the device sent them: the typed forms would drop what they do not model (a tool's
        // "strict", a schema's extras); vLLM's guided decoding and tool parser read them as sent.
        Map<String, Object> raw = new LinkedHashMap<>();
        if (o.responseFormat() != null) {
            raw.put("response_format", o.responseFormat());
        }
        if (!o.tools().isEmpty()) {
            raw.put("tools", o.tools());
        }
        if (o.toolChoice() != null) {
            raw.put("tool_choice", o.toolChoice());
        }
        if (!raw.isEmpty()) {
            b.customParameters(raw);
        }
        ChatCompletionRequest body = b.build();
        // A client per call (a few objects over the shared pool) so that the call's cancellation
        // handle exists before the request starts: DefaultOpenAiClient's ResponseHandle cannot cancel.
        VertxHttpClient.Call call = call();
        OpenAiClient client = DefaultOpenAiClient.builder()
                .httpClientBuilder(pool.builderFor(call))
                .baseUrl(baseUrl)
                .apiKey(apiKey)
                .userAgent("offload-gateway")
                .build();
        AtomicBoolean done = new AtomicBoolean();
        String[] finish = {null};
        boolean[] anyFinish = {false};
        Integer[] usage = {null, null};
        boolean[] modelNamed = {false};
        client.chatCompletion(body)
                .onPartialResponse(chunk -> {
                    if (!modelNamed[0] && chunk.model() != null) {
                        modelNamed[0] = true;
                        listener.onModel(chunk.model());
                    }
                    if (chunk.usage() != null) {
                        usage[0] = chunk.usage().promptTokens();
                        usage[1] = chunk.usage().completionTokens();
                    }
                    if (chunk.choices() == null) {
                        return;
                    }
                    for (ChatCompletionChoice c : chunk.choices()) {
                        int index = c.index() == null ? 0 : c.index();
                        Delta d = c.delta();
                        String content = d == null ? null : d.content();
                        List<ToolCallFragment> fragments = d == null || d.toolCalls() == null ? List.of()
                                : fragments(d.toolCalls());
                        String logprobs = logprobs(c.logprobs());
                        if (c.finishReason() != null) {
                            anyFinish[0] = true;
                            if (index == 0 || finish[0] == null) {
                                finish[0] = c.finishReason();
                            }
                        }
                        if ((content != null && !content.isEmpty()) || !fragments.isEmpty() || logprobs != null
                                || c.finishReason() != null) {
                            listener.onDelta(new ChoiceDelta(index, content, fragments, logprobs, c.finishReason()));
                        }
                    }
                })
                .onComplete(() -> {
                    if (done.compareAndSet(false, true)) {
                        if (!anyFinish[0]) {
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

    private static List<dev.langchain4j.model.openai.internal.chat.ToolCall> toolCalls(List<ToolCall> calls) {
        List<dev.langchain4j.model.openai.internal.chat.ToolCall> out = new ArrayList<>(calls.size());
        for (ToolCall c : calls) {
            out.add(dev.langchain4j.model.openai.internal.chat.ToolCall.builder().id(c.id()).type(ToolType.FUNCTION)
                    .function(FunctionCall.builder().name(c.name()).arguments(c.arguments()).build()).build());
        }
        return out;
    }

    private static List<ToolCallFragment> fragments(List<dev.langchain4j.model.openai.internal.chat.ToolCall> calls) {
        List<ToolCallFragment> out = new ArrayList<>(calls.size());
        for (int i = 0; i < calls.size(); i++) {
            var c = calls.get(i);
            FunctionCall f = c.function();
            out.add(new ToolCallFragment(c.index() == null ? i : c.index(), c.id(), f == null ? null : f.name(),
                    f == null ? null : f.arguments()));
        }
        return out;
    }

    /** The choice's log probabilities as OpenAI writes them ({@code {"content":[…]}}); null when none. */
    static String logprobs(LogProbs logprobs) {
        if (logprobs == null || logprobs.content() == null || logprobs.content().isEmpty()) {
            return null;
        }
        try {
            return LOGPROBS_JSON.writeValueAsString(logprobs);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("log probabilities not serialisable", e);
        }
    }

    /** Closes the replica's connections. */
    @Override
    public void close() {
        pool.close();
    }
}
