package dev.offload.gateway.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.offload.gateway.sim.SimulatedBackend;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.offload.gateway.security.TestKeys.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tool calling, several choices, log probabilities and legacy completions, end to end: what the
 * device sends reaches the backend (which records it), what the backend makes (simulated as vLLM
 * writes it) comes back whole and streamed, and what cannot be honoured is refused by name.
 */
@QuarkusTest
@QuarkusTestResource(value = ToolsChoicesAndCompletionsTest.Backends.class, restrictToAnnotatedClass = true)
class ToolsChoicesAndCompletionsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOOLS = "[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"description\":\"weather now\","
            + "\"strict\":true,\"parameters\":{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\"}}}}},"
            + "{\"type\":\"function\",\"function\":{\"name\":\"send_mail\",\"parameters\":{\"type\":\"object\"}}}]";

    /** An edge replica and a regional (outside the edge zone) one, both simulated vLLM servers that record what they get. */
    public static class Backends implements QuarkusTestResourceLifecycleManager {
        static SimulatedBackend edge;
        static SimulatedBackend cloud;

        @Override
        public Map<String, String> start() {
            edge = SimulatedBackend.builder().outputTokens(4).stepBase(java.time.Duration.ofMillis(1)).start();
            cloud = SimulatedBackend.builder().outputTokens(4).stepBase(java.time.Duration.ofMillis(1)).start();
            Map<String, String> c = new LinkedHashMap<>();
            c.put("gateway.tiers.edge.base-urls", edge.baseUrl() + "/v1");
            c.put("gateway.tiers.cloud.base-urls", cloud.baseUrl() + "/v1");
            c.put("gateway.tiers.cloud.zone", "regional");
            return c;
        }

        @Override
        public void stop() {
            edge.close();
            cloud.close();
        }
    }

    @BeforeEach
    void clear() {
        Backends.edge.resetStats();
        Backends.cloud.resetStats();
    }

    private static JsonNode lastSent(SimulatedBackend b) throws IOException {
        List<String> bodies = b.receivedBodies();
        assertFalse(bodies.isEmpty(), "the backend received nothing");
        return JSON.readTree(bodies.get(bodies.size() - 1));
    }

    private static List<JsonNode> chunks(String sse) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : sse.split("\n")) {
            if (line.startsWith("data: {")) {
                out.add(JSON.readTree(line.substring(6)));
            }
        }
        assertTrue(sse.strip().endsWith("data: [DONE]"), sse);
        return out;
    }

    private static String chat(String model, String extra, String messages) {
        return "{\"model\":\"" + model + "\",\"max_tokens\":8,\"messages\":" + messages + (extra.isEmpty() ? "" : "," + extra) + "}";
    }

    private static final String ASK = "[{\"role\":\"user\",\"content\":\"weather in Oslo\"}]";

    @Test
    void toolParametersAndToolHistoryReachTheBackendAsSent() throws IOException {
        String history = "[{\"role\":\"user\",\"content\":\"weather in Oslo\"},"
                + "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\","
                + "\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"text\\\":\\\"Oslo\\\"}\"}}]},"
                + "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":\"-3 C, snow\"}]";
        given().contentType(ContentType.JSON).body(chat("edge", "\"tools\":" + TOOLS
                        + ",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"get_weather\"}},\"parallel_tool_calls\":false",
                        history))
                .post("/v1/chat/completions").then().statusCode(200).body("choices[0].finish_reason", equalTo("stop"));
        JsonNode s = lastSent(Backends.edge);
        assertEquals(JSON.readTree(TOOLS), s.path("tools"), "tools exactly as sent, strict included");
        assertEquals("get_weather", s.path("tool_choice").path("function").path("name").asText());
        assertFalse(s.path("parallel_tool_calls").asBoolean(true));
        JsonNode assistant = s.path("messages").get(2); // after the gateway's system prompt
        assertEquals("assistant", assistant.path("role").asText(), s.toString());
        assertEquals("call_1", assistant.path("tool_calls").get(0).path("id").asText());
        assertEquals("{\"text\":\"Oslo\"}", assistant.path("tool_calls").get(0).path("function").path("arguments").asText());
        JsonNode tool = s.path("messages").get(3);
        assertEquals("tool", tool.path("role").asText());
        assertEquals("call_1", tool.path("tool_call_id").asText());
        assertEquals("-3 C, snow", tool.path("content").asText());
    }

    @Test
    void aToolCallComesBackAsAMessageAndAsStreamedFragments() throws IOException {
        JsonNode whole = JSON.readTree(given().contentType(ContentType.JSON).body(chat("edge", "\"tools\":" + TOOLS, ASK))
                .post("/v1/chat/completions").then().statusCode(200).extract().asString());
        JsonNode choice = whole.path("choices").get(0);
        assertEquals("tool_calls", choice.path("finish_reason").asText(), whole.toString());
        assertTrue(choice.path("message").path("content").isNull(), "a choice that only calls tools has null content");
        JsonNode call = choice.path("message").path("tool_calls").get(0);
        assertEquals("function", call.path("type").asText());
        assertEquals("get_weather", call.path("function").path("name").asText());
        assertTrue(call.path("id").asText().startsWith("chatcmpl-tool-"), call.toString());
        assertEquals("weather in Oslo", JSON.readTree(call.path("function").path("arguments").asText()).path("text").asText());

        List<JsonNode> chunks = chunks(given().contentType(ContentType.JSON)
                .body(chat("edge", "\"stream\":true,\"parallel_tool_calls\":true,\"tools\":" + TOOLS, ASK))
                .post("/v1/chat/completions").then().statusCode(200).extract().asString());
        Map<Integer, StringBuilder> args = new LinkedHashMap<>();
        Map<Integer, String> names = new LinkedHashMap<>();
        Map<Integer, String> ids = new LinkedHashMap<>();
        String finish = null;
        for (JsonNode c : chunks) {
            JsonNode ch = c.path("choices").get(0);
            for (JsonNode t : ch.path("delta").path("tool_calls")) {
                int i = t.path("index").asInt(-1);
                assertTrue(i >= 0, "every fragment names its call: " + t);
                if (t.has("id")) {
                    ids.put(i, t.get("id").asText());
                    names.put(i, t.path("function").path("name").asText());
                }
                args.computeIfAbsent(i, k -> new StringBuilder()).append(t.path("function").path("arguments").asText(""));
            }
            if (ch.path("finish_reason").isTextual()) {
                finish = ch.get("finish_reason").asText();
            }
        }
        assertEquals("tool_calls", finish);
        assertEquals(List.of("get_weather", "send_mail"), new ArrayList<>(names.values()), "parallel calls, by index");
        assertEquals(2, ids.values().stream().distinct().count());
        for (StringBuilder a : args.values()) {
            assertEquals("weather in Oslo", JSON.readTree(a.toString()).path("text").asText(), a.toString());
        }
    }

    @Test
    void toolArgumentsAndResultsLeaveTheEdgeZoneRedactedAndTheCallComesBackWithTheDevicesValues() throws IOException {
        String mail = "kari.nordmann@example.no";
        String messages = "[{\"role\":\"user\",\"content\":\"mail " + mail + "\"},"
                + "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"c1\",\"type\":\"function\","
                + "\"function\":{\"name\":\"send_mail\",\"arguments\":\"{\\\"to\\\":\\\"" + mail + "\\\"}\"}}]},"
                + "{\"role\":\"tool\",\"tool_call_id\":\"c1\",\"content\":\"bounced: " + mail + "\"},"
                + "{\"role\":\"user\",\"content\":\"again to " + mail + "\"}]";
        for (boolean stream : new boolean[]{false, true}) {
            String out = given().contentType(ContentType.JSON).body(chat("cloud", "\"stream\":" + stream + ",\"tools\":" + TOOLS, messages))
                    .post("/v1/chat/completions").then().statusCode(200).extract().asString();
            String sent = Backends.cloud.receivedBodies().get(Backends.cloud.receivedBodies().size() - 1);
            assertFalse(sent.contains(mail), "the address left the edge zone: " + sent);
            JsonNode s = JSON.readTree(sent);
            assertEquals("{\"to\":\"<EMAIL_1>\"}", s.path("messages").get(2).path("tool_calls").get(0).path("function")
                    .path("arguments").asText(), "an earlier call's arguments");
            assertEquals("bounced: <EMAIL_1>", s.path("messages").get(3).path("content").asText(), "a tool's result");
            String arguments;
            if (stream) {
                StringBuilder a = new StringBuilder();
                for (JsonNode c : chunks(out)) {
                    for (JsonNode t : c.path("choices").get(0).path("delta").path("tool_calls")) {
                        a.append(t.path("function").path("arguments").asText(""));
                    }
                }
                arguments = a.toString();
            } else {
                arguments = JSON.readTree(out).path("choices").get(0).path("message").path("tool_calls").get(0)
                        .path("function").path("arguments").asText();
                assertEquals(4, JSON.readTree(out).path("offload").path("redactions").asInt(), "the address, four times: " + out);
            }
            assertEquals("again to " + mail, JSON.readTree(arguments).path("text").asText(), "restored: " + arguments);
        }
    }

    @Test
    void everyChoiceOfNComesBackWholeAndStreamedWithItsIndex() throws IOException {
        JsonNode whole = JSON.readTree(given().contentType(ContentType.JSON).body(chat("edge", "\"n\":3", ASK))
                .post("/v1/chat/completions").then().statusCode(200).extract().asString());
        assertEquals(3, lastSent(Backends.edge).path("n").asInt());
        JsonNode choices = whole.path("choices");
        assertEquals(3, choices.size(), whole.toString());
        assertEquals("weather0 weather1 weather2 weather3", choices.get(0).path("message").path("content").asText());
        assertEquals("weather_2_0 weather_2_1 weather_2_2 weather_2_3", choices.get(2).path("message").path("content").asText());
        for (int i = 0; i < 3; i++) {
            assertEquals(i, choices.get(i).path("index").asInt());
            assertEquals("stop", choices.get(i).path("finish_reason").asText());
        }

        List<JsonNode> chunks = chunks(given().contentType(ContentType.JSON).body(chat("edge", "\"n\":2,\"stream\":true", ASK))
                .post("/v1/chat/completions").then().statusCode(200).extract().asString());
        Map<Integer, StringBuilder> text = new LinkedHashMap<>();
        Map<Integer, String> finish = new LinkedHashMap<>();
        for (JsonNode c : chunks) {
            JsonNode ch = c.path("choices").get(0);
            int i = ch.path("index").asInt();
            text.computeIfAbsent(i, k -> new StringBuilder()).append(ch.path("delta").path("content").asText(""));
            if (ch.path("finish_reason").isTextual()) {
                finish.put(i, ch.get("finish_reason").asText());
            }
        }
        assertEquals("weather0 weather1 weather2 weather3", text.get(0).toString());
        assertEquals("weather_1_0 weather_1_1 weather_1_2 weather_1_3", text.get(1).toString());
        assertEquals(Map.of(0, "stop", 1, "stop"), finish);
    }

    @Test
    void logprobsComeBackWholeAndStreamed() throws IOException {
        JsonNode whole = JSON.readTree(given().contentType(ContentType.JSON).body(chat("edge", "\"logprobs\":true,\"top_logprobs\":2", ASK))
                .post("/v1/chat/completions").then().statusCode(200).extract().asString());
        JsonNode s = lastSent(Backends.edge);
        assertTrue(s.path("logprobs").asBoolean());
        assertEquals(2, s.path("top_logprobs").asInt());
        JsonNode content = whole.path("choices").get(0).path("logprobs").path("content");
        assertEquals(4, content.size(), "one entry per token: " + whole);
        assertEquals("weather0", content.get(0).path("token").asText());
        assertEquals(-0.25, content.get(0).path("logprob").asDouble());
        assertEquals(2, content.get(0).path("top_logprobs").size());
        assertEquals("alt1", content.get(0).path("top_logprobs").get(1).path("token").asText());

        int withLogprobs = 0;
        for (JsonNode c : chunks(given().contentType(ContentType.JSON).body(chat("edge", "\"stream\":true,\"logprobs\":true", ASK))
                .post("/v1/chat/completions").then().statusCode(200).extract().asString())) {
            JsonNode lp = c.path("choices").get(0).path("logprobs");
            if (lp.isObject()) {
                withLogprobs++;
                assertEquals(c.path("choices").get(0).path("delta").path("content").asText().strip(),
                        lp.path("content").get(0).path("token").asText().strip());
            }
        }
        assertEquals(4, withLogprobs, "every content chunk carries its token's log probability");
    }

    @Test
    void whatOnlyAModelCanAnswerGetsNoExtractiveStandIn() {
        given().contentType(ContentType.JSON).header("X-Offload-Sensitivity", "restricted").body(chat("auto", "", ASK))
                .post("/v1/chat/completions").then().statusCode(200).body("offload.servedBy", equalTo("extractive"));
        for (String extra : List.of("\"tools\":" + TOOLS, "\"n\":2", "\"logprobs\":true",
                "\"response_format\":{\"type\":\"json_object\"}")) {
            given().contentType(ContentType.JSON).header("X-Offload-Sensitivity", "restricted").body(chat("auto", extra, ASK))
                    .post("/v1/chat/completions").then().statusCode(403)
                    .contentType(startsWith("application/problem+json"));
        }
        assertTrue(Backends.edge.receivedBodies().isEmpty() && Backends.cloud.receivedBodies().isEmpty());
    }

    @Test
    void malformedToolsChoicesAndLogprobsAreRefusedByName() {
        Map<String, String> refused = new LinkedHashMap<>();
        refused.put("\"tools\":[{\"type\":\"retrieval\"}]", "tools");
        refused.put("\"tools\":{\"type\":\"function\"}", "tools");
        refused.put("\"tools\":" + TOOLS + ",\"tool_choice\":\"sometimes\"", "tool_choice");
        refused.put("\"tool_choice\":\"required\"", "tool_choice");
        refused.put("\"top_logprobs\":2", "top_logprobs");
        refused.put("\"logprobs\":true,\"top_logprobs\":21", "top_logprobs");
        refused.put("\"n\":0", "n");
        refused.put("\"n\":17", "n");
        refused.put("\"functions\":[{\"name\":\"f\"}]", "functions");
        refused.put("\"function_call\":\"auto\"", "function_call");
        refused.forEach((extra, param) -> given().contentType(ContentType.JSON).body(chat("edge", extra, ASK))
                .post("/v1/chat/completions").then().statusCode(400).contentType(startsWith("application/problem+json"))
                .body("error.param", equalTo(param)));
        given().contentType(ContentType.JSON).body(chat("edge", "", "[{\"role\":\"user\",\"content\":\"x\"},"
                        + "{\"role\":\"tool\",\"content\":\"42\"}]"))
                .post("/v1/chat/completions").then().statusCode(400).body("error.param", equalTo("messages[1].tool_call_id"));
        given().contentType(ContentType.JSON).body(chat("edge", "", "[{\"role\":\"user\",\"content\":\"x\"},"
                        + "{\"role\":\"assistant\",\"tool_calls\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}]}]"))
                .post("/v1/chat/completions").then().statusCode(400).body("error.param", equalTo("messages[1].tool_calls"));
        given().contentType(ContentType.JSON).body(chat("edge", "", "[{\"role\":\"user\",\"content\":\"x\",\"tool_calls\":[]}]"))
                .post("/v1/chat/completions").then().statusCode(400).body("error.param", equalTo("messages[0].tool_calls"));
        assertTrue(Backends.edge.receivedBodies().isEmpty(), "nothing refused reached the backend");
    }

    @Test
    void aLegacyCompletionPassesEveryParameterAndComesBackPerPromptAndChoice() throws IOException {
        JsonNode whole = JSON.readTree(given().contentType(ContentType.JSON)
                .body("{\"model\":\"edge\",\"prompt\":[\"alpha beta\",\"gamma\"],\"n\":2,\"max_tokens\":3,\"seed\":9,"
                        + "\"temperature\":0.4,\"top_p\":0.9,\"stop\":[\"\\n\"],\"echo\":false,\"suffix\":\"END\",\"best_of\":2,"
                        + "\"logprobs\":1,\"presence_penalty\":0.1,\"frequency_penalty\":0.2,\"logit_bias\":{\"7\":1},\"user\":\"u1\"}")
                .post("/v1/completions").then().statusCode(200).extract().asString());
        assertEquals("/v1/completions", Backends.edge.receivedRequests().get(Backends.edge.receivedRequests().size() - 1).path());
        JsonNode s = lastSent(Backends.edge);
        assertEquals("[\"alpha beta\",\"gamma\"]", s.path("prompt").toString());
        for (String f : List.of("n", "seed", "temperature", "top_p", "stop", "echo", "suffix", "best_of", "logprobs",
                "presence_penalty", "frequency_penalty", "logit_bias", "user")) {
            assertTrue(s.has(f), f + " did not reach the backend: " + s);
        }
        assertEquals(3, s.path("max_tokens").asInt());
        assertEquals("text_completion", whole.path("object").asText(), whole.toString());
        JsonNode choices = whole.path("choices");
        assertEquals(4, choices.size(), "two prompts × n = 2");
        assertEquals("alpha0 alpha1 alpha2", choices.get(0).path("text").asText());
        assertEquals("alpha_1_0 alpha_1_1 alpha_1_2", choices.get(1).path("text").asText());
        assertEquals("gamma0 gamma1 gamma2", choices.get(2).path("text").asText());
        assertEquals(3, choices.get(0).path("logprobs").path("tokens").size(), whole.toString());
        assertEquals("length", choices.get(3).path("finish_reason").asText());

        List<JsonNode> chunks = chunks(given().contentType(ContentType.JSON)
                .body("{\"model\":\"edge\",\"prompt\":\"delta\",\"stream\":true,\"max_tokens\":2,\"echo\":true,"
                        + "\"stream_options\":{\"include_usage\":true}}")
                .post("/v1/completions").then().statusCode(200).extract().asString());
        StringBuilder text = new StringBuilder();
        for (JsonNode c : chunks) {
            assertEquals("text_completion", c.path("object").asText());
            if (!c.path("choices").isEmpty()) {
                text.append(c.path("choices").get(0).path("text").asText());
            }
        }
        assertEquals("deltadelta0 delta1", text.toString(), "the prompt echoed, then the completion");
        JsonNode last = chunks.get(chunks.size() - 1);
        assertTrue(last.path("choices").isEmpty() && last.path("usage").path("total_tokens").asInt() > 0, last.toString());
    }

    @Test
    void aLegacyCompletionKeepsThePrivacyRulesAndRefusesWhatItCannotPass() throws IOException {
        String mail = "ola@example.no";
        JsonNode whole = JSON.readTree(given().contentType(ContentType.JSON)
                .body("{\"model\":\"cloud\",\"prompt\":\"" + mail + " wrote\",\"echo\":true,\"max_tokens\":2}")
                .post("/v1/completions").then().statusCode(200).extract().asString());
        String sent = Backends.cloud.receivedBodies().get(Backends.cloud.receivedBodies().size() - 1);
        assertFalse(sent.contains(mail), sent);
        assertTrue(sent.contains("<EMAIL_1> wrote"), sent);
        assertTrue(whole.path("choices").get(0).path("text").asText().startsWith(mail + " wrote"), "echo restored: " + whole);
        given().contentType(ContentType.JSON).header("X-Offload-Sensitivity", "confidential")
                .body("{\"model\":\"cloud\",\"prompt\":\"x\"}").post("/v1/completions").then().statusCode(403);

        Map<String, String> refused = new LinkedHashMap<>();
        refused.put("\"prompt\":[1,2,3]", "prompt");
        refused.put("\"prompt\":[]", "prompt");
        refused.put("\"prompt\":\"x\",\"messages\":[]", "messages");
        refused.put("\"prompt\":\"x\",\"logprobs\":6", "logprobs");
        refused.put("\"prompt\":\"x\",\"n\":2,\"best_of\":1", "best_of");
        refused.put("\"prompt\":\"x\",\"best_of\":3,\"stream\":true", "best_of");
        refused.put("\"prompt\":\"x\",\"top_p\":2", "top_p");
        refused.put("\"prompt\":\"x\",\"model\":\"gpt-17\"", "model");
        int before = Backends.edge.receivedBodies().size();
        refused.forEach((fields, param) -> given().contentType(ContentType.JSON).body("{" + fields + "}")
                .post("/v1/completions").then().statusCode(400).contentType(startsWith("application/problem+json"))
                .body("error.param", equalTo(param)));
        assertEquals(before, Backends.edge.receivedBodies().size());
        assertNotNull(whole);
    }
}
