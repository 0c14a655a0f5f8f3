package dev.offload.gateway.cluster;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Cluster mode: several gateways at a site share one index log and one semantic cache through
 * NATS JetStream. Off unless {@link #natsUrl()} is set; then every other key has a default.
 */
@ConfigMapping(prefix = "gateway.cluster")
public interface ClusterConfig {
    /**
     * NATS server URLs, comma-separated ({@code nats://nats-0:4222,nats://nats-1:4222}); set it
     * ({@code GATEWAY_CLUSTER_NATS_URL}) to turn cluster mode on. Unset: one process, local log.
     */
    Optional<List<String>> natsUrl();

    /**
     * NATS user name ({@code GATEWAY_CLUSTER_USER}); with {@link #password()}. For a NATS server
     * whose {@code authorization} block lists users (k8s/base/nats.yaml does). Unset: no user.
     */
    Optional<String> user();

    /** The NATS user's password ({@code GATEWAY_CLUSTER_PASSWORD}, from a Secret); only with {@link #user()}. */
    Optional<String> password();

    /**
     * A NATS credentials file (JWT + NKey seed, {@code nsc generate creds}) for a server in
     * operator mode; instead of {@link #user()}. Unset: none.
     */
    Optional<String> credentialsFile();

    /** This replica's name in the cluster (logs, NATS connection name); default: host name and pid. */
    Optional<String> nodeName();

    /** The JetStream stream holding the index log (created if missing). */
    @WithDefault("OFFLOAD_INDEX")
    String stream();

    /** The JetStream stream carrying semantic-cache entries (created if missing; entries expire with the cache TTL). */
    @WithDefault("OFFLOAD_CACHE")
    String cacheStream();

    /** Replicas of each stream: 3 for a quorum that survives one NATS node; at most the NATS cluster's size. */
    @WithDefault("3")
    int replicas();

    /** Longest wait for JetStream's publish acknowledgement before a write is refused (503). */
    @WithDefault("800ms")
    Duration publishTimeout();

    /**
     * Longest wait, after the acknowledgement, for this replica's own apply of the write (a
     * replica behind on the log applies the backlog first). Past it the write is answered 503
     * although it is logged: every replica applies it, and an upsert may be retried.
     */
    @WithDefault("30s")
    Duration applyTimeout();

    /** Longest wait of a read carrying {@code X-Offload-Min-Sequence} for that sequence (then 503). Also used without a cluster. */
    @WithDefault("2s")
    Duration minSequenceWait();

    /** The Retry-After of a refused write or of a read whose sequence did not arrive in time. */
    @WithDefault("2s")
    Duration retryAfter();

    /** Connect timeout per NATS server attempt; the client keeps reconnecting for ever. */
    @WithDefault("2s")
    Duration connectTimeout();

    /** Largest index stream in bytes before the oldest records are refused (JetStream max-bytes; -1: unbounded). */
    @WithDefault("-1")
    long maxStreamBytes();

    /**
     * The JetStream key-value bucket every replica heartbeats into (created if missing, memory
     * storage): its keys are the live members. Its max age is {@link #memberTimeout()}.
     */
    @WithDefault("OFFLOAD_MEMBERS")
    String membersBucket();

    /** How often a replica writes its heartbeat into the members bucket and reads the member list. */
    @WithDefault("1s")
    Duration heartbeatInterval();

    /**
     * A replica whose heartbeat is older than this is no longer a member (the bucket's max age:
     * NATS 2.9 has no per-key TTL, the whole bucket expires entries). Also how long this replica
     * trusts a member list it could not refresh before it falls back to per-replica shares.
     */
    @WithDefault("3s")
    Duration memberTimeout();

    /**
     * How often a replica reports its device-rate grants and tenant generations in flight to the
     * others (core NATS subject {@code <usage-subject>}); the bound of the limits' lag.
     */
    @WithDefault("100ms")
    Duration usageInterval();

    /** The core NATS subject carrying the usage reports. */
    @WithDefault("offload_limits.usage")
    String usageSubject();

    /**
     * Members assumed until the first member list is read (a replica that starts while NATS is
     * down splits its limits by this). 1: the whole limit, as a single gateway.
     */
    @WithDefault("1")
    int initialMembers();

    /**
     * The JetStream object store holding index snapshots (created if missing, file storage,
     * {@link #replicas()} copies): a new or stale replica starts from the newest one that checks out.
     */
    @WithDefault("OFFLOAD_SNAPSHOTS")
    String snapshotBucket();

    /** Longest time between snapshots while the index changes (one replica, the first live member, takes them). */
    @WithDefault("5m")
    Duration snapshotInterval();

    /** Index-log records (write batches) applied since the newest snapshot that trigger the next one sooner; 0: time only. */
    @WithDefault("10000")
    long snapshotRecords();

    /** Snapshots kept in the object store; older ones are deleted after each new one (at least 1). */
    @WithDefault("2")
    int snapshotKeep();

    /**
     * Records the index stream keeps below the point its retention allows (the oldest kept snapshot,
     * or the slowest live member if that is further back); -1: the stream is never purged.
     */
    @WithDefault("1000")
    long retentionMargin();
}
