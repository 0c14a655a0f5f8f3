package dev.offload.gateway.capacity;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;

/** Live capacity measurement. */
@ConfigMapping(prefix = "gateway.capacity")
public interface CapacityConfig {
    /** How often the tiers' completion and token counters are sampled into service rates. */
    @WithDefault("1s")
    Duration sampleInterval();

    /** Half-life of the measured rates: how quickly they follow a change in traffic. */
    @WithDefault("30s")
    Duration rateHalfLife();
}
