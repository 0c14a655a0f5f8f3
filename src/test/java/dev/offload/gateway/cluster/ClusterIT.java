package dev.offload.gateway.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.offload.gateway.api.grpc.GetDocumentRequest;
import dev.offload.gateway.api.grpc.IndexServiceGrpc;
import dev.offload.gateway.api.grpc.SearchReply;
import dev.offload.gateway.api.grpc.SearchRequest;
import dev.offload.gateway.security.KeyRing;
import dev.offload.gateway.sim.SimulatedBackend;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Cluster mode end to end, on real servers: a 3-node {@code nats-server} JetStream cluster and 3
 * gateway JVMs from the packaged jar (loopback ports picked free, temporary stores, all killed
 * after), in front of one simulated OpenAI-compatible backend. The cases run in order on the
 * same cluster; each uses a tenant of its own, so their counts do not mix.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterIT {
    private static final String MIN_SEQ = "X-Offload-Min-Sequence";
    private static final Map<String, String> KEYS = new LinkedHashMap<>();

    private Path dir;
    private NatsTestCluster nats;
    private ClusterGateways gateways;
    private SimulatedBackend backend;

    static String key(String tenant) {
        return KEYS.computeIfAbsent(tenant, t -> "it-" + t + "-" + UUID.randomUUID());
    }

    @BeforeAll
    void startCluster() throws Exception {
        dir = Files.createTempDirectory("cluster-it");
        StringBuilder keys = new StringBuilder();
        for (String t : List.of("ryw", "cache", "faults", "marco", "crash", "rolling")) {
            keys.append(KeyRing.sha256Hex(key(t))).append(' ').append(t).append(" device\n");
        }
        Path keysFile = Files.writeString(dir.resolve("keys"), keys);
        nats = new NatsTestCluster(dir.resolve("nats"), 3);
        backend = SimulatedBackend.builder().maxBatchSize(8).stepBase(Duration.ofMillis(2))
                .stepPerSequence(Duration.ofMillis(1)).outputTokens(16).start();
        Map<String, String> p = new HashMap<>();
        p.put("gateway.cluster.nats-url", nats.urls());
        p.put("gateway.auth.keys-file", keysFile.toString());
        p.put("gateway.tiers.edge.base-urls", backend.baseUrl() + "/v1");
        p.put("gateway.index.commit-interval", "2s");
        // A 100-document batch may wait behind a backlog on a loaded machine: the test wants its 200.
        p.put("gateway.cluster.apply-timeout", "120s");
        p.put("quarkus.log.console.level", "INFO");
        gateways = new ClusterGateways(dir.resolve("gateways"), 3, p);
    }

    @AfterAll
    void stopCluster() {
        if (gateways != null) {
            gateways.close();
        }
        if (nats != null) {
            nats.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    /** About 2,000 characters: three chunks at the default chunking (1,000 characters, 150 overlap). */
    private static String text(String id) {
        StringBuilder b = new StringBuilder();
        for (int part = 0; b.length() < 2000; part++) {
            b.append("Record ").append(id).append(" part ").append(part).append(" marker").append(id.replace("-", ""))
                    .append('x').append(part).append(". The inspection log notes pressure, temperature and vibration ")
                    .append("readings of the pump and its bearings for this shift. ");
        }
        return b.toString();
    }

    private static Map<String, Object> doc(String id, String text) {
        return Map.of("id", id, "title", "", "text", text);
    }

    private static Map<String, Object> batch(Map<String, Object>... docs) {
        return Map.of("documents", List.of(docs));
    }

    private static Map<String, String> minSeq(long seq) {
        return Map.of(MIN_SEQ, Long.toString(seq));
    }

    private long ingest(int replica, String tenant, Map<String, Object> body) throws InterruptedException {
        Http.Reply r = Http.post(gateways.url(replica) + "/v1/documents", key(tenant), body, Map.of());
        assertEquals(200, r.status(), r.toString());
        return r.body().get("sequence").asLong();
    }

    private static List<String> hitIds(Http.Reply r) {
        List<String> ids = new ArrayList<>();
        r.body().get("hits").forEach(h -> ids.add(h.get("documentId").asText()));
        return ids;
    }

    @Test
    @Order(1)
    void aWriteOnOneReplicaIsReadOnEveryOtherWithItsSequence() throws Exception {
        long seq = ingest(0, "ryw", batch(doc("ryw-1", "The turbine gearbox at site seven needs oil every 400 hours, marker qzryw")));
        for (int i = 1; i < 3; i++) {
            Http.Reply get = Http.get(gateways.url(i) + "/v1/documents/ryw-1", key("ryw"), minSeq(seq));
            assertEquals(200, get.status(), get.toString());
            assertEquals(seq, get.body().get("version").asLong(), "the version is the stream sequence on every replica");
            Http.Reply search = Http.post(gateways.url(i) + "/v1/search", key("ryw"),
                    Map.of("query", "qzryw gearbox oil", "k", 3, "mode", "sparse"), minSeq(seq));
            assertEquals(200, search.status(), search.toString());
            assertEquals("ryw-1", hitIds(search).get(0));
            Http.Reply stats = Http.get(gateways.url(i) + "/v1/index/stats", key("ryw"), minSeq(seq));
            assertTrue(stats.body().get("appliedSequence").asLong() >= seq, stats.toString());
            assertEquals("g" + i, stats.body().get("cluster").get("node").asText());
        }
        // A sequence nobody has written: the wait ends in 503 with Retry-After, never a stale answer.
        Http.Reply ahead = Http.get(gateways.url(1) + "/v1/documents/ryw-1", key("ryw"), minSeq(seq + 1_000_000));
        assertEquals(503, ahead.status(), ahead.toString());
        assertNotNull(ahead.header("Retry-After"));
        assertEquals("application/problem+json", ahead.header("content-type"));
        // Malformed, or on a call that would not honour it: refused by name.
        Http.Reply bad = Http.get(gateways.url(1) + "/v1/documents/ryw-1", key("ryw"), Map.of(MIN_SEQ, "soon"));
        assertEquals(400, bad.status(), bad.toString());
        Http.Reply onWrite = Http.post(gateways.url(1) + "/v1/documents", key("ryw"), batch(doc("ryw-2", "x")), minSeq(seq));
        assertEquals(400, onWrite.status(), onWrite.toString());
        assertTrue(onWrite.body().get("detail").asText().contains(MIN_SEQ));

        // gRPC: the same token as metadata.
        ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", gateways.grpcPort(2)).usePlaintext().build();
        try {
            Metadata md = new Metadata();
            md.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + key("ryw"));
            md.put(Metadata.Key.of("x-offload-min-sequence", Metadata.ASCII_STRING_MARSHALLER), Long.toString(seq));
            var stub = IndexServiceGrpc.newBlockingStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md))
                    .withDeadlineAfter(30, TimeUnit.SECONDS);
            SearchReply reply = stub.search(SearchRequest.newBuilder().setQuery("qzryw gearbox").setK(3).build());
            assertEquals("ryw-1", reply.getHits(0).getDocumentId());
            Metadata far = new Metadata();
            far.merge(md);
            far.put(Metadata.Key.of("x-offload-min-sequence", Metadata.ASCII_STRING_MARSHALLER), Long.toString(seq + 1_000_000));
            var farStub = IndexServiceGrpc.newBlockingStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(far))
                    .withDeadlineAfter(30, TimeUnit.SECONDS);
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                    () -> farStub.getDocument(GetDocumentRequest.newBuilder().setId("ryw-1").build()));
            assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), e.toString());
        } finally {
            channel.shutdownNow();
        }

        // Deletes follow the same log.
        Http.Reply del = Http.call("DELETE", gateways.url(2) + "/v1/documents/ryw-1", key("ryw"), null, Map.of(),
                Duration.ofSeconds(30));
        assertEquals(204, del.status(), del.toString());
        long afterDelete = Http.get(gateways.url(2) + "/v1/index/stats", key("ryw"), Map.of()).body().get("appliedSequence").asLong();
        assertTrue(afterDelete > seq);
        Http.Reply gone = Http.get(gateways.url(0) + "/v1/documents/ryw-1", key("ryw"), minSeq(afterDelete));
        assertEquals(404, gone.status(), gone.toString());
    }

    private Http.Reply query(int replica, String question, String generate, long seq) throws InterruptedException {
        Map<String, Object> body = new HashMap<>();
        body.put("query", question);
        if (generate != null) {
            body.put("generate", generate);
        }
        return Http.post(gateways.url(replica) + "/v1/query", key("cache"), body, minSeq(seq));
    }

    @Test
    @Order(2)
    void anAnswerCachedThroughOneReplicaHitsOnTheOthers() throws Exception {
        long seq = ingest(0, "cache", batch(doc("pump", "The coolant pump of line four is serviced every Tuesday by the night shift.")));
        String question = "When is the coolant pump of line four serviced?";
        // Not cached anywhere yet: B answers without generating, and stores nothing.
        Http.Reply before = query(1, question, "never", seq);
        assertEquals(200, before.status(), before.toString());
        assertNotEquals("cache", before.body().get("servedBy").asText());

        Http.Reply generated = query(0, question, null, seq);
        assertEquals(200, generated.status(), generated.toString());
        assertEquals("edge", generated.body().get("servedBy").asText(), generated.toString());
        String answer = generated.body().get("answer").asText();

        for (int i = 1; i < 3; i++) {
            int replica = i;
            await("the entry stored through g0 to hit on g" + i).atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                    .until(() -> "cache".equals(query(replica, question, "never", seq).body().get("servedBy").asText()));
            assertEquals(answer, query(replica, question, "never", seq).body().get("answer").asText());
        }
        // A question nobody asked is no hit: the hits above came from the shared entry.
        assertNotEquals("cache", query(2, "Who repairs the conveyor belt of line two?", "never", seq).body().get("servedBy").asText());

        // The document changes through g2: once a replica has applied that, its entry is gone too.
        long changed = ingest(2, "cache", batch(doc("pump", "The coolant pump of line four is now serviced on Fridays.")));
        for (int i = 0; i < 3; i++) {
            assertNotEquals("cache", query(i, question, "never", changed).body().get("servedBy").asText(), "g" + i);
        }
    }

    @Test
    @Order(3)
    void withNatsDownWritesAreRefusedFastAndReadsAndGenerationGoOn() throws Exception {
        long seq = ingest(1, "faults", batch(doc("f-1", "Valve V12 on the boiler is checked daily, marker qzfault")));
        for (int i = 0; i < 3; i++) {
            assertEquals(200, Http.get(gateways.url(i) + "/v1/documents/f-1", key("faults"), minSeq(seq)).status());
        }
        for (int i = 0; i < nats.size(); i++) {
            nats.kill(i);
        }
        try {
            for (int i = 0; i < 3; i++) {
                int replica = i;
                await("g" + i + " to see NATS down").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                        .until(() -> !Http.get(gateways.url(replica) + "/v1/index/stats", key("faults"), Map.of())
                                .body().get("cluster").get("writable").asBoolean());
                // The client gives up after 1 s: a refusal must come sooner than that.
                Http.Reply refused = Http.call("POST", gateways.url(i) + "/v1/documents", key("faults"),
                        batch(doc("f-down-" + i, "never stored")), Map.of(), Duration.ofSeconds(1));
                assertEquals(503, refused.status(), refused.toString());
                assertNotNull(refused.header("Retry-After"));
                assertEquals("application/problem+json", refused.header("content-type"));

                Http.Reply search = Http.post(gateways.url(i) + "/v1/search", key("faults"),
                        Map.of("query", "qzfault valve", "k", 3, "mode", "sparse"), Map.of());
                assertEquals(200, search.status(), search.toString());
                assertEquals("f-1", hitIds(search).get(0));
                Http.Reply q = Http.post(gateways.url(i) + "/v1/query", key("faults"),
                        Map.of("query", "How often is valve V12 checked (" + i + ")?"), Map.of());
                assertEquals(200, q.status(), q.toString());
                assertEquals("edge", q.body().get("servedBy").asText(), q.toString());
                assertEquals(200, Http.get(gateways.managementUrl(i) + "/q/health/ready", key("faults"), Map.of()).status(),
                        "a caught-up replica stays ready without NATS");
            }
        } finally {
            for (int i = 0; i < nats.size(); i++) {
                nats.start(i);
            }
        }
        nats.awaitJetStream();
        long[] back = new long[1];
        await("writes to be accepted again").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                .until(() -> {
                    Http.Reply r = Http.post(gateways.url(0) + "/v1/documents", key("faults"),
                            batch(doc("f-2", "Valve V13 is checked weekly, marker qzback")), Map.of());
                    if (r.status() == 200) {
                        back[0] = r.body().get("sequence").asLong();
                    }
                    return r.status() == 200;
                });
        for (int i = 0; i < 3; i++) {
            Http.Reply r = Http.get(gateways.url(i) + "/v1/documents/f-2", key("faults"), minSeq(back[0]));
            assertEquals(200, r.status(), "g" + i + " caught up: " + r);
            for (int j = 0; j < 3; j++) {
                assertEquals(404, Http.get(gateways.url(i) + "/v1/documents/f-down-" + j, key("faults"), Map.of()).status(),
                        "a refused write is nowhere");
            }
        }
    }

    private long marcoSequence = -1;
    private List<String> marcoQueries;

    /** Every query's top 10 (hybrid) on g0, g1 and g2 once each has applied {@code seq}: the same ids in the same order. */
    private int sameTopTenEverywhere(List<String> queries, long seq) throws InterruptedException {
        int compared = 0;
        for (String q : queries) {
            List<String> first = null;
            for (int i = 0; i < 3; i++) {
                Http.Reply r = Http.post(gateways.url(i) + "/v1/search", key("marco"), Map.of("query", q, "k", 10), minSeq(seq));
                assertEquals(200, r.status(), r.toString());
                List<String> ids = hitIds(r);
                assertEquals(10, ids.size(), q);
                if (first == null) {
                    first = ids;
                } else if (!first.equals(ids)) {
                    assertEquals(first, ids, "top 10 of g" + i + " for '" + q + "'; " + perRetriever(q, seq));
                }
            }
            compared++;
        }
        return compared;
    }

    /** Each replica's dense and sparse top 10 for a query whose hybrid top 10 differs: which retriever diverged. */
    private String perRetriever(String q, long seq) throws InterruptedException {
        StringBuilder b = new StringBuilder();
        for (String mode : List.of("dense", "sparse")) {
            for (int i = 0; i < 3; i++) {
                Http.Reply r = Http.post(gateways.url(i) + "/v1/search", key("marco"),
                        Map.of("query", q, "k", 10, "mode", mode), minSeq(seq));
                b.append(mode).append(" g").append(i).append(": ").append(r.status() == 200 ? hitIds(r) : r.toString()).append("; ");
            }
        }
        return b.toString();
    }

    @Test
    @Order(7)
    @Tag("slow")
    void afterTheRestartsEveryReplicaStillReturnsTheSameTopTenForEveryMsMarcoQuery() throws Exception {
        if (marcoSequence < 0) {
            afterConvergenceEveryReplicaReturnsTheSameTopTenForEveryMsMarcoQuery();
        }
        // By now (after cases 5 and 6) every replica has been killed or stopped and restarted at
        // least once and has opened the graph persisted with its last commit.
        int compared = sameTopTenEverywhere(marcoQueries, marcoSequence);
        System.out.printf("cluster: after the restarts, %d MS MARCO queries, the same top 10 on all 3 replicas%n", compared);
    }

    @Test
    @Order(4)
    @Tag("slow")
    void afterConvergenceEveryReplicaReturnsTheSameTopTenForEveryMsMarcoQuery() throws Exception {
        Path data = Path.of(System.getProperty("cluster.msmarco", "/work/shared/data/retrieval/msmarco-subset"));
        List<Map<String, Object>> docs = new ArrayList<>();
        for (String line : Files.readAllLines(data.resolve("corpus.jsonl"))) {
            JsonNode n = Http.JSON.readTree(line);
            docs.add(Map.of("id", n.get("_id").asText(), "title", n.path("title").asText(""), "text", n.get("text").asText()));
        }
        List<String> queries = new ArrayList<>();
        for (String line : Files.readAllLines(data.resolve("queries.jsonl"))) {
            queries.add(Http.JSON.readTree(line).get("text").asText());
        }
        long maxSeq = 0;
        int batchSize = 100;
        for (int b = 0; b * batchSize < docs.size(); b++) {
            List<Map<String, Object>> part = docs.subList(b * batchSize, Math.min(docs.size(), (b + 1) * batchSize));
            // Round robin: every replica accepts writes.
            Http.Reply r = Http.post(gateways.url(b % 3) + "/v1/documents", key("marco"), Map.of("documents", part), Map.of());
            assertEquals(200, r.status(), r.toString());
            maxSeq = Math.max(maxSeq, r.body().get("sequence").asLong());
        }
        marcoSequence = maxSeq;
        marcoQueries = queries;
        int compared = sameTopTenEverywhere(queries, maxSeq);
        System.out.printf("cluster: %d documents ingested round-robin over 3 replicas, %d queries, the same top 10 on all%n",
                docs.size(), compared);
        for (int i = 0; i < 3; i++) {
            JsonNode s = Http.get(gateways.url(i) + "/v1/index/stats", key("marco"), minSeq(maxSeq)).body();
            assertEquals(docs.size(), s.get("documents").asLong(), "g" + i);
        }
    }

    @Test
    @Order(5)
    @Tag("slow")
    void noAcknowledgedDocumentIsLostOrHalfAppliedAcrossSigkillsOfGatewaysAndNatsNodes() throws Exception {
        long seed = Long.getLong("cluster.seed", 20_261_202L);
        int rounds = Integer.getInteger("cluster.kills", 5);
        Random random = new Random(seed);
        Map<String, Long> acknowledged = new ConcurrentHashMap<>();
        AtomicLong maxSeq = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong refused = new AtomicLong();
        List<Thread> writers = new ArrayList<>();
        for (int w = 0; w < 2; w++) {
            int writer = w;
            Random r = new Random(seed + w);
            Thread t = new Thread(() -> {
                int n = 0;
                while (!stop.get()) {
                    int replica = r.nextInt(3);
                    if (!gateways.isRunning(replica)) {
                        // Not a busy loop: on two shared cores it would slow the restart it waits for.
                        java.util.concurrent.locks.LockSupport.parkNanos(20_000_000L);
                        continue;
                    }
                    // One request = three documents of about 2,000 characters each (several chunks each):
                    // a batch is all-or-nothing and so is every document's set of chunks.
                    List<Map<String, Object>> docs = new ArrayList<>();
                    for (int d = 0; d < 3; d++) {
                        String id = "c" + writer + "-" + (n++);
                        docs.add(doc(id, text(id)));
                    }
                    try {
                        Http.Reply reply = Http.call("POST", gateways.url(replica) + "/v1/documents", key("crash"),
                                Map.of("documents", docs), Map.of(), Duration.ofSeconds(30));
                        if (reply.status() == 200) {
                            long s = reply.body().get("sequence").asLong();
                            for (Map<String, Object> d : docs) {
                                acknowledged.put((String) d.get("id"), s);
                            }
                            maxSeq.accumulateAndGet(s, Math::max);
                        } else {
                            refused.incrementAndGet();
                        }
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "ingest-" + w);
            t.start();
            writers.add(t);
        }
        List<Long> restartMillis = new ArrayList<>();
        try {
            for (int round = 0; round < rounds; round++) {
                int target = acknowledged.size() + 5 + random.nextInt(10);
                await("ingest to make progress (round " + round + ", seed " + seed + ")").atMost(Duration.ofSeconds(120))
                        .until(() -> acknowledged.size() >= target);
                int victim = random.nextInt(3);
                boolean natsToo = round % 3 == 1;
                int natsVictim = random.nextInt(nats.size());
                gateways.kill(victim);
                if (natsToo) {
                    nats.kill(natsVictim);
                }
                int mid = acknowledged.size();
                await("ingest to go on through the others (round " + round + ")").atMost(Duration.ofSeconds(120))
                        .until(() -> acknowledged.size() >= mid + 5);
                if (natsToo) {
                    nats.start(natsVictim);
                }
                restartMillis.add(gateways.start(victim));
            }
        } finally {
            stop.set(true);
            for (Thread t : writers) {
                t.join(60_000);
            }
        }
        long last = maxSeq.get();
        List<String> problems = new ArrayList<>();
        long[] documents = new long[3];
        String probe = acknowledged.keySet().iterator().next();
        // The token's wait is 2 s; a replica still applying a backlog answers 503 until it has caught up.
        Http.Reply[] probed = new Http.Reply[1];
        await("g0 to apply sequence " + last).atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofMillis(500))
                .until(() -> (probed[0] = Http.get(gateways.url(0) + "/v1/documents/" + probe, key("crash"), minSeq(last)))
                        .status() == 200);
        for (int i = 0; i < 3; i++) {
            int replica = i;
            await("g" + i + " to apply sequence " + last).atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofMillis(500))
                    .until(() -> Http.get(gateways.url(replica) + "/v1/index/stats", key("crash"), minSeq(last)).status() == 200);
        }
        int chunksPerDocument = probed[0].body().get("chunks").asInt();
        assertTrue(chunksPerDocument > 1, "each document has several chunks: " + chunksPerDocument);
        for (int i = 0; i < 3; i++) {
            JsonNode stats = Http.get(gateways.url(i) + "/v1/index/stats", key("crash"), minSeq(last)).body();
            documents[i] = stats.get("documents").asLong();
            if (stats.get("chunks").asLong() != (long) chunksPerDocument * documents[i] || documents[i] % 3 != 0) {
                problems.add("g" + i + ": " + stats.get("chunks") + " chunks for " + documents[i] + " documents of "
                        + chunksPerDocument + " chunks in batches of 3 (half-applied)");
            }
            for (var e : acknowledged.entrySet()) {
                Http.Reply r = Http.get(gateways.url(i) + "/v1/documents/" + e.getKey(), key("crash"), minSeq(last));
                if (r.status() != 200 || r.body().get("chunks").asInt() != chunksPerDocument) {
                    problems.add("g" + i + ": acknowledged " + e.getKey() + " (sequence " + e.getValue() + ") → " + r);
                }
            }
        }
        // Every acknowledged document, and the same ones everywhere (writes that timed out may exist too, whole).
        assertTrue(problems.isEmpty(), problems.size() + " problems, first " + problems.subList(0, Math.min(10, problems.size()))
                + "; seed " + seed);
        assertEquals(documents[0], documents[1], "seed " + seed);
        assertEquals(documents[0], documents[2], "seed " + seed);
        // A sample searched on every replica: BM25 on its marker, and the graph through a dense query of its text.
        List<String> ids = new ArrayList<>(acknowledged.keySet());
        java.util.Collections.shuffle(ids, random);
        for (String id : ids.subList(0, Math.min(20, ids.size()))) {
            String marker = "marker" + id.replace("-", "") + "x1";
            for (int i = 0; i < 3; i++) {
                Http.Reply s = Http.post(gateways.url(i) + "/v1/search", key("crash"), Map.of("query", marker, "k", 3, "mode", "sparse"),
                        minSeq(last));
                assertTrue(hitIds(s).contains(id), "g" + i + " sparse " + id + ": " + s);
            }
        }
        restartMillis.sort(Long::compare);
        System.out.printf("cluster crash rounds: %d rounds (seed %d), %d acknowledged documents (%d refused or failed "
                        + "during kills), all on every replica whole; gateway restart to ready median %d ms%n",
                rounds, seed, acknowledged.size(), refused.get(), restartMillis.get(restartMillis.size() / 2));
        Set<Long> seqs = new java.util.HashSet<>(acknowledged.values());
        assertEquals(acknowledged.size(), 3 * seqs.size(), "every acknowledged batch has a sequence of its own");
    }

    @Test
    @Order(6)
    @Tag("slow")
    void aRollingRestartBehindHaproxyFailsNoRequest() throws Exception {
        long seed = ingest(0, "rolling", batch(doc("r-base", "The compressor of hall nine is inspected monthly, marker qzroll")));
        for (int i = 0; i < 3; i++) {
            assertEquals(200, Http.get(gateways.url(i) + "/v1/documents/r-base", key("rolling"), minSeq(seed)).status());
        }
        try (HaproxyBalancer lb = new HaproxyBalancer(dir.resolve("haproxy"), gateways)) {
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong requests = new AtomicLong();
            List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
            Map<String, Long> acknowledged = new ConcurrentHashMap<>();
            List<Thread> load = new ArrayList<>();
            // Two readers (search and generated query in turn) and one writer, all through the balancer.
            for (int w = 0; w < 3; w++) {
                int worker = w;
                Thread t = new Thread(() -> {
                    int n = 0;
                    while (!stop.get()) {
                        try {
                            String what;
                            Http.Reply r;
                            if (worker == 2) {
                                String id = "r-" + (n++);
                                what = "ingest " + id;
                                r = Http.post(lb.url() + "/v1/documents", key("rolling"),
                                        batch(doc(id, "Rolling restart record " + id + ", marker qzroll" + id.replace("-", ""))), Map.of());
                                if (r.status() == 200) {
                                    acknowledged.put(id, r.body().get("sequence").asLong());
                                }
                            } else if ((n++ + worker) % 2 == 0) {
                                what = "search";
                                r = Http.post(lb.url() + "/v1/search", key("rolling"),
                                        Map.of("query", "qzroll compressor inspection", "k", 3, "mode", "sparse"), Map.of());
                                if (r.status() == 200 && !hitIds(r).contains("r-base")) {
                                    failures.add("search without r-base: " + r);
                                }
                            } else {
                                what = "query";
                                r = Http.post(lb.url() + "/v1/query", key("rolling"),
                                        Map.of("query", "How often is the compressor of hall nine inspected (" + n + ")?"), Map.of());
                            }
                            requests.incrementAndGet();
                            if (r.status() != 200) {
                                failures.add(what + " → " + r.status() + " " + (r.response() == null ? "(no response)" : r.response().body()));
                            }
                            Thread.sleep(50);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                }, "rolling-load-" + w);
                t.start();
                load.add(t);
            }
            List<String> rounds = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    long before = requests.get();
                    await("load through the balancer before g" + i + " restarts").atMost(Duration.ofSeconds(60))
                            .until(() -> requests.get() >= before + 10);
                    int exit = gateways.stop(i); // SIGTERM; returns once the process is gone
                    assertNotEquals(137, exit, "g" + i + " stopped by SIGTERM, not killed after the grace");
                    assertNotEquals("UP", lb.serverStates().get("g" + i), "the balancer took g" + i + " out");
                    long restartMs = gateways.start(i); // returns once g<i> is ready (caught up)
                    int replica = i;
                    await("the balancer to put g" + i + " back").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                            .until(() -> "UP".equals(lb.serverStates().get("g" + replica)));
                    rounds.add("g" + i + ": exit " + exit + ", ready " + restartMs + " ms after launch, "
                            + (requests.get() - before) + " requests meanwhile");
                }
                long after = requests.get();
                await("load through every replica after the restarts").atMost(Duration.ofSeconds(60))
                        .until(() -> requests.get() >= after + 10);
            } finally {
                stop.set(true);
                for (Thread t : load) {
                    t.join(130_000);
                }
            }
            long retries = lb.total("wretr");
            long redispatches = lb.total("wredis");
            System.out.printf("cluster rolling restart behind HAProxy: %d requests, %d failed, %d acknowledged writes; "
                    + "HAProxy retries %d, redispatches %d; %s%n", requests.get(), failures.size(), acknowledged.size(),
                    retries, redispatches, rounds);
            assertTrue(failures.isEmpty(), failures.size() + " failed requests of " + requests.get() + ", first "
                    + failures.subList(0, Math.min(10, failures.size())));
            assertTrue(acknowledged.size() > 0, "the writer was acknowledged");
            long last = acknowledged.values().stream().mapToLong(Long::longValue).max().orElseThrow();
            for (int i = 0; i < 3; i++) {
                for (String id : acknowledged.keySet()) {
                    Http.Reply r = Http.get(gateways.url(i) + "/v1/documents/" + id, key("rolling"), minSeq(last));
                    assertEquals(200, r.status(), "g" + i + " holds acknowledged " + id + ": " + r);
                }
            }
        }
    }
}
