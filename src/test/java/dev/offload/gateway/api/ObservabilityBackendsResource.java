package dev.offload.gateway.api;

import java.util.Map;

/** The simulated replicas, plus index commits often enough that a test sees one. */
public class ObservabilityBackendsResource extends SimulatedBackendsResource {
    @Override
    public Map<String, String> start() {
        Map<String, String> config = super.start();
        config.put("gateway.index.commit-interval", "300ms");
        return config;
    }
}
