package dev.offload.gateway.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.offload.gateway.offload.GatewayWatch;
import dev.offload.gateway.offload.WatchFeed;
import dev.offload.gateway.security.Caller;
import dev.offload.gateway.security.CurrentCaller;
import dev.offload.gateway.security.SecurityMetrics;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

/**
 * {@code GET /v1/offload/watch}: the gateway's state as Server-Sent Events, the SSE twin of gRPC
 * {@code Watch}. Each event is {@code event: snapshot}, {@code id: <epoch>-<version>} and one
 * {@code data:} line of {@link dev.offload.gateway.offload.policy.GatewaySnapshot#toJson} (the
 * device-policy jar reads it back with {@code GatewaySnapshot.fromJson}): the current snapshot at
 * once, then on change and at the heartbeat. The bytes of an event are built once per
 * publication and written to every watcher.
 *
 * <p>A connection whose send buffer is full is not queued to: it gets the latest snapshot when it
 * drains. A closed connection closes its watcher. Refusals are {@code application/problem+json}:
 * 406 when the client accepts no event stream, 429 beyond the watcher limits. A Vert.x route, like
 * {@code /v1/query}; authentication is the security filter's, as for every path.
 */
@ApplicationScoped
public class WatchRoute {
    public static final String PATH = "/v1/offload/watch";

    @Inject
    GatewayWatch watch;
    @Inject
    ObjectMapper json;

    void register(@Observes Router router) {
        router.get(PATH).handler(this::handle);
    }

    private void handle(RoutingContext ctx) {
        HttpServerResponse response = ctx.response();
        String accept = ctx.request().getHeader("Accept");
        if (accept != null && !accept.contains("text/event-stream") && !accept.contains("*/*")) {
            problem(response, Problem.of(406, "Not Acceptable", "this endpoint sends text/event-stream only"), null);
            return;
        }
        Caller caller = CurrentCaller.get();
        Stream stream = new Stream(response);
        WatchFeed.Watcher w;
        response.setChunked(true).setStatusCode(200)
                .putHeader("Content-Type", "text/event-stream")
                .putHeader("Cache-Control", "no-cache")
                .putHeader("X-Accel-Buffering", "no");
        try {
            w = watch.open(caller.tenant(), caller.device(), GatewayWatch.SSE, stream::publish);
        } catch (WatchFeed.LimitExceeded e) {
            SecurityMetrics.limitRejected("watchers_" + e.limit(), SecurityMetrics.HTTP);
            response.headers().remove("Cache-Control").remove("X-Accel-Buffering");
            response.setChunked(false);
            problem(response, Problem.of(429, "Too Many Requests", e.getMessage()), 1000L);
            return;
        }
        stream.watcher = w;
        response.closeHandler(v -> w.close());
        response.exceptionHandler(t -> w.close());
        response.drainHandler(v -> stream.drained());
    }

    /** One connection. {@link #publish} runs under the feed's lock; drains on the connection's event loop. */
    private static final class Stream {
        private final HttpServerResponse response;
        private volatile WatchFeed.Watcher watcher;
        private WatchFeed.Publication pending;

        Stream(HttpServerResponse response) {
            this.response = response;
        }

        void publish(WatchFeed.Publication p) {
            synchronized (this) {
                if (response.closed() || response.ended()) {
                    WatchFeed.Watcher w = watcher;
                    if (w != null) {
                        w.close();
                    }
                    return;
                }
                if (response.writeQueueFull()) {
                    pending = p; // the newest replaces an unsent older one
                    return;
                }
                pending = null;
            }
            response.write(Buffer.buffer(p.encoded(WatchMessages.SSE)));
        }

        void drained() {
            WatchFeed.Publication p;
            synchronized (this) {
                p = pending;
                pending = null;
            }
            if (p != null) {
                publish(p);
            }
        }
    }

    private void problem(HttpServerResponse r, Problem p, Long retryAfterMs) {
        if (retryAfterMs != null) {
            r.putHeader("Retry-After", Long.toString(Math.max(1, (retryAfterMs + 999) / 1000)));
        }
        String body;
        try {
            body = json.writeValueAsString(p);
        } catch (JsonProcessingException e) {
            body = "{\"status\":" + p.status() + "}";
        }
        r.setStatusCode(p.status()).putHeader("Content-Type", Problem.MEDIA_TYPE).end(body);
    }
}
