package dev.offload.gateway.retrieval;

import dev.offload.gateway.metrics.MetricNames;
import dev.offload.gateway.retrieval.IndexRecords.StoredDocument;
import dev.offload.gateway.retrieval.IndexRecords.WriteResult;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Optional;

/**
 * Document writes and reads for one tenant: validate → chunk → embed → log → index. Blocking;
 * call from worker threads. A batch is all-or-nothing.
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

    public WriteResult ingest(String tenant, List<NewDocument> documents) {
        Timer.Sample sample = Timer.start(registry);
        preparer.validate(documents);
        HybridIndex i = index.get();
        try {
            WriteResult r = i.upsert(tenant, preparer.prepare(documents));
            registry.counter(MetricNames.INGEST_DOCUMENTS, "op", "upsert").increment(r.documents());
            changes.fire(new DocumentsChanged(tenant, documents.stream().map(NewDocument::id).toList()));
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
            boolean deleted = index.get().delete(tenant, id);
            if (deleted) {
                registry.counter(MetricNames.INGEST_DOCUMENTS, "op", "delete").increment();
                changes.fire(new DocumentsChanged(tenant, List.of(id)));
            }
            return deleted;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
