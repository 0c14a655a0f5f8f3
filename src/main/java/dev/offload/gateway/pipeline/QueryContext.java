package dev.offload.gateway.pipeline;

import dev.offload.gateway.cache.CacheHit;
import dev.offload.gateway.cache.CacheScope;
import dev.offload.gateway.offload.policy.OffloadHint;
import dev.offload.gateway.offload.policy.QueryComplexity;
import dev.offload.gateway.privacy.Sensitivity;
import dev.offload.gateway.retrieval.IndexRecords.ChunkHit;

import io.opentelemetry.context.Context;

import java.util.List;

/**
 * One query on its way through the stages, in the order they fill it in: {@link AdmitStage}
 * (tenant, query, budget, stated sensitivity, cache scope), {@link RetrieveStage} (embedding,
 * chunks), {@link CacheStage} (the hit, if any), {@link ProtectStage} (effective sensitivity,
 * tiers and window, packed prompt), {@link AdviseStage} (the hint, once), then
 * {@link GenerateStage} and {@link RecordStage} read it.
 *
 * <p>Not thread-safe, and need not be: the stages run one after another (the worker thread
 * hands the context to the thread that streams the answer through the Mutiny chain).
 */
public final class QueryContext {
    final String tenant;
    final Query query;
    final long startNanos;
    /** The tighter of the query's budget and the transport's deadline; null when neither states one. */
    final Long budgetMs;
    final int k;
    final int maxTokens;
    /** What the query states, or its tenant's default. */
    final Sensitivity asked;
    final CacheScope scope;
    final int historyTokens;
    /**
     * The trace context where the query began (the request's server span, on the caller's
     * thread): the parent of every stage span, whichever thread the stage runs on.
     */
    final Context trace = Context.current();

    /** The cache's ticket taken before retrieval: a document changed meanwhile voids this answer's put. */
    long cacheTicket;
    /** The index sequence this replica had applied when the ticket was taken (shared-cache replication). */
    long indexSequence;
    /** The question under {@code gateway.embedding.question-model}: the cache's and the router's vector. */
    float[] vector;
    /** The question under the index's model, set on a cache miss (the same array when the models are one). */
    float[] searchVector;
    CacheHit cacheHit;
    List<ChunkHit> hits = List.of();
    long retrievedNanos;
    /** The highest of {@link #asked} and every retrieved chunk's label. */
    Sensitivity level;
    /** Every tier in fallback order (the generator's gate drops those {@link #level} may not reach). */
    List<String> tierOrder = List.of();
    PromptBuilder.Prompt prompt;
    OffloadHint hint;

    QueryContext(String tenant, Query query, long startNanos, Long budgetMs, int k, int maxTokens, Sensitivity asked,
                 CacheScope scope) {
        this.tenant = tenant;
        this.query = query;
        this.startNanos = startNanos;
        this.budgetMs = budgetMs;
        this.k = k;
        this.maxTokens = maxTokens;
        this.asked = asked;
        this.scope = scope;
        int n = 0;
        for (var t : query.history()) {
            n += QueryComplexity.tokens(t.content());
        }
        this.historyTokens = n;
    }

    /** Tokens of retrieved context in the packed prompt (0 before {@link ProtectStage}). */
    int contextTokens() {
        return prompt == null ? 0 : Math.max(0, prompt.tokens() - historyTokens - QueryComplexity.tokens(query.text()));
    }

    /** Milliseconds from the query's arrival to {@code nanos}. */
    double millisSinceStart(long nanos) {
        return (nanos - startNanos) / 1e6;
    }
}
