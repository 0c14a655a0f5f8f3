package dev.offload.gateway.retrieval;

import dev.offload.gateway.metrics.MetricNames;
import dev.offload.gateway.retrieval.IndexRecords.StoredDocument;
import dev.offload.gateway.retrieval.IndexRecords.WriteResult;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Optional;

/**
 * Document writes and reads for one tenant: validate → chunk → embed → log → index. Blocking;
 * call from worker threads. A batch is all-or-nothing.
 *
 * <p>Embedded default: the log is the index's local write-ahead log. Cluster mode (an enabled
 * {@link ReplicatedLog}): the embedded record is published to the shared log, and this and every
 * other replica apply it from there ({@link #applyReplicated}); the write returns once this
 * replica has applied it, with the shared log's sequence.
 */
@ApplicationScoped
public class IngestionService {
    @Inject
    DocumentPreparer preparer;
    @Inject
    SharedIndex index;
    @Inject
    MeterRegistry registry;
    @Inject
    jakarta.enterprise.event.Event<DocumentsChanged> changes;
    @Inject
    Instance<ReplicatedLog> replicatedLogs;

    private volatile ReplicatedLog replicated;

    private ReplicatedLog replicated() {
        ReplicatedLog r = replicated;
        if (r == null) {
            r = replicatedLogs.stream().filter(ReplicatedLog::enabled).findFirst().orElse(LOCAL);
            replicated = r;
        }
        return r == LOCAL ? null : r;
    }

    private static final ReplicatedLog LOCAL = new ReplicatedLog() {
        @Override
        public boolean enabled() {
            return false;
        }

        @Override
        public WriteResult write(byte[] record) {
            throw new IllegalStateException("local");
        }
    };

    public WriteResult ingest(String tenant, List<NewDocument> documents) {
        Timer.Sample sample = Timer.start(registry);
        preparer.validate(documents);
        HybridIndex i = index.get();
        try {
            ReplicatedLog log = replicated();
            WriteResult r;
            if (log != null) {
                // DocumentsChanged is fired by the apply, on every replica alike.
                r = log.write(ReplicatedRecords.upsert(tenant, preparer.prepare(documents)));
            } else {
                r = i.upsert(tenant, preparer.prepare(documents));
                index.sequenceApplied(r.sequence());
                changes.fire(new DocumentsChanged(tenant, documents.stream().map(NewDocument::id).toList()));
            }
            registry.counter(MetricNames.INGEST_DOCUMENTS, "op", "upsert").increment(r.documents());
            return r;
        } catch (IOException e) {
            throw new UncheckedIOException("index write failed", e);
        } finally {
            sample.stop(registry.timer(MetricNames.INGEST_TIME));
        }
    }

    public Optional<StoredDocument> get(String tenant, String id) {
        try {
            return index.get().get(tenant, id);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public boolean delete(String tenant, String id) {
        try {
            HybridIndex i = index.get();
            ReplicatedLog log = replicated();
            boolean deleted;
            if (log != null) {
                // Absent here (this replica has applied the log as far as it has): nothing to log.
                // Deleted by another replica meanwhile: the apply finds nothing and says so.
                deleted = i.get(tenant, id).isPresent() && log.write(ReplicatedRecords.delete(tenant, id)).documents() > 0;
            } else {
                deleted = i.delete(tenant, id);
                if (deleted) {
                    index.sequenceApplied(i.lastSequence());
                    changes.fire(new DocumentsChanged(tenant, List.of(id)));
                }
            }
            if (deleted) {
                registry.counter(MetricNames.INGEST_DOCUMENTS, "op", "delete").increment();
            }
            return deleted;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Cluster mode: applies the shared log's record at {@code sequence} to this replica's index
     * (records arrive in log order, one thread at a time), then fires {@link DocumentsChanged}
     * for what it touched, so cached answers built from those documents go on every replica, in
     * the order of the change.
     *
     * @return what the apply changed; null when the record was applied before (a redelivery)
     * @throws IOException when the bytes are no record or the index cannot be written
     */
    public WriteResult applyReplicated(long sequence, byte[] record) throws IOException {
        WriteAheadLog.Batch batch = ReplicatedRecords.decode(sequence, record);
        WriteResult r = index.get().applyReplicated(batch);
        if (r != null) {
            for (DocumentsChanged c : ReplicatedRecords.changes(batch)) {
                changes.fire(c);
            }
        }
        index.sequenceApplied(sequence);
        return r;
    }
}
