package dev.offload.gateway.pipeline;

import dev.offload.gateway.generation.GenerationEvent;
import dev.offload.gateway.generation.GenerationRequest;
import dev.offload.gateway.generation.Source;
import io.smallrye.mutiny.Multi;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Turns the protected, advised query into one generation request (the packed prompt, the
 * effective sensitivity the egress gate applies, every tier in the hint's order, the deadline,
 * a prefix-affinity key from the chunks quoted, the retrieved sources for the extractive
 * fallback) and hands it to the generator when the answer stream is subscribed.
 *
 * <p>Thread-safe.
 */
final class GenerateStage {
    private final Function<GenerationRequest, Multi<GenerationEvent>> generator;
    private final Duration defaultDeadline;
    private final QuerySpans spans;

    GenerateStage(Function<GenerationRequest, Multi<GenerationEvent>> generator, Duration defaultDeadline) {
        this(generator, defaultDeadline, new QuerySpans(null));
    }

    /** @param spans where the generation's span starts, current while the generator is called */
    GenerateStage(Function<GenerationRequest, Multi<GenerationEvent>> generator, Duration defaultDeadline, QuerySpans spans) {
        this.generator = generator;
        this.defaultDeadline = defaultDeadline;
        this.spans = spans;
    }

    GenerationRequest request(QueryContext ctx) {
        Query q = ctx.query;
        long deadline = ctx.startNanos + TimeUnit.MILLISECONDS.toNanos(ctx.budgetMs != null ? ctx.budgetMs
                : defaultDeadline.toMillis());
        List<Source> fallback = ctx.hits.stream()
                .map(h -> new Source(h.documentId(), h.chunkId(), h.title(), h.text(), h.score())).toList();
        List<String> quoted = ctx.prompt.chunkIds();
        String affinity = quoted.isEmpty() ? null : Integer.toHexString(quoted.hashCode());
        return new GenerationRequest(ctx.tenant, ctx.prompt.messages(), ctx.maxTokens, q.temperature(), q.priority(),
                deadline, affinity, ctx.tierOrder, () -> fallback, ctx.level);
    }

    /**
     * The generation, started on subscription: a client that leaves before the sources were
     * sent never subscribes, and a generation assembled for it would sit in the coalescing map
     * unstarted. Its span ({@link QuerySpans#GENERATE}) starts then too.
     */
    Multi<GenerationEvent> stream(QueryContext ctx) {
        GenerationRequest g = request(ctx);
        return Multi.createFrom().deferred(() -> spans.generation(ctx, () -> generator.apply(g)));
    }
}
