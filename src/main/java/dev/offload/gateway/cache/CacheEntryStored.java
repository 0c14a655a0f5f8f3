package dev.offload.gateway.cache;

import java.util.List;

/**
 * An answer this process has just stored in its {@link SemanticCache}, with what another replica
 * needs to store the same entry: the query's embedding, and the index sequence its sources were
 * retrieved at (taken with the put's ticket), so a replica that has meanwhile applied a change to
 * one of those documents refuses it.
 */
public record CacheEntryStored(String tenant, CacheScope scope, String query, float[] embedding, String answer,
                               List<CachedSource> sources, long indexSequence) {
    public CacheEntryStored {
        sources = List.copyOf(sources);
    }
}
