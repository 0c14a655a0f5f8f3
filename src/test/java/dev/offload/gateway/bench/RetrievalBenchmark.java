package dev.offload.gateway.bench;

import dev.offload.gateway.retrieval.Fusion;
import dev.offload.gateway.retrieval.HybridIndex;
import dev.offload.gateway.retrieval.HybridRetriever;
import dev.offload.gateway.retrieval.IndexRecords.ChunkHit;
import dev.offload.gateway.retrieval.OnnxEmbedder;
import dev.offload.gateway.retrieval.EmbeddingModel;
import dev.offload.gateway.retrieval.RetrievalConfig;
import dev.offload.gateway.retrieval.SearchSettings;
import dev.offload.gateway.retrieval.ScoredOrdinal;
import dev.offload.gateway.retrieval.VectorIndex;
import dev.offload.gateway.retrieval.VectorIndexOptions;
import io.smallrye.config.SmallRyeConfigBuilder;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Single retrieval operations on a realistic index: the 5,000 MS MARCO passages of the BEIR
 * subset (about 5,000 chunks), chunked, embedded and indexed by the gateway's own classes as
 * {@link BeirEvaluation} does it. Query vectors are computed in the setup, so no benchmark here
 * includes query embedding (see {@link EmbeddingThroughput} for that cost). Every operation
 * takes the next of the 50 queries in turn. Settings are the gateway's defaults, read from
 * {@link RetrievalConfig}'s mapping and the default embedding model's fusion ({@link SearchSettings}): 100 candidates per retriever,
 * feedback weight 1.0, JVector M 32, graph search width {@code max(2·n, 100)} for n hits
 * (200 for the 100 candidates, 100 for a top 10).
 *
 * <ul>
 *   <li>{@code hybrid}: one hybrid search, top 10, as {@code HybridSearcher} runs it
 *   ({@link HybridRetriever}: BM25 top 100 ∥ dense top 100 → fusion top 5 → Rocchio feedback →
 *   second dense top 100 → fusion top 10);</li>
 *   <li>its parts: {@code sparseCandidates} and {@code denseCandidates} (top 100 each, hits with
 *   stored fields), {@code fuseConvex} (the default) and {@code fuseRrf} (weighted RRF k=60,
 *   0.3 : 0.7) over the real top-100 lists of each query, top 10;</li>
 *   <li>the single-retriever modes ({@code mode=sparse|dense}, top 10): {@code sparseTop10},
 *   {@code denseTop10};</li>
 *   <li>{@code graphOnly}: the JVector graph search of a dense search ({@link VectorIndex} over
 *   the same vectors, 100 hits), without the tenant filter bits and without resolving
 *   ordinals to chunks in Lucene.</li>
 * </ul>
 * The first run embeds the corpus (a few minutes on 2 cores) into {@code target/bench/}; later
 * runs reopen it (graph rebuilt from the stored vectors, nothing embedded).
 *
 * <pre>./mvnw -q test-compile exec:exec@jmh -Dbench.args="RetrievalBenchmark"</pre>
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "-Xmx2g")
public class RetrievalBenchmark {
    static final String TENANT = "bench";
    static final int K = 10;

    /** The index, the queries with their vectors and candidate lists, the gateway's settings. */
    @State(Scope.Benchmark)
    public static class Corpus {
        HybridIndex index;
        SearchSettings search;
        VectorIndexOptions graphOptions;
        HybridRetriever hybrid;
        Fusion convex;
        Fusion rrf;
        String[] queries;
        float[][] vectors;
        List<ChunkHit>[] sparse;
        List<ChunkHit>[] dense;

        @Setup(Level.Trial)
        @SuppressWarnings("unchecked")
        public void setUp() throws IOException {
            RetrievalConfig config = new SmallRyeConfigBuilder()
                    .withConverter(Duration.class, 100, new io.quarkus.runtime.configuration.DurationConverter())
                    .withMapping(RetrievalConfig.class).build().getConfigMapping(RetrievalConfig.class);
            search = SearchSettings.of(config);
            EmbeddingModel model = EmbeddingModel.byName(config.embedding().model());
            RetrievalConfig.Index c = config.index();
            graphOptions = new VectorIndexOptions(c.maxDegree(), c.beamWidth(), c.neighborOverflow(), c.alpha(),
                    c.overquery(), c.rerankK());

            Path dataset = BeirData.defaultDir();
            BeirData data = BeirData.load(dataset);
            Path dir = Path.of("target", "bench", dataset.getFileName() + "-index-" + model.modelName());
            index = HybridIndex.open(dir, 384, graphOptions);
            try (OnnxEmbedder embedder = new OnnxEmbedder(model, 0)) {
                long t0 = System.nanoTime();
                int written = data.ingestInto(index, TENANT, embedder);
                if (written >= 0) {
                    System.out.printf("%ningested %d chunks into %s in %.0f s%n", written, dir, (System.nanoTime() - t0) / 1e9);
                }
                queries = data.queries.values().toArray(new String[0]);
                vectors = new float[queries.length][];
                for (int i = 0; i < queries.length; i++) {
                    vectors[i] = embedder.embed(queries[i]);
                }
            }
            convex = new Fusion(Fusion.Method.CONVEX, search.rrfK(), search.sparseWeight(), search.denseWeight());
            rrf = new Fusion(Fusion.Method.RRF, search.rrfK(), search.sparseWeight(), search.denseWeight());
            hybrid = new HybridRetriever(index, new Fusion(search.fusion(), search.rrfK(), search.sparseWeight(),
                    search.denseWeight()), search.candidates(), search.feedbackDepth(), search.feedbackWeight());

            sparse = new List[queries.length];
            dense = new List[queries.length];
            double overlap = 0;
            int sparseSize = 0;
            for (int i = 0; i < queries.length; i++) {
                sparse[i] = index.sparse(TENANT, queries[i], Map.of(), search.candidates());
                dense[i] = index.dense(TENANT, vectors[i], Map.of(), search.candidates());
                Set<Integer> s = new HashSet<>();
                sparse[i].forEach(h -> s.add(h.ordinal()));
                overlap += dense[i].stream().filter(h -> s.contains(h.ordinal())).count();
                sparseSize += sparse[i].size();
            }
            var stats = index.stats(TENANT);
            System.out.printf("%nindex: %d documents, %d chunks, %d vectors; %d queries; candidate lists: "
                            + "%.1f BM25 + %d dense per query, %.1f in both (mean); fusion %s %.1f:%.1f, feedback %d/%.1f%n",
                    stats.documents(), stats.chunks(), stats.vectors(), queries.length,
                    (double) sparseSize / queries.length, search.candidates(), overlap / queries.length,
                    search.fusion(), search.sparseWeight(), search.denseWeight(), search.feedbackDepth(),
                    search.feedbackWeight());
        }

        @TearDown(Level.Trial)
        public void tearDown() throws IOException {
            index.close();
        }
    }

    /** The graph alone, rebuilt from the index's stored vectors. */
    @State(Scope.Benchmark)
    public static class Graph {
        VectorIndex graph;

        @Setup(Level.Trial)
        public void setUp(Corpus corpus) throws IOException {
            long n = corpus.index.stats(TENANT).vectors();
            List<Integer> ords = new ArrayList<>();
            List<float[]> vecs = new ArrayList<>();
            for (int ord = 0; ords.size() < n && ord < 10 * n + 1000; ord++) {
                float[] v = corpus.index.vectorOf(ord);
                if (v != null) {
                    ords.add(ord);
                    vecs.add(v);
                }
            }
            graph = new VectorIndex(384, corpus.graphOptions);
            graph.addAll(ords.stream().mapToInt(Integer::intValue).toArray(), vecs.toArray(new float[0][]));
        }

        @TearDown(Level.Trial)
        public void tearDown() throws IOException {
            graph.close();
        }
    }

    /** Which query comes next, per benchmark thread. */
    @State(Scope.Thread)
    public static class Cursor {
        int next;

        int next(int n) {
            int i = next;
            next = i + 1 == n ? 0 : i + 1;
            return i;
        }
    }

    @Benchmark
    public List<ChunkHit> hybrid(Corpus c, Cursor q) throws IOException {
        int i = q.next(c.queries.length);
        return c.hybrid.search(TENANT, c.queries[i], c.vectors[i], Map.of(), K, new HashMap<>());
    }

    @Benchmark
    public List<ChunkHit> sparseCandidates(Corpus c, Cursor q) throws IOException {
        int i = q.next(c.queries.length);
        return c.index.sparse(TENANT, c.queries[i], Map.of(), c.search.candidates());
    }

    @Benchmark
    public List<ChunkHit> denseCandidates(Corpus c, Cursor q) throws IOException {
        int i = q.next(c.queries.length);
        return c.index.dense(TENANT, c.vectors[i], Map.of(), c.search.candidates());
    }

    @Benchmark
    public List<ChunkHit> fuseConvex(Corpus c, Cursor q) {
        int i = q.next(c.queries.length);
        return c.convex.fuseHits(c.sparse[i], c.dense[i], K);
    }

    @Benchmark
    public List<ChunkHit> fuseRrf(Corpus c, Cursor q) {
        int i = q.next(c.queries.length);
        return c.rrf.fuseHits(c.sparse[i], c.dense[i], K);
    }

    @Benchmark
    public List<ChunkHit> sparseTop10(Corpus c, Cursor q) throws IOException {
        int i = q.next(c.queries.length);
        return c.index.sparse(TENANT, c.queries[i], Map.of(), K);
    }

    @Benchmark
    public List<ChunkHit> denseTop10(Corpus c, Cursor q) throws IOException {
        int i = q.next(c.queries.length);
        return c.index.dense(TENANT, c.vectors[i], Map.of(), K);
    }

    @Benchmark
    public List<ScoredOrdinal> graphOnly(Corpus c, Graph g, Cursor q) {
        int i = q.next(c.queries.length);
        return g.graph.search(c.vectors[i], c.search.candidates(), null);
    }
}
