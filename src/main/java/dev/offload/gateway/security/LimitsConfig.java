package dev.offload.gateway.security;

import io.quarkus.runtime.configuration.MemorySize;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;

/**
 * Abuse limits that are not already a capability's own (those stay where they are:
 * {@code gateway.ingest.max-batch-documents}, {@code gateway.search.max-k},
 * {@code gateway.search.max-query-chars}, {@code gateway.generation.max-tokens-cap}).
 */
@ConfigMapping(prefix = "gateway.limits")
public interface LimitsConfig {
    /**
     * Largest request body on REST, checked against {@code Content-Length} before anything is
     * read (413). {@code quarkus.http.limits.max-body-size} follows this value for bodies sent
     * without a length.
     */
    @WithDefault("64M")
    MemorySize maxBodySize();

    /** Per-device sustained request rate: the token bucket's refill, requests per second. */
    @WithDefault("20")
    double deviceRequestsPerSecond();

    /** Per-device burst: the token bucket's capacity. */
    @WithDefault("40")
    int deviceBurst();

    /**
     * Generations one tenant may have in flight at once (chat completions and queries); over it:
     * 429. Set it to the share of the backends' total batch capacity one tenant may hold.
     */
    @WithDefault("64")
    int tenantConcurrentGenerations();

    /** {@code Retry-After} sent with a refusal for too many concurrent generations. */
    @WithDefault("1s")
    Duration generationRetryAfter();

    /** Messages (history turns) in one chat completion request; over it: 400. */
    @WithDefault("64")
    int maxChatMessages();

    /** Characters over all messages of one chat completion request; over it: 400. */
    @WithDefault("32000")
    int maxChatChars();

    /**
     * Time a REST request's body may take to arrive, counted from its headers; a body still
     * incomplete then is answered 408 and its connection closed (slow-body clients, "slowloris").
     * Raise it for bulk uploads over slow links. gRPC streams are not affected.
     */
    @WithDefault("30s")
    Duration requestBodyTimeout();
}
