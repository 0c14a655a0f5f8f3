package dev.offload.gateway.api;

import dev.offload.gateway.generation.GenerationEvent;
import dev.offload.gateway.metrics.MetricNames;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.runtime.StartupEvent;
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
 * <p>Not recorded for extractive answers (no backend) nor for callers that joined an identical
 * request's backend call (its timings are the first caller's). Thread-safe.
 */
@ApplicationScoped
public class GatewayOverhead {
    /** The OpenAI-compatible endpoints; {@code /v1/query} is not measured yet (its retrieval would need its own share). */
    private static final String[] ENDPOINTS = {RequestAccounting.CHAT, RequestAccounting.COMPLETIONS};

    @Inject
    MeterRegistry registry;

    private final Map<String, Timer> timers = new ConcurrentHashMap<>();

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
}
