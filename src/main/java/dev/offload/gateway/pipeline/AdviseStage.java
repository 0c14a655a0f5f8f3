package dev.offload.gateway.pipeline;

import dev.offload.gateway.offload.policy.GatewayView;
import dev.offload.gateway.offload.policy.OffloadHint;
import dev.offload.gateway.offload.policy.OffloadPolicy;
import dev.offload.gateway.privacy.Sensitivity;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The offload hint, computed once per query from the device's telemetry, the query as it now
 * stands (history, packed context, effective sensitivity, budget) and the gateway's state; and
 * what follows from it for the tiers: a CLOUD hint (the edge zone cannot meet the budget) puts
 * the first tier outside the edge zone first.
 *
 * <p>Thread-safe; cheap (no I/O).
 */
final class AdviseStage {
    private final Function<OffloadPolicy.Input, OffloadHint> policy;
    private final BiFunction<String, float[], Double> localQuality;
    private final Function<Boolean, GatewayView> view;
    private final Supplier<Optional<String>> firstOutsideEdgeZone;

    /**
     * @param localQuality         the router's estimate from the question and its embedding (null: none)
     * @param view                 the gateway's state, given whether the cache answers this query
     * @param firstOutsideEdgeZone the name of the first tier outside the edge zone, if any
     */
    AdviseStage(Function<OffloadPolicy.Input, OffloadHint> policy, BiFunction<String, float[], Double> localQuality,
                Function<Boolean, GatewayView> view, Supplier<Optional<String>> firstOutsideEdgeZone) {
        this.policy = policy;
        this.localQuality = localQuality;
        this.view = view;
        this.firstOutsideEdgeZone = firstOutsideEdgeZone;
    }

    /** The query's hint; the first call decides it, later calls return the same. */
    OffloadHint decide(QueryContext ctx) {
        if (ctx.hint == null) {
            Query q = ctx.query;
            Sensitivity level = ctx.level != null ? ctx.level : ctx.asked;
            // The router reads the embedding retrieval computed; none before it (an early refusal), none for
            // restricted data (nothing is generated for it) and none when the cache answers.
            Double quality = ctx.vector == null || ctx.cacheHit != null || level == Sensitivity.RESTRICTED ? null
                    : localQuality.apply(q.text(), ctx.vector);
            ctx.hint = policy.apply(new OffloadPolicy.Input(q.device(), q.text(), ctx.historyTokens, ctx.contextTokens(),
                    dev.offload.gateway.offload.OffloadAdvisor.level(level), ctx.budgetMs, view.apply(ctx.cacheHit != null), quality, q.maxTokens()));
        }
        return ctx.hint;
    }

    /** Whether the gateway generates at all: not for restricted data, not when the device asked not to ({@code never}, {@code cache-only}). */
    static boolean generates(QueryContext ctx) {
        Query.Generate mode = ctx.query.generate();
        return ctx.level != Sensitivity.RESTRICTED && mode != Query.Generate.NEVER && mode != Query.Generate.CACHE_ONLY
                && !(mode == Query.Generate.UNLESS_LOCAL && ctx.hint.target() == OffloadHint.Target.LOCAL);
    }

    /** The tier order the hint implies. */
    void order(QueryContext ctx) {
        if (ctx.hint.target() != OffloadHint.Target.CLOUD) {
            return;
        }
        firstOutsideEdgeZone.get().ifPresent(name -> {
            List<String> order = new ArrayList<>(ctx.tierOrder);
            if (order.remove(name)) {
                order.add(0, name);
                ctx.tierOrder = order;
            }
        });
    }
}
