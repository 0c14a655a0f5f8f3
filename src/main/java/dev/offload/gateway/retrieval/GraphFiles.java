package dev.offload.gateway.retrieval;

import org.jboss.logging.Logger;

import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import java.util.zip.CheckedOutputStream;

/**
 * The vector graph persisted beside a Lucene commit, so a restart opens it instead of rebuilding
 * it from the stored vectors. Two files per commit sequence {@code N} under {@code graph/}:
 *
 * <ul>
 *   <li>{@code <N>.graph}: the graph in JVector's on-heap graph format, version 4 (the bytes
 *       {@code OnHeapGraphIndex.save} writes and {@code GraphIndexBuilder.load} reads; see
 *       {@link VectorIndex#writeGraph});</li>
 *   <li>{@code <N>.state}: ours: the graph file's length and CRC32C, the deleted-but-not-yet-
 *       compacted nodes with their vectors (Lucene no longer has them, the graph still routes
 *       through them), the fresh set, and a CRC32C of the state itself.</li>
 * </ul>
 *
 * <p>The state file is written last, through a temporary file and an atomic rename, so its
 * presence means the graph file beside it is complete. Both are written <em>before</em> the
 * Lucene commit of the same sequence and older ones are deleted only after it: a crash anywhere
 * in a commit leaves the graph of the previous commit in place, and a restart opens the graph
 * whose sequence equals the Lucene commit's. A graph that is missing, torn, fails its checksum
 * or does not match the stored vectors is ignored (with a log line) and the graph is rebuilt.
 *
 * <p>Threading: called under the index's writer lock (writes) or before the index is published
 * (reads).
 */
final class GraphFiles {
    private static final Logger LOG = Logger.getLogger(GraphFiles.class);
    private static final int STATE_MAGIC = 0x4f475354; // "OGST"
    private static final int STATE_VERSION = 1;
    private static final String GRAPH_SUFFIX = ".graph";
    private static final String STATE_SUFFIX = ".state";

    private final Path dir;

    GraphFiles(Path dir) {
        this.dir = dir;
    }

    /** What {@link VectorIndex#restore} needs besides the live vectors. */
    record Persisted(long sequence, Path graphFile, byte[] graph, int nodeCount, int[] deletedOrdinals,
                     float[][] deletedVectors, int[] freshOrdinals) {
    }

    Path graphFile(long seq) {
        return dir.resolve(String.format("%020d%s", seq, GRAPH_SUFFIX));
    }

    Path stateFile(long seq) {
        return dir.resolve(String.format("%020d%s", seq, STATE_SUFFIX));
    }

    /** Writes the graph and its state for commit {@code seq}, durably; the caller holds the writer lock. */
    void write(long seq, VectorIndex vectors) throws IOException {
        Files.createDirectories(dir);
        int nodes = vectors.graphNodeCount();
        long graphLength = 0;
        int graphCrc = 0;
        if (nodes > 0) {
            Path tmp = dir.resolve(graphFile(seq).getFileName() + ".tmp");
            CRC32C crc = new CRC32C();
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                CheckedOutputStream checked = new CheckedOutputStream(
                        new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16), crc);
                DataOutputStream out = new DataOutputStream(checked);
                vectors.writeGraph(out);
                out.flush();
                graphLength = out.size();
                ch.force(true);
            }
            graphCrc = (int) crc.getValue();
            Files.move(tmp, graphFile(seq), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(STATE_MAGIC);
        out.writeInt(STATE_VERSION);
        out.writeLong(seq);
        out.writeInt(vectors.dimension());
        out.writeInt(nodes);
        out.writeLong(graphLength);
        out.writeInt(graphCrc);
        int[] deleted = vectors.deletedOrdinals();
        out.writeInt(deleted.length);
        for (int ord : deleted) {
            out.writeInt(ord);
            for (float f : vectors.vector(ord)) {
                out.writeFloat(f);
            }
        }
        int[] fresh = vectors.freshOrdinals();
        out.writeInt(fresh.length);
        for (int ord : fresh) {
            out.writeInt(ord);
        }
        CRC32C stateCrc = new CRC32C();
        stateCrc.update(bytes.toByteArray());
        out.writeInt((int) stateCrc.getValue());
        out.flush();
        Path tmp = dir.resolve(stateFile(seq).getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ch.write(java.nio.ByteBuffer.wrap(bytes.toByteArray()));
            ch.force(true);
        }
        Files.move(tmp, stateFile(seq), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        forceDirectory();
    }

    /**
     * The graph persisted for commit {@code seq}, checked against its checksums; empty (with the
     * reason logged) when there is none or it is damaged.
     */
    Optional<Persisted> read(long seq, int dimension) {
        Path state = stateFile(seq);
        if (!Files.exists(state)) {
            return Optional.empty();
        }
        try {
            byte[] s = Files.readAllBytes(state);
            if (s.length < 4) {
                throw new IOException("state file is " + s.length + " bytes");
            }
            CRC32C c = new CRC32C();
            c.update(s, 0, s.length - 4);
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(s));
            int storedCrc = java.nio.ByteBuffer.wrap(s, s.length - 4, 4).getInt();
            if ((int) c.getValue() != storedCrc) {
                throw new IOException("state file fails its checksum");
            }
            if (in.readInt() != STATE_MAGIC || in.readInt() != STATE_VERSION) {
                throw new IOException("not a graph state file of version " + STATE_VERSION);
            }
            long storedSeq = in.readLong();
            int dim = in.readInt();
            if (storedSeq != seq || dim != dimension) {
                throw new IOException("state is for sequence " + storedSeq + " and " + dim
                        + " dimensions, expected " + seq + " and " + dimension);
            }
            int nodes = in.readInt();
            long graphLength = in.readLong();
            int graphCrc = in.readInt();
            int[] deleted = new int[in.readInt()];
            float[][] deletedVectors = new float[deleted.length][];
            for (int i = 0; i < deleted.length; i++) {
                deleted[i] = in.readInt();
                deletedVectors[i] = new float[dim];
                for (int j = 0; j < dim; j++) {
                    deletedVectors[i][j] = in.readFloat();
                }
            }
            int[] fresh = new int[in.readInt()];
            for (int i = 0; i < fresh.length; i++) {
                fresh[i] = in.readInt();
            }
            byte[] graph = new byte[0];
            if (nodes > 0) {
                graph = Files.readAllBytes(graphFile(seq));
                CRC32C g = new CRC32C();
                g.update(graph);
                if (graph.length != graphLength || (int) g.getValue() != graphCrc) {
                    throw new IOException("graph file is " + graph.length + " bytes with CRC32C "
                            + Integer.toHexString((int) g.getValue()) + ", its state says " + graphLength + " bytes and "
                            + Integer.toHexString(graphCrc));
                }
            }
            return Optional.of(new Persisted(seq, graphFile(seq), graph, nodes, deleted, deletedVectors, fresh));
        } catch (NoSuchFileException e) {
            LOG.warnf("persisted vector graph for commit %d is incomplete (%s missing); rebuilding it", seq, e.getFile());
            return Optional.empty();
        } catch (IOException | RuntimeException e) {
            LOG.warnf("persisted vector graph for commit %d is damaged (%s); rebuilding it", seq, e.getMessage());
            return Optional.empty();
        }
    }

    /** Deletes the graphs of commits older than {@code seq} and temporary files a crash left. */
    void deleteOlderThan(long seq) throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        for (Path p : list()) {
            String name = p.getFileName().toString();
            if (name.endsWith(".tmp")) {
                Files.deleteIfExists(p);
                continue;
            }
            Long fileSeq = sequenceOf(name);
            if (fileSeq != null && fileSeq < seq) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** The files of commit {@code seq} (for snapshots): empty when none was written. */
    List<Path> filesOf(long seq) {
        return Stream.of(graphFile(seq), stateFile(seq)).filter(Files::isRegularFile).toList();
    }

    private List<Path> list() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        }
    }

    private static Long sequenceOf(String name) {
        int dot = name.indexOf('.');
        if (dot <= 0) {
            return null;
        }
        String suffix = name.substring(dot);
        if (!suffix.equals(GRAPH_SUFFIX) && !suffix.equals(STATE_SUFFIX)) {
            return null;
        }
        try {
            return Long.parseLong(name.substring(0, dot));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private void forceDirectory() {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException ignored) {
            // Some file systems cannot fsync a directory; the files themselves are forced.
        }
    }
}
