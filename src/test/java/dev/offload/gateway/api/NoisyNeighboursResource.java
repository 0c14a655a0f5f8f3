package dev.offload.gateway.api;

import java.util.Map;

/**
 * {@link SimulatedBackendsResource} with the abuse bounds shortened so tests see them act in
 * seconds: connections idle for 3 s are closed, bodies get 2 s to arrive.
 */
public class NoisyNeighboursResource extends SimulatedBackendsResource {
    static final long IDLE_TIMEOUT_MS = 3000;
    static final long BODY_TIMEOUT_MS = 2000;

    @Override
    public Map<String, String> start() {
        Map<String, String> config = super.start();
        config.put("quarkus.http.idle-timeout", IDLE_TIMEOUT_MS + "ms");
        config.put("gateway.limits.request-body-timeout", BODY_TIMEOUT_MS + "ms");
        return config;
    }
}
