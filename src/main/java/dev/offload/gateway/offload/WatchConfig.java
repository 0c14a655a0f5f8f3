package dev.offload.gateway.offload;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;

/** Pushing the gateway's state to devices ({@code gateway.watch.*}): gRPC {@code Watch} and SSE {@code /v1/offload/watch}. */
@ConfigMapping(prefix = "gateway.watch")
public interface WatchConfig {
    /** How often the gateway samples its state for changes; changes within one interval are sent as one snapshot. */
    @WithDefault("500ms")
    Duration interval();

    /** An unchanged snapshot is sent again after this long, so a device knows the stream is alive. */
    @WithDefault("10s")
    Duration heartbeat();

    /** Each snapshot's {@code validForMs}: a device stops using it this long after receipt. Longer than the heartbeat. */
    @WithDefault("30s")
    Duration validity();

    /** Open watches one device key may hold (gRPC and SSE together); more are refused (429 / RESOURCE_EXHAUSTED). */
    @WithDefault("4")
    int maxPerDevice();

    /** Open watches one tenant may hold across its devices. */
    @WithDefault("20000")
    int maxPerTenant();
}
