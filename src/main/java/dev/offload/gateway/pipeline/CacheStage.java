package dev.offload.gateway.pipeline;

import dev.offload.gateway.cache.SemanticCache;
import dev.offload.gateway.privacy.Sensitivity;

/**
 * The tenant's semantic cache, asked before the index: a hit answers the query without
 * retrieval or generation. Restricted queries are never looked up (nor stored, in
 * {@link RecordStage}). Runs on the worker thread that embedded the question.
 */
final class CacheStage {
    private final SemanticCache cache;
    private final java.util.function.LongSupplier indexSequence;

    CacheStage(SemanticCache cache) {
        this(cache, () -> 0);
    }

    /** @param indexSequence the index sequence applied so far, recorded with the ticket */
    CacheStage(SemanticCache cache, java.util.function.LongSupplier indexSequence) {
        this.cache = cache;
        this.indexSequence = indexSequence;
    }

    /** Taken before retrieval: a document that changes meanwhile voids the put of this answer. */
    void ticket(QueryContext ctx) {
        ctx.cacheTicket = cache.ticket();
        ctx.indexSequence = indexSequence.getAsLong();
    }

    /** Sets {@link QueryContext#cacheHit} when the cache holds an answer to this question in this scope. */
    void lookup(QueryContext ctx) {
        if (ctx.asked != Sensitivity.RESTRICTED) {
            ctx.cacheHit = cache.lookup(ctx.tenant, ctx.scope, ctx.query.text(), ctx.vector).orElse(null);
        }
    }
}
