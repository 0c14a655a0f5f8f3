package dev.offload.gateway.generation;

import dev.offload.gateway.generation.GenerationEvent.Completed;
import dev.offload.gateway.generation.GenerationEvent.Token;
import dev.offload.gateway.metrics.MetricNames;
import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.mutiny.subscription.MultiEmitter;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.LongSupplier;

/**
 * The last tier of the fallback chain: an answer quoted from the request's retrieved sources
 * ({@link ExtractiveAnswerer}), computed in the gateway, when no model could serve. Nothing
 * leaves the gateway. The sources are fetched on {@code worker} (retrieval is CPU work).
 *
 * <p>Thread-safe.
 */
final class ExtractiveFallback {
    private final ExtractiveAnswerer answerer;
    private final Executor worker;
    private final MeterRegistry registry;
    private final LongSupplier clock;

    ExtractiveFallback(ExtractiveAnswerer answerer, Executor worker, MeterRegistry registry, LongSupplier clock) {
        this.answerer = answerer;
        this.worker = worker;
        this.registry = registry;
        this.clock = clock;
    }

    /**
     * Emits the answer to the request's last message, then a {@link Completed} served by
     * {@code extractive}, and completes {@code em}; fails it if the sources cannot be had.
     *
     * @param reason       why no model served ({@code <tier>:<reason>}, {@code no_tier_configured}, {@code sensitivity:<level>})
     * @param attempts     backend attempts made before
     * @param createdNanos when the request arrived, on the generator's clock
     */
    void answer(GenerationRequest request, String reason, int attempts, long createdNanos,
                MultiEmitter<? super GenerationEvent> em) {
        CompletableFuture.supplyAsync(() -> request.fallbackSources().get(), worker).whenComplete((sources, failure) -> {
            if (failure != null) {
                em.fail(failure);
                return;
            }
            List<String> lines;
            try {
                lines = answerer.answer(request.messages().get(request.messages().size() - 1).content(), sources);
            } catch (RuntimeException e) {
                em.fail(e);
                return;
            }
            int chars = 0;
            for (int i = 0; i < lines.size(); i++) {
                String piece = (i == 0 ? "" : "\n") + lines.get(i);
                em.emit(new Token(piece));
                chars += piece.length();
            }
            em.emit(new Completed("extractive", null, "stop", request.promptTokenEstimate(), tokens(chars),
                    clock.getAsLong() - createdNanos, 0, attempts, reason, 0));
            registry.counter(MetricNames.REQUESTS, "served_by", "extractive").increment();
            em.complete();
        });
    }

    /** Usage as the prompt's is estimated: about 4 characters per token (no tokenizer here). */
    static int tokens(int chars) {
        return chars == 0 ? 0 : Math.max(1, (chars + 3) / 4);
    }
}
