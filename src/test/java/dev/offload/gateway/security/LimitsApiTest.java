package dev.offload.gateway.security;

import dev.offload.gateway.ManagementInterface;
import dev.offload.gateway.api.grpc.Document;
import dev.offload.gateway.api.grpc.IndexService;
import dev.offload.gateway.api.grpc.StatsRequest;
import dev.offload.gateway.retrieval.SharedIndex;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.RestAssured;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import io.smallrye.mutiny.Multi;
import jakarta.inject.Inject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every abuse limit that needs small numbers to reach: per-device rate, body size, per-tenant
 * concurrent generations; over REST and gRPC. Each test uses keys no other test here uses, since
 * the device buckets do not refill during a run.
 */
@QuarkusTest
@TestProfile(TightLimitsProfile.class)
class LimitsApiTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String CHAT = "{\"messages\":[{\"role\":\"user\",\"content\":\"what is a token bucket?\"}]}";

    @GrpcClient("index")
    IndexService unauthenticated;
    @Inject
    SharedIndex index;
    @Inject
    TenantGenerationLimiter generations;
    @TestHTTPResource("/v1/documents")
    URL documentsUrl;

    @BeforeEach
    void waitForIndex() throws Exception {
        index.whenOpen().get(120, TimeUnit.SECONDS);
    }

    @Test
    void aDeviceOverItsRateGets429WithRetryAfterWhileItsTenantsOtherDeviceDoesNot() {
        for (int i = 0; i < TightLimitsProfile.DEVICE_BURST; i++) {
            TestKeys.as(TestKeys.ACME_2).get("/v1/index/stats").then().statusCode(200);
        }
        Response refused = TestKeys.as(TestKeys.ACME_2).get("/v1/index/stats");
        refused.then().statusCode(429).contentType("application/problem+json").body("status", equalTo(429)).header("X-Offload-Hint", "LOCAL").body("hint.target", equalTo("LOCAL")).body("hint.retryAfterMs", org.hamcrest.Matchers.greaterThan(0));
        long retryAfter = Long.parseLong(refused.header("Retry-After"));
        // Rate 0.001/s: the next token is up to 1000 s away.
        assertTrue(retryAfter >= 1 && retryAfter <= 1000, "Retry-After " + retryAfter);
        // Refused calls take no token and the limit holds for every endpoint.
        TestKeys.as(TestKeys.ACME_2).contentType(ContentType.JSON).body(CHAT).post("/v1/chat/completions")
                .then().statusCode(429).header("Retry-After", String.valueOf(retryAfter));
        TestKeys.as(TestKeys.ACME).get("/v1/index/stats").then().statusCode(200);
        ManagementInterface.given().get("/q/metrics").then()
                .body(containsString("gateway_limits_rejections_total{limit=\"device_rate\",transport=\"http\"}"));
    }

    @Test
    void aDeviceOverItsRateGetsResourceExhaustedWithARetryAfterTrailerOverGrpc() {
        IndexService device = TestKeys.grpcAs(unauthenticated, TestKeys.GLOBEX_2);
        for (int i = 0; i < TightLimitsProfile.DEVICE_BURST; i++) {
            device.stats(StatsRequest.getDefaultInstance()).await().atMost(WAIT);
        }
        var e = assertThrows(StatusRuntimeException.class,
                () -> device.stats(StatsRequest.getDefaultInstance()).await().atMost(WAIT));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
        long retryAfter = Long.parseLong(Status.trailersFromThrowable(e).get(GrpcSecurityInterceptor.RETRY_AFTER));
        assertTrue(retryAfter >= 1 && retryAfter <= 1000, "retry-after " + retryAfter);
        assertEquals(0, TestKeys.grpcAs(unauthenticated, TestKeys.GLOBEX).stats(StatsRequest.getDefaultInstance())
                .await().atMost(WAIT).getDocuments(), "globex's other device is not limited");
    }

    @Test
    void bodiesOverTheLimitAre413BeforeTheyAreRead() throws Exception {
        // Quarkus's error handler logs every request whose answer failed (e.g. a second write on a
        // response Vert.x already finished with its own 413): none may fail here.
        List<java.util.logging.LogRecord> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.logging.Logger errors = java.util.logging.Logger.getLogger("io.quarkus.vertx.http.runtime.QuarkusErrorHandler");
        java.util.logging.Handler capture = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord r) {
                failures.add(r);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        errors.addHandler(capture);
        try {
            overTheLimit();
        } finally {
            errors.removeHandler(capture);
        }
        assertEquals(List.of(), failures.stream().map(java.util.logging.LogRecord::getMessage).toList(),
                "requests whose answer failed");
    }

    private void overTheLimit() throws Exception {
        String text = "x".repeat(TightLimitsProfile.MAX_BODY_BYTES);
        String body = "{\"documents\":[{\"id\":\"big\",\"text\":\"" + text + "\"}]}";
        TestKeys.as(TestKeys.INITECH).contentType(ContentType.JSON).body(body).post("/v1/documents")
                .then().statusCode(413).contentType("application/problem+json")
                .body("detail", containsString("gateway.limits.max-body-size"));
        TestKeys.as(TestKeys.INITECH).contentType(ContentType.JSON)
                .body("{\"messages\":[{\"role\":\"user\",\"content\":\"" + text + "\"}]}").post("/v1/chat/completions")
                .then().statusCode(413).contentType("application/problem+json");
        // Without a Content-Length (chunked), the HTTP layer's limit, which follows the same setting, stops it.
        HttpResponse<String> chunked = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(documentsUrl.toString()))
                .header("Content-Type", "application/json").header("Authorization", TestKeys.bearer(TestKeys.INITECH))
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8))))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(413, chunked.statusCode());
        // Nothing was written.
        TestKeys.as(TestKeys.INITECH).get("/v1/documents/big").then().statusCode(404);
        // Over gRPC a message over the same size is RESOURCE_EXHAUSTED.
        var e = assertThrows(StatusRuntimeException.class, () -> TestKeys.grpcAs(unauthenticated, TestKeys.INITECH)
                .ingest(Multi.createFrom().item(Document.newBuilder().setId("big").setText(text).build()))
                .await().atMost(WAIT));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode(), String.valueOf(e.getStatus()));
    }

    @Test
    void aTenantAtItsGenerationLimitGets429UntilASlotFrees() {
        // The limit is 1: hold initech's only slot as a long generation would.
        TenantGenerationLimiter.Permit held = generations.tryAcquire("initech").orElseThrow();
        try {
            TestKeys.as(TestKeys.INITECH).contentType(ContentType.JSON).body(CHAT).post("/v1/chat/completions")
                    .then().statusCode(429).contentType("application/problem+json")
                    .header("Retry-After", String.valueOf(TightLimitsProfile.GENERATION_RETRY_AFTER_SECONDS))
                    .body("error.code", equalTo("tenant_concurrency_limit"));
            TestKeys.as(TestKeys.GLOBEX).contentType(ContentType.JSON).body(CHAT).post("/v1/chat/completions")
                    .then().statusCode(200);
        } finally {
            held.release();
        }
        // Back-to-back answers: each gives its slot back before the next arrives, streamed or not.
        for (int i = 0; i < 3; i++) {
            TestKeys.as(TestKeys.INITECH).contentType(ContentType.JSON).body(CHAT).post("/v1/chat/completions")
                    .then().statusCode(200);
            TestKeys.as(TestKeys.INITECH).contentType(ContentType.JSON)
                    .body(CHAT.replace("{\"messages\"", "{\"stream\":true,\"messages\""))
                    .post("/v1/chat/completions").then().statusCode(200).body(containsString("[DONE]"));
        }
        assertEquals(0, generations.inFlight("initech"));
        ManagementInterface.given().get("/q/metrics").then()
                .body(containsString("gateway_limits_rejections_total{limit=\"tenant_generations\",transport=\"http\"}"));
    }
}
