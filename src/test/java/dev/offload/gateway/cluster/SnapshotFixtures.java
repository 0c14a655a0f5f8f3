package dev.offload.gateway.cluster;

import dev.offload.gateway.retrieval.HybridIndex;
import dev.offload.gateway.retrieval.IndexRecords.PreparedDocument;
import dev.offload.gateway.retrieval.VectorIndexOptions;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/** Small real indexes (seeded vectors) and damaged archives for the snapshot tests. */
final class SnapshotFixtures {
    static final int DIM = 16;
    static final String MODEL = "test-model";
    static final String TENANT = "t";
    static final VectorIndexOptions OPTIONS = new VectorIndexOptions(16, 64, 1.2f, 1.2f, 2f, 64);

    private SnapshotFixtures() {
    }

    static HybridIndex open(Path dir) throws IOException {
        return HybridIndex.open(dir, DIM, OPTIONS);
    }

    static float[] vector(Random r) {
        float[] v = new float[DIM];
        for (int i = 0; i < DIM; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    /** Upserts documents {@code from..to-1} (two chunks each, words from a small seeded vocabulary), one batch each. */
    static void ingest(HybridIndex index, int from, int to, Random r) throws IOException {
        String[] words = {"pump", "valve", "bearing", "pressure", "drone", "inspection", "turbine", "cable", "sensor", "relay"};
        for (int d = from; d < to; d++) {
            List<String> chunks = new ArrayList<>();
            List<float[]> vectors = new ArrayList<>();
            for (int c = 0; c < 2; c++) {
                chunks.add("doc " + d + " " + words[r.nextInt(words.length)] + " " + words[r.nextInt(words.length)]);
                vectors.add(vector(r));
            }
            index.upsert(TENANT, List.of(new PreparedDocument("d" + d, "", String.join(" ", chunks), Map.of(), chunks, vectors)));
        }
    }

    /** The chunk ids of the dense and the sparse top 10 for a few seeded queries: what two copies must agree on. */
    static List<List<String>> answers(HybridIndex index) throws IOException {
        Random r = new Random(7);
        List<List<String>> out = new ArrayList<>();
        for (int q = 0; q < 10; q++) {
            out.add(index.dense(TENANT, vector(r), null, 10).stream().map(h -> h.chunkId()).toList());
        }
        for (String q : List.of("pump pressure", "drone inspection", "relay cable")) {
            out.add(index.sparse(TENANT, q, null, 10).stream().map(h -> h.chunkId()).toList());
        }
        return out;
    }

    /** The archive with one byte flipped in the middle of its first non-empty Lucene file; the manifest unchanged. */
    static byte[] damaged(byte[] archive) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        boolean flipped = false;
        try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(archive));
             ZipOutputStream zip = new ZipOutputStream(out)) {
            for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
                byte[] data = in.readAllBytes();
                if (!flipped && e.getName().startsWith("lucene/") && data.length > 0) {
                    data[data.length / 2] ^= 0x5a;
                    flipped = true;
                }
                zip.putNextEntry(new ZipEntry(e.getName()));
                zip.write(data);
                zip.closeEntry();
            }
        }
        if (!flipped) {
            throw new IllegalStateException("no Lucene file to damage");
        }
        return out.toByteArray();
    }
}
