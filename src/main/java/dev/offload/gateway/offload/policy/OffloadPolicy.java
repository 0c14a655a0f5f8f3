package dev.offload.gateway.offload.policy;

import dev.offload.gateway.offload.policy.DeviceTelemetry.LocalModel;
import dev.offload.gateway.offload.policy.DeviceTelemetry.NetworkType;
import dev.offload.gateway.offload.policy.DeviceTelemetry.Thermal;
import dev.offload.gateway.offload.policy.GatewayView.TierView;
import dev.offload.gateway.offload.policy.OffloadHint.Estimates;
import dev.offload.gateway.offload.policy.OffloadHint.Reason;
import dev.offload.gateway.offload.policy.OffloadHint.Target;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Decides where a device's query should run: on the device (LOCAL), on the edge pool (EDGE),
 * on the regional tier (CLOUD), or from the semantic cache (CACHE).
 *
 * <p>Order of the rules, strongest first:
 * <ol>
 *   <li>hard rules: restricted data and an offline device stay LOCAL; a cache hit answers
 *       from the CACHE;</li>
 *   <li>each option is either excluded (the device is too hot, too drained, saturated, out of
 *       memory, or its window is too small; a tier is outside the zone for confidential data,
 *       has every circuit open, or a full queue) or gets an end-to-end estimate: for the device
 *       prefill + decode at its own measured speed, slowed by load and throttling; for a tier
 *       transfer (RTT + bytes over the reported bandwidth) + the tier's estimated queue wait +
 *       its measured TTFT + decode at its measured tokens/s;</li>
 *   <li>among options that fit the latency budget, the most capable wins (a multi-hop or
 *       long-output question is beyond the small local model; otherwise all are equally
 *       capable; with a {@code localQuality} estimate, one below {@code min-local-quality} takes
 *       the place of the multi-hop cue), then the edge zone: the device when its {@code localQuality} is at least
 *       {@code local-preferred-quality} (spares the GPU) or while it is within
 *       {@code local-bias} of the edge (spares the GPU, keeps data home), then the edge pool, and the regional tier only
 *       when the edge cannot make the budget (it costs money and egress);</li>
 *   <li>when nothing fits, the fastest option; when nothing is available, LOCAL with the
 *       gateway's retry time.</li>
 * </ol>
 *
 * <p>A plain object: no I/O, no clock, no shared mutable state; safe from any thread. It uses
 * nothing but {@code java.*}: the gateway runs it behind {@code OffloadAdvisor}, a device runs
 * the same class from the {@code device-policy} jar over the state {@code Watch} pushes
 * ({@link LocalAdvisor}).
 */
public final class OffloadPolicy {
    private final PolicySettings settings;

    public OffloadPolicy(PolicySettings settings) {
        this.settings = Objects.requireNonNull(settings);
    }

    /** The thresholds this policy decides with. */
    public PolicySettings settings() {
        return settings;
    }

    /**
     * @param historyTokens  tokens of earlier turns the prompt will carry
     * @param contextTokens  tokens of retrieved context the prompt will carry
     * @param latencyBudgetMs time the device allows for the whole answer; null for no limit
     * @param localQuality   the {@link LocalQualityRouter}'s probability that the device's model
     *                       answers as well as the gateway's; null when unknown (no embedding at
     *                       hand), and then the {@link QueryComplexity} cues stand in for it
     * @param maxTokens      the answer's cap the device will ask for ({@code max_tokens}); null when it
     *                       gives none. An answer is never longer, so the output estimate is the
     *                       smaller of the cue's guess and this cap
     */
    public record Input(DeviceTelemetry device, String query, int historyTokens, int contextTokens,
                        Sensitivity sensitivity, Long latencyBudgetMs, GatewayView gateway, Double localQuality,
                        Integer maxTokens) {
        /** Without an answer cap: the cues guess the answer's length. */
        public Input(DeviceTelemetry device, String query, int historyTokens, int contextTokens,
                     Sensitivity sensitivity, Long latencyBudgetMs, GatewayView gateway, Double localQuality) {
            this(device, query, historyTokens, contextTokens, sensitivity, latencyBudgetMs, gateway, localQuality, null);
        }

        /** Without a quality estimate: the lexical cues decide what is beyond the local model. */
        public Input(DeviceTelemetry device, String query, int historyTokens, int contextTokens,
                     Sensitivity sensitivity, Long latencyBudgetMs, GatewayView gateway) {
            this(device, query, historyTokens, contextTokens, sensitivity, latencyBudgetMs, gateway, null, null);
        }

        public Input {
            if (localQuality != null && !(localQuality >= 0 && localQuality <= 1)) {
                throw new IllegalArgumentException("localQuality must be in [0,1]");
            }
            device = device == null ? DeviceTelemetry.UNKNOWN : device;
            sensitivity = sensitivity == null ? Sensitivity.INTERNAL : sensitivity;
            Objects.requireNonNull(gateway);
            if (historyTokens < 0 || contextTokens < 0) {
                throw new IllegalArgumentException("token counts must be >= 0");
            }
            if (latencyBudgetMs != null && latencyBudgetMs <= 0) {
                throw new IllegalArgumentException("latencyBudgetMs must be > 0");
            }
            if (maxTokens != null && maxTokens < 1) {
                throw new IllegalArgumentException("maxTokens must be >= 1");
            }
        }
    }

    private record Option(Target target, double ms, int capability, Integer contextTokens) {
    }

    public OffloadHint decide(Input in) {
        DeviceTelemetry d = in.device();
        List<Reason> reasons = new ArrayList<>();
        boolean unstable = false;
        Double quality = in.localQuality();
        // The router's estimate replaces the multi-hop cue where it is known. On RouteLLM's MMLU
        // labels the cue is one fixed point (37.5 % of questions to the gateway, PGR 0.52, about
        // the router's on unseen subjects at that share); the estimate is a probability with a
        // threshold, as efficient per gateway call at the default (offload.md). The long-output
        // rule stays: it is about answer length, which MMLU cannot measure.
        boolean multiHop = quality == null && QueryComplexity.multiHop(in.query());
        boolean qualityLow = quality != null && quality < settings.minLocalQuality();
        int guessed = QueryComplexity.longOutput(in.query()) ? settings.longOutputTokens() : settings.defaultOutputTokens();
        int outTokens = in.maxTokens() == null ? guessed : Math.min(guessed, in.maxTokens());
        // Long means beyond what a small model writes well, whether the cue or the cap says how long.
        boolean longOutput = outTokens > settings.localMaxOutputTokens();
        int promptTokens = QueryComplexity.tokens(in.query()) + in.historyTokens() + in.contextTokens();
        LocalModel lm = d.localModel();
        Integer localWindow = lm == null ? null : lm.maxContextTokens();
        // The device's own prompt carries its own retrieved context when it says how much.
        int localPromptTokens = lm == null || lm.contextTokens() == null ? promptTokens
                : promptTokens - in.contextTokens() + lm.contextTokens();
        Long localMs = lm != null && lm.usable() ? round(localMillis(d, localPromptTokens, outTokens)) : null;

        if (in.sensitivity() == Sensitivity.RESTRICTED) {
            reasons.add(new Reason("SENSITIVITY_RESTRICTED", "restricted data never leaves the device"));
            return new OffloadHint(Target.LOCAL, reasons, new Estimates(localMs, null, null, quality),
                    settings.validityMs(), localWindow, null);
        }
        if (d.offline()) {
            reasons.add(new Reason("NETWORK_OFFLINE", "the device reports no network"));
            return new OffloadHint(Target.LOCAL, reasons, new Estimates(localMs, null, null, quality),
                    settings.unstableValidityMs(), localWindow, null);
        }
        if (in.gateway().cacheHit()) {
            reasons.add(new Reason("CACHE_HIT", "the gateway holds an answer to this question"));
            return new OffloadHint(Target.CACHE, reasons, new Estimates(localMs, null, null, quality),
                    settings.validityMs(), null, null);
        }

        // The device.
        Option local = null;
        boolean lessCapableLocally = multiHop || qualityLow || longOutput;
        if (localMs == null) {
            reasons.add(new Reason("LOCAL_MODEL_MISSING", "the device reports no usable local model"));
        } else {
            List<Reason> blocks = localBlocks(d, lm, localPromptTokens, outTokens);
            reasons.addAll(blocks);
            if (d.thermal() == Thermal.SERIOUS) {
                reasons.add(new Reason("THERMAL_SERIOUS", "the device throttles; local decode slowed to "
                        + Math.round(settings.thermalSeriousFactor() * 100) + "%"));
                unstable = true;
            }
            unstable |= !blocks.isEmpty();
            if (multiHop) {
                reasons.add(new Reason("MULTI_HOP", "the question combines several facts; a larger model answers it better"));
            }
            if (longOutput) {
                reasons.add(new Reason("LONG_OUTPUT", "about " + outTokens + " output tokens expected"));
            }
            if (blocks.isEmpty()) {
                local = new Option(Target.LOCAL, localMs, lessCapableLocally ? 1 : 2, localWindow);
            }
        }

        // Also for a device that reported no model: it may have one it did not describe.
        if (qualityLow) {
            reasons.add(new Reason("LOCAL_QUALITY_LOW", "a small local model answers this as well as the gateway's with "
                    + "probability " + percent(quality) + ", below " + percent(settings.minLocalQuality())
                    + "; the larger model is needed"));
        } else if (quality != null) {
            reasons.add(new Reason("LOCAL_QUALITY_OK", "a small local model answers this as well as the gateway's with "
                    + "probability " + percent(quality) + "; the small model suffices"));
        }

        // The gateway's tiers.
        List<Option> remote = new ArrayList<>();
        Long retryAfter = null;
        Long edgeMs = null;
        Long cloudMs = null;
        int configured = 0;
        for (Target t : new Target[]{Target.EDGE, Target.CLOUD}) {
            TierView v = t == Target.EDGE ? in.gateway().edge() : in.gateway().cloud();
            if (v == null) {
                continue;
            }
            configured++;
            TierState s = v.state();
            String name = s.name();
            double transfer = transferMillis(d, promptTokens, outTokens);
            double ttft = s.ttftMillis() > 0 ? s.ttftMillis() : settings.priorTtftMs();
            double tps = s.tokensPerSecond() > 0 ? s.tokensPerSecond() : settings.priorTokensPerSec();
            double ms = transfer + s.waitMillis() + ttft + outTokens * 1000.0 / tps;
            if (t == Target.EDGE) {
                edgeMs = round(ms);
            } else {
                cloudMs = round(ms);
            }
            unstable |= s.queueLength() > 0 || s.healthyReplicas() < s.replicas();
            if (!in.sensitivity().allowsTier(s.external() || t == Target.CLOUD)) {
                // The regional tier counts as outside the edge zone even if an operator left it unmarked.
                reasons.add(new Reason("SENSITIVITY_CONFIDENTIAL", "confidential data never leaves the edge zone for the "
                        + name + " tier"));
                continue;
            }
            if (s.healthyReplicas() == 0) {
                reasons.add(new Reason("CIRCUIT_OPEN", "every replica of the " + name + " tier is failing"));
                retryAfter = min(retryAfter, v.circuitRetryMs());
                continue;
            }
            // The tier's own admission checks, so that a hint never sends a device to a tier that
            // would refuse it on arrival.
            if (s.queueFull() || s.waitOverLimit()) {
                reasons.add(new Reason("QUEUE_FULL", s.queueFull() ? "the " + name + " tier's queue is full"
                        : "the " + name + " tier's queue wait (about " + round(s.waitMillis()) + " ms) is over the gateway's limit of "
                        + round(s.maxQueueWaitMillis()) + " ms"));
                retryAfter = min(retryAfter, Math.max(1000, round(s.waitMillis())));
                continue;
            }
            if (in.latencyBudgetMs() != null && s.refusesBudget(in.latencyBudgetMs())) {
                reasons.add(new Reason("QUEUE_WAIT", "the " + name + " tier's queue adds about " + round(s.waitMillis())
                        + " ms; with a call of about " + round(s.serviceMillis()) + " ms that breaks the budget of "
                        + in.latencyBudgetMs() + " ms, so the tier would refuse the query"));
                retryAfter = min(retryAfter, Math.max(1000, round(s.waitMillis())));
                continue;
            }
            if (in.latencyBudgetMs() != null && ms > in.latencyBudgetMs() && ms - s.waitMillis() <= in.latencyBudgetMs()) {
                reasons.add(new Reason("QUEUE_WAIT", "the " + name + " tier's queue adds about " + round(s.waitMillis())
                        + " ms; the budget is " + in.latencyBudgetMs() + " ms"));
                retryAfter = min(retryAfter, Math.max(1000, round(s.waitMillis())));
            }
            if (transfer > settings.slowNetworkShare() * ms) {
                reasons.add(new Reason("NETWORK_SLOW", "moving the prompt and answer takes about " + round(transfer)
                        + " ms of the " + round(ms) + " ms estimate for " + name));
            }
            remote.add(new Option(t, ms, 2, v.maxContextTokens()));
        }
        Estimates estimates = new Estimates(localMs, edgeMs, cloudMs, quality);
        long validity = unstable ? settings.unstableValidityMs() : settings.validityMs();

        List<Option> options = new ArrayList<>(remote);
        if (local != null) {
            options.add(local);
        }
        if (options.isEmpty()) {
            reasons.add(new Reason("NO_HEALTHY_TIER", configured == 0 ? "the gateway has no generation tier"
                    : "no tier of the gateway can take the query now"));
            return new OffloadHint(Target.LOCAL, reasons, estimates, settings.unstableValidityMs(), localWindow,
                    configured == 0 ? null : retryAfter == null ? settings.unstableValidityMs() : retryAfter);
        }
        Long budget = in.latencyBudgetMs();
        List<Option> fitting = options.stream().filter(o -> budget == null || o.ms() <= budget).toList();
        Option chosen;
        if (fitting.isEmpty()) {
            chosen = options.stream().min((a, b) -> Double.compare(a.ms(), b.ms())).orElseThrow();
            reasons.add(new Reason("BUDGET_UNREACHABLE", "no option fits " + budget + " ms; "
                    + chosen.target().name().toLowerCase() + " is the fastest at about " + round(chosen.ms()) + " ms"));
        } else {
            int best = fitting.stream().mapToInt(Option::capability).max().orElseThrow();
            List<Option> capable = fitting.stream().filter(o -> o.capability() == best).toList();
            Option fastest = capable.stream().min((a, b) -> Double.compare(a.ms(), b.ms())).orElseThrow();
            // The edge zone first: the regional tier costs money and egress, so it serves only
            // what the edge cannot serve in time.
            Option edge = capable.stream().filter(o -> o.target() == Target.EDGE).findFirst().orElse(null);
            Option preferred = edge != null ? edge : fastest;
            chosen = preferred;
            double preferLocalAt = settings.localPreferredQuality();
            if (local != null && capable.contains(local) && preferred != local && quality != null
                    && preferLocalAt < 1 && quality >= preferLocalAt) {
                chosen = local;
                reasons.add(new Reason("LOCAL_QUALITY_HIGH", "the small model answers this as well as the gateway's with "
                        + "probability " + percent(quality) + " (at least " + percent(preferLocalAt)
                        + ") and fits the budget: it spares the GPU"));
            } else if (local != null && capable.contains(local) && preferred != local
                    && local.ms() <= settings.localBias() * preferred.ms()) {
                chosen = local;
                reasons.add(new Reason("LOCAL_PREFERRED", "the device is within " + settings.localBias()
                        + "× of the " + preferred.target().name().toLowerCase() + " estimate"));
            } else if (fitting.stream().anyMatch(o -> o.capability() < best && o.ms() < preferred.ms())) {
                reasons.add(new Reason("MORE_CAPABLE", "a faster option fits but is less capable for this question"));
            }
            reasons.add(new Reason("FITS_BUDGET", chosen.target().name().toLowerCase() + " answers in about "
                    + round(chosen.ms()) + " ms" + (budget == null ? "" : " of the " + budget + " ms budget")));
            if (budget != null && chosen.ms() > 0.8 * budget) {
                validity = settings.unstableValidityMs();
            }
        }
        Long retry = chosen.target() == Target.LOCAL && remote.isEmpty() ? retryAfter : null;
        return new OffloadHint(chosen.target(), reasons, estimates, validity, chosen.contextTokens(), retry);
    }

    /**
     * The hint for a query the gateway has just refused (queue, deadline, no backend): stay
     * local and retry after the given time.
     */
    public OffloadHint refused(OffloadHint basis, String code, String detail, long retryAfterMs, DeviceTelemetry device) {
        List<Reason> reasons = new ArrayList<>();
        reasons.add(new Reason(code, detail));
        basis.reasons().stream().filter(r -> !r.code().equals("FITS_BUDGET")).forEach(reasons::add);
        LocalModel lm = device == null ? null : device.localModel();
        return new OffloadHint(Target.LOCAL, reasons, basis.estimates(),
                Math.max(1000, Math.min(settings.unstableValidityMs(), retryAfterMs)),
                lm == null ? null : lm.maxContextTokens(), retryAfterMs);
    }

    private List<Reason> localBlocks(DeviceTelemetry d, LocalModel lm, int promptTokens, int outTokens) {
        List<Reason> r = new ArrayList<>();
        if (d.thermal() == Thermal.CRITICAL) {
            r.add(new Reason("THERMAL_CRITICAL", "the device is critically hot"));
        }
        if (d.batteryPct() != null && d.batteryPct() < settings.lowBatteryPct() && !Boolean.TRUE.equals(d.charging())) {
            r.add(new Reason("BATTERY_LOW", "battery at " + Math.round(d.batteryPct()) + "% and not charging"));
        }
        if (d.load() >= settings.saturationUtil()) {
            r.add(new Reason("DEVICE_SATURATED", "device utilisation " + Math.round(d.load() * 100) + "%"));
        }
        if (d.memAvailableMb() != null && d.memAvailableMb() < settings.minLocalMemoryMb()) {
            r.add(new Reason("MEMORY_LOW", d.memAvailableMb() + " MiB free"));
        }
        if (lm.maxContextTokens() != null && promptTokens + outTokens > lm.maxContextTokens()) {
            r.add(new Reason("CONTEXT_EXCEEDS_LOCAL", "about " + (promptTokens + outTokens)
                    + " tokens needed; the local model holds " + lm.maxContextTokens()));
        }
        return r;
    }

    private double localMillis(DeviceTelemetry d, int promptTokens, int outTokens) {
        LocalModel lm = d.localModel();
        double slowdown = Math.max(0.05, 1 - settings.loadSlowdownWeight() * d.load());
        if (d.thermal() == Thermal.SERIOUS) {
            slowdown *= settings.thermalSeriousFactor();
        }
        double tps = lm.tokensPerSec() * slowdown;
        double prefillTps = lm.prefillTokensPerSec() != null ? lm.prefillTokensPerSec() * slowdown
                : tps * settings.localPrefillSpeedup();
        return promptTokens * 1000.0 / prefillTps + outTokens * 1000.0 / tps;
    }

    /** RTT plus the prompt up and the answer down at the reported bandwidth (≈ 4 bytes per token). */
    private double transferMillis(DeviceTelemetry d, int promptTokens, int outTokens) {
        var n = d.network();
        double rtt = n == null || n.rttMs() == null ? settings.defaultRttMs() : n.rttMs();
        double ms = rtt;
        if (n != null && n.uplinkKbps() != null && n.uplinkKbps() > 0) {
            ms += promptTokens * 4 * 8 / n.uplinkKbps();
        }
        if (n != null && n.downlinkKbps() != null && n.downlinkKbps() > 0) {
            ms += outTokens * 4 * 8 / n.downlinkKbps();
        }
        if (n != null && n.type() == NetworkType.THREE_G && (n.rttMs() == null)) {
            ms += 2 * settings.defaultRttMs(); // 3G without a measured RTT: assume worse than the default
        }
        return ms;
    }

    private static String percent(double p) {
        return Math.round(p * 100) + " %";
    }

    private static Long min(Long a, long b) {
        return a == null ? b : Math.min(a, b);
    }

    private static long round(double ms) {
        return Math.round(ms);
    }
}
