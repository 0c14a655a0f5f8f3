package dev.offload.gateway.api;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** OpenAI's legacy Completions wire format ({@code POST /v1/completions}): what the gateway reads. */
final class LegacyCompletions {
    private LegacyCompletions() {
    }

    /** The parameters of a request; every field of OpenAI's Completions request is read here or refused by {@link #refusal}. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record Request(String model, JsonNode prompt, Boolean stream,
                   @JsonProperty("stream_options") JsonNode streamOptions,
                   @JsonProperty("max_tokens") Integer maxTokens,
                   Double temperature,
                   @JsonProperty("top_p") Double topP,
                   Integer n,
                   Integer logprobs,
                   Boolean echo,
                   JsonNode stop,
                   @JsonProperty("presence_penalty") Double presencePenalty,
                   @JsonProperty("frequency_penalty") Double frequencyPenalty,
                   @JsonProperty("best_of") Integer bestOf,
                   @JsonProperty("logit_bias") Map<String, Integer> logitBias,
                   String user,
                   String suffix,
                   Integer seed) {
        /** The parameters both endpoints share, for the chat's range checks. */
        ChatCompletions.Request asChat() {
            return new ChatCompletions.Request(model, null, stream, maxTokens, null, temperature, topP, stop, seed,
                    presencePenalty, frequencyPenalty, logitBias, user, null, null, streamOptions, null, null, null,
                    null, null);
        }
    }

    /** Fields the gateway reads and passes on. */
    static final Set<String> HONOURED = Set.of("model", "prompt", "stream", "stream_options", "max_tokens", "temperature",
            "top_p", "n", "logprobs", "echo", "stop", "presence_penalty", "frequency_penalty", "best_of", "logit_bias",
            "user", "suffix", "seed");

    /** The first field the gateway would not honour, as {@code [param, message]}; null when it honours them all. */
    static String[] refusal(JsonNode body) {
        for (Iterator<Map.Entry<String, JsonNode>> it = body.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            if (HONOURED.contains(f.getKey()) || f.getValue().isNull()) {
                continue;
            }
            return new String[]{f.getKey(), "unknown parameter '" + f.getKey()
                    + "' (the gateway passes on every Completions parameter it knows and refuses others)"};
        }
        return null;
    }

    /** The prompts: a string, or an array of strings; null for anything else (token ids, nested arrays, empty). */
    static List<String> prompts(JsonNode prompt) {
        if (prompt == null || prompt.isNull()) {
            return null;
        }
        if (prompt.isTextual()) {
            return List.of(prompt.asText());
        }
        if (!prompt.isArray() || prompt.isEmpty()) {
            return null;
        }
        List<String> out = new ArrayList<>(prompt.size());
        for (JsonNode p : prompt) {
            if (!p.isTextual()) {
                return null;
            }
            out.add(p.asText());
        }
        return out;
    }

    /** The first parameter out of its range, as {@code [param, message]}; null when all are valid. */
    static String[] invalid(Request r, int maxChoices) {
        if (r.temperature() != null && (r.temperature() < 0 || r.temperature() > 2)) {
            return new String[]{"temperature", "temperature must be between 0 and 2"};
        }
        if (r.n() != null && (r.n() < 1 || r.n() > maxChoices)) {
            return new String[]{"n", "n must be between 1 and " + maxChoices};
        }
        if (r.logprobs() != null && (r.logprobs() < 0 || r.logprobs() > 5)) {
            return new String[]{"logprobs", "logprobs must be between 0 and 5"};
        }
        if (r.bestOf() != null) {
            int n = r.n() == null ? 1 : r.n();
            if (r.bestOf() < n || r.bestOf() > maxChoices) {
                return new String[]{"best_of", "best_of must be between n and " + maxChoices};
            }
            if (Boolean.TRUE.equals(r.stream()) && r.bestOf() > n) {
                return new String[]{"best_of", "best_of greater than n cannot be streamed (the best are known only at the end)"};
            }
        }
        return null;
    }
}
