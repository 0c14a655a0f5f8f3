package dev.offload.gateway.generation;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;

import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The client span of one backend call, after the OpenTelemetry GenAI semantic conventions
 * (model spans, v1.37: {@code gen_ai.provider.name} replaced {@code gen_ai.system}): named
 * {@code {gen_ai.operation.name} {gen_ai.request.model}}, kind CLIENT, the request's sampling
 * parameters, the answer's token usage and finish reasons, the replica as
 * {@code server.address}/{@code server.port}, and the gateway's own view under {@code gateway.*}
 * (tier, replica index, attempt, queue wait, why an earlier tier did not serve).
 *
 * <p>Never content: no prompt, completion, tool argument, stop sequence or {@code user} goes into
 * a span (the conventions' opt-in content attributes are not recorded at all), nor an API key.
 *
 * <p>Thread-safe. With the SDK disabled ({@code quarkus.otel.sdk.disabled=true}, the default)
 * the tracer is a no-op and {@link #start} returns the invalid span at the cost of a lookup.
 */
final class GenAiSpans {
    static final AttributeKey<String> OPERATION = AttributeKey.stringKey("gen_ai.operation.name");
    static final AttributeKey<String> PROVIDER = AttributeKey.stringKey("gen_ai.provider.name");
    static final AttributeKey<String> REQUEST_MODEL = AttributeKey.stringKey("gen_ai.request.model");
    static final AttributeKey<String> RESPONSE_MODEL = AttributeKey.stringKey("gen_ai.response.model");
    static final AttributeKey<Long> MAX_TOKENS = AttributeKey.longKey("gen_ai.request.max_tokens");
    static final AttributeKey<Double> TEMPERATURE = AttributeKey.doubleKey("gen_ai.request.temperature");
    static final AttributeKey<Double> TOP_P = AttributeKey.doubleKey("gen_ai.request.top_p");
    static final AttributeKey<Long> SEED = AttributeKey.longKey("gen_ai.request.seed");
    static final AttributeKey<Double> PRESENCE_PENALTY = AttributeKey.doubleKey("gen_ai.request.presence_penalty");
    static final AttributeKey<Double> FREQUENCY_PENALTY = AttributeKey.doubleKey("gen_ai.request.frequency_penalty");
    static final AttributeKey<Long> CHOICE_COUNT = AttributeKey.longKey("gen_ai.request.choice.count");
    static final AttributeKey<Long> INPUT_TOKENS = AttributeKey.longKey("gen_ai.usage.input_tokens");
    static final AttributeKey<Long> OUTPUT_TOKENS = AttributeKey.longKey("gen_ai.usage.output_tokens");
    static final AttributeKey<List<String>> FINISH_REASONS = AttributeKey.stringArrayKey("gen_ai.response.finish_reasons");
    static final AttributeKey<String> SERVER_ADDRESS = AttributeKey.stringKey("server.address");
    static final AttributeKey<Long> SERVER_PORT = AttributeKey.longKey("server.port");
    static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");
    static final AttributeKey<String> TIER = AttributeKey.stringKey("gateway.tier");
    static final AttributeKey<Long> REPLICA = AttributeKey.longKey("gateway.replica");
    static final AttributeKey<Long> ATTEMPT = AttributeKey.longKey("gateway.attempt");
    static final AttributeKey<Double> QUEUE_WAIT = AttributeKey.doubleKey("gateway.queue.wait_ms");
    static final AttributeKey<String> FALLBACK_REASON = AttributeKey.stringKey("gateway.fallback_reason");
    static final AttributeKey<Boolean> CANCELLED = AttributeKey.booleanKey("gateway.cancelled");
    static final AttributeKey<Double> TTFT = AttributeKey.doubleKey("gateway.ttft_ms");
    /** The tiers speak OpenAI's API (vLLM, TensorRT-LLM's server): the conventions' value for it. */
    static final String PROVIDER_OPENAI = "openai";

    private final Tracer tracer;
    /** server.address and server.port of each replica URL, parsed once. */
    private final Map<String, Object[]> servers = new ConcurrentHashMap<>();

    GenAiSpans(OpenTelemetry openTelemetry) {
        this.tracer = (openTelemetry == null ? OpenTelemetry.noop() : openTelemetry)
                .getTracer("dev.offload.gateway.generation");
    }

    /** The operation a request is: {@code chat}, or {@code text_completion} for {@code /v1/completions}. */
    static String operation(GenerationRequest request) {
        return request.options().legacy() == null ? "chat" : "text_completion";
    }

    /**
     * Starts the span of a call leaving for {@code replica}, a child of {@code parent} (the
     * caller's context, captured when the request reached the generator).
     */
    Span start(Context parent, GenerationRequest request, String model, Replica replica, int attempt, long queueNanos,
               String fallbackReason) {
        String operation = operation(request);
        Object[] server = servers.computeIfAbsent(replica.url(), GenAiSpans::server);
        var b = tracer.spanBuilder(operation + " " + model).setParent(parent).setSpanKind(SpanKind.CLIENT)
                .setAttribute(OPERATION, operation)
                .setAttribute(PROVIDER, PROVIDER_OPENAI)
                .setAttribute(REQUEST_MODEL, model)
                .setAttribute(MAX_TOKENS, (long) request.maxTokens())
                .setAttribute(SERVER_ADDRESS, (String) server[0])
                .setAttribute(SERVER_PORT, (Long) server[1])
                .setAttribute(TIER, replica.tier())
                .setAttribute(REPLICA, (long) replica.index())
                .setAttribute(ATTEMPT, (long) attempt)
                .setAttribute(QUEUE_WAIT, queueNanos / 1e6);
        if (request.temperature() != null) {
            b.setAttribute(TEMPERATURE, request.temperature());
        }
        SamplingOptions o = request.options();
        if (o.topP() != null) {
            b.setAttribute(TOP_P, o.topP());
        }
        if (o.seed() != null) {
            b.setAttribute(SEED, (long) o.seed());
        }
        if (o.presencePenalty() != null) {
            b.setAttribute(PRESENCE_PENALTY, o.presencePenalty());
        }
        if (o.frequencyPenalty() != null) {
            b.setAttribute(FREQUENCY_PENALTY, o.frequencyPenalty());
        }
        if (o.n() != null && o.n() != 1) {
            b.setAttribute(CHOICE_COUNT, (long) o.n());
        }
        if (fallbackReason != null) {
            b.setAttribute(FALLBACK_REASON, fallbackReason);
        }
        return b.startSpan();
    }

    /** The call answered: usage, finish reasons, the model that answered (when the backend named it). */
    static void completed(Span span, String responseModel, int inputTokens, int outputTokens, List<String> finishReasons,
                          long ttftNanos) {
        if (!span.isRecording()) {
            return;
        }
        span.setAttribute(INPUT_TOKENS, (long) inputTokens);
        span.setAttribute(OUTPUT_TOKENS, (long) outputTokens);
        span.setAttribute(FINISH_REASONS, finishReasons);
        if (responseModel != null) {
            span.setAttribute(RESPONSE_MODEL, responseModel);
        }
        if (ttftNanos > 0) {
            span.setAttribute(TTFT, ttftNanos / 1e6);
        }
        span.end();
    }

    /**
     * The call failed: {@code error.type} is the gateway's reason ({@code ttft_timeout},
     * {@code backend_error}, {@code mid_stream_idle_timeout}, …) and the status ERROR. The
     * exception's class is recorded, its message is not (a backend's error body may quote the prompt).
     */
    static void failed(Span span, String reason, Throwable cause) {
        if (!span.isRecording()) {
            return;
        }
        span.setAttribute(ERROR_TYPE, reason);
        span.setStatus(StatusCode.ERROR, reason + (cause == null ? "" : " (" + cause.getClass().getSimpleName() + ")"));
        span.end();
    }

    /** The caller left: the call was cancelled, which says nothing about the backend (status left unset). */
    static void cancelled(Span span) {
        if (!span.isRecording()) {
            return;
        }
        span.setAttribute(CANCELLED, true);
        span.end();
    }

    private static Object[] server(String url) {
        try {
            URI u = URI.create(url);
            int port = u.getPort() > 0 ? u.getPort() : "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
            return new Object[]{u.getHost(), (long) port};
        } catch (IllegalArgumentException e) {
            return new Object[]{"unknown", 0L};
        }
    }
}
