package dev.offload.gateway.retrieval;

import dev.offload.gateway.metrics.MetricNames;
import dev.offload.gateway.retrieval.IndexRecords.ChunkHit;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a search in one of the three modes and fuses hybrid results. Blocking and CPU-bound
 * (query embedding, graph search): call from worker threads.
 */
@ApplicationScoped
public class HybridSearcher {
    @Inject
    SharedIndex index;
    @Inject
    Embedder embedder;
    @Inject
    RetrievalConfig config;
    @Inject
    MeterRegistry registry;

    private volatile Fusion fusion;

    /** Hits best first plus where the time went, in milliseconds. */
    public record Result(List<ChunkHit> hits, Map<String, Double> timings) {
    }

    public Result search(String tenant, String query, int k, SearchMode mode, Map<String, String> filter) {
        return search(tenant, query, null, k, mode, filter);
    }

    /**
     * A metadata filter as every search takes it: string keys to string values (JSON allows a
     * {@code null} value; a filter cannot match on it, so it is refused by name).
     */
    public static Map<String, String> validFilter(Map<String, String> filter) {
        if (filter == null) {
            return Map.of();
        }
        for (Map.Entry<String, String> e : filter.entrySet()) {
            if (e.getKey() == null || e.getKey().isBlank()) {
                throw InvalidRequestException.of("filter", "keys must be non-empty strings");
            }
            if (e.getValue() == null) {
                throw InvalidRequestException.of("filter." + e.getKey(), "must be a string (a filter matches a value)");
            }
        }
        return Map.copyOf(filter);
    }

    /** The query embedding the searches use (worker threads only: CPU-bound). */
    public float[] embed(String query) {
        return embedQuery(query, new HashMap<>());
    }

    /**
     * @param queryVector the query's embedding when the caller already computed it, else null
     */
    public Result search(String tenant, String query, float[] queryVector, int k, SearchMode mode,
                         Map<String, String> filter) {
        RetrievalConfig.Search c = config.search();
        if (query == null || query.isBlank()) {
            throw InvalidRequestException.of("query", "must not be empty");
        }
        if (query.length() > c.maxQueryChars()) {
            throw InvalidRequestException.of("query", "at most " + c.maxQueryChars() + " characters");
        }
        if (k < 1 || k > c.maxK()) {
            throw InvalidRequestException.of("k", "must be between 1 and " + c.maxK());
        }
        Map<String, String> where = validFilter(filter);
        HybridIndex i = index.get();
        Map<String, Double> timings = new HashMap<>();
        long start = System.nanoTime();
        try {
            List<ChunkHit> hits = switch (mode) {
                case SPARSE -> timed(timings, "sparseMs", () -> i.sparse(tenant, query, where, k));
                case DENSE -> {
                    float[] q = queryVector != null ? queryVector : embedQuery(query, timings);
                    yield timed(timings, "denseMs", () -> i.dense(tenant, q, where, k));
                }
                case HYBRID -> {
                    float[] q = queryVector != null ? queryVector : embedQuery(query, timings);
                    SearchSettings ss = settings();
                    yield new HybridRetriever(i, fusion(), ss.candidates(), ss.feedbackDepth(), ss.feedbackWeight(),
                            ss.feedbackSkipMargin())
                            .search(tenant, query, q, where, k, timings);
                }
                case CASCADE -> {
                    float[] q = queryVector != null ? queryVector : embedQuery(query, timings);
                    yield new HybridRetriever(i, fusion(), c.candidates(), 0, 0)
                            .cascade(tenant, query, q, where, k, timings);
                }
            };
            long total = System.nanoTime() - start;
            timings.put("totalMs", total / 1e6);
            registry.timer(MetricNames.SEARCH_TIME, "mode", mode.name().toLowerCase()).record(total, TimeUnit.NANOSECONDS);
            return new Result(hits, timings);
        } catch (IOException e) {
            throw new UncheckedIOException("search failed", e);
        }
    }

    private float[] embedQuery(String query, Map<String, Double> timings) {
        long t0 = System.nanoTime();
        float[] v = embedder.embed(query);
        long t = System.nanoTime() - t0;
        timings.put("embedMs", t / 1e6);
        return v;
    }

    /** A search setting out of range stops the start with its property's name, not the first search. */
    void checkSettings(@jakarta.enterprise.event.Observes io.quarkus.runtime.StartupEvent event) {
        settings();
    }

    private SearchSettings settings() {
        SearchSettings s = settings;
        if (s == null) {
            s = settings = SearchSettings.of(config);
        }
        return s;
    }

    private volatile SearchSettings settings;

    private Fusion fusion() {
        Fusion f = fusion;
        if (f == null) {
            f = settings().fusionOf();
            fusion = f;
        }
        return f;
    }

    private interface IoSupplier<T> {
        T get() throws IOException;
    }

    private static <T> T timed(Map<String, Double> timings, String key, IoSupplier<T> s) throws IOException {
        long t0 = System.nanoTime();
        T v = s.get();
        timings.put(key, (System.nanoTime() - t0) / 1e6);
        return v;
    }
}
