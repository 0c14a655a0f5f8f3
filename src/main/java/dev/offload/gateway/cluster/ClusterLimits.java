package dev.offload.gateway.cluster;

import dev.offload.gateway.generation.TierRegistry;
import dev.offload.gateway.security.DeviceRateLimiter;
import dev.offload.gateway.security.TenantGenerationLimiter;
import io.nats.client.Connection;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Cluster mode's limits: wires {@link ClusterMembership} and {@link UsageExchange} to this
 * replica's device rate limiter, tenant generation limiter and backend tiers, and decides,
 * every usage interval, which regime holds:
 *
 * <ul>
 *   <li><b>cluster</b> (NATS up, member list fresh): a device's bucket is debited with the
 *   others' grants, a tenant's in-flight limit counts the others' generations;</li>
 *   <li><b>share</b> (NATS down, or the member list older than the member timeout): every
 *   limit is cut to this replica's share of the last known member count N, rate and burst
 *   ×1/N, tenant limit /N.</li>
 * </ul>
 *
 * Backend slots are split by the member count in both regimes ({@link TierRegistry#shareBackends}).
 * Nothing here runs without {@code gateway.cluster.nats-url}: the limiters stay as they are built.
 *
 * <p>One scheduler thread ({@code cluster-limits}) does all of it; {@link #members()} and
 * {@link #regime()} may be read from any thread.
 */
@ApplicationScoped
public class ClusterLimits {
    private static final Logger LOG = Logger.getLogger(ClusterLimits.class);

    @Inject
    ClusterConfig config;
    @Inject
    NatsCluster nats;
    @Inject
    DeviceRateLimiter devices;
    @Inject
    TenantGenerationLimiter tenants;
    @Inject
    TierRegistry tiers;
    @Inject
    dev.offload.gateway.retrieval.SharedIndex index;

    private ScheduledExecutorService scheduler;
    private volatile Coordinator coordinator;

    void onStart(@Observes StartupEvent e) {
        if (!nats.enabled()) {
            return;
        }
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "cluster-limits");
            t.setDaemon(true);
            return t;
        });
        Coordinator c = new Coordinator(nats::connectionIfUp, Settings.of(config), nats.nodeName(), devices, tenants,
                tiers::shareBackends, System::nanoTime);
        // The heartbeat carries the applied sequence: the stream's retention waits for the slowest member.
        c.membership.reportProgress(index::appliedSequence);
        coordinator = c;
        c.start(scheduler);
    }

    void onStop(@Observes ShutdownEvent e) {
        Coordinator c = coordinator;
        if (c != null) {
            c.stop(scheduler);
        }
    }

    /** The live members as this replica last read them; empty without a cluster. */
    public List<String> members() {
        Coordinator c = coordinator;
        return c == null ? List.of() : c.membership.view().members();
    }

    /** The membership (heartbeats, ranks, progress); null without a cluster. */
    public ClusterMembership membership() {
        Coordinator c = coordinator;
        return c == null ? null : c.membership;
    }

    /** {@code cluster} or {@code share} (see the class comment); null without a cluster. */
    public String regime() {
        Coordinator c = coordinator;
        return c == null ? null : c.regime();
    }

    /** The cluster keys the limits use (see {@link ClusterConfig} for each). */
    public record Settings(String membersBucket, java.time.Duration heartbeatInterval, java.time.Duration memberTimeout,
                           java.time.Duration usageInterval, String usageSubject, int replicas, int initialMembers) {
        public Settings {
            if (heartbeatInterval.isNegative() || heartbeatInterval.isZero() || usageInterval.isNegative()
                    || usageInterval.isZero()) {
                throw new IllegalArgumentException("heartbeat-interval and usage-interval must be positive");
            }
            if (memberTimeout.compareTo(heartbeatInterval) <= 0) {
                throw new IllegalArgumentException("member-timeout (" + memberTimeout
                        + ") must be longer than heartbeat-interval (" + heartbeatInterval + ")");
            }
        }

        static Settings of(ClusterConfig c) {
            return new Settings(c.membersBucket(), c.heartbeatInterval(), c.memberTimeout(), c.usageInterval(),
                    c.usageSubject(), c.replicas(), c.initialMembers());
        }
    }

    /** Receives this replica's rank and the member count whenever either changes. */
    @FunctionalInterface
    public interface BackendShares {
        void share(int rank, int members);
    }

    /**
     * The decision loop, apart from CDI so tests run it against a real {@code nats-server}
     * with several "replicas" in one JVM. Runs on the scheduler it is started with.
     */
    public static final class Coordinator {
        final ClusterMembership membership;
        final UsageExchange exchange;
        private final DeviceRateLimiter devices;
        private final TenantGenerationLimiter tenants;
        private final BackendShares shares;
        private final long heartbeatNanos;
        private final long usageMillis;
        private final LongSupplier nanoClock;
        private long lastHeartbeat = Long.MIN_VALUE;
        private int sharedRank = -1;
        private int sharedMembers = -1;
        private volatile boolean clusterRegime;

        public Coordinator(Supplier<Connection> connection, Settings config, String node, DeviceRateLimiter devices,
                           TenantGenerationLimiter tenants, BackendShares shares, LongSupplier nanoClock) {
            this.membership = new ClusterMembership(connection, config.membersBucket(), node, config.memberTimeout(),
                    config.replicas(), config.initialMembers(), nanoClock);
            this.exchange = new UsageExchange(connection, config.usageSubject(), node, devices, tenants,
                    config.memberTimeout().toNanos(), nanoClock);
            this.devices = devices;
            this.tenants = tenants;
            this.shares = shares;
            this.heartbeatNanos = config.heartbeatInterval().toNanos();
            this.nanoClock = nanoClock;
            this.usageMillis = Math.max(1, config.usageInterval().toMillis());
            apply(false); // until NATS is heard: the share of the assumed member count
        }

        public void start(ScheduledExecutorService scheduler) {
            scheduler.scheduleWithFixedDelay(this::tick, 0, usageMillis, TimeUnit.MILLISECONDS);
        }

        /** Leaves the member list (so the others take over this replica's share at once) and stops. */
        public void stop(ScheduledExecutorService scheduler) {
            scheduler.shutdownNow();
            try {
                scheduler.awaitTermination(2, TimeUnit.SECONDS);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
            membership.leave();
            exchange.close();
        }

        /** One round: report usage, heartbeat when due, choose the regime. */
        void tick() {
            try {
                boolean sent = exchange.publish();
                long now = nanoClock.getAsLong();
                if (lastHeartbeat == Long.MIN_VALUE || now - lastHeartbeat >= heartbeatNanos) {
                    lastHeartbeat = now;
                    membership.heartbeat();
                }
                apply(sent && membership.fresh());
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                LOG.warnf(e, "cluster limits round failed");
            }
        }

        private void apply(boolean heard) {
            ClusterMembership.View v = membership.view();
            int n = Math.max(1, v.size());
            if (heard) {
                devices.scale(1);
                tenants.othersInFlight(exchange.othersInFlight(v.members()));
            } else {
                devices.scale(1.0 / n);
                tenants.shareOnly(n);
            }
            if (heard != clusterRegime) {
                LOG.infof(heard ? "cluster limits: shared across %d member(s)"
                        : "cluster limits: NATS not heard, each limit cut to this replica's share (1/%d)", n);
                clusterRegime = heard;
            }
            int rank = Math.min(membership.rank(), n - 1);
            if (rank != sharedRank || n != sharedMembers) {
                shares.share(rank, n);
                sharedRank = rank;
                sharedMembers = n;
            }
        }

        public String regime() {
            return clusterRegime ? "cluster" : "share";
        }

        public ClusterMembership.View view() {
            return membership.view();
        }
    }
}
