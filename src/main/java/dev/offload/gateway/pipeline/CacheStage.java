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

    CacheStage(SemanticCache cache) {
        this.cache = cache;
    }

    /** Taken before retrieval: a document that changes meanwhile voids the put of this answer. */
    void ticket(QueryContext ctx) {
        ctx.cacheTicket = cache.ticket();
    }

    /** Sets {@link QueryContext#cacheHit} when the cache holds an answer to this question in this scope. */
    void lookup(QueryContext ctx) {
        if (ctx.asked != Sensitivity.RESTRICTED) {
            ctx.cacheHit = cache.lookup(ctx.tenant, ctx.scope, ctx.query.text(), ctx.vector).orElse(null);
        }
    }
}
