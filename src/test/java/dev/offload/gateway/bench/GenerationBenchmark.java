package dev.offload.gateway.bench;

import dev.offload.gateway.sim.SimulatedBackend;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

/**
 * Generation benchmark: what the gateway does for goodput under overload, and what it costs in
 * latency, against calling the backend directly (and against Portkey). Plain main, not a test;
 * the simulated backend runs in this JVM, the gateway jar (and Portkey) as child processes, and
 * everything talks over 127.0.0.1 only.
 *
 * <pre>
 * ./mvnw -q -B package -DskipTests
 * ./mvnw -q test-compile exec:exec@generation -Dbench.args="--portkey-dir /tmp/portkey"
 * </pre>
 *
 * <h2>Part 1: goodput</h2>
 * The capacity of the simulated backend is measured first (closed loop: {@code max-batch} clients
 * each sending its next request as soon as the previous one ended, on a fresh backend) and also
 * computed from its parameters. Then, for each load factor (0.5, 1, 2 × capacity), one Poisson
 * arrival sequence (same seed for both paths) is played open-loop (a request is sent at its
 * arrival time whatever happened to the others) against (a) the backend directly and (b) the
 * gateway in front of it, each on a fresh backend with the same parameters and after the same
 * closed-loop warm-up. Requests stream; the time to first token (TTFT) is measured from the
 * scheduled arrival to the first SSE event with non-empty content. Goodput = output tokens of
 * requests that completed with TTFT ≤ the objective, per second of the arrival window. Requests
 * still running {@code drain-s} after the window are reset and counted as cut off (a cut-off
 * request without a first token enters the TTFT percentiles with its wait so far: a lower bound,
 * marked ≥). Gateway answers not served by a backend ({@code offload.servedBy} other than
 * {@code edge}) never count as goodput.
 *
 * <h2>Part 2: added latency</h2>
 * A backend with (by default) zero step and prefill time; sequential non-streaming requests with
 * {@code max_tokens 1}, paced at a fixed rate, one at a time; direct vs gateway vs Portkey (when
 * {@code --portkey-dir} holds an install of {@code @portkey-ai/gateway}), repeated
 * {@code latency-reps} times in rotating order; medians over repetitions are reported, and
 * added latency is the median over repetitions of (proxy − direct) at p50 and p99.
 *
 * <h2>Part 3: added latency at fixed rates</h2>
 * The same backend and proxies, driven open-loop: Poisson arrivals at each rate of
 * {@code --rates} for {@code --rate-seconds} (after {@code --rate-warmup-seconds} at the same rate,
 * not recorded), non-streaming requests with {@code max_tokens 1} (as in part 2) over as many keep-alive connections as
 * are in flight; latency runs from the scheduled arrival (so a stalled proxy is charged for the
 * requests it delays: no coordinated omission) to the end of the response. Targets rotate per
 * repetition; medians over {@code --rate-reps}. A target leaves the sweep after the first rate at
 * which it completes fewer than 95% of the offered requests or its p50 exceeds 10 ms: the
 * machine's limit for that path on these 2 cores (client, backend and proxy share them); the
 * sweep ends when the direct path or every proxy reached its limit.
 *
 * <h2>Options</h2>
 * Defaults in brackets. Backend: {@code --max-batch} [8], {@code --step-ms} [10],
 * {@code --step-per-seq-ms} [1], {@code --prefill-us-per-token} [50], {@code --output-tokens} [64]
 * (also the requests' max_tokens), {@code --prompt-words} [32]. Goodput: {@code --loads}
 * [0.5,1,2], {@code --ttft-slo-ms} [2000], {@code --deadline-ms} [objective + output-tokens ×
 * full-batch step time; 0 sends no {@code X-Offload-Deadline-Ms}], {@code --no-deadline-at} [2]
 * load factors at which the gateway is run once more without the deadline header ({@code none}
 * for no such run), {@code --window-s} [45], {@code --drain-s} [10], {@code --warmup-s} [5],
 * {@code --capacity-s} [15], {@code --capacity-warmup-s} [3], {@code --seed} [7],
 * {@code --max-requests} [5000] per run. Gateway: {@code --gateway-jar}
 * [target/quarkus-app/quarkus-run.jar], {@code --gateway-concurrency} [max-batch],
 * {@code --gateway-queue-size} [gateway default], {@code --gateway-jvm-opts} [none],
 * {@code --compare-jvm-opts} [none: parts 2 and 3 also measure a second gateway started with these
 * JVM options instead, e.g. another garbage collector, as the target "gateway, &lt;options&gt;"],
 * {@code --java} [this JVM's]. Latency: {@code --latency-requests} [2000],
 * {@code --latency-warmup} [300] sequential per repetition, {@code --latency-initial-warmup}
 * [15000] per target before the first repetition, sent from {@code --latency-warmup-threads} [4]
 * threads (the gateway's code path needs well over 10,000 requests to be compiled), then per
 * target the repetitions' pattern (the back-to-back warm-up, then 1,000 requests one at a time
 * at the latency rate) until the proxy's process CPU per request over those 1,000 is steady (within
 * 10 % of each of the two blocks before; targets without a process of their own get two blocks),
 * at most {@code --latency-paced-warmup} [30000] paced requests: the JIT keeps compiling for
 * tens of thousands of paced requests (6–12 % of a core taken from the two that client, backend
 * and proxy share), and without this the gateway's CPU per request still fell from 1.3 to 0.35
 * ms over the first repetitions,
 * {@code --latency-rate} [200] requests/s, {@code --latency-reps} [3], {@code --latency-step-ms}
 * [0], {@code --latency-diagnostics} [true] adds two direct rows (streamed; streamed with a new
 * connection per request) that help explain the gateway's overhead. Portkey:
 * {@code --portkey-dir} [none: no Portkey column], {@code --node} [node]. HAProxy, the floor of
 * a proxy hop on this machine (C, one thread, HTTP keep-alive both ways, no logic):
 * {@code --haproxy} [the {@code haproxy} on PATH or /usr/sbin/haproxy; {@code none}: no column]. Rates: {@code --rates} [250,500,1000,2000,4000] req/s ({@code none} to skip),
 * {@code --rate-seconds} [6], {@code --rate-warmup-seconds} [2], {@code --rate-reps} [3].
 * {@code --skip-goodput},
 * {@code --skip-latency} (skips parts 2 and 3); {@code --work-dir} [a new directory under /tmp] for the children's logs
 * and data; {@code --report} [none] also writes the report to that file.
 *
 * <p>Every loop is bounded in count and time: arrivals by {@code --max-requests} and the window,
 * each run by window + drain (then outstanding requests are reset), concurrent warm-ups by 90 s,
 * sequential blocks (paced warm-ups included) by 10 minutes, single requests by 10 s, child start-up by 180 s.
 */
public final class GenerationBenchmark {
    /** A one-token request a proxy in front of the simulated backend must answer before it is measured. */
    private static final String PROXY_PROBE =
            "{\"model\":\"sim-model\",\"messages\":[{\"role\":\"user\",\"content\":\"probe\"}],\"max_tokens\":1}";
    private static final String PATH = "/v1/chat/completions";
    private static final String BENCH_KEY = GatewayLauncher.BENCH_KEY;
    private static final String BENCH_AUTH = "Bearer " + BENCH_KEY;
    private static final String FILLER = "the quick brown fox jumps over the lazy dog while seven wizards quietly "
            + "judge boxing matches near a frozen lake under pale winter light and distant bells ring out";

    private GenerationBenchmark() {
    }

    // ---------------------------------------------------------------- parameters

    private static final class Params {
        final Map<String, String> raw;
        int maxBatch;
        double stepMs;
        double stepPerSeqMs;
        double prefillUsPerToken;
        int outputTokens;
        int promptWords;
        double[] loads;
        double[] noDeadlineAt;
        long ttftSloMs;
        long deadlineMs;
        double windowS;
        double drainS;
        double warmupS;
        double capacityS;
        double capacityWarmupS;
        long seed;
        int maxRequests;
        String gatewayJar;
        int gatewayConcurrency;
        String gatewayQueueSize;
        String gatewayJvmOpts;
        String compareJvmOpts;
        String java;
        int latencyRequests;
        int latencyWarmup;
        int latencyInitialWarmup;
        int latencyPacedWarmup;
        int latencyWarmupThreads;
        double latencyRate;
        int latencyReps;
        double latencyStepMs;
        String portkeyDir;
        String haproxy;
        String node;
        boolean skipGoodput;
        boolean skipLatency;
        boolean latencyDiagnostics;
        double[] rates;
        double rateSeconds;
        double rateWarmupSeconds;
        int rateReps;
        Path workDir;
        String reportFile;

        Params(Map<String, String> a) throws IOException {
            raw = a;
            maxBatch = integer(a, "max-batch", 8);
            stepMs = number(a, "step-ms", 10);
            stepPerSeqMs = number(a, "step-per-seq-ms", 1);
            prefillUsPerToken = number(a, "prefill-us-per-token", 50);
            outputTokens = integer(a, "output-tokens", 64);
            promptWords = Math.max(2, integer(a, "prompt-words", 32));
            loads = numbers(a.getOrDefault("loads", "0.5,1,2"));
            String nd = a.getOrDefault("no-deadline-at", "2");
            noDeadlineAt = nd.equals("none") ? new double[0] : numbers(nd);
            ttftSloMs = integer(a, "ttft-slo-ms", 2000);
            deadlineMs = a.containsKey("deadline-ms") ? Long.parseLong(a.get("deadline-ms"))
                    : ttftSloMs + Math.round(decodeMillis());
            windowS = number(a, "window-s", 45);
            drainS = number(a, "drain-s", 10);
            warmupS = number(a, "warmup-s", 5);
            capacityS = number(a, "capacity-s", 15);
            capacityWarmupS = number(a, "capacity-warmup-s", 3);
            seed = integer(a, "seed", 7);
            maxRequests = integer(a, "max-requests", 5000);
            gatewayJar = a.getOrDefault("gateway-jar", "target/quarkus-app/quarkus-run.jar");
            gatewayConcurrency = integer(a, "gateway-concurrency", maxBatch);
            gatewayQueueSize = a.get("gateway-queue-size");
            gatewayJvmOpts = a.getOrDefault("gateway-jvm-opts", "");
            compareJvmOpts = a.get("compare-jvm-opts");
            java = a.getOrDefault("java", GatewayLauncher.currentJava());
            latencyRequests = integer(a, "latency-requests", 2000);
            latencyWarmup = integer(a, "latency-warmup", 300);
            latencyInitialWarmup = integer(a, "latency-initial-warmup", 15000);
            latencyPacedWarmup = integer(a, "latency-paced-warmup", 30000);
            latencyWarmupThreads = Math.max(1, integer(a, "latency-warmup-threads", 4));
            latencyRate = number(a, "latency-rate", 200);
            latencyReps = Math.max(1, integer(a, "latency-reps", 3));
            latencyStepMs = number(a, "latency-step-ms", 0);
            portkeyDir = a.get("portkey-dir");
            haproxy = "none".equals(a.get("haproxy")) ? null
                    : a.containsKey("haproxy") ? a.get("haproxy") : onPath("haproxy", "/usr/sbin/haproxy");
            node = a.getOrDefault("node", "node");
            skipGoodput = a.containsKey("skip-goodput");
            skipLatency = a.containsKey("skip-latency");
            latencyDiagnostics = !"false".equals(a.getOrDefault("latency-diagnostics", "true"));
            String r = a.getOrDefault("rates", "250,500,1000,2000,4000");
            rates = r.equals("none") ? new double[0] : numbers(r);
            rateSeconds = number(a, "rate-seconds", 6);
            rateWarmupSeconds = number(a, "rate-warmup-seconds", 2);
            rateReps = Math.max(1, integer(a, "rate-reps", 3));
            workDir = a.containsKey("work-dir") ? Path.of(a.get("work-dir"))
                    : Files.createTempDirectory("generation-bench-");
            reportFile = a.get("report");
        }

        /** Decode time of one answer at full batch: output tokens × (step + per-sequence part × batch). */
        double decodeMillis() {
            return outputTokens * (stepMs + stepPerSeqMs * maxBatch);
        }

        /**
         * Sustainable rate at full batch: in steady state a step takes base + perSeq × B plus the
         * prefill of the B / T sequences that join per step, and each sequence needs T steps.
         */
        double theoreticalCapacity() {
            double stepMillis = stepMs + stepPerSeqMs * maxBatch
                    + (double) maxBatch / outputTokens * promptWords * prefillUsPerToken / 1000;
            return maxBatch / (outputTokens * stepMillis / 1000);
        }

        SimulatedBackend goodputBackend() {
            return SimulatedBackend.builder().maxBatchSize(maxBatch).stepBase(millis(stepMs))
                    .stepPerSequence(millis(stepPerSeqMs)).prefillPerToken(Duration.ofNanos(Math.round(prefillUsPerToken * 1000)))
                    .outputTokens(outputTokens).defaultMaxTokens(outputTokens).recordLimit(0).start();
        }

        SimulatedBackend latencyBackend() {
            return SimulatedBackend.builder().maxBatchSize(maxBatch).stepBase(millis(latencyStepMs))
                    .stepPerSequence(Duration.ZERO).prefillPerToken(Duration.ZERO).outputTokens(outputTokens)
                    .recordLimit(0).start();
        }

        private static Duration millis(double ms) {
            return Duration.ofNanos(Math.round(ms * 1_000_000));
        }

        private static int integer(Map<String, String> a, String name, int dflt) {
            return a.containsKey(name) ? Integer.parseInt(a.get(name)) : dflt;
        }

        private static double number(Map<String, String> a, String name, double dflt) {
            return a.containsKey(name) ? Double.parseDouble(a.get(name)) : dflt;
        }

        private static double[] numbers(String csv) {
            return Arrays.stream(csv.split(",")).map(String::strip).filter(s -> !s.isEmpty())
                    .mapToDouble(Double::parseDouble).toArray();
        }
    }

    // ---------------------------------------------------------------- main

    public static void main(String[] args) throws Exception {
        Params p = new Params(Args.parse(args));
        Report report = new Report();
        report.line("# Generation benchmark");
        report.line("");
        report.line("- Hardware: " + Hardware.describe());
        report.line("- JDK: " + System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version")
                + " (" + System.getProperty("java.vendor") + "); gateway child JVM: " + p.java);
        report.line("- Load average at start (1/5/15 min): " + Hardware.loadAverage());
        report.line("- Arguments: `" + String.join(" ", args) + "`; logs and data: " + p.workDir);
        report.line("");
        long t0 = System.nanoTime();
        try (LoadClient client = new LoadClient()) {
            if (!p.skipGoodput) {
                goodput(p, client, report);
            }
            if (!p.skipLatency) {
                latency(p, client, report);
            }
        }
        report.line("");
        report.line(String.format(Locale.ROOT, "Total time %.0f s; load average at end: %s",
                (System.nanoTime() - t0) / 1e9, Hardware.loadAverage()));
        report.flush();
        if (p.reportFile != null) {
            Files.writeString(Path.of(p.reportFile), report.text());
        }
        System.exit(0); // children are stopped by the shutdown hook; nothing else should linger
    }

    // ---------------------------------------------------------------- part 1: goodput

    /** Outcome counts and percentiles of one open-loop run. */
    private record RunStats(String path, double factor, double offered, int sent, int completed, int rejected,
                            int extractive, int cutOff, int otherErrors, int sloMet, double goodput,
                            double throughput, String ttftP50, String ttftP99, String loadAvg, String gatewayCounters,
                            List<String> failures) {
    }

    private static void goodput(Params p, LoadClient client, Report report) throws Exception {
        report.line("## 1. Goodput under open-loop Poisson load");
        report.line("");
        report.line(String.format(Locale.ROOT, "- Simulated backend (fresh per run): max batch %d, step %.3g ms + %.3g ms"
                        + " per running sequence, prefill %.3g µs/token, %d output tokens per answer (max_tokens %d),"
                        + " prompt %d words, unbounded waiting queue", p.maxBatch, p.stepMs, p.stepPerSeqMs,
                p.prefillUsPerToken, p.outputTokens, p.outputTokens, p.promptWords));
        report.line(String.format(Locale.ROOT, "- Gateway: `%s`, edge max-concurrency = initial-concurrency = %d, queue-size %s,"
                        + " coalescing off, clients stream (SSE)", p.gatewayJar, p.gatewayConcurrency,
                p.gatewayQueueSize == null ? "default (256)" : p.gatewayQueueSize));
        report.line(String.format(Locale.ROOT, "- TTFT objective %d ms; gateway clients send `X-Offload-Deadline-Ms: %s`"
                        + " (objective + %d tokens × full-batch step %.3g ms = %.0f ms decode); direct clients send"
                        + " nothing and never time out", p.ttftSloMs, p.deadlineMs > 0 ? Long.toString(p.deadlineMs) : "(none)",
                p.outputTokens, p.stepMs + p.stepPerSeqMs * p.maxBatch, p.decodeMillis()));
        report.line(String.format(Locale.ROOT, "- Per run: closed-loop warm-up %.0f s with %d clients, wait for an idle backend,"
                        + " then arrivals for %.0f s (same seeded Poisson sequence for both paths), %.0f s drain, then the rest"
                        + " is reset (cut off). Goodput = output tokens of completed requests with TTFT ≤ objective / %.0f s",
                p.warmupS, p.maxBatch, p.windowS, p.drainS, p.windowS));

        // Capacity.
        double theoretical = p.theoreticalCapacity();
        double measured;
        try (SimulatedBackend sim = p.goodputBackend()) {
            LoadClient.Target direct = directTarget(sim);
            long warm = seconds(p.capacityWarmupS);
            long measure = seconds(p.capacityS);
            long start = System.nanoTime();
            List<LoadClient.Outcome> out = client.closedLoop(direct, p.maxBatch, warm + measure, seconds(30),
                    body(p, "c", direct));
            long from = start + warm;
            long to = start + warm + measure;
            long done = out.stream().filter(o -> o.complete && o.endNanos >= from && o.endNanos < to).count();
            measured = done / p.capacityS;
        }
        report.line(String.format(Locale.ROOT, "- Capacity: computed %.2f req/s = B / (T × (step + per-seq × B) + B × prompt"
                        + " × prefill) = %d / (%d × %.3g ms + %d × %d × %.3g µs); measured closed loop (%d clients, %.0f s"
                        + " after %.0f s warm-up) %.2f req/s (%.0f tokens/s). Load factors below are × the measured value.",
                theoretical, p.maxBatch, p.outputTokens, p.stepMs + p.stepPerSeqMs * p.maxBatch, p.maxBatch,
                p.promptWords, p.prefillUsPerToken, p.maxBatch, p.capacityS, p.capacityWarmupS, measured,
                measured * p.outputTokens));
        report.line("");
        report.flush();

        List<RunStats> rows = new ArrayList<>();
        int level = 0;
        for (double factor : p.loads) {
            double rate = factor * measured;
            long[] arrivals = LoadClient.poissonArrivals(rate, seconds(p.windowS), p.seed + level, p.maxRequests);
            level++;
            rows.add(goodputRun(p, client, "direct", factor, rate, arrivals, false));
            rows.add(goodputRun(p, client, "gateway", factor, rate, arrivals, p.deadlineMs > 0));
            for (double nd : p.noDeadlineAt) {
                if (nd == factor && p.deadlineMs > 0) {
                    rows.add(goodputRun(p, client, "gateway, no deadline hdr", factor, rate, arrivals, false));
                }
            }
        }

        report.line("| load | path | offered req/s | sent | completed | rejected 429/503 | cut off | other | TTFT ≤ "
                + p.ttftSloMs + " ms | goodput tok/s | throughput tok/s | TTFT p50 ms | TTFT p99 ms | goodput vs direct |");
        report.line("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        Map<Double, Double> directGoodput = new TreeMap<>();
        for (RunStats r : rows) {
            if (r.path().equals("direct")) {
                directGoodput.put(r.factor(), r.goodput());
            }
        }
        for (RunStats r : rows) {
            Double d = directGoodput.get(r.factor());
            String ratio = r.path().equals("direct") ? "1 (base)"
                    : d == null || d == 0 ? "n/a" : String.format(Locale.ROOT, "%.2f×", r.goodput() / d);
            report.line(String.format(Locale.ROOT, "| %.1f× | %s | %.2f | %d | %d | %d | %d | %d | %d | %.1f | %.1f | %s | %s | %s |",
                    r.factor(), r.path(), r.offered(), r.sent(), r.completed(), r.rejected(), r.cutOff(),
                    r.otherErrors() + r.extractive(), r.sloMet(), r.goodput(), r.throughput(), r.ttftP50(),
                    r.ttftP99(), ratio));
        }
        report.line("");
        report.line("TTFT percentiles cover admitted requests (a first token arrived, or still waiting at the cut-off:"
                + " ≥ marks a percentile that such a lower bound reached). \"other\" = transport errors, error events and"
                + " answers not served by the backend.");
        report.line("");
        report.line("Load average during each run and the gateway's own counters (from /q/metrics, after the run):");
        report.line("");
        for (RunStats r : rows) {
            report.line(String.format(Locale.ROOT, "- %.1f× %s: load avg %s%s", r.factor(), r.path(), r.loadAvg(),
                    r.gatewayCounters().isEmpty() ? "" : "; " + r.gatewayCounters()));
            for (String f : r.failures()) {
                report.line("  - failure sample: " + f);
            }
        }
        report.line("");
        report.flush();
    }

    private static RunStats goodputRun(Params p, LoadClient client, String path, double factor, double rate,
                                       long[] arrivals, boolean deadlineHeader) throws Exception {
        System.err.printf(Locale.ROOT, "[goodput] %.1fx %s: %d arrivals at %.2f req/s%n", factor, path, arrivals.length, rate);
        boolean viaGateway = !path.equals("direct");
        String counters = "";
        try (SimulatedBackend sim = p.goodputBackend()) {
            ChildProcess gateway = null;
            try {
                LoadClient.Target target;
                if (viaGateway) {
                    int port = ChildProcess.freePort();
                    gateway = startGateway(p, port, sim.baseUrl() + "/v1", String.format(Locale.ROOT, "goodput-%.1fx%s",
                            factor, deadlineHeader ? "" : "-nodeadline"));
                    Map<String, String> headers = deadlineHeader
                            ? Map.of("X-Offload-Deadline-Ms", Long.toString(p.deadlineMs), "Authorization", BENCH_AUTH)
                            : Map.of("Authorization", BENCH_AUTH);
                    target = new LoadClient.Target("gateway", port, PATH, headers, "auto");
                } else {
                    target = directTarget(sim);
                }
                client.closedLoop(target, p.maxBatch, seconds(p.warmupS), seconds(30), body(p, "w", target));
                long idleBy = System.nanoTime() + seconds(30);
                while ((sim.running() > 0 || sim.waiting() > 0) && System.nanoTime() < idleBy) {
                    Thread.sleep(20);
                }
                Thread.sleep(300);
                String before = viaGateway ? gatewayCounters(target.port()) : "";
                List<LoadClient.Outcome> out = client.openLoop(target, arrivals, body(p, "r", target),
                        seconds(p.windowS + p.drainS));
                String load = Hardware.loadAverage();
                if (viaGateway) {
                    counters = "counters before (after warm-up): " + (before.isEmpty() ? "none" : before)
                            + "; after: " + gatewayCounters(target.port());
                }
                return stats(p, path, factor, rate, out, viaGateway, load, counters);
            } finally {
                if (gateway != null) {
                    gateway.close();
                }
            }
        }
    }

    private static RunStats stats(Params p, String path, double factor, double rate, List<LoadClient.Outcome> out,
                                  boolean viaGateway, String load, String counters) {
        long slo = TimeUnit.MILLISECONDS.toNanos(p.ttftSloMs);
        int completed = 0;
        int rejected = 0;
        int extractive = 0;
        int cutOff = 0;
        int other = 0;
        int sloMet = 0;
        long goodTokens = 0;
        long allTokens = 0;
        Histogram ttft = new Histogram(3);
        long minCensoredMicros = Long.MAX_VALUE;
        List<String> failures = new ArrayList<>();
        for (LoadClient.Outcome o : out) {
            boolean byBackend = !viaGateway || "edge".equals(o.servedBy);
            if (o.status == 429 || o.status == 503) {
                rejected++;
                continue;
            }
            if (o.firstTokenNanos != 0) {
                ttft.recordValue(Math.max(0, o.ttftNanos() / 1000));
            } else if (o.cutOff && (o.status == 200 || o.status == 0)) {
                long waited = Math.max(0, (o.endNanos - o.startNanos) / 1000);
                ttft.recordValue(waited);
                minCensoredMicros = Math.min(minCensoredMicros, waited);
            }
            if (o.cutOff) {
                cutOff++;
            } else if (o.complete && o.status == 200 && byBackend) {
                completed++;
                allTokens += o.tokens;
                if (o.ttftNanos() >= 0 && o.ttftNanos() <= slo) {
                    sloMet++;
                    goodTokens += o.tokens;
                }
            } else if (o.complete && o.status == 200) {
                extractive++;
                if (failures.size() < 3) {
                    failures.add("request " + o.index + ": 200 served by " + o.servedBy);
                }
            } else {
                other++;
                if (failures.size() < 3) {
                    failures.add(describeFailure(o));
                }
            }
        }
        return new RunStats(path, factor, rate, out.size(), completed, rejected, extractive, cutOff, other, sloMet,
                goodTokens / p.windowS, allTokens / p.windowS, percentile(ttft, 50, minCensoredMicros),
                percentile(ttft, 99, minCensoredMicros), load, counters, failures);
    }

    private static String describeFailure(LoadClient.Outcome o) {
        StringBuilder sb = new StringBuilder("request ").append(o.index).append(": status ").append(o.status);
        if (o.firstTokenNanos != 0) {
            sb.append(String.format(Locale.ROOT, ", first token %.0f ms after arrival", o.ttftNanos() / 1e6));
        }
        if (o.errorNanos != 0) {
            sb.append(String.format(Locale.ROOT, ", error %.0f ms after the first token, after %d of %d tokens",
                    (o.errorNanos - o.firstTokenNanos) / 1e6, o.tokensAtError, o.tokens));
        } else {
            sb.append(", ").append(o.tokens).append(" tokens");
        }
        String e = String.valueOf(o.error);
        return sb.append(": ").append(e.length() > 200 ? e.substring(0, 200) + "…" : e).toString();
    }

    private static String percentile(Histogram h, double q, long minCensoredMicros) {
        if (h.getTotalCount() == 0) {
            return "–";
        }
        long v = h.getValueAtPercentile(q);
        return (v >= minCensoredMicros ? "≥" : "") + String.format(Locale.ROOT, "%.0f", v / 1000.0);
    }

    private static LoadClient.Target directTarget(SimulatedBackend sim) {
        return new LoadClient.Target("direct", sim.port(), PATH, Map.of(), sim.modelName());
    }

    /** Request bodies; the first word (the simulator's tag) makes every prompt distinct. */
    private static IntFunction<String> body(Params p, String prefix, LoadClient.Target t) {
        String filler = filler(p.promptWords - 1);
        long run = System.nanoTime() % 100_000;
        String head = "{\"model\":\"" + t.model() + "\",\"messages\":[{\"role\":\"user\",\"content\":\"" + prefix + run + "x";
        String tail = " " + filler + "\"}],\"max_tokens\":" + p.outputTokens + ",\"stream\":true}";
        return i -> head + i + tail;
    }

    private static String filler(int words) {
        String[] w = FILLER.split(" ");
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < words; i++) {
            sb.append(i == 0 ? "" : " ").append(w[i % w.length]);
        }
        return sb.toString();
    }

    // ---------------------------------------------------------------- part 2: added latency

    private static void latency(Params p, LoadClient client, Report report) throws Exception {
        report.line("## 2. Added latency, sequential requests");
        report.line("");
        try (SimulatedBackend sim = p.latencyBackend()) {
            int gwPort = ChildProcess.freePort();
            ChildProcess gateway = startGateway(p, gwPort, sim.baseUrl() + "/v1", "latency");
            ChildProcess portkey = null;
            ChildProcess haproxy = null;
            ChildProcess compared = null;
            try {
                List<LoadClient.Target> targets = new ArrayList<>();
                // Each proxy's own process by target name: CPU per request during warm-up and repetitions.
                Map<String, ChildProcess> processes = new LinkedHashMap<>();
                targets.add(directTarget(sim));
                targets.add(new LoadClient.Target("gateway", gwPort, PATH, Map.of("Authorization", BENCH_AUTH), "auto"));
                processes.put("gateway", gateway);
                if (p.compareJvmOpts != null) {
                    int port = ChildProcess.freePort();
                    compared = GatewayLauncher.start(p.java, Path.of(p.gatewayJar), p.compareJvmOpts, port, p.workDir,
                            "latency-compared", gatewayProperties(p, sim.baseUrl() + "/v1"));
                    targets.add(new LoadClient.Target("gateway, " + p.compareJvmOpts, port, PATH,
                            Map.of("Authorization", BENCH_AUTH), "auto"));
                    processes.put(targets.get(targets.size() - 1).name(), compared);
                }
                if (p.portkeyDir != null) {
                    Path script = Path.of(p.portkeyDir, "node_modules", "@portkey-ai", "gateway", "build", "start-server.js");
                    if (Files.isRegularFile(script)) {
                        int pkPort = ChildProcess.freePort();
                        Map<String, String> headers = new LinkedHashMap<>();
                        headers.put("x-portkey-provider", "openai");
                        headers.put("x-portkey-custom-host", sim.baseUrl() + "/v1");
                        headers.put("Authorization", "Bearer none");
                        portkey = ChildProcess.start("portkey", List.of(p.node, script.toString(), "--port=" + pkPort,
                                "--headless"), Path.of(p.portkeyDir), p.workDir.resolve("portkey.log"), Map.of());
                        String url = "http://127.0.0.1:" + pkPort + PATH;
                        portkey.awaitReady(() -> ChildProcess.post(url, headers, PROXY_PROBE) == 200, Duration.ofSeconds(90));
                        targets.add(new LoadClient.Target("portkey", pkPort, PATH, headers, "sim-model"));
                        processes.put("portkey", portkey);
                    } else {
                        report.line("- Portkey: no " + script + ", column skipped");
                    }
                }
                if (p.haproxy != null) {
                    int hPort = ChildProcess.freePort();
                    haproxy = startHaproxy(p, hPort, sim.port());
                    targets.add(new LoadClient.Target("haproxy (floor)", hPort, PATH, Map.of(), sim.modelName()));
                    processes.put("haproxy (floor)", haproxy);
                }
                int mainTargets = targets.size();
                if (p.latencyDiagnostics) {
                    targets.add(new LoadClient.Target("diag: direct, streamed", sim.port(), PATH, Map.of(),
                            sim.modelName(), true));
                    targets.add(new LoadClient.Target("diag: direct, streamed, new connection each", sim.port(), PATH,
                            Map.of("Connection", "close"), sim.modelName(), true));
                }
                report.line(String.format(Locale.ROOT, "- Backend: simulated, step %.3g ms, no per-sequence or prefill time;"
                                + " requests non-streaming, max_tokens 1, prompt of 2 words, one at a time, paced at %.0f req/s"
                                + " (next send at max(previous end, schedule)); HTTP/1.1 keep-alive, one connection per target;"
                                + " latency = send to full response body, client on a Vert.x event loop in the benchmark JVM",
                        p.latencyStepMs, p.latencyRate));
                report.line(String.format(Locale.ROOT, "- Per target: %d warm-up requests from %d threads (at most 90 s),"
                                + " then up to %d one at a time at %.0f req/s, in blocks of 1,000 each after the repetitions'"
                                + " back-to-back warm-up, until the proxy's CPU per request is steady, before the first"
                                + " repetition; per repetition %d sequential (back-to-back) warm-up + %d measured; %d repetitions,"
                                + " target order rotated each time", p.latencyInitialWarmup,
                        p.latencyWarmupThreads, p.latencyPacedWarmup, p.latencyRate, p.latencyWarmup, p.latencyRequests,
                        p.latencyReps));
                if (portkey != null) {
                    report.line("- Portkey: `@portkey-ai/gateway` from " + p.portkeyDir + " (" + portkeyVersion(p)
                            + "), node " + nodeVersion(p) + ", headers x-portkey-provider: openai, x-portkey-custom-host: "
                            + sim.baseUrl() + "/v1");
                }
                if (haproxy != null) {
                    report.line("- HAProxy (" + haproxyVersion(p) + "): one thread, keep-alive to client and backend,"
                            + " connections reused, no rule: the floor of a proxy hop on this machine");
                }
                report.line("- Gateway: edge max-concurrency = initial-concurrency = " + p.gatewayConcurrency
                        + ", coalescing off, no deadline header");
                if (p.latencyDiagnostics) {
                    report.line("- Diagnostic rows (not proxies): the backend asked directly for a streamed answer (what"
                            + " the gateway always asks it for), read to the end; and the same with `Connection: close`, a new"
                            + " TCP connection per request. \"conns closed\" = TCP connections to the backend port that entered"
                            + " TIME_WAIT during the measured block, closed first by the caller / by the backend (from /proc/net/tcp*)");
                }
                report.line("");
                report.flush();

                for (LoadClient.Target t : targets) {
                    System.err.printf(Locale.ROOT, "[latency] initial warm-up %s%n", t.name());
                    long errors = concurrentWarmup(client, t, p.latencyInitialWarmup, p.latencyWarmupThreads,
                            TimeUnit.SECONDS.toNanos(90));
                    if (errors > 0) {
                        System.err.printf(Locale.ROOT, "[latency] %s: %d failed warm-up requests%n", t.name(), errors);
                    }
                }
                List<String> settled = new ArrayList<>();
                for (LoadClient.Target t : targets) {
                    System.err.printf(Locale.ROOT, "[latency] paced warm-up %s%n", t.name());
                    settled.add(t.name() + ": " + pacedWarmup(p, client, t, processes.get(t.name())));
                }
                report.line("Paced warm-up (requests, then the proxy's CPU ms per request in the last three blocks of 1,000): "
                        + String.join("; ", settled) + ".");
                report.line("");
                int n = targets.size();
                // results[rep][target] = {p50, p90, p99, p99.9, max, mean} in ms, plus errors/foreign.
                double[][][] results = new double[p.latencyReps][n][];
                long[][] errors = new long[p.latencyReps][n];
                String[][] conns = new String[p.latencyReps][n];
                String[][] cpu = new String[p.latencyReps][n];
                List<String> ttftNotes = new ArrayList<>();
                for (int rep = 0; rep < p.latencyReps; rep++) {
                    for (int k = 0; k < n; k++) {
                        int ti = (k + rep) % n;
                        LoadClient.Target t = targets.get(ti);
                        System.err.printf(Locale.ROOT, "[latency] repetition %d %s%n", rep + 1, t.name());
                        sequential(client, t, p.latencyWarmup, 0, "w" + rep);
                        Histogram h = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
                        var clientSideBefore = TcpSockets.clientTimeWait(sim.port());
                        var serverSideBefore = TcpSockets.serverTimeWait(sim.port());
                        ChildProcess proxy = processes.get(t.name());
                        long cpuBefore = proxy == null ? -1 : proxy.cpuMillis();
                        double[] ttftBefore = t.name().equals("gateway") ? gatewayTimer(gwPort, "gateway_generation_ttft_seconds") : null;
                        errors[rep][ti] = sequential(client, t, p.latencyRequests, p.latencyRate, "m" + rep, h);
                        long cpuAfter = proxy == null ? -1 : proxy.cpuMillis();
                        cpu[rep][ti] = cpuBefore < 0 || cpuAfter < 0 ? "–" : String.format(Locale.ROOT, "%.2f",
                                (cpuAfter - cpuBefore) / (double) Math.max(1, h.getTotalCount()));
                        if (ttftBefore != null) {
                            double[] after = gatewayTimer(gwPort, "gateway_generation_ttft_seconds");
                            double count = after[0] - ttftBefore[0];
                            ttftNotes.add(String.format(Locale.ROOT, "repetition %d: %.0f backend calls, mean %.3f ms from"
                                    + " the start of the backend call to its first token (gateway.generation.ttft)", rep + 1,
                                    count, count > 0 ? (after[1] - ttftBefore[1]) / count * 1000 : Double.NaN));
                        }
                        conns[rep][ti] = TcpSockets.added(clientSideBefore, TcpSockets.clientTimeWait(sim.port())) + " / "
                                + TcpSockets.added(serverSideBefore, TcpSockets.serverTimeWait(sim.port()));
                        results[rep][ti] = new double[]{ms(h.getValueAtPercentile(50)), ms(h.getValueAtPercentile(90)),
                                ms(h.getValueAtPercentile(99)), ms(h.getValueAtPercentile(99.9)), ms(h.getMaxValue()),
                                h.getMean() / 1e6, h.getTotalCount()};
                    }
                }

                report.line("Per repetition (ms):");
                report.line("");
                report.line("| rep | target | n | p50 | p90 | p99 | p99.9 | max | mean | errors/unexpected | conns closed | proxy CPU ms/req |");
                report.line("|---|---|---|---|---|---|---|---|---|---|---|---|");
                for (int rep = 0; rep < p.latencyReps; rep++) {
                    for (int ti = 0; ti < n; ti++) {
                        double[] r = results[rep][ti];
                        report.line(String.format(Locale.ROOT, "| %d | %s | %.0f | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %d | %s | %s |",
                                rep + 1, targets.get(ti).name(), r[6], r[0], r[1], r[2], r[3], r[4], r[5], errors[rep][ti],
                                conns[rep][ti], cpu[rep][ti]));
                    }
                }
                report.line("");
                report.line("Gateway's own timer during the measured blocks: " + String.join("; ", ttftNotes) + ".");
                report.line("");
                report.line("Medians over " + p.latencyReps + " repetitions (ms); added = median over repetitions of (proxy − direct):");
                report.line("");
                report.line("| target | p50 | p90 | p99 | p99.9 | added p50 | added p99 |");
                report.line("|---|---|---|---|---|---|---|");
                for (int ti = 0; ti < n; ti++) {
                    if (ti == mainTargets) {
                        report.line("| *diagnostics* | | | | | | |");
                    }
                    final int t = ti;
                    double[] med = new double[4];
                    for (int q = 0; q < 4; q++) {
                        final int qq = q;
                        med[q] = median(p.latencyReps, rep -> results[rep][t][qq]);
                    }
                    String added50 = ti == 0 ? "–" : String.format(Locale.ROOT, "%+.3f",
                            median(p.latencyReps, rep -> results[rep][t][0] - results[rep][0][0]));
                    String added99 = ti == 0 ? "–" : String.format(Locale.ROOT, "%+.3f",
                            median(p.latencyReps, rep -> results[rep][t][2] - results[rep][0][2]));
                    report.line(String.format(Locale.ROOT, "| %s | %.3f | %.3f | %.3f | %.3f | %s | %s |",
                            targets.get(ti).name(), med[0], med[1], med[2], med[3], added50, added99));
                }
                report.line("");
                report.line("Targets: gateway added ≤ 0.3 ms p50 and ≤ 1 ms p99. Load average after this part: " + Hardware.loadAverage());
                report.flush();
                if (p.rates.length > 0) {
                    rateSweep(p, client, report, targets.subList(0, mainTargets));
                }
            } finally {
                if (portkey != null) {
                    portkey.close();
                }
                if (haproxy != null) {
                    haproxy.close();
                }
                if (compared != null) {
                    compared.close();
                }
                gateway.close();
            }
        }
    }


    // ---------------------------------------------------------------- part 3: fixed rates

    /** One target at one rate: latency percentiles (ms) of completed requests, and how many completed. */
    private record RateRun(double p50, double p99, double p999, int offered, int completed, int failed) {
        boolean saturated() {
            return completed < 0.95 * offered || p50 > 10;
        }
    }

    private static void rateSweep(Params p, LoadClient client, Report report, List<LoadClient.Target> targets)
            throws Exception {
        report.line("");
        report.line("## 3. Added latency at fixed rates, open loop");
        report.line("");
        report.line(String.format(Locale.ROOT, "- Same backend, gateway and Portkey as part 2. Per rate and target: %.0f s"
                        + " of Poisson arrivals at the rate (not recorded), then %.0f s recorded; non-streaming requests as in part 2"
                        + " (Portkey 1.15.2 fails streamed requests on this node version), max_tokens 1,"
                        + " one keep-alive connection per request in flight; latency from the scheduled arrival to the end of"
                        + " the response (no coordinated omission). %d repetitions, target order rotated; medians. A target"
                        + " leaves the sweep after the first rate at which it completes < 95%% of its requests or its p50 exceeds"
                        + " 10 ms (that path's limit on this machine, where client, backend and proxy share 2 cores).",
                p.rateWarmupSeconds, p.rateSeconds, p.rateReps));
        report.line("");
        report.line("| rate (req/s) | target | p50 | p99 | p99.9 | completed | added p50 | added p99 |");
        report.line("|---|---|---|---|---|---|---|---|");
        report.flush();
        int n = targets.size();
        boolean[] retired = new boolean[n];
        List<String> limits = new ArrayList<>();
        for (int ri = 0; ri < p.rates.length; ri++) {
            double rate = p.rates[ri];
            RateRun[][] runs = new RateRun[p.rateReps][n];
            for (int rep = 0; rep < p.rateReps; rep++) {
                for (int k = 0; k < n; k++) {
                    int ti = (k + rep) % n;
                    if (retired[ti]) {
                        continue;
                    }
                    LoadClient.Target t = targets.get(ti);
                    System.err.printf(Locale.ROOT, "[rates] %.0f req/s repetition %d %s%n", rate, rep + 1, t.name());
                    String head = "{\"model\":\"" + t.model() + "\",\"messages\":[{\"role\":\"user\",\"content\":\"r"
                            + (long) rate + "x" + rep + "x";
                    String tail = " hello\"}],\"max_tokens\":1}";
                    long[] warm = LoadClient.poissonArrivals(rate, seconds(p.rateWarmupSeconds), p.seed + ri, Integer.MAX_VALUE);
                    client.openLoop(t, warm, i -> head + "w" + i + tail, seconds(p.rateWarmupSeconds) + seconds(10), false);
                    long[] arrivals = LoadClient.poissonArrivals(rate, seconds(p.rateSeconds), p.seed + 100 + ri,
                            Integer.MAX_VALUE);
                    List<LoadClient.Outcome> out = client.openLoop(t, arrivals, i -> head + "m" + i + tail,
                            seconds(p.rateSeconds) + seconds(10), false);
                    Histogram h = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
                    int completed = 0;
                    int failed = 0;
                    for (LoadClient.Outcome o : out) {
                        boolean ok = o.complete && o.status == 200
                                && (!t.name().startsWith("gateway") || "edge".equals(o.servedBy));
                        if (ok) {
                            completed++;
                            h.recordValue(Math.min(o.endNanos - o.startNanos, h.getHighestTrackableValue()));
                        } else {
                            failed++;
                        }
                    }
                    runs[rep][ti] = new RateRun(ms(h.getValueAtPercentile(50)), ms(h.getValueAtPercentile(99)),
                            ms(h.getValueAtPercentile(99.9)), out.size(), completed, failed);
                }
            }
            boolean[] wasRetired = retired.clone();
            for (int ti = 0; ti < n; ti++) {
                if (wasRetired[ti]) {
                    continue;
                }
                final int t = ti;
                double p50 = median(p.rateReps, rep -> runs[rep][t].p50());
                double p99 = median(p.rateReps, rep -> runs[rep][t].p99());
                double p999 = median(p.rateReps, rep -> runs[rep][t].p999());
                double share = median(p.rateReps, rep -> runs[rep][t].completed() / (double) Math.max(1, runs[rep][t].offered()));
                String added50 = ti == 0 ? "–" : String.format(Locale.ROOT, "%+.3f",
                        median(p.rateReps, rep -> runs[rep][t].p50() - runs[rep][0].p50()));
                String added99 = ti == 0 ? "–" : String.format(Locale.ROOT, "%+.3f",
                        median(p.rateReps, rep -> runs[rep][t].p99() - runs[rep][0].p99()));
                report.line(String.format(Locale.ROOT, "| %.0f | %s | %.3f | %.3f | %.3f | %.1f%% | %s | %s |", rate,
                        targets.get(ti).name(), p50, p99, p999, 100 * share, added50, added99));
                int saturatedReps = 0;
                for (int rep = 0; rep < p.rateReps; rep++) {
                    saturatedReps += runs[rep][t].saturated() ? 1 : 0;
                }
                if (saturatedReps * 2 > p.rateReps) {
                    retired[ti] = true;
                    limits.add(String.format(Locale.ROOT, "%s at %.0f req/s", targets.get(ti).name(), rate));
                }
            }
            report.flush();
            boolean proxiesLeft = false;
            for (int ti = 1; ti < n; ti++) {
                proxiesLeft |= !retired[ti];
            }
            if (retired[0] || !proxiesLeft) {
                break;
            }
        }
        report.line("");
        report.line(limits.isEmpty() ? "No target reached its limit within the rates swept."
                : "Limit reached (completed < 95% of requests or p50 > 10 ms in most repetitions; the target leaves the"
                + " sweep, the sweep ends when the direct path or every proxy reached its limit): " + String.join("; ", limits) + ".");
        report.line("");
        report.line("Load average after this part: " + Hardware.loadAverage());
        report.flush();
    }

    /**
     * {@code count} requests from {@code threads} threads (each one request at a time), bounded by
     * {@code maxNanos}: brings every process on the path to compiled code faster than a sequential
     * warm-up. Returns the number of failed requests.
     */
    private static long concurrentWarmup(LoadClient client, LoadClient.Target t, int count, int threads, long maxNanos)
            throws InterruptedException {
        java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicLong errors = new java.util.concurrent.atomic.AtomicLong();
        long giveUp = System.nanoTime() + maxNanos;
        String head = "{\"model\":\"" + t.model() + "\",\"messages\":[{\"role\":\"user\",\"content\":\"iw";
        String tail = " hello\"}],\"max_tokens\":1" + (t.stream() ? ",\"stream\":true}" : "}");
        List<Thread> workers = new ArrayList<>();
        for (int k = 0; k < threads; k++) {
            Thread w = new Thread(() -> {
                for (int i; (i = next.getAndIncrement()) < count && System.nanoTime() < giveUp; ) {
                    if (client.call(t, head + i + tail, 10_000).status() != 200) {
                        errors.incrementAndGet();
                    }
                }
            }, "warmup-" + k);
            w.start();
            workers.add(w);
        }
        for (Thread w : workers) {
            w.join(maxNanos / 1_000_000 + 20_000);
        }
        return errors.get();
    }

    /**
     * Requests to {@code t} one at a time at the latency rate, in blocks of 1,000 each after the
     * repetitions' back-to-back warm-up, until the CPU per request of {@code process} over a block
     * is steady: within 10 % of each of the two blocks before it (without a process, two blocks),
     * at most {@code --latency-paced-warmup} requests at the rate. Returns what it did, for the
     * report.
     */
    private static String pacedWarmup(Params p, LoadClient client, LoadClient.Target t, ChildProcess process) {
        final int block = 1000;
        int maxBlocks = process == null ? 2 : Math.max(1, p.latencyPacedWarmup / block);
        List<Double> perRequest = new ArrayList<>();
        long errors = 0;
        int sent = 0;
        for (int b = 0; b < maxBlocks && !steady(perRequest); b++) {
            // The pattern of a repetition: its back-to-back warm-up, then requests at the rate.
            errors += sequential(client, t, p.latencyWarmup, 0, "pwb" + sent + "-");
            long before = process == null ? -1 : process.cpuMillis();
            errors += sequential(client, t, block, p.latencyRate, "pw" + sent + "-");
            sent += block;
            if (process != null) {
                perRequest.add((process.cpuMillis() - before) / (double) block);
            }
        }
        if (errors > 0) {
            System.err.printf(Locale.ROOT, "[latency] %s: %d failed paced warm-up requests%n", t.name(), errors);
        }
        List<String> last = perRequest.subList(Math.max(0, perRequest.size() - 3), perRequest.size()).stream()
                .map(v -> String.format(Locale.ROOT, "%.2f", v)).toList();
        return sent + (last.isEmpty() ? "" : " (" + String.join(", ", last) + ")") + (errors > 0 ? ", " + errors + " failed" : "");
    }

    /** The last of three or more values within 10 % of each of the two before it. */
    private static boolean steady(List<Double> values) {
        int n = values.size();
        return n >= 3 && within(values.get(n - 1), values.get(n - 2)) && within(values.get(n - 1), values.get(n - 3));
    }

    private static boolean within(double value, double reference) {
        return Math.abs(value - reference) <= 0.10 * reference;
    }

    private static long sequential(LoadClient client, LoadClient.Target t, int count, double rate, String prefix) {
        return sequential(client, t, count, rate, prefix, null);
    }

    /**
     * {@code count} requests one at a time, paced at {@code rate} per second (0: back to back),
     * bounded by 10 minutes; records latencies (ns) into {@code h} when given. Returns the number of
     * failed or unexpected answers (not 200, or from the gateway not served by the backend).
     */
    private static long sequential(LoadClient client, LoadClient.Target t, int count, double rate, String prefix,
                                   Histogram h) {
        long errors = 0;
        long interval = rate > 0 ? (long) (1e9 / rate) : 0;
        long start = System.nanoTime();
        long giveUp = start + TimeUnit.MINUTES.toNanos(10);
        String head = "{\"model\":\"" + t.model() + "\",\"messages\":[{\"role\":\"user\",\"content\":\"" + prefix;
        for (int i = 0; i < count && System.nanoTime() < giveUp; i++) {
            if (interval > 0) {
                LoadClient.parkUntil(start + i * interval);
            }
            String body = head + "q" + i + " hello\"}],\"max_tokens\":1" + (t.stream() ? ",\"stream\":true}" : "}");
            long t0 = System.nanoTime();
            LoadClient.Single r = client.call(t, body, 10_000);
            long elapsed = System.nanoTime() - t0;
            boolean ok = r.status() == 200 && (!t.name().startsWith("gateway") || "edge".equals(r.servedBy()));
            if (!ok) {
                errors++;
                if (errors <= 3) {
                    System.err.printf(Locale.ROOT, "[latency] %s: status %d servedBy %s error %s body %s%n", t.name(),
                            r.status(), r.servedBy(), r.error(), r.body());
                }
            } else if (h != null) {
                h.recordValue(Math.min(elapsed, h.getHighestTrackableValue()));
            }
        }
        return errors;
    }

    // ---------------------------------------------------------------- children

    private static ChildProcess startGateway(Params p, int port, String backendV1, String label) throws Exception {
        return GatewayLauncher.start(p.java, Path.of(p.gatewayJar), p.gatewayJvmOpts, port, p.workDir, label,
                gatewayProperties(p, backendV1));
    }

    private static Map<String, String> gatewayProperties(Params p, String backendV1) {
        Map<String, String> props = new LinkedHashMap<>();
        props.put("gateway.index.load-sample-corpus", "false");
        props.put("gateway.tiers.edge.base-urls", backendV1);
        props.put("gateway.tiers.edge.max-concurrency", Integer.toString(p.gatewayConcurrency));
        props.put("gateway.tiers.edge.initial-concurrency", Integer.toString(p.gatewayConcurrency));
        props.put("gateway.generation.coalesce", "false");
        if (p.gatewayQueueSize != null) {
            props.put("gateway.tiers.edge.queue-size", p.gatewayQueueSize);
        }
        return props;
    }

    /** The gateway's admission counters and limit, condensed from its Prometheus text. */
    private static String gatewayCounters(int port) {
        String text = ChildProcess.get("http://127.0.0.1:" + GatewayLauncher.managementPort(port) + "/q/metrics");
        Map<String, String> out = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            line = dev.offload.gateway.api.RequestLedger.withoutExemplar(line);
            if (line.startsWith("#")) {
                continue;
            }
            String name = line.contains("{") ? line.substring(0, line.indexOf('{')) : line.split(" ")[0];
            String short_ = switch (name) {
                case "gateway_generation_requests_total" -> "served";
                case "gateway_generation_rejections_total" -> "rejected";
                case "gateway_generation_failures_total" -> "failures";
                case "gateway_generation_fallbacks_total" -> "fallbacks";
                case "gateway_backend_limit" -> "limit";
                case "gateway_generation_cancelled_total" -> "cancelled";
                default -> null;
            };
            if (short_ == null) {
                continue;
            }
            String labels = "";
            if (line.contains("{")) {
                StringBuilder l = new StringBuilder();
                for (String kv : line.substring(line.indexOf('{') + 1, line.lastIndexOf('}')).split(",")) {
                    String k = kv.contains("=") ? kv.substring(0, kv.indexOf('=')) : kv;
                    if (k.equals("reason") || k.equals("served_by") || k.equals("to")) {
                        l.append(l.length() == 0 ? "" : ",").append(kv.replace("\"", ""));
                    }
                }
                labels = l.length() == 0 ? "" : "{" + l + "}";
            }
            String value = line.substring(line.lastIndexOf(' ') + 1);
            try {
                double v = Double.parseDouble(value);
                value = v == Math.rint(v) ? Long.toString((long) v) : String.format(Locale.ROOT, "%.2f", v);
            } catch (NumberFormatException ignored) {
                // keep the text
            }
            out.put(short_ + labels, value);
        }
        StringBuilder sb = new StringBuilder();
        out.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : " ").append(k).append('=').append(v));
        return sb.toString();
    }

    /** {count, sum} of a Prometheus summary/timer of the gateway (all label sets added up). */
    private static double[] gatewayTimer(int port, String name) {
        double[] out = new double[2];
        for (String line : ChildProcess.get("http://127.0.0.1:" + GatewayLauncher.managementPort(port) + "/q/metrics").split("\n")) {
            line = dev.offload.gateway.api.RequestLedger.withoutExemplar(line);
            int k = line.startsWith(name + "_count") ? 0 : line.startsWith(name + "_sum") ? 1 : -1;
            if (k >= 0) {
                try {
                    out[k] += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                } catch (NumberFormatException ignored) {
                    // not a number: skip
                }
            }
        }
        return out;
    }

    /**
     * HAProxy in front of the same backend: one thread, HTTP keep-alive to the client and the
     * backend (connections reused), no rule. What any proxy hop costs on this machine: the
     * gateway's added latency is read against it.
     */
    private static ChildProcess startHaproxy(Params p, int port, int backendPort) throws Exception {
        Path cfg = Files.writeString(p.workDir.resolve("haproxy.cfg"), String.join("\n",
                "global", "    nbthread 1", "    maxconn 4096",
                "defaults", "    mode http", "    timeout connect 5s", "    timeout client 60s", "    timeout server 60s",
                "    option http-keep-alive", "    http-reuse always",
                "frontend fe", "    bind 127.0.0.1:" + port, "    default_backend be",
                "backend be", "    server sim 127.0.0.1:" + backendPort, ""));
        ChildProcess h = ChildProcess.start("haproxy", List.of(p.haproxy, "-db", "-f", cfg.toString()), p.workDir,
                p.workDir.resolve("haproxy.log"), Map.of());
        String url = "http://127.0.0.1:" + port + PATH;
        h.awaitReady(() -> ChildProcess.post(url, Map.of(), PROXY_PROBE) == 200, Duration.ofSeconds(30));
        return h;
    }

    private static String haproxyVersion(Params p) {
        return firstLineOf(p.haproxy, "-v").replaceFirst("^HAProxy version (\\S+).*", "$1");
    }

    /** The first of these executables that exists, or null. */
    private static String onPath(String name, String fallback) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, name))) {
                return Path.of(dir, name).toString();
            }
        }
        return Files.isExecutable(Path.of(fallback)) ? fallback : null;
    }

    private static String portkeyVersion(Params p) {
        try {
            String pkg = Files.readString(Path.of(p.portkeyDir, "node_modules", "@portkey-ai", "gateway", "package.json"));
            int i = pkg.indexOf("\"version\"");
            int q1 = pkg.indexOf('"', pkg.indexOf(':', i) + 1);
            return "version " + pkg.substring(q1 + 1, pkg.indexOf('"', q1 + 1));
        } catch (Exception e) {
            return "version unknown";
        }
    }

    private static String nodeVersion(Params p) {
        return firstLineOf(p.node, "--version");
    }

    /** The first line a short command prints (a version), or "?" when it cannot be run. */
    private static String firstLineOf(String... command) {
        try {
            Process v = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(v.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            if (!v.waitFor(10, TimeUnit.SECONDS)) {
                v.destroyForcibly();
                return "?";
            }
            return out.lines().findFirst().orElse("?").strip();
        } catch (Exception e) {
            return "?";
        }
    }

    // ---------------------------------------------------------------- helpers

    private static long seconds(double s) {
        return (long) (s * 1e9);
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }

    private static double median(int n, java.util.function.IntToDoubleFunction f) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = f.applyAsDouble(i);
        }
        Arrays.sort(v);
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }

    /** Markdown collected as it is printed, so the whole report can also go to a file. */
    private static final class Report {
        private final StringBuilder all = new StringBuilder();
        private final StringBuilder unflushed = new StringBuilder();

        void line(String s) {
            all.append(s).append('\n');
            unflushed.append(s).append('\n');
        }

        void flush() {
            System.out.print(unflushed);
            System.out.flush();
            unflushed.setLength(0);
        }

        String text() {
            flush();
            return all.toString();
        }
    }
}
