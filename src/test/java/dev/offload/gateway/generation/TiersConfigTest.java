package dev.offload.gateway.generation;

import dev.offload.gateway.privacy.Zone;
import io.smallrye.config.EnvConfigSource;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tiers are a map of named groups: any name works, from properties or from the environment. */
class TiersConfigTest {
    private static TiersConfig mapping(Map<String, String> properties, Map<String, String> env) {
        SmallRyeConfig config = new SmallRyeConfigBuilder()
                .withConverter(java.time.Duration.class, 200, new io.quarkus.runtime.configuration.DurationConverter())
                .withSources(new PropertiesConfigSource(properties, "test", 250))
                .withSources(new EnvConfigSource(env, 300))
                .withMapping(TiersConfig.class)
                .build();
        return config.getConfigMapping(TiersConfig.class);
    }

    @Test
    void aNewTierIsAddedByConfigurationAlone() {
        TiersConfig c = mapping(Map.of(
                "gateway.tiers.edge.order", "10", "gateway.tiers.edge.zone", "edge",
                "gateway.tiers.neighbour.base-urls", "http://10.0.0.7:8000/v1",
                "gateway.tiers.neighbour.order", "5", "gateway.tiers.neighbour.zone", "device-adjacent",
                "gateway.tiers.second-region.base-urls", "https://eu-2.example.net/v1",
                "gateway.tiers.second-region.zone", "REGIONAL"), Map.of());
        assertEquals(Zone.DEVICE_ADJACENT, c.tiers().get("neighbour").effectiveZone());
        assertEquals(5, c.tiers().get("neighbour").order());
        assertEquals(Zone.REGIONAL, c.tiers().get("second-region").effectiveZone());
        assertEquals(100, c.tiers().get("second-region").order(), "the default order puts unordered tiers last");
        assertEquals(List.of("https://eu-2.example.net/v1"), c.tiers().get("second-region").baseUrls().orElseThrow());
    }

    @Test
    void environmentVariablesReachTiersTheShippedPropertiesName() {
        // The shipped application.properties names edge and cloud; the environment fills them in.
        TiersConfig c = mapping(Map.of("gateway.tiers.edge.order", "10", "gateway.tiers.cloud.zone", "regional"),
                Map.of("GATEWAY_TIERS_EDGE_BASE_URLS", "http://vllm-0:8000/v1,http://vllm-1:8000/v1",
                        "GATEWAY_TIERS_CLOUD_MAX_CONTEXT_TOKENS", "8192"));
        assertEquals(List.of("http://vllm-0:8000/v1", "http://vllm-1:8000/v1"), c.tiers().get("edge").baseUrls().orElseThrow());
        assertEquals(8192, c.tiers().get("cloud").maxContextTokens());
    }

    @Test
    void aTierNamedOnlyInTheEnvironmentExists() {
        TiersConfig c = mapping(Map.of("gateway.tiers.edge.order", "10"),
                Map.of("GATEWAY_TIERS_NEIGHBOUR_BASE_URLS", "http://10.0.0.7:8000/v1",
                        "GATEWAY_TIERS_NEIGHBOUR_ZONE", "device-adjacent"));
        assertTrue(c.tiers().containsKey("neighbour"), c.tiers().keySet().toString());
        assertEquals(Zone.DEVICE_ADJACENT, c.tiers().get("neighbour").effectiveZone());
    }

    @Test
    void theOlderExternalFlagStillDecidesWhenSet() {
        TiersConfig c = mapping(Map.of(
                "gateway.tiers.a.zone", "regional", "gateway.tiers.a.external", "false",
                "gateway.tiers.b.zone", "edge", "gateway.tiers.b.external", "true",
                "gateway.tiers.c.external", "true",
                "gateway.tiers.d.zone", "device-adjacent", "gateway.tiers.d.external", "false",
                "gateway.tiers.e.model", "m"), Map.of());
        assertEquals(Zone.EDGE, c.tiers().get("a").effectiveZone());
        assertEquals(Zone.EXTERNAL, c.tiers().get("b").effectiveZone());
        assertEquals(Zone.EXTERNAL, c.tiers().get("c").effectiveZone());
        assertEquals(Zone.DEVICE_ADJACENT, c.tiers().get("d").effectiveZone());
        assertEquals(Zone.EDGE, c.tiers().get("e").effectiveZone(), "no zone, no flag: the edge zone");
        assertTrue(c.tiers().get("e").baseUrls().isEmpty(), "a tier without base URLs is only mentioned");
    }
}
