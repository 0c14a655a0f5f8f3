package dev.offload.gateway.bench;

import dev.offload.gateway.retrieval.ScoredOrdinal;
import dev.offload.gateway.retrieval.VectorIndex;
import dev.offload.gateway.retrieval.VectorIndexOptions;
import io.github.jbellis.jvector.graph.GraphIndexBuilder;
import io.github.jbellis.jvector.graph.GraphSearcher;
import io.github.jbellis.jvector.graph.ImmutableGraphIndex;
import io.github.jbellis.jvector.graph.ListRandomAccessVectorValues;
import io.github.jbellis.jvector.graph.RandomAccessVectorValues;
import io.github.jbellis.jvector.graph.SearchResult;
import io.github.jbellis.jvector.graph.similarity.DefaultSearchScoreProvider;
import io.github.jbellis.jvector.util.Bits;
import io.github.jbellis.jvector.vector.VectorSimilarityFunction;
import io.github.jbellis.jvector.vector.VectorizationProvider;
import io.github.jbellis.jvector.vector.types.VectorFloat;
import io.github.jbellis.jvector.vector.types.VectorTypeSupport;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;

/**
 * ANN benchmark for {@link VectorIndex}: recall@10 against brute force and single-thread
 * queries/s, on synthetic embedding-like vectors. Plain main, not a test:
 *
 * <pre>
 * ./mvnw -q test-compile exec:exec@ann -Dbench.args="--n 100000"
 * ./mvnw -q test-compile exec:exec@ann -Dbench.java=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java -Dbench.args="--n 100000"
 * </pre>
 *
 * <p>Options (defaults in brackets): {@code --n} [100000] indexed vectors, {@code --queries}
 * [1000], {@code --dim} [384], {@code --runs} [5] timed repetitions (median reported),
 * {@code --seed} [42], {@code --clusters} [1000] mixture components, {@code --decay} [1.0]
 * exponent of the variance spectrum (0 = isotropic), {@code --widths} [10,20,40,60,100,150,200,300]
 * search widths for the sweep, {@code --builds} [M:beamWidth of the defaults] comma-separated
 * {@code M:beamWidth} graphs to build and measure, {@code --exact-queries} [all] queries used
 * to time exact search.
 *
 * <p>{@link VectorIndex#search} takes its search width from the options fixed at construction
 * ({@code max(k, ceil(k * overquery), rerankK)}), so the width sweep runs JVector's
 * {@link GraphSearcher} directly on the very graph and vector store the index built (read
 * reflectively; if that fails, on a second graph built with the same parameters). The headline
 * row is {@link VectorIndex#search} itself at the index's options.
 */
public final class AnnBenchmark {
    private static final int K = 10;
    private static final VectorTypeSupport VTS = VectorizationProvider.getInstance().getVectorTypeSupport();

    private AnnBenchmark() {
    }

    // ---------------------------------------------------------------- arguments

    private static final class Args {
        int n = 100_000;
        int queries = 1000;
        int dim = 384;
        int runs = 5;
        long seed = 42;
        int clusters = 1000;
        double decay = 1.0;
        double offset = 0.4;
        double noiseMin = 0.5;
        double noiseMax = 0.9;
        double zipf = 0.5;
        int exactQueries = -1;
        boolean cleanup = true;
        int[] widths = {10, 20, 40, 60, 100, 150, 200, 300};
        List<int[]> builds = new ArrayList<>();

        static Args parse(String[] argv) {
            Args a = new Args();
            for (int i = 0; i < argv.length; i++) {
                String key = argv[i];
                if (key.isBlank()) {
                    continue;
                }
                if (i + 1 >= argv.length) {
                    throw new IllegalArgumentException("missing value for " + key);
                }
                String v = argv[++i];
                switch (key) {
                    case "--n" -> a.n = Integer.parseInt(v);
                    case "--queries" -> a.queries = Integer.parseInt(v);
                    case "--dim" -> a.dim = Integer.parseInt(v);
                    case "--runs" -> a.runs = Integer.parseInt(v);
                    case "--seed" -> a.seed = Long.parseLong(v);
                    case "--clusters" -> a.clusters = Integer.parseInt(v);
                    case "--decay" -> a.decay = Double.parseDouble(v);
                    case "--offset" -> a.offset = Double.parseDouble(v);
                    case "--noise-min" -> a.noiseMin = Double.parseDouble(v);
                    case "--noise-max" -> a.noiseMax = Double.parseDouble(v);
                    case "--zipf" -> a.zipf = Double.parseDouble(v);
                    case "--exact-queries" -> a.exactQueries = Integer.parseInt(v);
                    case "--cleanup" -> a.cleanup = Boolean.parseBoolean(v);
                    case "--widths" -> a.widths = Arrays.stream(v.split(",")).mapToInt(Integer::parseInt).toArray();
                    case "--builds" -> {
                        for (String b : v.split(",")) {
                            String[] mb = b.split(":");
                            a.builds.add(new int[] {Integer.parseInt(mb[0]), Integer.parseInt(mb[1])});
                        }
                    }
                    default -> throw new IllegalArgumentException("unknown option " + key
                            + " (known: --n --queries --dim --runs --seed --clusters --decay --offset"
                            + " --noise-min --noise-max --zipf --exact-queries --widths --builds --cleanup)");
                }
            }
            if (a.builds.isEmpty()) {
                VectorIndexOptions d = VectorIndexOptions.defaults();
                a.builds.add(new int[] {d.maxDegree(), d.beamWidth()});
            }
            if (a.exactQueries <= 0 || a.exactQueries > a.queries) {
                a.exactQueries = a.queries;
            }
            if (a.n < K || a.queries < 1 || a.dim < 2 || a.runs < 1 || a.clusters < 1) {
                throw new IllegalArgumentException("need n >= " + K + ", queries >= 1, dim >= 2, runs >= 1, clusters >= 1");
            }
            return a;
        }
    }

    // ---------------------------------------------------------------- data

    /**
     * Embedding-like synthetic data: a Gaussian mixture with uneven cluster sizes and a decaying
     * variance spectrum, plus a shared offset (the anisotropy real sentence embeddings show),
     * normalised to unit length.
     */
    private static final class Generator {
        final Random rnd;
        final int dim;
        final double[] scale;      // per-dimension std-dev, sum of variances = 1
        final float[] offset;      // shared direction, |offset| = args.offset
        final float[][] centres;   // E|c|^2 = 1
        final double[] sigma;      // per-cluster noise scale
        final double[] cumulative; // cluster popularity (Zipf)
        final double participationRatio;

        Generator(Args a) {
            rnd = new Random(a.seed);
            dim = a.dim;
            double[] var = new double[dim];
            double sum = 0;
            for (int i = 0; i < dim; i++) {
                var[i] = Math.pow(i + 1, -a.decay);
                sum += var[i];
            }
            double sumSq = 0;
            scale = new double[dim];
            for (int i = 0; i < dim; i++) {
                var[i] /= sum;
                sumSq += var[i] * var[i];
                scale[i] = Math.sqrt(var[i]);
            }
            participationRatio = 1.0 / sumSq;
            float[] m = gaussian();
            double norm = norm(m);
            offset = new float[dim];
            for (int i = 0; i < dim; i++) {
                offset[i] = (float) (m[i] / norm * a.offset);
            }
            centres = new float[a.clusters][];
            sigma = new double[a.clusters];
            cumulative = new double[a.clusters];
            double acc = 0;
            for (int c = 0; c < a.clusters; c++) {
                centres[c] = gaussian();
                sigma[c] = a.noiseMin + (a.noiseMax - a.noiseMin) * rnd.nextDouble();
                acc += Math.pow(c + 1, -a.zipf);
                cumulative[c] = acc;
            }
            for (int c = 0; c < a.clusters; c++) {
                cumulative[c] /= acc;
            }
        }

        /** N(0, diag(scale^2)). */
        float[] gaussian() {
            float[] v = new float[dim];
            for (int i = 0; i < dim; i++) {
                v[i] = (float) (rnd.nextGaussian() * scale[i]);
            }
            return v;
        }

        float[] next() {
            int idx = Arrays.binarySearch(cumulative, rnd.nextDouble());
            int c = Math.min(idx >= 0 ? idx : -idx - 1, centres.length - 1);
            float[] centre = centres[c];
            float s = (float) sigma[c];
            float[] v = new float[dim];
            for (int i = 0; i < dim; i++) {
                v[i] = offset[i] + centre[i] + s * (float) (rnd.nextGaussian() * scale[i]);
            }
            float inv = (float) (1.0 / norm(v));
            for (int i = 0; i < dim; i++) {
                v[i] *= inv;
            }
            return v;
        }

        float[][] next(int count) {
            float[][] out = new float[count][];
            for (int i = 0; i < count; i++) {
                out[i] = next();
            }
            return out;
        }

        static double norm(float[] v) {
            double s = 0;
            for (float x : v) {
                s += (double) x * x;
            }
            return Math.sqrt(s);
        }
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (double) a[i] * b[i];
        }
        return s;
    }

    // ---------------------------------------------------------------- measurement

    /** One top-k search; implementations record visited nodes in {@link #visited}. */
    private abstract static class Search {
        long visited;

        abstract int[] topK(int query);
    }

    /** A search method under test, with the queries it runs and the truth it is scored against. */
    private record Setting(String method, String width, Search search, int queries, int warmupQueries, int[][] truth) {
    }

    private record Measurement(String method, String width, double recall, double medianQps, double minQps,
                               double maxQps, double medianCpuQps, double visitedPerQuery) {
    }

    private static final java.lang.management.ThreadMXBean THREADS = java.lang.management.ManagementFactory.getThreadMXBean();

    /**
     * Warms every setting up, then runs {@code runs} rounds; each round times one pass of every
     * setting in turn (interleaved, so load from other processes hits all settings alike). Both
     * wall-clock and this thread's CPU time are recorded: CPU time leaves out the time the thread
     * was descheduled by other load on the machine.
     */
    private static List<Measurement> measure(List<Setting> settings, int runs, PrintStream log) {
        for (Setting s : settings) {
            log.printf("# warm-up %s %s...%n", s.method(), s.width());
            for (int q = 0; q < s.warmupQueries(); q++) {
                s.search().topK(q % s.queries());
            }
            s.search().visited = 0;
        }
        int m = settings.size();
        double[][] wall = new double[m][runs];
        double[][] cpu = new double[m][runs];
        int[][][] results = new int[m][][];
        for (int r = 0; r < runs; r++) {
            log.printf("# round %d/%d%n", r + 1, runs);
            for (int i = 0; i < m; i++) {
                Setting s = settings.get(i);
                int[][] res = new int[s.queries()][];
                long c0 = THREADS.getCurrentThreadCpuTime();
                long t0 = System.nanoTime();
                for (int q = 0; q < s.queries(); q++) {
                    res[q] = s.search().topK(q);
                }
                long t1 = System.nanoTime();
                long c1 = THREADS.getCurrentThreadCpuTime();
                wall[i][r] = s.queries() / ((t1 - t0) / 1e9);
                cpu[i][r] = s.queries() / (Math.max(1, c1 - c0) / 1e9);
                results[i] = res;
            }
        }
        List<Measurement> out = new ArrayList<>();
        for (int i = 0; i < m; i++) {
            Setting s = settings.get(i);
            double[] w = wall[i].clone();
            double[] c = cpu[i].clone();
            Arrays.sort(w);
            Arrays.sort(c);
            out.add(new Measurement(s.method(), s.width(), recall(results[i], s.truth()), median(w), w[0], w[runs - 1],
                    median(c), s.search().visited / (double) runs / s.queries()));
        }
        return out;
    }

    private static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /** Mean over queries of |ANN top-k ∩ exact top-k| / k. */
    private static double recall(int[][] results, int[][] truth) {
        double sum = 0;
        for (int q = 0; q < truth.length; q++) {
            int hits = 0;
            for (int t : truth[q]) {
                for (int r : results[q]) {
                    if (r == t) {
                        hits++;
                        break;
                    }
                }
            }
            sum += hits / (double) truth[q].length;
        }
        return sum / truth.length;
    }

    private static int[] ordinals(List<ScoredOrdinal> hits) {
        int[] out = new int[hits.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = hits.get(i).ordinal();
        }
        return out;
    }

    // ---------------------------------------------------------------- sweep plumbing

    private record Graph(ImmutableGraphIndex graph, RandomAccessVectorValues vectors, String source,
                         GraphIndexBuilder builder, AutoCloseable owned) {
    }

    /** The graph and vector store inside the index, or a second graph with the same parameters. */
    private static Graph graphOf(VectorIndex index, VectorIndexOptions opts, float[][] base, PrintStream log) {
        try {
            Field b = VectorIndex.class.getDeclaredField("builder");
            Field v = VectorIndex.class.getDeclaredField("vectors");
            b.setAccessible(true);
            v.setAccessible(true);
            GraphIndexBuilder builder = (GraphIndexBuilder) b.get(index);
            RandomAccessVectorValues vectors = (RandomAccessVectorValues) v.get(index);
            return new Graph(builder.getGraph(), vectors, "the VectorIndex's own graph (read reflectively)", builder, null);
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.println("# cannot read VectorIndex internals (" + e + "); building a second graph for the sweep");
        }
        List<VectorFloat<?>> list = new ArrayList<>(base.length);
        for (float[] x : base) {
            list.add(VTS.createFloatVector(x.clone()));
        }
        var ravv = new ListRandomAccessVectorValues(list, base[0].length);
        var builder = new GraphIndexBuilder(ravv, VectorSimilarityFunction.DOT_PRODUCT, opts.maxDegree(),
                opts.beamWidth(), opts.neighborOverflow(), opts.alpha(), true);
        ForkJoinPool.commonPool().submit(() -> IntStream.range(0, base.length).parallel()
                .forEach(i -> builder.addGraphNode(i, ravv.getVector(i)))).join();
        return new Graph(builder.getGraph(), ravv, "a second JVector graph with the same parameters", null, builder::close);
    }

    // ---------------------------------------------------------------- main

    public static void main(String[] argv) throws Exception {
        Locale.setDefault(Locale.ROOT);
        Args a = Args.parse(argv);
        // Dry run on tiny data first, silently: every class the benchmark touches is loaded before
        // the long run starts, so a concurrent rebuild of target/ cannot break it half-way.
        Args tiny = Args.parse(new String[] {"--n", "300", "--queries", "4", "--dim", String.valueOf(a.dim),
                "--runs", "1", "--clusters", "10", "--widths", "10"});
        PrintStream sink = new PrintStream(OutputStream.nullOutputStream());
        run(tiny, sink, sink);
        run(a, System.out, System.err);
    }

    private static void run(Args a, PrintStream out, PrintStream log) throws Exception {
        VectorIndexOptions defaults = VectorIndexOptions.defaults();

        out.printf("# AnnBenchmark: JDK %s (%s), availableProcessors=%d, CPU=%s, vectorization=%s%n",
                System.getProperty("java.version"), System.getProperty("java.vm.name"),
                Runtime.getRuntime().availableProcessors(), cpuModel(),
                VectorizationProvider.getInstance().getClass().getSimpleName());
        out.printf("# N=%d, dim=%d, queries=%d, k=%d, runs=%d (median QPS), seed=%d, maxHeap=%dMB, loadavg at start: %s%n",
                a.n, a.dim, a.queries, K, a.runs, a.seed, Runtime.getRuntime().maxMemory() >> 20, loadAverage());

        // ---- data
        long t0 = System.nanoTime();
        Generator gen = new Generator(a);
        float[][] base = gen.next(a.n);
        float[][] queries = gen.next(a.queries);
        out.printf("# data: Gaussian mixture, %d centres c_j ~ N(0, diag(l)), l_i ∝ (i+1)^-%.2f normalised to trace 1"
                        + " (participation ratio %.1f of %d dims); cluster sizes Zipf(s=%.2f); x = normalise(m + c_j + s_j*e),"
                        + " e ~ N(0, diag(l)), s_j ~ U(%.2f, %.2f) per cluster, m a fixed shared direction with |m| = %.2f;"
                        + " queries drawn the same way after the %d indexed points (java.util.Random seed %d); generated in %.1f s%n",
                a.clusters, a.decay, gen.participationRatio, a.dim, a.zipf, a.noiseMin, a.noiseMax, a.offset,
                a.n, a.seed, (System.nanoTime() - t0) / 1e9);
        Random pairs = new Random(a.seed + 1);
        double pairCos = 0;
        int pairCount = 5000;
        for (int i = 0; i < pairCount; i++) {
            pairCos += dot(base[pairs.nextInt(a.n)], base[pairs.nextInt(a.n)]);
        }
        pairCos /= pairCount;

        int[][] truth = null;
        List<Measurement> exactRows = null;

        for (int[] build : a.builds) {
            VectorIndexOptions opts = new VectorIndexOptions(build[0], build[1], defaults.neighborOverflow(),
                    defaults.alpha(), defaults.overquery(), defaults.rerankK());
            int[] ords = IntStream.range(0, a.n).toArray();
            System.gc();
            VectorIndex index = new VectorIndex(a.dim, opts);
            log.printf("# building M=%d beamWidth=%d over %d vectors...%n", opts.maxDegree(), opts.beamWidth(), a.n);
            long cpu0 = processCpuNanos();
            long mainCpu0 = THREADS.getCurrentThreadCpuTime();
            t0 = System.nanoTime();
            index.addAll(ords, base);
            double buildSec = (System.nanoTime() - t0) / 1e9;
            double buildCpuSec = (processCpuNanos() - cpu0) / 1e9;
            double mainCpuSec = (THREADS.getCurrentThreadCpuTime() - mainCpu0) / 1e9;
            log.printf("# built in %.1f s (process CPU %.1f s, calling thread CPU %.1f s)%n", buildSec, buildCpuSec, mainCpuSec);
            Graph g = graphOf(index, opts, base, log);
            VectorFloat<?>[] qv = new VectorFloat<?>[a.queries];
            for (int q = 0; q < a.queries; q++) {
                qv[q] = VTS.createFloatVector(queries[q].clone());
            }

            List<Setting> settings = new ArrayList<>();
            // ---- ground truth, and the brute-force baselines (data-only: measured with the first build)
            if (truth == null) {
                log.println("# ground truth (exactSearch, parallel)...");
                t0 = System.nanoTime();
                List<List<ScoredOrdinal>> gt = IntStream.range(0, a.queries).parallel()
                        .mapToObj(q -> index.exactSearch(queries[q], K, null)).toList();
                truth = new int[a.queries][];
                double top1 = 0;
                double top10 = 0;
                for (int q = 0; q < a.queries; q++) {
                    truth[q] = ordinals(gt.get(q));
                    top1 += gt.get(q).get(0).score();
                    top10 += gt.get(q).get(gt.get(q).size() - 1).score();
                }
                out.printf("# data shape: mean cosine of random pairs %.3f; mean cosine of query to its nearest %.3f"
                                + " and 10th-nearest %.3f (ground truth by exactSearch in %.1f s, all threads)%n",
                        pairCos, top1 / a.queries, top10 / a.queries, (System.nanoTime() - t0) / 1e9);
                int eq = a.exactQueries;
                int[][] eqTruth = Arrays.copyOf(truth, eq);
                settings.add(new Setting("exactSearch (VectorIndex brute force)", "all " + a.n, new Search() {
                    @Override
                    int[] topK(int q) {
                        return ordinals(index.exactSearch(queries[q], K, null));
                    }
                }, eq, Math.min(eq, 50), eqTruth));
                RandomAccessVectorValues vectors = g.vectors();
                int n = a.n;
                settings.add(new Setting("reference: raw brute-force loop (no liveness checks)", "all " + a.n, new Search() {
                    @Override
                    int[] topK(int q) {
                        return rawTopK(qv[q], vectors, n);
                    }
                }, eq, Math.min(eq, 50), eqTruth));
            }

            // ---- headline: VectorIndex.search at the index's options, then the width sweep on the same graph
            addAnnSettings(settings, a, index, opts, g, queries, qv, truth);
            List<Measurement> rows = measure(settings, a.runs, log);
            if (exactRows == null) {
                exactRows = new ArrayList<>(rows.subList(0, 2));
                rows = rows.subList(2, rows.size());
            }
            String buildLine = String.format("build (addAll) %.1f s, %.0f vectors/s; process CPU %.1f s = %.2f cores busy"
                            + " (commonPool parallelism %d, calling thread CPU %.1f s)",
                    buildSec, a.n / buildSec, buildCpuSec, buildCpuSec / buildSec,
                    ForkJoinPool.commonPool().getParallelism(), mainCpuSec);
            printTable(a, opts, g, exactRows, rows, "as built by VectorIndex.addAll", buildLine, "", out);

            if (a.cleanup && g.builder() != null) {
                // What JVector's own GraphIndexBuilder.build() does after its parallel inserts and
                // VectorIndex.addAll does not: refine level-1 links and prune overflowed neighbour lists.
                log.println("# GraphIndexBuilder.cleanup()...");
                t0 = System.nanoTime();
                g.builder().cleanup();
                double cleanupSec = (System.nanoTime() - t0) / 1e9;
                List<Setting> after = new ArrayList<>();
                addAnnSettings(after, a, index, opts, g, queries, qv, truth);
                printTable(a, opts, g, exactRows, measure(after, a.runs, log),
                        "same index after GraphIndexBuilder.cleanup() (called reflectively; VectorIndex never calls it)",
                        String.format("cleanup() took %.1f s", cleanupSec),
                        " (brute-force rows repeated from the table above)", out);
            }
            if (g.owned() != null) {
                g.owned().close();
            }
            index.close();
        }
    }

    private static void addAnnSettings(List<Setting> settings, Args a, VectorIndex index, VectorIndexOptions opts,
                                       Graph g, float[][] queries, VectorFloat<?>[] qv, int[][] truth) {
        int headlineWidth = Math.max(Math.max(K, (int) Math.ceil(K * opts.overquery())), opts.rerankK());
        settings.add(new Setting("**VectorIndex.search** (rerankK=" + opts.rerankK() + ", overquery=" + opts.overquery() + ")",
                String.valueOf(headlineWidth), new Search() {
            @Override
            int[] topK(int q) {
                return ordinals(index.search(queries[q], K, null));
            }
        }, a.queries, a.queries, truth));
        Bits live = index::isLive;
        for (int width : a.widths) {
            if (width < K) {
                continue;
            }
            GraphSearcher searcher = new GraphSearcher(g.graph());
            settings.add(new Setting("GraphSearcher", String.valueOf(width), new Search() {
                @Override
                int[] topK(int q) {
                    var ssp = DefaultSearchScoreProvider.exact(qv[q], VectorSimilarityFunction.DOT_PRODUCT, g.vectors());
                    SearchResult r = searcher.search(ssp, K, width, 0f, 0f, live);
                    visited += r.getVisitedCount();
                    SearchResult.NodeScore[] nodes = r.getNodes();
                    int[] res = new int[nodes.length];
                    for (int i = 0; i < res.length; i++) {
                        res[i] = nodes[i].node;
                    }
                    return res;
                }
            }, a.queries, a.queries, truth));
        }
    }

    /** Top-k by a plain loop over the stored vectors, the cheapest exact search there is. */
    private static int[] rawTopK(VectorFloat<?> q, RandomAccessVectorValues vectors, int n) {
        float[] best = new float[K];
        int[] ids = new int[K];
        Arrays.fill(best, Float.NEGATIVE_INFINITY);
        Arrays.fill(ids, -1);
        for (int ord = 0; ord < n; ord++) {
            float s = io.github.jbellis.jvector.vector.VectorUtil.dotProduct(q, vectors.getVector(ord));
            if (s > best[K - 1]) {
                int i = K - 1;
                while (i > 0 && best[i - 1] < s) {
                    best[i] = best[i - 1];
                    ids[i] = ids[i - 1];
                    i--;
                }
                best[i] = s;
                ids[i] = ord;
            }
        }
        return ids;
    }

    private static void printTable(Args a, VectorIndexOptions opts, Graph g, List<Measurement> exactRows,
                                   List<Measurement> annRows, String title, String buildLine, String note,
                                   PrintStream out) {
        Measurement exact = exactRows.get(0);
        Measurement raw = exactRows.get(1);
        ImmutableGraphIndex graph = g.graph();
        long degreeSum = 0;
        int maxDegree = 0;
        int over = 0;
        int nodes = 0;
        var view = graph.getView();
        for (var it = graph.getNodes(0); it.hasNext(); ) {
            int node = it.nextInt();
            int d = view.getNeighborsIterator(0, node).size();
            degreeSum += d;
            maxDegree = Math.max(maxDegree, d);
            if (d > opts.maxDegree()) {
                over++;
            }
            nodes++;
        }

        StringBuilder sb = new StringBuilder();
        sb.append(String.format("%n### M (maxDegree)=%d, beamWidth=%d, neighborOverflow=%.1f, alpha=%.1f, hierarchy=on — %s%n",
                opts.maxDegree(), opts.beamWidth(), opts.neighborOverflow(), opts.alpha(), title));
        sb.append(buildLine).append(String.format(". Layer 0: %d nodes, mean degree %.1f, max %d, %d nodes above M; %d levels.%n",
                nodes, nodes == 0 ? 0.0 : degreeSum / (double) nodes, maxDegree, over, graph.getMaxLevel() + 1));
        sb.append(String.format("Width sweep runs on %s. Single thread; %d interleaved rounds, one pass of %d queries per"
                        + " setting per round (brute force: %d queries), after warm-up. QPS wall = median wall-clock"
                        + " throughput (min–max); QPS cpu = median throughput per second of this thread's CPU time"
                        + " (robust to other load on the machine)%s.%n%n",
                g.source(), a.runs, a.queries, a.exactQueries, note));
        sb.append("| search | width | recall@10 | QPS wall (min–max) | QPS cpu | ratio wall | ratio cpu | visited/query |\n");
        sb.append("|---|---:|---:|---:|---:|---:|---:|---:|\n");
        List<Measurement> rows = new ArrayList<>(exactRows);
        rows.addAll(annRows);
        for (Measurement m : rows) {
            boolean brute = exactRows.contains(m);
            sb.append(String.format("| %s | %s | %.4f | %.1f (%.1f–%.1f) | %.1f | %.1f | %.1f | %s |%n",
                    m.method(), m.width(), m.recall(), m.medianQps(), m.minQps(), m.maxQps(), m.medianCpuQps(),
                    m.medianQps() / exact.medianQps(), m.medianCpuQps() / exact.medianCpuQps(),
                    brute ? String.valueOf(a.n) : m.visitedPerQuery() > 0 ? String.format("%.0f", m.visitedPerQuery()) : "–"));
        }
        sb.append(String.format("%nratio = QPS / QPS of exactSearch. loadavg at end: %s (other processes share the %d CPUs).%n",
                loadAverage(), Runtime.getRuntime().availableProcessors()));
        Measurement head = annRows.get(0);
        sb.append(String.format("Headline VectorIndex.search at these options: recall@10 %.4f at %.1fx (wall) / %.1fx (cpu)"
                        + " the exactSearch throughput, %.1fx (wall) / %.1fx (cpu) the raw loop -> target (>= 0.95 at >= 10x exactSearch) %s%n",
                head.recall(), head.medianQps() / exact.medianQps(), head.medianCpuQps() / exact.medianCpuQps(),
                head.medianQps() / raw.medianQps(), head.medianCpuQps() / raw.medianCpuQps(),
                head.recall() >= 0.95 && Math.min(head.medianQps() / exact.medianQps(),
                        head.medianCpuQps() / exact.medianCpuQps()) >= 10 ? "MET" : "MISSED"));
        Measurement best = null;
        for (Measurement m : annRows) {
            if (m.recall() >= 0.95 && m.medianCpuQps() >= 10 * exact.medianCpuQps() && m.medianQps() >= 10 * exact.medianQps()
                    && (best == null || m.medianCpuQps() > best.medianCpuQps())) {
                best = m;
            }
        }
        sb.append(String.format("Fastest row (by cpu QPS) meeting the target on both bases: %s%n", best == null ? "none"
                : best.method() + " width " + best.width()
                + String.format(" (recall %.4f, %.1fx cpu)", best.recall(), best.medianCpuQps() / exact.medianCpuQps())));
        out.print(sb);
        out.flush();
    }

    private static long processCpuNanos() {
        var os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        return os instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getProcessCpuTime() : 0L;
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    private static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux or not readable
        }
        return "unknown";
    }
}
