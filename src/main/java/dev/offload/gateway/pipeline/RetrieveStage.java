package dev.offload.gateway.pipeline;

import dev.offload.gateway.retrieval.IndexRecords.ChunkHit;
import io.micrometer.core.instrument.Timer;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Embeds the question once (the cache and the index share the vector) and searches the
 * tenant's part of the hybrid index. CPU work: runs on a worker thread, never an event loop.
 */
final class RetrieveStage {
    /** The hybrid index as this stage uses it. */
    interface Index {
        float[] embed(String text);

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
        ctx.vector = index.embed(ctx.query.text());
    }

    void search(QueryContext ctx) {
        ctx.hits = index.search(ctx.tenant, ctx.query.text(), ctx.vector, ctx.k, ctx.query.filter());
        ctx.retrievedNanos = clock.getAsLong();
        retrievalTime.record(ctx.retrievedNanos - ctx.startNanos, TimeUnit.NANOSECONDS);
    }
}
