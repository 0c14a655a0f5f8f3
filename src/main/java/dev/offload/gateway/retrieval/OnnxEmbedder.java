package dev.offload.gateway.retrieval;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;

import java.io.Closeable;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One of the {@link EmbeddingModel}s (quantized ONNX, 384 dimensions) running in process; the
 * model ships inside its Maven jar, nothing is downloaded. The models do not pad-batch, so
 * {@link #embedAll} gains by running texts in parallel on a pool of its own (one thread per core
 * by default). Queries and passages get the model's own prefixes. Thread-safe.
 */
public final class OnnxEmbedder implements Embedder, Closeable {
    private final ExecutorService pool;
    private final EmbeddingModel which;
    private final dev.langchain4j.model.embedding.EmbeddingModel model;

    public OnnxEmbedder(EmbeddingModel which, int threads) {
        int n = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        AtomicInteger id = new AtomicInteger();
        this.pool = Executors.newFixedThreadPool(n, r -> {
            Thread t = new Thread(r, "embedding-" + id.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.which = which;
        this.model = which.create(pool);
    }

    /** all-MiniLM-L6-v2, quantized: the default of {@code gateway.embedding.question-model} (the index's default is bge-small). */
    public OnnxEmbedder(int threads) {
        this(EmbeddingModel.ALL_MINILM_L6_V2_Q, threads);
    }

    @Override
    public int dimension() {
        return which.dimension();
    }

    @Override
    public String modelName() {
        return which.modelName();
    }

    @Override
    public List<float[]> embedAll(List<String> texts) {
        return embedPrefixed(which.queryPrefix(), texts);
    }

    @Override
    public List<float[]> embedPassages(List<String> texts) {
        return embedPrefixed(which.passagePrefix(), texts);
    }

    private List<float[]> embedPrefixed(String prefix, List<String> texts) {
        if (texts.isEmpty()) {
            return List.of();
        }
        List<TextSegment> segments = new ArrayList<>(texts.size());
        for (String t : texts) {
            segments.add(TextSegment.from(prefix + t));
        }
        List<Embedding> embeddings = model.embedAll(segments).content();
        List<float[]> out = new ArrayList<>(embeddings.size());
        for (Embedding e : embeddings) {
            out.add(e.vector());
        }
        return out;
    }

    @Override
    public float[] embed(String text) {
        return model.embed(which.queryPrefix() + text).content().vector();
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
