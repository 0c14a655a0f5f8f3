package dev.offload.gateway.security;

import dev.offload.gateway.api.grpc.DeleteDocumentRequest;
import dev.offload.gateway.api.grpc.Document;
import dev.offload.gateway.api.grpc.GetDocumentRequest;
import dev.offload.gateway.api.grpc.IndexService;
import dev.offload.gateway.api.grpc.SearchMode;
import dev.offload.gateway.api.grpc.SearchRequest;
import dev.offload.gateway.api.grpc.StatsRequest;
import dev.offload.gateway.retrieval.SharedIndex;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import io.smallrye.mutiny.Multi;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Seeded randomized isolation test: three tenants, two transports, and a model of what each
 * tenant should see. Every operation's answer is checked against the caller's own model, and
 * every returned text is checked for any other tenant's marker words: one cross-tenant leak on
 * any path (ingest/upsert count of replaced documents, get, delete, search in every mode and
 * with filters, stats, the extractive chat answer) fails the test. Document ids are drawn from
 * one shared pool, so tenants constantly hold documents with the same ids.
 *
 * <p>Rerun a failure with {@code -Disolation.seed=<seed>} (the seed is printed on every run).
 */
@Tag("slow") // 1,000 seeded operations over REST and gRPC: minutes on 2 cores
@QuarkusTest
class TenantIsolationTest {
    private static final int OPERATIONS = 1000;
    private static final int ID_POOL = 12;
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String[] FILLER = {"turbine", "battery", "antenna", "sensor", "gateway", "latency",
            "camera", "conveyor", "robot", "forklift", "pallet", "valve", "pressure", "thermal", "signal"};

    @GrpcClient("index")
    IndexService unauthenticated;
    @GrpcClient("query")
    dev.offload.gateway.api.grpc.QueryService unauthenticatedQuery;
    @Inject
    SharedIndex index;

    /** What one tenant should see: its documents by id, and the word every one of its texts carries. */
    private static final class Tenant {
        final String name;
        final List<String> keys;
        final String marker;
        final Map<String, Doc> docs = new TreeMap<>();
        final Map<String, IndexService> grpc = new HashMap<>();
        final Map<String, dev.offload.gateway.api.grpc.QueryService> queries = new HashMap<>();

        Tenant(String name, List<String> keys, String marker) {
            this.name = name;
            this.keys = keys;
            this.marker = marker;
        }
    }

    private record Doc(String id, String title, String text, String versionMarker, Map<String, String> metadata) {
    }

    private final Map<String, Integer> counts = new TreeMap<>();
    private final Map<String, Long> millis = new TreeMap<>();

    @Test
    void noOperationEverSeesAnotherTenantsData() throws Exception {
        index.whenOpen().get(120, TimeUnit.SECONDS);
        long seed = Long.getLong("isolation.seed", new SecureRandom().nextLong());
        System.out.println("TenantIsolationTest seed=" + seed + " (rerun with -Disolation.seed=" + seed + ")");
        Random random = new Random(seed);
        List<Tenant> tenants = List.of(
                new Tenant("iso-a", List.of(TestKeys.ISO_A1, TestKeys.ISO_A2), word(random, 9)),
                new Tenant("iso-b", List.of(TestKeys.ISO_B1, TestKeys.ISO_B2), word(random, 9)),
                new Tenant("iso-c", List.of(TestKeys.ISO_C), word(random, 9)));
        for (Tenant t : tenants) {
            for (String key : t.keys) {
                t.grpc.put(key, TestKeys.grpcAs(unauthenticated, key));
                t.queries.put(key, TestKeys.grpcAs(unauthenticatedQuery, key));
            }
        }
        int op = 0;
        try {
            for (; op < OPERATIONS; op++) {
                Tenant t = tenants.get(random.nextInt(tenants.size()));
                String key = t.keys.get(random.nextInt(t.keys.size()));
                boolean grpc = random.nextBoolean();
                int dice = random.nextInt(100);
                long t0 = System.nanoTime();
                if (dice < 25) {
                    ingest(random, t, key, grpc);
                } else if (dice < 35) {
                    delete(random, t, key, grpc);
                } else if (dice < 55) {
                    get(random, t, key, grpc);
                } else if (dice < 85) {
                    search(random, tenants, t, key, grpc);
                } else if (dice < 91) {
                    stats(t, key, grpc);
                } else if (dice < 95) {
                    chat(random, tenants, t, key);
                } else {
                    query(random, tenants, t, key, grpc);
                }
                millis.merge(dice < 25 ? "ingest" : dice < 35 ? "delete" : dice < 55 ? "get" : dice < 85 ? "search"
                        : dice < 91 ? "stats" : dice < 95 ? "chat" : "query", (System.nanoTime() - t0) / 1_000_000, Long::sum);
            }
        } catch (AssertionError | RuntimeException e) {
            throw new AssertionError("TenantIsolationTest seed=" + seed + ", operation " + op + ": " + e.getMessage(), e);
        }
        System.out.println("TenantIsolationTest seed=" + seed + ": " + OPERATIONS + " operations " + counts
                + "; milliseconds per kind " + millis);
        for (String kind : List.of("ingest", "delete", "get", "search", "stats", "query")) {
            assertTrue(counts.getOrDefault(kind + "/rest", 0) > 0 && counts.getOrDefault(kind + "/grpc", 0) > 0,
                    "seed " + seed + ": both transports exercised " + kind + ": " + counts);
        }
        assertTrue(counts.getOrDefault("search/own-hit", 0) >= 5, "seed " + seed + ": searches found own documents: " + counts);
    }

    private void count(String what) {
        counts.merge(what, 1, Integer::sum);
    }

    private static String word(Random random, int length) {
        StringBuilder b = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            b.append((char) ('a' + random.nextInt(26)));
        }
        return b.toString();
    }

    private static String id(Random random) {
        return "doc-" + random.nextInt(ID_POOL);
    }

    private void ingest(Random random, Tenant t, String key, boolean grpc) {
        int n = 1 + random.nextInt(3);
        Map<String, Doc> batch = new LinkedHashMap<>();
        while (batch.size() < n) {
            String id = id(random);
            String version = word(random, 10);
            StringBuilder text = new StringBuilder(t.marker + " " + version + ".");
            for (int i = 0; i < 3 + random.nextInt(8); i++) {
                text.append(' ').append(FILLER[random.nextInt(FILLER.length)]);
            }
            Map<String, String> meta = Map.of("shelf", "s" + random.nextInt(3), "owner", t.marker);
            batch.put(id, new Doc(id, t.marker + " " + id, text.append('.').toString(), version, meta));
        }
        int expectedReplaced = (int) batch.keySet().stream().filter(t.docs::containsKey).count();
        int documents;
        int replaced;
        if (grpc) {
            var reply = t.grpc.get(key).ingest(Multi.createFrom().iterable(batch.values().stream()
                    .map(d -> Document.newBuilder().setId(d.id()).setTitle(d.title()).setText(d.text())
                            .putAllMetadata(d.metadata()).build()).toList())).await().atMost(WAIT);
            documents = reply.getDocuments();
            replaced = reply.getReplaced();
        } else {
            List<Map<String, Object>> docs = new ArrayList<>();
            for (Doc d : batch.values()) {
                docs.add(Map.of("id", d.id(), "title", d.title(), "text", d.text(), "metadata", d.metadata()));
            }
            JsonPath r = TestKeys.as(key).contentType(ContentType.JSON).body(Map.of("documents", docs))
                    .post("/v1/documents").then().statusCode(200).extract().jsonPath();
            documents = r.getInt("documents");
            replaced = r.getInt("replaced");
        }
        assertEquals(n, documents, t.name + " ingest");
        assertEquals(expectedReplaced, replaced, t.name + " replaced only its own documents");
        t.docs.putAll(batch);
        count("ingest/" + (grpc ? "grpc" : "rest"));
    }

    private void delete(Random random, Tenant t, String key, boolean grpc) {
        String id = id(random);
        boolean exists = t.docs.containsKey(id);
        if (grpc) {
            try {
                t.grpc.get(key).deleteDocument(DeleteDocumentRequest.newBuilder().setId(id).build()).await().atMost(WAIT);
                assertTrue(exists, t.name + " deleted " + id + " which it does not have");
            } catch (StatusRuntimeException e) {
                assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode(), t.name + " delete " + id);
                assertTrue(!exists, t.name + " could not delete its own " + id);
            }
        } else {
            TestKeys.as(key).delete("/v1/documents/" + id).then().statusCode(exists ? 204 : 404);
        }
        t.docs.remove(id);
        count("delete/" + (grpc ? "grpc" : "rest"));
    }

    private void get(Random random, Tenant t, String key, boolean grpc) {
        String id = id(random);
        Doc expected = t.docs.get(id);
        if (grpc) {
            try {
                var d = t.grpc.get(key).getDocument(GetDocumentRequest.newBuilder().setId(id).build()).await().atMost(WAIT);
                if (expected == null) {
                    fail(t.name + " read " + id + " which it does not have: " + d.getText());
                }
                assertEquals(expected.text(), d.getText(), t.name + " get " + id);
                assertEquals(expected.title(), d.getTitle());
                assertEquals(expected.metadata(), d.getMetadataMap());
            } catch (StatusRuntimeException e) {
                assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
                assertTrue(expected == null, t.name + " could not read its own " + id);
            }
        } else {
            Response r = TestKeys.as(key).get("/v1/documents/" + id);
            if (expected == null) {
                assertEquals(404, r.statusCode(), t.name + " read " + id + " which it does not have: " + r.body().asString());
            } else {
                assertEquals(200, r.statusCode());
                assertEquals(expected.text(), r.jsonPath().getString("text"), t.name + " get " + id);
                assertEquals(expected.metadata(), r.jsonPath().getMap("metadata"));
            }
        }
        count("get/" + (grpc ? "grpc" : "rest"));
    }

    private record Hit(String documentId, String text, Map<String, String> metadata) {
    }

    private void search(Random random, List<Tenant> tenants, Tenant t, String key, boolean grpc) {
        // Half the queries aim at the caller's own documents (they must be found), half at others' (they must not).
        Tenant target = random.nextBoolean() ? t : tenants.get(random.nextInt(tenants.size()));
        List<Doc> targetDocs = new ArrayList<>(target.docs.values());
        String query;
        Doc sought = null;
        int kind = random.nextInt(3);
        if (kind == 0 && !targetDocs.isEmpty()) {
            sought = targetDocs.get(random.nextInt(targetDocs.size()));
            query = sought.versionMarker();
        } else if (kind == 1) {
            query = target.marker + " " + FILLER[random.nextInt(FILLER.length)];
        } else {
            query = FILLER[random.nextInt(FILLER.length)] + " " + FILLER[random.nextInt(FILLER.length)];
        }
        String mode = List.of("hybrid", "dense", "sparse").get(random.nextInt(3));
        int k = 1 + random.nextInt(10);
        Map<String, String> filter = random.nextInt(4) == 0 ? Map.of("shelf", "s" + random.nextInt(3)) : Map.of();
        List<Hit> hits = new ArrayList<>();
        if (grpc) {
            var reply = t.grpc.get(key).search(SearchRequest.newBuilder().setQuery(query).setK(k)
                    .setMode(SearchMode.valueOf("SEARCH_MODE_" + mode.toUpperCase())).putAllFilter(filter).build())
                    .await().atMost(WAIT);
            reply.getHitsList().forEach(h -> hits.add(new Hit(h.getDocumentId(), h.getText(), h.getMetadataMap())));
        } else {
            JsonPath r = TestKeys.as(key).contentType(ContentType.JSON)
                    .body(Map.of("query", query, "k", k, "mode", mode, "filter", filter))
                    .post("/v1/search").then().statusCode(200).extract().jsonPath();
            List<Map<String, Object>> raw = r.getList("hits");
            for (Map<String, Object> h : raw) {
                @SuppressWarnings("unchecked")
                Map<String, String> meta = (Map<String, String>) h.get("metadata");
                hits.add(new Hit((String) h.get("documentId"), (String) h.get("text"), meta));
            }
        }
        assertTrue(hits.size() <= k);
        for (Hit h : hits) {
            Doc own = t.docs.get(h.documentId());
            assertTrue(own != null, t.name + " search '" + query + "' returned " + h.documentId()
                    + " which it does not have: " + h.text());
            assertTrue(own.text().contains(h.text()), t.name + " search returned text that is not its current "
                    + h.documentId() + ": " + h.text());
            assertNoForeignMarker(tenants, t, h.text());
            assertEquals(t.marker, h.metadata().get("owner"));
            filter.forEach((fk, fv) -> assertEquals(fv, h.metadata().get(fk), "filter " + filter));
        }
        Map<String, String> soughtMeta = sought == null ? Map.of() : sought.metadata();
        if (sought != null && target == t && mode.equals("sparse")
                && filter.entrySet().stream().allMatch(e -> e.getValue().equals(soughtMeta.get(e.getKey())))) {
            assertTrue(!hits.isEmpty() && hits.get(0).documentId().equals(sought.id()),
                    t.name + " sparse search for its own unique word found " + hits);
            count("search/own-hit");
        }
        if (target != t) {
            count("search/foreign-query");
        }
        count("search/" + (grpc ? "grpc" : "rest"));
    }

    private static void assertNoForeignMarker(List<Tenant> tenants, Tenant caller, String text) {
        for (Tenant other : tenants) {
            if (other == caller) {
                continue;
            }
            assertTrue(!text.contains(other.marker), caller.name + " saw " + other.name + "'s text: " + text);
            for (Doc d : other.docs.values()) {
                assertTrue(!text.contains(d.versionMarker()), caller.name + " saw " + other.name + "'s " + d.id() + ": " + text);
            }
        }
    }

    private void stats(Tenant t, String key, boolean grpc) {
        long documents;
        if (grpc) {
            var s = t.grpc.get(key).stats(StatsRequest.getDefaultInstance()).await().atMost(WAIT);
            assertEquals(t.name, s.getTenant());
            documents = s.getDocuments();
        } else {
            JsonPath r = TestKeys.as(key).get("/v1/index/stats").then().statusCode(200).extract().jsonPath();
            assertEquals(t.name, r.getString("tenant"));
            documents = r.getLong("documents");
        }
        assertEquals(t.docs.size(), documents, t.name + " stats count only its own documents");
        count("stats/" + (grpc ? "grpc" : "rest"));
    }

    /** The query path that answers from the index (extractively: no tier in the test profile). */
    private void chat(Random random, List<Tenant> tenants, Tenant t, String key) {
        Tenant target = tenants.get(random.nextInt(tenants.size()));
        String question = target.marker + " " + FILLER[random.nextInt(FILLER.length)] + "?";
        String content = TestKeys.as(key).contentType(ContentType.JSON)
                .body(Map.of("messages", List.of(Map.of("role", "user", "content", question))))
                .post("/v1/chat/completions").then().statusCode(200).extract().path("choices[0].message.content");
        // The extractive answer quotes titles and sentences of the retrieved sources; it never echoes the question.
        assertNoForeignMarker(tenants, t, content);
        if (!t.docs.isEmpty()) {
            assertTrue(content.contains(t.marker), t.name + " was answered from its own documents: " + content);
        }
        count("chat/rest");
    }

    /** The device's query path (REST and gRPC): sources and answer come from the caller's documents only. */
    private void query(Random random, List<Tenant> tenants, Tenant t, String key, boolean grpc) {
        Tenant target = tenants.get(random.nextInt(tenants.size()));
        String question = target.marker + " " + FILLER[random.nextInt(FILLER.length)];
        List<String> sourceIds = new java.util.ArrayList<>();
        StringBuilder text = new StringBuilder();
        if (grpc) {
            var events = t.queries.get(key).query(dev.offload.gateway.api.grpc.QueryRequest.newBuilder().setQuery(question)
                    .setK(5).build()).collect().asList().await().atMost(WAIT);
            for (var e : events) {
                if (e.hasSources()) {
                    e.getSources().getSourcesList().forEach(x -> {
                        sourceIds.add(x.getDocumentId());
                        text.append(x.getSnippet()).append(' ').append(x.getTitle()).append(' ');
                    });
                } else if (e.hasToken()) {
                    text.append(e.getToken().getText());
                }
            }
            assertTrue(events.get(events.size() - 1).hasFinal(), "the query ended with an answer: " + events);
        } else {
            JsonPath r = TestKeys.as(key).contentType(ContentType.JSON).body(Map.of("query", question, "k", 5))
                    .post("/v1/query").then().statusCode(200).extract().jsonPath();
            sourceIds.addAll(r.getList("sources.documentId", String.class));
            text.append(r.getString("answer")).append(' ').append(r.getList("sources.snippet")).append(' ')
                    .append(r.getList("sources.title"));
        }
        for (String id : sourceIds) {
            assertTrue(t.docs.containsKey(id), t.name + " got a source it does not own: " + id);
        }
        assertNoForeignMarker(tenants, t, text.toString());
        count("query/" + (grpc ? "grpc" : "rest"));
    }
}
