package dev.offload.gateway.retrieval;

import java.nio.file.Path;

/**
 * Fills or replaces the data directory's index before it is opened, from somewhere else than the
 * local disk: in cluster mode a replica with an empty index, or one older than what the shared
 * log still holds, installs the newest snapshot (cluster package). In the embedded default no bean
 * is {@link #enabled()} and the index opens as it is.
 *
 * <p>Called once, on the thread that opens the index, before anything reads it; may block (it
 * waits for the cluster and downloads).
 */
public interface IndexBootstrap {
    /** True when {@link #prepare} is to be called. */
    boolean enabled();

    /**
     * Makes the data directory ready to open: leaves it as it is, or installs a snapshot in it
     * ({@link HybridIndex#installSnapshot}). A failure to find a usable snapshot is not thrown: the
     * index then opens as it is and the log's follower refuses readiness with the reason.
     *
     * @param dataDir           the index's data directory (absolute)
     * @param committedSequence the last sequence committed there ({@link HybridIndex#committedSequence}; 0: empty)
     */
    void prepare(Path dataDir, long committedSequence) throws Exception;
}
