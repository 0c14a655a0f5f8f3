package dev.offload.gateway.retrieval;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Properties;
import java.util.stream.Stream;

/**
 * Which embedding model an index's vectors came from, kept beside the index as
 * {@code embedding-model.properties}. Every model the gateway ships has 384 dimensions, so vectors
 * of another model would load without a complaint and answer nonsense: a gateway configured for
 * another model than its index refuses to open it, naming both models and what to do.
 *
 * <p>An index from before this record has no file; its vectors are the only model the gateway had
 * then, {@link #LEGACY_MODEL}.
 */
public final class IndexModelRecord {
    static final String FILE = "embedding-model.properties";
    /** The entries of a data directory that hold an index's vectors or their log. */
    private static final java.util.Set<String> INDEX_ENTRIES = java.util.Set.of("lucene", "graph", "wal");
    static final String LEGACY_MODEL = "all-minilm-l6-v2-q";

    private IndexModelRecord() {
    }

    /**
     * Checks {@code dir}'s record against the configured model and writes it when there is none.
     *
     * @throws IllegalStateException when the index was embedded with another model or dimension
     */
    public static void check(Path dir, String model, int dimension) {
        try {
            Path file = dir.resolve(FILE);
            String recorded;
            int recordedDimension;
            if (Files.isRegularFile(file)) {
                Properties p = new Properties();
                try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                    p.load(r);
                }
                recorded = p.getProperty("model", "");
                recordedDimension = Integer.parseInt(p.getProperty("dimension", "0").strip());
            } else if (hasIndex(dir)) {
                recorded = LEGACY_MODEL;
                recordedDimension = dimension;
            } else {
                write(dir, model, dimension);
                return;
            }
            if (!recorded.equalsIgnoreCase(model) || recordedDimension != dimension) {
                throw new IllegalStateException("the index at " + dir + " holds vectors of " + recorded + " ("
                        + recordedDimension + " dimensions), but this gateway embeds with " + model + " (" + dimension
                        + " dimensions; gateway.embedding.model). Set gateway.embedding.model=" + recorded
                        + " to keep this index, or start with an empty gateway.data-dir and ingest again to re-embed"
                        + " with " + model + " (the old directory stays as it is)");
            }
            if (!Files.isRegularFile(file)) {
                write(dir, model, dimension);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or write " + dir.resolve(FILE), e);
        } catch (NumberFormatException e) {
            throw new IllegalStateException(dir.resolve(FILE) + " is damaged: dimension is not a number", e);
        }
    }

    private static boolean hasIndex(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        // What an index writes (HybridIndex): anything else in the directory (a keys file, a fresh
        // volume's lost+found) is not an index and must not be taken for a MiniLM one.
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.anyMatch(p -> INDEX_ENTRIES.contains(p.getFileName().toString()));
        }
    }

    private static void write(Path dir, String model, int dimension) throws IOException {
        Files.createDirectories(dir);
        Properties p = new Properties();
        p.setProperty("model", model);
        p.setProperty("dimension", Integer.toString(dimension));
        Path tmp = dir.resolve(FILE + ".tmp");
        try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
            p.store(w, "the embedding model of this index's vectors (written by the gateway; do not edit)");
        }
        Files.move(tmp, dir.resolve(FILE), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
