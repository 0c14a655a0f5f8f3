package dev.offload.gateway.retrieval;

import io.github.jbellis.jvector.disk.ByteBufferReader;
import io.github.jbellis.jvector.graph.GraphIndexBuilder;
import io.github.jbellis.jvector.graph.GraphSearcher;
import io.github.jbellis.jvector.graph.ImmutableGraphIndex;
import io.github.jbellis.jvector.graph.NodesIterator;
import io.github.jbellis.jvector.graph.OnHeapGraphIndex;
import io.github.jbellis.jvector.graph.SearchResult;
import io.github.jbellis.jvector.graph.similarity.DefaultSearchScoreProvider;
import io.github.jbellis.jvector.graph.similarity.ScoreFunction;
import io.github.jbellis.jvector.util.Bits;
import io.github.jbellis.jvector.util.ThreadSafeGrowableBitSet;
import io.github.jbellis.jvector.vector.VectorSimilarityFunction;

import java.io.Closeable;
import java.io.DataOutput;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.stream.IntStream;

/**
 * JVector graph (DiskANN/Vamana-style, with HNSW-like hierarchy) over unit vectors, addressed by
 * stable ordinals. Similarity is cosine: vectors are normalised on the way in and scored with
 * the dot product, which is the same ranking and cheaper.
 *
 * <p>Threading: {@link #add} and {@link #markDeleted} may be called from one writer thread at a
 * time (the index's writer lock), concurrently with any number of {@link #search} callers.
 * {@link #compact} takes the exclusive lock, so it never overlaps inserts or searches (JVector's
 * node removal must not run concurrently with inserts). {@code GraphSearcher} is not
 * thread-safe, so searchers are pooled and each search borrows one.
 */
public final class VectorIndex implements Closeable {
    private final VectorStore vectors;
    private final VectorIndexOptions options;
    /** Replaced once, by {@link #restore}, before the index is used; never after. */
    private volatile GraphIndexBuilder builder;
    private final ThreadSafeGrowableBitSet deleted = new ThreadSafeGrowableBitSet(1024);
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final ConcurrentLinkedQueue<GraphSearcher> searchers = new ConcurrentLinkedQueue<>();
    /**
     * Ordinals inserted while deleted nodes were still in the graph, since the last compaction.
     * A re-ingested chunk's nearest neighbours are its own deleted copies (often the identical
     * vector); Vamana's diversity pruning then keeps few or no edges into the new node, which the
     * graph search can no longer reach. These ordinals are scored exactly on every search (the
     * FreshDiskANN idea: a small fresh set searched exhaustively beside the graph) until
     * compaction repairs the edges.
     */
    private final ThreadSafeGrowableBitSet fresh = new ThreadSafeGrowableBitSet(1024);
    private volatile int freshCount;
    private volatile int liveCount;
    private volatile int pendingDeletes;

    public VectorIndex(int dimension, VectorIndexOptions options) {
        this.vectors = new VectorStore(dimension);
        this.options = options;
        this.builder = new GraphIndexBuilder(vectors, VectorSimilarityFunction.DOT_PRODUCT,
                options.maxDegree(), options.beamWidth(), options.neighborOverflow(), options.alpha(), true);
    }

    /**
     * Opens a graph persisted by {@link #writeGraph} over the live vectors read back from
     * Lucene and the deleted-but-not-compacted ones its state kept, instead of rebuilding it.
     * Called before any search or insert.
     *
     * @throws IOException when the graph does not fit those vectors (a node without a vector, a
     *                     live vector without a node): the caller rebuilds
     */
    static VectorIndex restore(int dimension, VectorIndexOptions options, int[] ordinals, float[][] values,
                               GraphFiles.Persisted persisted) throws IOException {
        VectorIndex v = new VectorIndex(dimension, options);
        try {
            v.restoreLocked(ordinals, values, persisted);
            return v;
        } catch (IOException | RuntimeException | AssertionError e) {
            // AssertionError: JVector asserts the neighbour order while loading (with -ea).
            v.close();
            throw e instanceof IOException io ? io : new IOException(e.toString(), e);
        }
    }

    private void restoreLocked(int[] ordinals, float[][] values, GraphFiles.Persisted p) throws IOException {
        lock.writeLock().lock();
        try {
            for (int i = 0; i < ordinals.length; i++) {
                vectors.put(ordinals[i], normalise(values[i]));
            }
            for (int i = 0; i < p.deletedOrdinals().length; i++) {
                vectors.put(p.deletedOrdinals()[i], p.deletedVectors()[i]); // stored unit: not normalised twice
            }
            int expected = ordinals.length + p.deletedOrdinals().length;
            if (p.nodeCount() != expected) {
                throw new IOException("the graph has " + p.nodeCount() + " nodes, the index " + ordinals.length
                        + " live and " + p.deletedOrdinals().length + " deleted vectors");
            }
            if (expected == 0) {
                return;
            }
            loadGraph(p.graph());
            var graph = builder.getGraph();
            if (graph.size(0) != expected) {
                throw new IOException("the graph file holds " + graph.size(0) + " nodes, its state says " + expected);
            }
            for (NodesIterator it = graph.getNodes(0); it.hasNext(); ) {
                int node = it.nextInt();
                if (!vectors.contains(node)) {
                    throw new IOException("graph node " + node + " has no stored vector");
                }
            }
            for (int ord : ordinals) {
                if (!graph.containsNode(ord)) {
                    throw new IOException("stored vector " + ord + " has no graph node");
                }
            }
            for (int ord : p.deletedOrdinals()) {
                deleted.set(ord);
                builder.markNodeDeleted(ord);
            }
            for (int ord : p.freshOrdinals()) {
                if (vectors.contains(ord)) {
                    fresh.set(ord);
                }
            }
            freshCount = (int) java.util.stream.IntStream.of(p.freshOrdinals()).filter(vectors::contains).count();
            liveCount = ordinals.length;
            pendingDeletes = p.deletedOrdinals().length;
        } finally {
            lock.writeLock().unlock();
        }
    }

    /**
     * Loads the persisted graph into this index's builder. {@code GraphIndexBuilder.load}
     * recomputes every edge's score from the vectors (at 100k nodes × 32 edges most of a start's
     * time on Java 17, where JVector's dot product is scalar), so when the file's scores are the
     * ones its vectors give — checked on a sample of nodes — the graph is read with its
     * stored scores ({@code OnHeapGraphIndex.load}) and a builder made over it. A graph of one
     * layer goes through {@code GraphIndexBuilder.load}, which keeps the hierarchy on for later
     * inserts (a graph read on its own is hierarchical only when it has upper layers).
     */
    @SuppressWarnings("deprecation") // the on-heap format's readers; see writeGraph
    private void loadGraph(byte[] file) throws IOException {
        if (layerCount(file) > 1 && storedScoresFit(file, SCORE_CHECK_STRIDE)) {
            var provider = io.github.jbellis.jvector.graph.similarity.BuildScoreProvider
                    .randomAccessScoreProvider(vectors, VectorSimilarityFunction.DOT_PRODUCT);
            OnHeapGraphIndex graph = OnHeapGraphIndex.load(new ByteBufferReader(ByteBuffer.wrap(file)), vectors.dimension(),
                    options.neighborOverflow(), new io.github.jbellis.jvector.graph.diversity.VamanaDiversityProvider(provider, options.alpha()));
            GraphIndexBuilder old = builder;
            builder = new GraphIndexBuilder(provider, vectors.dimension(), graph, options.beamWidth(), options.neighborOverflow(),
                    options.alpha(), true, io.github.jbellis.jvector.util.PhysicalCoreExecutor.pool(), ForkJoinPool.commonPool());
            old.close();
            loadedWithStoredScores = true;
        } else {
            builder.load(new ByteBufferReader(ByteBuffer.wrap(file)));
        }
    }

    /**
     * How far a stored score may be from the recomputed one: a graph written by another JVM sums
     * the dot product in another order (JVector's SIMD path on Java 20+, scalar on 17), which
     * changes the last bits. Scores lie in [0, 1]; they steer only the pruning of later inserts,
     * never a search's ranking (searches score afresh).
     */
    static final float SCORE_TOLERANCE = 1e-5f;
    /** Every SCORE_CHECK_STRIDE-th node of each layer has its stored edge scores checked against its vectors. */
    static final int SCORE_CHECK_STRIDE = 50;
    private boolean loadedWithStoredScores;

    /** Whether the last restore read the graph with its stored scores (true) or recomputed them. */
    boolean loadedWithStoredScores() {
        return loadedWithStoredScores;
    }

    private static int layerCount(byte[] file) {
        return file.length < 12 ? 0 : ByteBuffer.wrap(file).getInt(8); // magic, version, layers
    }

    /**
     * Walks the file (format in {@link #writeGraph}) and recomputes the scores of every
     * {@code stride}-th node's edges in each layer from the stored vectors: all must match
     * within {@link #SCORE_TOLERANCE} (they were computed by the same function over the same
     * unit vectors). A node or
     * neighbour without a vector, or a file that ends early, fails the check.
     */
    boolean storedScoresFit(byte[] file, int stride) {
        ByteBuffer in = ByteBuffer.wrap(file);
        try {
            in.getInt();
            in.getInt();
            int layers = in.getInt();
            for (int l = 0; l < layers; l++) {
                in.getInt();
            }
            in.getInt(); // entry node
            for (int l = 0; l < layers; l++) {
                int size = in.getInt();
                for (int i = 0; i < size; i++) {
                    int node = in.getInt();
                    int n = in.getInt();
                    boolean check = i % stride == 0;
                    if (check && !vectors.contains(node)) {
                        return false;
                    }
                    for (int j = 0; j < n; j++) {
                        int neighbour = in.getInt();
                        float score = in.getFloat();
                        if (check) {
                            if (!vectors.contains(neighbour) || !(Math.abs(score - VectorSimilarityFunction.DOT_PRODUCT
                                    .compare(vectors.getVector(node), vectors.getVector(neighbour))) <= SCORE_TOLERANCE)) {
                                return false;
                            }
                        }
                    }
                }
            }
            return true;
        } catch (java.nio.BufferUnderflowException e) {
            return false;
        }
    }

    /**
     * Writes the graph in JVector's on-heap graph format, version 4: exactly what
     * {@code OnHeapGraphIndex.save} writes and {@code GraphIndexBuilder.load} reads (magic,
     * version, layer count, each layer's degree, entry node, then per layer its nodes with their
     * neighbours and scores). {@code save} itself refuses a graph that has not been through
     * {@code cleanup()}, and cleanup freezes the graph's view for good (later inserts would be
     * searched without JVector's snapshot isolation) and purges deleted nodes; so the same bytes
     * are written here from the graph's public accessors. JVector's other format,
     * {@code OnDiskGraphIndex}, is read-only: a graph opened from it cannot take inserts.
     *
     * <p>The caller holds the index's writer lock, so no insert or compaction runs meanwhile;
     * searches may.
     */
    void writeGraph(DataOutput out) throws IOException {
        OnHeapGraphIndex g = (OnHeapGraphIndex) builder.getGraph();
        var entry = g.entryNode();
        int layers = g.getMaxLevel() + 1;
        if (entry == null || layers == 0) {
            throw new IllegalStateException("an empty graph has nothing to write");
        }
        out.writeInt(OnHeapGraphIndex.MAGIC);
        out.writeInt(4);
        out.writeInt(layers);
        for (int level = 0; level < layers; level++) {
            out.writeInt(g.getDegree(level));
        }
        out.writeInt(entry.node);
        for (int level = 0; level < layers; level++) {
            out.writeInt(g.size(level));
            int lvl = level;
            var nodes = g.nodeStream(level).iterator();
            int[] scratch = new int[16];
            while (nodes.hasNext()) {
                int node = nodes.nextInt();
                int n = 0;
                for (NodesIterator it = g.getNeighborsIterator(lvl, node); it.hasNext(); ) {
                    if (n == scratch.length) {
                        scratch = java.util.Arrays.copyOf(scratch, n * 2);
                    }
                    scratch[n++] = it.nextInt();
                }
                out.writeInt(node);
                out.writeInt(n);
                var v = vectors.getVector(node);
                for (int i = 0; i < n; i++) {
                    out.writeInt(scratch[i]);
                    out.writeFloat(VectorSimilarityFunction.DOT_PRODUCT.compare(v, vectors.getVector(scratch[i])));
                }
            }
        }
    }

    /** Nodes in the graph: live ones and deleted ones not yet compacted away. */
    int graphNodeCount() {
        return builder.getGraph().size(0);
    }

    /** Ordinals deleted but still in the graph, ascending. */
    int[] deletedOrdinals() {
        return bitsToArray(deleted);
    }

    /** Ordinals scored exactly beside the graph, ascending. */
    int[] freshOrdinals() {
        return bitsToArray(fresh);
    }

    private int[] bitsToArray(ThreadSafeGrowableBitSet bits) {
        // A scan, not nextSetBit: that answers Integer.MAX_VALUE past the last set bit.
        java.util.stream.IntStream.Builder b = java.util.stream.IntStream.builder();
        for (int ord = 0, n = vectors.size(); ord < n; ord++) {
            if (bits.get(ord)) {
                b.add(ord);
            }
        }
        return b.build().toArray();
    }

    public int dimension() {
        return vectors.dimension();
    }

    /** Adds a vector at an ordinal that has not been used before. */
    public void add(int ordinal, float[] vector) {
        float[] unit = normalise(vector);
        lock.readLock().lock();
        try {
            vectors.put(ordinal, unit);
            builder.addGraphNode(ordinal, vectors.getVector(ordinal));
            if (pendingDeletes > 0) {
                fresh.set(ordinal);
                freshCount++;
            }
            liveCount++;
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * Stores many vectors and links them into the graph in parallel; used when the index is
     * rebuilt from stored vectors at start, before any search runs.
     */
    public void addAll(int[] ordinals, float[][] values) {
        lock.writeLock().lock();
        try {
            for (int i = 0; i < ordinals.length; i++) {
                vectors.put(ordinals[i], normalise(values[i]));
            }
            // A pool of our own: the common pool has parallelism cores-1 (1 on two cores), and
            // the calling thread does not reliably help, so the build would run on one core.
            ForkJoinPool pool = new ForkJoinPool(Runtime.getRuntime().availableProcessors());
            try {
                pool.submit(() -> IntStream.range(0, ordinals.length).parallel()
                        .forEach(i -> builder.addGraphNode(ordinals[i], vectors.getVector(ordinals[i])))).join();
            } finally {
                pool.shutdown();
            }
            liveCount += ordinals.length;
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Hides the ordinal from searches at once; the graph node is removed by {@link #compact}. */
    public void markDeleted(int ordinal) {
        if (!vectors.contains(ordinal) || deleted.get(ordinal)) {
            return;
        }
        lock.readLock().lock();
        try {
            deleted.set(ordinal);
            builder.markNodeDeleted(ordinal);
            liveCount--;
            pendingDeletes++;
        } finally {
            lock.readLock().unlock();
        }
    }

    public boolean isLive(int ordinal) {
        return vectors.contains(ordinal) && !deleted.get(ordinal);
    }

    public float[] vector(int ordinal) {
        var v = vectors.getVector(ordinal);
        if (v == null) {
            return null;
        }
        float[] out = new float[v.length()];
        for (int i = 0; i < out.length; i++) {
            out[i] = v.get(i);
        }
        return out;
    }

    /**
     * Approximate top-k by cosine among live ordinals accepted by {@code filter} (null: all).
     * The graph search keeps {@code max(k, ceil(k·overquery), rerankK)} candidates, all scored
     * exactly, and returns the best k.
     */
    public List<ScoredOrdinal> search(float[] query, int k, Bits filter) {
        float[] unit = normalise(query);
        lock.readLock().lock();
        GraphSearcher searcher = borrowSearcher();
        try {
            if (liveCount == 0) {
                return List.of();
            }
            Bits accept = filter == null ? this::isLive : ord -> isLive(ord) && filter.get(ord);
            var ssp = DefaultSearchScoreProvider.exact(VectorStore.toVector(unit), VectorSimilarityFunction.DOT_PRODUCT, vectors);
            int width = Math.max(k, (int) Math.ceil(k * options.overquery()));
            width = Math.max(width, options.rerankK());
            List<ScoredOrdinal> hits = cosines(searcher.search(ssp, k, width, 0.0f, 0.0f, accept));
            if (filter != null) {
                // The hierarchy's descent ignores the filter and may end among other tenants' nodes
                // (a block of near-duplicates), where the beam fills with the filter's nearest
                // boundary nodes and stops: ClusterIT case 7's disjoint top 10. A second search starts
                // inside the filter, near the query (Filtered-DiskANN's per-label start points,
                // Gollapudi et al., WWW 2023); the two are merged on their exact scores.
                ImmutableGraphIndex.View view = searcher.getView();
                int seed = startInside(unit, accept, view);
                if (seed >= 0) {
                    searcher.setView(new StartAt(view, seed));
                    hits = bestOf(hits, cosines(searcher.search(ssp, k, width, 0.0f, 0.0f, accept)), k);
                }
            }
            return freshCount == 0 ? hits : withFresh(hits, unit, k, accept);
        } finally {
            searchers.offer(searcher);
            lock.readLock().unlock();
        }
    }

    private static List<ScoredOrdinal> cosines(SearchResult result) {
        List<ScoredOrdinal> hits = new ArrayList<>(result.getNodes().length);
        for (SearchResult.NodeScore ns : result.getNodes()) {
            // JVector maps the dot product of unit vectors to (1 + cos) / 2; report cosine.
            hits.add(new ScoredOrdinal(ns.node, 2f * ns.score - 1f));
        }
        return hits;
    }

    /** The best k of two hit lists scored alike, without duplicates. */
    private static List<ScoredOrdinal> bestOf(List<ScoredOrdinal> a, List<ScoredOrdinal> b, int k) {
        java.util.Map<Integer, ScoredOrdinal> best = new java.util.HashMap<>();
        for (ScoredOrdinal h : a) {
            best.put(h.ordinal(), h);
        }
        for (ScoredOrdinal h : b) {
            best.putIfAbsent(h.ordinal(), h);
        }
        List<ScoredOrdinal> out = new ArrayList<>(best.values());
        out.sort(java.util.Comparator.comparingDouble(ScoredOrdinal::score).reversed());
        return out.size() > k ? new ArrayList<>(out.subList(0, k)) : out;
    }

    /** Ordinals probed for the start of a filtered search, spread evenly over the ordinal range. */
    private static final int START_PROBES = 128;

    /**
     * The accepted graph node nearest to the query among the first accepted one of each of
     * {@link #START_PROBES} equal stretches of the ordinal range; -1 when none is accepted.
     */
    private int startInside(float[] unit, Bits accept, ImmutableGraphIndex.View view) {
        var q = VectorStore.toVector(unit);
        int n = vectors.size();
        int stretch = Math.max(1, (n + START_PROBES - 1) / START_PROBES);
        int best = -1;
        float bestScore = Float.NEGATIVE_INFINITY;
        for (int from = 0; from < n; from += stretch) {
            for (int ord = from, end = Math.min(n, from + stretch); ord < end; ord++) {
                if (accept.get(ord) && view.contains(0, ord)) {
                    float s = io.github.jbellis.jvector.vector.VectorUtil.dotProduct(q, vectors.getVector(ord));
                    if (s > bestScore) {
                        bestScore = s;
                        best = ord;
                    }
                    break;
                }
            }
        }
        return best;
    }

    /** A graph view whose search starts at one node of the base layer instead of the hierarchy's entry. */
    private record StartAt(ImmutableGraphIndex.View view, int node) implements ImmutableGraphIndex.View {
        @Override
        public NodesIterator getNeighborsIterator(int level, int n) {
            return view.getNeighborsIterator(level, n);
        }

        @Override
        public void processNeighbors(int level, int n, ScoreFunction scoreFunction, ImmutableGraphIndex.IntMarker visited,
                                     ImmutableGraphIndex.NeighborProcessor neighborProcessor) {
            view.processNeighbors(level, n, scoreFunction, visited, neighborProcessor);
        }

        @Override
        @SuppressWarnings("deprecation")
        public int size() {
            return view.size();
        }

        @Override
        public ImmutableGraphIndex.NodeAtLevel entryNode() {
            return new ImmutableGraphIndex.NodeAtLevel(0, node);
        }

        @Override
        public Bits liveNodes() {
            return view.liveNodes();
        }

        @Override
        public int getIdUpperBound() {
            return view.getIdUpperBound();
        }

        @Override
        public boolean contains(int level, int n) {
            return view.contains(level, n);
        }

        @Override
        public void close() throws IOException {
            // the underlying view belongs to the searcher's next borrow; nothing to release here
        }
    }

    /** Merges the graph's hits with exact scores of the fresh ordinals; best k, no duplicates. */
    private List<ScoredOrdinal> withFresh(List<ScoredOrdinal> graphHits, float[] unit, int k, Bits accept) {
        var q = VectorStore.toVector(unit);
        java.util.Map<Integer, ScoredOrdinal> best = new java.util.HashMap<>();
        for (ScoredOrdinal h : graphHits) {
            best.put(h.ordinal(), h);
        }
        for (int ord = fresh.nextSetBit(0); ord >= 0; ord = ord + 1 < fresh.length() ? fresh.nextSetBit(ord + 1) : -1) {
            if (accept.get(ord) && !best.containsKey(ord)) {
                best.put(ord, new ScoredOrdinal(ord, io.github.jbellis.jvector.vector.VectorUtil.dotProduct(q, vectors.getVector(ord))));
            }
        }
        List<ScoredOrdinal> out = new ArrayList<>(best.values());
        out.sort(java.util.Comparator.comparingDouble(ScoredOrdinal::score).reversed());
        return out.size() > k ? new ArrayList<>(out.subList(0, k)) : out;
    }

    /**
     * After compaction most fresh nodes are linked again, but not all: a graph search for each
     * one's own vector decides whether it stays in the fresh set. Runs under the write lock.
     */
    private void keepUnreachableFresh() {
        if (freshCount == 0) {
            return;
        }
        GraphSearcher searcher = borrowSearcher();
        try {
            int kept = 0;
            for (int ord = fresh.nextSetBit(0); ord >= 0; ord = ord + 1 < fresh.length() ? fresh.nextSetBit(ord + 1) : -1) {
                boolean reachable = false;
                if (isLive(ord)) {
                    var ssp = DefaultSearchScoreProvider.exact(vectors.getVector(ord), VectorSimilarityFunction.DOT_PRODUCT, vectors);
                    for (SearchResult.NodeScore ns : searcher.search(ssp, options.rerankK(), this::isLive).getNodes()) {
                        if (ns.node == ord) {
                            reachable = true;
                            break;
                        }
                    }
                }
                if (reachable || !isLive(ord)) {
                    fresh.clear(ord);
                } else {
                    kept++;
                }
            }
            freshCount = kept;
        } finally {
            searchers.offer(searcher);
        }
    }

    /** Ordinals currently scored exactly beside the graph (see {@code fresh}). */
    public int freshCount() {
        return freshCount;
    }

    /** Exact top-k by brute force: the reference the ANN recall is measured against. */
    public List<ScoredOrdinal> exactSearch(float[] query, int k, Bits filter) {
        lock.readLock().lock(); // compaction clears vectors: never scan concurrently with it
        try {
            return exactSearchLocked(query, k, filter);
        } finally {
            lock.readLock().unlock();
        }
    }

    private List<ScoredOrdinal> exactSearchLocked(float[] query, int k, Bits filter) {
        float[] unit = normalise(query);
        var q = VectorStore.toVector(unit);
        java.util.PriorityQueue<ScoredOrdinal> heap = new java.util.PriorityQueue<>(
                java.util.Comparator.comparingDouble(ScoredOrdinal::score));
        for (int ord = 0; ord < vectors.size(); ord++) {
            if (!isLive(ord) || (filter != null && !filter.get(ord))) {
                continue;
            }
            float s = io.github.jbellis.jvector.vector.VectorUtil.dotProduct(q, vectors.getVector(ord));
            if (heap.size() < k) {
                heap.add(new ScoredOrdinal(ord, s));
            } else if (s > heap.peek().score()) {
                heap.poll();
                heap.add(new ScoredOrdinal(ord, s));
            }
        }
        List<ScoredOrdinal> out = new ArrayList<>(heap);
        out.sort(java.util.Comparator.comparingDouble(ScoredOrdinal::score).reversed());
        return out;
    }

    /**
     * Removes deleted nodes from the graph and repairs their neighbours' edges. Runs with the
     * exclusive lock: no insert or search overlaps it.
     *
     * @return the number of nodes removed
     */
    public int compact() {
        lock.writeLock().lock();
        try {
            if (pendingDeletes == 0) {
                return 0;
            }
            builder.removeDeletedNodes();
            int removed = 0;
            for (int ord = 0; ord < vectors.size(); ord++) {
                if (deleted.get(ord)) {
                    vectors.clear(ord);
                    removed++;
                }
            }
            deleted.clear();
            pendingDeletes = 0;
            keepUnreachableFresh();
            return removed;
        } finally {
            lock.writeLock().unlock();
        }
    }

    public int size() {
        return liveCount;
    }

    public int pendingDeletes() {
        return pendingDeletes;
    }

    private GraphSearcher borrowSearcher() {
        GraphSearcher s = searchers.poll();
        if (s == null) {
            s = new GraphSearcher(builder.getGraph());
        } else {
            s.setView(builder.getGraph().getView());
        }
        return s;
    }

    static float[] normalise(float[] v) {
        double norm = 0;
        for (float x : v) {
            norm += x * x;
        }
        if (norm == 0 || !Double.isFinite(norm)) {
            throw new IllegalArgumentException("vector must be finite and non-zero");
        }
        float inv = (float) (1.0 / Math.sqrt(norm));
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i] * inv;
        }
        return out;
    }

    @Override
    public void close() throws IOException {
        for (GraphSearcher s; (s = searchers.poll()) != null; ) {
            s.close();
        }
        builder.close();
    }
}
