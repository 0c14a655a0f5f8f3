package dev.offload.gateway.cluster;

import dev.offload.gateway.retrieval.IndexRecords.WriteResult;
import dev.offload.gateway.retrieval.IngestionService;
import dev.offload.gateway.retrieval.ReplicatedLog;
import dev.offload.gateway.retrieval.SharedIndex;
import dev.offload.gateway.retrieval.WritesUnavailableException;
import io.nats.client.Connection;
import io.nats.client.IterableConsumer;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamOptions;
import io.nats.client.Message;
import io.nats.client.OrderedConsumerContext;
import io.nats.client.PublishOptions;
import io.nats.client.api.DeliverPolicy;
import io.nats.client.api.OrderedConsumerConfiguration;
import io.nats.client.api.PublishAck;
import io.nats.client.api.StreamInfo;
import io.nats.client.impl.Headers;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The index log of a cluster, on one JetStream stream (R3 by default). A write publishes the
 * embedded record with a unique {@code Nats-Msg-Id} and waits for JetStream's acknowledgement (a
 * quorum of the stream's replicas has stored it), then for this replica's own apply; its sequence
 * in the stream is the {@code sequence} the API returns, the read-your-writes token on every
 * replica.
 *
 * <p>One thread ({@code cluster-apply}) reads the stream in order with an ordered consumer,
 * starting after the last sequence this replica's index holds (its Lucene commit, which records
 * it), and applies each record through {@link IngestionService#applyReplicated}. A consumer that
 * fails or stalls (NATS restarted, the connection moved) is recreated from the next sequence
 * still to apply, so the replica catches up on its own when NATS returns. Readiness
 * ({@link #caughtUp()}) waits until the stream's last sequence at start-up is applied. A replica
 * that was empty or left behind by the stream's retention has by then installed a snapshot
 * ({@link ClusterSnapshots}, before the index opened) and starts after its sequence; one that could
 * not, or that meets a gap in the stream, stays not ready with the reason ({@link #failure()}).
 *
 * <p>{@link #write} is blocking: call it from worker threads.
 */
@ApplicationScoped
public class JetStreamIndexLog implements ReplicatedLog {
    private static final Logger LOG = Logger.getLogger(JetStreamIndexLog.class);
    static final String ORIGIN_HEADER = "Offload-Origin";
    private static final Duration POLL = Duration.ofMillis(500);
    private static final long STALL_CHECK_NANOS = TimeUnit.SECONDS.toNanos(3);

    @Inject
    ClusterConfig config;
    @Inject
    NatsCluster nats;
    @Inject
    SharedIndex index;
    @Inject
    IngestionService ingestion;
    @Inject
    ClusterSnapshots snapshots;

    /** Writes of this replica waiting for their own apply, by message id. */
    private final Map<String, CompletableFuture<WriteResult>> pending = new ConcurrentHashMap<>();
    private volatile boolean caughtUp;
    private volatile long startTarget = -1;
    private volatile long streamLastSequence;
    private volatile String failure;
    private volatile boolean stopping;
    private Thread applier;

    @Override
    public boolean enabled() {
        return nats.enabled();
    }

    void onStart(@Observes StartupEvent e) {
        if (!enabled()) {
            return;
        }
        nats.checkCredentials(); // a misconfiguration stops the start, before any thread runs
        applier = new Thread(this::run, "cluster-apply");
        applier.setDaemon(true);
        applier.start();
    }

    void onStop(@Observes ShutdownEvent e) {
        stopping = true;
        Thread t = applier;
        if (t != null) {
            t.interrupt();
        }
    }

    /** True once this replica has applied everything the stream held when it started. */
    public boolean caughtUp() {
        return caughtUp;
    }

    /** Why the replica cannot follow the stream (it stays not ready), or null. */
    public String failure() {
        return failure;
    }

    /** The stream's last sequence as last seen (at start, then on every idle check); 0 before. */
    public long streamLastSequence() {
        return Math.max(streamLastSequence, index.appliedSequence());
    }

    @Override
    public WriteResult write(byte[] record) {
        int retry = (int) Math.max(1, config.retryAfter().toSeconds());
        Connection c = nats.connectionIfUp();
        if (c == null || failure != null) {
            throw new WritesUnavailableException(failure != null ? "this replica cannot follow the index log: " + failure
                    : "the cluster's index log (NATS) is not reachable; writes are refused, reads go on", retry);
        }
        String id = UUID.randomUUID().toString();
        CompletableFuture<WriteResult> applied = new CompletableFuture<>();
        pending.put(id, applied);
        PublishAck ack;
        try {
            Headers h = new Headers().put(ORIGIN_HEADER, nats.nodeName());
            ack = c.jetStream(JetStreamOptions.builder().requestTimeout(config.publishTimeout()).build())
                    .publish(nats.indexSubject(), h, record, PublishOptions.builder().messageId(id)
                            .expectedStream(config.stream()).streamTimeout(config.publishTimeout()).build());
        } catch (IOException | JetStreamApiException | RuntimeException e) {
            pending.remove(id);
            // A timeout may hide a write stored after all: it is then applied everywhere, whole, like any other.
            throw new WritesUnavailableException("the cluster's index log did not acknowledge the write ("
                    + e.getMessage() + "); nothing was applied here, retry", retry);
        }
        try {
            WriteResult r = applied.get(config.applyTimeout().toMillis(), TimeUnit.MILLISECONDS);
            return r != null ? r : new WriteResult(0, 0, 0, ack.getSeqno());
        } catch (TimeoutException e) {
            throw new WritesUnavailableException("the write is in the index log at sequence " + ack.getSeqno()
                    + " but this replica has not applied it yet; every replica will (an upsert may be retried)", retry);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new WritesUnavailableException("interrupted", retry);
        } catch (ExecutionException e) {
            throw new IllegalStateException("apply failed", e.getCause());
        } finally {
            pending.remove(id);
        }
    }

    private void run() {
        try {
            nats.start(); // connects (retrying) and creates the streams; the cache follower waits for it too
            if (stopping) {
                return;
            }
            Connection c = nats.connected().get();
            index.whenOpen().get();
            while (!stopping && startTarget < 0) {
                try {
                    StreamInfo info = c.getStreamContext(config.stream()).getStreamInfo();
                    startTarget = info.getStreamState().getLastSequence();
                    streamLastSequence = startTarget;
                    long applied = index.appliedSequence();
                    if (applied > startTarget) {
                        fail("the local index is at sequence " + applied + ", past the stream's last " + startTarget
                                + " (a data directory from another stream or the embedded mode?)");
                        return;
                    }
                    if (applied + 1 < info.getStreamState().getFirstSequence()) {
                        fail("the stream starts at sequence " + info.getStreamState().getFirstSequence()
                                + " and this index is at " + applied + ", and " + snapshots.noSnapshotReason()
                                + ": it cannot catch up (restart it once a snapshot at sequence "
                                + (info.getStreamState().getFirstSequence() - 1) + " or later is stored)");
                        return;
                    }
                } catch (IOException | JetStreamApiException | IllegalStateException e) {
                    LOG.infof("index stream not readable yet (%s); retrying", e.getMessage());
                    Thread.sleep(500);
                }
            }
            LOG.infof("catching up from sequence %d to %d", index.appliedSequence(), startTarget);
            markCaughtUp();
            while (!stopping && failure == null) {
                follow(c);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            fail("start failed: " + e.getCause());
        }
    }

    private void fail(String why) {
        failure = why;
        LOG.error("cluster: " + why + "; this replica stays not ready");
    }

    private void markCaughtUp() {
        if (!caughtUp && startTarget >= 0 && index.appliedSequence() >= startTarget) {
            caughtUp = true;
            LOG.infof("caught up with the index log at sequence %d", index.appliedSequence());
        }
    }

    /** Reads the stream from the next sequence to apply until the consumer fails or stalls. */
    private void follow(Connection c) throws InterruptedException {
        long from = index.appliedSequence() + 1;
        try {
            OrderedConsumerContext occ = c.getStreamContext(config.stream()).createOrderedConsumer(
                    new OrderedConsumerConfiguration().filterSubject(nats.indexSubject())
                            .deliverPolicy(DeliverPolicy.ByStartSequence).startSequence(from));
            long lastProgress = System.nanoTime();
            try (IterableConsumer it = occ.iterate()) {
                while (!stopping) {
                    Message m = it.nextMessage(POLL);
                    if (m != null) {
                        apply(m);
                        lastProgress = System.nanoTime();
                    } else if (System.nanoTime() - lastProgress > STALL_CHECK_NANOS) {
                        lastProgress = System.nanoTime();
                        if (c.getStatus() == Connection.Status.CONNECTED) {
                            long last = c.getStreamContext(config.stream()).getStreamInfo().getStreamState().getLastSequence();
                            streamLastSequence = last;
                            if (last > index.appliedSequence()) {
                                LOG.infof("index log at %d, applied %d and no message for a while: new consumer",
                                        last, index.appliedSequence());
                                return;
                            }
                        }
                    }
                }
            }
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            if (!stopping) {
                LOG.infof("index log consumer stopped (%s); resuming after sequence %d", e.toString(),
                        index.appliedSequence());
                Thread.sleep(500);
            }
        }
    }

    private void apply(Message m) throws IOException {
        long seq = m.metaData().streamSequence();
        long applied = index.appliedSequence();
        if (seq <= applied) {
            return; // a redelivery of what the index already holds
        }
        if (seq != applied + 1) {
            // The stream is contiguous (one subject, no deletes): a gap means it was purged past this replica.
            fail("record " + seq + " follows " + applied + ": the stream was purged past this replica"
                    + " (restart it: it starts from the newest snapshot)");
            throw new IOException("gap in the index log after sequence " + applied);
        }
        WriteResult r;
        try {
            r = ingestion.applyReplicated(seq, m.getData());
        } catch (IOException | RuntimeException e) {
            // A record this code wrote and cannot read: stop here rather than diverge from the other replicas.
            fail("record " + seq + " could not be applied: " + e);
            throw e;
        }
        streamLastSequence = Math.max(streamLastSequence, seq);
        String id = m.getHeaders() == null ? null : m.getHeaders().getFirst("Nats-Msg-Id");
        if (id != null) {
            CompletableFuture<WriteResult> f = pending.get(id);
            if (f != null) {
                f.complete(r);
            }
        }
        markCaughtUp();
    }
}
