package dev.offload.gateway.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.offload.gateway.security.KeyRing;
import io.nats.client.Connection;
import io.nats.client.Nats;
import io.nats.client.ObjectStore;
import io.nats.client.Options;
import io.nats.client.api.ObjectInfo;
import io.nats.client.api.ObjectMeta;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Snapshot bootstrap and bounded retention end to end: a 3-node {@code nats-server} JetStream
 * cluster and gateway JVMs from the packaged jar. Three replicas ingest the MS MARCO subset; the
 * first member takes snapshots into the object store and the index stream is purged below them;
 * a fourth replica started on an empty data directory, with the newest snapshot damaged, refuses
 * it, installs the older one, applies the stream's tail, becomes ready and answers every query's
 * top 10 as the others do. With every snapshot damaged it stays not ready and says why.
 *
 * <p>{@code -Dsnapshot.docs=N} ingests only the first N passages (default: all 5,000).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterSnapshotIT {
    private static final String MIN_SEQ = "X-Offload-Min-Sequence";
    private static final String BUCKET = "OFFLOAD_SNAPSHOTS";
    private static final int SNAPSHOT_RECORDS = 20;
    private static final int BATCH = 50;
    private static final int NEW = 3;
    private static final int TAIL = 5;

    private final String key = "it-snap-" + UUID.randomUUID();
    private Path dir;
    private NatsTestCluster nats;
    private ClusterGateways gateways;
    private Connection connection;
    private SnapshotStore store;
    private List<String> queries;
    private long lastSequence;
    private int documents;
    private final java.util.Set<String> damaged = new java.util.HashSet<>();

    @BeforeAll
    void startCluster() throws Exception {
        dir = Files.createTempDirectory("cluster-snapshot-it");
        Path keysFile = Files.writeString(dir.resolve("keys"), KeyRing.sha256Hex(key) + " snap device\n");
        nats = new NatsTestCluster(dir.resolve("nats"), 3);
        Map<String, String> p = new HashMap<>();
        p.put("gateway.cluster.nats-url", nats.urls());
        p.put("gateway.auth.keys-file", keysFile.toString());
        p.put("gateway.limits.device-requests-per-second", "100000");
        p.put("gateway.limits.device-burst", "100000");
        p.put("gateway.index.commit-interval", "2s");
        p.put("gateway.cluster.apply-timeout", "120s");
        // Snapshots by count only (the interval never comes), so the test knows when the store is stable.
        p.put("gateway.cluster.snapshot-records", Integer.toString(SNAPSHOT_RECORDS));
        p.put("gateway.cluster.snapshot-interval", "1h");
        p.put("gateway.cluster.snapshot-keep", "2");
        p.put("gateway.cluster.retention-margin", "2");
        p.put("quarkus.log.console.level", "INFO");
        gateways = new ClusterGateways(dir.resolve("gateways"), 4, 3, p);
        connection = Nats.connect(Options.builder().servers(nats.urls().split(",")).connectionTimeout(Duration.ofSeconds(2))
                .errorListener(new io.nats.client.ErrorListener() {
                }).build());
        store = new SnapshotStore(() -> connection, BUCKET, 3);
    }

    @AfterAll
    void stopCluster() throws Exception {
        if (gateways != null) {
            gateways.close();
        }
        if (connection != null) {
            connection.close();
        }
        if (nats != null) {
            nats.close();
        }
    }

    private long streamFirst() throws Exception {
        return connection.jetStreamManagement().getStreamInfo("OFFLOAD_INDEX").getStreamState().getFirstSequence();
    }

    private long ingest(int replica, List<Map<String, Object>> docs) throws InterruptedException {
        Http.Reply r = Http.post(gateways.url(replica) + "/v1/documents", key, Map.of("documents", docs), Map.of());
        assertEquals(200, r.status(), r.toString());
        return r.body().get("sequence").asLong();
    }

    /** Replaces snapshot {@code name} in the store by a copy with one byte of a Lucene file flipped (headers kept). */
    private void damage(String name) throws Exception {
        assertTrue(damaged.add(name), name + " damaged once only (a second flip would repair it)");
        ObjectStore os = connection.objectStore(BUCKET);
        ObjectInfo info = os.getInfo(name);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        store.download(name, bytes);
        os.put(ObjectMeta.builder(name).headers(info.getHeaders()).build(),
                new ByteArrayInputStream(SnapshotFixtures.damaged(bytes.toByteArray())));
    }

    private List<String> topTen(int replica, String q) throws InterruptedException {
        Http.Reply r = Http.post(gateways.url(replica) + "/v1/search", key, Map.of("query", q, "k", 10),
                Map.of(MIN_SEQ, Long.toString(lastSequence)));
        assertEquals(200, r.status(), r.toString());
        List<String> ids = new ArrayList<>();
        r.body().get("hits").forEach(h -> ids.add(h.get("documentId").asText()));
        return ids;
    }

    /**
     * Waits until two snapshots are kept, the stream was purged below them and no further snapshot is
     * due for a log ending at {@code end} (fewer than SNAPSHOT_RECORDS records after the newest);
     * returns the newest snapshot's sequence.
     */
    private long awaitSnapshotsSettled(long end) {
        long[] newest = new long[1];
        await("two snapshots, the newest less than " + SNAPSHOT_RECORDS + " records below " + end
                + ", and the stream purged below them").atMost(Duration.ofMinutes(5))
                .pollInterval(Duration.ofSeconds(1)).ignoreExceptions().until(() -> {
                    List<SnapshotStore.Stored> s = store.list();
                    if (s.size() != 2 || end - s.get(0).sequence() >= SNAPSHOT_RECORDS || streamFirst() <= 1) {
                        return false;
                    }
                    newest[0] = s.get(0).sequence();
                    return true;
                });
        return newest[0];
    }

    @Test
    @Order(1)
    void aNewEmptyReplicaStartsFromTheNewestGoodSnapshotAndTheStreamsTailAndAnswersAsTheOthers() throws Exception {
        Path data = Path.of(System.getProperty("cluster.msmarco", "/work/shared/data/retrieval/msmarco-subset"));
        List<Map<String, Object>> docs = new ArrayList<>();
        for (String line : Files.readAllLines(data.resolve("corpus.jsonl"))) {
            JsonNode n = Http.JSON.readTree(line);
            docs.add(Map.of("id", n.get("_id").asText(), "title", n.path("title").asText(""), "text", n.get("text").asText()));
        }
        docs = docs.subList(0, Math.min(docs.size(), Integer.getInteger("snapshot.docs", docs.size())));
        queries = new ArrayList<>();
        for (String line : Files.readAllLines(data.resolve("queries.jsonl"))) {
            queries.add(Http.JSON.readTree(line).get("text").asText());
        }
        long t0 = System.nanoTime();
        for (int b = 0; b * BATCH < docs.size(); b++) {
            lastSequence = Math.max(lastSequence,
                    ingest(b % 3, docs.subList(b * BATCH, Math.min(docs.size(), (b + 1) * BATCH))));
        }
        long ingestMs = (System.nanoTime() - t0) / 1_000_000;
        // The first member snapshots once SNAPSHOT_RECORDS records were applied after the newest one. Where the
        // last snapshot of the corpus falls depends on how fast the member applies, so: wait until no further
        // one is due, and when the tail below would make one due, pad the log up to the next snapshot first.
        long newest = awaitSnapshotsSettled(lastSequence);
        int padding = 0;
        if (lastSequence - newest + TAIL >= SNAPSHOT_RECORDS) {
            for (long due = newest + SNAPSHOT_RECORDS; lastSequence < due; padding++) {
                lastSequence = ingest(padding % 3, List.of(Map.of("id", "pad-" + padding, "title", "",
                        "text", "Padding record " + padding + " of the snapshot test's log.")));
            }
            newest = awaitSnapshotsSettled(lastSequence);
        }
        assertTrue(lastSequence - newest + TAIL < SNAPSHOT_RECORDS, "the tail cannot trigger a snapshot: newest "
                + newest + ", log at " + lastSequence);
        List<SnapshotStore.Stored> kept = store.list();
        long first = streamFirst();
        assertTrue(first <= kept.get(1).sequence() + 1, "the stream still completes the older snapshot: starts at " + first
                + ", older snapshot at " + kept.get(1).sequence());
        // A tail after the snapshots (fewer records than trigger one): the new replica must apply it from the stream.
        List<Map<String, Object>> tail = new ArrayList<>();
        for (int i = 0; i < TAIL; i++) {
            List<Map<String, Object>> batch = List.of(Map.of("id", "tail-" + i, "title", "",
                    "text", "Tail record " + i + ": the pump bearing was replaced after the vibration alarm on shift " + i + "."));
            tail.addAll(batch);
            lastSequence = ingest(i % 3, batch);
        }
        documents = docs.size() + padding + tail.size();
        assertEquals(kept.stream().map(SnapshotStore.Stored::name).toList(),
                store.list().stream().map(SnapshotStore.Stored::name).toList(), "no snapshot taken for the tail");
        damage(kept.get(0).name());

        long readyMs = gateways.start(NEW); // an empty data directory; returns once ready (caught up)
        JsonNode health = Http.get(gateways.managementUrl(NEW) + "/q/health/ready", null, Map.of()).body();
        String used = health.toString();
        assertTrue(used.contains("\"bootstrapSnapshot\":\"" + kept.get(1).name() + "\""), used);
        String log = Files.readString(gateways.log(NEW));
        assertTrue(log.contains(kept.get(0).name() + " refused") && log.contains("fails its checksum"),
                "g3 refused the damaged snapshot, see " + gateways.log(NEW));
        for (int i = 0; i <= NEW; i++) {
            JsonNode s = Http.get(gateways.url(i) + "/v1/index/stats", key, Map.of(MIN_SEQ, Long.toString(lastSequence))).body();
            assertEquals(documents, s.get("documents").asLong(), "g" + i + ": " + s);
        }
        for (int i = 0; i < tail.size(); i++) {
            Http.Reply r = Http.get(gateways.url(NEW) + "/v1/documents/tail-" + i, key, Map.of());
            assertEquals(200, r.status(), "the tail came from the stream: " + r);
        }
        int compared = 0;
        for (String q : queries) {
            List<String> expected = topTen(0, q);
            assertEquals(10, expected.size(), q);
            for (int i = 1; i <= NEW; i++) {
                assertEquals(expected, topTen(i, q), "top 10 of g" + i + " for '" + q + "'");
            }
            compared++;
        }
        System.out.printf("cluster snapshot: %d documents (stream sequence %d) ingested in %d ms; snapshots %s, stream purged below %d;"
                        + " a new empty replica ready %d ms after launch (%s); the same top 10 on all 4 for %d queries%n",
                documents, lastSequence, ingestMs,
                kept.stream().map(k -> k.name() + " (" + k.size() + " bytes)").toList(), first, readyMs, health.path("checks"),
                compared);
    }

    @Test
    @Order(2)
    void aReplicaTheStreamLeftBehindWithoutAUsableSnapshotStaysNotReadyAndSaysWhy() throws Exception {
        if (queries == null) {
            aNewEmptyReplicaStartsFromTheNewestGoodSnapshotAndTheStreamsTailAndAnswersAsTheOthers();
        }
        gateways.stop(NEW);
        org.apache.lucene.util.IOUtils.rm(gateways.dataDir(NEW));
        for (SnapshotStore.Stored s : store.list()) {
            if (!damaged.contains(s.name())) {
                damage(s.name());
            }
        }
        assertTrue(streamFirst() > 1, "the stream no longer starts at 1");
        gateways.launch(NEW);
        await("g3 to say why it is not ready").atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofMillis(500))
                .ignoreExceptions().until(() -> {
                    Http.Reply r = Http.get(gateways.managementUrl(NEW) + "/q/health/ready", null, Map.of());
                    return r.status() == 503 && r.body().toString().contains("no usable snapshot");
                });
        Http.Reply r = Http.get(gateways.managementUrl(NEW) + "/q/health/ready", null, Map.of());
        String failure = r.body().toString();
        assertTrue(failure.contains("fails its checksum") && failure.contains("cannot catch up"), failure);
        Http.Reply write = Http.post(gateways.url(NEW) + "/v1/documents", key, Map.of("documents",
                List.of(Map.of("id", "refused", "title", "", "text", "never written"))), Map.of());
        assertEquals(503, write.status(), "a replica that cannot follow refuses writes: " + write);
        System.out.printf("cluster snapshot: with every snapshot damaged the new replica stays not ready: %s%n",
                r.body().path("checks"));
    }
}
