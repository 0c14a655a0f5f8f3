package dev.offload.gateway.api;

import java.util.Map;

/**
 * {@link SimulatedBackendsResource} for the soak: bodies get 2 s to arrive (so trickling clients
 * are cut off often). The idle timeout stays the production one: it also closes a connection
 * whose request is silently waiting, and on a loaded 2-core machine a queued request can wait
 * many seconds, so the noisy-neighbour test's 3 s would close well-behaved requests.
 */
public class SoakResource extends SimulatedBackendsResource {
    @Override
    public Map<String, String> start() {
        Map<String, String> config = super.start();
        config.put("gateway.limits.request-body-timeout", "2s");
        return config;
    }

    /**
     * None: the soak reads no request log, and the backends run in the gateway's JVM, whose heap
     * it measures — three logs of 10,000 prompts filling up would read as a 50 MiB leak.
     */
    @Override
    protected int recordLimit() {
        return 0;
    }
}
