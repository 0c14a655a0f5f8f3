package dev.offload.gateway.api;

import dev.offload.gateway.retrieval.SharedIndex;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Ready only once the shared index is open and its log replayed. */
@Readiness
@ApplicationScoped
public class IndexReadiness implements HealthCheck {
    @Inject
    SharedIndex index;

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.named("index").status(index.isReady()).build();
    }
}
