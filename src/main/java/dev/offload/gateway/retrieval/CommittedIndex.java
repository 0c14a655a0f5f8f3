package dev.offload.gateway.retrieval;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * One Lucene commit of the index held still, with the vector graph persisted for it: the files
 * a snapshot is made of. While it is open the commit's Lucene files are protected by the index's
 * {@code SnapshotDeletionPolicy} (later commits and merges do not delete them) and the graph files
 * are hard links (or copies) in a private staging directory (later commits delete their
 * originals), so every file can be read at leisure, without the writer lock, while writes go on.
 *
 * <p>{@link #close()} releases the commit and removes the staging directory; call it exactly
 * once, from any thread.
 */
public interface CommittedIndex extends Closeable {
    /**
     * One file of the commit.
     *
     * @param name its path relative to the data directory, with {@code /} as separator
     *             ({@code lucene/_0.cfs}, {@code graph/00000000000000000042.graph})
     * @param path where to read it now
     */
    record File(String name, Path path) {
    }

    /** The last sequence (local log or replicated stream) the commit contains. */
    long sequence();

    /** The vectors' dimension. */
    int dimension();

    /** Every file of the commit: the Lucene files, then the graph files (none for an empty graph). */
    List<File> files();

    @Override
    void close() throws IOException;
}
