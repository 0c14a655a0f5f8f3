package dev.offload.gateway.bench.fleet;

import java.util.Locale;

/** How a simulated device chooses where a query runs. */
enum Policy {
    /** Follow the gateway's hints (see {@link SimulatedDevice} for the protocol). */
    HINTS("hints", "follow hints"),
    /** Send every query to the gateway while online; answer locally only what comes back unanswered. */
    OFFLOAD("offload", "always offload"),
    /** Never contact the gateway. */
    LOCAL("local", "never offload"),
    /**
     * The upper bound: knows each query's quality labels, its true local latency (the device's
     * model, queue included) and its true remote outcome (latency and answer, from the
     * always-offload run of the same repetition), and picks the better of the two.
     */
    ORACLE("oracle", "oracle"),
    /**
     * Ablation: the local-quality router alone, no telemetry. Asks {@code /v1/offload/decide} with
     * the question only and stays local when {@code estimates.localQuality} is at or above the
     * threshold; otherwise offloads ({@code generate: always}).
     */
    QUALITY("quality", "quality router only"),
    /**
     * Follow hints, but decide on the device: the gateway's state arrives by {@code Watch} (SSE
     * {@code /v1/offload/watch}) and the device evaluates the gateway's own policy package
     * ({@code offload.policy.LocalAdvisor}) instead of calling {@code /v1/offload/decide}; only
     * without a valid snapshot does it ask the gateway. A question it keeps local asks the
     * gateway's shared cache first ({@code generate: cache-only}) when the package's
     * {@code LocalAdvisor.probesCache} says so (Wi-Fi, data that may leave the device).
     */
    WATCH("watch", "follow hints, local decisions (Watch)"),
    /** Ablation: {@link #WATCH} without the cache probe (every question kept local runs locally at once). */
    WATCH_NO_PROBE("watch-noprobe", "Watch, no cache probe");

    final String wire;
    final String label;

    Policy(String wire, String label) {
        this.wire = wire;
        this.label = label;
    }

    /** Decides on the device over the pushed state. */
    boolean watches() {
        return this == WATCH || this == WATCH_NO_PROBE;
    }

    static Policy parse(String s) {
        for (Policy p : values()) {
            if (p.wire.equals(s.strip().toLowerCase(Locale.ROOT))) {
                return p;
            }
        }
        throw new IllegalArgumentException("a policy is hints, offload, local, oracle, quality, watch or watch-noprobe: " + s);
    }
}
