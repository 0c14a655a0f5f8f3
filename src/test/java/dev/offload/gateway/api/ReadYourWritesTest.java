package dev.offload.gateway.api;

import dev.offload.gateway.retrieval.SharedIndex;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import jakarta.inject.Inject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static dev.offload.gateway.security.TestKeys.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The read-your-writes token in the embedded default (one process): a write's sequence is
 * applied before its answer, so a read with it is served at once; a sequence not yet written
 * waits, then 503 with Retry-After; a malformed token, or one on a call that would not honour it,
 * is a 400 naming the header. The cluster suite (ClusterIT) proves the same across replicas.
 */
@QuarkusTest
class ReadYourWritesTest {
    @Inject
    SharedIndex index;

    @BeforeEach
    void waitForIndex() throws Exception {
        index.whenOpen().get(120, TimeUnit.SECONDS);
    }

    private long ingest(String id, String text) {
        return given().contentType(ContentType.JSON)
                .body("{\"documents\":[{\"id\":\"" + id + "\",\"text\":\"" + text + "\"}]}")
                .when().post("/v1/documents").then().statusCode(200).extract().jsonPath().getLong("sequence");
    }

    @Test
    void aReadWithTheSequenceOfAWriteSeesIt() {
        long seq = ingest("ryw-embedded", "Forklift batteries are swapped at the east dock, marker qzrywemb.");
        given().header(ReadYourWrites.HEADER, seq).contentType(ContentType.JSON)
                .body("{\"query\":\"qzrywemb forklift\",\"k\":1,\"mode\":\"sparse\"}")
                .when().post("/v1/search").then().statusCode(200).body("hits[0].documentId", equalTo("ryw-embedded"));
        given().header(ReadYourWrites.HEADER, seq).when().get("/v1/documents/ryw-embedded").then().statusCode(200)
                .body("version", equalTo((int) seq));
        given().header(ReadYourWrites.HEADER, seq).when().get("/v1/index/stats").then().statusCode(200)
                .body("appliedSequence", greaterThanOrEqualTo((int) seq));
    }

    @Test
    void aSequenceNotYetAppliedWaitsThenAnswers503WithRetryAfter() {
        long ahead = index.appliedSequence() + 1_000_000;
        given().header(ReadYourWrites.HEADER, ahead).contentType(ContentType.JSON)
                .body("{\"query\":\"anything\",\"k\":1}")
                .when().post("/v1/search").then().statusCode(503).contentType("application/problem+json")
                .header("Retry-After", notNullValue()).body("detail", containsString(Long.toString(ahead)));
        given().header(ReadYourWrites.HEADER, ahead).contentType(ContentType.JSON).body("{\"query\":\"anything\"}")
                .when().post("/v1/query").then().statusCode(503).header("Retry-After", notNullValue());
    }

    @Test
    void aWaitIsReleasedByTheApplyOfItsSequence() throws Exception {
        long next = index.appliedSequence() + 1;
        CompletableFuture<Void> applied = index.whenApplied(next);
        org.junit.jupiter.api.Assertions.assertFalse(applied.isDone(), "nothing has written sequence " + next);
        long seq = ingest("ryw-later", "Written while a read waits for it.");
        assertEquals(next, seq);
        applied.get(60, TimeUnit.SECONDS); // completed by the apply, not by a timer
        org.junit.jupiter.api.Assertions.assertTrue(index.whenApplied(seq).isDone(), "an applied sequence needs no wait");
    }

    @Test
    void aSearchWaitingForItsSequenceIsAnsweredOnceTheWriteIsApplied() throws Exception {
        long next = index.appliedSequence() + 1;
        CompletableFuture<io.restassured.response.Response> read = CompletableFuture.supplyAsync(() -> given()
                .header(ReadYourWrites.HEADER, next).contentType(ContentType.JSON)
                .body("{\"query\":\"qzwaiting pallet\",\"k\":1,\"mode\":\"sparse\"}").when().post("/v1/search"));
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(60)).until(() -> index.waitingReads() > 0);
        // The body of the paused POST is still read once the wait ends (within %test min-sequence-wait, 10 s).
        assertEquals(next, ingest("ryw-waiting", "A pallet waits at gate three, marker qzwaiting."));
        io.restassured.response.Response r = read.get(60, TimeUnit.SECONDS);
        assertEquals(200, r.statusCode(), r.asString());
        assertEquals("ryw-waiting", r.jsonPath().getString("hits[0].documentId"));
    }

    @Test
    void aMalformedTokenOrOneOnAWriteIsRefusedByName() {
        given().header(ReadYourWrites.HEADER, "soon").when().get("/v1/documents/x").then().statusCode(400)
                .contentType("application/problem+json").body("detail", containsString(ReadYourWrites.HEADER));
        given().header(ReadYourWrites.HEADER, "-1").when().get("/v1/documents/x").then().statusCode(400);
        given().header(ReadYourWrites.HEADER, "1").contentType(ContentType.JSON)
                .body("{\"documents\":[{\"id\":\"x\",\"text\":\"y\"}]}")
                .when().post("/v1/documents").then().statusCode(400).body("detail", containsString("reads only"));
    }
}
