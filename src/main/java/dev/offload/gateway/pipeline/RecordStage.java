package dev.offload.gateway.pipeline;

import dev.offload.gateway.cache.CacheHit;
import dev.offload.gateway.cache.CachedSource;
import dev.offload.gateway.cache.SemanticCache;
import dev.offload.gateway.generation.GenerationEvent;
import dev.offload.gateway.metrics.MetricNames;
import dev.offload.gateway.pipeline.QueryEvent.Final;
import dev.offload.gateway.pipeline.QueryEvent.SourceRef;
import dev.offload.gateway.pipeline.QueryEvent.Sources;
import dev.offload.gateway.pipeline.QueryEvent.Timings;
import dev.offload.gateway.privacy.Sensitivity;
import dev.offload.gateway.retrieval.IndexRecords.ChunkHit;
import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.mutiny.Multi;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * The last stage: what the device receives ({@link QueryEvent}s: the sources, the answer's
 * tokens, the final event with the hint and timings) and what the gateway keeps (a whole model
 * answer in the semantic cache, per-outcome counters).
 *
 * <p>Thread-safe; {@link #answer} assembles tokens arriving on I/O threads, in order.
 */
final class RecordStage {
    private final SemanticCache cache;
    private final MeterRegistry registry;
    private final int snippetChars;
    private final LongSupplier clock;

    private final java.util.function.Consumer<dev.offload.gateway.cache.CacheEntryStored> stored;

    RecordStage(SemanticCache cache, MeterRegistry registry, int snippetChars, LongSupplier clock) {
        this(cache, registry, snippetChars, clock, e -> {
        });
    }

    /** @param stored told of every answer this stage stored (cluster mode shares it with the other replicas) */
    RecordStage(SemanticCache cache, MeterRegistry registry, int snippetChars, LongSupplier clock,
                java.util.function.Consumer<dev.offload.gateway.cache.CacheEntryStored> stored) {
        this.stored = stored;
        this.cache = cache;
        this.registry = registry;
        this.snippetChars = snippetChars;
        this.clock = clock;
    }

    /** A cached answer, replayed word by word so a streaming device sees the same events as for a generated one. */
    Multi<QueryEvent> fromCache(QueryContext ctx) {
        CacheHit hit = ctx.cacheHit;
        double retrieveMs = ctx.millisSinceStart(clock.getAsLong());
        List<QueryEvent> events = new ArrayList<>();
        events.add(new Sources(hit.sources().stream()
                .map(s -> new SourceRef(s.documentId(), s.chunkId(), s.title(), s.score(), s.snippet())).toList()));
        for (String piece : hit.answer().split("(?<=\\s)")) {
            events.add(new QueryEvent.Token(piece));
        }
        registry.counter(MetricNames.QUERIES, "served_by", "cache").increment();
        events.add(new Final(hit.answer(), "cache", ctx.hint, new Timings(retrieveMs, null, null,
                ctx.millisSinceStart(clock.getAsLong())), null, List.of(), hit.similarity(), null));
        return Multi.createFrom().iterable(events);
    }

    /** The sources and the hint, nothing generated ({@code servedBy:"none"}). */
    Multi<QueryEvent> withoutGeneration(QueryContext ctx) {
        registry.counter(MetricNames.QUERIES, "served_by", "none").increment();
        long now = clock.getAsLong();
        // A cache-only miss searched nothing: its lookup time stands where a search's would.
        long looked = ctx.retrievedNanos == 0 ? now : ctx.retrievedNanos;
        Final f = new Final(null, "none", ctx.hint, new Timings(ctx.millisSinceStart(looked), null, null,
                ctx.millisSinceStart(now)), null, List.of(), null, null);
        return Multi.createFrom().items(sources(ctx), f);
    }

    /** The sources, then the generated answer's tokens and its final event; a whole model answer is cached. */
    Multi<QueryEvent> answer(QueryContext ctx, Multi<GenerationEvent> generated) {
        StringBuilder answer = new StringBuilder();
        double retrieveMs = ctx.millisSinceStart(ctx.retrievedNanos);
        Multi<QueryEvent> events = generated.onItem().transformToMultiAndConcatenate(e -> {
            if (e instanceof GenerationEvent.Token t) {
                synchronized (answer) {
                    answer.append(t.text());
                }
                return Multi.createFrom().item((QueryEvent) new QueryEvent.Token(t.text()));
            }
            GenerationEvent.Completed c = (GenerationEvent.Completed) e;
            registry.counter(MetricNames.QUERIES, "served_by", c.servedBy()).increment();
            String text;
            synchronized (answer) {
                text = answer.toString();
            }
            boolean byModel = !c.servedBy().equals("extractive");
            // Whole answers, or answers cut at the cap the scope names; never a stream that broke off.
            if (byModel && ctx.asked != Sensitivity.RESTRICTED
                    && ("stop".equals(c.finishReason()) || "length".equals(c.finishReason()))) {
                List<CachedSource> cited = ctx.hits.stream()
                        .map(h -> new CachedSource(h.documentId(), h.chunkId(), h.title(), h.score(), ref(h).snippet())).toList();
                if (cache.put(ctx.cacheTicket, ctx.tenant, ctx.scope, ctx.query.text(), ctx.vector, text, cited)) {
                    stored.accept(new dev.offload.gateway.cache.CacheEntryStored(ctx.tenant, ctx.scope, ctx.query.text(),
                            ctx.vector, text, cited, ctx.indexSequence));
                }
            }
            return Multi.createFrom().item((QueryEvent) new Final(text, c.servedBy(), ctx.hint, new Timings(retrieveMs,
                    c.queueNanos() / 1e6, byModel ? c.ttftNanos() / 1e6 : null, ctx.millisSinceStart(clock.getAsLong())),
                    c.fallbackReason(), ctx.prompt.chunkIds(), null, c));
        });
        return Multi.createBy().concatenating().streams(Multi.createFrom().item(sources(ctx)), events);
    }

    Sources sources(QueryContext ctx) {
        return new Sources(ctx.hits.stream().map(this::ref).toList());
    }

    private SourceRef ref(ChunkHit h) {
        String text = h.text() == null ? "" : h.text();
        String snippet = text;
        if (text.length() > snippetChars) {
            int cut = text.lastIndexOf(' ', snippetChars);
            snippet = text.substring(0, cut > snippetChars / 2 ? cut : snippetChars).strip() + "…";
        }
        return new SourceRef(h.documentId(), h.chunkId(), h.title(), h.score(), snippet);
    }
}
