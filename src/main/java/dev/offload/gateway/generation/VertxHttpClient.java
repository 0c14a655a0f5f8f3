package dev.offload.gateway.generation;

import dev.langchain4j.exception.HttpException;
import dev.langchain4j.http.client.HttpClient;
import dev.langchain4j.http.client.HttpClientBuilder;
import dev.langchain4j.http.client.HttpRequest;
import dev.langchain4j.http.client.SuccessfulHttpResponse;
import dev.langchain4j.http.client.sse.ServerSentEventContext;
import dev.langchain4j.http.client.sse.ServerSentEventListener;
import dev.langchain4j.http.client.sse.ServerSentEventParser;
import dev.langchain4j.http.client.sse.ServerSentEventParsingHandle;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import org.jboss.logging.Logger;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * LangChain4j's HTTP client SPI ({@link HttpClient}) over one replica's pool of keep-alive
 * Vert.x connections, for streaming calls.
 *
 * <p>Why not the clients LangChain4j ships: quarkus-langchain4j's REST client closes the
 * connection after each SSE stream (a TCP handshake per call) and spends most of a millisecond
 * before the first token; LangChain4j's JDK client parses SSE by blocking on an
 * {@code InputStream}, a thread per stream. Here the connection comes from the replica's
 * {@link Pool} of keep-alive connections owned by the caller's event loop, the body is decoded
 * as it arrives by a {@link ServerSentEventDecoder} on that loop, and {@link Call#cancel()}
 * resets the request at any moment (before the response head, during prefill, mid-stream),
 * which on HTTP/1.1 closes that connection: the backend sees the client go away and frees the
 * sequence's batch slot.
 *
 * <p>One {@code VertxHttpClient} is built per call (it is a few fields over the shared
 * {@link Pool}) so that the call's cancellation handle exists before LangChain4j's
 * {@code DefaultOpenAiClient} hands out anything: its own {@code ResponseHandle} cannot cancel,
 * and its streaming handle appears only with the first event.
 *
 * <p>The {@code ServerSentEventParser} argument is not used: that SPI reads a blocking
 * {@code InputStream}. Events are decoded by the WHATWG rules, which is what LangChain4j's
 * default parser implements too. The blocking {@link #execute(HttpRequest)} is not supported:
 * the gateway only streams, and a blocking call would pin an event loop.
 *
 * <p>Thread-safety: {@link #execute(HttpRequest, ServerSentEventParser, ServerSentEventListener)}
 * may be called from any thread, once per instance. Listener callbacks arrive on one Vert.x
 * event loop, in order, and end with exactly one {@code onClose} or {@code onError}, none after
 * {@link Call#cancel()}.
 */
final class VertxHttpClient implements HttpClient {
    private static final Logger LOG = Logger.getLogger(VertxHttpClient.class);
    private static final int ERROR_BODY_LIMIT = 4096;

    private final Pool pool;
    private final Call call;

    private VertxHttpClient(Pool pool, Call call) {
        this.pool = pool;
        this.call = call;
    }

    @Override
    public SuccessfulHttpResponse execute(HttpRequest request) {
        throw new UnsupportedOperationException("only streaming calls: a blocking call would pin an event loop");
    }

    @Override
    public void execute(HttpRequest request, ServerSentEventParser ignored, ServerSentEventListener listener) {
        Exchange exchange = new Exchange(call, listener);
        if (!call.begin()) {
            return; // cancelled before it started: no callbacks
        }
        RequestOptions options;
        try {
            options = pool.options(request);
            call.headers.forEach(options::putHeader);
        } catch (RuntimeException e) {
            exchange.fail(e);
            return;
        }
        pool.client().request(options).onComplete(ar -> {
            if (ar.failed()) {
                exchange.fail(ar.cause()); // connect refused or timed out, pool closed
                return;
            }
            HttpClientRequest req = ar.result();
            if (!call.attach(req)) {
                return;
            }
            req.send(Buffer.buffer(request.body() == null ? "" : request.body())).onComplete(rr -> {
                if (rr.failed()) {
                    Throwable cause = rr.cause();
                    // Closed before a byte of the response: typically a pooled connection the
                    // backend closed (its keep-alive timer) just as the request went out.
                    exchange.fail(cause instanceof HttpClosedException
                            ? new ConnectionClosedException(pool.baseUrl, cause) : cause);
                } else {
                    exchange.onResponse(rr.result());
                }
            });
        });
    }

    /** The state of one request/response: what the listener has been told so far. */
    private static final class Exchange {
        private final Call call;
        private final ServerSentEventListener listener;
        private final ServerSentEventContext context;
        private boolean ended;

        Exchange(Call call, ServerSentEventListener listener) {
            this.call = call;
            this.listener = listener;
            this.context = new ServerSentEventContext(call);
        }

        void onResponse(HttpClientResponse response) {
            if (call.isCancelled()) {
                return;
            }
            int status = response.statusCode();
            if (status < 200 || status >= 300) {
                response.body().onComplete(b -> {
                    String text = b.succeeded() ? b.result().toString() : "";
                    fail(new HttpException(status, text.length() > ERROR_BODY_LIMIT ? text.substring(0, ERROR_BODY_LIMIT) : text));
                });
                return;
            }
            ServerSentEventDecoder decoder = new ServerSentEventDecoder(event -> {
                if (!ended && !call.isCancelled()) {
                    guarded(() -> listener.onEvent(event, context));
                }
            });
            response.handler(decoder::feed);
            response.exceptionHandler(this::fail);
            response.endHandler(v -> {
                decoder.end();
                if (!ended && !call.isCancelled()) {
                    ended = true;
                    guarded(listener::onClose);
                }
            });
            guarded(() -> listener.onOpen(SuccessfulHttpResponse.builder().statusCode(status)
                    .headers(headers(response)).build()));
        }

        void fail(Throwable failure) {
            if (!ended && !call.isCancelled()) {
                ended = true;
                guarded(() -> listener.onError(failure));
            }
        }

        /**
         * A listener that throws must not break the connection's handlers: the request is reset
         * and the failure becomes the exchange's end.
         */
        private void guarded(Runnable callback) {
            try {
                callback.run();
            } catch (RuntimeException e) {
                boolean first = !ended;
                ended = true;
                call.cancel();
                if (first) {
                    try {
                        listener.onError(e);
                    } catch (RuntimeException again) {
                        LOG.debug("SSE listener failed twice", again);
                    }
                }
            }
        }

        private static Map<String, List<String>> headers(HttpClientResponse response) {
            Map<String, List<String>> out = new LinkedHashMap<>();
            for (Map.Entry<String, String> h : response.headers()) {
                out.computeIfAbsent(h.getKey(), k -> new ArrayList<>(1)).add(h.getValue());
            }
            return out;
        }
    }

    /**
     * One call's cancellation: usable before the request has a connection (the reset happens
     * when it gets one) and after (the request is reset at once). Thread-safe.
     */
    static final class Call implements ServerSentEventParsingHandle {
        private final AtomicBoolean cancelled = new AtomicBoolean();
        private final AtomicBoolean begun = new AtomicBoolean();
        private volatile HttpClientRequest request;
        /** Headers the caller adds before the call starts (the trace context); empty for most calls. */
        private final Map<String, String> headers = new LinkedHashMap<>(2);

        /** Adds a request header; before {@code execute} only. */
        void header(String name, String value) {
            headers.put(name, value);
        }

        @Override
        public void cancel() {
            if (cancelled.compareAndSet(false, true)) {
                HttpClientRequest r = request;
                if (r != null) {
                    r.reset();
                }
            }
        }

        @Override
        public boolean isCancelled() {
            return cancelled.get();
        }

        /** False when cancelled already; a call is executed at most once. */
        boolean begin() {
            if (!begun.compareAndSet(false, true)) {
                throw new IllegalStateException("a call is executed once");
            }
            return !cancelled.get();
        }

        /** Publishes the request, or resets it when the call was cancelled meanwhile. */
        boolean attach(HttpClientRequest r) {
            request = r;
            if (cancelled.get()) {
                r.reset(); // cancel() may also reset it: reset is idempotent
                return false;
            }
            return true;
        }
    }

    /**
     * One replica's keep-alive connections, on the Quarkus-managed Vert.x instance, kept per
     * event loop: a call started on an event loop (where the gateway's HTTP server runs its
     * requests) uses connections owned by that loop, so the request, the backend's answer and
     * the write to the device all happen on one thread. Vert.x's own pool picks the most recently
     * used connection whatever its loop, and a connection owned by another loop costs two thread
     * hand-offs per call. Calls from other threads share one more pool. Thread-safe.
     */
    static final class Pool implements AutoCloseable {
        private final Vertx vertx;
        private final HttpClientOptions options;
        private final PoolOptions poolOptions;
        private final io.vertx.core.http.HttpClient shared;
        private final Map<Thread, io.vertx.core.http.HttpClient> byEventLoop = new ConcurrentHashMap<>();
        private final String baseUrl;
        private final Duration connectTimeout;
        private final Duration readTimeout;
        private volatile Target lastTarget;
        private volatile boolean closed;

        /**
         * @param size           connections at most per event loop (and for the other threads);
         *                       requests beyond wait for one to be free
         * @param connectTimeout TCP connect timeout
         * @param readTimeout    a connection that receives nothing for this long is closed (a
         *                       safety net: the generator's watchdog enforces the real limits)
         * @param keepAlive      an idle connection is closed after this, before a server's own
         *                       keep-alive timer (uvicorn, vLLM's server: 5 s) closes it under a request
         */
        Pool(Vertx vertx, String baseUrl, int size, Duration connectTimeout, Duration readTimeout, Duration keepAlive) {
            if (size < 1) {
                throw new IllegalArgumentException("pool size must be >= 1");
            }
            this.baseUrl = Objects.requireNonNull(baseUrl);
            this.connectTimeout = Objects.requireNonNull(connectTimeout);
            this.readTimeout = Objects.requireNonNull(readTimeout);
            this.vertx = vertx;
            this.options = new HttpClientOptions()
                    .setKeepAlive(true)
                    .setKeepAliveTimeout((int) Math.max(1, keepAlive.toSeconds()))
                    .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()))
                    .setIdleTimeoutUnit(TimeUnit.MILLISECONDS)
                    .setReadIdleTimeout((int) Math.min(Integer.MAX_VALUE, readTimeout.toMillis()))
                    .setTcpNoDelay(true)
                    .setForceSni(true)
                    // No HTTP client span from Vert.x's tracer: the generator's GenAI span is the
                    // call's client span, and its context goes out as the Call's headers.
                    .setTracingPolicy(io.vertx.core.tracing.TracingPolicy.IGNORE);
            this.poolOptions = new PoolOptions().setHttp1MaxSize(size);
            this.shared = vertx.createHttpClient(options, poolOptions);
        }

        /** The client for the calling thread: its event loop's, or the shared one. */
        private io.vertx.core.http.HttpClient client() {
            Context context = Vertx.currentContext();
            if (context == null || !context.isEventLoopContext() || !Context.isOnEventLoopThread()) {
                return shared;
            }
            io.vertx.core.http.HttpClient c = byEventLoop.get(Thread.currentThread());
            if (c == null && !closed) {
                c = byEventLoop.computeIfAbsent(Thread.currentThread(), t -> vertx.createHttpClient(options, poolOptions));
            }
            return c == null ? shared : c;
        }

        /** A LangChain4j client builder whose client runs {@code call} over this pool. */
        HttpClientBuilder builderFor(Call call) {
            return new Builder(this, call);
        }

        private RequestOptions options(HttpRequest request) {
            Target t = lastTarget;
            if (t == null || !t.url.equals(request.url())) {
                t = Target.of(request.url());
                lastTarget = t;
            }
            RequestOptions o = new RequestOptions()
                    .setMethod(io.vertx.core.http.HttpMethod.valueOf(request.method().name()))
                    .setHost(t.host).setPort(t.port).setSsl(t.ssl).setURI(t.uri);
            for (Map.Entry<String, List<String>> h : request.headers().entrySet()) {
                for (String v : h.getValue()) {
                    o.addHeader(h.getKey(), v);
                }
            }
            return o;
        }

        @Override
        public void close() {
            closed = true;
            shared.close();
            byEventLoop.values().forEach(io.vertx.core.http.HttpClient::close);
        }
    }

    /** A request URL taken apart once (every call of a replica goes to the same one). */
    private record Target(String url, String host, int port, boolean ssl, String uri) {
        static Target of(String url) {
            URI u = URI.create(url);
            boolean ssl = "https".equalsIgnoreCase(u.getScheme());
            if (!ssl && !"http".equalsIgnoreCase(u.getScheme())) {
                throw new IllegalArgumentException("not an http(s) URL: " + url);
            }
            int port = u.getPort() > 0 ? u.getPort() : ssl ? 443 : 80;
            String uri = u.getRawPath() == null || u.getRawPath().isEmpty() ? "/" : u.getRawPath();
            if (u.getRawQuery() != null) {
                uri += "?" + u.getRawQuery();
            }
            return new Target(url, u.getHost(), port, ssl, uri);
        }
    }

    /**
     * The builder LangChain4j's {@code DefaultOpenAiClient} configures and builds. Timeouts are
     * the pool's (they belong to its connections); a different value is refused, not ignored.
     */
    private static final class Builder implements HttpClientBuilder {
        private final Pool pool;
        private final Call call;
        private Duration connectTimeout;
        private Duration readTimeout;

        Builder(Pool pool, Call call) {
            this.pool = pool;
            this.call = call;
            this.connectTimeout = pool.connectTimeout;
            this.readTimeout = pool.readTimeout;
        }

        @Override
        public Duration connectTimeout() {
            return connectTimeout;
        }

        @Override
        public HttpClientBuilder connectTimeout(Duration timeout) {
            this.connectTimeout = timeout;
            return this;
        }

        @Override
        public Duration readTimeout() {
            return readTimeout;
        }

        @Override
        public HttpClientBuilder readTimeout(Duration timeout) {
            this.readTimeout = timeout;
            return this;
        }

        @Override
        public HttpClient build() {
            if (!pool.connectTimeout.equals(connectTimeout) || !pool.readTimeout.equals(readTimeout)) {
                throw new IllegalArgumentException("timeouts are set per replica pool (connect " + pool.connectTimeout
                        + ", read " + pool.readTimeout + "), not per call");
            }
            return new VertxHttpClient(pool, call);
        }
    }
}
