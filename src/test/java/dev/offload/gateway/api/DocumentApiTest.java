package dev.offload.gateway.api;

import dev.offload.gateway.ManagementInterface;
import dev.offload.gateway.retrieval.SharedIndex;
import dev.offload.gateway.security.TestKeys;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import jakarta.inject.Inject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static dev.offload.gateway.security.TestKeys.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.notNullValue;

@QuarkusTest
class DocumentApiTest {
    @Inject
    SharedIndex index;

    @BeforeEach
    void waitForIndex() throws Exception {
        index.whenOpen().get(120, TimeUnit.SECONDS);
    }

    private static String doc(String id, String text, String metaJson) {
        return "{\"id\":\"" + id + "\",\"title\":\"" + id + " title\",\"text\":\"" + text + "\",\"metadata\":" + metaJson + "}";
    }

    @Test
    void sampleCorpusAnswersTheReadmeQuery() {
        given().contentType(ContentType.JSON)
                .body("{\"query\":\"what happens to restricted data?\",\"k\":3}")
                .when().post("/v1/search")
                .then().statusCode(200)
                .body("hits", hasSize(3))
                .body("hits.documentId", hasItem("sensitivity-tiers"))
                .body("timings.totalMs", notNullValue());
    }

    @Test
    void ingestSearchUpsertDelete() {
        given().contentType(ContentType.JSON)
                .body("{\"documents\":[" + doc("e2e-1", "The orbital refuelling depot stores cryogenic propellant. "
                        + "Boil-off is the main engineering challenge.", "{\"site\":\"moon\"}") + ","
                        + doc("e2e-2", "Tomato plants need staking and regular watering.", "{\"site\":\"garden\"}") + "]}")
                .when().post("/v1/documents")
                .then().statusCode(200).body("documents", equalTo(2)).body("chunks", greaterThan(1));

        for (String mode : new String[]{"hybrid", "dense", "sparse"}) {
            given().contentType(ContentType.JSON)
                    .body("{\"query\":\"cryogenic propellant boil-off\",\"k\":1,\"mode\":\"" + mode + "\"}")
                    .when().post("/v1/search")
                    .then().statusCode(200).body("hits[0].documentId", equalTo("e2e-1"))
                    .body("hits[0].metadata.site", equalTo("moon"));
        }
        // Filters restrict inside the search: only garden documents, even for a space query.
        given().contentType(ContentType.JSON)
                .body("{\"query\":\"cryogenic propellant\",\"k\":5,\"filter\":{\"site\":\"garden\"},\"mode\":\"dense\"}")
                .when().post("/v1/search")
                .then().statusCode(200).body("hits.documentId", everyItem(equalTo("e2e-2"))).body("hits", hasSize(1));

        given().when().get("/v1/documents/e2e-1")
                .then().statusCode(200).body("id", equalTo("e2e-1")).body("metadata.site", equalTo("moon"))
                .body("text", containsString("cryogenic"));

        // Upsert: the new text replaces every old chunk.
        given().contentType(ContentType.JSON)
                .body("{\"documents\":[" + doc("e2e-1", "Sourdough starter needs flour and water daily.", "{\"site\":\"kitchen\"}") + "]}")
                .when().post("/v1/documents")
                .then().statusCode(200).body("replaced", equalTo(1));
        given().contentType(ContentType.JSON)
                .body("{\"query\":\"cryogenic propellant boil-off\",\"k\":10,\"mode\":\"sparse\"}")
                .when().post("/v1/search")
                .then().statusCode(200).body("hits.documentId", not(hasItem("e2e-1")));
        given().contentType(ContentType.JSON)
                .body("{\"query\":\"sourdough starter\",\"k\":1}")
                .when().post("/v1/search")
                .then().statusCode(200).body("hits[0].documentId", equalTo("e2e-1"))
                .body("hits[0].metadata.site", equalTo("kitchen"));

        given().when().delete("/v1/documents/e2e-1").then().statusCode(204);
        given().when().get("/v1/documents/e2e-1").then().statusCode(404).contentType("application/problem+json");
        given().when().delete("/v1/documents/e2e-1").then().statusCode(404);
        given().contentType(ContentType.JSON)
                .body("{\"query\":\"sourdough starter flour\",\"k\":10,\"filter\":{\"site\":\"kitchen\"}}")
                .when().post("/v1/search")
                .then().statusCode(200).body("hits", empty());
    }

    @Test
    void badDocumentsAreRejectedWholeWithFieldErrors() {
        given().contentType(ContentType.JSON)
                .body("{\"documents\":[" + doc("ok-1", "Fine text.", "{}") + ",{\"id\":\"\",\"text\":\"x\"},{\"id\":\"b\",\"text\":\" \"}]}")
                .when().post("/v1/documents")
                .then().statusCode(400).contentType("application/problem+json")
                .body("errors.field", hasItem("documents[1].id"))
                .body("errors.field", hasItem("documents[2].text"));
        // The valid document of the rejected batch was not written: batches are all-or-nothing.
        given().when().get("/v1/documents/ok-1").then().statusCode(404);
    }

    @Test
    void sizeLimitsGive413() {
        String big = "word ".repeat(50_000);
        given().contentType(ContentType.JSON)
                .body("{\"documents\":[" + doc("big", big, "{}") + "]}")
                .when().post("/v1/documents")
                .then().statusCode(413).contentType("application/problem+json")
                .body("errors[0].field", equalTo("documents[0].text"));
        StringBuilder many = new StringBuilder("{\"documents\":[");
        for (int i = 0; i < 257; i++) {
            many.append(i == 0 ? "" : ",").append(doc("m" + i, "t", "{}"));
        }
        given().contentType(ContentType.JSON).body(many.append("]}").toString())
                .when().post("/v1/documents")
                .then().statusCode(413).body("errors[0].field", equalTo("documents"));
    }

    @Test
    void malformedJsonAndWrongShapesAreProblems() {
        given().contentType(ContentType.JSON).body("{\"documents\":[{\"id\":")
                .when().post("/v1/documents")
                .then().statusCode(400).contentType("application/problem+json").body("detail", containsString("malformed JSON"));
        given().contentType(ContentType.JSON).body("{\"documents\":{\"id\":\"a\"}}")
                .when().post("/v1/documents")
                .then().statusCode(400).contentType("application/problem+json").body("errors[0].field", equalTo("documents"));
        given().contentType(ContentType.JSON).body("{\"query\":\"x\",\"k\":\"many\"}")
                .when().post("/v1/search")
                .then().statusCode(400).contentType("application/problem+json").body("errors[0].field", equalTo("k"));
    }

    @Test
    void badSearchesAreProblems() {
        given().contentType(ContentType.JSON).body("{\"query\":\"x\",\"k\":0}")
                .when().post("/v1/search").then().statusCode(400).body("errors[0].field", equalTo("k"));
        given().contentType(ContentType.JSON).body("{\"query\":\"x\",\"k\":101}")
                .when().post("/v1/search").then().statusCode(400).body("errors[0].field", equalTo("k"));
        given().contentType(ContentType.JSON).body("{\"query\":\"\"}")
                .when().post("/v1/search").then().statusCode(400).body("errors[0].field", equalTo("query"));
        given().contentType(ContentType.JSON).body("{\"query\":\"x\",\"mode\":\"fuzzy\"}")
                .when().post("/v1/search").then().statusCode(400).body("errors[0].field", equalTo("mode"));
        // Query syntax is never interpreted: Lucene operators are plain text.
        given().contentType(ContentType.JSON).body("{\"query\":\"title:(a OR* \\\"b) ~[ \\\\\",\"mode\":\"sparse\"}")
                .when().post("/v1/search").then().statusCode(200);
    }

    @Test
    void statsSnapshotHealthAndMetrics() {
        TestKeys.as(TestKeys.ADMIN).when().get("/v1/index/stats").then().statusCode(200)
                .body("documents", greaterThan(0)).body("vectors", greaterThan(0)).body("bytesOnDisk", greaterThan(0));
        TestKeys.as(TestKeys.ADMIN).when().post("/v1/index/snapshot").then().statusCode(200)
                .body("path", containsString("snapshots/")).body("files", greaterThan(0));
        TestKeys.as(TestKeys.ADMIN).when().get("/v1/index/stats").then().statusCode(200).body("lastCommit", notNullValue());
        ManagementInterface.awaitReady();
        ManagementInterface.given().when().get("/q/health/ready").then().statusCode(200).body("checks.name", hasItem("index"));
        ManagementInterface.given().when().get("/q/health/live").then().statusCode(200);
        ManagementInterface.given().when().get("/q/metrics").then().statusCode(200)
                .body(containsString("gateway_index_documents"))
                .body(containsString("gateway_embedding_texts_total"));
    }
}
