package dev.offload.gateway.cluster;

import dev.offload.gateway.bench.Args;
import dev.offload.gateway.bench.Hardware;
import dev.offload.gateway.security.KeyRing;
import dev.offload.gateway.sim.SimulatedBackend;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Cluster mode against the embedded default, on this machine: ingest acknowledgement latency
 * (sequential one-document batches: median and p90) and throughput (concurrent 10-document
 * batches), then start-up and catch-up times of a cluster replica ({@code --part ingest}); and
 * queries/s with 1, 2 and 3 replicas ({@code --part queries}, {@link #queries}); a new empty
 * replica bootstrapping from a snapshot of a 100k-chunk index ({@code --part bootstrap},
 * {@link ClusterBootstrapBenchmark}).
 *
 * <pre>
 * ./mvnw -q package -DskipTests && ./mvnw -q test-compile exec:exec@cluster -Dbench.args="--sequential 200 --seconds 20"
 * ./mvnw -q test-compile exec:exec@cluster -Dbench.args="--part queries"
 * </pre>
 *
 * Every process shares the machine's cores (3 nats-server, up to 3 gateways, the simulated
 * backend and this client): more replicas add no cores here.
 */
public final class ClusterBenchmark {
    private ClusterBenchmark() {
    }

    public static void main(String[] argv) throws Exception {
        Map<String, String> args = Args.parse(argv);
        int sequential = Integer.parseInt(args.getOrDefault("sequential", "200"));
        int seconds = Integer.parseInt(args.getOrDefault("seconds", "20"));
        int clients = Integer.parseInt(args.getOrDefault("clients", "4"));
        int catchUp = Integer.parseInt(args.getOrDefault("catch-up-documents", "500"));
        String part = args.getOrDefault("part", "all");
        System.out.println("hardware: " + Hardware.describe());
        Path dir = Files.createTempDirectory("cluster-bench");
        String key = "bench-" + java.util.UUID.randomUUID();
        Path keys = Files.writeString(dir.resolve("keys"), KeyRing.sha256Hex(key) + " bench device\n");
        Map<String, String> common = new HashMap<>();
        common.put("gateway.auth.keys-file", keys.toString());
        common.put("gateway.index.load-sample-corpus", "false");

        if (part.equals("bootstrap")) { // not part of "all": it builds a 100k-chunk index
            ClusterBootstrapBenchmark.run(args, key, keys, dir);
            return;
        }
        if (part.equals("queries") || part.equals("all")) {
            queries(dir.resolve("queries"), key, keys, args);
        }
        if (!part.equals("ingest") && !part.equals("all")) {
            return;
        }
        // Embedded default: one gateway, local write-ahead log.
        try (ClusterGateways single = new ClusterGateways(dir.resolve("single"), 1, common)) {
            report("single", single.url(0), key, sequential, seconds, clients);
        }
        try (NatsTestCluster nats = new NatsTestCluster(dir.resolve("nats"), 3)) {
            Map<String, String> cluster = new HashMap<>(common);
            cluster.put("gateway.cluster.nats-url", nats.urls());
            long t0 = System.nanoTime();
            try (ClusterGateways gateways = new ClusterGateways(dir.resolve("cluster"), 3, cluster)) {
                System.out.printf("cluster: 3 replicas started in parallel, all ready after %d ms%n",
                        (System.nanoTime() - t0) / 1_000_000);
                report("cluster (3 replicas, R3, writes to one)", gateways.url(0), key, sequential, seconds, clients);
                // Catch-up: one replica down while the others take documents, then restarted.
                gateways.kill(2);
                long last = 0;
                for (int i = 0; i < catchUp; i += 10) {
                    last = ingest(gateways.url(i / 10 % 2), key, batch("catchup-" + i, 10));
                }
                long ready = gateways.start(2);
                Http.Reply stats = Http.get(gateways.url(2) + "/v1/index/stats", key, Map.of());
                System.out.printf("catch-up: replica restarted after %d documents were written without it: ready (caught up "
                                + "to the stream's last sequence %d) %d ms after launch; applied there: %s%n",
                        catchUp, last, ready, stats.body().get("appliedSequence"));
                gateways.stop(2);
                long fresh = gateways.start(2);
                System.out.printf("restart of a caught-up replica (SIGTERM, then start): ready %d ms after launch%n", fresh);
            }
        }
    }

    private static Map<String, Object> batch(String prefix, int n) {
        List<Map<String, Object>> docs = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            docs.add(Map.of("id", prefix + "-" + i, "title", "",
                    "text", "Maintenance note " + prefix + " " + i + ": check the bearings of pump " + i + " weekly."));
        }
        return Map.of("documents", docs);
    }

    private static long ingest(String url, String key, Map<String, Object> body) throws InterruptedException {
        Http.Reply r = Http.post(url + "/v1/documents", key, body, Map.of());
        if (r.status() != 200) {
            throw new IllegalStateException("ingest failed: " + r);
        }
        return r.body().get("sequence").asLong();
    }

    private static void report(String label, String url, String key, int sequential, int seconds, int clients)
            throws Exception {
        for (int i = 0; i < 20; i++) { // warm-up: JIT and the embedding model
            ingest(url, key, batch(label.charAt(0) + "warm" + i, 1));
        }
        long[] nanos = new long[sequential];
        for (int i = 0; i < sequential; i++) {
            long t0 = System.nanoTime();
            ingest(url, key, batch(label.charAt(0) + "seq" + i, 1));
            nanos[i] = System.nanoTime() - t0;
        }
        java.util.Arrays.sort(nanos);
        AtomicInteger docs = new AtomicInteger();
        long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        List<Future<?>> f = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int c = 0; c < clients; c++) {
            int client = c;
            f.add(pool.submit(() -> {
                int n = 0;
                while (System.nanoTime() < end) {
                    ingest(url, key, batch(label.charAt(0) + "tp" + client + "-" + (n++), 10));
                    docs.addAndGet(10);
                }
                return null;
            }));
        }
        for (Future<?> x : f) {
            x.get();
        }
        pool.shutdown();
        double elapsed = (System.nanoTime() - t0) / 1e9;
        System.out.printf("%s: ingest ack of a one-document batch, %d sequential: median %.1f ms, p90 %.1f ms; "
                        + "throughput with %d clients × 10-document batches: %.0f documents/s over %.0f s%n",
                label, sequential, nanos[sequential / 2] / 1e6, nanos[sequential * 9 / 10] / 1e6, clients,
                docs.get() / elapsed, elapsed);
    }

    /** One workload of {@link #queries}: the path and the body of request number {@code i}. */
    private record Workload(String name, String path, java.util.function.IntFunction<Map<String, Object>> body,
                            String servedBy) {
    }

    /**
     * Queries/s with 1, 2 and 3 replicas: a 3-node NATS cluster, 3 gateways in cluster mode in
     * front of one fast simulated backend ({@link SimulatedBackend}: 16 tokens at 1 ms a step),
     * the first {@code --query-docs} MS MARCO passages ingested; then for each workload a
     * closed-loop client ({@code --query-clients} threads on one {@link java.net.http.HttpClient},
     * HTTP/1.1, each sending its next request as soon as the last one is answered) spreads requests
     * round-robin over the first n replicas, n = 1, 2, 3, the three interleaved, {@code --query-runs}
     * times (after one unmeasured warm-up of 3 × {@code --query-warmup} over all 3); the figure is
     * completed requests per second over {@code --query-seconds} after {@code --query-warmup}, the
     * median of the runs. The replicas not in use stay up (idle). Workloads:
     * <ul>
     *   <li>{@code POST /v1/search} (k 10) with the subset's 50 queries in turn;</li>
     *   <li>{@code POST /v1/query} served from the cache: the same 50 questions, each answered once
     *   through g0 beforehand and present in every replica's cache (checked); every answer must say
     *   {@code servedBy: cache};</li>
     *   <li>{@code POST /v1/query} generated by the simulated backend: the 50 questions with a
     *   history turn naming the request (the cache is partitioned by history, so none hits), k 5,
     *   {@code max_tokens} 16.</li>
     * </ul>
     */
    private static void queries(Path dir, String key, Path keys, Map<String, String> args) throws Exception {
        int docs = Integer.parseInt(args.getOrDefault("query-docs", "1000"));
        int clients = Integer.parseInt(args.getOrDefault("query-clients", "8"));
        int runs = Integer.parseInt(args.getOrDefault("query-runs", "3"));
        Duration warmup = Duration.ofSeconds(Integer.parseInt(args.getOrDefault("query-warmup", "5")));
        Duration measure = Duration.ofSeconds(Integer.parseInt(args.getOrDefault("query-seconds", "15")));
        Path data = Path.of(args.getOrDefault("msmarco", "../shared/data/retrieval/msmarco-subset"));
        List<Map<String, Object>> corpus = new ArrayList<>();
        for (String line : Files.readAllLines(data.resolve("corpus.jsonl"))) {
            if (corpus.size() == docs) {
                break;
            }
            com.fasterxml.jackson.databind.JsonNode n = Http.JSON.readTree(line);
            corpus.add(Map.of("id", n.get("_id").asText(), "title", n.path("title").asText(""), "text", n.get("text").asText()));
        }
        List<String> questions = new ArrayList<>();
        for (String line : Files.readAllLines(data.resolve("queries.jsonl"))) {
            questions.add(Http.JSON.readTree(line).get("text").asText());
        }
        try (SimulatedBackend backend = SimulatedBackend.builder().maxBatchSize(64).stepBase(Duration.ofMillis(1))
                .stepPerSequence(Duration.ZERO).prefillPerToken(Duration.ZERO).outputTokens(16).start();
             NatsTestCluster nats = new NatsTestCluster(dir.resolve("nats"), 3)) {
            Map<String, String> p = new HashMap<>();
            p.put("gateway.auth.keys-file", keys.toString());
            p.put("gateway.index.load-sample-corpus", "false");
            p.put("gateway.cluster.nats-url", nats.urls());
            p.put("gateway.tiers.edge.base-urls", backend.baseUrl() + "/v1");
            p.put("gateway.tiers.edge.max-concurrency", "64");
            p.put("gateway.tiers.edge.initial-concurrency", "64");
            try (ClusterGateways g = new ClusterGateways(dir.resolve("gateways"), 3, p)) {
                long t0 = System.nanoTime();
                long seq = 0;
                for (int b = 0; b * 50 < corpus.size(); b++) {
                    seq = Math.max(seq, ingest(g.url(b % 3), key, Map.of("documents",
                            corpus.subList(b * 50, Math.min(corpus.size(), (b + 1) * 50)))));
                }
                Map<String, String> token = Map.of("X-Offload-Min-Sequence", Long.toString(seq));
                for (int i = 0; i < 3; i++) {
                    Http.Reply s = Http.get(g.url(i) + "/v1/index/stats", key, token);
                    System.out.printf("g%d: %s documents at sequence %s%n", i, s.body().get("documents"), s.body().get("appliedSequence"));
                }
                System.out.printf("queries: %d MS MARCO passages ingested round-robin in %.0f s%n", corpus.size(),
                        (System.nanoTime() - t0) / 1e9);
                // The cache workload's entries: answered once through g0, then a hit on every replica.
                for (String q : questions) {
                    Http.Reply r = Http.post(g.url(0) + "/v1/query", key, Map.of("query", q, "k", 5), token); // maxTokens is part of the cache scope: as the workload asks
                    if (r.status() != 200 || !"edge".equals(r.body().path("servedBy").asText())) {
                        throw new IllegalStateException("priming the cache: " + r);
                    }
                }
                for (int i = 0; i < 3; i++) {
                    for (String q : questions) {
                        long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                        Http.Reply r;
                        while (!"cache".equals((r = Http.post(g.url(i) + "/v1/query", key, Map.of("query", q, "k", 5, "generate", "never"),
                                token)).body().path("servedBy").asText())) {
                            if (System.nanoTime() > until) {
                                throw new IllegalStateException("g" + i + " does not serve \"" + q + "\" from its cache: " + r);
                            }
                            Thread.sleep(50);
                        }
                    }
                }
                List<Workload> workloads = List.of(
                        new Workload("POST /v1/search (k 10)", "/v1/search",
                                i -> Map.of("query", questions.get(i % questions.size()), "k", 10), null),
                        new Workload("POST /v1/query, served from the cache", "/v1/query",
                                i -> Map.of("query", questions.get(i % questions.size()), "k", 5), "cache"),
                        new Workload("POST /v1/query, generated (simulated backend, 16 tokens)", "/v1/query",
                                i -> Map.of("query", questions.get(i % questions.size()), "k", 5, "maxTokens", 16,
                                        "history", List.of(Map.of("role", "user", "content", "request " + i + " " + java.util.UUID.randomUUID()),
                                                Map.of("role", "assistant", "content", "noted"))), "edge"));
                System.out.printf("%n%d closed-loop clients, round-robin over the first n replicas; %d s measured after %d s "
                                + "warm-up; runs interleaved n = 1, 2, 3; all 3 replicas, 3 NATS servers, the backend and the "
                                + "client share the machine's 2 cores%n", clients, measure.toSeconds(), warmup.toSeconds());
                java.net.http.HttpClient http = java.net.http.HttpClient.newBuilder()
                        .version(java.net.http.HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
                StringBuilder table = new StringBuilder("\n| workload | 1 replica | 2 replicas | 3 replicas | runs (1 / 2 / 3) | load average during the runs |\n|---|---|---|---|---|---|\n");
                for (Workload w : workloads) {
                    // JIT warm-up of every replica's path for this workload (the runs below then start warm on all 3).
                    double warm = closedLoop(http, g, 3, key, w, clients, Duration.ZERO, warmup.multipliedBy(3));
                    System.out.printf("  %s, warm-up over 3 replicas: %.1f/s%n", w.name(), warm);
                    double[][] qps = new double[3][runs];
                    String[] load = new String[2];
                    for (int r = 0; r < runs; r++) {
                        for (int n = 1; n <= 3; n++) {
                            String before = loadAverage();
                            qps[n - 1][r] = closedLoop(http, g, n, key, w, clients, warmup, measure);
                            if (load[0] == null) {
                                load[0] = before;
                            }
                            load[1] = loadAverage();
                            System.out.printf("  %s, %d replica(s), run %d: %.1f/s (load average %s)%n", w.name(), n, r + 1,
                                    qps[n - 1][r], load[1]);
                        }
                    }
                    table.append(String.format(java.util.Locale.ROOT, "| %s | %.1f/s | %.1f/s | %.1f/s | %s / %s / %s | %s … %s |%n",
                            w.name(), median(qps[0]), median(qps[1]), median(qps[2]), runsOf(qps[0]), runsOf(qps[1]),
                            runsOf(qps[2]), load[0], load[1]));
                }
                System.out.println(table);
            }
        }
    }

    /** Requests per second completed (200, and served as the workload says) in the window; throws on any other answer. */
    private static double closedLoop(java.net.http.HttpClient http, ClusterGateways g, int replicas, String key, Workload w,
                                     int clients, Duration warmup, Duration measure) throws Exception {
        long start = System.nanoTime();
        long from = start + warmup.toNanos();
        long to = from + measure.toNanos();
        AtomicInteger next = new AtomicInteger();
        AtomicInteger done = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        List<Future<?>> f = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            f.add(pool.submit(() -> {
                while (System.nanoTime() < to) {
                    int i = next.getAndIncrement();
                    java.net.http.HttpRequest req = java.net.http.HttpRequest.newBuilder(
                                    java.net.URI.create(g.url(i % replicas) + w.path()))
                            .timeout(Duration.ofSeconds(60)).header("content-type", "application/json")
                            .header("authorization", "Bearer " + key)
                            .POST(java.net.http.HttpRequest.BodyPublishers.ofString(Http.JSON.writeValueAsString(w.body().apply(i))))
                            .build();
                    java.net.http.HttpResponse<String> r = http.send(req, java.net.http.HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() != 200) {
                        throw new IllegalStateException(w.name() + " on g" + (i % replicas) + ": " + r.statusCode() + " " + r.body());
                    }
                    if (w.servedBy() != null) {
                        String by = Http.JSON.readTree(r.body()).path("servedBy").asText();
                        if (!w.servedBy().equals(by)) {
                            throw new IllegalStateException(w.name() + ": served by " + by + ": " + r.body());
                        }
                    }
                    long end = System.nanoTime();
                    if (end >= from && end < to) {
                        done.incrementAndGet();
                    }
                }
                return null;
            }));
        }
        try {
            for (Future<?> x : f) {
                x.get();
            }
        } finally {
            pool.shutdownNow();
        }
        return done.get() / (measure.toNanos() / 1e9);
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        java.util.Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static String runsOf(double[] v) {
        return java.util.Arrays.stream(v).mapToObj(x -> String.format(java.util.Locale.ROOT, "%.0f", x))
                .collect(java.util.stream.Collectors.joining(", "));
    }

    private static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (java.io.IOException e) {
            return "unknown";
        }
    }
}
