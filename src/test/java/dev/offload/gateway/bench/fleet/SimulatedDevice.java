package dev.offload.gateway.bench.fleet;

import dev.offload.gateway.bench.fleet.GatewayClient.DeviceReport;
import dev.offload.gateway.bench.fleet.GatewayClient.Hint;
import dev.offload.gateway.bench.fleet.Scenario.NetworkProfile;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;

/**
 * One simulated device: its telemetry as it drifts over time, its small local model, and the
 * hint it holds. Plain Java with the time passed in (seconds since the run started), so the
 * protocol is testable without I/O; confined to the driver's event-loop context.
 *
 * <h2>Device protocol</h2>
 * For every query, {@link #plan} says what to do first:
 * <ol>
 * <li>policy {@code local}: run locally. Offline (any policy): run locally.</li>
 * <li>policy {@code offload}: send {@code /v1/query} with {@code generate: always}.</li>
 * <li>policy {@code hints}: restricted data runs locally without asking (the gateway's published
 * hard rule). Inside a refusal's {@code retryAfterMs}, run locally. Holding a hint for this kind
 * of query (question kind and sensitivity: the gateway's answer depends on both) younger than its
 * {@code validForMs}: follow it (LOCAL: run locally; EDGE, CLOUD or CACHE: send
 * {@code /v1/query} with {@code generate: unless-local}). Otherwise call
 * {@code /v1/offload/decide} first, keep the hint it returns, and follow that.</li>
 * </ol>
 * Every hint the gateway returns (with an answer, a refusal or a decide call) replaces the one
 * held for that kind of query, with a fresh validity; a hint with {@code retryAfterMs} also
 * starts a stay-local window for every query (the gateway, not the query, is the reason).
 * A query that comes back without an answer (the gateway said LOCAL, the data is restricted, a
 * 429/503 refusal, an error) is answered locally after it returns, under every policy: a device
 * always answers its user. A decide call that fails is followed by a local answer.
 *
 * <h2>Local model</h2>
 * One inference at a time (a query that finds the model busy waits for it): prefill of the
 * prompt (question, history, local context) at {@code local-prefill-tps}, then decode at
 * {@code local-tps}, both × the device's speed factor × (1 − 0.5 × CPU load) × a thermal factor
 * (1 nominal/fair, 0.6 serious, 0.35 critical). Running it heats the device, drains the battery
 * and shows as NPU load 0.9 in the telemetry.
 *
 * <h2>Telemetry drift (time-compressed so a few minutes show change)</h2>
 * Network: the scenario's phase at (time − the device's stagger), RTT × a log-normal jitter per
 * query, bandwidth × a per-device factor. Heat decays with a 120 s time constant and rises by
 * 0.015 per second of local inference; thermal state nominal below 0.4, fair below 0.7, serious
 * below 0.9, critical above. Battery drains 0.01 %/s idle and 0.1 %/s more while inferring,
 * charges 0.05 %/s while plugged in; plugged in flips on average every 120 s. CPU load follows
 * an Ornstein–Uhlenbeck process (time constant 30 s) around a per-device mean.
 */
final class SimulatedDevice {
    static final int LOCAL_MAX_CONTEXT = 4096;
    private static final double HEAT_TAU_S = 120;
    private static final double HEAT_PER_LOCAL_S = 0.015;
    private static final double IDLE_DRAIN_PCT_S = 0.01;
    private static final double LOCAL_DRAIN_PCT_S = 0.1;
    private static final double CHARGE_PCT_S = 0.05;
    private static final double CHARGE_FLIP_TAU_S = 120;
    private static final double LOAD_TAU_S = 30;
    private static final double LOAD_SIGMA = 0.15;

    /** What to do first with a query. */
    enum Step {
        LOCAL, DECIDE, QUERY
    }

    /** @param why for LOCAL: {@code policy}, {@code offline}, {@code restricted}, {@code retry-after}, {@code hint}; {@code generate} for QUERY */
    record Plan(Step step, String why, String generate, String hintSource) {
    }

    private record Held(Hint hint, double expiresS) {
    }

    /** The network for one trip: the phase's profile with this device's jitter and bandwidth. */
    record Conditions(NetworkProfile profile, double rttMs, double downKbps, double upKbps) {
        boolean offline() {
            return profile.offline();
        }

        double uplinkMs(int bytes) {
            return rttMs / 2 + bytes * 8.0 / upKbps;
        }

        double downlinkMs(int bytes) {
            return rttMs / 2 + bytes * 8.0 / downKbps;
        }
    }

    /** A local inference: when it starts and ends (run seconds), and the state it ran in. */
    record LocalRun(double startS, double firstTokenS, double endS, String thermal, double tokensPerSec) {
    }

    final int id;
    private final Random random;
    private final double speedFactor;
    private final double bandwidthFactor;
    private final double staggerS;
    private final int memAvailableMb;
    private final double loadMean;
    private final double localTps;
    private final double localPrefillTps;
    private final FleetOptions.DeviceClass deviceClass;
    private double battery;
    private boolean charging;
    private double heat;
    private double load;
    private double lastS;
    private double localBusyUntilS;
    private final Map<String, Held> hints = new HashMap<>();
    private double stayLocalUntilS = Double.NEGATIVE_INFINITY;

    SimulatedDevice(int id, long seed, double staggerMaxS, double chargingShare, double localTps, double localPrefillTps) {
        this(id, seed, staggerMaxS, chargingShare, localPrefillTps, new FleetOptions.DeviceClass(localTps, 1, 4));
    }

    /** @param localPrefillTps this device class's prefill speed */
    SimulatedDevice(int id, long seed, double staggerMaxS, double chargingShare, double localPrefillTps,
                    FleetOptions.DeviceClass deviceClass) {
        double localTps = deviceClass.tokensPerSec();
        this.deviceClass = deviceClass;
        this.id = id;
        this.random = new Random(seed);
        this.speedFactor = 0.7 + 0.6 * random.nextDouble();
        this.bandwidthFactor = 0.6 + 0.8 * random.nextDouble();
        this.staggerS = staggerMaxS * random.nextDouble();
        this.memAvailableMb = 1200 + random.nextInt(3000);
        this.loadMean = 0.1 + 0.5 * random.nextDouble();
        this.load = loadMean;
        this.battery = 15 + 85 * random.nextDouble();
        this.charging = random.nextDouble() < chargingShare;
        this.heat = 0.6 * random.nextDouble();
        this.localTps = localTps;
        this.localPrefillTps = localPrefillTps;
    }

    /** Lets the device's state drift up to {@code s}; earlier times are ignored. */
    void advanceTo(double s) {
        double dt = s - lastS;
        if (dt <= 0) {
            return;
        }
        lastS = s;
        heat *= Math.exp(-dt / HEAT_TAU_S);
        battery += (charging ? CHARGE_PCT_S : -IDLE_DRAIN_PCT_S) * dt;
        battery = Math.max(1, Math.min(100, battery));
        if (random.nextDouble() < 1 - Math.exp(-dt / CHARGE_FLIP_TAU_S)) {
            charging = !charging;
        }
        double decay = Math.exp(-dt / LOAD_TAU_S);
        load = loadMean + (load - loadMean) * decay + LOAD_SIGMA * Math.sqrt(1 - decay * decay) * random.nextGaussian();
        load = Math.max(0, Math.min(0.98, load));
    }

    /** This trip's network, from the scenario at the device's staggered time. */
    Conditions conditions(Scenario scenario, double s) {
        NetworkProfile p = scenario.phaseAt(Math.max(0, s - staggerS)).network();
        if (p.offline()) {
            return new Conditions(p, 0, 0, 0);
        }
        double jitter = Math.exp(p.rttJitter() * random.nextGaussian() - p.rttJitter() * p.rttJitter() / 2);
        return new Conditions(p, p.rttMs() * jitter, p.downKbps() * bandwidthFactor, p.upKbps() * bandwidthFactor);
    }

    /** @param localContextTokens the context the device's own retrieval adds to a local prompt */
    DeviceReport report(Conditions c, double s, int localContextTokens) {
        return new DeviceReport(load, s < localBusyUntilS ? 0.9 : 0.05, memAvailableMb, battery, charging, thermal(),
                c.profile().type(), c.rttMs(), c.downKbps(), c.upKbps(), localTps * speedFactor, LOCAL_MAX_CONTEXT,
                localPrefillTps * speedFactor, localContextTokens);
    }

    /**
     * @param key        the kind of query a held hint applies to ({@link #hintKey})
     * @param restricted the query's data is restricted
     */
    Plan plan(Policy policy, Conditions c, double s, String key, boolean restricted) {
        if (policy == Policy.LOCAL) {
            return new Plan(Step.LOCAL, "policy", null, "none");
        }
        if (c.offline()) {
            return new Plan(Step.LOCAL, "offline", null, "none");
        }
        if (policy == Policy.OFFLOAD) {
            return new Plan(Step.QUERY, null, "always", "none");
        }
        if (restricted) {
            return new Plan(Step.LOCAL, "restricted", null, "none");
        }
        if (policy == Policy.QUALITY) {
            // The question's estimate is per question: nothing held applies to the next one.
            return new Plan(Step.DECIDE, null, null, "decided");
        }
        if (policy == Policy.ORACLE || policy.watches()) {
            throw new IllegalArgumentException("the oracle and the watching device plan with planOracle / planWatched");
        }
        if (s < stayLocalUntilS) {
            return new Plan(Step.LOCAL, "retry-after", null, "held");
        }
        Held h = hints.get(key);
        if (h != null && s < h.expiresS()) {
            return follow(h.hint(), "held");
        }
        return new Plan(Step.DECIDE, null, null, "decided");
    }

    /**
     * What the oracle knows about one query, and what it would get either way.
     *
     * @param localCorrect  the device's model answers it correctly
     * @param localEndS     when a local answer would be complete (run seconds, the model's queue included)
     * @param remoteCorrect the always-offload run's answer to this query was correct
     * @param remoteE2eMs   that run's end-to-end latency for it; NaN when unknown
     * @param budgetMs      the query's budget
     * @param arrivalS      its arrival
     */
    record Knowledge(boolean localCorrect, double localEndS, boolean remoteCorrect, double remoteE2eMs,
                     long budgetMs, double arrivalS) {
    }

    /**
     * The oracle's choice: each option scores 2 for a correct answer plus 1 for meeting the
     * budget; the higher wins, a tie stays local (it spares the GPU). Offline and restricted
     * queries run locally, as under every policy.
     */
    static Plan planOracle(Knowledge k, Conditions c, boolean restricted) {
        if (c.offline()) {
            return new Plan(Step.LOCAL, "offline", null, "none");
        }
        if (restricted) {
            return new Plan(Step.LOCAL, "restricted", null, "none");
        }
        double localMs = (k.localEndS() - k.arrivalS()) * 1000;
        int local = (k.localCorrect() ? 2 : 0) + (localMs <= k.budgetMs() ? 1 : 0);
        int remote = (k.remoteCorrect() ? 2 : 0)
                + (!Double.isNaN(k.remoteE2eMs()) && k.remoteE2eMs() <= k.budgetMs() ? 1 : 0);
        return remote > local ? new Plan(Step.QUERY, null, "always", "oracle")
                : new Plan(Step.LOCAL, "oracle", null, "oracle");
    }

    /**
     * The quality-router-only device: local when the gateway's estimate is at or above
     * {@code threshold}, otherwise the gateway generates ({@code generate: always}). A hint
     * without an estimate (a cached question, restricted data) is followed as it is.
     */
    static Plan followQuality(Hint h, double threshold) {
        if (h.localQuality() == null) {
            return h.target().equals("LOCAL") ? new Plan(Step.LOCAL, "hint", null, "decided")
                    : new Plan(Step.QUERY, null, "always", "decided");
        }
        return h.localQuality() >= threshold ? new Plan(Step.LOCAL, "quality", null, "decided")
                : new Plan(Step.QUERY, null, "always", "decided");
    }

    /**
     * Follow hints, decided on the device: as {@code hints} (offline, restricted and a stay-local
     * window first), but the hint comes from {@code local}, the gateway's policy evaluated over the
     * pushed snapshot; only when that has none (no snapshot, or it ran out) does the device call
     * decide. A LOCAL hint the package's probe rule picks asks the cache first: QUERY with
     * {@code generate: cache-only}, local on a miss. This is the one place where a watching device decides.
     */
    Plan planWatched(Conditions c, double s, boolean restricted,
                     java.util.function.Supplier<java.util.Optional<WatchStream.Decision>> local) {
        if (c.offline()) {
            return new Plan(Step.LOCAL, "offline", null, "none");
        }
        if (restricted) {
            return new Plan(Step.LOCAL, "restricted", null, "none");
        }
        if (s < stayLocalUntilS) {
            return new Plan(Step.LOCAL, "retry-after", null, "held");
        }
        return local.get().map(d -> d.probeCache() ? new Plan(Step.QUERY, null, "cache-only", "watched")
                : follow(d.hint(), "watched")).orElse(new Plan(Step.DECIDE, null, null, "decided"));
    }

    /** What a fresh or held hint says to do. */
    static Plan follow(Hint h, String source) {
        return h.target().equals("LOCAL") ? new Plan(Step.LOCAL, "hint", null, source)
                : new Plan(Step.QUERY, null, "unless-local", source);
    }

    /** Which held hint a query may reuse: one per question kind and sensitivity. */
    static String hintKey(QuestionPool.Kind kind, String sensitivity) {
        return kind + "/" + sensitivity;
    }

    /** Keeps a hint the gateway returned at {@code s} for a query of kind {@code key}. */
    void onHint(Hint h, double s, String key) {
        if (h == null) {
            return;
        }
        hints.put(key, new Held(h, s + h.validForMs() / 1000.0));
        if (h.retryAfterMs() != null && h.retryAfterMs() > 0) {
            stayLocalUntilS = Math.max(stayLocalUntilS, s + h.retryAfterMs() / 1000.0);
        }
    }

    /** A refusal's own retry-after (the problem's or error event's), when the hint carries none. */
    void stayLocalFor(long retryAfterMs, double s) {
        stayLocalUntilS = Math.max(stayLocalUntilS, s + retryAfterMs / 1000.0);
    }

    /** The hint held for {@code key}, expired or not; null when none. */
    Hint hint(String key) {
        Held h = hints.get(key);
        return h == null ? null : h.hint();
    }

    /**
     * Books a local inference asked for at {@code s}: it starts when the model is free, and its
     * heat and battery cost are charged at once.
     */
    LocalRun runLocal(double s, int promptTokens, int outputTokens) {
        advanceTo(s);
        double start = Math.max(s, localBusyUntilS);
        String thermal = thermal();
        double factor = speedFactor * (1 - 0.5 * load) * thermalFactor(thermal);
        double decodeTps = localTps * factor;
        double prefillS = promptTokens / (localPrefillTps * factor);
        double total = prefillS + outputTokens / decodeTps;
        localBusyUntilS = start + total;
        heat += HEAT_PER_LOCAL_S * total;
        battery = Math.max(1, battery - LOCAL_DRAIN_PCT_S * total);
        return new LocalRun(start, start + prefillS, start + total, thermal, decodeTps);
    }

    /**
     * When a local inference asked for at {@code s} would end, without booking it (the oracle's
     * "true local latency"): same arithmetic as {@link #runLocal}, state as it is now.
     */
    double localEndIfRun(double s, int promptTokens, int outputTokens) {
        double start = Math.max(s, localBusyUntilS);
        double factor = speedFactor * (1 - 0.5 * load) * thermalFactor(thermal());
        return start + promptTokens / (localPrefillTps * factor) + outputTokens / (localTps * factor);
    }

    FleetOptions.DeviceClass deviceClass() {
        return deviceClass;
    }

    String thermal() {
        return heat < 0.4 ? "nominal" : heat < 0.7 ? "fair" : heat < 0.9 ? "serious" : "critical";
    }

    private static double thermalFactor(String thermal) {
        return switch (thermal) {
            case "serious" -> 0.6;
            case "critical" -> 0.35;
            default -> 1;
        };
    }

    double battery() {
        return battery;
    }

    boolean charging() {
        return charging;
    }

    double load() {
        return load;
    }
}
