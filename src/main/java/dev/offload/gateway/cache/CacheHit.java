package dev.offload.gateway.cache;

import java.time.Duration;
import java.util.List;

/**
 * A cached answer returned for a query.
 *
 * @param answer      the answer text as it was stored
 * @param sources     the sources it was built from
 * @param similarity  cosine similarity between the query and the cached query (1.0 for an exact match)
 * @param exact       true when the normalised query text matched, without a vector comparison
 * @param cachedQuery the query the answer was stored for (same tenant and scope)
 * @param age         how long ago the answer was stored
 */
public record CacheHit(String answer, List<CachedSource> sources, double similarity, boolean exact,
                       String cachedQuery, Duration age) {
    public CacheHit {
        sources = List.copyOf(sources);
    }
}
