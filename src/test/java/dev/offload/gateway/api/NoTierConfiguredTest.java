package dev.offload.gateway.api;

import dev.offload.gateway.generation.ExtractiveAnswerer;
import dev.offload.gateway.retrieval.SharedIndex;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static dev.offload.gateway.security.TestKeys.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;

/** The embedded default has no backend tier: every answer is extractive and says so. */
@QuarkusTest
class NoTierConfiguredTest {
    @Inject
    SharedIndex index;

    @Test
    void chatCompletionsAnswerExtractivelyFromTheIndex() throws Exception {
        index.whenOpen().get(120, TimeUnit.SECONDS);
        given().when().get("/v1/models").then().statusCode(200).body("data.id", equalTo(java.util.List.of("auto")));
        given().contentType(ContentType.JSON)
                .body("{\"model\":\"auto\",\"messages\":[{\"role\":\"user\",\"content\":\"how do circuit breakers work?\"}]}")
                .when().post("/v1/chat/completions")
                .then().statusCode(200)
                .header("X-Offload-Served-By", "extractive")
                .body("offload.servedBy", equalTo("extractive"))
                .body("offload.fallbackReason", equalTo("no_tier_configured"))
                .body("choices[0].message.content", startsWith(ExtractiveAnswerer.PREFIX));
        given().contentType(ContentType.JSON)
                .body("{\"model\":\"edge\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}")
                .when().post("/v1/chat/completions")
                .then().statusCode(400).body("error.code", equalTo("model_not_found"));
    }
}
