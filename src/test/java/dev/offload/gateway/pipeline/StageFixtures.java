package dev.offload.gateway.pipeline;

import dev.offload.gateway.cache.SemanticCache;
import dev.offload.gateway.generation.GenerationConfig;
import dev.offload.gateway.generation.Tier;
import dev.offload.gateway.generation.TierFixtures;
import dev.offload.gateway.privacy.Sensitivity;
import dev.offload.gateway.privacy.Zone;
import dev.offload.gateway.retrieval.IndexRecords.ChunkHit;
import dev.offload.gateway.retrieval.RetrievalConfig;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/** What the stage tests share: configuration at its defaults, a fake clock, chunks, tiers. */
final class StageFixtures {
    static final SmallRyeConfig CONFIG = new SmallRyeConfigBuilder()
            .withConverter(Duration.class, 200, new io.quarkus.runtime.configuration.DurationConverter())
            .withMapping(QueryConfig.class).withMapping(GenerationConfig.class).withMapping(RetrievalConfig.class)
            .withValidateUnknown(false)
            .build();
    static final QueryConfig QUERY = CONFIG.getConfigMapping(QueryConfig.class);
    static final GenerationConfig GENERATION = CONFIG.getConfigMapping(GenerationConfig.class);
    static final RetrievalConfig RETRIEVAL = CONFIG.getConfigMapping(RetrievalConfig.class);

    final AtomicLong now = new AtomicLong(5_000_000_000L);

    private StageFixtures() {
    }

    static StageFixtures create() {
        return new StageFixtures();
    }

    static SemanticCache cache(AtomicLong now) {
        return new SemanticCache(new SemanticCache.Settings(true, 0.76, 0, 0.3, 0.02, 8, Duration.ofMinutes(10), 100,
                1_000_000), now::get);
    }

    static ChunkHit chunk(String id, String text, String sensitivity) {
        return new ChunkHit(id, id + "#0", 0, 1.0, id, text, sensitivity == null ? Map.of() : Map.of("sensitivity", sensitivity));
    }

    static Query query(String text) {
        return new Query(text, null, null, null, null, null, null, null, null, null, null);
    }

    static Query query(String text, Sensitivity s, Long budgetMs, Query.Generate generate) {
        return new Query(text, null, null, null, s, budgetMs, null, generate, null, null, null);
    }

    /** Two tiers: edge (edge zone, window 4096) then cloud (regional, window 8192). */
    static List<Tier> tiers() {
        return List.of(TierFixtures.tier("edge", Zone.EDGE), TierFixtures.tier("cloud", Zone.REGIONAL));
    }

    static int window(String tier) {
        return tier.equals("edge") ? 4096 : 8192;
    }
}
