package dev.offload.gateway.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.offload.gateway.sim.EchoBackend;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.offload.gateway.security.TestKeys.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every Chat Completions parameter is passed to the backend or refused with a 400 naming it:
 * none is dropped. The backend records what it received.
 */
@QuarkusTest
@QuarkusTestResource(value = ChatParametersTest.Backend.class, restrictToAnnotatedClass = true)
class ChatParametersTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String SERVED = "meta-llama/Llama-3.1-8B-Instruct";

    /** One recording edge replica. */
    public static class Backend implements QuarkusTestResourceLifecycleManager {
        static EchoBackend edge;

        @Override
        public Map<String, String> start() {
            try {
                edge = EchoBackend.start();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return Map.of("gateway.tiers.edge.base-urls", edge.baseUrl(), "gateway.generation.coalesce", "false",
                    "gateway.tiers.edge.model", SERVED);
        }

        @Override
        public void stop() {
            edge.close();
        }
    }

    @BeforeEach
    void clear() {
        Backend.edge.clear();
    }

    private static String body(String extra) {
        return "{\"model\":\"auto\",\"max_tokens\":32,\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]"
                + (extra.isEmpty() ? "" : "," + extra) + "}";
    }

    private static JsonNode sent() throws IOException {
        List<String> bodies = Backend.edge.receivedBodies();
        assertEquals(1, bodies.size(), bodies.toString());
        return JSON.readTree(bodies.get(0));
    }

    @Test
    void everyHonouredParameterReachesTheBackendAsSent() throws IOException {
        String schema = "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"answer\",\"strict\":true,"
                + "\"schema\":{\"type\":\"object\",\"properties\":{\"ok\":{\"type\":\"boolean\"}},\"required\":[\"ok\"]}}}";
        given().contentType(ContentType.JSON).body(body("\"top_p\":0.9,\"stop\":[\"END\",\"###\"],\"seed\":7,"
                        + "\"presence_penalty\":0.5,\"frequency_penalty\":-0.5,\"logit_bias\":{\"50256\":-100},\"user\":\"device-42\","
                        + "\"response_format\":" + schema + ",\"n\":2,\"logprobs\":true,\"top_logprobs\":2,\"tools\":null,"
                        + "\"parallel_tool_calls\":true"))
                .post("/v1/chat/completions").then().statusCode(200).body("offload.servedBy", equalTo("edge"));
        JsonNode s = sent();
        assertEquals(0.9, s.path("top_p").asDouble());
        assertEquals(List.of("END", "###"), List.of(s.path("stop").get(0).asText(), s.path("stop").get(1).asText()));
        assertEquals(7, s.path("seed").asInt());
        assertEquals(0.5, s.path("presence_penalty").asDouble());
        assertEquals(-0.5, s.path("frequency_penalty").asDouble());
        assertEquals(-100, s.path("logit_bias").path("50256").asInt());
        assertEquals("device-42", s.path("user").asText());
        assertEquals(JSON.readTree(schema), s.path("response_format"), "the schema as the client sent it");
        assertEquals(32, s.path("max_tokens").asInt());
        assertEquals(2, s.path("n").asInt());
        assertTrue(s.path("logprobs").asBoolean());
        assertEquals(2, s.path("top_logprobs").asInt());
        assertTrue(s.path("parallel_tool_calls").asBoolean());
        assertFalse(s.has("tools"), "tools: null is absent");
    }

    @Test
    void toolsToolChoiceAndToolHistoryReachTheBackendAsSent() throws IOException {
        String tools = "[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"strict\":true,\"parameters\":{\"type\":\"object\"}}}]";
        given().contentType(ContentType.JSON).body("{\"max_tokens\":8,\"tools\":" + tools + ",\"tool_choice\":\"required\","
                        + "\"messages\":[{\"role\":\"user\",\"content\":\"x\"},"
                        + "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"c1\",\"type\":\"function\","
                        + "\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]},{\"role\":\"tool\",\"tool_call_id\":\"c1\",\"content\":\"42\"}]}")
                .post("/v1/chat/completions").then().statusCode(200);
        JsonNode s = sent();
        assertEquals(JSON.readTree(tools), s.path("tools"));
        assertEquals("required", s.path("tool_choice").asText());
        JsonNode m = s.path("messages");
        assertEquals("c1", m.get(m.size() - 2).path("tool_calls").get(0).path("id").asText(), s.toString());
        assertEquals("c1", m.get(m.size() - 1).path("tool_call_id").asText());
        assertEquals("42", m.get(m.size() - 1).path("content").asText());
    }

    @Test
    void whatTheGatewayCannotHonourIsRefusedByName() {
        Map<String, String> refused = Map.of(
                "\"tools\":[{\"type\":\"code_interpreter\"}]", "tools",
                "\"tool_choice\":\"auto\"", "tool_choice",
                "\"audio\":{\"voice\":\"alloy\"}", "audio",
                "\"top_logprobs\":3", "top_logprobs",
                "\"n\":17", "n",
                "\"topK\":5", "topK",
                "\"top_p\":1.5", "top_p",
                "\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]", "stop",
                "\"response_format\":{\"type\":\"yaml\"}", "response_format");
        refused.forEach((field, param) -> given().contentType(ContentType.JSON).body(body(field))
                .post("/v1/chat/completions").then().statusCode(400)
                .contentType(startsWith("application/problem+json"))
                .body("error.param", equalTo(param)));
        given().contentType(ContentType.JSON).body("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"what is\"},"
                        + "{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,AAAA\"}}]}]}")
                .post("/v1/chat/completions").then().statusCode(400).body("error.param", equalTo("messages[0].content"));
        assertTrue(Backend.edge.receivedBodies().isEmpty(), "nothing refused reached the backend");
    }

    @Test
    void textPartsAreSeparateParagraphs() throws IOException {
        given().contentType(ContentType.JSON).body("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"PARTONE\"},"
                + "{\"type\":\"text\",\"text\":\"PARTTWO\"}]}]}").post("/v1/chat/completions").then().statusCode(200);
        JsonNode messages = sent().path("messages");
        assertEquals("PARTONE\nPARTTWO", messages.get(messages.size() - 1).path("content").asText());
    }

    @Test
    void aUsageChunkWithNoChoicesComesOnlyWhenAskedFor() throws IOException {
        for (boolean asked : new boolean[]{false, true}) {
            String sse = given().contentType(ContentType.JSON)
                    .body(body("\"stream\":true" + (asked ? ",\"stream_options\":{\"include_usage\":true}" : "")))
                    .post("/v1/chat/completions").then().statusCode(200).extract().asString();
            List<JsonNode> chunks = new ArrayList<>();
            for (String line : sse.split("\n")) {
                if (line.startsWith("data: {")) {
                    chunks.add(JSON.readTree(line.substring(6)));
                }
            }
            boolean emptyChoices = chunks.stream().anyMatch(c -> c.path("choices").isEmpty());
            if (asked) {
                JsonNode last = chunks.get(chunks.size() - 1);
                assertTrue(last.path("choices").isEmpty(), sse);
                assertTrue(last.path("usage").path("total_tokens").asInt() > 0, sse);
            } else {
                assertFalse(emptyChoices, "a client that reads choices[0] of every chunk must not meet an empty one: " + sse);
            }
        }
    }

    @Test
    void theServedModelNameIsAnAliasOfItsTier() throws IOException {
        given().contentType(ContentType.JSON).body("{\"model\":\"" + SERVED + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
                .post("/v1/chat/completions").then().statusCode(200).body("offload.servedBy", equalTo("edge"));
        assertEquals(SERVED, sent().path("model").asText());
        given().get("/v1/models").then().statusCode(200).body("data.id", org.hamcrest.Matchers.hasItems("auto", "edge", SERVED));
        given().get("/v1/models/" + SERVED).then().statusCode(200).body("id", equalTo(SERVED)).body("object", equalTo("model"));
        given().get("/v1/models/edge").then().statusCode(200).body("id", equalTo("edge"));
        given().get("/v1/models/gpt-17").then().statusCode(404).contentType(startsWith("application/problem+json"));
    }
}
