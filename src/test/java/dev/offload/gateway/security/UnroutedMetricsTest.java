package dev.offload.gateway.security;

import dev.offload.gateway.ManagementInterface;
import dev.offload.gateway.retrieval.SharedIndex;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.BeforeEach;
import io.restassured.RestAssured;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue #21: a request refused before routing, or routed nowhere, never puts its path into
 * {@code /q/metrics} — neither a document id (a leak) nor a scanner's paths (unbounded labels).
 */
@QuarkusTest
class UnroutedMetricsTest {
    @Inject
    SharedIndex index;

    @BeforeEach
    void waitForIndex() throws Exception {
        index.whenOpen().get(120, TimeUnit.SECONDS);
    }

    private static String metrics() {
        return ManagementInterface.given().get("/q/metrics").then().statusCode(200).extract().asString();
    }

    private static List<String> requestLines(String metrics) {
        return metrics.lines().filter(l -> l.startsWith("http_server_requests_seconds_count")).toList();
    }

    @Test
    void refusedAndUnknownPathsAreOneConstantUri() {
        RestAssured.given().get("/v1/documents/secret-doc-1").then().statusCode(401);
        RestAssured.given().header("Authorization", "Bearer not-a-key").delete("/v1/documents/secret-doc-2").then().statusCode(401);
        TestKeys.given().get("/v1/documents/secret-doc-3").then().statusCode(404);
        TestKeys.given().urlEncodingEnabled(false).get("/v1/documents/secret%2Fdoc-4").then().statusCode(404);
        TestKeys.given().get("/v1/secret-path-5").then().statusCode(404);
        TestKeys.given().put("/v1/documents/secret-doc-6").then().statusCode(405);
        RestAssured.given().get("/secret-path-7").then().statusCode(401);

        // Vert.x records a request's meters as it ends the response, before it reads this next request.
        String m = metrics();
        assertTrue(requestLines(m).stream().anyMatch(l -> l.contains("status=\"401\"") && l.contains("uri=\"/UNKNOWN\"")),
                () -> String.join("\n", requestLines(m)));
        assertFalse(m.contains("secret"), () -> "a path reached /q/metrics:\n"
                + String.join("\n", m.lines().filter(l -> l.contains("secret")).toList()));
        // The document routes are one label: the 404 of a missing document is still told apart.
        for (String status : List.of("404", "405")) {
            assertTrue(requestLines(m).stream().anyMatch(l -> l.contains("status=\"" + status + "\"")
                    && l.contains("uri=\"/v1/documents/{id}\"")), () -> String.join("\n", requestLines(m)));
        }
    }
}
