package dev.offload.gateway.api;

import dev.offload.gateway.cluster.ClusterConfig;
import dev.offload.gateway.retrieval.InvalidRequestException;
import dev.offload.gateway.retrieval.SequenceNotReachedException;
import dev.offload.gateway.retrieval.SharedIndex;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Context;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The read-your-writes token: a read carrying {@code X-Offload-Min-Sequence: N} (the
 * {@code sequence} a write returned, on any replica) is served only once this replica has applied
 * sequence N; it waits up to {@code gateway.cluster.min-sequence-wait} for that, then answers 503
 * with {@code Retry-After}. Reads are {@code POST /v1/search}, {@code POST /v1/query},
 * {@code GET /v1/documents/{id}} and {@code GET /v1/index/stats}; any other call carrying the
 * header is refused (400), since it would not be honoured there.
 *
 * <p>REST and {@code /v1/query}: a route filter right after authentication, on the event loop;
 * the wait is a callback, no thread is blocked. gRPC: {@link GrpcReadYourWritesInterceptor} puts
 * the token in the call's context and the read methods call {@link #awaitBlocking} (on their
 * worker) or {@link #await}.
 */
@Singleton
public class ReadYourWrites {
    public static final String HEADER = "X-Offload-Min-Sequence";
    /** Right after the security filter (order -10000), before every resource. */
    static final int ORDER = -9_990;

    @Inject
    SharedIndex index;
    @Inject
    ClusterConfig config;

    void register(@Observes Router router) {
        router.route().order(ORDER).handler(this::handle);
    }

    static boolean isRead(HttpMethod method, String path) {
        return (method == HttpMethod.POST && (path.equals("/v1/search") || path.equals("/v1/query")))
                || (method == HttpMethod.GET && (path.startsWith("/v1/documents/") || path.equals("/v1/index/stats")));
    }

    /** The token, or -1 when absent; {@link InvalidRequestException} when it is not a sequence. */
    static long parse(String value) {
        if (value == null) {
            return -1;
        }
        String v = value.strip();
        if (v.isEmpty() || v.length() > 18 || !v.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw InvalidRequestException.of(HEADER, "must be a whole number ≥ 0: the sequence a write returned");
        }
        return Long.parseLong(v);
    }

    void handle(RoutingContext ctx) {
        String value = ctx.request().getHeader(HEADER);
        String path = ctx.normalizedPath();
        if (value == null || path.startsWith("/q/")) {
            ctx.next();
            return;
        }
        long n;
        try {
            n = parse(value);
        } catch (InvalidRequestException e) {
            problem(ctx, 400, "Invalid request", HEADER + " " + e.violations().get(0).message(), null);
            return;
        }
        if (!isRead(ctx.request().method(), path)) {
            problem(ctx, 400, "Invalid request", HEADER + " is honoured on reads only (search, query, get document, "
                    + "index stats); this call would ignore it", null);
            return;
        }
        if (index.appliedSequence() >= n) {
            ctx.next();
            return;
        }
        // Paused until the next handler runs, which reads the body (BodyHandler and Quarkus REST resume it).
        ctx.request().pause();
        Context vertx = ctx.vertx().getOrCreateContext();
        AtomicBoolean decided = new AtomicBoolean();
        CompletableFuture<Void> applied = index.whenApplied(n);
        long timer = ctx.vertx().setTimer(Math.max(1, config.minSequenceWait().toMillis()), t -> {
            if (decided.compareAndSet(false, true)) {
                applied.cancel(false);
                problem(ctx, 503, "Sequence not reached", new SequenceNotReachedException(n, index.appliedSequence())
                        .getMessage(), "1");
            }
        });
        applied.thenRun(() -> vertx.runOnContext(v -> {
            if (decided.compareAndSet(false, true)) {
                ctx.vertx().cancelTimer(timer);
                ctx.next();
            }
        }));
    }

    private static void problem(RoutingContext ctx, int status, String title, String detail, String retryAfter) {
        if (ctx.response().ended()) {
            return;
        }
        if (retryAfter != null) {
            ctx.response().putHeader("Retry-After", retryAfter);
        }
        ctx.response().setStatusCode(status).putHeader("Content-Type", Problem.MEDIA_TYPE)
                .end(new JsonObject().put("type", "about:blank").put("title", title).put("status", status)
                        .put("detail", detail).encode());
    }

    /** Completes when this replica has applied {@code n} (at once for n ≤ applied), or fails with {@link SequenceNotReachedException}. */
    public Uni<Void> await(long n) {
        if (n < 0 || index.appliedSequence() >= n) {
            return Uni.createFrom().voidItem();
        }
        CompletableFuture<Void> applied = index.whenApplied(n);
        return Uni.createFrom().completionStage(applied)
                .ifNoItem().after(config.minSequenceWait())
                .failWith(() -> {
                    applied.cancel(false);
                    return new SequenceNotReachedException(n, index.appliedSequence());
                });
    }

    /** {@link #await} on a worker thread: returns once applied, or throws {@link SequenceNotReachedException}. */
    public void awaitBlocking(long n) {
        if (n < 0 || index.appliedSequence() >= n) {
            return;
        }
        CompletableFuture<Void> applied = index.whenApplied(n);
        try {
            applied.get(config.minSequenceWait().toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            applied.cancel(false);
            throw new SequenceNotReachedException(n, index.appliedSequence());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SequenceNotReachedException(n, index.appliedSequence());
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }
}
