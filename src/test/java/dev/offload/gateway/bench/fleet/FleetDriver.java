package dev.offload.gateway.bench.fleet;

import dev.offload.gateway.bench.Args;
import dev.offload.gateway.bench.ChildProcess;
import dev.offload.gateway.bench.GatewayLauncher;
import dev.offload.gateway.bench.Hardware;
import dev.offload.gateway.sim.SimulatedBackend;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Fleet load driver: replays a simulated device fleet against the gateway under one or more
 * device policies and writes {@code requests.csv}, {@code occupancy.csv}, PNG plots and
 * {@code summary.md}. Either against a running gateway ({@code --url}) or, with {@code --start},
 * against a fresh simulated continuous-batching backend (in this JVM) and a fresh gateway child
 * process per policy run, on 127.0.0.1 only. Every run is bounded: the scenario's duration plus
 * {@code --drain-s}, then whatever is still open is cut off.
 *
 * <pre>
 * ./mvnw -q -B package -DskipTests exec:exec@fleet -Dbench.args="--start"
 * ./mvnw -q exec:exec@fleet -Dbench.args="--url http://127.0.0.1:8080 --grpc-port 9000 --policies hints --transport grpc"
 * </pre>
 *
 * Options and the device protocol: {@code src/site/markdown/fleet.md}. Called from a plain
 * thread ({@code main} or a test); the fleet itself runs on one Vert.x event loop.
 */
public final class FleetDriver {
    private FleetDriver() {
    }

    public static void main(String[] args) throws Exception {
        System.setProperty("java.awt.headless", "true");
        int status = 0;
        try {
            Path summary = run(Args.parse(args), String.join(" ", args));
            System.out.println(Files.readString(summary));
            System.err.println("[fleet] written to " + summary.getParent().toAbsolutePath());
        } catch (IllegalArgumentException e) {
            System.err.println("fleet: " + e.getMessage());
            status = 2;
        }
        System.exit(status); // children are stopped by their shutdown hook
    }

    /** Runs every repetition and policy; returns the path of {@code summary.md}. */
    public static Path run(Map<String, String> args, String commandLine) throws Exception {
        System.setProperty("java.awt.headless", "true");
        FleetOptions o = new FleetOptions(args);
        Files.createDirectories(o.out);
        QuestionPool pool = o.questionsFile != null ? QuestionPool.labelled(o.questionsFile, o.questions, o.seed)
                : QuestionPool.load(o.paraphrases, o.paraphrasePairs, o.seed);
        AnswerQuality quality = new AnswerQuality();
        Map<String, float[]> embeddings = new java.util.HashMap<>();
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1)
                .setInternalBlockingPoolSize(1));
        List<FleetRun.Result> results = new ArrayList<>();
        String workloadLine = "";
        try {
            Context ctx = vertx.getOrCreateContext();
            for (int rep = 0; rep < o.repeats; rep++) {
                List<Workload.Arrival> w = Workload.generate(o, pool, o.seed + rep);
                if (rep == 0) {
                    workloadLine = FleetReport.describeCounts(w);
                }
                if (o.policies.stream().anyMatch(Policy::watches)) {
                    embed(w, embeddings);
                }
                Map<Integer, RequestRecord> offloadOutcomes = new java.util.HashMap<>();
                for (Policy p : order(o.policies, rep)) {
                    System.err.printf(Locale.ROOT, "[fleet] repetition %d, %s: %d queries%n", rep + 1, p.label, w.size());
                    FleetRun.Result r = runOne(o, p, rep, w, vertx, ctx, quality, offloadOutcomes, embeddings);
                    if (p == Policy.OFFLOAD) {
                        r.records().forEach(x -> offloadOutcomes.put(x.index(), x));
                    }
                    results.add(r);
                }
            }
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
        return FleetReport.write(o, setup(o, commandLine, pool, workloadLine), results);
    }

    /**
     * The policies of one repetition: rotated by the repetition, except the oracle, which runs
     * last (it reads the always-offload run's outcomes).
     */
    static List<Policy> order(List<Policy> policies, int rep) {
        List<Policy> rest = policies.stream().filter(p -> p != Policy.ORACLE).toList();
        List<Policy> out = new ArrayList<>();
        for (int i = 0; i < rest.size(); i++) {
            out.add(rest.get((i + rep) % rest.size()));
        }
        if (policies.contains(Policy.ORACLE)) {
            out.add(Policy.ORACLE);
        }
        return out;
    }

    private static FleetRun.Result runOne(FleetOptions o, Policy p, int rep, List<Workload.Arrival> w, Vertx vertx,
                                          Context ctx, AnswerQuality quality, Map<Integer, RequestRecord> offloadOutcomes,
                                          Map<String, float[]> embeddings)
            throws Exception {
        SimulatedBackend sim = null;
        ChildProcess gateway = null;
        GatewayClient client = null;
        GatewayMetrics metrics = null;
        WatchStream watch = null;
        try {
            URI base;
            URI managementBase;
            int grpcPort = o.grpcPort;
            if (o.start && p != Policy.LOCAL) {
                sim = SimulatedBackend.builder().maxBatchSize(o.maxBatch).stepBase(nanos(o.stepMs * 1e6))
                        .stepPerSequence(nanos(o.stepPerSeqMs * 1e6)).prefillPerToken(nanos(o.prefillUsPerToken * 1e3))
                        .outputTokens(o.backendOutputTokens).defaultMaxTokens(o.backendOutputTokens).recordLimit(0)
                        .hashTags(true).start();
                int port = ChildProcess.freePort();
                grpcPort = ChildProcess.freePort();
                Map<String, String> props = new LinkedHashMap<>();
                props.put("quarkus.grpc.server.port", Integer.toString(grpcPort));
                props.put("gateway.tiers.edge.base-urls", sim.baseUrl() + "/v1");
                props.put("gateway.tiers.edge.max-concurrency", Integer.toString(o.maxBatch));
                props.put("gateway.tiers.edge.initial-concurrency", Integer.toString(o.maxBatch));
                props.putAll(o.gatewayProps);
                gateway = GatewayLauncher.start(o.java, Path.of(o.gatewayJar), o.gatewayJvmOpts, port,
                        o.out.resolve("work"), p.wire + "-r" + (rep + 1), props);
                base = URI.create("http://127.0.0.1:" + port);
                managementBase = URI.create("http://127.0.0.1:" + GatewayLauncher.managementPort(port));
            } else {
                base = o.url == null ? null : URI.create(o.url);
                managementBase = o.managementUrl != null ? URI.create(o.managementUrl)
                        : base == null ? null : URI.create(base.getScheme() + "://" + base.getHost() + ":9090");
            }
            if (base != null && p != Policy.LOCAL) {
                // A gateway this driver started accepts the launcher's bench key.
                String key = o.apiKey != null ? o.apiKey : o.start ? GatewayLauncher.BENCH_KEY : null;
                client = o.transport.equals("grpc") ? new GrpcGatewayClient(base.getHost(), grpcPort, key)
                        : new RestGatewayClient(vertx, base, o.transport.equals("sse"), key);
                metrics = new GatewayMetrics(vertx, managementBase, key);
                warmUp(client, o);
                if (p.watches()) {
                    watch = new WatchStream(vertx, base, key, embeddings);
                    if (!watch.awaitFirst(30)) {
                        System.err.println("[fleet] no Watch snapshot within 30 s: devices will ask decide");
                    }
                }
            }
            return new FleetRun(o, p, rep, w, client, metrics, vertx, ctx, quality, offloadOutcomes, watch).execute();
        } finally {
            if (watch != null) {
                watch.close();
            }
            if (client != null) {
                client.close();
            }
            if (metrics != null) {
                metrics.close();
            }
            if (gateway != null) {
                gateway.close();
            }
            if (sim != null) {
                sim.close();
            }
        }
    }

    /** A few queries before the measured run so the first ones do not pay for class loading and JIT. */
    /**
     * MiniLM embeddings of every question text of a workload (the watching devices' local-quality
     * estimate needs them), computed before the run as a device would on its own CPU.
     */
    private static void embed(List<Workload.Arrival> w, Map<String, float[]> embeddings) {
        List<String> texts = w.stream().map(Workload.Arrival::text).distinct().filter(t -> !embeddings.containsKey(t))
                .toList();
        if (texts.isEmpty()) {
            return;
        }
        try (dev.offload.gateway.retrieval.OnnxEmbedder e = new dev.offload.gateway.retrieval.OnnxEmbedder(1)) {
            List<float[]> v = e.embedAll(texts);
            for (int i = 0; i < texts.size(); i++) {
                embeddings.put(texts.get(i), v.get(i));
            }
        }
    }

    private static void warmUp(GatewayClient client, FleetOptions o) throws InterruptedException {
        if (o.warmupQueries == 0) {
            return;
        }
        CountDownLatch done = new CountDownLatch(o.warmupQueries);
        GatewayClient.DeviceReport device = new GatewayClient.DeviceReport(0.2, 0.05, 3000, 80, true, "nominal", "wifi",
                12, 50_000, 20_000, o.baseTps(), SimulatedDevice.LOCAL_MAX_CONTEXT, o.localPrefillTps, o.localContextTokens);
        for (int i = 0; i < o.warmupQueries; i++) {
            GatewayClient.Ask ask = new GatewayClient.Ask("warm-up question " + i + " about batch occupancy",
                    List.of(), 0, "public", 30_000, device, "always", 16, 30_000);
            if (i % 2 == 0) {
                client.query(ask, a -> done.countDown());
            } else {
                client.decide(ask, d -> done.countDown());
            }
            Thread.sleep(50);
        }
        done.await(60, TimeUnit.SECONDS);
        Thread.sleep(1000);
    }

    private static String setup(FleetOptions o, String commandLine, QuestionPool pool, String workloadLine) {
        StringBuilder s = new StringBuilder();
        s.append("- Hardware: ").append(Hardware.describe()).append("; JDK ").append(System.getProperty("java.vm.name"))
                .append(' ').append(System.getProperty("java.runtime.version")).append('\n');
        s.append("- Arguments: `").append(commandLine.isBlank() ? "(defaults)" : commandLine).append("`\n");
        if (o.start) {
            s.append(String.format(Locale.ROOT, "- Gateway: `%s` started fresh for each policy run (child JVM `%s`),"
                            + " edge max-concurrency = initial-concurrency = %d%s; the never-offload policy starts none%n",
                    o.gatewayJar, o.java, o.maxBatch, o.gatewayProps.isEmpty() ? "" : ", " + o.gatewayProps));
            s.append(String.format(Locale.ROOT, "- Backend: simulated continuous batching, fresh per run: max batch %d,"
                            + " step %s ms + %s ms per running sequence, prefill %s µs/token; capacity for this workload's"
                            + " mean answer (%.0f tokens) %.2f requests/s at full batch (computed)%n", o.maxBatch,
                    trim(o.stepMs), trim(o.stepPerSeqMs), trim(o.prefillUsPerToken), o.meanOutputTokens(),
                    o.backendCapacity()));
        } else {
            s.append("- Gateway: ").append(o.url).append(" (one gateway for every policy run, in order)\n");
        }
        s.append(String.format(Locale.ROOT, "- Transport: %s%s; policies in order %s, rotated each repetition;"
                        + " repetitions %d; seed %d%n", o.transport, o.apiKey == null ? "" : " with an API key",
                o.policies.stream().map(p -> p.label).toList(), o.repeats, o.seed));
        s.append(String.format(Locale.ROOT, "- Fleet: %d devices, %.2f queries/s fleet-wide at load factor 1%s,"
                        + " Poisson per device (log-normal activity), devices' phase changes staggered up to %s s%n",
                o.devices, o.fleetRate(), o.rate == null ? String.format(Locale.ROOT, " (= %s × the backend's capacity)",
                        trim(o.baseLoad)) : "", trim(o.staggerS)));
        s.append("- Timeline (network, load factor): ").append(o.scenario.describe()).append('\n');
        s.append(String.format(Locale.ROOT, "- Queries: kinds short/long/multi-hop %s with %s output tokens and budgets"
                        + " %s ms; history share %s, own repeats %s, paraphrases %s, Zipf %s over %d questions (%d with a"
                        + " paraphrase); sensitivity %s%n", fmt(o.kindMix), java.util.Arrays.toString(o.outputTokens),
                java.util.Arrays.toString(o.budgetsMs), trim(o.historyShare), trim(o.repeatShare),
                trim(o.paraphraseShare), trim(o.zipf), pool.size(), pool.withParaphrase(), o.sensitivityMix));
        s.append("- Questions: ").append(pool.source()).append('\n');
        StringBuilder mix = new StringBuilder();
        for (FleetOptions.DeviceClass c : o.deviceMix) {
            mix.append(mix.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%s × %.0f %% at %s W",
                    c.label(), c.share() * 100, trim(c.watts())));
        }
        s.append("- Device mix (local decode speed, share, SoC power while the model runs): ").append(mix).append('\n');
        s.append(String.format(Locale.ROOT, "- Cost model: edge GPU-seconds = edge prompt tokens / %s + output tokens /"
                        + " %s (one replica's full-batch rates, capacity model), at %s $ per GPU-hour; cloud tokens at"
                        + " %s $ per million; quality-router-only threshold %s%n", trim(o.gpuPrefillTokensPerSecond),
                trim(o.gpuTokensPerSecond), trim(o.gpuPricePerHour), trim(o.cloudPricePerMillion),
                trim(o.minLocalQuality)));
        s.append("- Workload of repetition 1: ").append(workloadLine).append('\n');
        s.append(String.format(Locale.ROOT, "- Local model: the class's tokens/s decode, %s tokens/s prefill at %s tokens/s"
                        + " decode and in proportion (× device factor 0.7–1.3, CPU load and thermal state), %d tokens of"
                        + " local context; charging share %s%n", trim(o.localPrefillTps), trim(o.baseTps()),
                o.localContextTokens, trim(o.chargingShare)));
        s.append("- Latency: from the query's scheduled arrival on the device to the last token the user sees,"
                + " including simulated network legs and local queueing; budget met when ≤ the query's budget\n");
        return s.toString();
    }

    private static String fmt(double[] v) {
        StringBuilder sb = new StringBuilder();
        for (double x : v) {
            sb.append(sb.length() == 0 ? "" : "/").append(String.format(Locale.ROOT, "%.2f", x));
        }
        return sb.toString();
    }

    private static String trim(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }

    private static Duration nanos(double n) {
        return Duration.ofNanos(Math.round(n));
    }
}
