package dev.offload.gateway.pipeline;

import dev.offload.gateway.retrieval.IndexRecords.ChunkHit;
import io.micrometer.core.instrument.Timer;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Embeds the question for the cache and the router, and, on a cache miss, for the index (the same
 * vector when one model serves both), and searches the tenant's part of the hybrid index. CPU work:
 * runs on a worker thread, never an event loop.
 */
final class RetrieveStage {
    /** The hybrid index as this stage uses it. */
    interface Index {
        /** The question under the cache's and the router's model ({@code gateway.embedding.question-model}). */
        float[] embed(String tenant, String text);

        /** The question under the index's model; {@code questionVector} when both models are one. */
        float[] embedForSearch(String text, float[] questionVector);

        List<ChunkHit> search(String tenant, String text, float[] vector, int k, Map<String, String> filter);
    }

    private final Index index;
    private final Timer retrievalTime;
    private final LongSupplier clock;

    RetrieveStage(Index index, Timer retrievalTime, LongSupplier clock) {
        this.index = index;
        this.retrievalTime = retrievalTime;
        this.clock = clock;
    }

    void embed(QueryContext ctx) {
        ctx.vector = index.embed(ctx.tenant, ctx.query.text());
    }

    void search(QueryContext ctx) {
        ctx.searchVector = index.embedForSearch(ctx.query.text(), ctx.vector);
        ctx.hits = index.search(ctx.tenant, ctx.query.text(), ctx.searchVector, ctx.k, ctx.query.filter());
        ctx.retrievedNanos = clock.getAsLong();
        retrievalTime.record(ctx.retrievedNanos - ctx.startNanos, TimeUnit.NANOSECONDS);
    }
}
