package dev.offload.gateway.api;

import dev.offload.gateway.cluster.JetStreamIndexLog;
import dev.offload.gateway.cluster.NatsCluster;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * Cluster mode: ready once this replica has applied the index log up to the stream's last
 * sequence at its start (so a new or restarted replica serves what the others serve), and not
 * while it cannot follow the log at all. A NATS outage after that leaves it ready: reads,
 * cache lookups and generation go on from its own state. Always up without a cluster.
 */
@Readiness
@ApplicationScoped
public class ClusterReadiness implements HealthCheck {
    @Inject
    NatsCluster nats;
    @Inject
    JetStreamIndexLog log;
    @Inject
    dev.offload.gateway.cluster.ClusterLimits limits;
    @Inject
    dev.offload.gateway.cluster.ClusterSnapshots snapshots;

    @Override
    public HealthCheckResponse call() {
        if (!nats.enabled()) {
            return HealthCheckResponse.named("cluster").up().withData("mode", "embedded").build();
        }
        boolean up = log.caughtUp() && log.failure() == null;
        var b = HealthCheckResponse.named("cluster").status(up).withData("node", nats.nodeName())
                .withData("natsConnected", nats.connectionIfUp() != null)
                .withData("streamLastSequence", log.streamLastSequence())
                .withData("members", limits.members().size())
                .withData("limits", String.valueOf(limits.regime()));
        snapshots.installed().ifPresent(i -> b.withData("bootstrapSnapshot", i.snapshot().name())
                .withData("bootstrapMillis", i.millis()));
        if (log.failure() != null) {
            b.withData("failure", log.failure());
        }
        return b.build();
    }
}
