package dev.offload.gateway.api;

import dev.offload.gateway.sim.EchoBackend;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;

import static dev.offload.gateway.security.TestKeys.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A backend that finds a request invalid (vLLM's 400 for a prompt past the model's window, a
 * 422 from a schema check) is not a failing backend: the client hears the backend's status and
 * words, the replica's circuit breaker does not count it, and another tier, which may serve a
 * larger window, is tried first.
 */
@QuarkusTest
@QuarkusTestResource(value = BackendRefusalTest.Backends.class, restrictToAnnotatedClass = true)
class BackendRefusalTest {
    static final String TOO_LONG = "{\"object\":\"error\",\"message\":\"This model's maximum context length is 4096 tokens."
            + " However, you requested 9000 tokens.\",\"type\":\"BadRequestError\",\"param\":null,\"code\":400}";

    /** An edge replica and a regional one, both echoing until told to refuse. */
    public static class Backends implements QuarkusTestResourceLifecycleManager {
        static EchoBackend edge;
        static EchoBackend cloud;

        @Override
        public Map<String, String> start() {
            try {
                edge = EchoBackend.start();
                cloud = EchoBackend.start();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return Map.of("gateway.tiers.edge.base-urls", edge.baseUrl(), "gateway.tiers.cloud.base-urls", cloud.baseUrl(),
                    "gateway.tiers.cloud.zone", "regional", "gateway.generation.coalesce", "false");
        }

        @Override
        public void stop() {
            edge.close();
            cloud.close();
        }
    }

    @AfterEach
    void accept() {
        Backends.edge.accept();
        Backends.cloud.accept();
        Backends.edge.clear();
        Backends.cloud.clear();
    }

    private static String chat(String model, boolean stream) {
        return "{\"model\":\"" + model + "\",\"max_tokens\":16,\"stream\":" + stream
                + ",\"messages\":[{\"role\":\"user\",\"content\":\"hello there\"}]}";
    }

    @Test
    void theClientHearsTheBackendsStatusAndWords() {
        Backends.edge.refuse(400, TOO_LONG);
        given().contentType(ContentType.JSON).body(chat("edge", false))
                .post("/v1/chat/completions")
                .then().statusCode(400)
                .body("error.code", equalTo("backend_refused"))
                .body("error.type", equalTo("invalid_request_error"))
                .body("error.message", containsString("maximum context length is 4096 tokens"))
                .body("error.message", containsString("'edge'"));
        // A stream is refused before its first byte, so the client still gets a status, not an error event.
        given().contentType(ContentType.JSON).body(chat("edge", true))
                .post("/v1/chat/completions")
                .then().statusCode(400).body("error.code", equalTo("backend_refused"));
        Backends.edge.refuse(422, "{\"detail\":[{\"loc\":[\"body\",\"response_format\"],\"msg\":\"unsupported\"}]}");
        given().contentType(ContentType.JSON).body(chat("edge", false))
                .post("/v1/chat/completions")
                .then().statusCode(422).body("error.message", containsString("response_format"));
    }

    @Test
    void refusalsDoNotOpenTheReplicasCircuit() {
        Backends.edge.refuse(400, TOO_LONG);
        int refusals = 30; // well past the breaker's window of 8 at a failure ratio of 1
        for (int i = 0; i < refusals; i++) {
            given().contentType(ContentType.JSON).body(chat("edge", false))
                    .post("/v1/chat/completions").then().statusCode(400);
        }
        assertEquals(refusals, Backends.edge.receivedBodies().size(), "every request reached the replica");
        Backends.edge.accept();
        given().contentType(ContentType.JSON).body(chat("edge", false))
                .post("/v1/chat/completions")
                .then().statusCode(200)
                .body("offload.servedBy", equalTo("edge"))
                .body("offload.fallbackReason", nullValue())
                .body("choices[0].message.content", containsString("hello there"));
    }

    @Test
    void anotherTierIsTriedBeforeTheClientIsTold() {
        Backends.edge.refuse(400, TOO_LONG);
        given().contentType(ContentType.JSON).body(chat("auto", false))
                .post("/v1/chat/completions")
                .then().statusCode(200)
                .body("offload.servedBy", equalTo("cloud"))
                .body("offload.fallbackReason", equalTo("edge:backend_refused"));
        assertEquals(1, Backends.edge.receivedBodies().size(), "one edge replica asked, once");
        Backends.cloud.refuse(400, "{\"error\":{\"message\":\"stop sequences are limited to 4\"}}");
        given().contentType(ContentType.JSON).body(chat("auto", false))
                .post("/v1/chat/completions")
                .then().statusCode(400)
                .body("error.message", containsString("'cloud'"))
                .body("error.message", containsString("stop sequences are limited to 4"));
    }

    @Test
    void aQueryWhosePromptTheGatewayWroteFailsAsTheUpstreams() {
        Backends.edge.refuse(400, TOO_LONG);
        Backends.cloud.refuse(400, TOO_LONG);
        given().contentType(ContentType.JSON)
                .body("{\"query\":\"what does the refusal test ask?\",\"k\":2}")
                .post("/v1/query")
                .then().statusCode(502)
                .contentType(containsString("application/problem+json"))
                .body("detail", containsString("maximum context length"));
    }
}
