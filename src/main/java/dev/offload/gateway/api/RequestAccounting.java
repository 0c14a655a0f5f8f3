package dev.offload.gateway.api;

import dev.offload.gateway.generation.GenerationRejectedException;
import dev.offload.gateway.metrics.MetricNames;
import dev.offload.gateway.pipeline.QueryFailedException;
import dev.offload.gateway.retrieval.IndexNotReadyException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The ledger of every request the answer paths accept ({@code /v1/query} over HTTP and gRPC,
 * {@code /v1/chat/completions}, {@code /v1/completions}): each accepted request ends exactly once, as completed, failed,
 * shed or cancelled, so {@code accepted − completed − failed − shed − cancelled} is the number
 * of requests in flight, and at rest it must be 0. A request that never ends (a stream left
 * without a terminal event and without its client leaving) stays in that difference, where an
 * operator (and the fault tests) can see it.
 *
 * <p>Accepted means: authenticated and valid, so the gateway owes it an answer; a request
 * refused for its body or its key was never accepted. The outcome is recorded where the
 * terminal event or response is written:
 * <ul>
 * <li>completed: the answer, or {@code final} / the last chunk and {@code [DONE]};</li>
 * <li>shed: refused for load or unavailability without starting the work (tenant limit, full
 * queue, deadline, no backend, index not ready): 429/503 or an {@code error} event that
 * carries that refusal;</li>
 * <li>failed: started and broke (a backend stream that failed after its first token, an
 * internal error): 5xx or an {@code error} event;</li>
 * <li>cancelled: the client went away before the end; no terminal event can reach it.</li>
 * </ul>
 *
 * <p>Thread-safe; a {@link Ticket} may be ended from any thread, the first outcome wins.
 */
@ApplicationScoped
public class RequestAccounting {
    private static final Logger LOG = Logger.getLogger(RequestAccounting.class);

    /** The answer paths, the {@code endpoint} tag. */
    public static final String QUERY = "query";
    public static final String CHAT = "chat";
    public static final String COMPLETIONS = "completions";

    public enum Outcome {
        COMPLETED, FAILED, SHED, CANCELLED;

        String tag() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** The endpoint and transport pairs that exist. */
    private static final String[][] PATHS = {{QUERY, "http"}, {QUERY, "grpc"}, {CHAT, "http"},
            {COMPLETIONS, "http"}};

    @Inject
    MeterRegistry registry;

    private final Map<String, Path> paths = new ConcurrentHashMap<>();

    /** Counters and the open gauge of one endpoint and transport. */
    private final class Path {
        final Counter accepted;
        final Map<Outcome, Counter> ended = new EnumMap<>(Outcome.class);
        final Counter unterminated;
        final AtomicInteger open = new AtomicInteger();

        Path(String endpoint, String transport) {
            accepted = registry.counter(MetricNames.REQUESTS_ACCEPTED, "endpoint", endpoint, "transport", transport);
            for (Outcome o : Outcome.values()) {
                ended.put(o, registry.counter(MetricNames.REQUESTS_ENDED, "endpoint", endpoint, "transport", transport,
                        "outcome", o.tag()));
            }
            unterminated = registry.counter(MetricNames.REQUESTS_UNTERMINATED, "endpoint", endpoint, "transport", transport);
            Gauge.builder(MetricNames.REQUESTS_OPEN, open, AtomicInteger::get).tags("endpoint", endpoint, "transport", transport)
                    .description("Accepted requests that have not ended yet").register(registry);
        }
    }

    /** Every series exists from the start, at 0, so sums and rates never miss one. */
    void onStart(@Observes StartupEvent e) {
        paths.clear();
        for (String[] p : PATHS) {
            path(p[0], p[1]);
        }
    }

    private Path path(String endpoint, String transport) {
        return paths.computeIfAbsent(endpoint + "/" + transport, k -> new Path(endpoint, transport));
    }

    /** Records an accepted request; end its ticket exactly once. */
    public Ticket accept(String endpoint, String transport) {
        Path p = path(endpoint, transport);
        p.accepted.increment();
        p.open.incrementAndGet();
        return new Ticket(p, endpoint + "/" + transport);
    }

    /** Shed (a refusal for load or unavailability) rather than failed. */
    public static boolean isShed(Throwable failure) {
        if (failure instanceof GenerationRejectedException || failure instanceof IndexNotReadyException) {
            return true;
        }
        return failure instanceof QueryFailedException q && !q.afterTokens()
                && (q.getCause() instanceof GenerationRejectedException || q.getCause() instanceof IndexNotReadyException);
    }

    /** One accepted request's place in the ledger. */
    public static final class Ticket {
        private final Path path;
        private final String name;
        private final AtomicBoolean ended = new AtomicBoolean();

        private Ticket(Path path, String name) {
            this.path = path;
            this.name = name;
        }

        /** Records the outcome; false (and nothing recorded) when the request had already ended. */
        public boolean end(Outcome outcome) {
            if (!ended.compareAndSet(false, true)) {
                return false;
            }
            path.ended.get(outcome).increment();
            path.open.decrementAndGet();
            return true;
        }

        public boolean completed() {
            return end(Outcome.COMPLETED);
        }

        public boolean cancelled() {
            return end(Outcome.CANCELLED);
        }

        /** Shed or failed, by what the failure says. */
        public boolean failed(Throwable failure) {
            return end(isShed(failure) ? Outcome.SHED : Outcome.FAILED);
        }

        public boolean isEnded() {
            return ended.get();
        }

        /**
         * The answer's source completed without a terminal event: a bug, which the caller repairs
         * by ending the stream with an error; counted so that it cannot go unnoticed.
         */
        public void unterminated() {
            path.unterminated.increment();
            LOG.errorf("a %s stream ended without a terminal event; closed with an error event", name);
        }
    }
}
