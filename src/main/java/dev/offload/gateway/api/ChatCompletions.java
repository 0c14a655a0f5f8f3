package dev.offload.gateway.api;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.databind.JsonNode;

import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** OpenAI Chat Completions wire format: the subset the gateway reads, and writers for what it sends. */
final class ChatCompletions {
    private ChatCompletions() {
    }

    /**
     * The parameters of a request. Every field of OpenAI's Chat Completions request is either
     * read here (and passed to the backend) or refused by {@link #refusal}: none is dropped.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record Request(String model, List<Message> messages, Boolean stream,
                   @JsonProperty("max_tokens") Integer maxTokens,
                   @JsonProperty("max_completion_tokens") Integer maxCompletionTokens,
                   Double temperature,
                   @JsonProperty("top_p") Double topP,
                   JsonNode stop,
                   Integer seed,
                   @JsonProperty("presence_penalty") Double presencePenalty,
                   @JsonProperty("frequency_penalty") Double frequencyPenalty,
                   @JsonProperty("logit_bias") Map<String, Integer> logitBias,
                   String user,
                   @JsonProperty("response_format") JsonNode responseFormat,
                   Integer n,
                   @JsonProperty("stream_options") JsonNode streamOptions) {
        /** Whether the client asked for a usage chunk at the end of a stream. */
        boolean includeUsage() {
            return streamOptions != null && streamOptions.path("include_usage").asBoolean(false);
        }
    }

    /** Fields the gateway reads and honours. */
    static final Set<String> HONOURED = Set.of("model", "messages", "stream", "stream_options", "max_tokens",
            "max_completion_tokens", "temperature", "top_p", "stop", "seed", "presence_penalty", "frequency_penalty",
            "logit_bias", "user", "response_format", "n");

    /** Fields of OpenAI's request the gateway cannot honour yet, with why; refused with 400, never dropped. */
    static final Map<String, String> NOT_SUPPORTED = Map.ofEntries(
            Map.entry("tools", "tool calling is not supported by this gateway yet"),
            Map.entry("tool_choice", "tool calling is not supported by this gateway yet"),
            Map.entry("parallel_tool_calls", "tool calling is not supported by this gateway yet"),
            Map.entry("functions", "function calling is not supported by this gateway"),
            Map.entry("function_call", "function calling is not supported by this gateway"),
            Map.entry("logprobs", "log probabilities are not relayed by this gateway yet"),
            Map.entry("top_logprobs", "log probabilities are not relayed by this gateway yet"),
            Map.entry("audio", "audio output is not supported"),
            Map.entry("modalities", "only text output is supported"),
            Map.entry("prediction", "predicted outputs are not supported"),
            Map.entry("store", "the gateway stores no completions"),
            Map.entry("metadata", "the gateway stores no completions, so it keeps no metadata"),
            Map.entry("service_tier", "the gateway chooses tiers itself: use model or X-Offload-* headers"),
            Map.entry("reasoning_effort", "not supported by the gateway's backends"),
            Map.entry("web_search_options", "web search is not supported"));

    /**
     * The first field of {@code body} the gateway would not honour, as {@code [param, message]},
     * or null when it honours them all. A field that is set to null counts as absent (clients
     * send {@code "tools": null}); {@code n} is honoured only as 1, {@code logprobs} only as false.
     */
    static String[] refusal(JsonNode body) {
        for (Iterator<Map.Entry<String, JsonNode>> it = body.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            String name = f.getKey();
            JsonNode v = f.getValue();
            if (HONOURED.contains(name) || v.isNull()) {
                continue;
            }
            if (name.equals("logprobs") && v.isBoolean() && !v.asBoolean()) {
                continue;
            }
            if ((name.equals("tools") || name.equals("functions")) && v.isArray() && v.isEmpty()) {
                continue;
            }
            String why = NOT_SUPPORTED.get(name);
            return new String[]{name, why != null ? name + ": " + why
                    : "unknown parameter '" + name + "' (the gateway passes on every Chat Completions parameter it knows and refuses others)"};
        }
        JsonNode n = body.get("n");
        if (n != null && !n.isNull() && !(n.canConvertToInt() && n.asInt() == 1)) {
            return new String[]{"n", "n: only one choice per request (n = 1) is supported; send n requests instead"};
        }
        return null;
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
                    if (!"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
                        return null; // an image, audio or file part: not text, refused by the caller
                    }
                    if (!b.isEmpty()) {
                        b.append('\n'); // parts are separate paragraphs, not one run-on word
                    }
                    b.append(part.get("text").asText());
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

    /** The chunk {@code stream_options.include_usage} asks for: no choices, the usage. */
    static String usageChunk(String id, long created, String model, String usage) {
        return "{\"id\":\"" + id + "\",\"object\":\"chat.completion.chunk\",\"created\":" + created
                + ",\"model\":" + quote(model) + ",\"choices\":[]," + usage + "}";
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
