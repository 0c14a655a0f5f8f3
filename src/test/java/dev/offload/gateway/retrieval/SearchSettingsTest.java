package dev.offload.gateway.retrieval;

import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfigBuilder;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The search settings in force: set values win, unset ones follow the embedding model. */
class SearchSettingsTest {
    private static SearchSettings settings(Map<String, String> properties) {
        Map<String, String> p = new HashMap<>(properties);
        return SearchSettings.of(new SmallRyeConfigBuilder()
                .withConverter(java.time.Duration.class, 200, new io.quarkus.runtime.configuration.DurationConverter())
                .withSources(new PropertiesConfigSource(p, "test", 250))
                .withMapping(RetrievalConfig.class)
                .withMappingIgnore("gateway.**")
                .build().getConfigMapping(RetrievalConfig.class));
    }

    @Test
    void theModelsDefaultsApplyWhereNothingIsSet() {
        SearchSettings bge = settings(Map.of("gateway.embedding.model", "bge-small-en-v1.5-q"));
        assertEquals(0.1, bge.sparseWeight());
        assertEquals(3, bge.feedbackDepth());
        assertTrue(Double.isInfinite(bge.feedbackSkipMargin()), "feedback runs on every query unless configured");
    }

    @Test
    void theSkipMarginIsTakenFromConfigurationAndCheckedThere() {
        assertEquals(0.2, settings(Map.of("gateway.search.feedback-skip-margin", "0.2")).feedbackSkipMargin());
        assertTrue(Double.isInfinite(settings(Map.of("gateway.search.feedback-skip-margin", "Infinity")).feedbackSkipMargin()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> settings(Map.of("gateway.search.feedback-skip-margin", "-0.1")));
        assertTrue(e.getMessage().contains("gateway.search.feedback-skip-margin"), e.getMessage());
    }
}
