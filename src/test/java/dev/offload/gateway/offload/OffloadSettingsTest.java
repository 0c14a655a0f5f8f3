package dev.offload.gateway.offload;

import dev.offload.gateway.offload.policy.PolicySettings;
import io.smallrye.config.SmallRyeConfigBuilder;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The config mapping and the device package's settings record agree: one set of defaults, every key carried over. */
class OffloadSettingsTest {
    private static OffloadConfig config(Map<String, String> values) {
        return new SmallRyeConfigBuilder()
                .withConverter(Duration.class, 100, new io.quarkus.runtime.configuration.DurationConverter())
                .withDefaultValues(values)
                .withMapping(OffloadConfig.class).build().getConfigMapping(OffloadConfig.class);
    }

    @Test
    void theMappingsDefaultsAreTheRecordsDefaults() {
        assertEquals(PolicySettings.defaults(), OffloadAdvisor.settingsOf(config(Map.of())));
    }

    @Test
    void everyKeyReachesTheRecord() {
        PolicySettings s = OffloadAdvisor.settingsOf(config(Map.ofEntries(
                Map.entry("gateway.offload.saturation-util", "0.7"), Map.entry("gateway.offload.load-slowdown-weight", "0.3"),
                Map.entry("gateway.offload.thermal-serious-factor", "0.5"), Map.entry("gateway.offload.low-battery-pct", "15"),
                Map.entry("gateway.offload.min-local-memory-mb", "256"), Map.entry("gateway.offload.local-prefill-speedup", "6"),
                Map.entry("gateway.offload.default-output-tokens", "120"), Map.entry("gateway.offload.long-output-tokens", "500"),
                Map.entry("gateway.offload.context-tokens-estimate", "800"), Map.entry("gateway.offload.local-max-output-tokens", "300"),
                Map.entry("gateway.offload.local-bias", "1.5"), Map.entry("gateway.offload.min-local-quality", "0.6"),
                Map.entry("gateway.offload.local-quality-enabled", "false"),
                Map.entry("gateway.offload.local-preferred-quality", "0.9"), Map.entry("gateway.offload.default-rtt-ms", "60"),
                Map.entry("gateway.offload.prior-ttft-ms", "300"), Map.entry("gateway.offload.prior-tokens-per-sec", "30"),
                Map.entry("gateway.offload.slow-network-share", "0.4"), Map.entry("gateway.offload.validity", "20s"),
                Map.entry("gateway.offload.unstable-validity", "2s"))));
        assertEquals(new PolicySettings(0.7, 0.3, 0.5, 15, 256, 6, 120, 500, 800, 300, 1.5, 0.6, 0.9, false, 60, 300, 30, 0.4,
                20_000, 2_000), s);
    }

    @Test
    void badValuesAreRefusedAtOnce() {
        assertThrows(IllegalArgumentException.class,
                () -> OffloadAdvisor.settingsOf(config(Map.of("gateway.offload.saturation-util", "1.5"))));
    }
}
