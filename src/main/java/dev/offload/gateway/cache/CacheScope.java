package dev.offload.gateway.cache;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Everything besides the query text that changes an answer. Two lookups share cached answers only
 * when their scopes are equal (and their tenant is the same), so anything that can make two
 * answers to the same question differ belongs here.
 *
 * @param filters       metadata filters of the retrieval, name → value (copied, sorted)
 * @param sensitivity   the query's effective sensitivity level, as its wire name (e.g. {@code internal})
 * @param tier          the tier or model that produced the answer
 * @param historyDigest digest of the conversation before this query ({@link #historyDigest}); empty for none
 */
public record CacheScope(Map<String, String> filters, String sensitivity, String tier, String historyDigest) {
    /** No filters, sensitivity, tier or history. */
    public static final CacheScope NONE = new CacheScope(Map.of(), "", "", "");

    public CacheScope {
        filters = filters == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(filters));
        sensitivity = sensitivity == null ? "" : sensitivity;
        tier = tier == null ? "" : tier;
        historyDigest = historyDigest == null ? "" : historyDigest;
    }

    /**
     * SHA-256 (hex) of the turns in order, each prefixed by its length so that turn boundaries
     * count; the empty string for no history, so a first question shares a scope with others.
     */
    public static String historyDigest(List<String> turns) {
        if (turns == null || turns.isEmpty()) {
            return "";
        }
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (String t : turns) {
                byte[] b = (t == null ? "" : t).getBytes(StandardCharsets.UTF_8);
                sha.update((b.length + ":").getBytes(StandardCharsets.US_ASCII));
                sha.update(b);
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JVM", e);
        }
    }

    long estimatedBytes() {
        long n = 64 + 2L * (sensitivity.length() + tier.length() + historyDigest.length());
        for (Map.Entry<String, String> e : filters.entrySet()) {
            n += 48 + 2L * (e.getKey().length() + e.getValue().length());
        }
        return n;
    }
}
