package dev.offload.gateway.retrieval;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;

/** Configuration of the shared index: storage, chunking, ingestion limits and search. */
@ConfigMapping(prefix = "gateway")
public interface RetrievalConfig {
    /** Directory holding the Lucene index and the write-ahead log; created if missing. */
    @WithDefault("data")
    String dataDir();

    /** JVector graph, commit and compaction settings. */
    Index index();

    /** How documents are cut into chunks before embedding. */
    Chunking chunking();

    /** Limits on what one ingest request may carry. */
    Ingest ingest();

    /** Hybrid search and fusion. */
    Search search();

    /** The in-process embedding model. */
    Embedding embedding();

    interface Embedding {
        /**
         * Which model embeds chunks and search queries: bge-small-en-v1.5-q, all-minilm-l6-v2-q or
         * e5-small-v2-q (see {@link EmbeddingModel}). The index records its model and refuses to open
         * under another ({@link IndexModelRecord}): changing it needs a fresh data directory.
         */
        @WithDefault("bge-small-en-v1.5-q")
        String model();

        /**
         * Which model embeds questions for the semantic cache's lookup and the local-quality router:
         * their thresholds and weights were trained on this model's vectors, so it is chosen apart
         * from the index's. The same name as {@link #model()} shares one model (one embedding per query).
         */
        @WithDefault("all-minilm-l6-v2-q")
        String questionModel();

        /**
         * How many question vectors {@link QuestionVectors} keeps, per (tenant, question text): a
         * device's {@code /v1/offload/decide} and the {@code /v1/query} that follows it, and a
         * fleet's repeated questions, embed once. 0 turns the memo off.
         */
        @WithDefault("4096")
        int questionMemoSize();

        /** How long a remembered question vector is kept after it was computed. */
        @WithDefault("10m")
        java.time.Duration questionMemoTtl();
    }

    interface Index {
        /** JVector M: maximum edges per graph node. */
        @WithDefault("32")
        int maxDegree();

        /** JVector construction beam width (efConstruction). */
        @WithDefault("100")
        int beamWidth();

        /** How far a node's degree may overflow M before pruning. */
        @WithDefault("1.2")
        float neighborOverflow();

        /** Vamana diversity factor alpha. */
        @WithDefault("1.2")
        float alpha();

        /** Graph search width as a multiple of the requested candidates. */
        @WithDefault("2.0")
        float overquery();

        /** Minimum graph search width (candidates reranked exactly) whatever k is. */
        @WithDefault("100")
        int rerankK();

        /** How often applied writes are committed to Lucene and the log is truncated. */
        @WithDefault("30s")
        Duration commitInterval();

        /** How often deleted chunks are looked for and removed from the graph. */
        @WithDefault("60s")
        Duration compactionInterval();

        /** Deleted chunks that must be pending before a compaction runs. */
        @WithDefault("1")
        int compactionMinDeletes();

        /** Load the bundled sample corpus on the first start with an empty index. */
        @WithDefault("true")
        boolean loadSampleCorpus();
    }

    interface Chunking {
        /** Maximum characters per chunk (MiniLM reads about 256 word pieces, ~1,000 characters). */
        @WithDefault("1000")
        int maxChars();

        /** Characters of trailing whole sentences repeated at the start of the next chunk. */
        @WithDefault("150")
        int overlapChars();
    }

    interface Ingest {
        /** Maximum documents in one ingest request. */
        @WithDefault("256")
        int maxBatchDocuments();

        /** Maximum characters of one document's text (over it: 413). */
        @WithDefault("200000")
        int maxDocumentChars();

        /** Maximum bytes of a document id in UTF-8 (see {@link DocumentIds} for what an id may hold). */
        @WithDefault("512")
        int maxIdBytes();

        /** Maximum characters of a title. */
        @WithDefault("1000")
        int maxTitleLength();

        /** Maximum metadata entries per document. */
        @WithDefault("32")
        int maxMetadataEntries();

        /** Threads that embed chunks; 0 means one per core. */
        @WithDefault("0")
        int embeddingThreads();
    }

    interface Search {
        /**
         * Fusion method: CONVEX (min-max normalised scores), RRF (weighted reciprocal rank), DBSF
         * (scores placed on each query's distribution) or ADAPTIVE (convex with per-query weights);
         * see {@link Fusion}. The default was checked by cross-validation (benchmarks.md).
         */
        @WithDefault("CONVEX")
        Fusion.Method fusion();

        /** RRF's k constant. */
        @WithDefault("60")
        int rrfK();

        /** Weight of the BM25 retriever in fusion; unset: the embedding model's ({@link EmbeddingModel#fusing()}). */
        java.util.OptionalDouble sparseWeight();

        /** Weight of the dense retriever in fusion; unset: the embedding model's. */
        java.util.OptionalDouble denseWeight();

        /** Candidates each retriever contributes to fusion (at least k). */
        @WithDefault("100")
        int candidates();

        /**
         * Hybrid mode: fused top chunks whose mean vector refines the query (Rocchio feedback); 0 turns
         * it off; unset: the embedding model's.
         */
        java.util.OptionalInt feedbackDepth();

        /** Hybrid mode: weight β of the feedback vector added to the unit query vector. */
        @WithDefault("1.0")
        double feedbackWeight();

        /**
         * Hybrid mode, selective feedback: skip the feedback round when the first fusion's top chunk
         * leads the second by at least this (the first pass is confident); unset: the embedding
         * model's; {@code Infinity}: feedback always runs.
         */
        java.util.OptionalDouble feedbackSkipMargin();

        /** Largest k a search may ask for. */
        @WithDefault("100")
        int maxK();

        /** Maximum characters of a search query. */
        @WithDefault("4000")
        int maxQueryChars();
    }
}
