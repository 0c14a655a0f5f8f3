package dev.offload.gateway.pipeline;

import dev.offload.gateway.generation.ChatTurn;
import dev.offload.gateway.generation.EgressGate;
import dev.offload.gateway.generation.GenerationConfig;
import dev.offload.gateway.generation.GenerationEvent;
import dev.offload.gateway.generation.GenerationRejectedException;
import dev.offload.gateway.generation.GenerationRequest;
import dev.offload.gateway.generation.Generator;
import dev.offload.gateway.generation.Source;
import dev.offload.gateway.generation.StreamFailedException;
import dev.offload.gateway.generation.Tier;
import dev.offload.gateway.generation.TierRegistry;
import dev.offload.gateway.metrics.MetricNames;
import dev.offload.gateway.offload.OffloadAdvisor;
import dev.offload.gateway.offload.OffloadHint;
import dev.offload.gateway.offload.OffloadPolicy;
import dev.offload.gateway.offload.QueryComplexity;
import dev.offload.gateway.pipeline.QueryEvent.Final;
import dev.offload.gateway.pipeline.QueryEvent.SourceRef;
import dev.offload.gateway.pipeline.QueryEvent.Sources;
import dev.offload.gateway.pipeline.QueryEvent.Timings;
import dev.offload.gateway.cache.CacheHit;
import dev.offload.gateway.cache.CacheScope;
import dev.offload.gateway.cache.CachedSource;
import dev.offload.gateway.cache.SemanticCache;
import dev.offload.gateway.privacy.PrivacyConfig;
import dev.offload.gateway.privacy.Sensitivity;
import dev.offload.gateway.retrieval.DocumentsChanged;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.event.Observes;
import java.util.Optional;
import java.util.function.ToDoubleFunction;
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
    TierRegistry tierRegistry;
    @Inject
    RetrievalConfig retrieval;
    @Inject
    MeterRegistry registry;
    @Inject
    SemanticCache cache;
    @Inject
    PrivacyConfig privacy;

    /** The prompt window when no tier is configured (the answer is extractive then). */
    private static final int DEFAULT_WINDOW = 4096;

    private volatile PromptBuilder prompts;
    private final List<Meter> cacheMeters = new ArrayList<>();

    void onStart(@Observes StartupEvent e) {
        ToDoubleFunction<SemanticCache> exact = c -> c.stats().exactHits();
        cacheMeters.add(FunctionCounter.builder(MetricNames.CACHE_LOOKUPS, cache, exact).tag("result", "exact_hit").register(registry));
        cacheMeters.add(FunctionCounter.builder(MetricNames.CACHE_LOOKUPS, cache, c -> c.stats().semanticHits()).tag("result", "semantic_hit").register(registry));
        cacheMeters.add(FunctionCounter.builder(MetricNames.CACHE_LOOKUPS, cache, c -> c.stats().misses()).tag("result", "miss").register(registry));
        cacheMeters.add(FunctionCounter.builder(MetricNames.CACHE_LOOKUPS, cache, c -> c.stats().ambiguous()).tag("result", "ambiguous").register(registry));
        cacheMeters.add(FunctionCounter.builder(MetricNames.CACHE_PUTS, cache, c -> c.stats().stored()).tag("result", "stored").register(registry));
        cacheMeters.add(FunctionCounter.builder(MetricNames.CACHE_PUTS, cache, c -> c.stats().rejected()).tag("result", "rejected").register(registry));
        cacheMeters.add(FunctionCounter.builder(MetricNames.CACHE_EVICTIONS, cache, c -> c.stats().evictions()).tag("reason", "capacity").register(registry));
        cacheMeters.add(FunctionCounter.builder(MetricNames.CACHE_EVICTIONS, cache, c -> c.stats().expirations()).tag("reason", "expired").register(registry));
        cacheMeters.add(FunctionCounter.builder(MetricNames.CACHE_EVICTIONS, cache, c -> c.stats().invalidations()).tag("reason", "invalidated").register(registry));
        cacheMeters.add(FunctionCounter.builder(MetricNames.CACHE_EVICTIONS, cache, c -> c.stats().replaced()).tag("reason", "replaced").register(registry));
        cacheMeters.add(Gauge.builder(MetricNames.CACHE_ENTRIES, cache, c -> c.stats().entries()).register(registry));
        cacheMeters.add(Gauge.builder(MetricNames.CACHE_BYTES, cache, c -> c.stats().bytes()).register(registry));
    }

    void onStop(@Observes ShutdownEvent e) {
        cacheMeters.forEach(registry::remove); // a later start in the same JVM (tests) registers its own
        cacheMeters.clear();
    }

    /** Answers built from a changed document are stale: drop them before the next lookup can see them. */
    void onDocumentsChanged(@Observes DocumentsChanged e) {
        for (String id : e.documentIds()) {
            cache.invalidateDocument(e.tenant(), id);
        }
    }

    /** The cache scope of a query: everything besides the question that changes its answer. */
    CacheScope scope(Query q, Sensitivity asked) {
        List<String> turns = new ArrayList<>();
        for (ChatTurn t : q.history()) {
            turns.add(t.role() + ":" + t.content());
        }
        // The answer cap is part of the scope: an answer cut at 64 tokens must not serve a device asking for 512.
        int maxTokens = q.maxTokens() == null ? generation.defaultMaxTokens() : q.maxTokens();
        return new CacheScope(q.filter(), asked.wireName(), "auto;max-tokens=" + maxTokens, CacheScope.historyDigest(turns));
    }

    /** The sensitivity a query states, or its tenant's default. */
    public Sensitivity asked(String tenant, Query q) {
        return q.sensitivity() != null ? q.sensitivity() : privacy.defaultFor(tenant);
    }

    /**
     * True when the gateway holds an answer to exactly this first question (no filters, no
     * history, the default answer cap); cheap: no embedding, fine on the event loop.
     */
    public boolean cachedExactly(String tenant, String text, Sensitivity sensitivity) {
        Query q = new Query(text, null, null, null, sensitivity, null, null, null, null, null, null);
        Sensitivity asked = asked(tenant, q);
        return asked != Sensitivity.RESTRICTED && cache.containsExact(tenant, scope(q, asked), q.text());
    }

    /** What retrieval produced on a worker thread: a cache hit, or the chunks to answer from. */
    private record Retrieved(List<ChunkHit> hits, float[] vector, long ticket, CacheScope scope, CacheHit hit) {
    }

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
        Sensitivity asked = asked(tenant, q);
        Throwable early = refusedBeforeRetrieval(tenant, q, asked, start, finalBudget);
        if (early != null) {
            return Multi.createFrom().failure(early);
        }
        return Uni.createFrom().item(() -> retrieve(tenant, q, k, asked))
                .runSubscriptionOn(Infrastructure.getDefaultWorkerPool())
                .onItem().transformToMulti(r -> r.hit() != null ? fromCache(q, r.hit(), start, finalBudget, asked)
                        : answer(tenant, q, r, start, finalBudget, asked));
    }

    /**
     * A query that will generate, with a budget shorter than every tier's time to first token
     * (those its stated sensitivity allows; retrieved documents can only narrow them), is refused
     * now — 429, Retry-After and the hint, the answer admission would give after retrieval —
     * unless its exact question is in the cache. Retrieval (embedding and search) costs tens to
     * hundreds of milliseconds on a loaded edge server, which a device with a short budget would
     * otherwise wait out only to be refused. A paraphrase the semantic cache would have
     * matched is not looked for (that needs the embedding).
     */
    private Throwable refusedBeforeRetrieval(String tenant, Query q, Sensitivity asked, long start, Long budget) {
        if (budget == null || asked == Sensitivity.RESTRICTED || q.generate() != Query.Generate.ALWAYS) {
            return null;
        }
        List<String> allowed = new ArrayList<>();
        for (Tier t : generator.tiers()) {
            if (EgressGate.allows(asked, t)) {
                allowed.add(t.name());
            }
        }
        GenerationRejectedException refusal = generator.refusesDeadline(allowed,
                start + TimeUnit.MILLISECONDS.toNanos(budget));
        if (refusal == null || cache.containsExact(tenant, scope(q, asked), q.text())) {
            return null;
        }
        OffloadHint hint = advisor.decide(new OffloadPolicy.Input(q.device(), q.text(), historyTokens(q), 0, asked, budget,
                advisor.view(false)));
        return failure(refusal, hint, q);
    }

    /** Embeds once; the cache is asked first (never for restricted queries), then the index. */
    private Retrieved retrieve(String tenant, Query q, int k, Sensitivity asked) {
        CacheScope scope = scope(q, asked);
        long ticket = cache.ticket(); // before retrieval: a document changed meanwhile voids the answer's put
        float[] vector = searcher.embed(q.text());
        if (asked != Sensitivity.RESTRICTED) {
            Optional<CacheHit> hit = cache.lookup(tenant, scope, q.text(), vector);
            if (hit.isPresent()) {
                return new Retrieved(List.of(), vector, ticket, scope, hit.get());
            }
        }
        var r = searcher.search(tenant, q.text(), vector, k, SearchMode.HYBRID, q.filter());
        return new Retrieved(r.hits(), vector, ticket, scope, null);
    }

    /** A cached answer, replayed word by word so a streaming device sees the same events as for a generated one. */
    private Multi<QueryEvent> fromCache(Query q, CacheHit hit, long start, Long budget, Sensitivity asked) {
        double retrieveMs = (System.nanoTime() - start) / 1e6;
        OffloadHint hint = advisor.decide(new OffloadPolicy.Input(q.device(), q.text(), historyTokens(q), 0, asked, budget,
                advisor.view(true)));
        List<QueryEvent> events = new ArrayList<>();
        events.add(new Sources(hit.sources().stream()
                .map(s -> new SourceRef(s.documentId(), s.chunkId(), s.title(), s.score(), s.snippet())).toList()));
        for (String piece : hit.answer().split("(?<=\\s)")) {
            events.add(new QueryEvent.Token(piece));
        }
        registry.counter(MetricNames.QUERIES, "served_by", "cache").increment();
        events.add(new Final(hit.answer(), "cache", hint, new Timings(retrieveMs, null, null, (System.nanoTime() - start) / 1e6),
                null, List.of(), hit.similarity()));
        return Multi.createFrom().iterable(events);
    }

    private static int historyTokens(Query q) {
        int n = 0;
        for (ChatTurn t : q.history()) {
            n += QueryComplexity.tokens(t.content());
        }
        return n;
    }

    private Multi<QueryEvent> answer(String tenant, Query q, Retrieved r, long start, Long budget, Sensitivity asked) {
        List<ChunkHit> hits = r.hits();
        long retrieved = System.nanoTime();
        registry.timer(MetricNames.QUERY_RETRIEVAL_TIME).record(retrieved - start, TimeUnit.NANOSECONDS);
        Sensitivity effective = asked;
        for (ChunkHit h : hits) {
            effective = Sensitivity.max(effective, documentSensitivity(tenant, h));
        }
        Sensitivity level = effective;
        // Every tier goes to the generator, whose egress gate keeps the request from those its
        // sensitivity may not reach (and redacts for those outside the edge zone); the ones it
        // may reach decide the prompt's window here.
        List<String> order = new ArrayList<>();
        int window = Integer.MAX_VALUE;
        for (Tier t : generator.tiers()) {
            order.add(t.name());
            if (EgressGate.allows(level, t)) {
                window = Math.min(window, tierRegistry.settings(t.name()).maxContextTokens());
            }
        }
        if (level == Sensitivity.RESTRICTED) {
            registry.counter(MetricNames.PRIVACY_REFUSALS, "sensitivity", level.wireName(), "reason", "restricted").increment();
        }
        if (window == Integer.MAX_VALUE) {
            window = order.isEmpty() ? DEFAULT_WINDOW : tierRegistry.settings(order.get(0)).maxContextTokens();
        }
        int maxTokens = q.maxTokens() == null ? generation.defaultMaxTokens() : q.maxTokens();
        List<PromptBuilder.Chunk> chunks = hits.stream()
                .map(h -> new PromptBuilder.Chunk(h.chunkId(), h.title(), h.text(), h.score())).toList();
        PromptBuilder.Prompt prompt = prompts().build(q.text(), q.history(), chunks, Math.max(0, window - maxTokens));
        int historyTokens = historyTokens(q);
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
                    null, List.of(), null);
            return Multi.createFrom().items(sources, f);
        }
        if (hint.target() == OffloadHint.Target.CLOUD) {
            // The edge zone cannot meet the budget: try the first tier outside it first.
            tierRegistry.first(false).ifPresent(t -> {
                order.remove(t.name());
                order.add(0, t.name());
            });
        }
        long deadline = start + TimeUnit.MILLISECONDS.toNanos(budget != null ? budget : generation.defaultDeadline().toMillis());
        List<Source> fallback = hits.stream().map(h -> new Source(h.documentId(), h.chunkId(), h.title(), h.text(), h.score())).toList();
        String affinity = prompt.chunkIds().isEmpty() ? null : Integer.toHexString(prompt.chunkIds().hashCode());
        GenerationRequest g = new GenerationRequest(tenant, prompt.messages(), maxTokens, q.temperature(), q.priority(),
                deadline, affinity, order, () -> fallback, level);
        StringBuilder answer = new StringBuilder();
        // Deferred: a client that leaves before the sources were sent never subscribes, and a
        // generation assembled for it would sit in the coalescing map unstarted.
        Multi<QueryEvent> generated = Multi.createFrom().deferred(() -> generator.generate(g)).onItem().transformToMultiAndConcatenate(e -> {
            if (e instanceof GenerationEvent.Token t) {
                synchronized (answer) {
                    answer.append(t.text());
                }
                return Multi.createFrom().item((QueryEvent) new QueryEvent.Token(t.text()));
            }
            GenerationEvent.Completed c = (GenerationEvent.Completed) e;
            List<QueryEvent> out = new ArrayList<>(1);
            registry.counter(MetricNames.QUERIES, "served_by", c.servedBy()).increment();
            String text;
            synchronized (answer) {
                text = answer.toString();
            }
            boolean generatedByModel = !c.servedBy().equals("extractive");
            if (generatedByModel) {
                // Whole answers, or answers cut at the cap the scope names; never a stream that broke off.
                if (asked != Sensitivity.RESTRICTED && ("stop".equals(c.finishReason()) || "length".equals(c.finishReason()))) {
                    cache.put(r.ticket(), tenant, r.scope(), q.text(), r.vector(), text, hits.stream()
                            .map(h -> new CachedSource(h.documentId(), h.chunkId(), h.title(), h.score(), ref(h).snippet())).toList());
                }
            }
            out.add(new Final(text, c.servedBy(), hint, new Timings(retrieveMs, c.queueNanos() / 1e6,
                    generatedByModel ? c.ttftNanos() / 1e6 : null, (System.nanoTime() - start) / 1e6),
                    c.fallbackReason(),
                    prompt.chunkIds(), null));
            return Multi.createFrom().iterable(out);
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

    private Sensitivity documentSensitivity(String tenant, ChunkHit h) {
        String v = h.metadata() == null ? null : h.metadata().get(privacy.sensitivityMetadataKey());
        try {
            return Sensitivity.parse(v, privacy.defaultFor(tenant));
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
