package dev.offload.gateway.retrieval;

import dev.offload.gateway.retrieval.IndexRecords.WriteResult;

/**
 * The index's log when it is shared by several gateways (cluster mode): a write is published to
 * it instead of the local write-ahead log, and every replica applies it from there in order
 * ({@link IngestionService#applyReplicated}). Implemented outside this package (the cluster
 * package, on NATS JetStream); in the embedded default no bean is {@link #enabled()}.
 *
 * <p>Blocking; called from worker threads.
 */
public interface ReplicatedLog {
    /** True when writes go through this log rather than the local one. */
    boolean enabled();

    /**
     * Publishes one record ({@link ReplicatedRecords}), waits for the log's durable acknowledgement
     * and then for this replica's own apply of it.
     *
     * @return what the apply changed, with the log's sequence of the record
     * @throws WritesUnavailableException when the log cannot take the write now (nothing was
     *                                    applied by this call; see its message for the rare case
     *                                    in which the record was logged but not yet applied here)
     */
    WriteResult write(byte[] record);
}
