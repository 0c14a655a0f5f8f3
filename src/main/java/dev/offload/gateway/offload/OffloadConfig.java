package dev.offload.gateway.offload;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;

/** Thresholds and weights of the offload policy ({@code gateway.offload.*}). */
@ConfigMapping(prefix = "gateway.offload")
public interface OffloadConfig {
    /** CPU or NPU utilisation (0..1) at or above which the device is saturated and should not run the model. */
    @WithDefault("0.85")
    double saturationUtil();

    /**
     * How much device load slows its local model: tokens/s × (1 − weight × load). The device
     * reports tokens/s measured when idle.
     */
    @WithDefault("0.5")
    double loadSlowdownWeight();

    /** Local speed factor while the device is in the {@code serious} thermal state (it throttles). */
    @WithDefault("0.6")
    double thermalSeriousFactor();

    /** Battery percentage below which, when not charging, the device should not run the model. */
    @WithDefault("20")
    double lowBatteryPct();

    /** Free memory (MiB) below which the local model cannot be loaded. */
    @WithDefault("512")
    int minLocalMemoryMb();

    /** Prefill runs this many times faster than decode on the device (prompt tokens per decode-token time). */
    @WithDefault("8")
    double localPrefillSpeedup();

    /** Output tokens expected for an ordinary question. */
    @WithDefault("150")
    int defaultOutputTokens();

    /** Output tokens expected when the question asks for an explanation, a list, steps or a summary. */
    @WithDefault("450")
    int longOutputTokens();

    /** Retrieved-context tokens a remote prompt will carry (decide calls do not know the context yet). */
    @WithDefault("1000")
    int contextTokensEstimate();

    /** Expected output above this many tokens is beyond what a small local model does well. */
    @WithDefault("400")
    int localMaxOutputTokens();

    /**
     * Among options that are equally capable and fit the budget, stay local while the local
     * estimate is within this factor of the fastest remote one (saves GPU and keeps data home).
     */
    @WithDefault("1.25")
    double localBias();

    /**
     * Below this {@code localQuality} estimate (the router's probability that the device's model
     * answers as well as the gateway's) the device is the less capable option
     * ({@code LOCAL_QUALITY_LOW}); at or above it the small model suffices ({@code LOCAL_QUALITY_OK}).
     * The default sends about 30 % of MMLU questions to the gateway (offload.md, "Local-quality router").
     */
    @WithDefault("0.78")
    double minLocalQuality();

    /**
     * At or above this {@code localQuality} estimate the device answers whenever its own estimate
     * fits the latency budget, however much faster a tier would be ({@code LOCAL_QUALITY_HIGH}):
     * the small model very likely answers as well, so the query spares the GPU. 1 turns the rule
     * off (then only {@code local-bias} keeps queries local). Chosen on a tuning run of the fleet
     * replay (seed 7: other questions and workload than the reported runs; benchmarks.md).
     */
    @WithDefault("0.86")
    double localPreferredQuality();

    /** Whether decisions estimate {@code localQuality} with the bundled router (needs the question's embedding). */
    @WithDefault("true")
    boolean localQualityEnabled();

    /** Round trip assumed when the device does not report one. */
    @WithDefault("40")
    double defaultRttMs();

    /** Remote estimates before the tier has measured anything: time to first token. */
    @WithDefault("400")
    double priorTtftMs();

    /** Remote estimates before the tier has measured anything: decode tokens per second per stream. */
    @WithDefault("25")
    double priorTokensPerSec();

    /** Transfer time above this share of a remote estimate earns a {@code NETWORK_SLOW} reason. */
    @WithDefault("0.5")
    double slowNetworkShare();

    /** How long a hint holds while conditions are steady. */
    @WithDefault("30s")
    Duration validity();

    /** How long a hint holds while something is changing (queue, circuits, thermal, battery). */
    @WithDefault("5s")
    Duration unstableValidity();
}
