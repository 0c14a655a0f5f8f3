package dev.offload.gateway.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.offload.gateway.generation.BackendRefusedException;
import dev.offload.gateway.generation.ChatTurn;
import dev.offload.gateway.generation.GenerationConfig;
import dev.offload.gateway.generation.GenerationEvent;
import dev.offload.gateway.generation.GenerationRejectedException;
import dev.offload.gateway.generation.GenerationRequest;
import dev.offload.gateway.generation.Generator;
import dev.offload.gateway.generation.Priority;
import dev.offload.gateway.generation.SamplingOptions;
import dev.offload.gateway.generation.Source;
import dev.offload.gateway.generation.StreamFailedException;
import dev.offload.gateway.generation.ToolCall;
import dev.offload.gateway.offload.OffloadAdvisor;
import dev.offload.gateway.offload.policy.OffloadHint;
import dev.offload.gateway.privacy.PrivacyConfig;
import dev.offload.gateway.privacy.Sensitivity;
import dev.offload.gateway.retrieval.HybridSearcher;
import dev.offload.gateway.retrieval.SearchMode;
import dev.offload.gateway.security.LimitsConfig;
import dev.offload.gateway.security.NotAuthenticatedException;
import dev.offload.gateway.security.SecurityMetrics;
import dev.offload.gateway.security.TenantGenerationLimiter;
import io.smallrye.mutiny.subscription.Cancellable;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code POST /v1/chat/completions}: OpenAI-compatible, streaming (SSE, ending with
 * {@code data: [DONE]}) or not, through the same admission, routing and fallback as every
 * generation. A plain Vert.x route rather than a JAX-RS resource: it writes OpenAI's SSE
 * framing byte for byte, learns of a client disconnect at once (and cancels the backend call),
 * and adds as little latency as possible. Runs on the event loop; nothing here blocks.
 *
 * <p>Headers a device may send: {@code X-Offload-Priority: interactive|background},
 * {@code X-Offload-Deadline-Ms}: time budget for the whole answer,
 * {@code X-Offload-Sensitivity: public|internal|confidential|restricted}: how sensitive the
 * conversation is (default: the tenant's, {@code gateway.privacy.tenant-sensitivity.<tenant>},
 * else {@code gateway.privacy.default-sensitivity}). The generator's egress gate applies it:
 * confidential never leaves the edge zone, restricted reaches no backend (the answer is then
 * extractive), personal data is redacted before a tier outside the edge zone.
 *
 * <p>The tenant is the authenticated caller's; the gateway's system prompt comes first and a
 * device's system messages are demoted ({@link SystemPromptPolicy}); each tenant has at most
 * {@code gateway.limits.tenant-concurrent-generations} answers in flight (429 beyond).
 */
@ApplicationScoped
public class ChatCompletionsRoute {
    private static final Logger LOG = Logger.getLogger(ChatCompletionsRoute.class);
    static final String ALIAS_AUTO = "auto";
    static final String SENSITIVITY_HEADER = "X-Offload-Sensitivity";
    private static final Buffer DONE = Buffer.buffer("data: [DONE]\n\n");

    @Inject
    Generator generator;
    @Inject
    GenerationConfig config;
    @Inject
    HybridSearcher searcher;
    @Inject
    ObjectMapper json;
    @Inject
    OffloadAdvisor advisor;
    @Inject
    LimitsConfig limits;
    @Inject
    TenantGenerationLimiter tenantLimiter;
    @Inject
    RequestAccounting accounting;
    @Inject
    PrivacyConfig privacy;
    @Inject
    dev.offload.gateway.generation.TierRegistry tierRegistry;
    @Inject
    GatewayOverhead overhead;

    void register(@Observes Router router) {
        // The arrival stamp is a route of its own, before the security filter (order -10,000): a
        // body handler must come first on its route.
        GatewayOverhead.stampArrival(router, "/v1/completions");
        GatewayOverhead.stampArrival(router, "/v1/chat/completions");
        router.post("/v1/completions")
                .handler(BodyHandler.create().setBodyLimit(4L * 1024 * 1024))
                .handler(this::handleLegacy)
                .failureHandler(ctx -> {
                    if (ctx.statusCode() == 413) {
                        sendError(ctx, 413, "Payload too large", "the request body is over 4 MiB",
                                "invalid_request_error", null, "body_too_large");
                    } else {
                        ctx.next();
                    }
                });
        router.post("/v1/chat/completions")
                .handler(BodyHandler.create().setBodyLimit(4L * 1024 * 1024))
                .handler(this::handle)
                .failureHandler(ctx -> {
                    if (ctx.statusCode() == 413) { // the body handler's own limit, sent without Content-Length
                        sendError(ctx, 413, "Payload too large", "the request body is over 4 MiB",
                                "invalid_request_error", null, "body_too_large");
                    } else {
                        ctx.next();
                    }
                });
    }

    /**
     * Model names a device may ask for: {@code auto} (every tier, in order), each configured tier,
     * and each tier's served model name, which stands for the first tier that serves it.
     */
    List<String> aliases() {
        List<String> out = new ArrayList<>();
        out.add(ALIAS_AUTO);
        generator.tiers().forEach(t -> out.add(t.name()));
        for (var t : generator.tiers()) {
            String served = tierRegistry.settings(t.name()).model();
            if (!out.contains(served)) {
                out.add(served);
            }
        }
        return out;
    }

    /** The tier a model name stands for: a tier's own name, else the first tier serving that model; null for none. */
    private String tierFor(String model) {
        if (generator.tier(model) != null) {
            return model;
        }
        for (var t : generator.tiers()) {
            if (tierRegistry.settings(t.name()).model().equals(model)) {
                return t.name();
            }
        }
        return null;
    }

    /**
     * The body as {@code type}, or null when it was refused (answered here, in OpenAI's error
     * shape): not a JSON object, a parameter the gateway does not honour, a wrong type.
     */
    private <T> T parse(RoutingContext ctx, java.util.function.Function<JsonNode, String[]> refusal, Class<T> type) {
        try {
            JsonNode body = json.readTree(ctx.body().buffer() == null ? new byte[0] : ctx.body().buffer().getBytes());
            if (body == null || !body.isObject()) {
                badRequest(ctx, "a JSON object is required", null, "invalid_json");
                return null;
            }
            String[] refused = refusal.apply(body);
            if (refused != null) {
                badRequest(ctx, refused[1], refused[0], "unsupported_parameter");
                return null;
            }
            return json.treeToValue(body, type);
        } catch (com.fasterxml.jackson.databind.exc.MismatchedInputException e) {
            String field = e.getPath().isEmpty() ? null : e.getPath().get(e.getPath().size() - 1).getFieldName();
            badRequest(ctx, (field == null ? "a field" : field) + " has the wrong type", field, "invalid_type");
        } catch (JsonProcessingException e) {
            badRequest(ctx, "malformed JSON: " + e.getOriginalMessage(), null, "invalid_json");
        } catch (java.io.IOException e) {
            badRequest(ctx, "unreadable body", null, "invalid_json");
        }
        return null;
    }

    /** The tiers a model name allows ({@code auto}: all, in order), or null when it names none (answered 400). */
    private List<String> allowedTiers(RoutingContext ctx, String model) {
        if (model.equals(ALIAS_AUTO)) {
            return generator.tiers().stream().map(t -> t.name()).toList();
        }
        String tier = tierFor(model);
        if (tier != null) {
            return List.of(tier);
        }
        sendError(ctx, 400, "Invalid request", "The model '" + model + "' does not exist; GET /v1/models lists "
                + aliases(), "invalid_request_error", "model", "model_not_found");
        return null;
    }

    private void handle(RoutingContext ctx) {
        ChatCompletions.Request req = parse(ctx, ChatCompletions::refusal, ChatCompletions.Request.class);
        if (req == null) {
            return;
        }
        String model = req.model() == null || req.model().isBlank() ? ALIAS_AUTO : req.model();
        List<String> allowedTiers = allowedTiers(ctx, model);
        if (allowedTiers == null) {
            return;
        }
        if (req.messages() == null || req.messages().isEmpty()) {
            badRequest(ctx, "messages must contain at least one message", "messages", "invalid_value");
            return;
        }
        if (req.messages().size() > limits.maxChatMessages()) {
            SecurityMetrics.limitRejected("chat_messages", SecurityMetrics.HTTP);
            badRequest(ctx, "at most " + limits.maxChatMessages() + " messages (history turns) per request",
                    "messages", "too_many_messages");
            return;
        }
        int chars = 0;
        List<ChatTurn> turns = new ArrayList<>(req.messages().size());
        for (int i = 0; i < req.messages().size(); i++) {
            ChatCompletions.Message m = req.messages().get(i);
            String role = m == null || m.role() == null ? null : m.role().toLowerCase(Locale.ROOT);
            if ("function".equals(role)) {
                badRequest(ctx, "messages[" + i + "]: the deprecated function role is not supported: use tool messages",
                        "messages[" + i + "].role", "unsupported_parameter");
                return;
            }
            if (role == null || !(role.equals("system") || role.equals("developer") || role.equals("user")
                    || role.equals("assistant") || role.equals("tool"))) {
                badRequest(ctx, "messages[" + i + "].role must be system, developer, user, assistant or tool",
                        "messages[" + i + "].role", "invalid_value");
                return;
            }
            List<ToolCall> calls = List.of();
            if (role.equals("assistant") && m.toolCalls() != null && !m.toolCalls().isNull()) {
                calls = toolCalls(m.toolCalls());
                if (calls == null) {
                    badRequest(ctx, "messages[" + i + "].tool_calls must be an array of {id, type: function, function: "
                            + "{name, arguments}}", "messages[" + i + "].tool_calls", "invalid_value");
                    return;
                }
            } else if (m.toolCalls() != null && !m.toolCalls().isNull()) {
                badRequest(ctx, "messages[" + i + "].tool_calls: only assistant messages carry tool calls",
                        "messages[" + i + "].tool_calls", "invalid_value");
                return;
            }
            if (role.equals("tool") && (m.toolCallId() == null || m.toolCallId().isBlank())) {
                badRequest(ctx, "messages[" + i + "].tool_call_id is required: it names the call whose result this is",
                        "messages[" + i + "].tool_call_id", "invalid_value");
                return;
            }
            String text = m.text();
            if (text == null && !calls.isEmpty() && (m.content() == null || m.content().isNull())) {
                text = ""; // an assistant turn that only called tools
            }
            if (text == null) {
                badRequest(ctx, "messages[" + i + "].content must be text: a string or an array of text parts"
                        + " (image, audio and file parts are not supported)", "messages[" + i + "].content",
                        "invalid_value");
                return;
            }
            for (ToolCall c : calls) {
                chars += c.arguments().length();
            }
            chars += text.length();
            if (chars > limits.maxChatChars()) {
                SecurityMetrics.limitRejected("chat_chars", SecurityMetrics.HTTP);
                badRequest(ctx, "the messages hold more than " + limits.maxChatChars() + " characters",
                        "messages[" + i + "].content", "context_too_long");
                return;
            }
            turns.add(new ChatTurn(role.equals("developer") ? "system" : role, text,
                    role.equals("tool") ? m.toolCallId() : null, calls));
        }
        Integer max = req.maxCompletionTokens() != null ? req.maxCompletionTokens() : req.maxTokens();
        int maxTokens = max == null ? config.defaultMaxTokens() : max;
        if (maxTokens < 1 || maxTokens > config.maxTokensCap()) {
            badRequest(ctx, "max_tokens must be between 1 and " + config.maxTokensCap(), "max_tokens", "invalid_value");
            return;
        }
        if (req.temperature() != null && (req.temperature() < 0 || req.temperature() > 2)) {
            badRequest(ctx, "temperature must be between 0 and 2", "temperature", "invalid_value");
            return;
        }
        String[] invalid = ChatCompletionsRoute.invalidOptions(req);
        if (invalid != null) {
            badRequest(ctx, invalid[1], invalid[0], "invalid_value");
            return;
        }
        SamplingOptions options = options(req);
        String question = turns.get(turns.size() - 1).content();
        Admission a = admit(ctx, RequestAccounting.CHAT);
        if (a == null) {
            return;
        }
        String tenant = a.tenant();
        // The affinity key is taken before the gateway's system prompt, which every request shares.
        GenerationRequest g = new GenerationRequest(tenant, SystemPromptPolicy.apply(config.systemPrompt(), turns),
                maxTokens, req.temperature(), a.priority(), a.deadlineNanos(), prefixKey(turns), allowedTiers,
                // A response format, tools, several choices, log probabilities: an extractive answer cannot
                // honour them, so there is no fallback then (the device gets 503/429, never a quote in their stead).
                options.extractiveCanServe() ? () -> sources(tenant, question) : null, a.sensitivity(), options);
        boolean stream = Boolean.TRUE.equals(req.stream());
        new Exchange(ctx, model, stream && req.includeUsage(), stream, question, a.permit(), a.ticket(),
                options.choices()).run(g);
    }

    /** What admission decided for one generation request: who, how urgent, until when, how sensitive. */
    private record Admission(String tenant, Priority priority, long deadlineNanos, Sensitivity sensitivity,
                             RequestAccounting.Ticket ticket, TenantGenerationLimiter.Permit permit) {
    }

    /**
     * The headers every generation endpoint reads (priority, deadline, sensitivity), the caller's
     * tenant, the accounting ticket and a tenant generation permit; null once an error has been
     * answered (a 400 for a bad header, 401, or 429 with {@code Retry-After} past the tenant's limit).
     */
    private Admission admit(RoutingContext ctx, String endpoint) {
        Priority priority = "background".equalsIgnoreCase(ctx.request().getHeader("X-Offload-Priority"))
                ? Priority.BACKGROUND : Priority.INTERACTIVE;
        long budgetMs = config.defaultDeadline().toMillis();
        String deadlineHeader = ctx.request().getHeader("X-Offload-Deadline-Ms");
        if (deadlineHeader != null) {
            try {
                budgetMs = Math.max(1, Long.parseLong(deadlineHeader.strip()));
            } catch (NumberFormatException e) {
                badRequest(ctx, "X-Offload-Deadline-Ms must be a number of milliseconds", "X-Offload-Deadline-Ms", "invalid_value");
                return null;
            }
        }
        String tenant;
        try {
            tenant = Callers.tenant();
        } catch (NotAuthenticatedException e) {
            sendError(ctx, 401, "Unauthorized", e.getMessage(), "invalid_request_error", null, "invalid_api_key");
            return null;
        }
        Sensitivity sensitivity;
        try {
            sensitivity = Sensitivity.parse(ctx.request().getHeader(SENSITIVITY_HEADER), privacy.defaultFor(tenant));
        } catch (IllegalArgumentException e) {
            badRequest(ctx, SENSITIVITY_HEADER + ": " + e.getMessage(), SENSITIVITY_HEADER, "invalid_value");
            return null;
        }
        RequestAccounting.Ticket ticket = accounting.accept(endpoint, "http");
        Optional<TenantGenerationLimiter.Permit> permit = tenantLimiter.tryAcquire(tenant);
        if (permit.isEmpty()) {
            ticket.end(RequestAccounting.Outcome.SHED);
            SecurityMetrics.limitRejected("tenant_generations", SecurityMetrics.HTTP);
            ctx.response().putHeader("Retry-After", Long.toString(tenantLimiter.retryAfterSeconds()));
            sendError(ctx, 429, "Too Many Requests", "this tenant already has " + tenantLimiter.maxPerTenant()
                    + " generations in flight", "rate_limit_error", null, "tenant_concurrency_limit");
            return null;
        }
        return new Admission(tenant, priority, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(budgetMs), sensitivity,
                ticket, permit.get());
    }

    /** The history's tool calls, or null when they are not OpenAI's shape. */
    static List<ToolCall> toolCalls(JsonNode calls) {
        if (!calls.isArray()) {
            return null;
        }
        List<ToolCall> out = new ArrayList<>(calls.size());
        for (JsonNode c : calls) {
            JsonNode f = c.path("function");
            if (!c.path("id").isTextual() || !(c.path("type").isMissingNode() || "function".equals(c.path("type").asText()))
                    || !f.path("name").isTextual() || !(f.path("arguments").isTextual() || f.path("arguments").isMissingNode())) {
                return null;
            }
            out.add(new ToolCall(c.get("id").asText(), f.get("name").asText(), f.path("arguments").asText("")));
        }
        return out;
    }

    /** Most choices per request. */
    static final int MAX_CHOICES = 16;

    /**
     * {@code POST /v1/completions}: OpenAI's legacy completions, passed to the tiers as vLLM serves
     * them (a prompt or an array of prompts, sent as written: no gateway system prompt applies, there
     * is no place for one), through the same admission, egress gate and accounting as a chat.
     */
    private void handleLegacy(RoutingContext ctx) {
        LegacyCompletions.Request req = parse(ctx, LegacyCompletions::refusal, LegacyCompletions.Request.class);
        if (req == null) {
            return;
        }
        String model = req.model() == null || req.model().isBlank() ? ALIAS_AUTO : req.model();
        List<String> allowedTiers = allowedTiers(ctx, model);
        if (allowedTiers == null) {
            return;
        }
        List<String> prompts = LegacyCompletions.prompts(req.prompt());
        if (prompts == null) {
            badRequest(ctx, "prompt must be a string or a non-empty array of strings (token-id prompts are not supported)",
                    "prompt", "invalid_value");
            return;
        }
        if (prompts.size() > limits.maxChatMessages()) {
            SecurityMetrics.limitRejected("chat_messages", SecurityMetrics.HTTP);
            badRequest(ctx, "at most " + limits.maxChatMessages() + " prompts per request", "prompt", "too_many_messages");
            return;
        }
        int chars = 0;
        List<ChatTurn> turns = new ArrayList<>(prompts.size());
        for (String p : prompts) {
            chars += p.length();
            turns.add(new ChatTurn("prompt", p));
        }
        if (chars > limits.maxChatChars()) {
            SecurityMetrics.limitRejected("chat_chars", SecurityMetrics.HTTP);
            badRequest(ctx, "the prompts hold more than " + limits.maxChatChars() + " characters", "prompt", "context_too_long");
            return;
        }
        int maxTokens = req.maxTokens() == null ? 16 : req.maxTokens(); // OpenAI's default for this endpoint
        if (maxTokens < 1 || maxTokens > config.maxTokensCap()) {
            badRequest(ctx, "max_tokens must be between 1 and " + config.maxTokensCap(), "max_tokens", "invalid_value");
            return;
        }
        String[] invalid = LegacyCompletions.invalid(req, MAX_CHOICES);
        if (invalid != null) {
            badRequest(ctx, invalid[1], invalid[0], "invalid_value");
            return;
        }
        if (invalid == null && (invalid = invalidOptions(req.asChat())) != null) {
            badRequest(ctx, invalid[1], invalid[0], "invalid_value");
            return;
        }
        List<String> stop = new ArrayList<>();
        if (req.stop() != null && req.stop().isTextual()) {
            stop.add(req.stop().asText());
        } else if (req.stop() != null && req.stop().isArray()) {
            req.stop().forEach(x -> stop.add(x.asText()));
        }
        SamplingOptions options = new SamplingOptions(req.topP(), stop, req.seed(), req.presencePenalty(),
                req.frequencyPenalty(), req.logitBias(), req.user(), null, null, null, null, req.n(), null, null,
                new SamplingOptions.LegacyCompletion(req.logprobs(), req.echo(), req.suffix(), req.bestOf()));
        Admission a = admit(ctx, RequestAccounting.COMPLETIONS);
        if (a == null) {
            return;
        }
        GenerationRequest g = new GenerationRequest(a.tenant(), turns, maxTokens, req.temperature(), a.priority(),
                a.deadlineNanos(), null, allowedTiers, null, a.sensitivity(), options); // no extractive stand-in for a raw completion
        boolean stream = Boolean.TRUE.equals(req.stream());
        boolean usage = stream && req.streamOptions() != null && req.streamOptions().path("include_usage").asBoolean(false);
        new Exchange(ctx, model, usage, stream, prompts.get(prompts.size() - 1), a.permit(), a.ticket(),
                prompts.size() * options.choices(), true).run(g);
    }

    /** The first sampling parameter out of its range, as {@code [param, message]}; null when all are valid. */
    static String[] invalidOptions(ChatCompletions.Request r) {
        if (r.topP() != null && !(r.topP() >= 0 && r.topP() <= 1)) {
            return new String[]{"top_p", "top_p must be between 0 and 1"};
        }
        if (r.presencePenalty() != null && !(r.presencePenalty() >= -2 && r.presencePenalty() <= 2)) {
            return new String[]{"presence_penalty", "presence_penalty must be between -2 and 2"};
        }
        if (r.frequencyPenalty() != null && !(r.frequencyPenalty() >= -2 && r.frequencyPenalty() <= 2)) {
            return new String[]{"frequency_penalty", "frequency_penalty must be between -2 and 2"};
        }
        if (r.stop() != null && !r.stop().isNull() && !r.stop().isTextual()
                && !(r.stop().isArray() && r.stop().size() <= 4 && allText(r.stop()))) {
            return new String[]{"stop", "stop must be a string or an array of at most 4 strings"};
        }
        if (r.logitBias() != null) {
            for (Map.Entry<String, Integer> e : r.logitBias().entrySet()) {
                if (e.getValue() == null || e.getValue() < -100 || e.getValue() > 100 || !e.getKey().matches("\\d+")) {
                    return new String[]{"logit_bias", "logit_bias maps token ids to biases between -100 and 100"};
                }
            }
        }
        if (r.n() != null && (r.n() < 1 || r.n() > MAX_CHOICES)) {
            return new String[]{"n", "n must be between 1 and " + MAX_CHOICES};
        }
        if (r.topLogprobs() != null && (r.topLogprobs() < 0 || r.topLogprobs() > 20)) {
            return new String[]{"top_logprobs", "top_logprobs must be between 0 and 20"};
        }
        if (r.topLogprobs() != null && !Boolean.TRUE.equals(r.logprobs())) {
            return new String[]{"top_logprobs", "top_logprobs needs logprobs: true"};
        }
        JsonNode tools = r.tools();
        boolean anyTool = tools != null && !tools.isNull() && !tools.isEmpty();
        if (tools != null && !tools.isNull()) {
            if (!tools.isArray() || tools.size() > 128) {
                return new String[]{"tools", "tools must be an array of at most 128 tools"};
            }
            for (JsonNode t : tools) {
                if (!t.isObject() || !"function".equals(t.path("type").asText()) || !t.path("function").isObject()
                        || !t.path("function").path("name").isTextual()
                        || !(t.path("function").path("parameters").isMissingNode() || t.path("function").path("parameters").isObject())) {
                    return new String[]{"tools", "each tool must be {type: function, function: {name, description?, "
                            + "parameters?: a JSON schema object, strict?}}"};
                }
            }
        }
        JsonNode choice = r.toolChoice();
        if (choice != null && !choice.isNull()) {
            boolean named = choice.isObject() && "function".equals(choice.path("type").asText())
                    && choice.path("function").path("name").isTextual();
            String mode = choice.isTextual() ? choice.asText() : null;
            if (!named && !("none".equals(mode) || "auto".equals(mode) || "required".equals(mode))) {
                return new String[]{"tool_choice", "tool_choice must be none, auto, required or {type: function, function: {name}}"};
            }
            if (!anyTool && !"none".equals(mode)) {
                return new String[]{"tool_choice", "tool_choice needs tools"};
            }
        }
        JsonNode f = r.responseFormat();
        if (f != null && !f.isNull()) {
            String type = f.path("type").asText("");
            if (!f.isObject() || !(type.equals("text") || type.equals("json_object") || type.equals("json_schema"))) {
                return new String[]{"response_format", "response_format.type must be text, json_object or json_schema"};
            }
            if (type.equals("json_schema") && !f.path("json_schema").isObject()) {
                return new String[]{"response_format", "response_format.json_schema must be an object with the schema"};
            }
        }
        return null;
    }

    private static boolean allText(JsonNode array) {
        for (JsonNode s : array) {
            if (!s.isTextual()) {
                return false;
            }
        }
        return true;
    }

    private SamplingOptions options(ChatCompletions.Request r) {
        List<String> stop = new ArrayList<>();
        if (r.stop() != null && r.stop().isTextual()) {
            stop.add(r.stop().asText());
        } else if (r.stop() != null && r.stop().isArray()) {
            r.stop().forEach(x -> stop.add(x.asText()));
        }
        JsonNode f = r.responseFormat();
        @SuppressWarnings("unchecked")
        Map<String, Object> format = f == null || f.isNull() || f.path("type").asText().equals("text") ? null
                : json.convertValue(f, Map.class);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> tools = r.tools() == null || r.tools().isNull() ? null
                : json.convertValue(r.tools(), List.class);
        Object toolChoice = r.toolChoice() == null || r.toolChoice().isNull() ? null
                : r.toolChoice().isTextual() ? r.toolChoice().asText() : json.convertValue(r.toolChoice(), Map.class);
        return new SamplingOptions(r.topP(), stop, r.seed(), r.presencePenalty(), r.frequencyPenalty(), r.logitBias(),
                r.user(), format, tools, toolChoice, r.parallelToolCalls(), r.n(), r.logprobs(), r.topLogprobs(), null);
    }

    /**
     * Affinity key: the conversation before its last message (system prompt, earlier turns),
     * which is the prefix a backend's prefix cache can reuse; null for a single message.
     */
    static String prefixKey(List<ChatTurn> turns) {
        if (turns.size() < 2) {
            return null;
        }
        return Integer.toHexString(turns.subList(0, turns.size() - 1).hashCode());
    }

    private List<Source> sources(String tenant, String question) {
        try {
            var r = searcher.search(tenant, question.length() > 4000 ? question.substring(0, 4000) : question,
                    config.extractiveSources(), SearchMode.HYBRID, Map.of());
            return r.hits().stream().map(h -> new Source(h.documentId(), h.chunkId(), h.title(), h.text(), h.score())).toList();
        } catch (RuntimeException e) {
            LOG.debug("no sources for the extractive answer", e);
            return List.of();
        }
    }

    /** What one choice of a non-streamed answer has gathered so far. */
    private static final class Choice {
        final StringBuilder text = new StringBuilder();
        /** Tool calls by their index: id, name, arguments so far. */
        final java.util.TreeMap<Integer, String[]> calls = new java.util.TreeMap<>();
        /** The pieces' log probabilities, their arrays concatenated; null when none came. */
        com.fasterxml.jackson.databind.node.ObjectNode logprobs;
    }

    /** One request/response: accumulates (non-streaming) or relays (streaming) generation events. */
    final class Exchange {
        private final RoutingContext ctx;
        private final HttpServerResponse response;
        private final String model;
        private final boolean stream;
        /** The client asked for a usage chunk (stream_options.include_usage): one with empty choices, after the last. */
        private final boolean usageChunk;
        private final String question;
        private final String id;
        private final long created = System.currentTimeMillis() / 1000;
        private final Map<Integer, Choice> choices = new java.util.TreeMap<>();
        private final int choicesAsked;
        /** A legacy completion ({@code /v1/completions}): OpenAI's text_completion shape. */
        private final boolean legacy;
        private final AtomicBoolean ended = new AtomicBoolean();
        private boolean headersSent;
        private volatile Cancellable subscription;
        /** Given back before the last byte goes out, so the device's next request finds the slot free. */
        private final TenantGenerationLimiter.Permit permit;
        private final RequestAccounting.Ticket ticket;
        /** The server span of this request (Quarkus' HTTP instrumentation), to which the outcome is added. */
        private final io.opentelemetry.api.trace.Span serverSpan = io.opentelemetry.api.trace.Span.current();
        private final long arrivalNanos;
        private long firstByteNanos;

        Exchange(RoutingContext ctx, String model, boolean usageChunk, boolean stream, String question,
                 TenantGenerationLimiter.Permit permit, RequestAccounting.Ticket ticket, int choicesAsked) {
            this(ctx, model, usageChunk, stream, question, permit, ticket, choicesAsked, false);
        }

        Exchange(RoutingContext ctx, String model, boolean usageChunk, boolean stream, String question,
                 TenantGenerationLimiter.Permit permit, RequestAccounting.Ticket ticket, int choicesAsked, boolean legacy) {
            this.usageChunk = usageChunk;
            this.permit = permit;
            this.ticket = ticket;
            this.ctx = ctx;
            this.question = question;
            this.response = ctx.response();
            this.model = model;
            this.stream = stream;
            this.choicesAsked = choicesAsked;
            this.legacy = legacy;
            this.id = legacy ? "cmpl-" + completionId().substring("chatcmpl-".length()) : completionId();
            this.arrivalNanos = GatewayOverhead.arrival(ctx);
        }

        /** The answer's outcome on the server span, and the gateway's own share of its time. */
        private void measured(GenerationEvent.Completed c) {
            long nanos = overhead.record(legacy ? RequestAccounting.COMPLETIONS : RequestAccounting.CHAT, stream,
                    arrivalNanos, firstByteNanos, c);
            if (serverSpan.isRecording()) {
                serverSpan.setAttribute("gateway.served_by", c.servedBy());
                serverSpan.setAttribute("gateway.attempts", c.attempts());
                if (c.fallbackReason() != null) {
                    serverSpan.setAttribute("gateway.fallback_reason", c.fallbackReason());
                }
                if (c.coalesced()) {
                    serverSpan.setAttribute("gateway.coalesced", true);
                }
                if (nanos >= 0) {
                    serverSpan.setAttribute("gateway.overhead_ms", nanos / 1e6);
                }
            }
        }

        void run(GenerationRequest g) {
            response.closeHandler(v -> {
                if (ended.compareAndSet(false, true)) {
                    ticket.cancelled();
                    Cancellable s = subscription;
                    if (s != null) {
                        s.cancel(); // the device went away: cancel the backend call now
                    }
                }
            });
            try {
                subscription = generator.generate(g)
                        .onTermination().invoke(permit::release) // also when cancelled
                        .subscribe().with(this::onEvent, this::onFailure, this::onComplete);
            } catch (RuntimeException e) {
                permit.release();
                onFailure(e);
                return;
            }
            if (ended.get()) {
                subscription.cancel();
            }
        }

        private Choice choice(int index) {
            return choices.computeIfAbsent(index, i -> new Choice());
        }

        private synchronized void onEvent(GenerationEvent e) {
            if (ended.get()) {
                return;
            }
            if (e instanceof GenerationEvent.Token t) {
                if (!stream) {
                    Choice c = choice(t.choice());
                    c.text.append(t.text());
                    if (t.logprobs() != null) {
                        c.logprobs = ChatCompletions.appendLogprobs(json, c.logprobs, t.logprobs());
                    }
                    return;
                }
                startStream();
                if (legacy) {
                    response.write(sse(ChatCompletions.textChunk(id, created, model, t.choice(), t.text(), t.logprobs(), null, null)));
                } else {
                    response.write(sse(ChatCompletions.chunk(id, created, model, t.choice(),
                            "{\"content\":" + ChatCompletions.quote(t.text()) + "}", t.logprobs(), null, null)));
                }
            } else if (e instanceof GenerationEvent.ToolCallDelta d) {
                var f = d.fragment();
                if (!stream) {
                    String[] call = choice(d.choice()).calls.computeIfAbsent(f.index(), i -> new String[]{null, null, ""});
                    if (f.id() != null) {
                        call[0] = f.id();
                    }
                    if (f.name() != null) {
                        call[1] = call[1] == null ? f.name() : call[1] + f.name();
                    }
                    call[2] += f.arguments();
                    return;
                }
                startStream();
                response.write(sse(ChatCompletions.chunk(id, created, model, d.choice(),
                        "{\"tool_calls\":[" + ChatCompletions.toolCallDelta(f) + "]}", null, null, null)));
            } else if (e instanceof GenerationEvent.Completed c) {
                ended.set(true);
                ticket.completed();
                permit.release();
                String extra = "\"offload\":{\"servedBy\":" + ChatCompletions.quote(c.servedBy())
                        + (c.fallbackReason() == null ? "" : ",\"fallbackReason\":" + ChatCompletions.quote(c.fallbackReason()))
                        + (c.redactions() == 0 ? "" : ",\"redactions\":" + c.redactions())
                        + ",\"queueMs\":" + c.queueNanos() / 1_000_000 + ",\"ttftMs\":" + c.ttftNanos() / 1_000_000 + "}";
                String usage = "\"usage\":{\"prompt_tokens\":" + c.promptTokens() + ",\"completion_tokens\":"
                        + c.completionTokens() + ",\"total_tokens\":" + (c.promptTokens() + c.completionTokens()) + "}";
                int n = Math.max(choicesAsked, c.finishReasons().size());
                if (stream) {
                    startStream();
                    for (int i = 0; i < n; i++) {
                        String reason = i < c.finishReasons().size() ? c.finishReasons().get(i) : c.finishReason();
                        String tail = i == n - 1 ? usage + "," + extra : null;
                        response.write(sse(legacy ? ChatCompletions.textChunk(id, created, model, i, "", null, reason, tail)
                                : ChatCompletions.chunk(id, created, model, i, "{}", null, reason, tail)));
                    }
                    if (usageChunk) {
                        response.write(sse(ChatCompletions.usageChunk(id, created, model, usage, legacy)));
                    }
                    measured(c); // before the end: the server span ends with the response
                    response.end(DONE);
                } else {
                    response.setStatusCode(200).putHeader("Content-Type", "application/json")
                            .putHeader("X-Offload-Served-By", c.servedBy());
                    Choice only = choices.get(0);
                    if (!legacy && n == 1 && (only == null || (only.calls.isEmpty() && only.logprobs == null))) {
                        String body = ChatCompletions.completion(id, created, model, only == null ? "" : only.text.toString(),
                                c.finishReason(), c.promptTokens(), c.completionTokens(), extra);
                        measured(c); // the body is made; before the end, which ends the server span
                        response.end(body);
                        return;
                    }
                    Map<Integer, ChatCompletions.Accumulated> all = new java.util.TreeMap<>();
                    for (int i = 0; i < n; i++) {
                        Choice x = choice(i);
                        all.put(i, new ChatCompletions.Accumulated(x.text.toString(), x.calls, x.logprobs));
                    }
                    String body = ChatCompletions.completion(json, id, created, model, legacy, all, c.finishReasons(),
                            usage + "," + extra);
                    measured(c);
                    response.end(body);
                }
            }
        }

        /** Status and headers go out with the first event, so a refusal before it can still be a 429. */
        private void startStream() {
            if (!headersSent) {
                headersSent = true;
                firstByteNanos = System.nanoTime();
                response.setStatusCode(200).putHeader("Content-Type", "text/event-stream")
                        .putHeader("Cache-Control", "no-cache").setChunked(true);
                if (!legacy) {
                    for (int i = 0; i < choicesAsked; i++) {
                        response.write(sse(ChatCompletions.chunk(id, created, model, i,
                                "{\"role\":\"assistant\",\"content\":\"\"}", null, null, null)));
                    }
                }
            }
        }

        /** Generation always ends with a completion event or a failure; should it not, the device still gets an end. */
        private synchronized void onComplete() {
            if (!ended.get()) {
                ticket.unterminated();
                onFailure(new StreamFailedException("incomplete", "the generation ended without a completion", null));
            }
        }

        private synchronized void onFailure(Throwable failure) {
            permit.release();
            if (!ended.compareAndSet(false, true)) {
                return;
            }
            ticket.failed(failure);
            if (failure instanceof GenerationRejectedException r && r.status() == 403 && !headersSent) {
                // The egress gate found no tier this conversation's sensitivity may reach; waiting does not help.
                sendError(ctx, 403, "Forbidden", r.getMessage(), "permission_error", SENSITIVITY_HEADER, r.reason());
                return;
            }
            if (failure instanceof GenerationRejectedException r && !headersSent) {
                // The hint rides on the refusal so a device stays local instead of retrying at once.
                OffloadHint hint = advisor.forUnknownDevice(question, r.retryAfterSeconds() * 1000, r.reason());
                response.setStatusCode(r.status()).putHeader("Retry-After", Long.toString(r.retryAfterSeconds()))
                        .putHeader("X-Offload-Hint", hint.target().name());
                String body = ChatCompletions.error(r.status(), r.status() == 429 ? "Too Many Requests" : "Service Unavailable",
                        r.getMessage(), r.status() == 429 ? "rate_limit_error" : "server_error", null, r.reason());
                try {
                    body = body.substring(0, body.length() - 1) + ",\"hint\":" + json.writeValueAsString(hint) + "}";
                } catch (JsonProcessingException e) {
                    LOG.debug("hint not serialisable", e);
                }
                if (!response.ended() && !response.closed()) {
                    response.putHeader("Content-Type", Problem.MEDIA_TYPE).end(body);
                }
                return;
            }
            if (failure instanceof BackendRefusedException b && !headersSent) {
                // The request reached a backend, which found it invalid (too long, a schema it cannot
                // follow, …): the client's error, passed on with the backend's words and status.
                sendError(ctx, b.status(), b.status() == 413 ? "Content Too Large" : b.status() == 422
                        ? "Unprocessable Content" : "Bad Request", "the tier '" + b.tier() + "' refused the request: "
                        + b.getMessage(), "invalid_request_error", null, "backend_refused");
                return;
            }
            String reason = failure instanceof StreamFailedException s ? s.reason() : "internal_error";
            if (!(failure instanceof StreamFailedException)) {
                LOG.error("chat completion failed", failure);
            }
            if (stream && headersSent) {
                // Tokens were sent: never retried elsewhere; end with an explicit error event.
                response.end(Buffer.buffer("data: {\"error\":{\"message\":" + ChatCompletions.quote(
                        "the generation stream failed after it started (" + reason + ")")
                        + ",\"type\":\"server_error\",\"param\":null,\"code\":" + ChatCompletions.quote(reason) + "}}\n\n"));
            } else {
                sendError(ctx, 502, "Bad Gateway", "the generation backend failed (" + reason + ")", "server_error", null, reason);
            }
        }
    }

    /**
     * 128 random bits, as OpenAI's ids carry. An id names a completion and guards nothing, so
     * {@code ThreadLocalRandom} rather than {@code UUID.randomUUID()}'s SecureRandom (a lock and
     * /dev/urandom reads on the event loop).
     */
    private static String completionId() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        return "chatcmpl-" + HexFormat.of().toHexDigits(random.nextLong()) + HexFormat.of().toHexDigits(random.nextLong());
    }

    private static Buffer sse(String data) {
        return Buffer.buffer("data: " + data + "\n\n");
    }

    private static void badRequest(RoutingContext ctx, String message, String param, String code) {
        sendError(ctx, 400, "Invalid request", message, "invalid_request_error", param, code);
    }

    private static void sendError(RoutingContext ctx, int status, String title, String message, String type,
                                  String param, String code) {
        HttpServerResponse r = ctx.response();
        if (r.ended() || r.closed()) {
            return;
        }
        r.setStatusCode(status).putHeader("Content-Type", Problem.MEDIA_TYPE)
                .end(ChatCompletions.error(status, title, message, type, param, code));
    }
}
