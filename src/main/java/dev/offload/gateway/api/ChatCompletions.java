package dev.offload.gateway.api;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;

/** OpenAI Chat Completions wire format: the subset the gateway reads, and writers for what it sends. */
final class ChatCompletions {
    private ChatCompletions() {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record Request(String model, List<Message> messages, Boolean stream,
                   @JsonProperty("max_tokens") Integer maxTokens,
                   @JsonProperty("max_completion_tokens") Integer maxCompletionTokens,
                   Double temperature) {
    }

    /** {@code content} is a string or an array of parts ({@code {"type":"text","text":...}}). */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record Message(String role, JsonNode content) {
        String text() {
            if (content == null || content.isNull()) {
                return null;
            }
            if (content.isTextual()) {
                return content.asText();
            }
            if (content.isArray()) {
                StringBuilder b = new StringBuilder();
                for (JsonNode part : content) {
                    if ("text".equals(part.path("type").asText()) && part.has("text")) {
                        b.append(part.get("text").asText());
                    }
                }
                return b.toString();
            }
            return null;
        }
    }

    static String quote(String s) {
        return '"' + new String(JsonStringEncoder.getInstance().quoteAsString(s)) + '"';
    }

    static String chunk(String id, long created, String model, String deltaJson, String finishReason, String extra) {
        StringBuilder b = new StringBuilder(160 + deltaJson.length());
        b.append("{\"id\":\"").append(id).append("\",\"object\":\"chat.completion.chunk\",\"created\":").append(created)
                .append(",\"model\":").append(quote(model))
                .append(",\"choices\":[{\"index\":0,\"delta\":").append(deltaJson)
                .append(",\"finish_reason\":").append(finishReason == null ? "null" : quote(finishReason)).append("}]");
        if (extra != null) {
            b.append(',').append(extra);
        }
        return b.append('}').toString();
    }

    static String completion(String id, long created, String model, String content, String finishReason,
                             int promptTokens, int completionTokens, String extra) {
        return "{\"id\":\"" + id + "\",\"object\":\"chat.completion\",\"created\":" + created
                + ",\"model\":" + quote(model)
                + ",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":" + quote(content)
                + "},\"finish_reason\":" + quote(finishReason) + "}]"
                + ",\"usage\":{\"prompt_tokens\":" + promptTokens + ",\"completion_tokens\":" + completionTokens
                + ",\"total_tokens\":" + (promptTokens + completionTokens) + "}"
                + (extra == null ? "" : "," + extra) + "}";
    }

    /** OpenAI's error object inside an RFC 9457 problem, so both kinds of client read it. */
    static String error(int status, String title, String message, String type, String param, String code) {
        return "{\"type\":\"about:blank\",\"title\":" + quote(title) + ",\"status\":" + status
                + ",\"detail\":" + quote(message)
                + ",\"error\":{\"message\":" + quote(message) + ",\"type\":" + quote(type)
                + ",\"param\":" + (param == null ? "null" : quote(param))
                + ",\"code\":" + (code == null ? "null" : quote(code)) + "}}";
    }
}
