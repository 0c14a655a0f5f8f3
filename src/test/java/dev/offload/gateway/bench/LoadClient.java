package dev.offload.gateway.bench;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntFunction;

/**
 * The load side of {@link GenerationBenchmark}: one Vert.x event loop, an HTTP/1.1 client with a
 * large connection pool (one connection per concurrent request, like most OpenAI SDK clients),
 * and three ways to drive it: open-loop Poisson arrivals, closed-loop clients, and one request
 * at a time. Streaming responses are read as server-sent events; the time to first token is the
 * arrival of the first event whose {@code delta.content} is not empty.
 *
 * <p>Every request is issued and every callback runs on one event-loop context, so the per-request
 * {@link Outcome} needs no locking; the driving thread reads outcomes only after a task on that
 * context has handed them over.
 */
final class LoadClient implements AutoCloseable {
    /**
     * Where requests go: a port on 127.0.0.1, a path, extra headers, the model to name, and whether
     * one-at-a-time requests ask for a streamed answer (open- and closed-loop requests always do).
     */
    record Target(String name, int port, String path, Map<String, String> headers, String model, boolean stream) {
        Target(String name, int port, String path, Map<String, String> headers, String model) {
            this(name, port, path, headers, model, false);
        }
    }

    /** One request's fate. Times are {@link System#nanoTime()}. */
    static final class Outcome {
        final int index;
        /** Intended send time (open loop) or actual send time (closed loop). */
        final long startNanos;
        int status;
        long firstTokenNanos;
        long endNanos;
        int tokens;
        String servedBy;
        String error;
        /** When {@link #error} was set, and how many tokens had arrived by then. */
        long errorNanos;
        int tokensAtError;
        /** 200, {@code [DONE]} received, no error event. */
        boolean complete;
        /** Still running at the cut-off and reset by the client. */
        boolean cutOff;
        boolean done;
        HttpClientRequest request;
        private StringBuilder pending;

        Outcome(int index, long startNanos) {
            this.index = index;
            this.startNanos = startNanos;
        }

        long ttftNanos() {
            return firstTokenNanos == 0 ? -1 : firstTokenNanos - startNanos;
        }
    }

    private final Vertx vertx;
    private final HttpClient http;
    private final Context context;

    LoadClient() {
        vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1)
                .setInternalBlockingPoolSize(1));
        http = vertx.createHttpClient(new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_1_1)
                        .setKeepAlive(true).setTcpNoDelay(true).setPipelining(false).setKeepAliveTimeout(30)
                        .setConnectTimeout(5_000),
                new PoolOptions().setHttp1MaxSize(4096));
        context = vertx.getOrCreateContext();
    }

    // ---------------------------------------------------------------- one streaming request

    /** Sends one streaming request; must run on {@link #context}. {@code onDone} runs once, on it. */
    private void stream(Target t, String body, Outcome o, Set<Outcome> open, Runnable onDone) {
        send(t, body, o, open, onDone, true);
    }

    /**
     * Sends one request, streamed (read as server-sent events) or not (a 200 whose body arrived in
     * full is complete); must run on {@link #context}. {@code onDone} runs once, on it.
     */
    private void send(Target t, String body, Outcome o, Set<Outcome> open, Runnable onDone, boolean streamed) {
        open.add(o);
        Runnable finish = () -> {
            if (o.done) {
                return;
            }
            o.done = true;
            o.endNanos = System.nanoTime();
            open.remove(o);
            onDone.run();
        };
        RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1")
                .setPort(t.port()).setURI(t.path()).putHeader("content-type", "application/json")
                .putHeader("accept", streamed ? "text/event-stream" : "application/json");
        t.headers().forEach(options::putHeader);
        http.request(options).onFailure(e -> {
            o.error = "connect: " + e;
            finish.run();
        }).onSuccess(req -> {
            if (o.done) {
                req.reset();
                return;
            }
            o.request = req;
            req.send(Buffer.buffer(body)).onFailure(e -> {
                if (o.error == null) {
                    o.error = e.toString();
                }
                finish.run();
            }).onSuccess(resp -> {
                o.status = resp.statusCode();
                if (o.status != 200 || !streamed) {
                    resp.body().onComplete(b -> {
                        if (b.succeeded() && o.status == 200) {
                            o.complete = true;
                            o.servedBy = resp.getHeader("X-Offload-Served-By");
                        } else if (b.failed() && o.error == null) {
                            o.error = b.cause().toString();
                        }
                        finish.run();
                    });
                    return;
                }
                o.pending = new StringBuilder();
                resp.handler(buf -> onSse(o, buf.toString()));
                resp.exceptionHandler(e -> {
                    if (o.error == null) {
                        o.error = e.toString();
                    }
                    finish.run();
                });
                resp.endHandler(v -> finish.run());
            });
        });
    }

    private static void onSse(Outcome o, String chunk) {
        if (o.done) {
            return;
        }
        StringBuilder p = o.pending;
        p.append(chunk);
        int from = 0;
        for (int end; (end = p.indexOf("\n\n", from)) >= 0; from = end + 2) {
            String event = p.substring(from, end);
            if (!event.startsWith("data: ")) {
                continue;
            }
            String data = event.substring(6);
            if (data.equals("[DONE]")) {
                o.complete = o.error == null;
                continue;
            }
            if (data.startsWith("{\"error\"")) {
                o.error = "error event: " + data;
                o.errorNanos = System.nanoTime();
                o.tokensAtError = o.tokens;
                continue;
            }
            int c = data.indexOf("\"content\":\"");
            if (c >= 0 && c + 11 < data.length() && data.charAt(c + 11) != '"') {
                if (o.firstTokenNanos == 0) {
                    o.firstTokenNanos = System.nanoTime();
                }
                o.tokens++;
            }
            int s = data.indexOf("\"servedBy\":\"");
            if (s >= 0) {
                o.servedBy = data.substring(s + 12, data.indexOf('"', s + 12));
            }
        }
        p.delete(0, from);
    }

    // ---------------------------------------------------------------- open loop

    /** Poisson arrival offsets (nanoseconds from the start) within {@code windowNanos}, at most {@code max}. */
    static long[] poissonArrivals(double ratePerSecond, long windowNanos, long seed, int max) {
        Random random = new Random(seed);
        List<Long> out = new ArrayList<>();
        double t = 0;
        while (out.size() < max) {
            t += -Math.log(1 - random.nextDouble()) / ratePerSecond * 1e9;
            if (t >= windowNanos) {
                break;
            }
            out.add((long) t);
        }
        return out.stream().mapToLong(Long::longValue).toArray();
    }

    /**
     * Open loop: request {@code i} is sent at {@code start + arrivals[i]} whatever happened to the
     * others. Waits until all ended or {@code cutOffNanos} after the start, then resets the rest.
     */
    List<Outcome> openLoop(Target t, long[] arrivals, IntFunction<String> body, long cutOffNanos)
            throws InterruptedException {
        return openLoop(t, arrivals, body, cutOffNanos, true);
    }

    /** {@link #openLoop(Target, long[], IntFunction, long)}, streamed or not. */
    List<Outcome> openLoop(Target t, long[] arrivals, IntFunction<String> body, long cutOffNanos, boolean streamed)
            throws InterruptedException {
        Set<Outcome> open = new HashSet<>();
        List<Outcome> all = new ArrayList<>(arrivals.length);
        AtomicInteger pendingCount = new AtomicInteger();
        long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(20);
        for (int i = 0; i < arrivals.length; i++) {
            long at = start + arrivals[i];
            parkUntil(at);
            Outcome o = new Outcome(i, at);
            all.add(o);
            String b = body.apply(i);
            pendingCount.incrementAndGet();
            context.runOnContext(v -> send(t, b, o, open, pendingCount::decrementAndGet, streamed));
        }
        long deadline = start + cutOffNanos;
        while (pendingCount.get() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        cut(open);
        return all;
    }

    /** Resets every request still open; returns once that ran on the context. */
    private void cut(Set<Outcome> open) throws InterruptedException {
        CountDownLatch cut = new CountDownLatch(1);
        context.runOnContext(v -> {
            long now = System.nanoTime();
            for (Outcome o : List.copyOf(open)) {
                o.cutOff = true;
                o.done = true;
                o.endNanos = now;
                if (o.request != null) {
                    o.request.reset();
                }
            }
            open.clear();
            cut.countDown();
        });
        if (!cut.await(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the load client's event loop did not answer");
        }
    }

    // ---------------------------------------------------------------- closed loop

    /**
     * {@code clients} loops each sending its next request when the previous one ends, until
     * {@code durationNanos}; then waits (at most {@code drainNanos}) for the last ones.
     */
    List<Outcome> closedLoop(Target t, int clients, long durationNanos, long drainNanos, IntFunction<String> body)
            throws InterruptedException {
        Set<Outcome> open = new HashSet<>();
        List<Outcome> all = new ArrayList<>();
        AtomicInteger counter = new AtomicInteger();
        AtomicInteger running = new AtomicInteger(clients);
        long start = System.nanoTime();
        long stopAt = start + durationNanos;
        CountDownLatch started = new CountDownLatch(1);
        context.runOnContext(v -> {
            for (int c = 0; c < clients; c++) {
                next(t, body, open, all, counter, running, stopAt);
            }
            started.countDown();
        });
        started.await(30, TimeUnit.SECONDS);
        long deadline = stopAt + drainNanos;
        while (running.get() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        cut(open);
        CompletableFuture<List<Outcome>> copy = new CompletableFuture<>();
        context.runOnContext(v -> copy.complete(List.copyOf(all)));
        try {
            return copy.get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private void next(Target t, IntFunction<String> body, Set<Outcome> open, List<Outcome> all, AtomicInteger counter,
                      AtomicInteger running, long stopAt) {
        long now = System.nanoTime();
        if (now >= stopAt) {
            running.decrementAndGet();
            return;
        }
        Outcome o = new Outcome(counter.getAndIncrement(), now);
        all.add(o);
        stream(t, body.apply(o.index), o, open, () -> next(t, body, open, all, counter, running, stopAt));
    }

    // ---------------------------------------------------------------- one at a time

    /** Result of one non-streaming request. */
    record Single(int status, String servedBy, String body, String error) {
    }

    /**
     * One non-streaming request, waited for (at most {@code timeoutMillis}). The latency the
     * caller measures around this includes one hand-over to the event loop and one back, the
     * same for every target.
     */
    Single call(Target t, String body, long timeoutMillis) {
        CompletableFuture<Single> result = new CompletableFuture<>();
        RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1")
                .setPort(t.port()).setURI(t.path()).putHeader("content-type", "application/json")
                .setTimeout(timeoutMillis);
        t.headers().forEach(options::putHeader);
        http.request(options)
                .compose(req -> req.send(Buffer.buffer(body)))
                .compose(resp -> resp.body().map(b -> new Single(resp.statusCode(),
                        resp.getHeader("X-Offload-Served-By"), b.toString(), null)))
                .onComplete(ar -> result.complete(ar.succeeded() ? ar.result()
                        : new Single(0, null, null, String.valueOf(ar.cause()))));
        try {
            return result.get(timeoutMillis + 5_000, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            return new Single(0, null, null, e.toString());
        }
    }

    static void parkUntil(long nanoTime) {
        for (long left = nanoTime - System.nanoTime(); left > 0; left = nanoTime - System.nanoTime()) {
            LockSupport.parkNanos(left);
        }
    }

    @Override
    public void close() {
        try {
            http.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception ignored) {
            // closing anyway
        }
        try {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception ignored) {
            // closing anyway
        }
    }
}
