package dev.offload.gateway.offload.policy;

import java.util.Objects;
import java.util.Optional;

/**
 * The device's side of {@code Watch}: holds the latest {@link GatewaySnapshot} and decides a
 * query with the gateway's own {@link OffloadPolicy} and settings, without a request — the same
 * hint {@code /v1/offload/decide} would give for the same question (when the gateway has no
 * cached answer to it) as long as the snapshot is the gateway's current state.
 *
 * <p>{@link #decide} answers empty when there is no snapshot or the last one ran out
 * ({@code validForMs} after receipt, on the caller's clock): the stream is gone, ask the gateway.
 *
 * <p>Thread-safe: {@link #accept} from the stream's thread, {@link #decide} from any other.
 */
public final class LocalAdvisor {
    private final LocalQualityRouter router;
    private volatile Held held;

    private record Held(GatewaySnapshot snapshot, OffloadPolicy policy, long receivedAtMs) {
    }

    /**
     * A query as the device knows it.
     *
     * @param embedding     the question's MiniLM (all-MiniLM-L6-v2) embedding, unit length, for the
     *                      local-quality estimate; null for none (the policy then uses its lexical cues)
     * @param historyTokens tokens of earlier turns the prompt will carry
     * @param sensitivity   null for internal
     * @param latencyBudgetMs null for no budget
     * @param maxTokens     the answer cap the device will ask for; null when it gives none
     */
    public record Question(DeviceTelemetry device, String text, float[] embedding, int historyTokens,
                           Sensitivity sensitivity, Long latencyBudgetMs, Integer maxTokens) {
        public Question {
            Objects.requireNonNull(text, "text");
        }

        /** Without an answer cap: the policy guesses the answer's length from the question. */
        public Question(DeviceTelemetry device, String text, float[] embedding, int historyTokens,
                        Sensitivity sensitivity, Long latencyBudgetMs) {
            this(device, text, embedding, historyTokens, sensitivity, latencyBudgetMs, null);
        }
    }

    /** @param router the local-quality model, null to decide without estimates */
    public LocalAdvisor(LocalQualityRouter router) {
        this.router = router;
    }

    /** With the router the jar ships (the gateway's). */
    public static LocalAdvisor withBundledRouter() {
        return new LocalAdvisor(LocalQualityRouter.bundled());
    }

    /**
     * Takes a pushed snapshot; one older than the held one (same epoch, lower version) is ignored.
     *
     * @param nowMs the device's clock (any millisecond clock, the same one {@link #decide} gets)
     */
    public void accept(GatewaySnapshot s, long nowMs) {
        Objects.requireNonNull(s, "snapshot");
        synchronized (this) {
            Held h = held;
            if (h != null && h.snapshot().epoch() == s.epoch() && s.version() < h.snapshot().version()) {
                return;
            }
            OffloadPolicy policy = h != null && h.policy().settings().equals(s.settings()) ? h.policy()
                    : new OffloadPolicy(s.settings());
            held = new Held(s, policy, nowMs);
        }
    }

    /** The held snapshot while it is valid. */
    public Optional<GatewaySnapshot> current(long nowMs) {
        Held h = held;
        return h == null || nowMs - h.receivedAtMs() > h.snapshot().validForMs() ? Optional.empty()
                : Optional.of(h.snapshot());
    }

    /** The hint for {@code q} from the held snapshot; empty when there is none or it ran out. */
    public Optional<OffloadHint> decide(Question q, long nowMs) {
        Held h = held;
        if (h == null || nowMs - h.receivedAtMs() > h.snapshot().validForMs()) {
            return Optional.empty();
        }
        return Optional.of(h.policy().decide(input(q, h.snapshot())));
    }

    /**
     * Whether a question the policy keeps on the device should ask the gateway's shared cache
     * first: {@code /v1/query} with {@code generate:"cache-only"} (gRPC the same field) returns the
     * fleet's answer to it when the cache holds one, and otherwise the hint alone, with nothing
     * searched or generated; then the device answers locally as it would have. A hit is an answer
     * in one round trip instead of seconds of local inference, and no GPU is used either way.
     *
     * <p>True when all of these hold:
     * <ul>
     *   <li>the held snapshot is valid and says the gateway's cache is on;</li>
     *   <li>the hint is LOCAL and the data may leave the device (not restricted; confidential stays
     *       in the edge zone, where the cache is) and the device is online;</li>
     *   <li>the device is on Wi-Fi: a cellular radio pays a high-power tail after every exchange
     *       (LTE about 11.6 s at 1.06 W, 12 J; Huang et al., MobiSys 2012), more than a hit saves on
     *       average at the hit rates measured, while Wi-Fi's is a fraction of a joule;</li>
     *   <li>the round trip (the device's RTT, else the policy's default) is at most a tenth of the
     *       local estimate, or there is no local estimate.</li>
     * </ul>
     */
    public boolean probesCache(Question q, OffloadHint hint, long nowMs) {
        Objects.requireNonNull(hint, "hint");
        Held h = held;
        if (h == null || nowMs - h.receivedAtMs() > h.snapshot().validForMs() || !h.snapshot().cache().enabled()
                || hint.target() != OffloadHint.Target.LOCAL || q.sensitivity() == Sensitivity.RESTRICTED) {
            return false;
        }
        DeviceTelemetry d = q.device() == null ? DeviceTelemetry.UNKNOWN : q.device();
        if (d.network() == null || d.network().type() != DeviceTelemetry.NetworkType.WIFI) {
            return false;
        }
        double rtt = d.network().rttMs() != null ? d.network().rttMs() : h.snapshot().settings().defaultRttMs();
        Long localMs = hint.estimates() == null ? null : hint.estimates().localMs();
        return localMs == null || rtt <= 0.1 * localMs;
    }

    /**
     * The policy's input as {@code /v1/offload/decide} builds it: the gateway's context estimate,
     * the local-quality estimate unless the question is restricted or the gateway has the router off.
     */
    public OffloadPolicy.Input input(Question q, GatewaySnapshot s) {
        PolicySettings p = s.settings();
        Double quality = router == null || q.embedding() == null || !p.localQualityEnabled()
                || q.sensitivity() == Sensitivity.RESTRICTED ? null : router.estimate(q.text(), q.embedding());
        return new OffloadPolicy.Input(q.device(), q.text(), q.historyTokens(), p.contextTokensEstimate(),
                q.sensitivity(), q.latencyBudgetMs(), s.view(), quality, q.maxTokens());
    }
}
