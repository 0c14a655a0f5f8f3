package dev.offload.gateway.metrics;

/**
 * Every metric the gateway exports, in one place so documentation, dashboards and tests can
 * check against it. Dotted in code; Prometheus renders dots as underscores and adds unit
 * suffixes ({@code _seconds}, {@code _total}).
 */
public final class MetricNames {
    private MetricNames() {
    }

    /** Gauge: live documents in the shared index. */
    public static final String INDEX_DOCUMENTS = "gateway.index.documents";
    /** Gauge: live chunks (one vector each). */
    public static final String INDEX_CHUNKS = "gateway.index.chunks";
    /** Gauge: chunks deleted but not yet compacted out of the graph. */
    public static final String INDEX_PENDING_DELETES = "gateway.index.pending.deletes";
    /** Gauge: bytes of the data dir on disk. */
    public static final String INDEX_BYTES = "gateway.index.disk.bytes";
    /** Counter: documents written, tagged {@code op=upsert|delete}. */
    public static final String INGEST_DOCUMENTS = "gateway.ingest.documents";
    /** Timer: ingest request time from validation to acknowledgement. */
    public static final String INGEST_TIME = "gateway.ingest.time";
    /** Counter: texts embedded in process (chunks and queries). */
    public static final String EMBEDDING_TEXTS = "gateway.embedding.texts";
    /** Timer: one embedding call (a batch or a single query). */
    public static final String EMBEDDING_TIME = "gateway.embedding.time";
    /** Timer: search time, tagged {@code mode=hybrid|dense|sparse}. */
    public static final String SEARCH_TIME = "gateway.search.time";
    /** Timer: index commits (Lucene commit + log truncation). */
    public static final String INDEX_COMMIT_TIME = "gateway.index.commit.time";
    /** Counter: chunks removed from the vector graph by compaction. */
    public static final String INDEX_COMPACTED = "gateway.index.compacted";
}
