package dev.offload.gateway.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import dev.offload.gateway.retrieval.Embedder;
import dev.offload.gateway.retrieval.InvalidRequestException;
import dev.offload.gateway.security.TenantGenerationLimiter;
import io.smallrye.common.annotation.Blocking;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

/**
 * {@code POST /v1/embeddings}: OpenAI's Embeddings API from the gateway's own in-process model
 * ({@code gateway.embedding.model}, bge-small-en-v1.5 by default, 384 dimensions, unit length: the
 * vectors its index uses; {@code model} may name it by its published or its configuration name), for
 * devices that cannot run an embedding model. {@code input} is a string or an array of up to
 * {@value #MAX_INPUTS} strings of at most {@value #MAX_CHARS} characters each, embedded in
 * parallel; {@code encoding_format} {@code float} (default) or {@code base64} (little-endian
 * float32, as OpenAI's clients decode it). Token-id input and other {@code dimensions} are
 * refused by name. Each call takes one of the tenant's concurrent-generation slots
 * ({@code gateway.limits.tenant-concurrent-generations}; 429 with Retry-After beyond).
 * {@code usage} counts about four characters per token (the gateway has no tokenizer of the
 * client's model).
 */
@Path("/v1/embeddings")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Blocking
public class EmbeddingsResource {
    static final int MAX_INPUTS = 256;
    static final int MAX_CHARS = 8192;

    @Inject
    Embedder embedder;
    @Inject
    TenantGenerationLimiter limiter;

    /** OpenAI's request; every field is read (or refused), none is dropped. */
    public record Request(JsonNode input, String model, @JsonProperty("encoding_format") String encodingFormat,
                          Integer dimensions, String user) {
    }

    public record Embedding(String object, int index, Object embedding) {
    }

    public record Usage(@JsonProperty("prompt_tokens") int promptTokens, @JsonProperty("total_tokens") int totalTokens) {
    }

    public record Result(String object, List<Embedding> data, String model, Usage usage) {
    }

    @POST
    public Response embed(Request request) {
        if (request == null) {
            throw InvalidRequestException.of("input", "must be a string or an array of strings");
        }
        List<String> texts = texts(request.input());
        dev.offload.gateway.retrieval.EmbeddingModel model = dev.offload.gateway.retrieval.EmbeddingModel.byName(embedder.modelName());
        if (request.model() != null && !request.model().isBlank() && !request.model().equalsIgnoreCase(model.publicName())
                && !request.model().equalsIgnoreCase(model.modelName())) {
            throw InvalidRequestException.of("model", "the gateway embeds with " + model.publicName() + " only");
        }
        if (request.dimensions() != null && request.dimensions() != embedder.dimension()) {
            throw InvalidRequestException.of("dimensions", "the model has " + embedder.dimension() + " dimensions; it cannot shorten them");
        }
        String format = request.encodingFormat() == null ? "float" : request.encodingFormat();
        if (!format.equals("float") && !format.equals("base64")) {
            throw InvalidRequestException.of("encoding_format", "must be float or base64");
        }
        Optional<TenantGenerationLimiter.Permit> permit = limiter.tryAcquire(Callers.tenant());
        if (permit.isEmpty()) {
            return Response.status(429).header("Retry-After", limiter.retryAfterSeconds()).type(Problem.MEDIA_TYPE)
                    .entity(new Problem("about:blank", "Too Many Requests", 429, "this tenant already has "
                            + limiter.maxPerTenant() + " generations or embeddings in flight", null, List.of())).build();
        }
        try (TenantGenerationLimiter.Permit p = permit.get()) {
            List<float[]> vectors = embedder.embedAll(texts);
            List<Embedding> data = new ArrayList<>(vectors.size());
            int chars = 0;
            for (int i = 0; i < vectors.size(); i++) {
                data.add(new Embedding("embedding", i, format.equals("base64") ? base64(vectors.get(i)) : vectors.get(i)));
                chars += texts.get(i).length();
            }
            int tokens = Math.max(1, (chars + 3) / 4);
            return Response.ok(new Result("list", data, model.publicName(), new Usage(tokens, tokens))).build();
        }
    }

    private static List<String> texts(JsonNode input) {
        if (input == null || input.isNull()) {
            throw InvalidRequestException.of("input", "is required: a string or an array of strings");
        }
        List<String> out = new ArrayList<>();
        if (input.isTextual()) {
            out.add(input.asText());
        } else if (input.isArray()) {
            if (input.size() > MAX_INPUTS) {
                throw InvalidRequestException.of("input", "at most " + MAX_INPUTS + " texts per request");
            }
            for (int i = 0; i < input.size(); i++) {
                JsonNode t = input.get(i);
                if (!t.isTextual()) {
                    throw InvalidRequestException.of("input[" + i + "]", t.isNumber() || t.isArray()
                            ? "token ids are not supported: send text" : "must be a string");
                }
                out.add(t.asText());
            }
        } else {
            throw InvalidRequestException.of("input", "must be a string or an array of strings");
        }
        if (out.isEmpty()) {
            throw InvalidRequestException.of("input", "must not be empty");
        }
        for (int i = 0; i < out.size(); i++) {
            String t = out.get(i);
            String field = input.isArray() ? "input[" + i + "]" : "input";
            if (t.isBlank()) {
                throw InvalidRequestException.of(field, "must not be empty");
            }
            if (t.length() > MAX_CHARS) {
                throw InvalidRequestException.of(field, "at most " + MAX_CHARS + " characters");
            }
        }
        return out;
    }

    /** Little-endian float32, base64: what OpenAI's clients decode for {@code encoding_format=base64}. */
    static String base64(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        return Base64.getEncoder().encodeToString(b.array());
    }
}
