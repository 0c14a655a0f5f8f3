package dev.offload.gateway.sim;

import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * JSON and SSE texts of the OpenAI API as vLLM sends them. An instance holds the constant part of
 * one streamed response's chunks; it is immutable. The static methods build the other bodies.
 */
final class OpenAiJson {
    private final String chunkHead;
    private final String chunkTail;

    /** For the chunks of one streamed response. */
    OpenAiJson(String id, long created, String model, boolean includeUsage) {
        this.chunkHead = "data: {\"id\":" + Json.encode(id) + ",\"object\":\"chat.completion.chunk\",\"created\":"
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
