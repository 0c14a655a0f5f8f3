package dev.offload.gateway.security;

import dev.offload.gateway.ManagementInterface;
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
import io.restassured.RestAssured;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import jakarta.inject.Inject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Missing, wrong and malformed keys, roles, and foreign ids, over REST and gRPC. */
@QuarkusTest
class AuthenticationApiTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String SEARCH = "{\"query\":\"circuit breakers\",\"k\":3}";
    private static final String CHAT = "{\"messages\":[{\"role\":\"user\",\"content\":\"how do circuit breakers work?\"}]}";

    @GrpcClient("index")
    IndexService unauthenticated;
    @Inject
    SharedIndex index;

    @BeforeEach
    void waitForIndex() throws Exception {
        index.whenOpen().get(120, TimeUnit.SECONDS);
    }

    /** Every protected REST endpoint, called with the given credentials. */
    private static List<Response> everyEndpoint(Supplier<RequestSpecification> as) {
        return List.of(
                as.get().contentType(ContentType.JSON).body(SEARCH).post("/v1/search"),
                as.get().contentType(ContentType.JSON).body("{\"documents\":[{\"id\":\"a\",\"text\":\"t\"}]}").post("/v1/documents"),
                as.get().get("/v1/documents/sensitivity-tiers"),
                as.get().delete("/v1/documents/sensitivity-tiers"),
                as.get().get("/v1/index/stats"),
                as.get().post("/v1/index/snapshot"),
                as.get().post("/v1/admin/keys/reload"),
                as.get().contentType(ContentType.JSON).body(CHAT).post("/v1/chat/completions"),
                as.get().get("/v1/models"),
                as.get().get("/v1/no-such-endpoint"));
    }

    @Test
    void restWithoutAKeyIs401ProblemWithAChallenge() {
        for (Response r : everyEndpoint(() -> RestAssured.given())) {
            r.then().statusCode(401).contentType("application/problem+json")
                    .header("WWW-Authenticate", "Bearer realm=\"offload-gateway\"")
                    .body("status", equalTo(401)).body("title", equalTo("Unauthorized"));
        }
        // The sample document was not deleted by the refused DELETE.
        TestKeys.given().get("/v1/documents/sensitivity-tiers").then().statusCode(200);
    }

    @Test
    void restWithAWrongOrMalformedKeyIs401InvalidToken() {
        for (String header : new String[]{"Bearer not-a-key", "Bearer " + TestKeys.ACME + "x",
                "Basic " + TestKeys.ACME, TestKeys.ACME, "Bearer"}) {
            for (Response r : everyEndpoint(() -> RestAssured.given().header("Authorization", header))) {
                r.then().statusCode(401).contentType("application/problem+json")
                        .header("WWW-Authenticate", containsString("error=\"invalid_token\""))
                        .body("detail", not(containsString(TestKeys.ACME)));
            }
        }
    }

    @Test
    void healthAndMetricsStayOpen() {
        RestAssured.given().get("/v1/index/stats").then().statusCode(401);
        ManagementInterface.awaitReady();
        ManagementInterface.given().get("/q/health/ready").then().statusCode(200);
        ManagementInterface.given().get("/q/metrics").then().statusCode(200)
                .body(containsString("gateway_auth_failures_total{reason=\"missing\",transport=\"http\"}"))
                .body(containsString("gateway_auth_keys"));
    }

    @Test
    void grpcWithoutOrWithAWrongKeyIsUnauthenticated() {
        for (IndexService client : List.of(unauthenticated, TestKeys.grpcAs(unauthenticated, "not-a-key"),
                TestKeys.grpcAs(unauthenticated, TestKeys.ADMIN + "0"))) {
            List<Uni<?>> calls = List.of(
                    client.search(SearchRequest.newBuilder().setQuery("circuit breakers").setK(3).build()),
                    client.ingest(Multi.createFrom().item(Document.newBuilder().setId("g").setText("t").build())),
                    client.getDocument(GetDocumentRequest.newBuilder().setId("sensitivity-tiers").build()),
                    client.deleteDocument(DeleteDocumentRequest.newBuilder().setId("sensitivity-tiers").build()),
                    client.stats(StatsRequest.newBuilder().build()));
            for (Uni<?> call : calls) {
                var e = assertThrows(StatusRuntimeException.class, () -> call.await().atMost(WAIT));
                assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode());
                assertFalse(String.valueOf(e.getStatus().getDescription()).contains(TestKeys.ADMIN));
            }
        }
        IndexService device = TestKeys.grpcAs(unauthenticated, TestKeys.DEFAULT_DEVICE);
        assertEquals("sensitivity-tiers", device.getDocument(GetDocumentRequest.newBuilder().setId("sensitivity-tiers")
                .build()).await().atMost(WAIT).getId(), "the refused delete deleted nothing");
    }

    @Test
    void adminOnlyOperationsAre403ForDevicesOverRestAndPermissionDeniedOverGrpc() {
        for (String device : new String[]{TestKeys.DEFAULT_DEVICE, TestKeys.ACME}) {
            TestKeys.as(device).post("/v1/index/snapshot").then().statusCode(403)
                    .contentType("application/problem+json").body("title", equalTo("Forbidden"));
            TestKeys.as(device).get("/v1/index/stats?all=true").then().statusCode(403);
            TestKeys.as(device).post("/v1/admin/keys/reload").then().statusCode(403);
            var e = assertThrows(StatusRuntimeException.class, () -> TestKeys.grpcAs(unauthenticated, device)
                    .stats(StatsRequest.newBuilder().setAll(true).build()).await().atMost(WAIT));
            assertEquals(Status.Code.PERMISSION_DENIED, e.getStatus().getCode());
        }
        TestKeys.as(TestKeys.ADMIN).get("/v1/index/stats?all=true").then().statusCode(200)
                .body("tenant", nullValue()).body("bytesOnDisk", greaterThan(0));
        TestKeys.as(TestKeys.ADMIN).post("/v1/admin/keys/reload").then().statusCode(200)
                .body("keys", equalTo(TestKeys.ALL.size())).body("tenants", equalTo((int) TestKeys.ALL.stream().map(TestKeys.Key::tenant).distinct().count()));
        var all = TestKeys.grpcAs(unauthenticated, TestKeys.ADMIN).stats(StatsRequest.newBuilder().setAll(true).build())
                .await().atMost(WAIT);
        assertTrue(all.hasBytesOnDisk());
        assertEquals("", all.getTenant());
        ManagementInterface.given().get("/q/metrics").then().body(containsString("reason=\"forbidden\""));
    }

    @Test
    void devicesSeeTheirOwnTenantsCountsAndNoIndexWideFigures() {
        TestKeys.as(TestKeys.INITECH).contentType(ContentType.JSON)
                .body("{\"documents\":[{\"id\":\"stats-1\",\"text\":\"Initech ships staplers.\"}]}")
                .post("/v1/documents").then().statusCode(200);
        TestKeys.as(TestKeys.INITECH).get("/v1/index/stats").then().statusCode(200)
                .body("tenant", equalTo("initech")).body("documents", equalTo(1))
                .body("bytesOnDisk", nullValue()).body("lastSequence", nullValue()).body("deleted", nullValue());
        var s = TestKeys.grpcAs(unauthenticated, TestKeys.INITECH).stats(StatsRequest.getDefaultInstance()).await().atMost(WAIT);
        assertEquals("initech", s.getTenant());
        assertEquals(1, s.getDocuments());
        assertFalse(s.hasLastSequence());
        assertFalse(s.hasBytesOnDisk());
        TestKeys.given().get("/v1/index/stats").then().statusCode(200)
                .body("tenant", equalTo("default")).body("documents", greaterThan(1));
    }

    @Test
    void aForeignIdAnswersExactlyLikeAMissingOne() {
        String id = "foreign-" + System.nanoTime();
        TestKeys.as(TestKeys.ACME).contentType(ContentType.JSON)
                .body("{\"documents\":[{\"id\":\"" + id + "\",\"title\":\"Acme secret\",\"text\":\"Acme plans a quokka launch.\"}]}")
                .post("/v1/documents").then().statusCode(200);

        Response foreignGet = TestKeys.as(TestKeys.GLOBEX).get("/v1/documents/" + id);
        Response foreignDelete = TestKeys.as(TestKeys.GLOBEX).delete("/v1/documents/" + id);
        var foreignGrpc = assertThrows(StatusRuntimeException.class, () -> TestKeys.grpcAs(unauthenticated, TestKeys.GLOBEX)
                .getDocument(GetDocumentRequest.newBuilder().setId(id).build()).await().atMost(WAIT));
        var foreignGrpcDelete = assertThrows(StatusRuntimeException.class, () -> TestKeys.grpcAs(unauthenticated, TestKeys.GLOBEX)
                .deleteDocument(DeleteDocumentRequest.newBuilder().setId(id).build()).await().atMost(WAIT));
        TestKeys.as(TestKeys.GLOBEX).contentType(ContentType.JSON).body("{\"query\":\"quokka launch\",\"k\":10,\"mode\":\"sparse\"}")
                .post("/v1/search").then().statusCode(200).body("hits.documentId", not(hasItem(id)));
        // The owner still has it: the foreign delete changed nothing.
        TestKeys.as(TestKeys.ACME).get("/v1/documents/" + id).then().statusCode(200).body("text", containsString("quokka"));

        TestKeys.as(TestKeys.ACME).delete("/v1/documents/" + id).then().statusCode(204);
        Response missingGet = TestKeys.as(TestKeys.GLOBEX).get("/v1/documents/" + id);
        Response missingDelete = TestKeys.as(TestKeys.GLOBEX).delete("/v1/documents/" + id);
        var missingGrpc = assertThrows(StatusRuntimeException.class, () -> TestKeys.grpcAs(unauthenticated, TestKeys.GLOBEX)
                .getDocument(GetDocumentRequest.newBuilder().setId(id).build()).await().atMost(WAIT));

        assertEquals(404, foreignGet.statusCode());
        assertEquals(404, foreignDelete.statusCode());
        assertEquals(missingGet.statusCode(), foreignGet.statusCode());
        assertEquals(missingGet.contentType(), foreignGet.contentType());
        assertEquals(missingGet.body().asString(), foreignGet.body().asString());
        assertEquals(missingDelete.body().asString(), foreignDelete.body().asString());
        assertEquals(Status.Code.NOT_FOUND, foreignGrpc.getStatus().getCode());
        assertEquals(Status.Code.NOT_FOUND, foreignGrpcDelete.getStatus().getCode());
        assertEquals(missingGrpc.getStatus().getCode(), foreignGrpc.getStatus().getCode());
        assertEquals(missingGrpc.getStatus().getDescription(), foreignGrpc.getStatus().getDescription());
    }

    @Test
    void requestLimitsOverRestAndGrpc() {
        String longQuery = "word ".repeat(1000); // 5,000 characters, over gateway.search.max-query-chars
        TestKeys.given().contentType(ContentType.JSON).body("{\"query\":\"" + longQuery + "\"}").post("/v1/search")
                .then().statusCode(400).contentType("application/problem+json").body("errors[0].field", equalTo("query"));
        TestKeys.given().contentType(ContentType.JSON).body("{\"query\":\"x\",\"k\":101}").post("/v1/search")
                .then().statusCode(400).body("errors[0].field", equalTo("k"));
        IndexService device = TestKeys.grpcAs(unauthenticated, TestKeys.DEFAULT_DEVICE);
        var tooLong = assertThrows(StatusRuntimeException.class, () -> device.search(SearchRequest.newBuilder()
                .setQuery(longQuery).setMode(SearchMode.SEARCH_MODE_SPARSE).build()).await().atMost(WAIT));
        assertEquals(Status.Code.INVALID_ARGUMENT, tooLong.getStatus().getCode());
        assertTrue(tooLong.getStatus().getDescription().contains("query"));
        var tooManyK = assertThrows(StatusRuntimeException.class, () -> device.search(SearchRequest.newBuilder()
                .setQuery("x").setK(101).build()).await().atMost(WAIT));
        assertEquals(Status.Code.INVALID_ARGUMENT, tooManyK.getStatus().getCode());
    }

    @Test
    void chatHistoryAndSizeLimitsAre400() {
        StringBuilder turns = new StringBuilder("{\"messages\":[");
        for (int i = 0; i < 65; i++) { // gateway.limits.max-chat-messages is 64
            turns.append(i == 0 ? "" : ",").append("{\"role\":\"").append(i % 2 == 0 ? "user" : "assistant")
                    .append("\",\"content\":\"turn ").append(i).append("\"}");
        }
        TestKeys.given().contentType(ContentType.JSON).body(turns.append("]}").toString()).post("/v1/chat/completions")
                .then().statusCode(400).contentType("application/problem+json")
                .body("error.code", equalTo("too_many_messages")).body("error.param", equalTo("messages"));
        String big = "x".repeat(20_000);
        TestKeys.given().contentType(ContentType.JSON)
                .body("{\"messages\":[{\"role\":\"user\",\"content\":\"" + big + "\"},{\"role\":\"assistant\",\"content\":\"ok\"},"
                        + "{\"role\":\"user\",\"content\":\"" + big + "\"}]}")
                .post("/v1/chat/completions")
                .then().statusCode(400).body("error.code", equalTo("context_too_long"))
                .body("error.param", equalTo("messages[2].content"));
        // Within the limits the same shape is answered.
        TestKeys.given().contentType(ContentType.JSON).body(CHAT).post("/v1/chat/completions")
                .then().statusCode(200).body("choices[0].message.content", notNullValue());
    }
}
