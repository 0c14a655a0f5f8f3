package dev.offload.gateway.security;

import dev.offload.gateway.api.grpc.IndexService;
import dev.offload.gateway.api.grpc.StatsRequest;
import dev.offload.gateway.retrieval.SharedIndex;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Keys come and go by rewriting the keys file: a new key works and a removed one stops working
 * within the reload interval (100 ms here; the test polls, it does not sleep a fixed time), over
 * REST and gRPC, and a bad line costs only itself.
 */
@QuarkusTest
@TestProfile(TightLimitsProfile.class)
class KeyReloadTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String NEW_KEY = "tk-acme-new-device-5e0a1f";
    private static final String OTHER_NEW_KEY = "tk-globex-new-device-c27b90";

    @GrpcClient("index")
    IndexService unauthenticated;
    @Inject
    SharedIndex index;

    private List<String> original;

    @BeforeEach
    void remember() throws Exception {
        index.whenOpen().get(120, TimeUnit.SECONDS);
        original = Files.readAllLines(Path.of("src/test/resources/test-keys"));
    }

    @AfterEach
    void restore() throws Exception {
        if (original == null) {
            return; // the index never opened; nothing was changed
        }
        TightLimitsProfile.writeAtomically(TightLimitsProfile.KEYS_FILE, original);
        TestKeys.as(TestKeys.ADMIN).post("/v1/admin/keys/reload").then().statusCode(200);
    }

    private static int restStatus(String key) {
        return TestKeys.as(key).get("/v1/index/stats").statusCode();
    }

    private Status.Code grpcStatus(String key) {
        try {
            TestKeys.grpcAs(unauthenticated, key).stats(StatsRequest.getDefaultInstance()).await().atMost(WAIT);
            return Status.Code.OK;
        } catch (StatusRuntimeException e) {
            return e.getStatus().getCode();
        }
    }

    private List<String> with(String... extraLines) {
        List<String> lines = new ArrayList<>(original);
        lines.addAll(List.of(extraLines));
        return lines;
    }

    @Test
    void anAddedKeyWorksAndARevokedKeyStopsWorkingWithinTheReloadInterval() throws Exception {
        assertEquals(401, restStatus(NEW_KEY));
        assertEquals(Status.Code.UNAUTHENTICATED, grpcStatus(NEW_KEY));

        TightLimitsProfile.writeAtomically(TightLimitsProfile.KEYS_FILE,
                with(KeyRing.sha256Hex(NEW_KEY) + " acme device"));
        await("the new key to be accepted over REST").atMost(Duration.ofSeconds(10))
                .until(() -> restStatus(NEW_KEY) == 200);
        assertEquals(Status.Code.OK, grpcStatus(NEW_KEY));
        TestKeys.as(NEW_KEY).get("/v1/index/stats").then().body("tenant", equalTo("acme"));

        // Revoke it, and add a malformed line: only that line is lost.
        TightLimitsProfile.writeAtomically(TightLimitsProfile.KEYS_FILE, with("this line is not a key entry"));
        await("the revoked key to be refused over REST").atMost(Duration.ofSeconds(10))
                .until(() -> restStatus(NEW_KEY) == 401);
        assertEquals(Status.Code.UNAUTHENTICATED, grpcStatus(NEW_KEY));
        assertEquals(200, restStatus(TestKeys.ACME));
        assertEquals(Status.Code.OK, grpcStatus(TestKeys.GLOBEX));
    }

    @Test
    void anAdminCanApplyTheFileAtOnce() throws Exception {
        TightLimitsProfile.writeAtomically(TightLimitsProfile.KEYS_FILE,
                with(KeyRing.sha256Hex(OTHER_NEW_KEY) + " globex device", "deadbeef globex device"));
        // Whether or not the watcher got there first, after the reload the key works at once.
        TestKeys.as(TestKeys.ADMIN).post("/v1/admin/keys/reload").then().statusCode(200)
                .body("keys", equalTo(TestKeys.ALL.size() + 1))
                .body("skippedLines", hasItem(equalTo("line " + (original.size() + 2)
                        + ": first field is not 64 hex digits (the SHA-256 of the key, not the key)")));
        assertEquals(200, restStatus(OTHER_NEW_KEY));

        TightLimitsProfile.writeAtomically(TightLimitsProfile.KEYS_FILE, original);
        TestKeys.as(TestKeys.ADMIN).post("/v1/admin/keys/reload").then().statusCode(200)
                .body("keys", equalTo(TestKeys.ALL.size()));
        assertEquals(401, restStatus(OTHER_NEW_KEY));
        assertEquals(Status.Code.UNAUTHENTICATED, grpcStatus(OTHER_NEW_KEY));
    }
}
