package dev.offload.gateway.generation;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Backend tiers: the edge pool (replicas of one model at this site) and an optional regional
 * or cloud tier. A tier with no {@code base-urls} does not exist. API keys come from the
 * environment ({@code GATEWAY_TIERS_EDGE_API_KEY}, {@code GATEWAY_TIERS_CLOUD_API_KEY}).
 */
@ConfigMapping(prefix = "gateway.tiers")
public interface TiersConfig {
    /** The edge pool: tried first. */
    Tier edge();

    /** The regional / cloud tier: tried when the edge pool cannot serve; external by default. */
    Tier cloud();

    interface Tier {
        /** Comma-separated OpenAI-compatible base URLs (e.g. {@code http://vllm-0:8000/v1}), one per replica. */
        Optional<List<String>> baseUrls();

        /** The model name the backend serves (vLLM's {@code --served-model-name}). */
        @WithDefault("default")
        String model();

        /** Bearer token for the backend; set it through the environment, never in a file. */
        Optional<String> apiKey();

        /** Outside the edge zone (confidential data never goes there). Default: false for edge, true for cloud. */
        Optional<Boolean> external();

        /**
         * The model's context window in tokens (vLLM's {@code --max-model-len}): the query path
         * fits history, retrieved context and the answer into it.
         */
        @WithDefault("4096")
        int maxContextTokens();

        /** The backend's batch size per replica (vLLM max_num_seqs): the hard cap on in-flight requests. */
        @WithDefault("16")
        int maxConcurrency();

        /** Initial adaptive in-flight limit per replica, before measurements move it. */
        @WithDefault("4")
        int initialConcurrency();

        /** Requests this tier holds waiting for a slot (all replicas together). */
        @WithDefault("256")
        int queueSize();

        /**
         * Longest estimated wait for a slot a request may be queued for, whatever deadline it
         * states (or does not): beyond it the request is refused at once (429 + Retry-After).
         */
        @WithDefault("5s")
        Duration maxQueueWait();

        /** Time to first token before the attempt fails (and fails over, if nothing was sent yet). */
        @WithDefault("10s")
        Duration ttftTimeout();

        /** Longest silence between two tokens once streaming. */
        @WithDefault("5s")
        Duration idleTimeout();

        /** TCP connect timeout. */
        @WithDefault("2s")
        Duration connectTimeout();

        /**
         * Idle keep-alive connections to a replica are closed after this (whole seconds). Keep it
         * below the backend's own keep-alive timeout (vLLM's server, uvicorn: 5 s), so the
         * backend never closes a connection the gateway is about to reuse.
         */
        @WithDefault("4s")
        Duration keepAliveTimeout();

        /** Circuit breaker per replica: rolling window of calls. */
        @WithDefault("8")
        int circuitRequestVolume();

        /** Circuit breaker: failure ratio in the window that opens it. */
        @WithDefault("0.5")
        double circuitFailureRatio();

        /** Circuit breaker: how long it stays open before a trial call. */
        @WithDefault("10s")
        Duration circuitDelay();

        /** How often vLLM's /metrics is scraped per replica (0 = never). */
        @WithDefault("2s")
        Duration metricsScrapeInterval();
    }
}
