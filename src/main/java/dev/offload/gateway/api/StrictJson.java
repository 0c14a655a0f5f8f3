package dev.offload.gateway.api;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.jackson.ObjectMapperCustomizer;
import jakarta.inject.Singleton;

/**
 * The JSON every endpoint reads is strict, so a request means one thing or is refused (400):
 * <ul>
 *   <li>a key twice in one object ({@code {"query":"a","k":3,"query":"b"}}) is refused, not
 *       silently resolved to the first or the last: a proxy, a cache key and the gateway could
 *       otherwise each read a different query out of the same bytes;</li>
 *   <li>a field the API does not know ({@code topK} for {@code k}) is refused with its name and
 *       the known ones, instead of being ignored while the default applies unnoticed.</li>
 * </ul>
 * Types that must accept more — the OpenAI request of {@code /v1/chat/completions}, whose
 * clients send fields the gateway does not use — say so with
 * {@code @JsonIgnoreProperties(ignoreUnknown = true)}; duplicates are refused there too.
 * {@link ProblemMappers#jsonProblem} words the refusals.
 *
 * <p>Applies to the one Quarkus {@link ObjectMapper}: Quarkus REST bodies and every route that
 * injects it ({@code /v1/query}, {@code /v1/chat/completions}).
 */
@Singleton
public class StrictJson implements ObjectMapperCustomizer {
    @Override
    public void customize(ObjectMapper mapper) {
        mapper.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
        mapper.enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    }

    /** After Quarkus' own customizer, which applies {@code quarkus.jackson.*} (unknown properties off by default). */
    @Override
    public int priority() {
        return MINIMUM_PRIORITY;
    }
}
