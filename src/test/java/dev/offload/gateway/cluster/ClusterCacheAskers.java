package dev.offload.gateway.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.offload.gateway.bench.verifier.CachePrecisionEvaluation.Answer;
import dev.offload.gateway.bench.verifier.CachePrecisionEvaluation.Asker;
import dev.offload.gateway.security.KeyRing;
import dev.offload.gateway.sim.EchoBackend;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.awaitility.Awaitility.await;

/**
 * The cache evaluation's devices in front of a real cluster: a 3-node {@code nats-server}
 * JetStream cluster, 3 gateway JVMs in cluster mode from the packaged jar, and — for the
 * reference — one gateway in the embedded mode (no NATS), all with an {@link EchoBackend} as the
 * edge tier and the same settings, none with the sample corpus (a replicated index does not load
 * it; the embedded one would, so it is off everywhere and the two paths hold the same empty index).
 *
 * <p>Each {@link #roundRobin} asker sends question i to replica {@code i mod 3}, in a tenant of
 * its own (the cache is partitioned by tenant, so two runs on the same cluster start from empty
 * caches and do not see each other's entries).
 * <ul>
 *   <li><b>paced</b>: after a miss (the replica generated and stored the answer), the next question
 *   waits until every replica has stored that entry: each replica's {@code gateway.cache.puts}
 *   counter (stored + rejected, read from {@code /q/metrics}) has grown by the run's misses so far.
 *   A device cannot do this: the read-your-writes token ({@code X-Offload-Min-Sequence}) is the
 *   index log's sequence, and a cache entry travels on its own stream with no token. This is
 *   the "one shared cache" claim with replication lag taken out.</li>
 *   <li><b>immediate</b>: no waiting: a question may reach a replica before the entry stored one
 *   question earlier on another replica has arrived there, a miss a real device may see.</li>
 * </ul>
 */
public final class ClusterCacheAskers implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration REPLICATION_TIMEOUT = Duration.ofSeconds(30);

    private final Path dir;
    private final EchoBackend echo;
    private final NatsTestCluster nats;
    private final ClusterGateways gateways;
    private final ClusterGateways single;
    private final Map<String, String> keys = new LinkedHashMap<>();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();
    private final List<Long> replicationMillis = new ArrayList<>();

    /**
     * Starts everything (the embedded gateway and the cluster in parallel) and returns once all
     * four gateways are ready.
     *
     * @param tenants the tenants the askers will use ({@code single} is always added)
     */
    public ClusterCacheAskers(Path where, boolean verify, List<String> tenants) throws Exception {
        Path dir = Files.createDirectories(where.toAbsolutePath());
        this.dir = dir;
        StringBuilder k = new StringBuilder();
        List<String> all = new ArrayList<>(tenants);
        all.add("single");
        for (String t : all) {
            String key = "cache-" + t + "-" + UUID.randomUUID();
            keys.put(t, key);
            k.append(KeyRing.sha256Hex(key)).append(' ').append(t).append(" device\n");
        }
        Path keysFile = Files.writeString(dir.resolve("keys"), k);
        echo = EchoBackend.start();
        Map<String, String> p = new HashMap<>();
        p.put("gateway.auth.keys-file", keysFile.toString());
        p.put("gateway.tiers.edge.base-urls", echo.baseUrl());
        p.put("gateway.cache.verify", Boolean.toString(verify));
        p.put("gateway.index.load-sample-corpus", "false");
        ExecutorService pool = Executors.newSingleThreadExecutor();
        Future<ClusterGateways> one = pool.submit(() -> new ClusterGateways(dir.resolve("single"), 1, p));
        NatsTestCluster n = null;
        ClusterGateways g = null;
        try {
            n = new NatsTestCluster(dir.resolve("nats"), 3);
            Map<String, String> c = new HashMap<>(p);
            c.put("gateway.cluster.nats-url", n.urls());
            g = new ClusterGateways(dir.resolve("cluster"), 3, c);
            single = one.get();
        } catch (Exception e) {
            if (g != null) {
                g.close();
            }
            if (n != null) {
                n.close();
            }
            try {
                one.get().close();
            } catch (Exception ignored) {
                // it failed to start itself
            }
            echo.close();
            throw e;
        } finally {
            pool.shutdown();
        }
        nats = n;
        gateways = g;
    }

    /** The reference: every question to the one embedded gateway, tenant {@code single}. */
    public Asker single() {
        return single("single");
    }

    /** Every question to the one embedded gateway, in {@code tenant} (one given to the constructor): a fresh cache. */
    public Asker single(String tenant) {
        String key = keys.get(tenant);
        return question -> ask(single.url(0), key, question);
    }

    /** Question i to replica {@code i mod 3}; {@code paced}: wait for each stored entry to reach every replica (above). */
    public Asker roundRobin(String tenant, boolean paced) throws Exception {
        String key = keys.get(tenant);
        long[] baseline = new long[gateways.size()];
        for (int i = 0; i < baseline.length; i++) {
            baseline[i] = puts(i);
        }
        return new Asker() {
            int next;
            long misses;

            @Override
            public Answer ask(String question) throws Exception {
                Answer a = ClusterCacheAskers.this.ask(gateways.url(next++ % gateways.size()), key, question);
                if (paced && !a.fromCache()) {
                    long expected = ++misses;
                    long t0 = System.nanoTime();
                    for (int i = 0; i < baseline.length; i++) {
                        int replica = i;
                        await("g" + i + " to store the entry of \"" + question + "\" (" + expected + " puts in this run)")
                                .atMost(REPLICATION_TIMEOUT).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(2))
                                .pollInSameThread().until(() -> puts(replica) - baseline[replica] >= expected);
                    }
                    replicationMillis.add((System.nanoTime() - t0) / 1_000_000);
                }
                return a;
            }
        };
    }

    /** Milliseconds from a paced miss's answer until every replica held its entry (median, p90, max), or null if none. */
    public long[] replicationLag() {
        if (replicationMillis.isEmpty()) {
            return null;
        }
        long[] m = replicationMillis.stream().mapToLong(Long::longValue).sorted().toArray();
        return new long[] {m[m.length / 2], m[m.length * 9 / 10], m[m.length - 1]};
    }

    /** Replica {@code i}'s answers offered to its cache so far (stored + rejected), from its Prometheus page. */
    long puts(int i) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(gateways.managementUrl(i) + "/q/metrics"))
                .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
        long sum = 0;
        for (String line : r.body().split("\n")) {
            if (line.startsWith("gateway_cache_puts_total{")) {
                sum += (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return sum;
    }

    private Answer ask(String url, String key, String question) throws Exception {
        String body = JSON.writeValueAsString(Map.of("query", question, "k", 1));
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url + "/v1/query")).timeout(Duration.ofSeconds(60))
                .header("content-type", "application/json").header("authorization", "Bearer " + key)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IllegalStateException("POST " + url + "/v1/query answered " + r.statusCode() + ": " + r.body());
        }
        JsonNode j = JSON.readTree(r.body());
        return new Answer(j.path("answer").asText(), "cache".equals(j.path("servedBy").asText()));
    }

    /** Where the gateways' logs are (for a failure message). */
    public Path dir() {
        return dir;
    }

    @Override
    public void close() {
        for (AutoCloseable c : Arrays.asList(gateways, single, nats, echo)) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception ignored) {
                // best effort: every child is killed at JVM exit anyway (ChildProcess)
            }
        }
    }
}
