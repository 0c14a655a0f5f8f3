package dev.offload.gateway.sim;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A validated OpenAI Chat Completions request, reduced to what the simulation needs, and the
 * deterministic text scheme of its answer. Immutable; parsed on an event loop.
 */
final class ChatRequest {
    /** Tag used when the last user message has no letter or digit in its first word. */
    static final String DEFAULT_TAG = "w";
    private static final int MAX_TAG_LENGTH = 16;

    final String model;
    final boolean stream;
    final boolean includeUsage;
    final int maxTokens;
    final int promptTokens;
    final String tag;
    /** Samples per prompt ({@code n}). */
    final int n;
    /** One tag per prompt: the chat's one, or each prompt's of a legacy completion. */
    final List<String> tags;
    /** The prompts of a legacy completion (for {@code echo}); empty for a chat. */
    final List<String> prompts;
    /** A legacy completion ({@code /v1/completions}). */
    final boolean legacy;
    /** Chat {@code logprobs: true}. */
    final boolean logprobs;
    /** Chat {@code top_logprobs}, or a legacy completion's {@code logprobs} (its count); 0 for none. */
    final int topLogprobs;
    /** Legacy {@code logprobs} was set (even to 0). */
    final boolean legacyLogprobs;
    final boolean echo;
    /** The tool calls the model makes instead of text: {name, arguments}; empty for a text answer. */
    final List<String[]> toolCalls;

    private ChatRequest(String model, boolean stream, boolean includeUsage, int maxTokens, int promptTokens,
                        String tag) {
        this(model, stream, includeUsage, maxTokens, promptTokens, List.of(tag), 1, List.of(), false, false, 0, false,
                false, List.of());
    }

    private ChatRequest(String model, boolean stream, boolean includeUsage, int maxTokens, int promptTokens,
                        List<String> tags, int n, List<String> prompts, boolean legacy, boolean logprobs, int topLogprobs,
                        boolean legacyLogprobs, boolean echo, List<String[]> toolCalls) {
        this.model = model;
        this.stream = stream;
        this.includeUsage = includeUsage;
        this.maxTokens = maxTokens;
        this.promptTokens = promptTokens;
        this.tag = tags.get(0);
        this.tags = List.copyOf(tags);
        this.n = n;
        this.prompts = List.copyOf(prompts);
        this.legacy = legacy;
        this.logprobs = logprobs;
        this.topLogprobs = topLogprobs;
        this.legacyLogprobs = legacyLogprobs;
        this.echo = echo;
        this.toolCalls = List.copyOf(toolCalls);
    }

    /** Choices in the answer: prompts × n. */
    int choices() {
        return tags.size() * n;
    }

    /**
     * Text of token {@code index} of choice {@code choice}: sample 0 of a prompt is
     * {@link #token(String, int)}; sample {@code j > 0} uses the tag {@code tag_j_} ({@code hello_1_0 hello_1_1 …}).
     */
    String token(int choice, int index) {
        String t = tags.get(choice / n);
        int sample = choice % n;
        return token(sample == 0 ? t : t + "_" + sample + "_", index);
    }

    /** Thrown for a request vLLM would answer with 400. */
    static final class Invalid extends Exception {
        Invalid(String message) {
            super(message, null, false, false);
        }
    }

    static ChatRequest parse(Buffer body, String defaultModel, int defaultMaxTokens) throws Invalid {
        return parse(body, defaultModel, defaultMaxTokens, false);
    }

    /** @param hashTags tag answers by {@link #hashTagOf} instead of {@link #tagOf} */
    static ChatRequest parse(Buffer body, String defaultModel, int defaultMaxTokens, boolean hashTags) throws Invalid {
        JsonObject json;
        try {
            json = new JsonObject(body);
        } catch (DecodeException | ClassCastException e) {
            throw new Invalid("request body is not a JSON object");
        }
        String model = optional(json, "model", String.class, defaultModel);
        boolean stream = optional(json, "stream", Boolean.class, false);
        boolean includeUsage = false;
        JsonObject streamOptions = optional(json, "stream_options", JsonObject.class, null);
        if (streamOptions != null) {
            includeUsage = optional(streamOptions, "include_usage", Boolean.class, false);
        }
        Number max = optional(json, "max_completion_tokens", Number.class, null);
        if (max == null) {
            max = optional(json, "max_tokens", Number.class, null);
        }
        int maxTokens = defaultMaxTokens;
        if (max != null) {
            if (max.doubleValue() != Math.rint(max.doubleValue()) || max.longValue() < 1
                    || max.longValue() > Integer.MAX_VALUE) {
                throw new Invalid("max_tokens must be a positive integer");
            }
            maxTokens = max.intValue();
        }
        optional(json, "temperature", Number.class, null);
        int n = nOf(json);
        Boolean lp = optional(json, "logprobs", Boolean.class, false);
        Number top = optional(json, "top_logprobs", Number.class, null);
        if (top != null && (top.intValue() < 0 || top.intValue() > 20)) {
            throw new Invalid("top_logprobs must be between 0 and 20");
        }
        if (top != null && !lp) {
            throw new Invalid("top_logprobs needs logprobs");
        }
        JsonArray tools = optional(json, "tools", JsonArray.class, null);
        Object toolChoice = json.getValue("tool_choice");
        Boolean parallel = optional(json, "parallel_tool_calls", Boolean.class, null);

        JsonArray messages = optional(json, "messages", JsonArray.class, null);
        if (messages == null || messages.isEmpty()) {
            throw new Invalid("messages must be a non-empty array");
        }
        int words = 0;
        String lastUser = null;
        String last = "";
        String lastRole = null;
        for (int i = 0; i < messages.size(); i++) {
            if (!(messages.getValue(i) instanceof JsonObject message)) {
                throw new Invalid("messages[" + i + "] must be an object");
            }
            if (!(message.getValue("role") instanceof String role)) {
                throw new Invalid("messages[" + i + "].role must be a string");
            }
            String text = contentText(message.getValue("content"), i);
            if (role.equals("tool") && !(message.getValue("tool_call_id") instanceof String)) {
                throw new Invalid("messages[" + i + "].tool_call_id is required for a tool message");
            }
            if (message.getValue("tool_calls") instanceof JsonArray calls) {
                for (Object c : calls) {
                    if (!(c instanceof JsonObject call) || !(call.getValue("id") instanceof String)
                            || !(call.getValue("function") instanceof JsonObject f) || !(f.getValue("name") instanceof String)
                            || !(f.getValue("arguments") instanceof String)) {
                        throw new Invalid("messages[" + i + "].tool_calls must be {id, type, function: {name, arguments}}");
                    }
                }
            }
            words += countWords(text);
            last = text;
            lastRole = role;
            if (role.equals("user")) {
                lastUser = text;
            }
        }
        List<String[]> calls = List.of();
        if (tools != null && !tools.isEmpty() && !"none".equals(toolChoice) && !"tool".equals(lastRole)) {
            calls = plannedCalls(tools, toolChoice, parallel, lastUser != null ? lastUser : last);
        }
        return new ChatRequest(model, stream, includeUsage, maxTokens, words,
                List.of(hashTags ? hashTagOf(lastUser != null ? lastUser : last) : tagOf(lastUser != null ? lastUser : last)), n, List.of(), false, lp,
                top == null ? 0 : top.intValue(), false, false, calls);
    }

    /**
     * The calls the simulated model makes: the named function, else the first tool, else (with
     * {@code parallel_tool_calls: true}) every tool; its arguments {@code {"text": <the last user
     * message>}}, so what the backend received shows in what it calls.
     */
    private static List<String[]> plannedCalls(JsonArray tools, Object toolChoice, Boolean parallel, String text)
            throws Invalid {
        List<String> names = new ArrayList<>();
        for (Object t : tools) {
            if (!(t instanceof JsonObject tool) || !"function".equals(tool.getValue("type"))
                    || !(tool.getValue("function") instanceof JsonObject f) || !(f.getValue("name") instanceof String name)) {
                throw new Invalid("tools must be [{type: function, function: {name, ...}}]");
            }
            names.add(name);
        }
        if (toolChoice instanceof JsonObject named) {
            JsonObject f = named.getJsonObject("function");
            String name = f == null ? null : f.getString("name");
            if (!names.contains(name)) {
                throw new Invalid("tool_choice names a function that is not among the tools");
            }
            names = List.of(name);
        } else if (!Boolean.TRUE.equals(parallel)) {
            names = List.of(names.get(0));
        }
        String arguments = new JsonObject().put("text", text).encode();
        List<String[]> out = new ArrayList<>();
        for (String name : names) {
            out.add(new String[]{name, arguments});
        }
        return out;
    }

    private static int nOf(JsonObject json) throws Invalid {
        Number n = optional(json, "n", Number.class, null);
        if (n != null && (n.intValue() < 1 || n.intValue() > 128)) {
            throw new Invalid("n must be between 1 and 128");
        }
        return n == null ? 1 : n.intValue();
    }

    /** A legacy completion: {@code prompt} a string or an array of strings. */
    static ChatRequest parseCompletion(Buffer body, String defaultModel, int defaultMaxTokens) throws Invalid {
        JsonObject json;
        try {
            json = new JsonObject(body);
        } catch (DecodeException | ClassCastException e) {
            throw new Invalid("request body is not a JSON object");
        }
        String model = optional(json, "model", String.class, defaultModel);
        boolean stream = optional(json, "stream", Boolean.class, false);
        JsonObject streamOptions = optional(json, "stream_options", JsonObject.class, null);
        boolean includeUsage = streamOptions != null && optional(streamOptions, "include_usage", Boolean.class, false);
        Number max = optional(json, "max_tokens", Number.class, null);
        int maxTokens = max == null ? defaultMaxTokens : max.intValue();
        if (maxTokens < 1) {
            throw new Invalid("max_tokens must be a positive integer");
        }
        int n = nOf(json);
        Number lp = optional(json, "logprobs", Number.class, null);
        if (lp != null && (lp.intValue() < 0 || lp.intValue() > 5)) {
            throw new Invalid("logprobs must be between 0 and 5");
        }
        boolean echo = optional(json, "echo", Boolean.class, false);
        Object prompt = json.getValue("prompt");
        List<String> prompts = new ArrayList<>();
        if (prompt instanceof String p) {
            prompts.add(p);
        } else if (prompt instanceof JsonArray a && !a.isEmpty()) {
            for (Object p : a) {
                if (!(p instanceof String text)) {
                    throw new Invalid("prompt must be a string or an array of strings");
                }
                prompts.add(text);
            }
        } else {
            throw new Invalid("prompt must be a string or an array of strings");
        }
        int words = 0;
        List<String> tags = new ArrayList<>();
        for (String p : prompts) {
            words += countWords(p);
            tags.add(tagOf(p));
        }
        return new ChatRequest(model, stream, includeUsage, maxTokens, words, tags, n, prompts, true, false,
                lp == null ? 0 : lp.intValue(), lp != null, echo, List.of());
    }

    /** Text of token {@code index} (from 0) of this request's answer. */
    String token(int index) {
        return token(tag, index);
    }

    static String token(String tag, int index) {
        return index == 0 ? tag + index : " " + tag + index;
    }

    /**
     * {@code "h"} and 12 hex digits of the SHA-256 of the whole text (UTF-8): different questions
     * get different answers, so a client can tell which question an answer was generated for.
     */
    static String hashTagOf(String text) {
        try {
            byte[] d = java.security.MessageDigest.getInstance("SHA-256")
                    .digest((text == null ? "" : text).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return "h" + java.util.HexFormat.of().formatHex(d, 0, 6);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** First whitespace-separated word, lower-cased, letters and digits only, at most 16 chars. */
    static String tagOf(String text) {
        String trimmed = text == null ? "" : text.strip();
        int end = 0;
        while (end < trimmed.length() && !Character.isWhitespace(trimmed.charAt(end))) {
            end++;
        }
        StringBuilder tag = new StringBuilder();
        String word = trimmed.substring(0, end).toLowerCase(Locale.ROOT);
        for (int i = 0; i < word.length() && tag.length() < MAX_TAG_LENGTH; i++) {
            char c = word.charAt(i);
            if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
                tag.append(c);
            }
        }
        return tag.length() == 0 ? DEFAULT_TAG : tag.toString();
    }

    static int countWords(String text) {
        int words = 0;
        boolean inWord = false;
        for (int i = 0; i < text.length(); i++) {
            boolean space = Character.isWhitespace(text.charAt(i));
            if (!space && !inWord) {
                words++;
            }
            inWord = !space;
        }
        return words;
    }

    /** A message's content: a string, null, or an array of parts whose text parts count. */
    private static String contentText(Object content, int index) throws Invalid {
        if (content == null) {
            return "";
        }
        if (content instanceof String s) {
            return s;
        }
        if (content instanceof JsonArray parts) {
            StringBuilder text = new StringBuilder();
            for (Object part : parts) {
                if (part instanceof JsonObject p && p.getValue("text") instanceof String s) {
                    text.append(text.length() == 0 ? "" : " ").append(s);
                }
            }
            return text.toString();
        }
        throw new Invalid("messages[" + index + "].content must be a string or an array of parts");
    }

    private static <T> T optional(JsonObject json, String field, Class<T> type, T fallback) throws Invalid {
        Object value = json.getValue(field);
        if (value == null) {
            return fallback;
        }
        if (!type.isInstance(value)) {
            throw new Invalid(field + " must be a " + type.getSimpleName().toLowerCase(Locale.ROOT));
        }
        return type.cast(value);
    }
}
