package dev.offload.gateway.api;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

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
                   @JsonProperty("stream_options") JsonNode streamOptions,
                   JsonNode tools,
                   @JsonProperty("tool_choice") JsonNode toolChoice,
                   @JsonProperty("parallel_tool_calls") Boolean parallelToolCalls,
                   Boolean logprobs,
                   @JsonProperty("top_logprobs") Integer topLogprobs) {
        /** Whether the client asked for a usage chunk at the end of a stream. */
        boolean includeUsage() {
            return streamOptions != null && streamOptions.path("include_usage").asBoolean(false);
        }
    }

    /** Fields the gateway reads and honours. */
    static final Set<String> HONOURED = Set.of("model", "messages", "stream", "stream_options", "max_tokens",
            "max_completion_tokens", "temperature", "top_p", "stop", "seed", "presence_penalty", "frequency_penalty",
            "logit_bias", "user", "response_format", "n", "tools", "tool_choice", "parallel_tool_calls", "logprobs",
            "top_logprobs");

    /** Fields of OpenAI's request the gateway cannot honour yet, with why; refused with 400, never dropped. */
    static final Map<String, String> NOT_SUPPORTED = Map.ofEntries(
            Map.entry("functions", "the deprecated function calling is not supported: use tools"),
            Map.entry("function_call", "the deprecated function calling is not supported: use tool_choice"),
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
     * send {@code "tools": null}). Values are checked later ({@code ChatCompletionsRoute.invalidOptions}).
     */
    static String[] refusal(JsonNode body) {
        for (Iterator<Map.Entry<String, JsonNode>> it = body.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            String name = f.getKey();
            JsonNode v = f.getValue();
            if (HONOURED.contains(name) || v.isNull()) {
                continue;
            }
            if (name.equals("functions") && v.isArray() && v.isEmpty()) {
                continue;
            }
            String why = NOT_SUPPORTED.get(name);
            return new String[]{name, why != null ? name + ": " + why
                    : "unknown parameter '" + name + "' (the gateway passes on every Chat Completions parameter it knows and refuses others)"};
        }
        return null;
    }

    /** {@code content} is a string or an array of parts ({@code {"type":"text","text":...}}). */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record Message(String role, JsonNode content, @JsonProperty("tool_calls") JsonNode toolCalls,
                   @JsonProperty("tool_call_id") String toolCallId) {
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
        return chunk(id, created, model, 0, deltaJson, null, finishReason, extra);
    }

    /** A chat.completion.chunk of one choice; {@code logprobs} (JSON) and {@code extra} (fields) may be null. */
    static String chunk(String id, long created, String model, int index, String deltaJson, String logprobs,
                        String finishReason, String extra) {
        StringBuilder b = new StringBuilder(160 + deltaJson.length() + (logprobs == null ? 0 : logprobs.length()));
        b.append("{\"id\":\"").append(id).append("\",\"object\":\"chat.completion.chunk\",\"created\":").append(created)
                .append(",\"model\":").append(quote(model))
                .append(",\"choices\":[{\"index\":").append(index).append(",\"delta\":").append(deltaJson);
        if (logprobs != null) {
            b.append(",\"logprobs\":").append(logprobs);
        }
        b.append(",\"finish_reason\":").append(finishReason == null ? "null" : quote(finishReason)).append("}]");
        if (extra != null) {
            b.append(',').append(extra);
        }
        return b.append('}').toString();
    }

    /** A legacy completion's chunk ({@code text_completion}) of one choice. */
    static String textChunk(String id, long created, String model, int index, String text, String logprobs,
                            String finishReason, String extra) {
        StringBuilder b = new StringBuilder(160 + text.length());
        b.append("{\"id\":\"").append(id).append("\",\"object\":\"text_completion\",\"created\":").append(created)
                .append(",\"model\":").append(quote(model))
                .append(",\"choices\":[{\"index\":").append(index).append(",\"text\":").append(quote(text))
                .append(",\"logprobs\":").append(logprobs == null ? "null" : logprobs)
                .append(",\"finish_reason\":").append(finishReason == null ? "null" : quote(finishReason)).append("}]");
        if (extra != null) {
            b.append(',').append(extra);
        }
        return b.append('}').toString();
    }

    /** One entry of {@code delta.tool_calls}: id, type and name on a call's first fragment, then arguments. */
    static String toolCallDelta(dev.offload.gateway.generation.ToolCallFragment f) {
        StringBuilder b = new StringBuilder(64 + f.arguments().length());
        b.append("{\"index\":").append(f.index());
        if (f.id() != null) {
            b.append(",\"id\":").append(quote(f.id())).append(",\"type\":\"function\"");
        }
        b.append(",\"function\":{");
        if (f.name() != null) {
            b.append("\"name\":").append(quote(f.name())).append(',');
        }
        return b.append("\"arguments\":").append(quote(f.arguments())).append("}}").toString();
    }

    /**
     * The log probabilities of the pieces so far with one more piece's: each array field
     * ({@code content} for chat; {@code tokens}, {@code token_logprobs}, {@code top_logprobs},
     * {@code text_offset} for legacy completions) gets the piece's elements appended.
     */
    static ObjectNode appendLogprobs(ObjectMapper json, ObjectNode sofar, String piece) {
        ObjectNode out = sofar == null ? json.createObjectNode() : sofar;
        try {
            JsonNode p = json.readTree(piece);
            for (Iterator<Map.Entry<String, JsonNode>> it = p.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                if (f.getValue().isArray()) {
                    JsonNode have = out.get(f.getKey());
                    (have instanceof ArrayNode a ? a : out.putArray(f.getKey())).addAll((ArrayNode) f.getValue());
                } else if (!out.has(f.getKey())) {
                    out.set(f.getKey(), f.getValue());
                }
            }
        } catch (java.io.IOException e) {
            throw new IllegalStateException("log probabilities are not JSON", e);
        }
        return out;
    }

    /** A choice as the route gathered it: its text, its tool calls by index ({id, name, arguments}), its log probabilities. */
    record Accumulated(String text, Map<Integer, String[]> calls, ObjectNode logprobs) {
    }

    /**
     * A whole answer of several choices, tool calls or log probabilities: {@code chat.completion}
     * ({@code message} with {@code content} — null when the choice only called tools — and
     * {@code tool_calls}), or for a legacy completion {@code text_completion} ({@code text}).
     */
    static String completion(ObjectMapper json, String id, long created, String model, boolean legacy,
                             Map<Integer, Accumulated> choices, List<String> finishReasons, String extra) {
        ObjectNode root = json.createObjectNode();
        root.put("id", id).put("object", legacy ? "text_completion" : "chat.completion").put("created", created)
                .put("model", model);
        ArrayNode out = root.putArray("choices");
        choices.forEach((index, c) -> {
            ObjectNode choice = out.addObject().put("index", index);
            if (legacy) {
                choice.put("text", c.text());
            } else {
                ObjectNode message = choice.putObject("message").put("role", "assistant");
                if (c.text().isEmpty() && !c.calls().isEmpty()) {
                    message.putNull("content");
                } else {
                    message.put("content", c.text());
                }
                if (!c.calls().isEmpty()) {
                    ArrayNode calls = message.putArray("tool_calls");
                    c.calls().forEach((i, call) -> calls.addObject().put("id", call[0]).put("type", "function")
                            .putObject("function").put("name", call[1]).put("arguments", call[2]));
                }
            }
            if (c.logprobs() == null) {
                choice.putNull("logprobs");
            } else {
                choice.set("logprobs", c.logprobs());
            }
            choice.put("finish_reason", index < finishReasons.size() ? finishReasons.get(index) : "stop");
        });
        String body = root.toString();
        return body.substring(0, body.length() - 1) + "," + extra + "}";
    }

    /** The chunk {@code stream_options.include_usage} asks for: no choices, the usage. */
    static String usageChunk(String id, long created, String model, String usage, boolean legacy) {
        return "{\"id\":\"" + id + "\",\"object\":\"" + (legacy ? "text_completion" : "chat.completion.chunk")
                + "\",\"created\":" + created + ",\"model\":" + quote(model) + ",\"choices\":[]," + usage + "}";
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
