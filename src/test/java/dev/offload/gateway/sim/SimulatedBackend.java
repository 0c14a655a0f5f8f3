package dev.offload.gateway.sim;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A simulated vLLM-like LLM server speaking the OpenAI HTTP API, for gateway tests and load runs.
 * It runs its own {@link Vertx} instance (no Quarkus) plus one scheduler thread, and listens on
 * {@code 127.0.0.1} (or the configured host) over HTTP/1.1 only, like uvicorn.
 *
 * <h2>Endpoints</h2>
 * <ul>
 * <li>{@code POST /v1/chat/completions}: {@code model} (optional; echoed back), {@code messages},
 * {@code stream}, {@code max_tokens} or {@code max_completion_tokens}, {@code temperature}
 * (ignored), {@code stream_options.include_usage}. Without streaming the answer is a
 * {@code chat.completion} object with {@code usage}. With streaming it is
 * {@code text/event-stream; charset=utf-8}: the headers at once, then, from the first token,
 * {@code data: <chat.completion.chunk>\n\n} events: a chunk with {@code delta.role="assistant"} and
 * empty content, one chunk per token with {@code delta.content}, a chunk with an empty delta and
 * {@code finish_reason} {@code "length"} (max_tokens reached) or {@code "stop"} (the model's own
 * length reached), a usage chunk with {@code choices: []} if {@code include_usage} (every other
 * chunk then carries {@code "usage":null}), and {@code data: [DONE]\n\n}. Malformed requests get
 * 400 with {@code {"error":{"message","type","param","code"}}}.</li>
 * <li>{@code GET /v1/models}: the OpenAI list with the one configured model.</li>
 * <li>{@code GET /health}: 200, empty body, whatever the fault.</li>
 * <li>{@code GET /metrics}: Prometheus text with vLLM's names, labelled
 * {@code model_name="<model>"}: gauges {@code vllm:num_requests_running},
 * {@code vllm:num_requests_waiting}, {@code vllm:kv_cache_usage_perc} (0..1); counters
 * {@code vllm:prompt_tokens_total}, {@code vllm:generation_tokens_total},
 * {@code vllm:request_success_total} (also labelled {@code finished_reason="stop"|"length"}).</li>
 * </ul>
 *
 * <h2>Generated text</h2>
 * Deterministic: the <em>tag</em> is the first whitespace-separated word of the last {@code user}
 * message (of the last message if no user message), lower-cased, reduced to the letters a-z and
 * digits 0-9 and cut to 16 characters; {@code "w"} if that leaves nothing. Token {@code i} (from
 * 0) is {@code tag + i}, preceded by one space except for token 0: prompt {@code "Hello there"}
 * gives {@code "hello0 hello1 hello2 ..."}. So a client can check that no token was lost,
 * duplicated or taken from another request; {@link #expectedContent} builds the text. With
 * {@link Builder#hashTags} the tag is {@code "h"} + 12 hex digits of the SHA-256 of the whole
 * message instead, so every question gets its own answer. The
 * answer has {@code min(max_tokens, outputTokens)} tokens, {@code max_tokens} defaulting to
 * {@link Builder#defaultMaxTokens 16}. {@code prompt_tokens} is the number of whitespace-separated
 * words over all message contents (text parts of array contents included).
 *
 * <h2>Timing: continuous batching</h2>
 * At most {@link Builder#maxBatchSize maxBatchSize} sequences run; later requests wait in FIFO
 * order, and when {@code maxBatchSize +} {@link Builder#maxWaiting maxWaiting} are already
 * running or waiting, get 503. Time
 * advances in decode steps of {@code stepBase + stepPerSequence * running}, plus
 * {@code prefillPerToken * promptTokens} for each sequence that joins in that step; at the end of
 * a step every running sequence gets one token (a joining one its first). A finished or cancelled
 * sequence frees its slot and a waiting one joins at the next step. Admission also needs KV room:
 * the prompt plus target tokens of all running sequences must fit in
 * {@link Builder#kvCacheCapacityTokens kvCacheCapacityTokens} (a lone sequence always fits); the
 * reported usage is running sequences' prompt plus generated tokens over that capacity. Steps keep
 * to a fixed timeline (a late wake-up on a loaded machine shortens the next sleep), so the
 * configured throughput holds on average; step times are lower bounds for any one token.
 *
 * <h2>Threads</h2>
 * The {@link Builder} is for one thread. Every method of a started backend may be called from any
 * thread. Counters and records are updated by the backend's event loop and scheduler threads as
 * things happen, so a test should poll them until they reach the expected value (with a generous
 * deadline). {@link #close()} stops everything and is idempotent. All {@code ...Nanos} values are
 * {@link System#nanoTime()} of this JVM.
 */
public final class SimulatedBackend implements AutoCloseable {
    private final Builder config;
    private final Vertx vertx;
    private final BatchScheduler scheduler;
    private final Stats stats;
    private final AtomicLong nextId = new AtomicLong();
    private final AtomicReference<FaultSetting> fault = new AtomicReference<>(new FaultSetting(Fault.NONE, 1));
    private final Random faultRandom;
    private final long startedAtSeconds = System.currentTimeMillis() / 1000;
    private volatile long slowDelayNanos;
    private volatile long firstTokenDelayNanos;
    private volatile int resetAfterTokens;
    private volatile boolean closed;
    private volatile int port;

    private record FaultSetting(Fault fault, double probability) {
    }

    private SimulatedBackend(Builder config) {
        this.config = config;
        this.stats = new Stats(config.recordLimit);
        this.faultRandom = new Random(config.faultSeed);
        this.slowDelayNanos = config.slowDelayPerToken.toNanos();
        this.resetAfterTokens = config.resetAfterTokens;
        this.scheduler = new BatchScheduler(config.maxBatchSize, config.maxWaiting, config.stepBase.toNanos(),
                config.stepPerSequence.toNanos(), config.prefillPerToken.toNanos(), config.kvCacheCapacityTokens);
        this.vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(config.ioThreads).setWorkerPoolSize(1)
                .setInternalBlockingPoolSize(1));
    }

    public static Builder builder() {
        return new Builder();
    }

    private void start() {
        scheduler.start();
        try {
            HttpServerOptions options = new HttpServerOptions().setHost(config.host).setPort(config.port)
                    .setHttp2ClearTextEnabled(false).setTcpNoDelay(true);
            // Servers created outside a verticle each get their own event loop; same port = shared socket.
            port = await(vertx.createHttpServer(options).requestHandler(this::handle).listen()).actualPort();
            for (int i = 1; i < config.ioThreads; i++) {
                await(vertx.createHttpServer(new HttpServerOptions(options).setPort(port))
                        .requestHandler(this::handle).listen());
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    // ---------------------------------------------------------------- addresses

    /** The port listened on (the actual one when the builder asked for 0). */
    public int port() {
        return port;
    }

    /** {@code http://host:port}, without a trailing slash; the OpenAI base URL is this plus {@code /v1}. */
    public String baseUrl() {
        return "http://" + (config.host.contains(":") ? "[" + config.host + "]" : config.host) + ":" + port;
    }

    /** {@link #baseUrl()} plus {@code path} (which starts with {@code /}). */
    public URI uri(String path) {
        return URI.create(baseUrl() + path);
    }

    public String modelName() {
        return config.modelName;
    }

    // ---------------------------------------------------------------- faults

    /** Applies {@code mode} to every subsequent chat completion; {@link Fault#NONE} clears it. */
    public void fault(Fault mode) {
        fault(mode, 1.0);
    }

    /**
     * Applies {@code mode} to each subsequent chat completion with the given probability (drawn per
     * request from a {@link Builder#faultSeed seeded} random), the others behaving normally.
     */
    public void fault(Fault mode, double probability) {
        Objects.requireNonNull(mode, "mode");
        if (!(probability >= 0 && probability <= 1)) {
            throw new IllegalArgumentException("probability must be in [0, 1]: " + probability);
        }
        fault.set(new FaultSetting(mode, probability));
    }

    /** Same as {@code fault(Fault.NONE)}. */
    public void clearFault() {
        fault(Fault.NONE);
    }

    public Fault currentFault() {
        return fault.get().fault();
    }

    /** The extra gap between tokens of {@link Fault#SLOW} requests that arrive from now on. */
    public void slowDelayPerToken(Duration delay) {
        slowDelayNanos = requireNonNegative(delay, "slowDelayPerToken").toNanos();
    }

    /**
     * Extra time between a request joining the batch and its first token, for requests that
     * arrive from now on: a slow prefill (long context, a big model) that, unlike
     * {@link Builder#prefillPerToken}, does not stall the other sequences' decode steps.
     * {@link Duration#ZERO} turns it off.
     */
    public void firstTokenDelay(Duration delay) {
        firstTokenDelayNanos = requireNonNegative(delay, "firstTokenDelay").toNanos();
    }

    /** Tokens streamed before a {@link Fault#RESET_MID_STREAM} close, for requests that arrive from now on. */
    public void resetAfterTokens(int tokens) {
        resetAfterTokens = requireAtLeast(tokens, 0, "resetAfterTokens");
    }

    private Fault drawFault() {
        FaultSetting setting = fault.get();
        if (setting.fault() == Fault.NONE || setting.probability() >= 1) {
            return setting.fault();
        }
        synchronized (faultRandom) {
            return faultRandom.nextDouble() < setting.probability() ? setting.fault() : Fault.NONE;
        }
    }

    // ---------------------------------------------------------------- observability

    /** Chat completion requests received (valid or not, faulty or not). */
    public long requestsReceived() {
        return stats.received.get();
    }

    /**
     * Chat completions answered in full (through {@code [DONE]} when streaming). Counted as the last
     * bytes are handed to the connection, so it already includes any answer a client has received.
     */
    public long requestsCompleted() {
        return stats.completed.get();
    }

    /** Chat completions whose client closed the connection before the response was complete. */
    public long requestsCancelled() {
        return stats.cancelled.get();
    }

    /** Chat completions answered with an error status (400, 404, 500, 503) or reset by a fault. */
    public long requestsFailed() {
        return stats.failed.get();
    }

    /** Chat completions a fault was applied to. */
    public long faultsInjected() {
        return stats.faultsInjected.get();
    }

    /** Sequences in the batch now. */
    public int running() {
        return scheduler.running();
    }

    /** Sequences accepted but not yet in the batch. */
    public int waiting() {
        return scheduler.waiting();
    }

    /** Largest batch seen since start or {@link #resetStats()}. */
    public int maxRunningObserved() {
        return scheduler.maxRunning();
    }

    /**
     * Largest number of chat completions this backend held at once, running or waiting in its
     * engine (the concurrency it saw), since start or {@link #resetStats()}. Requests answered
     * at once with an error or held by a hang fault are not counted.
     */
    public int maxConcurrentObserved() {
        return scheduler.maxInSystemSeen();
    }

    /** Requests held by a hang fault whose client is still connected. */
    public int hanging() {
        return stats.hanging.get();
    }

    /** The value of {@code vllm:kv_cache_usage_perc}, 0..1. */
    public double kvCacheUsage() {
        return scheduler.kvCacheUsage();
    }

    /** {@code vllm:prompt_tokens_total}; monotonic like a Prometheus counter, not reset by {@link #resetStats()}. */
    public long promptTokensTotal() {
        return scheduler.promptTokensTotal();
    }

    /** {@code vllm:generation_tokens_total}; monotonic, not reset by {@link #resetStats()}. */
    public long generationTokensTotal() {
        return scheduler.generationTokensTotal();
    }

    /** Bodies of the last {@link Builder#recordLimit recordLimit} recorded requests, oldest first. */
    public List<String> receivedBodies() {
        return stats.bodies();
    }

    /**
     * The last {@link Builder#recordLimit recordLimit} requests that reached the backend, oldest
     * first: every path except {@code /health} and {@code /metrics}.
     */
    public List<ReceivedRequest> receivedRequests() {
        return stats.requests();
    }

    /**
     * The last {@link Builder#recordLimit recordLimit} client cancellations, in the order they were
     * settled: a record appears once the scheduler has dropped the sequence, shortly after
     * {@link #requestsCancelled()} counted it.
     */
    public List<CancelledRequest> cancelledRequests() {
        return stats.cancels();
    }

    /**
     * Zeroes the request counters, clears the records and restarts {@link #maxRunningObserved()}
     * and {@link #maxConcurrentObserved()} from the current values. The vLLM token counters are kept; the fault is unchanged.
     */
    public void resetStats() {
        stats.reset();
        scheduler.resetMaxRunning();
    }

    /** The body {@code GET /metrics} would return now. */
    public String metricsText() {
        String model = "model_name=\"" + escapeLabel(config.modelName) + "\"";
        StringBuilder out = new StringBuilder(1024);
        family(out, "vllm:num_requests_running", "gauge", "Number of requests in model execution batches.");
        sample(out, "vllm:num_requests_running", model, scheduler.running());
        family(out, "vllm:num_requests_waiting", "gauge", "Number of requests waiting to be processed.");
        sample(out, "vllm:num_requests_waiting", model, scheduler.waiting());
        family(out, "vllm:kv_cache_usage_perc", "gauge", "KV-cache usage. 1 means 100 percent usage.");
        sample(out, "vllm:kv_cache_usage_perc", model, scheduler.kvCacheUsage());
        family(out, "vllm:prompt_tokens_total", "counter", "Number of prefill tokens processed.");
        sample(out, "vllm:prompt_tokens_total", model, scheduler.promptTokensTotal());
        family(out, "vllm:generation_tokens_total", "counter", "Number of generation tokens processed.");
        sample(out, "vllm:generation_tokens_total", model, scheduler.generationTokensTotal());
        family(out, "vllm:request_success_total", "counter", "Count of successfully processed requests.");
        sample(out, "vllm:request_success_total", "finished_reason=\"stop\"," + model, scheduler.successTotal(false));
        sample(out, "vllm:request_success_total", "finished_reason=\"length\"," + model, scheduler.successTotal(true));
        return out.toString();
    }

    private static void family(StringBuilder out, String name, String type, String help) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n')
                .append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static void sample(StringBuilder out, String name, String labels, double value) {
        out.append(name).append('{').append(labels).append("} ").append(value).append('\n');
    }

    private static String escapeLabel(String value) {
        return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    // ---------------------------------------------------------------- text scheme

    /** Token {@code index} (from 0) of the answer to a request whose last user message is given. */
    public static String expectedToken(String lastUserMessage, int index) {
        return ChatRequest.token(ChatRequest.tagOf(lastUserMessage), index);
    }

    /** The whole content of an answer of {@code tokens} tokens to that last user message. */
    public static String expectedContent(String lastUserMessage, int tokens) {
        String tag = ChatRequest.tagOf(lastUserMessage);
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < tokens; i++) {
            out.append(ChatRequest.token(tag, i));
        }
        return out.toString();
    }

    // ---------------------------------------------------------------- HTTP

    private void handle(HttpServerRequest request) {
        String path = request.path();
        if (path.equals("/health") || path.equals("/metrics")) {
            if (request.method() != HttpMethod.GET) {
                error(request.response(), 405, "Method Not Allowed", "invalid_request_error", null);
            } else if (path.equals("/health")) {
                request.response().end();
            } else {
                request.response().putHeader("content-type", "text/plain; version=0.0.4; charset=utf-8")
                        .end(metricsText());
            }
            return;
        }
        request.body().onSuccess(body -> {
            long id = nextId.incrementAndGet();
            long receivedAt = System.nanoTime();
            stats.record(new ReceivedRequest(id, request.method().name(), path, headers(request), body.toString(),
                    receivedAt));
            route(request, body, id, receivedAt);
        });
    }

    private void route(HttpServerRequest request, Buffer body, long id, long receivedAt) {
        HttpServerResponse response = request.response();
        switch (path(request)) {
            case "/v1/chat/completions" -> {
                if (request.method() != HttpMethod.POST) {
                    error(response, 405, "Method Not Allowed", "invalid_request_error", null);
                } else {
                    chatCompletion(request, body, id, receivedAt, false);
                }
            }
            case "/v1/completions" -> {
                if (request.method() != HttpMethod.POST) {
                    error(response, 405, "Method Not Allowed", "invalid_request_error", null);
                } else {
                    chatCompletion(request, body, id, receivedAt, true);
                }
            }
            case "/v1/models" -> {
                if (request.method() != HttpMethod.GET) {
                    error(response, 405, "Method Not Allowed", "invalid_request_error", null);
                } else {
                    response.putHeader("content-type", "application/json")
                            .end(OpenAiJson.models(config.modelName, startedAtSeconds).encode());
                }
            }
            default -> error(response, 404, "Not Found", "invalid_request_error", null);
        }
    }

    private static String path(HttpServerRequest request) {
        String path = request.path();
        return path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    }

    private void chatCompletion(HttpServerRequest request, Buffer body, long id, long receivedAt, boolean legacy) {
        stats.received.incrementAndGet();
        HttpServerResponse response = request.response();
        ChatRequest chat;
        try {
            chat = legacy ? ChatRequest.parseCompletion(body, config.modelName, config.defaultMaxTokens)
                    : ChatRequest.parse(body, config.modelName, config.defaultMaxTokens, config.hashTags);
        } catch (ChatRequest.Invalid e) {
            failed(response, 400, e.getMessage(), "invalid_request_error", null);
            return;
        }
        if (config.strictModelName && !chat.model.equals(config.modelName)) {
            failed(response, 404, "The model `" + chat.model + "` does not exist.", "invalid_request_error",
                    "model_not_found");
            return;
        }
        Fault drawn = drawFault();
        Context context = Vertx.currentContext();
        switch (drawn) {
            case ERROR_500 -> {
                stats.faultsInjected.incrementAndGet();
                failed(response, 500, "Simulated internal server error", "server_error", null);
            }
            case ERROR_503 -> {
                stats.faultsInjected.incrementAndGet();
                failed(response, 503, "Simulated service unavailable", "server_error", null);
            }
            case HANG_BEFORE_HEADERS, HANG_AFTER_HEADERS -> {
                stats.faultsInjected.incrementAndGet();
                new ChatExchange(response, context, stats, chat, id, receivedAt)
                        .hang(drawn == Fault.HANG_AFTER_HEADERS);
            }
            default -> {
                int target = Math.min(chat.maxTokens, config.outputTokens);
                ChatExchange exchange = new ChatExchange(response, context, stats, chat, id, receivedAt);
                Sequence sequence = new Sequence(id, chat.promptTokens, target, chat.maxTokens <= config.outputTokens,
                        drawn == Fault.SLOW ? slowDelayNanos : 0,
                        drawn == Fault.RESET_MID_STREAM ? resetAfterTokens : -1, firstTokenDelayNanos, exchange);
                if (!scheduler.submit(sequence)) {
                    failed(response, 503, "Service overloaded: the waiting queue is full", "server_error", null);
                    return;
                }
                if (drawn != Fault.NONE) {
                    stats.faultsInjected.incrementAndGet();
                }
                exchange.generate(sequence);
            }
        }
    }

    private void failed(HttpServerResponse response, int status, String message, String type, String code) {
        stats.failed.incrementAndGet();
        error(response, status, message, type, code);
    }

    private static void error(HttpServerResponse response, int status, String message, String type, String code) {
        JsonObject body = OpenAiJson.error(message, type, code);
        response.setStatusCode(status).putHeader("content-type", "application/json").end(body.encode());
    }

    private static Map<String, String> headers(HttpServerRequest request) {
        Map<String, String> out = new LinkedHashMap<>();
        request.headers().forEach(h -> out.merge(h.getKey().toLowerCase(Locale.ROOT), h.getValue(),
                (a, b) -> a + ", " + b));
        return out;
    }

    // ---------------------------------------------------------------- lifecycle

    /** Stops generating, closes every connection and the listener. Idempotent; any thread. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        try {
            scheduler.stop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            await(vertx.close());
        } catch (RuntimeException e) {
            // closing anyway; nothing else to release
        }
    }

    private static <T> T await(Future<T> future) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("timed out", e);
        }
    }

    private static Duration requireNonNegative(Duration d, String name) {
        Objects.requireNonNull(d, name);
        if (d.isNegative()) {
            throw new IllegalArgumentException(name + " must not be negative: " + d);
        }
        return d;
    }

    private static int requireAtLeast(int value, int min, String name) {
        if (value < min) {
            throw new IllegalArgumentException(name + " must be at least " + min + ": " + value);
        }
        return value;
    }

    // ---------------------------------------------------------------- builder

    /**
     * Configuration of a {@link SimulatedBackend}; {@link #start()} binds the port and returns the
     * running backend. Not thread-safe: configure and start from one thread.
     */
    public static final class Builder {
        private String host = "127.0.0.1";
        private int port;
        private String modelName = "sim-model";
        private boolean strictModelName;
        private int maxBatchSize = 8;
        private int maxWaiting = Integer.MAX_VALUE;
        private Duration stepBase = Duration.ofMillis(10);
        private Duration stepPerSequence = Duration.ofMillis(1);
        private Duration prefillPerToken = Duration.ofNanos(50_000);
        private int outputTokens = 64;
        private int defaultMaxTokens = 16;
        private int kvCacheCapacityTokens = 131_072;
        private Duration slowDelayPerToken = Duration.ofMillis(200);
        private int resetAfterTokens = 3;
        private long faultSeed = 42;
        private int recordLimit = 10_000;
        private int ioThreads = 1;
        private boolean hashTags;

        private Builder() {
        }

        /**
         * Tag each answer with a hash of the whole last user message instead of its first word
         * ({@code "h" + 12 hex digits of its SHA-256}), so answers to different questions differ;
         * default false.
         */
        public Builder hashTags(boolean hashTags) {
            this.hashTags = hashTags;
            return this;
        }

        /** Interface to bind; default {@code 127.0.0.1}. */
        public Builder host(String host) {
            this.host = Objects.requireNonNull(host, "host");
            return this;
        }

        /** Port to bind; default 0, an ephemeral port (see {@link SimulatedBackend#port()}). */
        public Builder port(int port) {
            if (port < 0 || port > 65_535) {
                throw new IllegalArgumentException("port out of range: " + port);
            }
            this.port = port;
            return this;
        }

        /** Served model id, in {@code /v1/models} and the metrics labels; default {@code sim-model}. */
        public Builder modelName(String modelName) {
            this.modelName = Objects.requireNonNull(modelName, "modelName");
            return this;
        }

        /**
         * Whether a request naming another model gets vLLM's 404 ({@code model_not_found}); default
         * false: any model is accepted and echoed back.
         */
        public Builder strictModelName(boolean strict) {
            this.strictModelName = strict;
            return this;
        }

        /** vLLM's {@code max_num_seqs}: sequences decoded together; default 8. */
        public Builder maxBatchSize(int maxBatchSize) {
            this.maxBatchSize = requireAtLeast(maxBatchSize, 1, "maxBatchSize");
            return this;
        }

        /**
         * Waiting-queue bound: a request arriving when {@code maxBatchSize + maxWaiting} sequences
         * are already running or waiting gets 503. Default unbounded.
         */
        public Builder maxWaiting(int maxWaiting) {
            this.maxWaiting = requireAtLeast(maxWaiting, 0, "maxWaiting");
            return this;
        }

        /** Fixed part of a decode step; default 10 ms. */
        public Builder stepBase(Duration stepBase) {
            this.stepBase = requireNonNegative(stepBase, "stepBase");
            return this;
        }

        /** Per-running-sequence part of a decode step; default 1 ms. */
        public Builder stepPerSequence(Duration stepPerSequence) {
            this.stepPerSequence = requireNonNegative(stepPerSequence, "stepPerSequence");
            return this;
        }

        /** Prefill cost per prompt token, paid in the step a sequence joins; default 50 µs. */
        public Builder prefillPerToken(Duration prefillPerToken) {
            this.prefillPerToken = requireNonNegative(prefillPerToken, "prefillPerToken");
            return this;
        }

        /** The model's natural answer length in tokens (answers end with "stop" there); default 64. */
        public Builder outputTokens(int outputTokens) {
            this.outputTokens = requireAtLeast(outputTokens, 1, "outputTokens");
            return this;
        }

        /** {@code max_tokens} of requests that give none; default 16. */
        public Builder defaultMaxTokens(int defaultMaxTokens) {
            this.defaultMaxTokens = requireAtLeast(defaultMaxTokens, 1, "defaultMaxTokens");
            return this;
        }

        /** KV-cache size in tokens; default 131072. */
        public Builder kvCacheCapacityTokens(int tokens) {
            this.kvCacheCapacityTokens = requireAtLeast(tokens, 1, "kvCacheCapacityTokens");
            return this;
        }

        /** Initial {@link SimulatedBackend#slowDelayPerToken(Duration)}; default 200 ms. */
        public Builder slowDelayPerToken(Duration delay) {
            this.slowDelayPerToken = requireNonNegative(delay, "slowDelayPerToken");
            return this;
        }

        /** Initial {@link SimulatedBackend#resetAfterTokens(int)}; default 3. */
        public Builder resetAfterTokens(int tokens) {
            this.resetAfterTokens = requireAtLeast(tokens, 0, "resetAfterTokens");
            return this;
        }

        /** Seed of the random that picks the faulty requests when a probability is below 1; default 42. */
        public Builder faultSeed(long seed) {
            this.faultSeed = seed;
            return this;
        }

        /** How many received requests and cancellations are kept; default 10000 (0 keeps none). */
        public Builder recordLimit(int recordLimit) {
            this.recordLimit = requireAtLeast(recordLimit, 0, "recordLimit");
            return this;
        }

        /** Event-loop threads serving HTTP; default 1. */
        public Builder ioThreads(int ioThreads) {
            this.ioThreads = requireAtLeast(ioThreads, 1, "ioThreads");
            return this;
        }

        /** Binds the port and starts the scheduler; blocks until listening. */
        public SimulatedBackend start() {
            SimulatedBackend backend = new SimulatedBackend(copy());
            backend.start();
            return backend;
        }

        private Builder copy() {
            Builder b = new Builder();
            b.host = host;
            b.port = port;
            b.modelName = modelName;
            b.strictModelName = strictModelName;
            b.maxBatchSize = maxBatchSize;
            b.maxWaiting = maxWaiting;
            b.stepBase = stepBase;
            b.stepPerSequence = stepPerSequence;
            b.prefillPerToken = prefillPerToken;
            b.outputTokens = outputTokens;
            b.defaultMaxTokens = defaultMaxTokens;
            b.kvCacheCapacityTokens = kvCacheCapacityTokens;
            b.slowDelayPerToken = slowDelayPerToken;
            b.resetAfterTokens = resetAfterTokens;
            b.faultSeed = faultSeed;
            b.recordLimit = recordLimit;
            b.ioThreads = ioThreads;
            b.hashTags = hashTags;
            return b;
        }
    }

    // ---------------------------------------------------------------- command line

    /**
     * Runs a backend until the process is stopped. Options (all optional): {@code --host 127.0.0.1
     * --port 9000 --model sim-model --max-batch 8 --max-waiting N --step-ms 10 --step-per-seq-ms 1
     * --prefill-us-per-token 50 --output-tokens 64 --default-max-tokens 16 --kv-capacity 131072
     * --io-threads 1 --fault NONE --fault-probability 1 --slow-ms 200 --reset-after 3}. Durations
     * accept fractions. Prints the base URL.
     */
    public static void main(String[] args) throws InterruptedException {
        Map<String, String> options = parseOptions(args);
        Builder builder = builder().port(9000);
        List<String> unknown = new ArrayList<>();
        for (Map.Entry<String, String> option : options.entrySet()) {
            String value = option.getValue();
            switch (option.getKey()) {
                case "host" -> builder.host(value);
                case "port" -> builder.port(Integer.parseInt(value));
                case "model" -> builder.modelName(value);
                case "max-batch" -> builder.maxBatchSize(Integer.parseInt(value));
                case "max-waiting" -> builder.maxWaiting(Integer.parseInt(value));
                case "step-ms" -> builder.stepBase(fraction(value, 1_000_000));
                case "step-per-seq-ms" -> builder.stepPerSequence(fraction(value, 1_000_000));
                case "prefill-us-per-token" -> builder.prefillPerToken(fraction(value, 1_000));
                case "output-tokens" -> builder.outputTokens(Integer.parseInt(value));
                case "default-max-tokens" -> builder.defaultMaxTokens(Integer.parseInt(value));
                case "kv-capacity" -> builder.kvCacheCapacityTokens(Integer.parseInt(value));
                case "io-threads" -> builder.ioThreads(Integer.parseInt(value));
                case "slow-ms" -> builder.slowDelayPerToken(fraction(value, 1_000_000));
                case "reset-after" -> builder.resetAfterTokens(Integer.parseInt(value));
                case "fault", "fault-probability" -> {
                    // applied after start
                }
                default -> unknown.add("--" + option.getKey());
            }
        }
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("unknown options " + unknown);
        }
        SimulatedBackend backend = builder.start();
        if (options.containsKey("fault")) {
            backend.fault(Fault.valueOf(options.get("fault").toUpperCase(Locale.ROOT)),
                    Double.parseDouble(options.getOrDefault("fault-probability", "1")));
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            backend.close();
            stopped.countDown();
        }, "sim-backend-shutdown"));
        System.out.println("Simulated LLM backend listening on " + backend.baseUrl() + " (OpenAI base URL "
                + backend.baseUrl() + "/v1, model " + backend.modelName() + ")");
        stopped.await();
    }

    private static Duration fraction(String value, long nanosPerUnit) {
        return Duration.ofNanos(Math.round(Double.parseDouble(value) * nanosPerUnit));
    }

    private static Map<String, String> parseOptions(String[] args) {
        Map<String, String> out = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 == args.length) {
                throw new IllegalArgumentException("expected --name value pairs, got " + args[i]);
            }
            out.put(args[i].substring(2), args[++i]);
        }
        return out;
    }
}
