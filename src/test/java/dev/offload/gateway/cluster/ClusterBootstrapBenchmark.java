package dev.offload.gateway.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.offload.gateway.bench.FastStartBenchmark;
import dev.offload.gateway.bench.GatewayLauncher;
import dev.offload.gateway.bench.Hardware;
import dev.offload.gateway.retrieval.ReplicatedRecords;
import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.Nats;
import io.nats.client.ObjectStore;
import io.nats.client.api.ObjectInfo;
import io.nats.client.api.PublishAck;
import io.nats.client.api.StreamState;
import io.nats.client.impl.Headers;
import io.nats.client.PublishOptions;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.awaitility.Awaitility.await;

/**
 * A new empty replica joining a cluster whose index holds N chunks ({@code ClusterBenchmark --part
 * bootstrap}): launch to {@code /q/health/ready}, by phase, and whether it then answers as the
 * replica it copied.
 *
 * <p>How the cluster gets its index (the cheapest way that is still what a site holds): the
 * synthetic corpus of {@link FastStartBenchmark} (documents of 4 chunks, seeded Gaussian 384-d
 * vectors: embedding 100k chunks would take minutes and is no part of a bootstrap) is built once
 * offline through the index's own write path, in write batches; the very same batches, encoded as
 * the index log's records ({@link ReplicatedRecords#upsert}), are published to the index stream
 * as sequences 1..B, so the stream and the index agree record for record. The first replica, g0,
 * is started on that index (its commit holds sequence B, the stream's last: nothing to apply), is
 * rank 0, and takes the snapshot itself through the shipped path (commit held, archive streamed
 * into the object store, older snapshots pruned, the stream purged below it); then a few
 * documents are written through g0's API, a tail the new replica must apply from the stream.
 * Each run then launches g1 on an empty data directory from the packaged jar, times launch →
 * ready, reads its phases from its log, and compares its top 10 with g0's for a set of queries.
 *
 * <p>Options: {@code --chunks} (100000), {@code --runs} (3), {@code --nats-nodes} (3, R3 as a
 * site; 1: R1), {@code --batch-docs} (50: a record of 200 chunks stays under NATS' 1 MB payload),
 * {@code --tail} (5 records of 10 documents), {@code --queries} (20), {@code --dir}
 * (target/cluster-bootstrap, where the offline index is kept for reuse), {@code --compare-jar} (a
 * second packaged {@code quarkus-run.jar}: its runs alternate with the packaged one's, side by
 * side). Called from the benchmark's main thread.
 */
final class ClusterBootstrapBenchmark {
    private static final int DIM = 384;
    private static final DateTimeFormatter LOG_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss,SSS");

    private ClusterBootstrapBenchmark() {
    }

    /** One launch of the new replica: its figures. */
    private record Run(String jar, long readyMillis, Map<String, Long> phases, String installLine, int sameTop10,
                       int queries, long chunks) {
    }

    static void run(Map<String, String> args, String key, Path keys, Path tmp) throws Exception {
        int chunks = Integer.parseInt(args.getOrDefault("chunks", "100000"));
        int runs = Integer.parseInt(args.getOrDefault("runs", "3"));
        int natsNodes = Integer.parseInt(args.getOrDefault("nats-nodes", "3"));
        int batchDocs = Integer.parseInt(args.getOrDefault("batch-docs", "50"));
        int tail = Integer.parseInt(args.getOrDefault("tail", "5"));
        int queryCount = Integer.parseInt(args.getOrDefault("queries", "20"));
        Path dir = Path.of(args.getOrDefault("dir", "target/cluster-bootstrap")).toAbsolutePath();
        Path compare = args.containsKey("compare-jar") ? Path.of(args.get("compare-jar")).toAbsolutePath() : null;
        if (chunks < 1 || runs < 1 || natsNodes < 1 || batchDocs < 1 || tail < 0 || queryCount < 1) {
            throw new IllegalArgumentException("--chunks, --runs, --nats-nodes, --batch-docs, --queries must be positive, --tail not negative");
        }
        if (compare != null && !Files.isRegularFile(compare)) {
            throw new IllegalArgumentException("--compare-jar " + compare + " is no file");
        }
        System.out.printf("bootstrap: %d chunks, %d NATS node(s), %d runs%s, load average %s%n", chunks, natsNodes, runs,
                compare == null ? "" : " per jar", Hardware.loadAverage());

        Path offline = dir.resolve("index-" + chunks + "x" + DIM + "-b" + batchDocs);
        long t0 = System.nanoTime();
        FastStartBenchmark.buildIndex(offline, chunks, DIM, batchDocs, args.getOrDefault("build-java", GatewayLauncher.currentJava()));
        long records = FastStartBenchmark.batchCount(chunks, batchDocs);
        System.out.printf("offline index: %d records, ready after %d s%n", records, (System.nanoTime() - t0) / 1_000_000_000);

        try (NatsTestCluster nats = new NatsTestCluster(tmp.resolve("nats"), natsNodes)) {
            Map<String, String> p = new LinkedHashMap<>();
            p.put("gateway.auth.keys-file", keys.toString());
            p.put("gateway.index.load-sample-corpus", "false");
            p.put("gateway.cluster.nats-url", nats.urls());
            p.put("gateway.cluster.replicas", Integer.toString(Math.min(3, natsNodes)));
            // One snapshot, at the offline index's sequence: the tail (fewer records) does not trigger another.
            p.put("gateway.cluster.snapshot-records", Long.toString(Math.max(tail + 1, Math.min(records, 10_000))));
            p.put("gateway.cluster.snapshot-interval", "1h");
            p.put("gateway.cluster.snapshot-keep", "2");
            p.put("gateway.cluster.retention-margin", "2");
            p.put("gateway.cluster.apply-timeout", "120s");
            try (ClusterGateways g = new ClusterGateways(tmp.resolve("gateways"), 2, 0, p);
                 Connection c = Nats.connect(io.nats.client.Options.builder().servers(nats.urls().split(","))
                         .connectionTimeout(Duration.ofSeconds(5)).build())) {
                // g0 empty first: the gateway creates its own streams and bucket, with its own settings.
                g.start(0);
                g.stop(0);
                long published = publish(c, chunks, batchDocs);
                if (published != records) {
                    throw new IllegalStateException("published " + published + " records, the index holds " + records);
                }
                Path g0 = g.dataDir(0);
                for (String sub : List.of("lucene", "graph", "wal")) {
                    FastStartBenchmark.deleteTree(g0.resolve(sub));
                }
                FastStartBenchmark.copyTree(offline.resolve("lucene"), g0.resolve("lucene"));
                FastStartBenchmark.copyTree(offline.resolve("graph"), g0.resolve("graph"));
                long first = g.start(0);
                System.out.printf("g0 on the offline index (sequence %d = the stream's last): ready %d ms after launch%n",
                        records, first);
                String name = SnapshotStore.objectName(records);
                await("g0's snapshot at sequence " + records).atMost(Duration.ofMinutes(10)).pollInterval(Duration.ofSeconds(1))
                        .ignoreExceptions().until(() -> {
                            ObjectInfo i = c.objectStore("OFFLOAD_SNAPSHOTS").getInfo(name);
                            return i != null && !i.isDeleted() && i.getSize() > 0;
                        });
                await("the stream purged below the snapshot").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1))
                        .until(() -> streamState(c).getFirstSequence() > 1);
                ObjectStore os = c.objectStore("OFFLOAD_SNAPSHOTS");
                ObjectInfo info = os.getInfo(name);
                System.out.printf("snapshot %s: %,d bytes in %,d object-store chunks of %,d bytes (%s); bucket stores %,d bytes%n",
                        name, info.getSize(), info.getChunks(), info.getObjectMeta().getObjectMetaOptions().getChunkSize(),
                        grep(g.log(0), "snapshot " + name + " uploaded"), os.getStatus().getSize());
                for (int d = 0; d < 2; d++) { // the object store's own cost: the chunks fetched, nothing written
                    long d0 = System.nanoTime();
                    os.get(name, java.io.OutputStream.nullOutputStream());
                    long ms = (System.nanoTime() - d0) / 1_000_000;
                    System.out.printf("download %d of %s by this JVM's jnats into nothing: %d ms (%.0f MB/s)%n", d + 1, name, ms,
                            info.getSize() / 1e6 / Math.max(ms, 1) * 1000);
                }
                long last = records;
                for (int t = 0; t < tail; t++) {
                    last = ingest(g.url(0), key, t);
                }
                StreamState s = streamState(c);
                System.out.printf("stream %d..%d (tail of %d records after the snapshot)%n", s.getFirstSequence(),
                        s.getLastSequence(), last - records);
                List<String> queries = queries(queryCount, chunks);
                List<List<String>> expected = new ArrayList<>();
                for (String q : queries) {
                    expected.add(top10(g.url(0), key, q));
                }
                List<Run> done = new ArrayList<>();
                for (int r = 0; r < runs; r++) {
                    List<Path> jars = compare == null ? List.of(ClusterGateways.JAR) : List.of(compare, ClusterGateways.JAR);
                    for (Path jar : jars) {
                        FastStartBenchmark.deleteTree(g.dataDir(1));
                        long launched = System.currentTimeMillis();
                        long ready = g.start(1, jar);
                        Path log = g.log(1);
                        Map<String, Long> phases = phases(log, launched);
                        int same = 0;
                        for (int q = 0; q < queries.size(); q++) {
                            if (top10(g.url(1), key, queries.get(q)).equals(expected.get(q))) {
                                same++;
                            }
                        }
                        long stats = Http.get(g.url(1) + "/v1/index/stats", key, Map.of()).body().get("chunks").asLong();
                        Run run = new Run(jar.equals(ClusterGateways.JAR) ? "packaged" : compare.toString(), ready, phases,
                                grep(log, "bootstrapped from snapshot"), same, queries.size(), stats);
                        done.add(run);
                        System.out.printf("run %d (%s): ready %d ms after launch; phases (ms after launch) %s; %s; "
                                        + "same top 10 as g0 for %d of %d queries; %d chunks; load average %s%n",
                                r + 1, run.jar(), ready, phases, run.installLine(), same, queries.size(), stats,
                                Hardware.loadAverage());
                        g.stop(1);
                    }
                }
                report(done);
            }
        }
    }

    private static StreamState streamState(Connection c) throws Exception {
        return c.jetStreamManagement().getStreamInfo("OFFLOAD_INDEX").getStreamState();
    }

    /** Publishes the offline build's batches as the index log's records 1..B; returns B. */
    private static long publish(Connection c, int chunks, int batchDocs) throws Exception {
        long t0 = System.nanoTime();
        JetStream js = c.jetStream();
        String subject = "offload_index" + NatsCluster.INDEX_SUBJECT_SUFFIX;
        long[] last = {0};
        long[] bytes = {0};
        List<CompletableFuture<PublishAck>> inFlight = new ArrayList<>();
        FastStartBenchmark.syntheticBatches(chunks, DIM, batchDocs, batch -> {
            byte[] record = ReplicatedRecords.upsert(FastStartBenchmark.tenant(), batch);
            bytes[0] += record.length;
            inFlight.add(js.publishAsync(subject, new Headers(), record,
                    PublishOptions.builder().expectedStream("OFFLOAD_INDEX").build()));
            if (inFlight.size() == 16) {
                for (CompletableFuture<PublishAck> f : inFlight) {
                    last[0] = Math.max(last[0], f.join().getSeqno());
                }
                inFlight.clear();
            }
        });
        for (CompletableFuture<PublishAck> f : inFlight) {
            last[0] = Math.max(last[0], f.join().getSeqno());
        }
        System.out.printf("published %d records (%,d bytes) to the index stream in %d ms%n", last[0], bytes[0],
                (System.nanoTime() - t0) / 1_000_000);
        return last[0];
    }

    private static long ingest(String url, String key, int t) throws InterruptedException {
        List<Map<String, Object>> docs = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            docs.add(Map.of("id", "tail-" + t + "-" + i, "title", "Tail " + t,
                    "text", "Maintenance note " + t + "." + i + ": the pump " + i + " on line " + t + " needs its seals checked."));
        }
        Http.Reply r = Http.post(url + "/v1/documents", key, Map.of("documents", docs), Map.of());
        if (r.status() != 200) {
            throw new IllegalStateException("tail ingest failed: " + r);
        }
        return r.body().get("sequence").asLong();
    }

    /** Queries that hit both the synthetic chunks (their words) and the tail (real text). */
    private static List<String> queries(int n, int chunks) {
        Random random = new Random(19);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(i % 4 == 3 ? "which pump needs its seals checked on line " + random.nextInt(5)
                    : "chunk " + random.nextInt(4) + " of document " + random.nextInt(chunks / 4) + " about topic "
                    + random.nextInt(1000));
        }
        return out;
    }

    private static List<String> top10(String url, String key, String query) throws InterruptedException {
        Http.Reply r = Http.post(url + "/v1/search", key, Map.of("query", query, "k", 10), Map.of());
        if (r.status() != 200) {
            throw new IllegalStateException("search failed: " + r);
        }
        List<String> ids = new ArrayList<>();
        for (JsonNode h : r.body().get("hits")) {
            ids.add(h.get("chunkId").asText());
        }
        return ids;
    }

    /** When (ms after launch) the replica's log reached each phase. */
    private static Map<String, Long> phases(Path log, long launched) throws Exception {
        Map<String, String> marks = new LinkedHashMap<>();
        marks.put("quarkus-started", " started in ");
        marks.put("snapshot-chosen", "looking for a snapshot");
        marks.put("installed", "bootstrapped from snapshot");
        marks.put("index-open", "index ready at ");
        marks.put("caught-up", "caught up with the index log");
        Map<String, Long> out = new LinkedHashMap<>();
        List<String> lines = Files.readAllLines(log);
        for (Map.Entry<String, String> m : marks.entrySet()) {
            for (String l : lines) {
                if (l.contains(m.getValue()) && l.length() > 23) {
                    try {
                        long at = LocalDateTime.parse(l.substring(0, 23), LOG_TIME).atZone(ZoneId.systemDefault())
                                .toInstant().toEpochMilli();
                        out.put(m.getKey(), at - launched);
                        break;
                    } catch (java.time.format.DateTimeParseException e) {
                        // not a timestamped line
                    }
                }
            }
        }
        return out;
    }

    private static String grep(Path log, String what) throws Exception {
        Pattern p = Pattern.compile(Pattern.quote(what) + ".*");
        for (String l : Files.readAllLines(log)) {
            Matcher m = p.matcher(l);
            if (m.find()) {
                return m.group();
            }
        }
        return "(not in the log)";
    }

    private static void report(List<Run> runs) {
        Map<String, List<Run>> byJar = new LinkedHashMap<>();
        for (Run r : runs) {
            byJar.computeIfAbsent(r.jar(), k -> new ArrayList<>()).add(r);
        }
        System.out.println();
        System.out.println("| jar | ready after launch, runs | median | same top 10 |");
        System.out.println("|---|---|---|---|");
        for (Map.Entry<String, List<Run>> e : byJar.entrySet()) {
            long[] ready = e.getValue().stream().mapToLong(Run::readyMillis).toArray();
            long[] sorted = ready.clone();
            Arrays.sort(sorted);
            int same = e.getValue().stream().mapToInt(Run::sameTop10).sum();
            int asked = e.getValue().stream().mapToInt(Run::queries).sum();
            System.out.printf("| %s | %s ms | %.1f s | %d of %d |%n", e.getKey(), Arrays.toString(ready),
                    sorted[sorted.length / 2] / 1000.0, same, asked);
        }
    }
}
