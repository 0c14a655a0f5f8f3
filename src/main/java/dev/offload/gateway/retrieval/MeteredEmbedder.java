package dev.offload.gateway.retrieval;

import dev.offload.gateway.metrics.MetricNames;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.io.Closeable;
import java.util.List;
import java.util.function.Supplier;

/**
 * Counts and times every embedding an {@link Embedder} computes, whoever asks for it (ingest, search,
 * the cache lookup, the router, the verifier, {@code /v1/embeddings}): {@code gateway_embedding_texts_total}
 * and {@code gateway_embedding_time_seconds}, tagged {@code model} and {@code kind=passage|query}.
 * Closing it closes the model it wraps.
 */
public final class MeteredEmbedder implements Embedder, Closeable {
    private final Embedder delegate;
    private final Counter queries;
    private final Counter passages;
    private final Timer queryTime;
    private final Timer passageTime;

    public MeteredEmbedder(Embedder delegate, MeterRegistry registry) {
        this.delegate = delegate;
        String model = delegate.modelName();
        this.queries = registry.counter(MetricNames.EMBEDDING_TEXTS, "model", model, "kind", "query");
        this.passages = registry.counter(MetricNames.EMBEDDING_TEXTS, "model", model, "kind", "passage");
        this.queryTime = registry.timer(MetricNames.EMBEDDING_TIME, "model", model, "kind", "query");
        this.passageTime = registry.timer(MetricNames.EMBEDDING_TIME, "model", model, "kind", "passage");
    }

    @Override
    public int dimension() {
        return delegate.dimension();
    }

    @Override
    public String modelName() {
        return delegate.modelName();
    }

    @Override
    public List<float[]> embedAll(List<String> texts) {
        return timed(queries, queryTime, texts.size(), () -> delegate.embedAll(texts));
    }

    @Override
    public List<float[]> embedPassages(List<String> texts) {
        return timed(passages, passageTime, texts.size(), () -> delegate.embedPassages(texts));
    }

    @Override
    public float[] embed(String text) {
        return timed(queries, queryTime, 1, () -> delegate.embed(text));
    }

    private static <T> T timed(Counter counter, Timer timer, int texts, Supplier<T> call) {
        long t0 = System.nanoTime();
        T out = call.get();
        timer.record(System.nanoTime() - t0, java.util.concurrent.TimeUnit.NANOSECONDS);
        counter.increment(texts);
        return out;
    }

    @Override
    public void close() throws java.io.IOException {
        if (delegate instanceof Closeable c) {
            c.close();
        }
    }
}
