package dev.offload.gateway.retrieval;

import dev.offload.gateway.retrieval.IndexRecords.ChunkHit;
import dev.offload.gateway.retrieval.IndexRecords.IndexStats;
import dev.offload.gateway.retrieval.IndexRecords.PreparedDocument;
import dev.offload.gateway.retrieval.IndexRecords.SnapshotInfo;
import dev.offload.gateway.retrieval.IndexRecords.StoredDocument;
import dev.offload.gateway.retrieval.IndexRecords.WriteResult;
import dev.offload.gateway.retrieval.WriteAheadLog.Batch;
import dev.offload.gateway.retrieval.WriteAheadLog.ChunkRecord;
import dev.offload.gateway.retrieval.WriteAheadLog.Delete;
import dev.offload.gateway.retrieval.WriteAheadLog.Operation;
import dev.offload.gateway.retrieval.WriteAheadLog.Upsert;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
import org.apache.lucene.document.BinaryDocValuesField;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.IntPoint;
import org.apache.lucene.document.NumericDocValuesField;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.document.TextField;
import org.apache.lucene.index.BinaryDocValues;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexCommit;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.KeepOnlyLastCommitDeletionPolicy;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.NumericDocValues;
import org.apache.lucene.index.SnapshotDeletionPolicy;
import org.apache.lucene.index.StoredFields;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.DocIdSetIterator;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.ScoreMode;
import org.apache.lucene.search.Scorer;
import org.apache.lucene.search.SearcherManager;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.search.Weight;
import org.apache.lucene.search.similarities.BM25Similarity;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.util.Bits;
import org.apache.lucene.util.BytesRef;
import org.jboss.logging.Logger;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;

/**
 * The shared index: Lucene (BM25 over English-analysed text, metadata as exact-match fields,
 * stored chunk text and vectors) beside a JVector graph over the same chunks, joined by a
 * stable chunk ordinal. Documents and chunks are scoped to a tenant.
 *
 * <p>Write path: assign ordinals → append to the {@link WriteAheadLog} and force it → apply to
 * Lucene (one atomic {@code updateDocuments} per document: upsert) and JVector → refresh the
 * near-real-time reader → return. Only then is the write acknowledged, and it is visible to the
 * next search. Lucene is committed in the background, each commit with the vector graph as it
 * stands ({@link GraphFiles}); a restart opens that graph over the committed chunks' stored
 * vectors (rebuilding it from them only when it is missing or damaged) and replays the log past
 * the commit, never re-embedding.
 *
 * <p>Threading: writes, commits and compaction are serialised by one writer lock; searches and
 * reads run concurrently on any thread, without locks on the Lucene side.
 */
public final class HybridIndex implements Closeable {
    private static final Logger LOG = Logger.getLogger(HybridIndex.class);
    private static final String F_KEY = "key";
    private static final String F_TYPE = "type";
    private static final String F_TENANT = "tenant";
    private static final String F_DOC_ID = "docId";
    private static final String F_CHUNK_ID = "chunkId";
    private static final String F_ORD = "ord";
    private static final String F_TITLE = "title";
    private static final String F_TEXT = "text";
    private static final String F_BODY = "body";
    private static final String F_META = "meta";
    private static final String F_VECTOR = "vec";
    /**
     * The chunk vector again, as binary doc values: read column-wise at start (no decompression of
     * the chunk text beside it). Chunks written before it existed have only the stored field.
     */
    private static final String F_VECTOR_DV = "vecdv";
    private static final String F_SEQ = "seq";
    private static final String F_UPDATED = "updated";
    private static final String F_CHUNKS = "chunks";
    private static final String META_PREFIX = "m.";
    private static final String TYPE_DOC = "doc";
    private static final String TYPE_CHUNK = "chunk";
    private static final char META_SEP = '\u001f';
    private static final int MAX_QUERY_TERMS = 256;

    private final Path dir;
    private final Directory luceneDir;
    private final Analyzer analyzer = new EnglishAnalyzer();
    private final IndexWriter writer;
    private final SnapshotDeletionPolicy snapshots;
    private final SearcherManager searchers;
    private final int dimension;
    private final VectorIndexOptions options;
    /** Set once by {@link #recover} (a restored or a rebuilt graph) before the index is published. */
    private VectorIndex vectors;
    private final GraphFiles graphs;
    private final WriteAheadLog wal;
    private final ReentrantLock writeLock = new ReentrantLock();
    /** Per-tenant accepted ordinals for unfiltered dense searches, valid for one write generation. */
    private final Map<String, CachedOrdinals> tenantOrdinals = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile long writeGeneration;
    /** Written under the writer lock; volatile so {@link #lastSequence()} reads it without the lock. */
    private volatile long nextSequence;
    /**
     * The newest sequence searches and gets can see: set only after the searcher refresh that
     * publishes it, so a read-your-writes token ({@link #lastSequence()}) is never satisfied by a
     * batch that is applied but not yet visible.
     */
    private volatile long visibleSequence;
    private int nextOrdinal;
    private volatile long lastCommitSequence;
    private volatile Instant lastCommitAt;
    private volatile boolean dirty;
    private volatile boolean closed;
    private boolean skipGraphOnCommit;
    private String graphSource = "";
    private volatile BM25Similarity bm25 = new BM25Similarity();

    private HybridIndex(Path dir, int dimension, VectorIndexOptions options) throws IOException {
        this.dir = Files.createDirectories(dir);
        this.luceneDir = FSDirectory.open(dir.resolve("lucene"));
        IndexWriterConfig cfg = new IndexWriterConfig(analyzer);
        this.snapshots = new SnapshotDeletionPolicy(new KeepOnlyLastCommitDeletionPolicy());
        cfg.setIndexDeletionPolicy(snapshots);
        cfg.setCommitOnClose(false);
        cfg.setOpenMode(IndexWriterConfig.OpenMode.CREATE_OR_APPEND);
        this.writer = new IndexWriter(luceneDir, cfg);
        this.searchers = new SearcherManager(writer, null);
        this.dimension = dimension;
        this.options = options;
        this.graphs = new GraphFiles(dir.resolve("graph"));
        this.wal = new WriteAheadLog(dir.resolve("wal"));
    }

    /**
     * Opens (or creates) the index under {@code dir}: opens the vector graph persisted with the
     * last commit (or, when there is none that fits, rebuilds it from the committed chunks'
     * stored vectors) and replays the write-ahead log past the last commit.
     */
    public static HybridIndex open(Path dir, int dimension, VectorIndexOptions options) throws IOException {
        HybridIndex index = new HybridIndex(dir, dimension, options);
        try {
            index.recover();
        } catch (IOException | RuntimeException e) {
            index.close();
            throw e;
        }
        return index;
    }

    private void recover() throws IOException {
        Map<String, String> commitData = new HashMap<>();
        if (DirectoryReader.indexExists(luceneDir)) {
            for (var e : writer.getLiveCommitData()) {
                commitData.put(e.getKey(), e.getValue());
            }
        }
        lastCommitSequence = Long.parseLong(commitData.getOrDefault("seq", "0"));
        lastCommitAt = commitData.containsKey("time") ? Instant.ofEpochMilli(Long.parseLong(commitData.get("time"))) : null;
        nextOrdinal = Integer.parseInt(commitData.getOrDefault("nextOrd", "0"));
        nextSequence = lastCommitSequence + 1;
        visibleSequence = lastCommitSequence;

        long t0 = System.nanoTime();
        IndexSearcher s = searchers.acquire();
        List<Integer> ords = new ArrayList<>();
        List<float[]> vecs = new ArrayList<>();
        try {
            Query chunks = new TermQuery(new Term(F_TYPE, TYPE_CHUNK));
            LeafReaderContext[] current = {null};
            NumericDocValues[] ordValues = {null};
            BinaryDocValues[] vecValues = {null};
            forEachMatch(s, chunks, (leaf, doc, storedFields) -> {
                if (current[0] != leaf) { // doc values are per segment, read forwards
                    current[0] = leaf;
                    ordValues[0] = leaf.reader().getNumericDocValues(F_ORD);
                    vecValues[0] = leaf.reader().getBinaryDocValues(F_VECTOR_DV);
                }
                int ord;
                float[] vector;
                if (ordValues[0] != null && ordValues[0].advanceExact(doc)
                        && vecValues[0] != null && vecValues[0].advanceExact(doc)) {
                    ord = (int) ordValues[0].longValue();
                    BytesRef b = vecValues[0].binaryValue();
                    vector = bytesToVector(b.bytes, b.offset, b.length);
                } else { // a chunk from before the doc values
                    Document d = storedFields.document(doc, Set.of(F_ORD, F_VECTOR));
                    ord = d.getField(F_ORD).numericValue().intValue();
                    BytesRef b = d.getBinaryValue(F_VECTOR);
                    vector = bytesToVector(b.bytes, b.offset, b.length);
                }
                ords.add(ord);
                vecs.add(vector);
                nextOrdinal = Math.max(nextOrdinal, ord + 1);
            });
        } finally {
            searchers.release(s);
        }
        int[] ordArray = ords.stream().mapToInt(Integer::intValue).toArray();
        float[][] vecArray = vecs.toArray(new float[0][]);
        long t1 = System.nanoTime();
        graphSource = restoreGraph(ordArray, vecArray);
        long t2 = System.nanoTime();
        long[] replayed = {0};
        wal.replay(lastCommitSequence, batch -> {
            try {
                apply(batch);
                refresh();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            nextSequence = Math.max(nextSequence, batch.seq() + 1);
            visibleSequence = Math.max(visibleSequence, batch.seq());
            replayed[0]++;
        });
        long t3 = System.nanoTime();
        LOG.infof("index opened: %d chunk vectors loaded, graph %s, %d log records replayed in %d ms"
                        + " (vectors read %d ms, graph %d ms, replay %d ms)", ords.size(), graphSource, replayed[0],
                (t3 - t0) / 1_000_000, (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000, (t3 - t2) / 1_000_000);
        if (replayed[0] > 0) {
            dirty = true;
            commit(); // persists the graph with the commit
        } else if (graphSource.startsWith("rebuilt") && ords.size() > 0) {
            writeGraph(lastCommitSequence); // the next start opens what this one rebuilt
        }
    }

    /**
     * Opens the graph persisted for the last commit over the stored vectors, or rebuilds it from
     * them when there is none or it does not fit; says which in the start log line.
     */
    private String restoreGraph(int[] ords, float[][] vecs) throws IOException {
        if (DirectoryReader.indexExists(luceneDir) || ords.length > 0) {
            var persisted = graphs.read(lastCommitSequence, dimension);
            if (persisted.isPresent()) {
                try {
                    vectors = VectorIndex.restore(dimension, options, ords, vecs, persisted.get());
                    return "opened from " + dir.relativize(persisted.get().graphFile())
                            + (vectors.loadedWithStoredScores() ? " (stored scores)" : " (scores recomputed)");
                } catch (IOException e) {
                    LOG.warnf("persisted vector graph for commit %d does not fit the stored vectors (%s); rebuilding it",
                            lastCommitSequence, e.getMessage());
                }
            } else if (ords.length > 0 && !java.nio.file.Files.exists(graphs.stateFile(lastCommitSequence))) {
                LOG.infof("no persisted vector graph for commit %d; rebuilding it from %d stored vectors",
                        lastCommitSequence, ords.length);
            }
        }
        vectors = new VectorIndex(dimension, options);
        vectors.addAll(ords, vecs);
        return "rebuilt from " + ords.length + " stored vectors";
    }

    /**
     * Persists the graph for commit {@code seq}. A failure is logged and not thrown: the Lucene
     * commit that follows is what makes writes durable, and without a graph of its sequence the
     * next start rebuilds the graph (slow, but correct).
     */
    private void writeGraph(long seq) {
        long t0 = System.nanoTime();
        try {
            graphs.write(seq, vectors);
            LOG.debugf("vector graph for commit %d persisted in %d ms", seq, (System.nanoTime() - t0) / 1_000_000);
        } catch (IOException | RuntimeException e) {
            LOG.warnf(e, "persisting the vector graph for commit %d failed; the next start rebuilds it", seq);
        }
    }

    // --- writes --------------------------------------------------------------------------

    /** Upserts documents atomically: all of them are logged and applied, or none. */
    public WriteResult upsert(String tenant, List<PreparedDocument> documents) throws IOException {
        writeLock.lock();
        try {
            ensureOpen();
            List<Operation> ops = new ArrayList<>(documents.size());
            int chunkCount = 0;
            for (PreparedDocument d : documents) {
                List<ChunkRecord> chunks = new ArrayList<>(d.chunks().size());
                for (int i = 0; i < d.chunks().size(); i++) {
                    chunks.add(new ChunkRecord(nextOrdinal + chunkCount + i, d.chunks().get(i), d.vectors().get(i)));
                }
                chunkCount += chunks.size();
                ops.add(new Upsert(tenant, d.id(), d.title(), d.text(), d.metadata(), chunks));
            }
            Batch batch = new Batch(nextSequence, System.currentTimeMillis(), ops);
            wal.append(batch);
            nextSequence++;
            nextOrdinal += chunkCount;
            int replaced = apply(batch);
            refresh();
            visibleSequence = batch.seq();
            return new WriteResult(documents.size(), chunkCount, replaced, batch.seq());
        } finally {
            writeLock.unlock();
        }
    }

    /** Deletes a document and all its chunks; false if the tenant has no such document. */
    public boolean delete(String tenant, String documentId) throws IOException {
        writeLock.lock();
        try {
            ensureOpen();
            if (get(tenant, documentId).isEmpty()) {
                return false;
            }
            Batch batch = new Batch(nextSequence, System.currentTimeMillis(), List.of(new Delete(tenant, documentId)));
            wal.append(batch);
            nextSequence++;
            apply(batch);
            refresh();
            visibleSequence = batch.seq();
            return true;
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * Cluster mode: applies a batch taken from the replicated stream at {@code seq}, in stream
     * order, instead of the local log (the stream is the log). Chunk ordinals are this replica's
     * own (the graph's node ids; the record's are ignored), so replicas may differ in them and
     * still hold the same documents. A batch at or below {@link #lastSequence()} was applied
     * already (a redelivery after a restart from a commit) and is skipped: null.
     */
    WriteResult applyReplicated(Batch batch) throws IOException {
        writeLock.lock();
        try {
            ensureOpen();
            if (batch.seq() < nextSequence) {
                return null;
            }
            List<Operation> ops = new ArrayList<>(batch.operations().size());
            int chunkCount = 0;
            int documents = 0;
            for (Operation op : batch.operations()) {
                if (op instanceof Upsert u) {
                    List<ChunkRecord> chunks = new ArrayList<>(u.chunks().size());
                    for (ChunkRecord c : u.chunks()) {
                        chunks.add(new ChunkRecord(nextOrdinal + chunkCount + chunks.size(), c.text(), c.vector()));
                    }
                    chunkCount += chunks.size();
                    documents++;
                    ops.add(new Upsert(u.tenant(), u.documentId(), u.title(), u.text(), u.metadata(), chunks));
                } else {
                    if (get(op.tenant(), op.documentId()).isPresent()) {
                        documents++;
                    }
                    ops.add(op);
                }
            }
            Batch local = new Batch(batch.seq(), batch.timestampMillis(), ops);
            nextOrdinal += chunkCount;
            int replaced = apply(local);
            nextSequence = batch.seq() + 1;
            refresh();
            visibleSequence = batch.seq();
            return new WriteResult(documents, chunkCount, replaced, batch.seq());
        } finally {
            writeLock.unlock();
        }
    }

    /** The sequence of the newest batch applied (0 for none): local log or replicated stream. */
    public long lastSequence() {
        return visibleSequence;
    }

    /** Publishes applied writes to searches; only then may cached filter results be replaced. */
    private void refresh() throws IOException {
        searchers.maybeRefreshBlocking();
        writeGeneration++;
    }

    /** Applies a logged batch; idempotent on top of the state the batch was logged against. */
    private int apply(Batch batch) throws IOException {
        int replaced = 0;
        // The searcher is refreshed after the batch, not between its operations: a document that
        // occurs twice in one batch must find the chunks its first occurrence added here, or they
        // would stay live in the graph with no Lucene record (and the persisted graph would not
        // fit the stored vectors at the next start).
        Map<String, int[]> earlierInBatch = new HashMap<>();
        for (Operation op : batch.operations()) {
            String key = key(op.tenant(), op.documentId());
            int[] old = earlierInBatch.containsKey(key) ? earlierInBatch.get(key) : ordinalsOf(key);
            if (op instanceof Upsert u) {
                List<Document> docs = new ArrayList<>(u.chunks().size() + 1);
                docs.add(documentRecord(u, batch));
                for (int i = 0; i < u.chunks().size(); i++) {
                    docs.add(chunkRecord(u, i));
                }
                writer.updateDocuments(new Term(F_KEY, key), docs);
                for (int ord : old) {
                    vectors.markDeleted(ord);
                }
                for (ChunkRecord c : u.chunks()) {
                    vectors.add(c.ordinal(), c.vector());
                    nextOrdinal = Math.max(nextOrdinal, c.ordinal() + 1);
                }
                if (old.length > 0) { // every stored document has at least one chunk
                    replaced++;
                }
                earlierInBatch.put(key, u.chunks().stream().mapToInt(ChunkRecord::ordinal).toArray());
            } else if (op instanceof Delete) {
                writer.deleteDocuments(new Term(F_KEY, key));
                for (int ord : old) {
                    vectors.markDeleted(ord);
                }
                earlierInBatch.put(key, new int[0]);
            }
        }
        dirty = true;
        return replaced;
    }

    private Document documentRecord(Upsert u, Batch batch) {
        Document d = new Document();
        d.add(new StringField(F_KEY, key(u.tenant(), u.documentId()), Field.Store.NO));
        d.add(new StringField(F_TYPE, TYPE_DOC, Field.Store.NO));
        d.add(new StringField(F_TENANT, u.tenant(), Field.Store.YES));
        d.add(new StringField(F_DOC_ID, u.documentId(), Field.Store.YES));
        d.add(new StoredField(F_TITLE, u.title()));
        d.add(new StoredField(F_TEXT, u.text()));
        d.add(new StoredField(F_CHUNKS, u.chunks().size()));
        d.add(new StoredField(F_SEQ, batch.seq()));
        d.add(new StoredField(F_UPDATED, batch.timestampMillis()));
        addMetadata(d, u.metadata());
        return d;
    }

    private Document chunkRecord(Upsert u, int i) {
        ChunkRecord c = u.chunks().get(i);
        Document d = new Document();
        d.add(new StringField(F_KEY, key(u.tenant(), u.documentId()), Field.Store.NO));
        d.add(new StringField(F_TYPE, TYPE_CHUNK, Field.Store.NO));
        d.add(new StringField(F_TENANT, u.tenant(), Field.Store.NO));
        d.add(new StringField(F_DOC_ID, u.documentId(), Field.Store.YES));
        d.add(new StringField(F_CHUNK_ID, DocumentIds.chunkId(u.documentId(), i), Field.Store.YES));
        d.add(new IntPoint(F_ORD, c.ordinal()));
        d.add(new StoredField(F_ORD, c.ordinal()));
        d.add(new NumericDocValuesField(F_ORD, c.ordinal()));
        d.add(new StoredField(F_TITLE, u.title()));
        d.add(new StoredField(F_TEXT, c.text()));
        // The title is searchable with every chunk of its document.
        d.add(new TextField(F_BODY, u.title().isEmpty() ? c.text() : u.title() + "\n" + c.text(), Field.Store.NO));
        byte[] vector = vectorToBytes(c.vector());
        // Stored (what gateways before the doc values read at start, e.g. from a snapshot) and as doc values (fast start).
        d.add(new StoredField(F_VECTOR, vector));
        d.add(new BinaryDocValuesField(F_VECTOR_DV, new BytesRef(vector)));
        addMetadata(d, u.metadata());
        return d;
    }

    private static void addMetadata(Document d, Map<String, String> metadata) {
        for (var e : new TreeMap<>(metadata).entrySet()) {
            d.add(new StringField(META_PREFIX + e.getKey(), e.getValue(), Field.Store.NO));
            d.add(new StoredField(F_META, e.getKey() + META_SEP + e.getValue()));
        }
    }

    // --- reads ---------------------------------------------------------------------------

    public Optional<StoredDocument> get(String tenant, String documentId) throws IOException {
        IndexSearcher s = searchers.acquire();
        try {
            Query q = new BooleanQuery.Builder()
                    .add(new TermQuery(new Term(F_KEY, key(tenant, documentId))), BooleanClause.Occur.FILTER)
                    .add(new TermQuery(new Term(F_TYPE, TYPE_DOC)), BooleanClause.Occur.FILTER).build();
            TopDocs top = s.search(q, 1);
            if (top.scoreDocs.length == 0) {
                return Optional.empty();
            }
            Document d = s.storedFields().document(top.scoreDocs[0].doc);
            return Optional.of(new StoredDocument(d.get(F_DOC_ID), d.get(F_TITLE), d.get(F_TEXT), metadata(d),
                    d.getField(F_CHUNKS).numericValue().intValue(), d.getField(F_SEQ).numericValue().longValue(),
                    Instant.ofEpochMilli(d.getField(F_UPDATED).numericValue().longValue())));
        } finally {
            searchers.release(s);
        }
    }

    /** BM25 top-n chunks of the tenant matching every filter entry. */
    public List<ChunkHit> sparse(String tenant, String query, Map<String, String> filter, int n) throws IOException {
        List<String> terms = analyze(query);
        if (terms.isEmpty()) {
            return List.of();
        }
        BooleanQuery.Builder b = new BooleanQuery.Builder();
        for (String t : terms) {
            b.add(new TermQuery(new Term(F_BODY, t)), BooleanClause.Occur.SHOULD);
        }
        addFilters(b, tenant, filter);
        b.setMinimumNumberShouldMatch(1);
        IndexSearcher s = searchers.acquire();
        try {
            IndexSearcher scoring = new IndexSearcher(s.getIndexReader());
            scoring.setSimilarity(bm25);
            TopDocs top = scoring.search(b.build(), n);
            List<ChunkHit> hits = new ArrayList<>(top.scoreDocs.length);
            StoredFields stored = s.storedFields();
            for (ScoreDoc sd : top.scoreDocs) {
                hits.add(chunkHit(stored.document(sd.doc), sd.score));
            }
            return hits;
        } finally {
            searchers.release(s);
        }
    }

    /**
     * Approximate cosine top-n chunks of the tenant matching every filter entry. The filter is
     * resolved to the set of accepted ordinals first and applied inside the graph search, so a
     * selective filter still yields n hits when n exist.
     */
    public List<ChunkHit> dense(String tenant, float[] query, Map<String, String> filter, int n) throws IOException {
        return denseSearch(tenant, filter, accept -> vectors.search(query, n, accept::get));
    }

    /** Exact (brute-force) cosine top-n, the reference for ANN recall. */
    public List<ChunkHit> denseExact(String tenant, float[] query, Map<String, String> filter, int n) throws IOException {
        return denseSearch(tenant, filter, accept -> vectors.exactSearch(query, n, accept::get));
    }

    private List<ChunkHit> denseSearch(String tenant, Map<String, String> filter,
                                       java.util.function.Function<BitSet, List<ScoredOrdinal>> search) throws IOException {
        long generation = writeGeneration;
        IndexSearcher s = searchers.acquire();
        try {
            BitSet accept = acceptedOrdinals(s, generation, tenant, filter);
            return accept.isEmpty() ? List.of() : resolve(s, search.apply(accept));
        } finally {
            searchers.release(s);
        }
    }

    private List<ChunkHit> resolve(IndexSearcher s, List<ScoredOrdinal> found) throws IOException {
        if (found.isEmpty()) {
            return List.of();
        }
        int[] ords = found.stream().mapToInt(ScoredOrdinal::ordinal).toArray();
        Map<Integer, ChunkHit> byOrd = new HashMap<>();
        TopDocs top = s.search(IntPoint.newSetQuery(F_ORD, ords), ords.length);
        StoredFields stored = s.storedFields();
        for (ScoreDoc sd : top.scoreDocs) {
            ChunkHit h = chunkHit(stored.document(sd.doc), 0);
            byOrd.put(h.ordinal(), h);
        }
        List<ChunkHit> hits = new ArrayList<>(found.size());
        for (ScoredOrdinal so : found) {
            ChunkHit h = byOrd.get(so.ordinal());
            if (h != null) { // a chunk deleted between the graph search and this lookup is skipped
                hits.add(h.withScore(so.score()));
            }
        }
        return hits;
    }

    private record CachedOrdinals(long generation, BitSet ordinals) {
    }

    /**
     * @param generation the write generation read before {@code s} was acquired: a write
     *                   published after that makes the cached entry stale, and the generation
     *                   check refuses it.
     */
    private BitSet acceptedOrdinals(IndexSearcher s, long generation, String tenant, Map<String, String> filter)
            throws IOException {
        boolean tenantOnly = filter == null || filter.isEmpty();
        if (tenantOnly) {
            CachedOrdinals cached = tenantOrdinals.get(tenant);
            if (cached != null && cached.generation() == generation) {
                return cached.ordinals();
            }
        }
        BooleanQuery.Builder b = new BooleanQuery.Builder();
        addFilters(b, tenant, filter);
        BitSet bits = new BitSet();
        forEachMatch(s, b.build(), (leaf, doc, storedFields) -> {
            NumericDocValues ords = leaf.reader().getNumericDocValues(F_ORD);
            if (ords != null && ords.advanceExact(doc)) {
                bits.set((int) ords.longValue());
            }
        });
        if (tenantOnly) {
            tenantOrdinals.put(tenant, new CachedOrdinals(generation, bits));
        }
        return bits;
    }

    private void addFilters(BooleanQuery.Builder b, String tenant, Map<String, String> filter) {
        b.add(new TermQuery(new Term(F_TENANT, tenant)), BooleanClause.Occur.FILTER);
        b.add(new TermQuery(new Term(F_TYPE, TYPE_CHUNK)), BooleanClause.Occur.FILTER);
        if (filter != null) {
            for (var e : filter.entrySet()) {
                b.add(new TermQuery(new Term(META_PREFIX + e.getKey(), e.getValue())), BooleanClause.Occur.FILTER);
            }
        }
    }

    private interface MatchVisitor {
        void visit(LeafReaderContext leaf, int doc, StoredFields storedFields) throws IOException;
    }

    private static void forEachMatch(IndexSearcher s, Query q, MatchVisitor visitor) throws IOException {
        Weight w = s.createWeight(s.rewrite(q), ScoreMode.COMPLETE_NO_SCORES, 1f);
        for (LeafReaderContext leaf : s.getIndexReader().leaves()) {
            Scorer scorer = w.scorer(leaf);
            if (scorer == null) {
                continue;
            }
            Bits live = leaf.reader().getLiveDocs();
            StoredFields stored = leaf.reader().storedFields();
            DocIdSetIterator it = scorer.iterator();
            for (int doc = it.nextDoc(); doc != DocIdSetIterator.NO_MORE_DOCS; doc = it.nextDoc()) {
                if (live == null || live.get(doc)) {
                    visitor.visit(leaf, doc, stored);
                }
            }
        }
    }

    private int[] ordinalsOf(String key) throws IOException {
        IndexSearcher s = searchers.acquire();
        try {
            Query q = new BooleanQuery.Builder()
                    .add(new TermQuery(new Term(F_KEY, key)), BooleanClause.Occur.FILTER)
                    .add(new TermQuery(new Term(F_TYPE, TYPE_CHUNK)), BooleanClause.Occur.FILTER).build();
            List<Integer> ords = new ArrayList<>();
            forEachMatch(s, q, (leaf, doc, stored) -> {
                NumericDocValues dv = leaf.reader().getNumericDocValues(F_ORD);
                if (dv != null && dv.advanceExact(doc)) {
                    ords.add((int) dv.longValue());
                }
            });
            return ords.stream().mapToInt(Integer::intValue).toArray();
        } finally {
            searchers.release(s);
        }
    }

    private static ChunkHit chunkHit(Document d, double score) {
        return new ChunkHit(d.get(F_DOC_ID), d.get(F_CHUNK_ID), d.getField(F_ORD).numericValue().intValue(), score,
                d.get(F_TITLE), d.get(F_TEXT), metadata(d));
    }

    private static Map<String, String> metadata(Document d) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String kv : d.getValues(F_META)) {
            int i = kv.indexOf(META_SEP);
            m.put(kv.substring(0, i), kv.substring(i + 1));
        }
        return m;
    }

    private List<String> analyze(String text) throws IOException {
        List<String> terms = new ArrayList<>();
        try (TokenStream ts = analyzer.tokenStream(F_BODY, text)) {
            CharTermAttribute term = ts.addAttribute(CharTermAttribute.class);
            ts.reset();
            while (ts.incrementToken() && terms.size() < MAX_QUERY_TERMS) {
                terms.add(term.toString());
            }
            ts.end();
        }
        return terms;
    }

    // --- maintenance ---------------------------------------------------------------------

    /** Makes everything applied so far durable in Lucene and drops the log it covers. */
    public void commit() throws IOException {
        writeLock.lock();
        try {
            ensureOpen();
            if (!dirty && lastCommitAt != null) {
                return;
            }
            long seq = nextSequence - 1;
            long now = System.currentTimeMillis();
            Map<String, String> data = new HashMap<>();
            data.put("seq", Long.toString(seq));
            data.put("nextOrd", Integer.toString(nextOrdinal));
            data.put("time", Long.toString(now));
            writer.setLiveCommitData(data.entrySet());
            // The graph first, then the Lucene commit, then the older graphs: a crash in between
            // leaves the previous commit with its own graph (see GraphFiles).
            if (skipGraphOnCommit) {
                skipGraphOnCommit = false;
            } else {
                writeGraph(seq);
            }
            writer.commit();
            wal.truncateAll();
            lastCommitSequence = seq;
            lastCommitAt = Instant.ofEpochMilli(now);
            dirty = false;
            graphs.deleteOlderThan(seq);
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * Commits, then copies the commit's files to {@code snapshots/<sequence>-<millis>} under the
     * data dir (hard links where the file system allows): {@code lucene/}, a complete Lucene
     * index with the chunk vectors inside, and {@code graph/}, the vector graph persisted with
     * that commit. A gateway started on a copy of it opens the graph instead of rebuilding it.
     */
    public SnapshotInfo snapshot() throws IOException {
        try (CommittedIndex commit = captureCommit()) {
            Instant at = Instant.now();
            Path target = dir.resolve("snapshots").resolve(commit.sequence() + "-" + at.toEpochMilli());
            long bytes = 0;
            for (CommittedIndex.File f : commit.files()) {
                Path dst = target.resolve(f.name());
                linkOrCopy(f.path(), Files.createDirectories(dst.getParent()).resolve(dst.getFileName()));
                bytes += Files.size(dst);
            }
            return new SnapshotInfo(dir.relativize(target).toString(), commit.sequence(), commit.files().size(), bytes, at);
        }
    }

    /**
     * Commits and holds that commit still ({@link CommittedIndex}): the files of a snapshot. The
     * writer lock is held only for the commit and the graph's hard links; reading the files
     * afterwards blocks no write.
     */
    public CommittedIndex captureCommit() throws IOException {
        writeLock.lock();
        try {
            dirty = true; // a snapshot always has a commit of its own time
            commit();
            IndexCommit commit = snapshots.snapshot();
            long seq = lastCommitSequence;
            Path staging = null;
            try {
                List<CommittedIndex.File> files = new ArrayList<>();
                for (String name : commit.getFileNames()) {
                    files.add(new CommittedIndex.File("lucene/" + name, dir.resolve("lucene").resolve(name)));
                }
                List<Path> graphFiles = graphs.filesOf(seq);
                if (!graphFiles.isEmpty()) {
                    staging = Files.createDirectories(dir.resolve("snapshots")
                            .resolve(".commit-" + seq + "-" + System.nanoTime()));
                    for (Path src : graphFiles) {
                        Path dst = staging.resolve(src.getFileName());
                        linkOrCopy(src, dst);
                        files.add(new CommittedIndex.File("graph/" + src.getFileName(), dst));
                    }
                }
                return new HeldCommit(commit, seq, List.copyOf(files), staging);
            } catch (IOException | RuntimeException e) {
                releaseCommit(commit, staging);
                throw e;
            }
        } finally {
            writeLock.unlock();
        }
    }

    private final class HeldCommit implements CommittedIndex {
        private final IndexCommit commit;
        private final long sequence;
        private final List<File> files;
        private final Path staging;
        private final java.util.concurrent.atomic.AtomicBoolean released = new java.util.concurrent.atomic.AtomicBoolean();

        HeldCommit(IndexCommit commit, long sequence, List<File> files, Path staging) {
            this.commit = commit;
            this.sequence = sequence;
            this.files = files;
            this.staging = staging;
        }

        @Override
        public long sequence() {
            return sequence;
        }

        @Override
        public int dimension() {
            return dimension;
        }

        @Override
        public List<File> files() {
            return files;
        }

        @Override
        public void close() throws IOException {
            if (released.compareAndSet(false, true)) {
                releaseCommit(commit, staging);
            }
        }
    }

    private void releaseCommit(IndexCommit commit, Path staging) throws IOException {
        writeLock.lock();
        try {
            snapshots.release(commit);
            if (!closed) { // the index's, not the held commit's
                writer.deleteUnusedFiles();
            }
        } finally {
            writeLock.unlock();
            if (staging != null) {
                org.apache.lucene.util.IOUtils.rm(staging);
            }
        }
    }

    private static void linkOrCopy(Path src, Path dst) throws IOException {
        try {
            Files.createLink(dst, src);
        } catch (IOException | UnsupportedOperationException e) {
            Files.copy(src, dst, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /**
     * The last sequence committed in the index under {@code dataDir}, read without opening it
     * (0 when there is no index): what a replica decides its bootstrap on before it opens.
     */
    public static long committedSequence(Path dataDir) throws IOException {
        Path lucene = dataDir.resolve("lucene");
        if (!Files.isDirectory(lucene)) {
            return 0;
        }
        try (Directory d = FSDirectory.open(lucene)) {
            if (!DirectoryReader.indexExists(d)) {
                return 0;
            }
            return Long.parseLong(org.apache.lucene.index.SegmentInfos.readLatestCommit(d).getUserData()
                    .getOrDefault("seq", "0"));
        }
    }

    /**
     * Replaces the index under {@code dataDir} (its {@code lucene/}, {@code graph/} and
     * {@code wal/}) by a snapshot unpacked in {@code staged} (its {@code lucene/} and
     * {@code graph/}, as {@link CommittedIndex#files()} names them), before the index is opened.
     * Other files of the data directory (the keys file, the model record) stay. Staged on the same
     * file system, so each directory is moved, not copied.
     */
    public static void installSnapshot(Path dataDir, Path staged) throws IOException {
        try (Directory d = FSDirectory.open(staged.resolve("lucene"))) {
            if (!DirectoryReader.indexExists(d)) {
                throw new IOException(staged + " holds no Lucene commit");
            }
        }
        for (String sub : List.of("lucene", "graph", "wal")) {
            org.apache.lucene.util.IOUtils.rm(dataDir.resolve(sub));
        }
        Files.move(staged.resolve("lucene"), dataDir.resolve("lucene"), StandardCopyOption.ATOMIC_MOVE);
        if (Files.isDirectory(staged.resolve("graph"))) {
            Files.move(staged.resolve("graph"), dataDir.resolve("graph"), StandardCopyOption.ATOMIC_MOVE);
        }
    }

    /** Removes deleted chunks from the graph; holds the writer lock so no insert overlaps. */
    public int compact() {
        writeLock.lock();
        try {
            return closed ? 0 : vectors.compact();
        } finally {
            writeLock.unlock();
        }
    }

    public int pendingVectorDeletes() {
        return vectors.pendingDeletes();
    }

    public boolean isDirty() {
        return dirty;
    }

    public IndexStats stats(String tenant) throws IOException {
        IndexSearcher s = searchers.acquire();
        try {
            long docs = s.count(typeQuery(tenant, TYPE_DOC));
            long chunks = s.count(typeQuery(tenant, TYPE_CHUNK));
            long vectorCount = tenant == null ? vectors.size() : chunks;
            long deleted = vectors.pendingDeletes() + s.getIndexReader().numDeletedDocs();
            return new IndexStats(docs, chunks, vectorCount, deleted, bytesOnDisk(), lastCommitSequence,
                    lastCommitAt, nextSequence - 1);
        } finally {
            searchers.release(s);
        }
    }

    private Query typeQuery(String tenant, String type) {
        BooleanQuery.Builder b = new BooleanQuery.Builder().add(new TermQuery(new Term(F_TYPE, type)), BooleanClause.Occur.FILTER);
        if (tenant != null) {
            b.add(new TermQuery(new Term(F_TENANT, tenant)), BooleanClause.Occur.FILTER);
        }
        return b.build();
    }

    private long bytesOnDisk() throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).mapToLong(p -> {
                try {
                    return Files.size(p);
                } catch (IOException e) {
                    return 0; // a file merged away while we walked
                }
            }).sum();
        }
    }

    public int dimension() {
        return dimension;
    }

    /**
     * Sets BM25's term-frequency saturation k1 and length normalisation b for later searches.
     * Both act at query time (Lucene stores only lengths), so no re-indexing is needed.
     */
    public void setBm25(float k1, float b) {
        this.bm25 = new BM25Similarity(k1, b);
    }

    /** The stored unit vector of a live chunk, or null. */
    public float[] vectorOf(int ordinal) {
        return vectors.isLive(ordinal) ? vectors.vector(ordinal) : null;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("index is closed");
        }
    }

    /** Commits and closes. */
    @Override
    public void close() throws IOException {
        writeLock.lock();
        try {
            if (closed) {
                return;
            }
            try {
                if (dirty && writer.isOpen()) {
                    commit();
                }
            } finally {
                closed = true;
                searchers.close();
                writer.close();
                wal.close();
                if (vectors != null) {
                    vectors.close();
                }
                luceneDir.close();
            }
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * How {@link #open} got its graph: "opened from graph/… (stored scores)", "… (scores
     * recomputed)" (a one-layer graph, or stored scores that did not check out) or "rebuilt from
     * N stored vectors".
     */
    public String graphSource() {
        return graphSource;
    }

    VectorIndex vectorIndex() {
        return vectors;
    }

    /**
     * For tests: the next commit skips its graph write, leaving the state a crash between a
     * Lucene commit and its graph would leave (or a failed graph write): a commit whose sequence
     * has no graph, the write-ahead log truncated.
     */
    void skipGraphOnNextCommit() {
        skipGraphOnCommit = true;
    }

    /** Closes without committing, as a crash would leave it: for tests of recovery. */
    void abandon() throws IOException {
        writeLock.lock();
        try {
            closed = true;
            searchers.close();
            writer.rollback();
            wal.close();
            if (vectors != null) {
                vectors.close();
            }
            luceneDir.close();
        } finally {
            writeLock.unlock();
        }
    }

    private static String key(String tenant, String documentId) {
        return tenant + '\u0000' + documentId;
    }

    static byte[] vectorToBytes(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return b.array();
    }

    static float[] bytesToVector(byte[] bytes, int offset, int length) {
        float[] v = new float[length / 4];
        ByteBuffer.wrap(bytes, offset, length).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
        return v;
    }
}
