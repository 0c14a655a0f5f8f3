package dev.offload.gateway.pipeline;

import dev.offload.gateway.generation.ChatTurn;
import dev.offload.gateway.generation.GenerationConfig;
import dev.offload.gateway.generation.GenerationEvent;
import dev.offload.gateway.generation.GenerationRejectedException;
import dev.offload.gateway.generation.GenerationRequest;
import dev.offload.gateway.generation.Generator;
import dev.offload.gateway.generation.Source;
import dev.offload.gateway.generation.StreamFailedException;
import dev.offload.gateway.generation.Tier;
import dev.offload.gateway.generation.TiersConfig;
import dev.offload.gateway.metrics.MetricNames;
import dev.offload.gateway.offload.OffloadAdvisor;
import dev.offload.gateway.offload.OffloadHint;
import dev.offload.gateway.offload.OffloadPolicy;
import dev.offload.gateway.offload.QueryComplexity;
import dev.offload.gateway.pipeline.QueryEvent.Final;
import dev.offload.gateway.pipeline.QueryEvent.SourceRef;
import dev.offload.gateway.pipeline.QueryEvent.Sources;
import dev.offload.gateway.pipeline.QueryEvent.Timings;
import dev.offload.gateway.privacy.Sensitivity;
import dev.offload.gateway.retrieval.HybridSearcher;
import dev.offload.gateway.retrieval.IndexRecords.ChunkHit;
import dev.offload.gateway.retrieval.InvalidRequestException;
import dev.offload.gateway.retrieval.RetrievalConfig;
import dev.offload.gateway.retrieval.SearchMode;
import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The RAG query path: retrieve (worker thread) → apply the sensitivity policy → decide the
 * offload hint → pack the prompt into the tier's window → generate through the tiers (or not)
 * → stream {@link QueryEvent}s. Shared by REST, SSE and gRPC.
 *
 * <p>Callers subscribe from any thread; retrieval runs on the worker pool, generation events
 * arrive on I/O threads. Cancelling the subscription cancels the backend call.
 */
@ApplicationScoped
public class QueryPipeline {
    @Inject
    HybridSearcher searcher;
    @Inject
    Generator generator;
    @Inject
    OffloadAdvisor advisor;
    @Inject
    QueryConfig config;
    @Inject
    GenerationConfig generation;
    @Inject
    TiersConfig tiersConfig;
    @Inject
    RetrievalConfig retrieval;
    @Inject
    MeterRegistry registry;

    private volatile PromptBuilder prompts;

    /** Rejects what cannot be served as asked; runs on the caller's thread before anything starts. */
    public void validate(Query q) {
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

    /**
     * Runs a query for {@code tenant} (from the caller's identity, never from the body).
     *
     * @param callerBudgetMs a deadline the transport imposes (gRPC deadline), null for none;
     *                       the tighter of it and the query's own budget applies
     */
    public Multi<QueryEvent> run(String tenant, Query q, Long callerBudgetMs) {
        validate(q);
        long start = System.nanoTime();
        Long budget = q.latencyBudgetMs();
        if (callerBudgetMs != null) {
            budget = budget == null ? callerBudgetMs : Long.valueOf(Math.min(budget, callerBudgetMs));
        }
        Long finalBudget = budget;
        int k = q.k() == null ? config.defaultK() : q.k();
        return Uni.createFrom().item(() -> searcher.search(tenant, q.text(), k, SearchMode.HYBRID, q.filter()))
                .runSubscriptionOn(Infrastructure.getDefaultWorkerPool())
                .onItem().transformToMulti(r -> answer(tenant, q, r.hits(), start, finalBudget));
    }

    private Multi<QueryEvent> answer(String tenant, Query q, List<ChunkHit> hits, long start, Long budget) {
        long retrieved = System.nanoTime();
        registry.timer(MetricNames.QUERY_RETRIEVAL_TIME).record(retrieved - start, TimeUnit.NANOSECONDS);
        Sensitivity asked = q.sensitivity() != null ? q.sensitivity()
                : Sensitivity.parse(config.defaultSensitivity(), Sensitivity.INTERNAL);
        Sensitivity effective = asked;
        for (ChunkHit h : hits) {
            effective = effective.max(documentSensitivity(h));
        }
        Sensitivity level = effective;
        List<String> allowed = new ArrayList<>();
        int window = Integer.MAX_VALUE;
        List<String> order = new ArrayList<>();
        for (Tier t : generator.tiers()) {
            order.add(t.name());
        }
        for (String name : order) {
            Tier t = generator.tier(name);
            if (level.allowsTier(t.external() || name.equals("cloud"))) {
                allowed.add(name);
                window = Math.min(window, (name.equals("edge") ? tiersConfig.edge() : tiersConfig.cloud()).maxContextTokens());
            }
        }
        if (window == Integer.MAX_VALUE) {
            window = tiersConfig.edge().maxContextTokens();
        }
        int maxTokens = q.maxTokens() == null ? generation.defaultMaxTokens() : q.maxTokens();
        List<PromptBuilder.Chunk> chunks = hits.stream()
                .map(h -> new PromptBuilder.Chunk(h.chunkId(), h.title(), h.text(), h.score())).toList();
        PromptBuilder.Prompt prompt = prompts().build(q.text(), q.history(), chunks, Math.max(0, window - maxTokens));
        int historyTokens = 0;
        for (ChatTurn t : q.history()) {
            historyTokens += QueryComplexity.tokens(t.content());
        }
        int contextTokens = Math.max(0, prompt.tokens() - historyTokens - QueryComplexity.tokens(q.text()));
        OffloadHint hint = advisor.decide(new OffloadPolicy.Input(q.device(), q.text(), historyTokens, contextTokens,
                level, budget, advisor.view(false)));
        Sources sources = new Sources(hits.stream().map(this::ref).toList());
        double retrieveMs = (retrieved - start) / 1e6;

        boolean noGeneration = level == Sensitivity.RESTRICTED || q.generate() == Query.Generate.NEVER
                || q.generate() == Query.Generate.UNLESS_LOCAL && hint.target() == OffloadHint.Target.LOCAL;
        if (noGeneration) {
            registry.counter(MetricNames.QUERIES, "served_by", "none").increment();
            Final f = new Final(null, "none", hint, new Timings(retrieveMs, null, null, (System.nanoTime() - start) / 1e6),
                    null, List.of());
            return Multi.createFrom().items(sources, f);
        }
        if (hint.target() == OffloadHint.Target.CLOUD && allowed.remove("cloud")) {
            allowed.add(0, "cloud"); // the edge cannot meet the budget: try the regional tier first
        }
        long deadline = start + TimeUnit.MILLISECONDS.toNanos(budget != null ? budget : generation.defaultDeadline().toMillis());
        List<Source> fallback = hits.stream().map(h -> new Source(h.documentId(), h.chunkId(), h.title(), h.text(), h.score())).toList();
        String affinity = prompt.chunkIds().isEmpty() ? null : Integer.toHexString(prompt.chunkIds().hashCode());
        GenerationRequest g = new GenerationRequest(tenant, prompt.messages(), maxTokens, q.temperature(), q.priority(),
                deadline, affinity, allowed, () -> fallback);
        String sensitivityFallback = allowed.isEmpty() && !order.isEmpty() ? "sensitivity:" + level.wire() : null;
        StringBuilder answer = new StringBuilder();
        Multi<QueryEvent> generated = generator.generate(g).map(e -> {
            if (e instanceof GenerationEvent.Token t) {
                synchronized (answer) {
                    answer.append(t.text());
                }
                return (QueryEvent) new QueryEvent.Token(t.text());
            }
            GenerationEvent.Completed c = (GenerationEvent.Completed) e;
            registry.counter(MetricNames.QUERIES, "served_by", c.servedBy()).increment();
            String text;
            synchronized (answer) {
                text = answer.toString();
            }
            boolean generatedByModel = !c.servedBy().equals("extractive");
            return new Final(text, c.servedBy(), hint, new Timings(retrieveMs, c.queueNanos() / 1e6,
                    generatedByModel ? c.ttftNanos() / 1e6 : null, (System.nanoTime() - start) / 1e6),
                    sensitivityFallback != null && !generatedByModel ? sensitivityFallback : c.fallbackReason(),
                    prompt.chunkIds());
        }).onFailure().transform(f -> failure(f, hint, q));
        return Multi.createBy().concatenating().streams(Multi.createFrom().item(sources), generated);
    }

    private Throwable failure(Throwable f, OffloadHint hint, Query q) {
        if (f instanceof GenerationRejectedException r) {
            registry.counter(MetricNames.QUERY_ERRORS, "reason", r.reason()).increment();
            return new QueryFailedException(r.reason(), r.status(), r.retryAfterSeconds() * 1000,
                    advisor.refused(hint, r.reason(), r.retryAfterSeconds() * 1000, q.device()), false, r.getMessage(), r);
        }
        if (f instanceof StreamFailedException s) {
            registry.counter(MetricNames.QUERY_ERRORS, "reason", "mid_stream_" + s.reason()).increment();
            return new QueryFailedException(s.reason(), 502, null, hint, true,
                    "the generation stream failed after it started (" + s.reason() + ")", s);
        }
        if (f instanceof QueryFailedException || f instanceof InvalidRequestException
                || f instanceof dev.offload.gateway.retrieval.IndexNotReadyException) {
            return f;
        }
        registry.counter(MetricNames.QUERY_ERRORS, "reason", "internal").increment();
        return new QueryFailedException("internal_error", 500, null, hint, false, "the query failed", f);
    }

    private Sensitivity documentSensitivity(ChunkHit h) {
        String v = h.metadata() == null ? null : h.metadata().get(config.sensitivityKey());
        try {
            return Sensitivity.parse(v, Sensitivity.parse(config.defaultSensitivity(), Sensitivity.INTERNAL));
        } catch (IllegalArgumentException e) {
            return Sensitivity.RESTRICTED; // an unreadable label protects the most
        }
    }

    private SourceRef ref(ChunkHit h) {
        String text = h.text() == null ? "" : h.text();
        int max = config.snippetChars();
        String snippet = text;
        if (text.length() > max) {
            int cut = text.lastIndexOf(' ', max);
            snippet = text.substring(0, cut > max / 2 ? cut : max).strip() + "…";
        }
        return new SourceRef(h.documentId(), h.chunkId(), h.title(), h.score(), snippet);
    }

    private PromptBuilder prompts() {
        PromptBuilder p = prompts;
        if (p == null) {
            p = prompts = new PromptBuilder(config.systemPrompt(), config.contextHeader(), config.minContextChunks());
        }
        return p;
    }
}
