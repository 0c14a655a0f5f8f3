package dev.offload.gateway.generation;

import dev.offload.gateway.privacy.Zone;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithParentName;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Backend tiers by name: {@code gateway.tiers.<name>.*}. Each is a pool of replicas of one
 * model, with its place in the fallback chain ({@code order}) and the zone it runs in
 * ({@code zone}), which decides what data may reach it. A tier with no {@code base-urls} does
 * not exist. The shipped configuration names two, {@code edge} (order 10, zone edge) and
 * {@code cloud} (order 20, zone regional); more are added by configuration alone (a
 * neighbouring device's model, a second region, a private cloud). API keys come from the
 * environment ({@code GATEWAY_TIERS_<NAME>_API_KEY}).
 *
 * <p>Only {@link TierRegistry} reads this mapping; nothing else spells a tier's name.
 */
@ConfigMapping(prefix = "gateway.tiers")
public interface TiersConfig {
    /** Every configured tier by name; a name that is only mentioned (no base URLs) is skipped. */
    @WithParentName
    Map<String, Tier> tiers();

    interface Tier {
        /** Comma-separated OpenAI-compatible base URLs (e.g. {@code http://vllm-0:8000/v1}), one per replica. */
        Optional<List<String>> baseUrls();

        /** The model name the backend serves (vLLM's {@code --served-model-name}). */
        @WithDefault("default")
        String model();

        /** Bearer token for the backend; set it through the environment, never in a file. */
        Optional<String> apiKey();

        /** Place in the fallback chain: lower is tried first; equal orders go by name. */
        @WithDefault("100")
        int order();

        /**
         * Where the tier runs: {@code device-adjacent}, {@code edge}, {@code regional} or
         * {@code external}. Outside the edge zone (regional, external) confidential data never
         * goes and personal data is redacted first. Unset: {@code external} decides, else {@code edge}.
         */
        Optional<Zone> zone();

        /**
         * The older form of {@code zone}, still honoured and stronger when set: true puts the
         * tier outside the edge zone ({@code external}), false inside it ({@code zone} if that is
         * inside, else {@code edge}).
         */
        Optional<Boolean> external();

        /** What the tier charges per million prompt tokens (capacity reports); unset for hardware you own. */
        Optional<Double> pricePerMillionInputTokens();

        /** What the tier charges per million generated tokens; unset for hardware you own. */
        Optional<Double> pricePerMillionOutputTokens();

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

        /** The zone in force: {@link #zone()} (edge when unset), overridden by {@link #external()} when that is set. */
        default Zone effectiveZone() {
            Zone z = zone().orElse(Zone.EDGE);
            if (external().isEmpty()) {
                return z;
            }
            if (external().get()) {
                return z.insideEdgeZone() ? Zone.EXTERNAL : z;
            }
            return z.insideEdgeZone() ? z : Zone.EDGE;
        }
    }
}
