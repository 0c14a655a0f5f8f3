package dev.offload.gateway.bench.fleet;

import dev.offload.gateway.bench.Hardware;
import dev.offload.gateway.bench.fleet.GatewayClient.Answer;
import dev.offload.gateway.bench.fleet.GatewayClient.Ask;
import dev.offload.gateway.bench.fleet.GatewayClient.Decision;
import dev.offload.gateway.bench.fleet.GatewayClient.DeviceReport;
import dev.offload.gateway.bench.fleet.SimulatedDevice.Conditions;
import dev.offload.gateway.bench.fleet.SimulatedDevice.LocalRun;
import dev.offload.gateway.bench.fleet.SimulatedDevice.Plan;
import dev.offload.gateway.bench.fleet.Workload.Arrival;
import io.vertx.core.Context;
import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Replays one workload under one policy against one gateway. Every device and every trip is
 * touched only on one Vert.x context (transport callbacks hop onto it), so nothing here is locked;
 * {@link #execute()} is called from a plain thread and waits.
 *
 * <p>Time: each query has a device-side timeline that starts at its scheduled arrival and adds
 * the simulated network legs (one-way RTT/2 plus bytes over the link's bandwidth), the gateway's
 * measured time, and local inference time; the recorded latency is that timeline, so the driver's
 * own timer lateness does not count, but the gateway's real queueing does. Arrivals are
 * scheduled open-loop (a query is issued at its time whatever happened to earlier ones), and the
 * next step of a trip (the query after a decide call, the local run after a refusal) is scheduled
 * at the device's time for it. A local run occupies the device's model until its computed end.
 */
final class FleetRun {
    /** One scrape of the gateway during the run. */
    record Sample(double atS, double occupancy, double queue) {
    }

    /**
     * @param tokens the gateway's {@code gateway_generation_tokens_total} during the run, by
     *               {@code tier/direction} (empty when not scraped)
     */
    record Result(Policy policy, int repeat, List<RequestRecord> records, List<Sample> samples,
                  Map<String, Double> decisions, Map<String, Double> tokens, String loadAverage, double wallS) {
    }

    private final FleetOptions o;
    private final Policy policy;
    private final int repeat;
    private final List<Arrival> arrivals;
    private final GatewayClient client;
    private final GatewayMetrics metrics;
    private final Vertx vertx;
    private final Context ctx;
    private final List<SimulatedDevice> devices = new ArrayList<>();
    private final List<Trip> finished = new ArrayList<>();
    private final AnswerQuality quality;
    /** The always-offload run of this repetition by arrival index (the oracle's knowledge); empty otherwise. */
    private final Map<Integer, RequestRecord> offloadOutcomes;
    /** For the watching policy: the pushed state and the policy package; null otherwise. */
    private final WatchStream watch;
    private final List<Sample> samples = new ArrayList<>();
    private final Set<Trip> open = new LinkedHashSet<>();
    private final AtomicInteger outstanding = new AtomicInteger();
    private long t0;
    private long sampler = -1;

    /**
     * @param client          null for the never-offload policy; {@code metrics} null when not scraped
     * @param quality         the driver's registry of generated answers (shared by every run, since
     *                        a gateway given by {@code --url} keeps its cache between runs)
     * @param offloadOutcomes for the oracle: the always-offload records of this repetition
     */
    FleetRun(FleetOptions o, Policy policy, int repeat, List<Arrival> arrivals, GatewayClient client,
             GatewayMetrics metrics, Vertx vertx, Context ctx, AnswerQuality quality,
             Map<Integer, RequestRecord> offloadOutcomes, WatchStream watch) {
        this.watch = watch;
        this.quality = quality;
        this.offloadOutcomes = offloadOutcomes;
        this.o = o;
        this.policy = policy;
        this.repeat = repeat;
        this.arrivals = arrivals;
        this.client = client;
        this.metrics = metrics;
        this.vertx = vertx;
        this.ctx = ctx;
        for (int d = 0; d < o.devices; d++) {
            FleetOptions.DeviceClass dc = o.deviceClass(o.seed + repeat, d);
            devices.add(new SimulatedDevice(d, Seeds.mix(o.seed, repeat, d), o.staggerS, o.chargingShare,
                    o.localPrefillTps * dc.tokensPerSec() / o.baseTps(), dc));
        }
    }

    /** One query's progress; lives on the context. */
    private static final class Trip {
        final Arrival a;
        final SimulatedDevice d;
        final Conditions c;
        final DeviceReport report;
        final String key;
        double vt;
        String hintSource = "none";
        String hintTarget = "";
        String answerHint = "";
        String reasons = "";
        double decideMs = Double.NaN;
        double ttftS = Double.NaN;
        int status;
        String error;
        boolean done;
        double localQuality = Double.NaN;
        int decideCalls;
        int probes;
        int localDecisions;
        double localS;
        String answerTag;
        String route;
        String why;
        double endS;
        final List<DeviceEnergy.Exchange> exchanges = new ArrayList<>();

        Trip(Arrival a, SimulatedDevice d, Conditions c, DeviceReport report) {
            this.a = a;
            this.d = d;
            this.c = c;
            this.report = report;
            this.key = SimulatedDevice.hintKey(a.kind(), a.sensitivity());
            this.vt = a.atS();
        }
    }

    Result execute() throws InterruptedException {
        GatewayMetrics.Snapshot before = snapshot();
        outstanding.set(arrivals.size());
        long wallStart = System.nanoTime();
        CompletableFuture<Void> scheduled = new CompletableFuture<>();
        ctx.runOnContext(v -> {
            t0 = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
            for (Arrival a : arrivals) {
                at(a.atS(), () -> arrive(a));
            }
            if (metrics != null) {
                long every = Math.max(50, Math.round(o.metricsIntervalS * 1000));
                sampler = vertx.setPeriodic(every, id -> {
                    double s = now();
                    metrics.scrape().onSuccess(m -> samples.add(new Sample(s, m.edgeOccupancy(), m.edgeQueue())));
                });
            }
            scheduled.complete(null);
        });
        await(scheduled);
        long end = t0 + (long) ((o.scenario.durationS() + o.drainS) * 1e9);
        while (outstanding.get() > 0 && System.nanoTime() < end) {
            Thread.sleep(50);
        }
        CompletableFuture<List<RequestRecord>> copy = new CompletableFuture<>();
        ctx.runOnContext(v -> {
            if (sampler >= 0) {
                vertx.cancelTimer(sampler);
            }
            double s = now();
            for (Trip t : List.copyOf(open)) {
                t.error = "cut off at the end of the run";
                finish(t, "cut-off", "", s);
            }
            copy.complete(records(s));
        });
        List<RequestRecord> out = await(copy);
        GatewayMetrics.Snapshot after = snapshot();
        CompletableFuture<List<Sample>> s = new CompletableFuture<>();
        ctx.runOnContext(v -> s.complete(List.copyOf(samples)));
        return new Result(policy, repeat, out, await(s), delta(before.decisions(), after.decisions()),
                delta(before.tokens(), after.tokens()), Hardware.loadAverage(), (System.nanoTime() - wallStart) / 1e9);
    }

    private static Map<String, Double> delta(Map<String, Double> before, Map<String, Double> after) {
        Map<String, Double> d = new HashMap<>();
        after.forEach((k, v) -> d.put(k, v - before.getOrDefault(k, 0.0)));
        return d;
    }

    private GatewayMetrics.Snapshot snapshot() {
        GatewayMetrics.Snapshot none = new GatewayMetrics.Snapshot(Double.NaN, Double.NaN, Map.of(), Map.of());
        if (metrics == null) {
            return none;
        }
        try {
            return metrics.scrape().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            return none;
        }
    }

    /**
     * The records, once every trip has finished: answer verdicts (a cached answer's origin is
     * known only once the answer it copies has been seen, which may be after the hit) and radio
     * energy (a tail is cut by the device's next exchange).
     */
    private List<RequestRecord> records(double untilS) {
        Map<Integer, List<DeviceEnergy.Exchange>> byDevice = new HashMap<>();
        for (Trip t : finished) {
            byDevice.computeIfAbsent(t.a.device(), k -> new ArrayList<>()).addAll(t.exchanges);
        }
        double[] radio = new double[arrivals.size()];
        byDevice.forEach((d, ex) -> {
            double[] j = DeviceEnergy.radioJoules(ex, arrivals.size(), untilS);
            for (int i = 0; i < j.length; i++) {
                radio[i] += j[i];
            }
        });
        List<RequestRecord> out = new ArrayList<>(finished.size());
        for (Trip t : finished) {
            Arrival a = t.a;
            DeviceReport r = t.report;
            boolean cut = t.route.equals("cut-off");
            double e2e = (t.endS - a.atS()) * 1000;
            AnswerQuality.Verdict v = quality.judge(t.route, a.question(), t.answerTag);
            String cacheOrigin = t.route.equals("cache") && a.question() != null
                    ? quality.cacheOrigin(t.answerTag, a.question()).wire() : "";
            long up = 0;
            long down = 0;
            for (DeviceEnergy.Exchange x : t.exchanges) {
                up += x.upBytes();
                down += x.downBytes();
            }
            out.add(new RequestRecord(policy.wire, repeat, a.device(), a.index(), o.scenario.phaseAt(a.atS()).name(),
                    a.atS(), a.kind().name().toLowerCase(java.util.Locale.ROOT), a.origin(), a.sensitivity(),
                    r.network(), r.rttMs(), r.thermal(), r.batteryPct(), r.charging(), r.cpuUtil(), t.hintSource,
                    t.hintTarget, t.answerHint, t.reasons, t.route, t.why, t.status, t.decideMs,
                    cut ? Double.NaN : t.ttftS * 1000, e2e, a.budgetMs(), !cut && e2e <= a.budgetMs(),
                    a.outputTokens(), t.error, a.question() == null ? "" : a.question().origin(),
                    t.d.deviceClass().tokensPerSec(), t.localQuality, v.wire(), cacheOrigin, t.decideCalls, t.probes, t.localS,
                    DeviceEnergy.localJoules(t.d.deviceClass().watts(), t.localS), radio[a.index()], up, down,
                    t.answerTag));
        }
        out.sort(java.util.Comparator.comparingInt(RequestRecord::index));
        return out;
    }

    // ---------------------------------------------------------------- the device protocol, on the context

    private void arrive(Arrival a) {
        SimulatedDevice d = devices.get(a.device());
        double s = a.atS();
        d.advanceTo(s);
        Conditions c = d.conditions(o.scenario, s);
        Trip t = new Trip(a, d, c, d.report(c, s, o.localContextTokens));
        open.add(t);
        boolean restricted = a.sensitivity().equals("restricted");
        Plan p = switch (policy) {
            case ORACLE -> SimulatedDevice.planOracle(knowledge(a, d, s), c, restricted);
            case WATCH, WATCH_NO_PROBE -> d.planWatched(c, s, restricted, () -> watch.decide(a.text(), historyTokens(a),
                    a.sensitivity(), a.budgetMs(), a.outputTokens(), t.report, policy == Policy.WATCH));
            default -> d.plan(policy, c, s, t.key, restricted);
        };
        if (p.hintSource().equals("watched")) {
            t.localDecisions++;
        }
        t.hintSource = p.hintSource();
        if (p.hintSource().equals("held") && d.hint(t.key) != null) {
            t.hintTarget = d.hint(t.key).target();
        }
        switch (p.step()) {
            case LOCAL -> local(t, p.why());
            case QUERY -> query(t, p.generate());
            case DECIDE -> decide(t);
        }
    }

    /** What the oracle knows about a query at its arrival: labels, its true local end, the always-offload outcome. */
    private SimulatedDevice.Knowledge knowledge(Arrival a, SimulatedDevice d, double s) {
        QuestionPool.Question q = a.question();
        RequestRecord remote = offloadOutcomes.get(a.index());
        int prompt = tokens(a.text()) + historyTokens(a) + o.localContextTokens;
        boolean localCorrect = q != null && Boolean.TRUE.equals(q.weakCorrect());
        // The always-offload run's answer to this query, unless that run answered it locally or cut it
        // off (then only the label is known, and no remote latency).
        boolean seen = remote != null && !remote.route().equals("local") && !remote.route().equals("cut-off");
        boolean remoteCorrect = seen ? remote.correct() : q != null && Boolean.TRUE.equals(q.strongCorrect());
        return new SimulatedDevice.Knowledge(localCorrect, d.localEndIfRun(s, prompt, a.outputTokens()), remoteCorrect,
                seen ? remote.e2eMs() : Double.NaN, a.budgetMs(), a.atS());
    }

    private void decide(Trip t) {
        double up = t.c.uplinkMs(requestBytes(t.a)) / 1000;
        // The quality-router-only device sends the question alone, no telemetry.
        Ask ask = policy == Policy.QUALITY ? new Ask(t.a.text(), t.a.history(), historyTokens(t.a), t.a.sensitivity(),
                t.a.budgetMs(), null, null, t.a.outputTokens(), Math.round(o.requestTimeoutS * 1000)) : ask(t, null);
        double startS = t.vt;
        at(t.vt + up, () -> {
            long sent = System.nanoTime();
            client.decide(ask, dec -> ctx.runOnContext(v -> onDecision(t, dec, sent, up, startS)));
        });
    }

    private void onDecision(Trip t, Decision dec, long sent, double up, double startS) {
        if (t.done) {
            return;
        }
        double taken = up + (System.nanoTime() - sent) / 1e9 + t.c.downlinkMs(dec.bytesReceived()) / 1000;
        t.vt += taken;
        t.decideMs = taken * 1000;
        t.decideCalls++;
        t.exchanges.add(new DeviceEnergy.Exchange(t.a.index(), startS, t.vt, dec.bytesSent(), dec.bytesReceived(),
                t.c.profile().type()));
        if (dec.status() != 200 || dec.hint() == null) {
            t.error = dec.error();
            at(t.vt, () -> local(t, "decide-failed"));
            return;
        }
        if (dec.hint().localQuality() != null) {
            t.localQuality = dec.hint().localQuality();
        }
        t.hintTarget = dec.hint().target();
        t.reasons = String.join("|", dec.hint().reasons());
        Plan p;
        if (policy == Policy.QUALITY) {
            p = SimulatedDevice.followQuality(dec.hint(), o.minLocalQuality);
        } else {
            t.d.onHint(dec.hint(), t.vt, t.key);
            p = SimulatedDevice.follow(dec.hint(), "decided");
        }
        at(t.vt, () -> {
            if (p.step() == SimulatedDevice.Step.LOCAL) {
                local(t, p.why());
            } else {
                query(t, p.generate());
            }
        });
    }

    private void query(Trip t, String generate) {
        if ("cache-only".equals(generate)) {
            t.probes++;
        }
        double up = t.c.uplinkMs(requestBytes(t.a)) / 1000;
        Ask ask = ask(t, generate);
        double startS = t.vt;
        at(t.vt + up, () -> {
            if (t.done) {
                return;
            }
            long sent = System.nanoTime();
            client.query(ask, ans -> ctx.runOnContext(v -> onAnswer(t, ans, sent, up, startS)));
        });
    }

    private void onAnswer(Trip t, Answer ans, long sent, double up, double startS) {
        if (t.done) {
            return;
        }
        if (ans.firstTokenNanos() != 0) {
            t.ttftS = t.vt + up + (ans.firstTokenNanos() - sent) / 1e9
                    + t.c.downlinkMs(ans.bytesBeforeFirstToken()) / 1000 - t.a.atS();
        }
        t.vt += up + (ans.endNanos() - sent) / 1e9 + t.c.downlinkMs(ans.bytesReceived()) / 1000;
        t.exchanges.add(new DeviceEnergy.Exchange(t.a.index(), startS, t.vt, ans.bytesSent(), ans.bytesReceived(),
                t.c.profile().type()));
        t.status = ans.status();
        t.error = ans.error();
        if (ans.hint() != null && ans.hint().localQuality() != null) {
            t.localQuality = ans.hint().localQuality();
        }
        if (ans.hint() != null) {
            t.answerHint = ans.hint().target();
            t.reasons = String.join("|", ans.hint().reasons());
            if (policy == Policy.HINTS || policy.watches()) {
                t.d.onHint(ans.hint(), t.vt, t.key);
            }
        }
        if ((policy == Policy.HINTS || policy.watches()) && ans.retryAfterMs() != null) {
            t.d.stayLocalFor(ans.retryAfterMs(), t.vt);
        }
        if (ans.answered()) {
            t.answerTag = AnswerQuality.tagOf(ans.firstWord());
            if (!ans.servedBy().equals("cache") && !ans.servedBy().equals("extractive") && t.a.question() != null) {
                quality.generated(t.answerTag, t.a.question().origin());
            }
            at(t.vt, () -> finish(t, ans.servedBy(), "", t.vt));
            return;
        }
        String why = t.probes > 0 && ans.status() == 200 && ans.error() == null ? "cache-miss"
                : ans.status() == 200 && ans.error() == null ? "gateway-local"
                : ans.status() == 429 || ans.status() == 503 ? "refused" : "error";
        t.ttftS = Double.NaN; // the user's first token will come from the local model
        at(t.vt, () -> local(t, why));
    }

    private void local(Trip t, String why) {
        if (t.done) {
            return;
        }
        int prompt = tokens(t.a.text()) + historyTokens(t.a) + o.localContextTokens;
        LocalRun r = t.d.runLocal(t.vt, prompt, t.a.outputTokens());
        t.ttftS = r.firstTokenS() - t.a.atS();
        t.localS = r.endS() - r.startS();
        at(r.endS(), () -> finish(t, "local", why, r.endS()));
    }

    private void finish(Trip t, String route, String why, double endS) {
        if (t.done) {
            return;
        }
        t.done = true;
        open.remove(t);
        t.route = route;
        t.why = why;
        t.endS = endS;
        finished.add(t);
        outstanding.decrementAndGet();
    }

    // ---------------------------------------------------------------- helpers

    private Ask ask(Trip t, String generate) {
        return new Ask(t.a.text(), t.a.history(), historyTokens(t.a), t.a.sensitivity(), t.a.budgetMs(), t.report,
                generate, t.a.outputTokens(), Math.round(o.requestTimeoutS * 1000));
    }

    /** Roughly what the request weighs on the wire: the telemetry object plus the texts. */
    private static int requestBytes(Arrival a) {
        int n = 600 + a.text().length();
        for (Workload.Turn t : a.history()) {
            n += t.content().length() + 40;
        }
        return n;
    }

    static int tokens(String text) {
        return (text.length() + 3) / 4;
    }

    private static int historyTokens(Arrival a) {
        int n = 0;
        for (Workload.Turn t : a.history()) {
            n += tokens(t.content());
        }
        return n;
    }

    private double now() {
        return (System.nanoTime() - t0) / 1e9;
    }

    /** Runs {@code r} on the context at run time {@code s} (at once when that has passed). */
    private void at(double s, Runnable r) {
        long delayNanos = t0 + (long) (s * 1e9) - System.nanoTime();
        if (delayNanos < 500_000) {
            ctx.runOnContext(v -> r.run());
        } else {
            vertx.setTimer(Math.max(1, Math.round(delayNanos / 1e6)), id -> r.run());
        }
    }

    private static <T> T await(CompletableFuture<T> f) throws InterruptedException {
        try {
            return f.get(60, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("the driver's event loop did not answer", e);
        }
    }
}
