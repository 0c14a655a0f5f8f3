package dev.offload.gateway.retrieval;

import dev.offload.gateway.metrics.MetricNames;
import dev.offload.gateway.retrieval.IndexRecords.IndexStats;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

/**
 * Owns the process's one {@link HybridIndex}: opens it off the startup thread (readiness stays
 * down until recovery is done), loads the sample corpus into a fresh index, commits and
 * compacts it in the background, and closes it (with a final commit) on shutdown.
 */
@ApplicationScoped
public class SharedIndex {
    private static final Logger LOG = Logger.getLogger(SharedIndex.class);

    @Inject
    RetrievalConfig config;
    @Inject
    Embedder embedder;
    @Inject
    SampleCorpus sampleCorpus;
    @Inject
    MeterRegistry registry;
    @Inject
    jakarta.enterprise.inject.Instance<ReplicatedLog> replicatedLogs;
    @Inject
    jakarta.enterprise.inject.Instance<IndexBootstrap> bootstraps;

    private volatile HybridIndex index;
    private volatile Throwable failure;
    private final CompletableFuture<HybridIndex> opened = new CompletableFuture<>();
    private ScheduledExecutorService maintenance;
    private volatile IndexStats lastStats;
    /**
     * Completed (and replaced) after every apply: waiting reads re-check then. Each waiter hangs on
     * at most the current one, so reads that gave up are dropped at the next apply.
     */
    private final java.util.concurrent.atomic.AtomicReference<CompletableFuture<Void>> nextApply =
            new java.util.concurrent.atomic.AtomicReference<>(new CompletableFuture<>());

    void onStart(@Observes StartupEvent event) {
        maintenance = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "index-maintenance");
            t.setDaemon(true);
            return t;
        });
        maintenance.execute(this::open);
        gauge(MetricNames.INDEX_DOCUMENTS, s -> s.documents());
        gauge(MetricNames.INDEX_CHUNKS, s -> s.chunks());
        gauge(MetricNames.INDEX_BYTES, s -> s.bytesOnDisk());
        Gauge.builder(MetricNames.INDEX_PENDING_DELETES, this, x -> x.index == null ? 0 : x.index.pendingVectorDeletes())
                .description("Chunks deleted but not yet compacted out of the vector graph").register(registry);
    }

    private void gauge(String name, ToDoubleFunction<IndexStats> f) {
        Gauge.builder(name, this, x -> {
            IndexStats s = x.lastStats;
            return s == null ? 0 : f.applyAsDouble(s);
        }).register(registry);
    }

    private void open() {
        try {
            RetrievalConfig.Index c = config.index();
            VectorIndexOptions options = new VectorIndexOptions(c.maxDegree(), c.beamWidth(), c.neighborOverflow(),
                    c.alpha(), c.overquery(), c.rerankK());
            Path dir = Path.of(config.dataDir()).toAbsolutePath();
            // The model's name and dimension from the configuration: creating the embedder loads its
            // ONNX session, which ModelReadiness does on its own thread while the index opens here.
            EmbeddingModel model = EmbeddingModel.byName(config.embedding().model());
            IndexModelRecord.check(dir, model.modelName(), model.dimension());
            for (IndexBootstrap b : bootstraps) {
                if (b.enabled()) {
                    b.prepare(dir, HybridIndex.committedSequence(dir));
                }
            }
            HybridIndex opened = HybridIndex.open(dir, model.dimension(), options);
            IndexStats stats = opened.stats(null);
            // A cluster's documents come from its shared log only: a replica never adds its own.
            boolean replicated = replicatedLogs.stream().anyMatch(ReplicatedLog::enabled);
            if (c.loadSampleCorpus() && !replicated && stats.documents() == 0 && stats.lastSequence() == 0) {
                int n = sampleCorpus.loadInto(opened);
                LOG.infof("empty index: loaded %d sample documents", n);
            }
            index = opened;
            sequenceApplied(opened.lastSequence());
            lastStats = opened.stats(null);
            this.opened.complete(opened);
            LOG.infof("index ready at %s: %d documents, %d chunks", dir, lastStats.documents(), lastStats.chunks());
            long commitMs = c.commitInterval().toMillis();
            maintenance.scheduleWithFixedDelay(this::commit, commitMs, commitMs, TimeUnit.MILLISECONDS);
            long compactMs = c.compactionInterval().toMillis();
            maintenance.scheduleWithFixedDelay(this::compact, compactMs, compactMs, TimeUnit.MILLISECONDS);
            maintenance.scheduleWithFixedDelay(this::refreshStats, 5, 5, TimeUnit.SECONDS);
        } catch (Throwable t) {
            failure = t;
            opened.completeExceptionally(t);
            if (maintenance.isShutdown()) {
                // The gateway stopped while the index was opening (a short test, a quick restart):
                // nothing is wrong with the index, and the close path commits what was opened.
                LOG.debugf("index opening cut short by shutdown: %s", t);
                return;
            }
            LOG.error("index failed to open; the gateway stays not-ready", t);
        }
    }

    private void commit() {
        HybridIndex i = index;
        if (i == null || !i.isDirty()) {
            return;
        }
        try {
            Timer.builder(MetricNames.INDEX_COMMIT_TIME).register(registry).recordCallable(() -> {
                i.commit();
                return null;
            });
        } catch (Exception e) {
            LOG.error("index commit failed; the write-ahead log still holds every acknowledged write", e);
        }
    }

    /** Runs a compaction now if enough deletes are pending; returns the chunks removed. */
    public int compact() {
        HybridIndex i = index;
        if (i == null || i.pendingVectorDeletes() < config.index().compactionMinDeletes()) {
            return 0;
        }
        int removed = i.compact();
        Counter.builder(MetricNames.INDEX_COMPACTED).register(registry).increment(removed);
        return removed;
    }

    private void refreshStats() {
        HybridIndex i = index;
        if (i != null) {
            try {
                lastStats = i.stats(null);
            } catch (IOException | RuntimeException e) {
                LOG.debug("stats refresh failed", e);
            }
        }
    }

    /** The open index, or {@link IndexNotReadyException} while it is still opening. */
    public HybridIndex get() {
        HybridIndex i = index;
        if (i == null) {
            throw new IndexNotReadyException(failure == null ? "the index is still opening"
                    : "the index failed to open: " + failure.getMessage());
        }
        return i;
    }

    /** The newest sequence this replica has applied (local log or shared log); 0 before the index is open. */
    public long appliedSequence() {
        HybridIndex i = index;
        return i == null ? 0 : i.lastSequence();
    }

    /**
     * Completes (on the applying thread, or at once) when this replica has applied
     * {@code sequence}: the read-your-writes wait. Never fails; callers bound it with a timeout
     * and may complete or cancel it when they stop waiting.
     */
    public CompletableFuture<Void> whenApplied(long sequence) {
        CompletableFuture<Void> result = new CompletableFuture<>();
        awaitInto(sequence, result);
        return result;
    }

    private void awaitInto(long sequence, CompletableFuture<Void> result) {
        CompletableFuture<Void> next = nextApply.get(); // before the check: an apply after it completes this one
        if (appliedSequence() >= sequence) {
            result.complete(null);
        } else if (!result.isDone()) {
            next.thenRun(() -> awaitInto(sequence, result));
        }
    }

    /** Reads waiting for a sequence not applied yet (they re-check at the next apply). */
    public int waitingReads() {
        return nextApply.get().getNumberOfDependents();
    }

    /** Called after every apply (its sequence is visible by then): wakes the waiting reads. */
    void sequenceApplied(long sequence) {
        nextApply.getAndSet(new CompletableFuture<>()).complete(null);
    }

    public boolean isReady() {
        return index != null;
    }

    /** Completes when the index is open (tests and tools wait on it). */
    public CompletableFuture<HybridIndex> whenOpen() {
        return opened;
    }

    void onStop(@Observes ShutdownEvent event) {
        if (maintenance != null) {
            maintenance.shutdownNow();
        }
        HybridIndex i = index;
        index = null;
        if (i != null) {
            try {
                i.close();
            } catch (IOException e) {
                LOG.error("index close failed; the write-ahead log will be replayed at next start", e);
            }
        }
    }
}
