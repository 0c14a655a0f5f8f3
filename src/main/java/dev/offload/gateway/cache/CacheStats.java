package dev.offload.gateway.cache;

/**
 * Counters since start and current size, for metrics (see {@code MetricNames.CACHE_*}).
 *
 * @param exactHits     lookups answered by the normalised query text
 * @param semanticHits  lookups answered by vector similarity
 * @param misses        lookups not answered (ambiguous ones included)
 * @param ambiguous     misses because two cached answers scored within the ambiguity margin
 * @param identifierMismatches misses because every near candidate names another account, amount, date, code or name
 * @param unverified    misses because the duplicate verifier refused the nearest question (a negation, another number, the opposite action, …)
 * @param stored        entries stored
 * @param rejected      puts refused: a source document changed after the ticket was taken, or the entry exceeds max-bytes alone
 * @param evictions     entries dropped to stay within max-entries or max-bytes (least recently used first)
 * @param expirations   entries dropped because their TTL passed
 * @param invalidations entries dropped because a source document was updated or deleted, or the tenant was cleared
 * @param replaced      entries replaced by a newer answer to the same (normalised) query in the same scope
 * @param entries       entries held now
 * @param bytes         estimated bytes held now
 */
public record CacheStats(long exactHits, long semanticHits, long misses, long ambiguous, long identifierMismatches,
                         long unverified, long stored, long rejected,
                         long evictions, long expirations, long invalidations, long replaced, long entries,
                         long bytes) {
    public long hits() {
        return exactHits + semanticHits;
    }
}
