package dev.offload.gateway.api;

import java.util.Map;

/** The simulated backends, with a fast watch (100 ms samples, 1 s heartbeat), small watcher limits and circuits that stay open. */
public class WatchBackendsResource extends SimulatedBackendsResource {
    @Override
    public Map<String, String> start() {
        Map<String, String> config = super.start();
        config.put("gateway.watch.interval", "100ms");
        config.put("gateway.watch.heartbeat", "1s");
        config.put("gateway.watch.validity", "5s");
        config.put("gateway.watch.max-per-device", "2");
        config.put("gateway.watch.max-per-tenant", "3");
        config.put("gateway.tiers.edge.circuit-delay", "30s");
        return config;
    }
}
