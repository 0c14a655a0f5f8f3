package dev.offload.gateway.retrieval;

import dev.offload.gateway.retrieval.IndexRecords.PreparedDocument;
import dev.offload.gateway.retrieval.WriteAheadLog.Batch;
import dev.offload.gateway.retrieval.WriteAheadLog.ChunkRecord;
import dev.offload.gateway.retrieval.WriteAheadLog.Delete;
import dev.offload.gateway.retrieval.WriteAheadLog.Operation;
import dev.offload.gateway.retrieval.WriteAheadLog.Upsert;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The bytes of one write as it travels on a {@link ReplicatedLog}: the write-ahead log's own record
 * format (documents, chunk texts and their embeddings, so no replica re-embeds), without a
 * sequence or ordinals of its own — the log assigns the sequence, each replica its ordinals.
 */
public final class ReplicatedRecords {
    private ReplicatedRecords() {
    }

    /** An upsert of prepared (validated and embedded) documents of one tenant. */
    public static byte[] upsert(String tenant, List<PreparedDocument> documents) {
        List<Operation> ops = new ArrayList<>(documents.size());
        for (PreparedDocument d : documents) {
            List<ChunkRecord> chunks = new ArrayList<>(d.chunks().size());
            for (int i = 0; i < d.chunks().size(); i++) {
                chunks.add(new ChunkRecord(-1, d.chunks().get(i), d.vectors().get(i)));
            }
            ops.add(new Upsert(tenant, d.id(), d.title(), d.text(), d.metadata(), chunks));
        }
        return encode(ops);
    }

    /** A delete of one document of one tenant. */
    public static byte[] delete(String tenant, String documentId) {
        return encode(List.of(new Delete(tenant, documentId)));
    }

    private static byte[] encode(List<Operation> ops) {
        try {
            return WriteAheadLog.encode(new Batch(0, System.currentTimeMillis(), ops));
        } catch (IOException e) {
            throw new UncheckedIOException(e); // in memory: cannot happen
        }
    }

    /** The record as a batch at the log's sequence; IOException if the bytes are no such record. */
    static Batch decode(long sequence, byte[] record) throws IOException {
        Batch b = WriteAheadLog.decode(record);
        return new Batch(sequence, b.timestampMillis(), b.operations());
    }

    /** The tenant and document ids a record touches, for whoever must forget what was derived from them. */
    static List<DocumentsChanged> changes(Batch batch) {
        List<DocumentsChanged> out = new ArrayList<>();
        String tenant = null;
        List<String> ids = new ArrayList<>();
        for (Operation op : batch.operations()) {
            if (tenant != null && !tenant.equals(op.tenant())) {
                out.add(new DocumentsChanged(tenant, ids));
                ids = new ArrayList<>();
            }
            tenant = op.tenant();
            ids.add(op.documentId());
        }
        if (tenant != null) {
            out.add(new DocumentsChanged(tenant, ids));
        }
        return out;
    }
}
