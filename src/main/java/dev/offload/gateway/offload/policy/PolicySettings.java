package dev.offload.gateway.offload.policy;

/**
 * The offload policy's thresholds and weights. The gateway builds them from
 * {@code gateway.offload.*} (its {@code OffloadConfig}, whose defaults are {@link #defaults()}'s),
 * and {@code Watch} sends them with every snapshot, so a device decides with the gateway's own
 * numbers. Meanings and defaults: offload.md, "Configuration".
 *
 * @param saturationUtil        CPU/NPU utilisation (0..1) at or above which the device is saturated
 * @param loadSlowdownWeight    local speed × (1 − weight × load)
 * @param thermalSeriousFactor  local speed factor while the device is {@code serious}ly hot
 * @param lowBatteryPct         below this battery level, not charging, the device should not run the model
 * @param minLocalMemoryMb      free memory the local model needs
 * @param localPrefillSpeedup   prefill speed relative to decode on the device
 * @param defaultOutputTokens   output tokens of an ordinary question
 * @param longOutputTokens      output tokens of a question asking to explain, list, summarise…
 * @param contextTokensEstimate retrieved-context tokens a decide call assumes the prompt will carry
 * @param localMaxOutputTokens  expected output above this is beyond a small local model
 * @param localBias             stay local while within this factor of the preferred remote estimate
 * @param minLocalQuality       below this {@code localQuality} the device is the less capable option
 * @param localPreferredQuality at or above this {@code localQuality} the device answers whenever it fits the
 *                              budget, however much faster a tier is (spares the GPU); 1 turns the rule off
 * @param localQualityEnabled   whether callers estimate {@code localQuality} (the policy takes whatever it is given)
 * @param defaultRttMs          round trip assumed when the device reports none
 * @param priorTtftMs           a tier's TTFT before it has measured one
 * @param priorTokensPerSec     a tier's decode speed before it has measured one
 * @param slowNetworkShare      transfer above this share of a remote estimate earns {@code NETWORK_SLOW}
 * @param validityMs            how long a hint holds while conditions are steady
 * @param unstableValidityMs    how long a hint holds while something is changing
 */
public record PolicySettings(double saturationUtil, double loadSlowdownWeight, double thermalSeriousFactor,
                             double lowBatteryPct, int minLocalMemoryMb, double localPrefillSpeedup,
                             int defaultOutputTokens, int longOutputTokens, int contextTokensEstimate,
                             int localMaxOutputTokens, double localBias, double minLocalQuality, double localPreferredQuality,
                             boolean localQualityEnabled, double defaultRttMs, double priorTtftMs,
                             double priorTokensPerSec, double slowNetworkShare, long validityMs,
                             long unstableValidityMs) {
    private static final PolicySettings DEFAULTS = new PolicySettings(0.85, 0.5, 0.6, 20, 512, 8, 150, 450, 1000, 400,
            1.25, 0.78, 0.86, true, 40, 400, 25, 0.5, 30_000, 5_000);

    public PolicySettings {
        fraction("saturationUtil", saturationUtil);
        fraction("loadSlowdownWeight", loadSlowdownWeight);
        fraction("minLocalQuality", minLocalQuality);
        fraction("localPreferredQuality", localPreferredQuality);
        positive("thermalSeriousFactor", thermalSeriousFactor);
        if (!(lowBatteryPct >= 0 && lowBatteryPct <= 100)) {
            throw new IllegalArgumentException("lowBatteryPct must be between 0 and 100");
        }
        positive("localPrefillSpeedup", localPrefillSpeedup);
        positive("localBias", localBias);
        positive("priorTtftMs", priorTtftMs);
        positive("priorTokensPerSec", priorTokensPerSec);
        positive("slowNetworkShare", slowNetworkShare);
        if (!(defaultRttMs >= 0) || Double.isInfinite(defaultRttMs)) {
            throw new IllegalArgumentException("defaultRttMs must be finite and >= 0");
        }
        if (minLocalMemoryMb < 0 || defaultOutputTokens < 1 || longOutputTokens < 1 || contextTokensEstimate < 0
                || localMaxOutputTokens < 0) {
            throw new IllegalArgumentException("token counts must be >= 1 (outputs) or >= 0 (others)");
        }
        if (validityMs < 1 || unstableValidityMs < 1) {
            throw new IllegalArgumentException("validities must be >= 1 ms");
        }
    }

    /** The gateway's defaults ({@code OffloadConfig}'s {@code @WithDefault}s). */
    public static PolicySettings defaults() {
        return DEFAULTS;
    }

    private static void fraction(String name, double v) {
        if (!(v >= 0 && v <= 1)) {
            throw new IllegalArgumentException(name + " must be between 0 and 1");
        }
    }

    private static void positive(String name, double v) {
        if (!(v > 0) || Double.isInfinite(v)) {
            throw new IllegalArgumentException(name + " must be finite and > 0");
        }
    }
}
