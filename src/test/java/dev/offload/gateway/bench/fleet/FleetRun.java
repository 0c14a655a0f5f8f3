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

    record Result(Policy policy, int repeat, List<RequestRecord> records, List<Sample> samples,
                  Map<String, Double> decisions, String loadAverage, double wallS) {
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
    private final List<RequestRecord> records = new ArrayList<>();
    private final List<Sample> samples = new ArrayList<>();
    private final Set<Trip> open = new LinkedHashSet<>();
    private final AtomicInteger outstanding = new AtomicInteger();
    private long t0;
    private long sampler = -1;

    /** @param client null for the never-offload policy; {@code metrics} null when not scraped */
    FleetRun(FleetOptions o, Policy policy, int repeat, List<Arrival> arrivals, GatewayClient client,
             GatewayMetrics metrics, Vertx vertx, Context ctx) {
        this.o = o;
        this.policy = policy;
        this.repeat = repeat;
        this.arrivals = arrivals;
        this.client = client;
        this.metrics = metrics;
        this.vertx = vertx;
        this.ctx = ctx;
        for (int d = 0; d < o.devices; d++) {
            devices.add(new SimulatedDevice(d, Seeds.mix(o.seed, repeat, d), o.staggerS, o.chargingShare,
                    o.localTps, o.localPrefillTps));
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
        Map<String, Double> before = decisions();
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
            copy.complete(List.copyOf(records));
        });
        List<RequestRecord> out = await(copy);
        Map<String, Double> after = decisions();
        Map<String, Double> delta = new HashMap<>();
        after.forEach((k, v) -> delta.put(k, v - before.getOrDefault(k, 0.0)));
        CompletableFuture<List<Sample>> s = new CompletableFuture<>();
        ctx.runOnContext(v -> s.complete(List.copyOf(samples)));
        return new Result(policy, repeat, out, await(s), delta, Hardware.loadAverage(),
                (System.nanoTime() - wallStart) / 1e9);
    }

    private Map<String, Double> decisions() {
        if (metrics == null) {
            return Map.of();
        }
        try {
            return metrics.scrape().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS).decisions();
        } catch (Exception e) {
            return Map.of();
        }
    }

    // ---------------------------------------------------------------- the device protocol, on the context

    private void arrive(Arrival a) {
        SimulatedDevice d = devices.get(a.device());
        double s = a.atS();
        d.advanceTo(s);
        Conditions c = d.conditions(o.scenario, s);
        Trip t = new Trip(a, d, c, d.report(c, s));
        open.add(t);
        Plan p = d.plan(policy, c, s, t.key, a.sensitivity().equals("restricted"));
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

    private void decide(Trip t) {
        double up = t.c.uplinkMs(requestBytes(t.a)) / 1000;
        Ask ask = ask(t, null);
        at(t.vt + up, () -> {
            long sent = System.nanoTime();
            client.decide(ask, dec -> ctx.runOnContext(v -> onDecision(t, dec, sent, up)));
        });
    }

    private void onDecision(Trip t, Decision dec, long sent, double up) {
        if (t.done) {
            return;
        }
        double taken = up + (System.nanoTime() - sent) / 1e9 + t.c.downlinkMs(dec.bytesReceived()) / 1000;
        t.vt += taken;
        t.decideMs = taken * 1000;
        if (dec.status() != 200 || dec.hint() == null) {
            t.error = dec.error();
            at(t.vt, () -> local(t, "decide-failed"));
            return;
        }
        t.d.onHint(dec.hint(), t.vt, t.key);
        t.hintTarget = dec.hint().target();
        t.reasons = String.join("|", dec.hint().reasons());
        Plan p = SimulatedDevice.follow(dec.hint(), "decided");
        at(t.vt, () -> {
            if (p.step() == SimulatedDevice.Step.LOCAL) {
                local(t, p.why());
            } else {
                query(t, p.generate());
            }
        });
    }

    private void query(Trip t, String generate) {
        double up = t.c.uplinkMs(requestBytes(t.a)) / 1000;
        Ask ask = ask(t, generate);
        at(t.vt + up, () -> {
            if (t.done) {
                return;
            }
            long sent = System.nanoTime();
            client.query(ask, ans -> ctx.runOnContext(v -> onAnswer(t, ans, sent, up)));
        });
    }

    private void onAnswer(Trip t, Answer ans, long sent, double up) {
        if (t.done) {
            return;
        }
        if (ans.firstTokenNanos() != 0) {
            t.ttftS = t.vt + up + (ans.firstTokenNanos() - sent) / 1e9
                    + t.c.downlinkMs(ans.bytesBeforeFirstToken()) / 1000 - t.a.atS();
        }
        t.vt += up + (ans.endNanos() - sent) / 1e9 + t.c.downlinkMs(ans.bytesReceived()) / 1000;
        t.status = ans.status();
        t.error = ans.error();
        if (ans.hint() != null) {
            t.answerHint = ans.hint().target();
            t.reasons = String.join("|", ans.hint().reasons());
            if (policy == Policy.HINTS) {
                t.d.onHint(ans.hint(), t.vt, t.key);
            }
        }
        if (policy == Policy.HINTS && ans.retryAfterMs() != null) {
            t.d.stayLocalFor(ans.retryAfterMs(), t.vt);
        }
        if (ans.answered()) {
            at(t.vt, () -> finish(t, ans.servedBy(), "", t.vt));
            return;
        }
        String why = ans.status() == 200 && ans.error() == null ? "gateway-local"
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
        at(r.endS(), () -> finish(t, "local", why, r.endS()));
    }

    private void finish(Trip t, String route, String why, double endS) {
        if (t.done) {
            return;
        }
        t.done = true;
        open.remove(t);
        Arrival a = t.a;
        double e2e = (endS - a.atS()) * 1000;
        boolean cut = route.equals("cut-off");
        DeviceReport r = t.report;
        records.add(new RequestRecord(policy.wire, repeat, a.device(), a.index(), o.scenario.phaseAt(a.atS()).name(),
                a.atS(), a.kind().name().toLowerCase(java.util.Locale.ROOT), a.origin(), a.sensitivity(), r.network(),
                r.rttMs(), r.thermal(), r.batteryPct(), r.charging(), r.cpuUtil(), t.hintSource, t.hintTarget,
                t.answerHint, t.reasons, route, why, t.status, t.decideMs, cut ? Double.NaN : t.ttftS * 1000, e2e, a.budgetMs(),
                !cut && e2e <= a.budgetMs(), a.outputTokens(), t.error));
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
