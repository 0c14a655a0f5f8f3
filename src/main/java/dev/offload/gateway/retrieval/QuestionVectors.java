package dev.offload.gateway.retrieval;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.cache.CaffeineCacheMetrics;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * The question model's vector of a question, remembered per tenant: a device that asks
 * {@code /v1/offload/decide} and then sends the same question to {@code /v1/query} pays one
 * embedding (about 5 ms of CPU with MiniLM on 2 cores) instead of two, and a fleet's popular
 * questions embed once per tenant while they stay in the memo.
 *
 * <p>The memo is Caffeine's (bounded by {@code gateway.embedding.question-memo-size}, entries
 * expire {@code question-memo-ttl} after they were computed; concurrent misses of one key compute
 * it once, the others wait for that computation; a failed computation is not remembered). Its key is the tenant and the SHA-256 of the text, so it keeps no question text, and
 * one tenant's lookups never find another's entries: a memo shared across tenants would let a
 * tenant learn from the latency of its own call whether another asked the same words. Its
 * lookups are metered as Micrometer's cache metrics under {@code cache="question-vectors"}
 * ({@code cache_gets_total{result="hit"|"miss"}}, {@code cache_size}, {@code cache_evictions_total}).
 */
@ApplicationScoped
public class QuestionVectors {
    static final String CACHE_NAME = "question-vectors";

    private final Embedder embedder;
    private final MeterRegistry registry;
    /** Futures, so that the mapping function under Caffeine's lock is trivial and the embedding runs outside it. */
    private final Cache<Key, CompletableFuture<float[]>> memo;

    @Inject
    public QuestionVectors(@QuestionEmbedding Embedder embedder, RetrievalConfig config, MeterRegistry registry) {
        this(embedder, config.embedding().questionMemoSize(), config.embedding().questionMemoTtl(), registry);
    }

    QuestionVectors(Embedder embedder, int size, java.time.Duration ttl, MeterRegistry registry) {
        if (size < 0) {
            throw new IllegalArgumentException("gateway.embedding.question-memo-size must be >= 0, was " + size);
        }
        this.embedder = embedder;
        this.registry = registry;
        if (size == 0) {
            this.memo = null;
        } else {
            this.memo = Caffeine.newBuilder().maximumSize(size).expireAfterWrite(ttl).recordStats().build();
            CaffeineCacheMetrics.monitor(registry, memo, CACHE_NAME);
        }
    }

    /**
     * Removes this memo's meters: they read this instance, and a later start in the same JVM (the
     * tests) would otherwise find them registered and keep reading a discarded memo.
     */
    @PreDestroy
    void unregister() {
        registry.getMeters().stream().filter(m -> CACHE_NAME.equals(m.getId().getTag("cache"))).toList()
                .forEach(registry::remove);
    }

    /** The question model's vector of {@code text} for {@code tenant}: a copy the caller may keep or change. */
    public float[] vector(String tenant, String text) {
        Objects.requireNonNull(tenant, "tenant");
        if (memo == null) {
            return embedder.embed(text);
        }
        Key key = new Key(tenant, sha256(text));
        CompletableFuture<float[]> mine = new CompletableFuture<>();
        CompletableFuture<float[]> f = memo.get(key, k -> mine);
        if (f == mine) {
            try {
                mine.complete(embedder.embed(text));
            } catch (RuntimeException | Error e) {
                memo.asMap().remove(key, mine); // a failure is not remembered: the next call tries again
                mine.completeExceptionally(e);
                throw e;
            }
        }
        try {
            return f.join().clone();
        } catch (CompletionException e) {
            // another caller's embedding of the same question failed: its error, here too
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    private static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    /** A tenant and a question's digest; arrays compared by content. */
    private record Key(String tenant, byte[] digest) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && tenant.equals(k.tenant) && Arrays.equals(digest, k.digest);
        }

        @Override
        public int hashCode() {
            return 31 * tenant.hashCode() + Arrays.hashCode(digest);
        }

        @Override
        public String toString() {
            return "Key[" + tenant + "]";
        }
    }
}
