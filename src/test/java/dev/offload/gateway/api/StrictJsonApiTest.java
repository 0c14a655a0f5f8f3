package dev.offload.gateway.api;

import dev.offload.gateway.retrieval.SharedIndex;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import jakarta.inject.Inject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static dev.offload.gateway.security.TestKeys.given;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;

/**
 * Issue #21: a body means one thing or is refused, in plain words. Duplicate keys and unknown
 * fields are 400 problem+json naming the field; wrong types say what the field must be, never
 * a Java class; 415 and 406 say what to send.
 */
@QuarkusTest
class StrictJsonApiTest {
    @Inject
    SharedIndex index;

    @BeforeEach
    void waitForIndex() throws Exception {
        index.whenOpen().get(120, TimeUnit.SECONDS);
    }

    private static io.restassured.response.ValidatableResponse post(String path, String body) {
        return given().contentType(ContentType.JSON).body(body).when().post(path).then();
    }

    /** Refused as the client's fault, in problem+json, with no Java in the words. */
    private static io.restassured.response.ValidatableResponse refused(String path, String body) {
        return post(path, body).statusCode(400).contentType("application/problem+json")
                .body("detail", allOf(not(containsString("java.")), not(containsString("`"))));
    }

    @Test
    void duplicateKeysAre400OnEveryEndpoint() {
        refused("/v1/search", "{\"query\":\"a\",\"k\":3,\"query\":\"b\"}")
                .body("errors[0].field", equalTo("query")).body("detail", containsString("duplicate field 'query'"));
        refused("/v1/documents", "{\"documents\":[{\"id\":\"dup-1\",\"text\":\"x\",\"id\":\"dup-2\"}]}")
                .body("errors[0].field", equalTo("documents[0].id"));
        refused("/v1/offload/decide", "{\"query\":{\"text\":\"a\",\"text\":\"b\"}}")
                .body("errors[0].field", equalTo("query.text"));
        refused("/v1/offload/decide", "{\"query\":{\"text\":\"a\"},\"device\":{\"network\":{\"type\":\"wifi\",\"type\":\"lte\"}}}")
                .body("errors[0].field", equalTo("device.network.type"));
        refused("/v1/query", "{\"query\":\"a\",\"k\":3,\"query\":\"b\"}")
                .body("detail", containsString("duplicate field 'query'"));
        refused("/v1/capacity/plan", "{\"fleetSize\":10,\"fleetSize\":20}")
                .body("errors[0].field", equalTo("fleetSize"));
        // Chat answers in its own (OpenAI) error shape; what matters here is that it refuses too.
        post("/v1/chat/completions", "{\"model\":\"auto\",\"model\":\"edge\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
                .statusCode(400);
        // The document of the refused batch was not written.
        given().get("/v1/documents/dup-1").then().statusCode(404);
        given().get("/v1/documents/dup-2").then().statusCode(404);
    }

    @Test
    void unknownFieldsAre400NamingTheField() {
        refused("/v1/search", "{\"query\":\"a\",\"topK\":3}")
                .body("errors[0].field", equalTo("topK"))
                .body("errors[0].message", allOf(containsString("unknown field"), containsString("k, mode")))
                .body("detail", containsString("unknown field 'topK'"));
        refused("/v1/documents", "{\"documents\":[{\"id\":\"unk-1\",\"text\":\"x\",\"tags\":[\"t\"]}]}")
                .body("errors[0].field", equalTo("documents[0].tags"));
        refused("/v1/offload/decide", "{\"query\":{\"text\":\"a\"},\"device\":{\"battery\":50}}")
                .body("errors[0].field", equalTo("device.battery"));
        refused("/v1/query", "{\"query\":\"a\",\"topK\":3}").body("errors[0].field", equalTo("topK"));
        refused("/v1/capacity/plan", "{\"fleetSize\":10,\"devices\":20}").body("errors[0].field", equalTo("devices"));
        given().get("/v1/documents/unk-1").then().statusCode(404);
    }

    @Test
    void wrongTypesSayWhatTheFieldMustBe() {
        refused("/v1/search", "{\"query\":\"x\",\"k\":\"many\"}")
                .body("errors[0].field", equalTo("k")).body("detail", equalTo("k must be a whole number"));
        refused("/v1/search", "{\"query\":\"x\",\"filter\":[\"a\"]}")
                .body("errors[0].field", equalTo("filter")).body("detail", equalTo("filter must be an object"));
        refused("/v1/documents", "{\"documents\":\"x\"}").body("detail", equalTo("documents must be an array"));
        refused("/v1/offload/decide", "{\"query\":{\"text\":\"a\"},\"device\":{\"batteryPct\":\"full\"}}")
                .body("errors[0].field", equalTo("device.batteryPct")).body("detail", equalTo("device.batteryPct must be a number"));
        refused("/v1/offload/decide", "{\"query\":{\"text\":\"a\"},\"device\":{\"charging\":\"yes\"}}")
                .body("detail", equalTo("device.charging must be true or false"));
        refused("/v1/query", "{\"query\":\"a\",\"k\":[1]}").body("detail", equalTo("k must be a whole number"));
        refused("/v1/search", "[1,2]").body("detail", equalTo("the body must be an object"));
    }

    @Test
    void unsupportedAndUnacceptableMediaTypesSayWhatToSend() {
        given().contentType("text/plain").body("query=a").when().post("/v1/search")
                .then().statusCode(415).contentType("application/problem+json")
                .body("detail", allOf(containsString("Content-Type: application/json"), containsString("text/plain"),
                        not(containsString("@Consumes"))));
        given().accept("text/html").when().get("/v1/index/stats")
                .then().statusCode(406).contentType("application/problem+json")
                .body("detail", allOf(containsString("Accept: application/json"), containsString("text/html"),
                        not(containsString("@Produces"))));
    }
}
