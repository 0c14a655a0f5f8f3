package dev.offload.gateway.api;

import dev.offload.gateway.generation.GenerationEvent;
import dev.offload.gateway.metrics.MetricNames;
import dev.offload.gateway.pipeline.QueryEvent;
import io.opentelemetry.api.trace.Span;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.runtime.StartupEvent;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The gateway's own latency, measured by itself on every answer a backend served: the time the
 * request spent at the gateway minus the time it waited on backends and in the admission queue
 * (which has its own timer, {@code gateway.backend.queue.time}). For a stream it runs to the
 * first byte of the answer the device receives, and the backend's part to its first token; for a
 * whole answer to the moment the response is written, and the backend's part to its last byte.
 * What remains is parsing, validation, routing, the egress gate (redaction), relaying and
 * serialisation: the figure the README's added-latency target is about, seen from inside
 * rather than by a benchmark.
 *
 * <p>On {@code /v1/query} ({@code endpoint=query}) the gateway's part includes the pipeline:
 * embedding, the cache lookup, retrieval, prompt packing and the offload decision — work the
 * gateway does in place of the device, so it counts; the stage spans split it
 * ({@code query.embed}, {@code query.retrieve}, …). REST stamps the arrival before
 * authentication as for chat; gRPC when the service method is called (after its interceptors),
 * its answer always a stream, to the first token event handed to gRPC.
 *
 * <p>Not recorded for extractive answers (no backend), for cached answers and answers without
 * generation, nor for callers that joined an identical request's backend call (its timings are
 * the first caller's). Thread-safe.
 */
@ApplicationScoped
public class GatewayOverhead {
    /** The endpoints whose answers come from a backend. */
    private static final String[] ENDPOINTS = {RequestAccounting.CHAT, RequestAccounting.COMPLETIONS, RequestAccounting.QUERY};
    /** Where the arrival time of a request is kept (the histogram's start). */
    private static final String ARRIVAL = "gateway.arrival";
    /** Before the security filter's -10,000 (authentication is the gateway's time too). */
    private static final int ARRIVAL_ORDER = -10_001;

    @Inject
    MeterRegistry registry;

    private final Map<String, Timer> timers = new ConcurrentHashMap<>();

    /**
     * Stamps the arrival of every POST to {@code path}, before authentication and before the body
     * is read: a route of its own, as a body handler must come first on its route.
     */
    static void stampArrival(Router router, String path) {
        router.post(path).order(ARRIVAL_ORDER).handler(ctx -> {
            ctx.put(ARRIVAL, System.nanoTime());
            ctx.next();
        });
    }

    /** The request's arrival ({@link System#nanoTime()}), or 0 when it was not stamped. */
    static long arrival(RoutingContext ctx) {
        Long arrival = ctx.get(ARRIVAL);
        return arrival == null ? 0 : arrival;
    }

    /** Every series exists from the start, at 0. */
    void onStart(@Observes StartupEvent e) {
        timers.clear();
        for (String endpoint : ENDPOINTS) {
            timer(endpoint, true);
            timer(endpoint, false);
        }
    }

    private Timer timer(String endpoint, boolean stream) {
        String key = endpoint + (stream ? "/stream" : "/whole");
        Timer t = timers.get(key);
        return t != null ? t : timers.computeIfAbsent(key, k -> Timer.builder(MetricNames.GATEWAY_OVERHEAD)
                .description("Time at the gateway minus the time waiting on backends and in the admission queue")
                .tags("endpoint", endpoint, "stream", Boolean.toString(stream)).register(registry));
    }

    /**
     * Records one answer's overhead.
     *
     * @param arrivalNanos   when the request reached the endpoint ({@link System#nanoTime()})
     * @param firstByteNanos when the first byte of a streamed answer went out; ignored for a whole answer
     * @return the overhead in nanoseconds, or -1 when the answer is not one that is measured
     */
    long record(String endpoint, boolean stream, long arrivalNanos, long firstByteNanos, GenerationEvent.Completed c) {
        if (c.backendNanos() == 0 || c.coalesced() || arrivalNanos == 0) {
            return -1;
        }
        long overhead = stream
                ? firstByteNanos - arrivalNanos - c.queueNanos() - c.backendFirstTokenNanos()
                : System.nanoTime() - arrivalNanos - c.queueNanos() - c.backendNanos();
        overhead = Math.max(0, overhead);
        timer(endpoint, stream).record(overhead, TimeUnit.NANOSECONDS);
        return overhead;
    }

    /**
     * Records a {@code /v1/query} answer (when a backend generated it) and puts its outcome on the
     * request's server span: served by, the hint's target, the fallback reason, the overhead.
     *
     * @param firstByteNanos when the first token went out on a stream; 0 when none did (the end is then the first byte)
     */
    void recordQuery(Span serverSpan, boolean stream, long arrivalNanos, long firstByteNanos, QueryEvent.Final f) {
        long nanos = f.generation() == null ? -1 : record(RequestAccounting.QUERY, stream, arrivalNanos,
                firstByteNanos != 0 ? firstByteNanos : System.nanoTime(), f.generation());
        if (serverSpan.isRecording()) {
            serverSpan.setAttribute("gateway.served_by", f.servedBy());
            serverSpan.setAttribute("gateway.offload.target", f.hint().target().name());
            if (f.fallbackReason() != null) {
                serverSpan.setAttribute("gateway.fallback_reason", f.fallbackReason());
            }
            if (nanos >= 0) {
                serverSpan.setAttribute("gateway.overhead_ms", nanos / 1e6);
            }
        }
    }
}
