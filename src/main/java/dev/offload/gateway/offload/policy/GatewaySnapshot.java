package dev.offload.gateway.offload.policy;

import dev.offload.gateway.offload.policy.GatewayView.TierView;

import java.util.Map;
import java.util.Objects;

/**
 * The gateway's state as {@code Watch} (gRPC) and {@code GET /v1/offload/watch} (SSE) push it to
 * devices: exactly what the {@link OffloadPolicy} reads from the gateway — the edge and cloud
 * tiers (queue wait, TTFT and tokens/s estimates, healthy replicas, so open circuits), the
 * policy's own settings — plus the cache's state and how long the snapshot holds. A device
 * evaluates the same policy over it ({@link LocalAdvisor}); a cache hit is a fact about one
 * question, so the pushed {@link #view()} always says "not cached".
 *
 * @param epoch       identifies one run of the gateway (its start time in ms): versions restart
 *                    with it
 * @param version     increases with every change within an epoch (a heartbeat repeats it)
 * @param issuedAtMs  the gateway's wall clock when it sent this (informative: devices time
 *                    validity with their own clock from receipt)
 * @param validForMs  how long after receipt the snapshot may be used; the gateway sends again well
 *                    before (heartbeat), so a snapshot that runs out means the stream is gone:
 *                    ask {@code /v1/offload/decide} until it is back
 * @param edge        the edge pool, null when the gateway has none
 * @param cloud       the cloud tier, null when the gateway has none
 * @param cache       the semantic cache's state
 * @param settings    the thresholds the gateway's policy decides with
 */
public record GatewaySnapshot(long epoch, long version, long issuedAtMs, long validForMs, TierView edge,
                              TierView cloud, CacheState cache, PolicySettings settings) {
    public GatewaySnapshot {
        if (version < 0 || validForMs < 1) {
            throw new IllegalArgumentException("version must be >= 0 and validForMs >= 1");
        }
        Objects.requireNonNull(cache, "cache");
        Objects.requireNonNull(settings, "settings");
    }

    /**
     * @param enabled whether the gateway answers repeated questions from its semantic cache (a
     *                device that wants to know whether its question is cached asks decide)
     */
    public record CacheState(boolean enabled) {
    }

    /** What the policy reads: the tiers, and "not cached". */
    public GatewayView view() {
        return new GatewayView(edge, cloud, false);
    }

    /** The same state under another version, time and validity (the gateway's heartbeat and change counter). */
    public GatewaySnapshot reissued(long version, long issuedAtMs, long validForMs) {
        return new GatewaySnapshot(epoch, version, issuedAtMs, validForMs, edge, cloud, cache, settings);
    }

    /** True when the two carry the same state (tiers, cache, settings), whatever their version and times. */
    public boolean sameState(GatewaySnapshot o) {
        return o != null && Objects.equals(edge, o.edge) && Objects.equals(cloud, o.cloud) && cache.equals(o.cache)
                && settings.equals(o.settings);
    }

    // ---- JSON: the SSE event's data, read back by fromJson with nothing but the JDK ----

    /** One line of JSON (no line breaks, so it is one SSE {@code data:} line). */
    public String toJson() {
        StringBuilder b = new StringBuilder(1024);
        b.append("{\"epoch\":").append(epoch).append(",\"version\":").append(version)
                .append(",\"issuedAtMs\":").append(issuedAtMs).append(",\"validForMs\":").append(validForMs)
                .append(",\"edge\":");
        tier(b, edge);
        b.append(",\"cloud\":");
        tier(b, cloud);
        b.append(",\"cache\":{\"enabled\":").append(cache.enabled()).append('}');
        PolicySettings p = settings;
        b.append(",\"settings\":{\"saturationUtil\":").append(p.saturationUtil())
                .append(",\"loadSlowdownWeight\":").append(p.loadSlowdownWeight())
                .append(",\"thermalSeriousFactor\":").append(p.thermalSeriousFactor())
                .append(",\"lowBatteryPct\":").append(p.lowBatteryPct())
                .append(",\"minLocalMemoryMb\":").append(p.minLocalMemoryMb())
                .append(",\"localPrefillSpeedup\":").append(p.localPrefillSpeedup())
                .append(",\"defaultOutputTokens\":").append(p.defaultOutputTokens())
                .append(",\"longOutputTokens\":").append(p.longOutputTokens())
                .append(",\"contextTokensEstimate\":").append(p.contextTokensEstimate())
                .append(",\"localMaxOutputTokens\":").append(p.localMaxOutputTokens())
                .append(",\"localBias\":").append(p.localBias())
                .append(",\"minLocalQuality\":").append(p.minLocalQuality())
                .append(",\"localPreferredQuality\":").append(p.localPreferredQuality())
                .append(",\"localQualityEnabled\":").append(p.localQualityEnabled())
                .append(",\"defaultRttMs\":").append(p.defaultRttMs())
                .append(",\"priorTtftMs\":").append(p.priorTtftMs())
                .append(",\"priorTokensPerSec\":").append(p.priorTokensPerSec())
                .append(",\"slowNetworkShare\":").append(p.slowNetworkShare())
                .append(",\"validityMs\":").append(p.validityMs())
                .append(",\"unstableValidityMs\":").append(p.unstableValidityMs())
                .append("}}");
        return b.toString();
    }

    private static void tier(StringBuilder b, TierView v) {
        if (v == null) {
            b.append("null");
            return;
        }
        TierState s = v.state();
        b.append("{\"name\":");
        Json.quote(b, s.name());
        b.append(",\"external\":").append(s.external())
                .append(",\"replicas\":").append(s.replicas())
                .append(",\"healthyReplicas\":").append(s.healthyReplicas())
                .append(",\"circuitOpen\":").append(s.healthyReplicas() == 0)
                .append(",\"slots\":").append(s.slots())
                .append(",\"inFlight\":").append(s.inFlight())
                .append(",\"queueLength\":").append(s.queueLength())
                .append(",\"queueCapacity\":").append(s.queueCapacity())
                .append(",\"waitMs\":").append(s.waitMillis())
                .append(",\"ttftMs\":").append(s.ttftMillis())
                .append(",\"tokensPerSec\":").append(s.tokensPerSecond())
                .append(",\"serviceMs\":").append(s.serviceMillis())
                // JSON has no infinity: no limit is null
                .append(",\"maxQueueWaitMs\":").append(Double.isInfinite(s.maxQueueWaitMillis()) ? "null"
                        : Double.toString(s.maxQueueWaitMillis()))
                .append(",\"maxContextTokens\":").append(v.maxContextTokens())
                .append(",\"circuitRetryMs\":").append(v.circuitRetryMs())
                .append('}');
    }

    /**
     * Reads {@link #toJson}'s output (unknown fields are ignored, so a newer gateway may add some).
     *
     * @throws IllegalArgumentException when the text is not such a snapshot
     */
    public static GatewaySnapshot fromJson(String json) {
        Object root = Json.parse(json);
        if (!(root instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException("a snapshot is a JSON object");
        }
        Map<?, ?> p = obj(m, "settings");
        PolicySettings settings = new PolicySettings(dbl(p, "saturationUtil"), dbl(p, "loadSlowdownWeight"),
                dbl(p, "thermalSeriousFactor"), dbl(p, "lowBatteryPct"), integer(p, "minLocalMemoryMb"),
                dbl(p, "localPrefillSpeedup"), integer(p, "defaultOutputTokens"), integer(p, "longOutputTokens"),
                integer(p, "contextTokensEstimate"), integer(p, "localMaxOutputTokens"), dbl(p, "localBias"),
                dbl(p, "minLocalQuality"), dbl(p, "localPreferredQuality"), bool(p, "localQualityEnabled"), dbl(p, "defaultRttMs"),
                dbl(p, "priorTtftMs"), dbl(p, "priorTokensPerSec"), dbl(p, "slowNetworkShare"), lng(p, "validityMs"),
                lng(p, "unstableValidityMs"));
        return new GatewaySnapshot(lng(m, "epoch"), lng(m, "version"), lng(m, "issuedAtMs"), lng(m, "validForMs"),
                tierOf(m.get("edge")), tierOf(m.get("cloud")), new CacheState(bool(obj(m, "cache"), "enabled")),
                settings);
    }

    private static TierView tierOf(Object o) {
        if (o == null) {
            return null;
        }
        if (!(o instanceof Map<?, ?> t)) {
            throw new IllegalArgumentException("a tier is a JSON object or null");
        }
        Object name = t.get("name");
        if (!(name instanceof String n)) {
            throw new IllegalArgumentException("tier.name must be a string");
        }
        Object limit = t.get("maxQueueWaitMs");
        TierState s = new TierState(n, bool(t, "external"), integer(t, "replicas"), integer(t, "healthyReplicas"),
                integer(t, "slots"), integer(t, "inFlight"), integer(t, "queueLength"), integer(t, "queueCapacity"),
                dbl(t, "waitMs"), dbl(t, "ttftMs"), dbl(t, "tokensPerSec"), dbl(t, "serviceMs"),
                limit == null ? Double.POSITIVE_INFINITY : dbl(t, "maxQueueWaitMs"));
        return new TierView(s, integer(t, "maxContextTokens"), lng(t, "circuitRetryMs"));
    }

    private static Map<?, ?> obj(Map<?, ?> m, String k) {
        if (m.get(k) instanceof Map<?, ?> o) {
            return o;
        }
        throw new IllegalArgumentException(k + " must be a JSON object");
    }

    private static Json.Num num(Map<?, ?> m, String k) {
        if (m.get(k) instanceof Json.Num n) {
            return n;
        }
        throw new IllegalArgumentException(k + " must be a number");
    }

    private static double dbl(Map<?, ?> m, String k) {
        return num(m, k).asDouble();
    }

    private static long lng(Map<?, ?> m, String k) {
        try {
            return num(m, k).asLong();
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(k + " must be an integer");
        }
    }

    private static int integer(Map<?, ?> m, String k) {
        long v = lng(m, k);
        if (v != (int) v) {
            throw new IllegalArgumentException(k + " is out of range");
        }
        return (int) v;
    }

    private static boolean bool(Map<?, ?> m, String k) {
        if (m.get(k) instanceof Boolean b) {
            return b;
        }
        throw new IllegalArgumentException(k + " must be true or false");
    }

}
