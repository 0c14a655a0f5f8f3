package dev.offload.gateway.pipeline;

import dev.offload.gateway.cache.CacheScope;
import dev.offload.gateway.cache.SemanticCache;
import dev.offload.gateway.generation.ChatTurn;
import dev.offload.gateway.generation.EgressGate;
import dev.offload.gateway.generation.GenerationConfig;
import dev.offload.gateway.generation.GenerationRejectedException;
import dev.offload.gateway.generation.Tier;
import dev.offload.gateway.privacy.Sensitivity;
import dev.offload.gateway.retrieval.InvalidRequestException;
import dev.offload.gateway.retrieval.RetrievalConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The first stage: validation (every violation named, nothing started), the query's budget
 * (the tighter of its own and the transport's), its stated sensitivity (or its tenant's
 * default), its cache scope, and the early refusal of a query whose budget no tier can meet.
 *
 * <p>Thread-safe; runs on the caller's thread, event loop included (no I/O, no embedding).
 */
final class AdmitStage {
    /** Admission's first-token check of the generator: a refusal, or null when any of the tiers may take it. */
    interface DeadlineCheck {
        GenerationRejectedException refuses(List<String> tiers, long deadlineNanos);
    }

    private final QueryConfig config;
    private final RetrievalConfig retrieval;
    private final GenerationConfig generation;
    private final Function<String, Sensitivity> tenantDefault;
    private final Supplier<List<Tier>> tiers;
    private final DeadlineCheck deadlines;
    private final SemanticCache cache;
    private final LongSupplier clock;

    AdmitStage(QueryConfig config, RetrievalConfig retrieval, GenerationConfig generation,
               Function<String, Sensitivity> tenantDefault, Supplier<List<Tier>> tiers, DeadlineCheck deadlines,
               SemanticCache cache, LongSupplier clock) {
        this.config = config;
        this.retrieval = retrieval;
        this.generation = generation;
        this.tenantDefault = tenantDefault;
        this.tiers = tiers;
        this.deadlines = deadlines;
        this.cache = cache;
        this.clock = clock;
    }

    /**
     * A validated query's context.
     *
     * @param callerBudgetMs a deadline the transport imposes (gRPC), null for none
     * @throws InvalidRequestException naming every violation
     */
    QueryContext begin(String tenant, Query q, Long callerBudgetMs) {
        validate(q);
        long start = clock.getAsLong();
        Long budget = q.latencyBudgetMs();
        if (callerBudgetMs != null) {
            budget = budget == null ? callerBudgetMs : Long.valueOf(Math.min(budget, callerBudgetMs));
        }
        Sensitivity asked = asked(tenant, q);
        int maxTokens = q.maxTokens() == null ? generation.defaultMaxTokens() : q.maxTokens();
        return new QueryContext(tenant, q, start, budget, q.k() == null ? config.defaultK() : q.k(), maxTokens, asked,
                scope(q, asked, maxTokens));
    }

    /** The sensitivity a query states, or its tenant's default. */
    Sensitivity asked(String tenant, Query q) {
        return q.sensitivity() != null ? q.sensitivity() : tenantDefault.apply(tenant);
    }

    /** The cache scope of a query: everything besides the question that changes its answer. */
    static CacheScope scope(Query q, Sensitivity asked, int maxTokens) {
        List<String> turns = new ArrayList<>();
        for (ChatTurn t : q.history()) {
            turns.add(t.role() + ":" + t.content());
        }
        // The answer cap is part of the scope: an answer cut at 64 tokens must not serve a device asking for 512.
        return new CacheScope(q.filter(), asked.wireName(), "auto;max-tokens=" + maxTokens, CacheScope.historyDigest(turns));
    }

    /**
     * A query that will generate, with a budget shorter than every tier's time to first token
     * (those its stated sensitivity allows; retrieved documents can only narrow them), is refused
     * now — the answer admission would give after retrieval — unless its exact question is in
     * the cache. Retrieval (embedding and search) costs tens to hundreds of milliseconds on a
     * loaded edge server, which a device with a short budget would otherwise wait out only to be
     * refused. A paraphrase the semantic cache would have matched is not looked for (that needs
     * the embedding).
     *
     * @return the refusal, or null to go on
     */
    GenerationRejectedException refusal(QueryContext ctx) {
        if (ctx.budgetMs == null || ctx.asked == Sensitivity.RESTRICTED || ctx.query.generate() != Query.Generate.ALWAYS) {
            return null;
        }
        List<String> allowed = new ArrayList<>();
        for (Tier t : tiers.get()) {
            if (EgressGate.allows(ctx.asked, t)) {
                allowed.add(t.name());
            }
        }
        GenerationRejectedException refusal = deadlines.refuses(allowed,
                ctx.startNanos + TimeUnit.MILLISECONDS.toNanos(ctx.budgetMs));
        if (refusal == null || cache.containsExact(ctx.tenant, ctx.scope, ctx.query.text())) {
            return null;
        }
        return refusal;
    }

    /** Rejects what cannot be served as asked. */
    void validate(Query q) {
        List<InvalidRequestException.Violation> v = new ArrayList<>();
        if (q.text() == null || q.text().isBlank()) {
            v.add(new InvalidRequestException.Violation("query", "must not be empty"));
        } else if (q.text().length() > retrieval.search().maxQueryChars()) {
            v.add(new InvalidRequestException.Violation("query", "at most " + retrieval.search().maxQueryChars() + " characters"));
        }
        if (q.k() != null && (q.k() < 1 || q.k() > retrieval.search().maxK())) {
            v.add(new InvalidRequestException.Violation("k", "must be between 1 and " + retrieval.search().maxK()));
        }
        if (q.history().size() > config.maxHistoryTurns()) {
            v.add(new InvalidRequestException.Violation("history", "at most " + config.maxHistoryTurns() + " turns"));
        }
        int chars = 0;
        for (int i = 0; i < q.history().size(); i++) {
            ChatTurn t = q.history().get(i);
            if (!t.role().equals("user") && !t.role().equals("assistant")) {
                v.add(new InvalidRequestException.Violation("history[" + i + "].role", "must be user or assistant"));
            }
            chars += t.content().length();
        }
        if (chars > config.maxHistoryChars()) {
            v.add(new InvalidRequestException.Violation("history", "at most " + config.maxHistoryChars() + " characters in total"));
        }
        if (q.maxTokens() != null && (q.maxTokens() < 1 || q.maxTokens() > generation.maxTokensCap())) {
            v.add(new InvalidRequestException.Violation("maxTokens", "must be between 1 and " + generation.maxTokensCap()));
        }
        if (q.temperature() != null && (q.temperature() < 0 || q.temperature() > 2)) {
            v.add(new InvalidRequestException.Violation("temperature", "must be between 0 and 2"));
        }
        if (q.latencyBudgetMs() != null && q.latencyBudgetMs() < 1) {
            v.add(new InvalidRequestException.Violation("latencyBudgetMs", "must be >= 1"));
        }
        if (!v.isEmpty()) {
            throw new InvalidRequestException(400, v.get(0).field() + ": " + v.get(0).message(), v);
        }
    }
}
