package dev.offload.gateway.pipeline;

import dev.offload.gateway.cache.SemanticCache;
import dev.offload.gateway.generation.GenerationConfig;
import dev.offload.gateway.generation.GenerationEvent;
import dev.offload.gateway.generation.GenerationRejectedException;
import dev.offload.gateway.generation.Generator;
import dev.offload.gateway.generation.StreamFailedException;
import dev.offload.gateway.generation.Tier;
import dev.offload.gateway.generation.TierRegistry;
import dev.offload.gateway.metrics.MetricNames;
import dev.offload.gateway.offload.OffloadAdvisor;
import dev.offload.gateway.offload.policy.OffloadHint;
import dev.offload.gateway.privacy.PrivacyConfig;
import dev.offload.gateway.privacy.Sensitivity;
import dev.offload.gateway.retrieval.DocumentsChanged;
import dev.offload.gateway.retrieval.HybridSearcher;
import dev.offload.gateway.retrieval.IndexNotReadyException;
import dev.offload.gateway.retrieval.InvalidRequestException;
import dev.offload.gateway.retrieval.RetrievalConfig;
import dev.offload.gateway.retrieval.SearchMode;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;
import java.util.function.ToDoubleFunction;

/**
 * The RAG query path as named stages over one {@link QueryContext}, in the architecture's order:
 * {@link AdmitStage admit} (validate, budget, early refusal) → {@link CacheStage cache} →
 * {@link RetrieveStage retrieve} → {@link ProtectStage protect} (effective sensitivity, tiers,
 * prompt packing) → {@link AdviseStage advise} (the hint, once) → {@link GenerateStage generate}
 * → {@link RecordStage record} (events, cache put, counters). Shared by REST, SSE and gRPC; this
 * class only wires the stages to the gateway's beans and maps failures.
 *
 * <p>Callers subscribe from any thread; embedding, cache lookup and search run on the worker
 * pool, generation events arrive on I/O threads. Cancelling the subscription cancels the
 * backend call.
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
    @Inject
    dev.offload.gateway.retrieval.SharedIndex sharedIndex;
    @Inject
    jakarta.enterprise.event.Event<dev.offload.gateway.cache.CacheEntryStored> cacheStored;
    /** Quarkus' SDK, a no-op unless tracing is switched on (quarkus.otel.sdk.disabled=false). */
    @Inject
    OpenTelemetry openTelemetry;

    /** The question model's vectors, remembered per tenant (a decide and the query after it embed once). */
    @Inject
    dev.offload.gateway.retrieval.QuestionVectors questionVectors;

    /** The time of every stage; the stages' own tests give theirs a fake. */
    LongSupplier clock = System::nanoTime;

    private final List<Meter> cacheMeters = new ArrayList<>();
    private volatile Stages stages;

    /** The stages, built once from the beans. */
    private record Stages(AdmitStage admit, CacheStage cache, RetrieveStage retrieve, ProtectStage protect,
                          AdviseStage advise, GenerateStage generate, RecordStage record, QuerySpans spans) {
    }

    private Stages stages() {
        Stages s = stages;
        if (s == null) {
            QuerySpans spans = new QuerySpans(openTelemetry);
            boolean sharedModel = dev.offload.gateway.retrieval.EmbedderProducer.sameModel(retrieval);
            s = stages = new Stages(
                    new AdmitStage(config, retrieval, generation, privacy::defaultFor, tierRegistry::tiers,
                            generator::refusesDeadline, cache, clock),
                    new CacheStage(cache, sharedIndex::appliedSequence),
                    new RetrieveStage(new RetrieveStage.Index() {
                        @Override
                        public float[] embed(String tenant, String text) {
                            return questionVectors.vector(tenant, text);
                        }

                        @Override
                        public float[] embedForSearch(String text, float[] questionVector) {
                            return sharedModel && questionVector != null ? questionVector : searcher.embed(text);
                        }

                        @Override
                        public List<dev.offload.gateway.retrieval.IndexRecords.ChunkHit> search(String tenant, String text,
                                float[] vector, int k, java.util.Map<String, String> filter) {
                            return searcher.search(tenant, text, vector, k, SearchMode.HYBRID, filter).hits();
                        }
                    }, registry.timer(MetricNames.QUERY_RETRIEVAL_TIME), clock),
                    new ProtectStage(privacy::defaultFor, privacy.sensitivityMetadataKey(), tierRegistry::tiers,
                            name -> tierRegistry.settings(name).maxContextTokens(),
                            new PromptBuilder(config.systemPrompt(), config.contextHeader(), config.minContextChunks()), registry),
                    new AdviseStage(advisor::decide, advisor::localQuality, advisor::view,
                            () -> tierRegistry.first(false).map(Tier::name)),
                    new GenerateStage(generator::generate, generation.defaultDeadline(), spans),
                    new RecordStage(cache, registry, config.snippetChars(), clock, cacheStored::fire), spans);
        }
        return s;
    }

    void onStart(@Observes StartupEvent e) {
        ToDoubleFunction<SemanticCache> exact = c -> c.stats().exactHits();
        cacheMeters.add(FunctionCounter.builder(MetricNames.CACHE_LOOKUPS, cache, exact).tag("result", "exact_hit").register(registry));
        cacheMeters.add(FunctionCounter.builder(MetricNames.CACHE_LOOKUPS, cache, c -> c.stats().semanticHits()).tag("result", "semantic_hit").register(registry));
        cacheMeters.add(FunctionCounter.builder(MetricNames.CACHE_LOOKUPS, cache, c -> c.stats().misses()).tag("result", "miss").register(registry));
        cacheMeters.add(FunctionCounter.builder(MetricNames.CACHE_LOOKUPS, cache, c -> c.stats().ambiguous()).tag("result", "ambiguous").register(registry));
        cacheMeters.add(FunctionCounter.builder(MetricNames.CACHE_LOOKUPS, cache, c -> c.stats().identifierMismatches()).tag("result", "identifier_mismatch").register(registry));
        cacheMeters.add(FunctionCounter.builder(MetricNames.CACHE_LOOKUPS, cache, c -> c.stats().unverified()).tag("result", "unverified").register(registry));
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

    /** The sensitivity a query states, or its tenant's default. */
    public Sensitivity asked(String tenant, Query q) {
        return stages().admit().asked(tenant, q);
    }

    /**
     * True when the gateway holds an answer to exactly this first question (no filters, no
     * history, the default answer cap); cheap: no embedding, fine on the event loop.
     */
    public boolean cachedExactly(String tenant, String text, Sensitivity sensitivity) {
        Query q = new Query(text, null, null, null, sensitivity, null, null, null, null, null, null);
        Sensitivity asked = asked(tenant, q);
        return asked != Sensitivity.RESTRICTED
                && cache.containsExact(tenant, AdmitStage.scope(q, asked, generation.defaultMaxTokens()), q.text());
    }

    /** Rejects what cannot be served as asked; runs on the caller's thread before anything starts. */
    public void validate(Query q) {
        stages().admit().validate(q);
    }

    /**
     * Runs a query for {@code tenant} (from the caller's identity, never from the body).
     *
     * @param callerBudgetMs a deadline the transport imposes (gRPC deadline), null for none;
     *                       the tighter of it and the query's own budget applies
     */
    public Multi<QueryEvent> run(String tenant, Query q, Long callerBudgetMs) {
        Stages st = stages();
        QueryContext ctx = st.admit().begin(tenant, q, callerBudgetMs);
        GenerationRejectedException early = st.admit().refusal(ctx);
        if (early != null) {
            decide(st, ctx);
            return Multi.createFrom().failure(failure(early, ctx));
        }
        return Uni.createFrom().item(() -> {
                    st.cache().ticket(ctx);
                    st.spans().stage(QuerySpans.EMBED, ctx, st.retrieve()::embed);
                    st.spans().stage(QuerySpans.CACHE, ctx, st.cache()::lookup, span -> QuerySpans.cacheLooked(span, ctx));
                    // cache-only: a miss is answered with the hint alone, so nothing is searched for it.
                    if (ctx.cacheHit == null && q.generate() != Query.Generate.CACHE_ONLY) {
                        st.spans().stage(QuerySpans.RETRIEVE, ctx, st.retrieve()::search, span -> QuerySpans.retrieved(span, ctx));
                    }
                    return ctx;
                })
                .runSubscriptionOn(Infrastructure.getDefaultWorkerPool())
                .onItem().transformToMulti(c -> c.cacheHit != null ? cached(st, c) : answer(st, c));
    }

    private static Multi<QueryEvent> cached(Stages st, QueryContext ctx) {
        decide(st, ctx);
        return st.record().fromCache(ctx);
    }

    /** The offload decision, in its span. */
    private static void decide(Stages st, QueryContext ctx) {
        st.spans().stage(QuerySpans.DECIDE, ctx, st.advise()::decide, span -> QuerySpans.decided(span, ctx));
    }

    private Multi<QueryEvent> answer(Stages st, QueryContext ctx) {
        st.protect().apply(ctx);
        decide(st, ctx);
        if (!AdviseStage.generates(ctx)) {
            return st.record().withoutGeneration(ctx);
        }
        st.advise().order(ctx);
        Multi<GenerationEvent> generated = st.generate().stream(ctx).onFailure().transform(f -> failure(f, ctx));
        return st.record().answer(ctx, generated);
    }

    /** A failure as the device sees it: refusals carry the hint turned into "stay local, retry after". */
    private Throwable failure(Throwable f, QueryContext ctx) {
        OffloadHint hint = ctx.hint;
        if (f instanceof GenerationRejectedException r) {
            registry.counter(MetricNames.QUERY_ERRORS, "reason", r.reason()).increment();
            return new QueryFailedException(r.reason(), r.status(), r.retryAfterSeconds() * 1000,
                    advisor.refused(hint, r.reason(), r.retryAfterSeconds() * 1000, ctx.query.device()), false, r.getMessage(), r);
        }
        if (f instanceof StreamFailedException s) {
            registry.counter(MetricNames.QUERY_ERRORS, "reason", "mid_stream_" + s.reason()).increment();
            return new QueryFailedException(s.reason(), 502, null, hint, true,
                    "the generation stream failed after it started (" + s.reason() + ")", s);
        }
        if (f instanceof dev.offload.gateway.generation.BackendRefusedException b) {
            // The gateway wrote this prompt: a backend that calls it invalid is the gateway's upstream failing.
            registry.counter(MetricNames.QUERY_ERRORS, "reason", "backend_refused").increment();
            return new QueryFailedException("backend_refused", 502, null, hint, false,
                    "the tier '" + b.tier() + "' refused the generation request (" + b.status() + "): " + b.getMessage(), b);
        }
        if (f instanceof QueryFailedException || f instanceof InvalidRequestException || f instanceof IndexNotReadyException) {
            return f;
        }
        registry.counter(MetricNames.QUERY_ERRORS, "reason", "internal").increment();
        return new QueryFailedException("internal_error", 500, null, hint, false, "the query failed", f);
    }
}
