package dev.offload.gateway.cache;

import io.quarkus.runtime.configuration.MemorySize;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;

/** The semantic cache. Threshold, weight and margin defaults are measured; see cache.md. */
@ConfigMapping(prefix = "gateway.cache")
public interface CacheConfig {
    /** Answer repeated questions from the cache and store new answers in it. */
    @WithDefault("true")
    boolean enabled();

    /**
     * Minimum cosine similarity between a query and a cached query for a semantic hit; empty: 0.72 when
     * the verifier checks hits (the stage it was tuned with), 0.76 without it (cache.md).
     */
    java.util.OptionalDouble similarityThreshold();

    /** Weight of word overlap (Jaccard of content-word stems) added to the cosine when ranking candidates; 0 leaves it out. */
    @WithDefault("0")
    double lexicalWeight();

    /** Weight of character overlap (Jaccard of character trigrams) added to the cosine when ranking candidates; 0 leaves it out. */
    @WithDefault("0.3")
    double trigramWeight();

    /** A hit needs this lead in ranking score over any candidate with a different answer; otherwise the lookup misses as ambiguous. */
    @WithDefault("0.02")
    double ambiguityMargin();

    /** Check every semantic hit with the shipped duplicate verifier (negation, numbers, units, names, models, opposite actions); a failed check is a miss. */
    @WithDefault("true")
    boolean verify();

    /** Minimum duplicate probability the verifier accepts; empty: the threshold shipped with its weights. */
    java.util.OptionalDouble verifierThreshold();

    /** Best-ranked candidates over the similarity threshold the verifier checks; the accepted one it is surest of answers. */
    @WithDefault("1")
    int verifiedCandidates();

    /** Nearest cached queries (by cosine) that are re-ranked for a lookup. */
    @WithDefault("5")
    int candidates();

    /** How long a cached answer may be served; document updates drop entries earlier. */
    @WithDefault("1h")
    Duration ttl();

    /** Entries over all tenants; least recently used ones are evicted beyond it. Lookups scan a tenant's scope by brute force, so this also bounds lookup cost. */
    @WithDefault("10000")
    int maxEntries();

    /** Estimated heap the entries may use over all tenants (vectors, texts, sources); least recently used ones are evicted beyond it. */
    @WithDefault("64M")
    MemorySize maxBytes();
}
