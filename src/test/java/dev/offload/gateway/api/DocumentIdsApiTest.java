package dev.offload.gateway.api;

import dev.offload.gateway.api.grpc.DeleteDocumentRequest;
import dev.offload.gateway.api.grpc.Document;
import dev.offload.gateway.api.grpc.GetDocumentRequest;
import dev.offload.gateway.api.grpc.IndexService;
import dev.offload.gateway.api.grpc.SearchMode;
import dev.offload.gateway.api.grpc.SearchRequest;
import dev.offload.gateway.retrieval.SharedIndex;
import dev.offload.gateway.security.TestKeys;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.specification.RequestSpecification;
import io.smallrye.mutiny.Multi;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import jakarta.inject.Inject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue #20: any id a user has — BEIR ids, file paths, URLs, non-ASCII — goes in and comes back
 * byte for byte over REST (percent-encoded in the path, {@code /} as {@code %2F}) and gRPC.
 * Runs as the {@code acme} tenant and removes what it wrote.
 */
@QuarkusTest
class DocumentIdsApiTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    /** The examples of the issue, and the ones that break naive path or key handling. */
    static final List<String> IDS = List.of(
            "<dbpedia:Oceanic_Airlines>",
            "docs/guide (v2)/l'été.md",
            "https://example.org/a?b=c#d",
            "/leading/and/trailing/",
            "a//b",
            "../up",                         // dots are fine inside an id: its '/' is %2F, so no dot-segment
            "...",
            "50%25 off + more%2F",          // a literal '%', '+' and an already-encoded-looking "%2F"
            "日本語/ファイル 1.txt",
            "notes/🚀 launch.md",           // outside the BMP: a surrogate pair in Java, 4 bytes of UTF-8
            "quote\"back\\slash",
            "ids-x",
            "ids-x#0",                       // holds the chunk separator: its chunk 0 is "ids-x#0#0"
            " padded ");                     // spaces are kept, not trimmed

    @GrpcClient("index")
    IndexService unauthenticated;
    IndexService grpc;

    @Inject
    SharedIndex index;

    @BeforeEach
    void waitForIndex() throws Exception {
        index.whenOpen().get(120, TimeUnit.SECONDS);
        grpc = TestKeys.grpcAs(unauthenticated, TestKeys.ACME);
    }

    /** RFC 3986 percent-encoding of one path segment: every byte but the unreserved ones. */
    static String segment(String id) {
        StringBuilder b = new StringBuilder();
        for (byte x : id.getBytes(StandardCharsets.UTF_8)) {
            int c = x & 0xff;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "-._~".indexOf(c) >= 0) {
                b.append((char) c);
            } else {
                b.append('%').append(String.format("%02X", c));
            }
        }
        return b.toString();
    }

    /** The path is sent exactly as written: REST Assured must not encode it again. */
    private static RequestSpecification raw() {
        return TestKeys.as(TestKeys.ACME).urlEncodingEnabled(false).log().ifValidationFails();
    }

    private static String text(int i) {
        return "Identifier probe number " + i + " mentions the zeppelin hangar quokka" + i + ".";
    }

    @Test
    void everyIdRoundTripsOverRest() {
        JsonArray docs = new JsonArray();
        for (int i = 0; i < IDS.size(); i++) {
            docs.add(new JsonObject().put("id", IDS.get(i)).put("title", "t" + i).put("text", text(i)));
        }
        TestKeys.as(TestKeys.ACME).contentType(ContentType.JSON).body(new JsonObject().put("documents", docs).encode())
                .post("/v1/documents").then().statusCode(200).body("documents", equalTo(IDS.size()));

        for (int i = 0; i < IDS.size(); i++) {
            String id = IDS.get(i);
            raw().get("/v1/documents/" + segment(id)).then().statusCode(200)
                    .body("id", equalTo(id)).body("text", equalTo(text(i)));
            // Hits name the exact id; the chunk id is the id, '#', the ordinal.
            TestKeys.as(TestKeys.ACME).contentType(ContentType.JSON)
                    .body(new JsonObject().put("query", "quokka" + i).put("k", 1).put("mode", "sparse").encode())
                    .post("/v1/search").then().statusCode(200)
                    .body("hits[0].documentId", equalTo(id)).body("hits[0].chunkId", equalTo(id + "#0"));
        }

        // "ids-x" and "ids-x#0" are two documents: deleting one leaves the other.
        raw().delete("/v1/documents/" + segment("ids-x")).then().statusCode(204);
        raw().get("/v1/documents/" + segment("ids-x")).then().statusCode(404);
        raw().get("/v1/documents/" + segment("ids-x#0")).then().statusCode(200).body("id", equalTo("ids-x#0"));

        for (String id : IDS) {
            if (!id.equals("ids-x")) {
                raw().delete("/v1/documents/" + segment(id)).then().statusCode(204);
            }
            raw().get("/v1/documents/" + segment(id)).then().statusCode(404).contentType("application/problem+json");
        }
    }

    @Test
    void aSlashMayAlsoArriveUnencoded() {
        String id = "ids-plain/dir/file.md";
        TestKeys.as(TestKeys.ACME).contentType(ContentType.JSON)
                .body(new JsonObject().put("documents", new JsonArray().add(new JsonObject().put("id", id).put("text", "plain slash"))).encode())
                .post("/v1/documents").then().statusCode(200);
        raw().get("/v1/documents/ids-plain/dir/file.md").then().statusCode(200).body("id", equalTo(id));
        raw().get("/v1/documents/ids-plain%2Fdir%2Ffile.md").then().statusCode(200).body("id", equalTo(id));
        raw().delete("/v1/documents/ids-plain%2Fdir/file.md").then().statusCode(204);
        // In a path '+' is a plus, not a space (that is form encoding, for query strings only).
        TestKeys.as(TestKeys.ACME).contentType(ContentType.JSON)
                .body(new JsonObject().put("documents", new JsonArray().add(new JsonObject().put("id", "ids-c++ notes").put("text", "plus"))).encode())
                .post("/v1/documents").then().statusCode(200);
        raw().get("/v1/documents/ids-c++%20notes").then().statusCode(200).body("id", equalTo("ids-c++ notes"));
        raw().delete("/v1/documents/ids-c++%20notes").then().statusCode(204);
    }

    @Test
    void everyIdRoundTripsOverGrpc() {
        Document[] docs = new Document[IDS.size()];
        for (int i = 0; i < IDS.size(); i++) {
            docs[i] = Document.newBuilder().setId("g:" + IDS.get(i)).setText(text(100 + i)).build();
        }
        assertEquals(IDS.size(), grpc.ingest(Multi.createFrom().items(docs)).await().atMost(WAIT).getDocuments());
        for (int i = 0; i < IDS.size(); i++) {
            String id = "g:" + IDS.get(i);
            assertEquals(id, grpc.getDocument(GetDocumentRequest.newBuilder().setId(id).build()).await().atMost(WAIT).getId());
            var hits = grpc.search(SearchRequest.newBuilder().setQuery("quokka" + (100 + i)).setK(1)
                    .setMode(SearchMode.SEARCH_MODE_SPARSE).build()).await().atMost(WAIT);
            assertEquals(id, hits.getHits(0).getDocumentId());
            assertEquals(id + "#0", hits.getHits(0).getChunkId());
            // The same document over REST: one id, whichever door it came in by.
            raw().get("/v1/documents/" + segment(id)).then().statusCode(200).body("id", equalTo(id));
        }
        for (String original : IDS) {
            String id = "g:" + original;
            grpc.deleteDocument(DeleteDocumentRequest.newBuilder().setId(id).build()).await().atMost(WAIT);
            var e = assertThrows(StatusRuntimeException.class,
                    () -> grpc.getDocument(GetDocumentRequest.newBuilder().setId(id).build()).await().atMost(WAIT));
            assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
        }
    }

    @Test
    void idsAreLimitedToControlFreeUtf8Of512Bytes() {
        String max = "é".repeat(256);                      // 512 bytes of UTF-8, 256 chars
        String over = "é".repeat(256) + "x";               // 513 bytes
        String body = new JsonObject().put("documents", new JsonArray()
                .add(new JsonObject().put("id", "ids-ok").put("text", "fine"))
                .add(new JsonObject().put("id", over).put("text", "too long"))
                .add(new JsonObject().put("id", "tab\there").put("text", "control"))
                .add(new JsonObject().put("id", "nul\u0000").put("text", "control"))
                .add(new JsonObject().put("id", "c1\u0085").put("text", "control"))
                .add(new JsonObject().put("id", "   ").put("text", "blank"))
                .add(new JsonObject().put("id", "..").put("text", "dot-segment"))).encode();
        TestKeys.as(TestKeys.ACME).contentType(ContentType.JSON).body(body).post("/v1/documents")
                .then().statusCode(400).contentType("application/problem+json")
                .body("errors.field", hasItem("documents[1].id"))
                .body("errors.find { it.field == 'documents[1].id' }.message", containsString("512 bytes"))
                .body("errors.find { it.field == 'documents[2].id' }.message", containsString("U+0009"))
                .body("errors.find { it.field == 'documents[3].id' }.message", containsString("U+0000"))
                .body("errors.find { it.field == 'documents[4].id' }.message", containsString("U+0085"))
                .body("errors.find { it.field == 'documents[5].id' }.message", containsString("white space"))
                .body("errors.find { it.field == 'documents[6].id' }.message", containsString("'..'"));
        // A lone surrogate (\uD800 in JSON) is not Unicode, so it could never be stored as UTF-8.
        TestKeys.as(TestKeys.ACME).contentType(ContentType.JSON)
                .body("{\"documents\":[{\"id\":\"half\\uD800\",\"text\":\"x\"}]}").post("/v1/documents")
                .then().statusCode(400).body("errors[0].field", equalTo("documents[0].id"))
                .body("errors[0].message", containsString("surrogate"));

        TestKeys.as(TestKeys.ACME).contentType(ContentType.JSON)
                .body(new JsonObject().put("documents", new JsonArray().add(new JsonObject().put("id", max).put("text", "max"))).encode())
                .post("/v1/documents").then().statusCode(200);
        raw().get("/v1/documents/" + segment(max)).then().statusCode(200).body("id", equalTo(max));
        raw().delete("/v1/documents/" + segment(max)).then().statusCode(204);

        var e = assertThrows(StatusRuntimeException.class, () -> grpc.ingest(Multi.createFrom().items(
                Document.newBuilder().setId("line\nbreak").setText("x").build())).await().atMost(WAIT));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("U+000A"), e.getStatus().getDescription());
    }
}
