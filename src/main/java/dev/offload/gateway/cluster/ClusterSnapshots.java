package dev.offload.gateway.cluster;

import dev.offload.gateway.retrieval.CommittedIndex;
import dev.offload.gateway.retrieval.Embedder;
import dev.offload.gateway.retrieval.IndexBootstrap;
import dev.offload.gateway.retrieval.SharedIndex;
import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.PurgeOptions;
import io.nats.client.api.StreamState;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Cluster mode's snapshots ({@link SnapshotStore}, a JetStream object store) and what they allow:
 *
 * <ul>
 *   <li><b>Taking them.</b> The first live member in name order (rank 0 of the membership), once
 *       caught up, checks every few seconds and uploads its committed index when
 *       {@code snapshot-records} records were applied since the newest snapshot or
 *       {@code snapshot-interval} has passed with any applied; then keeps the newest
 *       {@code snapshot-keep} and purges the index stream below what {@link SnapshotStore#retainFrom}
 *       allows.</li>
 *   <li><b>Starting from them.</b> Before the index opens ({@link IndexBootstrap}), a replica whose
 *       data directory is empty, or older than the stream's first record, installs the newest
 *       snapshot that checks out; its follower then applies the stream from the snapshot's
 *       sequence + 1.</li>
 * </ul>
 *
 * <p>Threads: {@link #prepare} on the index-opening thread; the snapshot checks on their own
 * {@code cluster-snapshot} thread.
 */
@ApplicationScoped
public class ClusterSnapshots implements IndexBootstrap {
    private static final Logger LOG = Logger.getLogger(ClusterSnapshots.class);
    private static final Duration LONGEST_CHECK = Duration.ofSeconds(5);

    @Inject
    ClusterConfig config;
    @Inject
    NatsCluster nats;
    @Inject
    SharedIndex index;
    @Inject
    Embedder embedder;
    @Inject
    JetStreamIndexLog log;
    @Inject
    ClusterLimits limits;

    private volatile boolean stopping;
    private ScheduledExecutorService scheduler;
    private SnapshotStore store;
    private final List<String> refusals = new java.util.concurrent.CopyOnWriteArrayList<>();
    private volatile SnapshotStore.Installed installed;
    /** When this process started: the interval of a store without snapshots counts from here. */
    private final Instant started = Instant.now();

    @Override
    public boolean enabled() {
        return nats.enabled();
    }

    private synchronized SnapshotStore store() {
        if (store == null) {
            store = new SnapshotStore(nats::connectionIfUp, config.snapshotBucket(), config.replicas());
        }
        return store;
    }

    void onStart(@Observes StartupEvent e) {
        if (!enabled()) {
            return;
        }
        if (config.snapshotKeep() < 1) {
            throw new IllegalArgumentException("gateway.cluster.snapshot-keep must be at least 1: " + config.snapshotKeep());
        }
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "cluster-snapshot");
            t.setDaemon(true);
            return t;
        });
        long every = Math.max(100, Math.min(config.snapshotInterval().toMillis(), LONGEST_CHECK.toMillis()));
        scheduler.scheduleWithFixedDelay(this::check, every, every, TimeUnit.MILLISECONDS);
    }

    void onStop(@Observes ShutdownEvent e) {
        stopping = true;
        if (scheduler != null) {
            scheduler.shutdownNow();
        }
    }

    /** The snapshots this replica refused at its bootstrap, each with the reason (for the failure message). */
    public List<String> refusals() {
        return List.copyOf(refusals);
    }

    /** The snapshot this replica started from, if it did. */
    public Optional<SnapshotStore.Installed> installed() {
        return Optional.ofNullable(installed);
    }

    @Override
    public void prepare(Path dataDir, long committedSequence) throws Exception {
        Connection c = awaitConnection();
        if (c == null) {
            return; // stopping
        }
        StreamState s = c.getStreamContext(config.stream()).getStreamInfo().getStreamState();
        long first = s.getFirstSequence();
        long last = s.getLastSequence();
        boolean empty = committedSequence == 0;
        boolean stale = committedSequence + 1 < first;
        if ((!empty && !stale) || last == 0) {
            return; // the stream holds everything after the local commit (or nothing at all): replay it
        }
        LOG.infof("index at sequence %d, stream %d..%d: looking for a snapshot in %s", committedSequence, first, last,
                config.snapshotBucket());
        Optional<SnapshotStore.Installed> got = store().install(dataDir, committedSequence, first, last,
                embedder.modelName(), embedder.dimension(), refusals);
        if (got.isPresent()) {
            installed = got.get();
            SnapshotStore.Installed i = got.get();
            LOG.infof("bootstrapped from snapshot %s (sequence %d, %d files, %d bytes, taken by %s) in %d ms (download, unpack "
                            + "and check %d ms in one pass, install %d ms); the stream follows from sequence %d", i.snapshot().name(),
                    i.manifest().sequence(), i.manifest().files().size(), i.snapshot().size(), i.manifest().node(), i.millis(),
                    i.transferMillis(), i.installMillis(), i.manifest().sequence() + 1);
        } else if (stale || first > 1) {
            LOG.warnf("no usable snapshot in %s (%s); the index stays at sequence %d", config.snapshotBucket(),
                    refusals.isEmpty() ? "none stored" : String.join("; ", refusals), committedSequence);
        }
    }

    /** Waits for the NATS connection and streams (the index log's thread makes them); null when stopping. */
    private Connection awaitConnection() throws Exception {
        while (!stopping) {
            try {
                return nats.connected().get(1, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                // NATS not there yet: a replica that may need a snapshot cannot open before it knows
            } catch (java.util.concurrent.CancellationException e) {
                return null;
            }
        }
        return null;
    }

    private void check() {
        try {
            if (stopping || !log.caughtUp() || log.failure() != null || !index.isReady()) {
                return;
            }
            Connection c = nats.connectionIfUp();
            ClusterMembership m = limits.membership();
            if (c == null || m == null || !m.fresh() || m.rank() != 0 || !m.view().members().contains(m.self())) {
                return; // only the first live member takes snapshots
            }
            List<SnapshotStore.Stored> stored = store().list();
            long newest = stored.isEmpty() ? 0 : stored.get(0).sequence();
            Instant newestAt = stored.isEmpty() ? started : stored.get(0).modified();
            long applied = index.appliedSequence();
            boolean byRecords = config.snapshotRecords() > 0 && applied - newest >= config.snapshotRecords();
            boolean byTime = Duration.between(newestAt, Instant.now()).compareTo(config.snapshotInterval()) >= 0;
            if (applied > newest && (byRecords || byTime)) {
                take(c, m);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            if (!stopping) {
                LOG.warnf("snapshot round failed (%s); the next round retries", e.toString());
            }
        }
    }

    private void take(Connection c, ClusterMembership m) throws IOException, JetStreamApiException, InterruptedException {
        long t0 = System.nanoTime();
        SnapshotStore.Stored s;
        try (CommittedIndex commit = index.get().captureCommit()) {
            s = store().upload(commit, embedder.modelName(), nats.nodeName());
        }
        LOG.infof("snapshot %s uploaded: sequence %d, %d bytes, %d ms", s.name(), s.sequence(), s.size(),
                (System.nanoTime() - t0) / 1_000_000);
        List<SnapshotStore.Stored> kept = store().prune(config.snapshotKeep());
        purge(c, m, kept.get(kept.size() - 1).sequence());
    }

    private void purge(Connection c, ClusterMembership m, long oldestKept) throws IOException, JetStreamApiException,
            InterruptedException {
        Map<String, Long> progress = m.progress();
        long slowest = progress.isEmpty() ? -1 : progress.values().stream().mapToLong(Long::longValue).min().orElse(-1);
        long keepFrom = SnapshotStore.retainFrom(oldestKept, slowest, config.retentionMargin());
        long first = c.getStreamContext(config.stream()).getStreamInfo().getStreamState().getFirstSequence();
        if (keepFrom > first) {
            long purged = c.jetStreamManagement().purgeStream(config.stream(), PurgeOptions.builder().sequence(keepFrom).build())
                    .getPurged();
            LOG.infof("index stream purged below sequence %d (%d records; oldest kept snapshot %d, slowest member %d, margin %d)",
                    keepFrom, purged, oldestKept, slowest, config.retentionMargin());
        }
    }

    /** For the failure message of a replica the stream has left behind. */
    String noSnapshotReason() {
        List<String> r = refusals();
        return r.isEmpty() ? "no snapshot in " + config.snapshotBucket() + " fits"
                : "no usable snapshot in " + config.snapshotBucket() + " (" + String.join("; ", r) + ")";
    }
}
