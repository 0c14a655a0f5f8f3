package dev.offload.gateway.sim;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

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

    private ChatRequest(String model, boolean stream, boolean includeUsage, int maxTokens, int promptTokens,
                        String tag) {
        this.model = model;
        this.stream = stream;
        this.includeUsage = includeUsage;
        this.maxTokens = maxTokens;
        this.promptTokens = promptTokens;
        this.tag = tag;
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

        JsonArray messages = optional(json, "messages", JsonArray.class, null);
        if (messages == null || messages.isEmpty()) {
            throw new Invalid("messages must be a non-empty array");
        }
        int words = 0;
        String lastUser = null;
        String last = "";
        for (int i = 0; i < messages.size(); i++) {
            if (!(messages.getValue(i) instanceof JsonObject message)) {
                throw new Invalid("messages[" + i + "] must be an object");
            }
            if (!(message.getValue("role") instanceof String role)) {
                throw new Invalid("messages[" + i + "].role must be a string");
            }
            String text = contentText(message.getValue("content"), i);
            words += countWords(text);
            last = text;
            if (role.equals("user")) {
                lastUser = text;
            }
        }
        String tagged = lastUser != null ? lastUser : last;
        return new ChatRequest(model, stream, includeUsage, maxTokens, words, hashTags ? hashTagOf(tagged) : tagOf(tagged));
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
