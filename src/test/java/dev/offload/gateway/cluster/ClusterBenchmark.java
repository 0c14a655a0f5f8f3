package dev.offload.gateway.cluster;

import dev.offload.gateway.bench.Args;
import dev.offload.gateway.bench.Hardware;
import dev.offload.gateway.security.KeyRing;

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
 * batches), then start-up and catch-up times of a cluster replica.
 *
 * <pre>
 * ./mvnw -q package -DskipTests && ./mvnw -q test-compile exec:exec@cluster -Dbench.args="--sequential 200 --seconds 20"
 * </pre>
 *
 * Every process shares the machine's cores (3 nats-server, up to 3 gateways and this client).
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
        System.out.println("hardware: " + Hardware.describe());
        Path dir = Files.createTempDirectory("cluster-bench");
        String key = "bench-" + java.util.UUID.randomUUID();
        Path keys = Files.writeString(dir.resolve("keys"), KeyRing.sha256Hex(key) + " bench device\n");
        Map<String, String> common = new HashMap<>();
        common.put("gateway.auth.keys-file", keys.toString());
        common.put("gateway.index.load-sample-corpus", "false");

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
}
