package dev.offload.gateway.sim;

import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * JSON and SSE texts of the OpenAI API as vLLM sends them. An instance holds the constant part of
 * one streamed response's chunks; it is immutable. The static methods build the other bodies.
 */
final class OpenAiJson {
    private final String chunkHead;
    private final String chunkTail;

    /** For the chunks of one streamed response. */
    OpenAiJson(String id, long created, String model, boolean includeUsage) {
        this(id, created, model, includeUsage, false);
    }

    /** For the chunks of one streamed response; {@code legacy}: of a legacy completion ({@code text_completion}). */
    OpenAiJson(String id, long created, String model, boolean includeUsage, boolean legacy) {
        this.chunkHead = "data: {\"id\":" + Json.encode(id) + ",\"object\":\""
                + (legacy ? "text_completion" : "chat.completion.chunk") + "\",\"created\":"
                + created + ",\"model\":" + Json.encode(model) + ",\"choices\":";
        this.chunkTail = includeUsage ? ",\"usage\":null}\n\n" : "}\n\n";
    }

    /** The first chunk, announcing the role. */
    void roleChunk(StringBuilder out) {
        choiceChunk(out, "{\"role\":\"assistant\",\"content\":\"\"}", "null");
    }

    void contentChunk(StringBuilder out, String text) {
        choiceChunk(out, "{\"content\":" + Json.encode(text) + "}", "null");
    }

    void finishChunk(StringBuilder out, String finishReason) {
        choiceChunk(out, "{}", Json.encode(finishReason));
    }

    /** The extra chunk of {@code stream_options.include_usage}: no choices, the usage. */
    void usageChunk(StringBuilder out, int promptTokens, int completionTokens) {
        out.append(chunkHead).append("[],\"usage\":")
                .append(usage(promptTokens, completionTokens).encode()).append("}\n\n");
    }

    /** A chunk of choice {@code index} with {@code delta} (JSON) and {@code logprobs} (JSON or null). */
    void choiceChunk(StringBuilder out, int index, String delta, JsonObject logprobs, String finishReason) {
        out.append(chunkHead).append("[{\"index\":").append(index).append(",\"delta\":").append(delta)
                .append(",\"logprobs\":").append(logprobs == null ? "null" : logprobs.encode())
                .append(",\"finish_reason\":").append(finishReason == null ? "null" : Json.encode(finishReason))
                .append("}]").append(chunkTail);
    }

    /** A legacy completion's chunk of choice {@code index}, as vLLM writes it. */
    void textChunk(StringBuilder out, int index, String text, JsonObject logprobs, String finishReason) {
        out.append(chunkHead).append("[{\"index\":").append(index).append(",\"text\":").append(Json.encode(text))
                .append(",\"logprobs\":").append(logprobs == null ? "null" : logprobs.encode())
                .append(",\"finish_reason\":").append(finishReason == null ? "null" : Json.encode(finishReason))
                .append(",\"stop_reason\":null}]").append(chunkTail);
    }

    /**
     * Chat log probabilities of one token as vLLM writes them: {@code {"content":[{"token",
     * "logprob","bytes","top_logprobs":[…]}]}}; the alternatives are the token itself, then
     * {@code alt1}, {@code alt2}, … with falling probabilities.
     */
    static JsonObject chatLogprobs(String token, int top) {
        return new JsonObject().put("content", new JsonArray().add(chatLogprob(token, top)));
    }

    static JsonObject chatLogprob(String token, int top) {
        JsonArray alternatives = new JsonArray();
        for (int k = 0; k < top; k++) {
            String t = k == 0 ? token : "alt" + k;
            alternatives.add(new JsonObject().put("token", t).put("logprob", logprobOf(k)).put("bytes", bytes(t)));
        }
        return new JsonObject().put("token", token).put("logprob", logprobOf(0)).put("bytes", bytes(token))
                .put("top_logprobs", alternatives);
    }

    /** Legacy log probabilities of one token: {@code text_offset}, {@code token_logprobs}, {@code tokens}, {@code top_logprobs}. */
    static JsonObject legacyLogprobs(String token, int offset, int top) {
        JsonObject alternatives = new JsonObject();
        for (int k = 0; k < Math.max(1, top); k++) {
            alternatives.put(k == 0 ? token : "alt" + k, logprobOf(k));
        }
        return new JsonObject().put("text_offset", new JsonArray().add(offset))
                .put("token_logprobs", new JsonArray().add(logprobOf(0))).put("tokens", new JsonArray().add(token))
                .put("top_logprobs", new JsonArray().add(alternatives));
    }

    /** The log probability the simulation gives the k-th most likely token. */
    static double logprobOf(int k) {
        return -0.25 - k;
    }

    private static JsonArray bytes(String token) {
        JsonArray a = new JsonArray();
        for (byte b : token.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
            a.add(b & 0xff);
        }
        return a;
    }

    /**
     * The streamed pieces of the tool calls, as vLLM's tool parsers send them: per call a first
     * piece with {@code index}, {@code id}, {@code type} and the function's name, then its
     * arguments in pieces of at most 8 characters.
     */
    static List<String> toolCallDeltas(String completionId, List<String[]> calls) {
        List<String> out = new ArrayList<>();
        for (int k = 0; k < calls.size(); k++) {
            String[] c = calls.get(k);
            out.add("{\"tool_calls\":[{\"id\":" + Json.encode(toolCallId(completionId, k)) + ",\"type\":\"function\",\"index\":"
                    + k + ",\"function\":{\"name\":" + Json.encode(c[0]) + "}}]}");
            for (int i = 0; i < c[1].length(); i += 8) {
                out.add("{\"tool_calls\":[{\"index\":" + k + ",\"function\":{\"arguments\":"
                        + Json.encode(c[1].substring(i, Math.min(c[1].length(), i + 8))) + "}}]}");
            }
        }
        return out;
    }

    static String toolCallId(String completionId, int k) {
        return "chatcmpl-tool-" + completionId.substring(completionId.lastIndexOf('-') + 1) + "-" + k;
    }

    /** The non-streamed answer of a request: every choice, its text or tool calls, its log probabilities. */
    static JsonObject answer(String id, long created, ChatRequest request, List<StringBuilder> texts,
                             List<JsonObject> logprobs, String finishReason, int completionTokens) {
        JsonArray choices = new JsonArray();
        for (int c = 0; c < texts.size(); c++) {
            JsonObject choice = new JsonObject().put("index", c);
            if (request.legacy) {
                choice.put("text", texts.get(c).toString());
            } else {
                JsonObject message = new JsonObject().put("role", "assistant");
                if (request.toolCalls.isEmpty()) {
                    message.put("content", texts.get(c).toString());
                } else {
                    message.putNull("content");
                    JsonArray calls = new JsonArray();
                    for (int k = 0; k < request.toolCalls.size(); k++) {
                        calls.add(new JsonObject().put("id", toolCallId(id, k)).put("type", "function")
                                .put("function", new JsonObject().put("name", request.toolCalls.get(k)[0])
                                        .put("arguments", request.toolCalls.get(k)[1])));
                    }
                    message.put("tool_calls", calls);
                }
                choice.put("message", message);
            }
            choice.put("logprobs", logprobs.get(c));
            choice.put("finish_reason", request.toolCalls.isEmpty() ? finishReason : "tool_calls");
            choices.add(choice);
        }
        return new JsonObject().put("id", id).put("object", request.legacy ? "text_completion" : "chat.completion")
                .put("created", created).put("model", request.model).put("choices", choices)
                .put("usage", usage(request.promptTokens, completionTokens * texts.size()));
    }

    static void done(StringBuilder out) {
        out.append("data: [DONE]\n\n");
    }

    private void choiceChunk(StringBuilder out, String delta, String finishReason) {
        out.append(chunkHead).append("[{\"index\":0,\"delta\":").append(delta)
                .append(",\"logprobs\":null,\"finish_reason\":").append(finishReason).append("}]").append(chunkTail);
    }

    static JsonObject completion(String id, long created, String model, String content, String finishReason,
                                 int promptTokens, int completionTokens) {
        JsonObject message = new JsonObject().put("role", "assistant").put("content", content);
        JsonObject choice = new JsonObject().put("index", 0).put("message", message).putNull("logprobs")
                .put("finish_reason", finishReason);
        return new JsonObject().put("id", id).put("object", "chat.completion").put("created", created)
                .put("model", model).put("choices", new JsonArray().add(choice))
                .put("usage", usage(promptTokens, completionTokens));
    }

    static JsonObject usage(int promptTokens, int completionTokens) {
        return new JsonObject().put("prompt_tokens", promptTokens).put("completion_tokens", completionTokens)
                .put("total_tokens", promptTokens + completionTokens);
    }

    /** {@code {"error":{"message","type","param","code"}}}. */
    static JsonObject error(String message, String type, String code) {
        return new JsonObject().put("error", new JsonObject().put("message", message).put("type", type)
                .putNull("param").put("code", code));
    }

    static JsonObject models(String model, long created) {
        JsonObject entry = new JsonObject().put("id", model).put("object", "model").put("created", created)
                .put("owned_by", "vllm").put("root", model).putNull("parent");
        return new JsonObject().put("object", "list").put("data", new JsonArray().add(entry));
    }
}
